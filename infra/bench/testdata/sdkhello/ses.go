//go:build sdk_ses

package main

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
)

func init() {
	newClients = append(newClients, func(cfg aws.Config) any { return ses.NewFromConfig(cfg) })
}

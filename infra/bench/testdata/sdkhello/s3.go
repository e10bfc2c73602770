//go:build sdk_s3

package main

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func init() {
	newClients = append(newClients, func(cfg aws.Config) any { return s3.NewFromConfig(cfg) })
}

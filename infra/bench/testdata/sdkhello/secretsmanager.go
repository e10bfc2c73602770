//go:build sdk_secretsmanager

package main

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

func init() {
	newClients = append(newClients, func(cfg aws.Config) any { return secretsmanager.NewFromConfig(cfg) })
}

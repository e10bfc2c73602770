// Command sdkhello is the hello-world Lambda plus exactly the AWS set-up the
// functions do at init (the SDK configuration and a DynamoDB and an SES
// client): make bench starts it to show how much of a cold start is the
// SDK's own, before any of kontakt's code.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	sesapi "github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/opt-e/kontakt/internal/app"
)

var (
	db   *dynamodb.Client
	mail *sesapi.Client
)

func main() {
	cfg, err := app.AWSConfig(context.Background())
	if err != nil {
		os.Exit(1)
	}
	db, mail = dynamodb.NewFromConfig(cfg), sesapi.NewFromConfig(cfg)
	lambda.Start(func(context.Context, map[string]any) (string, error) { return "hello", nil })
}

// Command sdkhello is the hello-world Lambda plus exactly the AWS set-up a
// function does at init: the SDK configuration and one client for each
// service it calls, chosen at build time with the tags sdk_dynamodb,
// sdk_ses, sdk_secretsmanager and sdk_sqs. make bench builds one per
// function (from the service clients `go list -deps` finds in it) and
// compares the function's cold start with it: the rest is kontakt's own.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/opt-e/kontakt/internal/app"
)

// newClients are the tagged files' client constructors; clients keeps what
// they built, as a function keeps its clients for every invoke.
var (
	newClients []func(aws.Config) any
	clients    []any
)

func main() {
	cfg, err := app.AWSConfig(context.Background())
	if err != nil {
		os.Exit(1)
	}
	for _, c := range newClients {
		clients = append(clients, c(cfg))
	}
	lambda.Start(func(context.Context, map[string]any) (string, error) { return "hello", nil })
}

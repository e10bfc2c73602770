// Package redrive wires the scheduled redrive function, which re-sends the
// emails still pending after the submit function (see internal/redrive).
package redrive

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	sesapi "github.com/aws/aws-sdk-go-v2/service/ses"

	"io"
	"log/slog"
	"time"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/hold"
	"github.com/opt-e/kontakt/internal/metrics"
	"github.com/opt-e/kontakt/internal/redrive"
	"github.com/opt-e/kontakt/internal/ses"
)

// Clients are the AWS clients the redrive function calls.
type Clients struct {
	DynamoDB interface {
		dynamo.RedriveAPI
		dynamo.HoldAPI
	}
	SES ses.API
}

// NewClients builds one client per service from the SDK configuration.
func NewClients(awsCfg aws.Config) Clients {
	return Clients{DynamoDB: dynamodb.NewFromConfig(awsCfg), SES: sesapi.NewFromConfig(awsCfg)}
}

// Service builds the redrive function's handler. Metrics are EMF lines
// written to metricsOut (the function's stdout in Lambda), named for
// function.
func Service(cfg *config.Redrive, c Clients, log *slog.Logger, metricsOut io.Writer, function string) *redrive.Service {
	settings := redrive.DefaultSettings
	settings.MaxAttempts = cfg.MaxAttempts
	settings.Release = cfg.Release
	// The sweep ends holds on their date. It reads a held copy's files
	// but has no bucket to retag them with yet: a hold on a copy with
	// files is left in place (and logged each run) rather than ending the
	// copy's hold and keeping its files held for ever (hold.ErrNoFilesBucket).
	holds := &dynamo.Holds{Client: c.DynamoDB, Table: cfg.Table}
	return &redrive.Service{
		Store:    &dynamo.Redrive{Client: c.DynamoDB, Table: cfg.Table},
		Holds:    &hold.Service{Store: holds, FileStore: holds, Now: time.Now, Log: log},
		Mailer:   &ses.Mailer{Client: c.SES, ConfigurationSet: cfg.ConfigurationSet},
		Form:     cfg.Form,
		Log:      log,
		Metrics:  &metrics.EMF{W: metricsOut, Function: function},
		Now:      time.Now,
		Settings: settings,
	}
}

// Command hello is a minimal Go Lambda function for the rie package's tests.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type request struct {
	Name  string `json:"name"`
	Fail  bool   `json:"fail"`  // return a function error
	Sleep string `json:"sleep"` // a time.Duration to sleep, to hit the timeout
}

type response struct {
	Greeting string `json:"greeting"`
}

func handle(ctx context.Context, r request) (response, error) {
	if r.Fail {
		return response{}, errors.New("asked to fail")
	}
	if d, err := time.ParseDuration(r.Sleep); err == nil {
		time.Sleep(d)
	}
	greeting := os.Getenv("GREETING") // shows that Options.Env reaches the function
	if greeting == "" {
		greeting = "hello"
	}
	fmt.Printf("greeting %q\n", r.Name) // shows up in Emulator.Logs
	return response{Greeting: greeting + " " + r.Name}, nil
}

func main() { lambda.Start(handle) }

package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/opt-e/kontakt/infra/harness/testenv"
	"github.com/opt-e/kontakt/internal/dynamo"
	"github.com/opt-e/kontakt/internal/erasure"
)

// kontakt runs the command as a user would and returns its exit status
// and output.
func kontakt(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		out  string // in stdout or stderr
	}{
		{nil, 2, "commands:"},
		{[]string{"help"}, 0, "requeue"},
		{[]string{"help", "erase"}, 0, "usage: kontakt erase"},
		{[]string{"help", "nope"}, 2, `no command "nope"`},
		{[]string{"nope"}, 2, `no command "nope"`},
		{[]string{"erase", "--help"}, 0, "--email"},
		{[]string{"requeue", "--no-such-flag"}, 2, "flag provided but not defined"},
		{[]string{"--local", "--dev-dir", "/nonexistent", "requeue", "x"}, 1, "make dev"},
	} {
		code, out, errOut := kontakt(t, tc.args...)
		if code != tc.code || !strings.Contains(out+errOut, tc.out) {
			t.Errorf("kontakt %q: exit %d (want %d), output\n%s%s\nwant it to contain %q", tc.args, code, tc.code, out, errOut, tc.out)
		}
	}
}

func TestEraseLocal(t *testing.T) {
	testenv.Gate(t, local, "emulator test")
	ctx := context.Background()
	q := local.TestQueues(ctx, t, "-erase-cmd")
	dir := devStack(t, q)

	code, _, errOut := kontakt(t, "erase", "--local", "--dev-dir", dir)
	if code != 2 || !strings.Contains(errOut, "no --email") {
		t.Errorf("no address: exit %d, %s", code, errOut)
	}
	code, _, errOut = kontakt(t, "erase", "--local", "--dev-dir", dir, "--email", "not an address")
	if code != 2 {
		t.Errorf("bad address: exit %d, %s", code, errOut)
	}
	code, out, errOut := kontakt(t, "erase", "--local", "--dev-dir", dir, "--email", "kari@example.no")
	if code != 0 || !strings.Contains(out, "queued erasure request op-") {
		t.Fatalf("erase: exit %d\n%s%s", code, out, errOut)
	}
	msgs, err := sqs.NewFromConfig(local.AWS).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.Erasure.URL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs.Messages) != 1 {
		t.Fatalf("%d messages in the erasure queue, want 1", len(msgs.Messages))
	}
	req, err := erasure.ParseRequest(aws.ToString(msgs.Messages[0].Body))
	if err != nil {
		t.Fatal(err)
	}
	if req.Email != "kari@example.no" || req.Source != erasure.SourceOperator || !strings.Contains(out, req.RequestID) {
		t.Errorf("request %+v, output %q", req, out)
	}
}

func TestRequeueLocal(t *testing.T) {
	testenv.Gate(t, local, "emulator test")
	dir := devStack(t, nil)
	id := failedCopy(t, "requeue-")
	// Flags after the id work too; an unknown id fails with exit 1 and
	// the others are still requeued.
	code, out, errOut := kontakt(t, "requeue", id, "no-such-id", "--local", "--dev-dir", dir)
	if code != 1 || !strings.Contains(out, "requeued "+id) || !strings.Contains(errOut, "no-such-id: ") || !strings.Contains(errOut, "no failed, unexpired copy") {
		t.Errorf("requeue: exit %d\n%s%s", code, out, errOut)
	}
	if s := item(t, id)[dynamo.AttrStatus].(*types.AttributeValueMemberS).Value; s != dynamo.StatusPending {
		t.Errorf("status after requeue %q", s)
	}
	if code, _, errOut := kontakt(t, "requeue", "--local", "--dev-dir", dir); code != 2 || !strings.Contains(errOut, "no submission id") {
		t.Errorf("no id: exit %d, %s", code, errOut)
	}
}

// kontakt status --local: the day's copies by outcome from the local table,
// and a plain word that blocked counts live in make dev's output.
func TestStatusLocal(t *testing.T) {
	testenv.Gate(t, local, "emulator test")
	dir := devStack(t, nil)
	failedCopy(t, "status-")
	code, out, errOut := kontakt(t, "status", "--local", "--dev-dir", dir)
	if code != 0 || !strings.Contains(out, "the local stack (make dev)") || !strings.Contains(out, "no CloudWatch locally") {
		t.Errorf("status: exit %d\n%s%s", code, out, errOut)
	}
	if !regexp.MustCompile(`failed\s+[1-9]`).MatchString(out) {
		t.Errorf("the failed copy is not counted:\n%s", out)
	}
}

// failedCopy stores in the local table a copy, received a minute ago and
// not yet expired, whose email the redrive function gave up on, and returns
// its id: prefix and a suffix of its own.
func failedCopy(t *testing.T, prefix string) string {
	t.Helper()
	now := time.Now()
	id := prefix + strconv.FormatInt(now.UnixNano(), 36)
	if _, err := dynamodb.NewFromConfig(local.AWS).PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(local.Table), Item: map[string]types.AttributeValue{
		dynamo.AttrID:         &types.AttributeValueMemberS{Value: id},
		dynamo.AttrKind:       &types.AttributeValueMemberS{Value: dynamo.KindSubmission},
		dynamo.AttrStatus:     &types.AttributeValueMemberS{Value: dynamo.StatusFailed},
		dynamo.AttrReceivedAt: &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Add(-time.Minute).Unix(), 10)},
		dynamo.TTLAttribute:   &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Add(time.Hour).Unix(), 10)},
	}}); err != nil {
		t.Fatal(err)
	}
	return id
}

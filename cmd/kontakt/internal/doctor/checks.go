package doctor

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/opt-e/kontakt/internal/dynamo"
)

// verification asks SES for the verification status of identities; an
// identity SES does not know is absent from the answer.
func (d *Doctor) verification(ctx context.Context, ids []string) (map[string]sestypes.VerificationStatus, error) {
	out := map[string]sestypes.VerificationStatus{}
	// At most 100 identities per call (SES API reference).
	for start := 0; start < len(ids); start += 100 {
		res, err := ask(ctx, d, d.Clients.Verification.GetIdentityVerificationAttributes, &ses.GetIdentityVerificationAttributesInput{Identities: ids[start:min(start+100, len(ids))]})
		if err != nil {
			return nil, err
		}
		for id, a := range res.VerificationAttributes {
			out[id] = a.VerificationStatus
		}
	}
	return out, nil
}

func domainOf(address string) string {
	_, domain, _ := strings.Cut(address, "@")
	return strings.ToLower(domain)
}

func checkSender(ctx context.Context, d *Doctor) Result {
	st := d.Stack
	sender := st.Sender
	if sender == "" {
		return Result{Status: Fail, Detail: "the stack names no sender (parameter SenderAddress)", Fix: "deploy again with SenderAddress set to an address or domain verified in SES"}
	}
	domain := domainOf(sender)
	status, err := d.verification(ctx, []string{sender, domain})
	if err != nil {
		return unreachable("read the sender's SES identity", err, st.Local)
	}
	create := fmt.Sprintf("aws sesv2 create-email-identity --region %s --email-identity %s, then click the link AWS emails to it (or verify the domain %s with DNS records: SES console > Identities)", st.Region, sender, domain)
	if status[sender] == sestypes.VerificationStatusSuccess {
		return Result{Status: OK, Detail: fmt.Sprintf("%s is verified in %s", sender, st.Region)}
	}
	if status[domain] == sestypes.VerificationStatusSuccess {
		dk, err := ask(ctx, d, d.Clients.Dkim.GetIdentityDkimAttributes, &ses.GetIdentityDkimAttributesInput{Identities: []string{domain}})
		if err != nil {
			return unreachable("read the domain's DKIM status", err, st.Local)
		}
		a, ok := dk.DkimAttributes[domain]
		switch {
		case ok && a.DkimEnabled && a.DkimVerificationStatus == sestypes.VerificationStatusSuccess:
			return Result{Status: OK, Detail: fmt.Sprintf("%s: the domain %s is verified, DKIM signing on", sender, domain)}
		case ok && a.DkimVerificationStatus != sestypes.VerificationStatusSuccess && a.DkimVerificationStatus != "":
			return Result{Status: Fail, Detail: fmt.Sprintf("%s: the domain %s is verified, but its DKIM status is %s: mail is unsigned and more likely to be junked", sender, domain, a.DkimVerificationStatus),
				Fix: fmt.Sprintf("publish the three DKIM CNAME records SES shows for %s (SES console > Identities > %s > DKIM) in the domain's DNS", domain, domain)}
		default:
			return Result{Status: Fail, Detail: fmt.Sprintf("%s: the domain %s is verified, but DKIM signing is off", sender, domain),
				Fix: fmt.Sprintf("turn on Easy DKIM for %s (SES console > Identities > %s > DKIM) and publish its CNAME records", domain, domain)}
		}
	}
	for _, id := range []string{sender, domain} {
		switch s := status[id]; s {
		case sestypes.VerificationStatusPending:
			return Result{Status: Fail, Detail: fmt.Sprintf("%s: verification of %s is pending: SES refuses every email until it is verified", sender, id),
				Fix: fmt.Sprintf("click the link in the email AWS sent to %s (or publish the domain's DNS records); it expires after 24 hours, then: %s", id, create)}
		case sestypes.VerificationStatusFailed, sestypes.VerificationStatusTemporaryFailure:
			return Result{Status: Fail, Detail: fmt.Sprintf("%s: verification of %s is %s: SES refuses every email", sender, id, s), Fix: "delete the identity and " + create}
		}
	}
	return Result{Status: Fail, Detail: fmt.Sprintf("%s is not an SES identity in %s, nor is its domain: SES refuses every email", sender, st.Region), Fix: create}
}

func checkSandbox(ctx context.Context, d *Doctor) Result {
	st := d.Stack
	acct, err := ask(ctx, d, d.Clients.Account.GetAccount, &sesv2.GetAccountInput{})
	if err != nil {
		return unreachable("read the SES account ("+st.Region+")", err, st.Local)
	}
	quota := ""
	if q := acct.SendQuota; q != nil {
		quota = fmt.Sprintf("%g emails a day (%g sent in the last 24 hours), %g a second", q.Max24HourSend, q.SentLast24Hours, q.MaxSendRate)
	}
	if !acct.SendingEnabled {
		return Result{Status: Fail, Detail: "SES has paused sending for this account in " + st.Region + ": every email waits, and is given up after the last attempt",
			Fix: "see the SES console's Reputation metrics page and AWS's email about the pause; resume with aws sesv2 put-account-sending-attributes --sending-enabled once resolved"}
	}
	if acct.ProductionAccessEnabled {
		where := "in " + st.Region
		if st.Local {
			where = "(the SES emulator's account)"
		}
		return Result{Status: OK, Detail: "out of the SES sandbox " + where + ": " + quota}
	}
	r := Result{Status: Fail, Detail: "SES is in its sandbox in " + st.Region + ": mail reaches verified addresses only, " + quota}
	if acct.Details != nil && acct.Details.ReviewDetails != nil && acct.Details.ReviewDetails.Status != "" {
		r.More = append(r.More, fmt.Sprintf("production access request: %s (case %s)", acct.Details.ReviewDetails.Status, aws.ToString(acct.Details.ReviewDetails.CaseId)))
	}
	recipients := append([]string(nil), st.Recipients...)
	for _, a := range []string{st.PrivacyContact, st.AlarmEmail} {
		if a != "" && !contains(recipients, a) {
			recipients = append(recipients, a)
		}
	}
	if len(recipients) > 0 {
		status, err := d.verification(ctx, recipients)
		if err != nil {
			r.More = append(r.More, "could not read the recipients' verification: "+oneLine(err))
		} else {
			var unverified []string
			for _, a := range recipients {
				if status[a] != sestypes.VerificationStatusSuccess && status[domainOf(a)] != sestypes.VerificationStatusSuccess {
					unverified = append(unverified, a)
				}
			}
			if len(unverified) > 0 {
				r.More = append(r.More, "unverified recipients (SES refuses mail to them): "+strings.Join(unverified, ", "))
			} else {
				r.More = append(r.More, "every recipient the stack names is verified (a forms file may name others)")
			}
		}
	}
	r.Fix = "request production access (SES console > Account dashboard > Request production access); until it is granted, verify each recipient: aws sesv2 create-email-identity --region " + st.Region + " --email-identity ADDRESS"
	return r
}

func checkConfigurationSet(ctx context.Context, d *Doctor) Result {
	st := d.Stack
	out, err := ask(ctx, d, d.Clients.ConfigurationSet.DescribeConfigurationSet, &ses.DescribeConfigurationSetInput{
		ConfigurationSetName:           aws.String(st.ConfigurationSet),
		ConfigurationSetAttributeNames: []sestypes.ConfigurationSetAttribute{sestypes.ConfigurationSetAttributeEventDestinations},
	})
	if err != nil {
		var gone *sestypes.ConfigurationSetDoesNotExistException
		if errors.As(err, &gone) {
			return Result{Status: Fail, Detail: fmt.Sprintf("configuration set %s does not exist: SES refuses every email sent with it", st.ConfigurationSet), Fix: "deploy the stack again (sam deploy) so that CloudFormation creates it"}
		}
		return unreachable("read the configuration set", err, st.Local)
	}
	for _, dst := range out.EventDestinations {
		if dst.SNSDestination == nil || aws.ToString(dst.SNSDestination.TopicARN) != st.FeedbackTopicARN || !dst.Enabled {
			continue
		}
		types := map[sestypes.EventType]bool{}
		for _, t := range dst.MatchingEventTypes {
			types[t] = true
		}
		if types[sestypes.EventTypeBounce] && types[sestypes.EventTypeComplaint] {
			return Result{Status: OK, Detail: fmt.Sprintf("%s sends bounces and complaints to the feedback topic", st.ConfigurationSet)}
		}
	}
	return Result{Status: Fail, Detail: fmt.Sprintf("%s has no enabled event destination sending bounces and complaints to the feedback topic %s: bounces go unseen", st.ConfigurationSet, st.FeedbackTopicARN),
		Fix: "deploy the stack again (sam deploy) to restore SesFeedbackDestination"}
}

func checkSubscriptions(ctx context.Context, d *Doctor) Result {
	st := d.Stack
	topics := [][2]string{{"alarm topic", st.AlarmTopicARN}, {"SES feedback topic", st.FeedbackTopicARN}}
	r := Result{Status: OK}
	var confirmed []string
	for _, t := range topics {
		if t[1] == "" {
			r.Status = Fail
			r.More = append(r.More, "the stack names no "+t[0]+" (outputs AlarmTopicArn, SesFeedbackTopicArn)")
			r.Fix = fixDeploy
			continue
		}
		var token *string
		n, pending := 0, []string{}
		for {
			out, err := ask(ctx, d, d.Clients.Subscriptions.ListSubscriptionsByTopic, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(t[1]), NextToken: token})
			if err != nil {
				return unreachable("list the subscriptions of the "+t[0], err, st.Local)
			}
			for _, s := range out.Subscriptions {
				n++
				// SNS lists an unconfirmed subscription with this word in
				// place of its ARN.
				if aws.ToString(s.SubscriptionArn) == "PendingConfirmation" {
					pending = append(pending, fmt.Sprintf("%s (%s)", aws.ToString(s.Endpoint), aws.ToString(s.Protocol)))
				}
			}
			if token = out.NextToken; token == nil {
				break
			}
		}
		switch {
		case n == 0:
			r.Status = Fail
			r.More = append(r.More, fmt.Sprintf("the %s has no subscriptions: its notices reach nobody", t[0]))
			r.Fix = fmt.Sprintf("aws sns subscribe --region %s --topic-arn %s --protocol email --notification-endpoint YOUR-ADDRESS, then confirm from the email", st.Region, t[1])
		case len(pending) > 0:
			r.Status = Fail
			r.More = append(r.More, fmt.Sprintf("the %s: %s not confirmed (PendingConfirmation): its notices do not reach them", t[0], strings.Join(pending, ", ")))
			r.Fix = "click \"Confirm subscription\" in the email from AWS Notifications (it expires after 3 days; then subscribe again: aws sns subscribe --topic-arn ARN --protocol email --notification-endpoint ADDRESS)"
		default:
			confirmed = append(confirmed, fmt.Sprintf("%s %d", t[0], n))
		}
	}
	if r.Status == OK {
		r.Detail = "every subscription is confirmed (" + strings.Join(confirmed, ", ") + ")"
	} else {
		r.Detail = "alarms or SES feedback reach nobody"
	}
	return r
}

func checkTTL(ctx context.Context, d *Doctor) Result {
	st := d.Stack
	out, err := ask(ctx, d, d.Clients.TTL.DescribeTimeToLive, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(st.Table)})
	if err != nil {
		return unreachable("read the table's TTL", err, st.Local)
	}
	ttl := out.TimeToLiveDescription
	if ttl != nil && aws.ToString(ttl.AttributeName) == dynamo.TTLAttribute && (ttl.TimeToLiveStatus == dbtypes.TimeToLiveStatusEnabled || ttl.TimeToLiveStatus == dbtypes.TimeToLiveStatusEnabling) {
		return Result{Status: OK, Detail: fmt.Sprintf("%s expires copies on %s (%s)", st.Table, dynamo.TTLAttribute, strings.ToLower(string(ttl.TimeToLiveStatus)))}
	}
	found := "disabled"
	if ttl != nil && ttl.TimeToLiveStatus != "" {
		found = fmt.Sprintf("%s on %q", strings.ToLower(string(ttl.TimeToLiveStatus)), aws.ToString(ttl.AttributeName))
	}
	return Result{Status: Fail, Detail: fmt.Sprintf("%s: TTL is %s: copies are never deleted, against the retention promise", st.Table, found),
		Fix: fmt.Sprintf("aws dynamodb update-time-to-live --region %s --table-name %s --time-to-live-specification Enabled=true,AttributeName=%s", st.Region, st.Table, dynamo.TTLAttribute)}
}

func checkDeadLetters(ctx context.Context, d *Doctor) Result {
	st := d.Stack
	out, err := ask(ctx, d, d.Clients.QueueAttributes.GetQueueAttributes, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(st.ErasureDeadLetterQueueURL),
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			sqstypes.QueueAttributeNameQueueArn,
		},
	})
	if err != nil {
		return unreachable("read the erasure dead-letter queue", err, st.Local)
	}
	n := 0
	for _, k := range []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible} {
		v, _ := strconv.Atoi(out.Attributes[string(k)])
		n += v
	}
	if n == 0 {
		return Result{Status: OK, Detail: "empty: every erasure request was carried out"}
	}
	arn := out.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	if arn == "" {
		arn = "DEAD-LETTER-QUEUE-ARN"
	}
	return Result{Status: Fail, Detail: fmt.Sprintf("%d erasure request(s) failed 5 times: those people's data is still stored although they asked for it to go", n),
		Fix: fmt.Sprintf("find the cause in the erase function's log (request ids, error classes), fix it, then move the requests back to the erasure queue: aws sqs start-message-move-task --region %s --source-arn %s", st.Region, arn)}
}

func checkConcurrency(ctx context.Context, d *Doctor) Result {
	st := d.Stack
	fc, err := ask(ctx, d, d.Clients.FunctionConcurrency.GetFunctionConcurrency, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(st.RedriveFunction)})
	if err != nil {
		return unreachable("read the redrive function's concurrency", err, st.Local)
	}
	as, err := ask(ctx, d, d.Clients.AccountSettings.GetAccountSettings, &lambda.GetAccountSettingsInput{})
	if err != nil {
		return unreachable("read the account's Lambda settings", err, st.Local)
	}
	var limit, unreserved int32
	if as.AccountLimit != nil {
		limit = as.AccountLimit.ConcurrentExecutions
		if as.AccountLimit.UnreservedConcurrentExecutions != nil {
			unreserved = *as.AccountLimit.UnreservedConcurrentExecutions
		}
	}
	reserved := aws.ToInt32(fc.ReservedConcurrentExecutions)
	quotaFix := "ask for the usual 1000: Service Quotas console > AWS Lambda > Concurrent executions > Request increase (a new account starts at 10)"
	// Lambda keeps 100 executions unreserved (all of a smaller quota).
	floor := min(limit, 100)
	switch {
	case fc.ReservedConcurrentExecutions == nil:
		r := Result{Status: Fail, Detail: fmt.Sprintf("%s has no reserved concurrency (the template reserves 1): overlapping runs rely on their claims alone, and a burst of other functions can starve it", st.RedriveFunction)}
		if limit-floor < 1 {
			r.More = []string{fmt.Sprintf("the account's concurrency quota is %d, which leaves nothing to reserve", limit)}
			r.Fix = quotaFix + ", then deploy again"
		} else {
			r.Fix = "deploy the current template.yaml (ReservedConcurrentExecutions: 1)"
		}
		return r
	case reserved == 0:
		return Result{Status: Fail, Detail: st.RedriveFunction + " has reserved concurrency 0: it never runs, so pending emails are never re-sent",
			Fix: "aws lambda delete-function-concurrency --function-name " + st.RedriveFunction + ", or deploy the template again"}
	case unreserved < floor || limit < 100:
		return Result{Status: Fail, Detail: fmt.Sprintf("%s reserves %d of the account's quota of %d, leaving %d unreserved for every other function (Lambda wants %d)", st.RedriveFunction, reserved, limit, unreserved, floor), Fix: quotaFix}
	}
	return Result{Status: OK, Detail: fmt.Sprintf("%s reserves %d; the account's quota is %d, %d unreserved", st.RedriveFunction, reserved, limit, unreserved)}
}

func checkAlarms(ctx context.Context, d *Doctor) Result {
	st := d.Stack
	var alarms []cwtypes.MetricAlarm
	var token *string
	for {
		out, err := ask(ctx, d, d.Clients.Alarms.DescribeAlarms, &cloudwatch.DescribeAlarmsInput{
			// The stack's alarms are the ones that notify its topic.
			ActionPrefix: aws.String(st.AlarmTopicARN), NextToken: token,
			AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm},
		})
		if err != nil {
			return unreachable("read the alarms", err, st.Local)
		}
		alarms = append(alarms, out.MetricAlarms...)
		if token = out.NextToken; token == nil {
			break
		}
	}
	if len(alarms) == 0 {
		return undeployed("no alarm notifies the alarm topic: failures go unseen")
	}
	sort.Slice(alarms, func(i, j int) bool { return aws.ToString(alarms[i].AlarmName) < aws.ToString(alarms[j].AlarmName) })
	r := Result{Status: OK}
	insufficient := 0
	for _, a := range alarms {
		switch a.StateValue {
		case cwtypes.StateValueAlarm:
			r.Status = Fail
			since := ""
			if a.StateUpdatedTimestamp != nil {
				since = " since " + a.StateUpdatedTimestamp.UTC().Format(time.RFC3339)
			}
			r.More = append(r.More, fmt.Sprintf("%s: ALARM%s. %s", aws.ToString(a.AlarmName), since, aws.ToString(a.AlarmDescription)))
		case cwtypes.StateValueInsufficientData:
			insufficient++
		}
	}
	if r.Status == Fail {
		r.Detail = fmt.Sprintf("%d of %d alarms are in ALARM", len(r.More), len(alarms))
		r.Fix = "each alarm's description above says what it means; docs/operators.md has the failure modes"
		return r
	}
	// The alarms treat missing data as fine: a metric nobody wrote yet.
	r.Detail = fmt.Sprintf("%d alarms, none in ALARM", len(alarms))
	if insufficient > 0 {
		r.Detail += fmt.Sprintf(" (%d without data yet, which is fine)", insufficient)
	}
	return r
}

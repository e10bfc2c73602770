package samtemplate_test

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"testing"

	"github.com/opt-e/kontakt/infra/harness/samtemplate"
)

const (
	accountID     = "${AWS::AccountId}"
	alarmArns     = "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*"
	configSetArn  = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${SesConfigurationSet}"
	feedbackTopic = "SesFeedbackTopic"
)

// Every topic an alarm notifies lets this account's alarms publish: a topic
// policy admits CloudWatch, and a topic's key (if any) is a customer-managed
// key whose policy lets CloudWatch use it. The AWS managed key alias/aws/sns
// admits no service and cannot be changed: an alarm on a topic under it is
// never delivered.
func TestAlarmsCanPublishToTheirTopics(t *testing.T) {
	raw := loadRaw(t)
	topics := alarmTopics(t, raw)
	if len(topics) == 0 {
		t.Fatal("no alarm notifies a topic")
	}
	for _, topic := range topics {
		assertServiceMayPublish(t, raw, topic, "cloudwatch.amazonaws.com", "ArnLike", alarmArns)
	}
}

// SES publishes bounces and complaints of the configuration set to the
// feedback topic, under the same rules.
func TestSesFeedbackCanPublish(t *testing.T) {
	assertServiceMayPublish(t, loadRaw(t), feedbackTopic, "ses.amazonaws.com", "StringEquals", configSetArn)
}

// The topics are encrypted with the template's own key, which rotates.
func TestTopicsEncryptedWithRotatingCustomerKey(t *testing.T) {
	raw := loadRaw(t)
	for _, topic := range append(alarmTopics(t, raw), feedbackTopic) {
		key := topicKey(t, raw, topic)
		if key == "" {
			t.Errorf("%s is not encrypted", topic)
			continue
		}
		if rot, _ := samtemplate.Lookup(raw, "Resources", key, "Properties", "EnableKeyRotation"); rot != true {
			t.Errorf("%s: EnableKeyRotation = %v, want true", key, rot)
		}
		stmts := read(t, samtemplate.KeyPolicyStatements, raw, key)
		admin := false
		for _, s := range stmts {
			if s.Effect == "Allow" && slices.Contains(s.Principals["AWS"], "arn:${AWS::Partition}:iam::${AWS::AccountId}:root") && slices.Contains(s.Actions, "kms:*") {
				admin = true
			}
			// Only the account itself has a statement without a condition.
			if len(s.Principals["Service"]) > 0 && len(s.Condition) == 0 {
				t.Errorf("%s: statement %q lets %v use the key unconditionally", key, s.Sid, s.Principals["Service"])
			}
		}
		if !admin {
			t.Errorf("%s: the account's root cannot administer the key (nobody could, once created)", key)
		}
	}
}

// alarmTopics returns the logical ids of the topics every alarm notifies.
func alarmTopics(t *testing.T, raw map[string]any) []string {
	t.Helper()
	resources, _ := raw["Resources"].(map[string]any)
	seen := map[string]bool{}
	for id, r := range resources {
		if typ, _ := samtemplate.Lookup(r, "Type"); typ != "AWS::CloudWatch::Alarm" {
			continue
		}
		actions, _ := samtemplate.Lookup(r, "Properties", "AlarmActions")
		list, _ := actions.([]any)
		if len(list) == 0 {
			t.Errorf("alarm %s notifies nobody", id)
		}
		for _, a := range list {
			name, ok := samtemplate.RefName(fmt.Sprint(a))
			if !ok {
				t.Errorf("alarm %s: action %v is not a Ref to a topic in the template", id, a)
				continue
			}
			if typ, _ := samtemplate.Lookup(raw, "Resources", name, "Type"); typ != "AWS::SNS::Topic" {
				t.Errorf("alarm %s: action %s is a %v, not an AWS::SNS::Topic", id, name, typ)
				continue
			}
			seen[name] = true
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// topicKey returns the logical id of the KMS key that encrypts topic, "" if
// the topic is not encrypted; anything else (an alias, a key from outside
// the template) fails the test, as its policy cannot be checked here.
func topicKey(t *testing.T, raw map[string]any, topic string) string {
	t.Helper()
	v, ok := samtemplate.Lookup(raw, "Resources", topic, "Properties", "KmsMasterKeyId")
	if !ok {
		return ""
	}
	name, ok := samtemplate.RefName(fmt.Sprint(v))
	if typ, _ := samtemplate.Lookup(raw, "Resources", name, "Type"); !ok || typ != "AWS::KMS::Key" {
		t.Errorf("%s: KmsMasterKeyId = %v, want a Ref to an AWS::KMS::Key in the template whose policy admits the publishers", topic, v)
		return ""
	}
	return name
}

// assertServiceMayPublish checks that service may publish to topic on
// behalf of this account only (aws:SourceAccount) and only for sourceArn:
// in the topic's policy and, if the topic is encrypted, in its key's.
func assertServiceMayPublish(t *testing.T, raw map[string]any, topic, service, arnOperator, sourceArn string) {
	t.Helper()
	stmts := read(t, samtemplate.TopicPolicyStatements, raw, topic)
	if !slices.ContainsFunc(stmts, func(s samtemplate.ResourceStatement) bool {
		return s.Effect == "Allow" && reflect.DeepEqual(s.Principals["Service"], []string{service}) &&
			reflect.DeepEqual(s.Actions, []string{"sns:Publish"}) && reflect.DeepEqual(s.Resources, []string{samtemplate.Ref(topic)}) &&
			scoped(s.Condition, arnOperator, sourceArn)
	}) {
		t.Errorf("%s: no topic policy lets %s publish (sns:Publish on the topic, aws:SourceAccount %s, %s aws:SourceArn %s): %+v",
			topic, service, accountID, arnOperator, sourceArn, stmts)
	}
	key := topicKey(t, raw, topic)
	if key == "" {
		return
	}
	keyStmts := read(t, samtemplate.KeyPolicyStatements, raw, key)
	want := []string{"kms:Decrypt", "kms:GenerateDataKey*"}
	if !slices.ContainsFunc(keyStmts, func(s samtemplate.ResourceStatement) bool {
		actions := slices.Clone(s.Actions)
		sort.Strings(actions)
		return s.Effect == "Allow" && reflect.DeepEqual(s.Principals["Service"], []string{service}) &&
			reflect.DeepEqual(actions, want) && scoped(s.Condition, arnOperator, sourceArn)
	}) {
		t.Errorf("%s (the key of %s): no statement lets %s use it (%q, aws:SourceAccount %s, %s aws:SourceArn %s)",
			key, topic, service, want, accountID, arnOperator, sourceArn)
	}
}

// scoped: the condition limits a service principal to this account and to
// sourceArn (confused-deputy protection).
func scoped(cond map[string]any, arnOperator, sourceArn string) bool {
	account, ok := samtemplate.ConditionValue(cond, "StringEquals", "aws:SourceAccount")
	if !ok || !reflect.DeepEqual(account, []string{accountID}) {
		return false
	}
	arn, ok := samtemplate.ConditionValue(cond, arnOperator, "aws:SourceArn")
	return ok && reflect.DeepEqual(arn, []string{sourceArn})
}

// Package dynamo keeps fallback copies of submissions in one DynamoDB
// table. The table layout (attribute and index names) lives here and only
// here; template.yaml must agree, and the template test checks that it does.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/submission"
)

// Table layout.
const (
	AttrID            = "id"
	AttrKind          = "kind"
	AttrFormID        = "form_id"
	AttrReceivedAt    = "received_at"
	AttrFields        = "fields"
	AttrReplyTo       = "reply_to"
	AttrSubject       = "subject"
	AttrLanguage      = "language"
	AttrLookupKey     = "lookup_key"
	AttrStatus        = "status"
	AttrAttempts      = "attempts"
	AttrLastError     = "last_error"
	AttrSentAt        = "sent_at"
	AttrPending       = "pending"
	AttrNextAttemptAt = "next_attempt_at"
	// AttrConsent is the one consent copies stored before consents by
	// purpose carried; Decode still reads it.
	AttrConsent  = "consent"
	AttrConsents = "consents"
	// AttrReason says why a pending copy was not emailed by the submit
	// function when that was by design: ReasonHeld.
	AttrReason = "reason"
	// TTLAttribute holds epoch seconds; DynamoDB deletes the item some time
	// (typically days) after it passes, so reads must filter on it too.
	TTLAttribute = "expires_at"

	// LookupIndex finds every copy for one reply address (erasure).
	LookupIndex = "by_lookup_key"
	// PendingIndex is sparse: only copies whose email is still to be sent
	// carry the pending attribute.
	PendingIndex = "by_pending"

	KindSubmission = "submission"
	StatusPending  = "pending"
	StatusSent     = "sent"
	pendingShard   = "p"
	// heldShard is the pending index's partition for held copies (the
	// form's ceiling was reached): the redrive function releases them at
	// its own pace, apart from the copies whose email failed.
	heldShard = "h"
	// ReasonHeld: stored over the form's ceiling and not emailed yet.
	ReasonHeld = "held"
)

// StatusFailed: the email was given up (a permanent SES error or too many
// attempts). The copy stays until its TTL, out of the pending index.
const StatusFailed = "failed"

// PendingShard is the value of AttrPending on every pending copy: the
// pending index's one partition (the operator's tool reads it).
const PendingShard = pendingShard

// FirstRetryDelay keeps the re-sender away from a copy whose submit call may
// still be sending it: it is longer than the submit function's timeout.
const FirstRetryDelay = 2 * time.Minute

// API is the part of the DynamoDB client the adapter uses.
type API interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// Store implements submission.Store.
type Store struct {
	Client API
	Table  string
	// LookupKeys computes the lookup key of a copy's reply address; Save
	// refuses a copy with a reply address without it, as such a copy could
	// never be found for erasure.
	LookupKeys *submission.LookupKeys
	Now        func() time.Time
}

var _ submission.Store = (*Store)(nil)

// Error carries a class for logs and the stored copy.
type Error struct {
	Op    string
	Class string
	Err   error
}

func (e *Error) Error() string      { return fmt.Sprintf("%s (%s): %v", e.Op, e.Class, e.Err) }
func (e *Error) Unwrap() error      { return e.Err }
func (e *Error) ErrorClass() string { return e.Class }

var errNoLookupKeys = errors.New("no lookup keys to key the reply address with")

// ErrExists is returned by Save when a copy with that id exists already.
var ErrExists = errors.New("submission exists")

func wrap(op string, err error) error {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return &Error{Op: op, Class: "conflict", Err: err}
	}
	class := submission.ErrorClass(err)
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded":
			class = "throttled"
		default:
			class = "api"
		}
	} else if class == "error" {
		class = "unavailable"
	}
	return &Error{Op: op, Class: class, Err: err}
}

// Item renders s as the stored item, pending until marked sent. lookupKey
// is the lookup key of s.ReplyTo (LookupKeys.Key), "" when there is none.
func Item(s *submission.Submission, lookupKey string) map[string]types.AttributeValue {
	fields := make([]types.AttributeValue, len(s.Fields))
	for i, f := range s.Fields {
		fields[i] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"n": strAV(f.Name), "v": strAV(f.Value)}}
	}
	next, shard, attempts := s.ReceivedAt.Add(FirstRetryDelay), pendingShard, int64(1)
	if s.Held {
		// Nobody is sending it: due at once, in the order it came, with no
		// attempt made.
		next, shard, attempts = s.ReceivedAt, heldShard, 0
	}
	item := map[string]types.AttributeValue{
		AttrID:            strAV(s.ID),
		AttrKind:          strAV(KindSubmission),
		AttrFormID:        strAV(s.FormID),
		AttrReceivedAt:    num(s.ReceivedAt.Unix()),
		TTLAttribute:      num(s.ExpiresAt.Unix()),
		AttrFields:        &types.AttributeValueMemberL{Value: fields},
		AttrStatus:        strAV(StatusPending),
		AttrAttempts:      num(attempts),
		AttrPending:       strAV(shard),
		AttrNextAttemptAt: num(next.Unix()),
	}
	if s.Held {
		item[AttrReason] = strAV(ReasonHeld)
	}
	if s.Language != "" {
		item[AttrLanguage] = strAV(s.Language)
	}
	if s.Subject != "" {
		item[AttrSubject] = strAV(s.Subject)
	}
	if len(s.Consents) > 0 {
		list := make([]types.AttributeValue, len(s.Consents))
		for i, c := range s.Consents {
			list[i] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
				"purpose":        strAV(c.Purpose),
				"field":          strAV(c.Field),
				"value":          strAV(c.Value),
				"given":          &types.AttributeValueMemberBOOL{Value: c.Given},
				"policy_version": strAV(c.PolicyVersion),
				"at":             num(c.At.Unix()),
			}}
		}
		item[AttrConsents] = &types.AttributeValueMemberL{Value: list}
	}
	if s.ReplyTo != "" {
		item[AttrReplyTo] = strAV(s.ReplyTo)
	}
	if len(s.Files) > 0 {
		item[AttrFiles] = encodeFiles(s.Files)
	}
	if lookupKey != "" {
		item[AttrLookupKey] = strAV(lookupKey)
	}
	return item
}

// Save writes the copy as pending. It never overwrites: ids are random, so
// a collision means something is badly wrong and must not destroy data.
func (st *Store) Save(ctx context.Context, s *submission.Submission) error {
	var lookupKey string
	if s.ReplyTo != "" {
		if st.LookupKeys == nil {
			return &Error{Op: "store submission", Class: "config", Err: errNoLookupKeys}
		}
		lookupKey = st.LookupKeys.Key(s.ReplyTo)
	}
	_, err := st.Client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                &st.Table,
		Item:                     Item(s, lookupKey),
		ConditionExpression:      aws.String("attribute_not_exists(#id)"),
		ExpressionAttributeNames: map[string]string{"#id": AttrID},
	})
	if err != nil {
		return wrap("store submission", err)
	}
	return nil
}

// MarkSent records delivery and takes the copy out of the pending index.
func (st *Store) MarkSent(ctx context.Context, id string, at time.Time) error {
	return st.updateCopy(ctx, "mark sent", id, &dynamodb.UpdateItemInput{
		UpdateExpression:    aws.String("SET #status = :sent, #sent_at = :at REMOVE #pending, #next, #last_error"),
		ConditionExpression: aws.String("attribute_exists(#id)"),
		ExpressionAttributeNames: map[string]string{
			"#id": AttrID, "#status": AttrStatus, "#sent_at": AttrSentAt, "#pending": AttrPending,
			"#next": AttrNextAttemptAt, "#last_error": AttrLastError,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":sent": strAV(StatusSent),
			":at":   num(at.Unix()),
		},
	})
}

// MarkPending records why the email failed, for the re-sender and for
// operators; the copy is pending already.
func (st *Store) MarkPending(ctx context.Context, id, errorClass string) error {
	return st.updateCopy(ctx, "mark pending", id, &dynamodb.UpdateItemInput{
		UpdateExpression:    aws.String("SET #last_error = :class"),
		ConditionExpression: aws.String("attribute_exists(#id) AND #status = :pending"),
		ExpressionAttributeNames: map[string]string{
			"#id": AttrID, "#status": AttrStatus, "#last_error": AttrLastError,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":class":   strAV(errorClass),
			":pending": strAV(StatusPending),
		},
	})
}

// updateCopy applies the update in (its expression, its condition, their
// names and values) to the copy id's item.
func (st *Store) updateCopy(ctx context.Context, op, id string, in *dynamodb.UpdateItemInput) error {
	in.TableName, in.Key = aws.String(st.Table), key(id)
	if _, err := st.Client.UpdateItem(ctx, in); err != nil {
		return wrap(op, err)
	}
	return nil
}

// Copy is a stored submission as read back.
type Copy struct {
	Submission submission.Submission
	Status     string
	Attempts   int
	LastError  string
	LookupKey  string
	// HeldUntil is when the copy's legal hold ends (zero when not held).
	// A held copy has no expires_at: its TTL waits in held_expires_at.
	HeldUntil time.Time
	// Reason is ReasonHeld while the copy waits to be released, or "".
	Reason string
}

// Get reads one copy, or nil when there is none or it has expired (TTL
// deletion lags by days; an expired copy must look deleted).
func (st *Store) Get(ctx context.Context, id string) (*Copy, error) {
	out, err := st.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(st.Table),
		Key:            key(id),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, wrap("get submission", err)
	}
	if out.Item == nil {
		return nil, nil
	}
	c := Decode(out.Item)
	if c.Expired(st.now()) {
		return nil, nil
	}
	return c, nil
}

// Expired reports whether the copy is past its TTL and must look deleted.
// A held copy (no expires_at) never is.
func (c *Copy) Expired(now time.Time) bool {
	return !c.Submission.ExpiresAt.IsZero() && !c.Submission.ExpiresAt.After(now)
}

// Decode reads an item written by Item (and later updates). A copy under a
// legal hold has no expires_at: its ExpiresAt is zero and HeldUntil says
// until when it is kept.
func Decode(item map[string]types.AttributeValue) *Copy {
	c := &Copy{}
	s := &c.Submission
	s.ID = str(item[AttrID])
	s.FormID = str(item[AttrFormID])
	s.ReceivedAt = time.Unix(int64(number(item[AttrReceivedAt])), 0).UTC()
	if item[TTLAttribute] != nil {
		s.ExpiresAt = time.Unix(int64(number(item[TTLAttribute])), 0).UTC()
	}
	if item[AttrHeldUntil] != nil {
		c.HeldUntil = time.Unix(int64(number(item[AttrHeldUntil])), 0).UTC()
	}
	s.ReplyTo = str(item[AttrReplyTo])
	s.Subject = str(item[AttrSubject])
	s.Language = str(item[AttrLanguage])
	if l, ok := item[AttrFields].(*types.AttributeValueMemberL); ok {
		for _, v := range l.Value {
			if m, ok := v.(*types.AttributeValueMemberM); ok {
				s.Fields = append(s.Fields, submission.Field{Name: str(m.Value["n"]), Value: str(m.Value["v"])})
			}
		}
	}
	if l, ok := item[AttrConsents].(*types.AttributeValueMemberL); ok {
		for _, v := range l.Value {
			if m, ok := v.(*types.AttributeValueMemberM); ok {
				s.Consents = append(s.Consents, decodeConsent(m, str(m.Value["purpose"])))
			}
		}
	} else if m, ok := item[AttrConsent].(*types.AttributeValueMemberM); ok {
		s.Consents = []submission.Consent{decodeConsent(m, config.PurposeOptionalDetails)}
	}
	s.Files = DecodeFiles(item[AttrFiles])
	c.Status = str(item[AttrStatus])
	c.Attempts = number(item[AttrAttempts])
	c.LastError = str(item[AttrLastError])
	c.LookupKey = str(item[AttrLookupKey])
	c.Reason = str(item[AttrReason])
	return c
}

func decodeConsent(m *types.AttributeValueMemberM, purpose string) submission.Consent {
	given, _ := m.Value["given"].(*types.AttributeValueMemberBOOL)
	return submission.Consent{
		Purpose: purpose, Field: str(m.Value["field"]), Value: str(m.Value["value"]),
		PolicyVersion: str(m.Value["policy_version"]),
		At:            time.Unix(int64(number(m.Value["at"])), 0).UTC(),
		Given:         given != nil && given.Value,
	}
}

func (st *Store) now() time.Time {
	if st.Now != nil {
		return st.Now()
	}
	return time.Now()
}

// Key is the primary key of the item with the given id.
func Key(id string) map[string]types.AttributeValue { return key(id) }

func key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrID: &types.AttributeValueMemberS{Value: id}}
}

func strAV(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func str(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func number(v types.AttributeValue) int {
	if n, ok := v.(*types.AttributeValueMemberN); ok {
		i, _ := strconv.Atoi(n.Value)
		return i
	}
	return 0
}

package samtemplate

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
)

// Extractors for tests (here and in other packages) that check the
// template's wiring against the code. Values keep placeholders: compare with
// Ref and GetAtt.

// Function returns the AWS::Serverless::Function with the given logical id.
func Function(tpl *cloudformation.Template, logicalID string) (*serverless.Function, error) {
	f, err := tpl.GetServerlessFunctionWithName(logicalID)
	if err != nil {
		return nil, fmt.Errorf("samtemplate: %w", err)
	}
	return f, nil
}

// FunctionEnv returns the function's environment variables, e.g.
// KONTAKT_TABLE -> "${SubmissionsTable}".
func FunctionEnv(tpl *cloudformation.Template, logicalID string) (map[string]string, error) {
	f, err := Function(tpl, logicalID)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	if f.Environment != nil {
		for k, v := range f.Environment.Variables {
			out[k] = v
		}
	}
	return out, nil
}

// Statement is one IAM policy statement, normalised: single values become
// one-element lists.
type Statement struct {
	Sid       string
	Effect    string
	Actions   []string
	Resources []string
	Condition map[string]any
}

// PolicyStatements returns the statements of the function's inline policies
// (Policies: - Statement: [...]). Anything it cannot check - a managed policy
// name or ARN, a SAM policy template, a Role given from outside, NotAction or
// NotResource - is an error, so a least-privilege test cannot pass by
// overlooking it.
func PolicyStatements(tpl *cloudformation.Template, logicalID string) ([]Statement, error) {
	f, err := Function(tpl, logicalID)
	if err != nil {
		return nil, err
	}
	fail := func(format string, args ...any) ([]Statement, error) {
		return nil, fmt.Errorf("samtemplate: function %s: "+format, append([]any{logicalID}, args...)...)
	}
	if f.Role != nil {
		return fail("uses the external role %s, whose policies are not in the template", *f.Role)
	}
	p := f.Policies
	if p == nil {
		return nil, nil
	}
	if p.String != nil {
		return fail("policy %q is not an inline Statement policy", *p.String)
	}
	// A single mapping decodes strictly as a document. A list is decoded
	// loosely into every list type goformation knows, element by element, so
	// each entry is judged by which of those decoded it: a name decodes as a
	// non-empty string, a document as one with statements, and anything else
	// (a SAM policy template) as neither.
	var docs []serverless.Function_IAMPolicyDocument
	switch {
	case p.IAMPolicyDocument != nil:
		docs = []serverless.Function_IAMPolicyDocument{*p.IAMPolicyDocument}
	case p.IAMPolicyDocumentArray != nil || p.StringArray != nil || p.SAMPolicyTemplateArray != nil:
		var names []string
		if p.StringArray != nil {
			names = *p.StringArray
		}
		if p.IAMPolicyDocumentArray != nil {
			docs = *p.IAMPolicyDocumentArray
		}
		n := max(len(names), len(docs))
		if p.SAMPolicyTemplateArray != nil {
			n = max(n, len(*p.SAMPolicyTemplateArray))
		}
		for i := 0; i < n; i++ {
			if i < len(names) && names[i] != "" {
				return fail("policy %q is not an inline Statement policy", names[i])
			}
			if i < len(docs) && len(docs[i].Statement) > 0 {
				continue
			}
			what := ""
			if p.SAMPolicyTemplateArray != nil && i < len(*p.SAMPolicyTemplateArray) {
				if b, err := json.Marshal((*p.SAMPolicyTemplateArray)[i]); err == nil && string(b) != "{}" {
					what = " " + string(b)
				}
			}
			return fail("policy %d%s is not an inline Statement policy", i, what)
		}
	default:
		return fail("Policies did not decode as inline Statement policies")
	}
	var out []Statement
	for i, d := range docs {
		for j, raw := range d.Statement {
			m, ok := raw.(map[string]any)
			if !ok {
				return fail("policy %d statement %d is not a mapping", i, j)
			}
			for _, k := range []string{"NotAction", "NotResource", "NotPrincipal"} {
				if _, ok := m[k]; ok {
					return fail("policy %d statement %d uses %s", i, j, k)
				}
			}
			s := Statement{Actions: stringList(m["Action"]), Resources: stringList(m["Resource"])}
			s.Sid, _ = m["Sid"].(string)
			s.Effect, _ = m["Effect"].(string)
			s.Condition, _ = m["Condition"].(map[string]any)
			if s.Effect != "Allow" && s.Effect != "Deny" {
				return fail("policy %d statement %d has Effect %q", i, j, s.Effect)
			}
			out = append(out, s)
		}
	}
	return out, nil
}

func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	case nil:
		return nil
	}
	return []string{fmt.Sprint(v)}
}

// PolicyActions returns the actions the function's inline policies allow,
// sorted and without duplicates.
func PolicyActions(tpl *cloudformation.Template, logicalID string) ([]string, error) {
	stmts, err := PolicyStatements(tpl, logicalID)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, s := range stmts {
		if s.Effect != "Allow" {
			continue
		}
		for _, a := range s.Actions {
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// HTTPAPIEvent is one HttpApi event of a function.
type HTTPAPIEvent struct {
	Name                 string // the event's key under Events
	API                  string // ApiId, e.g. "${HttpApi}"; empty for SAM's implicit API
	Method               string
	Path                 string
	PayloadFormatVersion string
}

// Route is "METHOD PATH".
func (e HTTPAPIEvent) Route() string { return e.Method + " " + e.Path }

// HTTPAPIEvents returns the function's HttpApi events sorted by name.
func HTTPAPIEvents(tpl *cloudformation.Template, logicalID string) ([]HTTPAPIEvent, error) {
	f, err := Function(tpl, logicalID)
	if err != nil {
		return nil, err
	}
	var out []HTTPAPIEvent
	for name, ev := range f.Events {
		if ev.Type != "HttpApi" {
			continue
		}
		if ev.Properties == nil || ev.Properties.HttpApiEvent == nil {
			return nil, fmt.Errorf("samtemplate: function %s: event %s did not decode as an HttpApi event", logicalID, name)
		}
		h := ev.Properties.HttpApiEvent
		out = append(out, HTTPAPIEvent{
			Name: name, API: deref(h.ApiId), Method: strings.ToUpper(deref(h.Method)),
			Path: deref(h.Path), PayloadFormatVersion: deref(h.PayloadFormatVersion),
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Routes returns the function's HttpApi routes as sorted "METHOD PATH"
// strings, e.g. "POST /f/{form}".
func Routes(tpl *cloudformation.Template, logicalID string) ([]string, error) {
	evs, err := HTTPAPIEvents(tpl, logicalID)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Route()
	}
	sort.Strings(out)
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// RawProperties returns a resource's Properties from LoadRaw's data, with the
// template's Globals merged in as SAM would.
func RawProperties(raw map[string]any, logicalID string) (map[string]any, error) {
	res, ok := Lookup(raw, "Resources", logicalID)
	if !ok {
		return nil, fmt.Errorf("samtemplate: no resource %s", logicalID)
	}
	m, ok := res.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("samtemplate: resource %s is not a mapping", logicalID)
	}
	typ, _ := m["Type"].(string)
	globals, _ := raw["Globals"].(map[string]any)
	props, _ := mergeGlobals(m, typ, globals)["Properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
	}
	return props, nil
}

// Lookup follows a path of map keys (and list indexes, as decimal strings)
// into LoadRaw's data.
func Lookup(v any, path ...string) (any, bool) {
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[p]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// ResourceStatement is one statement of a resource policy (a topic's or a
// KMS key's), normalised like Statement, with its principals by type
// ("Service", "AWS").
type ResourceStatement struct {
	Sid        string
	Effect     string
	Principals map[string][]string
	Actions    []string
	Resources  []string
	Condition  map[string]any
}

func resourceStatements(doc any, where string) ([]ResourceStatement, error) {
	raw, ok := Lookup(doc, "Statement")
	if !ok {
		return nil, fmt.Errorf("samtemplate: %s: policy has no Statement", where)
	}
	list, ok := raw.([]any)
	if !ok {
		list = []any{raw}
	}
	var out []ResourceStatement
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("samtemplate: %s: statement %d is not a mapping", where, i)
		}
		for _, k := range []string{"NotAction", "NotResource", "NotPrincipal"} {
			if _, ok := m[k]; ok {
				return nil, fmt.Errorf("samtemplate: %s: statement %d uses %s", where, i, k)
			}
		}
		s := ResourceStatement{Actions: stringList(m["Action"]), Resources: stringList(m["Resource"]), Principals: map[string][]string{}}
		s.Sid, _ = m["Sid"].(string)
		s.Effect, _ = m["Effect"].(string)
		s.Condition, _ = m["Condition"].(map[string]any)
		switch p := m["Principal"].(type) {
		case string:
			s.Principals["*"] = []string{p}
		case map[string]any:
			for k, v := range p {
				s.Principals[k] = stringList(v)
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// TopicPolicyStatements returns the statements of every AWS::SNS::TopicPolicy
// in LoadRaw's data whose Topics include the topic with the given logical id.
func TopicPolicyStatements(raw map[string]any, topicID string) ([]ResourceStatement, error) {
	return policyStatements(raw, "AWS::SNS::TopicPolicy", func(res map[string]any) bool {
		topics, _ := Lookup(res, "Properties", "Topics")
		return slices.Contains(stringList(topics), Ref(topicID))
	})
}

// BucketPolicyStatements returns the statements of every
// AWS::S3::BucketPolicy in LoadRaw's data whose Bucket is the bucket with the
// given logical id.
func BucketPolicyStatements(raw map[string]any, bucketID string) ([]ResourceStatement, error) {
	return policyStatements(raw, "AWS::S3::BucketPolicy", func(res map[string]any) bool {
		b, _ := Lookup(res, "Properties", "Bucket")
		return b == Ref(bucketID)
	})
}

// policyStatements returns the statements of the PolicyDocument of every
// resource of type typ in LoadRaw's data that applies, in logical id order.
func policyStatements(raw map[string]any, typ string, applies func(res map[string]any) bool) ([]ResourceStatement, error) {
	resources, _ := raw["Resources"].(map[string]any)
	ids := make([]string, 0, len(resources))
	for id := range resources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []ResourceStatement
	for _, id := range ids {
		res, _ := resources[id].(map[string]any)
		if t, _ := res["Type"].(string); t != typ || !applies(res) {
			continue
		}
		doc, _ := Lookup(res, "Properties", "PolicyDocument")
		stmts, err := resourceStatements(doc, id)
		if err != nil {
			return nil, err
		}
		out = append(out, stmts...)
	}
	return out, nil
}

// KeyPolicyStatements returns the key policy of the AWS::KMS::Key with the
// given logical id.
func KeyPolicyStatements(raw map[string]any, keyID string) ([]ResourceStatement, error) {
	res, ok := Lookup(raw, "Resources", keyID)
	if !ok {
		return nil, fmt.Errorf("samtemplate: no resource %s", keyID)
	}
	if typ, _ := Lookup(res, "Type"); typ != "AWS::KMS::Key" {
		return nil, fmt.Errorf("samtemplate: %s is a %v, not an AWS::KMS::Key", keyID, typ)
	}
	doc, ok := Lookup(res, "Properties", "KeyPolicy")
	if !ok {
		return nil, fmt.Errorf("samtemplate: %s has no KeyPolicy", keyID)
	}
	return resourceStatements(doc, keyID)
}

// ConditionValue returns Condition[operator][key] with the operator and the
// key matched case-insensitively, as IAM matches them, and every value as a
// list.
func ConditionValue(cond map[string]any, operator, key string) ([]string, bool) {
	for op, v := range cond {
		if !strings.EqualFold(op, operator) {
			continue
		}
		m, _ := v.(map[string]any)
		for k, val := range m {
			if strings.EqualFold(k, key) {
				return stringList(val), true
			}
		}
	}
	return nil, false
}

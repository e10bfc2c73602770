// Package samtemplate loads the SAM template (template.yaml) with goformation
// so that tests can check its wiring against the code, and so that the local
// stack can create exactly the table the template declares.
//
// goformation resolves intrinsic functions while it parses, and by default a
// Ref to a resource, a Ref to a parameter without a default, and every
// Fn::GetAtt resolve to nothing, which would make "is KONTAKT_TABLE set to the
// table?" impossible to ask. This package overrides those handlers so that
// each intrinsic keeps a recognisable value, written the way Fn::Sub writes
// it:
//
//	!Ref SubmissionsTable          -> "${SubmissionsTable}"   (see Ref)
//	!Ref AWS::Region               -> "${AWS::Region}"
//	!GetAtt SubmissionsTable.Arn   -> "${SubmissionsTable.Arn}" (see GetAtt)
//	!Sub "arn:${AWS::Partition}:x" -> "arn:${AWS::Partition}:x" (unchanged)
//	!Ref AWS::NoValue              -> nothing (the key is dropped)
//	!If, !Equals, !Not, !And, !Or  -> kept as written, in long form
//	!Split                         -> kept as written, in long form
//	!Join [d, [a, b]]              -> "a<d>b"; kept as written when its
//	                                  list is a function (e.g. a !Split)
//
// Other goformation quirks handled by Load:
//   - Globals are not merged into resources by goformation; Load merges them
//     with SAM's rules (maps merge, lists append, scalars are replaced).
//   - goformation's AWS::Serverless::Function lacks some SAM properties (e.g.
//     LoggingConfig) and rejects unknown properties; Load drops the known
//     unmodelled ones from the typed view. LoadRaw keeps everything.
//   - A placeholder in a numeric or boolean field (e.g. ThrottlingBurstLimit:
//     !Ref ThrottlingBurstLimit) cannot be decoded into goformation's int
//     fields; Load puts the parameter's default there instead.
//   - A resource property whose whole value is an !If (e.g. the files
//     bucket's CorsConfiguration) is dropped from the typed view: which
//     branch applies is decided at deploy time. Check it with LoadRaw.
//   - goformation decodes an SQS event with FunctionResponseTypes as empty (its
//     event union rejects the unknown key); Load drops such keys from the
//     typed event so the rest survives. Check them with LoadRaw.
package samtemplate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/awslabs/goformation/v7/cloudformation"
	cfndynamodb "github.com/awslabs/goformation/v7/cloudformation/dynamodb"
	"github.com/awslabs/goformation/v7/intrinsics"
)

// Ref is the value Load gives `!Ref name`: "${name}".
func Ref(name string) string { return "${" + name + "}" }

// GetAtt is the value Load gives `!GetAtt resource.attribute`:
// "${resource.attribute}".
func GetAtt(resource, attribute string) string { return "${" + resource + "." + attribute + "}" }

var placeholder = regexp.MustCompile(`\$\{([^!}][^}]*)\}`)

// RefName reports whether s is exactly one Ref placeholder ("${name}", as
// made by Ref) and returns the name. GetAtt placeholders ("${a.b}") are not
// Refs.
func RefName(s string) (string, bool) {
	m := placeholder.FindStringSubmatch(s)
	if m == nil || m[0] != s || strings.Contains(m[1], ".") {
		return "", false
	}
	return m[1], true
}

// Substitute replaces every placeholder in s ("${name}", "${res.attr}",
// "${AWS::Region}") with vars[name]. It fails, naming them, if any has no
// value, so a local stack cannot start with half-resolved settings. "${!x}"
// is Fn::Sub's escape for a literal "${x}" and is unescaped.
func Substitute(s string, vars map[string]string) (string, error) {
	var missing []string
	out := placeholder.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		v, ok := vars[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("samtemplate: no value for %s in %q", strings.Join(missing, ", "), s)
	}
	return strings.ReplaceAll(out, "${!", "${"), nil
}

// ParameterDefaults returns every parameter's default as a string (numbers
// without a fraction print as integers). Parameters without a default are
// left out.
func ParameterDefaults(tpl *cloudformation.Template) map[string]string {
	out := map[string]string{}
	for name, p := range tpl.Parameters {
		if p.Default == nil {
			continue
		}
		out[name] = scalarString(p.Default)
	}
	return out
}

func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int:
		return strconv.Itoa(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = scalarString(e)
		}
		return strings.Join(parts, ",")
	default:
		return fmt.Sprint(x)
	}
}

// Intrinsic handlers that keep references recognisable (see the package doc).

func refHandler(_ string, input any, _ any) any {
	name, ok := input.(string)
	if !ok {
		return nil
	}
	if name == "AWS::NoValue" {
		return nil
	}
	return Ref(name)
}

func getAttHandler(_ string, input any, _ any) any {
	switch v := input.(type) {
	case string: // short form: !GetAtt Resource.Attribute
		return "${" + v + "}"
	case []any: // long form: Fn::GetAtt: [Resource, Attribute]
		parts := make([]string, 0, len(v))
		for _, p := range v {
			s, ok := p.(string)
			if !ok {
				return nil
			}
			parts = append(parts, s)
		}
		return "${" + strings.Join(parts, ".") + "}"
	}
	return nil
}

func subHandler(_ string, input any, _ any) any {
	switch v := input.(type) {
	case string:
		return v
	case []any:
		if len(v) != 2 {
			return nil
		}
		src, ok := v[0].(string)
		if !ok {
			return nil
		}
		vars, _ := v[1].(map[string]any)
		for name, val := range vars {
			if s, ok := val.(string); ok {
				src = strings.ReplaceAll(src, "${"+name+"}", s)
			}
		}
		return src
	}
	return nil
}

func importValueHandler(_ string, input any, _ any) any {
	if s, ok := input.(string); ok {
		return "${Fn::ImportValue:" + s + "}"
	}
	return nil
}

// keepHandler leaves a condition function (or Split and Join) as written,
// in long form ({"Fn::Equals": [...]}). goformation would evaluate it, but
// against placeholders instead of the deployed values, so the answer would
// be wrong: `!Equals [!Ref P, ""]` would be false whatever P is, and a
// Split of a parameter would split "${P}".
func keepHandler(name string, input any, _ any) any {
	return map[string]any{name: input}
}

// joinHandler joins a list of strings as CloudFormation does, and keeps a
// Join whose list is itself a function (which only the deployment decides).
func joinHandler(name string, input any, _ any) any {
	args, ok := input.([]any)
	if !ok || len(args) != 2 {
		return nil
	}
	delim, ok := args[0].(string)
	if !ok {
		return nil
	}
	list, ok := args[1].([]any)
	if !ok {
		return keepHandler(name, input, nil)
	}
	parts := make([]string, 0, len(list))
	for _, p := range list {
		s, ok := p.(string)
		if !ok {
			return keepHandler(name, input, nil)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, delim)
}

var options = &intrinsics.ProcessorOptions{
	IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{
		"Ref":             refHandler,
		"Fn::GetAtt":      getAttHandler,
		"Fn::Sub":         subHandler,
		"Fn::ImportValue": importValueHandler,
		"Fn::If":          keepHandler,
		"Fn::Equals":      keepHandler,
		"Fn::Not":         keepHandler,
		"Fn::And":         keepHandler,
		"Fn::Or":          keepHandler,
		"Fn::Split":       keepHandler,
		"Fn::Join":        joinHandler,
	},
}

// goformation registers its YAML tag resolvers in a package-level map on
// every ProcessYAML call, which races when two templates load at once.
var processMu sync.Mutex

func process(data []byte, isJSON bool) (map[string]any, error) {
	processMu.Lock()
	var out []byte
	var err error
	if isJSON {
		out, err = intrinsics.ProcessJSON(data, options)
	} else {
		out, err = intrinsics.ProcessYAML(data, options)
	}
	processMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("samtemplate: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, fmt.Errorf("samtemplate: %w", err)
	}
	if doc == nil {
		return nil, errors.New("samtemplate: the template is empty")
	}
	dropNulls(doc)
	return doc, nil
}

// dropNulls removes null map values and list elements, as CloudFormation
// does with AWS::NoValue (which the Ref handler turns into null).
func dropNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
			} else {
				x[k] = dropNulls(e)
			}
		}
	case []any:
		out := x[:0]
		for _, e := range x {
			if e != nil {
				out = append(out, dropNulls(e))
			}
		}
		return out
	}
	return v
}

func read(path string) ([]byte, bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false, fmt.Errorf("samtemplate: %w", err)
	}
	return data, strings.HasSuffix(path, ".json"), nil
}

// Load reads a SAM/CloudFormation template (YAML, or JSON if the name ends in
// .json) into goformation's typed model, with intrinsics rendered as described
// in the package doc and Globals merged into the resources (tpl.Globals is
// left empty).
func Load(path string) (*cloudformation.Template, error) {
	data, isJSON, err := read(path)
	if err != nil {
		return nil, err
	}
	return parse(data, isJSON, path)
}

// Parse is Load for a YAML (or JSON, which is YAML too) template in memory.
func Parse(data []byte) (*cloudformation.Template, error) {
	return parse(data, false, "template")
}

// LoadRaw reads the template as plain data: maps, lists, strings, float64
// numbers and booleans, with short-form tags (!Ref, !Sub, !GetAtt, ...)
// rendered as plain strings exactly as Load renders them. Nothing is dropped
// or merged, so properties goformation does not model (LoggingConfig, an SQS
// event's FunctionResponseTypes) can be checked here; RawProperties merges
// Globals for one resource.
func LoadRaw(path string) (map[string]any, error) {
	data, isJSON, err := read(path)
	if err != nil {
		return nil, err
	}
	return process(data, isJSON)
}

// ParseRaw is LoadRaw for a YAML template in memory.
func ParseRaw(data []byte) (map[string]any, error) {
	return process(data, false)
}

func parse(data []byte, isJSON bool, name string) (*cloudformation.Template, error) {
	doc, err := process(data, isJSON)
	if err != nil {
		return nil, err
	}
	tpl, err := decode(doc)
	if err != nil {
		return nil, fmt.Errorf("samtemplate: %s: %w", name, err)
	}
	return tpl, nil
}

// unmodelled lists properties that SAM or CloudFormation accept but
// goformation v7's types do not have. goformation decodes resources with
// DisallowUnknownFields, so they are dropped from the typed view (LoadRaw
// still has them). Any other unknown property is an error.
var unmodelled = map[string][]string{
	"AWS::Serverless::Function": {
		"LoggingConfig", "RuntimeManagementConfig", "SnapStart", "RecursiveLoop",
		"PropagateTags", "RolePath", "AutoPublishAliasAllProperties", "SourceKMSKeyArn",
	},
	"AWS::Serverless::HttpApi":      {"PropagateTags", "Name"},
	"AWS::Serverless::Api":          {"PropagateTags"},
	"AWS::Serverless::StateMachine": {"PropagateTags"},
}

// unmodelledEvent lists, per event Type, properties of an
// AWS::Serverless::Function event that goformation's event types lack. Its
// event union decodes each candidate type strictly and keeps none when every
// one rejects a key, so an SQS event with FunctionResponseTypes would decode
// as empty; dropping these keeps the rest of the event (Queue, BatchSize).
var unmodelledEvent = map[string][]string{
	"SQS": {
		"FunctionResponseTypes", "FilterCriteria", "KmsKeyArn", "MaximumBatchingWindowInSeconds",
		"ScalingConfig", "MetricsConfig", "ProvisionedPollerConfig",
	},
	"Schedule": {"RetryPolicy", "DeadLetterConfig", "State"},
}

// globalSections maps a Globals section to the resource type it applies to.
var globalSections = map[string]string{
	"Function":     "AWS::Serverless::Function",
	"Api":          "AWS::Serverless::Api",
	"HttpApi":      "AWS::Serverless::HttpApi",
	"SimpleTable":  "AWS::Serverless::SimpleTable",
	"StateMachine": "AWS::Serverless::StateMachine",
	"LayerVersion": "AWS::Serverless::LayerVersion",
}

func decode(doc map[string]any) (*cloudformation.Template, error) {
	resources, _ := doc["Resources"].(map[string]any)
	globals, _ := doc["Globals"].(map[string]any)
	params, _ := doc["Parameters"].(map[string]any)

	rest := make(map[string]any, len(doc))
	for k, v := range doc {
		if k != "Resources" && k != "Globals" {
			rest[k] = v
		}
	}
	b, err := json.Marshal(rest)
	if err != nil {
		return nil, err
	}
	tpl := cloudformation.NewTemplate()
	if err := json.Unmarshal(b, tpl); err != nil {
		return nil, err
	}

	known := cloudformation.AllResources()
	ids := make([]string, 0, len(resources))
	for id := range resources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		res, err := decodeResource(id, resources[id], globals, params, known)
		if err != nil {
			return nil, err
		}
		tpl.Resources[id] = res
	}
	return tpl, nil
}

func decodeResource(id string, raw any, globals, params map[string]any, known map[string]cloudformation.Resource) (cloudformation.Resource, error) {
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("resource %s is not a mapping", id)
	}
	typ, _ := m["Type"].(string)
	if typ == "" {
		return nil, fmt.Errorf("resource %s has no Type", id)
	}
	m = mergeGlobals(m, typ, globals)
	if props, ok := m["Properties"].(map[string]any); ok {
		for _, p := range unmodelled[typ] {
			delete(props, p)
		}
		// A property chosen by a condition (CorsConfiguration: !If [...])
		// has no typed value until the condition is decided at deploy
		// time; LoadRaw keeps it.
		for k, v := range props {
			if c, ok := v.(map[string]any); ok && len(c) == 1 && c["Fn::If"] != nil {
				delete(props, k)
			}
		}
		if typ == "AWS::Serverless::Function" {
			events, _ := props["Events"].(map[string]any)
			for _, ev := range events {
				ev, _ := ev.(map[string]any)
				evType, _ := ev["Type"].(string)
				evProps, _ := ev["Properties"].(map[string]any)
				for _, p := range unmodelledEvent[evType] {
					delete(evProps, p)
				}
			}
		}
	}

	var res cloudformation.Resource
	if proto, ok := known[typ]; ok && !strings.HasPrefix(typ, "Custom::") {
		// A fresh value per resource: the prototype is shared, and decoding
		// two functions into it would merge their maps (environments,
		// events) into one.
		res = reflect.New(reflect.TypeOf(proto).Elem()).Interface().(cloudformation.Resource)
		if props, ok := m["Properties"].(map[string]any); ok {
			if err := coerceStruct(props, reflect.TypeOf(proto).Elem(), params, id); err != nil {
				return nil, err
			}
		}
	} else {
		// Custom resources, and types newer than goformation: kept untyped.
		res = &cloudformation.CustomResource{Type: typ}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, res); err != nil {
		return nil, fmt.Errorf("resource %s (%s): %w", id, typ, err)
	}
	return res, nil
}

// mergeGlobals returns the resource with the matching Globals section merged
// into its Properties, following SAM: maps merge key by key (the resource
// wins), lists are concatenated (globals first), other values are replaced.
func mergeGlobals(res map[string]any, typ string, globals map[string]any) map[string]any {
	for section, t := range globalSections {
		if t != typ {
			continue
		}
		g, ok := globals[section].(map[string]any)
		if !ok || len(g) == 0 {
			return res
		}
		out := make(map[string]any, len(res))
		for k, v := range res {
			out[k] = v
		}
		props, _ := res["Properties"].(map[string]any)
		out["Properties"] = mergeValue(g, props)
		return out
	}
	return res
}

// mergeValue merges a Globals value with a resource's own (SAM's rules).
func mergeValue(global, local any) any {
	switch g := global.(type) {
	case map[string]any:
		l, ok := local.(map[string]any)
		if !ok {
			if local == nil {
				return deepCopy(g)
			}
			return local
		}
		out := deepCopy(g).(map[string]any)
		for k, v := range l {
			if gv, ok := out[k]; ok {
				out[k] = mergeValue(gv, v)
			} else {
				out[k] = v
			}
		}
		return out
	case []any:
		l, ok := local.([]any)
		if !ok {
			if local == nil {
				return deepCopy(g)
			}
			return local
		}
		return append(deepCopy(g).([]any), l...)
	}
	if local == nil {
		return global
	}
	return local
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

var unmarshalerType = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()

// coerceStruct walks properties alongside goformation's Go type and turns
// strings in numeric and boolean fields into numbers and booleans: "128"
// becomes 128, and a Ref placeholder to a parameter becomes that parameter's
// default. goformation's unions (types with their own UnmarshalJSON) are not
// entered.
func coerceStruct(props map[string]any, t reflect.Type, params map[string]any, path string) error {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		v, ok := props[name]
		if !ok {
			continue
		}
		nv, err := coerceValue(v, f.Type, params, path+"."+name)
		if err != nil {
			return err
		}
		props[name] = nv
	}
	return nil
}

func coerceValue(v any, t reflect.Type, params map[string]any, path string) (any, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return v, nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if m, ok := v.(map[string]any); ok {
			return v, coerceStruct(m, t, params, path)
		}
	case reflect.Slice:
		if l, ok := v.([]any); ok {
			for i := range l {
				nv, err := coerceValue(l[i], t.Elem(), params, fmt.Sprintf("%s[%d]", path, i))
				if err != nil {
					return nil, err
				}
				l[i] = nv
			}
		}
	case reflect.Map:
		if m, ok := v.(map[string]any); ok {
			for k, e := range m {
				nv, err := coerceValue(e, t.Elem(), params, path+"."+k)
				if err != nil {
					return nil, err
				}
				m[k] = nv
			}
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return parseScalar(v, params, path, "a number", func(s string) (float64, error) { return strconv.ParseFloat(s, 64) })
	case reflect.Bool:
		return parseScalar(v, params, path, "a boolean", strconv.ParseBool)
	}
	return v, nil
}

// parseScalar turns a string where the type wants a number or a boolean (a
// Ref to a parameter, or the value written as a string) into that type with
// parse; what names the type in the error. Anything else is left as it is.
func parseScalar[T any](v any, params map[string]any, path, what string, parse func(string) (T, error)) (any, error) {
	s, ok := v.(string)
	if !ok {
		return v, nil
	}
	s, err := scalarFor(s, params, path)
	if err != nil {
		return nil, err
	}
	x, err := parse(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("%s: %q is not %s", path, s, what)
	}
	return x, nil
}

// scalarFor resolves a Ref placeholder to its parameter's default.
func scalarFor(s string, params map[string]any, path string) (string, error) {
	if !placeholder.MatchString(s) {
		return s, nil
	}
	name, ok := RefName(s)
	if !ok {
		return "", fmt.Errorf("%s: %s cannot be given a value here", path, s)
	}
	p, _ := params[name].(map[string]any)
	def, ok := p["Default"]
	if !ok {
		return "", fmt.Errorf("%s: parameter %s has no default to stand in for it", path, name)
	}
	return scalarString(def), nil
}

// Table returns the AWS::DynamoDB::Table with the given logical id.
func Table(tpl *cloudformation.Template, logicalID string) (*cfndynamodb.Table, error) {
	t, err := tpl.GetDynamoDBTableWithName(logicalID)
	if err != nil {
		return nil, fmt.Errorf("samtemplate: %w", err)
	}
	return t, nil
}

// TableInput converts the template's table into the CreateTable request that
// makes the same table: attribute definitions, key schema, indexes with their
// projections, billing mode, SSE, streams, table class, deletion protection
// and tags. The table is named after its logical id unless TableName is set.
// TTL and point-in-time recovery are not part of CreateTable (see
// TTLAttribute).
func TableInput(tpl *cloudformation.Template, logicalID string) (*awsdynamodb.CreateTableInput, error) {
	t, err := Table(tpl, logicalID)
	if err != nil {
		return nil, err
	}
	fail := func(format string, args ...any) (*awsdynamodb.CreateTableInput, error) {
		return nil, fmt.Errorf("samtemplate: table %s: "+format, append([]any{logicalID}, args...)...)
	}

	name := logicalID
	if t.TableName != nil {
		name = *t.TableName
	}
	if placeholder.MatchString(name) {
		return fail("TableName %q depends on the stack; leave it unset", name)
	}
	if t.ImportSourceSpecification != nil {
		return fail("ImportSourceSpecification cannot be reproduced with CreateTable")
	}
	in := &awsdynamodb.CreateTableInput{TableName: aws.String(name)}

	for _, a := range t.AttributeDefinitions {
		at := types.ScalarAttributeType(a.AttributeType)
		if !oneOf(at, at.Values()) {
			return fail("attribute %s has type %q", a.AttributeName, a.AttributeType)
		}
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(a.AttributeName), AttributeType: at,
		})
	}
	if in.KeySchema, err = keySchema(t.KeySchema); err != nil {
		return fail("%v", err)
	}

	billing := types.BillingModeProvisioned // CloudFormation's default
	if t.BillingMode != nil {
		billing = types.BillingMode(*t.BillingMode)
	}
	if !oneOf(billing, billing.Values()) {
		return fail("BillingMode %q", billing)
	}
	in.BillingMode = billing
	throughput := func(p *cfndynamodb.Table_ProvisionedThroughput, what string) (*types.ProvisionedThroughput, error) {
		if billing != types.BillingModeProvisioned {
			if p != nil {
				return nil, fmt.Errorf("%s has ProvisionedThroughput with BillingMode %s", what, billing)
			}
			return nil, nil
		}
		if p == nil {
			return nil, fmt.Errorf("%s needs ProvisionedThroughput with BillingMode PROVISIONED", what)
		}
		return &types.ProvisionedThroughput{
			ReadCapacityUnits:  aws.Int64(int64(p.ReadCapacityUnits)),
			WriteCapacityUnits: aws.Int64(int64(p.WriteCapacityUnits)),
		}, nil
	}
	if in.ProvisionedThroughput, err = throughput(t.ProvisionedThroughput, "the table"); err != nil {
		return fail("%v", err)
	}

	for _, g := range t.GlobalSecondaryIndexes {
		ks, p, err := indexKeys(g.KeySchema, g.Projection)
		if err != nil {
			return fail("index %s: %v", g.IndexName, err)
		}
		pt, err := throughput(g.ProvisionedThroughput, "index "+g.IndexName)
		if err != nil {
			return fail("%v", err)
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName: aws.String(g.IndexName), KeySchema: ks, Projection: p, ProvisionedThroughput: pt,
		})
	}
	for _, l := range t.LocalSecondaryIndexes {
		ks, p, err := indexKeys(l.KeySchema, l.Projection)
		if err != nil {
			return fail("index %s: %v", l.IndexName, err)
		}
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, types.LocalSecondaryIndex{
			IndexName: aws.String(l.IndexName), KeySchema: ks, Projection: p,
		})
	}

	if s := t.SSESpecification; s != nil {
		sse := &types.SSESpecification{Enabled: aws.Bool(s.SSEEnabled)}
		if s.SSEType != nil {
			sse.SSEType = types.SSEType(*s.SSEType)
		}
		sse.KMSMasterKeyId = s.KMSMasterKeyId
		in.SSESpecification = sse
	}
	if s := t.StreamSpecification; s != nil {
		in.StreamSpecification = &types.StreamSpecification{
			StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewType(s.StreamViewType),
		}
	}
	if t.TableClass != nil {
		in.TableClass = types.TableClass(*t.TableClass)
	}
	in.DeletionProtectionEnabled = t.DeletionProtectionEnabled
	for _, tag := range t.Tags {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(tag.Key), Value: aws.String(tag.Value)})
	}
	return in, nil
}

// indexKeys converts an index's key schema and projection.
func indexKeys(ks []cfndynamodb.Table_KeySchema, p *cfndynamodb.Table_Projection) ([]types.KeySchemaElement, *types.Projection, error) {
	keys, err := keySchema(ks)
	if err != nil {
		return nil, nil, err
	}
	proj, err := projection(p)
	return keys, proj, err
}

func keySchema(ks []cfndynamodb.Table_KeySchema) ([]types.KeySchemaElement, error) {
	if len(ks) == 0 {
		return nil, errors.New("empty KeySchema")
	}
	out := make([]types.KeySchemaElement, 0, len(ks))
	for _, k := range ks {
		kt := types.KeyType(k.KeyType)
		if !oneOf(kt, kt.Values()) {
			return nil, fmt.Errorf("key %s has KeyType %q", k.AttributeName, k.KeyType)
		}
		out = append(out, types.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: kt})
	}
	return out, nil
}

func projection(p *cfndynamodb.Table_Projection) (*types.Projection, error) {
	if p == nil {
		return nil, errors.New("no Projection")
	}
	out := &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly} // CloudFormation's default
	if p.ProjectionType != nil {
		out.ProjectionType = types.ProjectionType(*p.ProjectionType)
	}
	if !oneOf(out.ProjectionType, out.ProjectionType.Values()) {
		return nil, fmt.Errorf("ProjectionType %q", out.ProjectionType)
	}
	if len(p.NonKeyAttributes) > 0 {
		if out.ProjectionType != types.ProjectionTypeInclude {
			return nil, fmt.Errorf("NonKeyAttributes with ProjectionType %s", out.ProjectionType)
		}
		out.NonKeyAttributes = append([]string(nil), p.NonKeyAttributes...)
	}
	return out, nil
}

func oneOf[T comparable](v T, values []T) bool {
	for _, x := range values {
		if v == x {
			return true
		}
	}
	return false
}

// TTLAttribute returns the table's TTL attribute name; it is an error if the
// table has no TTL or has it disabled.
func TTLAttribute(tpl *cloudformation.Template, logicalID string) (string, error) {
	t, err := Table(tpl, logicalID)
	if err != nil {
		return "", err
	}
	ttl := t.TimeToLiveSpecification
	if ttl == nil || !ttl.Enabled || ttl.AttributeName == nil || *ttl.AttributeName == "" {
		return "", fmt.Errorf("samtemplate: table %s has no enabled TimeToLiveSpecification", logicalID)
	}
	return *ttl.AttributeName, nil
}

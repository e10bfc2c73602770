package samtemplate

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Bucket is an AWS::S3::Bucket of the template (and its bucket policy) as
// the S3 API sets it up: what CloudFormation makes of the properties, one
// S3 call each, so that a local stack can create the bucket the template
// declares and a stricter implementation (moto) can judge every document.
type Bucket struct {
	Name              string
	PublicAccessBlock *s3types.PublicAccessBlockConfiguration
	Ownership         *s3types.OwnershipControls
	Encryption        *s3types.ServerSideEncryptionConfiguration
	Lifecycle         *s3types.BucketLifecycleConfiguration
	// CORS is nil when no origins were given (the template's condition
	// leaves the rule out then).
	CORS *s3types.CORSConfiguration
	// Policy is the bucket policy as JSON, with the bucket's name and ARN
	// (partition aws) filled in; empty when the template has none.
	Policy string
}

// BucketSetup converts the bucket with the given logical id, to be created
// as name. The CORS rule's origins, which the template takes from a
// parameter (UploadOrigins or AllowedOrigins), are origins. Properties this
// package does not convert are an error, so nothing is left out unseen.
func BucketSetup(raw map[string]any, logicalID, name string, origins []string) (*Bucket, error) {
	props, err := RawProperties(raw, logicalID)
	if err != nil {
		return nil, err
	}
	if typ, _ := Lookup(raw, "Resources", logicalID, "Type"); typ != "AWS::S3::Bucket" {
		return nil, fmt.Errorf("samtemplate: %s is a %v, not an AWS::S3::Bucket", logicalID, typ)
	}
	fail := func(format string, args ...any) (*Bucket, error) {
		return nil, fmt.Errorf("samtemplate: bucket %s: "+format, append([]any{logicalID}, args...)...)
	}
	b := &Bucket{Name: name}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := props[k]
		switch k {
		case "PublicAccessBlockConfiguration":
			b.PublicAccessBlock = &s3types.PublicAccessBlockConfiguration{
				BlockPublicAcls:       boolAt(v, "BlockPublicAcls"),
				BlockPublicPolicy:     boolAt(v, "BlockPublicPolicy"),
				IgnorePublicAcls:      boolAt(v, "IgnorePublicAcls"),
				RestrictPublicBuckets: boolAt(v, "RestrictPublicBuckets"),
			}
		case "OwnershipControls":
			rules, _ := Lookup(v, "Rules")
			b.Ownership = &s3types.OwnershipControls{}
			for _, r := range list(rules) {
				o, _ := Lookup(r, "ObjectOwnership")
				b.Ownership.Rules = append(b.Ownership.Rules, s3types.OwnershipControlsRule{ObjectOwnership: s3types.ObjectOwnership(fmt.Sprint(o))})
			}
		case "BucketEncryption":
			rules, _ := Lookup(v, "ServerSideEncryptionConfiguration")
			b.Encryption = &s3types.ServerSideEncryptionConfiguration{}
			for _, r := range list(rules) {
				alg, _ := Lookup(r, "ServerSideEncryptionByDefault", "SSEAlgorithm")
				rule := s3types.ServerSideEncryptionRule{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryption(fmt.Sprint(alg))}}
				if key, ok := Lookup(r, "ServerSideEncryptionByDefault", "KMSMasterKeyID"); ok {
					rule.ApplyServerSideEncryptionByDefault.KMSMasterKeyID = aws.String(fmt.Sprint(key))
				}
				if _, ok := Lookup(r, "BucketKeyEnabled"); ok {
					rule.BucketKeyEnabled = boolAt(r, "BucketKeyEnabled")
				}
				b.Encryption.Rules = append(b.Encryption.Rules, rule)
			}
		case "LifecycleConfiguration":
			rules, _ := Lookup(v, "Rules")
			b.Lifecycle = &s3types.BucketLifecycleConfiguration{}
			for i, r := range list(rules) {
				rule, err := lifecycleRule(r)
				if err != nil {
					return fail("lifecycle rule %d: %v", i, err)
				}
				b.Lifecycle.Rules = append(b.Lifecycle.Rules, rule)
			}
		case "CorsConfiguration":
			// !If [condition, configuration, AWS::NoValue]: the condition is
			// "some origins are configured".
			cfg := v
			if branches, ok := Lookup(v, "Fn::If"); ok {
				cfg, _ = Lookup(branches, "1")
			}
			if len(origins) == 0 {
				continue
			}
			rules, _ := Lookup(cfg, "CorsRules")
			b.CORS = &s3types.CORSConfiguration{}
			for _, r := range list(rules) {
				rule := s3types.CORSRule{AllowedOrigins: origins}
				if id, ok := Lookup(r, "Id"); ok {
					rule.ID = aws.String(fmt.Sprint(id))
				}
				m, _ := Lookup(r, "AllowedMethods")
				h, _ := Lookup(r, "AllowedHeaders")
				e, _ := Lookup(r, "ExposedHeaders")
				rule.AllowedMethods, rule.AllowedHeaders, rule.ExposeHeaders = stringList(m), stringList(h), stringList(e)
				if age, ok := Lookup(r, "MaxAge"); ok {
					rule.MaxAgeSeconds = aws.Int32(int32(Number(age)))
				}
				b.CORS.CORSRules = append(b.CORS.CORSRules, rule)
			}
		default:
			return fail("property %s is not converted (add it to samtemplate.BucketSetup)", k)
		}
	}
	resources, _ := raw["Resources"].(map[string]any)
	for id, res := range resources {
		if typ, _ := Lookup(res, "Type"); typ != "AWS::S3::BucketPolicy" {
			continue
		}
		if on, _ := Lookup(res, "Properties", "Bucket"); on != Ref(logicalID) {
			continue
		}
		doc, _ := Lookup(res, "Properties", "PolicyDocument")
		data, err := json.Marshal(doc)
		if err != nil {
			return nil, err
		}
		arn := "arn:aws:s3:::" + name
		policy, err := Substitute(string(data), map[string]string{
			logicalID + ".Arn": arn, logicalID: name, "AWS::Partition": "aws",
		})
		if err != nil {
			return fail("policy %s: %v", id, err)
		}
		b.Policy = policy
	}
	return b, nil
}

func lifecycleRule(r any) (s3types.LifecycleRule, error) {
	m, ok := r.(map[string]any)
	if !ok {
		return s3types.LifecycleRule{}, fmt.Errorf("not a mapping")
	}
	rule := s3types.LifecycleRule{Filter: &s3types.LifecycleRuleFilter{}}
	var prefix *string
	var tags []s3types.Tag
	for k, v := range m {
		switch k {
		case "Id":
			rule.ID = aws.String(fmt.Sprint(v))
		case "Status":
			rule.Status = s3types.ExpirationStatus(fmt.Sprint(v))
		case "Prefix":
			prefix = aws.String(fmt.Sprint(v))
		case "TagFilters":
			for _, t := range list(v) {
				key, _ := Lookup(t, "Key")
				val, _ := Lookup(t, "Value")
				tags = append(tags, s3types.Tag{Key: aws.String(fmt.Sprint(key)), Value: aws.String(fmt.Sprint(val))})
			}
		case "ExpirationInDays":
			rule.Expiration = &s3types.LifecycleExpiration{Days: aws.Int32(int32(Number(v)))}
		case "AbortIncompleteMultipartUpload":
			d, _ := Lookup(v, "DaysAfterInitiation")
			rule.AbortIncompleteMultipartUpload = &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(int32(Number(d)))}
		default:
			return rule, fmt.Errorf("%s is not converted (add it to samtemplate.BucketSetup)", k)
		}
	}
	// What CloudFormation sends: a prefix, a tag, or both under And; no
	// filter at all is the whole bucket (an empty prefix).
	switch {
	case len(tags) == 0:
		rule.Filter.Prefix = aws.String(aws.ToString(prefix))
	case prefix == nil && len(tags) == 1:
		rule.Filter.Tag = &tags[0]
	default:
		rule.Filter.And = &s3types.LifecycleRuleAndOperator{Prefix: prefix, Tags: tags}
	}
	return rule, nil
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func boolAt(v any, key string) *bool {
	b, _ := Lookup(v, key)
	t, _ := b.(bool)
	return aws.Bool(t)
}

// Number is a template value as a number: a float64 as YAML and JSON
// decode it, or an int; 0 for anything else.
func Number(v any) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case int:
		return float64(n)
	}
	return 0
}

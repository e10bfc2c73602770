package samtemplate_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7/cloudformation/policies"

	"github.com/opt-e/kontakt/infra/harness/samtemplate"
	"github.com/opt-e/kontakt/internal/bucket"
	"github.com/opt-e/kontakt/internal/config"
)

const filesBucket = "FilesBucket"

// The contract with internal/bucket: each file is tagged
// kontakt-retention=<days> with one of these tiers (a form that takes files
// has one of them as retention_days), and a legal hold sets the tag to
// "held", which no lifecycle rule may match.
var (
	retentionTag   = bucket.RetentionTag
	retentionTiers = config.FileRetentionTiers
	heldValue      = bucket.TagHeld
)

func filesObjects(prefix string) string {
	return "arn:${AWS::Partition}:s3:::" + samtemplate.Ref(filesBucket) + "/" + prefix + "/*"
}

// Every function that touches files is told the bucket and may do exactly
// its adapter's actions, on objects under the prefixes it uses: never the
// bucket itself (no listing), never another prefix.
func TestFunctionsReachFilesOnly(t *testing.T) {
	tpl := load(t)
	for _, c := range []struct {
		fn       string
		actions  []string
		prefixes []string
	}{
		{submitFunction, []string{"s3:PutObject", "s3:PutObjectTagging", "s3:GetObject", "s3:GetObjectTagging", "s3:DeleteObject"}, []string{"files", "uploads"}},
		{redriveFunction, []string{"s3:GetObject", "s3:GetObjectTagging", "s3:PutObjectTagging"}, []string{"files"}},
		{eraseFunction, []string{"s3:DeleteObject"}, []string{"files"}},
	} {
		assertEnvValue(t, tpl, c.fn, config.EnvFilesBucket, samtemplate.Ref(filesBucket))
		var want []string
		for _, p := range c.prefixes {
			want = append(want, filesObjects(p))
		}
		for _, a := range c.actions {
			assertActionResources(t, tpl, c.fn, a, want)
		}
	}
}

func TestFilesBucket(t *testing.T) {
	raw := loadRaw(t)
	props := read(t, samtemplate.RawProperties, raw, filesBucket)
	for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
		if v, _ := samtemplate.Lookup(props, "PublicAccessBlockConfiguration", k); v != true {
			t.Errorf("PublicAccessBlockConfiguration.%s = %v, want true", k, v)
		}
	}
	if v, _ := samtemplate.Lookup(props, "OwnershipControls", "Rules", "0", "ObjectOwnership"); v != "BucketOwnerEnforced" {
		t.Errorf("ObjectOwnership = %v, want BucketOwnerEnforced (no ACLs)", v)
	}
	enc, _ := samtemplate.Lookup(props, "BucketEncryption", "ServerSideEncryptionConfiguration")
	if list, _ := enc.([]any); len(list) != 1 {
		t.Errorf("ServerSideEncryptionConfiguration = %v, want one rule", enc)
	}
	if v, _ := samtemplate.Lookup(enc, "0", "ServerSideEncryptionByDefault", "SSEAlgorithm"); v != "AES256" {
		t.Errorf("SSEAlgorithm = %v, want AES256", v)
	}
	// Erased files must not live on as noncurrent versions, in replicas or
	// under object lock.
	if v, ok := samtemplate.Lookup(props, "VersioningConfiguration", "Status"); ok && v != "Suspended" {
		t.Errorf("versioning is %v: a deleted file would stay as a noncurrent version", v)
	}
	for _, k := range []string{"ObjectLockEnabled", "ObjectLockConfiguration", "ReplicationConfiguration", "LoggingConfiguration", "BucketName"} {
		if v, ok := props[k]; ok {
			t.Errorf("%s = %v, want none", k, v)
		}
	}
	tpl := load(t)
	b, err := tpl.GetS3BucketWithName(filesBucket)
	if err != nil {
		t.Fatal(err)
	}
	// Not Retain: personal data must not outlive the stack by accident
	// (CloudFormation refuses to delete a bucket that holds files).
	if b.AWSCloudFormationDeletionPolicy != policies.DeletionPolicy("Delete") || b.AWSCloudFormationUpdateReplacePolicy != policies.UpdateReplacePolicy("Delete") {
		t.Errorf("DeletionPolicy %q, UpdateReplacePolicy %q, want Delete and Delete", b.AWSCloudFormationDeletionPolicy, b.AWSCloudFormationUpdateReplacePolicy)
	}
	if v, ok := tpl.Outputs["FilesBucketName"]; !ok || v.Value != samtemplate.Ref(filesBucket) {
		t.Errorf("output FilesBucketName = %v, want the bucket", v)
	}
}

// One expiry rule per retention tier, on files/ and that tier's tag only;
// uploads never posted and unfinished multipart uploads go after a day;
// nothing else expires a file, so a held one stays.
func TestFilesBucketLifecycle(t *testing.T) {
	props := read(t, samtemplate.RawProperties, loadRaw(t), filesBucket)
	rules, _ := samtemplate.Lookup(props, "LifecycleConfiguration", "Rules")
	list, _ := rules.([]any)
	tiers := map[int]bool{}
	var uploads, multipart bool
	for i, r := range list {
		id, _ := samtemplate.Lookup(r, "Id")
		where := fmt.Sprintf("rule %d (%v)", i, id)
		if s, _ := samtemplate.Lookup(r, "Status"); s != "Enabled" {
			t.Errorf("%s: Status %v", where, s)
		}
		if _, ok := samtemplate.Lookup(r, "Filter"); ok {
			t.Errorf("%s: use Prefix and TagFilters, which this test reads, not Filter", where)
		}
		prefix, _ := samtemplate.Lookup(r, "Prefix")
		tags, _ := samtemplate.Lookup(r, "TagFilters")
		tagList, _ := tags.([]any)
		days, expires := samtemplate.Lookup(r, "ExpirationInDays")
		abort, _ := samtemplate.Lookup(r, "AbortIncompleteMultipartUpload", "DaysAfterInitiation")
		for _, k := range []string{"ExpirationDate", "Transitions", "Transition", "NoncurrentVersionExpiration", "NoncurrentVersionExpirationInDays", "ObjectSizeGreaterThan", "ObjectSizeLessThan"} {
			if _, ok := samtemplate.Lookup(r, k); ok {
				t.Errorf("%s: unexpected %s", where, k)
			}
		}
		switch {
		case prefix == "files/" && expires:
			if len(tagList) != 1 {
				t.Errorf("%s: expires files/ with tags %v, want exactly one tier tag (anything else would expire held files)", where, tags)
				continue
			}
			k, _ := samtemplate.Lookup(tagList[0], "Key")
			v, _ := samtemplate.Lookup(tagList[0], "Value")
			if k != retentionTag || v != fmt.Sprint(days) || !slices.Contains(retentionTiers, int(samtemplate.Number(days))) {
				t.Errorf("%s: %v=%v expires after %v days, want %s=<tier> after <tier> days, tiers %v", where, k, v, days, retentionTag, retentionTiers)
				continue
			}
			if v == heldValue {
				t.Errorf("%s matches held files", where)
			}
			if tiers[int(samtemplate.Number(days))] {
				t.Errorf("%s: tier %v twice", where, days)
			}
			tiers[int(samtemplate.Number(days))] = true
		case prefix == "uploads/" && expires && tags == nil && abort == nil:
			if samtemplate.Number(days) != 1 {
				t.Errorf("%s: uploads expire after %v days, want 1", where, days)
			}
			uploads = true
		case prefix == nil && tags == nil && !expires && abort != nil:
			if samtemplate.Number(abort) != 1 {
				t.Errorf("%s: incomplete multipart uploads aborted after %v days, want 1", where, abort)
			}
			multipart = true
		default:
			t.Errorf("%s: prefix %v, tags %v, expiry %v, abort %v: not a rule this bucket should have", where, prefix, tags, days, abort)
		}
	}
	for _, d := range retentionTiers {
		if !tiers[d] {
			t.Errorf("no expiry rule for the %d-day tier", d)
		}
	}
	if !uploads {
		t.Error("no rule expires uploads/ after a day")
	}
	if !multipart {
		t.Error("no rule aborts incomplete multipart uploads after a day")
	}
}

// The bucket policy refuses every request without TLS, on the bucket and
// every object, and allows nothing.
func TestFilesBucketPolicy(t *testing.T) {
	stmts := read(t, samtemplate.BucketPolicyStatements, loadRaw(t), filesBucket)
	tlsOnly := false
	for _, s := range stmts {
		if s.Effect != "Deny" {
			t.Errorf("statement %q: Effect %s; the bucket policy only refuses (the functions' roles allow)", s.Sid, s.Effect)
			continue
		}
		v, ok := samtemplate.ConditionValue(s.Condition, "Bool", "aws:SecureTransport")
		if !ok || !reflect.DeepEqual(v, []string{"false"}) {
			continue
		}
		tlsOnly = reflect.DeepEqual(s.Principals["*"], []string{"*"}) &&
			reflect.DeepEqual(s.Actions, []string{"s3:*"}) &&
			reflect.DeepEqual(s.Resources, []string{samtemplate.GetAtt(filesBucket, "Arn"), samtemplate.GetAtt(filesBucket, "Arn") + "/*"})
		if !tlsOnly {
			t.Errorf("statement %q denies non-TLS requests to %v %v on %v, want everyone, s3:*, the bucket and its objects", s.Sid, s.Principals, s.Actions, s.Resources)
		}
	}
	if !tlsOnly {
		t.Error("no statement denies requests without TLS (aws:SecureTransport false)")
	}
}

// Direct uploads: browsers on the upload origins (UploadOrigins, or
// AllowedOrigins when it is empty) may PUT and POST; no rule at all when
// both are empty.
func TestFilesBucketCORS(t *testing.T) {
	raw := loadRaw(t)
	props := read(t, samtemplate.RawProperties, raw, filesBucket)
	branches, ok := samtemplate.Lookup(props, "CorsConfiguration", "Fn::If")
	list, _ := branches.([]any)
	if !ok || len(list) != 2 { // the AWS::NoValue branch is dropped by the loader
		t.Fatalf("CorsConfiguration = %v, want !If [condition, rules, AWS::NoValue]", props["CorsConfiguration"])
	}
	cond, _ := list[0].(string)
	def, _ := samtemplate.Lookup(raw, "Conditions", cond)
	if s := fmt.Sprint(def); !strings.Contains(s, samtemplate.Ref("UploadOrigins")) || !strings.Contains(s, samtemplate.Ref("AllowedOrigins")) {
		t.Errorf("condition %s = %s, want it to test UploadOrigins and AllowedOrigins", cond, s)
	}
	rules, _ := samtemplate.Lookup(list[1], "CorsRules")
	if rs, _ := rules.([]any); len(rs) != 1 {
		t.Fatalf("CorsRules = %v, want one rule", rules)
	}
	methods, _ := samtemplate.Lookup(rules, "0", "AllowedMethods")
	if fmt.Sprint(methods) != "[PUT POST]" {
		t.Errorf("AllowedMethods = %v, want [PUT POST]", methods)
	}
	origins, _ := samtemplate.Lookup(rules, "0", "AllowedOrigins")
	if s := fmt.Sprint(origins); !strings.Contains(s, samtemplate.Ref("UploadOrigins")) || !strings.Contains(s, samtemplate.Ref("AllowedOrigins")) || strings.Contains(s, "*") {
		t.Errorf("AllowedOrigins = %s, want UploadOrigins or else AllowedOrigins, no wildcard", s)
	}
}

// Malware scanning is off unless the operator turns it on; then GuardDuty
// scans files/ and tags each object with its verdict, which the download
// link reads, and both functions that email files are told.
func TestMalwareScanningIsOptional(t *testing.T) {
	raw := loadRaw(t)
	res, _ := samtemplate.Lookup(raw, "Resources")
	for _, id := range []string{"FilesMalwareProtectionPlan", "MalwareProtectionRole"} {
		if c, _ := samtemplate.Lookup(res, id, "Condition"); c != "ScanFiles" {
			t.Errorf("%s has condition %v, want ScanFiles (off by default)", id, c)
		}
	}
	if d, _ := samtemplate.Lookup(raw, "Parameters", "MalwareScanning", "Default"); d != "Off" {
		t.Errorf("MalwareScanning defaults to %v, want Off", d)
	}
	plan := read(t, samtemplate.RawProperties, raw, "FilesMalwareProtectionPlan")
	if v, _ := samtemplate.Lookup(plan, "ProtectedResource", "S3Bucket", "ObjectPrefixes", "0"); v != "files/" {
		t.Errorf("ObjectPrefixes = %v, want files/ only", v)
	}
	if v, _ := samtemplate.Lookup(plan, "Actions", "Tagging", "Status"); v != "ENABLED" {
		t.Errorf("tagging %v: the download link reads the verdict from the tag", v)
	}
	role := read(t, samtemplate.RawProperties, raw, "MalwareProtectionRole")
	if v, _ := samtemplate.Lookup(role, "AssumeRolePolicyDocument", "Statement", "0", "Principal", "Service"); v != "malware-protection-plan.guardduty.amazonaws.com" {
		t.Errorf("role trusts %v", v)
	}
	tpl := load(t)
	for _, fn := range []string{submitFunction, redriveFunction} {
		assertEnvValue(t, tpl, fn, config.EnvMalwareScan, samtemplate.Ref("MalwareScanning"))
	}
}

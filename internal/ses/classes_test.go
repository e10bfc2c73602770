package ses_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ses/types"

	"github.com/opt-e/kontakt/internal/ses"
)

// modeledErrorCodes reads the SES v1 SDK's types package, in the version
// go.mod pins, and returns every modeled error type with the code its
// ErrorCode method answers when SES sent that error. Parsing the source
// rather than listing the types here means a new error in an SDK update
// cannot be missed.
func modeledErrorCodes(t *testing.T) map[string]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-json", "github.com/aws/aws-sdk-go-v2/service/ses").Output()
	if err != nil {
		t.Fatalf("go list the SES module: %v", err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go list: no module directory in %s (%v)", out, err)
	}
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(mod.Dir, "types", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no source in %s/types: %v", mod.Dir, err)
	}
	codes := map[string]string{} // type name -> code
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Name.Name != "ErrorCode" || fn.Recv == nil || len(fn.Recv.List) != 1 {
				continue
			}
			star, ok := fn.Recv.List[0].Type.(*ast.StarExpr)
			if !ok {
				continue
			}
			typ := star.X.(*ast.Ident).Name
			// The generated method returns the override when one is set and
			// the modeled code otherwise: the code is its string literal.
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if code, err := strconv.Unquote(lit.Value); err == nil && code != "" {
						codes[typ] = code
					}
				}
				return true
			})
			if codes[typ] == "" {
				t.Fatalf("%s.ErrorCode: no code literal found; the generated code changed shape", typ)
			}
		}
	}
	return codes
}

func TestEveryModeledErrorHasAClass(t *testing.T) {
	codes := modeledErrorCodes(t)
	// The parse must see what the compiled package says, or the walk below
	// proves nothing.
	for typ, e := range map[string]interface{ ErrorCode() string }{
		"ConfigurationSetDoesNotExistException": &types.ConfigurationSetDoesNotExistException{},
		"MessageRejected":                       &types.MessageRejected{},
		"AccountSendingPausedException":         &types.AccountSendingPausedException{},
	} {
		if codes[typ] != e.ErrorCode() {
			t.Fatalf("parsed code of %s is %q, the SDK says %q", typ, codes[typ], e.ErrorCode())
		}
	}
	if len(codes) < 30 {
		t.Fatalf("found only %d modeled errors: %v", len(codes), codes)
	}
	names := make([]string, 0, len(codes))
	for typ := range codes {
		names = append(names, typ)
	}
	sort.Strings(names)
	for _, typ := range names {
		class, known := ses.ClassOf(codes[typ])
		if !known {
			t.Errorf("types.%s (code %q) has no class in package ses", typ, codes[typ])
			continue
		}
		t.Logf("%-50s %-45s %s", typ, codes[typ], class)
	}
}

// commonErrors are the errors every AWS query API may answer
// (docs.aws.amazon.com/ses/latest/APIReference/CommonErrors.html), and
// "Throttling", which SES answers for its sending quotas and the SDK does
// not model.
var commonErrors = []string{
	"AccessDenied", "AccessDeniedException", "IncompleteSignature", "InternalFailure", "InvalidAction",
	"InvalidClientTokenId", "InvalidParameterCombination", "InvalidParameterValue", "InvalidQueryParameter",
	"MalformedQueryString", "MissingAction", "MissingAuthenticationToken", "MissingParameter", "NotAuthorized",
	"OptInRequired", "RequestExpired", "ServiceUnavailable", "Throttling", "ThrottlingException", "ValidationError",
}

// A code in the table that SES never sends (a misspelling, the type name
// instead of the code, a v2 name) would classify nothing: every code must be
// a modeled or a common one.
func TestClassesNameOnlyRealCodes(t *testing.T) {
	real := map[string]bool{}
	for _, code := range modeledErrorCodes(t) {
		real[code] = true
	}
	for _, code := range commonErrors {
		real[code] = true
	}
	for code := range ses.Classes() {
		if !real[code] {
			t.Errorf("package ses classifies %q, which SES v1 does not answer", code)
		}
	}
	for _, code := range commonErrors {
		if _, known := ses.ClassOf(code); !known {
			t.Errorf("common error %q has no class", code)
		}
	}
}

// Each class means what the senders act on: permanent ones are given up
// (and alarmed) at once, throttling slows the redrive run down, the rest
// are retried.
func TestClassesDecideRetries(t *testing.T) {
	for _, tc := range []struct {
		code                 string
		permanent, throttled bool
	}{
		{"ConfigurationSetDoesNotExist", true, false},
		{"ConfigurationSetSendingPausedException", true, false},
		{"AccountSendingPausedException", true, false},
		{"MailFromDomainNotVerifiedException", true, false},
		{"MessageRejected", true, false},
		{"AccessDenied", true, false},
		{"Throttling", false, true},
		{"ServiceUnavailable", false, false},
		{"InternalFailure", false, false},
	} {
		class, _ := ses.ClassOf(tc.code)
		e := &ses.Error{Class: class}
		if e.Permanent() != tc.permanent || e.Throttled() != tc.throttled {
			t.Errorf("%s: class %q permanent %v throttled %v, want %v %v", tc.code, class, e.Permanent(), e.Throttled(), tc.permanent, tc.throttled)
		}
	}
}

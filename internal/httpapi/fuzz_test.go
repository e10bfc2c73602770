package httpapi

import (
	"github.com/opt-e/kontakt/internal/config"
	"testing"
	"unicode/utf8"
)

// FuzzParseBody: any body with any Content-Type either parses or is
// refused with a request error; it never panics, never yields more than one
// field past the limit, and a JSON body that parses keeps valid UTF-8.
// Seeds: testdata/fuzz/FuzzParseBody.
func FuzzParseBody(f *testing.F) {
	f.Add("application/json", []byte(`{"name":"Kari","email":"kari@example.no","message":"Hei!\nHilsen"}`))
	f.Add("application/x-www-form-urlencoded", []byte("name=Ola&_replyto=ola%40example.no&message=Hei%0D%0ABcc%3A+evil%40example.com"))
	f.Add("multipart/form-data; boundary=X", []byte("--X\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nHei\r\n--X--\r\n"))
	f.Add("text/plain", []byte("hei"))
	f.Add("multipart/form-data; boundary=X", []byte("--X\r\nContent-Disposition: form-data; name=\"cv\"; filename=\"../cv.pdf\"\r\n\r\n%PDF-1.7\r\n--X--\r\n"))
	const maxFields = 50
	// Every body is parsed as for a form that takes at most two files: the
	// file parts stop one past that, as the fields do.
	rules := &config.FileRules{Types: []string{"application/pdf"}, MaxFileBytes: 1 << 20, MaxTotalBytes: 1 << 20, MaxFiles: 2}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		fields, files, err := parseBody(contentType, string(body), maxFields, rules)
		if len(files) > rules.MaxFiles+1 {
			t.Fatalf("%d files, limit %d", len(files), rules.MaxFiles)
		}
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T %v is not a request error", err, err)
			}
			return
		}
		if len(fields) > maxFields+1 {
			t.Fatalf("%d fields, limit %d", len(fields), maxFields)
		}
		if ct := contentType; len(ct) >= 16 && ct[:16] == "application/json" {
			for _, fl := range fields {
				if !utf8.ValidString(fl.Name) || !utf8.ValidString(fl.Value) {
					t.Fatalf("invalid UTF-8 from a JSON body: %q", fl)
				}
			}
		}
	})
}

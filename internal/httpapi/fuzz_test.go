package httpapi

import (
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
	const maxFields = 50
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		fields, _, err := parseBody(contentType, string(body), maxFields, nil)
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

package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/opt-e/kontakt/internal/submission"
)

// referenceJSON is the straightforward reading of a JSON body with
// json.Decoder.Token that parseJSON replaced for speed; parseJSON must
// agree with it on every body.
func referenceJSON(body []byte, maxFields int) ([]submission.Field, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not an object")
	}
	var fields []submission.Field
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		value, err := referenceValue(dec)
		if err != nil {
			return nil, err
		}
		fields = append(fields, submission.Field{Name: tok.(string), Value: value})
		if len(fields) > maxFields {
			return fields, nil
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data")
	}
	return fields, nil
}

func referenceValue(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	if tok == json.Delim('[') {
		var parts []string
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return "", err
			}
			s, ok := referenceScalar(t)
			if !ok {
				return "", errors.New("nested")
			}
			parts = append(parts, s)
		}
		_, err := dec.Token()
		return strings.Join(parts, ", "), err
	}
	s, ok := referenceScalar(tok)
	if !ok {
		return "", errors.New("nested")
	}
	return s, nil
}

func referenceScalar(t json.Token) (string, bool) {
	switch v := t.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		if v {
			return "true", true
		}
		return "false", true
	case nil:
		return "", true
	}
	return "", false
}

var jsonBodies = []string{
	`{}`, ` { } `, "\t{\n}\r\n",
	`{"name":"Kari","email":"kari@example.no","message":"Hei!\nHvordan går det?"}`,
	`{"a":1,"b":-2.5e+3,"c":0,"d":1E2,"e":true,"f":false,"g":null}`,
	`{"topics":["a","b",3,true,null],"empty":[],"one":["x"]}`,
	`{"esc":"tab\tquote\"slash\/back\\uni\u00e5\u2028emoji\ud83d\ude00","lone":"\ud800x"}`,
	`{"k\u00e6y":"v","key with spaces":" v "}`,
	`{"dup":"1","dup":"2"}`,
	`{ "spaced" : "yes" , "list" : [ 1 , 2 ] }`,
	`{"nested":{"a":1}}`, `{"list":[[1]]}`, `{"list":[{"a":1}]}`,
	`["not","an","object"]`, `"string"`, `12`, `null`, ``, ` `,
	`{"a":"b"} {}`, `{"a":"b"}x`, `{"a":"b",}`, `{"a":}`, `{"a" "b"}`, `{"a":"\x"}`, `{'a':1}`,
	`{"a":01}`, `{"a":.5}`, `{"a":tru}`, `{"a":"b"`, `{"a":"unterminated}`,
	`{"a":-}`, `{"a":1.}`, `{"a":1e}`, `{"a":-0.0e-0}`, `{"a":[1,]}`, `{"a":[,1]}`, `{"a":"b",,"c":1}`,
	"{\"a\":\"raw\ttab\"}", `{"a":"\u00"}`, `{"a":"\ud83d\u0041"}`, `{"a":"\udc00\ud83d\ude00"}`, `{"a":"\"}`,
	`{"a":nul}`, `{"a":truex}`, `{"a":"b"}` + "\n\t ", `{"a":"x\/y"}`, `{"a":"\U0041"}`,
}

func TestParseJSONAgreesWithTheDecoder(t *testing.T) {
	for _, body := range jsonBodies {
		checkAgainstReference(t, body, 50)
	}
	many := `{` + strings.Repeat(`"f":"x",`, 60) + `"last":"y"}`
	checkAgainstReference(t, many, 50)
}

func FuzzParseJSON(f *testing.F) {
	for _, body := range jsonBodies {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		checkAgainstReference(t, body, 5)
	})
}

// checkAgainstReference: parseJSON accepts what the decoder accepts, with
// the same fields, refuses what it refuses, and never accepts a document
// that encoding/json calls invalid, except that both stop reading one field
// past the limit (validation then refuses the body for its field count).
func checkAgainstReference(t *testing.T, body string, maxFields int) {
	t.Helper()
	got, err := parseJSON(body, maxFields)
	var re *Error
	if err != nil && (!errors.As(err, &re) || refusals[re.Code].status != 400) {
		t.Errorf("%q: err = %v, want a 400 *Error", body, err)
	}
	if !utf8.ValidString(body) {
		if err == nil {
			t.Errorf("%q: invalid UTF-8 accepted", body)
		}
		return // the decoder would have replaced it with U+FFFD
	}
	want, wantErr := referenceJSON([]byte(body), maxFields)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("%q: err = %v, reference err = %v", body, err, wantErr)
	}
	if err == nil && !slices.Equal(got, want) {
		t.Errorf("%q:\n got %q\nwant %q", body, got, want)
	}
	if err == nil && !json.Valid([]byte(body)) && len(got) <= maxFields {
		t.Errorf("%q: invalid JSON accepted", body)
	}
}

func TestJSONErrorDetails(t *testing.T) {
	for body, want := range map[string]string{
		`{"a":"b"} {}`:     CodeMalformedJSON,
		`{"a":"b"`:         CodeMalformedJSON,
		`["a"]`:            CodeMalformedJSON,
		`{"a":{"b":"c"}}`:  CodeNestedValue,
		"{\"a\":\"\xff\"}": CodeMalformedJSON,
	} {
		_, err := parseJSON(body, 50)
		if err == nil || err.Error() != want {
			t.Errorf("%q: err = %v, want %q", body, err, want)
		}
	}
}

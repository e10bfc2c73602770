package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/opt-e/kontakt/internal/i18n"
	"github.com/opt-e/kontakt/internal/submission"
)

// requestError is a problem with the request as a whole, mapped once to a
// status code and a localised, user-safe message.
type requestError struct {
	status int
	key    i18n.Key
	limit  int
	// detail is English, for developers reading the JSON; it never echoes
	// submitted content.
	detail string
}

func (e *requestError) Error() string { return e.detail }

func malformed(detail string) *requestError {
	return &requestError{status: 400, key: i18n.Malformed, detail: detail}
}

// parseBody turns a JSON, urlencoded or multipart body into fields in the
// order they were sent. maxFields bounds the work done on a hostile body:
// parsing stops one field past the limit, which validation then refuses.
func parseBody(contentType string, body []byte, maxFields int) ([]submission.Field, error) {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if contentType == "" {
		return nil, &requestError{status: 415, key: i18n.Unsupported, detail: "missing Content-Type"}
	}
	if err != nil {
		return nil, &requestError{status: 415, key: i18n.Unsupported, detail: "unreadable Content-Type"}
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
		return nil, &requestError{status: 415, key: i18n.Unsupported, detail: "only the UTF-8 charset is accepted"}
	}
	switch {
	case mediaType == "application/json" || strings.HasSuffix(mediaType, "+json"):
		return parseJSON(body, maxFields)
	case mediaType == "application/x-www-form-urlencoded":
		return parseURLEncoded(body, maxFields)
	case mediaType == "multipart/form-data":
		return parseMultipart(body, params["boundary"], maxFields)
	}
	return nil, &requestError{status: 415, key: i18n.Unsupported, detail: "unsupported Content-Type " + mediaType}
}

func parseJSON(body []byte, maxFields int) ([]submission.Field, error) {
	// encoding/json would silently turn invalid UTF-8 into U+FFFD and so
	// change what the visitor sent; refuse it instead.
	if !utf8.Valid(body) {
		return nil, malformed("body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, malformed("body is not valid JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, malformed("body must be a JSON object of fields")
	}
	fields := make([]submission.Field, 0, 8)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, malformed("body is not valid JSON")
		}
		name := tok.(string) // object keys are always strings
		value, err := jsonValue(dec)
		if err != nil {
			return nil, err
		}
		fields = append(fields, submission.Field{Name: name, Value: value})
		if len(fields) > maxFields {
			return fields, nil
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, malformed("body is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed("unexpected data after the JSON object")
	}
	return fields, nil
}

// jsonValue reads one field value: text, number, true/false or null, or a
// list of those (checkbox groups), which is joined with ", ".
func jsonValue(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", malformed("body is not valid JSON")
	}
	if d, ok := tok.(json.Delim); ok {
		if d != '[' {
			return "", malformed("field values must be text, numbers, true/false or lists of them")
		}
		var parts []string
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return "", malformed("body is not valid JSON")
			}
			s, ok := scalar(t)
			if !ok {
				return "", malformed("field values must be text, numbers, true/false or lists of them")
			}
			parts = append(parts, s)
		}
		if _, err := dec.Token(); err != nil {
			return "", malformed("body is not valid JSON")
		}
		return strings.Join(parts, ", "), nil
	}
	s, _ := scalar(tok)
	return s, nil
}

func scalar(t json.Token) (string, bool) {
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

// parseURLEncoded keeps field order, which url.ParseQuery does not.
func parseURLEncoded(body []byte, maxFields int) ([]submission.Field, error) {
	s := string(body)
	fields := make([]submission.Field, 0, strings.Count(s, "&")+1)
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		name, err1 := url.QueryUnescape(k)
		value, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return nil, malformed("body has a broken %-escape")
		}
		fields = append(fields, submission.Field{Name: name, Value: value})
		if len(fields) > maxFields {
			break
		}
	}
	return fields, nil
}

var errFilePart = errors.New("file part")

func parseMultipart(body []byte, boundary string, maxFields int) ([]submission.Field, error) {
	if boundary == "" {
		return nil, malformed("multipart body without a boundary")
	}
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	var fields []submission.Field
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			return fields, nil
		}
		if err != nil {
			return nil, malformed("multipart body is broken")
		}
		if p.FileName() != "" {
			return nil, &requestError{status: 415, key: i18n.Unsupported, detail: fmt.Sprintf("file uploads are not accepted (%v)", errFilePart)}
		}
		name := p.FormName()
		if name == "" {
			return nil, malformed("multipart part without a field name")
		}
		value, err := io.ReadAll(p)
		if err != nil {
			return nil, malformed("multipart body is broken")
		}
		fields = append(fields, submission.Field{Name: name, Value: string(value)})
		if len(fields) > maxFields {
			return fields, nil
		}
	}
}

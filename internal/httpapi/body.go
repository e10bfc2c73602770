package httpapi

import (
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/submission"
	"github.com/opt-e/kontakt/internal/wordscan"
)

// parseBody turns a JSON, urlencoded or multipart body into fields in the
// order they were sent, and a multipart body's file parts into files when
// the form takes files (a file part on a form without rules is refused).
// maxFields bounds the work done on a hostile body: parsing stops one field
// past the limit, which validation then refuses; file parts stop one past
// the form's maximum count likewise.
func parseBody(contentType, body string, maxFields int, rules *config.FileRules) ([]submission.Field, []submission.File, error) {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if contentType == "" || err != nil {
		return nil, nil, refuse(CodeContentType)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
		return nil, nil, refuse(CodeCharset)
	}
	var fields []submission.Field
	switch {
	case mediaType == "application/json" || strings.HasSuffix(mediaType, "+json"):
		fields, err = parseJSON(body, maxFields)
	case mediaType == "application/x-www-form-urlencoded":
		fields, err = parseURLEncoded(body, maxFields)
	case mediaType == "multipart/form-data":
		return parseMultipart(body, params["boundary"], maxFields, rules)
	default:
		err = refuse(CodeContentType)
	}
	return fields, nil, err
}

// isMultipart reports whether contentType is a multipart form post, the
// one kind of body that may carry files.
func isMultipart(contentType string) bool {
	mediaType, _, _ := mime.ParseMediaType(contentType)
	return mediaType == "multipart/form-data"
}

// parseJSON reads a flat JSON object of fields in the order they were sent.
// It is a small validating reader for exactly what kontakt accepts rather
// than json.Decoder.Token, which keeps the order too but allocated about 60
// times per typical submission; json.Valid plus json.Unmarshal for escaped
// strings then still took a third of the handler's CPU
// (docs/performance.md). A fuzz test holds it to encoding/json's verdict and values.
func parseJSON(body string, maxFields int) ([]submission.Field, error) {
	// encoding/json would silently turn invalid UTF-8 into U+FFFD and so
	// change what the visitor sent; refuse it instead.
	if !utf8.ValidString(body) {
		return nil, errNotJSON
	}
	w := jsonReader{b: body}
	if w.skipSpace() != '{' {
		if json.Valid([]byte(body)) {
			return nil, errNotJSON
		}
		return nil, errNotJSON
	}
	w.i++
	fields := make([]submission.Field, 0, 8)
	c := w.skipSpace()
	for c != '}' {
		if c != '"' {
			return nil, errNotJSON
		}
		name, ok := w.str()
		if !ok || w.skipSpace() != ':' {
			return nil, errNotJSON
		}
		w.i++
		w.skipSpace()
		value, err := w.value()
		if err != nil {
			return nil, err
		}
		fields = append(fields, submission.Field{Name: name, Value: value})
		if len(fields) > maxFields {
			// Validation refuses the body for its field count; reading
			// the rest of a hostile body would be wasted work.
			return fields, nil
		}
		switch c = w.skipSpace(); c {
		case ',':
			w.i++
			if c = w.skipSpace(); c == '}' {
				return nil, errNotJSON // a trailing comma
			}
		case '}':
		default:
			return nil, errNotJSON
		}
	}
	w.i++
	if w.skipSpace(); w.i != len(w.b) {
		return nil, errNotJSON
	}
	return fields, nil
}

var (
	errNotJSON    = refuse(CodeMalformedJSON)
	errValueKind  = refuse(CodeNestedValue)
	jsonLiterals  = [...]string{'t': "true", 'f': "false", 'n': "null"}
	jsonUnescaped = [...]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}
)

// jsonReader reads a UTF-8 document (the caller checked that) byte by byte.
// Strings without escapes are returned as slices of the body, not copies.
type jsonReader struct {
	b string
	i int
}

// skipSpace skips JSON whitespace and returns the next byte, 0 at the end
// (or at a NUL byte, which is never valid there).
func (r *jsonReader) skipSpace() byte {
	for ; r.i < len(r.b); r.i++ {
		switch c := r.b[r.i]; c {
		case ' ', '\t', '\n', '\r':
		default:
			return c
		}
	}
	return 0
}

// value reads one field value: text, number, true/false or null, or a list
// of those (checkbox groups), which is joined with ", ".
func (r *jsonReader) value() (string, error) {
	switch r.peek() {
	case '{':
		return "", errValueKind
	case '[':
	default:
		if v, ok := r.scalar(); ok {
			return v, nil
		}
		return "", errNotJSON
	}
	r.i++
	var parts []string
	for c := r.skipSpace(); c != ']'; {
		if c == '[' || c == '{' {
			return "", errValueKind
		}
		v, ok := r.scalar()
		if !ok {
			return "", errNotJSON
		}
		parts = append(parts, v)
		switch c = r.skipSpace(); c {
		case ',':
			r.i++
			if c = r.skipSpace(); c == ']' {
				return "", errNotJSON
			}
		case ']':
		default:
			return "", errNotJSON
		}
	}
	r.i++
	return strings.Join(parts, ", "), nil
}

func (r *jsonReader) peek() byte {
	if r.i < len(r.b) {
		return r.b[r.i]
	}
	return 0
}

// scalar reads a string, a number (kept as written, like json.Number),
// true, false or null (""). ok is false for anything else.
func (r *jsonReader) scalar() (string, bool) {
	c := r.peek()
	switch {
	case c == '"':
		return r.str()
	case c == '-' || '0' <= c && c <= '9':
		return r.number()
	case int(c) < len(jsonLiterals) && jsonLiterals[c] != "":
		lit := jsonLiterals[c]
		if !strings.HasPrefix(r.b[r.i:], lit) {
			return "", false
		}
		r.i += len(lit)
		if lit == "null" {
			return "", true
		}
		return lit, true
	}
	return "", false
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?.
func (r *jsonReader) number() (string, bool) {
	start := r.i
	if r.peek() == '-' {
		r.i++
	}
	switch c := r.peek(); {
	case c == '0':
		r.i++
	case '1' <= c && c <= '9':
		r.digits()
	default:
		return "", false
	}
	if r.peek() == '.' {
		r.i++
		if r.digits() == 0 {
			return "", false
		}
	}
	if c := r.peek(); c == 'e' || c == 'E' {
		r.i++
		if c := r.peek(); c == '+' || c == '-' {
			r.i++
		}
		if r.digits() == 0 {
			return "", false
		}
	}
	return r.b[start:r.i], true
}

func (r *jsonReader) digits() int {
	start := r.i
	for r.i < len(r.b) && '0' <= r.b[r.i] && r.b[r.i] <= '9' {
		r.i++
	}
	return r.i - start
}

// str reads a string at its opening quote. Most have no escapes and are a
// slice of the body; escapes decode as encoding/json decodes them, unpaired
// surrogates becoming U+FFFD.
func (r *jsonReader) str() (string, bool) {
	r.i++
	start := r.i
	escapes := false
	for ; r.i < len(r.b); r.i++ {
		r.i += wordscan.Clean(r.b[r.i:], '"', '\\') // the words with nothing to see
		if r.i == len(r.b) {
			break
		}
		switch c := r.b[r.i]; {
		case c == '"':
			r.i++
			if !escapes {
				return r.b[start : r.i-1], true
			}
			return unescape(r.b[start : r.i-1])
		case c == '\\':
			escapes = true
			r.i++ // the escaped byte cannot end the string
		case c < 0x20:
			return "", false // control characters must be escaped
		}
	}
	return "", false
}

// unescape decodes the inside of a string; the result is never longer.
func unescape(in string) (string, bool) {
	var out strings.Builder
	out.Grow(len(in))
	for i := 0; i < len(in); {
		c := in[i]
		if c != '\\' {
			j := i + 1
			for j < len(in) && in[j] != '\\' {
				j++
			}
			out.WriteString(in[i:j])
			i = j
			continue
		}
		if i+1 >= len(in) {
			return "", false
		}
		e := in[i+1]
		if e != 'u' {
			if int(e) >= len(jsonUnescaped) || jsonUnescaped[e] == 0 {
				return "", false
			}
			out.WriteByte(jsonUnescaped[e])
			i += 2
			continue
		}
		ru, ok := hex4(in, i+2)
		if !ok {
			return "", false
		}
		i += 6
		if utf16.IsSurrogate(ru) {
			if i+1 < len(in) && in[i] == '\\' && in[i+1] == 'u' {
				if lo, ok := hex4(in, i+2); ok {
					if pair := utf16.DecodeRune(ru, lo); pair != utf8.RuneError {
						out.WriteRune(pair)
						i += 6
						continue
					}
				}
			}
			ru = utf8.RuneError
		}
		out.WriteRune(ru)
	}
	return out.String(), true
}

// hex4 reads the four hex digits of a \u escape at b[i:].
func hex4(b string, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var v rune
	for _, c := range []byte(b[i : i+4]) {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | rune(c)
	}
	return v, true
}

// parseURLEncoded keeps field order, which url.ParseQuery does not.
func parseURLEncoded(s string, maxFields int) ([]submission.Field, error) {
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
			return nil, refuse(CodeMalformedBody)
		}
		fields = append(fields, submission.Field{Name: name, Value: value})
		if len(fields) > maxFields {
			break
		}
	}
	return fields, nil
}

func parseMultipart(body, boundary string, maxFields int, rules *config.FileRules) ([]submission.Field, []submission.File, error) {
	if boundary == "" {
		return nil, nil, refuse(CodeMalformedBody)
	}
	r := multipart.NewReader(strings.NewReader(body), boundary)
	var (
		fields []submission.Field
		files  []submission.File
	)
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			return fields, files, nil
		}
		if err != nil {
			return nil, nil, refuse(CodeMalformedBody)
		}
		name := p.FormName()
		if name == "" {
			return nil, nil, refuse(CodeMalformedBody)
		}
		// What the part says of its size or type is not read: the bytes
		// are counted, and the type is sniffed from them later.
		value, err := io.ReadAll(p)
		if err != nil {
			return nil, nil, refuse(CodeMalformedBody)
		}
		if hasFilename(p) {
			if rules == nil {
				return nil, nil, refuse(CodeFileUpload)
			}
			if len(value) == 0 && p.FileName() == "" {
				continue // an empty file input: the browser sends a part with no name and no bytes
			}
			files = append(files, submission.File{Field: name, Name: p.FileName(), Data: value})
			if len(files) > rules.MaxFiles {
				// Validation refuses the post for the count; the rest of a
				// thousand tiny files is not read.
				return fields, files, nil
			}
			continue
		}
		fields = append(fields, submission.Field{Name: name, Value: string(value)})
		if len(fields) > maxFields {
			return fields, files, nil
		}
	}
}

// hasFilename reports whether a part is a file input's: its disposition has
// a filename parameter, even an empty one (what a browser sends for a file
// input left empty).
func hasFilename(p *multipart.Part) bool {
	_, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
	if err != nil {
		return false
	}
	_, ok := params["filename"]
	return ok
}

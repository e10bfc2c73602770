package localstack

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/opt-e/kontakt/infra/harness/httprec"
)

// S3 is served in this process by gofakes3 (github.com/johannesboyne/gofakes3,
// memory backend), reached like any emulator through AWS_ENDPOINT_URL_S3 and
// with path-style URLs, which the SDK chooses by itself for an IP-address
// endpoint. gofakes3 serves buckets and objects (put, get, head, delete,
// copy, multipart, list, presigned PUT and GET URLs, browser POST uploads)
// but no object tagging: it would take PutObjectTagging for a PutObject of
// the tagging XML and overwrite the file with it. The stand-in below answers
// the ?tagging calls itself and keeps the tags of PutObject's x-amz-tagging
// header, as S3 does. What it still does not do (lifecycle, bucket policies,
// encryption, public access blocks, CORS rules, signatures, expiry and the
// conditions of presigned POST policies) is listed in CONTRIBUTING.md.

// S3 is a running S3 emulator.
type S3 struct {
	URL string

	srv     *http.Server
	backend gofakes3.Backend
	mu      sync.Mutex
	tags    map[string][]s3Tag // by bucket + "/" + key
}

type s3Tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type s3Tagging struct {
	XMLName xml.Name `xml:"Tagging"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	TagSet  []s3Tag  `xml:"TagSet>Tag"`
}

// StartS3 serves S3 on a free loopback port (port 0) or the given one.
func StartS3(port int) (*S3, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, fmt.Sprint(port)))
	if err != nil {
		return nil, fmt.Errorf("s3 emulator: %w", err)
	}
	s := &S3{URL: "http://" + ln.Addr().String(), backend: s3mem.New(), tags: map[string][]s3Tag{}}
	fake := gofakes3.New(s.backend,
		gofakes3.WithLogger(gofakes3.DiscardLog()),
		// Files are erased by deleting them: no versions (the template
		// keeps versioning off too).
		gofakes3.WithoutVersioning(),
		// Requests carry the SDK's signing time; a long test is no reason
		// to refuse them.
		gofakes3.WithTimeSkewLimit(0),
	)
	s.srv = &http.Server{Handler: s.withTagging(fake.Server()), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Close stops serving. Safe on nil.
func (s *S3) Close() {
	if s != nil && s.srv != nil {
		_ = s.srv.Close()
	}
}

// withTagging serves GetObjectTagging, PutObjectTagging and
// DeleteObjectTagging, and records the tags PutObject is given, in front
// of gofakes3.
func (s *S3) withTagging(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		_, tagging := r.URL.Query()["tagging"]
		switch {
		case key == "" || r.Method == http.MethodOptions:
			next.ServeHTTP(w, r)
		case tagging:
			s.serveTagging(w, r, bucket, key)
		case r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") == "":
			// A new object replaces the old one's tags, with its own or none.
			tags, err := parseTagHeader(r.Header.Get("X-Amz-Tagging"))
			if err != nil {
				s3Error(w, http.StatusBadRequest, "InvalidArgument", err.Error())
				return
			}
			rec := httprec.NewStatus(w)
			next.ServeHTTP(rec, r)
			if rec.Code == http.StatusOK {
				s.setTags(bucket, key, tags)
			}
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func (s *S3) serveTagging(w http.ResponseWriter, r *http.Request, bucket, key string) {
	obj, err := s.backend.HeadObject(bucket, key)
	if err != nil {
		if gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchBucket) {
			s3Error(w, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
			return
		}
		s3Error(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	obj.Contents.Close()
	id := bucket + "/" + key
	switch r.Method {
	case http.MethodGet:
		s.mu.Lock()
		out := s3Tagging{Xmlns: "http://s3.amazonaws.com/doc/2006-03-01/", TagSet: s.tags[id]}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/xml")
		_, _ = io.WriteString(w, xml.Header)
		_ = xml.NewEncoder(w).Encode(out)
	case http.MethodPut:
		var in s3Tagging
		if err := xml.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in); err != nil {
			s3Error(w, http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed")
			return
		}
		if err := checkTags(in.TagSet); err != nil {
			s3Error(w, http.StatusBadRequest, "InvalidTag", err.Error())
			return
		}
		s.setTags(bucket, key, in.TagSet)
	case http.MethodDelete:
		s.setTags(bucket, key, nil)
		w.WriteHeader(http.StatusNoContent)
	default:
		s3Error(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
	}
}

// Tags returns an object's tags as the emulator holds them, for tests.
func (s *S3) Tags(bucket, key string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for _, t := range s.tags[bucket+"/"+key] {
		out[t.Key] = t.Value
	}
	return out
}

func (s *S3) setTags(bucket, key string, tags []s3Tag) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(tags) == 0 {
		delete(s.tags, bucket+"/"+key)
		return
	}
	s.tags[bucket+"/"+key] = tags
}

// parseTagHeader reads x-amz-tagging: URL query encoding, key=value&….
func parseTagHeader(h string) ([]s3Tag, error) {
	if h == "" {
		return nil, nil
	}
	q, err := url.ParseQuery(h)
	if err != nil {
		return nil, errors.New("x-amz-tagging is not URL-encoded key=value pairs")
	}
	var tags []s3Tag
	for k, vs := range q {
		if len(vs) != 1 {
			return nil, errors.New("x-amz-tagging repeats a key")
		}
		tags = append(tags, s3Tag{Key: k, Value: vs[0]})
	}
	return tags, checkTags(tags)
}

// checkTags applies S3's limits on object tags: at most 10, keys of 1-128
// and values of at most 256 characters, no key twice.
func checkTags(tags []s3Tag) error {
	if len(tags) > 10 {
		return errors.New("object tags cannot be greater than 10")
	}
	seen := map[string]bool{}
	for _, t := range tags {
		if t.Key == "" || len(t.Key) > 128 || len(t.Value) > 256 {
			return errors.New("the TagKey or TagValue you have provided is invalid")
		}
		if seen[t.Key] {
			return errors.New("cannot provide multiple Tags with the same key")
		}
		seen[t.Key] = true
	}
	return nil
}

func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, xml.Header)
	_ = xml.NewEncoder(w).Encode(struct {
		XMLName xml.Name `xml:"Error"`
		Code    string
		Message string
	}{Code: code, Message: msg})
}

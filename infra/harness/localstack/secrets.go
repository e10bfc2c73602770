package localstack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// There is no Secrets Manager emulator among the pinned npm packages, and
// the submit function reads only GetSecretValue, so the stack serves that
// one action itself: the AWS JSON 1.1 protocol (POST /, X-Amz-Target
// secretsmanager.GetSecretValue, {"SecretId": name or ARN}), reached like
// any emulator through AWS_ENDPOINT_URL_SECRETS_MANAGER. It runs in this
// process, on loopback.

// Secrets is a running Secrets Manager stand-in.
type Secrets struct {
	URL string

	srv     *http.Server
	mu      sync.Mutex
	secrets map[string]fakeSecret // by name
	seq     int
}

type fakeSecret struct {
	name, arn, value string
	created          time.Time
}

// StartSecrets serves GetSecretValue on a free loopback port (port 0) or
// the given one.
func StartSecrets(port int) (*Secrets, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, fmt.Sprint(port)))
	if err != nil {
		return nil, fmt.Errorf("secrets manager stand-in: %w", err)
	}
	s := &Secrets{URL: "http://" + ln.Addr().String(), secrets: map[string]fakeSecret{}}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Put creates or replaces a string secret and returns its ARN.
func (s *Secrets) Put(name, value string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	// Real ARNs end in a dash and six random characters.
	arn := fmt.Sprintf("arn:aws:secretsmanager:%s:000000000000:secret:%s-%06d", Region, name, s.seq)
	s.secrets[name] = fakeSecret{name: name, arn: arn, value: value, created: time.Now()}
	return arn
}

// Close stops serving.
func (s *Secrets) Close() {
	if s != nil && s.srv != nil {
		_ = s.srv.Close()
	}
}

func (s *Secrets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		// Readiness probes and curiosity: say what this is.
		fmt.Fprintln(w, "kontakt local Secrets Manager (GetSecretValue only)")
		return
	}
	if target := r.Header.Get("X-Amz-Target"); target != "secretsmanager.GetSecretValue" {
		awsError(w, "UnknownOperationException", "only GetSecretValue is served here, not "+target)
		return
	}
	var in struct{ SecretId string }
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in); err != nil || in.SecretId == "" {
		awsError(w, "InvalidParameterException", "SecretId is required")
		return
	}
	sec, err := s.find(in.SecretId)
	if err != nil {
		awsError(w, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"ARN": sec.arn, "Name": sec.name, "SecretString": sec.value,
		"VersionId": "00000000-0000-0000-0000-000000000001", "VersionStages": []string{"AWSCURRENT"},
		"CreatedDate": float64(sec.created.UnixMilli()) / 1000,
	})
}

func (s *Secrets) find(id string) (fakeSecret, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sec, ok := s.secrets[id]; ok {
		return sec, nil
	}
	for _, sec := range s.secrets {
		if sec.arn == id || (strings.HasPrefix(id, "arn:") && strings.HasPrefix(sec.arn, id+"-")) {
			return sec, nil
		}
	}
	return fakeSecret{}, errors.New("not found")
}

func awsError(w http.ResponseWriter, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}

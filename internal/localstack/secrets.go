package localstack

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
)

// Secrets is a minimal Secrets Manager on loopback: it answers
// GetSecretValue (the JSON 1.1 protocol the SDK speaks) for the secrets it
// was given. There is no pinned npm emulator for Secrets Manager, and the
// functions only ever read one secret at init.
type Secrets struct {
	URL string

	srv    *http.Server
	mu     sync.Mutex
	values map[string]string
}

// StartSecrets serves values (secret id → value) on a free loopback port.
func StartSecrets(values map[string]string) (*Secrets, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	s := &Secrets{URL: "http://" + ln.Addr().String(), values: values}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve)}
	go s.srv.Serve(ln)
	return s, nil
}

func (s *Secrets) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	fail := func(status int, typ, msg string) {
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
	}
	if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" {
		fail(400, "InvalidRequestException", "only GetSecretValue is emulated")
		return
	}
	var in struct{ SecretId string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		fail(400, "InvalidRequestException", "bad body")
		return
	}
	s.mu.Lock()
	v, ok := s.values[in.SecretId]
	s.mu.Unlock()
	if !ok {
		fail(400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	json.NewEncoder(w).Encode(map[string]any{
		"ARN":          "arn:aws:secretsmanager:eu-north-1:000000000000:secret:" + in.SecretId,
		"Name":         in.SecretId,
		"SecretString": v,
		"VersionId":    "local",
	})
}

// Stop stops the server.
func (s *Secrets) Stop() { s.srv.Close() }

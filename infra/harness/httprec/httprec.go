// Package httprec records what a handler answers while passing the answer
// on unchanged, for the harness's stand-ins and test servers that act on
// it (the S3 emulator's tagging, the browser tests' call log).
package httprec

import "net/http"

// Status is an http.ResponseWriter that remembers the status code written
// through it: 200 unless the handler writes another.
type Status struct {
	http.ResponseWriter
	Code int
}

// NewStatus wraps w.
func NewStatus(w http.ResponseWriter) *Status {
	return &Status{ResponseWriter: w, Code: http.StatusOK}
}

// WriteHeader records code and writes it.
func (s *Status) WriteHeader(code int) {
	s.Code = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (s *Status) Unwrap() http.ResponseWriter { return s.ResponseWriter }

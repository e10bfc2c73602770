package logcheck

import (
	"bytes"
	"sync"
)

// Buffer keeps what a handler or an emulator logs from many goroutines,
// for a test to read while they still write. Unbounded: a test's worth.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Bytes is a copy of what was written from offset from on (all for 0).
func (b *Buffer) Bytes(from int) []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes()[min(from, b.buf.Len()):])
}

// Len is how much was written so far: an offset for Bytes.
func (b *Buffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

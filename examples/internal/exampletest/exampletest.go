// Package exampletest runs an example server for its test.
package exampletest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
)

// Run is an example's run function: it serves on ln with the SQLite
// database at db, logging to logw, until ctx ends.
type Run func(ctx context.Context, ln net.Listener, db string, logw io.Writer) error

// Serve runs run on a free port of 127.0.0.1 with a database in the test's
// temporary directory until the test ends, and returns the server's base
// URL and its log. The test fails if run returns an error.
func Serve(tb testing.TB, run Run) (base string, logs *Buffer) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs = &Buffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, ln, filepath.Join(tb.TempDir(), "roster.db"), logs) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			tb.Errorf("run: %v", err)
		}
	})
	return "http://" + ln.Addr().String(), logs
}

// Buffer is a bytes.Buffer safe for concurrent use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

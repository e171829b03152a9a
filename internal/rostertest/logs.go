package rostertest

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
)

// Logs keeps what a logger writes, one line per record in slog's text
// format (level, message and attributes), at every level from Debug. The
// zero Logs is ready to use; it is safe for concurrent use.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Logger returns a logger that writes to l at every level.
func (l *Logs) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Write keeps p, a record's line: slog's text handler writes each record
// in one call. It never fails.
func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// Lines returns the records kept so far, oldest first.
func (l *Logs) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(l.buf.String(), "\n"), "\n")
}

// With returns the records kept so far that contain every one of parts,
// such as a message and an attribute ("failures=1"), oldest first.
func (l *Logs) With(parts ...string) []string {
	var out []string
	for _, line := range l.Lines() {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			out = append(out, line)
		}
	}
	return out
}

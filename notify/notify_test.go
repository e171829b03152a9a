package notify_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/teamroster/roster/notify"
	"github.com/teamroster/roster/store"
)

// TestLogWritesWholeLines checks that a Log shared by concurrent senders
// writes one whole line per email to a writer that is not safe for
// concurrent use.
func TestLogWritesWholeLines(t *testing.T) {
	var buf bytes.Buffer
	l := &notify.Log{W: &buf}
	const senders, each = 8, 50
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			for range each {
				if err := l.SendInvite(context.Background(), notify.Invite{To: "max@example.com", Team: "Acme", Link: "https://x.example/i/t"}); err != nil {
					t.Error(err)
				}
				if err := l.TransferAccept(context.Background(), notify.Transfer{Kind: store.TransferRole, To: "max", Email: "max@example.com", Link: "https://x.example/t"}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2*senders*each {
		t.Fatalf("%d lines, want %d", len(lines), 2*senders*each)
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, "https://x.example/i/t") && !strings.HasSuffix(l, "https://x.example/t") {
			t.Fatalf("a line was torn: %q", l)
		}
	}
}

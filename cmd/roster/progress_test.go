package main_test

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	main "github.com/teamroster/roster/cmd/roster"
	"github.com/teamroster/roster/internal/rostertest"
)

func TestProgress(t *testing.T) {
	t.Run("on a terminal the line counts the bytes written and is erased at the end", func(t *testing.T) {
		var term rostertest.Logs
		var out bytes.Buffer
		w, finish := main.Progress(&term, "exporting", &out)
		if _, err := io.WriteString(w, "0123456789"); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * main.ProgressEvery)
		for !strings.Contains(strings.Join(term.Lines(), "\n"), "10 bytes written") && time.Now().Before(deadline) {
			time.Sleep(main.ProgressEvery / 4)
		}
		finish()
		got := strings.Join(term.Lines(), "\n")
		if !strings.Contains(got, "\r\033[Kexporting: ") {
			t.Errorf("no progress line redrawn: %q", got)
		}
		if !strings.Contains(got, "10 bytes written") {
			t.Errorf("the line does not count the bytes: %q", got)
		}
		if !strings.HasSuffix(got, "\r\033[K") {
			t.Errorf("the line is not erased at the end: %q", got)
		}
		if out.String() != "0123456789" {
			t.Errorf("the output got %q", out.String())
		}
	})
	t.Run("elsewhere it writes nothing", func(t *testing.T) {
		var notTerm, out bytes.Buffer
		w, finish := main.ProgressOff(&notTerm, "exporting", &out)
		if _, err := io.WriteString(w, "data"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * main.ProgressEvery)
		finish()
		if notTerm.Len() != 0 || out.String() != "data" {
			t.Errorf("progress %q, output %q", notTerm.String(), out.String())
		}
	})
}

package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestQuickstart(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), &out, filepath.Join(t.TempDir(), "roster.db")); err != nil {
		t.Fatalf("quickstart failed: %v\noutput:\n%s", err, out.String())
	}
	for _, want := range []string{
		"Can(bob, Acme, pods.manage) = true",
		"Can(bob, Acme, billing.read) = false",
		"Can(carol, Acme, billing.manage) = true",
		"Can(carol, Acme, pods.connect) = false",
		"role \"billing\" lacks it",
		"alice changed bob's role to basic\n  Can(bob, Acme, pods.manage) = false\n  Can(bob, Acme, pods.connect) = true",
		"alice removed carol\n  Can(carol, Acme, billing.read) = false",
		"alice tried to leave: \"alice\" leave",
		"the account owner cannot be removed, demoted or leave",
		"member.removed",
		"account.converted",
		"alice created an invite link for the dev role: https://app.example.com/invites/",
		"bob opened the link and joined as dev",
		"carol tried the same link: \"carol\" accepts invite: invites: invite already used",
		"invite to carol@example.com: Alice invites you to join \"Acme\" as billing",
		"pending invite: carol@example.com as billing, created by alice",
		"carol accepted the emailed invite and joined as billing",
		"member.joined",
		"invite.created",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q\noutput:\n%s", want, out.String())
		}
	}
}

// TestMainPrintsTheFlow runs the command as `go run` does: the flow on a file in a
// temporary directory, printed to standard output.
func TestMainPrintsTheFlow(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	defer func() { os.Stdout = stdout }()
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	main()
	w.Close()
	os.Stdout = stdout
	out := <-done
	for _, want := range []string{"opened roster.db with the runpod policy", "audit log, newest first:", "account.converted"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

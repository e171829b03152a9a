package main_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	main "github.com/teamroster/roster/cmd/roster"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// TestMain runs the package's tests and says how many PostgreSQL tests
// skipped themselves, see rostertest.Main.
func TestMain(m *testing.M) { rostertest.Main(m) }

// result is what a command line printed and its exit status.
type result struct {
	stdout, stderr string
	code           int
}

// roster runs the command line args in-process.
func roster(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := main.Run(context.Background(), args, &out, &errb)
	return result{out.String(), errb.String(), code}
}

// want fails t unless res exited with code and its output holds each of
// the substrings in stdout (or in stderr, when code is not 0).
func (res result) want(t *testing.T, code int, substrings ...string) {
	t.Helper()
	text := res.stdout
	if code != 0 {
		text += res.stderr
	}
	if res.code != code {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, code, res.stdout, res.stderr)
	}
	for _, s := range substrings {
		if !strings.Contains(text, s) {
			t.Errorf("output lacks %q\nstdout:\n%s\nstderr:\n%s", s, res.stdout, res.stderr)
		}
	}
}

// fixture is a migrated database with a Runpod team: alice owns it, bob is
// a dev, carol basic, and dave is a user who is not a member.
type fixture struct {
	dsn  string
	team store.Account
	s    store.Store
}

// newFixture makes the fixture on a fresh database of backend b, migrated
// through the CLI.
func newFixture(t *testing.T, b testdb.Backend) fixture {
	t.Helper()
	dsn := b.DSN(t)
	roster(t, "migrate", "-db", dsn).want(t, 0, "schema migrated to version")
	s := b.StoreOn(t, dsn)
	r := rostertest.New(t, s, rbac.Runpod())
	team := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev, "carol": rbac.RunpodBasic})
	rostertest.User(t, r, "dave")
	return fixture{dsn: dsn, team: team, s: s}
}

func TestUsage(t *testing.T) {
	t.Run("no command exits 2", func(t *testing.T) {
		roster(t).want(t, 2, "usage: roster COMMAND")
	})
	t.Run("help exits 0", func(t *testing.T) {
		roster(t, "help").want(t, 0, "audit verify")
	})
	t.Run("unknown command exits 2", func(t *testing.T) {
		roster(t, "frobnicate").want(t, 2, `unknown command "frobnicate"`)
	})
	t.Run("missing subcommand exits 2", func(t *testing.T) {
		roster(t, "policy").want(t, 2, "missing subcommand (table, test)")
	})
	t.Run("unknown subcommand exits 2", func(t *testing.T) {
		roster(t, "audit", "delete").want(t, 2, `unknown subcommand "delete" (export, query, verify)`)
	})
	t.Run("unknown flag exits 2", func(t *testing.T) {
		roster(t, "check", "-bogus").want(t, 2, "flag provided but not defined: -bogus")
	})
	t.Run("a command's -h exits 0", func(t *testing.T) {
		res := roster(t, "check", "-h")
		res.want(t, 0)
		if !strings.Contains(res.stderr, "usage: roster check") {
			t.Errorf("stderr lacks the usage: %s", res.stderr)
		}
	})
	t.Run("missing -db exits 2", func(t *testing.T) {
		roster(t, "check", "alice", "acct", "pods.manage").want(t, 2, "-db is required")
	})
	t.Run("wrong argument count exits 2", func(t *testing.T) {
		roster(t, "check", "-db", "x.db", "alice").want(t, 2, "want 3 arguments (USER ACCOUNT ACTION), got 1")
	})
	t.Run("flags may follow arguments", func(t *testing.T) {
		roster(t, "check", "alice", "acct", "pods.manage", "-policy", "nope").want(t, 2, `-policy "nope"`)
	})
}

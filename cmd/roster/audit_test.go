package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/store"
)

func TestAuditQuery(t *testing.T) {
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		f := newFixture(t, b)
		db := []string{"-db", f.dsn}
		t.Run("lists the events with a filter", func(t *testing.T) {
			res := roster(t, append([]string{"audit", "query", f.team.ID, "-as", "alice", "-action", "member.added"}, db...)...)
			res.want(t, 0, "member:bob", "member:carol")
			if strings.Contains(res.stdout, "team.") || strings.Count(res.stdout, "\n") != 3 {
				t.Errorf("want a header and the two member.added events:\n%s", res.stdout)
			}
		})
		t.Run("limit caps the events printed", func(t *testing.T) {
			res := roster(t, append([]string{"audit", "query", f.team.ID, "-as", "alice", "-limit", "1"}, db...)...)
			res.want(t, 0)
			if n := strings.Count(res.stdout, "\n"); n != 2 {
				t.Errorf("%d lines, want a header and 1 event:\n%s", n, res.stdout)
			}
		})
		t.Run("a member without the audit permission is refused with exit 1", func(t *testing.T) {
			roster(t, append([]string{"audit", "query", f.team.ID, "-as", "bob"}, db...)...).want(t, 1, "roster audit query: ")
		})
		t.Run("bad flags exit 2", func(t *testing.T) {
			base := append([]string{"audit", "query", f.team.ID}, db...)
			for _, c := range []struct {
				args []string
				want string
			}{
				{nil, "-as is required"},
				{[]string{"-as", "alice", "-since", "yesterday"}, `-since "yesterday": want a time`},
				{[]string{"-as", "alice", "-result", "maybe"}, `-result "maybe": want allowed or denied`},
				{[]string{"-as", "alice", "-limit", "-1"}, "-limit -1: want 0 or more"},
				{[]string{"-as", "alice", "-action", "Not An Action"}, "roster audit query: "},
			} {
				roster(t, append(base, c.args...)...).want(t, 2, c.want)
			}
		})
	})
}

func TestAuditExport(t *testing.T) {
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		f := newFixture(t, b)
		stored := len(rostertest.Events(t, f.s, f.team.ID))
		t.Run("ndjson to standard output holds every event", func(t *testing.T) {
			res := roster(t, "audit", "export", "-db", f.dsn, f.team.ID, "-as", "alice", "-format", "ndjson")
			res.want(t, 0)
			n := 0
			if err := audit.DecodeNDJSON(strings.NewReader(res.stdout), func(store.Event) error { n++; return nil }); err != nil {
				t.Fatal(err)
			}
			// The export records itself before it reads, so it is one of
			// the events exported.
			if n != stored+1 {
				t.Errorf("%d events exported, want %d", n, stored+1)
			}
			if !strings.Contains(res.stderr, "events exported") {
				t.Errorf("stderr lacks the count: %s", res.stderr)
			}
		})
		t.Run("csv to a file with a filter", func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "log.csv")
			roster(t, "audit", "export", "-db", f.dsn, f.team.ID, "-as", "alice", "-format", "csv", "-o", path, "-action", "member.added").want(t, 0)
			file, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer file.Close()
			var actions []store.EventAction
			if err := audit.DecodeCSV(file, func(e store.Event) error { actions = append(actions, e.Action); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(actions) != 2 || actions[0] != store.EventMemberAdded || actions[1] != store.EventMemberAdded {
				t.Errorf("exported %v, want two member.added", actions)
			}
		})
		t.Run("a refused export leaves no file and exits 1", func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "log.csv")
			roster(t, "audit", "export", "-db", f.dsn, f.team.ID, "-as", "bob", "-format", "csv", "-o", path).want(t, 1, "roster audit export: ")
			if entries, err := os.ReadDir(filepath.Dir(path)); err != nil || len(entries) != 0 {
				t.Errorf("files left behind: %v %v", entries, err)
			}
		})
		t.Run("bad flags exit 2", func(t *testing.T) {
			roster(t, "audit", "export", "-db", f.dsn, f.team.ID, "-as", "alice").want(t, 2, `-format "": want csv or ndjson`)
			roster(t, "audit", "export", "-db", f.dsn, f.team.ID, "-as", "alice", "-format", "xml").want(t, 2, `-format "xml"`)
			roster(t, "audit", "export", "-db", f.dsn, f.team.ID, "-format", "csv").want(t, 2, "-as is required")
		})
	})
}

func TestAuditVerify(t *testing.T) {
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		f := newFixture(t, b)
		head := filepath.Join(t.TempDir(), "head.json")
		verify := func(t *testing.T, code int, want ...string) {
			t.Helper()
			roster(t, "audit", "verify", "-db", f.dsn, f.team.ID, "-as", "alice", "-head", head).want(t, code, want...)
		}
		t.Run("an intact chain passes and its head is kept", func(t *testing.T) {
			roster(t, "audit", "verify", "-db", f.dsn, f.team.ID, "-as", "alice").want(t, 0, "ok: ", "events verified")
			verify(t, 0, "ok: ")
			if _, err := os.Stat(head); err != nil {
				t.Fatalf("no head kept: %v", err)
			}
		})
		t.Run("the kept head is compared on the next run", func(t *testing.T) {
			verify(t, 0, "still holds")
		})
		t.Run("a kept head the chain does not hold exits 1", func(t *testing.T) {
			var h audit.Head
			b, err := os.ReadFile(head)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &h); err != nil {
				t.Fatal(err)
			}
			h.Hash[0] ^= 0xff
			if b, err = json.Marshal(h); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(head, b, 0o644); err != nil {
				t.Fatal(err)
			}
			verify(t, 1, "roster audit verify: ")
			got, err := os.ReadFile(head)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(b) {
				t.Error("a failed verification replaced the kept head")
			}
		})
		t.Run("a malformed head file exits 1", func(t *testing.T) {
			if err := os.WriteFile(head, []byte("not json"), 0o644); err != nil {
				t.Fatal(err)
			}
			verify(t, 1, "not a kept head")
		})
		t.Run("a member without the audit permission is refused with exit 1", func(t *testing.T) {
			roster(t, "audit", "verify", "-db", f.dsn, f.team.ID, "-as", "carol").want(t, 1, "roster audit verify: ")
		})
		t.Run("bad flags exit 2", func(t *testing.T) {
			roster(t, "audit", "verify", "-db", f.dsn, f.team.ID).want(t, 2, "-as is required")
			roster(t, "audit", "verify", "-db", f.dsn, "-as", "alice").want(t, 2, "want 1 argument (ACCOUNT)")
		})
	})
}

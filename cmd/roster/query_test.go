package main_test

import (
	"strings"
	"testing"

	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
)

func TestCheckAndExplain(t *testing.T) {
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		f := newFixture(t, b)
		t.Run("allowed exits 0", func(t *testing.T) {
			roster(t, "check", "-db", f.dsn, "bob", f.team.ID, "pods.manage").want(t, 0, "allowed")
		})
		t.Run("denied exits 1 and says why", func(t *testing.T) {
			res := roster(t, "check", "-db", f.dsn, "carol", f.team.ID, "pods.manage")
			res.want(t, 1, "denied: ")
			if !strings.Contains(res.stdout, "basic") {
				t.Errorf("the reason does not name carol's role: %s", res.stdout)
			}
		})
		t.Run("a non-member is denied", func(t *testing.T) {
			roster(t, "check", "-db", f.dsn, "dave", f.team.ID, "account.access").want(t, 1, "denied: ")
		})
		t.Run("explain names the role and the revision", func(t *testing.T) {
			roster(t, "explain", "-db", f.dsn, "bob", f.team.ID, "pods.manage").want(t, 0,
				"user      bob\n", "role      dev\n", "allowed   true\n", "revision  ")
		})
		t.Run("explain of a denial gives the reason and exits 1", func(t *testing.T) {
			roster(t, "explain", "-db", f.dsn, "dave", f.team.ID, "pods.manage").want(t, 1,
				"role      (not a member)\n", "allowed   false\n", "reason    ")
		})
		t.Run("the policy flag chooses the policy", func(t *testing.T) {
			// Runpod's roles mean nothing to DigitalOcean's policy.
			roster(t, "check", "-db", f.dsn, "-policy", "digitalocean", "bob", f.team.ID, "resources.read").want(t, 1, "denied: ")
		})
		t.Run("an unknown action exits 2", func(t *testing.T) {
			roster(t, "check", "-db", f.dsn, "bob", f.team.ID, "pods.fly").want(t, 2, `no action "pods.fly"`)
			roster(t, "explain", "-db", f.dsn, "bob", f.team.ID, "pods.fly").want(t, 2, `no action "pods.fly"`)
		})
	})
}

func TestMembers(t *testing.T) {
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		f := newFixture(t, b)
		t.Run("lists every member across pages", func(t *testing.T) {
			res := roster(t, "members", "-db", f.dsn, f.team.ID, "-as", "carol", "-page", "1")
			res.want(t, 0, "USER", "alice", "bob", "carol", "owner")
			if lines := strings.Count(res.stdout, "\n"); lines != 4 {
				t.Errorf("%d lines, want a header and 3 members:\n%s", lines, res.stdout)
			}
			if strings.Contains(res.stdout, "dave") {
				t.Errorf("dave is listed but is not a member:\n%s", res.stdout)
			}
		})
		t.Run("a non-member is refused with exit 1", func(t *testing.T) {
			roster(t, "members", "-db", f.dsn, f.team.ID, "-as", "dave").want(t, 1, "roster members: ")
		})
		t.Run("an unknown account exits 1", func(t *testing.T) {
			roster(t, "members", "-db", f.dsn, "no-such-account", "-as", "alice").want(t, 1, "roster members: ")
		})
		t.Run("bad flags exit 2", func(t *testing.T) {
			roster(t, "members", "-db", f.dsn, f.team.ID).want(t, 2, "-as is required")
			roster(t, "members", "-db", f.dsn, f.team.ID, "-as", "alice", "-page", "0").want(t, 2, "-page 0: want 1 to 1000")
			roster(t, "members", "-db", f.dsn, "-as", "alice").want(t, 2, "want 1 argument (ACCOUNT), got 0")
		})
	})
}

package main_test

import (
	"strings"
	"testing"

	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

func TestGrant(t *testing.T) {
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		f := newFixture(t, b)
		grant := func(args ...string) result {
			return roster(t, append([]string{"grant", "-db", f.dsn}, args...)...)
		}
		// operatorEvents returns the account's events of the given action on
		// user, checking that each names the operator.
		operatorEvents := func(t *testing.T, action store.EventAction, user string) []store.Event {
			t.Helper()
			events := rostertest.EventsWhere(t, f.s, store.EventFilter{AccountID: f.team.ID, Action: action, ResourceID: user})
			for _, e := range events {
				if !strings.Contains(e.UserAgent+e.After, "Jo Ops") {
					t.Errorf("event %d (%s) does not name the operator: %+v", e.ID, e.Action, e)
				}
			}
			return events
		}
		t.Run("adds a user who is not a member, audited with the operator's name", func(t *testing.T) {
			grant("dave", f.team.ID, "admin", "-operator", "Jo Ops").want(t, 0, "dave added as admin", "authority of its owner alice")
			added := operatorEvents(t, store.EventMemberAdded, "dave")
			if len(added) != 1 || added[0].Actor != "alice" {
				t.Fatalf("member.added events for dave: %+v", added)
			}
			recorded := operatorEvents(t, "operator.role_granted", "dave")
			if len(recorded) != 1 || recorded[0].RequestID != added[0].RequestID || recorded[0].RequestID == "" {
				t.Fatalf("operator.role_granted events for dave: %+v (grant's request %q)", recorded, added[0].RequestID)
			}
			roster(t, "check", "-db", f.dsn, "dave", f.team.ID, "members.manage").want(t, 0, "allowed")
		})
		t.Run("changes a member's role, audited with the operator's name", func(t *testing.T) {
			grant("carol", f.team.ID, "dev", "-operator", "Jo Ops").want(t, 0, "carol changed as dev")
			if changed := operatorEvents(t, store.EventMemberRoleChanged, "carol"); len(changed) != 1 {
				t.Fatalf("member.role_changed events for carol: %+v", changed)
			}
			roster(t, "check", "-db", f.dsn, "carol", f.team.ID, "pods.manage").want(t, 0, "allowed")
		})
		t.Run("cannot change the owner's role", func(t *testing.T) {
			grant("alice", f.team.ID, "basic", "-operator", "Jo Ops").want(t, 1, "roster grant: ")
			if n := len(operatorEvents(t, "operator.role_granted", "alice")); n != 0 {
				t.Errorf("%d grants recorded for a refused grant", n)
			}
			roster(t, "check", "-db", f.dsn, "alice", f.team.ID, "members.manage").want(t, 0, "allowed")
		})
		t.Run("an unknown user or account exits 1", func(t *testing.T) {
			grant("zed", f.team.ID, "dev", "-operator", "Jo Ops").want(t, 1, "roster grant: ")
			grant("dave", "no-such-account", "dev", "-operator", "Jo Ops").want(t, 1, "roster grant: ")
		})
		t.Run("bad flags exit 2 and change nothing", func(t *testing.T) {
			before := len(rostertest.Events(t, f.s, f.team.ID))
			grant("bob", f.team.ID, "admin").want(t, 2, "-operator is required")
			grant("bob", f.team.ID, "admin", "-operator", "  ").want(t, 2, "-operator is required")
			grant("bob", f.team.ID, "admin", "-operator", "Jo\nOps").want(t, 2, "only printable characters")
			grant("bob", f.team.ID, "admin", "-operator", strings.Repeat("x", 65)).want(t, 2, "at most 64 characters")
			grant("bob", f.team.ID, "root", "-operator", "Jo Ops").want(t, 2, `policy runpod has no role "root"`)
			grant("bob", f.team.ID, "-operator", "Jo Ops").want(t, 2, "want 3 arguments (USER ACCOUNT ROLE), got 2")
			if after := len(rostertest.Events(t, f.s, f.team.ID)); after != before {
				t.Errorf("%d events written by refused command lines", after-before)
			}
		})
	})
}

func TestGrantTopRoleByTransfer(t *testing.T) {
	// On DigitalOcean the owner role is granted only through the
	// confirm-then-accept handover: the operator's grant cannot shortcut it.
	b := testdb.Backends()[0]
	dsn := b.DSN(t)
	roster(t, "migrate", "-db", dsn).want(t, 0)
	s := b.StoreOn(t, dsn)
	r := rostertest.New(t, s, rbac.DigitalOcean())
	team := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.DigitalOceanMember})
	roster(t, "grant", "-db", dsn, "-policy", "digitalocean", "bob", team.ID, string(rbac.DigitalOceanOwner), "-operator", "Jo Ops").want(t, 1, "roster grant: ")
	roster(t, "check", "-db", dsn, "-policy", "digitalocean", "bob", team.ID, "members.manage").want(t, 1, "denied: ")
}

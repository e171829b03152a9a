package txn_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teams"
)

// at is the fixed time of the tests' clock.
var at = time.Date(2031, 5, 6, 7, 8, 9, 123456000, time.UTC)

func clock() time.Time { return at }

// TestHandWiredServices wires teams and audit by hand on a bare Store, as
// a host may, and checks that they stamp, chain and authorize as a Roster's
// services do.
func TestHandWiredServices(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		s := b.Store(t)
		p := rbac.Runpod()
		tm := teams.New(s, p, teams.WithClock(clock))
		au := audit.New(s, p, audit.WithClock(clock))
		personal, err := tm.CreateUser(ctx, store.User{ID: "alice", Email: "alice@example.com", Name: "Alice", SignIn: store.SignInEmail})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tm.CreateUser(ctx, store.User{ID: "bob", Email: "bob@example.com", Name: "Bob", SignIn: store.SignInEmail}); err != nil {
			t.Fatal(err)
		}
		acct, err := tm.ConvertToTeam(ctx, "alice", personal.ID, "Acme")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tm.AddMember(ctx, "alice", acct.ID, "bob", rbac.RunpodDev); err != nil {
			t.Fatal(err)
		}
		if _, err := au.Record(ctx, "bob", acct.ID, audit.Entry{Action: "pod.created"}); err != nil {
			t.Fatal(err)
		}
		if err := tm.RemoveMember(ctx, "bob", acct.ID, "alice"); !errors.Is(err, rbac.ErrDenied) {
			t.Errorf("a dev removing the owner: %v, want ErrDenied", err)
		}
		if _, _, err := au.Query(ctx, "bob", acct.ID, audit.Filter{}); !errors.Is(err, rbac.ErrDenied) {
			t.Errorf("a dev reading the log: %v, want ErrDenied", err)
		}
		rep, err := au.Verify(ctx, "alice", acct.ID)
		if err != nil {
			t.Fatalf("Verify of the hand-wired services' chain: %v", err)
		}
		es := rostertest.Events(t, s, acct.ID)
		// account.created, account.converted, member.added, pod.created and
		// the two refusals.
		if rep.Events != int64(len(es)) || len(es) != 6 {
			t.Errorf("Verify checked %d events of %d, want all 6", rep.Events, len(es))
		}
		for _, e := range es {
			if !e.Time.Equal(at) {
				t.Errorf("%s (%s) is stamped %s, want the clock's %s", e.Action, e.Result, e.Time, at)
			}
		}
	})
}

// TestSecureSignInAtTheDoor checks the door's own rule for a team that
// requires secure sign-in, on services wired by hand: a member who signs in
// insecurely is refused every call that needs a membership or a permission,
// with rbac.ErrSecureSignIn, and the refusal is recorded as theirs; one who
// signs in securely is not.
func TestSecureSignInAtTheDoor(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		s := b.Store(t)
		p := rbac.Runpod()
		tm := teams.New(s, p, teams.WithClock(clock))
		au := audit.New(s, p, audit.WithClock(clock))
		personal, err := tm.CreateUser(ctx, store.User{ID: "alice", Email: "alice@example.com", Name: "Alice", SignIn: store.SignInGoogle})
		if err != nil {
			t.Fatal(err)
		}
		acct, err := tm.ConvertToTeam(ctx, "alice", personal.ID, "Acme")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tm.CreateUser(ctx, store.User{ID: "bob", Email: "bob@example.com", Name: "Bob", SignIn: store.SignInEmail}); err != nil {
			t.Fatal(err)
		}
		if _, err := tm.AddMember(ctx, "alice", acct.ID, "bob", rbac.RunpodAdmin); err != nil {
			t.Fatal(err)
		}
		if _, err := tm.SetSecureSignIn(ctx, "alice", acct.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := au.Record(ctx, "bob", acct.ID, audit.Entry{Action: "pod.created"}); !errors.Is(err, rbac.ErrSecureSignIn) {
			t.Errorf("a member signing in with a password records an event: %v, want ErrSecureSignIn", err)
		}
		if _, err := tm.Rename(ctx, "bob", acct.ID, "Bob's"); !errors.Is(err, rbac.ErrSecureSignIn) {
			t.Errorf("an admin signing in with a password renames the team: %v, want ErrSecureSignIn", err)
		}
		if last := rostertest.Events(t, s, acct.ID)[0]; last.Actor != "bob" || last.Result != store.Denied {
			t.Errorf("last event %+v, want bob's refusal", last)
		}
		if _, err := au.Record(ctx, "alice", acct.ID, audit.Entry{Action: "pod.created"}); err != nil {
			t.Errorf("a member signing in with Google is refused: %v", err)
		}
	})
}

// TestRosterClock checks that roster.WithClock reaches the audit service:
// host events and denied reads are stamped with it.
func TestRosterClock(t *testing.T) {
	ctx := context.Background()
	r, s := rostertest.Open(t, testdb.Backends()[0], rbac.Runpod(), roster.WithClock(clock))
	acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
	if _, err := r.Audit.Record(ctx, "bob", acct.ID, audit.Entry{Action: "pod.created"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Audit.Query(ctx, "bob", acct.ID, audit.Filter{}); !errors.Is(err, rbac.ErrDenied) {
		t.Fatalf("Query by a dev: %v, want ErrDenied", err)
	}
	es := rostertest.Events(t, s, acct.ID)
	if es[0].Action != store.EventAuditQueried || es[1].Action != "pod.created" {
		t.Fatalf("newest events %s, %s; want the denied query and the host event", es[0].Action, es[1].Action)
	}
	for _, e := range es[:2] {
		if !e.Time.Equal(at) {
			t.Errorf("%s is stamped %s, want the clock's %s", e.Action, e.Time, at)
		}
	}
}

// TestReason checks that a refusal's recorded reason names no package.
func TestReason(t *testing.T) {
	err := fmt.Errorf("delete team %q by %q: %w", "acc_1", "bob", teams.ErrNotOwner)
	if got, want := txn.Reason(err), `delete team "acc_1" by "bob": only the account owner may do this`; got != want {
		t.Errorf("Reason = %q, want %q", got, want)
	}
	line := fmt.Errorf("role %q lacks %q: %w", "dev\nx", rbac.MembersManage, rbac.ErrDenied)
	if got := txn.Reason(line); strings.ContainsAny(got, "\n") || strings.Contains(got, "rbac: ") {
		t.Errorf("Reason = %q: it holds a line break or a package prefix", got)
	}
}

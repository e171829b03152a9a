package rostertest_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

var sqlite = testdb.Backends()[0]

func TestClock(t *testing.T) {
	c := rostertest.NewClock()
	start := c.Now()
	if want := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC); !start.Equal(want) {
		t.Errorf("a new clock says %v, want %v", start, want)
	}
	if !c.Now().Equal(start) {
		t.Error("the clock moved by itself")
	}
	c.Advance(90 * time.Minute)
	if got := c.Now().Sub(start); got != 90*time.Minute {
		t.Errorf("after Advance(90m) the clock moved %v", got)
	}
}

func TestTeamAndEvents(t *testing.T) {
	ctx := context.Background()
	r, s := rostertest.Open(t, sqlite, rbac.Runpod())
	acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev, "carol": rbac.RunpodBilling})
	if acct.Kind != store.Team || acct.Owner != "alice" || acct.Name != "alice's team" {
		t.Errorf("Team = %+v, want alice's team owned by her", acct)
	}
	ms, _, err := r.Teams.Members(ctx, "alice", acct.ID, store.Page{})
	if err != nil || len(ms) != 3 {
		t.Fatalf("members = %+v, %v; want alice, bob and carol", ms, err)
	}
	if !r.Can(ctx, "bob", acct.ID, rbac.PodsManage) || r.Can(ctx, "carol", acct.ID, rbac.PodsManage) {
		t.Error("the members do not hold the roles Team was given")
	}
	es := rostertest.Events(t, s, acct.ID)
	if len(es) < 3 || es[0].ID < es[len(es)-1].ID {
		t.Fatalf("events = %+v, want at least three, newest first", es)
	}
	if got := rostertest.Newest(t, s, acct.ID, 2); got != "member.added member.added" {
		t.Errorf("Newest(2) = %q, want the two additions", got)
	}
	if got := rostertest.EventsWhere(t, s, store.EventFilter{AccountID: acct.ID, Limit: 1}); len(got) != 1 || got[0].ID != es[0].ID {
		t.Errorf("EventsWhere with limit 1 = %+v, want the newest event", got)
	}

	rev, last := rostertest.Writes(t, s)
	if last != es[0].ID {
		t.Errorf("Writes says the newest event is %d, want %d", last, es[0].ID)
	}
	if _, _, err := r.Teams.Members(ctx, "alice", acct.ID, store.Page{}); err != nil {
		t.Fatal(err)
	}
	if rev2, last2 := rostertest.Writes(t, s); rev2 != rev || last2 != last {
		t.Errorf("a read moved Writes from %d, %d to %d, %d", rev, last, rev2, last2)
	}
	if err := r.Teams.RemoveMember(ctx, "alice", acct.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	if rev2, last2 := rostertest.Writes(t, s); rev2 <= rev || last2 <= last {
		t.Errorf("a removal left Writes at %d, %d (before %d, %d)", rev2, last2, rev, last)
	}
}

func TestInbox(t *testing.T) {
	ctx := context.Background()
	for _, p := range []*rbac.Policy{rbac.Runpod(), rbac.DigitalOcean()} {
		t.Run(p.Name(), func(t *testing.T) {
			in := &rostertest.Inbox{}
			r, _ := rostertest.Open(t, sqlite, p, roster.WithNotifier(in), roster.WithBaseURL("https://app.example.com/team"))
			low := p.Roles()[len(p.Roles())-1]
			acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": low})

			in.MakeTop(t, r, "alice", acct.ID, "bob")
			if !r.Policy().IsTop(roleOf(t, r, acct.ID, "bob")) {
				t.Fatalf("after MakeTop bob is %s, not top", roleOf(t, r, acct.ID, "bob"))
			}

			tr, err := r.Teams.TransferOwnership(ctx, "alice", acct.ID, "bob")
			if err != nil {
				t.Fatal(err)
			}
			confirm := in.Last(t, "alice")
			if confirm.TransferID != tr.ID || in.Token(tr.ID) != confirm.Token {
				t.Errorf("the confirmation %+v and Token %q do not name the transfer %s", confirm, in.Token(tr.ID), tr.ID)
			}
			in.Transfer(t, r, tr)
			if in.Token(tr.ID) != in.Last(t, "bob").Token || in.Token(tr.ID) == confirm.Token {
				t.Error("Token does not return the newest token, the acceptance's")
			}
			if got, err := r.Teams.Account(ctx, "bob", acct.ID); err != nil || got.Owner != "bob" {
				t.Errorf("after Transfer the account is %+v (%v), want bob's", got, err)
			}
			if in.Token("xfr_none") != "" {
				t.Error("Token of a transfer nobody was told of is not empty")
			}

			if _, err := r.Invites.CreateEmail(ctx, "bob", acct.ID, low, []string{"dora@example.com"}); err != nil {
				t.Fatal(err)
			}
			if ms := in.Messages(); len(ms) != 1 || ms[0].To != "dora@example.com" || ms[0].AccountID != acct.ID {
				t.Errorf("Messages = %+v, want the invitation to dora", ms)
			}
		})
	}
}

// roleOf returns the user's role in the account, as the members table
// shows it.
func roleOf(t *testing.T, r *roster.Roster, accountID, user string) rbac.Role {
	t.Helper()
	ms, _, err := r.Teams.Members(context.Background(), user, accountID, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.UserID == user {
			return m.Role
		}
	}
	t.Fatalf("%s is not a member of %s", user, accountID)
	return ""
}

func TestDriver(t *testing.T) {
	ctx := context.Background()
	in := &rostertest.Inbox{}
	r, s := rostertest.Open(t, sqlite, rbac.DigitalOcean(), roster.WithNotifier(in), roster.WithBaseURL("https://app.example.com/team"))
	d, err := rostertest.NewDriver(ctx, r, in, "d", 5)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Users(); strings.Join(got, " ") != "d0 d1 d2 d3 d4" {
		t.Fatalf("Users = %v, want d0 to d4", got)
	}
	if n := rostertest.CheckInvariants(t, r, s, d.Users()); n != 5 {
		t.Errorf("before any step there are %d memberships, want the 5 personal ones", n)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	ops := map[string]int{}
	for range 300 {
		op, err := d.Step(ctx, rng)
		ops[op]++
		if err != nil && rostertest.Unexpected(err) {
			t.Fatalf("%s: %v", op, err)
		}
	}
	for _, op := range []string{"convert", "invite", "accept", "change role", "remove", "leave", "transfer", "delete team", "list invites"} {
		if ops[op] == 0 {
			t.Errorf("300 steps never tried %q: %v", op, ops)
		}
	}
	rostertest.CheckInvariants(t, r, s, d.Users())

	// On a store that has the users, NewDriver finds them.
	again, err := rostertest.NewDriver(ctx, r, in, "d", 5)
	if err != nil || len(again.Users()) != 5 {
		t.Errorf("NewDriver over existing users = %v, %v", again, err)
	}
}

func TestUnexpected(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("x: %w", store.ErrBackend), true},
		{fmt.Errorf("x: %w", store.ErrConflict), true},
		{fmt.Errorf("x: %w", store.ErrClosed), true},
		{errors.New("database is locked"), true},
		{errors.New("SQLITE_BUSY: busy"), true},
		{errors.New("deadlock detected"), true},
		{fmt.Errorf("x: %w", rbac.ErrDenied), false},
		{fmt.Errorf("x: %w", store.ErrNotFound), false},
		// A refusal naming an account whose random ID holds "busy",
		// "locked" or "deadlock" (TestLoad failed on such an ID).
		{fmt.Errorf(`"load-0" leave "acc_lfjmompxausahy7ioehbusyn6w": load-0 is not a member: %w`, rbac.ErrNotMember), false},
		{fmt.Errorf(`"u" leave "acc_xlockedx": %w`, rbac.ErrNotMember), false},
		{fmt.Errorf(`"u" leave "acc_deadlockx": %w`, rbac.ErrNotMember), false},
	} {
		if got := rostertest.Unexpected(c.err); got != c.want {
			t.Errorf("Unexpected(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// recorder is a testing.TB that keeps the failures it is told of, for
// checking that BadInput reports what it must.
type recorder struct {
	testing.TB
	failures []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func (r *recorder) Helper() {}

// said reports whether a failure starts with prefix and holds part.
func (r *recorder) said(prefix, part string) bool {
	for _, f := range r.failures {
		if strings.HasPrefix(f, prefix) && strings.Contains(f, part) {
			return true
		}
	}
	return false
}

// fake is a receiver whose methods misbehave in every way BadInput must
// catch, and one that behaves.
type fake struct{ r *roster.Roster }

func (fake) Refuses(_ context.Context, id string) error {
	return fmt.Errorf("refuses %q: %w", id, store.ErrInvalid)
}
func (fake) Panics(context.Context, string) error   { panic("boom") }
func (fake) Plain(context.Context, string) error    { return errors.New("no sentinel") }
func (fake) Accepts(context.Context, string) error  { return nil }
func (fake) Allows(context.Context, string) bool    { return true }
func (fake) Unlisted(context.Context, string) error { return nil }
func (fake) Field(_ context.Context, u store.User) error {
	if u.ID != "u" {
		return fmt.Errorf("user %q: %w", u.ID, store.ErrInvalid)
	}
	return nil // it takes any Name and Email
}
func (f fake) Writes(ctx context.Context, id string) error {
	if _, err := f.r.Teams.CreateUser(ctx, store.User{ID: "w" + fmt.Sprint(len(id)%1000), Email: "w@example.com", Name: "W", SignIn: store.SignInEmail}); err != nil {
		return err
	}
	return store.ErrInvalid
}

func TestBadInput(t *testing.T) {
	r, s := rostertest.Open(t, sqlite, rbac.Runpod())
	values := 0
	for _, h := range rostertest.Hostile {
		values += len(h.Values)
	}

	t.Run("a method that refuses every hostile value passes", func(t *testing.T) {
		rec := &recorder{TB: t}
		refused, accepted := rostertest.BadInput(rec, r, s, []rostertest.Receiver{{Name: "fake", Value: onlyRefuses{}, Calls: map[string][]any{
			"Refuses": {"ok"},
		}}})
		if len(rec.failures) > 0 || refused != values || accepted != 0 {
			t.Errorf("refused %d, accepted %d, failures %q; want %d refused and no failure", refused, accepted, rec.failures, values)
		}
	})

	t.Run("misbehaving methods are reported", func(t *testing.T) {
		rec := &recorder{TB: t}
		rostertest.BadInput(rec, r, s, []rostertest.Receiver{{Name: "fake", Value: fake{r}, Calls: map[string][]any{
			"Refuses": {"ok"},
			"Panics":  {"ok"},
			"Plain":   {"ok"},
			"Accepts": {"ok"},
			"Allows":  {"ok"},
			"Field":   {store.User{ID: "u", Email: "u@example.com", Name: "U"}},
			"Writes":  {"ok"},
		}, Ignored: map[string]bool{"Field arg 1 field Email": true}}})
		for _, want := range []struct{ prefix, part string }{
			{"fake.Unlisted", "not in the bad input table"},
			{"fake.Panics arg 1", "panic: boom"},
			{"fake.Plain arg 1", "no documented sentinel"},
			{"fake.Accepts arg 1 empty", "accepted"},
			{"fake.Allows arg 1", "Can allowed it"},
			{"fake.Writes arg 1 empty", "changed memberships or accounts"},
			{"fake.Writes arg 1 empty", "wrote event"},
			{"fake.Field arg 1 field Name empty", "accepted"},
		} {
			if !rec.said(want.prefix, want.part) {
				t.Errorf("no failure %q ... %q among:\n%s", want.prefix, want.part, strings.Join(rec.failures, "\n"))
			}
		}
		// Accepting data, refusing with a sentinel and an ignored input
		// are no failures.
		for _, prefix := range []string{"fake.Accepts arg 1 SQL-looking", "fake.Accepts arg 1 wildcard-looking", "fake.Refuses", "fake.Field arg 1 field ID", "fake.Field arg 1 field Email"} {
			if rec.said(prefix, "") {
				t.Errorf("%s was reported:\n%s", prefix, strings.Join(rec.failures, "\n"))
			}
		}
	})
}

// onlyRefuses is a receiver with one method that refuses every input.
type onlyRefuses struct{}

func (onlyRefuses) Refuses(_ context.Context, id string) error {
	return fmt.Errorf("refuses %q: %w", id, store.ErrInvalid)
}

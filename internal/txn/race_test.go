package txn_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// gate is a Store whose write transactions stop once, at the first call of
// the Tx methods it is armed for, until the test releases them: a barrier
// that makes two calls overlap exactly where a read decides a later write.
type gate struct {
	store.Store
	mu      sync.Mutex
	stopAt  func(op string, args ...string) bool // nil when disarmed
	reached chan struct{}
	release chan struct{}
}

// arm makes the next transaction that calls a Tx method matching stopAt
// stop there until release is closed.
func (g *gate) arm(stopAt func(op string, args ...string) bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopAt, g.reached, g.release = stopAt, make(chan struct{}), make(chan struct{})
}

// at stops the calling transaction if the gate is armed for this call.
func (g *gate) at(op string, args ...string) {
	g.mu.Lock()
	stop := g.stopAt != nil && g.stopAt(op, args...)
	reached, release := g.reached, g.release
	if stop {
		g.stopAt = nil // once
	}
	g.mu.Unlock()
	if stop {
		close(reached)
		<-release
	}
}

// Update stops before the transaction begins if the gate is armed for
// "Update", then runs fn with a Tx that stops where armed.
func (g *gate) Update(ctx context.Context, fn func(store.Tx) error) (store.Commit, error) {
	g.at("Update")
	return g.Store.Update(ctx, func(tx store.Tx) error { return fn(&gateTx{Tx: tx, g: g}) })
}

// nth returns a stopAt function matching the n-th call of op.
func nth(op string, n int) func(string, ...string) bool {
	seen := 0
	return func(got string, _ ...string) bool {
		if got == op {
			seen++
		}
		return got == op && seen == n
	}
}

type gateTx struct {
	store.Tx
	g *gate
}

// Reads stop after they read, writes before they write.

func (t *gateTx) Member(ctx context.Context, accountID, userID string) (store.Member, error) {
	m, err := t.Tx.Member(ctx, accountID, userID)
	t.g.at("Member", accountID, userID)
	return m, err
}

func (t *gateTx) User(ctx context.Context, id string) (store.User, error) {
	u, err := t.Tx.User(ctx, id)
	t.g.at("User", id)
	return u, err
}

func (t *gateTx) SetActiveAccount(ctx context.Context, userID, from, to string) (bool, error) {
	t.g.at("SetActiveAccount", userID, from, to)
	return t.Tx.SetActiveAccount(ctx, userID, from, to)
}

func (t *gateTx) AppendEvent(ctx context.Context, e store.Event) (store.Event, error) {
	t.g.at("AppendEvent", string(e.Action), string(e.Result), e.Actor)
	return t.Tx.AppendEvent(ctx, e)
}

// race runs first until it stops at the gate, then second, giving second
// up to a moment to finish (it may instead be waiting for a lock first
// holds), then releases first, and returns both errors once both ended.
func race(t *testing.T, g *gate, first, second func() error) (error, error) {
	t.Helper()
	var firstErr, secondErr error
	firstDone, secondDone := make(chan struct{}), make(chan struct{})
	go func() { defer close(firstDone); firstErr = first() }()
	select {
	case <-g.reached:
	case <-firstDone:
		t.Fatalf("the first call ended without reaching the gate: %v", firstErr)
	case <-time.After(10 * time.Second):
		t.Fatal("the first call never reached the gate")
	}
	go func() { defer close(secondDone); secondErr = second() }()
	select {
	case <-secondDone: // it did not wait for first: the overlap the old code had
	case <-time.After(300 * time.Millisecond): // it waits for first's lock
	}
	close(g.release)
	<-firstDone
	<-secondDone
	return firstErr, secondErr
}

// gatedRoster returns a Roster on a gated fresh store of backend b, with
// alice's team in which bob is a dev, and the team.
func gatedRoster(t *testing.T, b testdb.Backend) (*roster.Roster, *gate, store.Account) {
	t.Helper()
	g := &gate{Store: b.Store(t)}
	r := rostertest.New(t, g, rbac.Runpod(), roster.WithFollow(0))
	return r, g, rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
}

// activeAccount returns the user's stored active account.
func activeAccount(t *testing.T, s store.Store, user string) string {
	t.Helper()
	var u store.User
	err := s.View(context.Background(), func(tx store.Tx) (err error) {
		u, err = tx.User(context.Background(), user)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return u.ActiveAccount
}

// TestRaces makes two calls overlap where one's read decides its later
// write, and checks that the other call's change is neither lost nor
// contradicted. SQLite's single writer serializes them anyway; PostgreSQL
// runs them at once unless the account is locked before the read.
func TestRaces(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		t.Run("a switch racing the removal never leaves the removed member on the team", func(t *testing.T) {
			r, g, acct := gatedRoster(t, b)
			g.arm(func(op string, args ...string) bool { return op == "Member" && args[0] == acct.ID && args[1] == "bob" })
			switchErr, removeErr := race(t, g,
				func() error { return r.Teams.Switch(ctx, "bob", acct.ID) },
				func() error { return r.Teams.RemoveMember(ctx, "alice", acct.ID, "bob") })
			if removeErr != nil {
				t.Fatalf("RemoveMember: %v", removeErr)
			}
			if switchErr != nil && !errors.Is(switchErr, rbac.ErrNotMember) {
				t.Fatalf("Switch: %v", switchErr)
			}
			if got := activeAccount(t, g, "bob"); got == acct.ID {
				t.Errorf("bob's stored active account is %s, the team he was removed from", acct.ID)
			}
			// Joining again does not switch to the team.
			if _, err := r.Teams.AddMember(ctx, "alice", acct.ID, "bob", rbac.RunpodDev); err != nil {
				t.Fatal(err)
			}
			if a, err := r.Teams.Active(ctx, "bob"); err != nil || a.ID == acct.ID {
				t.Errorf("after joining again bob's active account is %s (%v): joining switched", a.ID, err)
			}
			checkNoEventAfterRemoval(t, g, acct.ID, "bob", store.EventUserSwitched)
		})

		t.Run("a host event racing the removal is logged before it or refused", func(t *testing.T) {
			r, g, acct := gatedRoster(t, b)
			g.arm(func(op string, args ...string) bool { return op == "Member" && args[0] == acct.ID && args[1] == "bob" })
			_, recordErr := race(t, g,
				func() error {
					_, err := r.Audit.Record(ctx, "bob", acct.ID, audit.Entry{Action: "pod.created", ResourceType: "pod", ResourceID: "p1"})
					return err
				},
				func() error { return r.Teams.RemoveMember(ctx, "alice", acct.ID, "bob") })
			if recordErr != nil && !errors.Is(recordErr, rbac.ErrNotMember) {
				t.Fatalf("Record: %v", recordErr)
			}
			checkNoEventAfterRemoval(t, g, acct.ID, "bob", "pod.created")
		})

		t.Run("a removal never overwrites a switch to another team", func(t *testing.T) {
			r, g, acct := gatedRoster(t, b)
			other := rostertest.Team(t, r, "carol", map[string]rbac.Role{"bob": rbac.RunpodBasic})
			if err := r.Teams.Switch(ctx, "bob", acct.ID); err != nil {
				t.Fatal(err)
			}
			// The removal stops where it reads or changes bob's user row.
			g.arm(func(op string, args ...string) bool {
				return (op == "User" || op == "SetActiveAccount") && args[0] == "bob"
			})
			removeErr, switchErr := race(t, g,
				func() error { return r.Teams.RemoveMember(ctx, "alice", acct.ID, "bob") },
				func() error { return r.Teams.Switch(ctx, "bob", other.ID) })
			if removeErr != nil || switchErr != nil {
				t.Fatalf("RemoveMember: %v; Switch: %v", removeErr, switchErr)
			}
			if got := activeAccount(t, g, "bob"); got != other.ID {
				t.Errorf("bob's active account is %q, want %s: the removal overwrote his switch", got, other.ID)
			}
		})

		t.Run("a refusal racing the removal is recorded only while a member", func(t *testing.T) {
			r, g, acct := gatedRoster(t, b)
			rostertest.User(t, r, "newcomer")
			// The refused call's transaction, then the one recording the
			// refusal: it stops before it begins.
			g.arm(nth("Update", 2))
			addErr, removeErr := race(t, g,
				func() error {
					_, err := r.Teams.AddMember(ctx, "bob", acct.ID, "newcomer", rbac.RunpodBasic)
					return err
				},
				func() error { return r.Teams.RemoveMember(ctx, "alice", acct.ID, "bob") })
			if !errors.Is(addErr, rbac.ErrDenied) || removeErr != nil {
				t.Fatalf("AddMember: %v (want ErrDenied); RemoveMember: %v", addErr, removeErr)
			}
			checkNoEventAfterRemoval(t, g, acct.ID, "bob", store.EventMemberAdded)
		})

		t.Run("an export racing the removal is recorded while a member", func(t *testing.T) {
			r, g, acct := gatedRoster(t, b)
			if _, err := r.Teams.ChangeRole(ctx, "alice", acct.ID, "bob", rbac.RunpodAdmin); err != nil {
				t.Fatal(err)
			}
			// The export's first write, recording it: it stops before it
			// begins.
			g.arm(nth("Update", 1))
			exportErr, removeErr := race(t, g,
				func() error {
					_, err := r.Audit.Export(ctx, "bob", acct.ID, audit.Filter{}, audit.NDJSON, discardWriter{})
					return err
				},
				func() error { return r.Teams.RemoveMember(ctx, "alice", acct.ID, "bob") })
			if removeErr != nil {
				t.Fatalf("RemoveMember: %v", removeErr)
			}
			if exportErr != nil && !errors.Is(exportErr, rbac.ErrNotMember) {
				t.Fatalf("Export: %v", exportErr)
			}
			checkNoEventAfterRemoval(t, g, acct.ID, "bob", store.EventAuditExported)
		})
	})
}

// checkNoEventAfterRemoval fails t if the account's log has an event of
// action by user after the event that removed them.
func checkNoEventAfterRemoval(t *testing.T, s store.Store, accountID, user string, action store.EventAction) {
	t.Helper()
	es := rostertest.Events(t, s, accountID) // newest first
	for i := len(es) - 1; i >= 0; i-- {
		e := es[i]
		if e.Action == store.EventMemberRemoved && e.ResourceID == user {
			for _, later := range es[:i] {
				if later.Action == action && later.Actor == user {
					t.Errorf("%s by %s (event %d) is logged after their removal (event %d)", action, user, later.ID, e.ID)
				}
			}
			return
		}
	}
}

// discardWriter is an io.Writer that keeps nothing.
type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }

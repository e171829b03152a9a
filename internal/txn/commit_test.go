package txn_test

import (
	"context"
	"errors"
	"testing"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// failingEvents is a Store whose transactions cannot write audit events.
type failingEvents struct{ store.Store }

type failingEventsTx struct{ store.Tx }

var errInjected = errors.New("injected event write failure")

func (s failingEvents) Update(ctx context.Context, fn func(store.Tx) error) (store.Commit, error) {
	return s.Store.Update(ctx, func(tx store.Tx) error { return fn(failingEventsTx{tx}) })
}

func (failingEventsTx) AppendEvent(context.Context, store.Event) (store.Event, error) {
	return store.Event{}, errInjected
}

func TestChangeAndEventCommitTogether(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		r, s := rostertest.Open(t, b, rbac.Runpod())
		acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
		broken, err := roster.New(ctx, failingEvents{s}, rbac.Runpod())
		if err != nil {
			t.Fatal(err)
		}
		rev, ev := rostertest.Writes(t, s)
		calls := map[string]error{}
		_, calls["change role"] = broken.Teams.ChangeRole(ctx, "alice", acct.ID, "bob", rbac.RunpodBasic)
		calls["remove"] = broken.Teams.RemoveMember(ctx, "alice", acct.ID, "bob")
		calls["leave"] = broken.Teams.Leave(ctx, "bob", acct.ID)
		_, calls["rename"] = broken.Teams.Rename(ctx, "alice", acct.ID, "Renamed")
		_, calls["delete team"] = broken.Teams.DeleteTeam(ctx, "alice", acct.ID)
		_, calls["create user"] = broken.Teams.CreateUser(ctx, store.User{ID: "zoe", Email: "zoe@example.com", Name: "Zoe", SignIn: store.SignInEmail})
		for name, err := range calls {
			if !errors.Is(err, errInjected) {
				t.Errorf("%s: error = %v, want the injected failure", name, err)
			}
		}
		if rev2, ev2 := rostertest.Writes(t, s); rev2 != rev || ev2 != ev {
			t.Errorf("failed changes wrote: revision %d -> %d, last event %d -> %d", rev, rev2, ev, ev2)
		}
		for _, rr := range []*roster.Roster{r, broken} {
			if !rr.Can(ctx, "bob", acct.ID, rbac.PodsManage) {
				t.Error("bob lost his role through a change that did not commit")
			}
		}
		if _, err := r.Teams.User(ctx, "zoe"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("user created without its event: %v", err)
		}
	})
}

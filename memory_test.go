package roster_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// TestMemoryBudgetOptions checks what New refuses: a budget below
// MinMemoryBudget, and a budget on a store that cannot read single
// accounts.
func TestMemoryBudgetOptions(t *testing.T) {
	ctx := context.Background()
	s := testdb.Backends()[0].Store(t)
	if _, err := roster.New(ctx, s, rbac.Runpod(), roster.WithMemoryBudget(roster.MinMemoryBudget-1)); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a budget below MinMemoryBudget: %v, want ErrInvalid", err)
	}
	if _, err := roster.New(ctx, struct{ store.Store }{s}, rbac.Runpod(), roster.WithMemoryBudget(roster.MinMemoryBudget)); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a budget on a store that is not a store.AccountReader: %v, want ErrInvalid", err)
	}
	r := rostertest.New(t, s, rbac.Runpod(), roster.WithMemoryBudget(roster.MinMemoryBudget))
	if h := r.Health(); h.Accounts != 0 || h.AccountReads != 0 {
		t.Errorf("a new Roster with a budget holds %d accounts after %d reads, want none", h.Accounts, h.AccountReads)
	}
}

// TestMemoryBudget checks a Roster that holds only the accounts it is
// asked about: it reads an account once, when first asked, and answers
// every question of it as a Roster holding everything does; it reads an
// account the store lacks once, and answers no such account; it learns of
// changes made by another Roster to the accounts it holds; and it keeps
// its memory near the budget by dropping accounts, which it reads again
// when asked.
func TestMemoryBudget(t *testing.T) {
	ctx := context.Background()
	s := testdb.Backends()[0].Store(t)
	whole := rostertest.New(t, s, rbac.Runpod())
	const teams = 40
	var ids []string
	for i := range teams {
		owner := fmt.Sprintf("owner%d", i)
		acct := rostertest.Team(t, whole, owner, map[string]rbac.Role{fmt.Sprintf("dev%d", i): rbac.RunpodDev, fmt.Sprintf("basic%d", i): rbac.RunpodBasic})
		ids = append(ids, acct.ID)
	}
	r := rostertest.New(t, s, rbac.Runpod(), roster.WithMemoryBudget(roster.MinMemoryBudget), roster.WithFollow(10*time.Millisecond))
	users := []string{"owner0", "dev0", "basic0", "owner1", "dev1", "nobody"}

	answers := func(r *roster.Roster, account string) string {
		out := ""
		for _, u := range users {
			for _, a := range rbac.Runpod().Actions() {
				out += fmt.Sprintf("%v|%v;", r.Can(ctx, u, account, a), r.Check(ctx, u, account, a))
			}
		}
		return out
	}
	for i, id := range ids[:2] {
		if got, want := answers(r, id), answers(whole, id); got != want {
			t.Errorf("team %d: the Roster with a budget answers otherwise than the whole one:\n%s\nwant\n%s", i, got, want)
		}
	}
	if h := r.Health(); h.Accounts != 2 || h.AccountReads != 2 {
		t.Errorf("after questions about 2 accounts: %d held, %d reads; want 2 and 2", h.Accounts, h.AccountReads)
	}
	if err := r.Check(ctx, "owner0", "acc_nosuchaccount", rbac.AccountAccess); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an account the store lacks: %v, want ErrNotFound", err)
	}
	r.Can(ctx, "owner0", "acc_nosuchaccount", rbac.AccountAccess)
	if h := r.Health(); h.AccountReads != 3 {
		t.Errorf("an account the store lacks, asked about twice: %d reads in all, want 3", h.AccountReads)
	}

	// A change by the other Roster reaches the accounts held.
	tctx, w := roster.TrackWrites(ctx)
	if err := whole.Teams.RemoveMember(tctx, "owner0", ids[0], "dev0"); err != nil {
		t.Fatal(err)
	}
	if r.CanAt(ctx, w.Revision(), "dev0", ids[0], rbac.PodsManage) {
		t.Error("a member removed by another Roster still may manage pods")
	}

	// Every question again, from a Roster that drops every account after
	// each read: its answers stay right, and it reads accounts again.
	tiny := rostertest.New(t, s, rbac.Runpod(), roster.WithAnyMemoryBudget(1))
	for round := range 2 {
		for i, id := range ids {
			if got, want := answers(tiny, id), answers(whole, id); got != want {
				t.Fatalf("round %d, team %d: a Roster that drops its accounts answers otherwise than the whole one:\n%s\nwant\n%s", round, i, got, want)
			}
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for tiny.Health().Accounts >= teams && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if h := tiny.Health(); h.Accounts >= teams || h.AccountReads <= teams {
		t.Errorf("a budget of one byte, after questions about %d accounts twice: %d held, %d reads; want fewer held, more reads", teams, h.Accounts, h.AccountReads)
	}
}

// failingReader is a Store whose single-account reads fail while fail is
// set.
type failingReader struct {
	store.Store
	fail atomic.Bool
}

func (f *failingReader) SnapshotAccounts(ctx context.Context, accounts []string, fn func(store.SnapshotItem) error) (store.Revision, error) {
	if f.fail.Load() {
		return 0, fmt.Errorf("snapshot accounts: %w", store.ErrBackend)
	}
	return f.Store.(store.AccountReader).SnapshotAccounts(ctx, accounts, fn)
}

// TestMemoryBudgetReadFails checks that a question whose account cannot be
// read is refused: Can says false, Check returns store.ErrBackend, the
// middleware answers 500, the Roster's health says it failed; and that the
// same question is answered once the store reads again.
func TestMemoryBudgetReadFails(t *testing.T) {
	ctx := context.Background()
	s := testdb.Backends()[0].Store(t)
	whole := rostertest.New(t, s, rbac.Runpod())
	acct := rostertest.Team(t, whole, "alice", nil)
	f := &failingReader{Store: s}
	r := rostertest.New(t, f, rbac.Runpod(), roster.WithMemoryBudget(roster.MinMemoryBudget))
	f.fail.Store(true)
	if r.Can(ctx, "alice", acct.ID, rbac.AccountAccess) {
		t.Error("Can allows a question whose account could not be read")
	}
	if err := r.Check(ctx, "alice", acct.ID, rbac.AccountAccess); !errors.Is(err, store.ErrBackend) {
		t.Errorf("Check of a question whose account could not be read: %v, want ErrBackend", err)
	}
	if h := r.Health(); !h.Failing || h.Accounts != 0 {
		t.Errorf("health after failed reads: failing %v, %d accounts held; want failing, none", h.Failing, h.Accounts)
	}
	o := roster.HTTPOptions{User: func(*http.Request) (string, bool) { return "alice", true }, Team: func(*http.Request) (string, bool) { return acct.ID, true }}
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for name, mw := range map[string]func(http.Handler) http.Handler{
		"Require":       r.Require(rbac.AccountAccess, o),
		"RequireMember": r.RequireMember(o),
	} {
		w := httptest.NewRecorder()
		mw(ok).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		if w.Code != http.StatusInternalServerError {
			t.Errorf("%s, the account could not be read: %d, want 500", name, w.Code)
		}
	}
	f.fail.Store(false)
	if !r.Can(ctx, "alice", acct.ID, rbac.AccountAccess) || r.Health().Failing {
		t.Error("once the store reads again, the owner may not access their team, or the health still fails")
	}
}

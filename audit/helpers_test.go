package audit_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// env is a Roster on a fresh database of one backend, with the Store under
// it and a plain SQL handle on the same database for tampering.
type env struct {
	b     testdb.Backend
	r     *roster.Roster
	s     store.Store
	raw   *sql.DB
	inbox *rostertest.Inbox
}

// newEnv opens a fresh database of backend b with policy p.
func newEnv(t testing.TB, b testdb.Backend, p *rbac.Policy) *env {
	t.Helper()
	dsn := b.DSN(t)
	s := b.StoreOn(t, dsn)
	in := &rostertest.Inbox{}
	r := rostertest.New(t, s, p, roster.WithNotifier(in))
	return &env{b: b, r: r, s: s, raw: b.SQL(t, dsn), inbox: in}
}

// handOver makes to the owner of the account by a confirmed and accepted
// ownership transfer from its owner.
func (e *env) handOver(t testing.TB, owner, accountID, to string) {
	t.Helper()
	tr, err := e.r.Teams.TransferOwnership(context.Background(), owner, accountID, to)
	if err != nil {
		t.Fatalf("transfer %s to %s: %v", accountID, to, err)
	}
	e.inbox.Transfer(t, e.r, tr)
}

// exec runs a statement on the raw handle, with ? placeholders.
func (e *env) exec(t testing.TB, query string, args ...any) {
	t.Helper()
	if _, err := e.raw.Exec(e.b.Rebind(query), args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// team creates the owner and a team they converted, then adds each member
// (creating them if needed) with their role, in the order given.
func (e *env) team(t testing.TB, owner string, members ...member) store.Account {
	t.Helper()
	acct := rostertest.Team(t, e.r, owner, nil)
	for _, m := range members {
		if _, err := e.r.Teams.User(context.Background(), m.id); err != nil {
			rostertest.User(t, e.r, m.id)
		}
		if _, err := e.r.Teams.AddMember(context.Background(), owner, acct.ID, m.id, m.role); err != nil {
			t.Fatalf("add %s as %s: %v", m.id, m.role, err)
		}
	}
	return acct
}

type member struct {
	id   string
	role rbac.Role
}

// record records a host event and fails the test on error.
func (e *env) record(t testing.TB, actor, account string, en audit.Entry) store.Event {
	t.Helper()
	ev, err := e.r.Audit.Record(context.Background(), actor, account, en)
	if err != nil {
		t.Fatalf("Record(%s, %+v): %v", actor, en, err)
	}
	return ev
}

// all returns every event of the account, newest first, read from the
// store directly.
func (e *env) all(t testing.TB, account string) []store.Event {
	t.Helper()
	return rostertest.Events(t, e.s, account)
}

// chainOrder returns every event of the account, oldest first.
func (e *env) chainOrder(t testing.TB, account string) []store.Event {
	t.Helper()
	return e.events(t, store.EventFilter{AccountID: account, Order: store.AppendOrder})
}

// events returns the events the filter selects, read from the store
// directly.
func (e *env) events(t testing.TB, f store.EventFilter) []store.Event {
	t.Helper()
	return rostertest.EventsWhere(t, e.s, f)
}

// count returns the number of events in the store.
func (e *env) count(t testing.TB) int {
	t.Helper()
	return len(e.events(t, store.EventFilter{}))
}

// queryAll pages through Query with the filter and returns every event. It
// fails t if a page repeats an event (a cursor that does not move on).
func queryAll(t testing.TB, svc *audit.Service, actor, account string, f audit.Filter) []store.Event {
	t.Helper()
	var out []store.Event
	seen := map[int64]bool{}
	for page := 0; ; page++ {
		if page > 10000 {
			t.Fatal("paging does not end")
		}
		es, next, err := svc.Query(context.Background(), actor, account, f)
		if err != nil {
			t.Fatalf("Query(%+v): %v", f, err)
		}
		for _, e := range es {
			if seen[e.ID] {
				t.Fatalf("page %d repeats event %d: the cursor did not move on", page, e.ID)
			}
			seen[e.ID] = true
		}
		out = append(out, es...)
		if next == "" {
			return out
		}
		if len(es) == 0 {
			t.Fatal("Query returned an empty page with a next cursor")
		}
		f.Cursor = next
	}
}

// eventIDs returns the IDs of events, for messages and comparisons.
func eventIDs(es []store.Event) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

// checkEvents fails the test unless got equals want.
func checkEvents(t testing.TB, what string, want, got []store.Event) {
	t.Helper()
	if d := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool {
		return a.Equal(b) && a.Location() == b.Location()
	})); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

// checkErr fails the test unless err wraps target.
func checkErr(t testing.TB, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error = %v, want one wrapping %v", what, err, target)
	}
}

// tamper returns the *TamperError in err, failing the test if there is none.
func tamper(t testing.TB, err error) *audit.TamperError {
	t.Helper()
	var te *audit.TamperError
	if !errors.As(err, &te) || !errors.Is(err, audit.ErrTampered) {
		t.Fatalf("Verify = %v, want a *TamperError wrapping ErrTampered", err)
	}
	return te
}

// writeAtOnce writes from several goroutines at once, each times over:
// host events recorded by bob and carol in acct and by zed and bob in
// other, through a and b in turn; carol's role in acct changed between
// basic and billing through b; and acct's log queried by alice through a.
// It fails t on any error.
func writeAtOnce(t testing.TB, a, b *roster.Roster, acct, other string, each int) {
	t.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	writer := func(svc *audit.Service, actor, account string) {
		wg.Go(func() {
			for i := range each {
				if _, err := svc.Record(ctx, actor, account, audit.Entry{Action: "pod.created", ResourceID: fmt.Sprint(actor, i)}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	writer(a.Audit, "bob", acct)
	writer(b.Audit, "carol", acct)
	writer(a.Audit, "zed", other)
	writer(b.Audit, "bob", other)
	wg.Go(func() {
		for i := range each {
			role := []rbac.Role{rbac.RunpodBasic, rbac.RunpodBilling}[i%2]
			if _, err := b.Teams.ChangeRole(ctx, "alice", acct, "carol", role); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Go(func() {
		for range each {
			if _, _, err := a.Audit.Query(ctx, "alice", acct, audit.Filter{Limit: 5}); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

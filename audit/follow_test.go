package audit_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// delivery is one call of Follow's fn.
type delivery struct {
	e    store.Event
	next string
	at   time.Time
}

// following is a Follow running in a goroutine, handing its deliveries to
// the test.
type following struct {
	got    chan delivery
	cancel context.CancelFunc
	done   chan error
}

// follow starts svc.Follow from cursor; it is stopped when t ends.
func follow(t testing.TB, svc *audit.Service, cursor string) *following {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := &following{got: make(chan delivery, 10000), cancel: cancel, done: make(chan error, 1)}
	go func() {
		f.done <- svc.Follow(ctx, cursor, func(_ context.Context, e store.Event, next string) error {
			f.got <- delivery{e: e, next: next, at: time.Now()}
			return nil
		})
	}()
	t.Cleanup(func() { f.stop(t) })
	return f
}

// take returns the next n deliveries, failing t if they do not come within
// 10 s.
func (f *following) take(t testing.TB, n int) []delivery {
	t.Helper()
	out := make([]delivery, 0, n)
	deadline := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case d := <-f.got:
			out = append(out, d)
		case err := <-f.done:
			t.Fatalf("Follow returned %v after %d of %d events", err, len(out), n)
		case <-deadline:
			t.Fatalf("Follow delivered %d of %d events within 10 s", len(out), n)
		}
	}
	return out
}

// stop ends Follow and returns its error; it is idempotent.
func (f *following) stop(t testing.TB) error {
	t.Helper()
	f.cancel()
	select {
	case err, ok := <-f.done:
		if ok {
			close(f.done)
		}
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Follow did not return after its context ended")
	}
	return nil
}

// stream returns every event of the store in stream order.
//
// On PostgreSQL the stream holds back events committed after a
// transaction that is still open began, anywhere in the database (the
// tests of other packages run beside these), until it ends; so stream
// reads again, for up to 10 seconds, until it holds as many events as are
// stored.
func stream(t testing.TB, s store.Store) []store.Event {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var out []store.Event
		var pos store.EventPosition
		for {
			page, err := s.EventsAfter(ctx, pos, store.MaxPageSize)
			if err != nil {
				t.Fatalf("EventsAfter: %v", err)
			}
			if len(page) == 0 {
				break
			}
			for _, se := range page {
				out = append(out, se.Event)
			}
			pos = page[len(page)-1].Position
		}
		var stored int
		if err := s.View(ctx, func(tx store.Tx) error {
			es, err := tx.Events(ctx, store.EventFilter{Order: store.AppendOrder})
			stored = len(es)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if len(out) >= stored || time.Now().After(deadline) {
			return out
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// deliveredIDs returns the IDs of the delivered events.
func deliveredIDs(ds []delivery) []int64 {
	ids := make([]int64, len(ds))
	for i, d := range ds {
		ids[i] = d.e.ID
	}
	return ids
}

func TestFollowDeliversEveryEventOnceInStreamOrder(t *testing.T) {
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, b, rbac.Runpod())
		acct := e.team(t, "alice", member{"bob", rbac.RunpodDev}, member{"carol", rbac.RunpodBasic})
		other := e.team(t, "zed", member{"bob", rbac.RunpodDev})
		f := follow(t, e.r.Audit, "")
		const each = 20
		writeAtOnce(t, e.r, e.r, acct.ID, other.ID, each)
		want := stream(t, e.s)
		got := f.take(t, len(want))
		// The stream holds every stored event once: it is the whole log.
		streamed := slices.Sorted(slices.Values(eventIDs(want)))
		if stored := eventIDs(e.events(t, store.EventFilter{Order: store.AppendOrder})); !slices.Equal(streamed, stored) || len(stored) < 5*each {
			t.Errorf("the stream holds events %v, want the %d stored %v", streamed, len(stored), stored)
		}
		select {
		case d := <-f.got:
			t.Errorf("event %d delivered beyond the stream", d.e.ID)
		case <-time.After(50 * time.Millisecond):
		}
		checkEvents(t, "delivered events", want, func() []store.Event {
			es := make([]store.Event, len(got))
			for i, d := range got {
				es[i] = d.e
			}
			return es
		}())
	})
}

func TestFollowResumesFromTheStoredCursor(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, b, rbac.Runpod())
		acct := e.team(t, "alice", member{"bob", rbac.RunpodDev})
		for i := range 5 {
			e.record(t, "bob", acct.ID, audit.Entry{Action: "pod.created", ResourceID: fmt.Sprint("before", i)})
		}
		// The host handles three events, storing each one's cursor, and
		// stops while handling the fourth, before storing its cursor.
		errCrash := errors.New("host stopped")
		var stored string
		var handled []int64
		n := 0
		err := e.r.Audit.Follow(ctx, "", func(_ context.Context, ev store.Event, next string) error {
			if n++; n == 4 {
				return errCrash
			}
			handled = append(handled, ev.ID)
			stored = next
			return nil
		})
		if err != errCrash {
			t.Fatalf("Follow = %v, want fn's error unchanged", err)
		}
		for i := range 3 {
			e.record(t, "bob", acct.ID, audit.Entry{Action: "pod.created", ResourceID: fmt.Sprint("stopped", i)})
		}
		want := stream(t, e.s)
		f := follow(t, e.r.Audit, stored)
		rest := f.take(t, len(want)-len(handled))
		all := append(handled, deliveredIDs(rest)...)
		if !slices.Equal(all, eventIDs(want)) {
			t.Errorf("events before and after the restart = %v, want %v", all, eventIDs(want))
		}
		ev := e.record(t, "bob", acct.ID, audit.Entry{Action: "pod.created", ResourceID: "after"})
		if got := f.take(t, 1); got[0].e.ID != ev.ID {
			t.Errorf("after the restart Follow delivered event %d, want the new event %d", got[0].e.ID, ev.ID)
		}
	})
}

func TestFollowSeesAnotherInstancesEvents(t *testing.T) {
	ctx := context.Background()
	pg := slices.IndexFunc(testdb.Backends(), func(b testdb.Backend) bool { return b.Name == "postgres" })
	b := testdb.Backends()[pg]
	b.Skip(t)
	dsn := b.DSN(t)
	here := rostertest.New(t, b.StoreOn(t, dsn), rbac.Runpod())
	ts := b.StoreOn(t, dsn)
	there := rostertest.New(t, ts, rbac.Runpod())
	acct := rostertest.Team(t, there, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
	f := follow(t, here.Audit, "")
	f.take(t, len(stream(t, ts))) // the team's setup
	const n = 20
	lat := make([]time.Duration, n)
	for i := range n {
		ev, err := there.Audit.Record(ctx, "bob", acct.ID, audit.Entry{Action: "pod.created", ResourceID: fmt.Sprint(i)})
		if err != nil {
			t.Fatal(err)
		}
		committed := time.Now()
		d := f.take(t, 1)[0]
		if d.e.ID != ev.ID {
			t.Fatalf("delivered event %d, want %d recorded by the other instance", d.e.ID, ev.ID)
		}
		lat[i] = d.at.Sub(committed)
	}
	slices.Sort(lat)
	t.Logf("commit to delivery across instances over %d events: median %v, max %v", n, lat[n/2], lat[n-1])
}

func TestFollowRefusesBadArguments(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, testdb.Backends()[0], rbac.Runpod())
	acct := e.team(t, "alice", member{"bob", rbac.RunpodDev})
	_, page, err := e.r.Audit.Query(ctx, "alice", acct.ID, audit.Filter{Limit: 1})
	if err != nil || page == "" {
		t.Fatalf("Query = %q, %v; want a next cursor", page, err)
	}
	var good string
	stop := errors.New("stop")
	if err := e.r.Audit.Follow(ctx, "", func(_ context.Context, _ store.Event, next string) error { good = next; return stop }); err != stop {
		t.Fatalf("Follow = %v, want %v", err, stop)
	}
	called := false
	fn := func(context.Context, store.Event, string) error { called = true; return nil }
	for _, c := range []struct{ name, cursor string }{
		{"not base64", "%%%"},
		{"another list's cursor", page},
		{"an altered cursor", good[:len(good)-2] + "AA"},
	} {
		checkErr(t, "Follow from "+c.name, e.r.Audit.Follow(ctx, c.cursor, fn), store.ErrInvalid)
	}
	checkErr(t, "Follow with a nil func", e.r.Audit.Follow(ctx, "", nil), store.ErrInvalid)
	if called {
		t.Error("Follow called fn despite a bad argument")
	}
	ctx, cancel := context.WithCancel(ctx)
	cancel()
	checkErr(t, "Follow with an ended context", e.r.Audit.Follow(ctx, good, fn), context.Canceled)
}

package roster_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teams"
)

// eventually waits for cond to hold, checking every millisecond, and fails
// the test after a generous deadline (a liveness bound, not a timing claim).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// instance returns another Roster on s, closed when the test ends.
func instance(t *testing.T, s store.Store, p *rbac.Policy, opts ...roster.Option) *roster.Roster {
	t.Helper()
	r, err := roster.New(context.Background(), s, p, opts...)
	if err != nil {
		t.Fatalf("roster.New: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return r
}

// followers returns how many goroutines Rosters run to follow their stores.
func followers() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		// The goroutines startFollowing starts, once they run.
		if strings.Contains(g, "roster.(*Roster).startFollowing.func") {
			count++
		}
	}
	return count
}

// losing is a Store whose announcement of one revision is lost.
type losing struct {
	store.Store
	w    store.Watcher
	lost store.Revision
}

func (l losing) Watch(ctx context.Context, fn func(store.Revision)) error {
	return l.w.Watch(ctx, func(rev store.Revision) {
		if rev != l.lost {
			fn(rev)
		}
	})
}

// failing is a Store whose Changes fails while fails is above zero,
// counting down; it does not announce.
type failing struct {
	store.Store
	fails *atomic.Int32
}

func (f failing) Changes(ctx context.Context, after store.Revision, limit int) ([]store.Change, error) {
	if f.fails.Add(-1) >= 0 {
		return nil, fmt.Errorf("test: %w", store.ErrBackend)
	}
	return f.Store.Changes(ctx, after, limit)
}

// lying is a Store that announces, once, a revision it does not have, and
// counts the reads of its changes.
type lying struct {
	store.Store
	reads *atomic.Int32
}

func (l lying) Watch(ctx context.Context, fn func(store.Revision)) error {
	fn(1 << 40)
	<-ctx.Done()
	return ctx.Err()
}

func (l lying) Changes(ctx context.Context, after store.Revision, limit int) ([]store.Change, error) {
	l.reads.Add(1)
	return l.Store.Changes(ctx, after, limit)
}

// gapped is a Store whose Changes leaves out one revision, and does not
// announce.
type gapped struct {
	store.Store
	skip store.Revision
}

func (g gapped) Changes(ctx context.Context, after store.Revision, limit int) ([]store.Change, error) {
	all, err := g.Store.Changes(ctx, after, limit)
	return slices.DeleteFunc(all, func(c store.Change) bool { return c.Revision == g.skip }), err
}

// behind is a Store whose Changes fails while fail is set; it does not
// announce.
type behind struct {
	store.Store
	fail *atomic.Bool
}

func (b behind) Changes(ctx context.Context, after store.Revision, limit int) ([]store.Change, error) {
	if b.fail.Load() {
		return nil, fmt.Errorf("test: %w", store.ErrBackend)
	}
	return b.Store.Changes(ctx, after, limit)
}

func TestFollow(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		t.Run("another roster on the store sees a removal without Sync", func(t *testing.T) {
			// An hour's backstop: only the store's announcement can bring it.
			r1, s := rostertest.Open(t, b, rbac.Runpod(), roster.WithFollow(time.Hour))
			acct := rostertest.Team(t, r1, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
			r2 := instance(t, s, rbac.Runpod(), roster.WithFollow(time.Hour))
			if !r2.Can(ctx, "bob", acct.ID, rbac.PodsManage) {
				t.Fatal("the second roster does not see the stored membership")
			}
			if err := r1.Teams.RemoveMember(ctx, "alice", acct.ID, "bob"); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the second roster denies the removed member", func() bool {
				return !r2.Can(ctx, "bob", acct.ID, rbac.PodsManage)
			})
			if r1.Revision() != r2.Revision() {
				t.Errorf("revisions differ: %d and %d", r1.Revision(), r2.Revision())
			}
		})

		t.Run("the backstop brings changes a store does not announce", func(t *testing.T) {
			r1, s := rostertest.Open(t, b, rbac.Runpod())
			acct := rostertest.Team(t, r1, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
			// Embedding only the interface hides Watch.
			r2 := instance(t, struct{ store.Store }{s}, rbac.Runpod(), roster.WithFollow(20*time.Millisecond))
			if err := r1.Teams.RemoveMember(ctx, "alice", acct.ID, "bob"); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the second roster denies the removed member", func() bool {
				return !r2.Can(ctx, "bob", acct.ID, rbac.PodsManage)
			})
		})

		t.Run("a failed read is tried again", func(t *testing.T) {
			r1, s := rostertest.Open(t, b, rbac.Runpod())
			acct := rostertest.Team(t, r1, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
			fails := &atomic.Int32{}
			r2 := instance(t, failing{s, fails}, rbac.Runpod(), roster.WithFollow(10*time.Millisecond))
			fails.Store(3)
			if err := r1.Teams.RemoveMember(ctx, "alice", acct.ID, "bob"); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the second roster denies the removed member", func() bool {
				return !r2.Can(ctx, "bob", acct.ID, rbac.PodsManage)
			})
			if n := fails.Load(); n >= 0 {
				t.Errorf("%d reads were left to fail: the roster did not read through the failures", n+1)
			}
		})

		t.Run("a lost announcement is caught up with the next one", func(t *testing.T) {
			r1, s := rostertest.Open(t, b, rbac.Runpod(), roster.WithFollow(0))
			acct := rostertest.Team(t, r1, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
			lost := r1.Revision() + 1 // the removal's
			w, ok := s.(store.Watcher)
			if !ok {
				t.Fatal("the store does not announce its commits")
			}
			r2 := instance(t, losing{s, w, lost}, rbac.Runpod(), roster.WithFollow(time.Hour))
			if err := r1.Teams.RemoveMember(ctx, "alice", acct.ID, "bob"); err != nil {
				t.Fatal(err)
			}
			rostertest.User(t, r1, "carol") // announced
			eventually(t, "the second roster has both changes", func() bool { return r2.Revision() == r1.Revision() })
			if r2.Can(ctx, "bob", acct.ID, rbac.PodsManage) {
				t.Error("the second roster skipped the change whose announcement was lost")
			}
		})

		t.Run("an announced revision the store does not have costs a bounded number of reads", func(t *testing.T) {
			_, s := rostertest.Open(t, b, rbac.Runpod())
			reads := &atomic.Int32{}
			r := instance(t, lying{s, reads}, rbac.Runpod(), roster.WithFollow(time.Hour))
			// Reading every few milliseconds for as long as the lie stands
			// would make about a hundred reads in this time.
			time.Sleep(500 * time.Millisecond)
			if n := reads.Load(); n > 12 {
				t.Errorf("%d reads of the changes after one false announcement, want a bounded few", n)
			}
			if r.Revision() != 0 {
				t.Errorf("revision %d, want 0: nothing was committed", r.Revision())
			}
		})

		t.Run("the removal hook runs when the removal commits but memory cannot follow", func(t *testing.T) {
			var removed atomic.Int32
			fail := &atomic.Bool{}
			r1, s := rostertest.Open(t, b, rbac.Runpod())
			r2 := instance(t, behind{s, fail}, rbac.Runpod(), roster.WithFollow(0),
				roster.WithRemovalHook(func(context.Context, teams.Removal) { removed.Add(1) }))
			acct := rostertest.Team(t, r1, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
			// r2 is behind r1, so applying its own commit needs a read,
			// which fails.
			fail.Store(true)
			err := r2.Teams.RemoveMember(ctx, "alice", acct.ID, "bob")
			if err == nil || !errors.Is(err, store.ErrBackend) {
				t.Fatalf("RemoveMember with memory behind: %v, want the read's failure", err)
			}
			if removed.Load() != 1 {
				t.Errorf("the removal hook ran %d times, want once: the removal is committed", removed.Load())
			}
			fail.Store(false)
			if err := r2.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if r2.Can(ctx, "bob", acct.ID, rbac.PodsManage) {
				t.Error("the removed member is allowed after Sync")
			}
		})

		t.Run("a store that skips a revision makes Sync fail, and the view stays behind it", func(t *testing.T) {
			r1, s := rostertest.Open(t, b, rbac.Runpod())
			acct := rostertest.Team(t, r1, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
			lagging := rostertest.New(t, gapped{Store: s, skip: r1.Revision() + 1}, rbac.Runpod(), roster.WithFollow(0))
			if err := r1.Teams.RemoveMember(ctx, "alice", acct.ID, "bob"); err != nil { // the skipped revision
				t.Fatal(err)
			}
			rostertest.User(t, r1, "carol")
			if err := lagging.Sync(ctx); !errors.Is(err, store.ErrBackend) {
				t.Errorf("Sync over a gap: %v, want ErrBackend", err)
			}
			if lagging.Revision() >= r1.Revision() {
				t.Errorf("the view claims revision %d over a gap (store at %d)", lagging.Revision(), r1.Revision())
			}
		})

		t.Run("account changes have revisions", func(t *testing.T) {
			r1, s := rostertest.Open(t, b, rbac.Runpod())
			r2 := instance(t, s, rbac.Runpod(), roster.WithFollow(0))
			personal := rostertest.User(t, r1, "alice")
			for _, step := range []struct {
				name   string
				change func(context.Context) error
			}{
				{"convert", func(ctx context.Context) error {
					_, err := r1.Teams.ConvertToTeam(ctx, "alice", personal.ID, "Acme")
					return err
				}},
				{"rename", func(ctx context.Context) error {
					_, err := r1.Teams.Rename(ctx, "alice", personal.ID, "Acme Labs")
					return err
				}},
				{"delete team", func(ctx context.Context) error {
					_, err := r1.Teams.DeleteTeam(ctx, "alice", personal.ID)
					return err
				}},
			} {
				name, change := step.name, step.change
				tctx, w := roster.TrackWrites(ctx)
				before := r1.Revision()
				if err := change(tctx); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if w.Revision() == 0 || w.Revision() <= before {
					t.Errorf("%s: tracked revision %d (roster was at %d), want a new one", name, w.Revision(), before)
				}
				if err := r2.WaitFor(ctx, w.Revision()); err != nil || r2.Revision() < w.Revision() {
					t.Errorf("%s: another roster waiting for its revision: %v (at %d)", name, err, r2.Revision())
				}
			}
		})

		t.Run("TrackWrites gives the revision of each write and nothing for reads", func(t *testing.T) {
			r, _ := rostertest.Open(t, b, rbac.Runpod())
			acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
			tctx, w := roster.TrackWrites(ctx)
			if _, _, err := r.Teams.Members(tctx, "alice", acct.ID, store.Page{}); err != nil {
				t.Fatal(err)
			}
			if w.Revision() != 0 {
				t.Errorf("a read recorded revision %d", w.Revision())
			}
			if _, err := r.Teams.ChangeRole(tctx, "alice", acct.ID, "bob", rbac.RunpodBilling); err != nil {
				t.Fatal(err)
			}
			if got := w.Revision(); got == 0 || got != r.Revision() {
				t.Errorf("tracked revision %d after a role change, roster at %d", got, r.Revision())
			}
			before := w.Revision()
			if err := r.Teams.RemoveMember(tctx, "alice", acct.ID, "bob"); err != nil {
				t.Fatal(err)
			}
			if got := w.Revision(); got != before+1 {
				t.Errorf("tracked revision %d after the removal, want %d", got, before+1)
			}
		})

		t.Run("CanAt answers as of the revision it is given", func(t *testing.T) {
			r1, s := rostertest.Open(t, b, rbac.Runpod())
			acct := rostertest.Team(t, r1, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
			r2 := instance(t, s, rbac.Runpod(), roster.WithFollow(0)) // never follows by itself
			tctx, w := roster.TrackWrites(ctx)
			if err := r1.Teams.RemoveMember(tctx, "alice", acct.ID, "bob"); err != nil {
				t.Fatal(err)
			}
			if !r2.Can(ctx, "bob", acct.ID, rbac.PodsManage) {
				t.Fatal("a roster that does not follow saw the removal: the test cannot tell CanAt from Can")
			}
			if r2.CanAt(ctx, w.Revision(), "bob", acct.ID, rbac.PodsManage) {
				t.Error("CanAt at the removal's revision allows the removed member")
			}
			if r2.Revision() < w.Revision() {
				t.Errorf("after CanAt the roster is at %d, before the removal's %d", r2.Revision(), w.Revision())
			}
			if !r2.CanAt(ctx, w.Revision(), "alice", acct.ID, rbac.PodsManage) {
				t.Error("CanAt denies the owner")
			}
		})

		t.Run("WaitFor refuses a revision the store does not have, and ends with its context", func(t *testing.T) {
			r1, s := rostertest.Open(t, b, rbac.Runpod())
			acct := rostertest.Team(t, r1, "alice", nil)
			r2 := instance(t, s, rbac.Runpod(), roster.WithFollow(0))
			ahead := r1.Revision() + 100
			if err := r2.WaitFor(ctx, ahead); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("WaitFor(a future revision) = %v, want ErrInvalid", err)
			}
			if r2.CanAt(ctx, ahead, "alice", acct.ID, rbac.PodsManage) {
				t.Error("CanAt at a future revision allows: it must fail closed")
			}
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			if err := r2.WaitFor(cctx, ahead); !errors.Is(err, context.Canceled) {
				t.Errorf("WaitFor with a canceled context = %v, want context.Canceled", err)
			}
			if err := r2.WaitFor(cctx, r1.Revision()); err != nil {
				t.Errorf("WaitFor(a revision the roster has) = %v, want nil at once", err)
			}
		})

		t.Run("CheckStrict decides from the database with the same policy", func(t *testing.T) {
			r1, s := rostertest.Open(t, b, rbac.Runpod())
			acct := rostertest.Team(t, r1, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev, "carol": rbac.RunpodBasic, "dave": rbac.RunpodBilling})
			if _, err := r1.Teams.DefineRole(ctx, "alice", acct.ID, "pod-operator", []rbac.Action{rbac.PodsManage}); err != nil {
				t.Fatal(err)
			}
			if _, err := r1.Teams.ChangeRole(ctx, "alice", acct.ID, "carol", "pod-operator"); err != nil {
				t.Fatal(err)
			}
			stale := instance(t, s, rbac.Runpod(), roster.WithFollow(0))
			if err := r1.Teams.RemoveMember(ctx, "alice", acct.ID, "bob"); err != nil {
				t.Fatal(err)
			}
			if err := stale.Check(ctx, "bob", acct.ID, rbac.PodsManage); err != nil {
				t.Fatalf("the stale roster already denies (%v): the test cannot tell CheckStrict from Check", err)
			}
			if err := stale.CheckStrict(ctx, "bob", acct.ID, rbac.PodsManage); !errors.Is(err, rbac.ErrNotMember) {
				t.Errorf("CheckStrict of the removed member = %v, want ErrNotMember", err)
			}
			// Everything else: the same answer as Check on an up-to-date roster.
			questions := []struct {
				user, account string
				action        rbac.Action
			}{
				{"alice", acct.ID, rbac.PodsManage}, {"carol", acct.ID, rbac.PodsManage},
				{"carol", acct.ID, rbac.BillingRead}, {"dave", acct.ID, rbac.BillingRead},
				{"dave", acct.ID, rbac.PodsManage}, {"bob", acct.ID, rbac.PodsManage},
				{"nobody", acct.ID, rbac.PodsManage}, {"alice", "no-such-account", rbac.PodsManage},
				{"alice", acct.ID, "no.such.action"}, {"", acct.ID, rbac.PodsManage},
			}
			for _, sentinel := range []error{nil, rbac.ErrDenied, rbac.ErrNotMember, store.ErrNotFound, rbac.ErrUnknownAction, store.ErrInvalid} {
				for _, q := range questions {
					want := r1.Check(ctx, q.user, q.account, q.action)
					got := stale.CheckStrict(ctx, q.user, q.account, q.action)
					if (sentinel == nil && (want == nil) != (got == nil)) || (sentinel != nil && errors.Is(want, sentinel) != errors.Is(got, sentinel)) {
						t.Errorf("%s may %s on %s: CheckStrict = %v, Check = %v", q.user, q.action, q.account, got, want)
					}
				}
			}
		})

		t.Run("a team role defined on one roster reaches the other, and re-applying it is harmless", func(t *testing.T) {
			r1, s := rostertest.Open(t, b, rbac.Runpod(), roster.WithFollow(time.Hour))
			acct := rostertest.Team(t, r1, "alice", map[string]rbac.Role{"bob": rbac.RunpodBasic})
			r2 := instance(t, s, rbac.Runpod(), roster.WithFollow(time.Hour))
			for _, actions := range [][]rbac.Action{{rbac.PodsManage}, {rbac.BillingRead}} {
				if _, err := r1.Teams.DefineRole(ctx, "alice", acct.ID, "custom", actions); err != nil {
					t.Fatal(err)
				}
				if _, err := r1.Teams.ChangeRole(ctx, "alice", acct.ID, "bob", "custom"); err != nil && !errors.Is(err, store.ErrExists) {
					t.Fatal(err)
				}
				eventually(t, "the second roster follows the team role", func() bool {
					return r2.Revision() == r1.Revision() && r2.Can(ctx, "bob", acct.ID, actions[0])
				})
				for _, r := range []*roster.Roster{r1, r2} {
					if err := r.Sync(ctx); err != nil {
						t.Errorf("Sync after the team role came back: %v", err)
					}
				}
				if d1, d2 := r1.Explain(ctx, "bob", acct.ID, actions[0]), r2.Explain(ctx, "bob", acct.ID, actions[0]); d1.String() != d2.String() {
					t.Errorf("the rosters disagree: %s and %s", d1, d2)
				}
			}
		})

		t.Run("Close stops the follower", func(t *testing.T) {
			eventually(t, "earlier tests' followers end", func() bool { return followers() == 0 })
			s := b.Store(t)
			r, err := roster.New(ctx, s, rbac.Runpod())
			if err != nil {
				t.Fatal(err)
			}
			// The store announces, so both goroutines run: the loop and Watch.
			eventually(t, "the roster's follower runs", func() bool { return followers() == 2 })
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if n := followers(); n != 0 {
				t.Errorf("%d follower goroutines still run after Close", n)
			}
		})
	})
}

func TestInMemoryView(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		t.Run("a second roster on the same store sees changes after Sync", func(t *testing.T) {
			r1, s := rostertest.Open(t, b, rbac.Runpod())
			acct := rostertest.Team(t, r1, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
			r2, err := roster.New(ctx, s, rbac.Runpod())
			if err != nil {
				t.Fatal(err)
			}
			if !r2.Can(ctx, "bob", acct.ID, rbac.PodsManage) {
				t.Fatal("a new roster does not see the stored membership")
			}
			if err := r1.Teams.RemoveMember(ctx, "alice", acct.ID, "bob"); err != nil {
				t.Fatal(err)
			}
			if err := r2.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if r2.Can(ctx, "bob", acct.ID, rbac.PodsManage) {
				t.Error("after Sync the second roster still allows the removed member")
			}
			if r1.Revision() != r2.Revision() {
				t.Errorf("revisions differ after Sync: %d and %d", r1.Revision(), r2.Revision())
			}
		})

		t.Run("a roster catches up on others' commits when it commits", func(t *testing.T) {
			r1, s := rostertest.Open(t, b, rbac.Runpod())
			acct := rostertest.Team(t, r1, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
			r2, err := roster.New(ctx, s, rbac.Runpod())
			if err != nil {
				t.Fatal(err)
			}
			// r1 changes bob; r2 then makes a change of its own, which skips
			// a revision and so brings in r1's change too.
			if _, err := r1.Teams.ChangeRole(ctx, "alice", acct.ID, "bob", rbac.RunpodBilling); err != nil {
				t.Fatal(err)
			}
			rostertest.User(t, r2, "carol")
			if r2.Can(ctx, "bob", acct.ID, rbac.PodsManage) || !r2.Can(ctx, "bob", acct.ID, rbac.BillingRead) {
				t.Error("r2 did not apply r1's role change when it caught up")
			}
		})

		t.Run("the view equals a fresh load after many changes", func(t *testing.T) {
			in := &rostertest.Inbox{}
			r1, s := rostertest.Open(t, b, rbac.DigitalOcean(), roster.WithNotifier(in))
			acct := rostertest.Team(t, r1, "olive", map[string]rbac.Role{"a": rbac.DigitalOceanMember, "b": rbac.DigitalOceanBiller, "c": rbac.DigitalOceanModifier})
			other := rostertest.Team(t, r1, "oscar", map[string]rbac.Role{"a": rbac.DigitalOceanResourceViewer})
			steps := []func() error{
				func() error { in.MakeTop(t, r1, "olive", acct.ID, "a"); return nil },
				func() error {
					tr, err := r1.Teams.TransferOwnership(ctx, "olive", acct.ID, "a")
					if err != nil {
						return err
					}
					if _, err := r1.Teams.ConfirmTransfer(ctx, "olive", tr.ID, in.Last(t, "olive").Token); err != nil {
						return err
					}
					_, err = r1.Teams.AcceptTransfer(ctx, "a", tr.ID, in.Last(t, "a").Token)
					return err
				},
				func() error { return r1.Teams.Leave(ctx, "olive", acct.ID) },
				func() error { return r1.Teams.RemoveMember(ctx, "a", acct.ID, "b") },
				func() error {
					_, err := r1.Teams.AddMember(ctx, "oscar", other.ID, "c", rbac.DigitalOceanBiller)
					return err
				},
				func() error { _, err := r1.Teams.DeleteTeam(ctx, "a", acct.ID); return err },
			}
			for i, step := range steps {
				if err := step(); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
			}
			fresh, err := roster.New(ctx, s, rbac.DigitalOcean())
			if err != nil {
				t.Fatal(err)
			}
			if fresh.Revision() != r1.Revision() {
				t.Errorf("fresh load at revision %d, live view at %d", fresh.Revision(), r1.Revision())
			}
			for _, u := range []string{"olive", "oscar", "a", "b", "c"} {
				for _, id := range []string{acct.ID, other.ID} {
					for _, a := range rbac.DigitalOcean().Actions() {
						if got, want := r1.Can(ctx, u, id, a), fresh.Can(ctx, u, id, a); got != want {
							t.Errorf("Can(%s, %s, %s): live view %v, fresh load %v", u, id, a, got, want)
						}
					}
				}
			}
		})
	})

	t.Run("reopening a SQLite file restores every answer", func(t *testing.T) {
		path := testdb.SQLitePath(t)
		r, err := roster.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodBilling})
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		r, err = roster.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if !r.Can(ctx, "bob", acct.ID, rbac.BillingManage) || r.Can(ctx, "bob", acct.ID, rbac.PodsConnect) {
			t.Error("reopened roster answers differently")
		}
	})
}

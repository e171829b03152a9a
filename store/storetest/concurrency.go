package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/teamroster/roster/store"
)

// writers is how many goroutines the concurrency tests start.
const writers = 20

// parallel runs fn(i) for i in [0, n) on n goroutines started together and
// returns their errors.
func parallel(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			errs[i] = fn(i)
		}()
	}
	start.Done()
	done.Wait()
	return errs
}

func (s suite) concurrency() []test {
	return []test{
		{"read-then-write updates on one account run one after the other", func(t *testing.T) {
			st := s.open(t)
			ids := make([]string, writers)
			for i := range ids {
				ids[i] = fmt.Sprintf("user%02d", i)
			}
			seedUsers(t, st, ids...)
			seedAccounts(t, st, "team1")
			seen := make([]int, writers)
			ctx := t.Context()
			errs := parallel(writers, func(i int) error {
				_, err := st.Update(ctx, func(tx store.Tx) error {
					if _, err := tx.LockAccount(ctx, "team1"); err != nil {
						return err
					}
					ms, err := tx.Members(ctx, "team1")
					if err != nil {
						return err
					}
					seen[i] = len(ms)
					if err := tx.CreateMember(ctx, store.Member{AccountID: "team1", UserID: ids[i], Role: "dev", JoinedAt: at(i)}); err != nil {
						return err
					}
					_, err = tx.AppendEvent(ctx, store.Event{AccountID: "team1", Action: "member.joined", ResourceID: ids[i]})
					return err
				})
				return err
			})
			for i, err := range errs {
				if err != nil {
					t.Errorf("writer %d: %v", i, err)
				}
			}
			// Each writer saw the members of all writers before it.
			slices.Sort(seen)
			for i, n := range seen {
				if n != i {
					t.Fatalf("writers saw member counts %v, want 0..%d once each", seen, writers-1)
				}
			}
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				ms, err := tx.Members(ctx, "team1")
				if err != nil {
					return err
				}
				if len(ms) != writers {
					t.Errorf("got %d members, want %d", len(ms), writers)
				}
				events, err := tx.Events(ctx, store.EventFilter{AccountID: "team1"})
				if err != nil {
					return err
				}
				if len(events) != writers {
					t.Errorf("got %d events, want %d", len(events), writers)
				}
				return nil
			})
			if rev := currentRevision(t, st); rev != store.Revision(1+writers) {
				t.Errorf("revision = %d, want %d", rev, 1+writers)
			}
		}},
		{"concurrent creates of one membership: one succeeds, the rest ErrExists", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			seedAccounts(t, st, "team1")
			ctx := t.Context()
			errs := parallel(writers, func(i int) error {
				_, err := st.Update(ctx, func(tx store.Tx) error {
					return tx.CreateMember(ctx, store.Member{AccountID: "team1", UserID: "u1", Role: fmt.Sprint(i)})
				})
				return err
			})
			ok := 0
			for i, err := range errs {
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, store.ErrExists):
					t.Errorf("writer %d: %v, want nil or ErrExists", i, err)
				}
			}
			if ok != 1 {
				t.Errorf("%d creates succeeded, want 1", ok)
			}
			if changes := changesAfter(t, st, 1); len(changes) != 1 {
				t.Errorf("Changes after the account = %+v, want one MemberSet", changes)
			}
		}},
		{"concurrent commits get gap-free revisions that replay to the final state", func(t *testing.T) {
			st := s.open(t)
			ids := make([]string, writers)
			for i := range ids {
				ids[i] = fmt.Sprintf("user%02d", i)
			}
			seedUsers(t, st, ids...)
			ctx := t.Context()
			commits := make([]store.Commit, writers)
			errs := parallel(writers, func(i int) error {
				var err error
				commits[i], err = st.Update(ctx, func(tx store.Tx) error {
					account := fmt.Sprintf("team%02d", i)
					if err := tx.CreateAccount(ctx, newAccount(account, ids[i])); err != nil {
						return err
					}
					return tx.CreateMember(ctx, store.Member{AccountID: account, UserID: ids[i], Role: "owner"})
				})
				return err
			})
			for i, err := range errs {
				if err != nil {
					t.Fatalf("writer %d: %v", i, err)
				}
			}
			revs := make([]store.Revision, writers)
			for i, c := range commits {
				revs[i] = c.Revision
			}
			slices.Sort(revs)
			for i, r := range revs {
				if r != store.Revision(i+1) {
					t.Fatalf("commit revisions %v, want 1..%d", revs, writers)
				}
			}
			var want []store.Change
			slices.SortFunc(commits, func(a, b store.Commit) int { return int(a.Revision) - int(b.Revision) })
			for _, c := range commits {
				want = append(want, c.Changes...)
			}
			checkEqual(t, "Changes(0)", want, changesAfter(t, st, 0))
			replayed := newState()
			replayed.apply(want)
			final, _ := snapshotState(t, st)
			checkEqual(t, "replayed changes", final, replayed)
		}},
		{"snapshot during writes plus later changes equals the final state", func(t *testing.T) {
			st := s.open(t)
			ids := make([]string, writers)
			for i := range ids {
				ids[i] = fmt.Sprintf("user%02d", i)
			}
			seedUsers(t, st, ids...)
			seedAccounts(t, st, "team1", "team2")
			ctx := t.Context()
			var snap *state
			var rev store.Revision
			errs := parallel(writers+1, func(i int) error {
				if i == writers {
					snap = newState()
					var err error
					rev, err = st.Snapshot(ctx, snap.add)
					return err
				}
				_, err := st.Update(ctx, func(tx store.Tx) error {
					m := store.Member{AccountID: "team1", UserID: ids[i], Role: "dev"}
					if err := tx.CreateMember(ctx, m); err != nil {
						return err
					}
					if i%2 == 0 {
						m.Role = "admin"
						if err := tx.UpdateMember(ctx, m); err != nil {
							return err
						}
					}
					if i%3 == 0 {
						if err := tx.DeleteMember(ctx, "team1", ids[i]); err != nil {
							return err
						}
					}
					return tx.CreateMember(ctx, store.Member{AccountID: "team2", UserID: ids[i], Role: "basic"})
				})
				return err
			})
			for i, err := range errs {
				if err != nil {
					t.Fatalf("goroutine %d: %v", i, err)
				}
			}
			snap.apply(changesAfter(t, st, rev))
			final, _ := snapshotState(t, st)
			checkEqual(t, "snapshot plus changes", final, snap)
			if got := len(final.Members["team2"]); got != writers {
				t.Errorf("team2 has %d members, want %d", got, writers)
			}
		}},
		{"concurrent appends get distinct event IDs", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			ctx := t.Context()
			ids := make([]int64, writers)
			errs := parallel(writers, func(i int) error {
				_, err := st.Update(ctx, func(tx store.Tx) error {
					e, err := tx.AppendEvent(ctx, store.Event{AccountID: "team1", Action: "x", ResourceID: fmt.Sprint(i)})
					ids[i] = e.ID
					return err
				})
				return err
			})
			for i, err := range errs {
				if err != nil {
					t.Errorf("writer %d: %v", i, err)
				}
			}
			slices.Sort(ids)
			if len(slices.Compact(slices.Clone(ids))) != writers || ids[0] == 0 {
				t.Errorf("event IDs %v are not %d distinct non-zero IDs", ids, writers)
			}
			events := queryEvents(t, st, store.EventFilter{AccountID: "team1"})
			if len(events) != writers {
				t.Errorf("got %d events, want %d", len(events), writers)
			}
		}},
	}
}

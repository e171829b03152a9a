package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/teamroster/roster/internal/overlap"
	"github.com/teamroster/roster/store"
)

// writers is how many goroutines the concurrency tests start.
const writers = 20

// userIDs returns n user IDs, user00 onwards.
func userIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("user%02d", i)
	}
	return ids
}

// concurrency's races among writers go through overlap.Store.Race, which
// fails a round unless every writer's Update was called before the first
// writer's transaction went on: the suite cannot tell whether a Store runs
// write transactions at once, so it asks only for the overlap that a Store
// running one at a time allows too.
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
			race := overlap.New(st, false)
			errs := race.Race(t, t.Context(), writers, func(ctx context.Context, i int) error {
				_, err := race.Update(ctx, func(tx store.Tx) error {
					if _, err := tx.LockAccount(ctx, "team1"); err != nil {
						return err
					}
					ms, err := tx.Members(ctx, "team1", store.Range{})
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
				ms, err := tx.Members(ctx, "team1", store.Range{})
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
			race := overlap.New(st, false)
			errs := race.Race(t, t.Context(), writers, func(ctx context.Context, i int) error {
				_, err := race.Update(ctx, func(tx store.Tx) error {
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
			commits := make([]store.Commit, writers)
			race := overlap.New(st, false)
			errs := race.Race(t, t.Context(), writers, func(ctx context.Context, i int) error {
				var err error
				commits[i], err = race.Update(ctx, func(tx store.Tx) error {
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
			errs := overlap.Together(writers+1, func(i int) error {
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
			ids := make([]int64, writers)
			race := overlap.New(st, false)
			errs := race.Race(t, t.Context(), writers, func(ctx context.Context, i int) error {
				_, err := race.Update(ctx, func(tx store.Tx) error {
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
		{"concurrent SetActiveAccount from the same account: exactly one wins", func(t *testing.T) {
			st := s.open(t)
			// Several rounds, each on a user of its own: a race that a
			// wrong Store loses only sometimes is run more than once.
			const rounds = 5
			users := userIDs(rounds)
			seedUsers(t, st, users...)
			race := overlap.New(st, false)
			for _, user := range users {
				won := make([]bool, writers)
				errs := race.Race(t, t.Context(), writers, func(ctx context.Context, i int) error {
					_, err := race.Update(ctx, func(tx store.Tx) error {
						var err error
						won[i], err = tx.SetActiveAccount(ctx, user, "", fmt.Sprintf("team%02d", i))
						return err
					})
					return err
				})
				winner := -1
				for i, err := range errs {
					if err != nil {
						t.Errorf("%s: writer %d: %v", user, i, err)
					}
					if won[i] {
						if winner >= 0 {
							t.Errorf("%s: writers %d and %d both set the active account from the same value", user, winner, i)
						}
						winner = i
					}
				}
				if winner < 0 {
					t.Fatalf("%s: no writer set the active account", user)
				}
				if got, want := readUser(t, st, user).ActiveAccount, fmt.Sprintf("team%02d", winner); got != want {
					t.Errorf("%s: active account = %q, want the winner's %q", user, got, want)
				}
			}
		}},
		{"revisions become visible in order", func(t *testing.T) {
			st := s.open(t)
			ids := userIDs(writers)
			seedUsers(t, st, ids...)
			seedAccounts(t, st, "team1")
			start := currentRevision(t, st)
			const perWriter = 5
			ctx := t.Context()

			// The poller reads the changes after the last revision it saw,
			// over and over, until it has read once after every writer
			// finished.
			var finished atomic.Bool
			var polled []store.Change
			polls := make(chan error, 1)
			go func() {
				last := start
				for {
					end := finished.Load() // before Changes: a read after the last commit sees it
					batch, err := st.Changes(ctx, last, 0)
					if err != nil {
						polls <- err
						return
					}
					for i, c := range batch {
						prev := last
						if i > 0 {
							prev = batch[i-1].Revision
						}
						if (c.Revision != prev && c.Revision != prev+1) || (i == 0 && c.Revision != last+1) {
							polls <- fmt.Errorf("Changes(%d) returned revisions %v: revision %d follows %d", last, revisions(batch), c.Revision, prev)
							return
						}
					}
					if len(batch) > 0 {
						polled = append(polled, batch...)
						last = batch[len(batch)-1].Revision
					} else if end {
						polls <- nil
						return
					}
				}
			}()

			commits := make([][]store.Commit, writers)
			errs := overlap.Together(writers, func(i int) error {
				for k := range perWriter {
					c, err := st.Update(ctx, func(tx store.Tx) error {
						m := store.Member{AccountID: "team1", UserID: ids[i], Role: fmt.Sprintf("role%d", k)}
						switch k {
						case 0:
							return tx.CreateMember(ctx, m)
						case perWriter - 1:
							return tx.DeleteMember(ctx, m.AccountID, m.UserID)
						}
						return tx.UpdateMember(ctx, m)
					})
					if err != nil {
						return err
					}
					commits[i] = append(commits[i], c)
				}
				return nil
			})
			finished.Store(true)
			pollErr := <-polls
			for i, err := range errs {
				if err != nil {
					t.Errorf("writer %d: %v", i, err)
				}
			}
			if pollErr != nil {
				t.Fatal(pollErr)
			}
			all := slices.Concat(commits...)
			slices.SortFunc(all, func(a, b store.Commit) int { return int(a.Revision) - int(b.Revision) })
			var want []store.Change
			for i, c := range all {
				if c.Revision != start+store.Revision(i+1) {
					t.Fatalf("commit %d of %d has revision %d, want %d", i, len(all), c.Revision, start+store.Revision(i+1))
				}
				want = append(want, c.Changes...)
			}
			if len(all) != writers*perWriter {
				t.Fatalf("%d commits, want %d", len(all), writers*perWriter)
			}
			checkEqual(t, "the changes the poller saw", want, polled)
		}},
		{"snapshot during writes is complete", func(t *testing.T) {
			st := s.open(t)
			ids := userIDs(writers)
			seedUsers(t, st, ids...)
			seedAccounts(t, st, "team1", "team2")
			shared := func(i int) string { return fmt.Sprintf("shared%d", i%3) }
			own := func(i int) string { return fmt.Sprintf("own%02d", i) }
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				for i := range 3 {
					if err := tx.PutTeamRole(ctx, newTeamRole("team1", shared(i), "a.read")); err != nil {
						return err
					}
				}
				return nil
			})
			ctx := t.Context()

			// Writers lock team1 (as roster does before it checks a team's
			// invariants), redefine and define team roles, give them to
			// members, delete them, and update both accounts.
			write := func(i int) error {
				_, err := st.Update(ctx, func(tx store.Tx) error {
					if _, err := tx.LockAccount(ctx, "team1"); err != nil {
						return err
					}
					if err := tx.PutTeamRole(ctx, newTeamRole("team1", shared(i), "a.read", fmt.Sprintf("a.w%02d", i))); err != nil {
						return err
					}
					if err := tx.CreateMember(ctx, store.Member{AccountID: "team1", UserID: ids[i], Role: shared(i)}); err != nil {
						return err
					}
					if i%4 == 0 {
						if err := tx.PutTeamRole(ctx, newTeamRole("team1", own(i), "a.own")); err != nil {
							return err
						}
						if err := tx.UpdateMember(ctx, store.Member{AccountID: "team1", UserID: ids[i], Role: own(i)}); err != nil {
							return err
						}
					}
					if err := tx.CreateMember(ctx, store.Member{AccountID: "team2", UserID: ids[i], Role: "basic"}); err != nil {
						return err
					}
					a := newAccount("team2", "owner")
					a.Name, a.UpdatedAt = fmt.Sprintf("Team two %d", i), at(10+i)
					return tx.UpdateAccount(ctx, a)
				})
				if err != nil {
					return err
				}
				_, err = st.Update(ctx, func(tx store.Tx) error {
					if _, err := tx.LockAccount(ctx, "team1"); err != nil {
						return err
					}
					switch {
					case i%4 == 0:
						if err := tx.UpdateMember(ctx, store.Member{AccountID: "team1", UserID: ids[i], Role: shared(i + 1)}); err != nil {
							return err
						}
						if err := tx.DeleteTeamRole(ctx, "team1", own(i)); err != nil {
							return err
						}
					case i%3 == 0:
						if err := tx.DeleteMember(ctx, "team1", ids[i]); err != nil {
							return err
						}
					default:
						if err := tx.UpdateMember(ctx, store.Member{AccountID: "team1", UserID: ids[i], Role: shared(i + 1)}); err != nil {
							return err
						}
					}
					a := newAccount("team1", ids[i])
					a.Name, a.UpdatedAt = fmt.Sprintf("Team one %d", i), at(10+i)
					return tx.UpdateAccount(ctx, a)
				})
				return err
			}

			// The snapshotter takes snapshots while the writers run.
			type taken struct {
				st  *state
				rev store.Revision
			}
			var snaps []taken
			var running atomic.Int32
			running.Store(writers)
			errs := overlap.Together(writers+1, func(i int) error {
				if i < writers {
					defer running.Add(-1)
					return write(i)
				}
				for n := 0; n < 100 && running.Load() > 0; n++ {
					snap := newState()
					rev, err := st.Snapshot(ctx, snap.add)
					if err != nil {
						return err
					}
					snaps = append(snaps, taken{snap, rev})
				}
				return nil
			})
			for i, err := range errs {
				if err != nil {
					t.Fatalf("goroutine %d: %v", i, err)
				}
			}
			final, _ := snapshotState(t, st)
			for _, snap := range snaps {
				snap.st.apply(changesAfter(t, st, snap.rev))
				checkEqual(t, fmt.Sprintf("snapshot at revision %d plus later changes", snap.rev), final, snap.st)
			}
			if got := len(final.Members["team2"]); got != writers {
				t.Errorf("team2 has %d members, want %d", got, writers)
			}
			if got := sortedKeys(final.Roles["team1"]); !slices.Equal(got, []string{"shared0", "shared1", "shared2"}) {
				t.Errorf("team1's roles at the end are %v, want shared0..shared2", got)
			}
		}},
	}
}

// revisions returns the revisions of changes, for messages.
func revisions(changes []store.Change) []store.Revision {
	revs := make([]store.Revision, len(changes))
	for i, c := range changes {
		revs[i] = c.Revision
	}
	return revs
}

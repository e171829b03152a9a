package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/teamroster/roster/store"
)

// scanEvents returns the events ScanEvents delivers for f and fails the
// test on error.
func scanEvents(t testing.TB, s store.Store, f store.EventFilter) []store.Event {
	t.Helper()
	var got []store.Event
	view(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.ScanEvents(ctx, f, func(e store.Event) error {
			got = append(got, e)
			return nil
		})
	})
	return got
}

// ids returns the IDs of events, for messages and comparisons.
func ids(events []store.Event) []int64 {
	out := make([]int64, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

// tiedLog appends events to team1 whose times repeat and run against the
// order of their IDs, and returns them in append order.
func tiedLog(t testing.TB, s store.Store) []store.Event {
	t.Helper()
	seedAccounts(t, s, "team1", "team2")
	minutes := []int{5, 3, 5, 1, 3, 5, 2, 1}
	events := make([]store.Event, len(minutes))
	for i, m := range minutes {
		events[i] = store.Event{AccountID: "team1", Time: at(m), Actor: "ada", Action: "x.y", Result: store.Allowed}
	}
	events = append(events, store.Event{AccountID: "team2", Time: at(4), Action: "x.y", Result: store.Allowed})
	return appendEvents(t, s, events...)
}

// byTime returns the team1 events of tiedLog in NewestFirst order.
func byTime(log []store.Event) []store.Event {
	// minutes 5,5,5 (IDs 5,2,0), 3,3 (4,1), 2 (6), 1,1 (7,3)
	return []store.Event{log[5], log[2], log[0], log[4], log[1], log[6], log[7], log[3]}
}

func (s suite) eventQueries() []test {
	return []test{
		{"event hashes read back as appended", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			in := []store.Event{
				{AccountID: "team1", Time: at(1), Action: "x.y", PrevHash: nil, Hash: []byte{1, 2, 3}},
				{AccountID: "team1", Time: at(2), Action: "x.y", PrevHash: []byte{1, 2, 3}, Hash: []byte{0, 0xff, 4}},
				{AccountID: "team1", Time: at(3), Action: "x.y"},
			}
			got := appendEvents(t, st, in...)
			checkEqual(t, "stored events", newest(got...), queryEvents(t, st, store.EventFilter{AccountID: "team1"}))
			for i, e := range got {
				if string(e.Hash) != string(in[i].Hash) || string(e.PrevHash) != string(in[i].PrevHash) {
					t.Errorf("event %d hashes = %x, %x; want %x, %x", i, e.PrevHash, e.Hash, in[i].PrevHash, in[i].Hash)
				}
			}
		}},
		{"events are listed newest first by time then ID", func(t *testing.T) {
			st := s.open(t)
			log := tiedLog(t, st)
			checkEqual(t, "Events(team1)", byTime(log), queryEvents(t, st, store.EventFilter{AccountID: "team1"}))
		}},
		{"append order lists events by ID whatever their times", func(t *testing.T) {
			st := s.open(t)
			log := tiedLog(t, st)
			checkEqual(t, "Events(team1, AppendOrder)", log[:8], queryEvents(t, st, store.EventFilter{AccountID: "team1", Order: store.AppendOrder}))
			checkEqual(t, "Events(AfterID, AppendOrder)", log[3:8],
				queryEvents(t, st, store.EventFilter{AccountID: "team1", Order: store.AppendOrder, AfterID: log[2].ID}))
			checkEqual(t, "Events(AfterID, BeforeID, AppendOrder, Limit)", log[3:5],
				queryEvents(t, st, store.EventFilter{AccountID: "team1", Order: store.AppendOrder, AfterID: log[2].ID, BeforeID: log[6].ID, Limit: 2}))
		}},
		{"keyset paging with Below visits every event once despite equal times", func(t *testing.T) {
			st := s.open(t)
			log := tiedLog(t, st)
			for _, limit := range []int{1, 2, 3} {
				var got []store.Event
				f := store.EventFilter{AccountID: "team1", Limit: limit}
				for page := 0; ; page++ {
					if page > len(log) {
						t.Fatalf("limit %d: paging did not end", limit)
					}
					events := queryEvents(t, st, f)
					if len(events) == 0 {
						break
					}
					got = append(got, events...)
					last := events[len(events)-1]
					f.Below = store.EventKey{Time: last.Time, ID: last.ID}
				}
				checkEqual(t, fmt.Sprintf("paged events (limit %d)", limit), byTime(log), got)
			}
		}},
		{"Below excludes its key and everything above it", func(t *testing.T) {
			st := s.open(t)
			log := tiedLog(t, st)
			key := store.EventKey{Time: log[2].Time, ID: log[2].ID} // minute 5, the middle of three
			checkEqual(t, "Events(Below)", byTime(log)[2:], queryEvents(t, st, store.EventFilter{AccountID: "team1", Below: key}))
		}},
		{"events filter by result", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			log := appendEvents(t, st,
				store.Event{AccountID: "team1", Time: at(1), Action: "x.y", Result: store.Allowed},
				store.Event{AccountID: "team1", Time: at(2), Action: "x.y", Result: store.Denied, Reason: "no"},
				store.Event{AccountID: "team1", Time: at(3), Action: "x.y", Result: store.Allowed},
			)
			checkEqual(t, "denied", []store.Event{log[1]}, queryEvents(t, st, store.EventFilter{AccountID: "team1", Result: store.Denied}))
			checkEqual(t, "allowed", []store.Event{log[2], log[0]}, queryEvents(t, st, store.EventFilter{AccountID: "team1", Result: store.Allowed}))
		}},
		{"filter values match exactly, wildcards included", func(t *testing.T) {
			st := s.open(t)
			log := eventLog(t, st)
			for _, f := range []store.EventFilter{
				{AccountID: "%"}, {AccountID: "team1", Actor: "%"}, {AccountID: "team1", Action: "member.%"},
				{AccountID: "team1", ResourceType: "_"}, {AccountID: "team1", ResourceID: "' OR '1'='1"},
				{AccountID: "team1", Actor: "ADA"},
			} {
				if got := queryEvents(t, st, f); len(got) != 0 {
					t.Errorf("Events(%+v) = %v, want none", f, ids(got))
				}
			}
			checkEqual(t, "exact", []store.Event{log[7], log[4], log[1], log[0]}, queryEvents(t, st, store.EventFilter{AccountID: "team1", Actor: "ada"}))
		}},
		{"ScanEvents delivers what Events returns", func(t *testing.T) {
			st := s.open(t)
			log := tiedLog(t, st)
			for _, f := range []store.EventFilter{
				{},
				{AccountID: "team1"},
				{AccountID: "team1", Order: store.AppendOrder},
				{AccountID: "team1", Limit: 3},
				{AccountID: "team1", Since: at(2), Until: at(5)},
				{AccountID: "team2"},
				{AccountID: "team1", Below: store.EventKey{Time: log[1].Time, ID: log[1].ID}},
			} {
				checkEqual(t, fmt.Sprintf("ScanEvents(%+v)", f), queryEvents(t, st, f), scanEvents(t, st, f))
			}
		}},
		{"ScanEvents stops at fn's error and returns it unchanged", func(t *testing.T) {
			st := s.open(t)
			tiedLog(t, st)
			calls := 0
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				err := tx.ScanEvents(ctx, store.EventFilter{AccountID: "team1"}, func(store.Event) error {
					calls++
					if calls == 2 {
						return errFromFn
					}
					return nil
				})
				if err != errFromFn {
					t.Errorf("ScanEvents returned %v, want fn's error unchanged", err)
				}
				// The transaction stays usable after a stopped scan.
				got, err := tx.Events(ctx, store.EventFilter{AccountID: "team2"})
				if len(got) != 1 {
					t.Errorf("team2 events after a stopped scan = %v, want 1", ids(got))
				}
				return err
			})
			if calls != 2 {
				t.Errorf("fn called %d times, want 2", calls)
			}
		}},
		{"malformed event filters return ErrInvalid from Events and ScanEvents", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			for _, f := range []store.EventFilter{
				{Limit: -1},
				{Since: at(5), Until: at(4)},
				{BeforeID: -1},
				{AfterID: -1},
				{Order: "sideways"},
				{Result: "maybe"},
				{Below: store.EventKey{ID: 3}},
				{Below: store.EventKey{Time: at(1)}},
				{Below: store.EventKey{Time: at(1), ID: -2}},
			} {
				err := st.View(t.Context(), func(tx store.Tx) error {
					_, err := tx.Events(t.Context(), f)
					return err
				})
				checkErr(t, fmt.Sprintf("Events(%+v)", f), err, store.ErrInvalid)
				called := false
				err = st.View(t.Context(), func(tx store.Tx) error {
					return tx.ScanEvents(t.Context(), f, func(store.Event) error { called = true; return nil })
				})
				checkErr(t, fmt.Sprintf("ScanEvents(%+v)", f), err, store.ErrInvalid)
				if called {
					t.Errorf("ScanEvents(%+v) called fn for a malformed filter", f)
				}
			}
		}},
		{"DeleteEvents deletes the account's events through the ID and no others", func(t *testing.T) {
			st := s.open(t)
			log := eventLog(t, st) // team1: 0 1 3 4 5 7; team2: 2 6
			var n int64
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				var err error
				n, err = tx.DeleteEvents(ctx, "team1", log[4].ID)
				return err
			})
			if n != 4 {
				t.Errorf("DeleteEvents deleted %d events, want 4", n)
			}
			checkEqual(t, "team1 after delete", []store.Event{log[7], log[5]}, queryEvents(t, st, store.EventFilter{AccountID: "team1"}))
			checkEqual(t, "team2 after delete", []store.Event{log[6], log[2]}, queryEvents(t, st, store.EventFilter{AccountID: "team2"}))
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				var err error
				n, err = tx.DeleteEvents(ctx, "nope", log[7].ID)
				return err
			})
			if n != 0 {
				t.Errorf("DeleteEvents of an unknown account deleted %d, want 0", n)
			}
		}},
		{"DeleteEvents refuses bad arguments and read-only transactions", func(t *testing.T) {
			st := s.open(t)
			log := eventLog(t, st)
			for _, c := range []struct {
				name    string
				account string
				through int64
				view    bool
			}{
				{"empty account", "", 5, false},
				{"negative ID", "team1", -1, false},
				{"in View", "team1", log[7].ID, true},
			} {
				fn := func(tx store.Tx) error {
					_, err := tx.DeleteEvents(t.Context(), c.account, c.through)
					return err
				}
				var err error
				if c.view {
					err = st.View(t.Context(), fn)
				} else {
					_, err = st.Update(t.Context(), fn)
				}
				checkErr(t, "DeleteEvents: "+c.name, err, store.ErrInvalid)
			}
			checkEqual(t, "events", newest(log...), queryEvents(t, st, store.EventFilter{}))
		}},
	}
}

func (s suite) chainHeads() []test {
	head := func(account string, last int64) store.ChainHead {
		return store.ChainHead{
			AccountID: account, LastID: last, LastHash: []byte(fmt.Sprintf("hash %d", last)), LastTime: at(int(last)),
		}
	}
	readHead := func(t *testing.T, st store.Store, account string) (store.ChainHead, error) {
		t.Helper()
		var h store.ChainHead
		err := st.View(t.Context(), func(tx store.Tx) error {
			var err error
			h, err = tx.ChainHead(t.Context(), account)
			return err
		})
		return h, err
	}
	return []test{
		{"an account without a chain head returns ErrNotFound", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			for _, account := range []string{"team1", "nope"} {
				_, err := readHead(t, st, account)
				checkErr(t, "ChainHead("+account+")", err, store.ErrNotFound)
			}
		}},
		{"a chain head reads back as set and is replaced by the next", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1", "team2")
			first := head("team1", 3)
			second := head("team1", 9)
			second.AnchorID, second.AnchorHash = 2, []byte("anchor")
			other := head("team2", 4)
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				if err := tx.SetChainHead(ctx, first); err != nil {
					return err
				}
				got, err := tx.ChainHead(ctx, "team1")
				checkEqual(t, "head within the transaction", first, got)
				if err != nil {
					return err
				}
				return tx.SetChainHead(ctx, other)
			})
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.SetChainHead(ctx, second) })
			got, err := readHead(t, st, "team1")
			if err != nil {
				t.Fatal(err)
			}
			checkEqual(t, "replaced head", second, got)
			got, err = readHead(t, st, "team2")
			if err != nil {
				t.Fatal(err)
			}
			checkEqual(t, "other account's head", other, got)
		}},
		{"a zero chain head round-trips with nil hashes and zero times", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				return tx.SetChainHead(ctx, store.ChainHead{AccountID: "team1"})
			})
			got, err := readHead(t, st, "team1")
			if err != nil {
				t.Fatal(err)
			}
			checkEqual(t, "zero head", store.ChainHead{AccountID: "team1"}, got)
		}},
		{"SetChainHead returns ErrNotFound, ErrInvalid and changes nothing", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.SetChainHead(ctx, head("nope", 1)) })
			checkErr(t, "SetChainHead of an unknown account", err, store.ErrNotFound)
			err = tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.SetChainHead(ctx, head("", 1)) })
			checkErr(t, "SetChainHead without account", err, store.ErrInvalid)
			err = st.View(t.Context(), func(tx store.Tx) error { return tx.SetChainHead(t.Context(), head("team1", 1)) })
			checkErr(t, "SetChainHead in View", err, store.ErrInvalid)
			err = tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error {
				if err := tx.SetChainHead(ctx, head("team1", 1)); err != nil {
					return err
				}
				return errFromFn
			})
			if !errors.Is(err, errFromFn) {
				t.Fatalf("Update = %v, want fn's error", err)
			}
			_, err = readHead(t, st, "team1")
			checkErr(t, "ChainHead after rolled back SetChainHead", err, store.ErrNotFound)
		}},
		{"a failed SetChainHead leaves the transaction usable", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				checkErr(t, "SetChainHead of an unknown account", tx.SetChainHead(ctx, head("nope", 1)), store.ErrNotFound)
				return tx.SetChainHead(ctx, head("team1", 2))
			})
			got, err := readHead(t, st, "team1")
			if err != nil {
				t.Fatal(err)
			}
			checkEqual(t, "head", head("team1", 2), got)
		}},
	}
}

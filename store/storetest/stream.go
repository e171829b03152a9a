package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/teamroster/roster/store"
)

// streamAll reads the whole event stream after pos, limit events at a
// time, and fails t if a page is out of order. It first waits for the
// stream to hold every stored event (see Settle).
func streamAll(t testing.TB, s store.Store, pos store.EventPosition, limit int) []store.StreamEvent {
	t.Helper()
	Settle(t, s)
	var all []store.StreamEvent
	for {
		page, err := s.EventsAfter(t.Context(), pos, limit)
		if err != nil {
			t.Fatalf("EventsAfter(%v, %d): %v", pos, limit, err)
		}
		pos = checkStreamPage(t, pos, page)
		all = append(all, page...)
		if len(page) == 0 {
			return all
		}
	}
}

// Settle waits, for up to 30 seconds, until the event stream of s holds
// every event stored, and fails t if it does not by then. A Store may hold
// back events committed after a transaction that is still open began
// (see Store.EventsAfter); on PostgreSQL that is any transaction of the
// server, such as one of another test running beside this one, so a test
// that reads the whole stream settles first.
func Settle(t testing.TB, s store.Store) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var stored int
		if err := s.View(ctx, func(tx store.Tx) error {
			es, err := tx.Events(ctx, store.EventFilter{Order: store.AppendOrder})
			stored = len(es)
			return err
		}); err != nil {
			t.Fatalf("read the stored events: %v", err)
		}
		streamed := 0
		var pos store.EventPosition
		for {
			page, err := s.EventsAfter(ctx, pos, store.MaxPageSize)
			if err != nil {
				t.Fatalf("EventsAfter(%v): %v", pos, err)
			}
			if len(page) == 0 {
				break
			}
			streamed += len(page)
			pos = page[len(page)-1].Position
		}
		switch {
		case streamed >= stored:
			return
		case time.Now().After(deadline):
			t.Fatalf("the stream holds %d events after 30 s, %d are stored", streamed, stored)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkStreamPage fails t unless page's positions come after pos, in
// increasing order, and name their events' IDs; it returns the position of
// the page's last event, or pos if the page is empty.
func checkStreamPage(t testing.TB, pos store.EventPosition, page []store.StreamEvent) store.EventPosition {
	t.Helper()
	for _, se := range page {
		if se.Position.Compare(pos) <= 0 {
			t.Fatalf("event %d at position %v comes after position %v in the stream", se.Event.ID, se.Position, pos)
		}
		if se.Position.ID != se.Event.ID {
			t.Fatalf("event %d has position %v, whose ID is not the event's", se.Event.ID, se.Position)
		}
		pos = se.Position
	}
	return pos
}

// streamIDs returns the IDs of the events of a stream.
func streamIDs(events []store.StreamEvent) []int64 {
	ids := make([]int64, len(events))
	for i, se := range events {
		ids[i] = se.Event.ID
	}
	return ids
}

func (s suite) stream() []test {
	return []test{
		{"events of every account come whole, in the order their transactions committed", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1", "team2")
			before := streamAll(t, st, store.EventPosition{}, 0) // the seeding appended none
			checkEqual(t, "stream of a store without events", 0, len(before))
			want := appendEvents(t, st, store.Event{AccountID: "team1", Action: "a.one", Time: at(1)})
			want = append(want, appendEvents(t, st,
				store.Event{AccountID: "team2", Action: "a.two", Time: at(2), Salt: []byte("s"), Commitment: []byte("c")},
				store.Event{AccountID: "team1", Action: "a.three", Time: at(3)})...)
			want = append(want, appendEvents(t, st, store.Event{AccountID: "team2", Action: "a.four", Time: at(4)})...)
			got := streamAll(t, st, store.EventPosition{}, 0)
			events := make([]store.Event, len(got))
			for i, se := range got {
				events[i] = se.Event
			}
			checkEqual(t, "stream", want, events)
		}},
		{"reading from the last position reads every event once", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			var want []int64
			for i := range 7 {
				for _, e := range appendEvents(t, st, store.Event{AccountID: "team1", Action: "a.one", Time: at(i)}) {
					want = append(want, e.ID)
				}
			}
			got := streamAll(t, st, store.EventPosition{}, 2)
			checkEqual(t, "IDs read two at a time", want, streamIDs(got))
			mid := got[3].Position
			checkEqual(t, "IDs after the fourth", want[4:], streamIDs(streamAll(t, st, mid, 0)))
			checkEqual(t, "IDs after the last", 0, len(streamAll(t, st, got[len(got)-1].Position, 0)))
		}},
		{"a transaction that records no change puts its events in the stream", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			var e store.Event
			c := update(t, st, func(ctx context.Context, tx store.Tx) error {
				var err error
				e, err = tx.AppendEvent(ctx, store.Event{AccountID: "team1", Action: "a.one", Time: at(1)})
				return err
			})
			checkEqual(t, "revision of a commit that only appended an event", store.Revision(0), c.Revision)
			checkEqual(t, "stream IDs", []int64{e.ID}, streamIDs(streamAll(t, st, store.EventPosition{}, 0)))
		}},
		{"a rolled-back transaction's events never enter the stream", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			errRollback := errors.New("roll back")
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error {
				if _, err := tx.AppendEvent(ctx, store.Event{AccountID: "team1", Action: "a.lost", Time: at(1)}); err != nil {
					return err
				}
				return errRollback
			})
			checkErr(t, "Update", err, errRollback)
			kept := appendEvents(t, st, store.Event{AccountID: "team1", Action: "a.kept", Time: at(2)})
			checkEqual(t, "stream IDs", []int64{kept[0].ID}, streamIDs(streamAll(t, st, store.EventPosition{}, 0)))
		}},
		{"erased events stay in the stream and deleted ones leave it", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1", "team2")
			es := appendEvents(t, st,
				store.Event{AccountID: "team1", Action: "a.one", Time: at(1), Reason: "personal", Salt: []byte("s")},
				store.Event{AccountID: "team2", Action: "a.two", Time: at(2)},
				store.Event{AccountID: "team1", Action: "a.three", Time: at(3)})
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				if err := tx.EraseEvent(ctx, store.Event{ID: es[0].ID}); err != nil {
					return err
				}
				_, err := tx.DeleteEvents(ctx, "team2", es[1].ID)
				return err
			})
			got := streamAll(t, st, store.EventPosition{}, 0)
			checkEqual(t, "stream IDs", []int64{es[0].ID, es[2].ID}, streamIDs(got))
			checkEqual(t, "erased reason", "", got[0].Event.Reason)
		}},
		{"bad arguments are refused", func(t *testing.T) {
			st := s.open(t)
			_, err := st.EventsAfter(t.Context(), store.EventPosition{ID: -1}, 0)
			checkErr(t, "EventsAfter with a negative ID", err, store.ErrInvalid)
			_, err = st.EventsAfter(t.Context(), store.EventPosition{}, store.MaxPageSize+1)
			checkErr(t, "EventsAfter with a limit above MaxPageSize", err, store.ErrInvalid)
			checkErr(t, "Close", st.Close(), nil)
			_, err = st.EventsAfter(t.Context(), store.EventPosition{}, 0)
			checkErr(t, "EventsAfter after Close", err, store.ErrClosed)
		}},
		{"concurrent writers never put an event behind a position a reader saw", func(t *testing.T) {
			st := s.open(t)
			accounts, users := userIDs(writers), userIDs(writers)
			for i := range accounts {
				accounts[i] = "team" + accounts[i]
			}
			seedUsers(t, st, users...)
			seedAccounts(t, st, accounts...)
			const rounds = 10
			// Each writer takes its event IDs, then waits a little before
			// committing, so that on a Store running writers at once a
			// transaction with a smaller ID often commits after one with a
			// larger ID; every other round also records a change.
			var wg sync.WaitGroup
			appended := make([][]int64, writers)
			for w := range writers {
				wg.Go(func() {
					for r := range rounds {
						err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error {
							for k := range 2 {
								e, err := tx.AppendEvent(ctx, store.Event{AccountID: accounts[w], Action: store.EventAction(fmt.Sprintf("a.r%dk%d", r, k)), Time: at(r)})
								if err != nil {
									return err
								}
								appended[w] = append(appended[w], e.ID)
							}
							time.Sleep(time.Duration((w*7+r*3)%5) * time.Millisecond)
							if r%2 == 1 {
								return tx.CreateMember(ctx, store.Member{AccountID: accounts[w], UserID: users[r], Role: "dev", JoinedAt: at(r)})
							}
							return nil
						})
						if err != nil {
							t.Errorf("writer %d, round %d: %v", w, r, err)
							return
						}
					}
				})
			}
			defer wg.Wait() // also when the reader fails the test
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			var pos store.EventPosition
			seen := map[int64]bool{}
			read := func() {
				page, err := st.EventsAfter(t.Context(), pos, 7)
				if err != nil {
					t.Fatalf("EventsAfter(%v): %v", pos, err)
				}
				pos = checkStreamPage(t, pos, page)
				for _, se := range page {
					if seen[se.Event.ID] {
						t.Fatalf("event %d read twice", se.Event.ID)
					}
					seen[se.Event.ID] = true
				}
			}
		reading:
			for {
				select {
				case <-done:
					break reading
				default:
					read()
				}
			}
			for _, se := range streamAll(t, st, pos, 0) {
				seen[se.Event.ID] = true
			}
			for w, ids := range appended {
				for _, id := range ids {
					if !seen[id] {
						t.Errorf("event %d of writer %d never read: the reader passed its position before it committed", id, w)
					}
				}
			}
			checkEqual(t, "events read", writers*rounds*2, len(seen))
		}},
		{"a Watcher announces a commit that only appended events", func(t *testing.T) {
			st := s.open(t)
			w, ok := st.(store.Watcher)
			if !ok {
				t.Skip("the Store is not a store.Watcher")
			}
			seedAccounts(t, st, "team1")
			a := Watch(t, w)
			checkEqual(t, "first announcement", store.Revision(0), a.Next(t))
			appendEvents(t, st, store.Event{AccountID: "team1", Action: "a.one", Time: at(1)})
			a.Next(t) // any revision: the commit recorded none of its own
		}},
	}
}

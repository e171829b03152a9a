package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/teamroster/roster/store"
)

// appendEvents appends events in order in one transaction and returns them
// as stored, with their IDs.
func appendEvents(t testing.TB, s store.Store, events ...store.Event) []store.Event {
	t.Helper()
	out := make([]store.Event, 0, len(events))
	update(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, e := range events {
			got, err := tx.AppendEvent(ctx, e)
			if err != nil {
				return err
			}
			out = append(out, got)
		}
		return nil
	})
	return out
}

// queryEvents returns the events matching f and fails the test on error.
func queryEvents(t testing.TB, s store.Store, f store.EventFilter) []store.Event {
	t.Helper()
	var got []store.Event
	view(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		got, err = tx.Events(ctx, f)
		return err
	})
	return got
}

// newest returns events in the order Events returns them: ID descending.
func newest(events ...store.Event) []store.Event {
	out := make([]store.Event, 0, len(events))
	for i := len(events) - 1; i >= 0; i-- {
		out = append(out, events[i])
	}
	return out
}

// eventLog appends a varied log to two accounts and returns it in append
// order.
func eventLog(t testing.TB, s store.Store) []store.Event {
	t.Helper()
	seedAccounts(t, s, "team1", "team2")
	ev := func(account string, minute int, actor string, action store.EventAction, rtype, rid string) store.Event {
		return store.Event{
			AccountID: account, Time: at(minute), Actor: actor, Action: action,
			ResourceType: rtype, ResourceID: rid, Result: store.Allowed,
		}
	}
	return appendEvents(t, s,
		ev("team1", 0, "ada", "member.joined", "member", "ada"),
		ev("team1", 1, "ada", "invite.created", "invite", "inv1"),
		ev("team2", 2, "bob", "member.joined", "member", "bob"),
		ev("team1", 3, "bob", "member.joined", "member", "bob"),
		ev("team1", 4, "ada", "member.role_changed", "member", "bob"),
		ev("team1", 5, "bob", "invite.created", "invite", "inv2"),
		ev("team2", 6, "bob", "invite.created", "invite", "inv3"),
		ev("team1", 7, "ada", "member.removed", "member", "bob"),
	)
}

func (s suite) events() []test {
	return []test{
		{"appended event reads back equal with its ID", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			e := store.Event{
				AccountID:    "team1",
				Time:         at(3),
				Actor:        "ada",
				Action:       "member.role_changed",
				ResourceType: "member",
				ResourceID:   "bob",
				Result:       store.Denied,
				Reason:       "last admin",
				Before:       `{"role":"admin"}`,
				After:        `{"role":"dev"}`,
				IP:           "203.0.113.7",
				UserAgent:    "curl/8.0",
				RequestID:    "req-42",
				PrevHash:     []byte("previous hash"),
				Hash:         []byte("hash"),
				Salt:         []byte("sixteen byte slt"),
				Commitment:   []byte("commitment"),
			}
			got := appendEvents(t, st, e)[0]
			if got.ID == 0 {
				t.Errorf("AppendEvent returned ID 0")
			}
			want := e
			want.ID = got.ID
			checkEqual(t, "appended event", want, got)
			checkEqual(t, "stored events", []store.Event{want}, queryEvents(t, st, store.EventFilter{AccountID: "team1"}))
		}},
		{"erase event rewrites the personal fields and deletes the salt, keeping the rest", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			e := store.Event{
				AccountID: "team1", Time: at(3), Actor: "ada", Action: "invite.created", ResourceType: "invite", ResourceID: "inv1",
				Result: store.Allowed, Reason: "for bob@example.com", Before: `{"a":"1"}`, After: `{"email":"bob@example.com"}`,
				IP: "203.0.113.7", UserAgent: "curl/8.0", RequestID: "req-42",
				PrevHash: []byte("prev"), Hash: []byte("hash"), Salt: []byte("salt"), Commitment: []byte("commitment"),
			}
			log := appendEvents(t, st, e, e)
			erased := log[0]
			erased.Before, erased.After, erased.Reason, erased.IP, erased.UserAgent = "", `{"email":"[erased]"}`, "for [erased]", "", ""
			ignored := erased // fields EraseEvent must not change
			ignored.Actor, ignored.Action, ignored.RequestID, ignored.Hash, ignored.Commitment = "x", "x.y", "x", []byte("x"), []byte("x")
			c := update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.EraseEvent(ctx, ignored) })
			if len(c.Changes) != 0 {
				t.Errorf("EraseEvent recorded changes %+v, want none", c.Changes)
			}
			erased.Salt = nil
			checkEqual(t, "events after EraseEvent", newest(erased, log[1]), queryEvents(t, st, store.EventFilter{}))
		}},
		{"erase unknown event returns ErrNotFound, and in View ErrInvalid", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.EraseEvent(ctx, store.Event{ID: 12345}) })
			checkErr(t, "EraseEvent of an unknown event", err, store.ErrNotFound)
			ev := appendEvents(t, st, store.Event{AccountID: "team1", Action: "x", Salt: []byte("salt"), IP: "203.0.113.7"})[0]
			err = st.View(t.Context(), func(tx store.Tx) error { return tx.EraseEvent(t.Context(), store.Event{ID: ev.ID}) })
			checkErr(t, "EraseEvent in View", err, store.ErrInvalid)
			checkEqual(t, "event after a refused EraseEvent", []store.Event{ev}, queryEvents(t, st, store.EventFilter{}))
		}},
		{"event IDs grow with every append across accounts", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1", "team2")
			var last int64
			for i := range 6 {
				account := []string{"team1", "team2"}[i%2]
				got := appendEvents(t, st, store.Event{AccountID: account, Action: "x", Time: at(i)})[0]
				if got.ID <= last {
					t.Errorf("append %d got ID %d, not above the previous %d", i, got.ID, last)
				}
				last = got.ID
			}
		}},
		{"zero event time is set to the current time in UTC", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			before := time.Now().Add(-time.Second)
			got := appendEvents(t, st, store.Event{AccountID: "team1", Action: "x"})[0]
			after := time.Now().Add(time.Second)
			if got.Time.Before(before) || got.Time.After(after) || got.Time.Location() != time.UTC {
				t.Errorf("Time = %v, want a UTC time between %v and %v", got.Time, before, after)
			}
			stored := queryEvents(t, st, store.EventFilter{})
			checkEqual(t, "stored events", []store.Event{got}, stored)
		}},
		{"event time comes back in UTC", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			local := time.Date(2024, 2, 29, 23, 59, 59, 999999000, time.FixedZone("PST", -8*3600))
			got := appendEvents(t, st, store.Event{AccountID: "team1", Action: "x", Time: local})[0]
			for _, e := range append([]store.Event{got}, queryEvents(t, st, store.EventFilter{})...) {
				if e.Time.Location() != time.UTC || !e.Time.Equal(local) {
					t.Errorf("Time = %v, want %v in UTC", e.Time, local.UTC())
				}
			}
		}},
		{"append event without account or action returns ErrInvalid", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			for _, e := range []store.Event{{AccountID: "", Action: "x"}, {AccountID: "team1", Action: ""}} {
				err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error {
					_, err := tx.AppendEvent(ctx, e)
					return err
				})
				checkErr(t, fmt.Sprintf("AppendEvent(%+v)", e), err, store.ErrInvalid)
			}
		}},
		{"append event to an unknown account returns ErrNotFound", func(t *testing.T) {
			st := s.open(t)
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error {
				_, err := tx.AppendEvent(ctx, store.Event{AccountID: "nope", Action: "x"})
				return err
			})
			checkErr(t, "AppendEvent to an unknown account", err, store.ErrNotFound)
		}},
		{"events are listed newest first and the zero filter lists all", func(t *testing.T) {
			st := s.open(t)
			log := eventLog(t, st)
			checkEqual(t, "Events({})", newest(log...), queryEvents(t, st, store.EventFilter{}))
		}},
		{"events filter by every field", func(t *testing.T) {
			st := s.open(t)
			log := eventLog(t, st)
			for _, tc := range []struct {
				name string
				f    store.EventFilter
				want []store.Event
			}{
				{"account", store.EventFilter{AccountID: "team2"}, []store.Event{log[6], log[2]}},
				{"unknown account", store.EventFilter{AccountID: "nope"}, nil},
				{"actor", store.EventFilter{AccountID: "team1", Actor: "bob"}, []store.Event{log[5], log[3]}},
				{"actor across accounts", store.EventFilter{Actor: "bob"}, []store.Event{log[6], log[5], log[3], log[2]}},
				{"action", store.EventFilter{AccountID: "team1", Action: "member.joined"}, []store.Event{log[3], log[0]}},
				{"resource type", store.EventFilter{AccountID: "team1", ResourceType: "invite"}, []store.Event{log[5], log[1]}},
				{"resource", store.EventFilter{AccountID: "team1", ResourceType: "member", ResourceID: "bob"}, []store.Event{log[7], log[4], log[3]}},
				{"resource ID alone", store.EventFilter{ResourceID: "bob"}, []store.Event{log[7], log[4], log[3], log[2]}},
				{"since is inclusive", store.EventFilter{AccountID: "team1", Since: at(4)}, []store.Event{log[7], log[5], log[4]}},
				{"until is exclusive", store.EventFilter{AccountID: "team1", Until: at(3)}, []store.Event{log[1], log[0]}},
				{"since and until", store.EventFilter{Since: at(2), Until: at(6)}, []store.Event{log[5], log[4], log[3], log[2]}},
				{"since equal to until is empty", store.EventFilter{Since: at(2), Until: at(2)}, nil},
				{"bounds as returned", store.EventFilter{Since: log[3].Time, Until: log[5].Time}, []store.Event{log[4], log[3]}},
				{"before ID", store.EventFilter{AccountID: "team1", BeforeID: log[4].ID}, []store.Event{log[3], log[1], log[0]}},
				{"limit", store.EventFilter{AccountID: "team1", Limit: 2}, []store.Event{log[7], log[5]}},
				{"limit above the count", store.EventFilter{AccountID: "team2", Limit: 10}, []store.Event{log[6], log[2]}},
				{"all fields", store.EventFilter{
					AccountID: "team1", Actor: "ada", Action: "member.role_changed",
					ResourceType: "member", ResourceID: "bob",
					Since: log[0].Time, Until: log[7].Time, BeforeID: log[7].ID, Limit: 1,
				}, []store.Event{log[4]}},
			} {
				got := queryEvents(t, st, tc.f)
				if len(tc.want) == 0 && len(got) == 0 {
					continue
				}
				checkEqual(t, "Events filtered by "+tc.name, tc.want, got)
			}
		}},
		{"paging with BeforeID and Limit visits every event once", func(t *testing.T) {
			st := s.open(t)
			log := eventLog(t, st)
			var got []store.Event
			f := store.EventFilter{Limit: 3}
			for page := 0; ; page++ {
				if page > len(log) {
					t.Fatalf("paging did not end after %d pages", page)
				}
				events := queryEvents(t, st, f)
				if len(events) == 0 {
					break
				}
				got = append(got, events...)
				f.BeforeID = events[len(events)-1].ID
			}
			checkEqual(t, "paged events", newest(log...), got)
		}},
		{"malformed event filter returns ErrInvalid", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			for _, f := range []store.EventFilter{
				{Limit: -1},
				{Since: at(5), Until: at(4)},
			} {
				err := st.View(t.Context(), func(tx store.Tx) error {
					_, err := tx.Events(t.Context(), f)
					return err
				})
				checkErr(t, fmt.Sprintf("Events(%+v)", f), err, store.ErrInvalid)
			}
		}},
	}
}

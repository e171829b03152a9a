package audit_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/internal/cursor"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// fixture builds a known event set on e: a Runpod team of alice (admin), bob
// (dev), carol (basic) and dave (billing) with roster's and the host's events,
// allowed and denied, interleaved with the events of zed's team (where bob is
// admin). It returns alice's team and zed's.
func fixture(t *testing.T, e *env) (store.Account, store.Account) {
	t.Helper()
	ctx := context.Background()
	acct := e.team(t, "alice", member{"bob", rbac.RunpodDev}, member{"carol", rbac.RunpodBasic}, member{"dave", rbac.RunpodBilling})
	other := e.team(t, "zed", member{"bob", rbac.RunpodAdmin})
	e.record(t, "bob", acct.ID, audit.Entry{Action: "pod.created", ResourceType: "pod", ResourceID: "p1", After: `{"gpu": "A100"}`})
	e.record(t, "bob", acct.ID, audit.Entry{Action: "pod.created", ResourceType: "pod", ResourceID: "p2"})
	e.record(t, "carol", acct.ID, audit.Entry{Action: "pod.connected", ResourceType: "pod", ResourceID: "p2"})
	e.record(t, "carol", acct.ID, audit.Entry{Action: "pod.created", ResourceType: "pod", ResourceID: "p3",
		Result: store.Denied, Reason: "role basic lacks pods.manage"})
	e.record(t, "zed", other.ID, audit.Entry{Action: "pod.created", ResourceType: "pod", ResourceID: "p1"})
	e.record(t, "bob", acct.ID, audit.Entry{Action: "pod.deleted", ResourceType: "pod", ResourceID: "p1", Before: `{"gpu":"A100"}`})
	e.record(t, "alice", acct.ID, audit.Entry{Action: "endpoint.created", ResourceType: "endpoint", ResourceID: "e1"})
	e.record(t, "dave", acct.ID, audit.Entry{Action: "invoice.viewed", ResourceType: "invoice", ResourceID: "i1"})
	if _, _, err := e.r.Audit.Query(ctx, "bob", acct.ID, audit.Filter{}); !errors.Is(err, rbac.ErrDenied) {
		t.Fatalf("bob's query: error = %v, want ErrDenied", err)
	}
	if _, err := e.r.Teams.ChangeRole(ctx, "alice", acct.ID, "carol", rbac.RunpodDev); err != nil {
		t.Fatal(err)
	}
	e.record(t, "zed", other.ID, audit.Entry{Action: "pod.deleted", ResourceType: "pod", ResourceID: "p1"})
	e.record(t, "alice", acct.ID, audit.Entry{Action: "endpoint.deleted", ResourceType: "endpoint", ResourceID: "e1"})
	if err := e.r.Teams.RemoveMember(ctx, "alice", acct.ID, "dave"); err != nil {
		t.Fatal(err)
	}
	rctx := store.WithRequest(ctx, store.Request{IP: "203.0.113.5", UserAgent: "console/1.0", RequestID: "req-9"})
	if _, err := e.r.Audit.Record(rctx, "bob", acct.ID, audit.Entry{Action: "pod.created", ResourceType: "pod", ResourceID: "p4"}); err != nil {
		t.Fatal(err)
	}
	return acct, other
}

// matches is the reference filter: what Query must return, written plainly.
func matches(e store.Event, f audit.Filter) bool {
	return (f.Actor == "" || e.Actor == f.Actor) &&
		(f.Action == "" || e.Action == f.Action) &&
		(f.ResourceType == "" || e.ResourceType == f.ResourceType) &&
		(f.ResourceID == "" || e.ResourceID == f.ResourceID) &&
		(f.Result == "" || e.Result == f.Result) &&
		(f.Since.IsZero() || !e.Time.Before(f.Since)) &&
		(f.Until.IsZero() || e.Time.Before(f.Until))
}

func filterEvents(all []store.Event, f audit.Filter) []store.Event {
	var out []store.Event
	for _, e := range all {
		if matches(e, f) {
			out = append(out, e)
		}
	}
	return out
}

func TestQuery(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, b, rbac.Runpod())
		acct, other := fixture(t, e)
		all := e.all(t, acct.ID)

		t.Run("the log lists the account's events newest first and nothing else", func(t *testing.T) {
			got := queryAll(t, e.r.Audit, "alice", acct.ID, audit.Filter{Limit: 4})
			checkEvents(t, "paged log", all, got)
			for i := 1; i < len(got); i++ {
				if got[i].Time.After(got[i-1].Time) || (got[i].Time.Equal(got[i-1].Time) && got[i].ID > got[i-1].ID) {
					t.Errorf("event %d (%d at %v) sorts above event %d (%d at %v)", i, got[i].ID, got[i].Time, i-1, got[i-1].ID, got[i-1].Time)
				}
			}
			for _, ev := range got {
				if ev.AccountID != acct.ID {
					t.Errorf("event %d of account %s in %s's log", ev.ID, ev.AccountID, acct.ID)
				}
			}
		})

		t.Run("known filters return the known events", func(t *testing.T) {
			resources := func(f audit.Filter) string {
				var out []string
				for _, ev := range queryAll(t, e.r.Audit, "alice", acct.ID, f) {
					out = append(out, string(ev.Action)+":"+ev.ResourceID)
				}
				return strings.Join(out, " ")
			}
			for _, c := range []struct {
				name string
				f    audit.Filter
				want string
			}{
				{"user and action", audit.Filter{Actor: "bob", Action: "pod.created"}, "pod.created:p4 pod.created:p2 pod.created:p1"},
				{"action", audit.Filter{Action: "member.added"}, "member.added:dave member.added:carol member.added:bob"},
				{"resource", audit.Filter{ResourceType: "pod", ResourceID: "p1"}, "pod.deleted:p1 pod.created:p1"},
				{"resource type", audit.Filter{ResourceType: "endpoint"}, "endpoint.deleted:e1 endpoint.created:e1"},
				{"resource ID alone", audit.Filter{ResourceID: "p2"}, "pod.connected:p2 pod.created:p2"},
				{"denied attempts", audit.Filter{Result: store.Denied}, "audit.queried:" + acct.ID + " pod.created:p3"},
				{"a member's role changes", audit.Filter{ResourceType: "member", ResourceID: "carol"}, "member.role_changed:carol member.added:carol"},
				{"wildcard actor matches nobody", audit.Filter{Actor: "%"}, ""},
				{"wildcard resource matches nothing", audit.Filter{ResourceID: "*"}, ""},
				{"another account's user", audit.Filter{Actor: "zed"}, ""},
			} {
				if got := resources(c.f); got != c.want {
					t.Errorf("%s: got %q, want %q", c.name, got, c.want)
				}
			}
		})

		t.Run("each filter and every combination matches the reference filter", func(t *testing.T) {
			// Samples of each kind of event: roster's, the host's, denied, with metadata.
			var samples []store.Event
			for _, ev := range all {
				switch ev.Action {
				case "member.added", "pod.created", "pod.deleted", "audit.queried", "member.removed", "account.converted":
					if !slices.ContainsFunc(samples, func(s store.Event) bool { return s.Action == ev.Action }) {
						samples = append(samples, ev)
					}
				}
			}
			if len(samples) != 6 {
				t.Fatalf("fixture has %d kinds of sample events, want 6", len(samples))
			}
			checked := 0
			for _, s := range samples {
				for mask := range 1 << 6 {
					f := audit.Filter{Limit: 3}
					if mask&1 != 0 {
						f.Actor = s.Actor
					}
					if mask&2 != 0 {
						f.Action = s.Action
					}
					if mask&4 != 0 {
						f.ResourceType = s.ResourceType
					}
					if mask&8 != 0 {
						f.ResourceID = s.ResourceID
					}
					if mask&16 != 0 {
						f.Result = s.Result
					}
					if mask&32 != 0 {
						f.Since, f.Until = s.Time.Add(-20*time.Millisecond), s.Time.Add(time.Millisecond)
					}
					want := filterEvents(all, f)
					if !slices.ContainsFunc(want, func(w store.Event) bool { return w.ID == s.ID }) {
						t.Fatalf("reference filter %+v lost its own sample %d", f, s.ID)
					}
					checkEvents(t, fmt.Sprintf("Query(%+v)", f), want, queryAll(t, e.r.Audit, "alice", acct.ID, f))
					checked++
				}
			}
			if checked != 6*64 {
				t.Errorf("checked %d filters, want %d", checked, 6*64)
			}
		})

		t.Run("date ranges are inclusive at since and exclusive at until", func(t *testing.T) {
			mid := all[len(all)/2]
			got := queryAll(t, e.r.Audit, "alice", acct.ID, audit.Filter{Since: mid.Time, Until: mid.Time.Add(time.Microsecond)})
			if !slices.ContainsFunc(got, func(ev store.Event) bool { return ev.ID == mid.ID }) {
				t.Errorf("[t, t+1µs) does not contain the event at t")
			}
			got = queryAll(t, e.r.Audit, "alice", acct.ID, audit.Filter{Until: mid.Time})
			if slices.ContainsFunc(got, func(ev store.Event) bool { return ev.ID == mid.ID }) {
				t.Errorf("until t contains the event at t")
			}
		})

		t.Run("request metadata is recorded and returned", func(t *testing.T) {
			ev := all[0]
			if ev.ResourceID != "p4" || ev.IP != "203.0.113.5" || ev.UserAgent != "console/1.0" || ev.RequestID != "req-9" {
				t.Errorf("newest event = %+v, want p4 with the request's metadata", ev)
			}
			if ev.Time.Location() != time.UTC {
				t.Errorf("event time %v is not UTC", ev.Time)
			}
		})

		t.Run("the other team's log holds only its own events", func(t *testing.T) {
			got := queryAll(t, e.r.Audit, "zed", other.ID, audit.Filter{})
			checkEvents(t, "zed's log", e.all(t, other.ID), got)
			if _, _, err := e.r.Audit.Query(ctx, "zed", acct.ID, audit.Filter{}); !errors.Is(err, rbac.ErrNotMember) {
				t.Errorf("zed reading alice's team: error = %v, want ErrNotMember", err)
			}
		})
	})
}

func TestQueryPaging(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, b, rbac.Runpod())
		acct, other := fixture(t, e)

		t.Run("pages stay stable while new events arrive", func(t *testing.T) {
			before := e.all(t, acct.ID)
			f := audit.Filter{Limit: 4}
			got, next, err := e.r.Audit.Query(ctx, "alice", acct.ID, f)
			if err != nil || next == "" {
				t.Fatalf("first page: %v, next %q", err, next)
			}
			var added []store.Event
			for i := range 3 {
				added = append(added, e.record(t, "bob", acct.ID, audit.Entry{Action: "pod.created", ResourceType: "pod", ResourceID: fmt.Sprint("new", i)}))
			}
			if _, err := e.r.Teams.ChangeRole(ctx, "alice", acct.ID, "bob", rbac.RunpodBasic); err != nil {
				t.Fatal(err)
			}
			f.Cursor = next
			got = append(got, queryAll(t, e.r.Audit, "alice", acct.ID, f)...)
			checkEvents(t, "pages across new events", before, got)
			fresh, _, err := e.r.Audit.Query(ctx, "alice", acct.ID, audit.Filter{Limit: 4})
			if err != nil {
				t.Fatal(err)
			}
			if fresh[0].Action != "member.role_changed" || fresh[1].ID != added[2].ID {
				t.Errorf("a fresh first page starts with %v, want the new events", eventIDs(fresh))
			}
		})

		t.Run("the page size may change between pages", func(t *testing.T) {
			all := e.all(t, acct.ID)
			got, next, err := e.r.Audit.Query(ctx, "alice", acct.ID, audit.Filter{Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, queryAll(t, e.r.Audit, "alice", acct.ID, audit.Filter{Limit: 5, Cursor: next})...)
			checkEvents(t, "pages of 2 then 5", all, got)
		})

		t.Run("the last page has no next cursor and a full log fits one page", func(t *testing.T) {
			all := e.all(t, acct.ID)
			got, next, err := e.r.Audit.Query(ctx, "alice", acct.ID, audit.Filter{Limit: len(all)})
			if err != nil || next != "" || len(got) != len(all) {
				t.Errorf("Query(limit %d) = %d events, next %q, %v; want all and no cursor", len(all), len(got), next, err)
			}
			got, next, err = e.r.Audit.Query(ctx, "alice", acct.ID, audit.Filter{Limit: len(all) - 1})
			if err != nil || next == "" || len(got) != len(all)-1 {
				t.Errorf("Query(limit %d) = %d events, next %q, %v; want a next cursor", len(all)-1, len(got), next, err)
			}
		})

		t.Run("default and maximum page sizes", func(t *testing.T) {
			if _, err := e.r.Audit.Record(ctx, "alice", acct.ID, audit.Entry{Action: "bulk.start"}); err != nil {
				t.Fatal(err)
			}
			for i := range audit.DefaultLimit {
				e.record(t, "alice", acct.ID, audit.Entry{Action: "bulk.item", ResourceID: fmt.Sprint(i)})
			}
			got, next, err := e.r.Audit.Query(ctx, "alice", acct.ID, audit.Filter{})
			if err != nil || len(got) != audit.DefaultLimit || next == "" {
				t.Errorf("Query() = %d events, next %q, %v; want %d and a cursor", len(got), next, err, audit.DefaultLimit)
			}
			if _, _, err := e.r.Audit.Query(ctx, "alice", acct.ID, audit.Filter{Limit: audit.MaxLimit}); err != nil {
				t.Errorf("Query(MaxLimit) = %v", err)
			}
		})

		t.Run("cursors are tied to their account and filter", func(t *testing.T) {
			f := audit.Filter{Actor: "bob", Limit: 1}
			_, next, err := e.r.Audit.Query(ctx, "alice", acct.ID, f)
			if err != nil || next == "" {
				t.Fatalf("first page: %v, next %q", err, next)
			}
			flipped := []byte(next)
			flipped[len(flipped)/2] ^= 1
			for name, c := range map[string]struct {
				account string
				actor   string
				f       audit.Filter
			}{
				"another account":   {other.ID, "zed", audit.Filter{Actor: "bob", Limit: 1, Cursor: next}},
				"another filter":    {acct.ID, "alice", audit.Filter{Actor: "carol", Limit: 1, Cursor: next}},
				"an added filter":   {acct.ID, "alice", audit.Filter{Actor: "bob", Action: "pod.created", Limit: 1, Cursor: next}},
				"a dropped filter":  {acct.ID, "alice", audit.Filter{Limit: 1, Cursor: next}},
				"a flipped bit":     {acct.ID, "alice", audit.Filter{Actor: "bob", Limit: 1, Cursor: string(flipped)}},
				"a cut cursor":      {acct.ID, "alice", audit.Filter{Actor: "bob", Limit: 1, Cursor: next[:len(next)-2]}},
				"not base64":        {acct.ID, "alice", audit.Filter{Actor: "bob", Cursor: "not a cursor!"}},
				"a number":          {acct.ID, "alice", audit.Filter{Actor: "bob", Cursor: "12345"}},
				"an overlong value": {acct.ID, "alice", audit.Filter{Actor: "bob", Cursor: strings.Repeat("A", 10000)}},
				// The checksum is no secret: these are well formed, and out of range.
				"event ID 0":  {acct.ID, "alice", audit.Filter{Cursor: madeUp(acct.ID, time.Now(), 0)}},
				"event ID -1": {acct.ID, "alice", audit.Filter{Cursor: madeUp(acct.ID, time.Now(), -1)}},
				"year 10000":  {acct.ID, "alice", audit.Filter{Cursor: madeUp(acct.ID, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), 1)}},
			} {
				_, _, err := e.r.Audit.Query(ctx, c.actor, c.account, c.f)
				checkErr(t, "cursor from "+name, err, store.ErrInvalid)
			}
			if _, _, err := e.r.Audit.Query(ctx, "alice", acct.ID, audit.Filter{Cursor: madeUp(acct.ID, time.Now(), 1<<40)}); err != nil {
				t.Errorf("a made-up cursor in range: %v, want it read like any", err)
			}
		})
	})
}

// madeUp returns a cursor of the audit log of account, with no filter, at
// the event id of time at, made as a client could: its checksum is no secret.
func madeUp(account string, at time.Time, id int64) string {
	b := binary.BigEndian.AppendUint64(nil, uint64(at.UnixMicro()))
	b = binary.BigEndian.AppendUint64(b, uint64(id))
	return cursor.Encode(b, account, "", "", "", "", "", "", "")
}

func TestQueryRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, b, rbac.Runpod())
		acct, _ := fixture(t, e)
		t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		written := e.count(t)
		for _, c := range []struct {
			name string
			f    audit.Filter
		}{
			{"an inverted date range", audit.Filter{Since: t0, Until: t0.Add(-time.Hour)}},
			{"an empty date range", audit.Filter{Since: t0, Until: t0}},
			{"a date in year 1", audit.Filter{Since: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)}},
			{"a date before 1970", audit.Filter{Until: time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC)}},
			{"a date after 9999", audit.Filter{Until: time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)}},
			{"a negative limit", audit.Filter{Limit: -1}},
			{"a limit over the maximum", audit.Filter{Limit: audit.MaxLimit + 1}},
			{"an oversized actor", audit.Filter{Actor: strings.Repeat("a", store.MaxIDLen+1)}},
			{"an actor with a space", audit.Filter{Actor: "bob smith"}},
			{"an actor with a newline", audit.Filter{Actor: "bob\nalice"}},
			{"an actor that is not UTF-8", audit.Filter{Actor: "bob\xff"}},
			{"SQL in the actor", audit.Filter{Actor: "' OR '1'='1"}},
			{"an oversized resource ID", audit.Filter{ResourceID: strings.Repeat("r", 10000)}},
			{"a resource type with a control character", audit.Filter{ResourceType: "pod\x00"}},
			{"a wildcard action", audit.Filter{Action: "member.%"}},
			{"a star action", audit.Filter{Action: "member.*"}},
			{"an uppercase action", audit.Filter{Action: "Member.Added"}},
			{"an action without namespace", audit.Filter{Action: "added"}},
			{"an action with an empty word", audit.Filter{Action: "member..added"}},
			{"SQL in the action", audit.Filter{Action: "x.y'--"}},
			{"an oversized action", audit.Filter{Action: store.EventAction("a." + strings.Repeat("b", store.MaxIDLen))}},
			{"an unknown result", audit.Filter{Result: "maybe"}},
		} {
			_, _, err := e.r.Audit.Query(ctx, "alice", acct.ID, c.f)
			checkErr(t, c.name, err, store.ErrInvalid)
		}
		for _, c := range []struct{ name, actor, account string }{
			{"an empty actor", "", acct.ID},
			{"an empty account", "alice", ""},
			{"an account with a newline", "alice", acct.ID + "\n"},
		} {
			_, _, err := e.r.Audit.Query(ctx, c.actor, c.account, audit.Filter{})
			checkErr(t, c.name, err, store.ErrInvalid)
		}
		_, _, err := e.r.Audit.Query(ctx, "alice", "acc_missing", audit.Filter{})
		checkErr(t, "an unknown account", err, store.ErrNotFound)
		if n := e.count(t); n != written {
			t.Errorf("refused queries wrote %d events", n-written)
		}
	})
}

func TestOnlyAuditRolesRead(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		for _, c := range []struct {
			policy  *rbac.Policy
			owner   string
			allowed []rbac.Role
			denied  []rbac.Role
		}{
			{rbac.Runpod(), "alice", []rbac.Role{rbac.RunpodAdmin}, []rbac.Role{rbac.RunpodBasic, rbac.RunpodBilling, rbac.RunpodDev}},
			{rbac.DigitalOcean(), "olive", []rbac.Role{rbac.DigitalOceanOwner}, []rbac.Role{
				rbac.DigitalOceanBiller, rbac.DigitalOceanBillingViewer, rbac.DigitalOceanMember,
				rbac.DigitalOceanModifier, rbac.DigitalOceanResourceViewer}},
		} {
			t.Run(c.policy.Name(), func(t *testing.T) {
				e := newEnv(t, b, c.policy)
				var members []member
				for _, r := range append(slices.Clone(c.allowed), c.denied...) {
					if !(c.policy.TopByTransfer() && c.policy.IsTop(r)) { // the owner holds that one
						members = append(members, member{"u_" + string(r), r})
					}
				}
				acct := e.team(t, c.owner, members...)
				rostertest.User(t, e.r, "outsider")
				for _, m := range append(members, member{c.owner, c.policy.Top()}) {
					if !slices.Contains(c.allowed, m.role) {
						continue
					}
					if _, _, err := e.r.Audit.Query(ctx, m.id, acct.ID, audit.Filter{}); err != nil {
						t.Errorf("%s reading the log: %v", m.role, err)
					}
				}
				for _, r := range c.denied {
					actor := "u_" + string(r)
					_, _, err := e.r.Audit.Query(ctx, actor, acct.ID, audit.Filter{})
					checkErr(t, string(r)+" reading the log", err, rbac.ErrDenied)
					got := e.events(t, store.EventFilter{AccountID: acct.ID, Actor: actor, Result: store.Denied})
					if len(got) != 1 || got[0].Action != store.EventAuditQueried || !strings.Contains(got[0].Reason, "audit.read") {
						t.Errorf("%s's refused read recorded as %+v, want one denied %s", r, got, store.EventAuditQueried)
					}
				}
				before := e.count(t)
				_, _, err := e.r.Audit.Query(ctx, "outsider", acct.ID, audit.Filter{})
				checkErr(t, "an outsider reading the log", err, rbac.ErrNotMember)
				if n := e.count(t); n != before {
					t.Errorf("an outsider's refused read wrote %d events to the team's log", n-before)
				}
			})
		}
	})
}

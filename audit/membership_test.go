package audit_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/internal/chain"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// roles returns the members as user -> role.
func roles(ms []store.Member) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		out[m.UserID] = m.Role
	}
	return out
}

func show(m map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+":"+m[k])
	}
	return strings.Join(parts, " ")
}

// step is a membership change and the members after it.
type step struct {
	action, resource string
	members          map[string]string
}

// locate finds the events of steps in the account's log, in order, and
// returns them.
func locate(t *testing.T, e *env, account string, steps []step) []store.Event {
	t.Helper()
	log := e.chainOrder(t, account)
	var found []store.Event
	i := 0
	for _, s := range steps {
		for ; i < len(log) && (string(log[i].Action) != s.action || log[i].ResourceID != s.resource); i++ {
		}
		if i == len(log) {
			t.Fatalf("no %s %s event after %d found events", s.action, s.resource, len(found))
		}
		found = append(found, log[i])
		i++
	}
	return found
}

// membershipStory runs a Runpod team through joins, role changes, removals,
// leaving and deletion, with noise in between, and returns the account and
// the steps with the members after each.
func membershipStory(t *testing.T, e *env) (store.Account, []step) {
	t.Helper()
	ctx := context.Background()
	acct := rostertest.User(t, e.r, "alice")
	other := e.team(t, "zed", member{"bob", rbac.RunpodAdmin})
	rostertest.User(t, e.r, "carol")
	do := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	noise := func(i int) {
		t.Helper()
		e.record(t, "zed", other.ID, audit.Entry{Action: "pod.created", ResourceType: "member", ResourceID: "bob", After: `{"role":"basic"}`})
		e.record(t, "alice", acct.ID, audit.Entry{Action: "pod.created", ResourceType: "member", ResourceID: "mallory",
			After: `{"role":"admin"}`, Reason: fmt.Sprint("host event that looks like a membership ", i)})
	}
	_, err := e.r.Teams.ConvertToTeam(ctx, "alice", acct.ID, "Acme")
	do(err)
	noise(0)
	_, err = e.r.Teams.AddMember(ctx, "alice", acct.ID, "bob", rbac.RunpodDev)
	do(err)
	_, err = e.r.Teams.ChangeRole(ctx, "alice", acct.ID, "bob", rbac.RunpodBasic)
	do(err)
	noise(1)
	_, err = e.r.Teams.AddMember(ctx, "alice", acct.ID, "carol", rbac.RunpodBilling)
	do(err)
	do(e.r.Teams.RemoveMember(ctx, "alice", acct.ID, "bob"))
	if _, err := e.r.Teams.ChangeRole(ctx, "carol", acct.ID, "carol", rbac.RunpodAdmin); !errors.Is(err, rbac.ErrDenied) {
		t.Fatalf("carol promoting herself: %v, want ErrDenied", err)
	}
	_, err = e.r.Teams.AddMember(ctx, "alice", acct.ID, "bob", rbac.RunpodAdmin)
	do(err)
	noise(2)
	do(e.r.Teams.Leave(ctx, "carol", acct.ID))
	e.handOver(t, "alice", acct.ID, "bob")
	do(e.r.Teams.Leave(ctx, "alice", acct.ID))
	_, err = e.r.Teams.DeleteTeam(ctx, "bob", acct.ID)
	do(err)
	return acct, []step{
		{"account.created", acct.ID, map[string]string{"alice": "admin"}},
		{"member.added", "bob", map[string]string{"alice": "admin", "bob": "dev"}},
		{"member.role_changed", "bob", map[string]string{"alice": "admin", "bob": "basic"}},
		{"member.added", "carol", map[string]string{"alice": "admin", "bob": "basic", "carol": "billing"}},
		{"member.removed", "bob", map[string]string{"alice": "admin", "carol": "billing"}},
		{"member.added", "bob", map[string]string{"alice": "admin", "carol": "billing", "bob": "admin"}},
		{"member.left", "carol", map[string]string{"alice": "admin", "bob": "admin"}},
		{"member.left", "alice", map[string]string{"bob": "admin"}},
		{"account.team_deleted", acct.ID, map[string]string{"bob": "admin"}},
	}
}

func TestMembersAt(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, b, rbac.Runpod())
		rostertest.User(t, e.r, "auditor") // so bob's deleting the team leaves someone to ask: bob himself
		acct, steps := membershipStory(t, e)
		events := locate(t, e, acct.ID, steps)

		t.Run("the members at each change are the members after it", func(t *testing.T) {
			for i, s := range steps {
				ms, err := e.r.Audit.MembersAt(ctx, "bob", acct.ID, events[i].Time)
				if err != nil {
					t.Fatal(err)
				}
				if got := roles(ms); show(got) != show(s.members) {
					t.Errorf("after %s %s: members %s, want %s", s.action, s.resource, show(got), show(s.members))
				}
			}
		})

		t.Run("the members just before each change are the members before it", func(t *testing.T) {
			for i := 1; i < len(steps); i++ {
				if !events[i-1].Time.Before(events[i].Time) {
					continue // the two changes share a microsecond
				}
				ms, err := e.r.Audit.MembersAt(ctx, "bob", acct.ID, events[i].Time.Add(-time.Microsecond))
				if err != nil {
					t.Fatal(err)
				}
				if got := roles(ms); show(got) != show(steps[i-1].members) {
					t.Errorf("just before %s %s: members %s, want %s", steps[i].action, steps[i].resource, show(got), show(steps[i-1].members))
				}
			}
		})

		t.Run("before the account existed it had no members", func(t *testing.T) {
			ms, err := e.r.Audit.MembersAt(ctx, "bob", acct.ID, events[0].Time.Add(-time.Hour))
			if err != nil || len(ms) != 0 {
				t.Errorf("MembersAt(before creation) = %v, %v; want none", ms, err)
			}
		})

		t.Run("join times are those of the event that began each membership", func(t *testing.T) {
			ms, err := e.r.Audit.MembersAt(ctx, "bob", acct.ID, events[5].Time)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]time.Time{"alice": events[0].Time, "carol": events[3].Time, "bob": events[5].Time}
			if len(ms) != 3 {
				t.Fatalf("members = %+v, want 3", ms)
			}
			for i, m := range ms {
				if !m.JoinedAt.Equal(want[m.UserID]) || m.AccountID != acct.ID {
					t.Errorf("%s joined at %v in %s, want %v in %s", m.UserID, m.JoinedAt, m.AccountID, want[m.UserID], acct.ID)
				}
				if i > 0 && ms[i-1].JoinedAt.After(m.JoinedAt) {
					t.Errorf("members not ordered by join time: %+v", ms)
				}
			}
		})

		t.Run("did this user have access at time T", func(t *testing.T) {
			for _, c := range []struct {
				at       int
				user     string
				member   bool
				role     string
				joinedAt int
			}{
				{1, "bob", true, "dev", 1},
				{2, "bob", true, "basic", 1},
				{4, "bob", false, "", 0},
				{5, "bob", true, "admin", 5},
				{5, "carol", true, "billing", 3},
				{6, "carol", false, "", 0},
				{8, "alice", false, "", 0},
				{0, "nobody", false, "", 0},
			} {
				m, ok, err := e.r.Audit.MemberAt(ctx, "bob", acct.ID, c.user, events[c.at].Time)
				if err != nil {
					t.Fatal(err)
				}
				if ok != c.member || m.Role != c.role || (ok && !m.JoinedAt.Equal(events[c.joinedAt].Time)) {
					t.Errorf("MemberAt(%s, after step %d) = %+v, %v; want member %v as %q since step %d", c.user, c.at, m, ok, c.member, c.role, c.joinedAt)
				}
				if ok && rbac.Runpod().Allows(rbac.Role(m.Role), rbac.PodsManage) != (c.role == "dev" || c.role == "admin") {
					t.Errorf("role %s's pods.manage permission is wrong", m.Role)
				}
			}
		})

		t.Run("host events cannot forge memberships", func(t *testing.T) {
			ms, err := e.r.Audit.MembersAt(ctx, "bob", acct.ID, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := roles(ms)["mallory"]; ok {
				t.Errorf("a host event made mallory a member: %+v", ms)
			}
		})

		t.Run("denied membership events change nothing", func(t *testing.T) {
			// Appended around roster: a denied attempt as teams records them.
			if _, err := e.s.Update(ctx, func(tx store.Tx) error {
				_, err := tx.AppendEvent(ctx, store.Event{AccountID: acct.ID, Actor: "eve", Action: "member.added",
					ResourceType: "member", ResourceID: "eve", Result: store.Denied, After: `{"role":"admin"}`})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			ms, err := e.r.Audit.MembersAt(ctx, "bob", acct.ID, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if got := roles(ms); show(got) != "bob:admin" {
				t.Errorf("members now = %s, want bob:admin", show(got))
			}
		})

		t.Run("bad questions are refused", func(t *testing.T) {
			for name, at := range map[string]time.Time{
				"the zero time":     {},
				"year 1":            time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
				"after 9999":        time.Date(10001, 1, 1, 0, 0, 0, 0, time.UTC),
				"before the epoch":  time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC),
				"far in the future": time.Date(50000, 1, 1, 0, 0, 0, 0, time.UTC),
			} {
				_, err := e.r.Audit.MembersAt(ctx, "bob", acct.ID, at)
				checkErr(t, "MembersAt at "+name, err, store.ErrInvalid)
			}
			_, _, err := e.r.Audit.MemberAt(ctx, "bob", acct.ID, "a b", time.Now())
			checkErr(t, "MemberAt of a malformed user", err, store.ErrInvalid)
			_, err = e.r.Audit.MembersAt(ctx, "auditor", acct.ID, time.Now())
			checkErr(t, "a non-member asking", err, rbac.ErrNotMember)
			_, err = e.r.Audit.MembersAt(ctx, "bob", "acc_missing", time.Now())
			checkErr(t, "an unknown account", err, store.ErrNotFound)
		})

		t.Run("account events that name no role give the top role", func(t *testing.T) {
			d := newEnv(t, b, rbac.DigitalOcean())
			acct := d.team(t, "olive")
			// Written around roster, as an older version of teams wrote them.
			if _, err := d.s.Update(ctx, func(tx store.Tx) error {
				for _, ev := range []store.Event{
					{AccountID: acct.ID, Actor: "sam", Action: "account.created", ResourceType: "account", ResourceID: acct.ID,
						Result: store.Allowed, After: `{"kind":"personal","owner":"sam"}`},
					{AccountID: acct.ID, Actor: "tia", Action: "account.team_deleted", ResourceType: "account", ResourceID: acct.ID,
						Result: store.Allowed, After: `{"kind":"personal"}`},
				} {
					if _, err := tx.AppendEvent(ctx, ev); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			ms, err := d.r.Audit.MembersAt(ctx, "olive", acct.ID, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if got := show(roles(ms)); got != "olive:owner sam:owner tia:owner" {
				t.Errorf("members = %s, want olive, sam and tia as owners", got)
			}
		})

		t.Run("a personal account has its owner with the top role", func(t *testing.T) {
			d := newEnv(t, b, rbac.DigitalOcean())
			acct := rostertest.User(t, d.r, "olive")
			ms, err := d.r.Audit.MembersAt(ctx, "olive", acct.ID, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if got := roles(ms); show(got) != "olive:owner" {
				t.Errorf("members = %s, want olive:owner", show(got))
			}
		})
	})
}

// auditorPolicy is a Runpod-like policy with an auditor who may read the
// audit log but holds no other permission.
func auditorPolicy(t *testing.T) *rbac.Policy {
	t.Helper()
	p, err := rbac.Parse("auditors", []byte(rbac.Runpod().ModelText()), []byte(`
p, admin, members.invite
p, admin, members.manage
p, admin, settings.manage
p, admin, audit.read
p, admin, pods.manage
p, auditor, audit.read
p, dev, pods.manage
`))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		t.Run("pruning keeps the chain verifiable and later membership answerable", func(t *testing.T) {
			e := newEnv(t, b, rbac.Runpod())
			rostertest.User(t, e.r, "auditor")
			acct, _ := membershipStory(t, e)
			log := e.chainOrder(t, acct.ID)
			// Cut at the sixth membership event's time: the log before it goes.
			events := locate(t, e, acct.ID, []step{{"member.added", "bob", nil}, {"member.role_changed", "bob", nil},
				{"member.added", "carol", nil}, {"member.removed", "bob", nil}, {"member.added", "bob", nil}})
			cut := events[4].Time
			kept := slices.IndexFunc(log, func(ev store.Event) bool { return !ev.Time.Before(cut) })
			var before []map[string]string
			for _, ev := range log[kept:] {
				ms, err := e.r.Audit.MembersAt(ctx, "bob", acct.ID, ev.Time)
				if err != nil {
					t.Fatal(err)
				}
				before = append(before, roles(ms))
			}
			res, err := e.r.Audit.Prune(ctx, "bob", acct.ID, cut)
			if err != nil {
				t.Fatal(err)
			}
			if res.Deleted != int64(kept) || res.AnchorID != log[kept-1].ID || res.Event.Action != store.EventAuditPruned {
				t.Errorf("Prune = %+v, want %d deleted through %d", res, kept, log[kept-1].ID)
			}
			rep, err := e.r.Audit.Verify(ctx, "bob", acct.ID)
			if err != nil {
				t.Fatalf("Verify after Prune: %v", err)
			}
			if rep.AnchorID != res.AnchorID || rep.Events != int64(len(log)-kept+1) {
				t.Errorf("report = %+v, want anchor %d and %d events", rep, res.AnchorID, len(log)-kept+1)
			}
			after := e.chainOrder(t, acct.ID)
			if after[0].ID != log[kept].ID || after[len(after)-1].ID != res.Event.ID {
				t.Errorf("kept events %d..%d, want %d..%d", after[0].ID, after[len(after)-1].ID, log[kept].ID, res.Event.ID)
			}
			if got := queryAll(t, e.r.Audit, "bob", acct.ID, audit.Filter{Until: cut}); len(got) != 0 {
				t.Errorf("events older than the cut remain: %v", eventIDs(got))
			}
			for i, ev := range log[kept:] {
				ms, err := e.r.Audit.MembersAt(ctx, "bob", acct.ID, ev.Time)
				if err != nil {
					t.Fatal(err)
				}
				if show(roles(ms)) != show(before[i]) {
					t.Errorf("members at event %d: %s after pruning, %s before", ev.ID, show(roles(ms)), show(before[i]))
				}
			}
			_, err = e.r.Audit.MembersAt(ctx, "bob", acct.ID, cut.Add(-time.Microsecond))
			checkErr(t, "MembersAt before the cut", err, audit.ErrPruned)
			_, _, err = e.r.Audit.MemberAt(ctx, "bob", acct.ID, "bob", cut.Add(-time.Hour))
			checkErr(t, "MemberAt before the cut", err, audit.ErrPruned)

			// A second prune takes everything, its predecessor included.
			e.record(t, "bob", acct.ID, audit.Entry{Action: "pod.created"})
			now := time.Now()
			res2, err := e.r.Audit.Prune(ctx, "bob", acct.ID, now)
			if err != nil {
				t.Fatal(err)
			}
			if got := e.chainOrder(t, acct.ID); len(got) != 1 || got[0].ID != res2.Event.ID {
				t.Errorf("after pruning everything the log holds %v, want only the prune event %d", eventIDs(got), res2.Event.ID)
			}
			if _, err := e.r.Audit.Verify(ctx, "bob", acct.ID); err != nil {
				t.Errorf("Verify after the second prune: %v", err)
			}
			ms, err := e.r.Audit.MembersAt(ctx, "bob", acct.ID, now)
			if err != nil || show(roles(ms)) != "bob:admin" {
				t.Errorf("members after pruning everything = %v, %v; want bob:admin", ms, err)
			}
			if ms[0].JoinedAt.IsZero() || !ms[0].JoinedAt.Equal(events[4].Time) {
				t.Errorf("bob's join time after pruning = %v, want %v", ms[0].JoinedAt, events[4].Time)
			}
			// Later changes still count.
			rostertest.User(t, e.r, "dana")
			if _, err := e.r.Teams.ConvertToTeam(ctx, "bob", acct.ID, "Again"); err != nil {
				t.Fatal(err)
			}
			if _, err := e.r.Teams.AddMember(ctx, "bob", acct.ID, "dana", rbac.RunpodDev); err != nil {
				t.Fatal(err)
			}
			ms, err = e.r.Audit.MembersAt(ctx, "bob", acct.ID, time.Now())
			if err != nil || show(roles(ms)) != "bob:admin dana:dev" {
				t.Errorf("members after a later join = %s, %v", show(roles(ms)), err)
			}
		})

		t.Run("pruning nothing records nothing", func(t *testing.T) {
			e := newEnv(t, b, rbac.Runpod())
			acct := e.team(t, "alice")
			n := e.count(t)
			res, err := e.r.Audit.Prune(ctx, "alice", acct.ID, time.Now().Add(-time.Hour))
			if err != nil || res.Deleted != 0 || res.Event.ID != 0 {
				t.Errorf("Prune(an hour ago) = %+v, %v; want nothing done", res, err)
			}
			if e.count(t) != n {
				t.Error("a prune that deleted nothing wrote an event")
			}
		})

		t.Run("only the top role prunes", func(t *testing.T) {
			e := newEnv(t, b, auditorPolicy(t))
			acct := e.team(t, "alice", member{"ann", "auditor"}, member{"dev", "dev"})
			if _, _, err := e.r.Audit.Query(ctx, "ann", acct.ID, audit.Filter{}); err != nil {
				t.Fatalf("the auditor cannot read the log: %v", err)
			}
			n := len(e.all(t, acct.ID))
			for _, who := range []string{"ann", "dev"} {
				_, err := e.r.Audit.Prune(ctx, who, acct.ID, time.Now())
				checkErr(t, who+" pruning", err, rbac.ErrDenied)
			}
			got := e.all(t, acct.ID)
			if len(got) != n+2 || got[0].Action != store.EventAuditPruned || got[0].Result != store.Denied || got[1].Result != store.Denied {
				t.Errorf("refused prunes left %d events (newest %+v), want the %d before and two denied prunes", len(got), got[0], n)
			}
		})

		t.Run("bad cuts are refused", func(t *testing.T) {
			e := newEnv(t, b, rbac.Runpod())
			acct := e.team(t, "alice")
			n := e.count(t)
			for name, at := range map[string]time.Time{
				"the future": time.Now().Add(time.Hour),
				"year 1":     time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
				"year 20000": time.Date(20000, 1, 1, 0, 0, 0, 0, time.UTC),
			} {
				_, err := e.r.Audit.Prune(ctx, "alice", acct.ID, at)
				checkErr(t, "a cut in "+name, err, store.ErrInvalid)
			}
			_, err := e.r.Audit.Prune(ctx, "alice", "acc_missing", time.Now())
			checkErr(t, "an unknown account", err, store.ErrNotFound)
			if e.count(t) != n {
				t.Error("refused prunes wrote")
			}
		})

		t.Run("events deleted out of band after a prune are caught", func(t *testing.T) {
			for _, moveAnchor := range []bool{false, true} {
				e := newEnv(t, b, rbac.Runpod())
				acct, _ := fixture(t, e)
				log := e.chainOrder(t, acct.ID)
				if _, err := e.r.Audit.Prune(ctx, "alice", acct.ID, log[5].Time); err != nil {
					t.Fatal(err)
				}
				kept := e.chainOrder(t, acct.ID)
				e.exec(t, "DELETE FROM roster_events WHERE id <= ? AND account_id = ?", kept[1].ID, acct.ID)
				if moveAnchor {
					e.exec(t, "UPDATE roster_chain_heads SET anchor_id = ?, anchor_hash = ? WHERE account_id = ?", kept[1].ID, kept[1].Hash, acct.ID)
				}
				te := tamper(t, func() error { _, err := e.r.Audit.Verify(ctx, "alice", acct.ID); return err }())
				if te.Kind != audit.TamperDeleted || te.EventID != kept[2].ID {
					t.Errorf("anchor moved %v: Verify = %v, want deleted at %d", moveAnchor, te, kept[2].ID)
				}
			}
		})
	})
}

// accountNoise records n host events about the account itself (resource
// type "account"), which MembersAt must read past.
func accountNoise(t *testing.T, e *env, actor, account string, n int) {
	t.Helper()
	for i := range n {
		e.record(t, actor, account, audit.Entry{Action: "billing.updated", ResourceType: "account", ResourceID: account,
			After: fmt.Sprintf(`{"plan":"pro","owner":"mallory","role":"admin","n":%d}`, i)})
	}
}

// appendNoise appends n host events about the account itself in one
// chained transaction: what n calls of Record write, faster.
func appendNoise(t *testing.T, e *env, actor, account string, n int) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.s.Update(ctx, chain.Update(ctx, func(tx store.Tx) error {
		for range n {
			if _, err := tx.AppendEvent(ctx, store.Event{AccountID: account, Actor: actor, Action: "billing.updated",
				ResourceType: "account", ResourceID: account, Result: store.Allowed}); err != nil {
				return err
			}
		}
		return nil
	})); err != nil {
		t.Fatal(err)
	}
}

// batchStore is a store.Store whose read transactions note the largest
// number of events that one call of Events or ScanEvents returned.
type batchStore struct {
	store.Store
	largest int
}

func (s *batchStore) View(ctx context.Context, fn func(tx store.Tx) error) error {
	return s.Store.View(ctx, func(tx store.Tx) error { return fn(&batchTx{Tx: tx, s: s}) })
}

func (s *batchStore) note(n int) { s.largest = max(s.largest, n) }

type batchTx struct {
	store.Tx
	s *batchStore
}

func (t *batchTx) Events(ctx context.Context, f store.EventFilter) ([]store.Event, error) {
	es, err := t.Tx.Events(ctx, f)
	t.s.note(len(es))
	return es, err
}

func (t *batchTx) ScanEvents(ctx context.Context, f store.EventFilter, fn func(store.Event) error) error {
	n := 0
	err := t.Tx.ScanEvents(ctx, f, func(e store.Event) error {
		n++
		return fn(e)
	})
	t.s.note(n)
	return err
}

func TestMembersAtReadsPastHostEvents(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		t.Run("many host events about the account change no answer", func(t *testing.T) {
			e := newEnv(t, b, rbac.Runpod())
			acct := rostertest.User(t, e.r, "alice")
			rostertest.User(t, e.r, "bob")
			rostertest.User(t, e.r, "carol")
			do := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			// Blocks of noise longer than a page between the changes, so that
			// the two sequences MembersAt merges cross page boundaries.
			accountNoise(t, e, "alice", acct.ID, 300)
			_, err := e.r.Teams.ConvertToTeam(ctx, "alice", acct.ID, "Acme")
			do(err)
			_, err = e.r.Teams.AddMember(ctx, "alice", acct.ID, "bob", rbac.RunpodDev)
			do(err)
			accountNoise(t, e, "bob", acct.ID, 300)
			_, err = e.r.Teams.ChangeRole(ctx, "alice", acct.ID, "bob", rbac.RunpodAdmin)
			do(err)
			_, err = e.r.Teams.AddMember(ctx, "alice", acct.ID, "carol", rbac.RunpodBilling)
			do(err)
			accountNoise(t, e, "carol", acct.ID, 300)
			do(e.r.Teams.RemoveMember(ctx, "bob", acct.ID, "carol"))
			e.handOver(t, "alice", acct.ID, "bob")
			do(e.r.Teams.Leave(ctx, "alice", acct.ID))
			accountNoise(t, e, "bob", acct.ID, 10)
			_, err = e.r.Teams.DeleteTeam(ctx, "bob", acct.ID)
			do(err)
			accountNoise(t, e, "bob", acct.ID, 300)
			steps := []step{
				{"account.created", acct.ID, map[string]string{"alice": "admin"}},
				{"member.added", "bob", map[string]string{"alice": "admin", "bob": "dev"}},
				{"member.role_changed", "bob", map[string]string{"alice": "admin", "bob": "admin"}},
				{"member.added", "carol", map[string]string{"alice": "admin", "bob": "admin", "carol": "billing"}},
				{"member.removed", "carol", map[string]string{"alice": "admin", "bob": "admin"}},
				{"member.left", "alice", map[string]string{"bob": "admin"}},
				{"account.team_deleted", acct.ID, map[string]string{"bob": "admin"}},
			}
			events := locate(t, e, acct.ID, steps)
			for i, s := range steps {
				ms, err := e.r.Audit.MembersAt(ctx, "bob", acct.ID, events[i].Time)
				if err != nil {
					t.Fatal(err)
				}
				if got := roles(ms); show(got) != show(s.members) {
					t.Errorf("after %s %s: members %s, want %s", s.action, s.resource, show(got), show(s.members))
				}
				for user, role := range s.members {
					m, ok, err := e.r.Audit.MemberAt(ctx, "bob", acct.ID, user, events[i].Time)
					if err != nil || !ok || m.Role != role {
						t.Errorf("after %s %s: MemberAt(%s) = %+v, %v, %v; want %s", s.action, s.resource, user, m, ok, err, role)
					}
				}
				if i > 0 && events[i-1].Time.Before(events[i].Time) {
					ms, err := e.r.Audit.MembersAt(ctx, "bob", acct.ID, events[i].Time.Add(-time.Microsecond))
					if err != nil {
						t.Fatal(err)
					}
					if got := roles(ms); show(got) != show(steps[i-1].members) {
						t.Errorf("just before %s %s: members %s, want %s", s.action, s.resource, show(got), show(steps[i-1].members))
					}
				}
			}
			ms, err := e.r.Audit.MembersAt(ctx, "bob", acct.ID, time.Now())
			if err != nil || show(roles(ms)) != "bob:admin" {
				t.Errorf("members now = %s, %v; want bob:admin", show(roles(ms)), err)
			}
			if !ms[0].JoinedAt.Equal(events[1].Time) {
				t.Errorf("bob joined at %v, want %v", ms[0].JoinedAt, events[1].Time)
			}
		})

		t.Run("the events are read in batches that do not grow with the log", func(t *testing.T) {
			e := newEnv(t, b, rbac.Runpod())
			acct := e.team(t, "alice", member{"bob", rbac.RunpodDev})
			bs := &batchStore{Store: e.s}
			svc := audit.New(bs, rbac.Runpod())
			largest := func() int {
				t.Helper()
				bs.largest = 0
				ms, err := svc.MembersAt(ctx, "alice", acct.ID, time.Now())
				if err != nil || show(roles(ms)) != "alice:admin bob:dev" {
					t.Fatalf("MembersAt = %s, %v; want alice:admin bob:dev", show(roles(ms)), err)
				}
				n := bs.largest
				bs.largest = 0
				m, ok, err := svc.MemberAt(ctx, "alice", acct.ID, "bob", time.Now())
				if err != nil || !ok || m.Role != "dev" {
					t.Fatalf("MemberAt(bob) = %+v, %v, %v; want dev", m, ok, err)
				}
				return max(n, bs.largest)
			}
			appendNoise(t, e, "bob", acct.ID, 1000)
			small := largest()
			appendNoise(t, e, "bob", acct.ID, 9000)
			large := largest()
			if small >= 1000 || large != small {
				t.Errorf("largest batch read: %d events with 1,000 host events, %d with 10,000; want one bound below 1,000", small, large)
			}
		})
	})
}

// TestMembersAtReadsManyChanges checks that MembersAt and MemberAt read
// every page of membership changes: a member whose role changed more
// times than a page holds has the last role.
func TestMembersAtReadsManyChanges(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, b, rbac.Runpod())
		acct := rostertest.Team(t, e.r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
		for i := range 300 {
			role := rbac.RunpodBasic
			if i%2 == 1 {
				role = rbac.RunpodDev
			}
			if i == 299 {
				role = rbac.RunpodBilling
			}
			if _, err := e.r.Teams.ChangeRole(ctx, "alice", acct.ID, "bob", role); err != nil {
				t.Fatal(err)
			}
		}
		at := time.Now().Add(time.Hour)
		ms, err := e.r.Audit.MembersAt(ctx, "alice", acct.ID, at)
		if err != nil {
			t.Fatal(err)
		}
		if got := show(roles(ms)); got != show(map[string]string{"alice": "admin", "bob": "billing"}) {
			t.Errorf("after 300 role changes: members %s, want bob as billing", got)
		}
		if m, ok, err := e.r.Audit.MemberAt(ctx, "alice", acct.ID, "bob", at); err != nil || !ok || m.Role != string(rbac.RunpodBilling) {
			t.Errorf("after 300 role changes: MemberAt(bob) = %+v, %v, %v; want billing", m, ok, err)
		}
	})
}

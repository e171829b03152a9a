package teams_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/internal/chain"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teams"
)

// bobsData is what identifies bob in the world erasureWorld builds: his
// email, his name, and the IP address and user agent of his requests.
var bobsData = []string{"bob@example.com", "Bob Stone", "198.51.100.23", "BobBrowser/1.0"}

// erasure is a roster in which bob has left his data around: alice's team
// Acme, where he is an admin who recorded a host event, switched to it,
// invited someone by link and started a grant of the top role to carol;
// his personal account; a team Solo he alone is in; and alice's team Beta,
// which invited his address by email and whose log names him in a host
// event of alice's.
type erasure struct {
	r                     *roster.Roster
	s                     store.Store
	b                     testdb.Backend
	raw                   *sql.DB
	acme, beta, solo, own store.Account
	removals              []teams.Removal
	mu                    sync.Mutex
}

func erasureWorld(t *testing.T, b testdb.Backend) *erasure {
	t.Helper()
	ctx := context.Background()
	dsn := b.DSN(t)
	w := &erasure{b: b, raw: b.SQL(t, dsn)}
	w.s = b.StoreOn(t, dsn)
	w.r = rostertest.New(t, w.s, rbac.Runpod(), roster.WithBaseURL("https://app.example.com"), roster.WithRemovalHook(func(_ context.Context, r teams.Removal) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.removals = append(w.removals, r)
	}))
	w.acme = rostertest.Team(t, w.r, "alice", map[string]rbac.Role{"carol": rbac.RunpodDev})
	bobs := store.WithRequest(ctx, store.Request{IP: "198.51.100.23:5555", UserAgent: "BobBrowser/1.0", RequestID: "req-bob"})
	var err error
	w.own, err = w.r.Teams.CreateUser(bobs, store.User{ID: "bob", Email: "Bob@Example.com", Name: "Bob Stone", SignIn: store.SignInEmail})
	must(t, err)
	_, err = w.r.Teams.AddMember(ctx, "alice", w.acme.ID, "bob", rbac.RunpodAdmin)
	must(t, err)
	must(t, w.r.Teams.Switch(bobs, "bob", w.acme.ID))
	_, err = w.r.Audit.Record(bobs, "bob", w.acme.ID, audit.Entry{Action: "pod.created", ResourceType: "pod", ResourceID: "p1",
		After: `{"owner":{"email":"bob@example.com","name":"Bob Stone"},"gpu":"A100"}`, Reason: "asked by BOB@example.com"})
	must(t, err)
	_, err = w.r.Invites.CreateLink(bobs, "bob", w.acme.ID, rbac.RunpodDev)
	must(t, err)
	_, err = w.r.Teams.GrantTopRole(bobs, "bob", w.acme.ID, "carol")
	must(t, err)
	w.solo, err = w.r.Teams.CreateTeam(bobs, "bob", "Solo")
	must(t, err)
	w.beta, err = w.r.Teams.CreateTeam(ctx, "alice", "Beta")
	must(t, err)
	first, err := w.r.Invites.CreateEmail(ctx, "alice", w.beta.ID, rbac.RunpodDev, []string{"bob@example.com"})
	must(t, err)
	must(t, w.r.Invites.Revoke(ctx, "alice", w.beta.ID, first[0].ID)) // Beta holds his address twice
	_, err = w.r.Invites.CreateEmail(ctx, "alice", w.beta.ID, rbac.RunpodDev, []string{"bob@example.com"})
	must(t, err)
	_, err = w.r.Audit.Record(ctx, "alice", w.beta.ID, audit.Entry{Action: "deal.signed", After: `{"contact":"bob stone","amount":"3"}`})
	must(t, err)
	return w
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// rawText returns every value of every roster table, read with SQL behind
// the Store's back, as "table: value" lines.
func (w *erasure) rawText(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, table := range []string{"roster_users", "roster_accounts", "roster_members", "roster_invites", "roster_invite_uses",
		"roster_transfers", "roster_events", "roster_chain_heads", "roster_changes", "roster_team_roles"} {
		rows, err := w.raw.Query("SELECT * FROM " + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				switch v := v.(type) {
				case string:
					out = append(out, table+": "+v)
				case []byte:
					out = append(out, table+": "+string(v))
				}
			}
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// holding returns the raw values that hold one of needles, compared
// case-insensitively.
func (w *erasure) holding(t *testing.T, needles []string) []string {
	t.Helper()
	var found []string
	for _, v := range w.rawText(t) {
		for _, n := range needles {
			if strings.Contains(strings.ToLower(v), strings.ToLower(n)) {
				found = append(found, v)
			}
		}
	}
	return found
}

// chainIntact checks, without a member to ask Verify, that the account's
// events are valid and linked in append order up to its chain head.
func chainIntact(t *testing.T, s store.Store, accountID string) {
	t.Helper()
	err := s.View(context.Background(), func(tx store.Tx) error {
		head, err := tx.ChainHead(context.Background(), accountID)
		if err != nil {
			return err
		}
		es, err := tx.Events(context.Background(), store.EventFilter{AccountID: accountID, Order: store.AppendOrder})
		var prev []byte
		for _, e := range es {
			if !chain.Valid(e) || !bytes.Equal(e.PrevHash, prev) {
				t.Errorf("event %d of %s is not valid or not linked", e.ID, accountID)
			}
			prev = e.Hash
		}
		if !bytes.Equal(prev, head.LastHash) {
			t.Errorf("the chain of %s does not end at its head", accountID)
		}
		return err
	})
	must(t, err)
}

func TestDeleteUser(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		w := erasureWorld(t, b)
		if found := w.holding(t, bobsData); len(found) == 0 {
			t.Fatal("the world holds none of bob's data: the test would prove nothing")
		}
		if _, err := w.r.Teams.DeleteUser(ctx, "alice", "bob"); !errors.Is(err, rbac.ErrDenied) {
			t.Fatalf("alice deletes bob: %v, want rbac.ErrDenied", err)
		}
		before := map[int64]store.Event{}
		for _, id := range []string{w.acme.ID, w.beta.ID, w.solo.ID, w.own.ID} {
			for _, e := range rostertest.Events(t, w.s, id) {
				before[e.ID] = e
			}
		}
		got, err := w.r.Teams.DeleteUser(ctx, "bob", "bob")
		if err != nil {
			t.Fatal(err)
		}

		t.Run("it reports the accounts it changed and emptied and the events it erased", func(t *testing.T) {
			accounts := []string{w.acme.ID, w.beta.ID, w.solo.ID, w.own.ID}
			slices.Sort(accounts)
			emptied := []string{w.solo.ID, w.own.ID}
			slices.Sort(emptied)
			if !slices.Equal(got.Accounts, accounts) || !slices.Equal(got.Emptied, emptied) || got.Erased == 0 || got.Unerasable != 0 {
				t.Errorf("Erasure = %+v, want accounts %v, emptied %v, some erased and none unerasable", got, accounts, emptied)
			}
			// Erased counts exactly the events whose stored text changed.
			changed := map[string]int64{}
			for _, id := range accounts {
				for _, e := range rostertest.Events(t, w.s, id) {
					if was, ok := before[e.ID]; ok && (was.Before != e.Before || was.After != e.After || was.Reason != e.Reason || was.IP != e.IP || was.UserAgent != e.UserAgent) {
						changed[id]++
					}
				}
			}
			if n := changed[w.acme.ID] + changed[w.beta.ID] + changed[w.solo.ID] + changed[w.own.ID]; int64(got.Erased) != n {
				t.Errorf("Erasure.Erased = %d, but %d events changed", got.Erased, n)
			}
			for _, id := range []string{w.acme.ID, w.beta.ID} {
				if rep, err := w.r.Audit.Verify(ctx, "alice", id); err != nil || rep.Erased != changed[id] {
					t.Errorf("Verify(%s) = %+v, %v; want %d erased events", id, rep, err, changed[id])
				}
			}
		})
		t.Run("no stored value holds bob's email, name, IP address or user agent", func(t *testing.T) {
			for _, v := range w.holding(t, bobsData) {
				t.Errorf("still stored: %q", v)
			}
		})
		t.Run("what is not bob's stays in the events", func(t *testing.T) {
			es := rostertest.EventsWhere(t, w.s, store.EventFilter{AccountID: w.acme.ID, Action: "pod.created"})
			if len(es) != 1 || es[0].After != `{"owner":{"email":"[erased]","name":"[erased]"},"gpu":"A100"}` ||
				es[0].Reason != "asked by [erased]" || es[0].RequestID != "req-bob" || es[0].Actor != "bob" {
				t.Errorf("bob's host event = %+v, want his email and name erased, the rest kept", es)
			}
			es = rostertest.EventsWhere(t, w.s, store.EventFilter{AccountID: w.beta.ID, Action: "deal.signed"})
			if len(es) != 1 || es[0].After != `{"contact":"[erased]","amount":"3"}` {
				t.Errorf("alice's event naming bob = %+v, want his name erased", es)
			}
		})
		t.Run("Verify passes for every account he was in, counting the erased events", func(t *testing.T) {
			for _, id := range []string{w.acme.ID, w.beta.ID} {
				rep, err := w.r.Audit.Verify(ctx, "alice", id)
				if err != nil || rep.Erased == 0 {
					t.Errorf("Verify(%s) = %+v, %v; want intact with erased events", id, rep, err)
				}
			}
			for _, id := range []string{w.own.ID, w.solo.ID} {
				chainIntact(t, w.s, id)
			}
		})
		t.Run("each changed account records the erasure without personal data", func(t *testing.T) {
			for _, id := range got.Accounts {
				es := rostertest.EventsWhere(t, w.s, store.EventFilter{AccountID: id, Action: store.EventUserErased})
				if len(es) != 1 || es[0].ResourceID != "bob" || es[0].IP != "" || es[0].UserAgent != "" || es[0].RequestID != "" {
					t.Errorf("user.erased events of %s = %+v", id, es)
				}
			}
		})
		t.Run("Can says no for bob everywhere, and his removal hooks ran", func(t *testing.T) {
			for _, id := range got.Accounts {
				if w.r.Can(ctx, "bob", id, rbac.AccountAccess) {
					t.Errorf("bob may still access %s", id)
				}
			}
			w.mu.Lock()
			defer w.mu.Unlock()
			if len(w.removals) != 3 {
				t.Errorf("removal hook calls = %+v, want one for each of bob's 3 memberships", w.removals)
			}
			for _, r := range w.removals {
				if r.UserID != "bob" || r.Reason != "user deleted" {
					t.Errorf("removal %+v, want bob, user deleted", r)
				}
			}
		})
		t.Run("his invites and transfers are closed and his accounts have no owner", func(t *testing.T) {
			for _, id := range []string{w.acme.ID, w.beta.ID} {
				invs, _, err := w.r.Invites.List(ctx, "alice", id, store.Page{})
				must(t, err)
				for _, inv := range invs {
					if inv.Status != store.InviteRevoked {
						t.Errorf("invite %+v of %s is %s, want revoked", inv.ID, id, inv.Status)
					}
				}
			}
			trs, _, err := w.r.Teams.Transfers(ctx, "alice", w.acme.ID, store.Page{})
			if err != nil || len(trs) != 1 || trs[0].Status != store.TransferCancelled {
				t.Errorf("transfers of Acme = %+v, %v; want bob's cancelled", trs, err)
			}
			for _, id := range got.Emptied {
				a, err := w.r.Teams.Account(ctx, "alice", id)
				if !errors.Is(err, rbac.ErrNotMember) {
					t.Errorf("alice reads emptied account %s: %+v, %v", id, a, err)
				}
			}
			err = w.s.View(ctx, func(tx store.Tx) error {
				for _, id := range got.Emptied {
					a, err := tx.Account(ctx, id)
					ms, merr := tx.Members(ctx, id, store.Range{})
					if err != nil || merr != nil || a.Owner != "" || len(ms) != 0 {
						t.Errorf("emptied account %+v, %v, members %v, %v; want no owner and no members", a, err, ms, merr)
					}
				}
				return nil
			})
			must(t, err)
		})
		t.Run("the same ID can be created again as a new user who inherits nothing", func(t *testing.T) {
			acct, err := w.r.Teams.CreateUser(ctx, store.User{ID: "bob", Email: "robert@example.com", Name: "Robert", SignIn: store.SignInEmail})
			if err != nil {
				t.Fatal(err)
			}
			entries, _, err := w.r.Teams.Accounts(ctx, "bob", store.Page{})
			if err != nil || len(entries) != 1 || entries[0].Account.ID != acct.ID || slices.Contains(got.Accounts, acct.ID) {
				t.Errorf("the new bob's accounts = %+v, %v; want only his new personal account", entries, err)
			}
			if w.r.Can(ctx, "bob", w.acme.ID, rbac.AccountAccess) || w.r.Can(ctx, "bob", w.own.ID, rbac.AccountAccess) {
				t.Error("the new bob may access the old one's accounts")
			}
		})
		t.Run("deleting an unknown user is refused", func(t *testing.T) {
			if _, err := w.r.Teams.DeleteUser(ctx, "nobody", "nobody"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("DeleteUser(nobody) = %v, want store.ErrNotFound", err)
			}
		})
	})
}

func TestDeleteUserTampering(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		w := erasureWorld(t, b)
		if _, err := w.r.Teams.DeleteUser(ctx, "bob", "bob"); err != nil {
			t.Fatal(err)
		}
		var erased, kept store.Event // an erased event of Acme and one that is not
		for _, e := range rostertest.Events(t, w.s, w.acme.ID) {
			switch {
			case chain.Erased(e) && erased.ID == 0:
				erased = e
			case chain.Erasable(e) && kept.ID == 0:
				kept = e
			}
		}
		if erased.ID == 0 || kept.ID == 0 {
			t.Fatalf("Acme has no erased event (%d) or no other (%d)", erased.ID, kept.ID)
		}
		// Each case changes one row, checks what Verify says, and puts the
		// row back.
		// A deleted salt cannot be pinned on one event: Verify names the
		// newest erased one.
		for _, c := range []struct {
			name     string
			event    store.Event
			set      string
			arg, was any
		}{
			{"an erased event whose actor was changed", erased, "actor", "mallory", erased.Actor},
			{"an erased event whose commitment was changed", erased, "commitment", bytes.Repeat([]byte{1}, 32), erased.Commitment},
			{"an event whose IP address was changed", kept, "ip", "192.0.2.1", kept.IP},
			{"an event whose salt was deleted and IP address changed", kept, "salt", nil, kept.Salt},
		} {
			t.Run("Verify catches "+c.name, func(t *testing.T) {
				exec := func(v any) {
					if _, err := w.raw.Exec(b.Rebind("UPDATE roster_events SET "+c.set+" = ? WHERE id = ?"), v, c.event.ID); err != nil {
						t.Fatal(err)
					}
				}
				exec(c.arg)
				defer exec(c.was)
				if c.set == "salt" {
					exec2 := func(v string) {
						if _, err := w.raw.Exec(b.Rebind("UPDATE roster_events SET ip = ? WHERE id = ?"), v, c.event.ID); err != nil {
							t.Fatal(err)
						}
					}
					exec2("192.0.2.1")
					defer exec2(c.event.IP)
				}
				_, err := w.r.Audit.Verify(ctx, "alice", w.acme.ID)
				var te *audit.TamperError
				if !errors.As(err, &te) || te.Kind != audit.TamperAltered || (te.EventID != c.event.ID && c.set != "salt") {
					t.Errorf("Verify = %v, want altered at event %d", err, c.event.ID)
				}
			})
		}
		if _, err := w.r.Audit.Verify(ctx, "alice", w.acme.ID); err != nil {
			t.Errorf("Verify after the rows were put back: %v", err)
		}
	})
}

func TestDeleteUserRefusesAnOwnerOfATeam(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		r, s := rostertest.Open(t, b, rbac.DigitalOcean())
		gamma := rostertest.Team(t, r, "olive", map[string]rbac.Role{"max": rbac.DigitalOceanMember})
		solo, err := r.Teams.CreateTeam(ctx, "olive", "Alone")
		must(t, err)
		rev, events := rostertest.Writes(t, s)
		_, err = r.Teams.DeleteUser(ctx, "olive", "olive")
		var owned *teams.OwnedTeamsError
		if !errors.Is(err, teams.ErrOwnsTeams) || !errors.Is(err, store.ErrPrecondition) || !errors.As(err, &owned) ||
			!slices.Equal(owned.Teams, []string{gamma.ID}) || !strings.Contains(err.Error(), gamma.ID) {
			t.Fatalf("DeleteUser of gamma's owner = %v, want an OwnedTeamsError naming %s only (not %s)", err, gamma.ID, solo.ID)
		}
		if rev2, events2 := rostertest.Writes(t, s); rev2 != rev || events2 != events {
			t.Errorf("the refusal wrote: revision %d -> %d, events %d -> %d", rev, rev2, events, events2)
		}
		if _, err := r.Teams.User(ctx, "olive"); err != nil || !r.Can(ctx, "olive", gamma.ID, rbac.MembersManage) {
			t.Errorf("olive after the refusal: %v, may manage gamma: %v", err, r.Can(ctx, "olive", gamma.ID, rbac.MembersManage))
		}
		t.Run("once the team is handed over she can be deleted", func(t *testing.T) {
			if _, err := r.Teams.DeleteTeam(ctx, "olive", gamma.ID); err != nil {
				t.Fatal(err)
			}
			got, err := r.Teams.DeleteUser(ctx, "olive", "olive")
			if err != nil || !slices.Contains(got.Emptied, gamma.ID) || !slices.Contains(got.Emptied, solo.ID) {
				t.Errorf("DeleteUser after DeleteTeam = %+v, %v; want gamma and her own team emptied", got, err)
			}
		})
	})
}

func TestDeleteUserKeepsEventsWrittenBeforeCommitments(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		w := erasureWorld(t, b)
		// Make Acme's newest event, bob's open transfer, look as if it had
		// been written before events had a commitment (v1).
		es := rostertest.Events(t, w.s, w.acme.ID)
		last := es[0]
		last.Salt, last.Commitment = nil, nil
		last.Hash = chain.Hash(last.PrevHash, last)
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{"UPDATE roster_events SET salt = NULL, commitment = NULL, hash = ? WHERE id = ?", []any{last.Hash, last.ID}},
			{"UPDATE roster_chain_heads SET last_hash = ? WHERE account_id = ?", []any{last.Hash, w.acme.ID}},
		} {
			if _, err := w.raw.Exec(b.Rebind(q.sql), q.args...); err != nil {
				t.Fatal(err)
			}
		}
		if last.Actor != "bob" || last.IP == "" {
			t.Fatalf("Acme's newest event = %+v, want one of bob's with his IP address", last)
		}
		got, err := w.r.Teams.DeleteUser(ctx, "bob", "bob")
		if err != nil || got.Unerasable != 1 {
			t.Fatalf("DeleteUser = %+v, %v; want one unerasable event", got, err)
		}
		if rep, err := w.r.Audit.Verify(ctx, "alice", w.acme.ID); err != nil {
			t.Errorf("Verify = %+v, %v; want intact", rep, err)
		}
		kept := rostertest.EventsWhere(t, w.s, store.EventFilter{AccountID: w.acme.ID, Since: last.Time, Until: last.Time.Add(time.Microsecond)})
		if i := slices.IndexFunc(kept, func(e store.Event) bool { return e.ID == last.ID }); i < 0 || kept[i].IP != last.IP {
			t.Errorf("the v1 event after DeleteUser = %+v, want it kept as it was", kept)
		}
	})
}

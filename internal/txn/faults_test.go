package txn_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/apikeys"
	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/invites"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// faultWorld is a team with members of every kind, a pending invite, an
// open ownership transfer and a team role, for an operation to act on.
type faultWorld struct {
	r      *roster.Roster
	s      store.Store // the real store under the faults
	f      *rostertest.FaultStore
	box    *rostertest.Inbox
	team   string
	users  []string
	invite invites.Invitation
	xfer   string   // an ownership transfer from own to dev, awaiting acceptance
	keys   []string // dev's two keys, adm's key holding "viewer", a service account
	p      *rbac.Policy
	pre    string // the prefix of the world's user IDs
}

// newFaultWorld builds a world on s, under user IDs starting with pre, with
// a Roster of its own over a faultStore of its own, so that worlds can run
// in parallel on one store.
func newFaultWorld(t *testing.T, s store.Store, pre string) *faultWorld {
	t.Helper()
	ctx := context.Background()
	f := &rostertest.FaultStore{Store: s}
	box := &rostertest.Inbox{}
	p := rbac.Runpod()
	r := rostertest.New(t, f, p, roster.WithNotifier(box), roster.WithBaseURL("https://app.example.com/team"))
	w := &faultWorld{r: r, s: s, f: f, box: box, p: p, pre: pre}
	for _, u := range []string{"own", "adm", "dev", "bas", "out", "new"} { // "new" is created by an operation
		w.users = append(w.users, pre+u)
	}
	w.team = rostertest.Team(t, r, pre+"own", map[string]rbac.Role{pre + "adm": rbac.RunpodAdmin, pre + "dev": rbac.RunpodDev, pre + "bas": rbac.RunpodBasic}).ID
	rostertest.User(t, r, pre+"out")
	var err error
	if w.invite, err = r.Invites.CreateLink(ctx, pre+"own", w.team, rbac.RunpodDev); err != nil {
		t.Fatal(err)
	}
	tr, err := r.Teams.TransferOwnership(ctx, pre+"own", w.team, pre+"dev")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Teams.ConfirmTransfer(ctx, pre+"own", tr.ID, box.Token(tr.ID)); err != nil {
		t.Fatal(err)
	}
	w.xfer = tr.ID
	if _, err := r.Teams.DefineRole(ctx, pre+"own", w.team, "viewer", []rbac.Action{rbac.AccountAccess}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Audit.Record(ctx, pre+"own", w.team, audit.Entry{Action: "pod.created"}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []struct {
		by      string
		service bool
		spec    apikeys.Spec
	}{
		{pre + "dev", false, apikeys.Spec{Name: "dev's"}},
		{pre + "dev", false, apikeys.Spec{Name: "dev's narrow", Actions: []rbac.Action{rbac.PodsConnect, rbac.PodsManage}}},
		{pre + "adm", false, apikeys.Spec{Name: "adm's viewer", Role: "viewer"}},
		{pre + "adm", true, apikeys.Spec{Name: "service", Role: rbac.RunpodBasic}},
	} {
		create := r.Keys.Create
		if k.service {
			create = r.Keys.CreateService
		}
		c, err := create(ctx, k.by, w.team, k.spec)
		if err != nil {
			t.Fatal(err)
		}
		w.keys = append(w.keys, c.Key.ID)
	}
	return w
}

// state is everything the store holds and every answer Can gives, as text.
func (w *faultWorld) state(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	var out string
	var accounts []string
	err := w.s.View(ctx, func(tx store.Tx) error {
		for _, u := range w.users {
			us, err := tx.User(ctx, u)
			if errors.Is(err, store.ErrNotFound) {
				out += fmt.Sprintf("user %s absent\n", u)
				continue
			} else if err != nil {
				return err
			}
			out += fmt.Sprintf("user %s active %s\n", u, us.ActiveAccount)
			ms, err := tx.Memberships(ctx, u, store.Range{})
			if err != nil {
				return err
			}
			for _, m := range ms {
				if !slices.Contains(accounts, m.AccountID) {
					accounts = append(accounts, m.AccountID)
				}
			}
		}
		slices.Sort(accounts)
		for _, id := range accounts {
			a, err := tx.Account(ctx, id)
			if err != nil {
				return err
			}
			out += fmt.Sprintf("account %s %s %q owner %s\n", a.ID, a.Kind, a.Name, a.Owner)
			ms, err := tx.Members(ctx, id, store.Range{})
			if err != nil {
				return err
			}
			for _, m := range ms {
				out += fmt.Sprintf("  member %s %s\n", m.UserID, m.Role)
			}
			rs, err := tx.TeamRoles(ctx, id)
			if err != nil {
				return err
			}
			for _, r := range rs {
				out += fmt.Sprintf("  role %s %v\n", r.Name, r.Actions)
			}
			invs, err := tx.Invites(ctx, id, store.Range{})
			if err != nil {
				return err
			}
			for _, inv := range invs {
				uses, err := tx.InviteUses(ctx, inv.ID)
				if err != nil {
					return err
				}
				out += fmt.Sprintf("  invite %s %s %s uses %d %d %x\n", inv.ID, inv.Role, inv.Status, inv.Uses, len(uses), inv.TokenHash)
			}
			ks, err := tx.APIKeys(ctx, id, "", store.Range{})
			if err != nil {
				return err
			}
			for _, k := range ks {
				out += fmt.Sprintf("  key %s %s %s %v revoked %v\n", k.ID, k.UserID, k.Role, k.Actions, !k.RevokedAt.IsZero())
			}
			ts, err := tx.Transfers(ctx, id, store.Range{})
			if err != nil {
				return err
			}
			for _, tr := range ts {
				out += fmt.Sprintf("  transfer %s %s->%s %s\n", tr.ID, tr.From, tr.To, tr.Status)
			}
			es, err := tx.Events(ctx, store.EventFilter{AccountID: id})
			if err != nil {
				return err
			}
			for _, e := range es {
				out += fmt.Sprintf("  event %d %s %s %s %x\n", e.ID, e.Action, e.Result, e.ResourceID, e.Hash)
			}
			h, err := tx.ChainHead(ctx, id)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			out += fmt.Sprintf("  head %+v\n", h)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read the store: %v", err)
	}
	for _, id := range accounts {
		for _, u := range slices.Concat(w.users, w.keys, []string{w.pre + "canary"}) {
			for _, a := range w.p.Actions() {
				if w.r.Can(ctx, u, id, a) {
					out += fmt.Sprintf("can %s %s %s\n", u, id, a)
				}
			}
		}
	}
	return out
}

// indexEqualsStore fails t unless a Roster freshly loaded from the store
// answers every Can question as w.r does.
func (w *faultWorld) indexEqualsStore(t *testing.T, accounts []string) {
	t.Helper()
	ctx := context.Background()
	fresh, err := roster.New(ctx, w.s, w.p)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := fresh.Close(); err != nil {
			t.Error(err)
		}
	}()
	for _, id := range accounts {
		for _, u := range slices.Concat(w.users, w.keys) {
			for _, a := range w.p.Actions() {
				if got, want := w.r.Can(ctx, u, id, a), fresh.Can(ctx, u, id, a); got != want {
					t.Fatalf("Can(%s, %s, %s) = %v in memory, %v from the store", u, id, a, got, want)
				}
			}
		}
	}
}

// verifyChains fails t unless every account's audit chain verifies.
func (w *faultWorld) verifyChains(t *testing.T, accounts map[string]string) {
	t.Helper()
	for id, actor := range accounts {
		if _, err := w.r.Audit.Verify(context.Background(), actor, id); err != nil {
			t.Fatalf("audit chain of %s: %v", id, err)
		}
	}
}

// faultOps are the operations that write more than once, each run on a
// fresh faultWorld.
var faultOps = []struct {
	name string
	op   func(ctx context.Context, w *faultWorld) error
}{
	{"create user", func(ctx context.Context, w *faultWorld) error {
		_, err := w.r.Teams.CreateUser(ctx, store.User{ID: w.pre + "new", Email: w.pre + "new@example.com", Name: "New", SignIn: store.SignInEmail})
		return err
	}},
	{"convert", func(ctx context.Context, w *faultWorld) error {
		accts, _, err := w.r.Teams.Accounts(ctx, w.pre+"out", store.Page{})
		if err != nil {
			return err
		}
		_, err = w.r.Teams.ConvertToTeam(ctx, w.pre+"out", accts[0].Account.ID, "Out")
		return err
	}},
	{"create link", func(ctx context.Context, w *faultWorld) error {
		_, err := w.r.Invites.CreateLink(ctx, w.pre+"adm", w.team, rbac.RunpodBasic, invites.MaxUses(3))
		return err
	}},
	{"create email invites", func(ctx context.Context, w *faultWorld) error {
		_, err := w.r.Invites.CreateEmail(ctx, w.pre+"adm", w.team, rbac.RunpodBasic, []string{"a@example.com", "b@example.com"})
		return err
	}},
	{"accept invite", func(ctx context.Context, w *faultWorld) error {
		_, err := w.r.Invites.Accept(ctx, w.pre+"out", w.invite.Token)
		return err
	}},
	{"resend invite", func(ctx context.Context, w *faultWorld) error {
		_, err := w.r.Invites.Resend(ctx, w.pre+"adm", w.team, w.invite.ID)
		return err
	}},
	{"revoke invite", func(ctx context.Context, w *faultWorld) error {
		return w.r.Invites.Revoke(ctx, w.pre+"adm", w.team, w.invite.ID)
	}},
	{"add member", func(ctx context.Context, w *faultWorld) error {
		_, err := w.r.Teams.AddMember(ctx, w.pre+"adm", w.team, w.pre+"out", "viewer")
		return err
	}},
	{"change role", func(ctx context.Context, w *faultWorld) error {
		_, err := w.r.Teams.ChangeRole(ctx, w.pre+"adm", w.team, w.pre+"bas", rbac.RunpodBilling)
		return err
	}},
	{"remove member", func(ctx context.Context, w *faultWorld) error {
		return w.r.Teams.RemoveMember(ctx, w.pre+"adm", w.team, w.pre+"dev") // cancels the transfer too
	}},
	{"leave", func(ctx context.Context, w *faultWorld) error {
		return w.r.Teams.Leave(ctx, w.pre+"dev", w.team)
	}},
	{"start transfer", func(ctx context.Context, w *faultWorld) error {
		_, err := w.r.Teams.TransferOwnership(ctx, w.pre+"own", w.team, w.pre+"dev") // supersedes the open one
		return err
	}},
	{"accept transfer", func(ctx context.Context, w *faultWorld) error {
		_, err := w.r.Teams.AcceptTransfer(ctx, w.pre+"dev", w.xfer, w.box.Token(w.xfer))
		return err
	}},
	{"cancel transfer", func(ctx context.Context, w *faultWorld) error {
		return w.r.Teams.CancelTransfer(ctx, w.pre+"adm", w.team, w.xfer)
	}},
	{"define role", func(ctx context.Context, w *faultWorld) error {
		_, err := w.r.Teams.DefineRole(ctx, w.pre+"adm", w.team, "viewer", []rbac.Action{rbac.AccountAccess, rbac.PodsConnect})
		return err
	}},
	{"delete role", func(ctx context.Context, w *faultWorld) error {
		return w.r.Teams.DeleteRole(ctx, w.pre+"adm", w.team, "viewer")
	}},
	{"switch account", func(ctx context.Context, w *faultWorld) error {
		return w.r.Teams.Switch(ctx, w.pre+"dev", w.team)
	}},
	{"record host event", func(ctx context.Context, w *faultWorld) error {
		_, err := w.r.Audit.Record(ctx, w.pre+"adm", w.team, audit.Entry{Action: "pod.deleted"})
		return err
	}},
	{"prune audit log", func(ctx context.Context, w *faultWorld) error {
		_, err := w.r.Audit.Prune(ctx, w.pre+"adm", w.team, time.Now())
		return err
	}},
	{"create key", func(ctx context.Context, w *faultWorld) error {
		_, err := w.r.Keys.Create(ctx, w.pre+"bas", w.team, apikeys.Spec{Name: "bas's"})
		return err
	}},
	{"create service account", func(ctx context.Context, w *faultWorld) error {
		_, err := w.r.Keys.CreateService(ctx, w.pre+"adm", w.team, apikeys.Spec{Name: "svc", Role: rbac.RunpodDev})
		return err
	}},
	{"revoke key", func(ctx context.Context, w *faultWorld) error {
		_, err := w.r.Keys.Revoke(ctx, w.pre+"adm", w.team, w.keys[0])
		return err
	}},
	{"demote a key's owner", func(ctx context.Context, w *faultWorld) error {
		// dev's keys: one narrowed to what dev and billing share, one revoked.
		_, err := w.r.Teams.ChangeRole(ctx, w.pre+"adm", w.team, w.pre+"dev", rbac.RunpodBilling)
		return err
	}},
	{"record host event by a key", func(ctx context.Context, w *faultWorld) error {
		_, err := w.r.Audit.Record(ctx, w.keys[3], w.team, audit.Entry{Action: "pod.deleted"})
		return err
	}},
	{"delete team", func(ctx context.Context, w *faultWorld) error {
		_, err := w.r.Teams.DeleteTeam(ctx, w.pre+"own", w.team)
		return err
	}},
}

// TestFaults fails, for every operation that writes, each of its writes in
// turn (and, separately, cancels its context just before each write) until
// it succeeds, and checks after every injected fault that the store holds
// exactly what it held before, Can answers as before, the in-memory index
// equals the store, and every audit chain verifies.
func TestFaults(t *testing.T) {
	var faults atomic.Int64
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		s := b.Store(t)
		for _, mode := range []string{"write fails", "context cancelled"} {
			for _, o := range faultOps {
				t.Run(mode+"/"+o.name, func(t *testing.T) {
					t.Parallel()
					w := newFaultWorld(t, s, fmt.Sprintf("%s-%s-", strings.Fields(mode)[1], strings.ReplaceAll(o.name, " ", "_")))
					chains := map[string]string{w.team: w.pre + "own"}
					for n := 1; ; n++ {
						if n > 100 {
							t.Fatal("the operation still fails after 100 writes")
						}
						before := w.state(t)
						ctx, cancel := context.WithCancel(context.Background())
						if mode == "write fails" {
							w.f.Arm(n, nil)
						} else {
							w.f.Arm(n, cancel)
						}
						err := o.op(ctx, w)
						fired := w.f.Disarm()
						cancel()
						if !fired {
							if err != nil {
								t.Fatalf("without a fault: %v", err)
							}
							if w.state(t) == before {
								t.Fatal("the operation succeeded and the state did not change")
							}
							break
						}
						if err == nil {
							if mode == "write fails" {
								t.Fatalf("write %d failed and the operation succeeded", n)
							}
							// The cancel came too late to stop the commit;
							// the operation is done and must be whole.
							w.indexEqualsStore(t, []string{w.team})
							w.verifyChains(t, chains)
							break
						}
						faults.Add(1)
						if mode == "write fails" && !errors.Is(err, rostertest.ErrFault) {
							t.Fatalf("write %d failed: the error does not wrap the failure: %v", n, err)
						}
						if after := w.state(t); after != before {
							t.Fatalf("write %d failed (%v) and the state changed:\nbefore:\n%s\nafter:\n%s", n, err, before, after)
						}
						w.indexEqualsStore(t, []string{w.team})
						w.verifyChains(t, chains)
					}
				})
			}
		}
	})
	if !t.Failed() {
		t.Logf("faults injected: %d, partial states left: 0", faults.Load())
	}
}

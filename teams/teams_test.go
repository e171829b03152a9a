package teams_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/overlap"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teams"
)

func TestAccounts(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		t.Run("a personal account's owner may do everything on it", func(t *testing.T) {
			for _, p := range []*rbac.Policy{rbac.Runpod(), rbac.DigitalOcean()} {
				r, _ := rostertest.Open(t, b, p)
				acct := rostertest.User(t, r, "alice")
				if acct.Kind != store.Personal || acct.Owner != "alice" {
					t.Fatalf("new user's account = %+v, want personal owned by alice", acct)
				}
				for _, a := range p.Actions() {
					if !r.Can(ctx, "alice", acct.ID, a) {
						t.Errorf("%s: owner may not %s on their personal account", p.Name(), a)
					}
				}
				u, err := r.Teams.User(ctx, "alice")
				if err != nil || u.ActiveAccount != acct.ID {
					t.Errorf("alice's active account = %q, %v; want her personal account %q", u.ActiveAccount, err, acct.ID)
				}
			}
		})

		t.Run("creating a user twice returns ErrExists and changes nothing", func(t *testing.T) {
			r, s := rostertest.Open(t, b, rbac.Runpod())
			rostertest.User(t, r, "alice")
			rev, ev := rostertest.Writes(t, s)
			_, err := r.Teams.CreateUser(ctx, store.User{ID: "alice", Email: "other@example.com", Name: "Other", SignIn: store.SignInEmail})
			if !errors.Is(err, store.ErrExists) {
				t.Fatalf("second CreateUser error = %v, want ErrExists", err)
			}
			if rev2, ev2 := rostertest.Writes(t, s); rev2 != rev || ev2 != ev {
				t.Errorf("refused CreateUser wrote: revision %d -> %d, last event %d -> %d", rev, rev2, ev, ev2)
			}
		})

		t.Run("converting keeps the account ID and gives the converter the top role", func(t *testing.T) {
			for _, p := range []*rbac.Policy{rbac.Runpod(), rbac.DigitalOcean()} {
				r, s := rostertest.Open(t, b, p)
				personal := rostertest.User(t, r, "alice")
				team, err := r.Teams.ConvertToTeam(ctx, "alice", personal.ID, "Acme")
				if err != nil {
					t.Fatal(err)
				}
				if team.ID != personal.ID || team.Kind != store.Team || team.Name != "Acme" {
					t.Errorf("converted account = %+v, want team Acme with ID %s", team, personal.ID)
				}
				ms, _, err := r.Teams.Members(ctx, "alice", team.ID, store.Page{})
				if err != nil || len(ms) != 1 || ms[0].Role != p.Top() {
					t.Errorf("members after conversion = %+v, %v; want alice as %s", ms, err, p.Top())
				}
				if es := rostertest.Events(t, s, team.ID); es[0].Action != "account.converted" || es[0].Actor != "alice" {
					t.Errorf("newest event = %+v, want account.converted by alice", es[0])
				}
			}
		})

		t.Run("converting twice returns ErrAlreadyTeam and changes nothing", func(t *testing.T) {
			r, s := rostertest.Open(t, b, rbac.Runpod())
			acct := rostertest.Team(t, r, "alice", nil)
			rev, ev := rostertest.Writes(t, s)
			if _, err := r.Teams.ConvertToTeam(ctx, "alice", acct.ID, "Again"); !errors.Is(err, teams.ErrAlreadyTeam) {
				t.Fatalf("second conversion error = %v, want ErrAlreadyTeam", err)
			}
			got, err := r.Teams.Account(ctx, "alice", acct.ID)
			if err != nil || got.Name != acct.Name {
				t.Errorf("account after refused conversion = %+v, %v; want name %q", got, err, acct.Name)
			}
			if rev2, ev2 := rostertest.Writes(t, s); rev2 != rev || ev2 != ev {
				t.Errorf("refused conversion wrote: revision %d -> %d, last event %d -> %d", rev, rev2, ev, ev2)
			}
		})

		t.Run("only members allowed to manage settings convert, rename or delete", func(t *testing.T) {
			r, s := rostertest.Open(t, b, rbac.Runpod())
			acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
			bobs := rostertest.User(t, r, "carol")
			if _, err := r.Teams.Rename(ctx, "bob", acct.ID, "Mine"); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("dev renaming: error = %v, want ErrDenied", err)
			}
			if _, err := r.Teams.DeleteTeam(ctx, "bob", acct.ID); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("dev deleting: error = %v, want ErrDenied", err)
			}
			if _, err := r.Teams.ConvertToTeam(ctx, "bob", bobs.ID, "Not mine"); !errors.Is(err, rbac.ErrNotMember) {
				t.Errorf("converting someone else's account: error = %v, want ErrNotMember", err)
			}
			rev, ev := rostertest.Writes(t, s)
			for _, actor := range []string{"carol", "bob"} { // the input is checked before who asks
				if _, err := r.Teams.ConvertToTeam(ctx, actor, bobs.ID, ""); !errors.Is(err, store.ErrInvalid) {
					t.Errorf("converting with no name, by %s: error = %v, want ErrInvalid", actor, err)
				}
			}
			if rev2, ev2 := rostertest.Writes(t, s); rev2 != rev || ev2 != ev {
				t.Error("a conversion with no name wrote something")
			}
			if _, err := r.Teams.Rename(ctx, "alice", "acc_missing", "X"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("renaming a missing account: error = %v, want ErrNotFound", err)
			}
		})

		t.Run("rename changes a team's name and refuses personal accounts", func(t *testing.T) {
			r, s := rostertest.Open(t, b, rbac.Runpod())
			acct := rostertest.Team(t, r, "alice", nil)
			got, err := r.Teams.Rename(ctx, "alice", acct.ID, "Acme Labs")
			if err != nil || got.Name != "Acme Labs" {
				t.Fatalf("Rename = %+v, %v", got, err)
			}
			if es := rostertest.Events(t, s, acct.ID); es[0].Action != "account.renamed" || !strings.Contains(es[0].After, "Acme Labs") {
				t.Errorf("newest event = %+v, want account.renamed to Acme Labs", es[0])
			}
			personal := rostertest.User(t, r, "bob")
			if _, err := r.Teams.Rename(ctx, "bob", personal.ID, "Bob Inc"); !errors.Is(err, store.ErrNotTeam) {
				t.Errorf("renaming a personal account: error = %v, want ErrNotTeam", err)
			}
		})

		t.Run("deleting a team reverts it to the owner's personal account and removes everyone else", func(t *testing.T) {
			r, s := rostertest.Open(t, b, rbac.Runpod())
			acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodAdmin, "carol": rbac.RunpodDev})
			pending := store.Invite{ID: txn.NewID("inv"), AccountID: acct.ID, Kind: store.InviteLink, Role: string(rbac.RunpodDev),
				TokenHash: []byte("0123456789abcdef0123456789abcdef"), Status: store.InvitePending, MaxUses: 1, CreatedBy: "alice"}
			if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateInvite(ctx, pending) }); err != nil {
				t.Fatal(err)
			}
			got, err := r.Teams.DeleteTeam(ctx, "alice", acct.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != acct.ID || got.Kind != store.Personal || got.Owner != "alice" || got.Name != "" {
				t.Errorf("deleted team = %+v, want alice's personal account with the same ID", got)
			}
			for _, who := range []string{"bob", "carol"} {
				if r.Can(ctx, who, acct.ID, rbac.AccountAccess) {
					t.Errorf("%s can still access the deleted team", who)
				}
			}
			if !r.Can(ctx, "alice", acct.ID, rbac.AuditRead) {
				t.Error("alice cannot use her reverted personal account")
			}
			var inv store.Invite
			if err := s.View(ctx, func(tx store.Tx) (err error) { inv, err = tx.Invite(ctx, pending.ID); return err }); err != nil {
				t.Fatal(err)
			}
			if inv.Status != store.InviteRevoked {
				t.Errorf("pending invite status after deletion = %s, want revoked", inv.Status)
			}
			if _, err := r.Teams.DeleteTeam(ctx, "alice", acct.ID); !errors.Is(err, store.ErrNotTeam) {
				t.Errorf("deleting a personal account: error = %v, want ErrNotTeam", err)
			}
			if got, want := rostertest.Newest(t, s, acct.ID, 4), "account.team_deleted member.removed member.removed invite.revoked"; got != want {
				t.Errorf("newest events = %s, want %s", got, want)
			}
		})
	})
}

func TestMembers(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		t.Run("adding a member grants their role's actions and no others", func(t *testing.T) {
			r, s := rostertest.Open(t, b, rbac.Runpod())
			acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
			if !r.Can(ctx, "bob", acct.ID, rbac.PodsManage) || r.Can(ctx, "bob", acct.ID, rbac.BillingRead) {
				t.Error("dev's permissions are wrong after AddMember")
			}
			if es := rostertest.Events(t, s, acct.ID); es[0].Action != "member.added" || es[0].ResourceID != "bob" || !strings.Contains(es[0].After, `"dev"`) {
				t.Errorf("newest event = %+v, want member.added bob as dev", es[0])
			}
			if _, err := r.Teams.AddMember(ctx, "alice", acct.ID, "bob", rbac.RunpodBasic); !errors.Is(err, store.ErrExists) {
				t.Errorf("adding bob again: error = %v, want ErrExists", err)
			}
			if !r.Can(ctx, "bob", acct.ID, rbac.PodsManage) {
				t.Error("a refused second add changed bob's role")
			}
			if _, err := r.Teams.AddMember(ctx, "alice", acct.ID, "nobody", rbac.RunpodBasic); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("adding an unknown user: error = %v, want ErrNotFound", err)
			}
			carol := rostertest.User(t, r, "carol")
			if _, err := r.Teams.AddMember(ctx, "alice", acct.ID, "carol", "superuser"); !errors.Is(err, rbac.ErrUnknownRole) {
				t.Errorf("adding with an unknown role: error = %v, want ErrUnknownRole", err)
			}
			if _, err := r.Teams.AddMember(ctx, "bob", acct.ID, "carol", rbac.RunpodBasic); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("a dev adding a member: error = %v, want ErrDenied", err)
			}
			if _, err := r.Teams.AddMember(ctx, "carol", carol.ID, "bob", rbac.RunpodBasic); !errors.Is(err, store.ErrNotTeam) {
				t.Errorf("adding to a personal account: error = %v, want ErrNotTeam", err)
			}
		})

		t.Run("nobody grants or changes a role with more permissions than their own", func(t *testing.T) {
			// A policy with a manager who manages members but has no billing access.
			p := managerPolicy(t)
			r, _ := rostertest.Open(t, b, p)
			acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"mike": "manager", "bea": "biller", "dan": "dev"})
			rostertest.User(t, r, "erin")
			if _, err := r.Teams.AddMember(ctx, "mike", acct.ID, "erin", "biller"); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("manager granting biller: error = %v, want ErrDenied", err)
			}
			if _, err := r.Teams.AddMember(ctx, "mike", acct.ID, "erin", "owner"); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("manager granting owner: error = %v, want ErrDenied", err)
			}
			if _, err := r.Teams.ChangeRole(ctx, "mike", acct.ID, "dan", "biller"); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("manager promoting dev to biller: error = %v, want ErrDenied", err)
			}
			if _, err := r.Teams.ChangeRole(ctx, "mike", acct.ID, "bea", "dev"); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("manager demoting a biller: error = %v, want ErrDenied", err)
			}
			if err := r.Teams.RemoveMember(ctx, "mike", acct.ID, "bea"); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("manager removing a biller: error = %v, want ErrDenied", err)
			}
			if err := r.Teams.RemoveMember(ctx, "mike", acct.ID, "alice"); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("manager removing the owner: error = %v, want ErrDenied", err)
			}
			if _, err := r.Teams.AddMember(ctx, "mike", acct.ID, "erin", "dev"); err != nil {
				t.Errorf("manager adding a dev: %v", err)
			}
			if _, err := r.Teams.ChangeRole(ctx, "mike", acct.ID, "dan", "manager"); err != nil {
				t.Errorf("manager making a dev a manager: %v", err)
			}
		})

		t.Run("changing a role takes effect at once and is audited with old and new role", func(t *testing.T) {
			r, s := rostertest.Open(t, b, rbac.DigitalOcean())
			acct := rostertest.Team(t, r, "olive", map[string]rbac.Role{"max": rbac.DigitalOceanMember})
			m, err := r.Teams.ChangeRole(ctx, "olive", acct.ID, "max", rbac.DigitalOceanModifier)
			if err != nil || m.Role != string(rbac.DigitalOceanModifier) {
				t.Fatalf("ChangeRole = %+v, %v", m, err)
			}
			if r.Can(ctx, "max", acct.ID, rbac.ResourcesDelete) || !r.Can(ctx, "max", acct.ID, rbac.ResourcesUpdate) {
				t.Error("modifier's permissions are wrong right after ChangeRole")
			}
			e := rostertest.Events(t, s, acct.ID)[0]
			if e.Action != "member.role_changed" || e.Before != `{"role":"member"}` || e.After != `{"role":"modifier"}` {
				t.Errorf("newest event = %+v, want member.role_changed member -> modifier", e)
			}
			if _, err := r.Teams.ChangeRole(ctx, "olive", acct.ID, "nobody", rbac.DigitalOceanMember); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("changing a non-member's role: error = %v, want ErrNotFound", err)
			}
		})

		t.Run("removal takes effect at once", func(t *testing.T) {
			r, s := rostertest.Open(t, b, rbac.Runpod())
			acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
			if err := r.Teams.RemoveMember(ctx, "alice", acct.ID, "bob"); err != nil {
				t.Fatal(err)
			}
			if r.Can(ctx, "bob", acct.ID, rbac.PodsConnect) {
				t.Error("removed member still can")
			}
			if err := r.Check(ctx, "bob", acct.ID, rbac.PodsConnect); !errors.Is(err, rbac.ErrNotMember) {
				t.Errorf("Check after removal = %v, want ErrNotMember", err)
			}
			if e := rostertest.Events(t, s, acct.ID)[0]; e.Action != "member.removed" || e.ResourceID != "bob" {
				t.Errorf("newest event = %+v, want member.removed bob", e)
			}
			if err := r.Teams.RemoveMember(ctx, "alice", acct.ID, "bob"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("removing twice: error = %v, want ErrNotFound", err)
			}
		})

		t.Run("acting on a member of another team by ID finds nothing", func(t *testing.T) {
			r, _ := rostertest.Open(t, b, rbac.Runpod())
			mine := rostertest.Team(t, r, "alice", nil)
			theirs := rostertest.Team(t, r, "zed", map[string]rbac.Role{"yan": rbac.RunpodDev})
			if err := r.Teams.RemoveMember(ctx, "alice", mine.ID, "yan"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("removing another team's member: error = %v, want ErrNotFound", err)
			}
			if err := r.Teams.RemoveMember(ctx, "alice", theirs.ID, "yan"); !errors.Is(err, rbac.ErrNotMember) {
				t.Errorf("acting on another team: error = %v, want ErrNotMember", err)
			}
			if !r.Can(ctx, "yan", theirs.ID, rbac.PodsManage) {
				t.Error("yan lost access through another team's call")
			}
		})

		t.Run("the owner cannot leave, be removed or be demoted", func(t *testing.T) {
			for _, p := range []*rbac.Policy{rbac.Runpod(), rbac.DigitalOcean()} {
				in := &rostertest.Inbox{}
				r, s := rostertest.Open(t, b, p, roster.WithNotifier(in))
				acct := rostertest.Team(t, r, "alice", nil)
				other := p.Roles()[0]
				if other == p.Top() {
					other = p.Roles()[1]
				}
				rev, ev := rostertest.Writes(t, s)
				if err := r.Teams.Leave(ctx, "alice", acct.ID); !errors.Is(err, teams.ErrLastOwner) {
					t.Errorf("%s: last top leaving: error = %v, want ErrLastOwner", p.Name(), err)
				}
				if err := r.Teams.RemoveMember(ctx, "alice", acct.ID, "alice"); !errors.Is(err, teams.ErrLastOwner) {
					t.Errorf("%s: removing the last top: error = %v, want ErrLastOwner", p.Name(), err)
				}
				if _, err := r.Teams.ChangeRole(ctx, "alice", acct.ID, "alice", other); !errors.Is(err, teams.ErrLastOwner) {
					t.Errorf("%s: demoting the last top: error = %v, want ErrLastOwner", p.Name(), err)
				}
				if rev2, ev2 := rostertest.Writes(t, s); rev2 != rev || ev2 != ev {
					t.Errorf("%s: refused calls wrote: revision %d -> %d, last event %d -> %d", p.Name(), rev, rev2, ev, ev2)
				}
				if !r.Can(ctx, "alice", acct.ID, rbac.MembersManage) {
					t.Errorf("%s: alice lost the top role", p.Name())
				}
				// With a second top-role member the owner still stays; once
				// she has handed the account over, she may go.
				rostertest.User(t, r, "bob")
				if _, err := r.Teams.AddMember(ctx, "alice", acct.ID, "bob", other); err != nil {
					t.Fatal(err)
				}
				in.MakeTop(t, r, "alice", acct.ID, "bob")
				if err := r.Teams.Leave(ctx, "alice", acct.ID); !errors.Is(err, teams.ErrLastOwner) {
					t.Errorf("%s: the owner leaving with another top-role member: %v, want ErrLastOwner", p.Name(), err)
				}
				tr, err := r.Teams.TransferOwnership(ctx, "alice", acct.ID, "bob")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := r.Teams.ConfirmTransfer(ctx, "alice", tr.ID, in.Last(t, "alice").Token); err != nil {
					t.Fatal(err)
				}
				if _, err := r.Teams.AcceptTransfer(ctx, "bob", tr.ID, in.Last(t, "bob").Token); err != nil {
					t.Fatal(err)
				}
				if err := r.Teams.Leave(ctx, "alice", acct.ID); err != nil {
					t.Errorf("%s: the previous owner leaving: %v", p.Name(), err)
				}
			}
		})

		t.Run("nobody leaves their personal account", func(t *testing.T) {
			r, _ := rostertest.Open(t, b, rbac.Runpod())
			acct := rostertest.User(t, r, "alice")
			if err := r.Teams.Leave(ctx, "alice", acct.ID); !errors.Is(err, store.ErrNotTeam) {
				t.Errorf("leaving a personal account: error = %v, want ErrNotTeam", err)
			}
		})

		t.Run("two top-role members demoting each other at once leave one", func(t *testing.T) {
			s := overlap.New(b.Store(t), !b.SerialWriters())
			r := rostertest.New(t, s, rbac.Runpod())
			for trial := range 40 {
				alice, bob := fmt.Sprintf("alice%d", trial), fmt.Sprintf("bob%d", trial)
				acct := rostertest.Team(t, r, alice, map[string]rbac.Role{bob: rbac.RunpodAdmin})
				pairs := [][2]string{{alice, bob}, {bob, alice}}
				errs := s.Race(t, ctx, 2, func(ctx context.Context, i int) error {
					if trial%2 == 0 {
						_, err := r.Teams.ChangeRole(ctx, pairs[i][0], acct.ID, pairs[i][1], rbac.RunpodDev)
						return err
					}
					return r.Teams.RemoveMember(ctx, pairs[i][0], acct.ID, pairs[i][1])
				})
				ms, _, err := r.Teams.Members(ctx, alice, acct.ID, store.Page{})
				if err != nil {
					ms, _, err = r.Teams.Members(ctx, bob, acct.ID, store.Page{})
				}
				if err != nil {
					t.Fatal(err)
				}
				admins := 0
				for _, m := range ms {
					if m.Role == rbac.RunpodAdmin {
						admins++
					}
				}
				if admins != 1 {
					t.Fatalf("trial %d: %d admins left (errors %v), want exactly 1", trial, admins, errs)
				}
				if ok := (errs[0] == nil) != (errs[1] == nil); !ok {
					t.Fatalf("trial %d: errors %v, want exactly one success", trial, errs)
				}
				for _, err := range errs {
					if err != nil && !errors.Is(err, teams.ErrLastOwner) && !errors.Is(err, rbac.ErrDenied) && !errors.Is(err, rbac.ErrNotMember) {
						t.Fatalf("trial %d: unexpected error %v", trial, err)
					}
				}
			}
		})
	})
}

// managerPolicy is a policy with an owner, a manager who manages members but
// has no billing access, a biller and a dev.
func managerPolicy(t *testing.T) *rbac.Policy {
	t.Helper()
	p, err := rbac.Parse("managers", []byte(rbac.Runpod().ModelText()), []byte(`
p, owner, members.invite
p, owner, members.manage
p, owner, settings.manage
p, owner, audit.read
p, owner, billing.read
p, owner, pods.manage
p, manager, members.invite
p, manager, members.manage
p, manager, pods.manage
p, biller, billing.read
p, dev, pods.manage
`))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBadInput checks that the teams service refuses malformed IDs, names,
// addresses and sign-in methods with ErrInvalid and writes nothing.
func TestBadInput(t *testing.T) {
	ctx := context.Background()
	r, s := rostertest.Open(t, testdb.Backends()[0], rbac.Runpod())
	acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
	long := strings.Repeat("x", store.MaxIDLen+1)
	badIDs := map[string]string{"empty": "", "oversized": long, "non-UTF-8": "a\xffb", "control character": "a\x00b", "newline": "a\nb", "space": "a b", "bidi override": "a\u202eb"}
	badNames := map[string]string{"empty": "", "oversized": strings.Repeat("n", store.MaxNameLen+1), "non-UTF-8": "Acme\xff", "control character": "Ac\x1bme", "newline": "Acme\nadmin", "leading space": " Acme"}
	badEmails := map[string]string{"empty": "", "no at": "alice.example.com", "display name": "Alice <alice@example.com>", "oversized": strings.Repeat("a", 250) + "@example.com", "non-ASCII": "alïce@example.com", "newline": "alice@example.com\nbcc: x@y.z", "no dot in domain": "alice@localhost"}

	rev, ev := rostertest.Writes(t, s)
	check := func(t *testing.T, err error) {
		t.Helper()
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("error = %v, want ErrInvalid", err)
		}
		if rev2, ev2 := rostertest.Writes(t, s); rev2 != rev || ev2 != ev {
			t.Errorf("refused call wrote: revision %d -> %d, last event %d -> %d", rev, rev2, ev, ev2)
		}
	}
	for kind, bad := range badIDs {
		t.Run("user ID "+kind, func(t *testing.T) {
			_, err := r.Teams.CreateUser(ctx, store.User{ID: bad, Email: "x@example.com", Name: "X", SignIn: store.SignInEmail})
			check(t, err)
			if r.Can(ctx, bad, acct.ID, rbac.AccountAccess) {
				t.Error("Can answered true")
			}
		})
		t.Run("actor "+kind, func(t *testing.T) {
			_, err := r.Teams.AddMember(ctx, bad, acct.ID, "bob", rbac.RunpodBasic)
			check(t, err)
			check(t, r.Teams.RemoveMember(ctx, bad, acct.ID, "bob"))
			_, err = r.Teams.Rename(ctx, bad, acct.ID, "New")
			check(t, err)
		})
		t.Run("account ID "+kind, func(t *testing.T) {
			_, err := r.Teams.ChangeRole(ctx, "alice", bad, "bob", rbac.RunpodBasic)
			check(t, err)
			check(t, r.Teams.Leave(ctx, "bob", bad))
			_, err = r.Teams.DeleteTeam(ctx, "alice", bad)
			check(t, err)
			if r.Can(ctx, "bob", bad, rbac.AccountAccess) {
				t.Error("Can answered true")
			}
		})
		t.Run("role "+kind, func(t *testing.T) {
			_, err := r.Teams.ChangeRole(ctx, "alice", acct.ID, "bob", rbac.Role(bad))
			check(t, err)
		})
	}
	for kind, bad := range badNames {
		t.Run("team name "+kind, func(t *testing.T) {
			_, err := r.Teams.Rename(ctx, "alice", acct.ID, bad)
			check(t, err)
		})
		t.Run("user name "+kind, func(t *testing.T) {
			_, err := r.Teams.CreateUser(ctx, store.User{ID: "newuser", Email: "x@example.com", Name: bad, SignIn: store.SignInEmail})
			check(t, err)
		})
	}
	for kind, bad := range badEmails {
		t.Run("email "+kind, func(t *testing.T) {
			_, err := r.Teams.CreateUser(ctx, store.User{ID: "newuser", Email: bad, Name: "New", SignIn: store.SignInEmail})
			check(t, err)
		})
	}
	t.Run("sign-in method unknown", func(t *testing.T) {
		_, err := r.Teams.CreateUser(ctx, store.User{ID: "newuser", Email: "x@example.com", Name: "X", SignIn: "password"})
		check(t, err)
	})
}

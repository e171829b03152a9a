package teams_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teams"
)

func TestValidateDomain(t *testing.T) {
	longest := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 61)
	for name, want := range map[string]string{"Example.COM": "example.com", "a-b.co.uk": "a-b.co.uk", "xn--bcher-kva.example": "xn--bcher-kva.example",
		"z09-az.a9": "z09-az.a9", strings.Repeat("a", 63) + ".com": strings.Repeat("a", 63) + ".com", longest: longest} {
		if got, err := teams.ValidateDomain(name); err != nil || got != want {
			t.Errorf("ValidateDomain(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	for _, bad := range []string{"", "com", "example.com.", ".example.com", "-a.com", "a-.com", "a..com", "a b.com", "exämple.com",
		"127.0.0.1", "a.123", strings.Repeat("a", 64) + ".com", strings.Repeat("a.", 127) + "com", "under_score.com", "a.com/x",
		longest + "d", "a`b.com", "a{b.com", "a/b.com", "a:b.com", "a.b-", "a.-b"} {
		if _, err := teams.ValidateDomain(bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("ValidateDomain(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	for _, public := range []string{"gmail.com", "GMAIL.com", "outlook.com", "proton.me"} {
		if _, err := teams.ValidateDomain(public); !errors.Is(err, teams.ErrPublicDomain) || !errors.Is(err, store.ErrInvalid) {
			t.Errorf("ValidateDomain(%q) = %v, want ErrPublicDomain", public, err)
		}
	}
}

func TestDomains(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		r, s := rostertest.Open(t, b, rbac.Runpod())
		acme := rostertest.Team(t, r, "alice", map[string]rbac.Role{"adm": rbac.RunpodAdmin})
		rival := rostertest.Team(t, r, "rita", nil)
		newUser := func(id, email string) {
			t.Helper()
			if _, err := r.Teams.CreateUser(ctx, store.User{ID: id, Email: email, Name: id, SignIn: store.SignInGoogle}); err != nil {
				t.Fatal(err)
			}
		}
		t.Run("only the owner claims a domain, with a role they may grant", func(t *testing.T) {
			rev, _ := rostertest.Writes(t, s) // the owner-only refusal is recorded as a denied event
			for _, c := range []struct {
				actor, name string
				mode        store.DomainMode
				role        rbac.Role
				want        error
			}{
				{"adm", "acme.example", store.DomainAutoJoin, rbac.RunpodBasic, teams.ErrNotOwner},
				{"alice", "gmail.com", store.DomainAutoJoin, rbac.RunpodBasic, teams.ErrPublicDomain},
				{"alice", "not a domain", store.DomainAutoJoin, rbac.RunpodBasic, store.ErrInvalid},
				{"alice", "acme.example", "sometimes", rbac.RunpodBasic, store.ErrInvalid},
				{"adm", "acme.example", "sometimes", rbac.RunpodBasic, store.ErrInvalid}, // before who asks
				{"alice", "acme.example", store.DomainAutoJoin, "wizard", rbac.ErrUnknownRole},
				{"mallory", "acme.example", store.DomainAutoJoin, rbac.RunpodBasic, rbac.ErrNotMember},
			} {
				if _, err := r.Teams.AddDomain(ctx, c.actor, acme.ID, c.name, c.mode, c.role); !errors.Is(err, c.want) {
					t.Errorf("AddDomain(%s, %q, %s, %s) = %v, want %v", c.actor, c.name, c.mode, c.role, err, c.want)
				}
			}
			if r2, _ := rostertest.Writes(t, s); r2 != rev {
				t.Error("a refused claim changed the revision")
			}
		})
		d, err := r.Teams.AddDomain(ctx, "alice", acme.ID, "ACME.example", store.DomainAutoJoin, rbac.RunpodDev)
		if err != nil || d.Name != "acme.example" || !strings.HasPrefix(d.Challenge, teams.ChallengePrefix) || d.Verified() {
			t.Fatalf("AddDomain = %+v, %v", d, err)
		}
		if _, err := r.Teams.AddDomain(ctx, "rita", rival.ID, "acme.example", store.DomainAutoJoin, rbac.RunpodAdmin); err != nil {
			t.Fatalf("a second team's claim, pending: %v", err)
		}
		t.Run("an unverified domain joins nobody", func(t *testing.T) {
			newUser("early", "early@acme.example")
			m, err := r.Teams.JoinByDomain(ctx, "early")
			if err != nil || m != (teams.DomainMatch{}) {
				t.Errorf("JoinByDomain before verification = %+v, %v", m, err)
			}
		})
		if _, err := r.Teams.ConfirmDomain(ctx, acme.ID, "acme..example"); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("confirming a malformed name: %v, want ErrInvalid", err)
		}
		if d, err := r.Teams.ConfirmDomain(ctx, acme.ID, "Acme.EXAMPLE"); err != nil || d.Name != "acme.example" || !d.Verified() {
			t.Fatalf("ConfirmDomain = %+v, %v; want acme.example verified", d, err)
		}
		if e := rostertest.Events(t, s, acme.ID)[0]; e.Action != store.EventDomainVerified || e.ResourceID != "acme.example" || e.Actor != "" {
			t.Fatalf("the newest event after a confirmation: %+v", e)
		}
		t.Run("a domain is verified for one team at a time", func(t *testing.T) {
			if _, err := r.Teams.ConfirmDomain(ctx, rival.ID, "acme.example"); !errors.Is(err, teams.ErrDomainTaken) || !errors.Is(err, store.ErrExists) {
				t.Errorf("confirming the rival's claim: %v, want ErrDomainTaken", err)
			}
			if _, err := r.Teams.ConfirmDomain(ctx, acme.ID, "other.example"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("confirming an unclaimed domain: %v, want ErrNotFound", err)
			}
		})
		t.Run("auto-join: a verified address joins with the domain's role, once", func(t *testing.T) {
			newUser("dan", "Dan@ACME.example")
			m, err := r.Teams.JoinByDomain(ctx, "dan")
			if err != nil || !m.Joined || m.Account.ID != acme.ID || m.Member.Role != string(rbac.RunpodDev) {
				t.Fatalf("JoinByDomain = %+v, %v", m, err)
			}
			if !r.Can(ctx, "dan", acme.ID, rbac.PodsManage) {
				t.Error("the auto-joined member may not act as a dev")
			}
			if got := rostertest.Newest(t, s, acme.ID, 1); got != "member.joined" {
				t.Errorf("newest event %s, want member.joined", got)
			}
			again, err := r.Teams.JoinByDomain(ctx, "dan")
			if err != nil || again.Joined || again.Account.ID != acme.ID {
				t.Errorf("a member joining again = %+v, %v; want suggested, not joined", again, err)
			}
		})
		t.Run("a full team suggests instead of joining", func(t *testing.T) {
			if _, err := r.Teams.SetSeatLimit(ctx, acme.ID, 1); err != nil {
				t.Fatal(err)
			}
			newUser("eve", "eve@acme.example")
			if m, err := r.Teams.JoinByDomain(ctx, "eve"); err != nil || m.Joined || m.Account.ID != acme.ID {
				t.Errorf("JoinByDomain into a full team = %+v, %v", m, err)
			}
			if _, err := r.Teams.SetSeatLimit(ctx, acme.ID, 0); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("suggest mode and other domains", func(t *testing.T) {
			if _, err := r.Teams.AddDomain(ctx, "alice", acme.ID, "acme.example", store.DomainSuggest, rbac.RunpodDev); err != nil {
				t.Fatal(err)
			}
			newUser("fay", "fay@acme.example")
			if m, err := r.Teams.JoinByDomain(ctx, "fay"); err != nil || m.Joined || m.Mode != store.DomainSuggest || m.Account.ID != acme.ID {
				t.Errorf("JoinByDomain in suggest mode = %+v, %v", m, err)
			}
			newUser("gus", "gus@gmail.com")
			if m, err := r.Teams.JoinByDomain(ctx, "gus"); err != nil || m != (teams.DomainMatch{}) {
				t.Errorf("a public address = %+v, %v; want no match", m, err)
			}
			if _, err := r.Teams.JoinByDomain(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("an unknown user: %v, want ErrNotFound", err)
			}
		})
		t.Run("removed, the domain joins nobody and another team may verify it", func(t *testing.T) {
			if ds, err := r.Teams.Domains(ctx, "alice", acme.ID); err != nil || len(ds) != 1 || ds[0].Name != "acme.example" || !ds[0].Verified() {
				t.Fatalf("domains before removal = %+v, %v; want acme.example, verified", ds, err)
			}
			rev, _ := rostertest.Writes(t, s)
			if err := r.Teams.RemoveDomain(ctx, "adm", acme.ID, "acme..example"); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("removing a malformed name, by an admin who is not the owner: %v, want ErrInvalid", err)
			}
			if r2, _ := rostertest.Writes(t, s); r2 != rev {
				t.Error("a refused removal changed the revision")
			}
			if err := r.Teams.RemoveDomain(ctx, "alice", acme.ID, "ACME.example"); err != nil {
				t.Fatal(err)
			}
			if e := rostertest.Events(t, s, acme.ID)[0]; e.Action != store.EventDomainRemoved || e.ResourceID != "acme.example" || e.Actor != "alice" {
				t.Errorf("the newest event after a removal: %+v", e)
			}
			ds, err := r.Teams.Domains(ctx, "alice", acme.ID)
			if err != nil || len(ds) != 0 {
				t.Errorf("domains after removal = %+v, %v", ds, err)
			}
			if _, err := r.Teams.ConfirmDomain(ctx, rival.ID, "acme.example"); err != nil {
				t.Errorf("the rival verifying the freed domain: %v", err)
			}
			if _, err := r.Teams.Domains(ctx, "adm", acme.ID); err != nil {
				t.Errorf("an admin listing domains: %v", err)
			}
		})
	})
}

// movingTx is a write transaction's Tx that, right after its first read
// of a verified domain, runs the function move holds, once: another
// connection's change committed between two of the transaction's
// statements, as PostgreSQL's read committed isolation allows.
type movingTx struct {
	store.Tx
	move *atomic.Pointer[func()]
}

func (t *movingTx) VerifiedDomain(ctx context.Context, name string) (store.Domain, error) {
	d, err := t.Tx.VerifiedDomain(ctx, name)
	if move := t.move.Swap(nil); move != nil {
		(*move)()
	}
	return d, err
}

// TestJoinByDomainMovedMeanwhile moves a verified domain to another team
// between the read that finds the team and the account's lock: the user
// joins neither team (nor the first with the second's role), and is
// suggested none.
func TestJoinByDomainMovedMeanwhile(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		if b.SerialWriters() {
			t.Skip("one writer at a time: no change commits inside another's transaction")
		}
		var pending atomic.Pointer[func()]
		s := rostertest.TxStore{Store: b.Store(t), Wrap: func(tx store.Tx) store.Tx { return &movingTx{Tx: tx, move: &pending} }}
		r := rostertest.New(t, s, rbac.Runpod())
		acme := rostertest.Team(t, r, "alice", nil)
		rival := rostertest.Team(t, r, "rita", nil)
		if _, err := r.Teams.AddDomain(ctx, "alice", acme.ID, "acme.example", store.DomainAutoJoin, rbac.RunpodBasic); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Teams.AddDomain(ctx, "rita", rival.ID, "acme.example", store.DomainAutoJoin, rbac.RunpodAdmin); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Teams.ConfirmDomain(ctx, acme.ID, "acme.example"); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Teams.CreateUser(ctx, store.User{ID: "dan", Email: "dan@acme.example", Name: "dan", SignIn: store.SignInGoogle}); err != nil {
			t.Fatal(err)
		}
		move := func() { // on other connections: JoinByDomain's holds its transaction open
			err := r.Teams.RemoveDomain(ctx, "alice", acme.ID, "acme.example")
			if err == nil {
				_, err = r.Teams.ConfirmDomain(ctx, rival.ID, "acme.example")
			}
			if err != nil {
				t.Errorf("moving the domain: %v", err)
			}
		}
		pending.Store(&move)
		m, err := r.Teams.JoinByDomain(ctx, "dan")
		if pending.Load() != nil {
			t.Fatal("the domain did not move during JoinByDomain")
		}
		if err != nil || m != (teams.DomainMatch{}) {
			t.Errorf("JoinByDomain across the move = %+v, %v; want no match", m, err)
		}
		for _, team := range []string{acme.ID, rival.ID} {
			if r.Can(ctx, "dan", team, rbac.AccountAccess) {
				t.Errorf("dan joined %s", team)
			}
		}
	})
}

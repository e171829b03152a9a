package teams_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teams"
)

func TestMembersTable(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		r, s := rostertest.Open(t, b, rbac.DigitalOcean())
		acct := rostertest.Team(t, r, "olive", map[string]rbac.Role{"max": rbac.DigitalOceanMember})
		invite := store.Invite{ID: txn.NewID("inv"), AccountID: acct.ID, Kind: store.InviteEmail, Email: "new@example.com",
			Role: string(rbac.DigitalOceanBiller), TokenHash: []byte("0123456789abcdef0123456789abcdef"),
			Status: store.InvitePending, MaxUses: 1, CreatedBy: "olive", CreatedAt: time.Now().UTC()}
		expired := invite
		expired.ID, expired.Email, expired.TokenHash, expired.ExpiresAt = txn.NewID("inv"), "old@example.com", []byte("fedcba9876543210fedcba9876543210"), time.Now().Add(-time.Hour).UTC()
		if _, err := s.Update(ctx, func(tx store.Tx) error {
			if err := tx.CreateInvite(ctx, invite); err != nil {
				return err
			}
			return tx.CreateInvite(ctx, expired)
		}); err != nil {
			t.Fatal(err)
		}
		strip := func(rows []teams.MemberRow) []teams.MemberRow {
			for i := range rows {
				rows[i].JoinedAt, rows[i].InviteID, rows[i].ExpiresAt = time.Time{}, "", time.Time{}
			}
			return rows
		}

		t.Run("every member sees members and pending invites", func(t *testing.T) {
			rows, _, err := r.Teams.Members(ctx, "max", acct.ID, store.Page{})
			if err != nil {
				t.Fatal(err)
			}
			want := []teams.MemberRow{
				{UserID: "olive", Name: "olive", Email: "olive@example.com", Role: rbac.DigitalOceanOwner, Status: teams.Joined, Owner: true},
				{UserID: "max", Name: "max", Email: "max@example.com", Role: rbac.DigitalOceanMember, Status: teams.Joined},
				{Role: rbac.DigitalOceanBiller, Status: teams.Pending},
			}
			if diff := cmp.Diff(want, strip(rows)); diff != "" {
				t.Errorf("members table for a member (-want +got):\n%s", diff)
			}
		})

		t.Run("pending invitees' addresses only for those who see them in the invites list", func(t *testing.T) {
			for _, viewer := range []string{"olive", "max"} {
				rows, _, err := r.Teams.Members(ctx, viewer, acct.ID, store.Page{})
				if err != nil {
					t.Fatal(err)
				}
				list, _, err := r.Invites.List(ctx, viewer, acct.ID, store.Page{})
				if err != nil {
					t.Fatal(err)
				}
				var listed string
				for _, inv := range list {
					if inv.ID == invite.ID {
						listed = inv.Email
					}
				}
				if got := rows[len(rows)-1].Email; got != listed {
					t.Errorf("%s sees the pending invitee as %q in the members table and %q in the invites list", viewer, got, listed)
				}
			}
		})

		t.Run("a pending invite to a member's address is not listed twice", func(t *testing.T) {
			again := invite
			again.ID, again.Email, again.TokenHash = txn.NewID("inv"), "max@example.com", []byte("00112233445566778899aabbccddeeff")
			if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateInvite(ctx, again) }); err != nil {
				t.Fatal(err)
			}
			rows, _, err := r.Teams.Members(ctx, "olive", acct.ID, store.Page{})
			if err != nil {
				t.Fatal(err)
			}
			for _, row := range rows {
				if row.Status == teams.Pending && row.Email == "max@example.com" {
					t.Errorf("max is listed as a member and as a pending invitee")
				}
			}
		})

		t.Run("only owners see sign-in methods", func(t *testing.T) {
			rows, _, err := r.Teams.Members(ctx, "olive", acct.ID, store.Page{})
			if err != nil {
				t.Fatal(err)
			}
			if rows[0].SignIn != store.SignInEmail || rows[1].SignIn != store.SignInEmail || rows[2].SignIn != "" {
				t.Errorf("sign-in methods for the owner = %q %q %q, want email email and none for the invite", rows[0].SignIn, rows[1].SignIn, rows[2].SignIn)
			}
		})

		t.Run("non-members see nothing", func(t *testing.T) {
			rostertest.User(t, r, "eve")
			if _, _, err := r.Teams.Members(ctx, "eve", acct.ID, store.Page{}); !errors.Is(err, rbac.ErrNotMember) {
				t.Errorf("error = %v, want ErrNotMember", err)
			}
		})
	})
}

func TestSwitchAccounts(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		r, s := rostertest.Open(t, b, rbac.Runpod())
		acme := rostertest.Team(t, r, "alice", nil)
		bobs := rostertest.User(t, r, "bob")
		if _, err := r.Teams.AddMember(ctx, "alice", acme.ID, "bob", rbac.RunpodDev); err != nil {
			t.Fatal(err)
		}
		ids := func(es []teams.AccountEntry) (ids []string, active string) {
			for _, e := range es {
				ids = append(ids, e.Account.ID)
				if e.Active {
					active = e.Account.ID
				}
			}
			return ids, active
		}

		t.Run("joining a team does not switch to it", func(t *testing.T) {
			es, _, err := r.Teams.Accounts(ctx, "bob", store.Page{})
			if err != nil {
				t.Fatal(err)
			}
			got, active := ids(es)
			if !slices.Equal(got, []string{bobs.ID, acme.ID}) || active != bobs.ID {
				t.Errorf("accounts = %v active %s, want personal then Acme, personal active", got, active)
			}
		})

		t.Run("switching is persisted", func(t *testing.T) {
			if err := r.Teams.Switch(ctx, "bob", acme.ID); err != nil {
				t.Fatal(err)
			}
			a, err := r.Teams.Active(ctx, "bob")
			if err != nil || a.ID != acme.ID {
				t.Errorf("Active = %v, %v; want Acme", a.ID, err)
			}
			e := rostertest.Events(t, s, acme.ID)[0]
			if e.Action != store.EventUserSwitched || e.Actor != "bob" || e.ResourceID != "bob" ||
				e.Before != `{"account":"`+bobs.ID+`"}` || e.After != `{"account":"`+acme.ID+`"}` {
				t.Errorf("the event of a switch: %+v", e)
			}
		})

		t.Run("switching to a team one is not a member of fails", func(t *testing.T) {
			rostertest.User(t, r, "carol")
			if err := r.Teams.Switch(ctx, "carol", acme.ID); !errors.Is(err, rbac.ErrNotMember) {
				t.Errorf("error = %v, want ErrNotMember", err)
			}
			if err := r.Teams.Switch(ctx, "carol", "acc_missing"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("switching to no account: error = %v, want ErrNotFound", err)
			}
			if err := r.Teams.Switch(ctx, "nobody", acme.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("an unknown user switching: error = %v, want ErrNotFound", err)
			}
		})

		t.Run("removal moves the active account back to the personal one", func(t *testing.T) {
			if err := r.Teams.RemoveMember(ctx, "alice", acme.ID, "bob"); err != nil {
				t.Fatal(err)
			}
			a, err := r.Teams.Active(ctx, "bob")
			if err != nil || a.ID != bobs.ID {
				t.Errorf("Active after removal = %v, %v; want bob's personal account", a.ID, err)
			}
		})

		t.Run("joining again after a removal does not make the team active again", func(t *testing.T) {
			if _, err := r.Teams.AddMember(ctx, "alice", acme.ID, "bob", rbac.RunpodDev); err != nil {
				t.Fatal(err)
			}
			a, err := r.Teams.Active(ctx, "bob")
			if err != nil || a.ID != bobs.ID {
				t.Errorf("Active after joining again = %v, %v; want bob's personal account: joining switched", a.ID, err)
			}
		})
	})
}

func TestRemovalHook(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		var (
			mu   sync.Mutex
			seen []teams.Removal
		)
		var r *roster.Roster
		hook := func(_ context.Context, rm teams.Removal) {
			mu.Lock()
			defer mu.Unlock()
			if r.Can(ctx, rm.UserID, rm.AccountID, rbac.AccountAccess) {
				t.Errorf("hook for %s ran while Can still allowed them", rm.UserID)
			}
			seen = append(seen, rm)
		}
		r, _ = rostertest.Open(t, b, rbac.Runpod(), roster.WithRemovalHook(hook))
		acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev, "carol": rbac.RunpodBasic, "dan": rbac.RunpodBilling})
		if err := r.Teams.RemoveMember(ctx, "alice", acct.ID, "bob"); err != nil {
			t.Fatal(err)
		}
		if err := r.Teams.Leave(ctx, "carol", acct.ID); err != nil {
			t.Fatal(err)
		}
		if err := r.Teams.Leave(ctx, "alice", acct.ID); !errors.Is(err, teams.ErrLastOwner) {
			t.Fatalf("last admin leaving: %v", err)
		}
		if _, err := r.Teams.DeleteTeam(ctx, "alice", acct.ID); err != nil {
			t.Fatal(err)
		}
		want := []teams.Removal{
			{AccountID: acct.ID, UserID: "bob", By: "alice", Reason: "removed"},
			{AccountID: acct.ID, UserID: "carol", By: "carol", Reason: "left"},
			{AccountID: acct.ID, UserID: "dan", By: "alice", Reason: "team deleted"},
		}
		if diff := cmp.Diff(want, seen); diff != "" {
			t.Errorf("removals the hook saw (-want +got):\n%s", diff)
		}
	})
}

func TestPreviewRoleChange(t *testing.T) {
	ctx := context.Background()
	r, s := rostertest.Open(t, testdb.Backends()[0], rbac.Runpod())
	acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
	_, ev := rostertest.Writes(t, s)
	p, err := r.Teams.PreviewRoleChange(ctx, "alice", acct.ID, "bob", rbac.RunpodBasic)
	if err != nil {
		t.Fatal(err)
	}
	want := teams.RolePreview{From: rbac.RunpodDev, To: rbac.RunpodBasic, Lost: []rbac.Action{rbac.PodsManage, rbac.EndpointsManage}}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("preview (-want +got):\n%s", diff)
	}
	if !r.Can(ctx, "bob", acct.ID, rbac.PodsManage) {
		t.Error("preview changed the role")
	}
	if _, ev2 := rostertest.Writes(t, s); ev2 != ev {
		t.Error("preview wrote an event")
	}
	if _, err := r.Teams.PreviewRoleChange(ctx, "bob", acct.ID, "alice", rbac.RunpodBasic); !errors.Is(err, rbac.ErrDenied) {
		t.Errorf("a dev previewing: error = %v, want ErrDenied", err)
	}
	if _, err := r.Teams.PreviewRoleChange(ctx, "alice", acct.ID, "bob", "root"); !errors.Is(err, rbac.ErrUnknownRole) {
		t.Errorf("an unknown role: error = %v, want ErrUnknownRole", err)
	}
}

func TestDeniedAttemptsAreAudited(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		r, s := rostertest.Open(t, b, rbac.Runpod())
		acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev, "carol": rbac.RunpodBasic})
		if _, err := r.Teams.ChangeRole(ctx, "bob", acct.ID, "carol", rbac.RunpodAdmin); !errors.Is(err, rbac.ErrDenied) {
			t.Fatalf("dev changing a role: error = %v, want ErrDenied", err)
		}
		e := rostertest.Events(t, s, acct.ID)[0]
		if e.Result != store.Denied || e.Actor != "bob" || e.Action != "member.role_changed" || e.Reason == "" {
			t.Errorf("newest event = %+v, want a denied member.role_changed by bob with a reason", e)
		}
		if r.Can(ctx, "carol", acct.ID, rbac.MembersManage) {
			t.Error("the denied change happened")
		}
		// A stranger's attempt is refused but not written into the team's log.
		rostertest.User(t, r, "eve")
		_, before := rostertest.Writes(t, s)
		if err := r.Teams.RemoveMember(ctx, "eve", acct.ID, "carol"); !errors.Is(err, rbac.ErrNotMember) {
			t.Fatalf("stranger removing: error = %v, want ErrNotMember", err)
		}
		if _, after := rostertest.Writes(t, s); after != before {
			t.Error("a non-member's attempt was written to the team's log")
		}
	})
}

// meeting holds, once armed, each write transaction after its first read
// of a user until two of them have read it: two switches of one user then
// both start from the same active account.
type meeting struct {
	mu    sync.Mutex
	armed bool
	reads int
	met   chan struct{}
}

// bothReadTx is a write transaction's Tx that meets the others at its
// meeting.
type bothReadTx struct {
	store.Tx
	m    *meeting
	read bool
}

func (t *bothReadTx) User(ctx context.Context, id string) (store.User, error) {
	u, err := t.Tx.User(ctx, id)
	t.m.mu.Lock()
	wait := t.m.armed && !t.read
	if wait {
		t.read = true
		if t.m.reads++; t.m.reads == 2 {
			close(t.m.met)
		}
	}
	t.m.mu.Unlock()
	if wait {
		select {
		case <-t.m.met:
		case <-time.After(10 * time.Second):
		}
	}
	return u, err
}

// TestConcurrentSwitches runs two switches of one user to two teams at
// once, both starting from the personal account: each succeeds, in turn,
// and each is recorded, the last one's team being the active account.
func TestConcurrentSwitches(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		if b.SerialWriters() {
			t.Skip("one writer at a time: the second switch cannot read before the first commits")
		}
		m := &meeting{met: make(chan struct{})}
		s := rostertest.TxStore{Store: b.Store(t), Wrap: func(tx store.Tx) store.Tx { return &bothReadTx{Tx: tx, m: m} }}
		r := rostertest.New(t, s, rbac.Runpod())
		acme := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
		beta := rostertest.Team(t, r, "carol", nil)
		if _, err := r.Teams.AddMember(ctx, "carol", beta.ID, "bob", rbac.RunpodDev); err != nil {
			t.Fatal(err)
		}
		m.mu.Lock()
		m.armed = true // only the switches meet
		m.mu.Unlock()
		var wg sync.WaitGroup
		for _, id := range []string{acme.ID, beta.ID} {
			wg.Go(func() {
				if err := r.Teams.Switch(ctx, "bob", id); err != nil {
					t.Errorf("Switch to %s: %v", id, err)
				}
			})
		}
		wg.Wait()
		select {
		case <-m.met:
		default:
			t.Fatal("the switches did not both read the user before either wrote: the test proves nothing")
		}
		var switched []store.Event
		for _, id := range []string{acme.ID, beta.ID} {
			switched = append(switched, rostertest.EventsWhere(t, s, store.EventFilter{AccountID: id, Action: store.EventUserSwitched})...)
		}
		if len(switched) != 2 {
			t.Fatalf("user.switched events: %d, want one per switch", len(switched))
		}
		last := switched[0]
		if switched[1].ID > last.ID {
			last = switched[1]
		}
		active, err := r.Teams.Active(ctx, "bob")
		if err != nil || last.After != `{"account":"`+active.ID+`"}` {
			t.Errorf("active account %s (%v), but the last switch recorded %s", active.ID, err, last.After)
		}
	})
}

// TestActiveFindsAPersonalAccountPastAPage: a user whose stored choice no
// longer stands works in their personal account even when more than a
// page of memberships come before it (rows another writer left: roster
// makes the personal account with the user), and without one in the
// first team they joined.
func TestActiveFindsAPersonalAccountPastAPage(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		r, s := rostertest.Open(t, b, rbac.Runpod())
		own := rostertest.User(t, r, "uma")
		earlier := own.CreatedAt.Add(-time.Hour)
		_, err := s.Update(ctx, func(tx store.Tx) error {
			for i := range store.DefaultPageSize + 1 { // a page after acc_old0000 is left
				id := fmt.Sprintf("acc_old%04d", i)
				at := earlier.Add(time.Duration(i) * time.Second)
				if err := tx.CreateAccount(ctx, store.Account{ID: id, Kind: store.Team, Name: id, Owner: "uma", CreatedAt: at, UpdatedAt: at}); err != nil {
					return err
				}
				if err := tx.CreateMember(ctx, store.Member{AccountID: id, UserID: "uma", Role: string(rbac.RunpodAdmin), JoinedAt: at}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r.Teams.Switch(ctx, "uma", "acc_old0000"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.DeleteMember(ctx, "acc_old0000", "uma") }); err != nil {
			t.Fatal(err)
		}
		if a, err := r.Teams.Active(ctx, "uma"); err != nil || a.ID != own.ID {
			t.Errorf("Active = %s, %v; want the personal account %s, after a page of teams", a.ID, err, own.ID)
		}
		// Without a personal account, the first team joined.
		if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.DeleteMember(ctx, own.ID, "uma") }); err != nil {
			t.Fatal(err)
		}
		if a, err := r.Teams.Active(ctx, "uma"); err != nil || a.ID != "acc_old0001" {
			t.Errorf("Active = %s, %v; want acc_old0001, the first team joined and not left", a.ID, err)
		}
	})
}

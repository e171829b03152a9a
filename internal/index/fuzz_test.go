package index_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// FuzzCan asks Can, Check and Explain any question about a roster whose
// teams have members named "*", "%", "_" and ",": they never panic, agree
// with each other and with the members as set up, and never allow the
// canary, who is no member of anything, nor anyone on an account that does
// not exist.
func FuzzCan(f *testing.F) {
	ctx := context.Background()
	r, err := roster.Open(ctx, filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		if err := r.Close(); err != nil {
			f.Error(err)
		}
	})
	const canary = "canary"
	members := map[string]map[string]rbac.Role{} // account -> user -> role
	var accounts []string
	for _, tm := range []struct {
		owner, name string
		members     map[string]rbac.Role
	}{
		{"owner1", "*", map[string]rbac.Role{"*": rbac.RunpodBasic, "%": rbac.RunpodBilling, "_": rbac.RunpodDev, ",": rbac.RunpodAdmin}},
		{"owner2", "%", map[string]rbac.Role{"alice": rbac.RunpodDev, "*,%": rbac.RunpodBasic}},
		{"owner3", "_", nil},
	} {
		acct, err := r.Teams.CreateUser(ctx, store.User{ID: tm.owner, Email: tm.owner + "@example.com", Name: tm.owner, SignIn: store.SignInEmail})
		if err != nil {
			f.Fatal(err)
		}
		if _, err := r.Teams.ConvertToTeam(ctx, tm.owner, acct.ID, tm.name); err != nil {
			f.Fatal(err)
		}
		members[acct.ID] = map[string]rbac.Role{tm.owner: rbac.RunpodAdmin}
		accounts = append(accounts, acct.ID)
		for u, role := range tm.members {
			if _, err := r.Teams.User(ctx, u); errors.Is(err, store.ErrNotFound) {
				if _, err := r.Teams.CreateUser(ctx, store.User{ID: u, Email: "u@example.com", Name: u, SignIn: store.SignInEmail}); err != nil {
					f.Fatal(err)
				}
			}
			if _, err := r.Teams.AddMember(ctx, tm.owner, acct.ID, u, role); err != nil {
				f.Fatal(err)
			}
			members[acct.ID][u] = role
		}
	}
	for _, s := range [][3]string{
		{canary, "", string(rbac.AccountAccess)}, {"*", "", string(rbac.PodsConnect)}, {"*", "*", string(rbac.PodsConnect)},
		{"%", "%", "billing.%"}, {"_", "_", "pods._anage"}, {",", ",", "*"}, {"owner1", "", "members.invite,audit.read"},
		{"*,%", "", "account.access"}, {"owner1\x00", "", "account.access"}, {"owner1 ", "", "account.access"},
		{"OWNER1", "", "account.access"}, {"' OR 1=1 --", "' OR 1=1 --", "account.access"}, {"\xff", "", "\xff"},
	} {
		for pick := range uint8(4) {
			f.Add(s[0], s[1], s[2], pick)
		}
	}
	p := r.Policy()
	f.Fuzz(func(t *testing.T, user, account, action string, pick uint8) {
		// An even pick asks about one of the real accounts instead.
		if pick%2 == 0 {
			account = accounts[int(pick/2)%len(accounts)]
		}
		a := rbac.Action(action)
		got := r.Can(ctx, user, account, a)
		role, member := members[account][user]
		want := member && p.Allows(role, a)
		if got != want {
			t.Fatalf("Can(%q, %q, %q) = %v, want %v (role %q)", user, account, action, got, want, role)
		}
		if got && user == canary {
			t.Fatalf("the canary was allowed %q on %q", action, account)
		}
		err := r.Check(ctx, user, account, a)
		if (err == nil) != got {
			t.Fatalf("Check(%q, %q, %q) = %v, Can says %v", user, account, action, err, got)
		}
		if err != nil && !errors.Is(err, store.ErrInvalid) && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, rbac.ErrUnknownAction) &&
			!errors.Is(err, rbac.ErrNotMember) && !errors.Is(err, rbac.ErrDenied) {
			t.Fatalf("Check(%q, %q, %q): an untyped error: %v", user, account, action, err)
		}
		if d := r.Explain(ctx, user, account, a); d.Allowed != got || (got && d.Role != role) {
			t.Fatalf("Explain(%q, %q, %q) = %+v, Can says %v with role %q", user, account, action, d, got, role)
		}
	})
}

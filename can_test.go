package roster_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/apikeys"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

func TestCheck(t *testing.T) {
	ctx := context.Background()
	r, _ := rostertest.Open(t, testdb.Backends()[0], rbac.Runpod())
	acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"carol": rbac.RunpodBilling})
	rostertest.User(t, r, "dave")
	for _, tc := range []struct {
		name          string
		user, account string
		action        rbac.Action
		want          error // nil: allowed
	}{
		{"a role that has the action is allowed", "carol", acct.ID, rbac.BillingManage, nil},
		{"a role that lacks the action is denied", "carol", acct.ID, rbac.PodsConnect, rbac.ErrDenied},
		{"a user who is not a member is told so", "dave", acct.ID, rbac.BillingRead, rbac.ErrNotMember},
		{"an unknown user is not a member", "nobody", acct.ID, rbac.BillingRead, rbac.ErrNotMember},
		{"an unknown account is not found", "carol", "acc_nothere", rbac.BillingRead, store.ErrNotFound},
		{"an action of another policy is unknown", "carol", acct.ID, rbac.ResourcesRead, rbac.ErrUnknownAction},
		{"an empty user is invalid", "", acct.ID, rbac.BillingRead, store.ErrInvalid},
		{"an empty account is invalid", "carol", "", rbac.BillingRead, store.ErrInvalid},
		{"an empty action is invalid", "carol", acct.ID, "", store.ErrInvalid},
		{"a control character is invalid", "carol\n", acct.ID, rbac.BillingRead, store.ErrInvalid},
		{"non-UTF-8 is invalid", "carol\xff", acct.ID, rbac.BillingRead, store.ErrInvalid},
		{"an oversized ID is invalid", strings.Repeat("c", store.MaxIDLen+1), acct.ID, rbac.BillingRead, store.ErrInvalid},
		{"a wildcard user matches nobody", "*", acct.ID, rbac.BillingRead, rbac.ErrNotMember},
		{"a wildcard account matches none", "carol", "*", rbac.BillingRead, store.ErrNotFound},
		{"a wildcard action is unknown", "carol", acct.ID, "*", rbac.ErrUnknownAction},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assertCheck(t, r, tc.user, tc.account, tc.action, tc.want)
		})
	}
	t.Run("explain names the role", func(t *testing.T) {
		d := r.Explain(ctx, "carol", acct.ID, rbac.PodsConnect)
		if d.Role != rbac.RunpodBilling || !strings.Contains(d.String(), `role "billing" lacks it`) {
			t.Errorf("Explain = %+v (%s), want carol's role billing and the reason", d, d)
		}
	})
}

func TestCanAllocatesNothing(t *testing.T) {
	ctx := context.Background()
	r, _ := rostertest.Open(t, testdb.Backends()[0], rbac.Runpod())
	acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
	for _, q := range []struct {
		user   string
		action rbac.Action
	}{{"bob", rbac.PodsManage}, {"bob", rbac.BillingRead}, {"nobody", rbac.PodsManage}} {
		if n := testing.AllocsPerRun(100, func() { r.Can(ctx, q.user, acct.ID, q.action) }); n != 0 {
			t.Errorf("Can(%s, %s) allocates %v times, want 0", q.user, q.action, n)
		}
		// At a revision the roster has, CanAt is Can.
		if n := testing.AllocsPerRun(100, func() { r.CanAt(ctx, r.Revision(), q.user, acct.ID, q.action) }); n != 0 {
			t.Errorf("CanAt(%s, %s) allocates %v times, want 0", q.user, q.action, n)
		}
	}
}

// TestBadInput holds the front door's refusals of bad input; the
// services' are tested in their packages.
func TestBadInput(t *testing.T) {
	ctx := context.Background()
	s := testdb.Backends()[0].Store(t)
	t.Run("a nil store or policy", func(t *testing.T) {
		if _, err := roster.New(ctx, nil, rbac.Runpod()); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("New(nil store) error = %v, want ErrInvalid", err)
		}
		if _, err := roster.New(ctx, s, nil); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("New(nil policy) error = %v, want ErrInvalid", err)
		}
	})
}

// assertCheck checks that Check answers want (nil: allowed) and that Can and
// Explain agree with it.
func assertCheck(t *testing.T, r *roster.Roster, user, account string, action rbac.Action, want error) {
	t.Helper()
	ctx := context.Background()
	err := r.Check(ctx, user, account, action)
	if want == nil {
		if err != nil {
			t.Fatalf("Check = %v, want allowed", err)
		}
	} else if !errors.Is(err, want) {
		t.Fatalf("Check = %v, want %v", err, want)
	}
	if can := r.Can(ctx, user, account, action); can != (want == nil) {
		t.Errorf("Can = %v, but Check = %v", can, err)
	}
	d := r.Explain(ctx, user, account, action)
	if d.Allowed != (want == nil) || (d.Err == nil) != d.Allowed {
		t.Errorf("Explain = %+v, disagrees with Check %v", d, err)
	}
}

// TestBadInputEveryMethod calls every method of the front door (a
// *Roster) with empty, oversized, non-UTF-8, control-character,
// SQL-looking and wildcard-looking strings in each string it takes, and
// checks that none panics, every refusal is a documented sentinel error and
// writes nothing, and that Can never allows on such input (see
// rostertest.BadInput). The services' methods are fed the same in
// internal/txn's TestBadInputEveryMethod.
func TestBadInputEveryMethod(t *testing.T) {
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		r, s := rostertest.Open(t, b, rbac.Runpod())
		team := rostertest.Team(t, r, "own", map[string]rbac.Role{"adm": rbac.RunpodAdmin, "bas": rbac.RunpodBasic}).ID
		key, err := r.Keys.Create(context.Background(), "bas", team, apikeys.Spec{Name: "k"})
		if err != nil {
			t.Fatal(err)
		}
		refused, accepted := rostertest.BadInput(t, r, s, []rostertest.Receiver{{Name: "roster", Value: r, Calls: map[string][]any{
			"Authenticate": {key.Token},
			"Can":          {"adm", team, rbac.PodsConnect},
			"Check":        {"adm", team, rbac.PodsConnect},
			"Explain":      {"adm", team, rbac.PodsConnect},
			"CanAt":        {store.Revision(0), "adm", team, rbac.PodsConnect},
			"CheckStrict":  {"adm", team, rbac.PodsConnect},
			"Close":        nil,
			"Policy":       nil,
			"Revision":     nil,
			"Sync":         nil,
			"WaitFor":      nil,
			// The middleware takes no context: its string inputs come
			// from requests, and http_test.go sends malformed users and
			// teams through it.
			"Require":       nil,
			"RequireMember": nil,
			"RequireUser":   nil,
			// Health takes no input; HealthHandler takes a duration and
			// serves any request alike (observe_test.go).
			"Health":        nil,
			"HealthHandler": nil,
			// Logger takes no input.
			"Logger": nil,
		}}})
		if !t.Failed() {
			t.Logf("bad input calls: %d refused with a sentinel error and no change, %d accepted as data", refused, accepted)
		}
	})
}

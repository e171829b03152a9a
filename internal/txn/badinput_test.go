package txn_test

import (
	"bytes"
	"context"
	"errors"
	"io"
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

// badInputWorld is a team with an admin, a basic member, an outsider, a
// pending invite, an open ownership transfer and a team role.
type badInputWorld struct {
	team, personal, invite, token, xfer, xferToken, key string
}

// badInputReceivers gives, for every exported method of the services
// (teams, invites, audit and apikeys), valid arguments after ctx, for
// rostertest.BadInput to swap one string at a time for a hostile value.
// TestBadInputEveryMethod fails if a method is missing here. In this
// order, users the calls create (such as one named "*") exist only for the
// calls after them.
func badInputReceivers(r *roster.Roster, w badInputWorld) []rostertest.Receiver {
	now := time.Now()
	return []rostertest.Receiver{
		{Name: "apikeys", Value: r.Keys, Calls: map[string][]any{
			"Create":        {"bas", w.team, apikeys.Spec{Name: "k", Actions: []rbac.Action{rbac.AccountAccess}, ExpiresAt: now.Add(time.Hour)}},
			"CreateService": {"adm", w.team, apikeys.Spec{Name: "svc", Role: rbac.RunpodBasic}},
			"List":          {"adm", w.team, store.Page{}},
			"ListTeam":      {"adm", w.team, store.Page{}},
			"Revoke":        {"adm", w.team, w.key},
		}},
		{Name: "audit", Value: r.Audit, Calls: map[string][]any{
			"Export": {"adm", w.team, audit.Filter{}, audit.NDJSON, io.Discard},
			// The cursor "" (the start) is valid; every hostile value in
			// its place is refused before fn is called.
			"Follow":    {"", func(context.Context, store.Event, string) error { return errors.New("fn called") }},
			"Head":      {"adm", w.team},
			"MemberAt":  {"adm", w.team, "bas", now},
			"MembersAt": {"adm", w.team, now},
			"Prune":     {"adm", w.team, now.Add(-time.Hour)},
			"Query":     {"adm", w.team, audit.Filter{}},
			"Record":    {"adm", w.team, audit.Entry{Action: "pod.created"}},
			"Verify":    {"adm", w.team},
		}},
		{Name: "invites", Value: r.Invites, Calls: map[string][]any{
			"Accept":      {"out", w.token},
			"CreateEmail": {"adm", w.team, rbac.RunpodBasic, []string{"x@example.com"}},
			"CreateLink":  {"adm", w.team, rbac.RunpodBasic},
			"Link":        {"adm", w.team, w.invite},
			"List":        {"adm", w.team, store.Page{}},
			"Pending":     {"adm", w.team, store.Page{}},
			"Preview":     {w.token},
			"Resend":      {"adm", w.team, w.invite},
			"Revoke":      {"adm", w.team, w.invite},
		}},
		{Name: "teams", Value: r.Teams, Calls: map[string][]any{
			"AcceptTransfer":  {"bas", w.xfer, w.xferToken},
			"Account":         {"adm", w.team},
			"Accounts":        {"adm", store.Page{}},
			"Active":          {"adm"},
			"AddMember":       {"adm", w.team, "out", rbac.RunpodBasic},
			"CancelTransfer":  {"adm", w.team, w.xfer},
			"ChangeRole":      {"adm", w.team, "bas", rbac.RunpodDev},
			"ConfirmTransfer": {"adm", w.xfer, w.xferToken},
			"ConvertToTeam":   {"out", w.personal, "Out"},
			"CreateTeam":      {"adm", "Second team"},
			"CreateUser":      {store.User{ID: "new", Email: "new@example.com", Name: "New", SignIn: store.SignInEmail}},
			"DefineRole":      {"adm", w.team, "viewer2", []rbac.Action{rbac.AccountAccess}},
			"DeleteRole":      {"adm", w.team, "viewer"},
			"DeleteTeam":      {"own", w.team},
			"DeleteUser":      {"out", "out"},
			"GrantTopRole":    {"adm", w.team, "bas"},
			"ImportUsers": {[]store.User{{ID: "imp", Email: "imp@example.com", Name: "Imp", SignIn: store.SignInEmail},
				{ID: "bas", Email: "bas@example.com", Name: "bas", SignIn: store.SignInEmail}}},
			"Leave":               {"bas", w.team},
			"Members":             {"adm", w.team, store.Page{}},
			"PreviewRoleChange":   {"adm", w.team, "bas", rbac.RunpodDev},
			"PreviewSecureSignIn": {"adm", w.team},
			"RemoveMember":        {"adm", w.team, "bas"},
			"Rename":              {"adm", w.team, "Renamed"},
			"Roles":               {"adm", w.team},
			"SetSecureSignIn":     {"adm", w.team, false},
			"Switch":              {"bas", w.team},
			"SetSeatLimit":        {w.team, 50},
			"AddDomain":           {"own", w.team, "example.net", store.DomainAutoJoin, rbac.RunpodBasic},
			"ConfirmDomain":       {w.team, "example.org"},
			"RemoveDomain":        {"own", w.team, "example.org"},
			"Domains":             {"own", w.team},
			"JoinByDomain":        {"out"},
			"Seats":               {"adm", w.team},
			"Suspend":             {"adm", w.team, "bas"},
			"Reinstate":           {"adm", w.team, "bas"},
			"EndMembership":       {"adm", w.team, "bas", now.Add(time.Hour)},
			"GrantRoleUntil":      {"adm", w.team, "bas", rbac.RunpodDev, now.Add(time.Hour)},
			"SweepExpired":        nil,
			"TransferOwnership":   {"own", w.team, "bas"},
			"Transfers":           {"adm", w.team, store.Page{}},
			"UpdateUser":          {store.User{ID: "bas", Email: "bas@example.com", Name: "Bas", SignIn: store.SignInEmail}},
			"UpsertUser":          {store.User{ID: "ups", Email: "ups@example.com", Name: "Ups", SignIn: store.SignInGoogle}},
			"User":                {"adm"},
			"UsersByEmail":        {"bas@example.com"},
		}, Ignored: map[string]bool{
			// The new personal account becomes the active one; an
			// existing user's is kept.
			"CreateUser arg 1 field ActiveAccount": true,
			"UpsertUser arg 1 field ActiveAccount": true,
			"UpdateUser arg 1 field ActiveAccount": true,
		}},
	}
}

// TestBadInputEveryMethod calls every public method of teams, invites and
// audit with empty, oversized, non-UTF-8, control-character, SQL-looking
// and wildcard-looking strings in each string it takes, and checks that
// none panics and every refusal is a documented sentinel error and writes
// nothing (see rostertest.BadInput). The front door's methods are fed the
// same in the root package's TestBadInputEveryMethod.
func TestBadInputEveryMethod(t *testing.T) {
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		ctx := context.Background()
		box := &rostertest.Inbox{}
		key, err := invites.NewSecret("k1", bytes.Repeat([]byte{1}, invites.MinSecretLen))
		if err != nil {
			t.Fatal(err)
		}
		r, s := rostertest.Open(t, b, rbac.Runpod(), roster.WithNotifier(box), roster.WithBaseURL("https://app.example.com/team"),
			roster.WithLinkSecrets(key))
		w := badInputWorld{team: rostertest.Team(t, r, "own", map[string]rbac.Role{"adm": rbac.RunpodAdmin, "bas": rbac.RunpodBasic}).ID}
		w.personal = rostertest.User(t, r, "out").ID
		inv, err := r.Invites.CreateLink(ctx, "own", w.team, rbac.RunpodDev)
		if err != nil {
			t.Fatal(err)
		}
		w.invite, w.token = inv.ID, inv.Token
		tr, err := r.Teams.TransferOwnership(ctx, "own", w.team, "bas")
		if err != nil {
			t.Fatal(err)
		}
		w.xfer, w.xferToken = tr.ID, box.Token(tr.ID)
		if _, err := r.Teams.DefineRole(ctx, "own", w.team, "viewer", []rbac.Action{rbac.AccountAccess}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Teams.AddDomain(ctx, "own", w.team, "example.org", store.DomainSuggest, rbac.RunpodBasic); err != nil {
			t.Fatal(err)
		}
		k, err := r.Keys.Create(ctx, "bas", w.team, apikeys.Spec{Name: "bas's"})
		if err != nil {
			t.Fatal(err)
		}
		w.key = k.Key.ID
		refused, accepted := rostertest.BadInput(t, r, s, badInputReceivers(r, w))
		t.Run("users and teams named like wildcards match only themselves", func(t *testing.T) {
			wildTeam := rostertest.Team(t, r, "wild-owner", nil).ID
			for _, u := range []string{"*", "%", "_", ","} {
				if _, err := r.Teams.User(ctx, u); errors.Is(err, store.ErrNotFound) {
					rostertest.User(t, r, u)
				}
				if _, err := r.Teams.AddMember(ctx, "wild-owner", wildTeam, u, rbac.RunpodBasic); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := r.Teams.Rename(ctx, "wild-owner", wildTeam, "*"); err != nil {
				t.Fatal(err)
			}
			for _, u := range []string{"*", "%", "_", ","} {
				if !r.Can(ctx, u, wildTeam, rbac.PodsConnect) {
					t.Errorf("%q cannot use the team it is a member of", u)
				}
				for _, other := range []string{w.team, w.personal} {
					for _, a := range r.Policy().Actions() {
						if r.Can(ctx, u, other, a) {
							if _, err := r.Teams.Account(ctx, u, other); err != nil { // not a member there
								t.Errorf("%q may %s on %s, of which it is no member", u, a, other)
							}
						}
					}
				}
				if err := r.Teams.RemoveMember(ctx, "wild-owner", wildTeam, u); err != nil {
					t.Fatal(err)
				}
				rows, _, err := r.Teams.Members(ctx, "wild-owner", wildTeam, store.Page{})
				if err != nil {
					t.Fatal(err)
				}
				for _, row := range rows {
					if row.UserID == u {
						t.Errorf("%q is still a member after its removal", u)
					}
				}
				if len(rows) == 0 {
					t.Errorf("removing %q removed everyone", u)
				}
			}
			es, _, err := r.Audit.Query(ctx, "wild-owner", wildTeam, audit.Filter{ResourceID: "%"})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range es {
				if e.ResourceID != "%" {
					t.Errorf("a filter on resource %q returned an event on %q", "%", e.ResourceID)
				}
			}
			if len(es) == 0 {
				t.Error("a filter on resource \"%\" found none of its events")
			}
		})
		if !t.Failed() {
			t.Logf("bad input calls: %d refused with a sentinel error and no change, %d accepted as data", refused, accepted)
		}
	})
}

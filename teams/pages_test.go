package teams_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teams"
)

// rowID names a members table row: its user, or its invite.
func rowID(r teams.MemberRow) string { return r.UserID + r.InviteID }

func TestPagedLists(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		// The clock stands still while the team fills, so members join,
		// and invites and transfers are made, at equal times: only their
		// IDs order them.
		clock := rostertest.NewClock()
		r, _ := rostertest.Open(t, b, rbac.Runpod(), roster.WithClock(clock.Now), roster.WithBaseURL("https://app.example.com"))
		members := map[string]rbac.Role{}
		for i := range 9 {
			members[fmt.Sprintf("m%d", i)] = rbac.RunpodDev
		}
		members["lead"] = rbac.RunpodAdmin
		acct := rostertest.Team(t, r, "olive", members)
		other := rostertest.Team(t, r, "otto", map[string]rbac.Role{"m0": rbac.RunpodDev})
		var emails []string
		for i := range 6 {
			emails = append(emails, fmt.Sprintf("guest%d@example.com", i))
		}
		if _, err := r.Invites.CreateEmail(ctx, "olive", acct.ID, rbac.RunpodDev, emails); err != nil {
			t.Fatal(err)
		}
		// A pending invite to an address that became a member's is not a
		// row: the invite went out before the user joined by another way.
		rostertest.User(t, r, "late")
		if _, err := r.Invites.CreateEmail(ctx, "olive", acct.ID, rbac.RunpodDev, []string{"late@example.com"}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Teams.AddMember(ctx, "olive", acct.ID, "late", rbac.RunpodDev); err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			if _, err := r.Teams.GrantTopRole(ctx, "olive", acct.ID, fmt.Sprintf("m%d", i)); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 5 {
			if _, err := r.Teams.AddMember(ctx, "otto", other.ID, "m"+fmt.Sprint(i+1), rbac.RunpodDev); err != nil && !errors.Is(err, store.ErrExists) {
				t.Fatal(err)
			}
		}

		membersOf := func(viewer string) func(store.Page) ([]teams.MemberRow, string, error) {
			return func(p store.Page) ([]teams.MemberRow, string, error) { return r.Teams.Members(ctx, viewer, acct.ID, p) }
		}
		accountsOf := func(user string) func(store.Page) ([]teams.AccountEntry, string, error) {
			return func(p store.Page) ([]teams.AccountEntry, string, error) { return r.Teams.Accounts(ctx, user, p) }
		}
		transfersOf := func(p store.Page) ([]store.Transfer, string, error) {
			return r.Teams.Transfers(ctx, "olive", acct.ID, p)
		}

		t.Run("the members table lists members, then pending email invites, nobody twice", func(t *testing.T) {
			rows, next, err := r.Teams.Members(ctx, "lead", acct.ID, store.Page{Size: store.MaxPageSize})
			if err != nil || next != "" {
				t.Fatalf("Members = %d rows, next %q, %v", len(rows), next, err)
			}
			var joined, pending []string
			for _, row := range rows {
				switch {
				case row.Status == teams.Joined && len(pending) == 0:
					joined = append(joined, row.UserID)
				case row.Status == teams.Pending:
					pending = append(pending, row.Email)
				default:
					t.Errorf("member %s listed after the invites", row.UserID)
				}
			}
			// All joined at the same time: by user ID.
			wantJoined := []string{"late", "lead", "m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "olive"}
			if !slices.Equal(joined, wantJoined) {
				t.Errorf("members %v, want %v", joined, wantJoined)
			}
			if len(pending) != len(emails) || slices.Contains(pending, "late@example.com") {
				t.Errorf("pending invites %v, want the %d guests and not late's", pending, len(emails))
			}
		})

		t.Run("every page size walks each list once", func(t *testing.T) {
			allRows, _, err := r.Teams.Members(ctx, "lead", acct.ID, store.Page{Size: store.MaxPageSize})
			if err != nil {
				t.Fatal(err)
			}
			allAccounts, _, err := r.Teams.Accounts(ctx, "m1", store.Page{Size: store.MaxPageSize})
			if err != nil {
				t.Fatal(err)
			}
			allTransfers, _, err := transfersOf(store.Page{Size: store.MaxPageSize})
			if err != nil {
				t.Fatal(err)
			}
			if len(allAccounts) != 3 || len(allTransfers) != 4 {
				t.Fatalf("m1 has %d accounts, olive's team %d transfers; want 3 and 4", len(allAccounts), len(allTransfers))
			}
			for size := 1; size <= len(allRows)+1; size++ {
				if diff := cmp.Diff(allRows, rostertest.Walk(t, size, membersOf("lead"))); diff != "" {
					t.Errorf("members table in pages of %d (-one page +walked):\n%s", size, diff)
				}
			}
			for size := 1; size <= len(allAccounts)+1; size++ {
				got := rostertest.Walk(t, size, accountsOf("m1"))
				if diff := cmp.Diff(allAccounts, got); diff != "" {
					t.Errorf("accounts in pages of %d (-one page +walked):\n%s", size, diff)
				}
				active := 0
				for _, e := range got {
					if e.Active {
						active++
					}
				}
				if active != 1 {
					t.Errorf("accounts in pages of %d mark %d active, want 1", size, active)
				}
			}
			for size := 1; size <= len(allTransfers)+1; size++ {
				if diff := cmp.Diff(allTransfers, rostertest.Walk(t, size, transfersOf)); diff != "" {
					t.Errorf("transfers in pages of %d (-one page +walked):\n%s", size, diff)
				}
			}
		})

		t.Run("pages stay stable while members join and invites are sent", func(t *testing.T) {
			ids := func(rows []teams.MemberRow) []string {
				var out []string
				for _, row := range rows {
					out = append(out, rowID(row))
				}
				return out
			}
			// from walks the table in pages of 5 from the cursor after.
			from := func(after string) []string {
				return ids(rostertest.Walk(t, 5, func(p store.Page) ([]teams.MemberRow, string, error) {
					if p.Cursor == "" {
						p.Cursor = after
					}
					return r.Teams.Members(ctx, "lead", acct.ID, p)
				}))
			}
			change := func(user, email string) string {
				clock.Advance(time.Minute)
				rostertest.User(t, r, user)
				if _, err := r.Teams.AddMember(ctx, "olive", acct.ID, user, rbac.RunpodDev); err != nil {
					t.Fatal(err)
				}
				sent, err := r.Invites.CreateEmail(ctx, "olive", acct.ID, rbac.RunpodDev, []string{email})
				if err != nil {
					t.Fatal(err)
				}
				return sent[0].ID
			}
			before, _, err := r.Teams.Members(ctx, "lead", acct.ID, store.Page{Size: store.MaxPageSize})
			if err != nil {
				t.Fatal(err)
			}
			nMembers := slices.IndexFunc(before, func(row teams.MemberRow) bool { return row.Status == teams.Pending })

			// A cursor among the members: the new member joined after
			// every one, and the invites are still to come, newest first.
			first, next, err := r.Teams.Members(ctx, "lead", acct.ID, store.Page{Size: 5})
			if err != nil || next == "" {
				t.Fatalf("first page: %d rows, next %q, %v", len(first), next, err)
			}
			invite := change("newcomer", "latecomer@example.com")
			got := append(ids(first), from(next)...)
			want := slices.Concat(ids(before[:nMembers]), []string{"newcomer", invite}, ids(before[nMembers:]))
			if !slices.Equal(got, want) {
				t.Errorf("pages from among the members across the changes = %v, want %v", got, want)
			}

			// A cursor among the invites: the new invite sorts before
			// every older one, so before the cursor, and is not shown.
			all, _, err := r.Teams.Members(ctx, "lead", acct.ID, store.Page{Size: store.MaxPageSize})
			if err != nil {
				t.Fatal(err)
			}
			first, next, err = r.Teams.Members(ctx, "lead", acct.ID, store.Page{Size: len(all) - 3})
			if err != nil || next == "" || first[len(first)-1].Status != teams.Pending {
				t.Fatalf("first page ending among the invites: %d rows, next %q, %v", len(first), next, err)
			}
			change("newest", "guest-late@example.com") // the new member is not shown either: the members came first
			got = append(ids(first), from(next)...)
			if want := ids(all); !slices.Equal(got, want) {
				t.Errorf("pages from among the invites across the changes = %v, want %v", got, want)
			}
		})

		t.Run("a bad page or cursor returns ErrInvalid", func(t *testing.T) {
			_, membersNext, err := r.Teams.Members(ctx, "lead", acct.ID, store.Page{Size: 1})
			if err != nil || membersNext == "" {
				t.Fatal(err)
			}
			_, otherNext, err := r.Teams.Members(ctx, "otto", other.ID, store.Page{Size: 1})
			if err != nil || otherNext == "" {
				t.Fatal(err)
			}
			_, accountsNext, err := r.Teams.Accounts(ctx, "m1", store.Page{Size: 1})
			if err != nil || accountsNext == "" {
				t.Fatal(err)
			}
			_, transfersNext, err := transfersOf(store.Page{Size: 1})
			if err != nil || transfersNext == "" {
				t.Fatal(err)
			}
			for name, call := range map[string]error{
				"members, size -1":               third(r.Teams.Members(ctx, "lead", acct.ID, store.Page{Size: -1})),
				"members, size above the most":   third(r.Teams.Members(ctx, "lead", acct.ID, store.Page{Size: store.MaxPageSize + 1})),
				"members, a made-up cursor":      third(r.Teams.Members(ctx, "lead", acct.ID, store.Page{Cursor: "AQAAAAAAAAAA"})),
				"members, a cut cursor":          third(r.Teams.Members(ctx, "lead", acct.ID, store.Page{Cursor: membersNext[:len(membersNext)-2]})),
				"members, another team's":        third(r.Teams.Members(ctx, "lead", acct.ID, store.Page{Cursor: otherNext})),
				"members, the transfers'":        third(r.Teams.Members(ctx, "lead", acct.ID, store.Page{Cursor: transfersNext})),
				"accounts, size -1":              third(r.Teams.Accounts(ctx, "m1", store.Page{Size: -1})),
				"accounts, size above the most":  third(r.Teams.Accounts(ctx, "m1", store.Page{Size: store.MaxPageSize + 1})),
				"accounts, another user's":       third(r.Teams.Accounts(ctx, "m2", store.Page{Cursor: accountsNext})),
				"accounts, the members table's":  third(r.Teams.Accounts(ctx, "m1", store.Page{Cursor: membersNext})),
				"transfers, the members table's": third(r.Teams.Transfers(ctx, "olive", acct.ID, store.Page{Cursor: membersNext})),
				"transfers, size -1":             third(r.Teams.Transfers(ctx, "olive", acct.ID, store.Page{Size: -1})),
			} {
				if !errors.Is(call, store.ErrInvalid) {
					t.Errorf("%s: error = %v, want ErrInvalid", name, call)
				}
			}
		})
	})
}

// third returns the error of a call that returns two values besides it.
func third[T, U any](_ T, _ U, err error) error { return err }

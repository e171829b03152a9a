package invites_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/invites"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

func TestPagedInvites(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		// Invites are made at equal times, so only their IDs order them;
		// resends leave superseded records behind, which are never listed.
		clock := rostertest.NewClock()
		r, _ := rostertest.Open(t, b, rbac.Runpod(), roster.WithClock(clock.Now), roster.WithBaseURL("https://app.example.com"))
		acct := rostertest.Team(t, r, "olive", map[string]rbac.Role{"max": rbac.RunpodBasic})
		other := rostertest.Team(t, r, "otto", nil)
		var made []invites.Invitation
		for range 6 {
			inv, err := r.Invites.CreateLink(ctx, "olive", acct.ID, rbac.RunpodDev, invites.ExpiresIn(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			made = append(made, inv)
		}
		for range 5 {
			inv, err := r.Invites.CreateLink(ctx, "olive", acct.ID, rbac.RunpodDev)
			if err != nil {
				t.Fatal(err)
			}
			made = append(made, inv)
		}
		for _, inv := range made[:3] {
			if _, err := r.Invites.Resend(ctx, "olive", acct.ID, inv.ID); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.Invites.Revoke(ctx, "olive", acct.ID, made[7].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Invites.CreateLink(ctx, "otto", other.ID, rbac.RunpodDev); err != nil {
			t.Fatal(err)
		}
		clock.Advance(2 * time.Hour) // the six with an expiry have expired
		lists := map[string]func(actor string) func(store.Page) ([]invites.Invitation, string, error){
			"List": func(actor string) func(store.Page) ([]invites.Invitation, string, error) {
				return func(p store.Page) ([]invites.Invitation, string, error) {
					return r.Invites.List(ctx, actor, acct.ID, p)
				}
			},
			"Pending": func(actor string) func(store.Page) ([]invites.Invitation, string, error) {
				return func(p store.Page) ([]invites.Invitation, string, error) {
					return r.Invites.Pending(ctx, actor, acct.ID, p)
				}
			},
		}

		t.Run("List shows every invite but superseded records, Pending the ones that can be accepted", func(t *testing.T) {
			for name, want := range map[string]int{"List": len(made), "Pending": 4} {
				all, next, err := lists[name]("max")(store.Page{Size: store.MaxPageSize})
				if err != nil || next != "" || len(all) != want {
					t.Errorf("%s = %d invites, next %q, %v; want %d", name, len(all), next, err, want)
				}
				ids := make([]string, len(all))
				for i, inv := range all {
					ids[i] = inv.ID
				}
				if !slices.IsSortedFunc(ids, func(a, b string) int { return strings.Compare(b, a) }) {
					t.Errorf("%s: made at one time, yet not by ID descending: %v", name, ids)
				}
			}
		})

		t.Run("every page size walks each list once", func(t *testing.T) {
			for name, list := range lists {
				all, _, err := list("max")(store.Page{Size: store.MaxPageSize})
				if err != nil {
					t.Fatal(err)
				}
				for size := 1; size <= len(all)+1; size++ {
					if diff := cmp.Diff(all, rostertest.Walk(t, size, list("max"))); diff != "" {
						t.Errorf("%s in pages of %d (-one page +walked):\n%s", name, size, diff)
					}
				}
			}
		})

		t.Run("an invite sent while paging is not shown and nothing repeats", func(t *testing.T) {
			all, _, err := r.Invites.List(ctx, "olive", acct.ID, store.Page{Size: store.MaxPageSize})
			if err != nil {
				t.Fatal(err)
			}
			first, next, err := r.Invites.List(ctx, "olive", acct.ID, store.Page{Size: 4})
			if err != nil || next == "" {
				t.Fatalf("first page: %d, next %q, %v", len(first), next, err)
			}
			clock.Advance(time.Second)
			if _, err := r.Invites.CreateLink(ctx, "olive", acct.ID, rbac.RunpodDev); err != nil {
				t.Fatal(err)
			}
			rest := rostertest.Walk(t, 4, func(p store.Page) ([]invites.Invitation, string, error) {
				if p.Cursor == "" {
					p.Cursor = next
				}
				return r.Invites.List(ctx, "olive", acct.ID, p)
			})
			if diff := cmp.Diff(all, append(first, rest...)); diff != "" {
				t.Errorf("pages across a new invite (-before +walked):\n%s", diff)
			}
		})

		t.Run("a bad page or cursor returns ErrInvalid", func(t *testing.T) {
			_, listNext, err := r.Invites.List(ctx, "olive", acct.ID, store.Page{Size: 1})
			if err != nil || listNext == "" {
				t.Fatal(err)
			}
			for name, err := range map[string]error{
				"size -1":                        third(r.Invites.List(ctx, "olive", acct.ID, store.Page{Size: -1})),
				"size above the most":            third(r.Invites.Pending(ctx, "olive", acct.ID, store.Page{Size: store.MaxPageSize + 1})),
				"not base64":                     third(r.Invites.List(ctx, "olive", acct.ID, store.Page{Cursor: "not a cursor!"})),
				"List's cursor given to Pending": third(r.Invites.Pending(ctx, "olive", acct.ID, store.Page{Cursor: listNext})),
				"another team's cursor":          third(r.Invites.List(ctx, "otto", other.ID, store.Page{Cursor: listNext})),
			} {
				if !errors.Is(err, store.ErrInvalid) {
					t.Errorf("%s: error = %v, want ErrInvalid", name, err)
				}
			}
		})
	})
}

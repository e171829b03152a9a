package teams_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teams"
)

func TestCreateTeam(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		r, s := rostertest.Open(t, b, rbac.Runpod())
		personal := rostertest.User(t, r, "ann")
		first, err := r.Teams.CreateTeam(ctx, "ann", "Acme")
		if err != nil {
			t.Fatal(err)
		}
		second, err := r.Teams.CreateTeam(ctx, "ann", "Beta")
		if err != nil {
			t.Fatal(err)
		}

		t.Run("the creator owns each team and keeps her personal account", func(t *testing.T) {
			for _, team := range []store.Account{first, second} {
				if team.Kind != store.Team || team.Owner != "ann" || team.ID == personal.ID {
					t.Errorf("team = %+v, want a new team owned by ann", team)
				}
				if !r.Can(ctx, "ann", team.ID, rbac.SettingsManage) {
					t.Errorf("ann may not manage %s", team.Name)
				}
				ev := rostertest.Events(t, s, team.ID)
				if len(ev) != 1 || ev[0].Action != store.EventAccountCreated || ev[0].Actor != "ann" || !strings.Contains(ev[0].After, `"kind":"team"`) ||
					!strings.Contains(ev[0].After, `"name":"`+team.Name+`"`) {
					t.Errorf("events of %s = %+v, want one account.created of kind team by ann", team.Name, ev)
				}
			}
			entries, _, err := r.Teams.Accounts(ctx, "ann", store.Page{})
			if err != nil || len(entries) != 3 || entries[0].Account.ID != personal.ID || !entries[0].Active {
				t.Errorf("accounts = %+v, %v; want the personal account first and active, then both teams", entries, err)
			}
		})
		t.Run("a created team works like a converted one", func(t *testing.T) {
			rostertest.User(t, r, "ben")
			if _, err := r.Teams.AddMember(ctx, "ann", first.ID, "ben", rbac.RunpodDev); err != nil {
				t.Fatal(err)
			}
			if !r.Can(ctx, "ben", first.ID, rbac.PodsManage) || r.Can(ctx, "ben", second.ID, rbac.PodsConnect) {
				t.Error("ben's rights do not follow his one membership")
			}
			if err := r.Teams.Leave(ctx, "ann", first.ID); !errors.Is(err, teams.ErrLastOwner) {
				t.Errorf("the owner leaving her created team = %v, want ErrLastOwner", err)
			}
			if _, err := r.Teams.DeleteTeam(ctx, "ben", first.ID); !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("DeleteTeam by a dev = %v, want ErrDenied", err)
			}
		})
		t.Run("bad input is refused and creates nothing", func(t *testing.T) {
			rev, events := rostertest.Writes(t, s)
			for _, tc := range []struct {
				actor, name string
				want        error
			}{
				{"ann", "", store.ErrInvalid},
				{"ann", strings.Repeat("x", store.MaxNameLen+1), store.ErrInvalid},
				{"ann", "bad\x00name", store.ErrInvalid},
				{"", "Gamma", store.ErrInvalid},
				{"nobody", "Gamma", store.ErrNotFound},
			} {
				if _, err := r.Teams.CreateTeam(ctx, tc.actor, tc.name); !errors.Is(err, tc.want) {
					t.Errorf("CreateTeam(%q, %q) = %v, want %v", tc.actor, tc.name, err, tc.want)
				}
			}
			if rev2, events2 := rostertest.Writes(t, s); rev2 != rev || events2 != events {
				t.Errorf("refused calls wrote: revision %d -> %d, events %d -> %d", rev, rev2, events, events2)
			}
		})
	})
}

package roster_test

import (
	"context"
	"testing"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
)

func TestInMemoryView(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		t.Run("a second roster on the same store sees changes after Sync", func(t *testing.T) {
			r1, s := newRoster(t, b, rbac.Runpod())
			acct := team(t, r1, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
			r2, err := roster.New(ctx, s, rbac.Runpod())
			if err != nil {
				t.Fatal(err)
			}
			if !r2.Can(ctx, "bob", acct.ID, rbac.PodsManage) {
				t.Fatal("a new roster does not see the stored membership")
			}
			if err := r1.Teams.RemoveMember(ctx, "alice", acct.ID, "bob"); err != nil {
				t.Fatal(err)
			}
			if err := r2.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if r2.Can(ctx, "bob", acct.ID, rbac.PodsManage) {
				t.Error("after Sync the second roster still allows the removed member")
			}
			if r1.Revision() != r2.Revision() {
				t.Errorf("revisions differ after Sync: %d and %d", r1.Revision(), r2.Revision())
			}
		})

		t.Run("a roster catches up on others' commits when it commits", func(t *testing.T) {
			r1, s := newRoster(t, b, rbac.Runpod())
			acct := team(t, r1, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
			r2, err := roster.New(ctx, s, rbac.Runpod())
			if err != nil {
				t.Fatal(err)
			}
			// r1 changes bob; r2 then makes a change of its own, which skips
			// a revision and so brings in r1's change too.
			if _, err := r1.Teams.ChangeRole(ctx, "alice", acct.ID, "bob", rbac.RunpodBilling); err != nil {
				t.Fatal(err)
			}
			user(t, r2, "carol")
			if r2.Can(ctx, "bob", acct.ID, rbac.PodsManage) || !r2.Can(ctx, "bob", acct.ID, rbac.BillingRead) {
				t.Error("r2 did not apply r1's role change when it caught up")
			}
		})

		t.Run("the view equals a fresh load after many changes", func(t *testing.T) {
			in := &inbox{}
			r1, s := newRoster(t, b, rbac.DigitalOcean(), roster.WithNotifier(in))
			acct := team(t, r1, "olive", map[string]rbac.Role{"a": rbac.DigitalOceanMember, "b": rbac.DigitalOceanBiller, "c": rbac.DigitalOceanModifier})
			other := team(t, r1, "oscar", map[string]rbac.Role{"a": rbac.DigitalOceanResourceViewer})
			steps := []func() error{
				func() error { makeTop(t, r1, in, "olive", acct.ID, "a"); return nil },
				func() error {
					tr, err := r1.Teams.TransferOwnership(ctx, "olive", acct.ID, "a")
					if err != nil {
						return err
					}
					if _, err := r1.Teams.ConfirmTransfer(ctx, "olive", tr.ID, in.last(t, "olive").Token); err != nil {
						return err
					}
					_, err = r1.Teams.AcceptTransfer(ctx, "a", tr.ID, in.last(t, "a").Token)
					return err
				},
				func() error { return r1.Teams.Leave(ctx, "olive", acct.ID) },
				func() error { return r1.Teams.RemoveMember(ctx, "a", acct.ID, "b") },
				func() error {
					_, err := r1.Teams.AddMember(ctx, "oscar", other.ID, "c", rbac.DigitalOceanBiller)
					return err
				},
				func() error { _, err := r1.Teams.DeleteTeam(ctx, "a", acct.ID); return err },
			}
			for i, step := range steps {
				if err := step(); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
			}
			fresh, err := roster.New(ctx, s, rbac.DigitalOcean())
			if err != nil {
				t.Fatal(err)
			}
			if fresh.Revision() != r1.Revision() {
				t.Errorf("fresh load at revision %d, live view at %d", fresh.Revision(), r1.Revision())
			}
			for _, u := range []string{"olive", "oscar", "a", "b", "c"} {
				for _, id := range []string{acct.ID, other.ID} {
					for _, a := range rbac.DigitalOcean().Actions() {
						if got, want := r1.Can(ctx, u, id, a), fresh.Can(ctx, u, id, a); got != want {
							t.Errorf("Can(%s, %s, %s): live view %v, fresh load %v", u, id, a, got, want)
						}
					}
				}
			}
		})
	})

	t.Run("reopening a SQLite file restores every answer", func(t *testing.T) {
		path := testdb.SQLitePath(t)
		r, err := roster.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		acct := team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodBilling})
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		r, err = roster.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if !r.Can(ctx, "bob", acct.ID, rbac.BillingManage) || r.Can(ctx, "bob", acct.ID, rbac.PodsConnect) {
			t.Error("reopened roster answers differently")
		}
	})
}

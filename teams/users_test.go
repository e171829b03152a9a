package teams_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teams"
)

func TestUpsertUser(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		r, s := rostertest.Open(t, b, rbac.DigitalOcean())
		u := store.User{ID: "ada", Email: "ada@example.com", Name: "Ada", SignIn: store.SignInEmail}

		t.Run("a new user is created with a personal account", func(t *testing.T) {
			got, created, err := r.Teams.UpsertUser(ctx, u)
			if err != nil || !created {
				t.Fatalf("UpsertUser = %+v, %v, %v; want created", got, created, err)
			}
			active, err := r.Teams.Active(ctx, "ada")
			if err != nil || active.Kind != store.Personal || active.Owner != "ada" || got.ActiveAccount != active.ID {
				t.Fatalf("active account = %+v, %v; want ada's personal account %s", active, err, got.ActiveAccount)
			}
			if !r.Can(ctx, "ada", active.ID, rbac.SettingsManage) {
				t.Error("ada may not manage her own personal account")
			}
		})
		t.Run("the same user again writes nothing", func(t *testing.T) {
			rev, events := rostertest.Writes(t, s)
			got, created, err := r.Teams.UpsertUser(ctx, u)
			if err != nil || created || got.Name != "Ada" {
				t.Fatalf("UpsertUser again = %+v, %v, %v; want the stored user, not created", got, created, err)
			}
			if rev2, events2 := rostertest.Writes(t, s); rev2 != rev || events2 != events {
				t.Errorf("an unchanged upsert wrote: revision %d -> %d, events %d -> %d", rev, rev2, events, events2)
			}
		})
		t.Run("changed fields are updated and the active account kept", func(t *testing.T) {
			before, _ := r.Teams.User(ctx, "ada")
			changed := u
			changed.Name, changed.Email, changed.SignIn = "Ada L.", "ada@lovelace.example", store.SignInGoogle
			got, created, err := r.Teams.UpsertUser(ctx, changed)
			if err != nil || created {
				t.Fatalf("UpsertUser = %+v, %v, %v", got, created, err)
			}
			stored, err := r.Teams.User(ctx, "ada")
			if err != nil || stored.Name != "Ada L." || stored.Email != "ada@lovelace.example" || stored.SignIn != store.SignInGoogle ||
				stored.ActiveAccount != before.ActiveAccount || !stored.CreatedAt.Equal(before.CreatedAt) {
				t.Errorf("stored user = %+v, %v; want the new fields, the old active account and creation time", stored, err)
			}
		})
		t.Run("malformed input and unknown sign-in methods are refused", func(t *testing.T) {
			for _, bad := range []store.User{
				{ID: "", Email: "x@example.com", Name: "X", SignIn: store.SignInEmail},
				{ID: "x", Email: "not an address", Name: "X", SignIn: store.SignInEmail},
				{ID: "x", Email: "x@example.com", Name: "X", SignIn: "saml"},
				{ID: "x", Email: "x@example.com", Name: "X", SignIn: "Not A Method"},
			} {
				if _, _, err := r.Teams.UpsertUser(ctx, bad); !errors.Is(err, store.ErrInvalid) {
					t.Errorf("UpsertUser(%+v) = %v, want ErrInvalid", bad, err)
				}
			}
			if _, err := r.Teams.User(ctx, "x"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a refused upsert created the user: %v", err)
			}
		})
		t.Run("concurrent upserts of a new user create it once", func(t *testing.T) {
			const n = 8
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				created int
				errs    []error
			)
			for i := range n {
				wg.Go(func() {
					v := store.User{ID: "race", Email: "race@example.com", Name: fmt.Sprintf("Racer %d", i), SignIn: store.SignInEmail}
					_, c, err := r.Teams.UpsertUser(ctx, v)
					mu.Lock()
					defer mu.Unlock()
					if c {
						created++
					}
					if err != nil {
						errs = append(errs, err)
					}
				})
			}
			wg.Wait()
			if created != 1 || len(errs) > 0 {
				t.Errorf("%d of %d upserts created the user, errors %v; want exactly one and none", created, n, errs)
			}
			accts, _, err := r.Teams.Accounts(ctx, "race", store.Page{})
			if err != nil || len(accts) != 1 {
				t.Errorf("race has accounts %+v, %v; want one personal account", accts, err)
			}
		})
	})
}

func TestUpdateUser(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		r, _ := rostertest.Open(t, b, rbac.Runpod())
		rostertest.User(t, r, "bo")
		got, err := r.Teams.UpdateUser(ctx, store.User{ID: "bo", Email: "bo@new.example", Name: "Bo", SignIn: store.SignInGitHub})
		if err != nil || got.Email != "bo@new.example" || got.SignIn != store.SignInGitHub || got.ActiveAccount == "" {
			t.Fatalf("UpdateUser = %+v, %v", got, err)
		}
		if _, err := r.Teams.UpdateUser(ctx, store.User{ID: "nobody", Email: "n@example.com", Name: "N", SignIn: store.SignInEmail}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UpdateUser of an unknown user = %v, want ErrNotFound", err)
		}
		if _, err := r.Teams.User(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UpdateUser created an unknown user: %v", err)
		}
	})
}

func TestUsersByEmail(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		r, _ := rostertest.Open(t, b, rbac.Runpod())
		for _, id := range []string{"b2", "a1"} {
			if _, _, err := r.Teams.UpsertUser(ctx, store.User{ID: id, Email: "Shared@Example.com", Name: id, SignIn: store.SignInEmail}); err != nil {
				t.Fatal(err)
			}
		}
		rostertest.User(t, r, "other")
		got, err := r.Teams.UsersByEmail(ctx, "shared@example.COM")
		if err != nil || len(got) != 2 || got[0].ID != "a1" || got[1].ID != "b2" {
			t.Errorf("UsersByEmail = %+v, %v; want a1 and b2, in ID order", got, err)
		}
		if got, err := r.Teams.UsersByEmail(ctx, "none@example.com"); err != nil || len(got) != 0 {
			t.Errorf("UsersByEmail of an unused address = %+v, %v; want none", got, err)
		}
		if _, err := r.Teams.UsersByEmail(ctx, "not an address"); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("UsersByEmail of a malformed address = %v, want ErrInvalid", err)
		}
	})
}

func TestImportUsers(t *testing.T) {
	ctx := context.Background()
	table := func(n int) []store.User {
		users := make([]store.User, n)
		for i := range users {
			users[i] = store.User{ID: fmt.Sprintf("u%05d", i), Email: fmt.Sprintf("u%05d@example.com", i), Name: fmt.Sprintf("User %d", i), SignIn: store.SignInEmail2FA}
		}
		return users
	}
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		r, _ := rostertest.Open(t, b, rbac.Runpod())

		t.Run("every user gets a personal account, in batches with progress", func(t *testing.T) {
			users := table(250)
			var progress []teams.ImportResult
			res, err := r.Teams.ImportUsers(ctx, users, teams.ImportBatch(100), teams.ImportProgress(func(p teams.ImportResult) {
				progress = append(progress, p)
			}))
			if err != nil {
				t.Fatal(err)
			}
			want := teams.ImportResult{Total: 250, Done: 250, Created: 250}
			if res != want {
				t.Errorf("result = %+v, want %+v", res, want)
			}
			if len(progress) != 3 || progress[0].Done != 100 || progress[1].Done != 200 || progress[2] != want {
				t.Errorf("progress = %+v, want after 100, 200 and 250", progress)
			}
			for _, u := range []store.User{users[0], users[249]} {
				acct, err := r.Teams.Active(ctx, u.ID)
				if err != nil || acct.Owner != u.ID || !r.Can(ctx, u.ID, acct.ID, rbac.BillingManage) {
					t.Errorf("%s's active account = %+v, %v; want their personal account, with the top role", u.ID, acct, err)
				}
			}
		})
		t.Run("importing again updates what changed and nothing else", func(t *testing.T) {
			users := table(250)
			users[7].Name = "Renamed"
			users = append(users, store.User{ID: "late", Email: "late@example.com", Name: "Late", SignIn: store.SignInEmail})
			res, err := r.Teams.ImportUsers(ctx, users)
			if want := (teams.ImportResult{Total: 251, Done: 251, Created: 1, Updated: 1, Unchanged: 249}); err != nil || res != want {
				t.Errorf("result = %+v, %v; want %+v", res, err, want)
			}
		})
		t.Run("a refused row names itself and its batch writes nothing", func(t *testing.T) {
			users := table(5)
			for i := range users {
				users[i].ID = "new-" + users[i].ID
			}
			users[3].Email = "broken"
			res, err := r.Teams.ImportUsers(ctx, users, teams.ImportBatch(2))
			var ie *teams.ImportError
			if !errors.As(err, &ie) || ie.Row != 3 || ie.UserID != users[3].ID || !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("ImportUsers = %+v, %v; want an ImportError for row 3 wrapping ErrInvalid", res, err)
			}
			// Every row is checked before anything is written.
			if res.Done != 0 {
				t.Errorf("result = %+v, want nothing done", res)
			}
			if _, err := r.Teams.User(ctx, users[0].ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a refused import wrote row 0: %v", err)
			}
		})
		t.Run("a user ID given twice is refused", func(t *testing.T) {
			users := table(3)
			users[2].ID = users[0].ID
			_, err := r.Teams.ImportUsers(ctx, users)
			var ie *teams.ImportError
			if !errors.As(err, &ie) || ie.Row != 2 || !errors.Is(err, store.ErrInvalid) {
				t.Errorf("ImportUsers with a repeated ID = %v, want an ImportError for row 2 wrapping ErrInvalid", err)
			}
		})
		t.Run("a failing batch leaves the batches before it committed", func(t *testing.T) {
			r2, _ := rostertest.Open(t, b, rbac.Runpod())
			users := table(5)
			// The second batch fails as it is written: its context ends.
			ctx2, cancel := context.WithCancel(ctx)
			_, err := r2.Teams.ImportUsers(ctx2, users, teams.ImportBatch(2), teams.ImportProgress(func(p teams.ImportResult) {
				if p.Done == 2 {
					cancel()
				}
			}))
			var ie *teams.ImportError
			if !errors.As(err, &ie) || ie.Row < 2 || ie.Row > 3 {
				t.Fatalf("ImportUsers cancelled after the first batch = %v, want an ImportError in the second batch", err)
			}
			for i, u := range users {
				_, err := r2.Teams.User(ctx, u.ID)
				if (i < 2) != (err == nil) {
					t.Errorf("row %d after the cancelled import: %v", i, err)
				}
			}
		})
		t.Run("bad options are refused", func(t *testing.T) {
			for _, n := range []int{0, -1, teams.MaxImportBatch + 1} {
				if _, err := r.Teams.ImportUsers(ctx, table(1), teams.ImportBatch(n)); !errors.Is(err, store.ErrInvalid) {
					t.Errorf("ImportBatch(%d): %v, want ErrInvalid", n, err)
				}
			}
		})
		t.Run("batches of the smallest and largest size", func(t *testing.T) {
			for _, n := range []int{1, teams.MaxImportBatch} {
				users := table(3)
				for i := range users {
					users[i].ID = fmt.Sprintf("b%d-%s", n, users[i].ID)
				}
				var done []int
				res, err := r.Teams.ImportUsers(ctx, users, teams.ImportBatch(n), teams.ImportProgress(func(p teams.ImportResult) {
					done = append(done, p.Done)
				}))
				want := []int{3}
				if n == 1 {
					want = []int{1, 2, 3}
				}
				if err != nil || res.Created != 3 || !slices.Equal(done, want) {
					t.Errorf("ImportBatch(%d) of 3 users = %+v, %v, progress after %v; want 3 created, progress after %v", n, res, err, done, want)
				}
			}
		})
		t.Run("a row that fails as it is written names itself", func(t *testing.T) {
			f := &rostertest.FaultStore{Store: b.Store(t)}
			r2 := rostertest.New(t, f, rbac.Runpod())
			// The nth write fails, for every n until the import
			// succeeds: the row named moves from the first to the last.
			last := -1
			for n := 1; ; n++ {
				users := table(3)
				for i := range users {
					users[i].ID = fmt.Sprintf("f%d-%s", n, users[i].ID)
				}
				f.Arm(n, nil)
				_, err := r2.Teams.ImportUsers(ctx, users, teams.ImportBatch(3))
				f.Disarm()
				if err == nil {
					break
				}
				var ie *teams.ImportError
				if !errors.As(err, &ie) || !errors.Is(err, rostertest.ErrFault) || ie.Row < max(last, 0) || ie.Row > 2 || ie.UserID != users[ie.Row].ID {
					t.Fatalf("write %d failing: %v; want an ImportError for a row from %d to 2, wrapping ErrFault", n, err, max(last, 0))
				}
				last = ie.Row
			}
			if last != 2 {
				t.Errorf("the last failing write was in row %d, want 2", last)
			}
		})
	})
}

func TestCustomSignIns(t *testing.T) {
	ctx := context.Background()
	p, err := rbac.DigitalOcean().WithSignIn("saml", true)
	if err != nil {
		t.Fatal(err)
	}
	if p, err = p.WithSignIn(store.SignInGitHub, false); err != nil {
		t.Fatal(err)
	}
	if _, err := rbac.Runpod().WithSignIn("Bad Name", true); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("WithSignIn with a malformed name = %v, want ErrInvalid", err)
	}
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		r, _ := rostertest.Open(t, b, p)
		if _, _, err := r.Teams.UpsertUser(ctx, store.User{ID: "sam", Email: "sam@example.com", Name: "Sam", SignIn: "saml"}); err != nil {
			t.Fatalf("a method the policy accepts is refused: %v", err)
		}
		if _, _, err := r.Teams.UpsertUser(ctx, store.User{ID: "pat", Email: "pat@example.com", Name: "Pat", SignIn: "passkey"}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("a method the policy does not accept: %v, want ErrInvalid", err)
		}
		team := rostertest.Team(t, r, "olive", nil)
		if _, err := r.Teams.UpdateUser(ctx, store.User{ID: "olive", Email: "olive@example.com", Name: "olive", SignIn: "saml"}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Teams.SetSecureSignIn(ctx, "olive", team.ID, true); err != nil {
			t.Fatal(err)
		}
		for id, method := range map[string]store.SignIn{"sam": "saml", "gil": store.SignInGitHub} {
			if _, _, err := r.Teams.UpsertUser(ctx, store.User{ID: id, Email: id + "@example.com", Name: id, SignIn: method}); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Teams.AddMember(ctx, "olive", team.ID, id, rbac.DigitalOceanMember); err != nil {
				t.Fatal(err)
			}
		}
		if !r.Can(ctx, "sam", team.ID, rbac.ResourcesCreate) {
			t.Error("a member signing in with saml, secure by the policy, is refused")
		}
		if err := r.Check(ctx, "gil", team.ID, rbac.ResourcesCreate); !errors.Is(err, rbac.ErrSecureSignIn) {
			t.Errorf("a member signing in with github, insecure by the policy: %v, want ErrSecureSignIn", err)
		}
	})
}

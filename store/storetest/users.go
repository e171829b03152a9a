package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/teamroster/roster/store"
)

func (s suite) users() []test {
	return []test{
		{"created user reads back equal", func(t *testing.T) {
			st := s.open(t)
			u := store.User{
				ID:            "u1",
				Email:         "ada@example.com",
				Name:          "Ada Lovelace",
				SignIn:        store.SignInGitHub,
				ActiveAccount: "acc1",
				CreatedAt:     at(0),
			}
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.CreateUser(ctx, u) })
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.User(ctx, "u1")
				if err != nil {
					return err
				}
				checkEqual(t, "user", u, got)
				return nil
			})
		}},
		{"create user twice returns ErrExists and keeps the first", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			other := newUser("u1")
			other.Name = "Someone Else"
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.CreateUser(ctx, other) })
			checkErr(t, "CreateUser of an existing ID", err, store.ErrExists)
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.User(ctx, "u1")
				if err != nil {
					return err
				}
				checkEqual(t, "user", newUser("u1"), got)
				return nil
			})
		}},
		{"unknown user returns ErrNotFound", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				_, err := tx.User(ctx, "nobody")
				checkErr(t, "User(nobody)", err, store.ErrNotFound)
				return nil
			})
		}},
		{"update user replaces email, name and sign-in and keeps CreatedAt", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			changed := store.User{
				ID:        "u1",
				Email:     "new@example.com",
				Name:      "New Name",
				SignIn:    store.SignInEmail2FA,
				CreatedAt: at(500), // ignored
			}
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateUser(ctx, changed) })
			want := changed
			want.CreatedAt = at(0)
			checkEqual(t, "user", want, readUser(t, st, "u1"))
		}},
		{"update user leaves the active account alone", func(t *testing.T) {
			st := s.open(t)
			u := newUser("u1")
			u.ActiveAccount = "team1"
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.CreateUser(ctx, u) })
			for _, active := range []string{"team7", ""} {
				changed := u
				changed.Name, changed.ActiveAccount = "Renamed "+active, active
				update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateUser(ctx, changed) })
				want := changed
				want.ActiveAccount = "team1"
				checkEqual(t, "user after UpdateUser with ActiveAccount "+active, want, readUser(t, st, "u1"))
			}
		}},
		{"set active account compares and sets", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1", "u2")
			for _, step := range []struct {
				from, to string
				want     bool
				active   string
			}{
				{"", "team1", true, "team1"},
				{"", "team2", false, "team1"},
				{"team2", "team3", false, "team1"},
				{"team1", "team2", true, "team2"},
				{"team2", "team2", true, "team2"},
				{"team2", "", true, ""},
			} {
				var set bool
				c := update(t, st, func(ctx context.Context, tx store.Tx) error {
					var err error
					set, err = tx.SetActiveAccount(ctx, "u1", step.from, step.to)
					return err
				})
				if set != step.want {
					t.Errorf("SetActiveAccount(u1, %q, %q) = %t, want %t", step.from, step.to, set, step.want)
				}
				if got := readUser(t, st, "u1").ActiveAccount; got != step.active {
					t.Errorf("after SetActiveAccount(u1, %q, %q) the active account is %q, want %q", step.from, step.to, got, step.active)
				}
				checkEqual(t, "commit of SetActiveAccount", store.Commit{}, c)
			}
			checkEqual(t, "the other user", newUser("u2"), readUser(t, st, "u2"))
		}},
		{"set active account sees the transaction's own writes", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				for i, step := range []struct{ from, to string }{{"", "team1"}, {"team1", "team2"}} {
					set, err := tx.SetActiveAccount(ctx, "u1", step.from, step.to)
					if err != nil {
						return err
					}
					if !set {
						t.Errorf("step %d: SetActiveAccount(u1, %q, %q) = false, want true", i, step.from, step.to)
					}
				}
				u, err := tx.User(ctx, "u1")
				if err != nil {
					return err
				}
				if u.ActiveAccount != "team2" {
					t.Errorf("User in the same transaction has active account %q, want team2", u.ActiveAccount)
				}
				return nil
			})
		}},
		{"set active account of an unknown user returns ErrNotFound", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			for _, from := range []string{"", "team1"} {
				err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error {
					_, err := tx.SetActiveAccount(ctx, "nobody", from, "team2")
					return err
				})
				checkErr(t, "SetActiveAccount(nobody, "+from+")", err, store.ErrNotFound)
			}
		}},
		{"set active account in View returns ErrInvalid", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				set, err := tx.SetActiveAccount(ctx, "u1", "", "team1")
				checkErr(t, "SetActiveAccount in View", err, store.ErrInvalid)
				if set {
					t.Errorf("SetActiveAccount in View reported it set the account")
				}
				return nil
			})
			checkEqual(t, "user", newUser("u1"), readUser(t, st, "u1"))
		}},
		{"users by email match case-insensitively, ordered by ID", func(t *testing.T) {
			st := s.open(t)
			users := []store.User{
				withEmail(newUser("u3"), "Ada@Example.com"),
				withEmail(newUser("u1"), "ada@example.com"),
				withEmail(newUser("u2"), "BOB@example.COM"),
				withEmail(newUser("u4"), "carol@example.com"),
				withEmail(newUser("u0"), "adam@example.com"),
			}
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				for _, u := range users {
					if err := tx.CreateUser(ctx, u); err != nil {
						return err
					}
				}
				return nil
			})
			byID := map[string]store.User{}
			for _, u := range users {
				byID[u.ID] = u
			}
			for _, tc := range []struct {
				emails []string
				want   []string
			}{
				{[]string{"ADA@example.COM", "bob@example.com", "nobody@example.com"}, []string{"u1", "u2", "u3"}},
				{[]string{"carol@example.com"}, []string{"u4"}},
				{[]string{"bob@example.com", "Bob@Example.com", "BOB@EXAMPLE.COM"}, []string{"u2"}},
				{[]string{"ada@example.co", "da@example.com", "%@example.com", "ada@example.com "}, nil},
			} {
				view(t, st, func(ctx context.Context, tx store.Tx) error {
					got, err := tx.UsersByEmail(ctx, tc.emails)
					if err != nil {
						return err
					}
					want := []store.User{}
					for _, id := range tc.want {
						want = append(want, byID[id])
					}
					if len(got) == 0 {
						got = []store.User{}
					}
					checkEqual(t, fmt.Sprintf("UsersByEmail(%q)", tc.emails), want, got)
					return nil
				})
			}
		}},
		{"users by email with no emails finds none", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				for _, emails := range [][]string{nil, {}} {
					got, err := tx.UsersByEmail(ctx, emails)
					if err != nil {
						return err
					}
					if len(got) != 0 {
						t.Errorf("UsersByEmail(%#v) = %+v, want none", emails, got)
					}
				}
				return nil
			})
		}},
		{"users by email takes up to MaxEmailsPerQuery addresses", func(t *testing.T) {
			st := s.open(t)
			// The matching addresses are the first, one past the middle and
			// the last of the list, in whatever order a Store sorts them,
			// and their users' IDs run the other way.
			emails := make([]string, store.MaxEmailsPerQuery)
			for i := range emails {
				emails[i] = fmt.Sprintf("user%04d@example.com", i)
			}
			mid, last := len(emails)/2+1, len(emails)-1
			users := []store.User{
				withEmail(newUser("c"), emails[0]),
				withEmail(newUser("b"), emails[mid]),
				withEmail(newUser("a"), emails[last]),
			}
			emails[0], emails[last] = strings.ToUpper(emails[0]), strings.ToUpper(emails[last])
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				for _, u := range users {
					if err := tx.CreateUser(ctx, u); err != nil {
						return err
					}
				}
				return nil
			})
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.UsersByEmail(ctx, emails)
				if err != nil {
					return err
				}
				checkEqual(t, "UsersByEmail of the longest list", []store.User{users[2], users[1], users[0]}, got)
				return nil
			})
		}},
		{"users by email over MaxEmailsPerQuery returns ErrInvalid", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			emails := make([]string, store.MaxEmailsPerQuery+1)
			for i := range emails {
				emails[i] = "u1@example.com"
			}
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.UsersByEmail(ctx, emails)
				checkErr(t, "UsersByEmail over the limit", err, store.ErrInvalid)
				if len(got) != 0 {
					t.Errorf("UsersByEmail over the limit returned %+v", got)
				}
				return nil
			})
		}},
		{"delete user removes the user and the records of the invites they used", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1", "u2")
			seedAccounts(t, st, "team1")
			inv := newInvite("inv1", "team1", at(1))
			inv.MaxUses = 2
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				if err := tx.CreateInvite(ctx, inv); err != nil {
					return err
				}
				for _, u := range []string{"u1", "u2"} {
					if err := tx.CreateInviteUse(ctx, store.InviteUse{InviteID: "inv1", UserID: u, UsedAt: at(2)}); err != nil {
						return err
					}
				}
				return nil
			})
			c := update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.DeleteUser(ctx, "u1") })
			if len(c.Changes) != 0 {
				t.Errorf("DeleteUser recorded changes %+v, want none", c.Changes)
			}
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				_, err := tx.User(ctx, "u1")
				checkErr(t, "User(u1) after DeleteUser", err, store.ErrNotFound)
				uses, err := tx.InviteUses(ctx, "inv1")
				if err != nil {
					return err
				}
				checkEqual(t, "uses of inv1", []store.InviteUse{{InviteID: "inv1", UserID: "u2", UsedAt: at(2)}}, uses)
				return nil
			})
			again := newUser("u1")
			again.Email = "new@example.com"
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.CreateUser(ctx, again) })
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.User(ctx, "u1")
				checkEqual(t, "the user created again", again, got)
				return err
			})
		}},
		{"delete a user who is still a member returns ErrPrecondition and keeps them", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			seedAccounts(t, st, "team1")
			seedMember(t, st, "team1", "u1", "member", at(1))
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.DeleteUser(ctx, "u1") })
			checkErr(t, "DeleteUser of a member", err, store.ErrPrecondition)
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				_, err := tx.User(ctx, "u1")
				return err
			})
		}},
		{"delete unknown user returns ErrNotFound, and in View ErrInvalid", func(t *testing.T) {
			st := s.open(t)
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.DeleteUser(ctx, "nobody") })
			checkErr(t, "DeleteUser(nobody)", err, store.ErrNotFound)
			seedUsers(t, st, "u1")
			err = st.View(t.Context(), func(tx store.Tx) error { return tx.DeleteUser(t.Context(), "u1") })
			checkErr(t, "DeleteUser in View", err, store.ErrInvalid)
		}},
		{"update unknown user returns ErrNotFound", func(t *testing.T) {
			st := s.open(t)
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateUser(ctx, newUser("nobody")) })
			checkErr(t, "UpdateUser(nobody)", err, store.ErrNotFound)
		}},
		{"create user without ID returns ErrInvalid", func(t *testing.T) {
			st := s.open(t)
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.CreateUser(ctx, newUser("")) })
			checkErr(t, "CreateUser with empty ID", err, store.ErrInvalid)
		}},
		{"times come back in UTC", func(t *testing.T) {
			st := s.open(t)
			u := newUser("u1")
			u.CreatedAt = time.Date(2024, 7, 1, 18, 30, 0, 0, time.FixedZone("UTC+5", 5*3600))
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.CreateUser(ctx, u) })
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.User(ctx, "u1")
				if err != nil {
					return err
				}
				if got.CreatedAt.Location() != time.UTC || !got.CreatedAt.Equal(u.CreatedAt) {
					t.Errorf("CreatedAt = %v, want %v in UTC", got.CreatedAt, u.CreatedAt.UTC())
				}
				return nil
			})
		}},
		{"times keep microseconds and zero stays zero", func(t *testing.T) {
			st := s.open(t)
			u1 := newUser("u1")
			u1.CreatedAt = time.Date(2024, 7, 1, 18, 30, 0, 123456000, time.UTC)
			u2 := newUser("u2")
			u2.CreatedAt = time.Time{}
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				if err := tx.CreateUser(ctx, u1); err != nil {
					return err
				}
				return tx.CreateUser(ctx, u2)
			})
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.User(ctx, "u1")
				if err != nil {
					return err
				}
				if !got.CreatedAt.Equal(u1.CreatedAt) {
					t.Errorf("CreatedAt = %v, want exactly %v", got.CreatedAt, u1.CreatedAt)
				}
				got, err = tx.User(ctx, "u2")
				if err != nil {
					return err
				}
				if !got.CreatedAt.IsZero() {
					t.Errorf("zero CreatedAt came back as %v", got.CreatedAt)
				}
				return nil
			})
		}},
	}
}

// readUser returns the user with the given ID, read in a View.
func readUser(t testing.TB, s store.Store, id string) store.User {
	t.Helper()
	var u store.User
	view(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		u, err = tx.User(ctx, id)
		return err
	})
	return u
}

// withEmail returns u with the given email.
func withEmail(u store.User, email string) store.User {
	u.Email = email
	return u
}

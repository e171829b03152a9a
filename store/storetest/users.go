package storetest

import (
	"context"
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
		{"update user replaces fields and keeps CreatedAt", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			changed := store.User{
				ID:            "u1",
				Email:         "new@example.com",
				Name:          "New Name",
				SignIn:        store.SignInEmail2FA,
				ActiveAccount: "team7",
				CreatedAt:     at(500), // ignored
			}
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateUser(ctx, changed) })
			want := changed
			want.CreatedAt = at(0)
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.User(ctx, "u1")
				if err != nil {
					return err
				}
				checkEqual(t, "user", want, got)
				return nil
			})
			// And back to an empty ActiveAccount.
			changed.ActiveAccount = ""
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateUser(ctx, changed) })
			want.ActiveAccount = ""
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.User(ctx, "u1")
				if err != nil {
					return err
				}
				checkEqual(t, "user", want, got)
				return nil
			})
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

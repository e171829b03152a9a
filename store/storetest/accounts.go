package storetest

import (
	"context"
	"testing"

	"github.com/teamroster/roster/store"
)

func (s suite) accounts() []test {
	return []test{
		{"created accounts read back equal", func(t *testing.T) {
			st := s.open(t)
			team := newAccount("team1", "ada")
			personal := store.Account{ID: "pers1", Kind: store.Personal, Owner: "ada", CreatedAt: at(2), UpdatedAt: at(2)}
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				if err := tx.CreateAccount(ctx, team); err != nil {
					return err
				}
				return tx.CreateAccount(ctx, personal)
			})
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				for _, want := range []store.Account{team, personal} {
					got, err := tx.Account(ctx, want.ID)
					if err != nil {
						return err
					}
					checkEqual(t, "account "+want.ID, want, got)
				}
				return nil
			})
		}},
		{"create account twice returns ErrExists and keeps the first", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			other := newAccount("team1", "someone")
			other.Name = "Other"
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.CreateAccount(ctx, other) })
			checkErr(t, "CreateAccount of an existing ID", err, store.ErrExists)
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.Account(ctx, "team1")
				if err != nil {
					return err
				}
				checkEqual(t, "account", newAccount("team1", "owner"), got)
				return nil
			})
		}},
		{"unknown account returns ErrNotFound", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				_, err := tx.Account(ctx, "nope")
				checkErr(t, "Account(nope)", err, store.ErrNotFound)
				return nil
			})
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error {
				_, err := tx.LockAccount(ctx, "nope")
				return err
			})
			checkErr(t, "LockAccount(nope)", err, store.ErrNotFound)
		}},
		{"lock account returns the account", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.LockAccount(ctx, "team1")
				if err != nil {
					return err
				}
				checkEqual(t, "locked account", newAccount("team1", "owner"), got)
				return nil
			})
		}},
		{"update account replaces fields and keeps CreatedAt", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			changed := store.Account{ID: "team1", Kind: store.Personal, Name: "", Owner: "bob", CreatedAt: at(100), UpdatedAt: at(200)}
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateAccount(ctx, changed) })
			want := changed
			want.CreatedAt = at(0)
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.Account(ctx, "team1")
				if err != nil {
					return err
				}
				checkEqual(t, "account", want, got)
				return nil
			})
		}},
		{"update unknown account returns ErrNotFound", func(t *testing.T) {
			st := s.open(t)
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error {
				return tx.UpdateAccount(ctx, newAccount("nope", "owner"))
			})
			checkErr(t, "UpdateAccount(nope)", err, store.ErrNotFound)
		}},
		{"create account without ID returns ErrInvalid", func(t *testing.T) {
			st := s.open(t)
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error {
				return tx.CreateAccount(ctx, newAccount("", "owner"))
			})
			checkErr(t, "CreateAccount with empty ID", err, store.ErrInvalid)
		}},
	}
}

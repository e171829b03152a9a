package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/teamroster/roster/store"
)

func (s suite) members() []test {
	return []test{
		{"created member reads back equal", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			seedAccounts(t, st, "team1")
			m := seedMember(t, st, "team1", "u1", "admin", at(3))
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.Member(ctx, "team1", "u1")
				if err != nil {
					return err
				}
				checkEqual(t, "member", m, got)
				return nil
			})
		}},
		{"create member twice returns ErrExists and keeps the first", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			seedAccounts(t, st, "team1")
			m := seedMember(t, st, "team1", "u1", "admin", at(3))
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error {
				return tx.CreateMember(ctx, store.Member{AccountID: "team1", UserID: "u1", Role: "basic", JoinedAt: at(9)})
			})
			checkErr(t, "CreateMember of an existing membership", err, store.ErrExists)
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.Member(ctx, "team1", "u1")
				if err != nil {
					return err
				}
				checkEqual(t, "member", m, got)
				return nil
			})
		}},
		{"create member of unknown account or user returns ErrNotFound", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			seedAccounts(t, st, "team1")
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error {
				return tx.CreateMember(ctx, store.Member{AccountID: "nope", UserID: "u1", Role: "admin", JoinedAt: at(1)})
			})
			checkErr(t, "CreateMember in an unknown account", err, store.ErrNotFound)
			err = tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error {
				return tx.CreateMember(ctx, store.Member{AccountID: "team1", UserID: "nobody", Role: "admin", JoinedAt: at(1)})
			})
			checkErr(t, "CreateMember of an unknown user", err, store.ErrNotFound)
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				ms, err := tx.Members(ctx, "team1", store.Range{})
				if err != nil {
					return err
				}
				if len(ms) != 0 {
					t.Errorf("Members after failed creates = %+v, want none", ms)
				}
				return nil
			})
		}},
		{"create member without account or user ID returns ErrInvalid", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			seedAccounts(t, st, "team1")
			for _, m := range []store.Member{
				{AccountID: "", UserID: "u1", Role: "admin"},
				{AccountID: "team1", UserID: "", Role: "admin"},
			} {
				err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.CreateMember(ctx, m) })
				checkErr(t, "CreateMember with an empty key", err, store.ErrInvalid)
			}
		}},
		{"unknown membership returns ErrNotFound", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1", "u2")
			seedAccounts(t, st, "team1")
			seedMember(t, st, "team1", "u1", "admin", at(1))
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				_, err := tx.Member(ctx, "team1", "u2")
				checkErr(t, "Member(team1, u2)", err, store.ErrNotFound)
				return nil
			})
		}},
		{"update member changes the role and keeps JoinedAt", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			seedAccounts(t, st, "team1")
			seedMember(t, st, "team1", "u1", "admin", at(3))
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				return tx.UpdateMember(ctx, store.Member{AccountID: "team1", UserID: "u1", Role: "billing", JoinedAt: at(99)})
			})
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.Member(ctx, "team1", "u1")
				if err != nil {
					return err
				}
				checkEqual(t, "member", store.Member{AccountID: "team1", UserID: "u1", Role: "billing", JoinedAt: at(3)}, got)
				return nil
			})
		}},
		{"update unknown member returns ErrNotFound", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			seedAccounts(t, st, "team1")
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error {
				return tx.UpdateMember(ctx, store.Member{AccountID: "team1", UserID: "u1", Role: "admin"})
			})
			checkErr(t, "UpdateMember of a non-member", err, store.ErrNotFound)
		}},
		{"delete member removes the membership", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1", "u2")
			seedAccounts(t, st, "team1")
			seedMember(t, st, "team1", "u1", "admin", at(1))
			m2 := seedMember(t, st, "team1", "u2", "dev", at(2))
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.DeleteMember(ctx, "team1", "u1") })
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				_, err := tx.Member(ctx, "team1", "u1")
				checkErr(t, "Member after DeleteMember", err, store.ErrNotFound)
				ms, err := tx.Members(ctx, "team1", store.Range{})
				if err != nil {
					return err
				}
				checkEqual(t, "members", []store.Member{m2}, ms)
				return nil
			})
		}},
		{"delete unknown member returns ErrNotFound", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			seedAccounts(t, st, "team1")
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.DeleteMember(ctx, "team1", "u1") })
			checkErr(t, "DeleteMember of a non-member", err, store.ErrNotFound)
		}},
		{"members are ordered by JoinedAt then UserID", func(t *testing.T) {
			st := s.open(t)
			// Byte order: "Zed" < "amy" < "bob" < "émile".
			seedUsers(t, st, "bob", "amy", "Zed", "émile", "old")
			seedAccounts(t, st, "team1", "team2")
			mBob := seedMember(t, st, "team1", "bob", "admin", at(5))
			mAmy := seedMember(t, st, "team1", "amy", "dev", at(5))
			mZed := seedMember(t, st, "team1", "Zed", "dev", at(5))
			mEmile := seedMember(t, st, "team1", "émile", "dev", at(1))
			mOld := seedMember(t, st, "team1", "old", "dev", time.Time{}) // zero sorts first
			seedMember(t, st, "team2", "amy", "admin", at(0))
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.Members(ctx, "team1", store.Range{})
				if err != nil {
					return err
				}
				checkEqual(t, "Members(team1)", []store.Member{mOld, mEmile, mZed, mAmy, mBob}, got)
				return nil
			})
		}},
		{"memberships are ordered by JoinedAt then AccountID", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1", "u2")
			seedAccounts(t, st, "b", "a", "C", "d")
			mB := seedMember(t, st, "b", "u1", "admin", at(7))
			mA := seedMember(t, st, "a", "u1", "dev", at(7))
			mC := seedMember(t, st, "C", "u1", "dev", at(7))
			mD := seedMember(t, st, "d", "u1", "basic", at(2))
			seedMember(t, st, "a", "u2", "admin", at(0))
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.Memberships(ctx, "u1", store.Range{})
				if err != nil {
					return err
				}
				checkEqual(t, "Memberships(u1)", []store.Member{mD, mC, mA, mB}, got)
				return nil
			})
		}},
		{"unknown account has no members and unknown user no memberships", func(t *testing.T) {
			st := s.open(t)
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				ms, err := tx.Members(ctx, "nope", store.Range{})
				if err != nil {
					t.Errorf("Members(nope): %v", err)
				}
				if len(ms) != 0 {
					t.Errorf("Members(nope) = %+v, want none", ms)
				}
				ms, err = tx.Memberships(ctx, "nobody", store.Range{})
				if err != nil {
					t.Errorf("Memberships(nobody): %v", err)
				}
				if len(ms) != 0 {
					t.Errorf("Memberships(nobody) = %+v, want none", ms)
				}
				return nil
			})
		}},
	}
}

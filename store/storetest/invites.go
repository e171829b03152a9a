package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/teamroster/roster/store"
)

func (s suite) invites() []test {
	return []test{
		{"created invites read back equal by ID and by token", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			link := newInvite("inv1", "team1", at(1)) // no expiry: ExpiresAt zero
			email := store.Invite{
				ID:            "inv2",
				AccountID:     "team1",
				Kind:          store.InviteEmail,
				Role:          "billing",
				Email:         "bob@example.com",
				RequireSecure: true,
				TokenHash:     []byte{0x00, 0xff, 0x10, 0x80, 0x00},
				Status:        store.InvitePending,
				MaxUses:       5,
				Uses:          2,
				CreatedBy:     "ada",
				CreatedAt:     at(2),
				ExpiresAt:     at(2).Add(7 * 24 * time.Hour),
				UpdatedAt:     at(3),
			}
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				if err := tx.CreateInvite(ctx, link); err != nil {
					return err
				}
				return tx.CreateInvite(ctx, email)
			})
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				for _, want := range []store.Invite{link, email} {
					got, err := tx.Invite(ctx, want.ID)
					if err != nil {
						return err
					}
					checkEqual(t, "Invite("+want.ID+")", want, got)
					got, err = tx.InviteByToken(ctx, want.TokenHash)
					if err != nil {
						return err
					}
					checkEqual(t, "InviteByToken of "+want.ID, want, got)
				}
				got, err := tx.Invite(ctx, "inv1")
				if err != nil {
					return err
				}
				if !got.ExpiresAt.IsZero() {
					t.Errorf("zero ExpiresAt came back as %v", got.ExpiresAt)
				}
				return nil
			})
		}},
		{"unknown invite or token returns ErrNotFound", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				return tx.CreateInvite(ctx, newInvite("inv1", "team1", at(1)))
			})
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				_, err := tx.Invite(ctx, "nope")
				checkErr(t, "Invite(nope)", err, store.ErrNotFound)
				_, err = tx.InviteByToken(ctx, []byte("no such hash"))
				checkErr(t, "InviteByToken of an unknown hash", err, store.ErrNotFound)
				_, err = tx.InviteByToken(ctx, []byte("hash of inv"))
				checkErr(t, "InviteByToken of a prefix of a hash", err, store.ErrNotFound)
				return nil
			})
		}},
		{"create invite with a taken ID or token hash returns ErrExists", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			first := newInvite("inv1", "team1", at(1))
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.CreateInvite(ctx, first) })

			sameID := newInvite("inv1", "team1", at(2))
			sameID.TokenHash = []byte("another hash")
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.CreateInvite(ctx, sameID) })
			checkErr(t, "CreateInvite with a taken ID", err, store.ErrExists)

			sameToken := newInvite("inv2", "team1", at(2))
			sameToken.TokenHash = first.TokenHash
			err = tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.CreateInvite(ctx, sameToken) })
			checkErr(t, "CreateInvite with a taken token hash", err, store.ErrExists)

			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.Invites(ctx, "team1", store.Range{})
				if err != nil {
					return err
				}
				checkEqual(t, "invites", []store.Invite{first}, got)
				return nil
			})
		}},
		{"create invite in an unknown account returns ErrNotFound", func(t *testing.T) {
			st := s.open(t)
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error {
				return tx.CreateInvite(ctx, newInvite("inv1", "nope", at(1)))
			})
			checkErr(t, "CreateInvite in an unknown account", err, store.ErrNotFound)
		}},
		{"create invite without ID returns ErrInvalid", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error {
				return tx.CreateInvite(ctx, newInvite("", "team1", at(1)))
			})
			checkErr(t, "CreateInvite with empty ID", err, store.ErrInvalid)
		}},
		{"update invite replaces fields and keeps CreatedAt", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			inv := newInvite("inv1", "team1", at(1))
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.CreateInvite(ctx, inv) })
			changed := inv
			changed.Role = "admin"
			changed.Email = "x@example.com"
			changed.Kind = store.InviteEmail
			changed.RequireSecure = true
			changed.TokenHash = []byte("rotated")
			changed.Status = store.InviteAccepted
			changed.MaxUses = 3
			changed.Uses = 3
			changed.CreatedBy = "someone"
			changed.CreatedAt = at(50) // ignored
			changed.ExpiresAt = at(60)
			changed.UpdatedAt = at(70)
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateInvite(ctx, changed) })
			want := changed
			want.CreatedAt = at(1)
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.Invite(ctx, "inv1")
				if err != nil {
					return err
				}
				checkEqual(t, "invite", want, got)
				got, err = tx.InviteByToken(ctx, []byte("rotated"))
				if err != nil {
					return err
				}
				checkEqual(t, "invite by new token", want, got)
				_, err = tx.InviteByToken(ctx, inv.TokenHash)
				checkErr(t, "InviteByToken of the old hash", err, store.ErrNotFound)
				return nil
			})
			// Expiry can be cleared again.
			changed.ExpiresAt = time.Time{}
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateInvite(ctx, changed) })
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.Invite(ctx, "inv1")
				if err != nil {
					return err
				}
				if !got.ExpiresAt.IsZero() {
					t.Errorf("cleared ExpiresAt came back as %v", got.ExpiresAt)
				}
				return nil
			})
		}},
		{"update invite to a taken token hash returns ErrExists", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			inv1, inv2 := newInvite("inv1", "team1", at(1)), newInvite("inv2", "team1", at(2))
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				if err := tx.CreateInvite(ctx, inv1); err != nil {
					return err
				}
				return tx.CreateInvite(ctx, inv2)
			})
			changed := inv2
			changed.TokenHash = inv1.TokenHash
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateInvite(ctx, changed) })
			checkErr(t, "UpdateInvite to a taken hash", err, store.ErrExists)
			// Keeping its own hash is no conflict.
			changed = inv2
			changed.Uses = 1
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateInvite(ctx, changed) })
		}},
		{"update unknown invite returns ErrNotFound", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error {
				return tx.UpdateInvite(ctx, newInvite("nope", "team1", at(1)))
			})
			checkErr(t, "UpdateInvite(nope)", err, store.ErrNotFound)
		}},
		{"invites are listed newest first", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1", "team2")
			old := newInvite("old", "team1", at(1))
			a := newInvite("a", "team1", at(5))
			b := newInvite("b", "team1", at(5)) // same time as a: ID descending
			newest := newInvite("newest", "team1", at(9))
			other := newInvite("other", "team2", at(3))
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				for _, inv := range []store.Invite{a, newest, other, old, b} {
					if err := tx.CreateInvite(ctx, inv); err != nil {
						return err
					}
				}
				return nil
			})
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.Invites(ctx, "team1", store.Range{})
				if err != nil {
					return err
				}
				checkEqual(t, "Invites(team1)", []store.Invite{newest, b, a, old}, got)
				got, err = tx.Invites(ctx, "nope", store.Range{})
				if err != nil {
					return err
				}
				if len(got) != 0 {
					t.Errorf("Invites(nope) = %+v, want none", got)
				}
				return nil
			})
		}},
		{"a resend moves the token hash to a superseded record in one transaction", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			inv := newInvite("inv1", "team1", at(1))
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.CreateInvite(ctx, inv) })
			resent := inv
			resent.TokenHash = []byte("new hash")
			resent.ResentBy, resent.ResentAt, resent.UpdatedAt = "ada", at(5), at(5)
			old := inv
			old.ID, old.Status, old.SupersededBy, old.CreatedAt, old.UpdatedAt = "inv1-old", store.InviteSuperseded, "inv1", at(5), at(5)
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				if err := tx.UpdateInvite(ctx, resent); err != nil {
					return err
				}
				return tx.CreateInvite(ctx, old)
			})
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.InviteByToken(ctx, inv.TokenHash)
				if err != nil {
					return err
				}
				checkEqual(t, "record of the old token", old, got)
				got, err = tx.InviteByToken(ctx, []byte("new hash"))
				if err != nil {
					return err
				}
				checkEqual(t, "record of the new token", resent, got)
				all, err := tx.Invites(ctx, "team1", store.Range{})
				if err != nil {
					return err
				}
				checkEqual(t, "Invites(team1)", []store.Invite{old, resent}, all)
				return nil
			})
			// Clearing the resend fields round-trips too.
			cleared := resent
			cleared.ResentBy, cleared.ResentAt = "", time.Time{}
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateInvite(ctx, cleared) })
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.Invite(ctx, "inv1")
				if err != nil {
					return err
				}
				checkEqual(t, "invite with resend fields cleared", cleared, got)
				return nil
			})
		}},
		{"invite uses are recorded once per user and listed oldest first", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1", "u2", "u3")
			seedAccounts(t, st, "team1")
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				if err := tx.CreateInvite(ctx, newInvite("inv1", "team1", at(1))); err != nil {
					return err
				}
				return tx.CreateInvite(ctx, newInvite("inv2", "team1", at(1)))
			})
			uses := []store.InviteUse{
				{InviteID: "inv1", UserID: "u2", UsedAt: at(5)},
				{InviteID: "inv1", UserID: "u1", UsedAt: at(5)}, // same time as u2: user ID order
				{InviteID: "inv1", UserID: "u3", UsedAt: at(2)},
				{InviteID: "inv2", UserID: "u1"}, // zero time round-trips
			}
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				for _, u := range uses {
					if err := tx.CreateInviteUse(ctx, u); err != nil {
						return err
					}
				}
				// A refused write leaves the transaction usable.
				err := tx.CreateInviteUse(ctx, store.InviteUse{InviteID: "inv1", UserID: "u1", UsedAt: at(9)})
				checkErr(t, "second use by the same user", err, store.ErrExists)
				err = tx.CreateInviteUse(ctx, store.InviteUse{InviteID: "nope", UserID: "u1"})
				checkErr(t, "use of an unknown invite", err, store.ErrNotFound)
				err = tx.CreateInviteUse(ctx, store.InviteUse{InviteID: "inv1", UserID: "nobody"})
				checkErr(t, "use by an unknown user", err, store.ErrNotFound)
				err = tx.CreateInviteUse(ctx, store.InviteUse{InviteID: "", UserID: "u1"})
				checkErr(t, "use with an empty invite ID", err, store.ErrInvalid)
				err = tx.CreateInviteUse(ctx, store.InviteUse{InviteID: "inv1", UserID: ""})
				checkErr(t, "use with an empty user ID", err, store.ErrInvalid)
				_, err = tx.Invite(ctx, "inv1")
				return err
			})
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.InviteUses(ctx, "inv1")
				if err != nil {
					return err
				}
				checkEqual(t, "InviteUses(inv1)", []store.InviteUse{uses[2], uses[1], uses[0]}, got)
				got, err = tx.InviteUses(ctx, "inv2")
				if err != nil {
					return err
				}
				checkEqual(t, "InviteUses(inv2)", []store.InviteUse{uses[3]}, got)
				got, err = tx.InviteUses(ctx, "nope")
				if err != nil {
					return err
				}
				if len(got) != 0 {
					t.Errorf("InviteUses(nope) = %+v, want none", got)
				}
				return nil
			})
		}},
	}
}

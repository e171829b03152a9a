package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/teamroster/roster/store"
)

func (s suite) transfers() []test {
	return []test{
		{"created transfers of both kinds read back equal", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			tr := newTransfer("tr1", "team1", at(1)) // TransferRole
			bare := store.Transfer{ID: "tr2", AccountID: "team1", Kind: store.TransferAccount, From: "a", To: "b", Status: store.TransferCancelled}
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				if err := tx.CreateTransfer(ctx, tr); err != nil {
					return err
				}
				return tx.CreateTransfer(ctx, bare)
			})
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				for _, want := range []store.Transfer{tr, bare} {
					got, err := tx.Transfer(ctx, want.ID)
					if err != nil {
						return err
					}
					checkEqual(t, "Transfer("+want.ID+")", want, got)
				}
				return nil
			})
		}},
		{"create transfer twice returns ErrExists", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			tr := newTransfer("tr1", "team1", at(1))
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.CreateTransfer(ctx, tr) })
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error {
				return tx.CreateTransfer(ctx, newTransfer("tr1", "team1", at(5)))
			})
			checkErr(t, "CreateTransfer with a taken ID", err, store.ErrExists)
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.Transfer(ctx, "tr1")
				if err != nil {
					return err
				}
				checkEqual(t, "transfer", tr, got)
				return nil
			})
		}},
		{"create transfer in an unknown account returns ErrNotFound", func(t *testing.T) {
			st := s.open(t)
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error {
				return tx.CreateTransfer(ctx, newTransfer("tr1", "nope", at(1)))
			})
			checkErr(t, "CreateTransfer in an unknown account", err, store.ErrNotFound)
		}},
		{"create transfer without ID returns ErrInvalid", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error {
				return tx.CreateTransfer(ctx, newTransfer("", "team1", at(1)))
			})
			checkErr(t, "CreateTransfer with empty ID", err, store.ErrInvalid)
		}},
		{"unknown transfer returns ErrNotFound", func(t *testing.T) {
			st := s.open(t)
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				_, err := tx.Transfer(ctx, "nope")
				checkErr(t, "Transfer(nope)", err, store.ErrNotFound)
				return nil
			})
		}},
		{"update transfer replaces fields and keeps CreatedAt", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			tr := newTransfer("tr1", "team1", at(1))
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.CreateTransfer(ctx, tr) })
			changed := tr
			changed.Kind = store.TransferAccount
			changed.From = "x"
			changed.To = "y"
			changed.Status = store.TransferAwaitingAccept
			changed.ConfirmHash = nil
			changed.AcceptHash = []byte("new accept")
			changed.CreatedAt = at(40) // ignored
			changed.ExpiresAt = at(50)
			changed.UpdatedAt = at(60)
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateTransfer(ctx, changed) })
			want := changed
			want.CreatedAt = at(1)
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.Transfer(ctx, "tr1")
				if err != nil {
					return err
				}
				checkEqual(t, "transfer", want, got)
				return nil
			})
		}},
		{"transfer with an empty or unknown kind returns ErrInvalid and writes nothing", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			tr := newTransfer("tr1", "team1", at(1))
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.CreateTransfer(ctx, tr) })
			for _, kind := range []store.TransferKind{"", "owner", "Role", "account "} {
				bad := newTransfer("tr2", "team1", at(2))
				bad.Kind = kind
				changed := tr
				changed.Kind, changed.Status = kind, store.TransferDone
				// The refused writes change nothing, and the transaction
				// that made them commits.
				update(t, st, func(ctx context.Context, tx store.Tx) error {
					checkErr(t, fmt.Sprintf("CreateTransfer of kind %q", kind), tx.CreateTransfer(ctx, bad), store.ErrInvalid)
					checkErr(t, fmt.Sprintf("UpdateTransfer to kind %q", kind), tx.UpdateTransfer(ctx, changed), store.ErrInvalid)
					return nil
				})
				view(t, st, func(ctx context.Context, tx store.Tx) error {
					_, err := tx.Transfer(ctx, "tr2")
					checkErr(t, fmt.Sprintf("Transfer after a refused create of kind %q", kind), err, store.ErrNotFound)
					got, err := tx.Transfer(ctx, "tr1")
					if err != nil {
						return err
					}
					checkEqual(t, fmt.Sprintf("transfer after a refused update to kind %q", kind), tr, got)
					return nil
				})
			}
		}},
		{"update unknown transfer returns ErrNotFound", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error {
				return tx.UpdateTransfer(ctx, newTransfer("nope", "team1", at(1)))
			})
			checkErr(t, "UpdateTransfer(nope)", err, store.ErrNotFound)
		}},
		{"transfers are listed newest first", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1", "team2")
			old := newTransfer("old", "team1", at(1))
			a := newTransfer("a", "team1", at(4))
			b := newTransfer("b", "team1", at(4))
			newest := newTransfer("newest", "team1", at(8))
			other := newTransfer("other", "team2", at(2))
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				for _, tr := range []store.Transfer{a, other, newest, old, b} {
					if err := tx.CreateTransfer(ctx, tr); err != nil {
						return err
					}
				}
				return nil
			})
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.Transfers(ctx, "team1", store.Range{})
				if err != nil {
					return err
				}
				// Equal CreatedAt: the contract fixes no order; compare as a set there.
				if len(got) != 4 {
					t.Fatalf("Transfers(team1) returned %d transfers, want 4: %+v", len(got), got)
				}
				checkEqual(t, "newest transfer", newest, got[0])
				checkEqual(t, "oldest transfer", old, got[3])
				mid := map[string]store.Transfer{got[1].ID: got[1], got[2].ID: got[2]}
				checkEqual(t, "transfers at the same time", map[string]store.Transfer{"a": a, "b": b}, mid)
				got, err = tx.Transfers(ctx, "nope", store.Range{})
				if err != nil {
					return err
				}
				if len(got) != 0 {
					t.Errorf("Transfers(nope) = %+v, want none", got)
				}
				return nil
			})
		}},
	}
}

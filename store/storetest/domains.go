package storetest

import (
	"context"
	"testing"

	"github.com/teamroster/roster/store"
)

func (s suite) domains() []test {
	claim := func(name, account string) store.Domain {
		return store.Domain{Name: name, AccountID: account, Mode: store.DomainAutoJoin, Role: "dev",
			Challenge: "c-" + account, CreatedBy: "u", CreatedAt: at(1)}
	}
	return []test{
		{"claims round trip, ordered by name, and each sentinel", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1", "team2")
			a, b := claim("b.example", "team1"), claim("a.example", "team1")
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				if err := tx.CreateDomain(ctx, a); err != nil {
					return err
				}
				return tx.CreateDomain(ctx, b)
			})
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.Domain(ctx, "b.example", "team1")
				checkErr(t, "Domain", err, nil)
				checkEqual(t, "Domain", a, got)
				all, err := tx.Domains(ctx, "team1")
				checkErr(t, "Domains", err, nil)
				checkEqual(t, "Domains", []store.Domain{b, a}, all)
				none, err := tx.Domains(ctx, "team2")
				checkErr(t, "Domains of a team with none", err, nil)
				checkEqual(t, "Domains of a team with none", 0, len(none))
				_, err = tx.Domain(ctx, "b.example", "team2")
				checkErr(t, "Domain of another team", err, store.ErrNotFound)
				_, err = tx.VerifiedDomain(ctx, "b.example")
				checkErr(t, "VerifiedDomain before verification", err, store.ErrNotFound)
				return nil
			})
			for what, c := range map[string]struct {
				d    store.Domain
				want error
			}{
				"a claim made twice":    {a, store.ErrExists},
				"a claim of no account": {claim("c.example", "nowhere"), store.ErrNotFound},
				"a bad mode":            {store.Domain{Name: "c.example", AccountID: "team1", Mode: "often"}, store.ErrInvalid},
				"no name":               {store.Domain{AccountID: "team1", Mode: store.DomainSuggest}, store.ErrInvalid},
				"a verified claim": {func() store.Domain {
					d := claim("c.example", "team1")
					d.VerifiedAt = at(2)
					return d
				}(), store.ErrInvalid},
			} {
				err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.CreateDomain(ctx, c.d) })
				checkErr(t, what, err, c.want)
			}
		}},
		{"a domain is verified for one team at a time", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1", "team2")
			one, two := claim("x.example", "team1"), claim("x.example", "team2")
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				if err := tx.CreateDomain(ctx, one); err != nil {
					return err
				}
				return tx.CreateDomain(ctx, two)
			})
			one.VerifiedAt, one.Mode = at(2), store.DomainSuggest
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateDomain(ctx, one) })
			two.VerifiedAt = at(3)
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateDomain(ctx, two) })
			checkErr(t, "verifying a domain verified for another team", err, store.ErrExists)
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.VerifiedDomain(ctx, "x.example")
				checkErr(t, "VerifiedDomain", err, nil)
				checkEqual(t, "VerifiedDomain", one, got)
				stillPending, err := tx.Domain(ctx, "x.example", "team2")
				checkErr(t, "Domain", err, nil)
				checkEqual(t, "the refused claim", false, stillPending.Verified())
				return nil
			})
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.DeleteDomain(ctx, "x.example", "team1") })
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateDomain(ctx, two) })
			err = tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.DeleteDomain(ctx, "x.example", "team1") })
			checkErr(t, "deleting a claim twice", err, store.ErrNotFound)
			err = tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateDomain(ctx, claim("y.example", "team1")) })
			checkErr(t, "updating no claim", err, store.ErrNotFound)
		}},
		{"writes in a view are refused and a rolled-back claim leaves nothing", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			err := st.View(t.Context(), func(tx store.Tx) error { return tx.CreateDomain(t.Context(), claim("v.example", "team1")) })
			checkErr(t, "CreateDomain in a View", err, store.ErrInvalid)
			errRollback := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error {
				if err := tx.CreateDomain(ctx, claim("r.example", "team1")); err != nil {
					return err
				}
				return store.ErrConflict
			})
			checkErr(t, "the rolled-back Update", errRollback, store.ErrConflict)
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				_, err := tx.Domain(ctx, "r.example", "team1")
				checkErr(t, "a rolled-back claim", err, store.ErrNotFound)
				return nil
			})
		}},
	}
}

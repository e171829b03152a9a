package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/teamroster/roster/internal/overlap"
	"github.com/teamroster/roster/store"
)

// newDomain returns a pending claim fixture of the domain name by account,
// auto-joining users as "dev".
func newDomain(name, account string, created time.Time) store.Domain {
	return store.Domain{
		Name:      name,
		AccountID: account,
		Mode:      store.DomainAutoJoin,
		Role:      "dev",
		Challenge: "roster-verify=" + account + "." + name,
		CreatedBy: "owner",
		CreatedAt: created,
	}
}

// verifiedDomain returns d verified at the given time.
func verifiedDomain(d store.Domain, at time.Time) store.Domain {
	d.VerifiedAt = at
	return d
}

// seedDomains creates claims in one Update; a verified one is created
// pending and then verified.
func seedDomains(t testing.TB, s store.Store, claims ...store.Domain) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, d := range claims {
			pending := d
			pending.VerifiedAt = time.Time{}
			if err := tx.CreateDomain(ctx, pending); err != nil {
				return err
			}
			if d.Verified() {
				if err := tx.UpdateDomain(ctx, d); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// readDomain returns the account's claim of the domain name and fails the
// test if there is none.
func readDomain(t testing.TB, s store.Store, name, account string) store.Domain {
	t.Helper()
	var d store.Domain
	view(t, s, func(ctx context.Context, tx store.Tx) (err error) {
		d, err = tx.Domain(ctx, name, account)
		return err
	})
	return d
}

// checkNoDomain fails the test unless the account has no claim of the
// domain name.
func checkNoDomain(t testing.TB, s store.Store, name, account string) {
	t.Helper()
	view(t, s, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.Domain(ctx, name, account)
		checkErr(t, fmt.Sprintf("Domain(%s, %s)", name, account), err, store.ErrNotFound)
		return nil
	})
}

// listDomains returns the account's claims.
func listDomains(t testing.TB, s store.Store, account string) []store.Domain {
	t.Helper()
	var ds []store.Domain
	view(t, s, func(ctx context.Context, tx store.Tx) (err error) {
		ds, err = tx.Domains(ctx, account)
		return err
	})
	return ds
}

// checkVerified fails the test unless want is the verified claim of its
// name, or, with want's account empty, no claim of name is verified.
func checkVerified(t testing.TB, s store.Store, name string, want store.Domain) {
	t.Helper()
	view(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.VerifiedDomain(ctx, name)
		if want.AccountID == "" {
			checkErr(t, "VerifiedDomain("+name+")", err, store.ErrNotFound)
			return nil
		}
		if err != nil {
			return err
		}
		checkEqual(t, "VerifiedDomain("+name+")", want, got)
		return nil
	})
}

func (s suite) domains() []test {
	return []test{
		{"created claims read back equal, every field", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			full := newDomain("example.com", "team1", at(1))
			suggest := newDomain("example.org", "team1", at(2))
			suggest.Mode = store.DomainSuggest
			bare := store.Domain{Name: "example.net", AccountID: "team1", Mode: store.DomainSuggest} // no role, challenge, creator or time
			cet := time.FixedZone("CET", 3600)
			zoned := newDomain("example.dev", "team1", time.Date(2025, 3, 14, 12, 0, 0, 123456000, cet))
			seedDomains(t, st, full, suggest, bare, zoned)
			zoned.CreatedAt = zoned.CreatedAt.UTC() // a Store returns UTC
			for _, want := range []store.Domain{full, suggest, bare, zoned} {
				checkEqual(t, "Domain("+want.Name+")", want, readDomain(t, st, want.Name, "team1"))
			}
		}},
		{"a team's claims are listed ordered by name, and no other team's", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1", "team2", "team3")
			// "a-b.example" orders before "a.example": '-' is below '.'.
			b := newDomain("b.example", "team1", at(1))
			a := verifiedDomain(newDomain("a.example", "team1", at(2)), at(5))
			ab := newDomain("a-b.example", "team1", at(3))
			z := newDomain("z.example", "team1", at(0))
			other := newDomain("b.example", "team2", at(1))
			seedDomains(t, st, b, other, z, a, ab)
			checkEqual(t, "Domains(team1)", []store.Domain{ab, a, b, z}, listDomains(t, st, "team1"))
			checkEqual(t, "Domains(team2)", []store.Domain{other}, listDomains(t, st, "team2"))
			for _, account := range []string{"team3", "nope"} {
				if got := listDomains(t, st, account); len(got) != 0 {
					t.Errorf("Domains(%s) = %+v, want none", account, got)
				}
			}
		}},
		{"unknown claims return ErrNotFound, and VerifiedDomain only finds a verified one", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1", "team2")
			pending := newDomain("pending.example", "team1", at(1))
			verified := verifiedDomain(newDomain("verified.example", "team1", at(1)), at(2))
			otherPending := newDomain("verified.example", "team2", at(3))
			seedDomains(t, st, pending, verified, otherPending)
			checkNoDomain(t, st, "pending.example", "team2")
			checkNoDomain(t, st, "nope.example", "team1")
			checkNoDomain(t, st, "pending.example", "nope")
			checkVerified(t, st, "pending.example", store.Domain{})
			checkVerified(t, st, "nope.example", store.Domain{})
			checkVerified(t, st, "verified.example", verified)
		}},
		{"create a claim the team has already returns ErrExists and keeps the first; other teams may claim the name", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1", "team2")
			first := newDomain("example.com", "team1", at(1))
			seedDomains(t, st, first)
			again := newDomain("example.com", "team1", at(2))
			again.Mode, again.Role, again.Challenge = store.DomainSuggest, "admin", "another"
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.CreateDomain(ctx, again) })
			checkErr(t, "CreateDomain of a claim the team has", err, store.ErrExists)
			checkEqual(t, "the first claim", first, readDomain(t, st, "example.com", "team1"))
			// Verified, the claim still blocks a second one of the team.
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				return tx.UpdateDomain(ctx, verifiedDomain(first, at(3)))
			})
			err = tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.CreateDomain(ctx, again) })
			checkErr(t, "CreateDomain of a claim the team has verified", err, store.ErrExists)
			// Another team claims the name, verified for team1 or not.
			second := newDomain("example.com", "team2", at(4))
			seedDomains(t, st, second)
			checkEqual(t, "team2's claim", second, readDomain(t, st, "example.com", "team2"))
			checkVerified(t, st, "example.com", verifiedDomain(first, at(3)))
		}},
		{"create a claim of an unknown account returns ErrNotFound and the transaction goes on", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			good := newDomain("example.com", "team1", at(1))
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				checkErr(t, "CreateDomain in an unknown account", tx.CreateDomain(ctx, newDomain("example.com", "nope", at(1))), store.ErrNotFound)
				return tx.CreateDomain(ctx, good)
			})
			checkNoDomain(t, st, "example.com", "nope")
			checkEqual(t, "Domains(team1)", []store.Domain{good}, listDomains(t, st, "team1"))
		}},
		{"create a malformed or verified claim returns ErrInvalid and writes nothing", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			bad := map[string]func(d *store.Domain){
				"an empty name":       func(d *store.Domain) { d.Name = "" },
				"an empty account ID": func(d *store.Domain) { d.AccountID = "" },
				"no mode":             func(d *store.Domain) { d.Mode = "" },
				"an unknown mode":     func(d *store.Domain) { d.Mode = "auto-join" },
				"a verification":      func(d *store.Domain) { d.VerifiedAt = at(2) },
			}
			good := newDomain("good.example", "team1", at(1))
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				for i, name := range sortedKeys(bad) {
					d := newDomain(fmt.Sprintf("bad%d.example", i), "team1", at(1))
					bad[name](&d)
					checkErr(t, "CreateDomain of a claim with "+name, tx.CreateDomain(ctx, d), store.ErrInvalid)
				}
				return tx.CreateDomain(ctx, good)
			})
			checkEqual(t, "Domains(team1)", []store.Domain{good}, listDomains(t, st, "team1"))
			if got := listDomains(t, st, ""); len(got) != 0 {
				t.Errorf("Domains of the empty account ID = %+v, want none", got)
			}
		}},
		{"update replaces mode, role and verification and keeps the rest", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1", "team2")
			d := newDomain("example.com", "team1", at(1))
			seedDomains(t, st, d)
			changed := verifiedDomain(d, at(5))
			changed.Mode, changed.Role = store.DomainSuggest, "admin"
			// UpdateDomain keeps these, whatever the record it is given says.
			changed.Challenge, changed.CreatedBy, changed.CreatedAt = "another", "someone", at(50)
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateDomain(ctx, changed) })
			want := verifiedDomain(d, at(5))
			want.Mode, want.Role = store.DomainSuggest, "admin"
			checkEqual(t, "the verified claim", want, readDomain(t, st, "example.com", "team1"))
			checkVerified(t, st, "example.com", want)

			// Verified again, its mode changed, and then pending again.
			want.Mode, want.VerifiedAt = store.DomainAutoJoin, at(6)
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateDomain(ctx, want) })
			checkEqual(t, "the claim verified again", want, readDomain(t, st, "example.com", "team1"))
			want.VerifiedAt = time.Time{}
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateDomain(ctx, want) })
			checkEqual(t, "the claim pending again", want, readDomain(t, st, "example.com", "team1"))
			checkVerified(t, st, "example.com", store.Domain{})
		}},
		{"update an unknown claim returns ErrNotFound, and one with an invalid mode ErrInvalid, changing nothing", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1", "team2")
			d := newDomain("example.com", "team1", at(1))
			seedDomains(t, st, d)
			for what, u := range map[string]store.Domain{
				"another team's":  verifiedDomain(newDomain("example.com", "team2", at(1)), at(2)),
				"another name's":  newDomain("example.org", "team1", at(1)),
				"an unknown team": newDomain("example.com", "nope", at(1)),
			} {
				err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateDomain(ctx, u) })
				checkErr(t, "UpdateDomain of "+what+" claim", err, store.ErrNotFound)
				checkNoDomain(t, st, u.Name, u.AccountID)
			}
			for _, mode := range []store.DomainMode{"", "auto-join"} {
				bad := verifiedDomain(d, at(2))
				bad.Mode, bad.Role = mode, "admin"
				err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateDomain(ctx, bad) })
				checkErr(t, fmt.Sprintf("UpdateDomain with mode %q", mode), err, store.ErrInvalid)
			}
			checkEqual(t, "the claim", d, readDomain(t, st, "example.com", "team1"))
			checkVerified(t, st, "example.com", store.Domain{})
		}},
		{"a domain is verified for one team at a time", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1", "team2", "team3")
			one := verifiedDomain(newDomain("example.com", "team1", at(1)), at(5))
			two, three := newDomain("example.com", "team2", at(2)), newDomain("example.com", "team3", at(3))
			seedDomains(t, st, one, two, three)
			c := update(t, st, func(ctx context.Context, tx store.Tx) error {
				changed := verifiedDomain(two, at(6))
				changed.Mode = store.DomainSuggest
				checkErr(t, "UpdateDomain verifying a domain verified for another team", tx.UpdateDomain(ctx, changed), store.ErrExists)
				// The transaction goes on: a pending claim changes, and the
				// verified team's claim changes, verified still.
				three.Role = "admin"
				if err := tx.UpdateDomain(ctx, three); err != nil {
					return err
				}
				one.Mode, one.VerifiedAt = store.DomainSuggest, at(7)
				return tx.UpdateDomain(ctx, one)
			})
			checkEqual(t, "commit of domain writes", store.Commit{}, c)
			checkEqual(t, "the refused claim", two, readDomain(t, st, "example.com", "team2"))
			checkEqual(t, "the pending claim changed", three, readDomain(t, st, "example.com", "team3"))
			checkVerified(t, st, "example.com", one)

			// Once team1's claim is pending again, team2 verifies; once
			// team2's is deleted, team3 does.
			one.VerifiedAt = time.Time{}
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateDomain(ctx, one) })
			two = verifiedDomain(two, at(8))
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateDomain(ctx, two) })
			checkVerified(t, st, "example.com", two)
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateDomain(ctx, verifiedDomain(one, at(9))) })
			checkErr(t, "UpdateDomain verifying team1's claim again", err, store.ErrExists)
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.DeleteDomain(ctx, "example.com", "team2") })
			three = verifiedDomain(three, at(10))
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateDomain(ctx, three) })
			checkVerified(t, st, "example.com", three)
			checkEqual(t, "team1's claim", one, readDomain(t, st, "example.com", "team1"))
		}},
		{"delete removes the team's claim only, and a second delete returns ErrNotFound", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1", "team2")
			mine := verifiedDomain(newDomain("example.com", "team1", at(1)), at(2))
			theirs := newDomain("example.com", "team2", at(1))
			kept := newDomain("example.org", "team1", at(1))
			seedDomains(t, st, mine, theirs, kept)
			c := update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.DeleteDomain(ctx, "example.com", "team1") })
			checkEqual(t, "commit of DeleteDomain", store.Commit{}, c)
			checkNoDomain(t, st, "example.com", "team1")
			checkVerified(t, st, "example.com", store.Domain{})
			checkEqual(t, "Domains(team1)", []store.Domain{kept}, listDomains(t, st, "team1"))
			checkEqual(t, "Domains(team2)", []store.Domain{theirs}, listDomains(t, st, "team2"))
			for what, del := range map[string][2]string{
				"a deleted claim":    {"example.com", "team1"},
				"an unknown name":    {"nope.example", "team1"},
				"an unknown account": {"example.org", "nope"},
			} {
				err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.DeleteDomain(ctx, del[0], del[1]) })
				checkErr(t, "DeleteDomain of "+what, err, store.ErrNotFound)
			}
			// Claimed again, the name is a new pending claim.
			again := newDomain("example.com", "team1", at(3))
			seedDomains(t, st, again)
			checkEqual(t, "the claim made again", again, readDomain(t, st, "example.com", "team1"))
		}},
		{"domain writes record no change and take no revision", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			rev := currentRevision(t, st)
			d := newDomain("example.com", "team1", at(1))
			for _, w := range []struct {
				what  string
				write func(ctx context.Context, tx store.Tx) error
			}{
				{"CreateDomain", func(ctx context.Context, tx store.Tx) error { return tx.CreateDomain(ctx, d) }},
				{"UpdateDomain", func(ctx context.Context, tx store.Tx) error { return tx.UpdateDomain(ctx, verifiedDomain(d, at(2))) }},
				{"DeleteDomain", func(ctx context.Context, tx store.Tx) error { return tx.DeleteDomain(ctx, "example.com", "team1") }},
			} {
				checkEqual(t, "commit of "+w.what, store.Commit{}, update(t, st, w.write))
			}
			if got := currentRevision(t, st); got != rev {
				t.Errorf("revision = %d after domain writes, want %d", got, rev)
			}
			if changes := changesAfter(t, st, rev); len(changes) != 0 {
				t.Errorf("Changes after domain writes = %+v, want none", changes)
			}
		}},
		{"concurrent creates of one claim: one succeeds, the rest ErrExists", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			race := overlap.New(st, false)
			errs := race.Race(t, t.Context(), writers, func(ctx context.Context, i int) error {
				_, err := race.Update(ctx, func(tx store.Tx) error {
					return tx.CreateDomain(ctx, newDomain("example.com", "team1", at(i)))
				})
				return err
			})
			ok := -1
			for i, err := range errs {
				switch {
				case err == nil && ok >= 0:
					t.Errorf("writers %d and %d both created the claim", ok, i)
				case err == nil:
					ok = i
				case !errors.Is(err, store.ErrExists):
					t.Errorf("writer %d: %v, want nil or ErrExists", i, err)
				}
			}
			if ok < 0 {
				t.Fatal("no writer created the claim")
			}
			checkEqual(t, "the claim", newDomain("example.com", "team1", at(ok)), readDomain(t, st, "example.com", "team1"))
		}},
		{"concurrent verifications of one domain by different teams: one succeeds, the rest ErrExists in transactions that go on", func(t *testing.T) {
			st := s.open(t)
			// Several rounds, each on a domain of its own: a race that a
			// wrong Store loses only sometimes is run more than once.
			const rounds = 3
			teams := make([]string, writers)
			for i := range teams {
				teams[i] = fmt.Sprintf("team%02d", i)
			}
			seedAccounts(t, st, teams...)
			race := overlap.New(st, false)
			for r := range rounds {
				name := fmt.Sprintf("race%d.example", r)
				claims := make([]store.Domain, writers)
				for i, team := range teams {
					claims[i] = newDomain(name, team, at(i))
				}
				seedDomains(t, st, claims...)
				updateErrs := make([]error, writers)
				errs := race.Race(t, t.Context(), writers, func(ctx context.Context, i int) error {
					_, err := race.Update(ctx, func(tx store.Tx) error {
						updateErrs[i] = tx.UpdateDomain(ctx, verifiedDomain(claims[i], at(100+i)))
						if updateErrs[i] != nil && !errors.Is(updateErrs[i], store.ErrExists) {
							return updateErrs[i]
						}
						// Refused or not, the transaction goes on.
						_, err := tx.AppendEvent(ctx, store.Event{AccountID: teams[i], Action: store.EventDomainVerified, ResourceID: name})
						return err
					})
					return err
				})
				winner := -1
				for i, err := range errs {
					if err != nil {
						t.Errorf("%s: writer %d: %v", name, i, err)
					}
					switch uerr := updateErrs[i]; {
					case uerr == nil && winner >= 0:
						t.Errorf("%s: writers %d and %d both verified their claims", name, winner, i)
					case uerr == nil:
						winner = i
					case !errors.Is(uerr, store.ErrExists):
						t.Errorf("%s: writer %d's UpdateDomain: %v, want nil or ErrExists", name, i, uerr)
					}
				}
				if winner < 0 {
					t.Fatalf("%s: no writer verified its claim", name)
				}
				checkVerified(t, st, name, verifiedDomain(claims[winner], at(100+winner)))
				for i, d := range claims {
					if i != winner {
						checkEqual(t, fmt.Sprintf("%s: the claim of writer %d", name, i), d, readDomain(t, st, name, d.AccountID))
					}
				}
				if events := queryEvents(t, st, store.EventFilter{ResourceID: name}); len(events) != writers {
					t.Errorf("%s: %d events, want one of each of the %d writers", name, len(events), writers)
				}
			}
		}},
	}
}

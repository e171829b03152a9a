package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teamroster/roster/store"
)

// rangeFixture is when each record of a list's fixture was made: two with
// the zero time, three at the same time, whose IDs then order them by
// bytes ("B5" < "a5" < "c5"), and two others.
var rangeFixture = []struct {
	id   string
	time time.Time
}{
	{"c5", at(5)}, {"b0", time.Time{}}, {"e9", at(9)}, {"a5", at(5)}, {"d1", at(1)}, {"a0", time.Time{}}, {"B5", at(5)},
}

// The fixture's IDs in ascending key order (zero times first) and newest
// first (zero times last).
var (
	ascending  = []string{"a0", "b0", "d1", "B5", "a5", "c5", "e9"}
	descending = []string{"e9", "c5", "a5", "B5", "d1", "b0", "a0"}
)

// lister reads a range of one list of the fixture.
type lister struct {
	name string
	desc bool     // newest first
	want []string // the fixture's IDs in the list's order
	read func(ctx context.Context, tx store.Tx, r store.Range) (ids []string, keys []store.Key, err error)
	// prefix begins the list's record IDs: read returns them without it,
	// and a key built from a fixture ID needs it.
	prefix string
}

// seedRanges stores the fixture as members of team1, memberships of u1,
// invites, transfers and API keys (of u1) of team1, with a record of
// another account or user in each list, and a service account's and
// another user's key in team1 at minute 3, and returns the listers of the
// lists, of which two are APIKeys: of team1, and of u1 in team1.
func seedRanges(t *testing.T, st store.Store) []lister {
	t.Helper()
	users, accounts := []string{"u1", "other"}, []string{"team1", "team2"}
	for _, f := range rangeFixture {
		users, accounts = append(users, f.id), append(accounts, f.id)
	}
	seedUsers(t, st, users...)
	seedAccounts(t, st, accounts...)
	update(t, st, func(ctx context.Context, tx store.Tx) error {
		for _, f := range rangeFixture {
			for _, err := range []error{
				tx.CreateMember(ctx, store.Member{AccountID: "team1", UserID: f.id, Role: "dev", JoinedAt: f.time}),
				tx.CreateMember(ctx, store.Member{AccountID: f.id, UserID: "u1", Role: "dev", JoinedAt: f.time}),
				tx.CreateInvite(ctx, newInvite(f.id, "team1", f.time)),
				tx.CreateTransfer(ctx, newTransfer(f.id, "team1", f.time)),
				tx.CreateAPIKey(ctx, newAPIKey(store.APIKeyIDPrefix+f.id, "team1", "u1", f.time)),
			} {
				if err != nil {
					return err
				}
			}
		}
		for _, err := range []error{
			tx.CreateMember(ctx, store.Member{AccountID: "team2", UserID: "other", Role: "dev", JoinedAt: at(3)}),
			tx.CreateMember(ctx, store.Member{AccountID: "team2", UserID: "u1", Role: "dev", JoinedAt: at(3)}),
			tx.CreateInvite(ctx, newInvite("x3", "team2", at(3))),
			tx.CreateTransfer(ctx, newTransfer("x3", "team2", at(3))),
			tx.CreateAPIKey(ctx, newAPIKey(store.APIKeyIDPrefix+"x3", "team2", "u1", at(3))),
			tx.CreateAPIKey(ctx, newAPIKey(store.APIKeyIDPrefix+"s3", "team1", "", at(3))),
			tx.CreateAPIKey(ctx, newAPIKey(store.APIKeyIDPrefix+"o3", "team1", "other", at(3))),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	// team2's membership of u1 is in u1's list too, and the keys of the
	// service account and of other in team1's.
	memberships := slices.Insert(slices.Clone(ascending), 3, "team2")
	keys := slices.Insert(slices.Clone(descending), 4, "s3", "o3")
	keyIDs := func(ks []store.APIKey, err error) ([]string, []store.Key, error) {
		ids, keys, err := keysOf(ks, store.APIKey.Key, err)
		for i := range ids {
			ids[i] = strings.TrimPrefix(ids[i], store.APIKeyIDPrefix)
		}
		return ids, keys, err
	}
	memberKey := func(m store.Member) store.Key { return store.Key{Time: m.JoinedAt, ID: m.UserID} }
	membershipKey := func(m store.Member) store.Key { return store.Key{Time: m.JoinedAt, ID: m.AccountID} }
	return []lister{
		{"Members", false, ascending, func(ctx context.Context, tx store.Tx, r store.Range) ([]string, []store.Key, error) {
			ms, err := tx.Members(ctx, "team1", r)
			return keysOf(ms, memberKey, err)
		}, ""},
		{"Memberships", false, memberships, func(ctx context.Context, tx store.Tx, r store.Range) ([]string, []store.Key, error) {
			ms, err := tx.Memberships(ctx, "u1", r)
			return keysOf(ms, membershipKey, err)
		}, ""},
		{"Invites", true, descending, func(ctx context.Context, tx store.Tx, r store.Range) ([]string, []store.Key, error) {
			invs, err := tx.Invites(ctx, "team1", r)
			return keysOf(invs, store.Invite.Key, err)
		}, ""},
		{"Transfers", true, descending, func(ctx context.Context, tx store.Tx, r store.Range) ([]string, []store.Key, error) {
			trs, err := tx.Transfers(ctx, "team1", r)
			return keysOf(trs, store.Transfer.Key, err)
		}, ""},
		{"APIKeys", true, keys, func(ctx context.Context, tx store.Tx, r store.Range) ([]string, []store.Key, error) {
			return keyIDs(tx.APIKeys(ctx, "team1", "", r))
		}, store.APIKeyIDPrefix},
		{"APIKeys of a user", true, descending, func(ctx context.Context, tx store.Tx, r store.Range) ([]string, []store.Key, error) {
			return keyIDs(tx.APIKeys(ctx, "team1", "u1", r))
		}, store.APIKeyIDPrefix},
	}
}

// keysOf returns the IDs and the keys of records, and err.
func keysOf[V any](recs []V, key func(V) store.Key, err error) ([]string, []store.Key, error) {
	ids, keys := make([]string, len(recs)), make([]store.Key, len(recs))
	for i, v := range recs {
		keys[i] = key(v)
		ids[i] = keys[i].ID
	}
	return ids, keys, err
}

func (s suite) ranges() []test {
	return []test{
		{"the zero range is the whole list in its order", func(t *testing.T) {
			st := s.open(t)
			for _, l := range seedRanges(t, st) {
				view(t, st, func(ctx context.Context, tx store.Tx) error {
					got, _, err := l.read(ctx, tx, store.Range{})
					if err != nil {
						return fmt.Errorf("%s: %w", l.name, err)
					}
					checkEqual(t, l.name+" in order", l.want, got)
					return nil
				})
			}
		}},
		{"pages of every size walk the list once, across equal and zero times", func(t *testing.T) {
			st := s.open(t)
			for _, l := range seedRanges(t, st) {
				view(t, st, func(ctx context.Context, tx store.Tx) error {
					for limit := 1; limit <= len(l.want)+1; limit++ {
						var walked []string
						r := store.Range{Limit: limit}
						for range len(l.want) + 2 {
							ids, keys, err := l.read(ctx, tx, r)
							if err != nil {
								return fmt.Errorf("%s: %w", l.name, err)
							}
							if len(ids) > limit {
								t.Errorf("%s with limit %d returned %d records", l.name, limit, len(ids))
							}
							walked = append(walked, ids...)
							if len(ids) < limit {
								break
							}
							r.After = keys[len(keys)-1]
						}
						checkEqual(t, fmt.Sprintf("%s walked %d at a time", l.name, limit), l.want, walked)
					}
					return nil
				})
			}
		}},
		{"a range starts right after its key", func(t *testing.T) {
			st := s.open(t)
			for _, l := range seedRanges(t, st) {
				view(t, st, func(ctx context.Context, tx store.Tx) error {
					_, keys, err := l.read(ctx, tx, store.Range{})
					if err != nil {
						return fmt.Errorf("%s: %w", l.name, err)
					}
					for i, k := range keys {
						got, _, err := l.read(ctx, tx, store.Range{After: k})
						if err != nil {
							return fmt.Errorf("%s: %w", l.name, err)
						}
						if want := l.want[i+1:]; !slices.Equal(got, want) {
							t.Errorf("%s after %s = %v, want %v", l.name, k.ID, got, want)
						}
					}
					return nil
				})
			}
		}},
		{"a key between records starts at the next one", func(t *testing.T) {
			st := s.open(t)
			for _, l := range seedRanges(t, st) {
				// {zero, "a1"} orders between "a0" and "b0"; {minute 5,
				// "a6"} between "a5" and "c5".
				from := map[store.Key]string{{ID: l.prefix + "a1"}: "b0", {Time: at(5), ID: l.prefix + "a6"}: "c5"}
				if l.desc {
					from = map[store.Key]string{{ID: l.prefix + "a1"}: "a0", {Time: at(5), ID: l.prefix + "a6"}: "a5"}
				}
				for k, first := range from {
					want := l.want[slices.Index(l.want, first):]
					view(t, st, func(ctx context.Context, tx store.Tx) error {
						got, _, err := l.read(ctx, tx, store.Range{After: k})
						if err != nil {
							return fmt.Errorf("%s: %w", l.name, err)
						}
						if !slices.Equal(got, want) {
							t.Errorf("%s after %+v = %v, want %v", l.name, k, got, want)
						}
						return nil
					})
				}
			}
		}},
		{"a malformed range returns ErrInvalid", func(t *testing.T) {
			st := s.open(t)
			for _, l := range seedRanges(t, st) {
				view(t, st, func(ctx context.Context, tx store.Tx) error {
					for name, r := range map[string]store.Range{
						"negative limit":     {Limit: -1},
						"a time but no ID":   {After: store.Key{Time: at(1)}},
						"both, and a record": {After: store.Key{Time: at(1)}, Limit: -5},
					} {
						_, _, err := l.read(ctx, tx, r)
						checkErr(t, l.name+" with "+name, err, store.ErrInvalid)
					}
					return nil
				})
			}
		}},
		{"users and accounts by ID are found in one call, ordered by ID", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u3", "u1", "u2")
			seedAccounts(t, st, "a1", "a2")
			strict := newAccount("a3", "owner")
			strict.RequireSecureSignIn = true // every field is read
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.CreateAccount(ctx, strict) })
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				users, err := tx.UsersByID(ctx, []string{"u3", "nobody", "u1", "u1"})
				if err != nil {
					return err
				}
				checkEqual(t, "UsersByID", []store.User{newUser("u1"), newUser("u3")}, users)
				accts, err := tx.AccountsByID(ctx, []string{"a3", "nope", "a1", "a3"})
				if err != nil {
					return err
				}
				checkEqual(t, "AccountsByID", []store.Account{newAccount("a1", "owner"), strict}, accts)
				for what, n := range map[string]int{"no IDs": 0, "nil": -1} {
					var ids []string
					if n == 0 {
						ids = []string{}
					}
					if users, err := tx.UsersByID(ctx, ids); err != nil || len(users) != 0 {
						t.Errorf("UsersByID(%s) = %v, %v; want none", what, users, err)
					}
					if accts, err := tx.AccountsByID(ctx, ids); err != nil || len(accts) != 0 {
						t.Errorf("AccountsByID(%s) = %v, %v; want none", what, accts, err)
					}
				}
				return nil
			})
		}},
		{"more IDs than a page returns ErrInvalid", func(t *testing.T) {
			st := s.open(t)
			ids := make([]string, store.MaxPageSize+1)
			for i := range ids {
				ids[i] = fmt.Sprintf("id%d", i)
			}
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				_, err := tx.UsersByID(ctx, ids)
				checkErr(t, "UsersByID of too many IDs", err, store.ErrInvalid)
				_, err = tx.AccountsByID(ctx, ids)
				checkErr(t, "AccountsByID of too many IDs", err, store.ErrInvalid)
				_, err = tx.UsersByID(ctx, ids[:store.MaxPageSize])
				if err != nil {
					t.Errorf("UsersByID of MaxPageSize IDs: %v", err)
				}
				return nil
			})
		}},
	}
}

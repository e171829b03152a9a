package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/teamroster/roster/internal/overlap"
	"github.com/teamroster/roster/store"
)

// newAPIKey returns a live API key fixture of account, belonging to user
// ("" for a service account), acting with the role "dev" unnarrowed and
// never expiring.
func newAPIKey(id, account, user string, created time.Time) store.APIKey {
	hash := sha256.Sum256([]byte("secret of " + id))
	return store.APIKey{
		ID:        id,
		AccountID: account,
		UserID:    user,
		Name:      "Key " + id,
		Role:      "dev",
		Hash:      hash[:],
		CreatedBy: "owner",
		CreatedAt: created,
	}
}

// revokedKey returns k revoked at the given time by "owner".
func revokedKey(k store.APIKey, at time.Time) store.APIKey {
	k.RevokedAt, k.RevokedBy = at, "owner"
	return k
}

// keySet returns the APIKeySet change that writing the live key k records
// at revision rev.
func keySet(rev store.Revision, k store.APIKey) store.Change {
	return store.Change{Revision: rev, Op: store.APIKeySet, AccountID: k.AccountID, UserID: k.UserID, Role: k.Role,
		Actions: k.Actions, Key: k.ID, KeyHash: k.Hash, ExpiresAt: k.ExpiresAt}
}

// keyItem returns the snapshot item of the live key that an APIKeySet
// change describes.
func keyItem(c store.Change) store.SnapshotItem {
	return store.SnapshotItem{AccountID: c.AccountID, UserID: c.UserID, Role: c.Role, Actions: c.Actions,
		Key: c.Key, KeyHash: c.KeyHash, ExpiresAt: c.ExpiresAt}
}

// seedKeys creates keys in one Update; a revoked one is created live and
// then revoked.
func seedKeys(t testing.TB, s store.Store, keys ...store.APIKey) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, k := range keys {
			live := k
			live.RevokedAt, live.RevokedBy = time.Time{}, ""
			if err := tx.CreateAPIKey(ctx, live); err != nil {
				return err
			}
			if !k.RevokedAt.IsZero() {
				if err := tx.UpdateAPIKey(ctx, k); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// readKey returns the API key with the given ID and fails the test if
// there is none.
func readKey(t testing.TB, s store.Store, id string) store.APIKey {
	t.Helper()
	var k store.APIKey
	view(t, s, func(ctx context.Context, tx store.Tx) (err error) {
		k, err = tx.APIKey(ctx, id)
		return err
	})
	return k
}

// checkNoKey fails the test unless there is no API key with the given ID.
func checkNoKey(t testing.TB, s store.Store, id string) {
	t.Helper()
	view(t, s, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.APIKey(ctx, id)
		checkErr(t, "APIKey("+id+")", err, store.ErrNotFound)
		return nil
	})
}

// listKeys returns APIKeys(account, user) over the whole list.
func listKeys(t testing.TB, s store.Store, account, user string) []store.APIKey {
	t.Helper()
	var keys []store.APIKey
	view(t, s, func(ctx context.Context, tx store.Tx) (err error) {
		keys, err = tx.APIKeys(ctx, account, user, store.Range{})
		return err
	})
	return keys
}

func (s suite) apiKeys() []test {
	return []test{
		{"created keys read back equal, every field", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			seedAccounts(t, st, "team1")
			personal := newAPIKey("key_personal", "team1", "u1", at(1))
			personal.Actions = []string{"pods.create", "pods.view"}
			personal.ExpiresAt = at(90 * 24 * 60)
			personal.LastUsedAt, personal.LastUsedIP = at(2), "203.0.113.7"
			service := newAPIKey("key_service", "team1", "", at(2)) // unnarrowed, never expires
			service.Role = "billing"
			none := newAPIKey("key_none", "team1", "u1", at(3))
			none.Actions = []string{} // narrowed to no action, which is not unnarrowed
			cet := time.FixedZone("CET", 3600)
			zoned := newAPIKey("key_zoned", "team1", "", time.Date(2025, 3, 14, 12, 0, 0, 123456000, cet))
			zoned.ExpiresAt = time.Date(2025, 4, 1, 0, 0, 0, 0, cet)
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				for _, k := range []store.APIKey{personal, service, none, zoned} {
					if err := tx.CreateAPIKey(ctx, k); err != nil {
						return err
					}
				}
				return nil
			})
			zoned.CreatedAt, zoned.ExpiresAt = zoned.CreatedAt.UTC(), zoned.ExpiresAt.UTC() // a Store returns UTC
			for _, want := range []store.APIKey{personal, service, none, zoned} {
				checkEqual(t, "APIKey("+want.ID+")", want, readKey(t, st, want.ID))
			}
			if got := readKey(t, st, "key_none"); got.Actions == nil {
				t.Error("a key narrowed to no action came back unnarrowed (nil Actions)")
			}
		}},
		{"unknown key returns ErrNotFound", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			seedKeys(t, st, newAPIKey("key_1", "team1", "", at(1)))
			checkNoKey(t, st, "key_nope")
			checkNoKey(t, st, "key_")
		}},
		{"create key with a taken ID returns ErrExists and keeps the first", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1", "team2")
			first := newAPIKey("key_1", "team1", "", at(1))
			seedKeys(t, st, first)
			rev := currentRevision(t, st)
			again := newAPIKey("key_1", "team2", "", at(2))
			again.Name = "Another"
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.CreateAPIKey(ctx, again) })
			checkErr(t, "CreateAPIKey with a taken ID", err, store.ErrExists)
			checkEqual(t, "the first key", first, readKey(t, st, "key_1"))
			if got := currentRevision(t, st); got != rev {
				t.Errorf("revision = %d after a refused CreateAPIKey, want %d", got, rev)
			}
		}},
		{"create key in an unknown account or for an unknown user returns ErrNotFound", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			seedAccounts(t, st, "team1")
			rev := currentRevision(t, st)
			good := newAPIKey("key_good", "team1", "u1", at(1))
			c := update(t, st, func(ctx context.Context, tx store.Tx) error {
				checkErr(t, "CreateAPIKey in an unknown account",
					tx.CreateAPIKey(ctx, newAPIKey("key_1", "nope", "", at(1))), store.ErrNotFound)
				checkErr(t, "CreateAPIKey of a user in an unknown account",
					tx.CreateAPIKey(ctx, newAPIKey("key_2", "nope", "u1", at(1))), store.ErrNotFound)
				checkErr(t, "CreateAPIKey for an unknown user",
					tx.CreateAPIKey(ctx, newAPIKey("key_3", "team1", "nobody", at(1))), store.ErrNotFound)
				// The transaction goes on.
				return tx.CreateAPIKey(ctx, good)
			})
			checkEqual(t, "commit", store.Commit{Revision: rev + 1, Changes: []store.Change{keySet(rev+1, good)}}, c)
			for _, id := range []string{"key_1", "key_2", "key_3"} {
				checkNoKey(t, st, id)
			}
		}},
		{"create a malformed or revoked key returns ErrInvalid and writes nothing", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			seedAccounts(t, st, "team1")
			rev := currentRevision(t, st)
			bad := map[string]func(k *store.APIKey){
				"an ID without the prefix": func(k *store.APIKey) { k.ID = "k1" },
				"an empty account ID":      func(k *store.APIKey) { k.AccountID = "" },
				"an empty role":            func(k *store.APIKey) { k.Role = "" },
				"a malformed user ID":      func(k *store.APIKey) { k.UserID = "u 1" },
				"an empty name":            func(k *store.APIKey) { k.Name = "" },
				"an empty action":          func(k *store.APIKey) { k.Actions = []string{"pods.view", ""} },
				"a repeated action":        func(k *store.APIKey) { k.Actions = []string{"pods.view", "pods.view"} },
				"a hash of 31 bytes":       func(k *store.APIKey) { k.Hash = k.Hash[:31] },
				"no hash":                  func(k *store.APIKey) { k.Hash = nil },
				"a revocation":             func(k *store.APIKey) { k.RevokedAt, k.RevokedBy = at(2), "owner" },
				"a revocation by no one":   func(k *store.APIKey) { k.RevokedAt = at(2) },
				"an ID too long":           func(k *store.APIKey) { k.ID = store.APIKeyIDPrefix + strings.Repeat("x", store.MaxIDLen) },
			}
			good := newAPIKey("key_good", "team1", "u1", at(1))
			var ids []string
			c := update(t, st, func(ctx context.Context, tx store.Tx) error {
				for i, name := range sortedKeys(bad) {
					k := newAPIKey(fmt.Sprintf("key_bad%d", i), "team1", "u1", at(1))
					bad[name](&k)
					ids = append(ids, k.ID)
					checkErr(t, "CreateAPIKey of a key with "+name, tx.CreateAPIKey(ctx, k), store.ErrInvalid)
				}
				return tx.CreateAPIKey(ctx, good)
			})
			checkEqual(t, "commit", store.Commit{Revision: rev + 1, Changes: []store.Change{keySet(rev+1, good)}}, c)
			checkEqual(t, "keys of team1", []store.APIKey{good}, listKeys(t, st, "team1", ""))
			for _, id := range ids {
				checkNoKey(t, st, id)
			}
		}},
		{"update key replaces name, role, actions and expiry and keeps the rest", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1", "u2")
			seedAccounts(t, st, "team1", "team2")
			k := newAPIKey("key_1", "team1", "u1", at(1))
			k.Actions = []string{"pods.view"}
			k.LastUsedAt, k.LastUsedIP = at(2), "192.0.2.1"
			seedKeys(t, st, k)
			changed := k
			changed.Name, changed.Role, changed.Actions, changed.ExpiresAt = "Renamed", "admin", []string{"pods.create", "pods.view"}, at(100)
			// UpdateAPIKey keeps these, whatever the record it is given says.
			changed.AccountID, changed.UserID = "team2", "u2"
			changed.Hash = newAPIKey("key_other", "team1", "", at(0)).Hash
			changed.CreatedBy, changed.CreatedAt = "someone", at(50)
			changed.LastUsedAt, changed.LastUsedIP = at(60), "192.0.2.99"
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateAPIKey(ctx, changed) })
			want := k
			want.Name, want.Role, want.Actions, want.ExpiresAt = changed.Name, changed.Role, changed.Actions, changed.ExpiresAt
			checkEqual(t, "the updated key", want, readKey(t, st, "key_1"))

			// Widened again to the whole role, expiry cleared.
			want.Actions, want.ExpiresAt = nil, time.Time{}
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateAPIKey(ctx, want) })
			checkEqual(t, "the widened key", want, readKey(t, st, "key_1"))
			// Narrowed to no action.
			want.Actions = []string{}
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateAPIKey(ctx, want) })
			checkEqual(t, "the key narrowed to none", want, readKey(t, st, "key_1"))
		}},
		{"key writes record APIKeySet with every field, and revoking APIKeyRevoked", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			seedAccounts(t, st, "team1")
			rev := currentRevision(t, st)
			personal := newAPIKey("key_personal", "team1", "u1", at(1))
			personal.Actions, personal.ExpiresAt = []string{"pods.view"}, at(100)
			service := newAPIKey("key_service", "team1", "", at(2))
			none := newAPIKey("key_none", "team1", "u1", at(3))
			none.Actions = []string{}
			c1 := update(t, st, func(ctx context.Context, tx store.Tx) error {
				for _, k := range []store.APIKey{personal, service, none} {
					if err := tx.CreateAPIKey(ctx, k); err != nil {
						return err
					}
				}
				return nil
			})
			r := rev + 1
			want1 := store.Commit{Revision: r, Changes: []store.Change{keySet(r, personal), keySet(r, service), keySet(r, none)}}
			checkEqual(t, "commit creating keys", want1, c1)

			updated := service
			updated.Role, updated.Actions, updated.ExpiresAt = "admin", []string{"billing.view"}, at(200)
			// Kept: the change carries the stored account, user and hash.
			updated.AccountID, updated.UserID = "team9", "u9"
			updated.Hash = newAPIKey("key_other", "team1", "", at(0)).Hash
			revoked := revokedKey(personal, at(5))
			revocation := revoked
			revocation.AccountID, revocation.UserID = "team9", "u9"
			c2 := update(t, st, func(ctx context.Context, tx store.Tx) error {
				if err := tx.UpdateAPIKey(ctx, updated); err != nil {
					return err
				}
				return tx.UpdateAPIKey(ctx, revocation)
			})
			r2 := r + 1
			stored := updated
			stored.AccountID, stored.UserID, stored.Hash = service.AccountID, service.UserID, service.Hash
			want2 := store.Commit{Revision: r2, Changes: []store.Change{
				keySet(r2, stored),
				{Revision: r2, Op: store.APIKeyRevoked, AccountID: "team1", UserID: "u1", Key: "key_personal"},
			}}
			checkEqual(t, "commit updating and revoking keys", want2, c2)
			checkEqual(t, "Changes after the previous revision", append(want1.Changes, want2.Changes...), changesAfter(t, st, rev))
			checkEqual(t, "the revoked key", revoked, readKey(t, st, "key_personal"))

			// A service key's revocation names no user.
			c3 := update(t, st, func(ctx context.Context, tx store.Tx) error {
				return tx.UpdateAPIKey(ctx, revokedKey(stored, at(6)))
			})
			checkEqual(t, "commit revoking a service key", store.Commit{Revision: r2 + 1, Changes: []store.Change{
				{Revision: r2 + 1, Op: store.APIKeyRevoked, AccountID: "team1", Key: "key_service"},
			}}, c3)
		}},
		{"a revoked key stays revoked: updating it returns ErrInvalid", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			seedAccounts(t, st, "team1")
			revoked := revokedKey(newAPIKey("key_1", "team1", "u1", at(1)), at(2))
			seedKeys(t, st, revoked)
			rev := currentRevision(t, st)
			c := update(t, st, func(ctx context.Context, tx store.Tx) error {
				live := revoked
				live.RevokedAt, live.RevokedBy = time.Time{}, ""
				checkErr(t, "UpdateAPIKey making a revoked key live", tx.UpdateAPIKey(ctx, live), store.ErrInvalid)
				checkErr(t, "UpdateAPIKey revoking a revoked key again", tx.UpdateAPIKey(ctx, revokedKey(revoked, at(9))), store.ErrInvalid)
				renamed := revoked
				renamed.Name = "Renamed"
				checkErr(t, "UpdateAPIKey renaming a revoked key", tx.UpdateAPIKey(ctx, renamed), store.ErrInvalid)
				return nil
			})
			checkEqual(t, "commit of refused updates", store.Commit{}, c)
			checkEqual(t, "the revoked key", revoked, readKey(t, st, "key_1"))
			if got := currentRevision(t, st); got != rev {
				t.Errorf("revision = %d, want %d unchanged", got, rev)
			}
		}},
		{"update unknown key returns ErrNotFound, and a malformed one ErrInvalid", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			k := newAPIKey("key_1", "team1", "", at(1))
			seedKeys(t, st, k)
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error {
				return tx.UpdateAPIKey(ctx, newAPIKey("key_nope", "team1", "", at(1)))
			})
			checkErr(t, "UpdateAPIKey(key_nope)", err, store.ErrNotFound)
			checkNoKey(t, st, "key_nope")
			for name, change := range map[string]func(k *store.APIKey){
				"an empty name":     func(k *store.APIKey) { k.Name = "" },
				"an empty role":     func(k *store.APIKey) { k.Role = "" },
				"a repeated action": func(k *store.APIKey) { k.Actions = []string{"a", "a"} },
				"no hash":           func(k *store.APIKey) { k.Hash = nil },
			} {
				bad := k
				change(&bad)
				err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.UpdateAPIKey(ctx, bad) })
				checkErr(t, "UpdateAPIKey with "+name, err, store.ErrInvalid)
			}
			checkEqual(t, "the key", k, readKey(t, st, "key_1"))
		}},
		{"keys are listed newest first, revoked ones included, by account or by user", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1", "u2")
			seedAccounts(t, st, "team1", "team2")
			old := newAPIKey("key_old", "team1", "u1", at(1))
			a := newAPIKey("key_a", "team1", "", at(5))
			b := newAPIKey("key_b", "team1", "u2", at(5)) // same time as a: ID descending
			revoked := revokedKey(newAPIKey("key_revoked", "team1", "u1", at(7)), at(8))
			newest := newAPIKey("key_newest", "team1", "u1", at(9))
			other := newAPIKey("key_other", "team2", "u1", at(3))
			seedKeys(t, st, a, newest, other, revoked, old, b)
			for _, tc := range []struct {
				account, user string
				want          []store.APIKey
			}{
				{"team1", "", []store.APIKey{newest, revoked, b, a, old}},
				{"team1", "u1", []store.APIKey{newest, revoked, old}},
				{"team1", "u2", []store.APIKey{b}},
				{"team2", "u1", []store.APIKey{other}},
				{"team2", "u2", nil},
				{"team1", "nobody", nil},
				{"nope", "", nil},
			} {
				got := listKeys(t, st, tc.account, tc.user)
				if len(tc.want) == 0 && len(got) == 0 {
					continue
				}
				checkEqual(t, fmt.Sprintf("APIKeys(%s, %q)", tc.account, tc.user), tc.want, got)
			}
		}},
		{"snapshot delivers live keys with every field, expired ones too, and no revoked one", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			seedAccounts(t, st, "team1", "team2")
			live := newAPIKey("key_live", "team1", "u1", at(1))
			live.Actions, live.ExpiresAt = []string{"pods.view"}, time.Now().UTC().AddDate(1, 0, 0)
			expired := newAPIKey("key_expired", "team2", "", at(2))
			expired.Role, expired.ExpiresAt = "admin", at(3)
			none := newAPIKey("key_none", "team1", "u1", at(4))
			none.Actions = []string{}
			revoked := revokedKey(newAPIKey("key_revoked", "team1", "u1", at(5)), at(6))
			seedKeys(t, st, live, expired, none, revoked)
			got, _ := snapshotState(t, st)
			want := newState()
			want.Accounts = map[string]bool{"team1": true, "team2": true}
			for _, k := range []store.APIKey{live, expired, none} {
				want.Keys[k.ID] = keyItem(keySet(0, k))
			}
			checkEqual(t, "snapshot", want, got)
		}},
		{"snapshot plus key changes equals the current state", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1", "u2")
			seedAccounts(t, st, "team1")
			k1, k2 := newAPIKey("key_1", "team1", "u1", at(1)), newAPIKey("key_2", "team1", "", at(2))
			seedKeys(t, st, k1, k2)
			snap, rev := snapshotState(t, st)
			k3 := newAPIKey("key_3", "team1", "u2", at(3))
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				if err := tx.CreateAPIKey(ctx, k3); err != nil {
					return err
				}
				narrowed := k1
				narrowed.Actions, narrowed.ExpiresAt = []string{"pods.view"}, at(30)
				if err := tx.UpdateAPIKey(ctx, narrowed); err != nil {
					return err
				}
				return tx.UpdateAPIKey(ctx, revokedKey(k2, at(4)))
			})
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				none := newAPIKey("key_4", "team1", "", at(5))
				none.Actions = []string{}
				if err := tx.CreateAPIKey(ctx, none); err != nil {
					return err
				}
				return tx.UpdateAPIKey(ctx, revokedKey(k3, at(6)))
			})
			snap.apply(changesAfter(t, st, rev))
			now, _ := snapshotState(t, st)
			checkEqual(t, "snapshot plus changes", now, snap)
			if len(now.Keys) != 2 {
				t.Errorf("snapshot holds keys %v, want key_1 and key_4", sortedKeys(now.Keys))
			}
		}},
		{"touch records each key's latest use, never an earlier one, and skips unknown and revoked keys", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			k1, k2 := newAPIKey("key_1", "team1", "", at(1)), newAPIKey("key_2", "team1", "", at(1))
			revoked := revokedKey(newAPIKey("key_3", "team1", "", at(1)), at(2))
			seedKeys(t, st, k1, k2, revoked)
			rev := currentRevision(t, st)
			touch := func(uses ...store.APIKeyUse) {
				t.Helper()
				c := update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.TouchAPIKeys(ctx, uses) })
				checkEqual(t, "commit of TouchAPIKeys", store.Commit{}, c)
			}
			used := func(k store.APIKey, when time.Time, ip string) store.APIKey {
				k.LastUsedAt, k.LastUsedIP = when, ip
				return k
			}
			// A use at the zero time is not later than never.
			touch(store.APIKeyUse{ID: "key_1", IP: "198.51.100.9"})
			checkEqual(t, "key_1 after a use at the zero time", k1, readKey(t, st, "key_1"))
			touch(store.APIKeyUse{ID: "key_1", At: at(10), IP: "198.51.100.1"}, store.APIKeyUse{ID: "key_2", At: at(5), IP: "198.51.100.2"},
				store.APIKeyUse{ID: "key_unknown", At: at(10), IP: "198.51.100.3"}, store.APIKeyUse{ID: "key_3", At: at(10), IP: "198.51.100.4"})
			checkEqual(t, "key_1 after its use", used(k1, at(10), "198.51.100.1"), readKey(t, st, "key_1"))
			checkEqual(t, "key_2 after its use", used(k2, at(5), "198.51.100.2"), readKey(t, st, "key_2"))
			checkEqual(t, "the revoked key after a use", revoked, readKey(t, st, "key_3"))
			checkNoKey(t, st, "key_unknown")

			// An earlier use, or one at the same time, changes nothing.
			touch(store.APIKeyUse{ID: "key_1", At: at(8), IP: "earlier"}, store.APIKeyUse{ID: "key_1", At: at(10), IP: "same time"})
			checkEqual(t, "key_1 after earlier uses", used(k1, at(10), "198.51.100.1"), readKey(t, st, "key_1"))
			touch(store.APIKeyUse{ID: "key_1", At: at(12), IP: "later"})
			checkEqual(t, "key_1 after a later use", used(k1, at(12), "later"), readKey(t, st, "key_1"))
			// Of several uses of one key in one call, the latest counts.
			touch(store.APIKeyUse{ID: "key_2", At: at(7), IP: "a"}, store.APIKeyUse{ID: "key_2", At: at(9), IP: "b"},
				store.APIKeyUse{ID: "key_2", At: at(6), IP: "c"})
			checkEqual(t, "key_2 after several uses", used(k2, at(9), "b"), readKey(t, st, "key_2"))
			touch()
			if got := currentRevision(t, st); got != rev {
				t.Errorf("revision = %d after touches, want %d unchanged", got, rev)
			}
		}},
		{"touch of more than a page of uses, or in View, returns ErrInvalid", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			k := newAPIKey("key_1", "team1", "", at(1))
			seedKeys(t, st, k)
			uses := make([]store.APIKeyUse, store.MaxPageSize+1)
			for i := range uses {
				uses[i] = store.APIKeyUse{ID: "key_1", At: at(10 + i), IP: fmt.Sprint(i)}
			}
			err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.TouchAPIKeys(ctx, uses) })
			checkErr(t, "TouchAPIKeys of MaxPageSize+1 uses", err, store.ErrInvalid)
			err = st.View(t.Context(), func(tx store.Tx) error { return tx.TouchAPIKeys(t.Context(), uses[:1]) })
			checkErr(t, "TouchAPIKeys in View", err, store.ErrInvalid)
			checkEqual(t, "the key after refused touches", k, readKey(t, st, "key_1"))
			update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.TouchAPIKeys(ctx, uses[:store.MaxPageSize]) })
			k.LastUsedAt, k.LastUsedIP = at(10+store.MaxPageSize-1), fmt.Sprint(store.MaxPageSize-1)
			checkEqual(t, "the key after MaxPageSize uses", k, readKey(t, st, "key_1"))
		}},
		{"delete a user who owns a key that is not revoked returns ErrPrecondition and keeps them", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1", "u2")
			seedAccounts(t, st, "team1")
			live := newAPIKey("key_live", "team1", "u1", at(1))
			expired := newAPIKey("key_expired", "team1", "u2", at(1))
			expired.ExpiresAt = at(2) // long past, and still not revoked
			seedKeys(t, st, live, expired)
			for _, k := range []store.APIKey{live, expired} {
				err := tryUpdate(t, st, func(ctx context.Context, tx store.Tx) error { return tx.DeleteUser(ctx, k.UserID) })
				checkErr(t, "DeleteUser of the owner of "+k.ID, err, store.ErrPrecondition)
				checkEqual(t, "user "+k.UserID, newUser(k.UserID), readUser(t, st, k.UserID))
				checkEqual(t, "key "+k.ID, k, readKey(t, st, k.ID))
			}
		}},
		{"delete user deletes their revoked keys and no one else's", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1", "u2")
			seedAccounts(t, st, "team1", "team2")
			mine1 := revokedKey(newAPIKey("key_mine1", "team1", "u1", at(1)), at(2))
			mine2 := revokedKey(newAPIKey("key_mine2", "team2", "u1", at(1)), at(2))
			theirs := revokedKey(newAPIKey("key_theirs", "team1", "u2", at(1)), at(2))
			service := revokedKey(newAPIKey("key_service", "team1", "", at(1)), at(2))
			live := newAPIKey("key_live", "team1", "u2", at(1))
			seedKeys(t, st, mine1, mine2, theirs, service, live)
			c := update(t, st, func(ctx context.Context, tx store.Tx) error { return tx.DeleteUser(ctx, "u1") })
			checkEqual(t, "commit of DeleteUser", store.Commit{}, c)
			checkNoKey(t, st, "key_mine1")
			checkNoKey(t, st, "key_mine2")
			checkEqual(t, "keys of team1", []store.APIKey{theirs, service, live}, listKeys(t, st, "team1", ""))
			// Created again, the user has no keys.
			seedUsers(t, st, "u1")
			for _, account := range []string{"team1", "team2"} {
				if got := listKeys(t, st, account, "u1"); len(got) != 0 {
					t.Errorf("APIKeys(%s, u1) of the user created again = %+v, want none", account, got)
				}
			}
		}},
		{"concurrent revocations of one key: one succeeds, the rest ErrInvalid", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			seedAccounts(t, st, "team1")
			k := newAPIKey("key_1", "team1", "u1", at(1))
			seedKeys(t, st, k)
			rev := currentRevision(t, st)
			race := overlap.New(st, false)
			errs := race.Race(t, t.Context(), writers, func(ctx context.Context, i int) error {
				_, err := race.Update(ctx, func(tx store.Tx) error {
					return tx.UpdateAPIKey(ctx, revokedKey(k, at(10+i)))
				})
				return err
			})
			ok := 0
			for i, err := range errs {
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, store.ErrInvalid):
					t.Errorf("writer %d: %v, want nil or ErrInvalid", i, err)
				}
			}
			if ok != 1 {
				t.Errorf("%d revocations succeeded, want 1", ok)
			}
			checkEqual(t, "Changes after the revocations",
				[]store.Change{{Revision: rev + 1, Op: store.APIKeyRevoked, AccountID: "team1", UserID: "u1", Key: "key_1"}},
				changesAfter(t, st, rev))
		}},
		{"concurrent touches of the same keys keep each key's latest use", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			k1, k2 := newAPIKey("key_1", "team1", "", at(1)), newAPIKey("key_2", "team1", "", at(1))
			seedKeys(t, st, k1, k2)
			race := overlap.New(st, false)
			errs := race.Race(t, t.Context(), writers, func(ctx context.Context, i int) error {
				// Each writer names the keys in another order, and the
				// latest use of key_1 is the last writer's, of key_2 the
				// first's.
				uses := []store.APIKeyUse{{ID: "key_1", At: at(10 + i), IP: fmt.Sprint(i)}, {ID: "key_2", At: at(10 + writers - i), IP: fmt.Sprint(i)}}
				if i%2 == 1 {
					uses[0], uses[1] = uses[1], uses[0]
				}
				_, err := race.Update(ctx, func(tx store.Tx) error { return tx.TouchAPIKeys(ctx, uses) })
				return err
			})
			for i, err := range errs {
				if err != nil {
					t.Errorf("writer %d: %v", i, err)
				}
			}
			k1.LastUsedAt, k1.LastUsedIP = at(10+writers-1), fmt.Sprint(writers-1)
			k2.LastUsedAt, k2.LastUsedIP = at(10+writers), "0"
			checkEqual(t, "key_1", k1, readKey(t, st, "key_1"))
			checkEqual(t, "key_2", k2, readKey(t, st, "key_2"))
		}},
		{"a user's deletion and a key created for them at once never both succeed", func(t *testing.T) {
			st := s.open(t)
			seedAccounts(t, st, "team1")
			const rounds = 5
			for r := range rounds {
				user := fmt.Sprintf("u%d", r)
				seedUsers(t, st, user)
				k := newAPIKey("key_"+user, "team1", user, at(1))
				race := overlap.New(st, false)
				errs := race.Race(t, t.Context(), 2, func(ctx context.Context, i int) error {
					_, err := race.Update(ctx, func(tx store.Tx) error {
						if i == 0 {
							return tx.DeleteUser(ctx, user)
						}
						return tx.CreateAPIKey(ctx, k)
					})
					return err
				})
				switch deleted, created := errs[0] == nil, errs[1] == nil; {
				case deleted && created:
					t.Fatalf("round %d: the user was deleted and a key created for them", r)
				case deleted:
					checkErr(t, "CreateAPIKey for a user deleted meanwhile", errs[1], store.ErrNotFound)
					checkNoKey(t, st, k.ID)
				case created:
					checkErr(t, "DeleteUser of a user who got a key meanwhile", errs[0], store.ErrPrecondition)
					checkEqual(t, "the key", k, readKey(t, st, k.ID))
				default:
					t.Errorf("round %d: both failed: %v; %v", r, errs[0], errs[1])
				}
			}
		}},
	}
}

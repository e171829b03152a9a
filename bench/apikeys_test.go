package bench_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/token"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// keysFixture is a Roster on 10,000 generated teams (100,000 memberships)
// where every member has one API key: 100,000 keys.
type keysFixture struct {
	r      *roster.Roster
	tokens []string // of 1,024 keys spread over the teams
	keys   []question
	users  []question
}

// keys returns the fixture, building it in a temporary copy of the cached
// teams file: the keys go into the store in one transaction, the way a
// backfill would, and the Roster loads them with everything else.
func keys(b *testing.B) *keysFixture {
	b.Helper()
	const teams = 10000
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "keys.db")
	copyFile(b, sqliteFile(b, teams), path)
	s := openStore(b, path)
	b.Cleanup(func() { _ = s.Close() })
	f := &keysFixture{}
	now := time.Now().UTC()
	var ids []string
	_, err := s.Update(ctx, func(tx store.Tx) error {
		for t := range teams {
			for j := range membersPerTeam {
				id, tok, hash := token.NewAPIKey()
				k := store.APIKey{ID: id, AccountID: teamID(t), UserID: userID(t, j), Name: "bench", Role: string(memberRoles[j]),
					Hash: hash, CreatedBy: userID(t, j), CreatedAt: now}
				if err := tx.CreateAPIKey(ctx, k); err != nil {
					return err
				}
				if (t*membersPerTeam+j)%97 == 0 && len(f.tokens) < 1024 {
					f.tokens = append(f.tokens, tok)
					ids = append(ids, id)
					f.keys = append(f.keys, question{user: id, team: teamID(t), action: rbac.PodsConnect})
					f.users = append(f.users, question{user: userID(t, j), team: teamID(t), action: rbac.PodsConnect})
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	r, err := roster.New(ctx, s, rbac.Runpod(), roster.WithFollow(0))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = r.Close() })
	f.r = r
	for i, tok := range f.tokens {
		if p, err := r.Authenticate(ctx, tok); err != nil || p.Key != ids[i] {
			b.Fatalf("the fixture's key %d does not authenticate: %+v, %v", i, p, err)
		}
	}
	return f
}

// BenchmarkAPIKeys measures, at 100,000 keys, Authenticate of a key's
// token (parse, checksum, lookup, constant-time comparison, noting the
// use) and Can for a key's principal beside Can for a member, over the
// same 1,024 accounts.
func BenchmarkAPIKeys(b *testing.B) {
	ctx := context.Background()
	f := keys(b)
	b.Run("keys=100000", func(b *testing.B) {
		b.Run("authenticate", func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := f.r.Authenticate(ctx, f.tokens[i]); err != nil {
					b.Fatal(err)
				}
				if i++; i == len(f.tokens) {
					i = 0
				}
			}
		})
		for _, set := range []struct {
			name string
			qs   []question
		}{{"can/key", f.keys}, {"can/member", f.users}} {
			b.Run(set.name, func(b *testing.B) {
				b.ReportAllocs()
				measure(b, set.qs, func(q *question) bool { return f.r.Can(ctx, q.user, q.team, q.action) })
			})
		}
	})
}

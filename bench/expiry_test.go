package bench_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// BenchmarkCanExpiring measures Can at 100,000 memberships (10,000 teams),
// of which about one in ten (a third of the devs) holds its role until a
// year from now and falls back to basic then, beside the same questions on
// a Roster where no membership ends: "steady" asks about members whose memberships do not
// end (their answer takes the same path as before), "expiring" about
// those whose do (the path that reads the clock and the end time).
func BenchmarkCanExpiring(b *testing.B) {
	const teams = 10000
	ctx := context.Background()
	plain := filepath.Join(b.TempDir(), "plain.db")
	copyFile(b, sqliteFile(b, teams), plain)
	endingDB := filepath.Join(b.TempDir(), "ending.db")
	copyFile(b, plain, endingDB)
	open := func(path string) *roster.Roster {
		s := openStore(b, path) // brings the schema up to date
		b.Cleanup(func() { _ = s.Close() })
		r, err := roster.New(ctx, s, rbac.Runpod(), roster.WithFollow(0))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = r.Close() })
		return r
	}
	before := open(plain)
	// A tenth of the memberships, all of them devs, end in a year; their
	// holders fall back to basic then.
	ending := map[string]bool{}
	s := openStore(b, endingDB)
	until := time.Now().Add(365 * 24 * time.Hour)
	_, err := s.Update(ctx, func(tx store.Tx) error {
		for t := range teams {
			for j := range membersPerTeam {
				if memberRoles[j] != rbac.RunpodDev || (t*membersPerTeam+j)%3 != 0 {
					continue
				}
				m, err := tx.Member(ctx, teamID(t), userID(t, j))
				if err != nil {
					return err
				}
				m.Until, m.FallbackRole = until, string(rbac.RunpodBasic)
				if err := tx.UpdateMember(ctx, m); err != nil {
					return err
				}
				ending[m.UserID] = true
			}
		}
		return nil
	})
	if err != nil || s.Close() != nil {
		b.Fatal(err)
	}
	after := open(endingDB)
	var steady, expiring []question
	for t := 0; t < teams && (len(steady) < 1024 || len(expiring) < 1024); t += 7 {
		for j := range membersPerTeam {
			q := question{user: userID(t, j), team: teamID(t), action: rbac.PodsManage}
			if memberRoles[j] != rbac.RunpodDev {
				continue
			}
			if ending[q.user] {
				if len(expiring) < 1024 {
					expiring = append(expiring, q)
				}
			} else if len(steady) < 1024 {
				steady = append(steady, q)
			}
		}
	}
	compact(steady)
	compact(expiring)
	for _, set := range []struct {
		name string
		r    *roster.Roster
		qs   []question
	}{
		{"none-ending/steady", before, steady},
		{"one-in-ten-ending/steady", after, steady},
		{"one-in-ten-ending/expiring", after, expiring},
	} {
		b.Run(set.name, func(b *testing.B) {
			b.ReportAllocs()
			measure(b, set.qs, func(q *question) bool { return set.r.Can(ctx, q.user, q.team, q.action) })
		})
	}
}

package audit_test

import (
	"context"
	"testing"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
)

func TestConcurrentWritersKeepTheChain(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, b, rbac.Runpod())
		acct := e.team(t, "alice", member{"bob", rbac.RunpodDev}, member{"carol", rbac.RunpodBasic})
		other := e.team(t, "zed", member{"bob", rbac.RunpodDev})
		// A second Roster on the same store, as a second application instance.
		r2, err := roster.New(ctx, e.s, rbac.Runpod())
		if err != nil {
			t.Fatal(err)
		}
		writeAtOnce(t, e.r, r2, acct.ID, other.ID, 15)
		for _, c := range []struct{ actor, account string }{{"alice", acct.ID}, {"zed", other.ID}} {
			rep, err := e.r.Audit.Verify(ctx, c.actor, c.account)
			if err != nil {
				t.Errorf("Verify %s after concurrent writes: %v", c.account, err)
			}
			if n := len(e.all(t, c.account)); rep.Events != int64(n) {
				t.Errorf("Verify checked %d of %d events", rep.Events, n)
			}
		}
		// Every event of one account sorts in chain order: time never goes back.
		log := e.chainOrder(t, acct.ID)
		for i := 1; i < len(log); i++ {
			if log[i].Time.Before(log[i-1].Time) {
				t.Errorf("event %d at %v is older than event %d before it at %v", log[i].ID, log[i].Time, log[i-1].ID, log[i-1].Time)
			}
		}
	})
}

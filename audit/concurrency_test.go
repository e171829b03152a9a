package audit_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/audit"
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
		const each = 15
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		writer := func(svc *audit.Service, actor, account string) {
			wg.Go(func() {
				for i := range each {
					if _, err := svc.Record(ctx, actor, account, audit.Entry{Action: "pod.created", ResourceID: fmt.Sprint(actor, i)}); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		writer(e.r.Audit, "bob", acct.ID)
		writer(r2.Audit, "carol", acct.ID)
		writer(e.r.Audit, "zed", other.ID)
		writer(r2.Audit, "bob", other.ID)
		wg.Go(func() {
			for i := range each {
				role := []rbac.Role{rbac.RunpodBasic, rbac.RunpodBilling}[i%2]
				if _, err := r2.Teams.ChangeRole(ctx, "alice", acct.ID, "carol", role); err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Go(func() {
			for range each {
				if _, _, err := e.r.Audit.Query(ctx, "alice", acct.ID, audit.Filter{Limit: 5}); err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
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

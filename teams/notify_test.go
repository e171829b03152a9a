package teams_test

import (
	"context"
	"testing"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
)

// TestNilNotifier checks that a nil Notifier, like none at all, sends
// nothing: the calls that would send an email succeed.
func TestNilNotifier(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		r, _ := rostertest.Open(t, b, rbac.DigitalOcean(), roster.WithNotifier(nil), roster.WithBaseURL("https://app.example.com"))
		acct := rostertest.Team(t, r, "olive", map[string]rbac.Role{"max": rbac.DigitalOceanMember})
		if _, err := r.Teams.TransferOwnership(ctx, "olive", acct.ID, "max"); err != nil {
			t.Errorf("TransferOwnership: %v", err)
		}
		if _, err := r.Invites.CreateEmail(ctx, "olive", acct.ID, rbac.DigitalOceanMember, []string{"new@example.com"}); err != nil {
			t.Errorf("CreateEmail: %v", err)
		}
	})
}

package notify_test

import (
	"context"
	"log"
	"os"
	"time"

	"github.com/teamroster/roster/notify"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

func ExampleLog() {
	ctx := context.Background()
	n := &notify.Log{W: os.Stdout}
	err := n.SendInvite(ctx, notify.Invite{
		To: "max@example.com", Team: "Droplets", InviterName: "Olive", Role: rbac.DigitalOceanMember,
		Link: "https://cloud.example.com/invites/TOKEN", ExpiresAt: time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC),
	})
	if err != nil {
		log.Fatal(err)
	}
	err = n.TransferConfirm(ctx, notify.Transfer{
		Kind: store.TransferAccount, From: "olive", To: "max", Email: "olive@example.com", TeamName: "Droplets",
		Link: "https://cloud.example.com/transfers/xfr_1?token=TOKEN",
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// invite to max@example.com: Olive invites you to join "Droplets" as member (expires 2025-07-01T12:00:00Z): https://cloud.example.com/invites/TOKEN
	// to olive <olive@example.com>: confirm that max may take over the ownership of "Droplets": https://cloud.example.com/transfers/xfr_1?token=TOKEN
}

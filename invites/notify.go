package invites

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/teamroster/roster/rbac"
)

// Notifier sends invitation emails. The host application implements it with
// its mail service (the same type may also implement the teams package's
// notifier for ownership transfers). The Service calls SendInvite after the
// invite is committed, once per address, from the goroutine of the call that
// created or resent it; an implementation must be safe for concurrent use.
// An error it returns is passed to the caller wrapped in ErrNotSent; the
// invite stays and can be resent.
type Notifier interface {
	SendInvite(ctx context.Context, m Message) error
}

// Message is one invitation email to send.
type Message struct {
	// To is the invited address, in canonical form.
	To string
	// AccountID and Team name the team the invite is to.
	AccountID string
	Team      string
	// InviterID and InviterName name the member who sent the invite.
	InviterID   string
	InviterName string
	Role        rbac.Role
	// Link accepts the invite. It is a secret: send it only to To.
	Link string
	// ExpiresAt is when the link stops working; zero means never.
	ExpiresAt time.Time
	// RequireSecure means the invitee must sign in with email and 2FA,
	// Google or GitHub to accept.
	RequireSecure bool
	// Resent is true when the invite was resent: earlier links no longer
	// work.
	Resent bool
}

// LogNotifier is a Notifier for development and examples: it writes each
// message as one line to W instead of sending it. The line contains the
// link, a secret, so do not use it where logs are shared. It is safe for
// concurrent use if W is.
type LogNotifier struct {
	W io.Writer
}

// SendInvite writes m to n.W and returns the write error.
func (n LogNotifier) SendInvite(ctx context.Context, m Message) error {
	expires := "never expires"
	if !m.ExpiresAt.IsZero() {
		expires = "expires " + m.ExpiresAt.Format(time.RFC3339)
	}
	verb := "invite"
	if m.Resent {
		verb = "invite (resent)"
	}
	_, err := fmt.Fprintf(n.W, "%s to %s: %s invites you to join %q as %s (%s): %s\n",
		verb, m.To, m.InviterName, m.Team, m.Role, expires, m.Link)
	return err
}

// Package notify is how roster asks the host application to send email:
// the invitations of package invites and the links of the ownership
// transfer flow of package teams. roster never sends mail itself. The host
// implements Notifier with its mail service and passes it to
// roster.WithNotifier (or to teams.WithNotifier and invites.WithNotifier
// when it wires the services by hand); Log writes each email as a line
// instead, for development and examples.
package notify

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// Notifier sends roster's emails. The services call it after the change an
// email reports on has committed, never inside the transaction, from the
// goroutine of the call that made the change, so a slow or failing mail
// service holds no lock and undoes nothing. An error it returns is handed
// back to that call's caller, wrapped in invites.ErrNotSent or
// teams.ErrNotify, and the change stands. Without a Notifier (or with a nil
// one) nothing is sent. Implementations must be safe for concurrent use.
type Notifier interface {
	// SendInvite sends an invitation email, once per address, after the
	// invite was created or resent.
	SendInvite(ctx context.Context, m Invite) error
	// TransferConfirm asks the member who started an ownership transfer
	// (m.From) to confirm, through m.Link, that m.To may take the account
	// over or get the top role (m.Kind says which).
	TransferConfirm(ctx context.Context, m Transfer) error
	// TransferAccept asks the recipient of an ownership transfer (m.To) to
	// accept through m.Link, once m.From has confirmed.
	TransferAccept(ctx context.Context, m Transfer) error
}

// Invite is one invitation email to send.
type Invite struct {
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

// Transfer is one email of the ownership transfer flow: the request to
// confirm, sent to From, or the request to accept, sent to To. The token is
// a secret for its recipient alone; it is never stored.
type Transfer struct {
	TransferID string
	AccountID  string
	TeamName   string
	// Kind says whether the transfer hands the account over
	// (store.TransferAccount) or grants the top role (store.TransferRole).
	Kind     store.TransferKind
	From, To string // user IDs
	// Email is the recipient's address.
	Email string
	Token string
	// Link carries the transfer ID and the token; it is a secret too.
	Link      string
	ExpiresAt time.Time
}

// Log is a Notifier for development and examples: it writes each email as
// one line to W instead of sending it. The line contains the link, a
// secret, so do not use it where logs are shared. It is safe for concurrent
// use: it writes one line at a time, so W need not be.
type Log struct {
	W  io.Writer
	mu sync.Mutex
}

var _ Notifier = (*Log)(nil)

// SendInvite writes the invitation's line and returns the write error.
func (l *Log) SendInvite(_ context.Context, m Invite) error {
	expires := "never expires"
	if !m.ExpiresAt.IsZero() {
		expires = "expires " + m.ExpiresAt.Format(time.RFC3339)
	}
	verb := "invite"
	if m.Resent {
		verb = "invite (resent)"
	}
	return l.write("%s to %s: %s invites you to join %q as %s (%s): %s",
		verb, m.To, m.InviterName, m.Team, m.Role, expires, m.Link)
}

// TransferConfirm writes the confirmation email's line and returns the
// write error.
func (l *Log) TransferConfirm(_ context.Context, m Transfer) error {
	return l.write("to %s <%s>: confirm that %s may %s %q: %s", m.From, m.Email, m.To, what(m.Kind), m.TeamName, m.Link)
}

// TransferAccept writes the acceptance email's line and returns the write
// error.
func (l *Log) TransferAccept(_ context.Context, m Transfer) error {
	return l.write("to %s <%s>: accept to %s %q, offered by %s: %s", m.To, m.Email, what(m.Kind), m.TeamName, m.From, m.Link)
}

// what says what a transfer of kind k gives, for a line.
func what(k store.TransferKind) string {
	if k == store.TransferAccount {
		return "take over the ownership of"
	}
	return "become an owner of"
}

// write writes one line to l.W.
func (l *Log) write(format string, args ...any) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err := fmt.Fprintf(l.W, format+"\n", args...)
	return err
}

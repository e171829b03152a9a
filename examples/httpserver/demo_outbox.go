package main

// DEMO ONLY: this file stands in for the host application's mailer, the
// notify.Notifier roster sends its emails through. Replace outbox with
// your mail service and drop GET /api/demo/outbox.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/notify"
	"github.com/teamroster/roster/store"
)

// email is one email the demo would have sent.
type email struct {
	// To is the recipient's address; UserID their user ID when known (the
	// transfer emails).
	To     string    `json:"to"`
	UserID string    `json:"user_id,omitempty"`
	Kind   string    `json:"kind"` // "invite", "transfer.confirm", "transfer.accept"
	Text   string    `json:"text"`
	Link   string    `json:"link"`
	Token  string    `json:"token,omitempty"` // the transfer token to post back
	ID     string    `json:"id,omitempty"`    // the transfer ID
	Sent   time.Time `json:"sent"`
}

// outbox is the demo mailer (a notify.Notifier): it keeps every email and
// logs a line for each, instead of sending it. The demo lets a signed-in
// user read their own mail through GET /api/demo/outbox. It is safe for
// concurrent use.
type outbox struct {
	log  io.Writer
	mu   sync.Mutex
	mail []email
}

var _ notify.Notifier = (*outbox)(nil)

// newOutbox returns an empty outbox that writes a line to log for each
// email, one line at a time, so log need not be safe for concurrent use. A
// failed write to log is the error of the send that made it.
func newOutbox(log io.Writer) *outbox {
	return &outbox{log: log}
}

// add keeps m and logs a line for it.
func (o *outbox) add(m email) error {
	m.Sent = time.Now().UTC()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.mail = append(o.mail, m)
	_, err := fmt.Fprintf(o.log, "mail to %s: %s %s\n", m.To, m.Text, m.Link)
	return err
}

// SendInvite keeps an invitation email.
func (o *outbox) SendInvite(_ context.Context, m notify.Invite) error {
	return o.add(email{To: m.To, Kind: "invite", Link: m.Link,
		Text: fmt.Sprintf("%s invites you to join %q as %s", m.InviterName, m.Team, m.Role)})
}

// TransferConfirm keeps the email asking the current owner to confirm a
// transfer.
func (o *outbox) TransferConfirm(_ context.Context, n notify.Transfer) error {
	return o.add(email{To: n.Email, UserID: n.From, Kind: "transfer.confirm", Link: n.Link, Token: n.Token, ID: n.TransferID,
		Text: fmt.Sprintf("confirm that %s becomes an owner of %q", n.To, n.TeamName)})
}

// TransferAccept keeps the email asking the new owner to accept.
func (o *outbox) TransferAccept(_ context.Context, n notify.Transfer) error {
	return o.add(email{To: n.Email, UserID: n.To, Kind: "transfer.accept", Link: n.Link, Token: n.Token, ID: n.TransferID,
		Text: fmt.Sprintf("%s asks you to become an owner of %q", n.From, n.TeamName)})
}

// to returns the mail sent to u, by user ID or address, newest first.
func (o *outbox) to(u store.User) []email {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := []email{}
	for i := len(o.mail) - 1; i >= 0; i-- {
		m := o.mail[i]
		if m.UserID == u.ID || strings.EqualFold(m.To, u.Email) {
			out = append(out, m)
		}
	}
	return out
}

// readOutbox is the signed-in user's mail, newest first.
func (s *server) readOutbox(_ http.ResponseWriter, req *http.Request) (any, error) {
	user, _ := roster.UserFrom(req.Context())
	u, err := s.r.Teams.User(req.Context(), user)
	if err != nil {
		return nil, err
	}
	return s.outbox.to(u), nil
}

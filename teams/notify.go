package teams

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/teamroster/roster/store"
)

// Notifier sends the emails of the ownership transfer flow. The host
// application implements it with its own mailer; roster never sends mail
// itself. It is called after the change has committed; an error it returns is
// handed back to the caller wrapped in ErrNotify, and the change stands.
// Implementations must be safe for concurrent use.
type Notifier interface {
	// TransferConfirm asks the member who started the transfer (n.From)
	// to confirm, through n.Link, that n.To may take the account over or
	// get the top role (n.Kind says which).
	TransferConfirm(ctx context.Context, n TransferNotice) error
	// TransferAccept invites the recipient (n.To) to accept through n.Link,
	// once n.From has confirmed.
	TransferAccept(ctx context.Context, n TransferNotice) error
}

// TransferNotice is what a Notifier needs to write a transfer email. The
// token is a secret for its recipient alone; it is never stored.
type TransferNotice struct {
	TransferID string
	AccountID  string
	TeamName   string
	// Kind says whether the transfer hands the account over
	// (store.TransferAccount) or grants the top role (store.TransferRole).
	Kind      store.TransferKind
	From, To  string // user IDs
	Email     string // the recipient's address
	Token     string
	Link      string // the link base, the transfer ID and the token
	ExpiresAt time.Time
}

// discard is the default Notifier: it sends nothing.
type discard struct{}

func (discard) TransferConfirm(context.Context, TransferNotice) error { return nil }
func (discard) TransferAccept(context.Context, TransferNotice) error  { return nil }

// LogNotifier is a Notifier for examples and development: it writes one line
// per email to W instead of sending it, including the link. It is safe for
// concurrent use.
type LogNotifier struct {
	W  io.Writer
	mu sync.Mutex
}

// TransferConfirm writes the confirmation email's line.
func (l *LogNotifier) TransferConfirm(_ context.Context, n TransferNotice) error {
	return l.write("to %s <%s>: confirm that %s may %s %q: %s", n.From, n.Email, n.To, what(n.Kind), n.TeamName, n.Link)
}

// TransferAccept writes the acceptance email's line.
func (l *LogNotifier) TransferAccept(_ context.Context, n TransferNotice) error {
	return l.write("to %s <%s>: accept to %s %q, offered by %s: %s", n.To, n.Email, what(n.Kind), n.TeamName, n.From, n.Link)
}

// what says what a transfer of kind k gives, for a notice.
func what(k store.TransferKind) string {
	if k == store.TransferAccount {
		return "take over the ownership of"
	}
	return "become an owner of"
}

func (l *LogNotifier) write(format string, args ...any) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err := fmt.Fprintf(l.W, format+"\n", args...)
	return err
}

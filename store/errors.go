package store

import "fmt"

// The kinds of error. Every error roster returns wraps one of them, through
// the sentinel of the package that returned it (see Errors in the package
// documentation); callers test for a kind, or for the sentinel, with
// errors.Is. Each kind says what the caller should do. Every Store and Tx
// method documents which kinds it returns; implementations wrap them
// (fmt.Errorf("create user %s: %w", id, ErrExists)). Driver errors never
// escape unwrapped: they are translated to one of these or wrapped together
// with ErrBackend.
var (
	// ErrInvalid means the request is malformed: an argument, a record or
	// an option failed validation, and nothing was written. The same call
	// fails the same way until its input is fixed. HTTP 400.
	ErrInvalid = newKind("store: invalid input")
	// ErrNotFound means something the request names does not exist (or is
	// not the caller's to see, where saying so would reveal that it
	// exists). HTTP 404.
	ErrNotFound = newKind("store: not found")
	// ErrExists means what the request would create or grant exists
	// already; nothing changed. HTTP 409.
	ErrExists = newKind("store: already exists")
	// ErrDenied means the actor may not do this: they are not a member,
	// their role lacks the permission, or a secret they showed does not
	// match. The same call by the same actor fails the same way. HTTP 403.
	ErrDenied = newKind("store: permission denied")
	// ErrUnauthenticated means the request did not say who makes it, or
	// said it with a credential that is not good (an API key that is
	// malformed, unknown, revoked or expired: which, it does not say).
	// Sign in or send a working credential. HTTP 401.
	ErrUnauthenticated = newKind("store: not authenticated")
	// ErrGone means what the request names existed but is used up for
	// good: an invite expired, was revoked or used, a transfer expired,
	// history was pruned. Ask for a new one. HTTP 410.
	ErrGone = newKind("store: gone")
	// ErrPrecondition means the request is well formed and allowed, but
	// the present state of what it acts on forbids it: the account is
	// personal, the change would take the account from its owner, the
	// role is in use. Change that state first. HTTP 409.
	ErrPrecondition = newKind("store: precondition failed")
	// ErrConflict means the transaction lost a race with a concurrent one
	// (a serialization failure or deadlock) and was rolled back; it may be
	// retried. HTTP 409.
	ErrConflict = newKind("store: conflicting concurrent transaction")
	// ErrClosed means the Store has been closed: the server is shutting
	// down. HTTP 503.
	ErrClosed = newKind("store: closed")
	// ErrBackend means the server's side failed, not the request: the
	// database, or something else roster relies on (a Notifier that could
	// not send, a missing setting, stored data found damaged); the
	// sentinels of other packages that wrap it say which. HTTP 500.
	ErrBackend = newKind("store: backend failure")
)

// ErrNotTeam means an operation that needs a team account was asked of a
// personal account. The teams and invites services return it. It wraps
// ErrPrecondition.
var ErrNotTeam = Kinded(ErrPrecondition, "store: not a team account")

// ErrNoSeats means a team has no free seat for a new member or invitation:
// its seat limit (Account.SeatLimit) is filled. The teams and invites
// services return it inside a *SeatLimitError, which names the limit. It
// wraps ErrPrecondition.
var ErrNoSeats = Kinded(ErrPrecondition, "store: the team has no free seat")

// SeatLimitError is the error of a join or an invitation that would take a
// team past its seat limit. errors.Is finds ErrNoSeats through it.
type SeatLimitError struct {
	// Limit is the team's seat limit; Used the seats its members and
	// pending invitations fill.
	Limit, Used int
}

// Error says how many of the team's seats are filled.
func (e *SeatLimitError) Error() string {
	return fmt.Sprintf("store: the team has no free seat: %d of its %d seats are filled", e.Used, e.Limit)
}

// Unwrap returns ErrNoSeats.
func (e *SeatLimitError) Unwrap() error { return ErrNoSeats }

// sentinel is the type of the kinds and of the sentinels Kinded makes.
type sentinel struct {
	msg  string
	kind error // nil for a kind
}

func (e *sentinel) Error() string { return e.msg }
func (e *sentinel) Unwrap() error { return e.kind }

// newKind returns a new kind of error with the message msg.
func newKind(msg string) error { return &sentinel{msg: msg} }

// Kinded returns a new sentinel error for a package's exported Err
// variable: its Error is msg alone, which by convention starts with the
// package's prefix ("invites: invite already used"), and errors.Is finds
// kind (one of the kinds, or another sentinel Kinded made, which wraps
// one) through it. It is safe for concurrent use.
func Kinded(kind error, msg string) error { return &sentinel{msg: msg, kind: kind} }

// Sentinel returns the most specific sentinel err wraps: the first kind, or
// sentinel made by Kinded, that errors.Is meets as it searches err's tree;
// nil if there is none (a nil err, or one that wraps no kind). Unlike err's
// own text, which names the accounts, users and database errors of the
// operation, the sentinel's text is fit to show to a client. It is safe for
// concurrent use.
func Sentinel(err error) error {
	for err != nil {
		if _, ok := err.(*sentinel); ok {
			return err
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if s := Sentinel(e); s != nil {
					return s
				}
			}
			return nil
		default:
			return nil
		}
	}
	return nil
}

package store

import (
	"fmt"
	"slices"
	"time"
)

// SignIn is how a user signs in to the host application. Owners see it in
// the members table, invites may require a secure one, and a team may
// require one of all its members (Account.RequireSecureSignIn). Which
// methods exist and which are secure is the host's to say (see SignIns);
// the store keeps the name.
type SignIn string

// The sign-in methods roster knows by default, DigitalOcean's four.
const (
	SignInEmail    SignIn = "email"
	SignInEmail2FA SignIn = "email+2fa"
	SignInGoogle   SignIn = "google"
	SignInGitHub   SignIn = "github"
)

// MaxSignInLen is the longest sign-in method name, in bytes.
const MaxSignInLen = 64

// Valid reports whether s is a well-formed sign-in method name: 1 to
// MaxSignInLen bytes of lower-case ASCII letters, digits and the characters
// "+", "-", "_" and ".", starting with a letter. Whether the host accepts
// the method is SignIns' to say.
func (s SignIn) Valid() bool {
	if len(s) == 0 || len(s) > MaxSignInLen || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

// SignIns is the set of sign-in methods a host accepts, each secure or not.
// The zero value holds DigitalOcean's four methods, of which all but a bare
// email and password are secure (DefaultSignIns); With adds the host's own,
// such as "saml" or "passkey". A SignIns is a value: With returns a new one,
// and a SignIns is safe for concurrent use.
type SignIns struct {
	extra map[SignIn]bool // methods added to or changed from the defaults: secure or not
}

// DefaultSignIns returns the default set: SignInEmail (not secure),
// SignInEmail2FA, SignInGoogle and SignInGitHub (secure).
func DefaultSignIns() SignIns { return SignIns{} }

// With returns the set with method added, or changed, as secure or not. It
// returns an error wrapping ErrInvalid if the name is malformed (see
// SignIn.Valid).
func (s SignIns) With(method SignIn, secure bool) (SignIns, error) {
	if !method.Valid() {
		return s, fmt.Errorf("%w: malformed sign-in method %q", ErrInvalid, method)
	}
	extra := make(map[SignIn]bool, len(s.extra)+1)
	for m, sec := range s.extra {
		extra[m] = sec
	}
	extra[method] = secure
	return SignIns{extra: extra}, nil
}

// Known reports whether the host accepts method.
func (s SignIns) Known(method SignIn) bool {
	if _, ok := s.extra[method]; ok {
		return true
	}
	switch method {
	case SignInEmail, SignInEmail2FA, SignInGoogle, SignInGitHub:
		return true
	}
	return false
}

// Secure reports whether method is a known, secure sign-in method.
func (s SignIns) Secure(method SignIn) bool {
	if sec, ok := s.extra[method]; ok {
		return sec
	}
	return method == SignInEmail2FA || method == SignInGoogle || method == SignInGitHub
}

// Methods returns the known methods, sorted by name.
func (s SignIns) Methods() []SignIn {
	ms := []SignIn{SignInEmail, SignInEmail2FA, SignInGitHub, SignInGoogle}
	for m := range s.extra {
		if !slices.Contains(ms, m) {
			ms = append(ms, m)
		}
	}
	slices.Sort(ms)
	return ms
}

// User is a person of the host application, known by the host's own user ID.
type User struct {
	ID     string // the host application's user ID
	Email  string
	Name   string
	SignIn SignIn
	// ActiveAccount is the account the user currently works in; empty
	// means their personal account. It is written by CreateUser and then
	// changes only through Tx.SetActiveAccount.
	ActiveAccount string
	CreatedAt     time.Time
}

// AccountKind tells a personal account from a team account.
type AccountKind string

// The kinds of account.
const (
	Personal AccountKind = "personal"
	Team     AccountKind = "team"
)

// Account is the unit resources belong to: a user's personal account, or a
// team account converted from one. Its ID never changes, so resources the host
// application attaches to it stay attached across conversions.
type Account struct {
	ID   string
	Kind AccountKind
	// Name is the team name; empty for a personal account.
	Name string
	// Owner is the account's owner: the user whose personal account it is
	// or was, or who last accepted an ownership handover (a Transfer of kind
	// TransferAccount). The owner is always a member of the account. An
	// account emptied by the deletion of its owner (teams.Service.DeleteUser)
	// has no members and no owner ("").
	Owner string
	// RequireSecureSignIn means members whose sign-in method is not secure
	// may do nothing in the account until they enable a secure one, and
	// invitations made meanwhile require one. Teams only.
	RequireSecureSignIn bool
	// SeatLimit is the most seats the team may fill, members and pending
	// invitations counted (see Tx.Seats); 0 means no limit. Lowering it
	// below the seats filled removes nobody: it only blocks new joins.
	SeatLimit int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Member is a user's membership of an account with a role. A personal
// account has exactly one member, its owner, with the policy's top role.
type Member struct {
	AccountID string
	UserID    string
	Role      string
	JoinedAt  time.Time
	// Until, when set, is when the membership ends (FallbackRole empty),
	// or when Role, granted for a while, falls back to FallbackRole. Can
	// honours it from that instant; the store's record changes later, when
	// the expiry is swept (see Tx.ExpiredMembers).
	Until        time.Time
	FallbackRole string
	// SuspendedAt is when the member was suspended, zero while they are
	// not, and SuspendedBy who suspended them. A suspended member keeps
	// their role and their seat and may do nothing until reinstated.
	SuspendedAt time.Time
	SuspendedBy string
}

// Expired reports whether the membership's Until has passed at now.
func (m Member) Expired(now time.Time) bool { return !m.Until.IsZero() && !now.Before(m.Until) }

// Suspended reports whether the member is suspended.
func (m Member) Suspended() bool { return !m.SuspendedAt.IsZero() }

// TeamRole is a role an account defines for itself (a custom role): a name
// unique within the account and a set of the policy's actions. Members and
// invites name it in their Role like a policy role.
type TeamRole struct {
	AccountID string
	Name      string
	// Actions are the role's actions, sorted, without repeats.
	Actions   []string
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// InviteKind tells link invites from email invites.
type InviteKind string

// The kinds of invite.
const (
	InviteLink  InviteKind = "link"
	InviteEmail InviteKind = "email"
)

// InviteStatus is where an invite stands. A stored Invite is pending,
// accepted, revoked or superseded; expired is computed when an invite is
// shown (invites.Invitation.Status), never stored.
type InviteStatus string

// The states of an invite.
const (
	// InvitePending: the invite can be accepted (a reusable link may have
	// been used already, fewer than MaxUses times), unless it has expired.
	InvitePending InviteStatus = "pending"
	// InviteAccepted: the invite has been used up.
	InviteAccepted InviteStatus = "accepted"
	// InviteRevoked: a member revoked it, its team was deleted, or its
	// inviter lost the right to invite.
	InviteRevoked InviteStatus = "revoked"
	// InviteSuperseded marks the record that keeps a resent invite's old
	// token hash, so that the old token is told apart from an unknown one.
	// SupersededBy names the invite that was resent. Such records are
	// never listed.
	InviteSuperseded InviteStatus = "superseded"
	// InviteExpired is computed, never stored: it is how a pending invite
	// whose ExpiresAt has passed is shown. roster never writes it to a
	// Store, and a stored invite that has expired stays InvitePending.
	InviteExpired InviteStatus = "expired"
)

// Invite is an invitation to join an account with a role. Only the hash of
// its token is stored.
type Invite struct {
	ID        string
	AccountID string
	Kind      InviteKind
	Role      string
	// Email is the address an email invite is bound to; empty for links.
	Email string
	// RequireSecure means only a user with a secure sign-in method may accept.
	RequireSecure bool
	TokenHash     []byte
	Status        InviteStatus
	// MaxUses is how many times the invite may be accepted (1 for a
	// single-use invite); Uses counts acceptances so far.
	MaxUses   int
	Uses      int
	CreatedBy string
	CreatedAt time.Time
	// ExpiresAt is when the invite stops working; zero means never.
	ExpiresAt time.Time
	UpdatedAt time.Time
	// SupersededBy is set on an InviteSuperseded record: the ID of the
	// invite whose token was replaced by a resend. Empty otherwise.
	SupersededBy string
	// ResentBy and ResentAt record the latest resend (a new token); both
	// are empty (zero) if the invite was never resent.
	ResentBy string
	ResentAt time.Time
}

// Expired reports whether the invite's expiry time has passed at now; an
// invite without one never expires.
func (inv Invite) Expired(now time.Time) bool {
	return !inv.ExpiresAt.IsZero() && !now.Before(inv.ExpiresAt)
}

// InviteUse records that a user joined an account by accepting an invite.
// A user uses an invite at most once; a reusable link has one InviteUse per
// user who accepted it.
type InviteUse struct {
	InviteID string
	UserID   string
	UsedAt   time.Time
}

// TransferStatus is where an ownership transfer stands.
type TransferStatus string

// The states of an ownership transfer.
const (
	TransferAwaitingConfirm TransferStatus = "awaiting_confirm"
	TransferAwaitingAccept  TransferStatus = "awaiting_accept"
	TransferDone            TransferStatus = "done"
	TransferCancelled       TransferStatus = "cancelled"
)

// TransferKind tells what an ownership transfer hands over.
type TransferKind string

// The kinds of ownership transfer.
const (
	// TransferAccount hands the account over: the recipient becomes the
	// account's Owner.
	TransferAccount TransferKind = "account"
	// TransferRole grants the recipient the policy's top role, as
	// DigitalOcean's ownership transfer does; it does not change the
	// account's Owner.
	TransferRole TransferKind = "role"
)

// Valid reports whether k is one of the known kinds of transfer.
func (k TransferKind) Valid() bool { return k == TransferAccount || k == TransferRole }

// Transfer is an ownership transfer: From must confirm, then the recipient To
// must accept. Kind says what To receives. Only hashes of the two tokens are
// stored.
type Transfer struct {
	ID          string
	AccountID   string
	Kind        TransferKind
	From        string
	To          string
	Status      TransferStatus
	ConfirmHash []byte
	AcceptHash  []byte
	CreatedAt   time.Time
	ExpiresAt   time.Time
	UpdatedAt   time.Time
}

// Result records whether an audited attempt was carried out.
type Result string

// The results of an audited attempt.
const (
	Allowed Result = "allowed"
	Denied  Result = "denied"
)

// Event is one entry of an account's audit log.
type Event struct {
	// ID is assigned by the store; it grows with every append.
	ID        int64
	AccountID string
	Time      time.Time   // UTC
	Actor     string      // the user who acted
	Action    EventAction // for example EventMemberJoined
	// ResourceType and ResourceID name what was acted on, for example
	// "member" and a user ID.
	ResourceType string
	ResourceID   string
	Result       Result
	Reason       string
	// Before and After hold the changed values as JSON, when there are any.
	Before string
	After  string
	// Request metadata the host application put in the context.
	IP        string
	UserAgent string
	RequestID string
	// PrevHash and Hash link the event into its account's hash chain: Hash
	// covers the event's content and PrevHash, which is the Hash of the
	// account's previous event. A Store keeps both as given; roster computes
	// them above the Store when it appends an event (nil when an event was
	// appended without them).
	PrevHash []byte
	Hash     []byte
	// Salt and Commitment let the event's personal fields (Before, After,
	// Reason, IP and UserAgent) be erased without breaking the chain:
	// Commitment is a salted hash of those fields, and Hash covers
	// Commitment instead of them. Erasing the event (Tx.EraseEvent)
	// rewrites the fields and deletes Salt; Commitment stays. A Store keeps
	// both as given; both are nil for events appended before commitments
	// existed, whose Hash covers the fields themselves.
	Salt       []byte
	Commitment []byte
}

// EventOrder is the order in which Events and ScanEvents return events.
type EventOrder string

// The orders of events.
const (
	// NewestFirst orders by Time descending, then ID descending: the order
	// of an audit log page. It is the zero value.
	NewestFirst EventOrder = ""
	// AppendOrder orders by ID ascending: the order in which events were
	// appended, which is the order of an account's hash chain.
	AppendOrder EventOrder = "append"
)

// Valid reports whether o is one of the known orders.
func (o EventOrder) Valid() bool { return o == NewestFirst || o == AppendOrder }

// EventKey is the position of an event in NewestFirst order: its Time and
// ID. It is the cursor of keyset pagination over events.
type EventKey struct {
	Time time.Time
	ID   int64
}

// IsZero reports whether k is the zero key, which does not filter.
func (k EventKey) IsZero() bool { return k.ID == 0 && k.Time.IsZero() }

// ChainHead is where an account's audit hash chain stands: its newest
// event and, once older events have been pruned, the anchor that the
// oldest kept event links to. roster keeps it in the same transaction as
// every event it appends, so that deleting the newest events is detectable.
type ChainHead struct {
	AccountID string
	// LastID, LastHash and LastTime are the ID, Hash and Time of the
	// account's newest chained event.
	LastID   int64
	LastHash []byte
	LastTime time.Time
	// AnchorID and AnchorHash are the ID and Hash of the newest pruned
	// event; the oldest kept event's PrevHash equals AnchorHash. Both are
	// zero when nothing was pruned.
	AnchorID   int64
	AnchorHash []byte
}

// EventFilter selects audit events. Zero fields do not filter.
type EventFilter struct {
	AccountID    string
	Actor        string
	Action       EventAction
	ResourceType string
	ResourceID   string
	// Since and Until bound Time: Since <= Time < Until.
	Since, Until time.Time
	// BeforeID returns only events with ID < BeforeID (a cursor).
	BeforeID int64
	// Limit caps the number of events; 0 means no limit.
	Limit int

	// Result, when set, selects events with that result.
	Result Result
	// Order is the order of the events returned; the zero value is
	// NewestFirst.
	Order EventOrder
	// Below, when not zero, returns only events that come after it in
	// NewestFirst order: Time < Below.Time, or Time == Below.Time and
	// ID < Below.ID (a keyset cursor). Both of its fields must be set.
	Below EventKey
	// AfterID returns only events with ID > AfterID (a cursor for
	// AppendOrder).
	AfterID int64
}

// Validate checks f the way every Store checks a filter before Events and
// ScanEvents: it returns an error wrapping ErrInvalid if Limit, BeforeID or
// AfterID is negative, Since is after Until, Order or Result is unknown, or
// Below has only one of its fields set (or a non-positive ID); nil
// otherwise.
func (f EventFilter) Validate() error {
	switch {
	case f.Limit < 0:
		return fmt.Errorf("%w: negative limit %d", ErrInvalid, f.Limit)
	case f.BeforeID < 0:
		return fmt.Errorf("%w: negative BeforeID %d", ErrInvalid, f.BeforeID)
	case f.AfterID < 0:
		return fmt.Errorf("%w: negative AfterID %d", ErrInvalid, f.AfterID)
	case !f.Since.IsZero() && !f.Until.IsZero() && f.Since.After(f.Until):
		return fmt.Errorf("%w: Since %s is after Until %s", ErrInvalid, f.Since, f.Until)
	case !f.Order.Valid():
		return fmt.Errorf("%w: unknown event order %q", ErrInvalid, f.Order)
	case f.Result != "" && f.Result != Allowed && f.Result != Denied:
		return fmt.Errorf("%w: unknown result %q", ErrInvalid, f.Result)
	case !f.Below.IsZero() && (f.Below.ID <= 0 || f.Below.Time.IsZero()):
		return fmt.Errorf("%w: cursor key needs a positive ID and a time", ErrInvalid)
	}
	return nil
}

// DomainMode says what a team's verified email domain does for users whose
// verified address is at that domain.
type DomainMode string

// The modes of a verified domain.
const (
	// DomainAutoJoin makes such a user a member with the domain's Role.
	DomainAutoJoin DomainMode = "auto_join"
	// DomainSuggest shows them the team, to ask to join.
	DomainSuggest DomainMode = "suggest"
)

// Valid reports whether m is one of the modes.
func (m DomainMode) Valid() bool { return m == DomainAutoJoin || m == DomainSuggest }

// Domain is an email domain a team claims: pending until the host confirms
// that the domain's DNS holds the Challenge (VerifiedAt set). A domain is
// verified for one team at a time; several teams may claim it meanwhile.
type Domain struct {
	// Name is the domain, lower case, such as "example.com".
	Name      string
	AccountID string
	Mode      DomainMode
	// Role is the role an auto-joining user gets.
	Role string
	// Challenge is the value the host asks the domain's owner to publish
	// in a DNS TXT record.
	Challenge  string
	VerifiedAt time.Time
	CreatedBy  string
	CreatedAt  time.Time
}

// Verified reports whether the host confirmed the domain for its team.
func (d Domain) Verified() bool { return !d.VerifiedAt.IsZero() }

// Package store defines what roster keeps and the contract for keeping it: the
// records (Account, User, Member, Invite, Transfer, Event), the Store and Tx
// interfaces every backend implements, the change feed that keeps in-memory
// indexes equal to the stored data, and the kinds of error every package of
// roster returns.
//
// The package depends on the standard library only. The default implementation
// is in store/sqlstore; store/storetest holds the conformance suite any Store
// must pass.
//
// # Errors
//
// Every error roster returns has a kind: ErrInvalid, ErrNotFound, ErrExists,
// ErrDenied, ErrGone, ErrPrecondition or ErrConflict, about the request, or
// ErrClosed or ErrBackend, about the server. Each package's sentinels wrap
// exactly one kind, chosen by what the caller should do: rbac.ErrNotMember
// wraps ErrDenied, invites.ErrUsed wraps ErrGone, teams.ErrLastOwner wraps
// ErrPrecondition. A caller tests for the sentinel or for its kind with
// errors.Is, and roster.HTTPStatus maps the kinds to HTTP statuses in one
// place. Sentinels are made with Kinded, so that a sentinel's text is its own
// message and not followed by its kind's.
//
// Error text follows one rule, so that no package prefix appears twice in
// it. A sentinel says what went wrong behind its package's prefix: "invites:
// invite already used". An error that wraps another says which operation
// failed, with its arguments and its actor, and carries no package prefix:
// fmt.Errorf("%q accepts invite: %w", user, err), which reads
// `"carol" accepts invite: invites: invite already used`. Details of the
// sentinel follow it: fmt.Errorf("%w: %s", ErrInvalid, why). The sentinel's
// text is fit to show to a client (roster.WriteError shows it without the
// prefix); the whole text, which names accounts, users and database errors,
// is for logs.
package store

import (
	"context"
	"time"
)

// Revision numbers the committed changes to accounts, memberships and team
// roles. It is gap-free and grows by one with every committed transaction
// that records at least one Change, in commit order: once a revision is
// visible to a reader (through Changes or Snapshot), every earlier one is.
type Revision uint64

// Store keeps roster's records. A Store is safe for concurrent use by multiple
// goroutines. All reads and writes happen inside a transaction started by
// Update or View.
//
// A Store returns times in UTC, kept to at least microsecond precision (it
// may truncate them to whole microseconds); a zero time, such as an Invite's
// ExpiresAt meaning never, is returned as the zero time.
type Store interface {
	// Update runs fn in a read-write transaction and commits it if fn returns
	// nil; otherwise it rolls back and returns fn's error unchanged. Writes
	// are serialized so that a transaction which reads then writes never
	// fails with a busy or locked error; a transaction that still loses a race
	// returns an error wrapping ErrConflict and changed nothing.
	//
	// The returned Commit lists the changes to accounts, memberships, team
	// roles, sign-in methods and API keys the transaction made, with the Revision it committed at. A
	// transaction that changed none of them returns a Commit with Revision 0
	// and no Changes.
	// Update returns ErrClosed after Close and ErrBackend on database failure.
	// fn must not retain tx after it returns.
	Update(ctx context.Context, fn func(tx Tx) error) (Commit, error)

	// View runs fn in a read-only transaction that sees one consistent
	// snapshot. Write methods called on its Tx return ErrInvalid.
	// View returns fn's error unchanged, ErrClosed after Close, and
	// ErrBackend on database failure.
	View(ctx context.Context, fn func(tx Tx) error) error

	// Snapshot calls fn for every account ID, team role, membership and
	// live API key, in
	// no particular order (a membership may come before the team role it
	// names), all read from one consistent snapshot, and returns the
	// Revision that snapshot reflects. Applying Changes after that revision to
	// the snapshot yields the current state. If fn returns an error Snapshot
	// stops and returns it. Snapshot returns ErrClosed after Close and
	// ErrBackend on database failure.
	Snapshot(ctx context.Context, fn func(SnapshotItem) error) (Revision, error)

	// Changes returns, in revision order, the changes committed after the
	// given revision, at most limit of them (limit <= 0 means no limit); a
	// commit is never split, so more than limit changes may be returned to
	// finish the last commit. It returns ErrClosed after Close and ErrBackend
	// on database failure.
	Changes(ctx context.Context, after Revision, limit int) ([]Change, error)

	// EventsAfter returns the committed events of every account that come
	// after the position after in the event stream, in stream order (see
	// EventPosition), at most limit of them (limit <= 0 means
	// DefaultPageSize).
	//
	// A Store guarantees that the stream never grows behind a reader:
	// once EventsAfter has returned an event at position p, no event
	// committed later, or committed earlier but not yet returned, is
	// returned at a position at or before p. So a reader that keeps the
	// position of the last event it handled and asks for the events after
	// it misses none, whatever the order in which concurrent transactions
	// took their event IDs. A Store may hold back an event committed
	// meanwhile until no earlier-started transaction can still commit one
	// before it. Events deleted by DeleteEvents
	// leave the stream; erased ones stay, with their fields erased.
	//
	// When the Store is also a Watcher, it announces every commit that
	// appended events, so that a reader of the stream can wait for the
	// announcement instead of polling. EventsAfter returns ErrInvalid if
	// after.ID is negative or limit is above MaxPageSize (see
	// CheckEventsAfter), ErrClosed after Close and ErrBackend on database
	// failure.
	EventsAfter(ctx context.Context, after EventPosition, limit int) ([]StreamEvent, error)

	// Close releases the Store's resources. Calls after Close return
	// ErrClosed. Close is idempotent.
	Close() error
}

// SnapshotItem is one record delivered by Store.Snapshot: an account (only
// AccountID and RequireSecure set), a membership (AccountID, UserID and Role
// set, and SignIn as below), a team role (AccountID, Role and Actions
// set; UserID empty) or a live API key (Key set, see below). Items come in no particular order: in particular a
// membership may come before the account or the team role it names, so a
// reader resolves roles and sign-in requirements once the whole snapshot is
// read.
type SnapshotItem struct {
	// AccountID is set for every item.
	AccountID string
	// UserID is the member's user ID; empty for accounts and team roles.
	UserID string
	// Role is the member's role, or the team role's name.
	Role string
	// Actions are the team role's actions; nil for other items.
	Actions []string
	// RequireSecure is an account's Account.RequireSecureSignIn.
	RequireSecure bool
	// SignIn is a member's sign-in method. It is set for every membership
	// of an account that requires secure sign-in; a Store may leave it
	// empty for others.
	SignIn SignIn
	// Key is set for a live API key (one not revoked; an expired one is
	// delivered too): its ID, with AccountID, UserID (empty for a service
	// account), Role, Actions (nil unless the key is narrowed), KeyHash
	// and ExpiresAt set as in an APIKeySet Change.
	Key       string
	KeyHash   []byte
	ExpiresAt time.Time
	// A membership also carries ExpiresAt (its Until), FallbackRole and
	// Suspended, as a MemberSet Change does.
	FallbackRole string
	Suspended    bool
}

// ChangeOp says what a Change did.
type ChangeOp uint8

// The kinds of Change.
const (
	// AccountCreated: a new account exists; UserID and Role are empty.
	AccountCreated ChangeOp = iota + 1
	// MemberSet: the user is a member of the account with Role (added or
	// changed), until ExpiresAt (the membership's Until; zero: no end),
	// falling back then to FallbackRole, suspended or not (Suspended).
	MemberSet
	// MemberDeleted: the user is no longer a member of the account.
	MemberDeleted
	// RoleSet: the account's team role named Role now holds Actions
	// (defined or redefined); UserID is empty.
	RoleSet
	// RoleDeleted: the account's team role named Role no longer exists.
	RoleDeleted
	// AccountUpdated: the account's fields (kind, name, owner, secure
	// sign-in) were replaced; RequireSecure is its
	// Account.RequireSecureSignIn, UserID, Role and Actions are empty. It
	// gives every commit that changes an account a revision.
	AccountUpdated
	// UserUpdated: the user UserID now signs in with SignIn; AccountID,
	// Role and Actions are empty. It is recorded only when the sign-in
	// method changed.
	UserUpdated
	// APIKeySet: the live API key Key of the account (created or changed)
	// belongs to UserID (empty for a service account), acts with Role,
	// narrowed to Actions when they are not nil, is stored as KeyHash and
	// expires at ExpiresAt (zero: never).
	APIKeySet
	// APIKeyRevoked: the API key Key of the account, which belonged to
	// UserID, no longer works.
	APIKeyRevoked
)

// String returns the name of the operation.
func (op ChangeOp) String() string {
	switch op {
	case AccountCreated:
		return "account.created"
	case MemberSet:
		return "member.set"
	case MemberDeleted:
		return "member.deleted"
	case RoleSet:
		return "role.set"
	case RoleDeleted:
		return "role.deleted"
	case AccountUpdated:
		return "account.updated"
	case UserUpdated:
		return "user.updated"
	case APIKeySet:
		return "api_key.set"
	case APIKeyRevoked:
		return "api_key.revoked"
	}
	return "unknown"
}

// Change is one change to the data Can depends on (accounts, memberships,
// team roles, members' sign-in methods and API keys), as recorded by a
// committed transaction. Op says which fields are set: AccountID for every
// op but UserUpdated; UserID for MemberSet, MemberDeleted, UserUpdated and
// the API key ops (empty for a service account); Role for MemberSet,
// RoleSet, RoleDeleted and APIKeySet; Actions for RoleSet and APIKeySet;
// RequireSecure for AccountCreated and AccountUpdated; SignIn for MemberSet
// (the member's sign-in method when the change was made) and UserUpdated;
// Key for the API key ops; KeyHash and ExpiresAt for APIKeySet.
type Change struct {
	Revision  Revision
	Op        ChangeOp
	AccountID string
	UserID    string
	Role      string
	// Actions are a RoleSet change's actions, or the actions an APIKeySet
	// change's key is narrowed to; nil otherwise.
	Actions []string
	// RequireSecure is the account's Account.RequireSecureSignIn.
	RequireSecure bool
	// SignIn is the member's or user's sign-in method.
	SignIn SignIn
	// Key is the API key's ID, KeyHash its APIKey.Hash and ExpiresAt its
	// APIKey.ExpiresAt; for MemberSet, ExpiresAt is the membership's
	// Until.
	Key       string
	KeyHash   []byte
	ExpiresAt time.Time
	// FallbackRole and Suspended are a MemberSet's Member.FallbackRole
	// and Member.Suspended().
	FallbackRole string
	Suspended    bool
}

// Commit is what a committed Update reports: its revision and, in the order
// they were made, the changes it made to accounts and memberships.
type Commit struct {
	Revision Revision
	Changes  []Change
}

// MaxEmailsPerQuery is the most addresses Tx.UsersByEmail looks up at once.
const MaxEmailsPerQuery = 1000

// Tx is one transaction. Its methods may only be called from the function
// passed to Update or View, from one goroutine at a time. A method that
// returns ErrNotFound, ErrExists, ErrPrecondition or ErrInvalid has changed
// nothing, and the transaction may go on.
type Tx interface {
	// CreateUser inserts u. It returns ErrExists if a user with u.ID exists.
	CreateUser(ctx context.Context, u User) error
	// User returns the user with the given ID, or ErrNotFound.
	User(ctx context.Context, id string) (User, error)
	// UpdateUser replaces the email, name and sign-in method of the stored
	// user with u.ID by u's; CreatedAt and ActiveAccount are kept
	// (ActiveAccount changes only through SetActiveAccount). If the sign-in
	// method changed it records a UserUpdated change. It returns
	// ErrNotFound if there is no such user.
	UpdateUser(ctx context.Context, u User) error
	// SetActiveAccount compares and sets the active account of the user
	// userID: if it is from, it becomes to; it reports whether it did. The
	// comparison and the write are one step that no concurrent transaction
	// comes between: one that is changing the same user is waited for, and
	// its committed value is what SetActiveAccount compares, so of several
	// transactions setting the account from the same value exactly one
	// succeeds, and a value committed meanwhile is never overwritten. It
	// records no Change. It returns ErrNotFound if there is no such user and
	// ErrInvalid in a View.
	SetActiveAccount(ctx context.Context, userID, from, to string) (bool, error)
	// DeleteUser removes the user with the given ID, the records of the
	// invites they used (InviteUse) and their revoked API keys, so that
	// the ID can be created again as a new user. It records no Change. It
	// returns ErrNotFound if there is no such user and ErrPrecondition,
	// having changed nothing, while the user is still a member of an
	// account or owns an API key that is not revoked (an expired one
	// counts: delete the memberships and revoke the
	// keys first, which records their changes).
	DeleteUser(ctx context.Context, id string) error
	// UsersByEmail returns the users whose Email equals one of emails,
	// comparing ASCII letters case-insensitively (the canonical form of an
	// email is the whole address in lower case), ordered by ID; no emails
	// find none. It returns ErrInvalid if emails holds more than
	// MaxEmailsPerQuery addresses.
	UsersByEmail(ctx context.Context, emails []string) ([]User, error)
	// UsersByID returns the users whose ID is one of ids, ordered by ID;
	// IDs of no user find nothing, and no ids find none. It returns
	// ErrInvalid if ids holds more than MaxPageSize IDs.
	UsersByID(ctx context.Context, ids []string) ([]User, error)

	// CreateAccount inserts a and records an AccountCreated change. It
	// returns ErrExists if an account with a.ID exists and ErrInvalid if
	// a.SeatLimit is negative.
	CreateAccount(ctx context.Context, a Account) error
	// Account returns the account with the given ID, or ErrNotFound.
	Account(ctx context.Context, id string) (Account, error)
	// AccountsByID returns the accounts whose ID is one of ids, ordered by
	// ID; IDs of no account find nothing, and no ids find none. It returns
	// ErrInvalid if ids holds more than MaxPageSize IDs.
	AccountsByID(ctx context.Context, ids []string) ([]Account, error)
	// LockAccount returns the account like Account and locks it until the
	// transaction ends, so that concurrent transactions that lock the same
	// account run one after the other. Invariants over an account's members
	// (such as "at least one owner") are checked after locking it.
	// It returns ErrNotFound if there is no such account.
	LockAccount(ctx context.Context, id string) (Account, error)
	// UpdateAccount replaces the stored account with a.ID by a (CreatedAt is
	// kept; a negative SeatLimit is ErrInvalid) and records an
	// AccountUpdated change. If RequireSecureSignIn
	// changed, it then records a MemberSet change for every member of the
	// account, with their role and sign-in method, so that a reader of
	// changes learns the sign-in methods it now needs. It returns
	// ErrNotFound if there is none.
	UpdateAccount(ctx context.Context, a Account) error

	// CreateMember inserts m and records a MemberSet change (with the
	// user's sign-in method, as UpdateMember's). It returns
	// ErrExists if the user is already a member of the account,
	// ErrNotFound if the account or the user does not exist, and
	// ErrInvalid if m has a FallbackRole but no Until.
	CreateMember(ctx context.Context, m Member) error
	// Member returns the membership of userID in accountID, or ErrNotFound.
	Member(ctx context.Context, accountID, userID string) (Member, error)
	// UpdateMember replaces the stored membership (AccountID, UserID) by m
	// (JoinedAt is kept; Role, Until, FallbackRole, SuspendedAt and
	// SuspendedBy are m's) and records a MemberSet change, with the
	// user's sign-in method. It returns ErrNotFound if there is none and
	// ErrInvalid if m has a FallbackRole but no Until.
	UpdateMember(ctx context.Context, m Member) error
	// DeleteMember removes the membership and records a MemberDeleted
	// change. It returns ErrNotFound if there is none.
	DeleteMember(ctx context.Context, accountID, userID string) error
	// Members returns the account's members in r, ordered by their Key
	// (JoinedAt, UserID) ascending: the zero time first, then earliest
	// joined first, then by UserID. An unknown account has no members. It
	// returns ErrInvalid if r is malformed (see Range.Validate).
	Members(ctx context.Context, accountID string, r Range) ([]Member, error)
	// ExpiredMembers returns at most limit memberships (limit <= 0 means
	// DefaultPageSize) whose Until is set and not after now, soonest Until
	// first (then by AccountID and UserID), of every account.
	ExpiredMembers(ctx context.Context, now time.Time, limit int) ([]Member, error)
	// Seats counts the seats the account fills at now: its members, and
	// its pending invites that have not expired at now (a reusable link
	// counts once). An unknown account fills none.
	Seats(ctx context.Context, accountID string, now time.Time) (members, pending int, err error)
	// Memberships returns the user's memberships in r, ordered by their Key
	// (JoinedAt, AccountID) ascending like Members. An unknown user has
	// none. It returns ErrInvalid if r is malformed.
	Memberships(ctx context.Context, userID string, r Range) ([]Member, error)

	// PutTeamRole defines the team role r.Name of account r.AccountID as
	// holding r.Actions, replacing an existing definition (whose CreatedAt
	// and CreatedBy are kept), and records a RoleSet change. It returns
	// ErrNotFound if the account does not exist and ErrInvalid if the name
	// is empty or Actions holds an empty or repeated action.
	PutTeamRole(ctx context.Context, r TeamRole) error
	// TeamRole returns the account's team role with the given name, or
	// ErrNotFound.
	TeamRole(ctx context.Context, accountID, name string) (TeamRole, error)
	// TeamRoles returns the account's team roles ordered by name.
	TeamRoles(ctx context.Context, accountID string) ([]TeamRole, error)
	// DeleteTeamRole removes the account's team role and records a
	// RoleDeleted change. It returns ErrNotFound if there is none. It does
	// not check whether members hold the role; callers do.
	DeleteTeamRole(ctx context.Context, accountID, name string) error

	// CreateInvite inserts inv. It returns ErrExists if an invite with the
	// same ID or TokenHash exists, and ErrNotFound if its account does not.
	CreateInvite(ctx context.Context, inv Invite) error
	// Invite returns the invite with the given ID, or ErrNotFound.
	Invite(ctx context.Context, id string) (Invite, error)
	// InviteByToken returns the invite whose TokenHash equals hash, or
	// ErrNotFound.
	InviteByToken(ctx context.Context, hash []byte) (Invite, error)
	// UpdateInvite replaces the stored invite with inv.ID by inv (CreatedAt
	// is kept). It returns ErrNotFound if there is none and ErrExists if its
	// new TokenHash is taken.
	UpdateInvite(ctx context.Context, inv Invite) error
	// Invites returns the account's invites in r, superseded records
	// included, newest first: ordered by their Key (CreatedAt, ID)
	// descending, so a zero CreatedAt comes last. It returns ErrInvalid if
	// r is malformed.
	Invites(ctx context.Context, accountID string, r Range) ([]Invite, error)
	// CreateInviteUse records that u.UserID accepted invite u.InviteID. It
	// returns ErrExists if that user already used that invite, and
	// ErrNotFound if the invite or the user does not exist.
	CreateInviteUse(ctx context.Context, u InviteUse) error
	// InviteUses returns the uses of the invite, oldest first (UsedAt, then
	// UserID). An unknown invite has none.
	InviteUses(ctx context.Context, inviteID string) ([]InviteUse, error)

	// CreateTransfer inserts t. It returns ErrInvalid if t.Kind is not one
	// of TransferAccount and TransferRole, ErrExists if a transfer with t.ID
	// exists and ErrNotFound if its account does not.
	CreateTransfer(ctx context.Context, t Transfer) error
	// Transfer returns the transfer with the given ID, or ErrNotFound.
	Transfer(ctx context.Context, id string) (Transfer, error)
	// UpdateTransfer replaces the stored transfer with t.ID by t (CreatedAt
	// is kept). It returns ErrInvalid if t.Kind is not one of
	// TransferAccount and TransferRole and ErrNotFound if there is no such
	// transfer.
	UpdateTransfer(ctx context.Context, t Transfer) error
	// Transfers returns the account's transfers in r, newest first:
	// ordered by their Key (CreatedAt, ID) descending like Invites. It
	// returns ErrInvalid if r is malformed.
	Transfers(ctx context.Context, accountID string, r Range) ([]Transfer, error)

	// CreateAPIKey inserts k and records an APIKeySet change. It returns
	// ErrInvalid if k fails APIKey.Validate or is already revoked,
	// ErrExists if a key with k.ID exists, and ErrNotFound if its account,
	// or its user when k.UserID is set, does not exist.
	CreateAPIKey(ctx context.Context, k APIKey) error
	// APIKey returns the API key with the given ID, revoked or not, or
	// ErrNotFound.
	APIKey(ctx context.Context, id string) (APIKey, error)
	// UpdateAPIKey replaces the Name, Role, Actions, ExpiresAt, RevokedAt
	// and RevokedBy of the stored key with k.ID by k's (its other fields
	// are kept) and records an APIKeySet change, or an APIKeyRevoked
	// change if k.RevokedAt is set. It returns ErrNotFound if there is no
	// such key, and ErrInvalid if k fails APIKey.Validate, or if the stored
	// key is revoked (a revoked key stays revoked).
	UpdateAPIKey(ctx context.Context, k APIKey) error
	// APIKeys returns the account's API keys in r, revoked ones included,
	// newest first: ordered by their Key (CreatedAt, ID) descending like
	// Invites. With userID set it returns only that user's keys; with
	// userID empty, every key of the account, service accounts included.
	// It returns ErrInvalid if r is malformed.
	APIKeys(ctx context.Context, accountID, userID string, r Range) ([]APIKey, error)
	// TouchAPIKeys records the latest use of each key in uses: a key's
	// LastUsedAt and LastUsedIP become the use's when its At is later than
	// the stored LastUsedAt. Unknown and revoked keys are skipped. It
	// records no Change. It returns ErrInvalid if uses holds more than
	// MaxPageSize uses, and in a View.
	TouchAPIKeys(ctx context.Context, uses []APIKeyUse) error

	// CreateDomain stores the team's claim d of an email domain. It returns
	// ErrInvalid if d.Name or d.AccountID is empty, d.Mode is not valid or
	// d is already verified, ErrExists if the team claims the domain
	// already, and ErrNotFound if the account does not exist. It records
	// no Change.
	CreateDomain(ctx context.Context, d Domain) error
	// Domain returns the team's claim of the domain name, or ErrNotFound.
	Domain(ctx context.Context, name, accountID string) (Domain, error)
	// Domains returns the account's claims, ordered by name.
	Domains(ctx context.Context, accountID string) ([]Domain, error)
	// VerifiedDomain returns the claim of the domain name that is verified,
	// or ErrNotFound if no team's is.
	VerifiedDomain(ctx context.Context, name string) (Domain, error)
	// UpdateDomain replaces the Mode, Role and VerifiedAt of the stored
	// claim (d.Name, d.AccountID) by d's. It returns ErrNotFound if there
	// is none, ErrInvalid for an invalid Mode, and ErrExists, having
	// changed nothing, if d is verified and another team's claim of the
	// name is verified already: a domain is verified for one team at a
	// time, also when two confirmations race. It records no Change.
	UpdateDomain(ctx context.Context, d Domain) error
	// DeleteDomain removes the team's claim of the domain, or returns
	// ErrNotFound. It records no Change.
	DeleteDomain(ctx context.Context, name, accountID string) error

	// AppendEvent stores e and returns it with its ID assigned: IDs grow
	// with every append across the store. A zero e.Time is set to the
	// current time. It returns ErrInvalid if e.AccountID or e.Action is empty
	// and ErrNotFound if the account does not exist. It stores e.PrevHash,
	// e.Hash, e.Salt and e.Commitment as given.
	AppendEvent(ctx context.Context, e Event) (Event, error)
	// Events returns the events matching f in f.Order: by default newest
	// first (Time descending, then ID descending). It returns ErrInvalid if
	// f is malformed (Limit, BeforeID or AfterID < 0, Since after Until,
	// an unknown Order or Result, a Below with only one field set).
	Events(ctx context.Context, f EventFilter) ([]Event, error)
	// ScanEvents calls fn for each event matching f, in f.Order, reading
	// them from the database as it goes rather than loading them all. If
	// fn returns an error ScanEvents stops and returns it unchanged. fn
	// must not call methods of tx. It returns ErrInvalid for a malformed
	// filter, as Events does.
	ScanEvents(ctx context.Context, f EventFilter, fn func(Event) error) error
	// EraseEvent erases the personal fields of the stored event with ID
	// e.ID: it sets its Before, After, Reason, IP and UserAgent to e's and
	// deletes its Salt; every other field, Commitment and Hash among them,
	// is kept. It records no Change. It returns ErrNotFound if there is no
	// event with that ID and ErrInvalid in a View.
	EraseEvent(ctx context.Context, e Event) error
	// DeleteEvents deletes the account's events with ID <= throughID and
	// returns how many it deleted; other accounts' events are kept. It
	// returns ErrInvalid if accountID is empty or throughID < 0.
	DeleteEvents(ctx context.Context, accountID string, throughID int64) (int64, error)

	// ChainHead returns the account's audit chain head, or ErrNotFound if
	// none was stored.
	ChainHead(ctx context.Context, accountID string) (ChainHead, error)
	// SetChainHead stores h as the head of h.AccountID's chain, replacing
	// any previous one. It returns ErrInvalid if h.AccountID is empty and
	// ErrNotFound if the account does not exist.
	SetChainHead(ctx context.Context, h ChainHead) error
}

// Package audit is the audit log: every change roster makes writes its
// event in the change's own transaction (see the teams package), and the
// host application records its own events through Record, so that one log
// holds everything that happened in an account. Members allowed
// rbac.AuditRead query it with filters (Query), stream it as NDJSON or CSV
// (Export), check it for tampering (Verify, Head) and ask who was a member
// at a given time (MembersAt, MemberAt); members with the policy's top role
// prune old events (Prune). The host, not its members, follows the events
// of every account as they commit (Follow), to send webhooks or keep other
// systems in step.
//
// # What an event holds
//
// Who acted (Actor), what they did (Action, such as "member.role_changed"),
// on which resource (ResourceType, ResourceID), in which account, when (Time,
// UTC, to the microsecond), whether it was carried out or refused (Result,
// Reason), the values before and after as JSON, and the request metadata the
// host put in the context with store.WithRequest or Middleware (IP, user
// agent, request ID). Events never hold tokens or secrets: roster's own events
// carry none, and Record stores the value of every JSON key that names one as
// "[REDACTED]" (see Entry). Text that comes from users (names, emails) is
// stored inside JSON values, whose encoding escapes every control character,
// and free text (Reason, user agent, request ID) is refused or cleaned of
// control and format characters, so no stored value can break a log line or
// forge another one.
//
// # Tamper evidence
//
// Each account's events form a hash chain: an event's Hash is SHA-256 over
// its content and the Hash of the account's previous event (PrevHash), and a
// chain head row, written in the same transaction as every event, names the
// newest event. The hashed bytes are these fields in this order, each
// preceded by its length as an 8-byte big-endian integer: the text "roster
// audit chain v2", PrevHash, the account ID, the time as microseconds since
// the Unix epoch (8 bytes, big-endian), actor, action, resource type,
// resource ID, result, Commitment and request ID. Commitment is SHA-256 over
// the text "roster audit commitment v2", the event's random Salt, reason,
// before, after, IP and user agent, encoded alike: the personal fields,
// which teams.Service.DeleteUser erases by rewriting them and deleting the
// salt, keeping the commitment and so the chain. Events written before
// commitments existed have none and hash "roster audit chain v1" with
// reason, before, after, IP and user agent in place of Commitment. So an
// export can be checked outside roster too. Verify walks the
// chain oldest first and names the first event that was altered, deleted or
// inserted out of band, and detects deletion of the newest events against the
// head. A hash chain without a secret cannot stop someone who can write to the
// database from recomputing the whole chain and its head: export Head
// regularly to a place they cannot write (a separate log service, object
// storage with retention, a signed message) and pass those heads to Verify,
// which then also proves that the chain still contains them, or that a prune
// removed them: a kept head missing from the chain passes only if the
// chain's newest audit.pruned record covers it (its ID at or before the
// prune's anchor, its Time before the prune's cut). Without a secret, a prune
// record forged with a cut after a kept head's Time cannot be told from a
// real one, so keep heads newer than your retention period too.
//
// # Event actions
//
// roster's own actions live in the namespaces account, audit, invite, member,
// role, roster, team, transfer and user ("member.added"); Record refuses them
// (see Reserved), so host events can neither collide with nor impersonate
// roster's. Point-in-time membership (MembersAt) is rebuilt from these events:
//
//   - an allowed event whose action is in the member namespace and whose
//     ResourceType is "member" makes ResourceID a member with the role in its
//     After JSON ({"role": "dev"}), or, when After has no role but Before has,
//     removes them (member.added, member.joined, member.role_changed,
//     member.removed, member.left);
//   - account.created makes After's "owner" a member with After's "role" (the
//     policy's top role when absent);
//   - account.team_deleted gives After's "owner" (the actor when absent)
//     After's "role" (the top role when absent); the other members' removal is
//     recorded by their own member.removed events;
//   - audit.pruned carries the membership at the point where events were
//     pruned, so that later times stay answerable.
package audit

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/teamroster/roster/internal/check"
	"github.com/teamroster/roster/internal/cursor"
	"github.com/teamroster/roster/internal/text"
	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// Errors returned by the Service besides those of the store and rbac
// packages. Each wraps one of the kinds of package store.
var (
	// ErrTampered means Verify found the hash chain broken; the error is a
	// *TamperError that says where and how. It wraps store.ErrBackend: it
	// is a finding about the stored data, which no change to the request
	// repairs, not a refusal of the request.
	ErrTampered = store.Kinded(store.ErrBackend, "audit: hash chain broken")
	// ErrPruned means a question about a time before the oldest retained
	// history: events before it were pruned. It wraps store.ErrGone.
	ErrPruned = store.Kinded(store.ErrGone, "audit: history before that time was pruned")
	// ErrReserved means a host event used an action in one of roster's own
	// namespaces (see Reserved). It wraps store.ErrInvalid.
	ErrReserved = store.Kinded(store.ErrInvalid, "audit: action namespace is reserved for roster")
)

// Limits of a query and of what an event may hold.
const (
	DefaultLimit = store.DefaultPageSize // events per page when Filter.Limit is 0
	MaxLimit     = store.MaxPageSize     // the largest Filter.Limit Query accepts
	MaxReasonLen = 500                   // characters of an Entry's Reason
	MaxValueLen  = 64 << 10              // bytes of an Entry's Before or After JSON
)

// The actions the audit service itself records are store.EventAuditQueried
// (denied, when a member whose role lacks rbac.AuditRead tries to read the
// log: Query, Head, Verify, MembersAt, MemberAt), store.EventAuditExported
// (every Export, with the format and the filter in After; denied when
// refused) and store.EventAuditPruned (every Prune that deleted events,
// with the cut, the number deleted, the chain's new anchor and the
// membership at the cut in After; denied when refused), each with
// ResourceType "audit" and the account's ID as ResourceID.

// Filter selects events. Zero fields do not filter; set fields combine (an
// event must match all of them). Every value is compared exactly: "%" or "*"
// match only themselves.
type Filter struct {
	// Since and Until bound the event time: Since <= Time < Until. Each may
	// be zero (unbounded); set ones must lie in the years 1970 to 9999, and
	// Since must be before Until.
	Since, Until time.Time
	// Actor is the user who acted.
	Actor string
	// Action is the event's action, such as store.EventMemberRoleChanged
	// ("member.role_changed"): lowercase words of letters, digits and
	// underscores joined by dots.
	Action store.EventAction
	// ResourceType and ResourceID name what was acted on.
	ResourceType string
	ResourceID   string
	// Result selects allowed or denied attempts.
	Result store.Result
	// Limit is the page size of Query: 0 means DefaultLimit; at most
	// MaxLimit. For Export it caps the number of events; 0 means all.
	Limit int
	// Cursor continues a previous query: pass the next cursor it returned,
	// with the same account and filter (only Limit may change).
	Cursor string
}

// Service is the audit log of a Store. Get one from roster.Open or
// roster.New; New is for wiring a Store by hand, and a Service wired so
// stamps, chains and authorizes exactly as a Roster's does. A Service is
// safe for concurrent use.
type Service struct {
	door   *txn.Door
	policy *rbac.Policy
	store  store.Store // read directly by Follow only
}

// Option configures New.
type Option func(*config)

type config struct{ now func() time.Time }

// WithClock sets the clock the Service stamps events with and checks a
// prune's cut against, for tests. It must be safe for concurrent use.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// New returns a Service on s authorizing with p.
func New(s store.Store, p *rbac.Policy, opts ...Option) *Service {
	var c config
	for _, o := range opts {
		o(&c)
	}
	return &Service{door: txn.New(s, p, c.now), policy: p, store: s}
}

// Query returns one page of the account's events matching f, newest first
// (by time, then by ID), and the cursor of the next page ("" when there is
// none). Pages stay stable while new events arrive: a cursor continues below
// the last event returned, and a new event sorts above every older one of
// its account (roster moves an event's time up to its predecessor's, unless
// the clocks of application servers disagree by more than five minutes). The actor needs rbac.AuditRead; a member refused is
// recorded as a denied store.EventAuditQueried. Query returns an error wrapping
// store.ErrInvalid (a malformed filter or cursor), store.ErrNotFound (no
// such account), rbac.ErrNotMember or rbac.ErrDenied.
func (s *Service) Query(ctx context.Context, actor, accountID string, f Filter) ([]store.Event, string, error) {
	fail := func(err error) ([]store.Event, string, error) {
		return nil, "", fmt.Errorf("query %q by %q: %w", accountID, actor, err)
	}
	if err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID)); err != nil {
		return fail(err)
	}
	sf, err := f.storeFilter(accountID, false)
	if err != nil {
		return fail(err)
	}
	limit := sf.Limit
	sf.Limit++ // one more tells whether there is a next page
	var events []store.Event
	err = s.read(ctx, actor, accountID, store.EventAuditQueried, func(tx store.Tx) error {
		var err error
		events, err = tx.Events(ctx, sf)
		return err
	})
	if err != nil {
		return fail(err)
	}
	next := ""
	if len(events) > limit {
		events = events[:limit]
		next = encodeCursor(accountID, f, events[limit-1])
	}
	return events, next, nil
}

// read runs fn in a read-only transaction once actor is authorized to read
// the account's log (rbac.AuditRead). A member refused is recorded as a
// denied action.
func (s *Service) read(ctx context.Context, actor, accountID string, action store.EventAction, fn func(tx store.Tx) error) error {
	return s.door.View(ctx, s.call(actor, accountID, action), func(c *txn.Change) error { return fn(c.Tx) })
}

// call is a call that needs rbac.AuditRead on the account's log, refused as
// a denied action.
func (s *Service) call(actor, accountID string, action store.EventAction) txn.Call {
	return txn.Call{
		Actor: actor, Account: accountID, Need: txn.Permission, Action: rbac.AuditRead,
		Event: action, Resource: txn.Resource{Type: "audit", ID: accountID},
	}
}

// Time bounds a filter or a question may name.
var (
	minTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// validTime returns an error wrapping store.ErrInvalid unless t is within
// the years 1970 to 9999.
func validTime(what string, t time.Time) error {
	if t.Before(minTime) || !t.Before(maxTime) {
		return fmt.Errorf("%w: %s %s is outside the years 1970 to 9999", store.ErrInvalid, what, t.UTC().Format(time.RFC3339))
	}
	return nil
}

// storeFilter validates f and translates it for the store. For an export
// (export true) Limit 0 means no limit and has no maximum.
func (f Filter) storeFilter(accountID string, export bool) (store.EventFilter, error) {
	sf := store.EventFilter{
		AccountID: accountID, Actor: f.Actor, Action: store.EventAction(f.Action),
		ResourceType: f.ResourceType, ResourceID: f.ResourceID, Result: f.Result,
		Since: f.Since, Until: f.Until, Limit: f.Limit,
	}
	for _, v := range []struct{ what, s string }{
		{"actor filter", f.Actor}, {"resource type filter", f.ResourceType}, {"resource ID filter", f.ResourceID},
	} {
		if v.s == "" {
			continue
		}
		if err := store.ValidateID(v.what, v.s); err != nil {
			return sf, err
		}
	}
	if f.Action != "" {
		if err := validAction(string(f.Action)); err != nil {
			return sf, err
		}
	}
	if f.Result != "" && f.Result != store.Allowed && f.Result != store.Denied {
		return sf, fmt.Errorf("%w: unknown result filter %q", store.ErrInvalid, text.Clean(string(f.Result), 32))
	}
	switch {
	case f.Limit < 0 || (!export && f.Limit > MaxLimit):
		return sf, fmt.Errorf("%w: limit %d is outside 0..%d", store.ErrInvalid, f.Limit, MaxLimit)
	case f.Limit == 0 && !export:
		sf.Limit = DefaultLimit
	}
	for _, v := range []struct {
		what string
		t    time.Time
	}{{"since", f.Since}, {"until", f.Until}} {
		if !v.t.IsZero() {
			if err := validTime(v.what, v.t); err != nil {
				return sf, err
			}
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return sf, fmt.Errorf("%w: date range since %s until %s is empty or inverted", store.ErrInvalid,
			f.Since.UTC().Format(time.RFC3339Nano), f.Until.UTC().Format(time.RFC3339Nano))
	}
	if f.Cursor != "" {
		key, err := decodeCursor(accountID, f)
		if err != nil {
			return sf, err
		}
		sf.Below = key
	}
	return sf, nil
}

// A query's cursor holds the last event's time (microseconds since the
// epoch) and ID, bound to the account and the filter (see internal/cursor).

func encodeCursor(accountID string, f Filter, last store.Event) string {
	b := make([]byte, 0, 16)
	b = binary.BigEndian.AppendUint64(b, uint64(last.Time.UnixMicro()))
	b = binary.BigEndian.AppendUint64(b, uint64(last.ID))
	return cursor.Encode(b, cursorBinding(accountID, f)...)
}

func decodeCursor(accountID string, f Filter) (store.EventKey, error) {
	b, err := cursor.Decode(f.Cursor, cursorBinding(accountID, f)...)
	if err != nil {
		return store.EventKey{}, err
	}
	if len(b) != 16 {
		return store.EventKey{}, cursor.Malformed("unknown format")
	}
	micro, id := int64(binary.BigEndian.Uint64(b[:8])), int64(binary.BigEndian.Uint64(b[8:]))
	t := time.UnixMicro(micro).UTC()
	if id <= 0 || validTime("cursor time", t) != nil {
		return store.EventKey{}, cursor.Malformed("out of range")
	}
	return store.EventKey{Time: t, ID: id}, nil
}

// cursorBinding is what a query's cursor is bound to: the account and the
// filter, all but its Limit and Cursor.
func cursorBinding(accountID string, f Filter) []string {
	return []string{accountID, f.Actor, string(f.Action), f.ResourceType, f.ResourceID, string(f.Result),
		timeKey(f.Since), timeKey(f.Until)}
}

func timeKey(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)
}

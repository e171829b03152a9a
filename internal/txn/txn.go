// Package txn is the one write path of roster's services (teams, invites,
// audit). Every call that changes the store, and every read that needs a
// permission, goes through a Door, which:
//
//   - locks the account the call acts on before it reads anything that
//     decides the call, so that a concurrent change to the account's members
//     commits entirely before or entirely after it;
//   - authorizes the actor with the decision Can makes for that account (see
//     internal/authz): their membership, their role's rights in that account
//     under the policy (Casbin for that account, for a policy that is not
//     compiled), the account's team roles, and, in a team that requires
//     secure sign-in, their sign-in method;
//   - runs the change, stamping every event it records with the Door's clock
//     and linking it into the account's hash chain (internal/chain);
//   - records a refusal by the policy as a denied event, by one rule for every
//     service;
//   - after the commit, tells whoever follows the store (the Roster's
//     in-memory index) and runs the call's post-commit actions (removal
//     hooks, notifications), which run even when following fails;
//   - traces and measures every write (see Observer): one span named after
//     the service method that made it, its duration and its outcome.
//
// Services wired by hand on a bare Store get the same Door, so they are as
// correct as the ones a Roster wires.
package txn

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/teamroster/roster/internal/authz"
	"github.com/teamroster/roster/internal/chain"
	"github.com/teamroster/roster/internal/text"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// Follower is implemented by a Store wrapper whose owner keeps a view of
// the store in memory (the Roster's index): the Door calls Committed after
// every commit, before the call returns, so that the view reflects the
// change once the call has returned.
type Follower interface {
	// Committed brings the view up to the commit c. An error means the
	// change is committed but the view is behind.
	Committed(ctx context.Context, c store.Commit) error
}

// Door runs the calls of one Store and policy. It is safe for concurrent
// use.
type Door struct {
	store  store.Store
	policy *rbac.Policy
	now    func() time.Time
	obs    *Observer
}

// New returns a Door on s deciding with p and stamping events with now
// (time.Now when nil). If s implements Follower it is told of every commit;
// if it implements Observed its Observer reports the Door's writes, and
// otherwise OpenTelemetry's global providers do.
func New(s store.Store, p *rbac.Policy, now func() time.Time) *Door {
	if now == nil {
		now = time.Now
	}
	obs := defaultObserver()
	if o, ok := s.(Observed); ok {
		obs = o.Observer()
	}
	return &Door{store: s, policy: p, now: now, obs: obs}
}

// Now returns the Door's current time in UTC, to the microsecond a Store
// keeps.
func (d *Door) Now() time.Time { return d.now().UTC().Truncate(time.Microsecond) }

// Need says what the actor of a call needs.
type Need uint8

// What a call may need.
const (
	// Permission: the actor is a member of the account whose rights there
	// include Call.Action.
	Permission Need = iota
	// Membership: the actor is a member of the account, with any role.
	Membership
	// Anyone: the Door does not authorize; the call checks its actor
	// itself (a token, a user creating their own account).
	Anyone
)

// Call describes one call through the Door.
type Call struct {
	// Actor is the user making the call.
	Actor string
	// Account is the account the call acts on. Empty for a call that
	// names another record (see Find) or creates its account.
	Account string
	// Find, when set, finds the account from the record the call names
	// (an invite's token, a transfer). It runs before the account is
	// locked; the call's function must read the record again under the
	// lock.
	Find func(ctx context.Context, tx store.Tx) (string, error)
	// Need says what the actor needs; Action is the permission Permission
	// needs.
	Need   Need
	Action rbac.Action
	// Event is the action a refusal by the policy is recorded as (with
	// Resource); empty means refusals of this call are not recorded.
	Event    store.EventAction
	Resource Resource
	// AnySignIn lets through a member the account shuts out, whom the
	// Door otherwise refuses every call on the account (as Can refuses
	// them every action): one whose sign-in method is not secure in an
	// account that requires secure sign-in, or one who is suspended; for
	// the calls such a member may still make, leaving the account and
	// deleting themselves. Their rights there are none either way.
	AnySignIn bool
	// KeyActor lets the actor be an API key (an ID with
	// store.APIKeyIDPrefix) live on the account, standing in as a member
	// holding the key's role with the key's rights, narrowed to its
	// owner's (see Door.Update). Without it, an API key actor is refused
	// with rbac.ErrDenied: keys act through Can, and record the host's
	// events; they do not manage the team.
	KeyActor bool
}

// Resource names what a call acts on, for its denied event.
type Resource struct {
	Type, ID string
}

// Change is one call's transaction as the call's function sees it.
type Change struct {
	// Tx is the transaction. Events appended through it are stamped and
	// chained; prefer Record.
	Tx store.Tx
	// Account is the account the call acts on, locked for the rest of the
	// transaction (zero for a call with no account).
	Account store.Account
	// Actor is the actor's membership of the account; zero if they are
	// not a member (a call Anyone may make).
	Actor store.Member
	// Rights are the actor's rights in the account (none if not a member).
	Rights authz.Rights

	ctx   context.Context
	door  *Door
	actor string
	write bool
	after []func(context.Context) error
	root  *Change // the call's own Change, for one returned by Lock
}

// Update runs fn in a write transaction for call: it locks the account
// (found with call.Find if set), authorizes the actor as call.Need says,
// runs fn, and commits if fn returns nil. A member of a team that requires
// secure sign-in whose sign-in method is not secure has no rights there, as
// in Can: every call they make on the account is refused with
// rbac.ErrSecureSignIn, whatever it needs, unless call.AnySignIn says it is
// one they may still make. A refusal by the policy (an
// error wrapping rbac.ErrDenied) of an actor who is a member of the account
// is recorded as a denied call.Event, in a transaction of its own that
// locks the account and checks they are still a member. After a commit it
// tells a Follower store of it and runs the functions fn registered with
// After, even if following failed; their errors, and the Follower's, are
// returned joined, and the change stands. Update returns fn's error,
// rbac.ErrNotMember, rbac.ErrDenied, rbac.ErrUnknownAction,
// store.ErrNotFound (no such account) and the store's errors.
func (d *Door) Update(ctx context.Context, call Call, fn func(c *Change) error) (store.Commit, error) {
	ctx, w := d.obs.begin(ctx, call)
	var done *Change
	commit, err := d.store.Update(ctx, func(tx store.Tx) error {
		done = nil
		ct := chain.Wrap(tx)
		c, err := d.begin(ctx, ct, call, true)
		if err != nil {
			return err
		}
		w.locked(c.Account.ID)
		if err := fn(c); err != nil {
			return err
		}
		done = c
		return ct.Flush(ctx)
	})
	if err != nil {
		err = d.refused(ctx, call, err)
		w.end(ctx, false, 0, err)
		return commit, err
	}
	// The change is committed: bring followers up to it and run what
	// waits for it even if ctx has ended since.
	ctx = context.WithoutCancel(ctx)
	var errs []error
	if f, ok := d.store.(Follower); ok {
		errs = append(errs, f.Committed(ctx, commit))
	}
	for _, fn := range done.after {
		errs = append(errs, fn(ctx))
	}
	err = errors.Join(errs...)
	w.end(ctx, true, commit.Revision, err)
	return commit, err
}

// View runs fn in a read-only transaction for call: it authorizes the
// actor as Update does, without locking, and records a refusal by the
// policy the same way. It returns fn's error and Update's refusals.
func (d *Door) View(ctx context.Context, call Call, fn func(c *Change) error) error {
	err := d.store.View(ctx, func(tx store.Tx) error {
		c, err := d.begin(ctx, tx, call, false)
		if err != nil {
			return err
		}
		return fn(c)
	})
	if err != nil {
		return d.refused(ctx, call, err)
	}
	return nil
}

// begin finds and, in a write transaction, locks the call's account, and
// authorizes the actor.
func (d *Door) begin(ctx context.Context, tx store.Tx, call Call, write bool) (*Change, error) {
	c := &Change{Tx: tx, ctx: ctx, door: d, actor: call.Actor, write: write}
	account := call.Account
	if call.Find != nil {
		var err error
		if account, err = call.Find(ctx, tx); err != nil {
			return nil, err
		}
	}
	// As Can: a policy Casbin decides may grant an action it names only by
	// a pattern, so only a compiled policy refuses an action it lacks.
	if call.Need == Permission && d.policy.Compiled() && !d.policy.HasAction(call.Action) {
		return nil, fmt.Errorf("policy %s has no action %q: %w", d.policy.Name(), call.Action, rbac.ErrUnknownAction)
	}
	if account == "" {
		if call.Need != Anyone {
			return nil, fmt.Errorf("%w: no account to authorize %s in", store.ErrInvalid, call.Actor)
		}
		return c, nil
	}
	if err := d.enter(c, call, account); err != nil {
		return nil, err
	}
	return c, nil
}

// enter reads, in a write transaction locks, the account into c and
// authorizes the call's actor there.
func (d *Door) enter(c *Change, call Call, account string) error {
	ctx, tx, write := c.ctx, c.Tx, c.write
	var err error
	if write {
		c.Account, err = tx.LockAccount(ctx, account)
	} else {
		c.Account, err = tx.Account(ctx, account)
	}
	if err != nil {
		return err
	}
	c.Rights = authz.None(d.policy, account)
	if store.IsAPIKeyID(call.Actor) {
		return d.enterAsKey(c, call, account)
	}
	if call.Actor != "" {
		m, err := tx.Member(ctx, account, call.Actor)
		if err == nil {
			m, err = d.current(m)
		}
		switch {
		case err == nil:
			c.Actor = m
			if c.Rights, err = authz.Resolve(ctx, tx, d.policy, account, rbac.Role(m.Role)); err != nil && !errors.Is(err, rbac.ErrUnknownRole) {
				return err
			}
		case !errors.Is(err, store.ErrNotFound):
			return err
		case call.Need != Anyone:
			return fmt.Errorf("%s is not a member of %s: %w", call.Actor, account, rbac.ErrNotMember)
		}
	}
	if c.Actor.Suspended() {
		// As Can: a suspended member may do nothing.
		c.Rights = authz.None(d.policy, account)
		if !call.AnySignIn {
			return fmt.Errorf("%s: %w", call.Actor, rbac.ErrSuspended)
		}
	}
	if c.Actor.UserID != "" && c.Account.RequireSecureSignIn {
		u, err := tx.User(ctx, c.Actor.UserID)
		if err != nil {
			return err
		}
		if !d.policy.SignIns().Secure(u.SignIn) {
			// As Can: a member who signs in insecurely may do nothing.
			c.Rights = authz.None(d.policy, account)
			if !call.AnySignIn {
				return fmt.Errorf("%s signs in with %q: %w", call.Actor, u.SignIn, rbac.ErrSecureSignIn)
			}
		}
	}
	if call.Need == Permission && !c.Rights.Allows(call.Action) {
		return fmt.Errorf("role %q lacks %q: %w", c.Actor.Role, call.Action, rbac.ErrDenied)
	}
	return nil
}

// current returns the membership m as it stands at the Door's time, as Can
// sees it before an expiry is swept: from its Until on, m holds its
// FallbackRole, or, without one, has ended (an error wrapping
// store.ErrNotFound).
func (d *Door) current(m store.Member) (store.Member, error) {
	if !m.Expired(d.Now()) {
		return m, nil
	}
	if m.FallbackRole == "" {
		return m, fmt.Errorf("the membership of %s ended at %s: %w", m.UserID, m.Until.Format(time.RFC3339), store.ErrNotFound)
	}
	m.Role, m.Until, m.FallbackRole = m.FallbackRole, time.Time{}, ""
	return m, nil
}

// Current returns the membership m as it stands now (see Door.current): a
// service reads a member it acts on through it, so that it sees what Can
// sees before an expiry is swept.
func (c *Change) Current(m store.Member) (store.Member, error) { return c.door.current(m) }

// refused records err as a denied call.Event if it is a refusal by the
// policy (rbac.ErrDenied) of a call whose refusals are recorded, and returns
// err, joined with any failure to record it. The record is written in a
// transaction of its own, since the refused one rolled back; it locks the
// account and writes only if the actor is still a member, so that outsiders
// cannot write to an account's log (one removed meanwhile is an outsider).
func (d *Door) refused(ctx context.Context, call Call, err error) error {
	if call.Event == "" || call.Actor == "" || store.IsAPIKeyID(call.Actor) || !errors.Is(err, rbac.ErrDenied) {
		return err // an API key is no member: outsiders do not write to the log
	}
	member := call
	member.Need, member.AnySignIn = Anyone, true
	_, rerr := d.store.Update(ctx, func(tx store.Tx) error {
		ct := chain.Wrap(tx)
		c, berr := d.begin(ctx, ct, member, true)
		if berr != nil {
			return berr
		}
		if c.Actor.UserID == "" {
			return nil // not a member: outsiders do not write to the log
		}
		if _, err := c.Record(store.Event{
			Action: call.Event, ResourceType: call.Resource.Type, ResourceID: call.Resource.ID,
			Result: store.Denied, Reason: Reason(err),
		}); err != nil {
			return err
		}
		return ct.Flush(ctx)
	})
	if rerr != nil {
		return errors.Join(err, fmt.Errorf("record the refusal: %w", rerr))
	}
	return err
}

// Reason returns the Reason of a denied event for err: its text without
// the packages' prefixes, cleaned to one line of at most 500 characters.
func Reason(err error) string {
	return text.Clean(packagePrefix.ReplaceAllString(err.Error(), ""), 500)
}

// packagePrefix matches the package prefix of a sentinel's text, such as
// "rbac: " in "rbac: permission denied".
var packagePrefix = regexp.MustCompile(`\b(rbac|store|sqlstore|teams|invites|audit|roster|token|chain): `)

// errReadOnly is returned by Record and Erase in a View.
var errReadOnly = fmt.Errorf("%w: record an event in a read-only call", store.ErrInvalid)

// Now returns the time of the Door's clock, as Door.Now.
func (c *Change) Now() time.Time { return c.door.Now() }

// Record appends e to the log of the call's account (e.AccountID, if
// set, names another) and returns it as stored: by the call's actor unless
// e.Actor is set, allowed unless e.Result is set, at the Door's current
// time, with the request metadata of the call's context, and linked into
// the account's hash chain. It returns the store's errors.
func (c *Change) Record(e store.Event) (store.Event, error) {
	if !c.write {
		return store.Event{}, errReadOnly
	}
	if e.AccountID == "" {
		e.AccountID = c.Account.ID
	}
	if e.Actor == "" {
		e.Actor = c.actor
	}
	if e.Result == "" {
		e.Result = store.Allowed
	}
	e.Time = c.Now()
	return c.Tx.AppendEvent(c.ctx, e)
}

// Erasure says what Change.Erase did to an event.
type Erasure uint8

// The outcomes of Change.Erase.
const (
	// ErasedNow: the event still had its salt; its personal fields are
	// erased now.
	ErasedNow Erasure = iota + 1
	// ErasedAgain: the event had been erased before; its personal fields
	// were rewritten again.
	ErasedAgain
	// Unerasable: the event was appended before events committed to their
	// personal fields; rewriting them would break its hash, so it is left
	// as it is.
	Unerasable
)

// Erase erases an event's personal fields, which internal/chain commits
// to (Before, After, Reason, IP and UserAgent): e is the stored event as
// read, with those fields rewritten. It writes them over the stored
// event's and deletes its salt (store.Tx.EraseEvent), unless the event has
// no commitment, and says what it did. It returns the store's errors
// (store.ErrNotFound if there is no event e.ID).
func (c *Change) Erase(e store.Event) (Erasure, error) {
	switch {
	case len(e.Commitment) == 0:
		return Unerasable, nil
	case !c.write:
		return 0, errReadOnly
	}
	if err := c.Tx.EraseEvent(c.ctx, e); err != nil {
		return 0, err
	}
	if chain.Erasable(e) {
		return ErasedNow, nil
	}
	return ErasedAgain, nil
}

// RightsOf returns the rights of role in the call's account, as
// authz.Resolve does.
func (c *Change) RightsOf(role rbac.Role) (authz.Rights, error) {
	return authz.Resolve(c.ctx, c.Tx, c.door.policy, c.Account.ID, role)
}

// After registers fn to run once the call's transaction has committed,
// after followers were told of it (whether or not that succeeded), with a
// context that is not cancelled. Its error is returned by Update.
func (c *Change) After(fn func(ctx context.Context) error) {
	if c.root != nil {
		c.root.After(fn)
		return
	}
	c.after = append(c.after, fn)
}

// Lock locks another account in the call's transaction (in a read-only
// call, reads it) and returns a Change acting on it, with the actor's
// membership there (zero if they are not a member) and their rights, read
// as for the call's own account (a member the account refuses for their
// sign-in method is let through, with no rights: see Call.AnySignIn). Events it records go to that account's
// log; the functions it registers with After run with the call's. A call
// that locks several accounts should lock them in order of their IDs: two
// calls that lock the same accounts in opposite orders can deadlock, which
// PostgreSQL breaks by failing one with store.ErrConflict. It returns
// store.ErrNotFound if there is no such account and the store's errors.
func (c *Change) Lock(accountID string) (*Change, error) {
	root := c
	if c.root != nil {
		root = c.root
	}
	in := &Change{Tx: c.Tx, ctx: c.ctx, door: c.door, actor: c.actor, write: c.write, root: root}
	if err := c.door.enter(in, Call{Actor: c.actor, Need: Anyone, AnySignIn: true}, accountID); err != nil {
		return nil, err
	}
	return in, nil
}

// MayGrant returns nil if the actor may give role to someone in the call's
// account, as authz.MayGrant says, and its error otherwise (or the store's).
func (c *Change) MayGrant(role rbac.Role) error {
	r, err := c.RightsOf(role)
	if err != nil && !errors.Is(err, rbac.ErrUnknownRole) {
		return err
	}
	return authz.MayGrant(c.Rights, r)
}

// Covers returns nil if the actor's rights in the call's account cover
// those of role, so that they may change, remove or redefine what holds it
// (authz.MayAct), and its error otherwise (or the store's).
func (c *Change) Covers(role rbac.Role) error {
	r, err := c.RightsOf(role)
	if err != nil && !errors.Is(err, rbac.ErrUnknownRole) {
		return err
	}
	return authz.MayAct(c.Rights, r)
}

// MayActOn returns nil if the actor may change or remove the member m: their
// rights cover m's role's (see Covers).
func (c *Change) MayActOn(m store.Member) error {
	if err := c.Covers(rbac.Role(m.Role)); err != nil {
		return fmt.Errorf("may not act on %s: %w", m.UserID, err)
	}
	return nil
}

package roster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/teamroster/roster/apikeys"
	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/internal/check"
	"github.com/teamroster/roster/internal/index"
	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/invites"
	"github.com/teamroster/roster/notify"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/store/sqlstore"
	"github.com/teamroster/roster/teams"
)

// Roster is the front door: one Store and one policy, with the services that
// change them and the Can, Check and Explain methods that answer from memory.
// A Roster is safe for concurrent use by multiple goroutines.
type Roster struct {
	// Teams manages users, accounts, members and roles.
	Teams *teams.Service
	// Invites creates, lists, resends, revokes and accepts invitations.
	Invites *invites.Service
	// Audit is the audit log every change writes to: query, host events,
	// export, verification, retention and point-in-time membership.
	Audit *audit.Service
	// Keys creates, lists and revokes API keys and service accounts; see
	// Authenticate for using them.
	Keys *apikeys.Service

	store  store.Store // the caller's store; writes go through synced
	policy *rbac.Policy
	mem    *memory
	ownsDB bool
	follow *follower // nil if following is off
	obs    *observer
	now    func() time.Time
	door   *txn.Door // CheckStrict's, deciding as every write does

	keyUses  keyUses // uses of API keys not yet written
	stopUses context.CancelFunc
	usesDone sync.WaitGroup
}

// Option configures Open and New.
type Option func(*config)

type config struct {
	policy  *rbac.Policy // Open only
	teams   []teams.Option
	invites []invites.Option
	audit   []audit.Option
	keys    []apikeys.Option
	now     func() time.Time
	// sweep is the interval of sweeping expiries (see WithSweep);
	// sweepSet says WithSweep was given.
	sweep    time.Duration
	sweepSet bool
	// follow is the backstop interval of following the store (see
	// WithFollow); followSet says WithFollow was given.
	follow    time.Duration
	followSet bool
	// budget is the memory budget (see WithMemoryBudget); budgetSet
	// says WithMemoryBudget was given.
	budget    int64
	budgetSet bool
	anyBudget bool // tests: a budget below MinMemoryBudget
	// Observing (see observe.go): nil means the default.
	logger  *slog.Logger
	slow    time.Duration
	slowSet bool
	tracer  trace.TracerProvider
	meter   metric.MeterProvider
}

// WithPolicy makes Open use p instead of the Runpod preset. New takes its
// policy as an argument and ignores this option.
func WithPolicy(p *rbac.Policy) Option {
	return func(c *config) { c.policy = p }
}

// WithNotifier sets who sends roster's emails: invitations and the links of
// ownership transfers. The host application implements notify.Notifier with
// its own mailer; roster never sends mail itself. Without it, or with nil,
// nothing is sent.
func WithNotifier(n notify.Notifier) Option {
	return func(c *config) {
		c.teams = append(c.teams, teams.WithNotifier(n))
		c.invites = append(c.invites, invites.WithNotifier(n))
	}
}

// WithBaseURL sets the base URL of the host application that the links
// roster sends are built from, such as "https://app.example.com/team":
// invite links are base + "/invites/{token}" and ownership transfer links
// base + "/transfers/{id}?token=...". It gives the same base URL to
// teams.WithBaseURL and invites.WithBaseURL, which mean the same. Links are
// never built from a request's Host header. Creating invites needs it; New
// returns store.ErrInvalid for one that is not an absolute http or https
// URL without user info, query or fragment.
func WithBaseURL(base string) Option {
	return func(c *config) {
		c.teams = append(c.teams, teams.WithBaseURL(base))
		c.invites = append(c.invites, invites.WithBaseURL(base))
	}
}

// WithTransferTTL sets how long an ownership transfer stays open (7 days by
// default).
func WithTransferTTL(d time.Duration) Option {
	return func(c *config) { c.teams = append(c.teams, teams.WithTransferTTL(d)) }
}

// WithRemovalHook sets a function called after each committed removal of a
// member, so that the host application can end that user's sessions for the
// account (the API keys roster issued, see package apikeys, are revoked
// with the removal itself). See teams.WithRemovalHook.
func WithRemovalHook(fn func(ctx context.Context, r teams.Removal)) Option {
	return func(c *config) { c.teams = append(c.teams, teams.WithRemovalHook(fn)) }
}

// WithClock sets the clock roster stamps records and events with and checks
// expiry with (of invites, transfers and API keys, in every service and in
// Can), for tests. It must be safe for concurrent
// use.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		c.teams = append(c.teams, teams.WithClock(now))
		c.invites = append(c.invites, invites.WithClock(now))
		c.audit = append(c.audit, audit.WithClock(now))
		c.keys = append(c.keys, apikeys.WithClock(now))
		c.now = now
	}
}

// WithLinkSecrets makes invite tokens derived from a server secret, so that
// a pending invite's link can be shown again (r.Invites.Link) while the
// database holds only a hash of it: new tokens come from current, and
// tokens made with current or any of old keep working. Keep the secrets out
// of the database. It is invites.WithLinkSecrets; see Link secrets in the
// invites package documentation for rotation.
func WithLinkSecrets(current invites.Secret, old ...invites.Secret) Option {
	return func(c *config) { c.invites = append(c.invites, invites.WithLinkSecrets(current, old...)) }
}

// WithSweep sets how often the Roster writes the memberships and roles
// whose end time has come into the store (teams.Service.SweepExpired):
// once a minute by default; 0 turns it off, for a host that sweeps on one
// instance only, or on its own schedule. Can, Check and every call's
// authorization honour end times from the instant they pass either way.
func WithSweep(interval time.Duration) Option {
	return func(c *config) { c.sweep, c.sweepSet = max(interval, 0), true }
}

// WithInvites passes further options to the Invites service, such as
// default expiries (invites.WithDefaultExpiry, invites.WithTeamExpiry).
// Options given in several calls add up; later ones win.
func WithInvites(opts ...invites.Option) Option {
	return func(c *config) { c.invites = append(c.invites, opts...) }
}

// Open opens (creating if needed) the SQLite database file at path and
// returns a Roster on it with the Runpod policy, or the one given by
// WithPolicy. Close closes the database. Open returns the errors of
// sqlstore.OpenSQLite and New.
func Open(ctx context.Context, path string, opts ...Option) (*Roster, error) {
	c := config{policy: rbac.Runpod()}
	for _, o := range opts {
		o(&c)
	}
	s, err := sqlstore.OpenSQLite(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if c.logger != nil {
		s.SetLogger(c.logger)
	}
	r, err := New(ctx, s, c.policy, opts...)
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	r.ownsDB = true
	return r, nil
}

// New returns a Roster on s deciding with p. It loads every account and
// membership of s into memory so that Can never touches the database (with
// WithMemoryBudget, none: it reads each account when first asked); the
// memory follows every change made through the Roster at once, and changes
// made by others (other Rosters or processes on the same database) as the
// Store announces them (see store.Watcher; milliseconds on PostgreSQL) and
// at least every DefaultFollowInterval (see WithFollow), in a goroutine that
// Close stops. New does not take ownership of s: Close leaves it open.
// Options other than WithPolicy apply. It returns
// store.ErrInvalid if s or p is nil or an option is invalid (see
// invites.New, WithMemoryBudget), and the errors of s.Snapshot.
func New(ctx context.Context, s store.Store, p *rbac.Policy, opts ...Option) (*Roster, error) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	if s == nil || p == nil {
		return nil, fmt.Errorf("%w: nil store or policy", store.ErrInvalid)
	}
	if c.now == nil {
		c.now = time.Now
	}
	obs := newObserver(&c)
	mem, err := newMemory(s, p, &c, obs)
	if err != nil {
		return nil, err
	}
	synced := &syncedStore{Store: s, mem: mem, obs: obs}
	inv, err := invites.New(synced, p, c.invites...)
	if err != nil {
		return nil, fmt.Errorf("invite options: %w", err)
	}
	if err := mem.load(ctx); err != nil {
		return nil, fmt.Errorf("load memberships: %w", err)
	}
	obs.health.read(nil)
	r := &Roster{
		Teams:   teams.New(synced, p, c.teams...),
		Invites: inv,
		Audit:   audit.New(synced, p, c.audit...),
		Keys:    apikeys.New(synced, p, c.keys...),
		store:   s,
		policy:  p,
		mem:     mem,
		obs:     obs,
		now:     c.now,
		door:    txn.New(synced, p, c.now),
	}
	r.registerMetrics(c.meter)
	if !c.followSet {
		c.follow = DefaultFollowInterval
	}
	r.startFollowing(c.follow)
	sweep := KeyUseInterval
	if c.sweepSet {
		sweep = c.sweep
	}
	r.startChores(sweep)
	return r, nil
}

// Close stops following the Store, writes the uses of API keys not yet
// written (see Authenticate), and closes the Store if Open created it;
// a Roster made by New leaves its Store open. It returns the Store's Close
// error. Call it after the Roster's last use; later calls only close the
// Store again, which reports nothing.
func (r *Roster) Close() error {
	r.stopFollowing()
	r.mem.close()
	if r.stopUses != nil {
		r.stopChores()
		r.stopUses = nil
	}
	r.unregisterMetrics()
	if r.ownsDB {
		return r.store.Close()
	}
	return nil
}

// Policy returns the policy the Roster decides with.
func (r *Roster) Policy() *rbac.Policy { return r.policy }

// Revision returns the store revision the in-memory view reflects.
func (r *Roster) Revision() store.Revision { return r.mem.index().Revision() }

// Sync brings the in-memory view up to date with changes committed to the
// Store by others (another Roster or process on the same database) now,
// instead of when the follower brings them (see New and WithFollow).
// Changes made through this Roster need no Sync. It returns the Store's
// errors. It is safe for concurrent use.
func (r *Roster) Sync(ctx context.Context) error {
	_, _, err := r.catchUp(ctx)
	return err
}

// catchUp reads and applies the changes committed after the view's
// revision, notes the read in the Roster's health, and returns how many
// reads had failed in a row before it and the time of the last one that
// succeeded.
func (r *Roster) catchUp(ctx context.Context) (failures int, since time.Time, err error) {
	err = r.mem.catchUp(ctx)
	failures, since = r.obs.health.read(err)
	return failures, since, err
}

// Can reports whether user may perform action on the account. It answers
// from memory, never touching the database, except with a memory budget
// (WithMemoryBudget) for an account not held: it reads the account first,
// with ctx, and answers false if the read fails. Unknown users, accounts and
// actions, and malformed input, get false. Can is safe for concurrent use;
// it sees every change made through this Roster once the call that made it
// has returned.
//
// With a compiled policy (see rbac.Policy.Compiled; the presets and roster's
// own model) Can takes no lock and allocates nothing, and its cost does not
// grow with the number of memberships: one hash table probe and one
// comparison (see Performance in the README). With a fallback policy Can
// finds the membership the same way and then asks Casbin, for the member's
// role in the account (rbac.Policy.AllowsIn), which may grant actions the
// policy names only by a pattern (such as pods.gpu.create under pods.*):
// microseconds and hundreds of allocations per call. Only members of the
// account holding one of the policy's roles are asked about. Every write of
// the services is authorized by this same decision.
func (r *Roster) Can(ctx context.Context, user, account string, action rbac.Action) bool {
	allowed := r.mem.allowed(ctx, user, account, action)
	r.obs.decisions.count(allowed)
	return allowed
}

// Check is Can with a reason: it returns nil if user may perform action on
// the account, and otherwise an error wrapping store.ErrInvalid (malformed
// user, account or action), rbac.ErrUnknownAction (the policy is compiled
// and has no such action; a fallback policy answers for any action),
// store.ErrNotFound (no such account), rbac.ErrNotMember (the user is not a
// member of the account, or their membership has ended), rbac.ErrSuspended
// (the member is suspended; it wraps rbac.ErrDenied),
// rbac.ErrSecureSignIn (the account requires
// secure sign-in and the user signs in otherwise; it wraps rbac.ErrDenied),
// rbac.ErrDenied (the user's role lacks the action), or store.ErrBackend
// (with a memory budget, the account had to be read and could not be). It
// is safe for concurrent use.
func (r *Roster) Check(ctx context.Context, user, account string, action rbac.Action) error {
	return r.Explain(ctx, user, account, action).Err
}

// Decision is the full answer to a permission question.
type Decision struct {
	User    string
	Account string
	Action  rbac.Action
	// Allowed is the answer Can gives.
	Allowed bool
	// Role is the user's role in the account; empty if not a member.
	Role rbac.Role
	// Revision is the store revision the answer reflects.
	Revision store.Revision
	// Err is nil when Allowed, and otherwise says why not, as Check does.
	Err error
}

// String describes the decision in one line.
func (d Decision) String() string {
	if d.Allowed {
		return fmt.Sprintf("allowed: %s (%s) may %s on %s", d.User, d.Role, d.Action, d.Account)
	}
	return "denied: " + d.Err.Error()
}

// Explain answers like Can and says why, with the user's role and the
// revision the answer reflects. Decision.Err holds the error Check returns.
// It is safe for concurrent use.
func (r *Roster) Explain(ctx context.Context, user, account string, action rbac.Action) Decision {
	d, err := r.question(user, account, action)
	d.Revision = r.Revision()
	if err != nil {
		d = d.deny(err)
	} else {
		a, ok := r.mem.lookup(ctx, account, user, action)
		if ok {
			d = r.decide(d, a)
		} else {
			d = d.deny(fmt.Errorf("account %q could not be read into memory: %w", account, store.ErrBackend))
		}
	}
	r.obs.decisions.count(d.Allowed)
	return d
}

// question validates a permission question and returns its Decision so
// far, or the reason it cannot be asked.
func (r *Roster) question(user, account string, action rbac.Action) (Decision, error) {
	d := Decision{User: user, Account: account, Action: action}
	if err := check.IDs(check.ID("user", user), check.ID("account", account), check.ID("action", string(action))); err != nil {
		return d, err
	}
	if _, ok := r.policy.ActionID(action); !ok && r.policy.Compiled() {
		return d, fmt.Errorf("policy %s has no action %q: %w", r.policy.Name(), action, rbac.ErrUnknownAction)
	}
	return d, nil
}

// deny returns d denied for the reason err.
func (d Decision) deny(err error) Decision {
	d.Err = fmt.Errorf("check %q may %q on %q: %w", d.User, d.Action, d.Account, err)
	return d
}

// decide completes d from what is known of the user in the account: whether
// the account exists, whether the user is a member, whether their role is
// the policy's or one of the account's team roles (known), its name, and
// whether it allows the action.
func (r *Roster) decide(d Decision, a index.Answer) Decision {
	switch {
	case !a.AccountKnown:
		return d.deny(fmt.Errorf("no account %q: %w", d.Account, store.ErrNotFound))
	case !a.Member:
		return d.deny(rbac.ErrNotMember)
	case !a.RoleKnown:
		return d.deny(fmt.Errorf("stored role is not in policy %s nor a team role: %w", r.policy.Name(), rbac.ErrDenied))
	}
	d.Role = a.Role
	switch {
	case a.Suspended:
		return d.deny(fmt.Errorf("%s is suspended: %w", d.User, rbac.ErrSuspended))
	case a.InsecureSignIn:
		return d.deny(fmt.Errorf("%s signs in insecurely: %w", d.User, rbac.ErrSecureSignIn))
	case !a.Allowed:
		return d.deny(fmt.Errorf("role %q lacks it: %w", d.Role, rbac.ErrDenied))
	}
	d.Allowed = true
	return d
}

// syncedStore is the Store the services write through: the one write path
// (internal/txn) tells it of every commit, and it applies the commit's
// changes to the in-memory index before the call returns, so that Can
// reflects a change as soon as the call that made it returns.
type syncedStore struct {
	store.Store
	mem *memory
	obs *observer
}

// Committed applies the commit c to the index and notes its revision in
// ctx's Writes (see TrackWrites). An error means the change is committed
// but the index is behind until the follower or Sync catches up.
func (s *syncedStore) Committed(ctx context.Context, c store.Commit) error {
	recordWrite(ctx, c.Revision)
	err := s.mem.apply(ctx, c)
	s.obs.health.read(err)
	if err != nil {
		return fmt.Errorf("committed revision %d but the in-memory view is behind (call Sync): %w", c.Revision, err)
	}
	return nil
}

// Watch passes the Store's announcements through (see store.Watcher), so
// that a service's reader of the event stream (audit.Service.Follow) wakes
// on them. It returns an error wrapping store.ErrInvalid if the Store is
// not a store.Watcher.
func (s *syncedStore) Watch(ctx context.Context, fn func(store.Revision)) error {
	w, ok := s.Store.(store.Watcher)
	if !ok {
		return fmt.Errorf("watch: %w: the store does not announce its commits", store.ErrInvalid)
	}
	return w.Watch(ctx, fn)
}

// Observer returns the Observer the services' writes report to (see
// txn.Observed).
func (s *syncedStore) Observer() *txn.Observer { return s.obs.writes }

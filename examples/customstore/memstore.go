package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/teamroster/roster/store"
)

// MemStore is a store.Store that keeps everything in memory, written from
// the store package's contract alone. It is small rather than fast: each
// write transaction works on a copy of the data and publishes it whole on
// commit, so readers see one consistent state without locks, writers run one
// at a time, and a failed or panicking transaction leaves nothing behind.
// Its data is lost when the process exits. It is safe for concurrent use.
type MemStore struct {
	mu     sync.Mutex            // held by the one running write transaction
	cur    atomic.Pointer[state] // the committed state; never modified
	closed atomic.Bool
}

var _ store.Store = (*MemStore)(nil)

// memberKey, useKey and domainKey key the maps of memberships, invite
// uses and domain claims.
type memberKey struct{ account, user string }
type useKey struct{ invite, user string }
type domainKey struct{ account, name string }

// state is the whole data at one revision. Maps hold copies of records; a
// record is replaced, never changed in place, so cloning a state copies the
// maps and not the records.
type state struct {
	users     map[string]store.User
	accounts  map[string]store.Account
	members   map[memberKey]store.Member
	roles     map[memberKey]store.TeamRole // account, role name
	invites   map[string]store.Invite
	byToken   map[string]string // token hash -> invite ID
	uses      map[useKey]store.InviteUse
	transfers map[string]store.Transfer
	keys      map[string]store.APIKey
	domains   map[domainKey]store.Domain
	events    []store.Event // by ID ascending
	lastEvent int64
	heads     map[string]store.ChainHead
	changes   []store.Change // by revision
	rev       store.Revision
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	s := &MemStore{}
	s.cur.Store(&state{
		users: map[string]store.User{}, accounts: map[string]store.Account{}, members: map[memberKey]store.Member{},
		roles: map[memberKey]store.TeamRole{}, invites: map[string]store.Invite{}, byToken: map[string]string{},
		uses: map[useKey]store.InviteUse{}, transfers: map[string]store.Transfer{}, keys: map[string]store.APIKey{},
		domains: map[domainKey]store.Domain{}, heads: map[string]store.ChainHead{},
	})
	return s
}

func (d *state) clone() *state {
	c := *d
	c.users, c.accounts, c.members, c.roles = maps.Clone(d.users), maps.Clone(d.accounts), maps.Clone(d.members), maps.Clone(d.roles)
	c.invites, c.byToken, c.uses = maps.Clone(d.invites), maps.Clone(d.byToken), maps.Clone(d.uses)
	c.transfers, c.keys, c.domains, c.heads = maps.Clone(d.transfers), maps.Clone(d.keys), maps.Clone(d.domains), maps.Clone(d.heads)
	c.events = d.events[:len(d.events):len(d.events)] // appends copy
	c.changes = d.changes[:len(d.changes):len(d.changes)]
	return &c
}

// Update implements store.Store.
func (s *MemStore) Update(ctx context.Context, fn func(store.Tx) error) (store.Commit, error) {
	s.mu.Lock()
	defer s.mu.Unlock() // also when fn panics: nothing was published
	if s.closed.Load() {
		return store.Commit{}, fmt.Errorf("memstore: update: %w", store.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return store.Commit{}, fmt.Errorf("memstore: update: %w: %w", store.ErrBackend, err)
	}
	t := &tx{d: s.cur.Load().clone(), write: true}
	if err := fn(t); err != nil {
		return store.Commit{}, err
	}
	var c store.Commit
	if len(t.pending) > 0 {
		t.d.rev++
		for i := range t.pending {
			t.pending[i].Revision = t.d.rev
		}
		t.d.changes = append(t.d.changes, t.pending...)
		c = store.Commit{Revision: t.d.rev, Changes: t.pending}
	}
	s.cur.Store(t.d)
	return c, nil
}

// View implements store.Store.
func (s *MemStore) View(ctx context.Context, fn func(store.Tx) error) error {
	if s.closed.Load() {
		return fmt.Errorf("memstore: view: %w", store.ErrClosed)
	}
	return fn(&tx{d: s.cur.Load()})
}

// Snapshot implements store.Store.
func (s *MemStore) Snapshot(ctx context.Context, fn func(store.SnapshotItem) error) (store.Revision, error) {
	if s.closed.Load() {
		return 0, fmt.Errorf("memstore: snapshot: %w", store.ErrClosed)
	}
	d := s.cur.Load()
	for id, a := range d.accounts {
		if err := fn(store.SnapshotItem{AccountID: id, RequireSecure: a.RequireSecureSignIn}); err != nil {
			return 0, err
		}
	}
	for _, m := range d.members {
		it := store.SnapshotItem{AccountID: m.AccountID, UserID: m.UserID, Role: m.Role, SignIn: d.users[m.UserID].SignIn,
			ExpiresAt: m.Until, FallbackRole: m.FallbackRole, Suspended: m.Suspended()}
		if err := fn(it); err != nil {
			return 0, err
		}
	}
	for _, r := range d.roles {
		if err := fn(store.SnapshotItem{AccountID: r.AccountID, Role: r.Name, Actions: slices.Clone(r.Actions)}); err != nil {
			return 0, err
		}
	}
	for _, k := range d.keys {
		if !k.RevokedAt.IsZero() {
			continue
		}
		c := keySet(k)
		it := store.SnapshotItem{AccountID: c.AccountID, UserID: c.UserID, Role: c.Role, Actions: c.Actions,
			Key: c.Key, KeyHash: c.KeyHash, ExpiresAt: c.ExpiresAt}
		if err := fn(it); err != nil {
			return 0, err
		}
	}
	return d.rev, nil
}

// Changes implements store.Store.
func (s *MemStore) Changes(ctx context.Context, after store.Revision, limit int) ([]store.Change, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("memstore: changes: %w", store.ErrClosed)
	}
	d := s.cur.Load()
	i, _ := slices.BinarySearchFunc(d.changes, after+1, func(c store.Change, r store.Revision) int { return cmp.Compare(c.Revision, r) })
	var out []store.Change
	for ; i < len(d.changes); i++ {
		c := d.changes[i]
		if limit > 0 && len(out) >= limit && c.Revision != out[len(out)-1].Revision {
			break // never split a commit
		}
		c.Actions, c.KeyHash = slices.Clone(c.Actions), bytes.Clone(c.KeyHash)
		out = append(out, c)
	}
	return out, nil
}

// EventsAfter implements store.Store. Writers run one at a time and take
// event IDs in the order they commit, so the stream is the events in ID
// order, and each event's ID serves as its commit number.
func (s *MemStore) EventsAfter(ctx context.Context, after store.EventPosition, limit int) ([]store.StreamEvent, error) {
	limit, err := store.CheckEventsAfter(after, limit)
	if err != nil {
		return nil, fmt.Errorf("memstore: events after: %w", err)
	}
	if s.closed.Load() {
		return nil, fmt.Errorf("memstore: events after: %w", store.ErrClosed)
	}
	events := s.cur.Load().events
	i, found := slices.BinarySearchFunc(events, after, func(e store.Event, p store.EventPosition) int {
		return position(e).Compare(p)
	})
	if found {
		i++
	}
	var out []store.StreamEvent
	for _, e := range events[i:min(i+limit, len(events))] {
		out = append(out, store.StreamEvent{Position: position(e), Event: copyEvent(e)})
	}
	return out, nil
}

// position returns e's position in the event stream.
func position(e store.Event) store.EventPosition {
	return store.EventPosition{Commit: uint64(e.ID), ID: e.ID}
}

// Close implements store.Store.
func (s *MemStore) Close() error {
	s.closed.Store(true)
	return nil
}

// tx is one transaction: on a private copy of the state for Update, on the
// committed state for View.
type tx struct {
	d       *state
	write   bool
	pending []store.Change
}

var _ store.Tx = (*tx)(nil)

// writable returns ErrInvalid in a View.
func (t *tx) writable(op string) error {
	if !t.write {
		return fmt.Errorf("memstore: %s in a read-only transaction: %w", op, store.ErrInvalid)
	}
	return nil
}

// check returns the first error of a write's preconditions.
func check(op string, errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("memstore: %s: %w", op, err)
		}
	}
	return nil
}

func need(ok bool, sentinel error, what string) error {
	if ok {
		return nil
	}
	return fmt.Errorf("%w: %s", sentinel, what)
}

func utc(t time.Time) time.Time { return t.UTC() }

func (t *tx) hasAccount(id string) bool { _, ok := t.d.accounts[id]; return ok }
func (t *tx) hasUser(id string) bool    { _, ok := t.d.users[id]; return ok }

func (t *tx) CreateUser(_ context.Context, u store.User) error {
	_, exists := t.d.users[u.ID]
	if err := check("create user", t.writable("CreateUser"), need(u.ID != "", store.ErrInvalid, "empty ID"), need(!exists, store.ErrExists, u.ID)); err != nil {
		return err
	}
	u.CreatedAt = utc(u.CreatedAt)
	t.d.users[u.ID] = u
	return nil
}

func (t *tx) User(_ context.Context, id string) (store.User, error) {
	u, ok := t.d.users[id]
	return u, check("user", need(ok, store.ErrNotFound, id))
}

func (t *tx) UpdateUser(_ context.Context, u store.User) error {
	old, ok := t.d.users[u.ID]
	if err := check("update user", t.writable("UpdateUser"), need(ok, store.ErrNotFound, u.ID)); err != nil {
		return err
	}
	u.CreatedAt, u.ActiveAccount = old.CreatedAt, old.ActiveAccount
	t.d.users[u.ID] = u
	if u.SignIn != old.SignIn {
		t.pending = append(t.pending, store.Change{Op: store.UserUpdated, UserID: u.ID, SignIn: u.SignIn})
	}
	return nil
}

func (t *tx) DeleteUser(_ context.Context, id string) error {
	member, keyOwner := false, false
	for k := range t.d.members {
		member = member || k.user == id
	}
	for _, k := range t.d.keys {
		keyOwner = keyOwner || k.UserID == id && k.RevokedAt.IsZero()
	}
	if err := check("delete user", t.writable("DeleteUser"), need(t.hasUser(id), store.ErrNotFound, id),
		need(!member, store.ErrPrecondition, id+" is still a member"),
		need(!keyOwner, store.ErrPrecondition, id+" still owns an API key that is not revoked")); err != nil {
		return err
	}
	delete(t.d.users, id)
	maps.DeleteFunc(t.d.uses, func(k useKey, _ store.InviteUse) bool { return k.user == id })
	maps.DeleteFunc(t.d.keys, func(_ string, k store.APIKey) bool { return k.UserID == id }) // all revoked
	return nil
}

// SetActiveAccount implements store.Tx: write transactions already run one
// at a time, so comparing and setting needs nothing more.
func (t *tx) SetActiveAccount(_ context.Context, userID, from, to string) (bool, error) {
	u, ok := t.d.users[userID]
	if err := check("set active account", t.writable("SetActiveAccount"), need(ok, store.ErrNotFound, userID)); err != nil {
		return false, err
	}
	if u.ActiveAccount != from {
		return false, nil
	}
	u.ActiveAccount = to
	t.d.users[userID] = u
	return true, nil
}

func (t *tx) UsersByEmail(_ context.Context, emails []string) ([]store.User, error) {
	if err := check("users by email", need(len(emails) <= store.MaxEmailsPerQuery, store.ErrInvalid, "too many emails")); err != nil {
		return nil, err
	}
	// Addresses are ASCII (store.ValidateEmail), on which strings.ToLower is
	// the ASCII case folding the contract asks for.
	wanted := make(map[string]bool, len(emails))
	for _, e := range emails {
		wanted[strings.ToLower(e)] = true
	}
	return list(t.d.users, func(u store.User) bool { return wanted[strings.ToLower(u.Email)] }, same,
		func(a, b store.User) int { return strings.Compare(a.ID, b.ID) }), nil
}

func (t *tx) UsersByID(_ context.Context, ids []string) ([]store.User, error) {
	if err := check("users by ID", need(len(ids) <= store.MaxPageSize, store.ErrInvalid, "too many IDs")); err != nil {
		return nil, err
	}
	return byID(t.d.users, ids, same), nil
}

// byID returns copies (made by cp) of the records of m under the given
// keys, ordered by key.
func byID[V any](m map[string]V, ids []string, cp func(V) V) []V {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	var out []V
	for _, id := range slices.Compact(ids) {
		if v, ok := m[id]; ok {
			out = append(out, cp(v))
		}
	}
	return out
}

func (t *tx) CreateAccount(_ context.Context, a store.Account) error {
	if err := check("create account", t.writable("CreateAccount"), need(a.ID != "", store.ErrInvalid, "empty ID"),
		need(a.SeatLimit >= 0, store.ErrInvalid, "negative seat limit"), need(!t.hasAccount(a.ID), store.ErrExists, a.ID)); err != nil {
		return err
	}
	a.CreatedAt, a.UpdatedAt = utc(a.CreatedAt), utc(a.UpdatedAt)
	t.d.accounts[a.ID] = a
	t.pending = append(t.pending, store.Change{Op: store.AccountCreated, AccountID: a.ID, RequireSecure: a.RequireSecureSignIn})
	return nil
}

func (t *tx) Account(_ context.Context, id string) (store.Account, error) {
	a, ok := t.d.accounts[id]
	return a, check("account", need(ok, store.ErrNotFound, id))
}

func (t *tx) AccountsByID(_ context.Context, ids []string) ([]store.Account, error) {
	if err := check("accounts by ID", need(len(ids) <= store.MaxPageSize, store.ErrInvalid, "too many IDs")); err != nil {
		return nil, err
	}
	return byID(t.d.accounts, ids, same), nil
}

// LockAccount implements store.Tx: write transactions already run one at a
// time, so it only reads the account.
func (t *tx) LockAccount(ctx context.Context, id string) (store.Account, error) {
	return t.Account(ctx, id)
}

func (t *tx) UpdateAccount(_ context.Context, a store.Account) error {
	old, ok := t.d.accounts[a.ID]
	if err := check("update account", t.writable("UpdateAccount"), need(a.SeatLimit >= 0, store.ErrInvalid, "negative seat limit"),
		need(ok, store.ErrNotFound, a.ID)); err != nil {
		return err
	}
	a.CreatedAt, a.UpdatedAt = old.CreatedAt, utc(a.UpdatedAt)
	t.d.accounts[a.ID] = a
	t.pending = append(t.pending, store.Change{Op: store.AccountUpdated, AccountID: a.ID, RequireSecure: a.RequireSecureSignIn})
	if a.RequireSecureSignIn != old.RequireSecureSignIn {
		// Readers of changes need every member's sign-in method now.
		members := list(t.d.members, func(m store.Member) bool { return m.AccountID == a.ID }, same,
			func(a, b store.Member) int { return strings.Compare(a.UserID, b.UserID) })
		for _, m := range members {
			t.memberSet(m)
		}
	}
	return nil
}

func (t *tx) CreateMember(_ context.Context, m store.Member) error {
	k := memberKey{m.AccountID, m.UserID}
	_, exists := t.d.members[k]
	if err := check("create member", t.writable("CreateMember"),
		need(m.AccountID != "" && m.UserID != "", store.ErrInvalid, "empty account or user ID"), validTerms(m),
		need(t.hasAccount(m.AccountID), store.ErrNotFound, "account "+m.AccountID),
		need(t.hasUser(m.UserID), store.ErrNotFound, "user "+m.UserID),
		need(!exists, store.ErrExists, m.AccountID+"/"+m.UserID)); err != nil {
		return err
	}
	m.JoinedAt, m.Until, m.SuspendedAt = utc(m.JoinedAt), utc(m.Until), utc(m.SuspendedAt)
	t.d.members[k] = m
	t.memberSet(m)
	return nil
}

// validTerms returns ErrInvalid if m has a role to fall back to but no
// time to fall back at.
func validTerms(m store.Member) error {
	return need(m.FallbackRole == "" || !m.Until.IsZero(), store.ErrInvalid, "a fallback role without an end time")
}

// memberSet records a MemberSet change for m, with the user's sign-in
// method.
func (t *tx) memberSet(m store.Member) {
	t.pending = append(t.pending, store.Change{Op: store.MemberSet, AccountID: m.AccountID, UserID: m.UserID, Role: m.Role,
		SignIn: t.d.users[m.UserID].SignIn, ExpiresAt: m.Until, FallbackRole: m.FallbackRole, Suspended: m.Suspended()})
}

func (t *tx) Member(_ context.Context, accountID, userID string) (store.Member, error) {
	m, ok := t.d.members[memberKey{accountID, userID}]
	return m, check("member", need(ok, store.ErrNotFound, accountID+"/"+userID))
}

func (t *tx) UpdateMember(_ context.Context, m store.Member) error {
	k := memberKey{m.AccountID, m.UserID}
	old, ok := t.d.members[k]
	if err := check("update member", t.writable("UpdateMember"), validTerms(m), need(ok, store.ErrNotFound, m.AccountID+"/"+m.UserID)); err != nil {
		return err
	}
	m.JoinedAt, m.Until, m.SuspendedAt = old.JoinedAt, utc(m.Until), utc(m.SuspendedAt)
	t.d.members[k] = m
	t.memberSet(m)
	return nil
}

func (t *tx) DeleteMember(_ context.Context, accountID, userID string) error {
	k := memberKey{accountID, userID}
	_, ok := t.d.members[k]
	if err := check("delete member", t.writable("DeleteMember"), need(ok, store.ErrNotFound, accountID+"/"+userID)); err != nil {
		return err
	}
	delete(t.d.members, k)
	t.pending = append(t.pending, store.Change{Op: store.MemberDeleted, AccountID: accountID, UserID: userID})
	return nil
}

// list returns copies (made by cp) of the records of m that keep selects,
// sorted by order.
func list[K comparable, V any](m map[K]V, keep func(V) bool, cp func(V) V, order func(a, b V) int) []V {
	var out []V
	for _, v := range m {
		if keep(v) {
			out = append(out, cp(v))
		}
	}
	slices.SortFunc(out, order)
	return out
}

func same[V any](v V) V { return v }

// ranged returns the records of recs, sorted by their key (newest first if
// desc), that r selects.
func ranged[V any](recs []V, key func(V) store.Key, desc bool, r store.Range) ([]V, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	var out []V
	for _, v := range recs {
		if r.Limit > 0 && len(out) == r.Limit {
			break
		}
		if r.Follows(key(v), desc) {
			out = append(out, v)
		}
	}
	return out, nil
}

func (t *tx) Members(_ context.Context, accountID string, r store.Range) ([]store.Member, error) {
	key := func(m store.Member) store.Key { return store.Key{Time: m.JoinedAt, ID: m.UserID} }
	all := list(t.d.members, func(m store.Member) bool { return m.AccountID == accountID }, same,
		func(a, b store.Member) int { return key(a).Compare(key(b)) })
	ms, err := ranged(all, key, false, r)
	return ms, check("members", err)
}

// ExpiredMembers implements store.Tx by looking at every membership: a
// store kept for its simplicity, not its speed.
func (t *tx) ExpiredMembers(_ context.Context, now time.Time, limit int) ([]store.Member, error) {
	if limit <= 0 {
		limit = store.DefaultPageSize
	}
	all := list(t.d.members, func(m store.Member) bool { return m.Expired(now) }, same, func(a, b store.Member) int {
		return cmp.Or(a.Until.Compare(b.Until), strings.Compare(a.AccountID, b.AccountID), strings.Compare(a.UserID, b.UserID))
	})
	return all[:min(limit, len(all))], nil
}

// Seats implements store.Tx: every pending invite record counts once,
// however many uses a reusable link has left.
func (t *tx) Seats(_ context.Context, accountID string, now time.Time) (members, pending int, err error) {
	for k := range t.d.members {
		if k.account == accountID {
			members++
		}
	}
	for _, inv := range t.d.invites {
		if inv.AccountID == accountID && inv.Status == store.InvitePending && !inv.Expired(now) {
			pending++
		}
	}
	return members, pending, nil
}

func (t *tx) Memberships(_ context.Context, userID string, r store.Range) ([]store.Member, error) {
	key := func(m store.Member) store.Key { return store.Key{Time: m.JoinedAt, ID: m.AccountID} }
	all := list(t.d.members, func(m store.Member) bool { return m.UserID == userID }, same,
		func(a, b store.Member) int { return key(a).Compare(key(b)) })
	ms, err := ranged(all, key, false, r)
	return ms, check("memberships", err)
}

func copyRole(r store.TeamRole) store.TeamRole {
	r.Actions = slices.Clone(r.Actions)
	return r
}

func (t *tx) PutTeamRole(_ context.Context, r store.TeamRole) error {
	actions := slices.Clone(r.Actions)
	slices.Sort(actions)
	valid := r.Name != ""
	for i, a := range actions {
		valid = valid && a != "" && !strings.ContainsAny(a, " \t\n") && (i == 0 || actions[i-1] != a)
	}
	if err := check("put team role", t.writable("PutTeamRole"), need(valid, store.ErrInvalid, "empty name, or an empty, spaced or repeated action"),
		need(t.hasAccount(r.AccountID), store.ErrNotFound, "account "+r.AccountID)); err != nil {
		return err
	}
	k := memberKey{r.AccountID, r.Name}
	if old, ok := t.d.roles[k]; ok {
		r.CreatedBy, r.CreatedAt = old.CreatedBy, old.CreatedAt
	}
	r.Actions, r.CreatedAt, r.UpdatedAt = actions, utc(r.CreatedAt), utc(r.UpdatedAt)
	t.d.roles[k] = r
	t.pending = append(t.pending, store.Change{Op: store.RoleSet, AccountID: r.AccountID, Role: r.Name, Actions: slices.Clone(actions)})
	return nil
}

func (t *tx) TeamRole(_ context.Context, accountID, name string) (store.TeamRole, error) {
	r, ok := t.d.roles[memberKey{accountID, name}]
	return copyRole(r), check("team role", need(ok, store.ErrNotFound, accountID+"/"+name))
}

func (t *tx) TeamRoles(_ context.Context, accountID string) ([]store.TeamRole, error) {
	return list(t.d.roles, func(r store.TeamRole) bool { return r.AccountID == accountID }, copyRole,
		func(a, b store.TeamRole) int { return strings.Compare(a.Name, b.Name) }), nil
}

func (t *tx) DeleteTeamRole(_ context.Context, accountID, name string) error {
	k := memberKey{accountID, name}
	_, ok := t.d.roles[k]
	if err := check("delete team role", t.writable("DeleteTeamRole"), need(ok, store.ErrNotFound, accountID+"/"+name)); err != nil {
		return err
	}
	delete(t.d.roles, k)
	t.pending = append(t.pending, store.Change{Op: store.RoleDeleted, AccountID: accountID, Role: name})
	return nil
}

func copyInvite(inv store.Invite) store.Invite {
	inv.TokenHash = bytes.Clone(inv.TokenHash)
	return inv
}

// tokenTaken reports whether another invite than id holds hash.
func (t *tx) tokenTaken(hash []byte, id string) bool {
	owner, ok := t.d.byToken[string(hash)]
	return len(hash) > 0 && ok && owner != id
}

func (t *tx) putInvite(inv store.Invite) {
	if old, ok := t.d.invites[inv.ID]; ok && t.d.byToken[string(old.TokenHash)] == inv.ID {
		delete(t.d.byToken, string(old.TokenHash))
	}
	inv = copyInvite(inv)
	inv.CreatedAt, inv.UpdatedAt, inv.ExpiresAt, inv.ResentAt = utc(inv.CreatedAt), utc(inv.UpdatedAt), utc(inv.ExpiresAt), utc(inv.ResentAt)
	t.d.invites[inv.ID] = inv
	if len(inv.TokenHash) > 0 {
		t.d.byToken[string(inv.TokenHash)] = inv.ID
	}
}

func (t *tx) CreateInvite(_ context.Context, inv store.Invite) error {
	_, exists := t.d.invites[inv.ID]
	if err := check("create invite", t.writable("CreateInvite"), need(inv.ID != "", store.ErrInvalid, "empty ID"),
		need(!exists && !t.tokenTaken(inv.TokenHash, inv.ID), store.ErrExists, "invite ID or token hash"),
		need(t.hasAccount(inv.AccountID), store.ErrNotFound, "account "+inv.AccountID)); err != nil {
		return err
	}
	t.putInvite(inv)
	return nil
}

func (t *tx) Invite(_ context.Context, id string) (store.Invite, error) {
	inv, ok := t.d.invites[id]
	return copyInvite(inv), check("invite", need(ok, store.ErrNotFound, id))
}

func (t *tx) InviteByToken(ctx context.Context, hash []byte) (store.Invite, error) {
	id, ok := t.d.byToken[string(hash)]
	if !ok || len(hash) == 0 {
		return store.Invite{}, check("invite by token", need(false, store.ErrNotFound, "token"))
	}
	return t.Invite(ctx, id)
}

func (t *tx) UpdateInvite(_ context.Context, inv store.Invite) error {
	old, ok := t.d.invites[inv.ID]
	if err := check("update invite", t.writable("UpdateInvite"), need(ok, store.ErrNotFound, inv.ID),
		need(!t.tokenTaken(inv.TokenHash, inv.ID), store.ErrExists, "token hash")); err != nil {
		return err
	}
	inv.CreatedAt = old.CreatedAt
	t.putInvite(inv)
	return nil
}

func (t *tx) Invites(_ context.Context, accountID string, r store.Range) ([]store.Invite, error) {
	all := list(t.d.invites, func(inv store.Invite) bool { return inv.AccountID == accountID }, copyInvite,
		func(a, b store.Invite) int { return b.Key().Compare(a.Key()) })
	invs, err := ranged(all, store.Invite.Key, true, r)
	return invs, check("invites", err)
}

func (t *tx) CreateInviteUse(_ context.Context, u store.InviteUse) error {
	_, invite := t.d.invites[u.InviteID]
	_, exists := t.d.uses[useKey{u.InviteID, u.UserID}]
	if err := check("create invite use", t.writable("CreateInviteUse"),
		need(u.InviteID != "" && u.UserID != "", store.ErrInvalid, "empty invite or user ID"),
		need(invite, store.ErrNotFound, "invite "+u.InviteID), need(t.hasUser(u.UserID), store.ErrNotFound, "user "+u.UserID),
		need(!exists, store.ErrExists, u.InviteID+"/"+u.UserID)); err != nil {
		return err
	}
	u.UsedAt = utc(u.UsedAt)
	t.d.uses[useKey{u.InviteID, u.UserID}] = u
	return nil
}

func (t *tx) InviteUses(_ context.Context, inviteID string) ([]store.InviteUse, error) {
	return list(t.d.uses, func(u store.InviteUse) bool { return u.InviteID == inviteID }, same, func(a, b store.InviteUse) int {
		return cmp.Or(a.UsedAt.Compare(b.UsedAt), strings.Compare(a.UserID, b.UserID))
	}), nil
}

func copyTransfer(tr store.Transfer) store.Transfer {
	tr.ConfirmHash, tr.AcceptHash = bytes.Clone(tr.ConfirmHash), bytes.Clone(tr.AcceptHash)
	return tr
}

func (t *tx) putTransfer(tr store.Transfer) {
	tr = copyTransfer(tr)
	tr.CreatedAt, tr.ExpiresAt, tr.UpdatedAt = utc(tr.CreatedAt), utc(tr.ExpiresAt), utc(tr.UpdatedAt)
	t.d.transfers[tr.ID] = tr
}

func (t *tx) CreateTransfer(_ context.Context, tr store.Transfer) error {
	_, exists := t.d.transfers[tr.ID]
	if err := check("create transfer", t.writable("CreateTransfer"), need(tr.ID != "", store.ErrInvalid, "empty ID"),
		need(tr.Kind.Valid(), store.ErrInvalid, "unknown kind "+string(tr.Kind)),
		need(!exists, store.ErrExists, tr.ID), need(t.hasAccount(tr.AccountID), store.ErrNotFound, "account "+tr.AccountID)); err != nil {
		return err
	}
	t.putTransfer(tr)
	return nil
}

func (t *tx) Transfer(_ context.Context, id string) (store.Transfer, error) {
	tr, ok := t.d.transfers[id]
	return copyTransfer(tr), check("transfer", need(ok, store.ErrNotFound, id))
}

func (t *tx) UpdateTransfer(_ context.Context, tr store.Transfer) error {
	old, ok := t.d.transfers[tr.ID]
	if err := check("update transfer", t.writable("UpdateTransfer"), need(tr.Kind.Valid(), store.ErrInvalid, "unknown kind "+string(tr.Kind)),
		need(ok, store.ErrNotFound, tr.ID)); err != nil {
		return err
	}
	tr.CreatedAt = old.CreatedAt
	t.putTransfer(tr)
	return nil
}

func (t *tx) Transfers(_ context.Context, accountID string, r store.Range) ([]store.Transfer, error) {
	all := list(t.d.transfers, func(tr store.Transfer) bool { return tr.AccountID == accountID }, copyTransfer,
		func(a, b store.Transfer) int { return b.Key().Compare(a.Key()) })
	trs, err := ranged(all, store.Transfer.Key, true, r)
	return trs, check("transfers", err)
}

func copyKey(k store.APIKey) store.APIKey {
	k.Actions, k.Hash = slices.Clone(k.Actions), bytes.Clone(k.Hash)
	return k
}

// keySet returns the APIKeySet change of k.
func keySet(k store.APIKey) store.Change {
	return store.Change{Op: store.APIKeySet, AccountID: k.AccountID, UserID: k.UserID, Role: k.Role,
		Actions: slices.Clone(k.Actions), Key: k.ID, KeyHash: bytes.Clone(k.Hash), ExpiresAt: k.ExpiresAt}
}

func (t *tx) putKey(k store.APIKey) {
	k = copyKey(k)
	k.CreatedAt, k.ExpiresAt, k.RevokedAt, k.LastUsedAt = utc(k.CreatedAt), utc(k.ExpiresAt), utc(k.RevokedAt), utc(k.LastUsedAt)
	t.d.keys[k.ID] = k
}

func (t *tx) CreateAPIKey(_ context.Context, k store.APIKey) error {
	_, exists := t.d.keys[k.ID]
	if err := check("create API key", t.writable("CreateAPIKey"), k.Validate(), need(k.RevokedAt.IsZero(), store.ErrInvalid, "already revoked"),
		need(!exists, store.ErrExists, k.ID), need(t.hasAccount(k.AccountID), store.ErrNotFound, "account "+k.AccountID),
		need(k.UserID == "" || t.hasUser(k.UserID), store.ErrNotFound, "user "+k.UserID)); err != nil {
		return err
	}
	t.putKey(k)
	t.pending = append(t.pending, keySet(t.d.keys[k.ID]))
	return nil
}

func (t *tx) APIKey(_ context.Context, id string) (store.APIKey, error) {
	k, ok := t.d.keys[id]
	return copyKey(k), check("API key", need(ok, store.ErrNotFound, id))
}

func (t *tx) UpdateAPIKey(_ context.Context, k store.APIKey) error {
	old, ok := t.d.keys[k.ID]
	if err := check("update API key", t.writable("UpdateAPIKey"), k.Validate(), need(ok, store.ErrNotFound, k.ID),
		need(old.RevokedAt.IsZero(), store.ErrInvalid, "revoked, and a revoked key stays revoked")); err != nil {
		return err
	}
	old.Name, old.Role, old.Actions, old.ExpiresAt, old.RevokedAt, old.RevokedBy = k.Name, k.Role, k.Actions, k.ExpiresAt, k.RevokedAt, k.RevokedBy
	t.putKey(old)
	if !k.RevokedAt.IsZero() {
		t.pending = append(t.pending, store.Change{Op: store.APIKeyRevoked, AccountID: old.AccountID, UserID: old.UserID, Key: old.ID})
		return nil
	}
	t.pending = append(t.pending, keySet(t.d.keys[k.ID]))
	return nil
}

func (t *tx) APIKeys(_ context.Context, accountID, userID string, r store.Range) ([]store.APIKey, error) {
	all := list(t.d.keys, func(k store.APIKey) bool { return k.AccountID == accountID && (userID == "" || k.UserID == userID) }, copyKey,
		func(a, b store.APIKey) int { return b.Key().Compare(a.Key()) })
	keys, err := ranged(all, store.APIKey.Key, true, r)
	return keys, check("API keys", err)
}

// TouchAPIKeys implements store.Tx: uses are applied in order, each only if
// it is later than the key's latest so far.
func (t *tx) TouchAPIKeys(_ context.Context, uses []store.APIKeyUse) error {
	if err := check("touch API keys", t.writable("TouchAPIKeys"), need(len(uses) <= store.MaxPageSize, store.ErrInvalid, "too many uses")); err != nil {
		return err
	}
	for _, u := range uses {
		k, ok := t.d.keys[u.ID]
		if at := utc(u.At); ok && k.RevokedAt.IsZero() && at.After(k.LastUsedAt) {
			k.LastUsedAt, k.LastUsedIP = at, u.IP
			t.d.keys[u.ID] = k
		}
	}
	return nil
}

func (t *tx) CreateDomain(_ context.Context, d store.Domain) error {
	_, exists := t.d.domains[domainKey{d.AccountID, d.Name}]
	if err := check("create domain", t.writable("CreateDomain"), need(d.Name != "" && d.AccountID != "", store.ErrInvalid, "empty name or account ID"),
		need(d.Mode.Valid(), store.ErrInvalid, "unknown mode "+string(d.Mode)), need(!d.Verified(), store.ErrInvalid, "a new claim is not verified yet"),
		need(!exists, store.ErrExists, d.AccountID+"/"+d.Name), need(t.hasAccount(d.AccountID), store.ErrNotFound, "account "+d.AccountID)); err != nil {
		return err
	}
	d.CreatedAt = utc(d.CreatedAt)
	t.d.domains[domainKey{d.AccountID, d.Name}] = d
	return nil
}

func (t *tx) Domain(_ context.Context, name, accountID string) (store.Domain, error) {
	d, ok := t.d.domains[domainKey{accountID, name}]
	return d, check("domain", need(ok, store.ErrNotFound, accountID+"/"+name))
}

func (t *tx) Domains(_ context.Context, accountID string) ([]store.Domain, error) {
	return list(t.d.domains, func(d store.Domain) bool { return d.AccountID == accountID }, same,
		func(a, b store.Domain) int { return strings.Compare(a.Name, b.Name) }), nil
}

// VerifiedDomain implements store.Tx by looking at every claim.
func (t *tx) VerifiedDomain(_ context.Context, name string) (store.Domain, error) {
	for _, d := range t.d.domains {
		if d.Name == name && d.Verified() {
			return d, nil
		}
	}
	return store.Domain{}, check("verified domain", need(false, store.ErrNotFound, name))
}

// UpdateDomain implements store.Tx. Writers run one at a time, so looking
// for another team's verified claim first keeps one verified per name.
func (t *tx) UpdateDomain(ctx context.Context, d store.Domain) error {
	old, ok := t.d.domains[domainKey{d.AccountID, d.Name}]
	other, err := t.VerifiedDomain(ctx, d.Name)
	taken := err == nil && other.AccountID != d.AccountID
	if err := check("update domain", t.writable("UpdateDomain"), need(d.Mode.Valid(), store.ErrInvalid, "unknown mode "+string(d.Mode)),
		need(ok, store.ErrNotFound, d.AccountID+"/"+d.Name), need(!d.Verified() || !taken, store.ErrExists, "verified for another team")); err != nil {
		return err
	}
	old.Mode, old.Role, old.VerifiedAt = d.Mode, d.Role, utc(d.VerifiedAt)
	t.d.domains[domainKey{d.AccountID, d.Name}] = old
	return nil
}

func (t *tx) DeleteDomain(_ context.Context, name, accountID string) error {
	k := domainKey{accountID, name}
	_, ok := t.d.domains[k]
	if err := check("delete domain", t.writable("DeleteDomain"), need(ok, store.ErrNotFound, accountID+"/"+name)); err != nil {
		return err
	}
	delete(t.d.domains, k)
	return nil
}

func copyEvent(e store.Event) store.Event {
	e.PrevHash, e.Hash = bytes.Clone(e.PrevHash), bytes.Clone(e.Hash)
	e.Salt, e.Commitment = bytes.Clone(e.Salt), bytes.Clone(e.Commitment)
	return e
}

func (t *tx) AppendEvent(_ context.Context, e store.Event) (store.Event, error) {
	if err := check("append event", t.writable("AppendEvent"), need(e.AccountID != "" && e.Action != "", store.ErrInvalid, "empty account or action"),
		need(t.hasAccount(e.AccountID), store.ErrNotFound, "account "+e.AccountID)); err != nil {
		return store.Event{}, err
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	t.d.lastEvent++
	e.ID, e.Time = t.d.lastEvent, utc(e.Time)
	e = copyEvent(e)
	t.d.events = append(t.d.events, e)
	return copyEvent(e), nil
}

// matches reports whether e passes every field of f.
func matches(f store.EventFilter, e store.Event) bool {
	for _, p := range [][2]string{{f.AccountID, e.AccountID}, {f.Actor, e.Actor}, {string(f.Action), string(e.Action)},
		{f.ResourceType, e.ResourceType}, {f.ResourceID, e.ResourceID}, {string(f.Result), string(e.Result)}} {
		if p[0] != "" && p[0] != p[1] {
			return false
		}
	}
	return (f.Since.IsZero() || !e.Time.Before(f.Since)) && (f.Until.IsZero() || e.Time.Before(f.Until)) &&
		(f.BeforeID == 0 || e.ID < f.BeforeID) && e.ID > f.AfterID &&
		(f.Below.IsZero() || e.Time.Before(f.Below.Time) || (e.Time.Equal(f.Below.Time) && e.ID < f.Below.ID))
}

func (t *tx) Events(ctx context.Context, f store.EventFilter) ([]store.Event, error) {
	var out []store.Event
	err := t.ScanEvents(ctx, f, func(e store.Event) error {
		out = append(out, e)
		return nil
	})
	return out, err
}

func (t *tx) ScanEvents(_ context.Context, f store.EventFilter, fn func(store.Event) error) error {
	if err := f.Validate(); err != nil {
		return fmt.Errorf("memstore: events: %w", err)
	}
	var sel []store.Event
	for _, e := range t.d.events {
		if matches(f, e) {
			sel = append(sel, e)
		}
	}
	if f.Order == store.NewestFirst {
		slices.SortFunc(sel, func(a, b store.Event) int { return cmp.Or(b.Time.Compare(a.Time), cmp.Compare(b.ID, a.ID)) })
	}
	if f.Limit > 0 && len(sel) > f.Limit {
		sel = sel[:f.Limit]
	}
	for _, e := range sel {
		if err := fn(copyEvent(e)); err != nil {
			return err
		}
	}
	return nil
}

// EraseEvent implements store.Tx. The committed state shares its events'
// array, so the transaction changes a copy of it.
func (t *tx) EraseEvent(_ context.Context, e store.Event) error {
	i, ok := slices.BinarySearchFunc(t.d.events, e.ID, func(x store.Event, id int64) int { return cmp.Compare(x.ID, id) })
	if err := check("erase event", t.writable("EraseEvent"), need(ok, store.ErrNotFound, fmt.Sprint(e.ID))); err != nil {
		return err
	}
	t.d.events = slices.Clone(t.d.events)
	old := &t.d.events[i]
	old.Before, old.After, old.Reason, old.IP, old.UserAgent, old.Salt = e.Before, e.After, e.Reason, e.IP, e.UserAgent, nil
	return nil
}

func (t *tx) DeleteEvents(_ context.Context, accountID string, throughID int64) (int64, error) {
	if err := check("delete events", t.writable("DeleteEvents"), need(accountID != "" && throughID >= 0, store.ErrInvalid, "empty account or negative ID")); err != nil {
		return 0, err
	}
	kept := make([]store.Event, 0, len(t.d.events))
	for _, e := range t.d.events {
		if e.AccountID != accountID || e.ID > throughID {
			kept = append(kept, e)
		}
	}
	n := int64(len(t.d.events) - len(kept))
	t.d.events = kept
	return n, nil
}

func (t *tx) ChainHead(_ context.Context, accountID string) (store.ChainHead, error) {
	h, ok := t.d.heads[accountID]
	h.LastHash, h.AnchorHash = bytes.Clone(h.LastHash), bytes.Clone(h.AnchorHash)
	return h, check("chain head", need(ok, store.ErrNotFound, accountID))
}

func (t *tx) SetChainHead(_ context.Context, h store.ChainHead) error {
	if err := check("set chain head", t.writable("SetChainHead"), need(h.AccountID != "", store.ErrInvalid, "empty account"),
		need(t.hasAccount(h.AccountID), store.ErrNotFound, "account "+h.AccountID)); err != nil {
		return err
	}
	h.LastHash, h.AnchorHash, h.LastTime = bytes.Clone(h.LastHash), bytes.Clone(h.AnchorHash), utc(h.LastTime)
	t.d.heads[h.AccountID] = h
	return nil
}

package roster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/teamroster/roster/internal/index"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// MinMemoryBudget is the smallest memory budget WithMemoryBudget takes: an
// index's tables and first blocks of IDs take about a quarter of it before
// it holds anything.
const MinMemoryBudget = 1 << 20

// WithMemoryBudget makes the Roster hold in memory only the accounts it is
// asked about, in about bytes of memory, instead of every account of the
// Store. Can, Check, Explain, the middleware and Authenticate answer from
// memory as before for the accounts held; an account not held is read from
// the Store in one read (its memberships, team roles and API keys, as of the
// revision the Roster reflects), joins the memory and is answered from it.
// Changes to accounts not held cost nothing. When the memory passes the
// budget, a smaller one is built in the background from the accounts asked
// about since the last one was built, and replaces it. An account the
// Store does not have is held as such, so that asking about it again
// reads nothing; an API key not held is looked up in the Store on every
// use of a well-formed token naming it.
//
// The Store must implement store.AccountReader (sqlstore's does); New
// returns an error wrapping store.ErrInvalid if it does not, or if bytes
// is below MinMemoryBudget. Without this option a Roster holds every
// account, which is faster for every question and needs no read to answer
// any (see the README's Scaling section for when to use which).
func WithMemoryBudget(bytes int64) Option {
	return func(c *config) { c.budget, c.budgetSet = bytes, true }
}

// memory is the in-memory view a Roster answers from: the index of every
// account of the Store, or, with a memory budget, of those asked about
// lately. It is safe for concurrent use.
type memory struct {
	idx    atomic.Pointer[index.Index]
	store  store.Store
	reader store.AccountReader // nil: the index holds every account
	budget int64
	policy *rbac.Policy
	now    func() time.Time
	obs    *observer

	// mu serializes the index's writers (Apply, CatchUp, Join) with the
	// replacement of the index by a smaller one, so that no change is
	// applied to an index that was replaced and missed by its successor.
	mu sync.Mutex
	// shrinking is set while a smaller index is being built; stop ends
	// the building and done waits for it.
	shrinking atomic.Bool
	// reads counts the accounts read from the store when asked about.
	reads atomic.Uint64
	stop  context.CancelFunc
	done  sync.WaitGroup
	ctx   context.Context
}

// newMemory returns the view of s deciding with p, empty: load fills it.
// With a budget, s must be a store.AccountReader.
func newMemory(s store.Store, p *rbac.Policy, c *config, obs *observer) (*memory, error) {
	m := &memory{store: s, policy: p, now: c.now, obs: obs}
	if c.budgetSet {
		r, ok := s.(store.AccountReader)
		if !ok {
			return nil, fmt.Errorf("%w: a memory budget needs a store that reads single accounts (store.AccountReader)", store.ErrInvalid)
		}
		if c.budget < MinMemoryBudget && !c.anyBudget {
			return nil, fmt.Errorf("%w: memory budget %d bytes is below MinMemoryBudget", store.ErrInvalid, c.budget)
		}
		m.reader, m.budget = r, c.budget
	}
	m.ctx, m.stop = context.WithCancel(context.Background())
	m.idx.Store(m.newIndex())
	return m, nil
}

// newIndex returns an empty index of the view's kind.
func (m *memory) newIndex() *index.Index {
	ix := index.New(m.policy)
	ix.SetClock(m.now)
	if m.reader != nil {
		ix.SetPartial()
	}
	return ix
}

// load fills the empty index: with every account of the Store, or, with a
// budget, with none, at the Store's revision.
func (m *memory) load(ctx context.Context) error {
	if m.reader != nil {
		return m.idx.Load().LoadAccounts(ctx, m.reader, nil)
	}
	return m.idx.Load().Load(ctx, m.store)
}

// close stops the building of a smaller index, if one is being built.
func (m *memory) close() {
	m.stop()
	m.done.Wait()
}

// index returns the current index.
func (m *memory) index() *index.Index { return m.idx.Load() }

// apply applies a commit made through the Roster (see index.Index.Apply).
func (m *memory) apply(ctx context.Context, c store.Commit) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.idx.Load().Apply(ctx, m.store, c)
}

// catchUp applies the changes committed after the view's revision (see
// index.Index.CatchUp).
func (m *memory) catchUp(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.idx.Load().CatchUp(ctx, m.store)
}

// holds makes the index hold the account if it does not, reading it from
// the Store, and returns the index to answer from, or nil if the read
// failed (the caller denies). The failure is noted in the Roster's health.
//
// The index returned holds the account even if a smaller one has replaced
// it meanwhile: it answers as of a revision at least as late as the call's
// start, as a question to the current one would.
//
// The account is read without the lock, so that the reads of accounts
// asked about at once overlap; it joins the index under it.
func (m *memory) holds(ctx context.Context, account string) *index.Index {
	read, err := index.ReadAccount(ctx, m.reader, account)
	var ix *index.Index
	if err == nil {
		m.mu.Lock()
		ix = m.idx.Load()
		var joined bool
		joined, err = ix.Join(ctx, m.store, m.reader, read)
		m.mu.Unlock()
		if joined {
			m.reads.Add(1)
		}
	}
	m.obs.health.read(err)
	if err != nil {
		return nil
	}
	m.shrinkIfOver(ix)
	return ix
}

// allowed is Can's answer (see index.Index.Allowed).
func (m *memory) allowed(ctx context.Context, user, account string, action rbac.Action) bool {
	ix := m.idx.Load()
	if ix.Allowed(user, account, action) {
		return true
	}
	if m.reader == nil || ix.Holds(account) {
		return false
	}
	ix = m.holds(ctx, account)
	return ix != nil && ix.Allowed(user, account, action)
}

// lookup is what the index knows of user in the account (see
// index.Index.Lookup), and whether it could tell: false if the account had
// to be read and the read failed.
func (m *memory) lookup(ctx context.Context, account, user string, action rbac.Action) (index.Answer, bool) {
	ix := m.idx.Load()
	if m.reader != nil && !ix.Holds(account) {
		if ix = m.holds(ctx, account); ix == nil {
			return index.Answer{}, false
		}
	}
	return ix.Lookup(account, user, action), true
}

// member reports whether user is a member of the account who may act in it
// (see index.Index.Member), and whether it could tell: false if the
// account had to be read and the read failed.
func (m *memory) member(ctx context.Context, account, user string) (member, ok bool) {
	ix := m.idx.Load()
	if ix.Member(account, user) {
		return true, true
	}
	if m.reader == nil || ix.Holds(account) {
		return false, true
	}
	if ix = m.holds(ctx, account); ix == nil {
		return false, false
	}
	return ix.Member(account, user), true
}

// apiKey returns the working API key store.APIKeyIDPrefix + suffix (see
// index.Index.APIKey). With a budget, a key the index lacks is looked up in
// the Store and its account read into memory.
func (m *memory) apiKey(ctx context.Context, suffix string) (index.APIKey, bool) {
	ix := m.idx.Load()
	if k, ok := ix.APIKey(suffix); ok || m.reader == nil {
		return k, ok
	}
	var account string
	err := m.store.View(ctx, func(tx store.Tx) error {
		k, err := tx.APIKey(ctx, store.APIKeyIDPrefix+suffix)
		account = k.AccountID
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		m.obs.health.read(err) // the key could not be looked up: refused, and noted
	}
	if err != nil || ix.Holds(account) {
		return index.APIKey{}, false // no such key, or its account is held without it
	}
	if ix = m.holds(ctx, account); ix == nil {
		return index.APIKey{}, false
	}
	return ix.APIKey(suffix)
}

// shrinkIfOver starts building a smaller index in the background if ix is
// the current index, takes more than the budget, and none is being built.
func (m *memory) shrinkIfOver(ix *index.Index) {
	if m.idx.Load() != ix || ix.Footprint() <= m.budget || !m.shrinking.CompareAndSwap(false, true) {
		return
	}
	m.done.Go(func() {
		defer m.shrinking.Store(false)
		m.shrink(ix)
	})
}

// shrink replaces ix by an index of the accounts asked about since ix was
// built, as many as fit in half the budget at ix's cost per account, read
// from the Store and brought up to date under mu, unless ix was replaced
// meanwhile.
func (m *memory) shrink(ix *index.Index) {
	used := ix.UsedAccounts()
	if held := ix.Held(); held > 0 {
		perAccount := max(ix.Footprint()/int64(held), 1)
		if fit := int(m.budget / 2 / perAccount); len(used) > fit {
			used = used[:fit]
		}
	}
	next := m.newIndex()
	err := next.LoadAccounts(m.ctx, m.reader, used)
	replaced := false
	if err == nil {
		m.mu.Lock()
		if err = next.CatchUp(m.ctx, m.store); err == nil && m.idx.Load() == ix {
			m.idx.Store(next)
			replaced = true
		}
		m.mu.Unlock()
	}
	m.obs.health.read(err)
	if replaced {
		ix.Retire()
	}
}

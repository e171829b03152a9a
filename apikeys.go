package roster

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"sync"
	"time"

	"github.com/teamroster/roster/internal/token"
	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// ErrBadKey means a token is not a working API key: it is malformed, or
// no live key has it (unknown, revoked, expired, or its owner is no longer
// a member). Which, it does not say. It wraps store.ErrUnauthenticated
// (HTTP 401).
var ErrBadKey = store.Kinded(store.ErrUnauthenticated, "roster: not a working API key")

// KeyUseInterval is how often a Roster writes the uses of API keys it has
// seen (see Authenticate): each key's latest use at most once per
// interval, and the last ones when it is closed.
const KeyUseInterval = time.Minute

// Principal is who a request made with an API key acts as.
type Principal struct {
	// Key is the key's ID, under which it acts: Can, Check and Explain take
	// it where they take a user ID, and it is the actor of the events
	// recorded for its requests.
	Key string
	// Account is the one account the key acts on.
	Account string
	// Role is the role the key acts with.
	Role rbac.Role
	// User is the member the key belongs to; empty for a service account.
	User string
}

// Authenticate returns the principal of the API key token (see package
// apikeys), from memory: it reads nothing from the database (with a memory
// budget, a key whose account is not held is looked up first, see
// WithMemoryBudget), takes no lock but the key's own and allocates nothing
// when the key is good. A
// malformed, truncated or checksum-broken token is refused before any
// lookup; a well-formed one is compared with the stored hash in constant
// time. The use (now, and the IP address of ctx's request metadata, see
// store.WithRequest) is noted in memory and written later (see
// KeyUseInterval), so authentication never waits on a write. It returns
// an error wrapping ErrBadKey for every token that is not a live key,
// without saying why. It is safe for concurrent use.
func (r *Roster) Authenticate(ctx context.Context, tok string) (Principal, error) {
	suffix, hash, err := token.ParseAPIKey(tok)
	if err != nil {
		return Principal{}, ErrBadKey
	}
	k, ok := r.mem.apiKey(ctx, suffix)
	if !ok {
		// The same work as for a key that exists, so that the time taken
		// does not tell.
		var none [sha256.Size]byte
		subtle.ConstantTimeCompare(none[:], hash[:])
		return Principal{}, ErrBadKey
	}
	if subtle.ConstantTimeCompare(k.Hash[:], hash[:]) != 1 {
		return Principal{}, ErrBadKey
	}
	r.keyUses.note(k.ID, r.now(), store.RequestFrom(ctx).IP)
	return Principal{Key: k.ID, Account: k.Account, Role: k.Role, User: k.User}, nil
}

// keyUses holds, per key, the latest use not yet written. It is safe for
// concurrent use.
type keyUses struct {
	m sync.Map // key ID -> *keyUse
}

type keyUse struct {
	mu    sync.Mutex
	at    time.Time
	ip    string
	dirty bool
}

// note records a use of key id at at from ip.
func (u *keyUses) note(id string, at time.Time, ip string) {
	v, ok := u.m.Load(id)
	if !ok {
		v, _ = u.m.LoadOrStore(id, new(keyUse))
	}
	ku := v.(*keyUse)
	ku.mu.Lock()
	if at.After(ku.at) {
		ku.at, ku.ip, ku.dirty = at, ip, true
	}
	ku.mu.Unlock()
}

// take returns the uses noted since the last take, and forgets the keys
// that were not used since then.
func (u *keyUses) take() []store.APIKeyUse {
	var out []store.APIKeyUse
	u.m.Range(func(id, v any) bool {
		ku := v.(*keyUse)
		ku.mu.Lock()
		if ku.dirty {
			out = append(out, store.APIKeyUse{ID: id.(string), At: ku.at, IP: ku.ip})
			ku.dirty = false
		} else {
			u.m.Delete(id) // a use noted meanwhile makes a new entry
		}
		ku.mu.Unlock()
		return true
	})
	return out
}

// writeKeyUses writes the uses noted since the last call, a page of keys
// per transaction. A failure is logged, and those uses are noted again to
// be written next time.
func (r *Roster) writeKeyUses(ctx context.Context) {
	uses := r.keyUses.take()
	for len(uses) > 0 {
		n := min(len(uses), store.MaxPageSize)
		batch := uses[:n]
		uses = uses[n:]
		_, err := r.store.Update(ctx, func(tx store.Tx) error { return tx.TouchAPIKeys(ctx, batch) })
		if err != nil {
			r.obs.log.LogAttrs(ctx, slog.LevelWarn, "roster: writing API key uses failed; retrying later",
				slog.String("error", txn.ErrorKind(err)), slog.Int("keys", n))
			for _, u := range batch {
				r.keyUses.note(u.ID, u.At, u.IP)
			}
		}
	}
}

// startChores writes, every KeyUseInterval until stopChores, the uses of
// keys noted since the last time, and every sweep interval (see WithSweep)
// the expiries that have come (see teams.Service.SweepExpired).
func (r *Roster) startChores(sweep time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	r.stopUses = cancel
	r.usesDone.Go(func() {
		uses := time.NewTicker(KeyUseInterval)
		defer uses.Stop()
		var sweeps <-chan time.Time
		if sweep > 0 {
			t := time.NewTicker(sweep)
			defer t.Stop()
			sweeps = t.C
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-uses.C:
				r.writeKeyUses(ctx)
			case <-sweeps:
				if _, err := r.Teams.SweepExpired(ctx, r.now()); err != nil && ctx.Err() == nil {
					r.obs.log.LogAttrs(ctx, slog.LevelWarn, "roster: sweeping expired memberships failed; retrying later",
						slog.String("error", txn.ErrorKind(err)))
				}
			}
		}
	})
}

// stopChores stops the chores and writes the uses of keys noted since
// their last run.
func (r *Roster) stopChores() {
	r.stopUses()
	r.usesDone.Wait()
	r.writeKeyUses(context.Background())
}

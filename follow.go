package roster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// DefaultFollowInterval is how often a Roster checks the Store for changes
// committed elsewhere when no announcement came: the bound on how stale it
// can be if announcements stop (see WithFollow).
const DefaultFollowInterval = time.Second

// freshWait is how long WaitFor waits for the revision it needs to arrive
// through the feed before reading the changes from the Store itself.
const freshWait = 20 * time.Millisecond

// retryWait is how soon the follower reads again when an announced revision
// was not yet visible to its read; it doubles at each read that still does
// not see it, up to the backstop interval, after which the announcement is
// dropped (an announcement is a hint: one of a revision the store does not
// have costs a bounded number of reads).
const retryWait = 5 * time.Millisecond

// WithFollow sets how often the Roster checks its Store for changes
// committed by other Rosters or processes, as a backstop to the Store's
// announcements (store.Watcher), which normally bring them within
// milliseconds. The default is DefaultFollowInterval (1 s). An interval of
// 0 or less turns following off: the Roster then sees others' changes only
// when Sync, WaitFor or a write of its own brings them in.
func WithFollow(interval time.Duration) Option {
	return func(c *config) { c.follow, c.followSet = interval, true }
}

// follower keeps a Roster's index following the Store: one goroutine reads
// new changes whenever the Store announces a revision the index lacks, when
// announcements may have been lost, and every interval; another, when the
// Store is a store.Watcher, runs Watch.
type follower struct {
	watching  atomic.Bool   // a Watch of the Store is running
	announced atomic.Uint64 // highest revision announced
	lost      atomic.Bool   // announcements may have been missed
	listens   atomic.Uint64 // announcements of 0: the Watch (re)started listening
	wake      chan struct{} // buffered 1: something was announced
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	heard     func(store.Revision) // notes an announced revision in the Roster's health
}

// startFollowing starts the follower of r if interval > 0.
func (r *Roster) startFollowing(interval time.Duration) {
	if interval <= 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &follower{wake: make(chan struct{}, 1), cancel: cancel,
		heard: func(rev store.Revision) { r.obs.health.heard(rev, r.Revision()) }}
	r.follow = f
	if w, ok := r.store.(store.Watcher); ok {
		f.watching.Store(true)
		f.wg.Go(func() {
			err := w.Watch(ctx, f.announce)
			f.watching.Store(false)
			switch {
			case errors.Is(err, store.ErrClosed):
				cancel() // nothing more to follow
			case ctx.Err() == nil:
				r.obs.log.LogAttrs(ctx, slog.LevelWarn, "roster: the store's announcements are unavailable; following by the interval alone",
					slog.String("error", txn.ErrorKind(err)), slog.Duration("interval", interval))
			}
		})
	}
	f.wg.Go(func() { r.followLoop(ctx, interval) })
}

// announce is the Watch callback: it records rev and wakes the loop.
func (f *follower) announce(rev store.Revision) {
	if rev == 0 {
		f.listens.Add(1)
		f.lost.Store(true)
	} else {
		f.heard(rev)
	}
	raise(&f.announced, uint64(rev))
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// followLoop catches the index up whenever it is woken, when an announced
// revision was not yet readable (backing off), and every interval, until
// ctx ends or the Store is closed. A failed read is tried again at the next
// announcement or tick.
func (r *Roster) followLoop(ctx context.Context, interval time.Duration) {
	f := r.follow
	log := r.obs.log
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var retry <-chan time.Time
	wait := retryWait
	var listens uint64 // announcements of 0 seen
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.wake:
		case <-tick.C:
			f.lost.Store(true)
		case <-retry:
			retry = nil
		}
		if n := f.listens.Load(); n != listens {
			if n == 1 {
				log.LogAttrs(ctx, slog.LevelDebug, "roster: listening to the store's announcements", slog.Uint64("revision", uint64(r.Revision())))
			} else {
				log.LogAttrs(ctx, slog.LevelInfo, "roster: listening again after losing the store's announcements; catching up",
					slog.Uint64("revision", uint64(r.Revision())), slog.Uint64("reconnections", n-1))
			}
			listens = n
		}
		if !f.lost.Swap(false) && store.Revision(f.announced.Load()) <= r.Revision() {
			continue // our own commit, already applied
		}
		from, start := r.Revision(), time.Now()
		failures, since, err := r.catchUp(ctx)
		if err == nil {
			if failures > 0 {
				log.LogAttrs(ctx, slog.LevelInfo, "roster: reading the store's changes again",
					slog.Int("failures", failures), slog.Duration("stuck_for", start.Sub(since)))
			}
			if to := r.Revision(); to > from {
				log.LogAttrs(ctx, slog.LevelDebug, "roster: caught up with the store",
					slog.Uint64("from", uint64(from)), slog.Uint64("to", uint64(to)), slog.Duration("duration", time.Since(start)))
			}
		}
		switch announced := f.announced.Load(); {
		case errors.Is(err, store.ErrClosed):
			return
		case err != nil:
			// Read again at the next announcement or tick, not sooner:
			// a database that is down is not hammered.
			f.lost.Store(true)
			log.LogAttrs(ctx, slog.LevelWarn, "roster: cannot read the store's changes; the in-memory view is stuck",
				slog.String("error", txn.ErrorKind(err)), slog.Uint64("revision", uint64(from)), slog.Int("failures", failures+1))
			continue
		case store.Revision(announced) <= r.Revision():
			wait = retryWait
		case retry != nil:
		case wait > interval:
			// Announced, but never visible: not a revision of this
			// store. Forget it; the backstop still reads every interval.
			if f.announced.CompareAndSwap(announced, uint64(r.Revision())) {
				r.obs.health.forget(r.Revision())
			}
			wait = retryWait
			log.LogAttrs(ctx, slog.LevelWarn, "roster: an announced revision never appeared in the store; ignoring it",
				slog.Uint64("announced", announced), slog.Uint64("revision", uint64(r.Revision())))
		default:
			// Announced but not yet visible to this read: soon.
			retry = time.After(wait)
			wait *= 2
		}
	}
}

// stopFollowing stops the follower and waits for its goroutines.
func (r *Roster) stopFollowing() {
	if r.follow != nil {
		r.follow.cancel()
		r.follow.wg.Wait()
	}
}

// WaitFor returns once the in-memory view reflects at least revision rev,
// such as the revision of a write made through another Roster (see
// TrackWrites): after it returns nil, Can answers as of rev or later. When
// the Roster follows a Store that announces its commits, it waits up to
// 20 ms for the change to arrive that way, woken as soon as it is applied;
// then, or at once when nothing would announce it, it reads the changes
// from the Store itself. It returns at once if the view is already at rev.
// It returns an error wrapping store.ErrInvalid if the Store has no such
// revision yet, the context's error if ctx ends first, and the Store's
// errors. It is safe for concurrent use.
func (r *Roster) WaitFor(ctx context.Context, rev store.Revision) error {
	if r.Revision() >= rev {
		return nil
	}
	if r.follow == nil || !r.follow.watching.Load() {
		// Nothing will announce it: read it at once.
		return r.syncTo(ctx, rev)
	}
	t := time.NewTimer(freshWait)
	defer t.Stop()
	for r.Revision() < rev {
		changed := r.mem.index().Changed()
		if r.Revision() >= rev {
			break // applied between the check and the load
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("wait for revision %d: %w", rev, ctx.Err())
		case <-t.C:
			return r.syncTo(ctx, rev)
		}
	}
	return nil
}

// syncTo brings the view up to rev from the Store.
func (r *Roster) syncTo(ctx context.Context, rev store.Revision) error {
	if err := r.Sync(ctx); err != nil {
		return fmt.Errorf("wait for revision %d: %w", rev, err)
	}
	if cur := r.Revision(); cur < rev {
		return fmt.Errorf("wait for revision %d: the store is at revision %d: %w", rev, cur, store.ErrInvalid)
	}
	return nil
}

// CanAt is Can answered as of revision rev or later: the answer reflects
// every change committed up to rev, such as a member's removal made through
// another Roster or process whose revision the caller passed along (see
// TrackWrites). This closes the "new enemy" window that Can, which answers
// from memory, leaves open for the moments a change takes to reach this
// Roster. When the view is already at rev CanAt costs what Can costs;
// otherwise it waits as WaitFor does, and answers false if WaitFor fails.
// It is safe for concurrent use.
func (r *Roster) CanAt(ctx context.Context, rev store.Revision, user, account string, action rbac.Action) bool {
	if r.Revision() < rev && r.WaitFor(ctx, rev) != nil {
		return false
	}
	return r.Can(ctx, user, account, action)
}

// Writes records the revisions of the changes committed through Rosters
// with a context made by TrackWrites. Its methods are safe for concurrent
// use.
type Writes struct{ rev atomic.Uint64 }

// Revision returns the highest revision committed through the tracked
// context, or 0 if none was: pass it to CanAt or WaitFor on another
// Roster or process to see the writes.
func (w *Writes) Revision() store.Revision { return store.Revision(w.rev.Load()) }

type writesKey struct{}

// TrackWrites returns a context that records, in the returned Writes, the
// revision of every change committed through a Roster's services (Teams,
// Invites, Audit) with it or a context derived from it. Write calls that
// change no membership, account or team role commit no revision and leave
// it as it was.
func TrackWrites(ctx context.Context) (context.Context, *Writes) {
	w := &Writes{}
	return context.WithValue(ctx, writesKey{}, w), w
}

// recordWrite notes a committed revision in ctx's Writes, if it has one.
func recordWrite(ctx context.Context, rev store.Revision) {
	w, ok := ctx.Value(writesKey{}).(*Writes)
	if ok {
		raise(&w.rev, uint64(rev))
	}
}

// raise sets a to v if v is greater.
func raise(a *atomic.Uint64, v uint64) {
	for {
		cur := a.Load()
		if v <= cur || a.CompareAndSwap(cur, v) {
			return
		}
	}
}

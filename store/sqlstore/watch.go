package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/teamroster/roster/store"
)

// Commits are announced two ways. On PostgreSQL every Update that records
// changes sends NOTIFY on the schema's channel inside its transaction, so
// that PostgreSQL delivers it to every listening connection, in any process,
// when (and only if) the transaction commits; the Store listens on one
// connection of its own, whatever the number of its watchers, and hands
// each notification to all of them. On SQLite, whose writers share one
// machine and usually one process, the Store announces each commit to the
// watchers of the same Store after it commits.

var _ store.Watcher = (*Store)(nil)

// feed is the Store's announcement state.
type feed struct {
	done    chan struct{} // closed by Close
	mu      sync.Mutex
	watches map[*watch]struct{} // the watchers of this Store
	// stopListen stops the PostgreSQL listener the watchers share; nil
	// while none runs. listening says it is listening now.
	stopListen context.CancelFunc
	listening  bool
	// channel is the PostgreSQL notification channel of the Store's
	// schema, set by prepareSchema: notification channels are database-wide,
	// so stores on different schemas of one database need their own.
	channel string
}

type watch struct{ fn func(store.Revision) }

func newFeed() feed { return feed{done: make(chan struct{}), watches: map[*watch]struct{}{}} }

// Reconnection backoff of a PostgreSQL watch: the first retry comes soon,
// later ones up to maxBackoff apart.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// channelFor returns the notification channel of a schema: "roster." and
// the schema's name, or a hash of it when that would exceed PostgreSQL's
// 63-byte identifiers.
func channelFor(schema string) string {
	if c := "roster." + schema; len(c) <= 63 {
		return c
	}
	sum := sha256.Sum256([]byte(schema))
	return "roster." + hex.EncodeToString(sum[:16])
}

// Watch calls fn with the revision of every commit that records changes,
// and with 0 when it starts listening and after every reconnection, until
// ctx ends or the Store is closed, as documented by store.Watcher.
//
// On PostgreSQL the Store's watchers share one connection of the Store's
// pool for LISTEN, held while any Watch runs (a connection that fails is
// discarded, never returned to the pool), and see the commits of every
// process on the same schema. When the connection
// fails it reconnects with backoff (50 ms doubling to 5 s) and calls fn(0)
// once listening again, since commits in between were not announced. A
// connection that dies silently is noticed only by TCP keepalive; callers
// should also check for new revisions periodically. On SQLite it sees the
// commits made through this Store (not through other Stores on the same
// file).
//
// Watch returns an error wrapping ctx's error when ctx ends, store.ErrClosed
// when the Store is closed, and store.ErrInvalid if fn is nil or the
// PostgreSQL handle given to New does not use the pgx driver. It is safe for
// concurrent use.
func (s *Store) Watch(ctx context.Context, fn func(store.Revision)) error {
	if fn == nil {
		return fmt.Errorf("watch: %w: nil func", store.ErrInvalid)
	}
	if s.closed.Load() {
		return errClosed("watch")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	if s.dialect == Postgres {
		if err := s.checkPgx(ctx); err != nil {
			return fmt.Errorf("watch: %w", err)
		}
	}
	w := &watch{fn: fn}
	s.mu.Lock()
	s.watches[w] = struct{}{}
	if s.dialect == Postgres && s.stopListen == nil {
		lctx, stop := context.WithCancel(context.Background())
		s.stopListen = stop
		go s.listen(lctx)
	}
	if s.dialect != Postgres || s.listening {
		fn(0) // under mu: never at the same time as an announcement
	} // else the listener announces 0 to every watcher once it listens
	s.mu.Unlock()
	<-ctx.Done()
	s.mu.Lock()
	delete(s.watches, w)
	if len(s.watches) == 0 && s.stopListen != nil {
		s.stopListen()
		s.stopListen = nil
	}
	s.mu.Unlock()
	if s.closed.Load() {
		return errClosed("watch")
	}
	return fmt.Errorf("watch: %w", ctx.Err())
}

// announce calls the watchers of s with rev.
func (s *Store) announce(rev store.Revision) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for w := range s.watches {
		w.fn(rev)
	}
}

// setListening records whether the listener listens; when it starts, it
// announces 0 to every watcher: commits made before were not announced.
func (s *Store) setListening(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listening = on
	if on {
		for w := range s.watches {
			w.fn(0)
		}
	}
}

// errNotPgx is returned when the pool's driver is not pgx.
var errNotPgx = fmt.Errorf("%w: the PostgreSQL handle does not use the pgx driver, which notifications need", store.ErrInvalid)

// checkPgx returns errNotPgx unless s's pool connects through pgx, and the
// error of taking a connection if it cannot take one.
func (s *Store) checkPgx(ctx context.Context) error {
	pool, err := s.w.DB()
	if err != nil {
		return fmt.Errorf("%w: %w", store.ErrInvalid, err)
	}
	c, err := pool.Conn(ctx)
	if err != nil {
		return s.fail(ctx, err, "watch")
	}
	err = c.Raw(func(dc any) error {
		if _, ok := dc.(*stdlib.Conn); !ok {
			return errNotPgx
		}
		return nil
	})
	return errors.Join(err, c.Close())
}

// listen listens on s's channel for the Store's watchers, reconnecting with
// backoff, until ctx ends.
func (s *Store) listen(ctx context.Context) {
	pool, err := s.w.DB()
	if err != nil {
		return // checkPgx got the pool: not reached
	}
	backoff := minBackoff
	for {
		listened, err := s.listenOnce(ctx, pool, s.announce)
		if errors.Is(err, errNotPgx) || ctx.Err() != nil {
			return
		}
		if listened {
			backoff = minBackoff
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// listenOnce takes a connection, listens on it and calls fn for every
// notification until the connection fails or ctx ends. It reports whether
// it got as far as listening. The connection is discarded afterwards: one
// that has listened must not serve queries.
func (s *Store) listenOnce(ctx context.Context, pool *sql.DB, fn func(store.Revision)) (listened bool, err error) {
	c, err := pool.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer c.Close() // after Raw discarded it: a no-op but for its own bookkeeping
	err = c.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return errNotPgx
		}
		pc := sc.Conn()
		if _, err := pc.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
			return errors.Join(driver.ErrBadConn, err)
		}
		listened = true
		s.setListening(true)
		defer s.setListening(false)
		for {
			n, err := pc.WaitForNotification(ctx)
			if err != nil {
				return errors.Join(driver.ErrBadConn, err)
			}
			rev, err := strconv.ParseUint(n.Payload, 10, 64)
			if err != nil {
				rev = 0 // not ours: treat it as "catch up"
			}
			fn(store.Revision(rev))
		}
	})
	return listened, err
}

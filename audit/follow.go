package audit

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/teamroster/roster/internal/cursor"
	"github.com/teamroster/roster/store"
)

// FollowBackstop is how often Follow reads the event stream when no
// announcement came: the bound on its delay when the Store does not
// announce its commits (it is not a store.Watcher) or announcements are
// lost.
const FollowBackstop = time.Second

// followBatch is how many events Follow reads at a time.
const followBatch = 200

// followList binds Follow's cursors, so that no other list's cursor is
// taken for one.
const followList = "audit.follow"

// Follow delivers every committed audit event, of every account, in the
// Store's stream order (store.Store.EventsAfter), starting after cursor;
// "" starts from the beginning of the stream. It calls fn with each event
// and next, the cursor to store once fn has handled the event: a Follow
// started from next delivers the events after it. Delivery is at least
// once: a host that stores next after each event handled, and resumes
// from the last one stored, sees every event, and sees again only the
// event whose handling was interrupted. Events deleted by Prune before
// Follow reached them are not delivered.
//
// Follow runs until ctx ends, fn returns an error or reading fails, and
// returns that error: fn's unchanged, ctx's wrapped, the Store's
// (store.ErrClosed, store.ErrBackend) wrapped. It returns an error
// wrapping store.ErrInvalid, having called nothing, if fn is nil or cursor
// is not one Follow made. When the Store announces its commits (a
// store.Watcher, as sqlstore is on both backends) Follow wakes on each
// announcement, within milliseconds of a commit in any process on the
// same database; otherwise, and as a backstop, it reads every
// FollowBackstop. fn is called from Follow's goroutine, one event at a
// time.
//
// Follow authorizes nobody: it is a feed for the host and its operators
// (webhooks, billing, search indexes) across all accounts, not a member's
// read of the log, and it records no event. Never expose it, or its
// cursors, to end users; members read the log through Query and Export.
// It is safe for concurrent use; every call follows independently.
func (s *Service) Follow(ctx context.Context, cursor string, fn func(ctx context.Context, e store.Event, next string) error) error {
	if fn == nil {
		return fmt.Errorf("follow audit events: %w: nil func", store.ErrInvalid)
	}
	pos, err := decodeFollowCursor(cursor)
	if err != nil {
		return fmt.Errorf("follow audit events: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wake := make(chan struct{}, 1)
	if w, ok := s.store.(store.Watcher); ok {
		wg.Go(func() {
			// An error (ctx's end, a Store that cannot watch) leaves the
			// backstop to read alone.
			_ = w.Watch(ctx, func(store.Revision) {
				select {
				case wake <- struct{}{}:
				default:
				}
			})
		})
	}
	tick := time.NewTicker(FollowBackstop)
	defer tick.Stop()
	for {
		for {
			batch, err := s.store.EventsAfter(ctx, pos, followBatch)
			if err != nil {
				return fmt.Errorf("follow audit events after %s: %w", encodeFollowCursor(pos), err)
			}
			for _, se := range batch {
				if err := fn(ctx, se.Event, encodeFollowCursor(se.Position)); err != nil {
					return err
				}
				pos = se.Position
			}
			if len(batch) < followBatch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("follow audit events: %w", ctx.Err())
		case <-wake:
		case <-tick.C:
		}
	}
}

// encodeFollowCursor returns the cursor of position p.
func encodeFollowCursor(p store.EventPosition) string {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 16), p.Commit)
	b = binary.BigEndian.AppendUint64(b, uint64(p.ID))
	return cursor.Encode(b, followList)
}

// decodeFollowCursor returns the position of a cursor encodeFollowCursor
// made, or the start of the stream for "". It returns an error wrapping
// store.ErrInvalid for any other cursor.
func decodeFollowCursor(c string) (store.EventPosition, error) {
	if c == "" {
		return store.EventPosition{}, nil
	}
	b, err := cursor.Decode(c, followList)
	if err != nil {
		return store.EventPosition{}, err
	}
	if len(b) != 16 {
		return store.EventPosition{}, cursor.Malformed("unknown format")
	}
	p := store.EventPosition{Commit: binary.BigEndian.Uint64(b), ID: int64(binary.BigEndian.Uint64(b[8:]))}
	if p.ID < 0 {
		return store.EventPosition{}, cursor.Malformed("out of range")
	}
	return p, nil
}

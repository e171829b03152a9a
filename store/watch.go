package store

import "context"

// Watcher is implemented by a Store that announces its commits, so that
// in-memory views of the same data (in this process or in others) learn of
// a change as soon as it commits instead of at their next periodic check.
// A Store need not implement it: a view that cannot watch checks for new
// revisions periodically.
//
// A commit that appended events (see Store.EventsAfter) but recorded no
// Change is announced too, with the revision the store was at: one that
// may have been announced before, which a view of the changes ignores and
// a reader of the event stream takes as its cue to read.
//
// Announcements are hints, never the data: a view that hears of revision r
// reads the changes from Changes. They may be lost (a dropped connection) or
// arrive out of order, so Watch also calls fn with revision 0, meaning "you
// may have missed some: catch up", once it starts listening and again
// after every reconnection.
type Watcher interface {
	// Watch calls fn with the revision of every commit made to the store
	// (by any process, including this one) that records changes or appends
	// events, and with 0 whenever
	// announcements may have been missed, until ctx ends or the Store is
	// closed. It blocks until then and returns ctx's error (wrapped), or
	// ErrClosed. fn is called from one goroutine at a time and must not
	// block. A Watch that cannot reach its transport retries with backoff
	// and calls fn(0) once it is listening again. Watch returns ErrInvalid
	// if fn is nil or the store cannot watch (for example, a driver
	// without notifications). It is safe for concurrent use; every call
	// watches independently.
	Watch(ctx context.Context, fn func(Revision)) error
}

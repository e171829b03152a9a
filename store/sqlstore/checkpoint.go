package sqlstore

import (
	"context"
	"database/sql"
	"log/slog"
	"sync/atomic"
)

// SQLite in WAL mode appends every commit to the WAL file and, by default,
// lets the connection that commits copy the WAL back into the database file
// once it holds 1,000 pages (a checkpoint). That copy runs on the caller of
// the write that crosses the threshold and cost about 40% of the time of a
// role change. OpenSQLite turns automatic checkpoints off on its write
// connection and leaves them to a checkpointer: a goroutine with a
// connection of its own that checkpoints in the background, beside the
// writer, as SQLite allows in WAL mode.

// writerDriver is go-sqlite3 with automatic checkpoints off on every
// connection it opens, so that a connection replaced by database/sql keeps
// the setting. It is registered in sqlite_cgo.go, since go-sqlite3 needs cgo.
const writerDriver = "roster-sqlite3-writer"

// checkpointEvery is how many commits the write pool makes between two
// background checkpoints: a few hundred WAL pages, about as often as
// SQLite's automatic checkpoint.
const checkpointEvery = 64

// walLimit is the WAL size, in pages, above which a checkpoint waits for the
// writer and readers and truncates the WAL. A passive checkpoint never
// blocks the writer, but under writes that never pause the writer never
// finds the WAL fully copied and so never starts it over; this bounds it
// (64 MiB of 4 KiB pages).
var walLimit = 16384

// checkpointer checkpoints a SQLite database in the background when told of
// enough commits. Its methods are safe for concurrent use.
type checkpointer struct {
	db      *sql.DB // one connection of its own
	commits atomic.Uint64
	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	runs    atomic.Uint64 // checkpoints made, for tests
	log     atomic.Pointer[slog.Logger]
}

// SetLogger makes the Store report its background work to l: for a SQLite
// file opened by OpenSQLite, each WAL checkpoint (level Debug), each that
// truncates the WAL (Info) and each that fails (Warn, with SQLite's result
// code and its generic text, never data). A nil l, the default, logs
// nothing; other Stores log nothing either way. It is safe for concurrent
// use.
func (s *Store) SetLogger(l *slog.Logger) {
	if s.ckpt != nil {
		s.ckpt.log.Store(l)
	}
}

// startCheckpointer starts a checkpointer on db.
func startCheckpointer(db *sql.DB) *checkpointer {
	c := &checkpointer{db: db, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// committed counts one commit of the writer and wakes the checkpointer
// every checkpointEvery commits. It never blocks.
func (c *checkpointer) committed() {
	if c.commits.Add(1)%checkpointEvery != 0 {
		return
	}
	select {
	case c.kick <- struct{}{}:
	default: // a checkpoint is due already
	}
}

func (c *checkpointer) run() {
	defer close(c.done)
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
			c.checkpoint()
		}
	}
}

// checkpoint copies the WAL into the database without blocking the writer,
// and truncates the WAL when it has grown beyond walLimit. A checkpoint that
// fails loses nothing (the pages stay in the WAL, which readers and recovery
// use) and the next one copies them, so its error is dropped; a database
// that keeps failing fails the writes themselves, which report it.
func (c *checkpointer) checkpoint() {
	ctx := context.Background()
	log := c.log.Load()
	var busy, frames, copied int
	if err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil {
		c.failed(ctx, log, "PASSIVE", err)
		return
	}
	if log != nil {
		log.LogAttrs(ctx, slog.LevelDebug, "sqlstore: checkpoint",
			slog.Int("wal_frames", frames), slog.Int("copied_frames", copied))
	}
	if frames > walLimit {
		if err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &copied); err != nil {
			c.failed(ctx, log, "TRUNCATE", err)
			return
		}
		if log != nil {
			log.LogAttrs(ctx, slog.LevelInfo, "sqlstore: checkpoint truncated the WAL", slog.Int("limit_frames", walLimit))
		}
	}
	c.runs.Add(1)
}

// failed logs a failed checkpoint of the mode to log, if not nil: SQLite's
// result code and the generic text of that code, which carries no data.
func (c *checkpointer) failed(ctx context.Context, log *slog.Logger, mode string, err error) {
	if log == nil {
		return
	}
	attrs := []slog.Attr{slog.String("mode", mode)}
	if code, text, ok := sqliteCode(err); ok {
		attrs = append(attrs, slog.Int("sqlite_code", code), slog.String("error", text))
	} else {
		attrs = append(attrs, slog.String("error", "not a SQLite error"))
	}
	log.LogAttrs(ctx, slog.LevelWarn, "sqlstore: checkpoint failed; the next one copies what it left", attrs...)
}

// close stops the checkpointer, waiting for a checkpoint in progress, and
// closes its connection. SQLite checkpoints what is left when the last
// connection to the database closes.
func (c *checkpointer) close() error {
	close(c.stop)
	<-c.done
	return c.db.Close()
}

// Package sqlstore is roster's default store.Store, built on gorm. It keeps
// everything in one SQLite file (the embedded default) or in a PostgreSQL
// database that several application instances share.
//
// Open a store with OpenSQLite or OpenPostgres, or hand an existing *gorm.DB
// to New. Each of them brings the schema up to date by default: tables named
// roster_* (so they do not collide with the host application's tables) and
// an index for every lookup the store makes.
//
// # Migrations
//
// The schema is built by numbered SQL files embedded in the package
// (migrations/0001_initial.sql, ...), applied in order, each in a
// transaction of its own together with its row in roster_schema_migrations,
// so a migration that fails leaves the schema at the version before it.
// Processes that open one database at once apply each migration once: on
// PostgreSQL they take an advisory lock, on SQLite the write lock. Migrate
// runs them; WithoutAutoMigrate makes opening check the version instead, and
// MigrationSQL returns the files for a migration tool of your own.
//
// # Transactions
//
// Update runs in one database transaction. On SQLite every write
// transaction takes the database's write lock when it begins (BEGIN
// IMMEDIATE) on a single-connection write pool, so concurrent writers queue
// instead of failing with SQLITE_BUSY; View, Snapshot and Changes use a
// separate pool of read connections that WAL mode lets run beside the
// writer. On PostgreSQL, Update runs at READ COMMITTED, LockAccount takes a
// row lock, and View and Snapshot run READ ONLY at REPEATABLE READ so that
// they see one snapshot.
//
// A Tx method that fails with store.ErrNotFound, store.ErrExists or
// store.ErrInvalid has changed nothing and leaves the transaction usable, on
// both backends: the store checks keys and references inside the statement
// that writes instead of letting PostgreSQL abort the transaction on a
// constraint violation (and guards the writes whose check a concurrent
// transaction can overtake, UpdateInvite's new token hash and UpdateDomain's
// verification, with a savepoint).
//
// # Revisions
//
// Every Update that creates or updates an account, creates, changes or
// deletes a membership, defines or deletes a team role, changes a user's
// sign-in method, or creates, changes or revokes an API key increments the
// revision kept in the one-row table roster_meta and stores its changes in
// roster_changes, in the same transaction. The row lock on roster_meta orders
// the commits, so revisions are gap-free and in commit order on PostgreSQL
// too: a committer takes the next revision only after the previous one's
// commit is visible.
//
// # The event stream
//
// EventsAfter reads the events in the order of (commit_seq, id). On SQLite
// commit_seq is 0: writers commit one at a time, in the order they take
// event IDs. On PostgreSQL a transaction with a smaller event ID can commit
// after one with a larger, so commit_seq is the ID of the transaction that
// appended the event, and EventsAfter reads only the events of transactions
// older than every transaction still running (the xmin of its snapshot):
// every later commit then comes after what it read. The stream takes no
// lock that writers wait for; an open transaction holds back the events
// committed after it began until it ends.
//
// # Times
//
// Times are stored in UTC truncated to microseconds (PostgreSQL's
// precision), so both backends return identical values; a zero time is
// stored as NULL and returned as the zero time.
//
// # Errors
//
// Driver errors never escape unwrapped. Unique and primary-key violations
// become store.ErrExists, foreign-key violations store.ErrNotFound,
// PostgreSQL serialization failures and deadlocks and SQLite's BUSY and
// LOCKED errors store.ErrConflict, and anything else store.ErrBackend; the
// driver error stays in the chain for errors.As. Context cancellation and
// deadlines are returned wrapped, so errors.Is(err, context.Canceled) holds.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/teamroster/roster/store"
)

// Dialect names a SQL dialect the Store speaks, as gorm's dialectors name
// them. The Store writes the same SQL for both except in the schema,
// locking and transaction options.
type Dialect string

// SQLite and Postgres are the dialects the Store speaks.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is a store.Store on a SQLite or PostgreSQL database reached through
// gorm. It is safe for concurrent use by multiple goroutines, and by several
// processes sharing the database (for SQLite, the same file on one machine).
type Store struct {
	w, r     *gorm.DB  // write and read handles; the same handle unless OpenSQLite made two pools
	owned    []*sql.DB // pools the Store opened and so closes
	dialect  Dialect
	readOpts *sql.TxOptions // options for read-only transactions
	closed   atomic.Bool
	// parallelMin, when not 0, lets Snapshot read a membership table of at
	// least that many rowids on two read connections at once: set by
	// OpenSQLite, whose read pool has several.
	parallelMin int64
	// twoReaders is held by the one Snapshot that reads on two connections
	// (see memberSources).
	twoReaders chan struct{}
	// ckpt checkpoints the WAL of a SQLite file opened by OpenSQLite; nil
	// otherwise.
	ckpt *checkpointer
	feed
}

var _ store.Store = (*Store)(nil)

// gormConfig is the configuration of the gorm handles the package opens
// itself: silent, and without gorm's implicit transactions since every
// statement already runs in one of the Store's transactions.
func gormConfig() *gorm.Config {
	return &gorm.Config{
		Logger:                 logger.Default.LogMode(logger.Silent),
		SkipDefaultTransaction: true,
	}
}

// postgresIdleConns is how many idle connections OpenPostgres keeps, more
// than database/sql's default of 2 so that bursts of concurrent transactions
// do not reconnect each time.
const postgresIdleConns = 8

// PostgresMaxConns is how many connections a Store from OpenPostgres opens
// at most; further transactions wait for one to be free. Without a bound a
// burst of concurrent callers opens one connection each, up to the server's
// max_connections, after which PostgreSQL refuses everyone's connections.
const PostgresMaxConns = 16

// OpenPostgres connects to the PostgreSQL database named by dsn (a URL such
// as "postgres://user@host:5432/db?sslmode=disable" or a key=value string, as
// accepted by pgx) and migrates roster's schema there (see Migrate; with
// WithoutAutoMigrate, checks it instead). The tables go into the first
// schema of the connection's search_path, so a dsn with search_path set puts
// roster in a schema of its own.
//
// It returns an error wrapping store.ErrBackend if the database cannot be
// reached or the schema cannot be migrated, ErrSchemaVersion if the schema's
// version is not the code's (newer, or older with WithoutAutoMigrate), and
// one wrapping store.ErrInvalid for a nil option. The Store owns its
// connection pool (at most PostgresMaxConns connections, 8 of them kept
// idle): Close closes it. For another bound, open the database with gorm and
// use New.
func OpenPostgres(dsn string, opts ...Option) (*Store, error) {
	o, err := applyOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db, err := gorm.Open(postgres.Open(dsn), gormConfig())
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w: %w", store.ErrBackend, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w: %w", store.ErrBackend, err)
	}
	sqlDB.SetMaxIdleConns(postgresIdleConns)
	sqlDB.SetMaxOpenConns(PostgresMaxConns)
	s := &Store{w: db, r: db, owned: []*sql.DB{sqlDB}, dialect: Postgres, feed: newFeed()}
	s.readOpts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	if err := s.prepareSchema(context.Background(), o); err != nil {
		return nil, errors.Join(err, s.closeOwned())
	}
	return s, nil
}

// New returns a Store that keeps its data in db, an application's existing
// gorm handle on SQLite (gorm.io/driver/sqlite) or PostgreSQL
// (gorm.io/driver/postgres), and migrates roster's schema there (see
// Migrate; with WithoutAutoMigrate, checks it instead). The Store uses db
// for reads and writes and does not change its configuration; Close does
// not close db, which stays the caller's.
//
// On SQLite the application should open db with "_txlock=immediate" in the
// DSN (and a busy timeout, WAL journal and foreign keys on), or use
// OpenSQLite instead: with deferred transactions, an Update that reads then
// writes may fail with store.ErrConflict when another writer is active.
//
// New returns an error wrapping store.ErrInvalid if db or an option is nil
// or db uses another dialect, ErrSchemaVersion if the schema's version is
// not the code's (newer, or older with WithoutAutoMigrate), and one wrapping
// store.ErrBackend if the schema cannot be migrated.
func New(db *gorm.DB, opts ...Option) (*Store, error) {
	o, err := applyOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("new: %w", err)
	}
	s, err := wrap(db)
	if err != nil {
		return nil, fmt.Errorf("new: %w", err)
	}
	if err := s.prepareSchema(context.Background(), o); err != nil {
		return nil, err
	}
	return s, nil
}

// wrap returns a Store on db, an application's gorm handle, without
// touching the database. It returns an error wrapping store.ErrInvalid if
// db is nil or of another dialect.
func wrap(db *gorm.DB) (*Store, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: nil *gorm.DB", store.ErrInvalid)
	}
	s := &Store{dialect: Dialect(db.Dialector.Name()), feed: newFeed()}
	switch s.dialect {
	case SQLite:
	case Postgres:
		s.readOpts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	default:
		return nil, fmt.Errorf("%w: unsupported gorm dialect %q", store.ErrInvalid, s.dialect)
	}
	db = db.Session(&gorm.Session{NewDB: true})
	s.w, s.r = db, db
	return s, nil
}

// Close releases the connections the Store opened; a Store made by New
// leaves its *gorm.DB open. Close waits for queries in progress to finish.
// Later calls of any method return store.ErrClosed. Close is idempotent and
// safe to call concurrently; it returns an error wrapping store.ErrBackend
// if a connection pool fails to close.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(s.done)
	var err error
	if s.ckpt != nil {
		err = s.ckpt.close()
	}
	if err := errors.Join(err, s.closeOwned()); err != nil {
		return fmt.Errorf("close: %w: %w", store.ErrBackend, err)
	}
	return nil
}

func (s *Store) closeOwned() error {
	var errs []error
	for _, db := range s.owned {
		if err := db.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func errClosed(op string) error {
	return fmt.Errorf("%s: %w", op, store.ErrClosed)
}

// Update runs fn in a read-write transaction and commits it if fn returns
// nil, as documented by store.Store. fn's error, and a panic in fn, roll the
// transaction back; the error is returned unchanged and the panic goes on.
// Update must not be called from inside fn (on SQLite the nested call would
// wait for the connection the outer call holds).
//
// Update returns store.ErrClosed after Close, store.ErrConflict if the
// transaction lost a race and may be retried, the context's error (wrapped)
// if ctx ends first, and store.ErrBackend on other database failures. It is
// safe for concurrent use.
func (s *Store) Update(ctx context.Context, fn func(tx store.Tx) error) (store.Commit, error) {
	if s.closed.Load() {
		return store.Commit{}, errClosed("update")
	}
	gtx := s.w.WithContext(ctx).Begin()
	if err := gtx.Error; err != nil {
		return store.Commit{}, s.fail(ctx, err, "update: begin")
	}
	t := &tx{s: s, db: gtx, write: true}
	committed := false
	defer func() {
		t.done = true
		if !committed {
			gtx.Rollback() // also on panic; the rollback's own error changes nothing
		}
	}()
	if err := fn(t); err != nil {
		return store.Commit{}, err
	}
	c, at, err := t.record(ctx)
	if err != nil {
		return store.Commit{}, err
	}
	if err := gtx.Commit().Error; err != nil {
		return store.Commit{}, s.fail(ctx, err, "update: commit")
	}
	committed = true
	if s.ckpt != nil {
		s.ckpt.committed()
	}
	if (c.Revision != 0 || t.appended) && s.dialect == SQLite {
		s.announce(at) // for events alone, a revision announced before
	}
	return c, nil
}

// View runs fn in a read-only transaction that sees one consistent snapshot,
// as documented by store.Store; write methods of its Tx return an error
// wrapping store.ErrInvalid and LockAccount does not lock. View returns fn's
// error unchanged, store.ErrClosed after Close, the context's error (wrapped)
// if ctx ends first, and store.ErrBackend on database failure. It is safe
// for concurrent use.
func (s *Store) View(ctx context.Context, fn func(tx store.Tx) error) error {
	if s.closed.Load() {
		return errClosed("view")
	}
	gtx := s.r.WithContext(ctx).Begin(s.readOpts)
	if err := gtx.Error; err != nil {
		return s.fail(ctx, err, "view: begin")
	}
	t := &tx{s: s, db: gtx}
	defer func() {
		t.done = true
		gtx.Rollback() // nothing to keep: the transaction only read
	}()
	return fn(t)
}

// Snapshot calls fn for every account, team role, API key that is not
// revoked and membership (with its terms: end time, fallback role,
// suspension), in that order, read in one read-only
// transaction, and returns the revision they reflect, as documented by
// store.Store. Rows are streamed, not loaded at once: they are
// read by other goroutines while fn runs, but fn is called from the calling
// goroutine, one item at a time. On a SQLite file opened by OpenSQLite a
// large membership table is read by two connections at once, each reading
// half of it, when both see the same revision and no other Snapshot is
// reading on two. Snapshot returns fn's error unchanged, store.ErrClosed
// after Close, the context's error (wrapped) if ctx ends first, and
// store.ErrBackend on database failure. It is safe for concurrent use.
func (s *Store) Snapshot(ctx context.Context, fn func(store.SnapshotItem) error) (store.Revision, error) {
	gtx, rev, err := s.beginSnapshot(ctx, "snapshot")
	if err != nil {
		return 0, err
	}
	defer gtx.Rollback() // read-only
	// Whether some account requires secure sign-in: seen as the accounts
	// go by.
	secure := false
	accounts := func(it store.SnapshotItem) error {
		secure = secure || it.RequireSecure
		return fn(it)
	}
	if err := s.pipe(ctx, accounts, rowSource{tx: gtx, query: "SELECT id, require_secure FROM roster_accounts", form: accountIDs}); err != nil {
		return 0, err
	}
	if err := s.snapshotTeamRoles(ctx, gtx, fn); err != nil {
		return 0, err
	}
	if err := s.pipe(ctx, fn, rowSource{tx: gtx, query: liveKeysQuery, form: liveKeys}); err != nil {
		return 0, err
	}
	sources, end := s.memberSources(ctx, gtx, rev, secure)
	defer end()
	if err := s.pipe(ctx, fn, sources...); err != nil {
		return 0, err
	}
	// The memberships with terms, which memberSources left out, and then
	// the members of accounts that require secure sign-in, which come with
	// their sign-in methods (see store.SnapshotItem). gtx is free again:
	// one query at a time on it.
	notSecure := ""
	if secure {
		notSecure = notSecureMembers
	}
	if err := s.pipe(ctx, fn, rowSource{tx: gtx, form: memberTerms, query: fmt.Sprintf(memberTermsQuery, notSecure)}); err != nil {
		return 0, err
	}
	if secure {
		err := s.pipe(ctx, fn, rowSource{tx: gtx, form: memberSignIns, query: `SELECT m.account_id, m.user_id, m.role, u.sign_in,
			m.until, m.fallback_role, m.suspended_at
			FROM roster_members m JOIN roster_accounts a ON a.id = m.account_id JOIN roster_users u ON u.id = m.user_id
			WHERE a.require_secure`})
		if err != nil {
			return 0, err
		}
	}
	return store.Revision(rev), nil
}

// snapshotTeamRoles calls fn for every team role with its actions. Team
// roles are few next to memberships, so they are read at once.
func (s *Store) snapshotTeamRoles(ctx context.Context, gtx *gorm.DB, fn func(store.SnapshotItem) error) error {
	var rows []struct {
		AccountID string
		Name      string
		Action    sql.NullString
	}
	err := gtx.Raw(`SELECT r.account_id AS account_id, r.name AS name, c.v1 AS action
		FROM roster_team_roles r LEFT JOIN ` + casbinTable + ` c ON c.ptype = 'p' AND c.v0 = r.account_id || '/' || r.name
		ORDER BY r.account_id, r.name, c.v1`).Scan(&rows).Error
	if err != nil {
		return s.fail(ctx, err, "snapshot: read team roles")
	}
	for i := 0; i < len(rows); {
		item := store.SnapshotItem{AccountID: rows[i].AccountID, Role: rows[i].Name, Actions: []string{}}
		for ; i < len(rows) && rows[i].AccountID == item.AccountID && rows[i].Name == item.Role; i++ {
			if rows[i].Action.Valid {
				item.Actions = append(item.Actions, rows[i].Action.String)
			}
		}
		if err := fn(item); err != nil {
			return err
		}
	}
	return nil
}

// Changes returns the changes committed after the given revision in revision
// order, at most limit of them unless more are needed to finish the last
// commit (limit <= 0 means no limit), as documented by store.Store. It
// returns store.ErrClosed after Close, the context's error (wrapped) if ctx
// ends first, and store.ErrBackend on database failure. It is safe for
// concurrent use.
func (s *Store) Changes(ctx context.Context, after store.Revision, limit int) ([]store.Change, error) {
	if s.closed.Load() {
		return nil, errClosed("changes")
	}
	if after >= 1<<63 { // beyond any stored revision (a BIGINT)
		return nil, nil
	}
	db := s.r.WithContext(ctx)
	var rows []changeRow
	q := db.Where("revision > ?", int64(after)).Order("revision, seq")
	if limit > 0 {
		q = q.Limit(limit)
	}
	if err := q.Find(&rows).Error; err != nil {
		return nil, s.fail(ctx, err, "changes after %d", after)
	}
	if limit > 0 && len(rows) == limit {
		// Finish the last commit: a commit is never split.
		last := rows[len(rows)-1]
		var rest []changeRow
		if err := db.Where("revision = ? AND seq > ?", last.Revision, last.Seq).Order("seq").Find(&rest).Error; err != nil {
			return nil, s.fail(ctx, err, "changes after %d", after)
		}
		rows = append(rows, rest...)
	}
	changes := make([]store.Change, len(rows))
	for i, r := range rows {
		changes[i] = r.change()
	}
	return changes, nil
}

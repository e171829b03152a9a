package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/teamroster/roster/store"
)

// readConns is the size of the SQLite read pool. In WAL mode readers do not
// block the writer or each other.
const readConns = 4

// sqliteParams are the go-sqlite3 DSN parameters of every connection: a 5 s
// busy timeout, foreign keys enforced, and synchronous=NORMAL, which in WAL
// mode is durable against application crashes and fast.
const sqliteParams = "_busy_timeout=5000&_foreign_keys=on&_synchronous=NORMAL"

// ErrNoCgo is returned by OpenSQLite in a program built without cgo
// (CGO_ENABLED=0): the SQLite driver, github.com/mattn/go-sqlite3, needs it.
// Such a program can still use PostgreSQL. It wraps store.ErrBackend.
var ErrNoCgo = store.Kinded(store.ErrBackend, "sqlstore: SQLite needs cgo, and this program was built without it")

// OpenSQLite opens the SQLite database in the file at path, creating the
// file when it is missing and migrating its schema (see Migrate; with
// WithoutAutoMigrate, checking it instead). It uses
// github.com/mattn/go-sqlite3, which needs cgo: in a program built without
// cgo it returns ErrNoCgo.
//
// The database is put in WAL mode. The Store keeps two connection pools: a
// write pool of one connection whose transactions begin IMMEDIATE, so that
// concurrent Updates queue for the write lock (waiting up to the busy timeout
// of 5 s for other processes) instead of failing with SQLITE_BUSY; and a pool
// of read connections for View, Snapshot and Changes. A goroutine
// checkpoints the WAL into the database file in the background, on a
// connection of its own, instead of the writes that cross SQLite's
// automatic checkpoint threshold; Close stops it.
//
// path is a file name, not a URI: characters such as '?' and '#' are
// escaped. The empty path and ":memory:" are refused with an error wrapping
// store.ErrInvalid, since an in-memory database would not be shared between
// the two pools; tests can use a file in t.TempDir(). OpenSQLite returns an
// error wrapping store.ErrBackend if the file cannot be opened or the schema
// cannot be migrated, ErrSchemaVersion if the schema's version is not the
// code's (newer, or older with WithoutAutoMigrate), and one wrapping
// store.ErrInvalid for a nil option. The Store owns its connections: Close
// closes them.
func OpenSQLite(path string, opts ...Option) (*Store, error) {
	o, err := applyOptions(opts)
	if err == nil {
		err = sqliteAvailable()
	}
	if err != nil {
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	uri, err := sqliteURI(path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	s := &Store{dialect: SQLite, parallelMin: parallelMinRows, twoReaders: make(chan struct{}, 1), feed: newFeed()}
	var pool *sql.DB
	s.w, pool, err = openSQLitePool(writerDriver, uri+"?_txlock=immediate&_journal_mode=WAL&"+sqliteParams, 1)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %q: %w: %w", path, store.ErrBackend, err)
	}
	s.owned = append(s.owned, pool)
	// The write pool has set WAL mode; the schema is ready before readers come.
	if err := s.prepareSchema(context.Background(), o); err != nil {
		return nil, errors.Join(err, s.closeOwned())
	}
	s.r, pool, err = openSQLitePool(sqlite.DriverName, uri+"?_txlock=deferred&_query_only=on&"+sqliteParams, readConns)
	if err != nil {
		err = fmt.Errorf("open sqlite %q: %w: %w", path, store.ErrBackend, err)
		return nil, errors.Join(err, s.closeOwned())
	}
	s.owned = append(s.owned, pool)
	ckpt, err := sql.Open(sqlite.DriverName, uri+"?"+sqliteParams)
	if err == nil {
		ckpt.SetMaxOpenConns(1)
		if err = ckpt.Ping(); err != nil {
			err = errors.Join(err, ckpt.Close())
		}
	}
	if err != nil {
		err = fmt.Errorf("open sqlite %q: %w: %w", path, store.ErrBackend, err)
		return nil, errors.Join(err, s.closeOwned())
	}
	s.ckpt = startCheckpointer(ckpt)
	return s, nil
}

// openSQLitePool opens a gorm handle on dsn with at most conns connections,
// all kept open, checks that it works, and returns it with its pool.
// Transactions on the handle reuse prepared statements (see stmtPool).
func openSQLitePool(driver, dsn string, conns int) (*gorm.DB, *sql.DB, error) {
	pool, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, nil, err
	}
	db, err := gorm.Open(sqlite.New(sqlite.Config{Conn: newStmtPool(pool)}), gormConfig())
	if err != nil {
		return nil, nil, errors.Join(err, pool.Close())
	}
	pool.SetMaxOpenConns(conns)
	pool.SetMaxIdleConns(conns)
	pool.SetConnMaxLifetime(0)
	pool.SetConnMaxIdleTime(0)
	if err := pool.Ping(); err != nil {
		return nil, nil, errors.Join(err, pool.Close())
	}
	return db, pool, nil
}

// sqliteURI returns the file: URI of the file at path for go-sqlite3: the
// absolute path, escaped.
func sqliteURI(path string) (string, error) {
	switch path {
	case "":
		return "", fmt.Errorf("%w: empty path", store.ErrInvalid)
	case ":memory:":
		return "", fmt.Errorf("%w: in-memory databases are not supported; use a file", store.ErrInvalid)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("%w: %w", store.ErrInvalid, err)
	}
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive letter: file:/C:/...
	}
	// EscapedPath percent-encodes '?', '#', '%', spaces and the like, which
	// SQLite decodes; '/' stays as it is.
	return "file:" + (&url.URL{Path: p}).EscapedPath(), nil
}

//go:build cgo

package sqlstore

import (
	"database/sql"
	"errors"

	"github.com/mattn/go-sqlite3"

	"github.com/teamroster/roster/store"
)

// The parts of the SQLite backend that use go-sqlite3's cgo API. Their
// counterparts without cgo are in sqlite_nocgo.go.

func init() {
	sql.Register(writerDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec("PRAGMA wal_autocheckpoint=0", nil)
		return err
	}})
}

// sqliteAvailable reports whether OpenSQLite can open a database: with cgo,
// always.
func sqliteAvailable() error { return nil }

// sqliteSentinel returns the sentinel error that err, if it is a
// go-sqlite3 error, means; nil for any other error.
func sqliteSentinel(err error) error {
	var sqliteErr sqlite3.Error
	if !errors.As(err, &sqliteErr) {
		return nil
	}
	switch {
	case sqliteErr.ExtendedCode == sqlite3.ErrConstraintUnique,
		sqliteErr.ExtendedCode == sqlite3.ErrConstraintPrimaryKey:
		return store.ErrExists
	case sqliteErr.ExtendedCode == sqlite3.ErrConstraintForeignKey:
		return store.ErrNotFound
	case sqliteErr.Code == sqlite3.ErrBusy, sqliteErr.Code == sqlite3.ErrLocked:
		return store.ErrConflict
	}
	return store.ErrBackend
}

// sqliteCode returns the extended result code of err, if it is a go-sqlite3
// error, and the generic text of its primary code, which carries no data.
func sqliteCode(err error) (code int, text string, ok bool) {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return 0, "", false
	}
	return int(se.ExtendedCode), se.Code.Error(), true
}

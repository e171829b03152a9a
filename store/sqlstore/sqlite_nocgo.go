//go:build !cgo

package sqlstore

// Without cgo go-sqlite3 is a stub that fails every connection, so
// OpenSQLite refuses at once with ErrNoCgo; PostgreSQL, and a *gorm.DB of a
// cgo-free SQLite driver handed to New, work as with cgo.

// sqliteAvailable reports whether OpenSQLite can open a database: without
// cgo, never.
func sqliteAvailable() error { return ErrNoCgo }

// sqliteSentinel returns nil: without cgo no error comes from go-sqlite3.
func sqliteSentinel(error) error { return nil }

// sqliteCode reports no code: without cgo no error comes from go-sqlite3.
func sqliteCode(error) (code int, text string, ok bool) { return 0, "", false }

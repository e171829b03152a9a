package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"sync"

	"gorm.io/gorm"
)

// The statements every change runs (reading the actor's and the target's
// memberships, locking the account, taking the next revision) go straight to
// database/sql on the transaction's connection: gorm's statement building
// and reflective scanning cost more than SQLite takes to run them.

// queryRow runs a query returning at most one row on db's connection, with
// ? placeholders rewritten for the dialect.
func (s *Store) queryRow(ctx context.Context, db *gorm.DB, query string, args ...any) *sql.Row {
	return db.Statement.ConnPool.QueryRowContext(ctx, s.bind(query), args...)
}

// exec runs a statement on db's connection, with ? placeholders rewritten
// for the dialect.
func (s *Store) exec(ctx context.Context, db *gorm.DB, query string, args ...any) (sql.Result, error) {
	return db.Statement.ConnPool.ExecContext(ctx, s.bind(query), args...)
}

// execCount runs a statement like exec and returns the number of rows it
// changed.
func (s *Store) execCount(ctx context.Context, db *gorm.DB, query string, args ...any) (int64, error) {
	res, err := s.exec(ctx, db, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// bound caches queries rewritten for PostgreSQL.
var bound sync.Map // string -> string

// bind rewrites the ? placeholders of query as $1, $2... on PostgreSQL. The
// queries it is given hold no ? other than placeholders.
func (s *Store) bind(query string) string {
	if s.dialect != Postgres {
		return query
	}
	if q, ok := bound.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	q, _ := bound.LoadOrStore(query, b.String())
	return q.(string)
}

package sqlstore

import (
	"context"
	"database/sql"
	"sync"

	"gorm.io/gorm"
)

// stmtPool is the gorm connection pool of the SQLite pools OpenSQLite opens:
// a *sql.DB whose transactions run their statements through prepared
// statements it keeps, instead of preparing each statement again in every
// transaction. go-sqlite3 caches no statements, and gorm's own PrepareStmt
// mode prepares statements inside the transaction, where database/sql closes
// them when it ends; preparing was a tenth of the time of a small write.
//
// Statements are prepared on the pool (database/sql then prepares each once
// per connection) and bound to a transaction with Tx.StmtContext. Preparing
// on the pool takes a connection, which a transaction of the one-connection
// write pool holds; so a statement first runs unprepared and is prepared
// before the next transaction begins, when the connection is free. At most
// maxStmts are kept; statements beyond them run unprepared.
type stmtPool struct {
	*sql.DB

	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
	wanted map[string]bool // run unprepared; to prepare before the next transaction
}

var (
	_ gorm.ConnPool         = (*stmtPool)(nil)
	_ gorm.ConnPoolBeginner = (*stmtPool)(nil)
	_ gorm.GetDBConnector   = (*stmtPool)(nil)
	_ gorm.TxCommitter      = (*stmtTx)(nil)
)

// maxStmts bounds the statements a pool keeps. The store's statements are a
// few dozen; Events and large commits build more, which run unprepared once
// the cache is full.
const maxStmts = 256

func newStmtPool(db *sql.DB) *stmtPool {
	return &stmtPool{DB: db, stmts: make(map[string]*sql.Stmt), wanted: make(map[string]bool)}
}

// GetDBConn returns the pool, for gorm's DB().
func (p *stmtPool) GetDBConn() (*sql.DB, error) { return p.DB, nil }

// BeginTx prepares the statements wanted so far, then begins a transaction
// whose statements use the pool's prepared statements.
func (p *stmtPool) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	p.prepareWanted(ctx)
	tx, err := p.DB.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &stmtTx{Tx: tx, p: p}, nil
}

// stmt returns the prepared statement for query, or nil if it has none yet
// (the caller then runs query as it is); it marks such a query wanted while
// the cache has room.
func (p *stmtPool) stmt(query string) *sql.Stmt {
	p.mu.Lock()
	defer p.mu.Unlock()
	st, ok := p.stmts[query]
	if !ok && len(p.stmts)+len(p.wanted) < maxStmts {
		p.wanted[query] = true
	}
	return st
}

// prepareWanted prepares the wanted statements. It holds no lock while it
// waits for a connection. A statement that fails to prepare is not kept:
// running it reports the error.
func (p *stmtPool) prepareWanted(ctx context.Context) {
	p.mu.Lock()
	if len(p.wanted) == 0 {
		p.mu.Unlock()
		return
	}
	queries := make([]string, 0, len(p.wanted))
	for q := range p.wanted {
		queries = append(queries, q)
	}
	clear(p.wanted)
	p.mu.Unlock()
	for _, q := range queries {
		st, err := p.DB.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		p.mu.Lock()
		if _, dup := p.stmts[q]; dup {
			st.Close() // prepared meanwhile by another transaction's caller
		} else {
			p.stmts[q] = st
		}
		p.mu.Unlock()
	}
}

// Close closes the prepared statements and the pool.
func (p *stmtPool) Close() error {
	p.mu.Lock()
	for q, st := range p.stmts {
		st.Close() // closing the pool releases them anyway
		delete(p.stmts, q)
	}
	p.mu.Unlock()
	return p.DB.Close()
}

// stmtTx is a transaction of a stmtPool.
type stmtTx struct {
	*sql.Tx
	p *stmtPool
}

// ExecContext runs query through its prepared statement.
func (t *stmtTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.p.stmt(query); st != nil {
		return t.Tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

// QueryContext runs query through its prepared statement.
func (t *stmtTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.p.stmt(query); st != nil {
		return t.Tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

// QueryRowContext runs query through its prepared statement.
func (t *stmtTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.p.stmt(query); st != nil {
		return t.Tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}

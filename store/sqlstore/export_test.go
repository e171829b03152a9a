package sqlstore

import (
	"context"
	"fmt"
	"io/fs"
	"time"

	"gorm.io/gorm"

	"github.com/teamroster/roster/store"
)

// Handles returns the Store's write and read handles, for tests that look at
// the database directly.
func Handles(s *Store) (write, read *gorm.DB) { return s.w, s.r }

// Fail translates err as the Store translates every database error.
func Fail(s *Store, ctx context.Context, err error) error { return s.fail(ctx, err, "test") }

// SetParallelMin sets the membership count from which s's Snapshot reads on
// two connections (0: never).
func SetParallelMin(s *Store, n int64) { s.parallelMin = n }

// SnapshotReaders returns how many connections a Snapshot of s would read
// memberships on now.
func SnapshotReaders(ctx context.Context, s *Store) (int, error) {
	gtx := s.r.WithContext(ctx).Begin(s.readOpts)
	if gtx.Error != nil {
		return 0, gtx.Error
	}
	defer gtx.Rollback()
	rev, err := s.readRevision(ctx, gtx)
	if err != nil {
		return 0, err
	}
	sources, end := s.memberSources(ctx, gtx, rev, false)
	end()
	return len(sources), nil
}

// PreparedStatements returns how many prepared statements the write and read
// pools of a Store opened by OpenSQLite keep.
func PreparedStatements(s *Store) (write, read int) {
	count := func(db *gorm.DB) int {
		p, ok := db.ConnPool.(*stmtPool)
		if !ok {
			return -1
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.stmts)
	}
	return count(s.w), count(s.r)
}

// MaxStmts is the most prepared statements a pool keeps.
const MaxStmts = maxStmts

// Checkpoints returns how many background checkpoints s has made.
func Checkpoints(s *Store) uint64 { return s.ckpt.runs.Load() }

// CheckpointEvery is how many commits wake the checkpointer.
const CheckpointEvery = checkpointEvery

// SetWALLimit sets the WAL size, in pages, above which checkpoints truncate
// the WAL, and returns a function that restores it.
func SetWALLimit(pages int) (restore func()) {
	old := walLimit
	walLimit = pages
	return func() { walLimit = old }
}

// ReadConns is the size of the read pool of a Store opened by OpenSQLite.
const ReadConns = readConns

// UsersByEmailQuery is the statement with which UsersByEmail looks up n
// addresses.
func UsersByEmailQuery(n int) string { return usersByEmailQuery(n) }

// EmailBatch is how many addresses one statement of UsersByEmail looks up.
const EmailBatch = lookupBatch

// ExplainEvents returns the database's plan for the statement with which
// Events and ScanEvents read the events matching f.
func ExplainEvents(ctx context.Context, s *Store, f store.EventFilter) (string, error) {
	return s.explainEvents(ctx, f)
}

// ExplainRange returns the database's plans for the statements with which
// a Tx reads r of the list named list ("members", "memberships",
// "invites", "transfers", "api keys", or "user api keys": APIKeys with a
// user ID) owned by owner (an account's ID, a user's, or for "user api
// keys" both), one per statement.
func ExplainRange(ctx context.Context, s *Store, list string, owner []string, r store.Range) ([]string, error) {
	return s.explainRange(ctx, list, owner, r)
}

// MigrateFS migrates db as Migrate does, with the migrations in the root of
// fsys instead of the package's own.
func MigrateFS(ctx context.Context, db *gorm.DB, fsys fs.FS) error {
	set, err := loadMigrations(fsys)
	if err != nil {
		return err
	}
	s, err := wrap(db)
	if err != nil {
		return err
	}
	return s.migrate(ctx, set)
}

// ExplainKeyWrites returns the database's plans for the statements of
// TouchAPIKeys recording the uses of n keys (IDs key_1 onwards), and of
// DeleteUser looking for and deleting the keys of user u1.
func ExplainKeyWrites(ctx context.Context, s *Store, n int) (touch, live, deleted string, err error) {
	var args []any
	for i := range n {
		args = append(args, fmt.Sprintf("key_%d", i+1), time.Now(), "192.0.2.1")
	}
	if touch, err = s.explain(ctx, "explain touch", touchQuery(s.dialect, n), args); err != nil {
		return "", "", "", err
	}
	if live, err = s.explain(ctx, "explain live keys", userKeyLive, []any{"u1"}); err != nil {
		return "", "", "", err
	}
	deleted, err = s.explain(ctx, "explain delete keys", deleteUserKeys, []any{"u1"})
	return touch, live, deleted, err
}

// ExplainMemberReads returns the database's plans, by name, for the
// statements of Seats (of account x1), ExpiredMembers (at now), and
// Snapshot reading the memberships that have an end time or are
// suspended, of every account and of the accounts that do not require
// secure sign-in.
func ExplainMemberReads(ctx context.Context, s *Store, now time.Time) (map[string]string, error) {
	return s.explainMemberReads(ctx, now)
}

// ExplainDomainReads returns the database's plans, by name, for the
// statements of Domain (d1.example of account x1), Domains (of x1),
// VerifiedDomain (d1.example) and UpdateDomain looking for another team's
// verified claim of d1.example.
func ExplainDomainReads(ctx context.Context, s *Store) (map[string]string, error) {
	return s.explainDomainReads(ctx)
}

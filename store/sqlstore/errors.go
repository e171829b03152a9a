package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/teamroster/roster/store"
)

// fail is the one place where database errors become store errors. It wraps
// err, returned by the database during the operation that format and args
// describe, as "<operation>: <sentinel>: <driver error>": the
// sentinel for errors.Is, the driver error for errors.As and the message.
// Context errors are wrapped as they are.
func (s *Store) fail(ctx context.Context, err error, format string, args ...any) error {
	op := fmt.Sprintf(format, args...)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", op, err)
	case ctx.Err() != nil:
		// The driver reported the cancellation in its own words (SQLite:
		// interrupted; database/sql: transaction done).
		return fmt.Errorf("%s: %w: %w", op, ctx.Err(), err)
	case s.closed.Load():
		return fmt.Errorf("%s: %w: %w", op, store.ErrClosed, err)
	case errors.Is(err, gorm.ErrRecordNotFound), errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s: %w", op, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w: %w", op, s.classify(err), err)
}

// classify returns the sentinel error that err, a database error, means.
func (s *Store) classify(err error) error {
	if sentinel := sqliteSentinel(err); sentinel != nil {
		return sentinel
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505": // unique_violation
			return store.ErrExists
		case "23503": // foreign_key_violation
			return store.ErrNotFound
		case "40001", "40P01": // serialization_failure, deadlock_detected
			return store.ErrConflict
		}
		return store.ErrBackend
	}
	// Another driver, or a *gorm.DB given to New with TranslateError set:
	// rely on gorm's portable errors, translating them first if need be.
	if sentinel := gormSentinel(err); sentinel != nil {
		return sentinel
	}
	if tr, ok := s.w.Dialector.(gorm.ErrorTranslator); ok {
		if sentinel := gormSentinel(tr.Translate(err)); sentinel != nil {
			return sentinel
		}
	}
	return store.ErrBackend
}

// gormSentinel maps gorm's translated errors to the store's, or returns nil.
func gormSentinel(err error) error {
	switch {
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return store.ErrExists
	case errors.Is(err, gorm.ErrForeignKeyViolated), errors.Is(err, gorm.ErrRecordNotFound):
		return store.ErrNotFound
	}
	return nil
}

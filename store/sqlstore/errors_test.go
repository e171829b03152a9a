//go:build cgo

// The tests of the translation of driver errors, which build go-sqlite3's
// errors and so need cgo.

package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
	"gorm.io/gorm"

	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/store/sqlstore"
)

func TestErrorTranslation(t *testing.T) {
	s := newSQLiteStore(t)
	sqliteErr := func(code sqlite3.ErrNo, ext sqlite3.ErrNoExtended) error {
		return sqlite3.Error{Code: code, ExtendedCode: ext}
	}
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"sqlite unique", sqliteErr(sqlite3.ErrConstraint, sqlite3.ErrConstraintUnique), store.ErrExists},
		{"sqlite primary key", sqliteErr(sqlite3.ErrConstraint, sqlite3.ErrConstraintPrimaryKey), store.ErrExists},
		{"sqlite foreign key", sqliteErr(sqlite3.ErrConstraint, sqlite3.ErrConstraintForeignKey), store.ErrNotFound},
		{"sqlite not null", sqliteErr(sqlite3.ErrConstraint, sqlite3.ErrConstraintNotNull), store.ErrBackend},
		{"sqlite busy", sqliteErr(sqlite3.ErrBusy, sqlite3.ErrBusySnapshot), store.ErrConflict},
		{"sqlite locked", sqliteErr(sqlite3.ErrLocked, 0), store.ErrConflict},
		{"sqlite I/O", sqliteErr(sqlite3.ErrIoErr, 0), store.ErrBackend},
		{"postgres unique", &pgconn.PgError{Code: "23505"}, store.ErrExists},
		{"postgres foreign key", &pgconn.PgError{Code: "23503"}, store.ErrNotFound},
		{"postgres serialization", &pgconn.PgError{Code: "40001"}, store.ErrConflict},
		{"postgres deadlock", &pgconn.PgError{Code: "40P01"}, store.ErrConflict},
		{"postgres undefined table", &pgconn.PgError{Code: "42P01"}, store.ErrBackend},
		{"wrapped postgres error", fmt.Errorf("exec: %w", &pgconn.PgError{Code: "23505"}), store.ErrExists},
		{"gorm record not found", gorm.ErrRecordNotFound, store.ErrNotFound},
		{"sql no rows", sql.ErrNoRows, store.ErrNotFound},
		{"gorm duplicated key", gorm.ErrDuplicatedKey, store.ErrExists},
		{"gorm foreign key", gorm.ErrForeignKeyViolated, store.ErrNotFound},
		{"context canceled", fmt.Errorf("query: %w", context.Canceled), context.Canceled},
		{"deadline exceeded", context.DeadlineExceeded, context.DeadlineExceeded},
		{"anything else", errors.New("disk on fire"), store.ErrBackend},
	} {
		got := sqlstore.Fail(s, t.Context(), tc.err)
		if !errors.Is(got, tc.want) {
			t.Errorf("%s: %v does not wrap %v", tc.name, got, tc.want)
		}
		if !errors.Is(got, tc.err) && tc.want != store.ErrNotFound {
			t.Errorf("%s: %v lost the original error", tc.name, got)
		}
		if !strings.HasPrefix(got.Error(), "test: ") {
			t.Errorf("%s: message %q does not name the operation", tc.name, got)
		}
	}

	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	interrupted := sqliteErr(sqlite3.ErrInterrupt, 0)
	if got := sqlstore.Fail(s, canceled, interrupted); !errors.Is(got, context.Canceled) {
		t.Errorf("driver error after cancellation: %v does not wrap context.Canceled", got)
	}
}

// TestDriverErrorsAreTranslated provokes real constraint violations through
// the Store's own database handle and checks the translation keeps both the
// sentinel and the driver's error.
func TestDriverErrorsAreTranslated(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s := b.Store(t)
			seed(t, s, 1)
			w, _ := sqlstore.Handles(s)
			dup := w.Exec("INSERT INTO roster_users (id, email, name, sign_in, active_account) VALUES ('u0', 'x', 'x', 'email', '')").Error
			orphan := w.Exec("INSERT INTO roster_members (account_id, user_id, role) VALUES ('nope', 'u0', 'x')").Error
			for _, tc := range []struct {
				name string
				err  error
				want error
			}{
				{"duplicate key", dup, store.ErrExists},
				{"foreign key", orphan, store.ErrNotFound},
			} {
				if tc.err == nil {
					t.Fatalf("%s: the statement succeeded", tc.name)
				}
				got := sqlstore.Fail(s, t.Context(), tc.err)
				if !errors.Is(got, tc.want) {
					t.Errorf("%s: %v does not wrap %v", tc.name, got, tc.want)
				}
				var sqliteErr sqlite3.Error
				var pgErr *pgconn.PgError
				if !errors.As(got, &sqliteErr) && !errors.As(got, &pgErr) {
					t.Errorf("%s: %v does not wrap the driver's error", tc.name, got)
				}
			}
		})
	}
}

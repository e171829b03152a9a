package sqlstore_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/store/sqlstore"
)

// TestUsersByEmailUsesTheIndex asserts that UsersByEmail's statement, for
// one address and for a full batch, is served by the expression index
// roster_users_email and never by a scan of the whole table.
func TestUsersByEmailUsesTheIndex(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Skip(t)
			s := b.Store(t)
			w, _ := sqlstore.Handles(s)
			for _, n := range []int{1, sqlstore.EmailBatch} {
				args := make([]any, n)
				for i := range args {
					args[i] = fmt.Sprintf("user%d@example.com", i)
				}
				var plan []string
				err := w.Transaction(func(gtx *gorm.DB) error {
					explain := "EXPLAIN QUERY PLAN "
					if b.Name == "postgres" {
						// So that the plan shows the index a large table would use.
						explain = "EXPLAIN "
						if err := gtx.Exec("SET LOCAL enable_seqscan = off").Error; err != nil {
							return err
						}
					}
					rows, err := gtx.Raw(explain+sqlstore.UsersByEmailQuery(n), args...).Rows()
					if err != nil {
						return err
					}
					defer rows.Close()
					cols, err := rows.Columns()
					if err != nil {
						return err
					}
					for rows.Next() {
						vals := make([]any, len(cols))
						var line string
						for i := range vals {
							vals[i] = new(any)
						}
						vals[len(vals)-1] = &line // SQLite: detail; PostgreSQL: QUERY PLAN
						if err := rows.Scan(vals...); err != nil {
							return err
						}
						plan = append(plan, line)
					}
					return rows.Err()
				})
				if err != nil {
					t.Fatalf("explaining the statement for %d addresses: %v", n, err)
				}
				text := strings.Join(plan, "\n")
				if !strings.Contains(text, "roster_users_email") || strings.Contains(strings.ToLower(text), "seq scan") ||
					strings.Contains(text, "SCAN roster_users") {
					t.Errorf("the statement for %d addresses is not served by roster_users_email:\n%s", n, text)
				}
			}
		})
	}
}

// TestSQLiteUsersByEmailPreparesFewStatements looks up every number of
// addresses up to the limit and asserts that they share a few statements
// (one per padded list length) instead of filling the prepared statement
// cache with one per length.
func TestSQLiteUsersByEmailPreparesFewStatements(t *testing.T) {
	s := newSQLiteStore(t)
	seed(t, s, 3)
	ctx := t.Context()
	lookup := func(n int) []store.User {
		t.Helper()
		emails := make([]string, n)
		for i := range emails {
			emails[i] = fmt.Sprintf("U%d@Example.com", i)
		}
		var users []store.User
		err := s.View(ctx, func(tx store.Tx) (err error) {
			users, err = tx.UsersByEmail(ctx, emails)
			return err
		})
		if err != nil {
			t.Fatalf("UsersByEmail of %d addresses: %v", n, err)
		}
		return users
	}
	lookup(1)
	_, before := sqlstore.PreparedStatements(s)
	for n := 1; n <= store.MaxEmailsPerQuery; n++ {
		if got := lookup(n); len(got) != min(n, 3) {
			t.Fatalf("UsersByEmail of %d addresses found %d users, want %d", n, len(got), min(n, 3))
		}
	}
	lookup(1) // prepares the statements the last lookups wanted
	// Padded lengths: 1, 2, 4, ..., 256 and EmailBatch.
	if _, after := sqlstore.PreparedStatements(s); after-before > 10 {
		t.Errorf("the read pool prepared %d statements for UsersByEmail, want at most 10", after-before)
	}
}

// TestPostgresSetActiveAccountWaitsForAConcurrentWriter makes
// SetActiveAccount wait on a transaction that changed the same user's active
// account and has not committed: once it commits, the waiting call compares
// against its value and does not set the account.
func TestPostgresSetActiveAccountWaitsForAConcurrentWriter(t *testing.T) {
	s := newPostgresStore(t)
	seed(t, s, 1)
	ctx := t.Context()

	set, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		_, err := s.Update(ctx, func(tx store.Tx) error {
			ok, err := tx.SetActiveAccount(ctx, "u0", "", "team1")
			close(set)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("the first SetActiveAccount did not set the account")
			}
			<-release
			return nil
		})
		first <- err
	}()
	<-set

	var secondSet bool
	second := make(chan error, 1)
	go func() {
		_, err := s.Update(ctx, func(tx store.Tx) error {
			var err error
			secondSet, err = tx.SetActiveAccount(ctx, "u0", "", "team2")
			return err
		})
		second <- err
	}()

	// Wait until the second transaction waits for the first one's row lock.
	w, _ := sqlstore.Handles(s)
	for waiting := 0; waiting == 0; {
		err := w.Raw(`SELECT count(*) FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE roster_users SET active_account%'`).Scan(&waiting).Error
		if err != nil {
			t.Fatalf("polling pg_stat_activity: %v", err)
		}
		select {
		case err := <-second:
			t.Fatalf("the second transaction ended before waiting for the lock: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("first transaction: %v", err)
	}
	if err := <-second; err != nil {
		t.Fatalf("second transaction: %v", err)
	}
	if secondSet {
		t.Errorf("SetActiveAccount from %q after a concurrent commit changed it reported that it set the account", "")
	}
	err := s.View(ctx, func(tx store.Tx) error {
		u, err := tx.User(ctx, "u0")
		if err == nil && u.ActiveAccount != "team1" {
			t.Errorf("active account = %q, want the first transaction's team1", u.ActiveAccount)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

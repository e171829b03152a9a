package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/store/sqlstore"
	"github.com/teamroster/roster/store/storetest"
)

// newSQLiteStore opens a Store on a new file in a temporary directory.
func newSQLiteStore(t *testing.T) *sqlstore.Store { return sqliteBackend.Store(t) }

// newPostgresStore opens a Store in a new schema of the database named by
// ROSTER_TEST_POSTGRES_DSN, dropped at cleanup; it skips without one.
func newPostgresStore(t *testing.T) *sqlstore.Store { return postgresBackend.Store(t) }

var sqliteBackend, postgresBackend = testdb.Backends()[0], testdb.Backends()[1]

// newSQLiteStoreFromGorm opens the SQLite file with gorm as an application
// would and hands the handle to New.
func newSQLiteStoreFromGorm(t *testing.T) *sqlstore.Store {
	t.Helper()
	dsn := "file:" + filepath.ToSlash(filepath.Join(t.TempDir(), "app.db")) +
		"?_txlock=immediate&_busy_timeout=5000&_journal_mode=WAL&_foreign_keys=on"
	db, err := gorm.Open(sqlite.Open(dsn), &gorm.Config{Logger: logger.Default.LogMode(logger.Silent)})
	if err != nil {
		t.Fatalf("gorm.Open: %v", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatalf("DB: %v", err)
	}
	t.Cleanup(func() {
		if err := sqlDB.Close(); err != nil {
			t.Errorf("closing the application's database: %v", err)
		}
	})
	s, err := sqlstore.New(db)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// asStore adapts a constructor for storetest.Run.
func asStore(newStore func(t *testing.T) *sqlstore.Store) func(t *testing.T) store.Store {
	return func(t *testing.T) store.Store { return newStore(t) }
}

func TestConformance(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { storetest.Run(t, asStore(newSQLiteStore)) })
	t.Run("sqlite via New", func(t *testing.T) { storetest.Run(t, asStore(newSQLiteStoreFromGorm)) })
	t.Run("postgres", func(t *testing.T) {
		postgresBackend.Skip(t)
		storetest.Run(t, asStore(newPostgresStore))
	})
}

// update runs fn in s.Update and fails the test on error.
func update(t *testing.T, s store.Store, fn func(ctx context.Context, tx store.Tx) error) store.Commit {
	t.Helper()
	ctx := t.Context()
	c, err := s.Update(ctx, func(tx store.Tx) error { return fn(ctx, tx) })
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	return c
}

// seed creates users u0..u<n-1> and account team1 with u0 as admin.
func seed(t *testing.T, s store.Store, n int) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range n {
			u := store.User{ID: fmt.Sprintf("u%d", i), Email: fmt.Sprintf("u%d@example.com", i), Name: "U", SignIn: store.SignInEmail}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
		}
		if err := tx.CreateAccount(ctx, store.Account{ID: "team1", Kind: store.Team, Name: "Team", Owner: "u0"}); err != nil {
			return err
		}
		return tx.CreateMember(ctx, store.Member{AccountID: "team1", UserID: "u0", Role: "admin"})
	})
}

func TestSQLiteReopenKeepsDataAndRevision(t *testing.T) {
	path := filepath.Join(t.TempDir(), "roster.db")
	s, err := sqlstore.OpenSQLite(path)
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	seed(t, s, 2)
	c := update(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateMember(ctx, store.Member{AccountID: "team1", UserID: "u1", Role: "dev"})
	})
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err = sqlstore.OpenSQLite(path)
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	var members int
	rev, err := s.Snapshot(t.Context(), func(item store.SnapshotItem) error {
		if item.UserID != "" {
			members++
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if rev != c.Revision || members != 2 {
		t.Errorf("after reopening: revision %d with %d members, want %d with 2", rev, members, c.Revision)
	}
	next := update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteMember(ctx, "team1", "u1") })
	if next.Revision != c.Revision+1 {
		t.Errorf("first commit after reopening has revision %d, want %d", next.Revision, c.Revision+1)
	}
}

func TestSQLiteConnectionSettings(t *testing.T) {
	s := newSQLiteStore(t)
	w, r := sqlstore.Handles(s)
	for _, tc := range []struct {
		pool   string
		db     *gorm.DB
		pragma string
		want   string
	}{
		{"write", w, "journal_mode", "wal"},
		{"write", w, "foreign_keys", "1"},
		{"write", w, "synchronous", "1"}, // NORMAL
		{"write", w, "busy_timeout", "5000"},
		{"write", w, "query_only", "0"},
		{"write", w, "wal_autocheckpoint", "0"}, // the checkpointer's work
		{"read", r, "journal_mode", "wal"},
		{"read", r, "foreign_keys", "1"},
		{"read", r, "busy_timeout", "5000"},
		{"read", r, "query_only", "1"},
	} {
		var got string
		if err := tc.db.Raw("PRAGMA " + tc.pragma).Row().Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s on the %s pool: %v", tc.pragma, tc.pool, err)
		}
		if got != tc.want {
			t.Errorf("PRAGMA %s on the %s pool = %q, want %q", tc.pragma, tc.pool, got, tc.want)
		}
	}
	sqlDB, err := w.DB()
	if err != nil {
		t.Fatal(err)
	}
	if n := sqlDB.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("write pool allows %d connections, want 1", n)
	}
}

func TestSQLitePathIsEscaped(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "odd dir?x=1#frag%41")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "my roster?.db")
	s, err := sqlstore.OpenSQLite(path)
	if err != nil {
		t.Fatalf("OpenSQLite(%q): %v", path, err)
	}
	seed(t, s, 1)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file not at %q: %v", path, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "my roster?.db") {
			t.Errorf("unexpected file %q beside the database", e.Name())
		}
	}
}

func TestSQLiteRefusesMemoryAndEmptyPaths(t *testing.T) {
	for _, path := range []string{"", ":memory:"} {
		s, err := sqlstore.OpenSQLite(path)
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("OpenSQLite(%q) = %v, %v; want ErrInvalid", path, s, err)
		}
	}
}

func TestNewLeavesTheCallersDatabaseOpen(t *testing.T) {
	s := newSQLiteStoreFromGorm(t)
	w, _ := sqlstore.Handles(s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := w.Exec("SELECT 1").Error; err != nil {
		t.Errorf("the application's database after Close: %v", err)
	}
	_, err := s.Update(t.Context(), func(store.Tx) error { return nil })
	if !errors.Is(err, store.ErrClosed) {
		t.Errorf("Update after Close = %v, want ErrClosed", err)
	}
}

func TestNewRefusesNil(t *testing.T) {
	if _, err := sqlstore.New(nil); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("New(nil) = %v, want ErrInvalid", err)
	}
}

func TestContextErrorsPassThrough(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s := b.Store(t)
			seed(t, s, 1)
			canceled, cancel := context.WithCancel(t.Context())
			cancel()
			_, err := s.Update(canceled, func(tx store.Tx) error {
				return tx.CreateUser(canceled, store.User{ID: "x"})
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Update with a canceled context = %v, want context.Canceled", err)
			}
			err = s.View(canceled, func(tx store.Tx) error {
				_, err := tx.User(canceled, "u0")
				return err
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("View with a canceled context = %v, want context.Canceled", err)
			}

			// Canceled while fn runs: the statement fails, and so does the commit.
			ctx, cancel := context.WithCancel(t.Context())
			_, err = s.Update(ctx, func(tx store.Tx) error {
				if err := tx.CreateUser(ctx, store.User{ID: "u9"}); err != nil {
					return err
				}
				cancel()
				return tx.CreateUser(ctx, store.User{ID: "u10"})
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Update canceled midway = %v, want context.Canceled", err)
			}
			err = s.View(t.Context(), func(tx store.Tx) error {
				_, err := tx.User(t.Context(), "u9")
				return err
			})
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("write of a canceled Update: User(u9) = %v, want ErrNotFound", err)
			}
		})
	}
}

func TestTxUnusableAfterFnReturns(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s := b.Store(t)
			var kept store.Tx
			update(t, s, func(_ context.Context, tx store.Tx) error { kept = tx; return nil })
			if err := kept.CreateUser(t.Context(), store.User{ID: "late"}); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("CreateUser on a finished Update's Tx = %v, want ErrInvalid", err)
			}
			if err := s.View(t.Context(), func(tx store.Tx) error { kept = tx; return nil }); err != nil {
				t.Fatal(err)
			}
			if _, err := kept.User(t.Context(), "late"); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("User on a finished View's Tx = %v, want ErrInvalid", err)
			}
		})
	}
}

// TestLargeCommit writes more changes in one Update than one INSERT of the
// change log holds.
func TestLargeCommit(t *testing.T) {
	const n = 1234
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s := b.Store(t)
			seed(t, s, n)
			c := update(t, s, func(ctx context.Context, tx store.Tx) error {
				for i := 1; i < n; i++ {
					if err := tx.CreateMember(ctx, store.Member{AccountID: "team1", UserID: fmt.Sprintf("u%d", i), Role: "dev"}); err != nil {
						return err
					}
				}
				return nil
			})
			if len(c.Changes) != n-1 {
				t.Fatalf("commit has %d changes, want %d", len(c.Changes), n-1)
			}
			got, err := s.Changes(t.Context(), c.Revision-1, 10)
			if err != nil {
				t.Fatalf("Changes: %v", err)
			}
			if len(got) != n-1 {
				t.Fatalf("Changes returned %d changes, want the whole commit of %d", len(got), n-1)
			}
			if diff := cmp.Diff(c.Changes, got); diff != "" {
				t.Fatalf("Changes differ from the commit (-commit +Changes):\n%s", diff)
			}
			var items int
			if _, err := s.Snapshot(t.Context(), func(store.SnapshotItem) error { items++; return nil }); err != nil {
				t.Fatalf("Snapshot: %v", err)
			}
			if items != n+1 {
				t.Errorf("Snapshot delivered %d items, want %d", items, n+1)
			}
		})
	}
}

// TestConcurrentWritersNeverBusy runs many read-then-write Updates and Views
// at once: on SQLite none may fail with SQLITE_BUSY (ErrConflict).
func TestConcurrentWritersNeverBusy(t *testing.T) {
	const goroutines, rounds = 50, 4
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s := b.Store(t)
			seed(t, s, goroutines*rounds+1)
			ctx := t.Context()
			var wg sync.WaitGroup
			errs := make(chan error, 2*goroutines*rounds)
			for g := range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for r := range rounds {
						user := fmt.Sprintf("u%d", 1+g*rounds+r)
						_, err := s.Update(ctx, func(tx store.Tx) error {
							if _, err := tx.LockAccount(ctx, "team1"); err != nil {
								return err
							}
							if _, err := tx.Members(ctx, "team1", store.Range{}); err != nil {
								return err
							}
							if err := tx.CreateMember(ctx, store.Member{AccountID: "team1", UserID: user, Role: "dev"}); err != nil {
								return err
							}
							_, err := tx.AppendEvent(ctx, store.Event{AccountID: "team1", Action: "member.joined", ResourceID: user})
							return err
						})
						if err != nil {
							errs <- fmt.Errorf("writer %d round %d: %w", g, r, err)
						}
						err = s.View(ctx, func(tx store.Tx) error {
							_, err := tx.Members(ctx, "team1", store.Range{})
							return err
						})
						if err != nil {
							errs <- fmt.Errorf("reader %d round %d: %w", g, r, err)
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			var members int
			err := s.View(ctx, func(tx store.Tx) error {
				ms, err := tx.Members(ctx, "team1", store.Range{})
				members = len(ms)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if want := goroutines*rounds + 1; members != want {
				t.Errorf("got %d members, want %d", members, want)
			}
		})
	}
}

// TestPostgresConnectionsAreBounded runs many more concurrent transactions
// than OpenPostgres may open connections: they wait their turn instead of
// each opening a connection until the server refuses them all.
func TestPostgresConnectionsAreBounded(t *testing.T) {
	b := testdb.Backends()[1]
	b.Skip(t)
	s := b.Store(t)
	ctx := t.Context()
	const callers = 4 * sqlstore.PostgresMaxConns
	var inside, most atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.View(ctx, func(tx store.Tx) error {
				n := inside.Add(1)
				defer inside.Add(-1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				// Stay until every caller is inside, or a while.
				for end := time.Now().Add(150 * time.Millisecond); inside.Load() < callers && time.Now().Before(end); {
					time.Sleep(5 * time.Millisecond)
				}
				_, err := tx.Members(ctx, "team1", store.Range{})
				return err
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := most.Load(); got > sqlstore.PostgresMaxConns {
		t.Errorf("%d transactions were open at once, want at most %d", got, sqlstore.PostgresMaxConns)
	}
}

// TestPostgresUpdateInviteLosingTokenRace makes UpdateInvite wait on an
// uncommitted invite with the same token hash: when that one commits, the
// update fails on the unique index, which must report ErrExists and leave the
// transaction usable rather than aborted.
func TestPostgresUpdateInviteLosingTokenRace(t *testing.T) {
	s := newPostgresStore(t)
	seed(t, s, 1)
	ctx := t.Context()
	invite := func(id, hash string) store.Invite {
		return store.Invite{ID: id, AccountID: "team1", Kind: store.InviteLink, Role: "dev",
			TokenHash: []byte(hash), Status: store.InvitePending, MaxUses: 1}
	}
	update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateInvite(ctx, invite("inv1", "old")) })

	inserted, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		_, err := s.Update(ctx, func(tx store.Tx) error {
			if err := tx.CreateInvite(ctx, invite("inv2", "contested")); err != nil {
				close(inserted)
				return err
			}
			close(inserted)
			<-release
			return nil
		})
		first <- err
	}()
	<-inserted

	var updateErr error
	second := make(chan error, 1)
	go func() {
		_, err := s.Update(ctx, func(tx store.Tx) error {
			updateErr = tx.UpdateInvite(ctx, invite("inv1", "contested"))
			return tx.CreateUser(ctx, store.User{ID: "after"})
		})
		second <- err
	}()

	// Wait until the second transaction waits for the first one's lock.
	w, _ := sqlstore.Handles(s)
	for waiting := 0; waiting == 0; {
		err := w.Raw(`SELECT count(*) FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE roster_invites%'`).Scan(&waiting).Error
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
	if !errors.Is(updateErr, store.ErrExists) {
		t.Errorf("UpdateInvite to a hash committed meanwhile = %v, want ErrExists", updateErr)
	}
	err := s.View(ctx, func(tx store.Tx) error {
		if _, err := tx.User(ctx, "after"); err != nil {
			return err
		}
		inv, err := tx.Invite(ctx, "inv1")
		if err != nil {
			return err
		}
		if string(inv.TokenHash) != "old" {
			t.Errorf("inv1 token hash = %q, want it unchanged", inv.TokenHash)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// unnumber turns the database of w, made by this code, into one of the
// code before numbered migrations: it undoes the migrations after the
// first and drops the version table.
func unnumber(t *testing.T, w *gorm.DB) {
	t.Helper()
	for _, stmt := range []string{
		"DROP TABLE roster_domains",
		"DROP INDEX roster_members_until",
		"DROP INDEX roster_members_suspended",
		"ALTER TABLE roster_accounts DROP COLUMN seat_limit",
		"ALTER TABLE roster_members DROP COLUMN until",
		"ALTER TABLE roster_members DROP COLUMN fallback_role",
		"ALTER TABLE roster_members DROP COLUMN suspended_at",
		"ALTER TABLE roster_members DROP COLUMN suspended_by",
		"ALTER TABLE roster_changes DROP COLUMN fallback_role",
		"ALTER TABLE roster_changes DROP COLUMN suspended",
		"DROP TABLE roster_api_keys",
		"ALTER TABLE roster_changes DROP COLUMN key_id",
		"ALTER TABLE roster_changes DROP COLUMN key_hash",
		"ALTER TABLE roster_changes DROP COLUMN expires_at",
		"ALTER TABLE roster_changes DROP COLUMN narrowed",
		"DROP INDEX roster_events_stream",
		"ALTER TABLE roster_events DROP COLUMN commit_seq",
		"ALTER TABLE roster_events DROP COLUMN salt",
		"ALTER TABLE roster_events DROP COLUMN commitment",
		"ALTER TABLE roster_accounts DROP COLUMN require_secure",
		"ALTER TABLE roster_changes DROP COLUMN require_secure",
		"ALTER TABLE roster_changes DROP COLUMN sign_in",
		"DROP INDEX roster_members_joined",
		"DROP INDEX roster_members_user_joined",
		"DROP INDEX roster_invites_page",
		"DROP INDEX roster_transfers_page",
		"DROP TABLE roster_schema_migrations",
	} {
		if err := w.Exec(stmt).Error; err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
}

// TestOpeningAddsMissingInviteColumns opens a database from before numbered
// migrations whose roster_invites table predates the resend columns:
// opening adds them, keeps the rows, and the new fields then round-trip.
func TestOpeningAddsMissingInviteColumns(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Skip(t)
			dsn := b.DSN(t)
			s, err := b.Open(dsn)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			seed(t, s, 1)
			inv := store.Invite{ID: "inv1", AccountID: "team1", Kind: store.InviteLink, Role: "dev",
				TokenHash: []byte("hash"), Status: store.InvitePending, MaxUses: 1, CreatedBy: "u0"}
			update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateInvite(ctx, inv) })
			w, _ := sqlstore.Handles(s)
			for _, col := range []string{"superseded_by", "resent_by", "resent_at"} {
				if err := w.Exec("ALTER TABLE roster_invites DROP COLUMN " + col).Error; err != nil {
					t.Fatalf("dropping %s: %v", col, err)
				}
			}
			unnumber(t, w)
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}

			s, err = b.Open(dsn)
			if err != nil {
				t.Fatalf("reopening a database without the new columns: %v", err)
			}
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			resent := inv
			resent.ResentBy, resent.ResentAt = "u0", time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
			update(t, s, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.Invite(ctx, "inv1")
				if err != nil {
					return err
				}
				if got.ID != inv.ID || got.Role != inv.Role || got.SupersededBy != "" || got.ResentBy != "" || !got.ResentAt.IsZero() {
					t.Errorf("invite after upgrade = %+v, want the old row with empty new fields", got)
				}
				return tx.UpdateInvite(ctx, resent)
			})
			update(t, s, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.Invite(ctx, "inv1")
				if err != nil {
					return err
				}
				if got.ResentBy != "u0" || !got.ResentAt.Equal(resent.ResentAt) {
					t.Errorf("resend fields after upgrade = %q, %v; want u0, %v", got.ResentBy, got.ResentAt, resent.ResentAt)
				}
				return nil
			})
		})
	}
}

// TestOpeningAddsTransferKind opens a database from before numbered
// migrations whose roster_transfers table predates transfer kinds: opening
// adds the column, and the transfers stored before read back as role
// grants, which is what they were.
func TestOpeningAddsTransferKind(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Skip(t)
			dsn := b.DSN(t)
			s, err := b.Open(dsn)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			seed(t, s, 1)
			tr := store.Transfer{ID: "tr1", AccountID: "team1", Kind: store.TransferAccount, From: "u0", To: "u1",
				Status: store.TransferAwaitingConfirm}
			update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateTransfer(ctx, tr) })
			w, _ := sqlstore.Handles(s)
			if err := w.Exec("ALTER TABLE roster_transfers DROP COLUMN kind").Error; err != nil {
				t.Fatalf("dropping kind: %v", err)
			}
			unnumber(t, w)
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}

			s, err = b.Open(dsn)
			if err != nil {
				t.Fatalf("reopening a database without transfer kinds: %v", err)
			}
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			want := tr
			want.Kind = store.TransferRole
			update(t, s, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.Transfer(ctx, "tr1")
				if err != nil {
					return err
				}
				if got.ID != want.ID || got.Kind != want.Kind || got.From != want.From || got.Status != want.Status {
					t.Errorf("transfer after upgrade = %+v, want %+v", got, want)
				}
				got.Kind = store.TransferAccount
				return tx.UpdateTransfer(ctx, got)
			})
			update(t, s, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.Transfer(ctx, "tr1")
				if err == nil && got.Kind != store.TransferAccount {
					t.Errorf("kind after update = %q, want %q", got.Kind, store.TransferAccount)
				}
				return err
			})
		})
	}
}

func TestSQLiteReusesPreparedStatements(t *testing.T) {
	s := newSQLiteStore(t)
	seed(t, s, 3)
	for i := range 3 {
		update(t, s, func(ctx context.Context, tx store.Tx) error {
			return tx.UpdateMember(ctx, store.Member{AccountID: "team1", UserID: "u0", Role: fmt.Sprintf("r%d", i)})
		})
	}
	if w, _ := sqlstore.PreparedStatements(s); w < 3 {
		t.Errorf("the write pool keeps %d prepared statements after repeated writes, want the ones they ran", w)
	}

	t.Run("past the cache's size statements still run, unprepared", func(t *testing.T) {
		for limit := 1; limit <= sqlstore.MaxStmts+50; limit++ {
			var events []store.Event
			err := s.View(t.Context(), func(tx store.Tx) (err error) {
				events, err = tx.Events(t.Context(), store.EventFilter{Limit: limit}) // a new SQL text each time
				return err
			})
			if err != nil {
				t.Fatalf("Events with limit %d: %v", limit, err)
			}
			if len(events) != 0 {
				t.Fatalf("Events with limit %d = %d events, want none", limit, len(events))
			}
		}
		if _, r := sqlstore.PreparedStatements(s); r > sqlstore.MaxStmts || r < sqlstore.MaxStmts/2 {
			t.Errorf("the read pool keeps %d prepared statements, want up to %d", r, sqlstore.MaxStmts)
		}
	})
}

func TestSQLiteCheckpointsInTheBackground(t *testing.T) {
	defer sqlstore.SetWALLimit(1)() // every checkpoint also truncates the WAL
	path := filepath.Join(t.TempDir(), "roster.db")
	s, err := sqlstore.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	logs := &rostertest.Logs{}
	s.SetLogger(logs.Logger())
	defer func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()
	seed(t, s, 2)
	update(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateMember(ctx, store.Member{AccountID: "team1", UserID: "u1", Role: "dev"})
	})
	for i := 2; i < sqlstore.CheckpointEvery; i++ { // the commits that wake the checkpointer
		role := []string{"dev", "basic"}[i%2]
		update(t, s, func(ctx context.Context, tx store.Tx) error {
			return tx.UpdateMember(ctx, store.Member{AccountID: "team1", UserID: "u1", Role: role})
		})
	}
	for deadline := time.Now().Add(30 * time.Second); sqlstore.Checkpoints(s) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint after %d commits", sqlstore.CheckpointEvery)
		}
	}
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != 0 {
		t.Errorf("WAL holds %d bytes after a checkpoint above the limit, want 0 (truncated)", fi.Size())
	}
	m := member(t, s, "team1", "u1")
	if want := []string{"dev", "basic"}[(sqlstore.CheckpointEvery-1)%2]; m.Role != want {
		t.Errorf("after the checkpoint u1 is %q, want %q", m.Role, want)
	}
	if got := logs.With("level=DEBUG", "sqlstore: checkpoint", "wal_frames="); len(got) == 0 {
		t.Errorf("the checkpoint was not logged: %q", logs.Lines())
	}
	if got := logs.With("level=INFO", "truncated the WAL"); len(got) == 0 {
		t.Errorf("the truncation was not logged: %q", logs.Lines())
	}
}

func member(t *testing.T, s store.Store, account, user string) store.Member {
	t.Helper()
	var m store.Member
	err := s.View(t.Context(), func(tx store.Tx) error {
		var err error
		m, err = tx.Member(t.Context(), account, user)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

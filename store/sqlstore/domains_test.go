package sqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/store/sqlstore"
)

// TestPostgresUpdateDomainRacingConfirmation makes UpdateDomain verify
// team2's claim of a domain while team1's verification of it is written
// but not committed, so that both pass the statement's check and the
// second waits for the first on the unique index of verified claims. When
// the first commits, the second must get ErrExists, having changed
// nothing, in a transaction that goes on and commits; when the first rolls
// back, the second must succeed.
func TestPostgresUpdateDomainRacingConfirmation(t *testing.T) {
	for _, tc := range []struct {
		name         string
		firstCommits bool
	}{
		{"the first commits: the second gets ErrExists and goes on", true},
		{"the first rolls back: the second verifies", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newPostgresStore(t)
			seed(t, s, 1)
			ctx := t.Context()
			claim := func(account string) store.Domain {
				return store.Domain{Name: "example.com", AccountID: account, Mode: store.DomainSuggest, Role: "dev",
					Challenge: "challenge of " + account, CreatedBy: "u0", CreatedAt: time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)}
			}
			verified := func(d store.Domain) store.Domain {
				d.Mode, d.VerifiedAt = store.DomainAutoJoin, time.Date(2025, 3, 15, 9, 0, 0, 0, time.UTC)
				return d
			}
			update(t, s, func(ctx context.Context, tx store.Tx) error {
				if err := tx.CreateAccount(ctx, store.Account{ID: "team2", Kind: store.Team, Name: "Two", Owner: "u0"}); err != nil {
					return err
				}
				for _, account := range []string{"team1", "team2"} {
					if err := tx.CreateDomain(ctx, claim(account)); err != nil {
						return err
					}
				}
				return nil
			})

			errRolledBack := errors.New("rolled back")
			written, release := make(chan struct{}), make(chan struct{})
			first := make(chan error, 1)
			go func() {
				_, err := s.Update(ctx, func(tx store.Tx) error {
					err := tx.UpdateDomain(ctx, verified(claim("team1")))
					close(written)
					if err != nil {
						return err
					}
					<-release
					if !tc.firstCommits {
						return errRolledBack
					}
					return nil
				})
				first <- err
			}()
			<-written

			var updateErr error
			second := make(chan error, 1)
			go func() {
				_, err := s.Update(ctx, func(tx store.Tx) error {
					updateErr = tx.UpdateDomain(ctx, verified(claim("team2")))
					return tx.CreateUser(ctx, store.User{ID: "after"})
				})
				second <- err
			}()

			// Wait until the second transaction, writing roster_domains of
			// this test's schema, waits for the first one's lock.
			w, _ := sqlstore.Handles(s)
			for waiting := 0; waiting == 0; {
				err := w.Raw(`SELECT count(*) FROM pg_stat_activity a WHERE a.wait_event_type = 'Lock'
					AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.granted AND l.relation = 'roster_domains'::regclass)`).
					Scan(&waiting).Error
				if err != nil {
					t.Fatalf("polling pg_stat_activity: %v", err)
				}
				select {
				case err := <-second:
					t.Fatalf("the second transaction ended before waiting for the lock: %v (UpdateDomain: %v)", err, updateErr)
				case <-time.After(time.Millisecond):
				}
			}
			close(release)
			if err := <-first; tc.firstCommits && err != nil || !tc.firstCommits && !errors.Is(err, errRolledBack) {
				t.Fatalf("first transaction: %v", err)
			}
			if err := <-second; err != nil {
				t.Fatalf("second transaction: %v (the transaction must go on after UpdateDomain's %v)", err, updateErr)
			}

			winner, loser := verified(claim("team1")), claim("team2")
			if !tc.firstCommits {
				winner, loser = verified(claim("team2")), claim("team1")
				if updateErr != nil {
					t.Errorf("UpdateDomain once the first verification rolled back = %v, want success", updateErr)
				}
			} else if !errors.Is(updateErr, store.ErrExists) {
				t.Errorf("UpdateDomain verifying a domain verified meanwhile = %v, want ErrExists", updateErr)
			}
			err := s.View(ctx, func(tx store.Tx) error {
				if _, err := tx.User(ctx, "after"); err != nil {
					return err
				}
				got, err := tx.VerifiedDomain(ctx, "example.com")
				if err != nil {
					return err
				}
				if d := cmp.Diff(winner, got); d != "" {
					t.Errorf("VerifiedDomain mismatch (-want +got):\n%s", d)
				}
				got, err = tx.Domain(ctx, "example.com", loser.AccountID)
				if d := cmp.Diff(loser, got); err == nil && d != "" {
					t.Errorf("the claim that was not verified changed (-want +got):\n%s", d)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

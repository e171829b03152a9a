package sqlstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/store"
)

// TestAPIKeyActionsAreIDs checks the rule the Store adds to
// APIKey.Validate: a key's actions are well-formed IDs, so that none holds
// the space that separates the stored actions, or a NUL byte, which
// PostgreSQL's text refuses. Such a key is refused with ErrInvalid, on
// create and on update, and nothing is written.
func TestAPIKeyActionsAreIDs(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Skip(t)
			s := b.Store(t)
			seed(t, s, 1)
			key := store.APIKey{ID: "key_1", AccountID: "team1", UserID: "u0", Name: "CI", Role: "dev",
				Actions: []string{"pods.view"}, Hash: make([]byte, 32)}
			update(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateAPIKey(ctx, key) })
			for name, action := range map[string]string{"a space": "pods view", "a NUL byte": "pods\x00view", "a tab": "pods\tview"} {
				bad := key
				bad.Actions = []string{"pods.create", action}
				c := update(t, s, func(ctx context.Context, tx store.Tx) error {
					if err := tx.UpdateAPIKey(ctx, bad); !errors.Is(err, store.ErrInvalid) {
						t.Errorf("UpdateAPIKey with an action holding %s = %v, want ErrInvalid", name, err)
					}
					bad.ID = "key_2"
					if err := tx.CreateAPIKey(ctx, bad); !errors.Is(err, store.ErrInvalid) {
						t.Errorf("CreateAPIKey with an action holding %s = %v, want ErrInvalid", name, err)
					}
					return nil
				})
				if len(c.Changes) != 0 {
					t.Errorf("refused writes recorded changes %+v", c.Changes)
				}
			}
			err := s.View(t.Context(), func(tx store.Tx) error {
				got, err := tx.APIKey(t.Context(), "key_1")
				if err == nil && (len(got.Actions) != 1 || got.Actions[0] != "pods.view") {
					t.Errorf("key_1 has actions %q after refused updates, want [pods.view]", got.Actions)
				}
				if _, err := tx.APIKey(t.Context(), "key_2"); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("APIKey(key_2) after refused creates = %v, want ErrNotFound", err)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

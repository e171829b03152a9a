package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/teamroster/roster/store"
)

// API keys live in roster_api_keys, their actions in one nullable column
// (see keyActions). A key's user_id has no reference to roster_users ('' is
// a service account's), so the reference a membership's foreign key would
// enforce is kept by locks instead: on PostgreSQL CreateAPIKey takes the
// key-share lock on the user's row that a foreign key check takes, and
// DeleteUser locks the row for update before it looks for the user's keys,
// so that the one waits for the other and no live key outlives its user.
// On SQLite writers run one at a time.

// userKeyShared is, per dialect, the query with which CreateAPIKey finds
// the key's user and holds them until the transaction ends.
var userKeyShared = map[Dialect]string{
	SQLite:   userExists,
	Postgres: userExists + " FOR KEY SHARE",
}

// userLocked is, per dialect, the query with which DeleteUser finds the
// user and locks them until the transaction ends.
var userLocked = map[Dialect]string{
	SQLite:   userExists,
	Postgres: userExists + " FOR UPDATE",
}

const (
	apiKeyExists = "SELECT 1 FROM roster_api_keys WHERE id = ?"
	// userKeyLive finds a key of a user that is not revoked, and
	// deleteUserKeys deletes a user's revoked keys: DeleteUser's statements.
	userKeyLive    = "SELECT 1 FROM roster_api_keys WHERE user_id = ? AND revoked_at IS NULL"
	deleteUserKeys = "DELETE FROM roster_api_keys WHERE user_id = ? AND revoked_at IS NOT NULL"
)

// dest returns the fields of r in the order of apiKeyColumns, for Scan.
func (r *apiKeyRow) dest() []any {
	return []any{&r.ID, &r.AccountID, &r.UserID, &r.Name, &r.Role, &r.Actions, &r.Hash, &r.CreatedBy, &r.Created, &r.Expires,
		&r.Revoked, &r.RevokedBy, &r.LastUsed, &r.LastUsedIP}
}

// validKey returns an error wrapping store.ErrInvalid if k fails
// APIKey.Validate or one of its actions is not a well-formed ID (see
// store.ValidateID, which action names pass): a space, which separates the
// stored actions, or a NUL byte, which PostgreSQL's text refuses, has no
// place in one.
func validKey(k store.APIKey) error {
	if err := k.Validate(); err != nil {
		return err
	}
	for _, a := range k.Actions {
		if err := store.ValidateID("API key action", a); err != nil {
			return err
		}
	}
	return nil
}

// keySet returns the APIKeySet change of the key k, stored with hash.
func keySet(k store.APIKey, hash []byte) store.Change {
	return store.Change{Op: store.APIKeySet, AccountID: k.AccountID, UserID: k.UserID, Role: k.Role,
		Actions: slices.Clone(k.Actions), Key: k.ID, KeyHash: slices.Clone(hash), ExpiresAt: normTime(k.ExpiresAt)}
}

// CreateAPIKey implements store.Tx. Beyond APIKey.Validate, it refuses with
// store.ErrInvalid an action that is not a well-formed ID (see validKey).
func (t *tx) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	db, err := t.use(ctx, true)
	if err == nil {
		err = validKey(k)
	}
	if err == nil && !k.RevokedAt.IsZero() {
		err = fmt.Errorf("%w: the key is already revoked", store.ErrInvalid)
	}
	if err != nil {
		return fmt.Errorf("create API key %s: %w", k.ID, err)
	}
	q := `INSERT INTO roster_api_keys (id, account_id, user_id, name, role, actions, hash, created_by,
			created_at, expires_at, revoked_at, revoked_by, last_used_at, last_used_ip)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
		WHERE EXISTS (` + accountExists + `)`
	args := []any{k.ID, k.AccountID, k.UserID, k.Name, k.Role, keyActions(k.Actions), blob(k.Hash), k.CreatedBy,
		toDB(k.CreatedAt), toDB(k.ExpiresAt), toDB(k.RevokedAt), k.RevokedBy, toDB(k.LastUsedAt), k.LastUsedIP,
		k.AccountID}
	if k.UserID != "" {
		q += ` AND EXISTS (` + userKeyShared[t.s.dialect] + `)`
		args = append(args, k.UserID)
	}
	n, err := t.s.execCount(ctx, db, q+` ON CONFLICT DO NOTHING`, args...)
	if err != nil {
		return t.s.fail(ctx, err, "create API key %s", k.ID)
	}
	if n == 0 {
		checks := []check{
			{apiKeyExists, []any{k.ID}, true, store.ErrExists, "API key ID taken"},
			{accountExists, []any{k.AccountID}, false, store.ErrNotFound, "no such account"},
		}
		if k.UserID != "" {
			checks = append(checks, check{userExists, []any{k.UserID}, false, store.ErrNotFound, "no such user"})
		}
		return t.wrap(ctx, t.why(db, checks...), "create API key %s", k.ID)
	}
	t.changes = append(t.changes, keySet(k, k.Hash))
	return nil
}

// APIKey implements store.Tx.
func (t *tx) APIKey(ctx context.Context, id string) (store.APIKey, error) {
	db, err := t.use(ctx, false)
	if err != nil {
		return store.APIKey{}, fmt.Errorf("API key %s: %w", id, err)
	}
	var r apiKeyRow
	err = t.s.queryRow(ctx, db, "SELECT "+apiKeyColumns+" FROM roster_api_keys WHERE id = ?", id).Scan(r.dest()...)
	if err != nil {
		return store.APIKey{}, t.s.fail(ctx, err, "API key %s", id)
	}
	return r.apiKey(), nil
}

// UpdateAPIKey implements store.Tx with one UPDATE of the key while it is
// not revoked: of two transactions revoking one key, the second finds it
// revoked. Beyond APIKey.Validate, it refuses with store.ErrInvalid an
// action that is not a well-formed ID (see validKey).
func (t *tx) UpdateAPIKey(ctx context.Context, k store.APIKey) error {
	db, err := t.use(ctx, true)
	if err == nil {
		err = validKey(k)
	}
	if err != nil {
		return fmt.Errorf("update API key %s: %w", k.ID, err)
	}
	var account, user string
	var hash []byte
	err = t.s.queryRow(ctx, db, `UPDATE roster_api_keys SET name = ?, role = ?, actions = ?, expires_at = ?, revoked_at = ?, revoked_by = ?
		WHERE id = ? AND revoked_at IS NULL
		RETURNING account_id, user_id, hash`,
		k.Name, k.Role, keyActions(k.Actions), toDB(k.ExpiresAt), toDB(k.RevokedAt), k.RevokedBy, k.ID).
		Scan(&account, &user, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		err := t.why(db,
			check{apiKeyExists, []any{k.ID}, false, store.ErrNotFound, "no such API key"},
			check{apiKeyExists + " AND revoked_at IS NOT NULL", []any{k.ID}, true, store.ErrInvalid, "the key is revoked, and a revoked key stays revoked"},
		)
		return t.wrap(ctx, err, "update API key %s", k.ID)
	}
	if err != nil {
		return t.s.fail(ctx, err, "update API key %s", k.ID)
	}
	if !k.RevokedAt.IsZero() {
		t.changes = append(t.changes, store.Change{Op: store.APIKeyRevoked, AccountID: account, UserID: user, Key: k.ID})
		return nil
	}
	k.AccountID, k.UserID = account, user // kept, whatever k says
	t.changes = append(t.changes, keySet(k, hash))
	return nil
}

// touchRow is, per dialect, one row of the VALUES list of TouchAPIKeys: a
// key's ID, the time of its use and the IP. PostgreSQL is told the time's
// type, which it cannot infer in a VALUES list; SQLite keeps times as text
// whose order is time order (see the migrations' {time}), so a time is
// compared as the text the driver binds.
var touchRow = map[Dialect]string{
	SQLite:   "(?, ?, ?)",
	Postgres: "(?, CAST(? AS TIMESTAMPTZ), ?)",
}

// touchQuery returns, for dialect d, the statement that records the uses
// of n keys, each given as three arguments: its ID, the time and the IP of
// its use (see touchRow).
func touchQuery(d Dialect, n int) string {
	var q strings.Builder
	q.WriteString("UPDATE roster_api_keys AS k SET last_used_at = u.column2, last_used_ip = u.column3 FROM (VALUES ")
	for i := range n {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(touchRow[d])
	}
	q.WriteString(`) AS u
		WHERE k.id = u.column1 AND k.revoked_at IS NULL AND (k.last_used_at IS NULL OR k.last_used_at < u.column2)`)
	return q.String()
}

// TouchAPIKeys implements store.Tx. It keeps the latest use of each key
// (the first of equal times), skips uses with the zero time, which is never
// later than a stored one, and writes the others with one UPDATE ... FROM
// (VALUES ...) per batch of keys (see batches): a row whose key is unknown
// or revoked, or whose time is not later than the stored one, matches
// nothing. On PostgreSQL the UPDATE evaluates its condition again on a
// row a concurrent transaction changed, so LastUsedAt never moves back.
func (t *tx) TouchAPIKeys(ctx context.Context, uses []store.APIKeyUse) error {
	db, err := t.use(ctx, true)
	if err == nil && len(uses) > store.MaxPageSize {
		err = fmt.Errorf("%w: %d uses, more than %d", store.ErrInvalid, len(uses), store.MaxPageSize)
	}
	if err != nil {
		return fmt.Errorf("touch API keys: %w", err)
	}
	latest := make(map[string]store.APIKeyUse, len(uses))
	for _, u := range uses {
		u.At = normTime(u.At)
		if prev, seen := latest[u.ID]; u.At.IsZero() || seen && !u.At.After(prev.At) {
			continue
		}
		latest[u.ID] = u
	}
	err = batches(slices.Collect(maps.Keys(latest)), func(ids []any) error {
		args := make([]any, 0, 3*len(ids))
		for _, id := range ids {
			u := latest[id.(string)]
			args = append(args, u.ID, u.At, u.IP)
		}
		_, err := t.s.exec(ctx, db, touchQuery(t.s.dialect, len(ids)), args...)
		return err
	})
	if err != nil {
		return t.s.fail(ctx, err, "touch API keys")
	}
	return nil
}

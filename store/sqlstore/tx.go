package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/teamroster/roster/store"
)

// tx is the store.Tx of one Update or View. Writes that could violate a key
// or a reference check it inside the statement (INSERT ... SELECT ... WHERE
// EXISTS ... ON CONFLICT DO NOTHING) and, when nothing was written, find out
// why with a second query; so they report ErrExists or ErrNotFound without a
// constraint error, which on PostgreSQL would abort the whole transaction.
// UpdateInvite and UpdateDomain, whose checks a concurrent write can
// overtake, also use a savepoint there (see savepoint).
type tx struct {
	s       *Store
	db      *gorm.DB
	write   bool // false in View
	done    bool // set when fn has returned
	changes []store.Change
	// appended says the transaction appended events, so that its
	// commit is announced even if it records no change.
	appended bool
}

var _ store.Tx = (*tx)(nil)

var (
	errReadOnly = fmt.Errorf("%w: write in a read-only transaction", store.ErrInvalid)
	errTxDone   = fmt.Errorf("%w: transaction used after its function returned", store.ErrInvalid)
)

// use returns the handle for one statement of the transaction, or an error
// wrapping ErrInvalid if the transaction has ended or is read-only and the
// statement would write.
func (t *tx) use(ctx context.Context, write bool) (*gorm.DB, error) {
	switch {
	case t.done:
		return nil, errTxDone
	case write && !t.write:
		return nil, errReadOnly
	}
	return t.db.WithContext(ctx), nil
}

// required returns an error wrapping ErrInvalid if value is empty.
func required(what, value string) error {
	if value == "" {
		return fmt.Errorf("%w: %s is empty", store.ErrInvalid, what)
	}
	return nil
}

// exists reports whether query, a SELECT, returns a row.
func exists(db *gorm.DB, query string, args ...any) (bool, error) {
	var one int
	res := db.Raw(query, args...).Scan(&one)
	return res.RowsAffected > 0, res.Error
}

const (
	accountExists = "SELECT 1 FROM roster_accounts WHERE id = ?"
	userExists    = "SELECT 1 FROM roster_users WHERE id = ?"
)

// CreateUser implements store.Tx.
func (t *tx) CreateUser(ctx context.Context, u store.User) error {
	db, err := t.use(ctx, true)
	if err == nil {
		err = required("user ID", u.ID)
	}
	if err != nil {
		return fmt.Errorf("create user %s: %w", u.ID, err)
	}
	res := db.Exec(`INSERT INTO roster_users (id, email, name, sign_in, active_account, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		u.ID, u.Email, u.Name, string(u.SignIn), u.ActiveAccount, toDB(u.CreatedAt))
	if res.Error != nil {
		return t.s.fail(ctx, res.Error, "create user %s", u.ID)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("create user %s: %w", u.ID, store.ErrExists)
	}
	return nil
}

// User implements store.Tx.
func (t *tx) User(ctx context.Context, id string) (store.User, error) {
	db, err := t.use(ctx, false)
	if err != nil {
		return store.User{}, fmt.Errorf("user %s: %w", id, err)
	}
	var row userRow
	err = t.s.queryRow(ctx, db, "SELECT id, email, name, sign_in, active_account, created_at FROM roster_users WHERE id = ?", id).
		Scan(&row.ID, &row.Email, &row.Name, &row.SignIn, &row.ActiveAccount, &row.Created)
	if err != nil {
		return store.User{}, t.s.fail(ctx, err, "user %s", id)
	}
	return row.user(), nil
}

// UpdateUser implements store.Tx.
func (t *tx) UpdateUser(ctx context.Context, u store.User) error {
	db, err := t.use(ctx, true)
	if err == nil {
		err = required("user ID", u.ID)
	}
	if err != nil {
		return fmt.Errorf("update user %s: %w", u.ID, err)
	}
	var before string
	err = t.s.queryRow(ctx, db, "SELECT sign_in FROM roster_users WHERE id = ?", u.ID).Scan(&before)
	if err != nil {
		return t.s.fail(ctx, err, "update user %s", u.ID)
	}
	res := db.Exec(`UPDATE roster_users SET email = ?, name = ?, sign_in = ? WHERE id = ?`,
		u.Email, u.Name, string(u.SignIn), u.ID)
	if res.Error != nil {
		return t.s.fail(ctx, res.Error, "update user %s", u.ID)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("update user %s: %w", u.ID, store.ErrNotFound)
	}
	if before != string(u.SignIn) {
		t.changes = append(t.changes, store.Change{Op: store.UserUpdated, UserID: u.ID, SignIn: u.SignIn})
	}
	return nil
}

// DeleteUser implements store.Tx. It first locks the user (see
// userLocked): on PostgreSQL a transaction adding a membership or an API
// key for them, which holds a key-share lock on their row, is waited for,
// and its membership or key is then seen. The checks and the deletions are
// one statement each, so no constraint error is ever raised (one would
// abort a PostgreSQL transaction).
func (t *tx) DeleteUser(ctx context.Context, id string) error {
	db, err := t.use(ctx, true)
	if err == nil {
		err = required("user ID", id)
	}
	if err != nil {
		return fmt.Errorf("delete user %s: %w", id, err)
	}
	found, err := exists(db, userLocked[t.s.dialect], id)
	var member, keyOwner bool
	if err == nil && found {
		member, err = exists(db, "SELECT 1 FROM roster_members WHERE user_id = ?", id)
	}
	if err == nil && found && !member {
		keyOwner, err = exists(db, userKeyLive, id)
	}
	switch {
	case err != nil:
		return t.s.fail(ctx, err, "delete user %s", id)
	case !found:
		return fmt.Errorf("delete user %s: %w", id, store.ErrNotFound)
	case member:
		return fmt.Errorf("delete user %s: %w: still a member of an account", id, store.ErrPrecondition)
	case keyOwner:
		return fmt.Errorf("delete user %s: %w: still owns an API key that is not revoked", id, store.ErrPrecondition)
	}
	if _, err := t.s.exec(ctx, db, "DELETE FROM roster_invite_uses WHERE user_id = ?", id); err != nil {
		return t.s.fail(ctx, err, "delete user %s: invite uses", id)
	}
	if _, err := t.s.exec(ctx, db, deleteUserKeys, id); err != nil {
		return t.s.fail(ctx, err, "delete user %s: revoked API keys", id)
	}
	res, err := t.s.exec(ctx, db, "DELETE FROM roster_users WHERE id = ?", id)
	if err != nil {
		return t.s.fail(ctx, err, "delete user %s", id)
	}
	if n, err := res.RowsAffected(); err != nil {
		return t.s.fail(ctx, err, "delete user %s", id)
	} else if n == 0 {
		return fmt.Errorf("delete user %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// SetActiveAccount implements store.Tx with one conditional UPDATE. On
// PostgreSQL at READ COMMITTED, an UPDATE that finds the row locked by a
// concurrent writer waits for it to end and then evaluates its WHERE again on
// the row as that writer left it, so the comparison is always against the
// latest committed value; on SQLite writers run one at a time.
func (t *tx) SetActiveAccount(ctx context.Context, userID, from, to string) (bool, error) {
	db, err := t.use(ctx, true)
	if err != nil {
		return false, fmt.Errorf("set active account of %s: %w", userID, err)
	}
	res, err := t.s.exec(ctx, db, `UPDATE roster_users SET active_account = ? WHERE id = ? AND active_account = ?`, to, userID, from)
	if err != nil {
		return false, t.s.fail(ctx, err, "set active account of %s", userID)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, t.s.fail(ctx, err, "set active account of %s", userID)
	}
	if n > 0 {
		return true, nil
	}
	ok, err := exists(db, userExists, userID)
	if err != nil {
		return false, t.s.fail(ctx, err, "set active account of %s", userID)
	}
	if !ok {
		return false, fmt.Errorf("set active account of %s: %w: no such user", userID, store.ErrNotFound)
	}
	return false, nil
}

// lookupBatch is how many keys one statement of UsersByEmail, UsersByID or
// AccountsByID looks up.
const lookupBatch = 500

// UsersByEmail implements store.Tx. It looks the lower-cased addresses up in
// the expression index roster_users_email, in batches (see batches). Each
// address is looked up once, so each user is found by one statement.
func (t *tx) UsersByEmail(ctx context.Context, emails []string) ([]store.User, error) {
	db, err := t.use(ctx, false)
	if err == nil && len(emails) > store.MaxEmailsPerQuery {
		err = fmt.Errorf("%w: %d emails, more than %d", store.ErrInvalid, len(emails), store.MaxEmailsPerQuery)
	}
	if err != nil {
		return nil, fmt.Errorf("users by email: %w", err)
	}
	keys := make([]string, len(emails))
	for i, e := range emails {
		keys[i] = lowerASCII(e)
	}
	var users []store.User
	err = batches(keys, func(args []any) error {
		found, err := t.usersWhere(ctx, db, usersByEmailQuery(len(args)), args...)
		users = append(users, found...)
		return err
	})
	if err != nil {
		return nil, t.s.fail(ctx, err, "users by email")
	}
	slices.SortFunc(users, func(a, b store.User) int { return strings.Compare(a.ID, b.ID) })
	return users, nil
}

// listLen returns the length of the padded list for n keys: the least
// power of two not below n, at most lookupBatch.
func listLen(n int) int {
	l := 1
	for l < n {
		l *= 2
	}
	return min(l, lookupBatch)
}

// batches calls fn with the distinct keys, sorted, in batches of at most
// lookupBatch, each padded to listLen by repeating its last key, so that
// the statements are few and the prepared statement cache does not fill
// with one per list length.
func batches(keys []string, fn func(args []any) error) error {
	keys = slices.Clone(keys)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	for start := 0; start < len(keys); start += lookupBatch {
		batch := keys[start:min(start+lookupBatch, len(keys))]
		args := make([]any, listLen(len(batch)))
		for i := range args {
			args[i] = batch[min(i, len(batch)-1)]
		}
		if err := fn(args); err != nil {
			return err
		}
	}
	return nil
}

// inList returns " IN (?, ?, ...)" with n placeholders.
func inList(n int) string { return " IN (?" + strings.Repeat(", ?", n-1) + ")" }

// usersByEmailQuery returns the statement that selects the users whose
// lower-cased email is one of n addresses. It does not order them (the
// caller sorts the users of all its statements), so that the database has
// no reason to walk the primary key instead of the email index.
func usersByEmailQuery(n int) string {
	return "SELECT id, email, name, sign_in, active_account, created_at FROM roster_users WHERE lower(email)" + inList(n)
}

// usersWhere reads the users that query, a SELECT of roster_users' columns
// in table order, returns.
func (t *tx) usersWhere(ctx context.Context, db *gorm.DB, query string, args ...any) (users []store.User, err error) {
	rows, err := db.Statement.ConnPool.QueryContext(ctx, t.s.bind(query), args...)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
	}()
	for rows.Next() {
		var r userRow
		if err := rows.Scan(&r.ID, &r.Email, &r.Name, &r.SignIn, &r.ActiveAccount, &r.Created); err != nil {
			return nil, err
		}
		users = append(users, r.user())
	}
	return users, rows.Err()
}

// lowerASCII returns s with the ASCII letters A to Z lower-cased and every
// other byte kept, as lower() does in SQLite and, on the "C" collation of the
// store's text columns, in PostgreSQL.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// CreateAccount implements store.Tx.
func (t *tx) CreateAccount(ctx context.Context, a store.Account) error {
	db, err := t.use(ctx, true)
	if err == nil {
		err = errors.Join(required("account ID", a.ID), validSeatLimit(a))
	}
	if err != nil {
		return fmt.Errorf("create account %s: %w", a.ID, err)
	}
	res := db.Exec(`INSERT INTO roster_accounts (`+accountColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		a.ID, string(a.Kind), a.Name, a.Owner, a.RequireSecureSignIn, int64(a.SeatLimit), toDB(a.CreatedAt), toDB(a.UpdatedAt))
	if res.Error != nil {
		return t.s.fail(ctx, res.Error, "create account %s", a.ID)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("create account %s: %w", a.ID, store.ErrExists)
	}
	t.changes = append(t.changes, store.Change{Op: store.AccountCreated, AccountID: a.ID, RequireSecure: a.RequireSecureSignIn})
	return nil
}

// Account implements store.Tx.
func (t *tx) Account(ctx context.Context, id string) (store.Account, error) {
	return t.account(ctx, id, false)
}

// LockAccount implements store.Tx. On PostgreSQL it takes the row lock FOR NO
// KEY UPDATE: it conflicts with itself and with UpdateAccount, so lockers run
// one after the other, but not with the key-share locks that inserting a
// member, invite or event referencing the account takes, so it cannot
// deadlock against them. On SQLite the transaction already holds the
// database's write lock. In View it does not lock.
func (t *tx) LockAccount(ctx context.Context, id string) (store.Account, error) {
	return t.account(ctx, id, true)
}

func (t *tx) account(ctx context.Context, id string, lock bool) (store.Account, error) {
	op := "account"
	if lock {
		op = "lock account"
	}
	db, err := t.use(ctx, false)
	if err != nil {
		return store.Account{}, fmt.Errorf("%s %s: %w", op, id, err)
	}
	q := "SELECT " + accountColumns + " FROM roster_accounts WHERE id = ?"
	if lock && t.write && t.s.dialect == Postgres {
		q += " FOR NO KEY UPDATE"
	}
	var row accountRow
	if err := t.s.queryRow(ctx, db, q, id).Scan(row.dest()...); err != nil {
		return store.Account{}, t.s.fail(ctx, err, "%s %s", op, id)
	}
	return row.account(), nil
}

// UpdateAccount implements store.Tx.
func (t *tx) UpdateAccount(ctx context.Context, a store.Account) error {
	db, err := t.use(ctx, true)
	if err == nil {
		err = errors.Join(required("account ID", a.ID), validSeatLimit(a))
	}
	if err != nil {
		return fmt.Errorf("update account %s: %w", a.ID, err)
	}
	var before bool
	err = t.s.queryRow(ctx, db, "SELECT require_secure FROM roster_accounts WHERE id = ?", a.ID).Scan(&before)
	if err != nil {
		return t.s.fail(ctx, err, "update account %s", a.ID)
	}
	res := db.Exec(`UPDATE roster_accounts SET kind = ?, name = ?, owner = ?, require_secure = ?, seat_limit = ?, updated_at = ? WHERE id = ?`,
		string(a.Kind), a.Name, a.Owner, a.RequireSecureSignIn, int64(a.SeatLimit), toDB(a.UpdatedAt), a.ID)
	if res.Error != nil {
		return t.s.fail(ctx, res.Error, "update account %s", a.ID)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("update account %s: %w", a.ID, store.ErrNotFound)
	}
	t.changes = append(t.changes, store.Change{Op: store.AccountUpdated, AccountID: a.ID, RequireSecure: a.RequireSecureSignIn})
	if before == a.RequireSecureSignIn {
		return nil
	}
	// Tell readers of changes every member's sign-in method, which
	// deciding for the account now does or no longer depends on, with the
	// rest of what a MemberSet change says.
	rows, err := db.Raw(`SELECT m.user_id, m.role, u.sign_in, m.until, m.fallback_role, m.suspended_at FROM roster_members m
		JOIN roster_users u ON u.id = m.user_id WHERE m.account_id = ? ORDER BY m.user_id`, a.ID).Rows()
	if err != nil {
		return t.s.fail(ctx, err, "update account %s: members", a.ID)
	}
	defer rows.Close()
	for rows.Next() {
		c := store.Change{Op: store.MemberSet, AccountID: a.ID}
		var until, suspended sql.NullTime
		if err := rows.Scan(&c.UserID, &c.Role, &c.SignIn, &until, &c.FallbackRole, &suspended); err != nil {
			return t.s.fail(ctx, err, "update account %s: members", a.ID)
		}
		c.ExpiresAt, c.Suspended = fromDB(until), suspended.Valid
		t.changes = append(t.changes, c)
	}
	if err := rows.Err(); err != nil {
		return t.s.fail(ctx, err, "update account %s: members", a.ID)
	}
	return nil
}

// CreateMember implements store.Tx.
func (t *tx) CreateMember(ctx context.Context, m store.Member) error {
	db, err := t.use(ctx, true)
	if err == nil {
		err = errors.Join(required("account ID", m.AccountID), required("user ID", m.UserID), validTerms(m))
	}
	if err != nil {
		return fmt.Errorf("create member %s/%s: %w", m.AccountID, m.UserID, err)
	}
	c := memberChange(m)
	err = t.s.queryRow(ctx, db, `INSERT INTO roster_members (`+memberColumns+`)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?
		WHERE EXISTS (`+accountExists+`) AND EXISTS (`+userExists+`)
		ON CONFLICT DO NOTHING
		RETURNING `+memberSignIn,
		m.AccountID, m.UserID, m.Role, toDB(m.JoinedAt), toDB(m.Until), m.FallbackRole, toDB(m.SuspendedAt), m.SuspendedBy,
		m.AccountID, m.UserID).Scan(&c.SignIn)
	if errors.Is(err, sql.ErrNoRows) {
		err := t.why(db,
			check{"SELECT 1 FROM roster_members WHERE account_id = ? AND user_id = ?", []any{m.AccountID, m.UserID}, true, store.ErrExists, "membership exists"},
			check{accountExists, []any{m.AccountID}, false, store.ErrNotFound, "no such account"},
			check{userExists, []any{m.UserID}, false, store.ErrNotFound, "no such user"},
		)
		return t.wrap(ctx, err, "create member %s/%s", m.AccountID, m.UserID)
	}
	if err != nil {
		return t.s.fail(ctx, err, "create member %s/%s", m.AccountID, m.UserID)
	}
	t.changes = append(t.changes, c)
	return nil
}

// memberSignIn is the RETURNING clause of the statements that write a
// membership: the member's sign-in method, which their MemberSet change
// carries, read in the statement that writes instead of in one more.
const memberSignIn = "(SELECT sign_in FROM roster_users WHERE roster_users.id = roster_members.user_id)"

// memberChange returns the MemberSet change for m, without the user's
// sign-in method.
func memberChange(m store.Member) store.Change {
	return store.Change{Op: store.MemberSet, AccountID: m.AccountID, UserID: m.UserID, Role: m.Role,
		ExpiresAt: normTime(m.Until), FallbackRole: m.FallbackRole, Suspended: m.Suspended()}
}

// check is one possible reason why a guarded write wrote nothing: the reason
// holds when query finds a row (if found) or finds none (if !found).
type check struct {
	query  string
	args   []any
	found  bool
	err    error
	reason string
}

// why returns the error of the first check that holds. If none does, a
// concurrent transaction changed the data between the write and the checks,
// and the write may be retried: why returns ErrConflict.
func (t *tx) why(db *gorm.DB, checks ...check) error {
	for _, c := range checks {
		ok, err := exists(db, c.query, c.args...)
		if err != nil {
			return err
		}
		if ok == c.found {
			return fmt.Errorf("%w: %s", c.err, c.reason)
		}
	}
	return fmt.Errorf("%w: nothing written and no reason found", store.ErrConflict)
}

// wrap returns err, an error from why, with the operation: store errors as
// they are, database errors through fail.
func (t *tx) wrap(ctx context.Context, err error, format string, args ...any) error {
	for _, sentinel := range []error{store.ErrExists, store.ErrNotFound, store.ErrInvalid, store.ErrConflict} {
		if errors.Is(err, sentinel) {
			return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err)
		}
	}
	return t.s.fail(ctx, err, format, args...)
}

// Member implements store.Tx.
func (t *tx) Member(ctx context.Context, accountID, userID string) (store.Member, error) {
	db, err := t.use(ctx, false)
	if err != nil {
		return store.Member{}, fmt.Errorf("member %s/%s: %w", accountID, userID, err)
	}
	var row memberRow
	err = t.s.queryRow(ctx, db, "SELECT "+memberColumns+" FROM roster_members WHERE account_id = ? AND user_id = ?",
		accountID, userID).Scan(row.dest()...)
	if err != nil {
		return store.Member{}, t.s.fail(ctx, err, "member %s/%s", accountID, userID)
	}
	return row.member(), nil
}

// UpdateMember implements store.Tx.
func (t *tx) UpdateMember(ctx context.Context, m store.Member) error {
	db, err := t.use(ctx, true)
	if err == nil {
		err = validTerms(m)
	}
	if err != nil {
		return fmt.Errorf("update member %s/%s: %w", m.AccountID, m.UserID, err)
	}
	c := memberChange(m)
	err = t.s.queryRow(ctx, db, `UPDATE roster_members SET role = ?, until = ?, fallback_role = ?, suspended_at = ?, suspended_by = ?
		WHERE account_id = ? AND user_id = ?
		RETURNING `+memberSignIn,
		m.Role, toDB(m.Until), m.FallbackRole, toDB(m.SuspendedAt), m.SuspendedBy, m.AccountID, m.UserID).Scan(&c.SignIn)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("update member %s/%s: %w", m.AccountID, m.UserID, store.ErrNotFound)
	}
	if err != nil {
		return t.s.fail(ctx, err, "update member %s/%s", m.AccountID, m.UserID)
	}
	t.changes = append(t.changes, c)
	return nil
}

// DeleteMember implements store.Tx.
func (t *tx) DeleteMember(ctx context.Context, accountID, userID string) error {
	db, err := t.use(ctx, true)
	if err != nil {
		return fmt.Errorf("delete member %s/%s: %w", accountID, userID, err)
	}
	res := db.Exec(`DELETE FROM roster_members WHERE account_id = ? AND user_id = ?`, accountID, userID)
	if res.Error != nil {
		return t.s.fail(ctx, res.Error, "delete member %s/%s", accountID, userID)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("delete member %s/%s: %w", accountID, userID, store.ErrNotFound)
	}
	t.changes = append(t.changes, store.Change{Op: store.MemberDeleted, AccountID: accountID, UserID: userID})
	return nil
}

// nullsFirst orders a nullable time column ascending with NULL (the zero
// time) first on both backends: SQLite sorts NULL first, PostgreSQL last.
func nullsFirst(col string) string { return "(" + col + " IS NULL) DESC, " + col }

// CreateInvite implements store.Tx.
func (t *tx) CreateInvite(ctx context.Context, inv store.Invite) error {
	db, err := t.use(ctx, true)
	if err == nil {
		err = errors.Join(required("invite ID", inv.ID), required("account ID", inv.AccountID), required("token hash", string(inv.TokenHash)))
	}
	if err != nil {
		return fmt.Errorf("create invite %s: %w", inv.ID, err)
	}
	res := db.Exec(`INSERT INTO roster_invites (id, account_id, kind, role, email, require_secure, token_hash,
			status, max_uses, uses, created_by, created_at, expires_at, updated_at,
			superseded_by, resent_by, resent_at)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
		WHERE EXISTS (`+accountExists+`)
		ON CONFLICT DO NOTHING`,
		inv.ID, inv.AccountID, string(inv.Kind), inv.Role, inv.Email, inv.RequireSecure, blob(inv.TokenHash),
		string(inv.Status), int64(inv.MaxUses), int64(inv.Uses), inv.CreatedBy,
		toDB(inv.CreatedAt), toDB(inv.ExpiresAt), toDB(inv.UpdatedAt),
		inv.SupersededBy, inv.ResentBy, toDB(inv.ResentAt),
		inv.AccountID)
	if res.Error != nil {
		return t.s.fail(ctx, res.Error, "create invite %s", inv.ID)
	}
	if res.RowsAffected == 0 {
		err := t.why(db,
			check{"SELECT 1 FROM roster_invites WHERE id = ?", []any{inv.ID}, true, store.ErrExists, "invite ID taken"},
			check{"SELECT 1 FROM roster_invites WHERE token_hash = ?", []any{blob(inv.TokenHash)}, true, store.ErrExists, "token hash taken"},
			check{accountExists, []any{inv.AccountID}, false, store.ErrNotFound, "no such account"},
		)
		return t.wrap(ctx, err, "create invite %s", inv.ID)
	}
	return nil
}

// Invite implements store.Tx.
func (t *tx) Invite(ctx context.Context, id string) (store.Invite, error) {
	db, err := t.use(ctx, false)
	if err != nil {
		return store.Invite{}, fmt.Errorf("invite %s: %w", id, err)
	}
	inv, err := t.invite(ctx, db, "id = ?", id)
	if err != nil {
		return store.Invite{}, t.s.fail(ctx, err, "invite %s", id)
	}
	return inv, nil
}

// InviteByToken implements store.Tx.
func (t *tx) InviteByToken(ctx context.Context, hash []byte) (store.Invite, error) {
	db, err := t.use(ctx, false)
	if err != nil {
		return store.Invite{}, fmt.Errorf("invite by token: %w", err)
	}
	inv, err := t.invite(ctx, db, "token_hash = ?", blob(hash))
	if err != nil {
		return store.Invite{}, t.s.fail(ctx, err, "invite by token")
	}
	return inv, nil
}

// invite reads the one invite matching where, a condition on a unique key
// with one placeholder.
func (t *tx) invite(ctx context.Context, db *gorm.DB, where string, arg any) (store.Invite, error) {
	var r inviteRow
	err := t.s.queryRow(ctx, db, `SELECT id, account_id, kind, role, email, require_secure, token_hash, status,
		max_uses, uses, created_by, created_at, expires_at, updated_at, superseded_by, resent_by, resent_at
		FROM roster_invites WHERE `+where, arg).
		Scan(&r.ID, &r.AccountID, &r.Kind, &r.Role, &r.Email, &r.RequireSecure, &r.TokenHash, &r.Status,
			&r.MaxUses, &r.Uses, &r.CreatedBy, &r.Created, &r.Expires, &r.Updated, &r.SupersededBy, &r.ResentBy, &r.Resent)
	return r.invite(), err
}

// UpdateInvite implements store.Tx.
func (t *tx) UpdateInvite(ctx context.Context, inv store.Invite) error {
	db, err := t.use(ctx, true)
	if err == nil {
		err = errors.Join(required("invite ID", inv.ID), required("account ID", inv.AccountID), required("token hash", string(inv.TokenHash)))
	}
	if err != nil {
		return fmt.Errorf("update invite %s: %w", inv.ID, err)
	}
	// The statement checks the new token hash, but an invite inserted
	// concurrently with the same hash can still make it fail (see
	// savepoint).
	var n int64
	err = t.savepoint(db, "roster_update_invite", func() error {
		var err error
		n, err = t.s.execCount(ctx, db, `UPDATE roster_invites SET account_id = ?, kind = ?, role = ?, email = ?, require_secure = ?,
				token_hash = ?, status = ?, max_uses = ?, uses = ?, created_by = ?, expires_at = ?, updated_at = ?,
				superseded_by = ?, resent_by = ?, resent_at = ?
			WHERE id = ?
			AND EXISTS (`+accountExists+`)
			AND NOT EXISTS (SELECT 1 FROM roster_invites AS other WHERE other.token_hash = ? AND other.id <> ?)`,
			inv.AccountID, string(inv.Kind), inv.Role, inv.Email, inv.RequireSecure,
			blob(inv.TokenHash), string(inv.Status), int64(inv.MaxUses), int64(inv.Uses), inv.CreatedBy,
			toDB(inv.ExpiresAt), toDB(inv.UpdatedAt),
			inv.SupersededBy, inv.ResentBy, toDB(inv.ResentAt),
			inv.ID, inv.AccountID, blob(inv.TokenHash), inv.ID)
		return err
	})
	if err != nil {
		return t.s.fail(ctx, err, "update invite %s", inv.ID)
	}
	if n == 0 {
		err := t.why(db,
			check{"SELECT 1 FROM roster_invites WHERE id = ?", []any{inv.ID}, false, store.ErrNotFound, "no such invite"},
			check{"SELECT 1 FROM roster_invites WHERE token_hash = ? AND id <> ?", []any{blob(inv.TokenHash), inv.ID}, true, store.ErrExists, "token hash taken"},
			check{accountExists, []any{inv.AccountID}, false, store.ErrNotFound, "no such account"},
		)
		return t.wrap(ctx, err, "update invite %s", inv.ID)
	}
	return nil
}

// savepoint runs write, which runs one statement on db, inside a savepoint
// named name on PostgreSQL, and returns its error. It is for a write that
// checks its constraint in the statement but whose check a concurrent
// transaction can overtake: the constraint error then fails the statement,
// rolled back to the savepoint, instead of aborting the whole transaction
// as PostgreSQL does. SQLite keeps a transaction usable after a failed
// statement, and runs write as it is.
func (t *tx) savepoint(db *gorm.DB, name string, write func() error) error {
	if t.s.dialect != Postgres {
		return write()
	}
	if err := db.Exec("SAVEPOINT " + name).Error; err != nil {
		return err
	}
	err := write()
	end := "RELEASE SAVEPOINT " + name
	if err != nil {
		end = "ROLLBACK TO SAVEPOINT " + name
	}
	if endErr := db.Exec(end).Error; endErr != nil {
		return errors.Join(err, endErr)
	}
	return err
}

// CreateInviteUse implements store.Tx.
func (t *tx) CreateInviteUse(ctx context.Context, u store.InviteUse) error {
	db, err := t.use(ctx, true)
	if err == nil {
		err = errors.Join(required("invite ID", u.InviteID), required("user ID", u.UserID))
	}
	if err != nil {
		return fmt.Errorf("create use of invite %s by %s: %w", u.InviteID, u.UserID, err)
	}
	const inviteExists = "SELECT 1 FROM roster_invites WHERE id = ?"
	n, err := t.s.execCount(ctx, db, `INSERT INTO roster_invite_uses (invite_id, user_id, used_at)
		SELECT ?, ?, ?
		WHERE EXISTS (`+inviteExists+`) AND EXISTS (`+userExists+`)
		ON CONFLICT DO NOTHING`,
		u.InviteID, u.UserID, toDB(u.UsedAt), u.InviteID, u.UserID)
	if err != nil {
		return t.s.fail(ctx, err, "create use of invite %s by %s", u.InviteID, u.UserID)
	}
	if n == 0 {
		err := t.why(db,
			check{"SELECT 1 FROM roster_invite_uses WHERE invite_id = ? AND user_id = ?", []any{u.InviteID, u.UserID}, true, store.ErrExists, "user already used the invite"},
			check{inviteExists, []any{u.InviteID}, false, store.ErrNotFound, "no such invite"},
			check{userExists, []any{u.UserID}, false, store.ErrNotFound, "no such user"},
		)
		return t.wrap(ctx, err, "create use of invite %s by %s", u.InviteID, u.UserID)
	}
	return nil
}

// InviteUses implements store.Tx.
func (t *tx) InviteUses(ctx context.Context, inviteID string) ([]store.InviteUse, error) {
	db, err := t.use(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("uses of invite %s: %w", inviteID, err)
	}
	var rows []inviteUseRow
	if err := db.Where("invite_id = ?", inviteID).Order(nullsFirst("used_at") + ", user_id").Find(&rows).Error; err != nil {
		return nil, t.s.fail(ctx, err, "uses of invite %s", inviteID)
	}
	uses := make([]store.InviteUse, len(rows))
	for i, r := range rows {
		uses[i] = r.inviteUse()
	}
	return uses, nil
}

// CreateTransfer implements store.Tx.
func (t *tx) CreateTransfer(ctx context.Context, tr store.Transfer) error {
	db, err := t.use(ctx, true)
	if err == nil {
		err = errors.Join(required("transfer ID", tr.ID), required("account ID", tr.AccountID), validKind(tr.Kind))
	}
	if err != nil {
		return fmt.Errorf("create transfer %s: %w", tr.ID, err)
	}
	res := db.Exec(`INSERT INTO roster_transfers (id, account_id, kind, from_user, to_user, status, confirm_hash, accept_hash,
			created_at, expires_at, updated_at)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
		WHERE EXISTS (`+accountExists+`)
		ON CONFLICT DO NOTHING`,
		tr.ID, tr.AccountID, string(tr.Kind), tr.From, tr.To, string(tr.Status), blob(tr.ConfirmHash), blob(tr.AcceptHash),
		toDB(tr.CreatedAt), toDB(tr.ExpiresAt), toDB(tr.UpdatedAt),
		tr.AccountID)
	if res.Error != nil {
		return t.s.fail(ctx, res.Error, "create transfer %s", tr.ID)
	}
	if res.RowsAffected == 0 {
		err := t.why(db,
			check{"SELECT 1 FROM roster_transfers WHERE id = ?", []any{tr.ID}, true, store.ErrExists, "transfer ID taken"},
			check{accountExists, []any{tr.AccountID}, false, store.ErrNotFound, "no such account"},
		)
		return t.wrap(ctx, err, "create transfer %s", tr.ID)
	}
	return nil
}

// validKind returns an error wrapping ErrInvalid unless k is a known kind of
// transfer.
func validKind(k store.TransferKind) error {
	if !k.Valid() {
		return fmt.Errorf("%w: unknown transfer kind %q", store.ErrInvalid, k)
	}
	return nil
}

// Transfer implements store.Tx.
func (t *tx) Transfer(ctx context.Context, id string) (store.Transfer, error) {
	db, err := t.use(ctx, false)
	if err != nil {
		return store.Transfer{}, fmt.Errorf("transfer %s: %w", id, err)
	}
	var row transferRow
	if err := db.Where("id = ?", id).Take(&row).Error; err != nil {
		return store.Transfer{}, t.s.fail(ctx, err, "transfer %s", id)
	}
	return row.transfer(), nil
}

// UpdateTransfer implements store.Tx.
func (t *tx) UpdateTransfer(ctx context.Context, tr store.Transfer) error {
	db, err := t.use(ctx, true)
	if err == nil {
		err = errors.Join(required("transfer ID", tr.ID), required("account ID", tr.AccountID), validKind(tr.Kind))
	}
	if err != nil {
		return fmt.Errorf("update transfer %s: %w", tr.ID, err)
	}
	res := db.Exec(`UPDATE roster_transfers SET account_id = ?, kind = ?, from_user = ?, to_user = ?, status = ?,
			confirm_hash = ?, accept_hash = ?, expires_at = ?, updated_at = ?
		WHERE id = ? AND EXISTS (`+accountExists+`)`,
		tr.AccountID, string(tr.Kind), tr.From, tr.To, string(tr.Status), blob(tr.ConfirmHash), blob(tr.AcceptHash),
		toDB(tr.ExpiresAt), toDB(tr.UpdatedAt),
		tr.ID, tr.AccountID)
	if res.Error != nil {
		return t.s.fail(ctx, res.Error, "update transfer %s", tr.ID)
	}
	if res.RowsAffected == 0 {
		// Either the transfer or its new account is missing.
		return fmt.Errorf("update transfer %s: %w", tr.ID, store.ErrNotFound)
	}
	return nil
}

// AppendEvent implements store.Tx. It returns ErrNotFound if e.AccountID
// names no account.
func (t *tx) AppendEvent(ctx context.Context, e store.Event) (store.Event, error) {
	db, err := t.use(ctx, true)
	if err == nil {
		err = errors.Join(required("account ID", e.AccountID), required("action", string(e.Action)))
	}
	if err != nil {
		return store.Event{}, fmt.Errorf("append event %s to %s: %w", e.Action, e.AccountID, err)
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Time = normTime(e.Time)
	var id int64
	err = t.s.queryRow(ctx, db, `INSERT INTO roster_events (account_id, occurred_at, actor, action, resource_type, resource_id,
			result, reason, before_value, after_value, ip, user_agent, request_id, prev_hash, hash, salt, commitment, commit_seq)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, `+commitSeq[t.s.dialect]+`
		WHERE EXISTS (`+accountExists+`)
		RETURNING id`,
		e.AccountID, e.Time, e.Actor, string(e.Action), e.ResourceType, e.ResourceID,
		string(e.Result), e.Reason, e.Before, e.After, e.IP, e.UserAgent, e.RequestID,
		blob(e.PrevHash), blob(e.Hash), blob(e.Salt), blob(e.Commitment),
		e.AccountID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Event{}, fmt.Errorf("append event %s to %s: %w: no such account", e.Action, e.AccountID, store.ErrNotFound)
	}
	if err != nil {
		return store.Event{}, t.s.fail(ctx, err, "append event %s to %s", e.Action, e.AccountID)
	}
	e.ID = id
	t.appended = true
	return e, nil
}

// changeBatch is how many change rows one INSERT writes: 15 parameters
// each, well under the parameter limits of SQLite (32766) and PostgreSQL
// (65535).
const changeBatch = 500

// commitSeq is, per dialect, the SQL expression of the commit number
// AppendEvent stamps an event with (see EventsAfter): on PostgreSQL the
// appending transaction's ID; on SQLite, whose writers commit one at a
// time in the order they take event IDs, 0, so that the ID orders the
// stream.
var commitSeq = map[Dialect]string{
	SQLite:   "0",
	Postgres: "pg_current_xact_id()::text::bigint",
}

// record ends a write transaction that changed accounts, memberships, team
// roles, sign-in methods or API keys: it takes the next revision from
// roster_meta (whose row lock, on PostgreSQL, holds later committers back
// until this one commits) and stores the changes under it. A transaction
// that only appended events takes no revision but reads the current one,
// to announce. record returns the Commit, or Commit{} if nothing changed,
// and the revision to announce once the transaction commits (0 with
// nothing to announce).
func (t *tx) record(ctx context.Context) (store.Commit, store.Revision, error) {
	if len(t.changes) == 0 && !t.appended {
		return store.Commit{}, 0, nil
	}
	db := t.db.WithContext(ctx)
	q := "UPDATE roster_meta SET revision = revision + 1 WHERE id = 1 RETURNING revision"
	if len(t.changes) == 0 {
		q = "SELECT revision FROM roster_meta WHERE id = 1"
	}
	var rev int64
	err := t.s.queryRow(ctx, db, q).Scan(&rev)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Commit{}, 0, fmt.Errorf("update: revision: %w: roster_meta has no row", store.ErrBackend)
	}
	if err != nil {
		return store.Commit{}, 0, t.s.fail(ctx, err, "update: revision")
	}
	for start := 0; start < len(t.changes); start += changeBatch {
		batch := t.changes[start:min(start+changeBatch, len(t.changes))]
		var q strings.Builder
		q.WriteString(`INSERT INTO roster_changes (revision, seq, op, account_id, user_id, role, actions, require_secure, sign_in,
			key_id, key_hash, expires_at, narrowed, fallback_role, suspended) VALUES `)
		args := make([]any, 0, 15*len(batch))
		for i, c := range batch {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			// An APIKeySet change's actions, like a key's, may be nil (the
			// whole role) or empty (none): narrowed tells them apart.
			narrowed := c.Op == store.APIKeySet && c.Actions != nil
			args = append(args, rev, int64(start+i), int64(c.Op), c.AccountID, c.UserID, c.Role, joinActions(c.Actions), c.RequireSecure, string(c.SignIn),
				c.Key, blob(c.KeyHash), toDB(c.ExpiresAt), narrowed, c.FallbackRole, c.Suspended)
		}
		if _, err := t.s.exec(ctx, db, q.String(), args...); err != nil {
			return store.Commit{}, 0, t.s.fail(ctx, err, "update: record changes at revision %d", rev)
		}
	}
	if t.s.dialect == Postgres {
		// Delivered to every listener when, and only if, the transaction
		// commits. A commit that only appended events announces the
		// current revision (see store.Watcher).
		if _, err := t.s.exec(ctx, db, "SELECT pg_notify(?, ?)", t.s.channel, strconv.FormatInt(rev, 10)); err != nil {
			return store.Commit{}, 0, t.s.fail(ctx, err, "update: notify revision %d", rev)
		}
	}
	if len(t.changes) == 0 {
		return store.Commit{}, store.Revision(rev), nil
	}
	changes := make([]store.Change, len(t.changes))
	for i, c := range t.changes {
		c.Revision = store.Revision(rev)
		changes[i] = c
	}
	return store.Commit{Revision: store.Revision(rev), Changes: changes}, store.Revision(rev), nil
}

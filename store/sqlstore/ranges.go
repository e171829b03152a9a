package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/teamroster/roster/store"
)

// A listing is a list a Tx reads a range at a time (store.Range): the rows
// of table whose owner columns equal the owner's IDs (one column, or two
// for a list narrowed within its owner, such as one user's API keys in an
// account), ordered by the store.Key (timeCol, idCol), ascending or newest
// first. Zero times are NULL, which neither database orders the way
// store.Key does on every statement, so a listing is read as two segments,
// each one index range scan of an index that leads with the owner columns
// followed by (timeCol, idCol): the rows with a NULL time, ordered by
// idCol, and the rows with a time, ordered by (timeCol, idCol). In
// ascending order the NULL segment comes first; newest first, last. A range
// starts in the segment of its key and, if that one runs out before the
// limit, goes on at the start of the next.
type listing struct {
	name           string // for errors and ExplainRange
	table, cols    string
	owner          []string
	timeCol, idCol string
	desc           bool
}

var (
	membersListing = listing{name: "members", table: "roster_members", cols: memberColumns,
		owner: []string{"account_id"}, timeCol: "joined_at", idCol: "user_id"}
	membershipsListing = listing{name: "memberships", table: "roster_members", cols: memberColumns,
		owner: []string{"user_id"}, timeCol: "joined_at", idCol: "account_id"}
	invitesListing = listing{name: "invites", table: "roster_invites", cols: inviteColumns,
		owner: []string{"account_id"}, timeCol: "created_at", idCol: "id", desc: true}
	transfersListing = listing{name: "transfers", table: "roster_transfers", cols: transferColumns,
		owner: []string{"account_id"}, timeCol: "created_at", idCol: "id", desc: true}
	apiKeysListing = listing{name: "api keys", table: "roster_api_keys", cols: apiKeyColumns,
		owner: []string{"account_id"}, timeCol: "created_at", idCol: "id", desc: true}
	userAPIKeysListing = listing{name: "user api keys", table: "roster_api_keys", cols: apiKeyColumns,
		owner: []string{"account_id", "user_id"}, timeCol: "created_at", idCol: "id", desc: true}
)

// listings are the listings by name, for ExplainRange.
var listings = map[string]listing{
	membersListing.name: membersListing, membershipsListing.name: membershipsListing,
	invitesListing.name: invitesListing, transfersListing.name: transfersListing,
	apiKeysListing.name: apiKeysListing, userAPIKeysListing.name: userAPIKeysListing,
}

const (
	memberColumns = "account_id, user_id, role, joined_at, until, fallback_role, suspended_at, suspended_by"
	inviteColumns = `id, account_id, kind, role, email, require_secure, token_hash, status, max_uses, uses,
		created_by, created_at, expires_at, updated_at, superseded_by, resent_by, resent_at`
	transferColumns = `id, account_id, kind, from_user, to_user, status, confirm_hash, accept_hash,
		created_at, expires_at, updated_at`
	apiKeyColumns = `id, account_id, user_id, name, role, actions, hash, created_by, created_at, expires_at,
		revoked_at, revoked_by, last_used_at, last_used_ip`
)

// segment is one statement of a range: its text without the LIMIT clause,
// and its arguments.
type segment struct {
	query string
	args  []any
}

// segments returns the statements that read r of the listing owned by
// owner, one ID for each of the listing's owner columns, in the order to
// run them.
func (l listing) segments(owner []string, r store.Range) []segment {
	cmp, dir := ">", ""
	if l.desc {
		cmp, dir = "<", " DESC"
	}
	head := "SELECT " + l.cols + " FROM " + l.table + " WHERE "
	ids := make([]any, len(owner))
	for i, col := range l.owner {
		head += col + " = ? AND "
		ids[i] = owner[i]
	}
	head += l.timeCol
	null := func(after bool) segment {
		s := segment{query: head + " IS NULL", args: slices.Clone(ids)}
		if after {
			s.query += " AND " + l.idCol + " " + cmp + " ?"
			s.args = append(s.args, r.After.ID)
		}
		// Ordered by the time too, though it is NULL throughout, so that
		// PostgreSQL reads the index in order rather than sorting.
		s.query += " ORDER BY " + l.timeCol + dir + ", " + l.idCol + dir
		return s
	}
	timed := func(after bool) segment {
		s := segment{query: head + " IS NOT NULL", args: slices.Clone(ids)}
		if after {
			s.query += " AND (" + l.timeCol + ", " + l.idCol + ") " + cmp + " (?, ?)"
			s.args = append(s.args, normTime(r.After.Time), r.After.ID)
		}
		s.query += " ORDER BY " + l.timeCol + dir + ", " + l.idCol + dir
		return s
	}
	switch {
	case r.After.IsZero() && l.desc:
		return []segment{timed(false), null(false)}
	case r.After.IsZero():
		return []segment{null(false), timed(false)}
	case r.After.Time.IsZero() && l.desc:
		return []segment{null(true)}
	case r.After.Time.IsZero():
		return []segment{null(true), timed(false)}
	case l.desc:
		return []segment{timed(true), null(false)}
	default:
		return []segment{timed(true)}
	}
}

// withLimit returns the statement reading at most limit rows (all if 0).
func (s segment) withLimit(limit int) (string, []any) {
	if limit == 0 {
		return s.query, s.args
	}
	return s.query + " LIMIT ?", append(slices.Clip(s.args), limit)
}

// readRange reads r of the listing owned by owner (one ID for each of the
// listing's owner columns) into records, converting each row of type R
// with conv.
func readRange[R, V any](ctx context.Context, t *tx, l listing, r store.Range, conv func(R) V, owner ...string) ([]V, error) {
	id := strings.Join(owner, "/") // for errors
	db, err := t.use(ctx, false)
	if err == nil {
		err = r.Validate()
	}
	if err != nil {
		return nil, fmt.Errorf("%s of %s: %w", l.name, id, err)
	}
	var out []V
	for _, seg := range l.segments(owner, r) {
		limit := 0
		if r.Limit > 0 {
			if limit = r.Limit - len(out); limit == 0 {
				break
			}
		}
		var rows []R
		q, args := seg.withLimit(limit)
		if err := db.Raw(q, args...).Scan(&rows).Error; err != nil {
			return nil, t.s.fail(ctx, err, "%s of %s", l.name, id)
		}
		for _, row := range rows {
			out = append(out, conv(row))
		}
	}
	return out, nil
}

// Members implements store.Tx.
func (t *tx) Members(ctx context.Context, accountID string, r store.Range) ([]store.Member, error) {
	return readRange(ctx, t, membersListing, r, memberRow.member, accountID)
}

// Memberships implements store.Tx.
func (t *tx) Memberships(ctx context.Context, userID string, r store.Range) ([]store.Member, error) {
	return readRange(ctx, t, membershipsListing, r, memberRow.member, userID)
}

// Invites implements store.Tx.
func (t *tx) Invites(ctx context.Context, accountID string, r store.Range) ([]store.Invite, error) {
	return readRange(ctx, t, invitesListing, r, inviteRow.invite, accountID)
}

// Transfers implements store.Tx.
func (t *tx) Transfers(ctx context.Context, accountID string, r store.Range) ([]store.Transfer, error) {
	return readRange(ctx, t, transfersListing, r, transferRow.transfer, accountID)
}

// APIKeys implements store.Tx: the account's keys, or with userID set one
// user's keys in it, each read like Invites.
func (t *tx) APIKeys(ctx context.Context, accountID, userID string, r store.Range) ([]store.APIKey, error) {
	if userID == "" {
		return readRange(ctx, t, apiKeysListing, r, apiKeyRow.apiKey, accountID)
	}
	return readRange(ctx, t, userAPIKeysListing, r, apiKeyRow.apiKey, accountID, userID)
}

// explainRange returns the database's plans for the statements with which
// a Tx reads r of the list named list ("members", "memberships",
// "invites", "transfers", "api keys", or "user api keys": APIKeys with a
// user ID) owned by owner, one ID for each of the list's owner columns
// (the account's, then for "user api keys" the user's), one plan per
// statement (see explain). It returns an error wrapping store.ErrInvalid
// for an unknown list, the wrong number of owner IDs or a malformed range,
// store.ErrClosed after Close and store.ErrBackend on database failure. It
// is safe for concurrent use.
func (s *Store) explainRange(ctx context.Context, list string, owner []string, r store.Range) ([]string, error) {
	l, ok := listings[list]
	if !ok {
		return nil, fmt.Errorf("explain %s: %w: unknown list", list, store.ErrInvalid)
	}
	if len(owner) != len(l.owner) {
		return nil, fmt.Errorf("explain %s: %w: %d owner IDs, want %d", list, store.ErrInvalid, len(owner), len(l.owner))
	}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("explain %s: %w", list, err)
	}
	var plans []string
	for _, seg := range l.segments(owner, r) {
		q, args := seg.withLimit(r.Limit)
		plan, err := s.explain(ctx, "explain "+list, q, args)
		if err != nil {
			return nil, err
		}
		plans = append(plans, plan)
	}
	return plans, nil
}

// tooManyIDs returns an error wrapping ErrInvalid if ids holds more than
// store.MaxPageSize IDs.
func tooManyIDs(ids []string) error {
	if len(ids) > store.MaxPageSize {
		return fmt.Errorf("%w: %d IDs, more than %d", store.ErrInvalid, len(ids), store.MaxPageSize)
	}
	return nil
}

// UsersByID implements store.Tx: primary key lookups in batches (see
// batches).
func (t *tx) UsersByID(ctx context.Context, ids []string) ([]store.User, error) {
	db, err := t.use(ctx, false)
	if err == nil {
		err = tooManyIDs(ids)
	}
	if err != nil {
		return nil, fmt.Errorf("users by ID: %w", err)
	}
	var users []store.User
	err = batches(ids, func(args []any) error {
		found, err := t.usersWhere(ctx, db, "SELECT id, email, name, sign_in, active_account, created_at FROM roster_users WHERE id"+inList(len(args)), args...)
		users = append(users, found...)
		return err
	})
	if err != nil {
		return nil, t.s.fail(ctx, err, "users by ID")
	}
	slices.SortFunc(users, func(a, b store.User) int { return strings.Compare(a.ID, b.ID) })
	return users, nil
}

// AccountsByID implements store.Tx: primary key lookups in batches (see
// batches).
func (t *tx) AccountsByID(ctx context.Context, ids []string) ([]store.Account, error) {
	db, err := t.use(ctx, false)
	if err == nil {
		err = tooManyIDs(ids)
	}
	if err != nil {
		return nil, fmt.Errorf("accounts by ID: %w", err)
	}
	var accounts []store.Account
	err = batches(ids, func(args []any) error {
		var rows []accountRow
		err := db.Raw("SELECT "+accountColumns+" FROM roster_accounts WHERE id"+inList(len(args)), args...).
			Scan(&rows).Error
		for _, r := range rows {
			accounts = append(accounts, r.account())
		}
		return err
	})
	if err != nil {
		return nil, t.s.fail(ctx, err, "accounts by ID")
	}
	slices.SortFunc(accounts, func(a, b store.Account) int { return strings.Compare(a.ID, b.ID) })
	return accounts, nil
}

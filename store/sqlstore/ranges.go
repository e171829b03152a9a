package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/teamroster/roster/store"
)

// A listing is a list a Tx reads a range at a time (store.Range): the rows
// of table whose column owner equals an ID, ordered by the store.Key
// (timeCol, idCol), ascending or newest first. Zero times are NULL, which
// neither database orders the way store.Key does on every statement, so a
// listing is read as two segments, each one index range scan of the index
// (owner, timeCol, idCol): the rows with a NULL time, ordered by idCol, and
// the rows with a time, ordered by (timeCol, idCol). In ascending order the
// NULL segment comes first; newest first, last. A range starts in the
// segment of its key and, if that one runs out before the limit, goes on at
// the start of the next.
type listing struct {
	name                  string // for errors and ExplainRange
	table, cols           string
	owner, timeCol, idCol string
	desc                  bool
}

var (
	membersListing = listing{name: "members", table: "roster_members", cols: memberColumns,
		owner: "account_id", timeCol: "joined_at", idCol: "user_id"}
	membershipsListing = listing{name: "memberships", table: "roster_members", cols: memberColumns,
		owner: "user_id", timeCol: "joined_at", idCol: "account_id"}
	invitesListing = listing{name: "invites", table: "roster_invites", cols: inviteColumns,
		owner: "account_id", timeCol: "created_at", idCol: "id", desc: true}
	transfersListing = listing{name: "transfers", table: "roster_transfers", cols: transferColumns,
		owner: "account_id", timeCol: "created_at", idCol: "id", desc: true}
)

// listings are the listings by name, for ExplainRange.
var listings = map[string]listing{
	membersListing.name: membersListing, membershipsListing.name: membershipsListing,
	invitesListing.name: invitesListing, transfersListing.name: transfersListing,
}

const (
	memberColumns = "account_id, user_id, role, joined_at"
	inviteColumns = `id, account_id, kind, role, email, require_secure, token_hash, status, max_uses, uses,
		created_by, created_at, expires_at, updated_at, superseded_by, resent_by, resent_at`
	transferColumns = `id, account_id, kind, from_user, to_user, status, confirm_hash, accept_hash,
		created_at, expires_at, updated_at`
)

// segment is one statement of a range: its text without the LIMIT clause,
// and its arguments.
type segment struct {
	query string
	args  []any
}

// segments returns the statements that read r of the listing owned by id,
// in the order to run them.
func (l listing) segments(id string, r store.Range) []segment {
	cmp, dir := ">", ""
	if l.desc {
		cmp, dir = "<", " DESC"
	}
	head := "SELECT " + l.cols + " FROM " + l.table + " WHERE " + l.owner + " = ? AND " + l.timeCol
	null := func(after bool) segment {
		s := segment{query: head + " IS NULL", args: []any{id}}
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
		s := segment{query: head + " IS NOT NULL", args: []any{id}}
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

// readRange reads r of the listing owned by id into records, converting
// each row of type R with conv.
func readRange[R, V any](ctx context.Context, t *tx, l listing, id string, r store.Range, conv func(R) V) ([]V, error) {
	db, err := t.use(ctx, false)
	if err == nil {
		err = r.Validate()
	}
	if err != nil {
		return nil, fmt.Errorf("%s of %s: %w", l.name, id, err)
	}
	var out []V
	for _, seg := range l.segments(id, r) {
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
	return readRange(ctx, t, membersListing, accountID, r, memberRow.member)
}

// Memberships implements store.Tx.
func (t *tx) Memberships(ctx context.Context, userID string, r store.Range) ([]store.Member, error) {
	return readRange(ctx, t, membershipsListing, userID, r, memberRow.member)
}

// Invites implements store.Tx.
func (t *tx) Invites(ctx context.Context, accountID string, r store.Range) ([]store.Invite, error) {
	return readRange(ctx, t, invitesListing, accountID, r, inviteRow.invite)
}

// Transfers implements store.Tx.
func (t *tx) Transfers(ctx context.Context, accountID string, r store.Range) ([]store.Transfer, error) {
	return readRange(ctx, t, transfersListing, accountID, r, transferRow.transfer)
}

// explainRange returns the database's plans for the statements with which
// the Tx method named list ("members", "memberships", "invites" or
// "transfers") reads r of the list owned by id, one plan per statement (see
// explain). It returns an error wrapping store.ErrInvalid for an unknown
// list or a malformed range, store.ErrClosed after Close and
// store.ErrBackend on database failure. It is safe for concurrent use.
func (s *Store) explainRange(ctx context.Context, list, id string, r store.Range) ([]string, error) {
	l, ok := listings[list]
	if !ok {
		return nil, fmt.Errorf("explain %s: %w: unknown list", list, store.ErrInvalid)
	}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("explain %s: %w", list, err)
	}
	var plans []string
	for _, seg := range l.segments(id, r) {
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
		err := db.Raw("SELECT id, kind, name, owner, require_secure, created_at, updated_at FROM roster_accounts WHERE id"+inList(len(args)), args...).
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

package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/teamroster/roster/store"
)

// A membership's terms (its end time, the role it falls back to, its
// suspension) are columns of roster_members; memberships that have an end
// time or are suspended are each in a partial index of their own (see
// migration 6). A team's seat limit is a column of roster_accounts.

const (
	// expiredMembersQuery selects the memberships whose end time is not
	// after a time, soonest first, reading roster_members_until in order.
	expiredMembersQuery = "SELECT " + memberColumns + ` FROM roster_members
		WHERE until IS NOT NULL AND until <= ? ORDER BY until, account_id, user_id LIMIT ?`
	// seatsQuery counts an account's members, by its primary key, and its
	// pending invites that have not expired at a time, by
	// roster_invites_page.
	seatsQuery = `SELECT (SELECT count(*) FROM roster_members WHERE account_id = ?),
		(SELECT count(*) FROM roster_invites WHERE account_id = ? AND status = ? AND (expires_at IS NULL OR expires_at > ?))`
)

// validSeatLimit returns an error wrapping store.ErrInvalid if a's
// SeatLimit is negative.
func validSeatLimit(a store.Account) error {
	if a.SeatLimit < 0 {
		return fmt.Errorf("%w: negative seat limit %d", store.ErrInvalid, a.SeatLimit)
	}
	return nil
}

// validTerms returns an error wrapping store.ErrInvalid if m has a role to
// fall back to but no time to fall back at.
func validTerms(m store.Member) error {
	if m.FallbackRole != "" && m.Until.IsZero() {
		return fmt.Errorf("%w: a fallback role without an end time", store.ErrInvalid)
	}
	return nil
}

// ExpiredMembers implements store.Tx with one range scan of the partial
// index roster_members_until, which holds only the memberships that have
// an end time, in the order wanted.
func (t *tx) ExpiredMembers(ctx context.Context, now time.Time, limit int) ([]store.Member, error) {
	db, err := t.use(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("expired members: %w", err)
	}
	if limit <= 0 {
		limit = store.DefaultPageSize
	}
	var rows []memberRow
	if err := db.Raw(expiredMembersQuery, normTime(now), limit).Scan(&rows).Error; err != nil {
		return nil, t.s.fail(ctx, err, "expired members")
	}
	ms := make([]store.Member, len(rows))
	for i, r := range rows {
		ms[i] = r.member()
	}
	return ms, nil
}

// Seats implements store.Tx with one statement of two counts: of the
// account's members, read from its primary key, and of its pending invites
// that have not expired at now, read from roster_invites_page. Every
// invite record counts once, a reusable link as any other; superseded
// records are not pending.
func (t *tx) Seats(ctx context.Context, accountID string, now time.Time) (members, pending int, err error) {
	db, err := t.use(ctx, false)
	if err != nil {
		return 0, 0, fmt.Errorf("seats of %s: %w", accountID, err)
	}
	var m, p int64
	err = t.s.queryRow(ctx, db, seatsQuery, accountID, accountID, string(store.InvitePending), normTime(now)).Scan(&m, &p)
	if err != nil {
		return 0, 0, t.s.fail(ctx, err, "seats of %s", accountID)
	}
	return int(m), int(p), nil
}

// explainMemberReads returns the database's plans, by name, for the
// statements with which a Tx counts the seats of account x1 ("seats") and
// reads the memberships expired at now ("expired members"), and with which
// Snapshot reads the memberships that have terms ("snapshot terms", and
// "snapshot terms, not secure" leaving out the members of accounts that
// require secure sign-in); see explain. It returns store.ErrClosed after
// Close and store.ErrBackend on database failure. It is safe for
// concurrent use.
func (s *Store) explainMemberReads(ctx context.Context, now time.Time) (map[string]string, error) {
	plans := map[string]string{}
	for _, st := range []struct {
		name, query string
		args        []any
	}{
		{"seats", seatsQuery, []any{"x1", "x1", string(store.InvitePending), normTime(now)}},
		{"expired members", expiredMembersQuery, []any{normTime(now), store.DefaultPageSize}},
		{"snapshot terms", fmt.Sprintf(memberTermsQuery, ""), nil},
		{"snapshot terms, not secure", fmt.Sprintf(memberTermsQuery, notSecureMembers), nil},
	} {
		plan, err := s.explain(ctx, "explain "+st.name, st.query, st.args)
		if err != nil {
			return nil, err
		}
		plans[st.name] = plan
	}
	return plans, nil
}

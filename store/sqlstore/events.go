package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/teamroster/roster/store"
)

// eventQuery returns the SELECT of the columns cols for the events matching
// f, in f's order, with its arguments; or an error wrapping ErrInvalid if f
// is malformed. Every value is a bound argument, so no filter can change the
// statement, and equality is exact (no LIKE): "%" matches only "%".
func eventQuery(cols string, f store.EventFilter) (string, []any, error) {
	if err := f.Validate(); err != nil {
		return "", nil, err
	}
	var where []string
	var args []any
	for _, c := range []struct {
		col string
		val string
	}{
		{"account_id", f.AccountID},
		{"actor", f.Actor},
		{"action", string(f.Action)},
		{"resource_type", f.ResourceType},
		{"resource_id", f.ResourceID},
		{"result", string(f.Result)},
	} {
		if c.val != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.val)
		}
	}
	if !f.Since.IsZero() {
		where = append(where, "occurred_at >= ?")
		args = append(args, normTime(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "occurred_at < ?")
		args = append(args, normTime(f.Until))
	}
	if !f.Below.IsZero() {
		where = append(where, "(occurred_at, id) < (?, ?)")
		args = append(args, normTime(f.Below.Time), f.Below.ID)
	}
	if f.BeforeID > 0 {
		where = append(where, "id < ?")
		args = append(args, f.BeforeID)
	}
	if f.AfterID > 0 {
		where = append(where, "id > ?")
		args = append(args, f.AfterID)
	}
	var q strings.Builder
	q.WriteString("SELECT " + cols + " FROM roster_events")
	if len(where) > 0 {
		q.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	if f.Order == store.AppendOrder {
		q.WriteString(" ORDER BY id")
	} else {
		q.WriteString(" ORDER BY occurred_at DESC, id DESC")
	}
	if f.Limit > 0 {
		q.WriteString(" LIMIT " + strconv.Itoa(f.Limit))
	}
	return q.String(), args, nil
}

// Events implements store.Tx. Since, Until and Below's time are truncated
// to the microsecond like the stored times, so an event appended with Time
// t is found by Since: t and not by Until: t.
func (t *tx) Events(ctx context.Context, f store.EventFilter) ([]store.Event, error) {
	var events []store.Event
	err := t.ScanEvents(ctx, f, func(e store.Event) error {
		events = append(events, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return events, nil
}

// ScanEvents implements store.Tx. It streams the rows of one query.
func (t *tx) ScanEvents(ctx context.Context, f store.EventFilter, fn func(store.Event) error) (err error) {
	db, err := t.use(ctx, false)
	if err != nil {
		return fmt.Errorf("events of %s: %w", f.AccountID, err)
	}
	q, args, err := eventQuery(eventColumns, f)
	if err != nil {
		return fmt.Errorf("events of %s: %w", f.AccountID, err)
	}
	rows, err := db.Raw(q, args...).Rows()
	if err != nil {
		return t.s.fail(ctx, err, "events of %s", f.AccountID)
	}
	defer func() {
		if cerr := rows.Close(); cerr != nil && err == nil {
			err = t.s.fail(ctx, cerr, "events of %s: close rows", f.AccountID)
		}
	}()
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return t.s.fail(ctx, err, "events of %s: read row", f.AccountID)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return t.s.fail(ctx, err, "events of %s: read rows", f.AccountID)
	}
	return nil
}

// EraseEvent implements store.Tx.
func (t *tx) EraseEvent(ctx context.Context, e store.Event) error {
	db, err := t.use(ctx, true)
	if err != nil {
		return fmt.Errorf("erase event %d: %w", e.ID, err)
	}
	res, err := t.s.exec(ctx, db, `UPDATE roster_events SET before_value = ?, after_value = ?, reason = ?, ip = ?, user_agent = ?, salt = NULL
		WHERE id = ?`, e.Before, e.After, e.Reason, e.IP, e.UserAgent, e.ID)
	if err != nil {
		return t.s.fail(ctx, err, "erase event %d", e.ID)
	}
	if n, err := res.RowsAffected(); err != nil {
		return t.s.fail(ctx, err, "erase event %d", e.ID)
	} else if n == 0 {
		return fmt.Errorf("erase event %d: %w", e.ID, store.ErrNotFound)
	}
	return nil
}

// DeleteEvents implements store.Tx.
func (t *tx) DeleteEvents(ctx context.Context, accountID string, throughID int64) (int64, error) {
	db, err := t.use(ctx, true)
	if err == nil {
		err = required("account ID", accountID)
	}
	if err == nil && throughID < 0 {
		err = fmt.Errorf("%w: negative event ID %d", store.ErrInvalid, throughID)
	}
	if err != nil {
		return 0, fmt.Errorf("delete events of %s through %d: %w", accountID, throughID, err)
	}
	res := db.Exec(`DELETE FROM roster_events WHERE account_id = ? AND id <= ?`, accountID, throughID)
	if res.Error != nil {
		return 0, t.s.fail(ctx, res.Error, "delete events of %s through %d", accountID, throughID)
	}
	return res.RowsAffected, nil
}

// ChainHead implements store.Tx.
func (t *tx) ChainHead(ctx context.Context, accountID string) (store.ChainHead, error) {
	db, err := t.use(ctx, false)
	if err != nil {
		return store.ChainHead{}, fmt.Errorf("chain head of %s: %w", accountID, err)
	}
	var row chainHeadRow
	err = t.s.queryRow(ctx, db, `SELECT account_id, last_id, last_hash, last_time, anchor_id, anchor_hash
		FROM roster_chain_heads WHERE account_id = ?`, accountID).
		Scan(&row.AccountID, &row.LastID, &row.LastHash, &row.LastTime, &row.AnchorID, &row.AnchorHash)
	if err != nil {
		return store.ChainHead{}, t.s.fail(ctx, err, "chain head of %s", accountID)
	}
	return row.head(), nil
}

// SetChainHead implements store.Tx.
func (t *tx) SetChainHead(ctx context.Context, h store.ChainHead) error {
	db, err := t.use(ctx, true)
	if err == nil {
		err = required("account ID", h.AccountID)
	}
	if err != nil {
		return fmt.Errorf("set chain head of %s: %w", h.AccountID, err)
	}
	res, err := t.s.exec(ctx, db, `INSERT INTO roster_chain_heads (account_id, last_id, last_hash, last_time, anchor_id, anchor_hash)
		SELECT ?, ?, ?, ?, ?, ?
		WHERE EXISTS (`+accountExists+`)
		ON CONFLICT (account_id) DO UPDATE SET last_id = excluded.last_id, last_hash = excluded.last_hash,
			last_time = excluded.last_time, anchor_id = excluded.anchor_id, anchor_hash = excluded.anchor_hash`,
		h.AccountID, h.LastID, blob(h.LastHash), toDB(h.LastTime), h.AnchorID, blob(h.AnchorHash),
		h.AccountID)
	if err != nil {
		return t.s.fail(ctx, err, "set chain head of %s", h.AccountID)
	}
	if n, err := res.RowsAffected(); err != nil {
		return t.s.fail(ctx, err, "set chain head of %s", h.AccountID)
	} else if n == 0 {
		return fmt.Errorf("set chain head of %s: %w: no such account", h.AccountID, store.ErrNotFound)
	}
	return nil
}

// explainEvents returns the database's plan for the statement with which
// Events and ScanEvents read the events matching f, one line per plan node:
// SQLite's EXPLAIN QUERY PLAN, or PostgreSQL's EXPLAIN. On PostgreSQL it
// turns sequential scans off for the explained statement, so that the plan
// shows which index would serve the query on a large table, whatever the
// table's size now. It is a diagnostic for checking that a filter is served
// by an index; the tests use it. It returns an error wrapping
// store.ErrInvalid for a malformed filter, store.ErrClosed after Close and
// store.ErrBackend on database failure. It is safe for concurrent use.
func (s *Store) explainEvents(ctx context.Context, f store.EventFilter) (string, error) {
	q, args, err := eventQuery(eventColumns, f)
	if err != nil {
		return "", fmt.Errorf("explain events: %w", err)
	}
	return s.explain(ctx, "explain events", q, args)
}

// explain returns the database's plan for the statement q with args, one
// line per plan node: SQLite's EXPLAIN QUERY PLAN, or PostgreSQL's EXPLAIN.
// On PostgreSQL it turns sequential scans off for the explained statement,
// so that the plan shows which index would serve the query on a large
// table, whatever the table's size now. op names the operation in errors.
func (s *Store) explain(ctx context.Context, op, q string, args []any) (string, error) {
	if s.closed.Load() {
		return "", errClosed(op)
	}
	gtx := s.r.WithContext(ctx).Begin()
	if err := gtx.Error; err != nil {
		return "", s.fail(ctx, err, "%s: begin", op)
	}
	defer gtx.Rollback() // nothing to keep
	explain := "EXPLAIN QUERY PLAN "
	if s.dialect == Postgres {
		explain = "EXPLAIN "
		if err := gtx.Exec("SET LOCAL enable_seqscan = off").Error; err != nil {
			return "", s.fail(ctx, err, "%s", op)
		}
	}
	rows, err := gtx.Raw(explain+q, args...).Rows()
	if err != nil {
		return "", s.fail(ctx, err, "%s", op)
	}
	defer rows.Close() // read to the end below; a close error adds nothing
	cols, err := rows.Columns()
	if err != nil {
		return "", s.fail(ctx, err, "%s", op)
	}
	var lines []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", s.fail(ctx, err, "%s: read plan", op)
		}
		lines = append(lines, vals[len(vals)-1].String) // SQLite: detail; PostgreSQL: QUERY PLAN
	}
	if err := rows.Err(); err != nil {
		return "", s.fail(ctx, err, "%s: read plan", op)
	}
	return strings.Join(lines, "\n"), nil
}

// EventsAfter returns the committed events after the position after, in
// stream order, as documented by store.Store and the package's "The event
// stream": by commit_seq, then by ID, and on PostgreSQL only those of
// transactions older than every one still running. It reads in one
// statement, served by the index on (commit_seq, id). It returns
// store.ErrInvalid for a negative event ID or a limit above
// store.MaxPageSize, store.ErrClosed after Close, the context's error
// (wrapped) if ctx ends first, and store.ErrBackend on database failure.
// It is safe for concurrent use.
func (s *Store) EventsAfter(ctx context.Context, after store.EventPosition, limit int) (_ []store.StreamEvent, err error) {
	limit, err = store.CheckEventsAfter(after, limit)
	if err != nil {
		return nil, fmt.Errorf("events after %d.%d: %w", after.Commit, after.ID, err)
	}
	if s.closed.Load() {
		return nil, errClosed("events after")
	}
	if after.Commit >= 1<<63 { // beyond any stored commit number (a BIGINT)
		return nil, nil
	}
	rows, err := s.r.WithContext(ctx).Raw("SELECT "+eventColumns+", commit_seq FROM roster_events WHERE (commit_seq, id) > (?, ?)"+
		settled[s.dialect]+" ORDER BY commit_seq, id LIMIT ?", int64(after.Commit), after.ID, limit).Rows()
	if err != nil {
		return nil, s.fail(ctx, err, "events after %d.%d", after.Commit, after.ID)
	}
	defer func() {
		if cerr := rows.Close(); cerr != nil && err == nil {
			err = s.fail(ctx, cerr, "events after %d.%d: close rows", after.Commit, after.ID)
		}
	}()
	var out []store.StreamEvent
	for rows.Next() {
		var commit int64
		e, err := scanEvent(rows, &commit)
		if err != nil {
			return nil, s.fail(ctx, err, "events after %d.%d: read row", after.Commit, after.ID)
		}
		out = append(out, store.StreamEvent{Position: store.EventPosition{Commit: uint64(commit), ID: e.ID}, Event: e})
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, err, "events after %d.%d: read rows", after.Commit, after.ID)
	}
	return out, nil
}

// settled is, per dialect, the condition EventsAfter adds so that it reads
// only events no later commit can come before: on PostgreSQL, those of
// transactions older than the oldest one still running, which have all
// ended (see commitSeq).
var settled = map[Dialect]string{
	SQLite:   "",
	Postgres: " AND commit_seq < pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
}

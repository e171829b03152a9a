package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"

	"gorm.io/gorm"

	"github.com/teamroster/roster/store"
)

// Snapshot reading.
//
// A snapshot of a million memberships is a million rows, so the way rows are
// read matters more than anything else when a Roster opens:
//
//   - Rows are scanned straight from database/sql into the strings the
//     driver already allocated, with no gorm scanning.
//   - Queries run with a context that has no Done channel: go-sqlite3 runs
//     every row of a query whose context can be cancelled in a goroutine of
//     its own, which costs more than reading the row. The caller's context
//     is checked between batches of rows instead.
//   - On SQLite, a membership comes back as one column holding the byte
//     lengths of its account and user IDs and the three values one after
//     the other ("30,31,acc_...user_...admin"), which Snapshot splits
//     without copying: go-sqlite3 makes three calls into C and allocates a
//     string for every column of every row, so one column instead of three
//     saves about a third of the time. The lengths come from the stored
//     bytes (length of the value cast to a BLOB), so any ID, including one
//     holding commas, digits or NUL bytes, splits exactly; the form is used
//     only on databases whose text encoding is UTF-8, the encoding the
//     driver returns text in.
//   - Rows are read by producer goroutines and handed in batches to the
//     goroutine that called Snapshot, which calls fn; reading and fn's work
//     run at the same time. On a SQLite file opened by OpenSQLite,
//     memberships are read by two connections at once, each scanning half
//     of the table, when both read transactions see the same revision (and
//     so the same memberships: every change to them increments it) and no
//     other snapshot is reading on two connections.

// snapshotBatch is how many rows a producer hands over at a time.
const snapshotBatch = 1024

// parallelMinRows is the default number of rowids below which a SQLite
// snapshot reads memberships on one connection only.
const parallelMinRows = 1 << 16

// rowSource is one query whose rows a producer reads.
type rowSource struct {
	tx    *gorm.DB
	query string
	args  []any
	form  rowForm
}

// rowForm says what the columns of a row are.
type rowForm int

const (
	accountIDs    rowForm = iota + 1 // an account ID and whether it requires secure sign-in
	memberCols                       // account ID, user ID, role
	packedMember                     // a membership packed into one column (see packedMembers)
	memberSignIns                    // account ID, user ID, role, sign-in method, then termCols
	memberTerms                      // account ID, user ID, role, then termCols
	liveKeys                         // an API key: ID, account ID, user ID, role, actions, hash, expiry
)

// termCols are the columns of a membership's terms that memberSignIns and
// memberTerms rows end with: its end time, the role it falls back to and
// when it was suspended.
const termCols = "until, fallback_role, suspended_at"

// plainMembers is the condition on the memberships that have no terms: no
// end time and no suspension (a role to fall back to needs an end time).
// The member sources read only them; Snapshot reads the others by
// memberTermsQuery.
const plainMembers = "until IS NULL AND suspended_at IS NULL"

// memberTermsQuery selects the memberships that have an end time or are
// suspended, in the columns of memberTerms, through the partial indexes
// that hold only them. Its verb is a further condition on both halves:
// notSecureMembers, or nothing.
const memberTermsQuery = `SELECT account_id, user_id, role, ` + termCols + ` FROM roster_members WHERE until IS NOT NULL%[1]s
	UNION ALL SELECT account_id, user_id, role, ` + termCols + ` FROM roster_members WHERE suspended_at IS NOT NULL AND until IS NULL%[1]s`

// notSecureMembers is the condition that leaves out the members of
// accounts that require secure sign-in.
const notSecureMembers = " AND account_id NOT IN (SELECT id FROM roster_accounts WHERE require_secure)"

// liveKeysQuery selects the API keys that are not revoked, in the columns
// of liveKeys.
const liveKeysQuery = "SELECT id, account_id, user_id, role, actions, hash, expires_at FROM roster_api_keys WHERE revoked_at IS NULL"

// packedMembers selects every membership packed into one text column:
// "<account ID byte length>,<user ID byte length>,<account ID><user ID><role>".
const packedMembers = "SELECT length(CAST(account_id AS BLOB)) || ',' || length(CAST(user_id AS BLOB)) || ',' || account_id || user_id || role FROM roster_members"

// unpack splits a row selected by packedMembers into it, sharing its bytes.
func unpack(row string, it *store.SnapshotItem) bool {
	la, rest, ok := cutLength(row)
	if !ok {
		return false
	}
	lu, rest, ok := cutLength(rest)
	if !ok || la > len(rest) || lu > len(rest)-la {
		return false
	}
	it.AccountID, it.UserID, it.Role = rest[:la], rest[la:la+lu], rest[la+lu:]
	return true
}

// cutLength reads a decimal length and the comma after it from the start of
// s, and returns the length and the rest of s.
func cutLength(s string) (int, string, bool) {
	n := 0
	for i := 0; i < len(s) && i < 10; i++ {
		switch c := s[i]; {
		case c == ',' && i > 0:
			return n, s[i+1:], true
		case c >= '0' && c <= '9':
			n = n*10 + int(c-'0')
		default:
			return 0, "", false
		}
	}
	return 0, "", false
}

// batch is what a producer hands to the consumer: items, or the error that
// stopped it.
type batch struct {
	items []store.SnapshotItem
	err   error
}

// beginSnapshot begins the read-only transaction a snapshot is read in, op
// naming it in errors, and returns it and the revision it sees; the caller
// rolls it back. It returns store.ErrClosed after Close.
func (s *Store) beginSnapshot(ctx context.Context, op string) (*gorm.DB, int64, error) {
	if s.closed.Load() {
		return nil, 0, errClosed(op)
	}
	gtx := s.r.WithContext(ctx).Begin(s.readOpts)
	if err := gtx.Error; err != nil {
		return nil, 0, s.fail(ctx, err, "%s: begin", op)
	}
	rev, err := s.readRevision(ctx, gtx)
	if err != nil {
		gtx.Rollback() // read-only
		return nil, 0, err
	}
	return gtx, rev, nil
}

// readRevision returns the revision a read transaction sees.
func (s *Store) readRevision(ctx context.Context, gtx *gorm.DB) (int64, error) {
	var rev int64
	res := gtx.Raw("SELECT revision FROM roster_meta WHERE id = 1").Scan(&rev)
	if res.Error != nil {
		return 0, s.fail(ctx, res.Error, "snapshot: read revision")
	}
	if res.RowsAffected != 1 {
		return 0, fmt.Errorf("snapshot: read revision: %w: roster_meta has no row", store.ErrBackend)
	}
	return rev, nil
}

// memberSources returns the queries that read the memberships without
// terms (see plainMembers) of the snapshot gtx, which saw revision rev: two
// halves of the table read by two connections when the store allows it and
// the table is large, else one query on gtx. With notSecure, they leave
// out the members of accounts that require secure sign-in. The returned
// function ends the second transaction, if any.
func (s *Store) memberSources(ctx context.Context, gtx *gorm.DB, rev int64, notSecure bool) ([]rowSource, func()) {
	all, form := "SELECT account_id, user_id, role FROM roster_members", memberCols
	if s.dialect == SQLite {
		var enc string
		if gtx.Raw("PRAGMA encoding").Row().Scan(&enc) == nil && enc == "UTF-8" {
			all, form = packedMembers, packedMember
		}
	}
	all += " WHERE " + plainMembers
	if notSecure {
		all += notSecureMembers
	}
	single := []rowSource{{tx: gtx, query: all, form: form}}
	none := func() {}
	if s.parallelMin == 0 {
		return single, none
	}
	var lo, hi sql.NullInt64
	row := gtx.Raw("SELECT min(rowid), max(rowid) FROM roster_members").Row()
	if row.Scan(&lo, &hi) != nil || !lo.Valid || hi.Int64-lo.Int64 < s.parallelMin {
		return single, none
	}
	// One snapshot at a time reads on two connections: snapshots that each
	// held one connection of the read pool and all waited for a second
	// would wait forever.
	select {
	case s.twoReaders <- struct{}{}:
	default:
		return single, none
	}
	release := func() { <-s.twoReaders }
	other := s.r.WithContext(ctx).Begin(s.readOpts)
	if other.Error != nil {
		release()
		return single, none
	}
	end := func() { other.Rollback(); release() } // read-only
	if rev2, err := s.readRevision(ctx, other); err != nil || rev2 != rev {
		end()
		return single, none // a commit came in between: read on one connection
	}
	mid := lo.Int64 + (hi.Int64-lo.Int64)/2
	return []rowSource{
		{tx: gtx, query: all + " AND rowid <= ?", args: []any{mid}, form: form},
		{tx: other, query: all + " AND rowid > ?", args: []any{mid}, form: form},
	}, end
}

// pipe reads the rows of every source in producer goroutines and calls fn
// for each of them, one at a time, from the calling goroutine. It stops at
// the first error: fn's, returned unchanged, a database error, or ctx's. It
// returns only after every producer has stopped.
func (s *Store) pipe(ctx context.Context, fn func(store.SnapshotItem) error, sources ...rowSource) error {
	out := make(chan batch, 2*len(sources))
	free := make(chan []store.SnapshotItem, 4*len(sources))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, src := range sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.produce(ctx, src, out, free, stop); err != nil {
				select {
				case out <- batch{err: err}:
				case <-stop:
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(out)
	}()

	var err error
	for b := range out {
		if err == nil {
			err = b.err
		}
		if err == nil {
			err = ctx.Err()
			if err != nil {
				err = s.fail(ctx, err, "snapshot")
			}
		}
		if err == nil {
			for _, it := range b.items {
				if err = fn(it); err != nil {
					break
				}
			}
		}
		if err != nil {
			select {
			case <-stop:
			default:
				close(stop) // the producers stop; out is drained until they have
			}
			continue
		}
		select {
		case free <- b.items[:0]:
		default:
		}
	}
	return err
}

// produce reads the rows of src and sends them to out in batches, taking
// batch buffers from free when it can, until the rows end or stop is
// closed. It returns the database's error, if any.
func (s *Store) produce(ctx context.Context, src rowSource, out chan<- batch, free <-chan []store.SnapshotItem, stop <-chan struct{}) (err error) {
	// Without a Done channel go-sqlite3 reads rows on this goroutine; pipe
	// checks ctx between batches.
	rows, err := src.tx.Statement.ConnPool.QueryContext(context.WithoutCancel(ctx), src.query, src.args...)
	if err != nil {
		return s.fail(ctx, err, "snapshot: query")
	}
	defer func() {
		if cerr := rows.Close(); cerr != nil && err == nil {
			err = s.fail(ctx, cerr, "snapshot: close rows")
		}
	}()
	next := func() []store.SnapshotItem {
		select {
		case b := <-free:
			return b
		default:
			return make([]store.SnapshotItem, 0, snapshotBatch)
		}
	}
	items := next()
	for rows.Next() {
		var it store.SnapshotItem
		switch src.form {
		case accountIDs:
			err = rows.Scan(&it.AccountID, &it.RequireSecure)
		case memberCols:
			err = rows.Scan(&it.AccountID, &it.UserID, &it.Role)
		case memberSignIns:
			var until, suspended sql.NullTime
			if err = rows.Scan(&it.AccountID, &it.UserID, &it.Role, &it.SignIn, &until, &it.FallbackRole, &suspended); err == nil {
				it.ExpiresAt, it.Suspended = fromDB(until), suspended.Valid
			}
		case memberTerms:
			var until, suspended sql.NullTime
			if err = rows.Scan(&it.AccountID, &it.UserID, &it.Role, &until, &it.FallbackRole, &suspended); err == nil {
				it.ExpiresAt, it.Suspended = fromDB(until), suspended.Valid
			}
		case liveKeys:
			var actions sql.NullString
			var expires sql.NullTime
			if err = rows.Scan(&it.Key, &it.AccountID, &it.UserID, &it.Role, &actions, &it.KeyHash, &expires); err == nil {
				it.Actions, it.KeyHash, it.ExpiresAt = fromKeyActions(actions), fromBlob(it.KeyHash), fromDB(expires)
			}
		case packedMember:
			var row string
			if err = rows.Scan(&row); err == nil && !unpack(row, &it) {
				return fmt.Errorf("snapshot: read row: %w: malformed packed membership %q", store.ErrBackend, row)
			}
		}
		if err != nil {
			return s.fail(ctx, err, "snapshot: read row")
		}
		items = append(items, it)
		if len(items) == cap(items) {
			select {
			case out <- batch{items: items}:
			case <-stop:
				return nil
			}
			items = next()
		}
	}
	if err := rows.Err(); err != nil {
		return s.fail(ctx, err, "snapshot: read rows")
	}
	if len(items) > 0 {
		select {
		case out <- batch{items: items}:
		case <-stop:
		}
	}
	return nil
}

// accountBatch is how many account IDs SnapshotAccounts puts in one query.
const accountBatch = 500

// accountsQuery reads the accounts whose IDs fill its IN lists (%[1]s),
// their team roles (one row per action), live API keys and memberships, the
// sign-in methods of the members of those that require secure sign-in (the
// users of the others are not read), and the store's revision, in one
// statement: one round trip, and one snapshot of the database (a
// statement's own, on either backend). Its rows have the columns of
// partRow, by kind; the memberships come first, so that SQLite types the
// time columns from theirs, with the other columns' types cast, so that
// PostgreSQL need not guess them from NULLs.
const accountsQuery = `SELECT 4, m.account_id, m.user_id, m.role, NULL, m.fallback_role, m.until, m.suspended_at,
		CAST(NULL AS BOOLEAN), CAST(NULL AS {blob}), CAST(NULL AS BIGINT)
	FROM roster_members m WHERE m.account_id%[1]s
UNION ALL SELECT 5, m.account_id, m.user_id, NULL, u.sign_in, NULL, NULL, NULL, NULL, NULL, NULL
	FROM roster_members m JOIN roster_accounts a ON a.id = m.account_id AND a.require_secure
	JOIN roster_users u ON u.id = m.user_id WHERE m.account_id%[1]s
UNION ALL SELECT 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, revision FROM roster_meta WHERE id = 1
UNION ALL SELECT 1, id, NULL, NULL, NULL, NULL, NULL, NULL, require_secure, NULL, NULL FROM roster_accounts WHERE id%[1]s
UNION ALL SELECT 2, r.account_id, r.name, c.v1, NULL, NULL, NULL, NULL, NULL, NULL, NULL
	FROM roster_team_roles r LEFT JOIN ` + casbinTable + ` c ON c.ptype = 'p' AND c.v0 = r.account_id || '/' || r.name WHERE r.account_id%[1]s
UNION ALL SELECT 3, account_id, user_id, role, actions, id, expires_at, NULL, NULL, hash, NULL
	FROM roster_api_keys WHERE revoked_at IS NULL AND account_id%[1]s`

// partRow is a row of accountsQuery. Kind 0 is the revision (rev); 1
// an account (account, secure); 2 an action of a team role (account, user
// holding its name, role its action, NULL if it has none); 3 a live API
// key (account, user, role, text holding its actions, text2 its ID, at its
// expiry, hash); 4 a membership (account, user, role, text2 its fallback
// role, at its end time, at2 its suspension); 5 the sign-in method (text)
// of a member (account, user) of an account that requires secure sign-in.
type partRow struct {
	kind                             int
	account, user, role, text, text2 sql.NullString
	at, at2                          sql.NullTime
	secure                           sql.NullBool
	hash                             []byte
	rev                              sql.NullInt64
}

// SnapshotAccounts calls fn for the items of the given accounts, all read at
// one revision, and returns it, as documented by store.AccountReader: each
// account that exists, its team roles, its live API keys and its
// memberships with their terms and, in accounts that require secure
// sign-in, their members' sign-in methods. Up to a few hundred accounts are
// read in one statement (accountsQuery), without a transaction; more, in
// one such statement per few hundred, in one read-only transaction, each
// of which must see the transaction's revision. SnapshotAccounts returns
// fn's error unchanged, store.ErrClosed after Close, the context's error
// (wrapped) if ctx ends first, and store.ErrBackend on database failure.
// It is safe for concurrent use.
func (s *Store) SnapshotAccounts(ctx context.Context, accounts []string, fn func(store.SnapshotItem) error) (store.Revision, error) {
	if s.closed.Load() {
		return 0, errClosed("snapshot accounts")
	}
	ids := slices.Compact(slices.Sorted(slices.Values(accounts)))
	pool, txRev := s.r.Statement.ConnPool, int64(-1)
	if len(ids) > accountBatch {
		gtx, rev, err := s.beginSnapshot(ctx, "snapshot accounts")
		if err != nil {
			return 0, err
		}
		defer gtx.Rollback() // read-only
		pool, txRev = gtx.Statement.ConnPool, rev
	}
	var rev store.Revision
	for first := 0; first == 0 || first < len(ids); first += accountBatch {
		var err error
		if rev, err = s.readAccounts(ctx, pool, ids[first:min(first+accountBatch, len(ids))], fn); err != nil {
			return 0, err
		}
		if txRev >= 0 && int64(rev) != txRev {
			return 0, fmt.Errorf("snapshot accounts: %w: revision %d in a transaction at %d", store.ErrBackend, rev, txRev)
		}
	}
	return rev, nil
}

// readAccounts reads the accounts with accountsQuery on pool and calls fn
// for their items, and returns the revision they reflect.
func (s *Store) readAccounts(ctx context.Context, pool gorm.ConnPool, ids []string, fn func(store.SnapshotItem) error) (store.Revision, error) {
	in, args := s.inList(ids)
	rows, err := pool.QueryContext(ctx, fmt.Sprintf(placeholders[s.dialect].Replace(accountsQuery), in), args...)
	if err != nil {
		return 0, s.fail(ctx, err, "snapshot accounts: query")
	}
	defer rows.Close()
	var (
		rev    = int64(-1)
		items  []store.SnapshotItem // accounts, keys, memberships
		roles  []store.SnapshotItem // in the order their first action came
		roleAt = map[[2]string]int{}
		// The sign-in methods of the members of accounts that require
		// secure sign-in, by account and user: their rows may come before
		// or after the memberships'.
		signIns = map[[2]string]store.SignIn{}
	)
	for rows.Next() {
		var r partRow
		if err := rows.Scan(&r.kind, &r.account, &r.user, &r.role, &r.text, &r.text2, &r.at, &r.at2, &r.secure, &r.hash, &r.rev); err != nil {
			return 0, s.fail(ctx, err, "snapshot accounts: read row")
		}
		switch r.kind {
		case 0:
			rev = r.rev.Int64
		case 1:
			items = append(items, store.SnapshotItem{AccountID: r.account.String, RequireSecure: r.secure.Bool})
		case 2:
			key := [2]string{r.account.String, r.user.String}
			i, ok := roleAt[key]
			if !ok {
				i, roleAt[key] = len(roles), len(roles)
				roles = append(roles, store.SnapshotItem{AccountID: key[0], Role: key[1], Actions: []string{}})
			}
			if r.role.Valid {
				roles[i].Actions = append(roles[i].Actions, r.role.String)
			}
		case 3:
			items = append(items, store.SnapshotItem{Key: r.text2.String, AccountID: r.account.String, UserID: r.user.String, Role: r.role.String,
				Actions: fromKeyActions(r.text), KeyHash: fromBlob(r.hash), ExpiresAt: fromDB(r.at)})
		case 4:
			items = append(items, store.SnapshotItem{AccountID: r.account.String, UserID: r.user.String, Role: r.role.String,
				FallbackRole: r.text2.String, ExpiresAt: fromDB(r.at), Suspended: r.at2.Valid})
		case 5:
			signIns[[2]string{r.account.String, r.user.String}] = store.SignIn(r.text.String)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, s.fail(ctx, err, "snapshot accounts: read rows")
	}
	if rev < 0 {
		return 0, fmt.Errorf("snapshot accounts: %w: roster_meta has no row", store.ErrBackend)
	}
	for _, r := range roles {
		slices.Sort(r.Actions) // as Snapshot orders them
	}
	for _, it := range append(roles, items...) {
		if len(signIns) > 0 && it.Key == "" && it.UserID != "" { // a membership
			it.SignIn = signIns[[2]string{it.AccountID, it.UserID}]
		}
		if err := fn(it); err != nil {
			return 0, err
		}
	}
	return store.Revision(rev), nil
}

// inList returns " IN (...)" with a numbered placeholder for each of ids,
// in the dialect's form ("?1" on SQLite, "$1" on PostgreSQL), so that a
// query may name the list more than once, and ids as the query's
// arguments.
func (s *Store) inList(ids []string) (string, []any) {
	var b strings.Builder
	args := make([]any, len(ids))
	b.WriteString(" IN (")
	mark := "$"
	if s.dialect == SQLite {
		mark = "?"
	}
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s%d", mark, i+1)
		args[i] = id
	}
	if len(ids) == 0 {
		b.WriteString("NULL")
	}
	b.WriteByte(')')
	return b.String(), args
}

var _ store.AccountReader = (*Store)(nil)

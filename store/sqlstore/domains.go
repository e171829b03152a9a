package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"gorm.io/gorm"

	"github.com/teamroster/roster/store"
)

// A team's claims of email domains are the rows of roster_domains (see
// migration 7), keyed by account and name: the primary key serves Domain,
// and Domains in name order. The partial unique index
// roster_domains_verified holds the verified claims, one per name: it is
// what keeps a domain verified for one team at a time when confirmations
// race, and it serves VerifiedDomain. No claim is part of Snapshot or the
// change feed.

// domainColumns lists the columns of roster_domains in the order of
// domainRow.dest.
const domainColumns = "name, account_id, mode, role, challenge, verified_at, created_by, created_at"

const (
	domainExists = "SELECT 1 FROM roster_domains WHERE name = ? AND account_id = ?"
	// domainVerifiedElsewhere finds another team's verified claim of a
	// name, through roster_domains_verified.
	domainVerifiedElsewhere = "SELECT 1 FROM roster_domains WHERE name = ? AND verified_at IS NOT NULL AND account_id <> ?"
	// domainQuery, domainsQuery and verifiedDomainQuery are the reads of
	// Domain and Domains (by the primary key, in its order) and
	// VerifiedDomain (by roster_domains_verified).
	domainQuery         = "SELECT " + domainColumns + " FROM roster_domains WHERE name = ? AND account_id = ?"
	domainsQuery        = "SELECT " + domainColumns + " FROM roster_domains WHERE account_id = ? ORDER BY name"
	verifiedDomainQuery = "SELECT " + domainColumns + " FROM roster_domains WHERE name = ? AND verified_at IS NOT NULL"
	// updateDomain replaces what UpdateDomain replaces; verifying adds
	// "AND NOT EXISTS (domainVerifiedElsewhere)".
	updateDomain = "UPDATE roster_domains SET mode = ?, role = ?, verified_at = ? WHERE name = ? AND account_id = ?"
)

// validMode returns an error wrapping store.ErrInvalid unless m is a
// domain mode.
func validMode(m store.DomainMode) error {
	if !m.Valid() {
		return fmt.Errorf("%w: unknown domain mode %q", store.ErrInvalid, m)
	}
	return nil
}

// CreateDomain implements store.Tx with one INSERT ... SELECT that checks
// the account and skips a claim the team has already.
func (t *tx) CreateDomain(ctx context.Context, d store.Domain) error {
	db, err := t.use(ctx, true)
	switch {
	case err != nil: // returned below
	case d.Name == "" || d.AccountID == "":
		err = fmt.Errorf("%w: a domain claim needs a name and an account", store.ErrInvalid)
	case !d.Mode.Valid():
		err = validMode(d.Mode)
	case d.Verified():
		err = fmt.Errorf("%w: a new claim is not verified yet", store.ErrInvalid)
	}
	if err != nil {
		return fmt.Errorf("create domain %s of %s: %w", d.Name, d.AccountID, err)
	}
	n, err := t.s.execCount(ctx, db, `INSERT INTO roster_domains (`+domainColumns+`)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?
		WHERE EXISTS (`+accountExists+`)
		ON CONFLICT DO NOTHING`,
		d.Name, d.AccountID, string(d.Mode), d.Role, d.Challenge, toDB(d.VerifiedAt), d.CreatedBy, toDB(d.CreatedAt),
		d.AccountID)
	if err != nil {
		return t.s.fail(ctx, err, "create domain %s of %s", d.Name, d.AccountID)
	}
	if n == 0 {
		err := t.why(db,
			check{domainExists, []any{d.Name, d.AccountID}, true, store.ErrExists, "the team claims the domain already"},
			check{accountExists, []any{d.AccountID}, false, store.ErrNotFound, "no such account"},
		)
		return t.wrap(ctx, err, "create domain %s of %s", d.Name, d.AccountID)
	}
	return nil
}

// domainRow is a row of roster_domains.
type domainRow struct {
	Name, AccountID, Mode, Role, Challenge, CreatedBy string
	Verified, Created                                 sql.NullTime
}

// dest returns the fields of r in the order of domainColumns, for Scan.
func (r *domainRow) dest() []any {
	return []any{&r.Name, &r.AccountID, &r.Mode, &r.Role, &r.Challenge, &r.Verified, &r.CreatedBy, &r.Created}
}

func (r domainRow) domain() store.Domain {
	return store.Domain{Name: r.Name, AccountID: r.AccountID, Mode: store.DomainMode(r.Mode), Role: r.Role,
		Challenge: r.Challenge, VerifiedAt: fromDB(r.Verified), CreatedBy: r.CreatedBy, CreatedAt: fromDB(r.Created)}
}

// domains returns the claims that query, a SELECT of domainColumns,
// returns.
func (t *tx) domains(ctx context.Context, db *gorm.DB, query string, args ...any) (ds []store.Domain, err error) {
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
		var r domainRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, err
		}
		ds = append(ds, r.domain())
	}
	return ds, rows.Err()
}

// Domain implements store.Tx.
func (t *tx) Domain(ctx context.Context, name, accountID string) (store.Domain, error) {
	db, err := t.use(ctx, false)
	if err != nil {
		return store.Domain{}, fmt.Errorf("domain %s of %s: %w", name, accountID, err)
	}
	var r domainRow
	if err := t.s.queryRow(ctx, db, domainQuery, name, accountID).Scan(r.dest()...); err != nil {
		return store.Domain{}, t.s.fail(ctx, err, "domain %s of %s", name, accountID)
	}
	return r.domain(), nil
}

// Domains implements store.Tx: one range scan of the primary key.
func (t *tx) Domains(ctx context.Context, accountID string) ([]store.Domain, error) {
	db, err := t.use(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("domains of %s: %w", accountID, err)
	}
	ds, err := t.domains(ctx, db, domainsQuery, accountID)
	if err != nil {
		return nil, t.s.fail(ctx, err, "domains of %s", accountID)
	}
	return ds, nil
}

// VerifiedDomain implements store.Tx: one lookup in
// roster_domains_verified, which holds at most one claim of a name.
func (t *tx) VerifiedDomain(ctx context.Context, name string) (store.Domain, error) {
	db, err := t.use(ctx, false)
	if err != nil {
		return store.Domain{}, fmt.Errorf("verified domain %s: %w", name, err)
	}
	var r domainRow
	if err := t.s.queryRow(ctx, db, verifiedDomainQuery, name).Scan(r.dest()...); err != nil {
		return store.Domain{}, t.s.fail(ctx, err, "verified domain %s", name)
	}
	return r.domain(), nil
}

// UpdateDomain implements store.Tx with one UPDATE of the claim. A verified
// claim is written only if no other team's claim of the name is verified,
// which the statement checks. Of two transactions verifying claims of one
// name at once, both may pass that check; the second to write then waits
// for the first on roster_domains_verified and, once the first commits,
// fails on it. On PostgreSQL that statement runs under a savepoint (see
// savepoint), so the loser gets store.ErrExists in a transaction that goes
// on, as it would have had the first committed earlier. On SQLite writers
// run one at a time and the check suffices.
func (t *tx) UpdateDomain(ctx context.Context, d store.Domain) error {
	db, err := t.use(ctx, true)
	if err == nil {
		err = validMode(d.Mode)
	}
	if err != nil {
		return fmt.Errorf("update domain %s of %s: %w", d.Name, d.AccountID, err)
	}
	var n int64
	write := func() error {
		q, args := updateDomain, []any{string(d.Mode), d.Role, toDB(d.VerifiedAt), d.Name, d.AccountID}
		if d.Verified() {
			q, args = q+" AND NOT EXISTS ("+domainVerifiedElsewhere+")", append(args, d.Name, d.AccountID)
		}
		var err error
		n, err = t.s.execCount(ctx, db, q, args...)
		return err
	}
	if d.Verified() {
		err = t.savepoint(db, "roster_update_domain", write)
	} else {
		err = write() // a pending claim is not in roster_domains_verified
	}
	if err != nil {
		return t.s.fail(ctx, err, "update domain %s of %s", d.Name, d.AccountID)
	}
	if n == 0 {
		err := t.why(db,
			check{domainExists, []any{d.Name, d.AccountID}, false, store.ErrNotFound, "no such claim"},
			check{domainVerifiedElsewhere, []any{d.Name, d.AccountID}, true, store.ErrExists, "another team's claim is verified"},
		)
		return t.wrap(ctx, err, "update domain %s of %s", d.Name, d.AccountID)
	}
	return nil
}

// DeleteDomain implements store.Tx.
func (t *tx) DeleteDomain(ctx context.Context, name, accountID string) error {
	db, err := t.use(ctx, true)
	if err != nil {
		return fmt.Errorf("delete domain %s of %s: %w", name, accountID, err)
	}
	n, err := t.s.execCount(ctx, db, "DELETE FROM roster_domains WHERE name = ? AND account_id = ?", name, accountID)
	if err != nil {
		return t.s.fail(ctx, err, "delete domain %s of %s", name, accountID)
	}
	if n == 0 {
		return fmt.Errorf("delete domain %s of %s: %w", name, accountID, store.ErrNotFound)
	}
	return nil
}

// explainDomainReads returns the database's plans, by name, for the
// statements with which a Tx reads the claim of d1.example by account x1
// ("domain"), the claims of x1 ("domains"), the verified claim of
// d1.example ("verified domain"), and looks for another team's verified
// claim of it as UpdateDomain does ("verified elsewhere"); see explain. It
// returns store.ErrClosed after Close and store.ErrBackend on database
// failure. It is safe for concurrent use.
func (s *Store) explainDomainReads(ctx context.Context) (map[string]string, error) {
	plans := map[string]string{}
	for _, st := range []struct {
		name, query string
		args        []any
	}{
		{"domain", domainQuery, []any{"d1.example", "x1"}},
		{"domains", domainsQuery, []any{"x1"}},
		{"verified domain", verifiedDomainQuery, []any{"d1.example"}},
		{"verified elsewhere", domainVerifiedElsewhere, []any{"d1.example", "x1"}},
	} {
		plan, err := s.explain(ctx, "explain "+st.name, st.query, st.args)
		if err != nil {
			return nil, err
		}
		plans[st.name] = plan
	}
	return plans, nil
}

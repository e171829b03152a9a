package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/teamroster/roster/store"
)

const (
	domainColumns = "name, account_id, mode, role, challenge, verified_at, created_by, created_at"
	domainExists  = "SELECT 1 FROM roster_domains WHERE name = ? AND account_id = ?"
	// domainVerifiedElsewhere finds another team's verified claim.
	domainVerifiedElsewhere = "SELECT 1 FROM roster_domains WHERE name = ? AND verified_at IS NOT NULL AND account_id <> ?"
)

// validDomain returns an error wrapping store.ErrInvalid unless d names a
// domain and an account and has a valid mode.
func validDomain(d store.Domain) error {
	switch {
	case d.Name == "" || d.AccountID == "":
		return fmt.Errorf("%w: a domain claim needs a name and an account", store.ErrInvalid)
	case !d.Mode.Valid():
		return fmt.Errorf("%w: domain mode %q", store.ErrInvalid, d.Mode)
	}
	return nil
}

// CreateDomain implements store.Tx.
func (t *tx) CreateDomain(ctx context.Context, d store.Domain) error {
	db, err := t.use(ctx, true)
	if err == nil {
		err = validDomain(d)
	}
	if err == nil && d.Verified() {
		err = fmt.Errorf("%w: a new claim is not verified", store.ErrInvalid)
	}
	if err != nil {
		return fmt.Errorf("create domain %s of %s: %w", d.Name, d.AccountID, err)
	}
	res, err := t.s.exec(ctx, db, `INSERT INTO roster_domains (`+domainColumns+`)
		SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (`+accountExists+`) ON CONFLICT DO NOTHING`,
		d.Name, d.AccountID, string(d.Mode), d.Role, d.Challenge, toDB(d.VerifiedAt), d.CreatedBy, toDB(d.CreatedAt), d.AccountID)
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	if err != nil {
		return t.s.fail(ctx, err, "create domain %s of %s", d.Name, d.AccountID)
	}
	if n == 0 {
		return t.wrap(ctx, t.why(db,
			check{domainExists, []any{d.Name, d.AccountID}, true, store.ErrExists, "the team claims the domain already"},
			check{accountExists, []any{d.AccountID}, false, store.ErrNotFound, "no such account"},
		), "create domain %s of %s", d.Name, d.AccountID)
	}
	return nil
}

// domainRow is a row of roster_domains as read.
type domainRow struct {
	Name, AccountID, Mode, Role, Challenge, CreatedBy string
	Verified, Created                                 sql.NullTime
}

func (r *domainRow) dest() []any {
	return []any{&r.Name, &r.AccountID, &r.Mode, &r.Role, &r.Challenge, &r.Verified, &r.CreatedBy, &r.Created}
}

func (r domainRow) domain() store.Domain {
	return store.Domain{Name: r.Name, AccountID: r.AccountID, Mode: store.DomainMode(r.Mode), Role: r.Role, Challenge: r.Challenge,
		VerifiedAt: fromDB(r.Verified), CreatedBy: r.CreatedBy, CreatedAt: fromDB(r.Created)}
}

// domainsWhere returns the claims a query on roster_domains selects.
func (t *tx) domainsWhere(ctx context.Context, where string, args ...any) ([]store.Domain, error) {
	db, err := t.use(ctx, false)
	if err != nil {
		return nil, err
	}
	rows, err := db.Statement.ConnPool.QueryContext(ctx, t.s.bind("SELECT "+domainColumns+" FROM roster_domains WHERE "+where+" ORDER BY name, account_id"), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Domain
	for rows.Next() {
		var r domainRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, err
		}
		out = append(out, r.domain())
	}
	return out, rows.Err()
}

// Domain implements store.Tx.
func (t *tx) Domain(ctx context.Context, name, accountID string) (store.Domain, error) {
	ds, err := t.domainsWhere(ctx, "name = ? AND account_id = ?", name, accountID)
	if err == nil && len(ds) == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Domain{}, t.wrap(ctx, err, "domain %s of %s", name, accountID)
	}
	return ds[0], nil
}

// Domains implements store.Tx.
func (t *tx) Domains(ctx context.Context, accountID string) ([]store.Domain, error) {
	ds, err := t.domainsWhere(ctx, "account_id = ?", accountID)
	if err != nil {
		return nil, t.wrap(ctx, err, "domains of %s", accountID)
	}
	return ds, nil
}

// VerifiedDomain implements store.Tx.
func (t *tx) VerifiedDomain(ctx context.Context, name string) (store.Domain, error) {
	ds, err := t.domainsWhere(ctx, "name = ? AND verified_at IS NOT NULL", name)
	if err == nil && len(ds) == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Domain{}, t.wrap(ctx, err, "verified domain %s", name)
	}
	return ds[0], nil
}

// UpdateDomain implements store.Tx. Another team's verified claim is looked
// for first, so that the usual case changes nothing and leaves the
// transaction usable; two confirmations racing meet the unique index, and
// the loser's error wraps store.ErrExists (on PostgreSQL its transaction
// can then only roll back).
func (t *tx) UpdateDomain(ctx context.Context, d store.Domain) error {
	db, err := t.use(ctx, true)
	if err == nil {
		err = validDomain(d)
	}
	if err != nil {
		return fmt.Errorf("update domain %s of %s: %w", d.Name, d.AccountID, err)
	}
	if d.Verified() {
		taken, err := exists(db, domainVerifiedElsewhere, d.Name, d.AccountID)
		if err != nil {
			return t.s.fail(ctx, err, "update domain %s of %s", d.Name, d.AccountID)
		}
		if taken {
			return fmt.Errorf("update domain %s of %s: %w: another team has it verified", d.Name, d.AccountID, store.ErrExists)
		}
	}
	res, err := t.s.exec(ctx, db, "UPDATE roster_domains SET mode = ?, role = ?, verified_at = ? WHERE name = ? AND account_id = ?",
		string(d.Mode), d.Role, toDB(d.VerifiedAt), d.Name, d.AccountID)
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	if err != nil {
		return t.s.fail(ctx, err, "update domain %s of %s", d.Name, d.AccountID)
	}
	if n == 0 {
		return fmt.Errorf("update domain %s of %s: %w", d.Name, d.AccountID, store.ErrNotFound)
	}
	return nil
}

// DeleteDomain implements store.Tx.
func (t *tx) DeleteDomain(ctx context.Context, name, accountID string) error {
	db, err := t.use(ctx, true)
	if err != nil {
		return fmt.Errorf("delete domain %s of %s: %w", name, accountID, err)
	}
	res, err := t.s.exec(ctx, db, "DELETE FROM roster_domains WHERE name = ? AND account_id = ?", name, accountID)
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	if err != nil {
		return t.s.fail(ctx, err, "delete domain %s of %s", name, accountID)
	}
	if n == 0 {
		return fmt.Errorf("delete domain %s of %s: %w", name, accountID, store.ErrNotFound)
	}
	return nil
}

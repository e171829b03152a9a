package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	gormadapter "github.com/casbin/gorm-adapter/v3"
	"gorm.io/gorm"

	"github.com/teamroster/roster/store"
)

// Team roles are kept in two places written in one transaction: the role's
// name and metadata in roster_team_roles, and its actions as Casbin policy
// rules "p, <account>/<role>, <action>" in roster_casbin_rule, written
// through the Casbin gorm adapter, so that a Casbin enforcer loading that
// table through the adapter sees every team's roles.

// casbinTable is the table name the gorm adapter builds from its prefix
// and name.
const (
	casbinPrefix = "roster"
	casbinName   = "casbin_rule"
	casbinTable  = casbinPrefix + "_" + casbinName
)

// casbinFieldLen is the size of the Casbin rule table's columns
// (varchar(100), as the gorm adapter creates them).
const casbinFieldLen = 100

// casbinRules returns a gorm adapter writing to the Casbin rule table
// through db (a transaction). It leaves the schema alone: the migrations
// create the table and its unique index as the adapter would.
func casbinRules(db *gorm.DB) (*gormadapter.Adapter, error) {
	db = db.Session(&gorm.Session{})
	gormadapter.TurnOffAutoMigrate(db)
	return gormadapter.NewAdapterByDBUseTableName(db, casbinPrefix, casbinName)
}

// casbinSubject is the subject under which a team role's actions are stored
// as Casbin policy rules: the account ID and the role name joined by a
// slash. A Casbin model that reads roster_casbin_rule grants a member the
// role through the grouping rule "g, <user>, <account>/<role>, <account>".
func casbinSubject(accountID, role string) string { return accountID + "/" + role }

// PutTeamRole implements store.Tx.
func (t *tx) PutTeamRole(ctx context.Context, r store.TeamRole) error {
	fail := func(err error) error {
		return fmt.Errorf("put team role %s/%s: %w", r.AccountID, r.Name, err)
	}
	db, err := t.use(ctx, true)
	if err == nil {
		err = required("account ID", r.AccountID)
	}
	if err == nil {
		err = required("role name", r.Name)
	}
	if err != nil {
		return fail(err)
	}
	if len(casbinSubject(r.AccountID, r.Name)) > casbinFieldLen {
		return fail(fmt.Errorf("%w: account ID and role name together exceed %d bytes", store.ErrInvalid, casbinFieldLen-1))
	}
	actions := slices.Clone(r.Actions)
	slices.Sort(actions)
	for i, a := range actions {
		if a == "" || len(a) > casbinFieldLen || strings.Contains(a, " ") || (i > 0 && actions[i-1] == a) {
			return fail(fmt.Errorf("%w: empty, repeated, oversized or spaced action %q", store.ErrInvalid, a))
		}
	}
	if ok, err := exists(db, accountExists, r.AccountID); err != nil {
		return t.s.fail(ctx, err, "put team role %s/%s", r.AccountID, r.Name)
	} else if !ok {
		return fail(store.ErrNotFound)
	}
	res := db.Exec(`UPDATE roster_team_roles SET updated_at = ? WHERE account_id = ? AND name = ?`,
		toDB(r.UpdatedAt), r.AccountID, r.Name)
	if res.Error == nil && res.RowsAffected == 0 {
		res = db.Exec(`INSERT INTO roster_team_roles (account_id, name, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			r.AccountID, r.Name, r.CreatedBy, toDB(r.CreatedAt), toDB(r.UpdatedAt))
	}
	if res.Error != nil {
		return t.s.fail(ctx, res.Error, "put team role %s/%s", r.AccountID, r.Name)
	}
	a, err := casbinRules(db)
	if err == nil {
		err = a.RemoveFilteredPolicyCtx(ctx, "p", "p", 0, casbinSubject(r.AccountID, r.Name))
	}
	if err == nil && len(actions) > 0 {
		rules := make([][]string, len(actions))
		for i, act := range actions {
			rules[i] = []string{casbinSubject(r.AccountID, r.Name), act}
		}
		err = a.AddPolicies("p", "p", rules)
	}
	if err != nil {
		return t.s.fail(ctx, err, "put team role %s/%s: casbin rules", r.AccountID, r.Name)
	}
	t.changes = append(t.changes, store.Change{Op: store.RoleSet, AccountID: r.AccountID, Role: r.Name, Actions: actions})
	return nil
}

// TeamRole implements store.Tx.
func (t *tx) TeamRole(ctx context.Context, accountID, name string) (store.TeamRole, error) {
	roles, err := t.teamRoles(ctx, accountID, name)
	if err != nil {
		return store.TeamRole{}, fmt.Errorf("team role %s/%s: %w", accountID, name, err)
	}
	if len(roles) == 0 {
		return store.TeamRole{}, fmt.Errorf("team role %s/%s: %w", accountID, name, store.ErrNotFound)
	}
	return roles[0], nil
}

// TeamRoles implements store.Tx.
func (t *tx) TeamRoles(ctx context.Context, accountID string) ([]store.TeamRole, error) {
	roles, err := t.teamRoles(ctx, accountID, "")
	if err != nil {
		return nil, fmt.Errorf("team roles of %s: %w", accountID, err)
	}
	return roles, nil
}

// teamRoles reads the account's team roles, or only the one named name.
func (t *tx) teamRoles(ctx context.Context, accountID, name string) ([]store.TeamRole, error) {
	db, err := t.use(ctx, false)
	if err != nil {
		return nil, err
	}
	q := db.Model(&teamRoleRow{}).Where("account_id = ?", accountID)
	if name != "" {
		q = q.Where("name = ?", name)
	}
	var rows []teamRoleRow
	if err := q.Order("name").Find(&rows).Error; err != nil {
		return nil, t.s.fail(ctx, err, "read team roles")
	}
	roles := make([]store.TeamRole, len(rows))
	for i, r := range rows {
		roles[i] = r.role()
		if roles[i].Actions, err = roleActions(db, accountID, r.Name); err != nil {
			return nil, t.s.fail(ctx, err, "read team role actions")
		}
	}
	return roles, nil
}

// roleActions reads a team role's actions from the Casbin rule table, sorted.
func roleActions(db *gorm.DB, accountID, name string) ([]string, error) {
	actions := []string{}
	err := db.Table(casbinTable).Where("ptype = ? AND v0 = ?", "p", casbinSubject(accountID, name)).
		Order("v1").Pluck("v1", &actions).Error
	return actions, err
}

// DeleteTeamRole implements store.Tx.
func (t *tx) DeleteTeamRole(ctx context.Context, accountID, name string) error {
	db, err := t.use(ctx, true)
	if err != nil {
		return fmt.Errorf("delete team role %s/%s: %w", accountID, name, err)
	}
	res := db.Exec(`DELETE FROM roster_team_roles WHERE account_id = ? AND name = ?`, accountID, name)
	if res.Error != nil {
		return t.s.fail(ctx, res.Error, "delete team role %s/%s", accountID, name)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("delete team role %s/%s: %w", accountID, name, store.ErrNotFound)
	}
	a, err := casbinRules(db)
	if err == nil {
		err = a.RemoveFilteredPolicyCtx(ctx, "p", "p", 0, casbinSubject(accountID, name))
	}
	if err != nil {
		return t.s.fail(ctx, err, "delete team role %s/%s: casbin rules", accountID, name)
	}
	t.changes = append(t.changes, store.Change{Op: store.RoleDeleted, AccountID: accountID, Role: name})
	return nil
}

// joinActions encodes a change's actions for roster_changes. Action names
// hold no spaces (rbac refuses them), so a space separates them.
func joinActions(actions []string) string { return strings.Join(actions, " ") }

// splitActions decodes joinActions; "" is nil.
func splitActions(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, " ")
}

// keyActions encodes an API key's actions for a nullable column: NULL for
// a key that is not narrowed (nil actions), else joinActions, which is ""
// for a key narrowed to none.
func keyActions(actions []string) sql.NullString {
	return sql.NullString{String: joinActions(actions), Valid: actions != nil}
}

// fromKeyActions decodes keyActions: nil for NULL, else a slice that is
// not nil, empty for "".
func fromKeyActions(s sql.NullString) []string {
	switch {
	case !s.Valid:
		return nil
	case s.String == "":
		return []string{}
	}
	return strings.Split(s.String, " ")
}

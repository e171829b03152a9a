package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// schema creates roster's tables and indexes. Every statement is idempotent
// (IF NOT EXISTS, ON CONFLICT DO NOTHING), so opening an existing database
// changes nothing. The placeholders in braces are replaced per dialect by
// columnTypes.
//
// Text columns use the "C" collation on PostgreSQL so that ORDER BY on IDs is
// byte order, as on SQLite and in Go. Times are TIMESTAMPTZ on PostgreSQL and
// DATETIME on SQLite, where go-sqlite3 stores them as text in one fixed UTC
// format whose text order is time order; zero times are NULL.
var schema = []string{
	`CREATE TABLE IF NOT EXISTS roster_meta (
		id INTEGER PRIMARY KEY CHECK (id = 1),
		revision BIGINT NOT NULL
	)`,
	`INSERT INTO roster_meta (id, revision) VALUES (1, 0) ON CONFLICT DO NOTHING`,

	`CREATE TABLE IF NOT EXISTS roster_users (
		id {text} PRIMARY KEY,
		email {text} NOT NULL,
		name {text} NOT NULL,
		sign_in {text} NOT NULL,
		active_account {text} NOT NULL,
		created_at {time}
	)`,
	// UsersByEmail compares the canonical (lower-case) form of addresses.
	`CREATE INDEX IF NOT EXISTS roster_users_email ON roster_users (lower(email))`,

	`CREATE TABLE IF NOT EXISTS roster_accounts (
		id {text} PRIMARY KEY,
		kind {text} NOT NULL,
		name {text} NOT NULL,
		owner {text} NOT NULL,
		created_at {time},
		updated_at {time}
	)`,

	`CREATE TABLE IF NOT EXISTS roster_members (
		account_id {text} NOT NULL REFERENCES roster_accounts (id),
		user_id {text} NOT NULL REFERENCES roster_users (id),
		role {text} NOT NULL,
		joined_at {time},
		PRIMARY KEY (account_id, user_id)
	)`,
	`CREATE INDEX IF NOT EXISTS roster_members_user ON roster_members (user_id)`,

	`CREATE TABLE IF NOT EXISTS roster_invites (
		id {text} PRIMARY KEY,
		account_id {text} NOT NULL REFERENCES roster_accounts (id),
		kind {text} NOT NULL,
		role {text} NOT NULL,
		email {text} NOT NULL,
		require_secure BOOLEAN NOT NULL,
		token_hash {blob} NOT NULL,
		status {text} NOT NULL,
		max_uses BIGINT NOT NULL,
		uses BIGINT NOT NULL,
		created_by {text} NOT NULL,
		created_at {time},
		expires_at {time},
		updated_at {time}
	)`,
	`CREATE UNIQUE INDEX IF NOT EXISTS roster_invites_token ON roster_invites (token_hash)`,
	`CREATE INDEX IF NOT EXISTS roster_invites_account ON roster_invites (account_id, created_at)`,

	`CREATE TABLE IF NOT EXISTS roster_transfers (
		id {text} PRIMARY KEY,
		account_id {text} NOT NULL REFERENCES roster_accounts (id),
		from_user {text} NOT NULL,
		to_user {text} NOT NULL,
		status {text} NOT NULL,
		confirm_hash {blob},
		accept_hash {blob},
		created_at {time},
		expires_at {time},
		updated_at {time}
	)`,
	`CREATE INDEX IF NOT EXISTS roster_transfers_account ON roster_transfers (account_id, created_at)`,

	`CREATE TABLE IF NOT EXISTS roster_events (
		id {serial},
		account_id {text} NOT NULL REFERENCES roster_accounts (id),
		occurred_at {time} NOT NULL,
		actor {text} NOT NULL,
		action {text} NOT NULL,
		resource_type {text} NOT NULL,
		resource_id {text} NOT NULL,
		result {text} NOT NULL,
		reason {text} NOT NULL,
		before_value {text} NOT NULL,
		after_value {text} NOT NULL,
		ip {text} NOT NULL,
		user_agent {text} NOT NULL,
		request_id {text} NOT NULL,
		prev_hash {blob},
		hash {blob}
	)`,
	// Events are read a page at a time, newest first: (occurred_at, id)
	// descending within one account, optionally filtered by one field. Each
	// filter has an index that ends in (occurred_at, id), so a filtered page
	// is one index range scan in the order wanted, with no sort, whatever
	// the date range and cursor. roster_events_account serves the chain
	// order (id ascending) that verification and pruning walk.
	`CREATE INDEX IF NOT EXISTS roster_events_account ON roster_events (account_id, id)`,
	`CREATE INDEX IF NOT EXISTS roster_events_recent ON roster_events (account_id, occurred_at, id)`,
	`CREATE INDEX IF NOT EXISTS roster_events_by_actor ON roster_events (account_id, actor, occurred_at, id)`,
	`CREATE INDEX IF NOT EXISTS roster_events_by_action ON roster_events (account_id, action, occurred_at, id)`,
	`CREATE INDEX IF NOT EXISTS roster_events_by_type ON roster_events (account_id, resource_type, occurred_at, id)`,
	`CREATE INDEX IF NOT EXISTS roster_events_by_resource ON roster_events (account_id, resource_type, resource_id, occurred_at, id)`,
	`CREATE INDEX IF NOT EXISTS roster_events_by_result ON roster_events (account_id, result, occurred_at, id)`,

	`CREATE TABLE IF NOT EXISTS roster_chain_heads (
		account_id {text} PRIMARY KEY REFERENCES roster_accounts (id),
		last_id BIGINT NOT NULL,
		last_hash {blob},
		last_time {time},
		anchor_id BIGINT NOT NULL,
		anchor_hash {blob}
	)`,

	`CREATE TABLE IF NOT EXISTS roster_changes (
		revision BIGINT NOT NULL,
		seq INTEGER NOT NULL,
		op SMALLINT NOT NULL,
		account_id {text} NOT NULL,
		user_id {text} NOT NULL,
		role {text} NOT NULL,
		PRIMARY KEY (revision, seq)
	)`,

	// Team roles: their names here, their actions as Casbin policy rules in
	// roster_casbin_rule (created through the Casbin gorm adapter).
	`CREATE TABLE IF NOT EXISTS roster_team_roles (
		account_id {text} NOT NULL REFERENCES roster_accounts (id),
		name {text} NOT NULL,
		created_by {text} NOT NULL,
		created_at {time},
		updated_at {time},
		PRIMARY KEY (account_id, name)
	)`,

	`CREATE TABLE IF NOT EXISTS roster_invite_uses (
		invite_id {text} NOT NULL REFERENCES roster_invites (id),
		user_id {text} NOT NULL REFERENCES roster_users (id),
		used_at {time},
		PRIMARY KEY (invite_id, user_id)
	)`,
}

// addedColumns are columns added to tables after their CREATE TABLE was
// first published. migrate adds each one that is missing, so that databases
// created before them are brought up to date; new databases get them the
// same way. Placeholders are those of schema.
var addedColumns = []struct{ table, column, definition string }{
	{"roster_invites", "superseded_by", "{text} NOT NULL DEFAULT ''"},
	{"roster_invites", "resent_by", "{text} NOT NULL DEFAULT ''"},
	{"roster_invites", "resent_at", "{time}"},
	{"roster_changes", "actions", "{text} NOT NULL DEFAULT ''"},
	// Transfers stored before kinds existed granted the top role.
	{"roster_transfers", "kind", "{text} NOT NULL DEFAULT 'role'"},
	{"roster_accounts", "require_secure", "BOOLEAN NOT NULL DEFAULT FALSE"},
	{"roster_changes", "require_secure", "BOOLEAN NOT NULL DEFAULT FALSE"},
	{"roster_changes", "sign_in", "{text} NOT NULL DEFAULT ''"},
	// Erasable audit events (chain v2): the salt of the commitment to an
	// event's personal fields, deleted when they are erased, and the
	// commitment itself. Both NULL for events appended before them.
	{"roster_events", "salt", "{blob}"},
	{"roster_events", "commitment", "{blob}"},
}

// columnExists is the query, per dialect, that finds a column of a table in
// the schema the store's tables live in.
var columnExists = map[dialect]string{
	sqliteDialect:   "SELECT 1 FROM pragma_table_info(?) WHERE name = ?",
	postgresDialect: "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?",
}

// columnTypes fills in the schema's placeholders for each dialect.
var columnTypes = map[dialect]*strings.Replacer{
	sqliteDialect: strings.NewReplacer(
		"{text}", "TEXT",
		"{time}", "DATETIME",
		"{blob}", "BLOB",
		"{serial}", "INTEGER PRIMARY KEY AUTOINCREMENT",
	),
	postgresDialect: strings.NewReplacer(
		"{text}", `TEXT COLLATE "C"`,
		"{time}", "TIMESTAMPTZ",
		"{blob}", "BYTEA",
		"{serial}", "BIGSERIAL PRIMARY KEY",
	),
}

// migrateLockID is the PostgreSQL advisory lock key that serializes schema
// creation between processes opening the same database at once (concurrent
// CREATE TABLE IF NOT EXISTS can otherwise fail). The value is arbitrary.
const migrateLockID = 0x726f73746572 // "roster"

// migrate creates the schema in one transaction.
func (s *Store) migrate(ctx context.Context) error {
	err := s.w.WithContext(ctx).Transaction(func(gtx *gorm.DB) error {
		if s.dialect == postgresDialect {
			if err := gtx.Exec("SELECT pg_advisory_xact_lock(?)", int64(migrateLockID)).Error; err != nil {
				return err
			}
		}
		r := columnTypes[s.dialect]
		for _, stmt := range schema {
			if err := gtx.Exec(r.Replace(stmt)).Error; err != nil {
				return fmt.Errorf("%s: %w", strings.TrimSuffix(strings.SplitN(stmt, "\n", 2)[0], " ("), err)
			}
		}
		for _, c := range addedColumns {
			ok, err := exists(gtx, columnExists[s.dialect], c.table, c.column)
			if err != nil {
				return fmt.Errorf("look for column %s.%s: %w", c.table, c.column, err)
			}
			if ok {
				continue
			}
			if err := gtx.Exec("ALTER TABLE " + c.table + " ADD COLUMN " + c.column + " " + r.Replace(c.definition)).Error; err != nil {
				return fmt.Errorf("add column %s.%s: %w", c.table, c.column, err)
			}
		}
		if _, err := casbinRules(gtx, true); err != nil {
			return fmt.Errorf("casbin rule table: %w", err)
		}
		if s.dialect == postgresDialect {
			var schema string
			if err := gtx.Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
				return fmt.Errorf("current schema: %w", err)
			}
			s.channel = channelFor(schema)
		}
		return nil
	})
	if err != nil {
		return s.fail(ctx, err, "create schema")
	}
	return nil
}

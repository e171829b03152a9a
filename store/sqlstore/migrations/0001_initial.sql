-- roster's schema, version 1.
--
-- Placeholders in braces are filled in per dialect (see MigrationSQL):
-- {text} is TEXT (COLLATE "C" on PostgreSQL, so that ORDER BY on IDs is byte
-- order, as on SQLite and in Go); {time} is DATETIME on SQLite, where
-- go-sqlite3 stores times as text in one fixed UTC format whose text order is
-- time order, and TIMESTAMPTZ on PostgreSQL; zero times are NULL. {blob} is
-- BLOB or BYTEA, {serial} an auto-incremented primary key, and {rule} a field
-- of a Casbin rule (VARCHAR(100) on PostgreSQL, TEXT on SQLite, as the Casbin
-- gorm adapter creates them).
--
-- This file is idempotent (IF NOT EXISTS, ON CONFLICT DO NOTHING) because it
-- also adopts databases made before migrations were numbered; later files
-- need not be. A statement ends with a semicolon at the end of a line.

CREATE TABLE IF NOT EXISTS roster_schema_migrations (
	version INTEGER PRIMARY KEY,
	name {text} NOT NULL,
	applied_at {time} NOT NULL
);

CREATE TABLE IF NOT EXISTS roster_meta (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	revision BIGINT NOT NULL
);
INSERT INTO roster_meta (id, revision) VALUES (1, 0) ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS roster_users (
	id {text} PRIMARY KEY,
	email {text} NOT NULL,
	name {text} NOT NULL,
	sign_in {text} NOT NULL,
	active_account {text} NOT NULL,
	created_at {time}
);
-- UsersByEmail compares the canonical (lower-case) form of addresses.
CREATE INDEX IF NOT EXISTS roster_users_email ON roster_users (lower(email));

CREATE TABLE IF NOT EXISTS roster_accounts (
	id {text} PRIMARY KEY,
	kind {text} NOT NULL,
	name {text} NOT NULL,
	owner {text} NOT NULL,
	created_at {time},
	updated_at {time}
);

CREATE TABLE IF NOT EXISTS roster_members (
	account_id {text} NOT NULL REFERENCES roster_accounts (id),
	user_id {text} NOT NULL REFERENCES roster_users (id),
	role {text} NOT NULL,
	joined_at {time},
	PRIMARY KEY (account_id, user_id)
);
CREATE INDEX IF NOT EXISTS roster_members_user ON roster_members (user_id);

CREATE TABLE IF NOT EXISTS roster_invites (
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
	updated_at {time},
	superseded_by {text} NOT NULL DEFAULT '',
	resent_by {text} NOT NULL DEFAULT '',
	resent_at {time}
);
CREATE UNIQUE INDEX IF NOT EXISTS roster_invites_token ON roster_invites (token_hash);
CREATE INDEX IF NOT EXISTS roster_invites_account ON roster_invites (account_id, created_at);

CREATE TABLE IF NOT EXISTS roster_invite_uses (
	invite_id {text} NOT NULL REFERENCES roster_invites (id),
	user_id {text} NOT NULL REFERENCES roster_users (id),
	used_at {time},
	PRIMARY KEY (invite_id, user_id)
);

-- Transfers stored before kinds existed granted the top role: hence the
-- default.
CREATE TABLE IF NOT EXISTS roster_transfers (
	id {text} PRIMARY KEY,
	account_id {text} NOT NULL REFERENCES roster_accounts (id),
	from_user {text} NOT NULL,
	to_user {text} NOT NULL,
	status {text} NOT NULL,
	confirm_hash {blob},
	accept_hash {blob},
	created_at {time},
	expires_at {time},
	updated_at {time},
	kind {text} NOT NULL DEFAULT 'role'
);
CREATE INDEX IF NOT EXISTS roster_transfers_account ON roster_transfers (account_id, created_at);

CREATE TABLE IF NOT EXISTS roster_events (
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
);
-- Events are read a page at a time, newest first: (occurred_at, id)
-- descending within one account, optionally filtered by one field. Each
-- filter has an index that ends in (occurred_at, id), so a filtered page is
-- one index range scan in the order wanted, with no sort, whatever the date
-- range and cursor. roster_events_account serves the chain order (id
-- ascending) that verification and pruning walk.
CREATE INDEX IF NOT EXISTS roster_events_account ON roster_events (account_id, id);
CREATE INDEX IF NOT EXISTS roster_events_recent ON roster_events (account_id, occurred_at, id);
CREATE INDEX IF NOT EXISTS roster_events_by_actor ON roster_events (account_id, actor, occurred_at, id);
CREATE INDEX IF NOT EXISTS roster_events_by_action ON roster_events (account_id, action, occurred_at, id);
CREATE INDEX IF NOT EXISTS roster_events_by_type ON roster_events (account_id, resource_type, occurred_at, id);
CREATE INDEX IF NOT EXISTS roster_events_by_resource ON roster_events (account_id, resource_type, resource_id, occurred_at, id);
CREATE INDEX IF NOT EXISTS roster_events_by_result ON roster_events (account_id, result, occurred_at, id);

CREATE TABLE IF NOT EXISTS roster_chain_heads (
	account_id {text} PRIMARY KEY REFERENCES roster_accounts (id),
	last_id BIGINT NOT NULL,
	last_hash {blob},
	last_time {time},
	anchor_id BIGINT NOT NULL,
	anchor_hash {blob}
);

CREATE TABLE IF NOT EXISTS roster_changes (
	revision BIGINT NOT NULL,
	seq INTEGER NOT NULL,
	op SMALLINT NOT NULL,
	account_id {text} NOT NULL,
	user_id {text} NOT NULL,
	role {text} NOT NULL,
	actions {text} NOT NULL DEFAULT '',
	PRIMARY KEY (revision, seq)
);

-- Team roles: their names here, their actions as Casbin policy rules
-- "p, <account>/<role>, <action>" in roster_casbin_rule, the table the Casbin
-- gorm adapter reads and writes.
CREATE TABLE IF NOT EXISTS roster_team_roles (
	account_id {text} NOT NULL REFERENCES roster_accounts (id),
	name {text} NOT NULL,
	created_by {text} NOT NULL,
	created_at {time},
	updated_at {time},
	PRIMARY KEY (account_id, name)
);
CREATE TABLE IF NOT EXISTS roster_casbin_rule (
	id {serial},
	ptype {rule},
	v0 {rule},
	v1 {rule},
	v2 {rule},
	v3 {rule},
	v4 {rule},
	v5 {rule}
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_roster_casbin_rule ON roster_casbin_rule (ptype, v0, v1, v2, v3, v4, v5);

-- roster's schema, version 5: API keys (store.APIKey).
--
-- A key belongs to an account and, unless it is a service account's
-- (user_id ''), to a user. user_id has no reference to roster_users, since
-- '' names no user: DeleteUser refuses a user who owns a key that is not
-- revoked, and deletes their revoked ones. hash is the SHA-256 of the key's
-- secret; the secret itself is never stored. actions is NULL for a key
-- that acts with its whole role, and otherwise holds the actions it is
-- narrowed to separated by spaces ('' for none), as roster_changes holds a
-- team role's.
CREATE TABLE roster_api_keys (
	id {text} PRIMARY KEY,
	account_id {text} NOT NULL REFERENCES roster_accounts (id),
	user_id {text} NOT NULL DEFAULT '',
	name {text} NOT NULL,
	role {text} NOT NULL,
	actions {text},
	hash {blob} NOT NULL,
	created_by {text} NOT NULL,
	created_at {time},
	expires_at {time},
	revoked_at {time},
	revoked_by {text} NOT NULL DEFAULT '',
	last_used_at {time},
	last_used_ip {text} NOT NULL DEFAULT ''
);
-- Keyset pages (see ranges.go) of an account's keys, and of one user's keys
-- in an account; and a user's keys, which DeleteUser looks for.
CREATE INDEX roster_api_keys_page ON roster_api_keys (account_id, created_at, id);
CREATE INDEX roster_api_keys_user_page ON roster_api_keys (account_id, user_id, created_at, id);
CREATE INDEX roster_api_keys_user ON roster_api_keys (user_id);

-- The change feed carries API keys (store.Change.Key, KeyHash, ExpiresAt);
-- narrowed says an APIKeySet change's key is narrowed to actions, which
-- may then be none.
ALTER TABLE roster_changes ADD COLUMN key_id {text} NOT NULL DEFAULT '';
ALTER TABLE roster_changes ADD COLUMN key_hash {blob};
ALTER TABLE roster_changes ADD COLUMN expires_at {time};
ALTER TABLE roster_changes ADD COLUMN narrowed BOOLEAN NOT NULL DEFAULT FALSE;

-- roster's schema, version 2: team-wide secure sign-in, and keyset pages.

-- A team may require secure sign-in of its members (store.Account
-- .RequireSecureSignIn); the change feed carries the setting and members'
-- sign-in methods (store.Change.RequireSecure and SignIn).
ALTER TABLE roster_accounts ADD COLUMN require_secure BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE roster_changes ADD COLUMN require_secure BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE roster_changes ADD COLUMN sign_in {text} NOT NULL DEFAULT '';

-- Keyset pages (see ranges.go): each list is read in the order of one index,
-- (owner, time, ID), one range scan per page with no sort. Each replaces an
-- index on its leading column, which it covers.
CREATE INDEX roster_members_joined ON roster_members (account_id, joined_at, user_id);
CREATE INDEX roster_members_user_joined ON roster_members (user_id, joined_at, account_id);
CREATE INDEX roster_invites_page ON roster_invites (account_id, created_at, id);
CREATE INDEX roster_transfers_page ON roster_transfers (account_id, created_at, id);
DROP INDEX roster_members_user;
DROP INDEX roster_invites_account;
DROP INDEX roster_transfers_account;

-- roster's schema, version 6: seat limits, suspended members, and
-- memberships (or roles granted for a while) that expire.
--
-- seat_limit is store.Account.SeatLimit (0: no limit), a BIGINT so that
-- any limit a Go int holds round-trips on PostgreSQL too. A membership's
-- until is store.Member.Until (NULL: no end): when it ends or, with a
-- fallback_role, when its role falls back to that one. suspended_at (NULL
-- while the member is not suspended) and suspended_by are
-- Member.SuspendedAt and SuspendedBy.
ALTER TABLE roster_accounts ADD COLUMN seat_limit BIGINT NOT NULL DEFAULT 0;
ALTER TABLE roster_members ADD COLUMN until {time};
ALTER TABLE roster_members ADD COLUMN fallback_role {text} NOT NULL DEFAULT '';
ALTER TABLE roster_members ADD COLUMN suspended_at {time};
ALTER TABLE roster_members ADD COLUMN suspended_by {text} NOT NULL DEFAULT '';
-- Memberships with an end time or a suspension are few, so each has a
-- partial index that holds only them: ExpiredMembers reads
-- roster_members_until in its order (soonest end, account, user), and
-- Snapshot reads both for the memberships it delivers with their terms,
-- instead of scanning the whole table a second time.
CREATE INDEX roster_members_until ON roster_members (until, account_id, user_id) WHERE until IS NOT NULL;
CREATE INDEX roster_members_suspended ON roster_members (account_id, user_id) WHERE suspended_at IS NOT NULL;

-- The change feed carries a MemberSet's terms (store.Change.ExpiresAt, in
-- the expires_at column of version 5, FallbackRole and Suspended).
ALTER TABLE roster_changes ADD COLUMN fallback_role {text} NOT NULL DEFAULT '';
ALTER TABLE roster_changes ADD COLUMN suspended BOOLEAN NOT NULL DEFAULT FALSE;

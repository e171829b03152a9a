-- roster's schema, version 4: the event stream (store.Store.EventsAfter).
--
-- The stream is ordered by (commit_seq, id). On PostgreSQL commit_seq is the
-- ID of the transaction that appended the event, since a transaction with
-- a smaller event ID can commit after one with a larger; on SQLite, whose
-- writers commit one at a time in event ID order, it is 0. Events appended
-- before this version keep 0: all of them committed before any new one.
ALTER TABLE roster_events ADD COLUMN commit_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS roster_events_stream ON roster_events (commit_seq, id);

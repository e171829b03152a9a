-- roster's schema, version 4: the event stream (store.Store.EventsAfter).
--
-- Every transaction that appends events takes the next value of
-- roster_meta.event_commit, under the row lock that already orders the
-- revisions, and stamps its events with it in commit_seq: so the stream,
-- ordered by (commit_seq, id), is in commit order even where a
-- transaction with a smaller event ID commits after one with a larger.
-- Events appended before this version keep commit_seq 0: they were all
-- committed before any stamped one, and among them ID order stands.
ALTER TABLE roster_meta ADD COLUMN event_commit BIGINT NOT NULL DEFAULT 0;
ALTER TABLE roster_events ADD COLUMN commit_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS roster_events_stream ON roster_events (commit_seq, id);

-- roster's schema, version 3: erasable audit events (audit chain v2).
--
-- An event's chain hash covers a commitment to its personal fields (Before,
-- After, Reason, IP, user agent) made with a random salt; erasing them
-- deletes the salt and keeps the commitment, so the chain still verifies.
-- Both are NULL for events appended before them, which chain v1 hashes.
ALTER TABLE roster_events ADD COLUMN salt {blob};
ALTER TABLE roster_events ADD COLUMN commitment {blob};

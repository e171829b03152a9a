-- roster's schema, version 7: email domains teams claim (store.Domain).
--
-- A team's claim of a domain; verified_at is set once the host confirmed
-- it. A domain is verified for one team at a time: the unique partial index
-- holds that also when two confirmations race.
CREATE TABLE roster_domains (
	name {text} NOT NULL,
	account_id {text} NOT NULL REFERENCES roster_accounts (id),
	mode {text} NOT NULL,
	role {text} NOT NULL,
	challenge {text} NOT NULL,
	verified_at {time},
	created_by {text} NOT NULL,
	created_at {time},
	PRIMARY KEY (name, account_id)
);
CREATE UNIQUE INDEX roster_domains_verified ON roster_domains (name) WHERE verified_at IS NOT NULL;
CREATE INDEX roster_domains_account ON roster_domains (account_id, name);

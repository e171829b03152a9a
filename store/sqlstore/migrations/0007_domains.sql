-- roster's schema, version 7: the email domains teams claim (store.Domain).
--
-- A row is one team's claim of a domain: several teams may claim one name,
-- and verified_at (NULL while the claim is pending) is set once the host
-- confirms that the team owns it. mode is a store.DomainMode, role the role
-- an auto-joining user gets, challenge the value the host asks the domain's
-- owner to publish in a DNS TXT record.
CREATE TABLE roster_domains (
	name {text} NOT NULL,
	account_id {text} NOT NULL REFERENCES roster_accounts (id),
	mode {text} NOT NULL,
	role {text} NOT NULL,
	challenge {text} NOT NULL,
	verified_at {time},
	created_by {text} NOT NULL,
	created_at {time},
	-- Leading with the account, the key also serves Domains, which reads
	-- a team's claims in name order.
	PRIMARY KEY (account_id, name)
);
-- A domain is verified for one team at a time: the partial unique index
-- holds only verified claims, so two confirmations of one name cannot both
-- commit, however they race. VerifiedDomain reads it too.
CREATE UNIQUE INDEX roster_domains_verified ON roster_domains (name) WHERE verified_at IS NOT NULL;

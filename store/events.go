package store

// EventAction names what an audit event records, as "<resource>.<verb>",
// for example "member.joined". roster's own actions are the constants
// below; a host application records its own actions (such as
// "pod.created") under names of its choosing.
type EventAction string

// The actions roster records. Every service uses these constants, so each
// action is named in one place.
const (
	// EventAccountCreated records that an account was created: a user's
	// personal account, or a team a user created (its After names the
	// kind).
	EventAccountCreated EventAction = "account.created"
	// EventAccountConverted records that a personal account became a team account.
	EventAccountConverted EventAction = "account.converted"
	// EventAccountRenamed records that a team account's name changed.
	EventAccountRenamed EventAction = "account.renamed"
	// EventAccountTeamDeleted records that a team was deleted: its account reverted to a personal one.
	EventAccountTeamDeleted EventAction = "account.team_deleted"
	// EventAccountOwnerChanged records that an account was handed over to a new owner.
	EventAccountOwnerChanged EventAction = "account.owner_changed"
	// EventAccountSecureSignIn records that a team started or stopped
	// requiring secure sign-in of its members.
	EventAccountSecureSignIn EventAction = "account.secure_sign_in_changed"
	// EventMemberAdded records that a member was added to an account by another member.
	EventMemberAdded EventAction = "member.added"
	// EventMemberJoined records that a user joined an account by accepting an invite.
	EventMemberJoined EventAction = "member.joined"
	// EventMemberRoleChanged records that a member's role changed.
	EventMemberRoleChanged EventAction = "member.role_changed"
	// EventMemberRemoved records that a member was removed from an account by another member.
	EventMemberRemoved EventAction = "member.removed"
	// EventMemberLeft records that a member left an account.
	EventMemberLeft EventAction = "member.left"
	// EventMemberSuspended records that a member was suspended: they keep
	// their role and seat and may do nothing until reinstated.
	EventMemberSuspended EventAction = "member.suspended"
	// EventMemberReinstated records that a suspended member was reinstated.
	EventMemberReinstated EventAction = "member.reinstated"
	// EventMemberExpirySet records that a membership, or a role granted
	// for a while, was given an end time (After names it and the role to
	// fall back to), or had it cleared.
	EventMemberExpirySet EventAction = "member.expiry_set"
	// EventMemberExpired records that a membership reached its end time
	// and ended (written when the expiry is swept; Can refused from the
	// end time on).
	EventMemberExpired EventAction = "member.expired"
	// EventMemberRoleExpired records that a role granted for a while
	// reached its end time and fell back to the member's previous role.
	EventMemberRoleExpired EventAction = "member.role_expired"
	// EventAccountSeatLimit records that a team's seat limit changed.
	EventAccountSeatLimit EventAction = "account.seat_limit_changed"
	// EventUserSwitched records that a user switched the account they work in.
	EventUserSwitched EventAction = "user.switched"
	// EventUserErased records, in each account whose log held a deleted
	// user's personal data or that they belonged to, that the user was
	// deleted and their personal data erased from its events. It carries
	// no personal data: ResourceID is the user's ID and After the counts.
	EventUserErased EventAction = "user.erased"
	// EventRoleDefined records that a team role was defined or redefined.
	EventRoleDefined EventAction = "role.defined"
	// EventRoleDeleted records that a team role was deleted.
	EventRoleDeleted EventAction = "role.deleted"
	// EventInviteCreated records that an invite was created.
	EventInviteCreated EventAction = "invite.created"
	// EventInviteResent records that an invite was resent with a new token.
	EventInviteResent EventAction = "invite.resent"
	// EventInviteRevoked records that an invite was revoked.
	EventInviteRevoked EventAction = "invite.revoked"
	// EventInviteLinkCopied records that a member had a pending invite's
	// link shown again, to copy it.
	EventInviteLinkCopied EventAction = "invite.link_copied"
	// EventInviteAcceptFailed records a refused attempt to accept an invite.
	EventInviteAcceptFailed EventAction = "invite.accept_failed"
	// EventTransferStarted records that an ownership transfer was started.
	EventTransferStarted EventAction = "transfer.started"
	// EventTransferConfirmed records that the current owner confirmed an ownership transfer.
	EventTransferConfirmed EventAction = "transfer.confirmed"
	// EventTransferAccepted records that the recipient accepted an ownership transfer.
	EventTransferAccepted EventAction = "transfer.accepted"
	// EventTransferCancelled records that an ownership transfer was cancelled.
	EventTransferCancelled EventAction = "transfer.cancelled"
	// EventAPIKeyCreated records that an API key or service account was
	// created (ResourceID is the key's ID; After names its owner, role,
	// actions and expiry, never its token).
	EventAPIKeyCreated EventAction = "api_key.created"
	// EventAPIKeyRevoked records that an API key was revoked: by a member,
	// or because its owner lost access to the account (removed, left,
	// deleted) or its role was deleted (Reason says which).
	EventAPIKeyRevoked EventAction = "api_key.revoked"
	// EventAPIKeyNarrowed records that an API key lost the actions its
	// owner's new role no longer holds (Before and After list them).
	EventAPIKeyNarrowed EventAction = "api_key.narrowed"
	// EventDomainAdded records that a team claimed an email domain (After
	// names its mode and role, not the challenge).
	EventDomainAdded EventAction = "domain.added"
	// EventDomainVerified records the host's confirmation that a team owns
	// an email domain.
	EventDomainVerified EventAction = "domain.verified"
	// EventDomainRemoved records that a team gave up its claim of a domain.
	EventDomainRemoved EventAction = "domain.removed"
	// EventAuditQueried records that an account's audit log was read.
	EventAuditQueried EventAction = "audit.queried"
	// EventAuditExported records that an account's audit log was exported.
	EventAuditExported EventAction = "audit.exported"
	// EventAuditPruned records that an account's oldest audit events were deleted.
	EventAuditPruned EventAction = "audit.pruned"
)

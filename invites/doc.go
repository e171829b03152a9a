// Package invites handles invitations to join a team, the way Runpod (links)
// and DigitalOcean (email invitations) do: create, list, resend, revoke and
// accept. Get a Service from roster.Open or roster.New (configured with
// roster.WithInvites), or from New when wiring a Store by hand.
//
// # Links and email invitations
//
// CreateLink makes a link invite: a link to copy and share, built as the base
// URL the host application configures (WithBaseURL) plus "/invites/" plus
// the token, never from a request's Host header. CreateEmail invites one or many email
// addresses at once; each invite is bound to its address, and the host's
// Notifier sends the email once the invites are committed. Both take a role
// and options: an expiry (ExpiresIn, NeverExpires, else the team's or the
// global default, else never, as Runpod's links "remain active until used or
// manually revoked"), RequireSecure, and for links MaxUses.
//
// # Tokens
//
// Without link secrets, a token carries 256 random bits from crypto/rand in
// URL-safe base64 (43 characters). Only its SHA-256 hash is stored, and a
// token is matched against a stored hash in constant time, so a dump of the
// database holds no usable link. The token, and the link made from it, are
// therefore shown once: in the result of CreateLink, CreateEmail or Resend.
// To give out a link again, resend the invite: it gets a new token and the
// old one stops working.
//
// # Link secrets
//
// With link secrets (WithLinkSecrets, or roster.WithLinkSecrets), a member
// allowed to invite can copy a pending invite's link again (Link, Runpod's
// "copy link" in the pending invites) while the database still holds
// nothing that opens it. A token is then derived from a server secret:
//
//	rsti_<key ID>_<nonce, HMAC-SHA256 tag, checksum>
//
// The tag is the HMAC-SHA256, under the secret that the key ID names, of the
// invite's ID and a 128-bit random nonce. The database stores the key ID,
// the nonce and the token's SHA-256: without the secret, that opens
// nothing; with it, Link derives the same token again and checks it against
// the stored hash. Resend draws a new nonce under the current secret, so the
// old link (and every copy of it) stops working with ErrSuperseded. Invites
// made before secrets were configured keep their random tokens, which keep
// working; Link refuses them with ErrLinkNotKept (resend them for a link
// that can be copied). Without secrets Link returns ErrNoLinkSecret.
//
// Rotating: configure the new secret as current and keep the old ones in
// the old list (WithLinkSecrets(newSecret, oldSecret)). New invites and
// resends use the new secret; links made under an old one keep working,
// and copying one again gives the same link, still under the old secret.
// Only one hash is stored per invite, so a copy under the new secret would
// replace it and break the link already shared: Link never does that.
// Resend the invites you want under the new secret (their old links stop
// working), then remove the old secret from the list: the links it made
// stop working (Accept and Preview return ErrUnknownToken, Link
// ErrLinkNotKept) until it is configured again. Never reuse a key ID for
// another key: the links of the first stop working.
//
// Accept and Preview refuse, before anything is read, a string that is
// shaped like neither kind of token, or a derived token whose checksum is
// wrong (a typo, a truncated copy), with an error wrapping store.ErrInvalid;
// and a derived token whose secret is not configured with ErrUnknownToken.
//
// # Who may do what
//
// Creating, resending, revoking invites and copying their links need
// rbac.MembersInvite, and the inviter may grant, resend, copy or revoke only an invite whose role grants
// nothing their own role lacks (rbac.Policy.Covers). A reusable link (MaxUses
// above 1) never grants the policy's top role (ErrReusableTop): one leaked
// link must not hand out admin or owner. Invites are made for team accounts
// only (store.ErrNotTeam).
//
// Every member may list the team's invites (List, Pending) with who created
// them, role, kind, status and times, as DigitalOcean shows pending members
// to everyone on the team; but only members allowed rbac.MembersInvite see
// the invited email addresses. For the others Invitation.Email is empty.
//
// # Accepting
//
// Accept makes the user a member with the invite's role in one transaction
// that locks the account, so that the invariants hold under concurrency: a
// single-use invite is used once (of fifty concurrent accepts, one
// succeeds and the others get ErrUsed), a revoked or resent invite never
// yields a membership, and the audit event commits with the membership.
// Accepting does not change the user's active account (Runpod: "users must
// manually switch to the team account"), and it creates no user: the user
// must exist. An unusable invite fails with a distinct error: ErrExpired,
// ErrRevoked, ErrSuperseded (an old token of a resent invite), ErrUsed
// (used up, or already used by this user), ErrAlreadyMember (nothing
// changes), ErrWrongEmail, ErrInsecureSignIn, ErrInviterDenied,
// ErrReusableTop, store.ErrNotTeam, ErrUnknownToken, or store.ErrInvalid for
// a string that is not shaped like a token (refused without a read).
//
// The inviter's right is checked again at accept time. The inviter (the
// member who last sent the invite: its creator, or whoever resent it) must
// still be a member whose role allows rbac.MembersInvite and covers the
// invite's role. If not, for instance because they were removed or demoted,
// the invite is revoked and Accept returns ErrInviterDenied: an invite is
// worth no more than the current rights of the member who vouches for it.
// While it is still pending, another member allowed to invite may resend it
// to vouch for it anew. Until someone tries to accept it, such an invite is
// listed as pending: nothing is revoked eagerly when a member is removed or
// demoted.
//
// Removing a member does not reopen their invites: an accepted invite stays
// accepted, and a user who used a reusable link cannot use it again
// (ErrUsed), so a removed member cannot rejoin through the link they came
// by. Deleting a team (teams.DeleteTeam) revokes its pending invites.
//
// # Email addresses
//
// Email invites compare addresses in the canonical form of CanonicalEmail:
// ASCII only, a plain dot-atom local part and a DNS host name, lowercased
// whole. Both products treat addresses as case-insensitive, so case variants
// are one address. Nothing else is folded: no Unicode or IDNA mapping (a
// Cyrillic "а" or a fullwidth letter is refused, never matched to its Latin
// lookalike), no trailing-dot domain, and no provider-specific rules such as
// dropping dots or "+tag" in Gmail local parts, because the same rules at
// another provider would merge distinct real mailboxes. The host
// application is responsible for User.Email being verified.
//
// CreateEmail is all or nothing: duplicates in one call (after
// canonicalization) collapse into one invite, and if any address already has
// a pending, unexpired email invite to the team the whole call fails with
// ErrPending and creates nothing; resend that invite instead, or revoke it
// first. An expired invite does not block a new one.
//
// # Notifications
//
// The Notifier (a notify.Notifier, set with WithNotifier; its SendInvite
// method sends an invitation) is called after the transaction commits,
// never inside it, so
// a slow or failing mail service holds no lock and cannot undo an invite. If
// sending fails the invites stay (they are listed as pending and can be
// resent) and the call returns them together with an error wrapping
// ErrNotSent. Without a Notifier, email invites are created and returned
// with their links, and sending them is left to the caller.
//
// # Audit
//
// Every step writes an audit event in the transaction that makes it:
// invite.created, invite.resent, invite.revoked and invite.link_copied (a
// link shown again by Link, After naming the secret's key ID; ResourceType
// "invite"),
// member.joined (ResourceType "member", ResourceID the user, After naming the
// role and the invite), and invite.accept_failed (Result store.Denied, the
// reason in Reason) for a failed acceptance of a known invite. Failures
// before an invite is found (malformed or unknown token) have no team to be
// logged in and are not audited.
package invites

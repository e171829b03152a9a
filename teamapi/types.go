package teamapi

import (
	"encoding/json"
	"time"

	"github.com/teamroster/roster/apikeys"
	"github.com/teamroster/roster/invites"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teams"
)

// The response types: what the API answers, in snake_case, each field that
// may be empty left out when it is (omitzero), so that no time reads
// 0001-01-01T00:00:00Z. They are the package's own, never roster's records
// as stored: none carries a token hash or a field of the audit hash chain.
// Times are RFC 3339 in UTC. The OpenAPI document (GET {prefix}/openapi.json)
// gives the schema of each.

// User is a person of the host application as roster knows them.
type User struct {
	ID     string       `json:"id"` // the host's user ID
	Name   string       `json:"name,omitzero"`
	Email  string       `json:"email,omitzero"`
	SignIn store.SignIn `json:"sign_in,omitzero"` // how the user signs in, such as google
	// CreatedAt is when roster first heard of the user.
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// UserOf returns u as the API answers a user, for a host's own routes
// that answer one, such as a sign-in. It is safe for concurrent use.
func UserOf(u store.User) User {
	return User{ID: u.ID, Name: u.Name, Email: u.Email, SignIn: u.SignIn, CreatedAt: utc(u.CreatedAt)}
}

// Account is a personal or team account.
type Account struct {
	ID   string            `json:"id"`   // never changes, even when a personal account becomes a team
	Kind store.AccountKind `json:"kind"` // personal or team
	// Name is the team's name; absent for a personal account.
	Name string `json:"name,omitzero"`
	// Owner is the user ID of the account's owner.
	Owner string `json:"owner,omitzero"`
	// RequireSecureSignIn is present, true, when the team requires a
	// secure sign-in method of every member.
	RequireSecureSignIn bool `json:"require_secure_sign_in,omitzero"`
	// CreatedAt and UpdatedAt are when the account was made and last
	// changed.
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

func accountOf(a store.Account) Account {
	return Account{ID: a.ID, Kind: a.Kind, Name: a.Name, Owner: a.Owner, RequireSecureSignIn: a.RequireSecureSignIn,
		CreatedAt: utc(a.CreatedAt), UpdatedAt: utc(a.UpdatedAt)}
}

// AccountEntry is one account of the user's account selector.
type AccountEntry struct {
	Account Account   `json:"account"`
	Role    rbac.Role `json:"role"` // the user's role in it
	// Active is present, true, for the account the user works in now.
	Active bool `json:"active,omitzero"`
	// Suspended is present, true, where the user is suspended: they may do
	// nothing there until reinstated.
	Suspended bool `json:"suspended,omitzero"`
	// NeedsSecureSignIn is present, true, where the team requires a secure
	// sign-in method and the user signs in otherwise: they may do nothing
	// there until they enable one.
	NeedsSecureSignIn bool `json:"needs_secure_sign_in,omitzero"`
}

// Me is the signed-in user's account selector (GET {prefix}/me), with what
// they may do in each account, so that a page shows only the controls that
// will work.
type Me struct {
	User User `json:"user"`
	// Accounts are every account the user is a member of, in the order
	// they joined, their personal account first.
	Accounts []AccountEntry `json:"accounts"`
	// Can lists, by account ID, the actions the user may perform there.
	Can map[string][]rbac.Action `json:"can"`
	// Policy, Roles and Top describe the policy: its name, its roles and
	// its top role.
	Policy string      `json:"policy"`
	Roles  []rbac.Role `json:"roles"`
	Top    rbac.Role   `json:"top"`
}

// MemberRow is one row of a team's members table: a member, or a pending
// email invite (Status "pending", with InviteID and no UserID).
type MemberRow struct {
	// UserID is the member's user ID; absent for a pending invite.
	UserID string `json:"user_id,omitzero"`
	Name   string `json:"name,omitzero"`
	// Email is the member's address, or a pending invite's for viewers
	// allowed rbac.MembersInvite.
	Email  string             `json:"email,omitzero"`
	Role   rbac.Role          `json:"role"`
	Status teams.MemberStatus `json:"status"` // joined or pending
	// JoinedAt is when the member joined.
	JoinedAt time.Time `json:"joined_at,omitzero"`
	// SignIn is the member's sign-in method, shown only to viewers allowed
	// rbac.MembersManage.
	SignIn store.SignIn `json:"sign_in,omitzero"`
	// Owner is present, true, for the account's owner.
	Owner bool `json:"owner,omitzero"`
	// InviteID and ExpiresAt describe a pending invite.
	InviteID  string    `json:"invite_id,omitzero"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// Suspended is present, true, for a suspended member: they keep their
	// role and seat and may do nothing until reinstated.
	Suspended bool `json:"suspended,omitzero"`
	// Until is when the membership ends (FallbackRole absent) or when
	// Role, granted for a while, falls back to FallbackRole; absent if
	// never.
	Until        time.Time `json:"until,omitzero"`
	FallbackRole rbac.Role `json:"fallback_role,omitzero"`
}

func memberRowOf(m teams.MemberRow) MemberRow {
	return MemberRow{UserID: m.UserID, Name: m.Name, Email: m.Email, Role: m.Role, Status: m.Status,
		JoinedAt: utc(m.JoinedAt), SignIn: m.SignIn, Owner: m.Owner, InviteID: m.InviteID, ExpiresAt: utc(m.ExpiresAt),
		Suspended: m.Suspended, Until: utc(m.Until), FallbackRole: m.FallbackRole}
}

// Membership is a user's membership of an account, as a role change, a
// suspension, an end time or an accepted invite leaves it.
type Membership struct {
	AccountID string    `json:"account_id"`
	UserID    string    `json:"user_id"`
	Role      rbac.Role `json:"role"`
	JoinedAt  time.Time `json:"joined_at,omitzero"` // when the user joined
	// Suspended, Until and FallbackRole are as in MemberRow.
	Suspended    bool      `json:"suspended,omitzero"`
	Until        time.Time `json:"until,omitzero"`
	FallbackRole rbac.Role `json:"fallback_role,omitzero"`
}

func membershipOf(m store.Member) Membership {
	return Membership{AccountID: m.AccountID, UserID: m.UserID, Role: rbac.Role(m.Role), JoinedAt: utc(m.JoinedAt),
		Suspended: m.Suspended(), Until: utc(m.Until), FallbackRole: rbac.Role(m.FallbackRole)}
}

// RolePreview is what a role change would do to a member's permissions in
// the team, before it is made.
type RolePreview struct {
	From rbac.Role `json:"from"` // the member's role now
	To   rbac.Role `json:"to"`   // the role previewed
	// Gained are the actions To allows and From does not; Lost the
	// reverse. Each is [] when there are none.
	Gained []rbac.Action `json:"gained"`
	Lost   []rbac.Action `json:"lost"`
}

func rolePreviewOf(p teams.RolePreview) RolePreview {
	out := RolePreview{From: p.From, To: p.To, Gained: p.Gained, Lost: p.Lost}
	if out.Gained == nil {
		out.Gained = []rbac.Action{}
	}
	if out.Lost == nil {
		out.Lost = []rbac.Action{}
	}
	return out
}

// Roles describes the roles a member of a team may hold, so that a page
// can say what each one may do: the policy's roles, in the policy's order,
// then the team's own (Teams.DefineRole).
type Roles struct {
	Policy string    `json:"policy"` // the policy's name, such as digitalocean
	Top    rbac.Role `json:"top"`    // the role that may do everything
	// TopByTransfer is present, true, where the top role is given only by
	// an ownership transfer, confirmed by its sender and accepted by its
	// recipient, never by a role change or an invitation.
	TopByTransfer bool `json:"top_by_transfer,omitzero"`
	// Actions are every action of the policy, in its order.
	Actions []rbac.Action `json:"actions"`
	Roles   []RoleInfo    `json:"roles"`
}

// RoleInfo is one role and what it may do in the team.
type RoleInfo struct {
	Name rbac.Role `json:"name"`
	// Actions are the actions the role allows in the team, in the policy's
	// order; [] for a role that allows none.
	Actions []rbac.Action `json:"actions"`
	// Top is present, true, for a role that may do everything.
	Top bool `json:"top,omitzero"`
	// Team is present, true, for a role the team defined for itself.
	Team bool `json:"team,omitzero"`
}

// Seats is how a team's seats stand, for its members table: the seat limit
// the host set (absent: none), the seats its members and pending
// invitations fill, and how many are free (absent without a limit; 0 when
// the limit is filled, or lowered below the seats filled).
type Seats struct {
	Limit   int  `json:"limit,omitzero"`
	Members int  `json:"members"`
	Pending int  `json:"pending"`
	Free    *int `json:"free,omitzero"`
}

// SeatsOf returns s as the API answers a team's seats, for a host's own
// routes that answer them, such as the billing page where it sets the seat
// limit (Teams.SetSeatLimit). It is safe for concurrent use.
func SeatsOf(s teams.Seats) Seats {
	out := Seats{Limit: s.Limit, Members: s.Members, Pending: s.Pending}
	if s.Limit > 0 {
		out.Free = &s.Free
	}
	return out
}

// Domain is an email domain a team claims, as those who manage its
// settings see it: pending until the host finds Challenge in the domain's
// DNS TXT records and confirms it (Teams.ConfirmDomain), which sets
// VerifiedAt.
type Domain struct {
	// Name is the domain, lower case, such as acme.example.
	Name string `json:"name"`
	// Mode is auto_join (a user with a verified address at the domain
	// joins the team with Role) or suggest (they are shown the team).
	Mode store.DomainMode `json:"mode"`
	Role rbac.Role        `json:"role"`
	// Challenge is the value to publish in a DNS TXT record of the domain.
	Challenge string `json:"challenge,omitzero"`
	// VerifiedAt is when the host confirmed the domain; absent while it is
	// pending.
	VerifiedAt time.Time `json:"verified_at,omitzero"`
	// CreatedBy and CreatedAt name who claimed the domain and when.
	CreatedBy string    `json:"created_by,omitzero"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// DomainOf returns d as the API answers a team's email domain claim, for a
// host's own routes that answer one, such as the one that confirms it after
// the host's DNS lookup. It is safe for concurrent use.
func DomainOf(d store.Domain) Domain {
	return Domain{Name: d.Name, Mode: d.Mode, Role: rbac.Role(d.Role), Challenge: d.Challenge,
		VerifiedAt: utc(d.VerifiedAt), CreatedBy: d.CreatedBy, CreatedAt: utc(d.CreatedAt)}
}

// Invitation is an invite as members see it. Token and Link are present
// only in the answer of the call that made them: creating, resending or
// copying the invite's link again.
type Invitation struct {
	ID        string           `json:"id"`
	AccountID string           `json:"account_id"` // the team invited to
	Kind      store.InviteKind `json:"kind"`       // link or email
	Role      rbac.Role        `json:"role"`       // the role it grants
	// Email is an email invite's address; absent for links, and in lists
	// read by members who may not invite.
	Email string `json:"email,omitzero"`
	// Status is pending, accepted, revoked or expired.
	Status store.InviteStatus `json:"status"`
	// RequireSecure is present, true, when only a user with a secure
	// sign-in method may accept.
	RequireSecure bool `json:"require_secure,omitzero"`
	// MaxUses is how many users may accept; Uses how many did.
	MaxUses int `json:"max_uses,omitzero"`
	Uses    int `json:"uses,omitzero"`
	// CreatedBy and CreatedAt name who made the invite and when; ResentBy
	// and ResentAt the latest resend, if any.
	CreatedBy string    `json:"created_by,omitzero"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	ResentBy  string    `json:"resent_by,omitzero"`
	ResentAt  time.Time `json:"resent_at,omitzero"`
	// ExpiresAt is absent for an invite that never expires.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	// Token is the invite's secret and Link the URL made of it, to send.
	Token string `json:"token,omitzero"`
	Link  string `json:"link,omitzero"`
}

func invitationOf(inv invites.Invitation) Invitation {
	return Invitation{ID: inv.ID, AccountID: inv.AccountID, Kind: inv.Kind, Role: inv.Role, Email: inv.Email,
		Status: inv.Status, RequireSecure: inv.RequireSecure, MaxUses: inv.MaxUses, Uses: inv.Uses,
		CreatedBy: inv.CreatedBy, CreatedAt: utc(inv.CreatedAt), ResentBy: inv.ResentBy, ResentAt: utc(inv.ResentAt),
		ExpiresAt: utc(inv.ExpiresAt), UpdatedAt: utc(inv.UpdatedAt), Token: inv.Token, Link: inv.Link}
}

// InvitePreview is what an invite's token invites to, for its holder to
// choose whether to join.
type InvitePreview struct {
	AccountID string           `json:"account_id"`
	Team      string           `json:"team"` // the team's name
	Role      rbac.Role        `json:"role"` // the role it grants
	Kind      store.InviteKind `json:"kind"` // link or email
	// InviterID and InviterName name the member who sent the invite.
	InviterID   string `json:"inviter_id,omitzero"`
	InviterName string `json:"inviter_name,omitzero"`
	// RequireSecure is present, true, when only a user with a secure
	// sign-in method may accept.
	RequireSecure bool `json:"require_secure,omitzero"`
	// ExpiresAt is absent for an invite that never expires.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

func previewOf(p invites.Preview) InvitePreview {
	return InvitePreview{AccountID: p.AccountID, Team: p.Team, Role: p.Role, Kind: p.Kind, InviterID: p.InviterID,
		InviterName: p.InviterName, RequireSecure: p.RequireSecure, ExpiresAt: utc(p.ExpiresAt)}
}

// Transfer is an ownership transfer, without the hashes of its tokens.
type Transfer struct {
	ID        string `json:"id"`
	AccountID string `json:"account_id"`
	// Kind is role (To gets the top role) or account (To becomes the
	// account's owner).
	Kind store.TransferKind `json:"kind"`
	From string             `json:"from"` // who started it, and confirms it
	To   string             `json:"to"`   // who accepts it
	// Status is awaiting_confirm, awaiting_accept, done or cancelled.
	Status    store.TransferStatus `json:"status"`
	CreatedAt time.Time            `json:"created_at,omitzero"`
	ExpiresAt time.Time            `json:"expires_at,omitzero"` // when it stops being open
	UpdatedAt time.Time            `json:"updated_at,omitzero"`
}

func transferOf(t store.Transfer) Transfer {
	return Transfer{ID: t.ID, AccountID: t.AccountID, Kind: t.Kind, From: t.From, To: t.To, Status: t.Status,
		CreatedAt: utc(t.CreatedAt), ExpiresAt: utc(t.ExpiresAt), UpdatedAt: utc(t.UpdatedAt)}
}

// APIKey is an API key as its owner and the team's managers see it: never
// its hash. Token is present only in the answer of the call that made it;
// it is shown this once.
type APIKey struct {
	ID        string `json:"id"` // the key's ID, key_..., under which it acts
	AccountID string `json:"account_id"`
	// UserID is the member the key belongs to; absent for a service
	// account, which belongs to the team and Service marks.
	UserID  string `json:"user_id,omitzero"`
	Service bool   `json:"service,omitzero"`
	Name    string `json:"name"`
	// Role is the role the key acts with; Actions, when present, are the
	// only actions of it the key may perform.
	Role    rbac.Role     `json:"role"`
	Actions []rbac.Action `json:"actions,omitzero"`
	// CreatedBy and CreatedAt name who made the key and when.
	CreatedBy string    `json:"created_by,omitzero"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	// ExpiresAt is absent for a key that never expires.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// RevokedAt is when the key was revoked, absent while it is not;
	// RevokedBy who revoked it, absent when it went with its owner's
	// access.
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	RevokedBy string    `json:"revoked_by,omitzero"`
	// LastUsedAt and LastUsedIP are the latest use roster has written (at
	// most a minute behind, see roster.KeyUseInterval); absent if none.
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	LastUsedIP string    `json:"last_used_ip,omitzero"`
	// Token is the key's secret, rsk_...: only in the answer of the call
	// that made it.
	Token string `json:"token,omitzero"`
}

func apiKeyOf(k apikeys.Key) APIKey {
	return APIKey{ID: k.ID, AccountID: k.AccountID, UserID: k.UserID, Service: k.Service(), Name: k.Name, Role: k.Role,
		Actions: k.Actions, CreatedBy: k.CreatedBy, CreatedAt: utc(k.CreatedAt), ExpiresAt: utc(k.ExpiresAt),
		RevokedAt: utc(k.RevokedAt), RevokedBy: k.RevokedBy, LastUsedAt: utc(k.LastUsedAt), LastUsedIP: k.LastUsedIP}
}

func createdKeyOf(c apikeys.Created) APIKey {
	k := apiKeyOf(c.Key)
	k.Token = c.Token
	return k
}

// Event is one entry of a team's audit log, without the fields of its hash
// chain (audit.Service.Verify checks those). Before and After are the
// changed values as JSON values, such as {"role":"dev"}.
type Event struct {
	ID        int64     `json:"id"` // grows with every event
	AccountID string    `json:"account_id"`
	Time      time.Time `json:"time"`
	Actor     string    `json:"actor,omitzero"` // the user who acted
	// Action is what happened, such as member.role_changed.
	Action store.EventAction `json:"action"`
	// ResourceType and ResourceID name what was acted on, such as member
	// and a user ID.
	ResourceType string `json:"resource_type,omitzero"`
	ResourceID   string `json:"resource_id,omitzero"`
	// Result is allowed or denied, with the Reason of a refusal.
	Result store.Result `json:"result"`
	Reason string       `json:"reason,omitzero"`
	// Before and After are the changed values, as JSON values.
	Before json.RawMessage `json:"before,omitzero"`
	After  json.RawMessage `json:"after,omitzero"`
	// IP, UserAgent and RequestID are the metadata of the request that
	// acted.
	IP        string `json:"ip,omitzero"`
	UserAgent string `json:"user_agent,omitzero"`
	RequestID string `json:"request_id,omitzero"`
}

func eventOf(e store.Event) Event {
	return Event{ID: e.ID, AccountID: e.AccountID, Time: utc(e.Time), Actor: e.Actor, Action: e.Action,
		ResourceType: e.ResourceType, ResourceID: e.ResourceID, Result: e.Result, Reason: e.Reason,
		Before: jsonValue(e.Before), After: jsonValue(e.After), IP: e.IP, UserAgent: e.UserAgent, RequestID: e.RequestID}
}

// jsonValue returns the stored JSON text s as a JSON value: nil (left out)
// when empty, and s as a JSON string in the rare case it is not JSON, so
// that one odd event never breaks a page.
func jsonValue(s string) json.RawMessage {
	switch {
	case s == "":
		return nil
	case json.Valid([]byte(s)):
		return json.RawMessage(s)
	}
	b, _ := json.Marshal(s) // a string always encodes
	return b
}

// Page is one page of a list and the cursor of the next page, absent after
// the last. Items is [] when the page is empty, never null.
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitzero"`
}

// pageOf returns the page of the rows, converted by conv.
func pageOf[S, T any](rows []S, next string, conv func(S) T) Page[T] {
	items := make([]T, len(rows))
	for i, r := range rows {
		items[i] = conv(r)
	}
	return Page[T]{Items: items, Next: next}
}

// utc returns t in UTC, or the zero time for the zero time, so that
// omitzero leaves it out.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

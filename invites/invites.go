package invites

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/notify"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// Errors returned by the Service besides those of the store and rbac
// packages (store.ErrNotTeam among them). Test for them with errors.Is. Each
// wraps one of the kinds of package store.
var (
	// ErrUnknownToken means no invite has the token. It wraps
	// store.ErrNotFound.
	ErrUnknownToken = store.Kinded(store.ErrNotFound, "invites: no invite has this token")
	// ErrExpired means the invite's expiry time has passed. It wraps
	// store.ErrGone.
	ErrExpired = store.Kinded(store.ErrGone, "invites: invite expired")
	// ErrRevoked means the invite was revoked (by a member, because its
	// team was deleted, or because its inviter lost the right to invite).
	// It wraps store.ErrGone.
	ErrRevoked = store.Kinded(store.ErrGone, "invites: invite revoked")
	// ErrSuperseded means the token is an old token of an invite that was
	// resent since; only the newest token works. It wraps store.ErrGone.
	ErrSuperseded = store.Kinded(store.ErrGone, "invites: invite was resent; this token was replaced by a newer one")
	// ErrUsed means the invite has been used up, or this user already used
	// it. It wraps store.ErrGone.
	ErrUsed = store.Kinded(store.ErrGone, "invites: invite already used")
	// ErrAlreadyMember means the accepting user, or the owner of an invited
	// address, is already a member of the team; nothing changed. It wraps
	// store.ErrExists.
	ErrAlreadyMember = store.Kinded(store.ErrExists, "invites: already a member")
	// ErrWrongEmail means the email invite is bound to another address than
	// the accepting user's. It wraps store.ErrDenied.
	ErrWrongEmail = store.Kinded(store.ErrDenied, "invites: invite is for another email address")
	// ErrInsecureSignIn means the invite requires a secure sign-in method
	// (email with 2FA, Google or GitHub) and the user signs in otherwise.
	// It wraps store.ErrDenied.
	ErrInsecureSignIn = store.Kinded(store.ErrDenied, "invites: invite requires a secure sign-in method")
	// ErrInviterDenied means the member who sent the invite may no longer
	// invite with its role; Accept has revoked the invite. It wraps
	// store.ErrGone.
	ErrInviterDenied = store.Kinded(store.ErrGone, "invites: the inviter may no longer invite with this role")
	// ErrInviterInsecure means the team requires secure sign-in and the
	// member who sent the invite signs in otherwise, so they may do nothing
	// there: the invite works again once they enable a secure method. It
	// wraps store.ErrPrecondition.
	ErrInviterInsecure = store.Kinded(store.ErrPrecondition, "invites: the inviter must sign in securely before this invite can be used")
	// ErrInviterSuspended means the member who sent the invite is
	// suspended, so they may do nothing there: the invite works again once
	// they are reinstated. It wraps store.ErrPrecondition.
	ErrInviterSuspended = store.Kinded(store.ErrPrecondition, "invites: the inviter is suspended; the invite works again once they are reinstated")
	// ErrReusableTop means a reusable link would grant the policy's top
	// role. It wraps store.ErrInvalid.
	ErrReusableTop = store.Kinded(store.ErrInvalid, "invites: a reusable link cannot grant the top role")
	// ErrPending means an address already has a pending email invite to the
	// team; resend or revoke it instead. It wraps store.ErrExists.
	ErrPending = store.Kinded(store.ErrExists, "invites: address already has a pending invite")
	// ErrNoBaseURL means the Service has no base URL (WithBaseURL) to build
	// links from. It wraps store.ErrBackend: the server is misconfigured,
	// not the request.
	ErrNoBaseURL = store.Kinded(store.ErrBackend, "invites: no base URL configured for links")
	// ErrNoLinkSecret means the Service has no link secret
	// (WithLinkSecrets), so links are shown once and Link cannot show one
	// again. It wraps store.ErrPrecondition.
	ErrNoLinkSecret = store.Kinded(store.ErrPrecondition, "invites: no link secret is configured, so links are shown once")
	// ErrLinkNotKept means the invite's link cannot be made again: it was
	// made without a link secret, or with one that is no longer configured.
	// Resend the invite for a new link. It wraps store.ErrPrecondition.
	ErrLinkNotKept = store.Kinded(store.ErrPrecondition, "invites: this invite's link cannot be shown again; resend the invite for a new one")
	// ErrWeakSecret means a link secret is shorter than MinSecretLen bytes.
	// It wraps store.ErrInvalid.
	ErrWeakSecret = store.Kinded(store.ErrInvalid, "invites: a link secret needs at least 32 bytes")
	// ErrNotSent means invites were committed but the Notifier failed to
	// send some of their emails; they can be resent. It wraps
	// store.ErrBackend: the server failed to send, not the request.
	ErrNotSent = store.Kinded(store.ErrBackend, "invites: invite created but its email was not sent")
)

// Limits on what the Service accepts; more is refused with store.ErrInvalid.
const (
	MaxLinkUses = 1000                 // the largest MaxUses of a reusable link
	MaxExpiry   = 366 * 24 * time.Hour // the longest expiry of an invite
	MaxEmails   = 100                  // addresses per CreateEmail call
)

// Invitation is an invite as members see it.
type Invitation struct {
	ID        string
	AccountID string
	Kind      store.InviteKind
	Role      rbac.Role
	// Email is the invited address of an email invite, in canonical form.
	// It is empty for links, and in lists read by members who may not
	// invite.
	Email         string
	RequireSecure bool
	// Status is where the invite stands at the time of the call:
	// store.InvitePending, store.InviteAccepted, store.InviteRevoked, or
	// store.InviteExpired for a pending invite whose expiry time has
	// passed.
	Status store.InviteStatus
	// MaxUses is how many users may accept the invite (1 unless a reusable
	// link); Uses counts those who did.
	MaxUses int
	Uses    int
	// CreatedBy is the member who created the invite; ResentBy and ResentAt
	// name the latest resend, if any.
	CreatedBy string
	CreatedAt time.Time
	ResentBy  string
	ResentAt  time.Time
	// ExpiresAt is when the invite stops working; zero means never.
	ExpiresAt time.Time
	UpdatedAt time.Time
	// Token and Link are the secret, shown only in the result of the call
	// that made it (CreateLink, CreateEmail, Resend) or, with link secrets,
	// made it again (Link), and empty in lists.
	Token string
	Link  string
}

// Service creates, lists, resends, revokes and accepts invites. Get one from
// roster.Open or roster.New; New is for wiring a Store by hand. A Service is
// safe for concurrent use.
type Service struct {
	door          *txn.Door
	policy        *rbac.Policy
	baseURL       string
	notifier      notify.Notifier // nil sends nothing
	defaultExpiry time.Duration
	teamExpiry    func(ctx context.Context, accountID string) (time.Duration, error)
	now           func() time.Time
	secrets       *keyring // nil: links are shown once
}

// Option configures New.
type Option func(*Service)

// WithBaseURL sets the base URL of the host application that links are
// built from, such as "https://app.example.com/team": the link of an invite
// is the base URL + "/invites/" + its token (a trailing slash of the base
// URL is dropped). Links are never built from a request's Host header. It
// means the same as teams.WithBaseURL and roster.WithBaseURL, which gives
// it to both services. It must be an absolute http or https URL without
// user info, query or fragment (New returns store.ErrInvalid otherwise). It
// is required for CreateLink and CreateEmail, which return ErrNoBaseURL
// without it.
func WithBaseURL(baseURL string) Option {
	return func(s *Service) { s.baseURL = baseURL }
}

// WithNotifier sets who sends the invitation emails (n.SendInvite).
// Without one, or with nil, nothing is sent (see Notifications in the
// package documentation).
func WithNotifier(n notify.Notifier) Option {
	return func(s *Service) { s.notifier = n }
}

// WithDefaultExpiry sets how long invites stay valid when neither the call
// nor WithTeamExpiry says otherwise: 0 (the default) means they never
// expire. It must be between 0 and MaxExpiry.
func WithDefaultExpiry(d time.Duration) Option {
	return func(s *Service) { s.defaultExpiry = d }
}

// WithTeamExpiry sets a function giving each team's default expiry, for
// host applications that let teams choose it; it replaces WithDefaultExpiry's
// value for every team, so it should return that value for teams without a
// setting of their own. It returns 0 for never, at most MaxExpiry; its error
// fails the call creating the invite. It is called outside any transaction
// and must be safe for concurrent use.
func WithTeamExpiry(fn func(ctx context.Context, accountID string) (time.Duration, error)) Option {
	return func(s *Service) { s.teamExpiry = fn }
}

// WithClock sets the clock the Service reads the time from, for tests. It
// must be safe for concurrent use.
func WithClock(now func() time.Time) Option {
	return func(s *Service) { s.now = now }
}

// New returns a Service that keeps invites in st and authorizes with p. It
// returns an error wrapping store.ErrInvalid if st or p is nil, or an option
// is invalid (a malformed base URL, an expiry outside 0..MaxExpiry, a nil
// clock, a zero Secret or two secrets with one key ID).
func New(st store.Store, p *rbac.Policy, opts ...Option) (*Service, error) {
	s := &Service{policy: p, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	fail := func(format string, args ...any) (*Service, error) {
		return nil, fmt.Errorf("%w: %s", store.ErrInvalid, fmt.Sprintf(format, args...))
	}
	switch {
	case st == nil || p == nil:
		return fail("nil store or policy")
	case s.now == nil:
		return fail("nil clock")
	case s.defaultExpiry < 0 || s.defaultExpiry > MaxExpiry:
		return fail("default expiry %s is outside 0..%s", s.defaultExpiry, MaxExpiry)
	}
	if err := s.secrets.check(); err != nil {
		return nil, err
	}
	if s.baseURL != "" {
		u, err := url.Parse(s.baseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
			u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(s.baseURL, " \t\r\n\x00") {
			return fail("base URL %q is not an absolute http(s) URL without user info, query or fragment", s.baseURL)
		}
		s.baseURL = strings.TrimRight(s.baseURL, "/")
	}
	s.door = txn.New(st, p, s.now)
	return s, nil
}

// InviteOption configures one invite made by CreateLink or CreateEmail.
type InviteOption func(*inviteConfig)

type inviteConfig struct {
	maxUses   int
	expiresIn time.Duration
	expirySet bool
	never     bool
	secure    bool
}

// MaxUses makes a link reusable by up to n users (1 to MaxLinkUses; the
// default is 1). A reusable link cannot grant the top role. Email invites
// are single use and refuse it.
func MaxUses(n int) InviteOption {
	return func(c *inviteConfig) { c.maxUses = n }
}

// ExpiresIn makes the invite expire d after it is sent (1 second to
// MaxExpiry), overriding the defaults.
func ExpiresIn(d time.Duration) InviteOption {
	return func(c *inviteConfig) { c.expiresIn, c.expirySet, c.never = d, true, false }
}

// NeverExpires makes the invite valid until used or revoked, overriding the
// defaults.
func NeverExpires() InviteOption {
	return func(c *inviteConfig) { c.expiresIn, c.expirySet, c.never = 0, false, true }
}

// RequireSecure makes the invite acceptable only by a user whose sign-in
// method is secure (by default email with 2FA, Google or GitHub; see
// rbac.Policy.SignIns). Invites to a team that requires secure sign-in
// (store.Account.RequireSecureSignIn) require it without the option, and
// while the team requires it nobody signing in insecurely can accept any
// invite to it.
func RequireSecure() InviteOption {
	return func(c *inviteConfig) { c.secure = true }
}

// newInviteConfig applies opts for an invite of the given kind and
// validates them.
func newInviteConfig(kind store.InviteKind, opts []InviteOption) (inviteConfig, error) {
	c := inviteConfig{maxUses: 1}
	for _, o := range opts {
		if o == nil {
			return c, fmt.Errorf("%w: nil invite option", store.ErrInvalid)
		}
		o(&c)
	}
	switch {
	case c.maxUses < 1 || c.maxUses > MaxLinkUses:
		return c, fmt.Errorf("%w: max uses %d is outside 1..%d", store.ErrInvalid, c.maxUses, MaxLinkUses)
	case kind == store.InviteEmail && c.maxUses != 1:
		return c, fmt.Errorf("%w: email invites are single use", store.ErrInvalid)
	case c.expirySet && (c.expiresIn < time.Second || c.expiresIn > MaxExpiry):
		return c, fmt.Errorf("%w: expiry %s is outside 1s..%s", store.ErrInvalid, c.expiresIn, MaxExpiry)
	}
	return c, nil
}

// lifetime returns how long a new invite to the account stays valid, 0
// meaning forever.
func (s *Service) lifetime(ctx context.Context, accountID string, c inviteConfig) (time.Duration, error) {
	switch {
	case c.never:
		return 0, nil
	case c.expirySet:
		return c.expiresIn, nil
	case s.teamExpiry == nil:
		return s.defaultExpiry, nil
	}
	d, err := s.teamExpiry(ctx, accountID)
	if err != nil {
		return 0, fmt.Errorf("team default expiry: %w", err)
	}
	if d < 0 || d > MaxExpiry {
		return 0, fmt.Errorf("%w: team default expiry %s is outside 0..%s", store.ErrInvalid, d, MaxExpiry)
	}
	return d, nil
}

// expiry returns the expiry time of an invite sent at now with lifetime d.
func expiry(now time.Time, d time.Duration) time.Time {
	if d == 0 {
		return time.Time{}
	}
	return now.Add(d)
}

// link returns the link of a token.
func (s *Service) link(tok string) string {
	return s.baseURL + "/invites/" + tok
}

// status returns the status of a listed invite at now: its stored status,
// or store.InviteExpired for a pending invite that has expired.
func status(inv store.Invite, now time.Time) store.InviteStatus {
	if inv.Status == store.InvitePending && inv.Expired(now) {
		return store.InviteExpired
	}
	return inv.Status
}

// invitation returns the members' view of a stored invite.
func invitation(inv store.Invite, now time.Time, showEmail bool) Invitation {
	out := Invitation{
		ID: inv.ID, AccountID: inv.AccountID, Kind: inv.Kind, Role: rbac.Role(inv.Role),
		RequireSecure: inv.RequireSecure, Status: status(inv, now),
		MaxUses: inv.MaxUses, Uses: inv.Uses,
		CreatedBy: inv.CreatedBy, CreatedAt: inv.CreatedAt,
		ResentBy: inv.ResentBy, ResentAt: inv.ResentAt,
		ExpiresAt: inv.ExpiresAt, UpdatedAt: inv.UpdatedAt,
	}
	if showEmail {
		out.Email = inv.Email
	}
	return out
}

// sponsor returns the member who vouches for the invite: whoever sent it
// last.
func sponsor(inv store.Invite) string {
	if inv.ResentBy != "" {
		return inv.ResentBy
	}
	return inv.CreatedBy
}

// timeText formats an optional time for an event.
func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

// inviteFields describes a new invite for its invite.created event.
func inviteFields(inv store.Invite) map[string]string {
	m := map[string]string{
		"kind": string(inv.Kind), "role": inv.Role,
		"max_uses": strconv.Itoa(inv.MaxUses), "expires_at": timeText(inv.ExpiresAt),
		"require_secure": strconv.FormatBool(inv.RequireSecure),
	}
	if inv.Email != "" {
		m["email"] = inv.Email
	}
	return m
}

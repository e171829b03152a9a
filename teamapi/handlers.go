package teamapi

// The handlers: each reads the request, calls roster's services as the
// user the middleware let through, and returns what to answer. None checks
// permissions itself: the route table (routes.go) puts each behind roster's
// middleware, and every service call names its actor, the signed-in user,
// for roster to authorize.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/teamroster/roster/apikeys"
	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/invites"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// openAPI serves the OpenAPI document.
func (a *api) openAPI(c *call, _ none) (any, error) {
	c.w.Header().Set("Content-Type", "application/json")
	_, _ = c.w.Write(a.doc) // a failed write means the client has gone
	return written{}, nil
}

// me is the account selector, with what the user may do in each account.
func (a *api) me(c *call, _ none) (any, error) {
	ctx := c.ctx()
	u, err := a.r.Teams.User(ctx, c.user)
	if err != nil {
		return nil, err
	}
	// The selector shows every account, so it reads every page.
	var accounts []AccountEntry
	for page := (store.Page{Size: store.MaxPageSize}); ; {
		entries, next, err := a.r.Teams.Accounts(ctx, c.user, page)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			accounts = append(accounts, AccountEntry{Account: accountOf(e.Account), Role: e.Role, Active: e.Active})
		}
		if next == "" {
			break
		}
		page.Cursor = next
	}
	if accounts == nil {
		accounts = []AccountEntry{}
	}
	p := a.r.Policy()
	can := map[string][]rbac.Action{}
	for i, e := range accounts {
		acts := []rbac.Action{}
		for _, act := range p.Actions() {
			if a.r.Can(ctx, c.user, e.Account.ID, act) {
				acts = append(acts, act)
			}
		}
		can[e.Account.ID] = acts
		if len(acts) == 0 {
			// Say why a member may do nothing, where roster knows.
			err := a.r.Check(ctx, c.user, e.Account.ID, rbac.MembersInvite)
			accounts[i].Suspended = errors.Is(err, rbac.ErrSuspended)
			accounts[i].NeedsSecureSignIn = errors.Is(err, rbac.ErrSecureSignIn)
		}
	}
	return Me{User: UserOf(u), Accounts: accounts, Can: can, Policy: p.Name(), Roles: p.Roles(), Top: p.Top()}, nil
}

// nameBody names a team.
type nameBody struct {
	Name string `json:"name"`
}

// createTeam makes a new team owned by the signed-in user, who keeps their
// personal account and other teams.
func (a *api) createTeam(c *call, in nameBody) (any, error) {
	acct, err := a.r.Teams.CreateTeam(c.ctx(), c.user, in.Name)
	return answer(acct, err, accountOf)
}

func (a *api) previewInvite(c *call, _ none) (any, error) {
	p, err := a.r.Invites.Preview(c.ctx(), c.req.PathValue("token"))
	return answer(p, err, previewOf)
}

func (a *api) acceptInvite(c *call, _ none) (any, error) {
	m, err := a.r.Invites.Accept(c.ctx(), c.user, c.req.PathValue("token"))
	return answer(m, err, membershipOf)
}

// tokenBody carries the token of a transfer's email.
type tokenBody struct {
	Token string `json:"token"`
}

// confirmTransfer is the current owner confirming the transfer {id} with
// the token of their email.
func (a *api) confirmTransfer(c *call, in tokenBody) (any, error) {
	t, err := a.r.Teams.ConfirmTransfer(c.ctx(), c.user, c.req.PathValue("id"), in.Token)
	return answer(t, err, transferOf)
}

// acceptTransfer is the recipient accepting the transfer {id} with the
// token of their email.
func (a *api) acceptTransfer(c *call, in tokenBody) (any, error) {
	t, err := a.r.Teams.AcceptTransfer(c.ctx(), c.user, c.req.PathValue("id"), in.Token)
	return answer(t, err, transferOf)
}

// switchAccount makes {team} the account the user works in, and answers
// it.
func (a *api) switchAccount(c *call, _ none) (any, error) {
	if err := a.r.Teams.Switch(c.ctx(), c.user, c.team); err != nil {
		return nil, err
	}
	acct, err := a.r.Teams.Active(c.ctx(), c.user)
	return answer(acct, err, accountOf)
}

// convert makes the personal account {team} a team of that name.
func (a *api) convert(c *call, in nameBody) (any, error) {
	acct, err := a.r.Teams.ConvertToTeam(c.ctx(), c.user, c.team, in.Name)
	return answer(acct, err, accountOf)
}

// teamPage is the account.
func (a *api) teamPage(c *call, _ none) (any, error) {
	acct, err := a.r.Teams.Account(c.ctx(), c.user, c.team)
	return answer(acct, err, accountOf)
}

// deleteTeam reverts the team to its owner's personal account, and answers
// that.
func (a *api) deleteTeam(c *call, _ none) (any, error) {
	acct, err := a.r.Teams.DeleteTeam(c.ctx(), c.user, c.team)
	return answer(acct, err, accountOf)
}

// previewSecureSignIn lists the members who would lose access if the team
// required secure sign-in.
func (a *api) previewSecureSignIn(c *call, _ none) (any, error) {
	rows, err := a.r.Teams.PreviewSecureSignIn(c.ctx(), c.user, c.team)
	if err != nil {
		return nil, err
	}
	return pageOf(rows, "", memberRowOf).Items, nil
}

// secureBody turns a team's secure sign-in requirement on or off.
type secureBody struct {
	Require bool `json:"require"`
}

func (a *api) setSecureSignIn(c *call, in secureBody) (any, error) {
	acct, err := a.r.Teams.SetSecureSignIn(c.ctx(), c.user, c.team, in.Require)
	return answer(acct, err, accountOf)
}

// domains lists the team's email domain claims, verified or not, ordered
// by name.
func (a *api) domains(c *call, _ none) (any, error) {
	ds, err := a.r.Teams.Domains(c.ctx(), c.user, c.team)
	if err != nil {
		return nil, err
	}
	return pageOf(ds, "", DomainOf).Items, nil
}

// domainBody claims an email domain: what a user with a verified address
// there gets, joining with Role (mode auto_join) or being shown the team
// (mode suggest).
type domainBody struct {
	Name string           `json:"name"`
	Mode store.DomainMode `json:"mode"`
	Role rbac.Role        `json:"role"`
}

// addDomain claims the body's domain for the team, or changes the mode and
// role of its claim, and answers the claim with the challenge to publish
// in the domain's DNS. Confirming it is the host's call (Teams.ConfirmDomain)
// after its own DNS lookup, so no route of the API does.
func (a *api) addDomain(c *call, in domainBody) (any, error) {
	d, err := a.r.Teams.AddDomain(c.ctx(), c.user, c.team, in.Name, in.Mode, in.Role)
	return answer(d, err, DomainOf)
}

// removeDomain gives up the team's claim of the domain {name}.
func (a *api) removeDomain(c *call, _ none) (any, error) {
	return nil, a.r.Teams.RemoveDomain(c.ctx(), c.user, c.team, c.req.PathValue("name"))
}

// members is one page of the members table.
func (a *api) members(c *call, _ none) (any, error) {
	p, err := c.q.page()
	if err != nil {
		return nil, err
	}
	rows, next, err := a.r.Teams.Members(c.ctx(), c.user, c.team, p)
	if err != nil {
		return nil, err
	}
	return pageOf(rows, next, memberRowOf), nil
}

// roleBody names a role, and the time it lasts until, if not for good.
type roleBody struct {
	Role rbac.Role `json:"role"`
	// Until, an RFC 3339 time, grants Role until then, when the member
	// falls back to the role they hold now (Teams.GrantRoleUntil); empty
	// gives it for good (Teams.ChangeRole).
	Until string `json:"until"`
}

// changeRole gives the member {user} a role, for good or until a time.
func (a *api) changeRole(c *call, in roleBody) (any, error) {
	user := c.req.PathValue("user")
	if in.Until == "" {
		m, err := a.r.Teams.ChangeRole(c.ctx(), c.user, c.team, user, in.Role)
		return answer(m, err, membershipOf)
	}
	until, err := time.Parse(time.RFC3339, in.Until)
	if err != nil {
		return nil, badRequest("until must be an RFC 3339 time, such as 2030-01-31T17:00:00Z")
	}
	m, err := a.r.Teams.GrantRoleUntil(c.ctx(), c.user, c.team, user, in.Role, until)
	return answer(m, err, membershipOf)
}

// previewRole says which actions the member {user} would gain and lose if
// their role became the query's role, changing nothing.
func (a *api) previewRole(c *call, _ none) (any, error) {
	role := rbac.Role(c.q.get("role"))
	if role == "" {
		return nil, badRequest("role is required: the role to preview")
	}
	p, err := a.r.Teams.PreviewRoleChange(c.ctx(), c.user, c.team, c.req.PathValue("user"), role)
	return answer(p, err, rolePreviewOf)
}

// roles describes the roles a member of the team may hold: the policy's
// and the team's own, each with the actions it allows there.
func (a *api) roles(c *call, _ none) (any, error) {
	own, err := a.r.Teams.Roles(c.ctx(), c.user, c.team)
	if err != nil {
		return nil, err
	}
	p := a.r.Policy()
	out := Roles{Policy: p.Name(), Top: p.Top(), TopByTransfer: p.TopByTransfer(), Actions: p.Actions(), Roles: []RoleInfo{}}
	for _, r := range p.Roles() {
		info := RoleInfo{Name: r, Actions: []rbac.Action{}, Top: p.IsTopIn(c.team, r)}
		for _, act := range out.Actions {
			if p.AllowsIn(c.team, r, act) {
				info.Actions = append(info.Actions, act)
			}
		}
		out.Roles = append(out.Roles, info)
	}
	for _, r := range own {
		info := RoleInfo{Name: rbac.Role(r.Name), Actions: []rbac.Action{}, Team: true}
		for _, act := range out.Actions {
			if slices.Contains(r.Actions, string(act)) {
				info.Actions = append(info.Actions, act)
			}
		}
		out.Roles = append(out.Roles, info)
	}
	return out, nil
}

// untilBody sets when a membership ends: an RFC 3339 time, or null for
// never. The field is required, so that an empty body never clears an end
// time by accident.
type untilBody struct {
	Until json.RawMessage `json:"until"`
}

// endMembership makes the membership of {user} end at the body's time, or
// last again with null.
func (a *api) endMembership(c *call, in untilBody) (any, error) {
	var until time.Time
	switch s := string(bytes.TrimSpace(in.Until)); {
	case s == "":
		return nil, badRequest("until is required: an RFC 3339 time, or null for a membership that does not end")
	case s == "null":
	default:
		var text string
		err := json.Unmarshal(in.Until, &text)
		if err == nil {
			until, err = time.Parse(time.RFC3339, text)
		}
		if err != nil {
			return nil, badRequest("until must be an RFC 3339 time, such as 2030-01-31T17:00:00Z, or null")
		}
	}
	m, err := a.r.Teams.EndMembership(c.ctx(), c.user, c.team, c.req.PathValue("user"), until)
	return answer(m, err, membershipOf)
}

// suspend suspends the member {user}: they keep their role and seat and
// may do nothing until reinstated.
func (a *api) suspend(c *call, _ none) (any, error) {
	m, err := a.r.Teams.Suspend(c.ctx(), c.user, c.team, c.req.PathValue("user"))
	return answer(m, err, membershipOf)
}

// reinstate ends the suspension of the member {user}.
func (a *api) reinstate(c *call, _ none) (any, error) {
	m, err := a.r.Teams.Reinstate(c.ctx(), c.user, c.team, c.req.PathValue("user"))
	return answer(m, err, membershipOf)
}

// seats is how the team's seats stand.
func (a *api) seats(c *call, _ none) (any, error) {
	s, err := a.r.Teams.Seats(c.ctx(), c.user, c.team)
	return answer(s, err, SeatsOf)
}

func (a *api) removeMember(c *call, _ none) (any, error) {
	return nil, a.r.Teams.RemoveMember(c.ctx(), c.user, c.team, c.req.PathValue("user"))
}

func (a *api) leave(c *call, _ none) (any, error) {
	return nil, a.r.Teams.Leave(c.ctx(), c.user, c.team)
}

// listInvites is one page of the team's invites, or of the pending ones
// with status=pending.
func (a *api) listInvites(c *call, _ none) (any, error) {
	list := a.r.Invites.List
	switch c.q.get("status") {
	case "":
	case "pending":
		list = a.r.Invites.Pending
	default:
		return nil, badRequest("status must be pending or absent")
	}
	p, err := c.q.page()
	if err != nil {
		return nil, err
	}
	rows, next, err := list(c.ctx(), c.user, c.team, p)
	if err != nil {
		return nil, err
	}
	return pageOf(rows, next, invitationOf), nil
}

// inviteBody makes invites.
type inviteBody struct {
	Role rbac.Role `json:"role"`
	// Emails, when given, makes one email invite per address (all or
	// nothing); otherwise a link is made.
	Emails []string `json:"emails"`
	// MaxUses lets a link be used by that many users.
	MaxUses int `json:"max_uses"`
	// ExpiresIn is a duration such as "72h"; empty means the default.
	ExpiresIn     string `json:"expires_in"`
	RequireSecure bool   `json:"require_secure"`
}

// createInvites answers the new invitations, each with its token and link.
func (a *api) createInvites(c *call, in inviteBody) (any, error) {
	var opts []invites.InviteOption
	if in.MaxUses != 0 {
		opts = append(opts, invites.MaxUses(in.MaxUses))
	}
	if in.ExpiresIn != "" {
		d, err := time.ParseDuration(in.ExpiresIn)
		if err != nil {
			return nil, badRequest("expires_in must be a duration such as 72h")
		}
		opts = append(opts, invites.ExpiresIn(d))
	}
	if in.RequireSecure {
		opts = append(opts, invites.RequireSecure())
	}
	var made []invites.Invitation
	var err error
	if len(in.Emails) > 0 {
		made, err = a.r.Invites.CreateEmail(c.ctx(), c.user, c.team, in.Role, in.Emails, opts...)
	} else {
		var inv invites.Invitation
		inv, err = a.r.Invites.CreateLink(c.ctx(), c.user, c.team, in.Role, opts...)
		made = []invites.Invitation{inv}
	}
	if err != nil {
		return nil, err
	}
	return pageOf(made, "", invitationOf).Items, nil
}

// resendInvite gives the invite {id} a new token (the old one stops
// working) and sends an email invite again.
func (a *api) resendInvite(c *call, _ none) (any, error) {
	inv, err := a.r.Invites.Resend(c.ctx(), c.user, c.team, c.req.PathValue("id"))
	return answer(inv, err, invitationOf)
}

// copyInviteLink answers a pending invite with its link made again, to
// copy it. It is a POST: roster records the copy in the audit log, since
// it shows a credential again.
func (a *api) copyInviteLink(c *call, _ none) (any, error) {
	inv, err := a.r.Invites.Link(c.ctx(), c.user, c.team, c.req.PathValue("id"))
	return answer(inv, err, invitationOf)
}

func (a *api) revokeInvite(c *call, _ none) (any, error) {
	return nil, a.r.Invites.Revoke(c.ctx(), c.user, c.team, c.req.PathValue("id"))
}

// transfers is one page of the team's transfers.
func (a *api) transfers(c *call, _ none) (any, error) {
	p, err := c.q.page()
	if err != nil {
		return nil, err
	}
	rows, next, err := a.r.Teams.Transfers(c.ctx(), c.user, c.team, p)
	if err != nil {
		return nil, err
	}
	return pageOf(rows, next, transferOf), nil
}

// transferBody starts a transfer: kind "role" (the default) gives To the top
// role (Teams.GrantTopRole), "account" hands the account over to To
// (Teams.TransferOwnership).
type transferBody struct {
	To   string             `json:"to"`
	Kind store.TransferKind `json:"kind"`
}

func (a *api) startTransfer(c *call, in transferBody) (any, error) {
	start := a.r.Teams.GrantTopRole
	switch in.Kind {
	case "", store.TransferRole:
	case store.TransferAccount:
		start = a.r.Teams.TransferOwnership
	default:
		return nil, badRequest("kind must be role or account")
	}
	t, err := start(c.ctx(), c.user, c.team, in.To)
	return answer(t, err, transferOf)
}

func (a *api) cancelTransfer(c *call, _ none) (any, error) {
	return nil, a.r.Teams.CancelTransfer(c.ctx(), c.user, c.team, c.req.PathValue("id"))
}

// keys is one page of the user's own API keys for the team, revoked ones
// included, newest first; with all=true, of every key of the team, which
// Keys.ListTeam allows the owner and admins.
func (a *api) keys(c *call, _ none) (any, error) {
	list := a.r.Keys.List
	switch c.q.get("all") {
	case "", "false":
	case "true":
		list = a.r.Keys.ListTeam
	default:
		return nil, badRequest("all must be true or false")
	}
	p, err := c.q.page()
	if err != nil {
		return nil, err
	}
	rows, next, err := list(c.ctx(), c.user, c.team, p)
	if err != nil {
		return nil, err
	}
	return pageOf(rows, next, apiKeyOf), nil
}

// keyBody makes an API key.
type keyBody struct {
	Name string `json:"name"`
	// Role is the role the key acts with; empty means the user's own, for a
	// personal key.
	Role rbac.Role `json:"role"`
	// Actions, when given, narrows the key to these actions of its role.
	Actions []rbac.Action `json:"actions"`
	// ExpiresAt is an RFC 3339 time; empty means the key never expires.
	ExpiresAt string `json:"expires_at"`
	// Service makes a service account, which belongs to the team rather
	// than the user (Keys.CreateService).
	Service bool `json:"service"`
}

// createKey answers the new key with its token, shown this once.
func (a *api) createKey(c *call, in keyBody) (any, error) {
	spec := apikeys.Spec{Name: in.Name, Role: in.Role, Actions: in.Actions}
	if in.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339, in.ExpiresAt)
		if err != nil {
			return nil, badRequest("expires_at must be an RFC 3339 time, such as 2030-01-31T00:00:00Z")
		}
		spec.ExpiresAt = t
	}
	create := a.r.Keys.Create
	if in.Service {
		create = a.r.Keys.CreateService
	}
	made, err := create(c.ctx(), c.user, c.team, spec)
	return answer(made, err, createdKeyOf)
}

// revokeKey revokes the key {id} at once: the user's own, or, for the
// owner and admins, any key of the team their role covers.
func (a *api) revokeKey(c *call, _ none) (any, error) {
	_, err := a.r.Keys.Revoke(c.ctx(), c.user, c.team, c.req.PathValue("id"))
	return nil, err
}

// filter returns the audit filter of the query: since and until (RFC 3339
// or a date), actor, action, resource_type, resource_id, result, limit and
// cursor.
func (c *call) filter() (audit.Filter, error) {
	q := c.q
	f := audit.Filter{
		Actor: q.get("actor"), Action: store.EventAction(q.get("action")), ResourceType: q.get("resource_type"),
		ResourceID: q.get("resource_id"), Result: store.Result(q.get("result")), Cursor: q.get("cursor"),
	}
	p, err := q.page()
	if err != nil {
		return f, err
	}
	f.Limit = p.Size
	if f.Since, err = q.time("since"); err != nil {
		return f, err
	}
	f.Until, err = q.time("until")
	return f, err
}

// auditLog is one page of the audit log, newest first.
func (a *api) auditLog(c *call, _ none) (any, error) {
	f, err := c.filter()
	if err != nil {
		return nil, err
	}
	events, next, err := a.r.Audit.Query(c.ctx(), c.user, c.team, f)
	if err != nil {
		return nil, err
	}
	return pageOf(events, next, eventOf), nil
}

// The media types of an export, by format.
var exportTypes = map[audit.Format]string{
	audit.NDJSON: "application/jsonl",
	audit.CSV:    "text/csv; charset=utf-8",
}

// exportAudit streams the audit log as audit.Service.Export writes it:
// format ndjson (JSON Lines, the default) or csv, with the filter of the
// audit log; limit caps the number of events (absent: all). The file is
// audit's export, which carries each event's hash chain fields so that it
// can be verified outside roster.
func (a *api) exportAudit(c *call, _ none) (any, error) {
	format := audit.Format(c.q.get("format"))
	if format == "" {
		format = audit.NDJSON
	}
	ctype, ok := exportTypes[format]
	if !ok {
		return nil, badRequest("format must be ndjson or csv")
	}
	f, err := c.filter()
	if err != nil {
		return nil, err
	}
	out := &lazyWriter{w: c.w, start: func(h http.Header) {
		h.Set("Content-Type", ctype)
		h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="audit.%s"`, map[audit.Format]string{audit.NDJSON: "jsonl", audit.CSV: "csv"}[format]))
		h.Set("Cache-Control", "no-store")
	}}
	_, err = a.r.Audit.Export(c.ctx(), c.user, c.team, f, format, out)
	switch {
	case err != nil && !out.started:
		return nil, err
	case err != nil:
		// The status is sent: break the response off, so that the client
		// sees a truncated file rather than a complete one.
		noteError(c.ctx(), err)
		panic(http.ErrAbortHandler)
	case !out.started: // no events and no header line: an empty file
		out.start(c.w.Header())
		c.w.WriteHeader(http.StatusOK)
	}
	return written{}, nil
}

// lazyWriter sets the response's headers on the first write, so that an
// export refused before it writes anything is answered as a problem.
type lazyWriter struct {
	w       http.ResponseWriter
	start   func(http.Header)
	started bool
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	if !l.started {
		l.started = true
		l.start(l.w.Header())
	}
	return l.w.Write(p)
}

// answer converts v by conv, unless err.
func answer[S, T any](v S, err error, conv func(S) T) (any, error) {
	if err != nil {
		return nil, err
	}
	return conv(v), nil
}

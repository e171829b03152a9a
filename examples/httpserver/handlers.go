package main

// The handlers: each reads the request, calls roster's services as the
// user the middleware let through, and returns what to answer. None checks
// permissions itself: the route table (routes.go) puts each behind roster's
// middleware, and every service call names its actor, the signed-in user,
// for roster to authorize.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/invites"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teams"
)

type me struct {
	User     store.User           `json:"user"`
	Accounts []teams.AccountEntry `json:"accounts"`
	// Can lists, by account ID, the actions the user may perform there.
	Can map[string][]string `json:"can"`
	// Policy, Roles and Top describe the policy: its name, its roles and
	// its top role.
	Policy string      `json:"policy"`
	Roles  []rbac.Role `json:"roles"`
	Top    rbac.Role   `json:"top"`
}

// me is the account selector, with what the user may do in each account so
// that a page shows only the controls that will work.
func (s *server) me(_ http.ResponseWriter, req *http.Request) (any, error) {
	ctx := req.Context()
	user, _ := who(req)
	u, err := s.r.Teams.User(ctx, user)
	if err != nil {
		return nil, err
	}
	// The selector shows every account, so it reads every page.
	var accounts []teams.AccountEntry
	for page := (store.Page{Size: store.MaxPageSize}); ; {
		entries, next, err := s.r.Teams.Accounts(ctx, user, page)
		if err != nil {
			return nil, err
		}
		accounts = append(accounts, entries...)
		if next == "" {
			break
		}
		page.Cursor = next
	}
	p := s.r.Policy()
	can := map[string][]string{}
	for _, e := range accounts {
		acts := []string{}
		for _, act := range p.Actions() {
			if s.r.Can(ctx, user, e.Account.ID, act) {
				acts = append(acts, string(act))
			}
		}
		can[e.Account.ID] = acts
	}
	return me{User: u, Accounts: accounts, Policy: p.Name(), Can: can, Roles: p.Roles(), Top: p.Top()}, nil
}

func (s *server) previewInvite(_ http.ResponseWriter, req *http.Request) (any, error) {
	return s.r.Invites.Preview(req.Context(), req.PathValue("token"))
}

func (s *server) acceptInvite(_ http.ResponseWriter, req *http.Request) (any, error) {
	user, _ := who(req)
	return s.r.Invites.Accept(req.Context(), user, req.PathValue("token"))
}

type tokenBody struct {
	Token string `json:"token"`
}

// transferStep is confirming (Teams.ConfirmTransfer) or accepting
// (Teams.AcceptTransfer) the transfer {id} with the token of its email.
func transferStep(step func(ctx context.Context, actor, transferID, tok string) (store.Transfer, error)) handlerFunc {
	return withBody(func(req *http.Request, in tokenBody) (any, error) {
		user, _ := who(req)
		t, err := step(req.Context(), user, req.PathValue("id"), in.Token)
		if err != nil {
			return nil, err
		}
		return transferOf(t), nil
	})
}

func (s *server) switchAccount(_ http.ResponseWriter, req *http.Request) (any, error) {
	user, team := who(req)
	if err := s.r.Teams.Switch(req.Context(), user, team); err != nil {
		return nil, err
	}
	return s.r.Teams.Active(req.Context(), user)
}

type nameBody struct {
	Name string `json:"name"`
}

func (s *server) convert(req *http.Request, in nameBody) (any, error) {
	user, team := who(req)
	return s.r.Teams.ConvertToTeam(req.Context(), user, team, in.Name)
}

// createTeam makes a new team owned by the signed-in user, who keeps their
// personal account and other teams.
func (s *server) createTeam(req *http.Request, in nameBody) (any, error) {
	user, _ := who(req)
	return s.r.Teams.CreateTeam(req.Context(), user, in.Name)
}

// previewSecureSignIn lists the members who would lose access if the team
// required secure sign-in.
func (s *server) previewSecureSignIn(_ http.ResponseWriter, req *http.Request) (any, error) {
	user, team := who(req)
	rows, err := s.r.Teams.PreviewSecureSignIn(req.Context(), user, team)
	if rows == nil && err == nil {
		rows = []teams.MemberRow{} // nobody: [], not null
	}
	return rows, err
}

type secureBody struct {
	Require bool `json:"require"`
}

// setSecureSignIn turns the team's secure sign-in requirement on or off.
func (s *server) setSecureSignIn(req *http.Request, in secureBody) (any, error) {
	user, team := who(req)
	return s.r.Teams.SetSecureSignIn(req.Context(), user, team, in.Require)
}

// teamPage is the account with the caller's role.
func (s *server) teamPage(_ http.ResponseWriter, req *http.Request) (any, error) {
	user, team := who(req)
	return s.r.Teams.Account(req.Context(), user, team)
}

func (s *server) deleteTeam(_ http.ResponseWriter, req *http.Request) (any, error) {
	user, team := who(req)
	return s.r.Teams.DeleteTeam(req.Context(), user, team)
}

// listPage is one page of a list and the cursor of the next ("" after the
// last).
type listPage[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next"`
}

// pageOf returns the page a request asks for with the query parameters
// limit (the page size) and cursor.
func pageOf(req *http.Request) (store.Page, error) {
	q := req.URL.Query()
	p := store.Page{Cursor: q.Get("cursor")}
	if s := q.Get("limit"); s != "" {
		var err error
		if p.Size, err = strconv.Atoi(s); err != nil {
			return p, fmt.Errorf("%w: limit: %v", errBadRequest, err)
		}
	}
	return p, nil
}

// paged answers the page of a list that list returns for the request's
// page (see pageOf).
func paged[T any](req *http.Request, list func(store.Page) ([]T, string, error)) (any, error) {
	p, err := pageOf(req)
	if err != nil {
		return nil, err
	}
	items, next, err := list(p)
	if err != nil {
		return nil, err
	}
	if items == nil {
		items = []T{}
	}
	return listPage[T]{Items: items, Next: next}, nil
}

// members is one page of the members table (query parameters limit and
// cursor).
func (s *server) members(_ http.ResponseWriter, req *http.Request) (any, error) {
	user, team := who(req)
	return paged(req, func(p store.Page) ([]teams.MemberRow, string, error) {
		return s.r.Teams.Members(req.Context(), user, team, p)
	})
}

type roleBody struct {
	Role rbac.Role `json:"role"`
}

func (s *server) changeRole(req *http.Request, in roleBody) (any, error) {
	user, team := who(req)
	return s.r.Teams.ChangeRole(req.Context(), user, team, req.PathValue("user"), in.Role)
}

func (s *server) removeMember(_ http.ResponseWriter, req *http.Request) (any, error) {
	user, team := who(req)
	return nil, s.r.Teams.RemoveMember(req.Context(), user, team, req.PathValue("user"))
}

func (s *server) leave(_ http.ResponseWriter, req *http.Request) (any, error) {
	user, team := who(req)
	return nil, s.r.Teams.Leave(req.Context(), user, team)
}

// listInvites is one page of the team's invites, or of the pending ones
// with ?status=pending (query parameters limit and cursor).
func (s *server) listInvites(_ http.ResponseWriter, req *http.Request) (any, error) {
	user, team := who(req)
	var list func(ctx context.Context, actor, accountID string, p store.Page) ([]invites.Invitation, string, error)
	switch req.URL.Query().Get("status") {
	case "":
		list = s.r.Invites.List
	case "pending":
		list = s.r.Invites.Pending
	default:
		return nil, fmt.Errorf("%w: status must be empty or pending", errBadRequest)
	}
	return paged(req, func(p store.Page) ([]invites.Invitation, string, error) {
		return list(req.Context(), user, team, p)
	})
}

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

// createInvites returns the new invitations, each with its token and link:
// the only time they are shown.
func (s *server) createInvites(req *http.Request, in inviteBody) (any, error) {
	var opts []invites.InviteOption
	if in.MaxUses != 0 {
		opts = append(opts, invites.MaxUses(in.MaxUses))
	}
	if in.ExpiresIn != "" {
		d, err := time.ParseDuration(in.ExpiresIn)
		if err != nil {
			return nil, fmt.Errorf("%w: expires_in: %v", errBadRequest, err)
		}
		opts = append(opts, invites.ExpiresIn(d))
	}
	if in.RequireSecure {
		opts = append(opts, invites.RequireSecure())
	}
	user, team := who(req)
	if len(in.Emails) > 0 {
		return s.r.Invites.CreateEmail(req.Context(), user, team, in.Role, in.Emails, opts...)
	}
	inv, err := s.r.Invites.CreateLink(req.Context(), user, team, in.Role, opts...)
	if err != nil {
		return nil, err
	}
	return []invites.Invitation{inv}, nil
}

func (s *server) resendInvite(_ http.ResponseWriter, req *http.Request) (any, error) {
	user, team := who(req)
	return s.r.Invites.Resend(req.Context(), user, team, req.PathValue("id"))
}

// copyInviteLink returns a pending invite with its link made again, to copy
// it from the pending invites. It is a POST: roster records the copy in the
// audit log, since it shows a credential again.
func (s *server) copyInviteLink(_ http.ResponseWriter, req *http.Request) (any, error) {
	user, team := who(req)
	return s.r.Invites.Link(req.Context(), user, team, req.PathValue("id"))
}

func (s *server) revokeInvite(_ http.ResponseWriter, req *http.Request) (any, error) {
	user, team := who(req)
	return nil, s.r.Invites.Revoke(req.Context(), user, team, req.PathValue("id"))
}

// transfer is a transfer without its token hashes.
type transfer struct {
	ID, AccountID, From, To         string
	Kind                            store.TransferKind
	Status                          store.TransferStatus
	CreatedAt, ExpiresAt, UpdatedAt time.Time
}

func transferOf(t store.Transfer) transfer {
	return transfer{ID: t.ID, AccountID: t.AccountID, From: t.From, To: t.To, Kind: t.Kind, Status: t.Status,
		CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, UpdatedAt: t.UpdatedAt}
}

// transfers is one page of the team's transfers (query parameters limit
// and cursor).
func (s *server) transfers(_ http.ResponseWriter, req *http.Request) (any, error) {
	user, team := who(req)
	return paged(req, func(p store.Page) ([]transfer, string, error) {
		ts, next, err := s.r.Teams.Transfers(req.Context(), user, team, p)
		out := make([]transfer, len(ts))
		for i, t := range ts {
			out[i] = transferOf(t)
		}
		return out, next, err
	})
}

// transferBody starts a transfer: kind "role" (the default) gives To the top
// role (Teams.GrantTopRole), "account" hands the account over to To
// (Teams.TransferOwnership).
type transferBody struct {
	To   string             `json:"to"`
	Kind store.TransferKind `json:"kind"`
}

func (s *server) startTransfer(req *http.Request, in transferBody) (any, error) {
	user, team := who(req)
	start := s.r.Teams.GrantTopRole
	switch in.Kind {
	case "", store.TransferRole:
	case store.TransferAccount:
		start = s.r.Teams.TransferOwnership
	default:
		return nil, fmt.Errorf("%w: unknown transfer kind %q", store.ErrInvalid, in.Kind)
	}
	t, err := start(req.Context(), user, team, in.To)
	if err != nil {
		return nil, err
	}
	return transferOf(t), nil
}

func (s *server) cancelTransfer(_ http.ResponseWriter, req *http.Request) (any, error) {
	user, team := who(req)
	return nil, s.r.Teams.CancelTransfer(req.Context(), user, team, req.PathValue("id"))
}

type auditPage struct {
	Events []store.Event `json:"events"`
	Next   string        `json:"next"`
}

// auditLog is one page of the audit log. Query parameters: since and until
// (RFC 3339 or a date, 2006-01-02), actor, action, resource_type,
// resource_id, result (allowed or denied), limit and cursor.
func (s *server) auditLog(_ http.ResponseWriter, req *http.Request) (any, error) {
	q := req.URL.Query()
	p, err := pageOf(req)
	if err != nil {
		return nil, err
	}
	f := audit.Filter{
		Actor: q.Get("actor"), Action: store.EventAction(q.Get("action")), ResourceType: q.Get("resource_type"),
		ResourceID: q.Get("resource_id"), Result: store.Result(q.Get("result")), Limit: p.Size, Cursor: p.Cursor,
	}
	if f.Since, err = parseTime(q, "since"); err != nil {
		return nil, err
	}
	if f.Until, err = parseTime(q, "until"); err != nil {
		return nil, err
	}
	user, team := who(req)
	events, next, err := s.r.Audit.Query(req.Context(), user, team, f)
	if err != nil {
		return nil, err
	}
	for i := range events { // the hash chain is for Verify, not for the page
		events[i].PrevHash, events[i].Hash = nil, nil
	}
	if events == nil {
		events = []store.Event{} // an empty page is [], not null
	}
	return auditPage{Events: events, Next: next}, nil
}

// parseTime reads the query parameter name as RFC 3339 or a date; empty is
// the zero time.
func parseTime(q url.Values, name string) (time.Time, error) {
	s := q.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: %s: want RFC 3339 or YYYY-MM-DD, got %q", errBadRequest, name, s)
}

// The plumbing the handlers share.

// handlerFunc is a handler that returns a value or an error. As an
// http.Handler, it writes the value as JSON (201 for POST, 200 otherwise,
// 204 when nil) and the error by roster.WriteError: a problem report whose
// status comes from the error's kind and whose detail is its public
// message, never the error's own text (which names accounts, users and
// database errors; log it in your own handler if you need it).
type handlerFunc func(w http.ResponseWriter, req *http.Request) (any, error)

// ServeHTTP calls h and writes what it returns.
func (h handlerFunc) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	v, err := h(w, req)
	if err != nil {
		roster.WriteError(w, err)
		return
	}
	if v == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if req.Method == http.MethodPost {
		w.WriteHeader(http.StatusCreated)
	}
	_ = json.NewEncoder(w).Encode(v) // a failed write means the client has gone
}

// errBadRequest reports a request body or query that cannot be read. Like
// roster's own sentinels it wraps a kind, store.ErrInvalid, so that
// roster.WriteError answers it with 400 and its text.
var errBadRequest = store.Kinded(store.ErrInvalid, "httpserver: malformed request body or query parameter")

// withBody adapts a handler of a JSON request body of type T.
func withBody[T any](h func(req *http.Request, in T) (any, error)) handlerFunc {
	return func(w http.ResponseWriter, req *http.Request) (any, error) {
		var in T
		if err := decode(w, req, &in); err != nil {
			return nil, err
		}
		return h(req, in)
	}
}

// decode reads the JSON request body into v, refusing unknown fields and
// bodies over 64 KiB.
func decode(w http.ResponseWriter, req *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, req.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: request body: %v", errBadRequest, err)
	}
	return nil
}

// who returns the user and team the middleware put in the context.
func who(req *http.Request) (user, team string) {
	user, _ = roster.UserFrom(req.Context())
	team, _ = roster.TeamFrom(req.Context())
	return user, team
}

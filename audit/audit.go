// Package audit reads the audit log. Every change roster makes writes its
// event in the change's own transaction (see the teams package); this
// package lets members allowed rbac.AuditRead query it.
package audit

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/teamroster/roster/internal/authz"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// Limits of a query.
const (
	DefaultLimit = 50   // events per page when Filter.Limit is 0
	MaxLimit     = 1000 // the largest Filter.Limit accepted
)

// Filter selects events. Zero fields do not filter.
type Filter struct {
	// Since and Until bound the event time: Since <= Time < Until.
	Since, Until time.Time
	// Actor is the user who acted.
	Actor string
	// Action is the event's action, such as "member.role_changed".
	Action string
	// ResourceType and ResourceID name what was acted on.
	ResourceType string
	ResourceID   string
	// Limit is the page size: 0 means DefaultLimit; at most MaxLimit.
	Limit int
	// Cursor continues a previous query: pass the next cursor it returned.
	Cursor string
}

// Service queries the audit log. Get one from roster.Open or roster.New. A
// Service is safe for concurrent use.
type Service struct {
	store  store.Store
	policy *rbac.Policy
}

// New returns a Service reading from s and authorizing with p.
func New(s store.Store, p *rbac.Policy) *Service {
	return &Service{store: s, policy: p}
}

// Query returns one page of the account's events matching f, newest first,
// and the cursor of the next page ("" when there is none). Pages stay stable
// while new events arrive: a cursor continues below the last event returned.
// The actor needs rbac.AuditRead. It returns an error wrapping
// store.ErrInvalid (a malformed filter or cursor), store.ErrNotFound,
// rbac.ErrNotMember or rbac.ErrDenied.
func (s *Service) Query(ctx context.Context, actor, accountID string, f Filter) ([]store.Event, string, error) {
	fail := func(err error) ([]store.Event, string, error) {
		return nil, "", fmt.Errorf("audit: query %q by %q: %w", accountID, actor, err)
	}
	sf, err := f.storeFilter(accountID)
	if err != nil {
		return fail(err)
	}
	if err := store.ValidateID("actor", actor); err != nil {
		return fail(err)
	}
	limit := sf.Limit
	sf.Limit++ // one more tells whether there is a next page
	var events []store.Event
	err = s.store.View(ctx, func(tx store.Tx) error {
		if _, _, err := authz.AuthorizeView(ctx, tx, s.policy, actor, accountID, rbac.AuditRead); err != nil {
			return err
		}
		events, err = tx.Events(ctx, sf)
		return err
	})
	if err != nil {
		return fail(err)
	}
	next := ""
	if len(events) > limit {
		events = events[:limit]
		next = strconv.FormatInt(events[limit-1].ID, 10)
	}
	return events, next, nil
}

// storeFilter validates f and translates it for the store.
func (f Filter) storeFilter(accountID string) (store.EventFilter, error) {
	sf := store.EventFilter{
		AccountID: accountID, Actor: f.Actor, Action: f.Action,
		ResourceType: f.ResourceType, ResourceID: f.ResourceID,
		Since: f.Since, Until: f.Until, Limit: f.Limit,
	}
	if err := store.ValidateID("account ID", accountID); err != nil {
		return sf, err
	}
	for _, v := range []struct{ what, s string }{
		{"actor filter", f.Actor}, {"action filter", f.Action},
		{"resource type filter", f.ResourceType}, {"resource ID filter", f.ResourceID},
	} {
		if v.s == "" {
			continue
		}
		if err := store.ValidateID(v.what, v.s); err != nil {
			return sf, err
		}
	}
	switch {
	case f.Limit < 0 || f.Limit > MaxLimit:
		return sf, fmt.Errorf("%w: limit %d is outside 0..%d", store.ErrInvalid, f.Limit, MaxLimit)
	case f.Limit == 0:
		sf.Limit = DefaultLimit
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return sf, fmt.Errorf("%w: date range since %s until %s is empty or inverted", store.ErrInvalid, f.Since, f.Until)
	}
	if f.Cursor != "" {
		id, err := strconv.ParseInt(f.Cursor, 10, 64)
		if err != nil || id <= 0 {
			return sf, fmt.Errorf("%w: malformed cursor", store.ErrInvalid)
		}
		sf.BeforeID = id
	}
	return sf, nil
}

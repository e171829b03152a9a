package audit

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/teamroster/roster/internal/check"
	"github.com/teamroster/roster/store"
)

// MembersAt returns who was a member of the account at time at, with which
// role, rebuilt from the audit log (see the package documentation for the
// events it reads): the state after every event with Time <= at. They are
// ordered by JoinedAt, then user ID; JoinedAt is the time of the event that
// began the membership. A time before the account existed has no members.
// It reads the log a page at a time: its memory grows with the number of
// members, not with the number of events. The actor needs rbac.AuditRead; a
// member refused is recorded as a denied store.EventAuditQueried.
//
// MembersAt returns an error wrapping ErrPruned if events before at were
// pruned past it (at is before the cut of the last Prune), store.ErrInvalid
// (malformed input, or at outside the years 1970 to 9999),
// store.ErrNotFound (no such account), rbac.ErrNotMember or rbac.ErrDenied.
// It is safe for concurrent use.
func (s *Service) MembersAt(ctx context.Context, actor, accountID string, at time.Time) ([]store.Member, error) {
	var out []store.Member
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID))
	if err == nil {
		err = validTime("time", at)
	}
	if err == nil {
		err = s.read(ctx, actor, accountID, store.EventAuditQueried, func(tx store.Tx) error {
			state, err := s.replayTo(ctx, tx, accountID, "", at)
			out = state.list()
			return err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("members of %q at %s for %q: %w", accountID, at.UTC().Format(time.RFC3339Nano), actor, err)
	}
	return out, nil
}

// MemberAt answers "was this user a member of the account at time at, and
// with which role?" from the audit log, as MembersAt does: it returns the
// membership and true, or false if the user was not a member then. With the
// role, the policy says what they could do (as the policy stands now). The
// actor needs rbac.AuditRead. It returns the errors of MembersAt, and
// store.ErrInvalid for a malformed user ID. It is safe for concurrent use.
func (s *Service) MemberAt(ctx context.Context, actor, accountID, userID string, at time.Time) (store.Member, bool, error) {
	var m store.Member
	var ok bool
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID), check.ID("user ID", userID))
	if err == nil {
		err = validTime("time", at)
	}
	if err == nil {
		err = s.read(ctx, actor, accountID, store.EventAuditQueried, func(tx store.Tx) error {
			state, err := s.replayTo(ctx, tx, accountID, userID, at)
			m, ok = state.members[userID]
			return err
		})
	}
	if err != nil {
		return store.Member{}, false, fmt.Errorf("membership of %q in %q at %s for %q: %w",
			userID, accountID, at.UTC().Format(time.RFC3339Nano), actor, err)
	}
	return m, ok, nil
}

// membership is the membership of one account being rebuilt from its log.
type membership struct {
	accountID string
	top       string // the policy's top role, for events that do not name one
	members   map[string]store.Member
}

// list returns the members ordered by JoinedAt, then user ID.
func (m *membership) list() []store.Member {
	out := slices.Collect(maps.Values(m.members))
	slices.SortFunc(out, func(a, b store.Member) int {
		return cmp.Or(a.JoinedAt.Compare(b.JoinedAt), strings.Compare(a.UserID, b.UserID))
	})
	return out
}

// set makes userID a member with role, keeping JoinedAt of a membership
// that goes on.
func (m *membership) set(userID, role string, at time.Time) {
	old, ok := m.members[userID]
	if !ok {
		old = store.Member{AccountID: m.accountID, UserID: userID, JoinedAt: at}
	}
	old.Role = role
	m.members[userID] = old
}

// apply applies one event of the account's log.
func (m *membership) apply(e store.Event) {
	if e.Result == store.Denied {
		return
	}
	switch {
	case e.ResourceType == "member" && strings.HasPrefix(string(e.Action), "member.") && e.ResourceID != "":
		if role := field(e.After, "role"); role != "" {
			m.set(e.ResourceID, role, e.Time)
		} else if field(e.Before, "role") != "" {
			delete(m.members, e.ResourceID)
		}
	case e.Action == store.EventAccountCreated && e.ResourceType == "account":
		if owner := field(e.After, "owner"); owner != "" {
			m.set(owner, cmp.Or(field(e.After, "role"), m.top), e.Time)
		}
	case e.Action == store.EventAccountTeamDeleted && e.ResourceType == "account":
		m.set(cmp.Or(field(e.After, "owner"), e.Actor), cmp.Or(field(e.After, "role"), m.top), e.Time)
	}
}

// field returns the string value of key in the JSON object v, or "".
func field(v, key string) string {
	if v == "" {
		return ""
	}
	var obj map[string]any
	if json.Unmarshal([]byte(v), &obj) != nil {
		return ""
	}
	s, _ := obj[key].(string)
	return s
}

// pruneDetails is the After value of an audit.pruned event.
type pruneDetails struct {
	// Before is the cut: events older than it were pruned.
	Before     string `json:"before"`
	Deleted    int64  `json:"deleted"`
	AnchorID   int64  `json:"anchor_id"`
	AnchorHash string `json:"anchor_hash"`
	// Members is the membership after the last pruned event.
	Members map[string]checkpointMember `json:"members"`
}

type checkpointMember struct {
	Role     string `json:"role"`
	JoinedAt string `json:"joined_at"`
}

// checkpoint returns the membership recorded by the account's last prune,
// the ID of the last event it covers and the prune's cut; or an empty
// membership, 0 and the zero time if the account was never pruned.
func (s *Service) checkpoint(ctx context.Context, tx store.Tx, accountID string) (*membership, int64, time.Time, error) {
	m := &membership{accountID: accountID, top: string(s.policy.Top()), members: map[string]store.Member{}}
	last, err := tx.Events(ctx, store.EventFilter{AccountID: accountID, Action: store.EventAuditPruned, Result: store.Allowed, Limit: 1})
	if err != nil || len(last) == 0 {
		return m, 0, time.Time{}, err
	}
	bad := func(what string) (*membership, int64, time.Time, error) {
		return m, 0, time.Time{}, fmt.Errorf("%w: the prune record %d has %s", ErrTampered, last[0].ID, what)
	}
	var d pruneDetails
	if err := json.Unmarshal([]byte(last[0].After), &d); err != nil {
		return bad("unreadable details")
	}
	cut, err := time.Parse(time.RFC3339Nano, d.Before)
	if err != nil {
		return bad("an unreadable cut")
	}
	for user, cm := range d.Members {
		joined, err := time.Parse(time.RFC3339Nano, cm.JoinedAt)
		if err != nil {
			return bad("an unreadable join time")
		}
		m.members[user] = store.Member{AccountID: accountID, UserID: user, Role: cm.Role, JoinedAt: joined.UTC()}
	}
	return m, d.AnchorID, cut.UTC(), nil
}

// replayPage is how many events replayTo reads at a time from each of the
// two sequences it merges.
const replayPage = 256

// pages reads the events matching f, in append order, replayPage at a time.
type pages struct {
	f    store.EventFilter
	buf  []store.Event // the rest of the page read last
	done bool          // the page read last was the final one
}

// peek returns the next event, reading the next page when the last one is
// used up, or false when there are no more.
func (p *pages) peek(ctx context.Context, tx store.Tx) (store.Event, bool, error) {
	if len(p.buf) == 0 && !p.done {
		f := p.f
		f.Order, f.Limit = store.AppendOrder, replayPage
		buf, err := tx.Events(ctx, f)
		if err != nil {
			return store.Event{}, false, err
		}
		p.buf, p.done = buf, len(buf) < replayPage
		if len(buf) > 0 {
			p.f.AfterID = buf[len(buf)-1].ID
		}
	}
	if len(p.buf) == 0 {
		return store.Event{}, false, nil
	}
	return p.buf[0], true, nil
}

// replayTo rebuilds the account's membership at time at; with userID set,
// only that user's membership is complete. It merges the account's member
// events (of userID only, when set) and account events in append order,
// reading each a page at a time, so its memory does not grow with the log.
func (s *Service) replayTo(ctx context.Context, tx store.Tx, accountID, userID string, at time.Time) (*membership, error) {
	m, through, cut, err := s.checkpoint(ctx, tx, accountID)
	if err != nil {
		return m, err
	}
	if at.Before(cut) {
		return m, fmt.Errorf("%w: events before %s were pruned", ErrPruned, cut.Format(time.RFC3339Nano))
	}
	until := at.UTC().Truncate(time.Microsecond).Add(time.Microsecond) // Time <= at
	members := &pages{f: store.EventFilter{AccountID: accountID, ResourceType: "member", ResourceID: userID, AfterID: through, Until: until}}
	account := &pages{f: store.EventFilter{AccountID: accountID, ResourceType: "account", ResourceID: accountID, AfterID: through, Until: until}}
	for {
		me, okM, err := members.peek(ctx, tx)
		if err != nil {
			return m, err
		}
		ae, okA, err := account.peek(ctx, tx)
		if err != nil {
			return m, err
		}
		switch {
		case okA && (!okM || ae.ID < me.ID):
			m.apply(ae)
			account.buf = account.buf[1:]
		case okM:
			m.apply(me)
			members.buf = members.buf[1:]
		default:
			return m, nil
		}
	}
}

package teams

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/teamroster/roster/internal/check"
	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// OwnedTeamsError is DeleteUser's refusal of a user who owns teams with
// other members. It wraps ErrOwnsTeams.
type OwnedTeamsError struct {
	// Teams are the IDs of those teams, sorted.
	Teams []string
}

// Error names the teams after ErrOwnsTeams' text.
func (e *OwnedTeamsError) Error() string {
	return ErrOwnsTeams.Error() + ": " + strings.Join(e.Teams, ", ")
}

// Unwrap returns ErrOwnsTeams.
func (e *OwnedTeamsError) Unwrap() error { return ErrOwnsTeams }

// Erasure is what DeleteUser did.
type Erasure struct {
	// Accounts are the accounts it changed, sorted: those the user
	// belonged to and those whose log or invites held their personal data.
	// Each got a store.EventUserErased event.
	Accounts []string
	// Emptied are the accounts left without members, sorted: the user's
	// personal accounts and the teams they were the only member of.
	Emptied []string
	// Erased counts the events whose personal fields it erased.
	Erased int
	// Unerasable counts the events that hold the user's personal data but
	// were appended before the audit chain committed to personal fields
	// through salted hashes: erasing them would break audit.Verify, so they
	// are kept as they are.
	Unerasable int
}

// Erased is the value that DeleteUser writes in place of the text that
// named the deleted user: a string of an event's Before or After JSON that
// held their email or name, or their email in its Reason.
const Erased = "[erased]"

// DeleteUser deletes the user and erases their personal data from the audit
// log, in one transaction.
//
// Only the user may delete themselves: actor must be userID (the host,
// acting for the user as it does with UpdateUser, passes their ID);
// anyone else is refused with rbac.ErrDenied. A user who owns a team with
// other members is refused with an *OwnedTeamsError naming the teams (it
// wraps ErrOwnsTeams, a precondition), and nothing changes.
//
// Otherwise the user leaves every account they belong to (a member.left
// event with the reason "user deleted", the removal hook, their open
// ownership transfers cancelled), and the pending invites they sent are
// revoked, as accepting them would revoke them anyway. Their personal
// accounts and the teams they were the only member of are emptied: they
// keep their ID (the host's resources may still name it), their pending
// invites are revoked, their open transfers cancelled and their owner
// becomes none (account.owner_changed); nobody can act in them again.
// In those accounts and in every account whose log holds the user's
// email (an invite.created event names the address of every email invite),
// pending email invites to their address are revoked, and every invite to
// their address forgets it (its Email becomes empty).
// Their user row and the records of the invites they used are deleted, so
// the same ID can be created again as a new user, who inherits nothing.
//
// Erasure: every event of the store is read once, and in each event the
// user acted in, the IP address and user agent are emptied; in each event
// anywhere whose Before, After or Reason holds the user's email (compared
// case-insensitively), and in each event of an account they belonged to,
// acted in, were named in (ResourceID) or were invited to whose Before or
// After holds a string equal to their name (compared case-insensitively),
// that string, or the email in Reason, becomes Erased. So a name is
// recognised only as a whole JSON string, and only in those accounts;
// personal data in other forms is not recognised. The events' salts are
// deleted and their commitments kept, so audit.Verify still passes (it
// counts erased events); events appended before commitments existed are
// left as they are and counted in Erasure.Unerasable. Every changed account
// gets a store.EventUserErased event with the counts; the events this call
// records carry the request ID but neither the IP address nor the user
// agent, which are the user's.
//
// Cost: it reads every event in the store, inside its write transaction,
// which holds the locks of the user's accounts meanwhile (on SQLite, the
// database's write lock); run it away from a request's critical path on a
// large log.
//
// It returns the Erasure, or an error wrapping store.ErrInvalid,
// store.ErrNotFound (no such user), rbac.ErrDenied, ErrOwnsTeams, or
// store.ErrConflict (a concurrent call locked the same accounts in another
// order; retry). Once it returns, Can says no for the user everywhere. It
// is safe for concurrent use.
func (s *Service) DeleteUser(ctx context.Context, actor, userID string) (Erasure, error) {
	var out Erasure
	err := check.IDs(check.ID("actor", actor), check.ID("user ID", userID))
	if err == nil && actor != userID {
		err = fmt.Errorf("only the user may delete themselves: %w", rbac.ErrDenied)
	}
	if err == nil {
		ctx = store.WithRequest(ctx, store.Request{RequestID: store.RequestFrom(ctx).RequestID})
		_, err = s.door.Update(ctx, txn.Call{Actor: userID, Need: txn.Anyone}, func(c *txn.Change) (err error) {
			out, err = s.deleteUser(ctx, c, userID)
			return err
		})
	}
	if err != nil {
		return Erasure{}, fmt.Errorf("delete user %q by %q: %w", userID, actor, err)
	}
	return out, nil
}

// deleteUser does DeleteUser's work in the call's transaction.
func (s *Service) deleteUser(ctx context.Context, c *txn.Change, userID string) (Erasure, error) {
	var out Erasure
	u, err := c.Tx.User(ctx, userID)
	if err != nil {
		return out, err
	}
	in := map[string]*txn.Change{} // the locked accounts
	lock := func(ids []string) error {
		slices.Sort(ids)
		for _, id := range ids {
			if in[id] != nil {
				continue
			}
			x, err := c.Lock(id)
			if err != nil {
				return err
			}
			in[id] = x
		}
		return nil
	}
	// Lock the user's accounts, then read the memberships again under the
	// locks: one that was committed meanwhile is locked too.
	for range 2 {
		ms, err := c.Tx.Memberships(ctx, userID, store.Range{})
		if err != nil {
			return out, err
		}
		if err := lock(membershipAccounts(ms)); err != nil {
			return out, err
		}
	}
	var owned []string
	for id, x := range in {
		if x.Account.Kind != store.Team || x.Account.Owner != userID {
			continue
		}
		members, err := c.Tx.Members(ctx, id, store.Range{Limit: 2})
		if err != nil {
			return out, err
		}
		if len(members) > 1 {
			owned = append(owned, id)
		}
	}
	if len(owned) > 0 {
		slices.Sort(owned)
		return out, &OwnedTeamsError{Teams: owned}
	}

	p := person{id: userID, email: strings.ToLower(u.Email), name: u.Name, accounts: map[string]bool{},
		emailRE: regexp.MustCompile(`(?i)` + regexp.QuoteMeta(u.Email))}
	for id := range in {
		p.accounts[id] = true
	}
	found, err := p.events(ctx, c.Tx)
	if err != nil {
		return out, err
	}
	if err := lock(slices.Collect(maps.Keys(p.accounts))); err != nil {
		return out, err
	}
	type counts struct{ erased, unerasable int }
	per := map[string]*counts{}
	for id := range in {
		per[id] = &counts{}
	}
	for _, e := range found {
		erased, ok := p.erase(e)
		if !ok {
			continue
		}
		switch what, err := c.Erase(erased); {
		case err != nil:
			return out, err
		case what == txn.ErasedNow:
			per[e.AccountID].erased++
		case what == txn.Unerasable:
			per[e.AccountID].unerasable++
		}
	}

	for _, id := range slices.Sorted(maps.Keys(in)) {
		x := in[id]
		if err := s.forgetAddress(ctx, x, p.email); err != nil {
			return out, err
		}
		if m := x.Actor; m.UserID != "" {
			const reason = "user deleted"
			if err := s.remove(ctx, x, m, store.EventMemberLeft, reason); err != nil {
				return out, err
			}
			if x.Account.Owner == userID {
				if err := s.closePending(ctx, x, reason); err != nil {
					return out, err
				}
				if err := s.setOwner(ctx, x, "", "the owner was deleted"); err != nil {
					return out, err
				}
				out.Emptied = append(out.Emptied, id)
			} else if err := s.revokeInvites(ctx, x, func(inv store.Invite) bool { return inv.CreatedBy == userID }, "inviter deleted"); err != nil {
				return out, err
			}
		}
		n := per[id]
		if _, err := x.Record(store.Event{
			Action: store.EventUserErased, ResourceType: "user", ResourceID: userID,
			After: txn.EventValue(map[string]string{"erased": strconv.Itoa(n.erased), "unerasable": strconv.Itoa(n.unerasable)}),
		}); err != nil {
			return out, err
		}
		out.Accounts = append(out.Accounts, id)
		out.Erased += n.erased
		out.Unerasable += n.unerasable
	}
	return out, c.Tx.DeleteUser(ctx, userID)
}

// forgetAddress revokes the pending invites of the call's account to the
// address email (lower case) and empties the Email of every invite to it.
func (s *Service) forgetAddress(ctx context.Context, c *txn.Change, email string) error {
	if err := s.revokeInvites(ctx, c, func(inv store.Invite) bool { return strings.EqualFold(inv.Email, email) }, "invitee deleted"); err != nil {
		return err
	}
	invites, err := c.Tx.Invites(ctx, c.Account.ID, store.Range{})
	if err != nil {
		return err
	}
	for _, inv := range invites {
		if strings.EqualFold(inv.Email, email) {
			inv.Email = ""
			if err := c.Tx.UpdateInvite(ctx, inv); err != nil {
				return err
			}
		}
	}
	return nil
}

// membershipAccounts returns the account IDs of the memberships.
func membershipAccounts(ms []store.Member) []string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.AccountID
	}
	return ids
}

// person is a user whose personal data is being erased, as erasure
// recognises it.
type person struct {
	id    string
	email string // lower case
	name  string
	// accounts are the accounts the user belonged to, acted in, was named
	// in or was invited to: where a string equal to their name is theirs.
	accounts map[string]bool
	emailRE  *regexp.Regexp // the email in any case
}

// events reads every event of the store and returns those that may hold
// the person's data: the events they acted in or were named in
// (ResourceID), and those whose Before, After or Reason holds their email
// or whose Before or After holds their name; it adds the accounts of the
// first kind, and of those holding their email, to p.accounts.
func (p *person) events(ctx context.Context, tx store.Tx) ([]store.Event, error) {
	var out []store.Event
	name := strings.ToLower(p.name)
	err := tx.ScanEvents(ctx, store.EventFilter{Order: store.AppendOrder}, func(e store.Event) error {
		before, after := strings.ToLower(e.Before), strings.ToLower(e.After)
		switch {
		case e.Actor == p.id || e.ResourceID == p.id, p.hasEmail(e.Before) || p.hasEmail(e.After) || p.hasEmail(e.Reason):
			p.accounts[e.AccountID] = true
		case name != "" && (strings.Contains(before, name) || strings.Contains(after, name)):
		default:
			return nil
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// erase returns e with the person's data erased (see DeleteUser), and
// whether anything changed.
func (p *person) erase(e store.Event) (store.Event, bool) {
	out := e
	if e.Actor == p.id {
		out.IP, out.UserAgent = "", ""
	}
	byName := p.accounts[e.AccountID]
	out.Before, out.After = p.value(e.Before, byName), p.value(e.After, byName)
	if p.hasEmail(e.Reason) {
		out.Reason = p.emailRE.ReplaceAllLiteralString(e.Reason, Erased)
	}
	changed := out.Before != e.Before || out.After != e.After || out.Reason != e.Reason || out.IP != e.IP || out.UserAgent != e.UserAgent
	return out, changed
}

// jsonString matches a string of JSON text.
var jsonString = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// value returns the JSON text v with every string that holds the person's
// email, or (if byName) equals their name, replaced by Erased, keeping the
// rest as it is. Text that still holds the email afterwards (it is not
// JSON) is erased whole.
func (p *person) value(v string, byName bool) string {
	if v == "" {
		return v
	}
	out := jsonString.ReplaceAllStringFunc(v, func(lit string) string {
		var s string
		if json.Unmarshal([]byte(lit), &s) != nil {
			return lit
		}
		if p.hasEmail(s) || (byName && p.name != "" && strings.EqualFold(strings.TrimSpace(s), p.name)) {
			return strconv.Quote(Erased)
		}
		return lit
	})
	if p.hasEmail(out) {
		return ""
	}
	return out
}

// hasEmail reports whether s holds the person's email, in any case.
func (p *person) hasEmail(s string) bool {
	return p.email != "" && strings.Contains(strings.ToLower(s), p.email)
}

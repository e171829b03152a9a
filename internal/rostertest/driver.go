package rostertest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/invites"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// Driver does random membership operations by random users on a Roster,
// from any number of goroutines: the driver of the crash and load tests.
// It is safe for concurrent use.
type Driver struct {
	r     *roster.Roster
	in    *Inbox
	users []string

	mu       sync.Mutex
	accounts []string // every user's personal account, converted or not
	tokens   []string // invite tokens handed out
}

// NewDriver creates n users named prefix0, prefix1, ... (or, on a reopened
// database, finds them) and returns a driver for them. The Roster must
// have been made with in as its notifier, for the driver to follow the
// transfer links. It returns the Roster's error if a user can be neither
// created nor found.
func NewDriver(ctx context.Context, r *roster.Roster, in *Inbox, prefix string, n int) (*Driver, error) {
	d := &Driver{r: r, in: in}
	for i := range n {
		id := fmt.Sprintf("%s%d", prefix, i)
		_, err := r.Teams.CreateUser(ctx, store.User{ID: id, Email: id + "@example.com", Name: id, SignIn: store.SignInEmail})
		if err != nil && !errors.Is(err, store.ErrExists) {
			return nil, err
		}
		for page := (store.Page{Size: store.MaxPageSize}); ; {
			accts, next, err := r.Teams.Accounts(ctx, id, page)
			if err != nil {
				return nil, err
			}
			for _, a := range accts {
				if a.Account.Owner == id && !slices.Contains(d.accounts, a.Account.ID) {
					d.accounts = append(d.accounts, a.Account.ID)
				}
			}
			if next == "" {
				break
			}
			page.Cursor = next
		}
		d.users = append(d.users, id)
	}
	return d, nil
}

// Users returns the IDs of the driver's users.
func (d *Driver) Users() []string { return slices.Clone(d.users) }

// Unexpected reports whether err is a failure no caller should see: a
// database failure or a lost race, rather than a refusal.
func Unexpected(err error) bool {
	if errors.Is(err, store.ErrBackend) || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrClosed) {
		return true
	}
	// The databases' own words for a busy, locked or deadlocked database,
	// which no error should carry unclassified; not bare words such as
	// "busy", which a random ID in the message may hold.
	msg := err.Error()
	for _, words := range []string{"database is locked", "database table is locked", "SQLITE_BUSY", "SQLITE_LOCKED", "deadlock detected", "could not serialize access"} {
		if strings.Contains(msg, words) {
			return true
		}
	}
	return false
}

// Step does one random operation, drawn with rng, and returns its name and
// error: a refusal is an ordinary outcome, see Unexpected for the errors
// that are not.
func (d *Driver) Step(ctx context.Context, rng *rand.Rand) (string, error) {
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	p := d.r.Policy()
	roles := p.Roles()
	d.mu.Lock()
	acct := pick(d.accounts)
	var tok string
	if len(d.tokens) > 0 {
		tok = pick(d.tokens)
	}
	d.mu.Unlock()
	// Most of the time the actor is someone who manages the account, so
	// that most operations get past authorization.
	actor := pick(d.users)
	if rng.IntN(3) > 0 {
		for _, i := range rng.Perm(len(d.users)) {
			if d.r.Can(ctx, d.users[i], acct, rbac.MembersInvite) {
				actor = d.users[i]
				break
			}
		}
	}
	switch op := rng.IntN(12); op {
	case 0:
		_, err := d.r.Teams.ConvertToTeam(ctx, actor, acct, "Team "+actor)
		return "convert", err
	case 1, 2:
		opts := []invites.InviteOption{}
		if rng.IntN(3) == 0 {
			opts = append(opts, invites.MaxUses(3))
		}
		inv, err := d.r.Invites.CreateLink(ctx, actor, acct, roles[rng.IntN(len(roles))], opts...)
		if err == nil {
			d.mu.Lock()
			d.tokens = append(d.tokens, inv.Token)
			d.mu.Unlock()
		}
		return "invite", err
	case 3, 4:
		if tok == "" {
			return "accept", nil
		}
		_, err := d.r.Invites.Accept(ctx, actor, tok)
		return "accept", err
	case 5:
		_, err := d.r.Teams.ChangeRole(ctx, actor, acct, pick(d.users), roles[rng.IntN(len(roles))])
		return "change role", err
	case 6:
		return "remove", d.r.Teams.RemoveMember(ctx, actor, acct, pick(d.users))
	case 7:
		return "leave", d.r.Teams.Leave(ctx, actor, acct)
	case 8:
		_, err := d.r.Teams.TransferOwnership(ctx, actor, acct, pick(d.users))
		return "transfer", err
	case 9:
		id, tok := d.in.anyTransfer(rng)
		if id == "" {
			return "confirm transfer", nil
		}
		if _, err := d.r.Teams.ConfirmTransfer(ctx, actor, id, tok); err != nil {
			return "confirm transfer", err
		}
		_, err := d.r.Teams.AcceptTransfer(ctx, pick(d.users), id, d.in.Token(id))
		return "accept transfer", err
	case 10:
		_, err := d.r.Teams.DeleteTeam(ctx, actor, acct)
		return "delete team", err
	default:
		_, _, err := d.r.Invites.Pending(ctx, actor, acct, store.Page{})
		return "list invites", err
	}
}

// CheckInvariants reads every account the users belong to from the store
// and fails tb unless: no user is a member twice, every account has a
// member with the top role, r's in-memory index answers every Can question
// as the stored members say, the audit chain verifies, the members
// replayed from the audit log equal the stored members, and no invite was
// used more often than it allows or twice by one user. It returns the
// number of memberships.
func CheckInvariants(tb testing.TB, r *roster.Roster, s store.Store, users []string) int {
	tb.Helper()
	ctx := context.Background()
	p := r.Policy()
	var (
		members map[string][]store.Member
		invs    []store.Invite
		uses    map[string][]store.InviteUse
	)
	// The index and the store are compared at one revision: a commit by
	// another process that was still under way (a killed process's last
	// COMMIT, which PostgreSQL may finish after the kill) moves the store
	// on, and the read is done again once the index has caught up.
	var err error
	for try := 0; err == nil; try++ {
		if err = r.Sync(ctx); err != nil {
			break
		}
		at := r.Revision()
		members, invs, uses = map[string][]store.Member{}, nil, map[string][]store.InviteUse{}
		err = s.View(ctx, func(tx store.Tx) error {
			for _, u := range users {
				ms, err := tx.Memberships(ctx, u, store.Range{})
				if err != nil {
					return err
				}
				for _, m := range ms {
					members[m.AccountID] = nil
				}
			}
			for id := range members {
				ms, err := tx.Members(ctx, id, store.Range{})
				if err != nil {
					return err
				}
				members[id] = ms
				is, err := tx.Invites(ctx, id, store.Range{})
				if err != nil {
					return err
				}
				for _, inv := range is {
					if uses[inv.ID], err = tx.InviteUses(ctx, inv.ID); err != nil {
						return err
					}
				}
				invs = append(invs, is...)
			}
			return nil
		})
		if err == nil {
			err = r.Sync(ctx)
		}
		if err == nil && r.Revision() == at {
			break
		}
		if try == 10 {
			err = errors.New("the store kept changing while it was read")
		}
	}
	if err != nil {
		tb.Fatalf("read the store: %v", err)
	}
	for id, ms := range members {
		roles := map[string]rbac.Role{}
		var top string
		for _, m := range ms {
			if _, dup := roles[m.UserID]; dup {
				tb.Fatalf("invariant: %s is a member of %s twice", m.UserID, id)
			}
			roles[m.UserID] = rbac.Role(m.Role)
			if p.IsTop(rbac.Role(m.Role)) {
				top = m.UserID
			}
		}
		if top == "" {
			tb.Fatalf("invariant: account %s has no member with the top role: %v", id, roles)
		}
		for _, u := range append(slices.Clone(users), "canary") {
			role, member := roles[u]
			for _, a := range p.Actions() {
				if got, want := r.Can(ctx, u, id, a), member && p.Allows(role, a); got != want {
					tb.Fatalf("index: Can(%s, %s, %s) = %v, the store says %v (role %q)", u, id, a, got, want, role)
				}
			}
		}
		if _, err := r.Audit.Verify(ctx, top, id); err != nil {
			tb.Fatalf("audit chain of %s: %v", id, err)
		}
		replayed, err := r.Audit.MembersAt(ctx, top, id, time.Now().Add(time.Hour))
		if err != nil {
			tb.Fatalf("members of %s from the audit log: %v", id, err)
		}
		fromLog := map[string]rbac.Role{}
		for _, m := range replayed {
			fromLog[m.UserID] = rbac.Role(m.Role)
		}
		if !maps.Equal(fromLog, roles) {
			tb.Fatalf("invariant: members of %s: stored %v, replayed from the audit log %v", id, roles, fromLog)
		}
	}
	for _, inv := range invs {
		us := uses[inv.ID]
		seen := map[string]bool{}
		for _, u := range us {
			if seen[u.UserID] {
				tb.Fatalf("invariant: %s used invite %s twice", u.UserID, inv.ID)
			}
			seen[u.UserID] = true
		}
		if len(us) > max(inv.MaxUses, 1) || inv.Uses != len(us) {
			tb.Fatalf("invariant: invite %s counts %d uses of %d, and %d are recorded", inv.ID, inv.Uses, inv.MaxUses, len(us))
		}
	}
	n := 0
	for _, ms := range members {
		n += len(ms)
	}
	return n
}

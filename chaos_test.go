package roster_test

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

// chaos does random membership operations by random users on a Roster,
// from any number of goroutines: the driver of the crash and load tests.
type chaos struct {
	r     *roster.Roster
	box   *tokenBox
	users []string

	mu       sync.Mutex
	accounts []string // every user's personal account, converted or not
	tokens   []string // invite tokens handed out
}

// newChaos creates the users (or, on a reopened database, finds them) and
// returns a driver for them.
func newChaos(ctx context.Context, r *roster.Roster, box *tokenBox, prefix string, n int) (*chaos, error) {
	c := &chaos{r: r, box: box}
	for i := range n {
		id := fmt.Sprintf("%s%d", prefix, i)
		_, err := r.Teams.CreateUser(ctx, store.User{ID: id, Email: id + "@example.com", Name: id, SignIn: store.SignInEmail})
		if err != nil && !errors.Is(err, store.ErrExists) {
			return nil, err
		}
		accts, err := r.Teams.Accounts(ctx, id)
		if err != nil {
			return nil, err
		}
		for _, a := range accts {
			if a.Account.Owner == id && !slices.Contains(c.accounts, a.Account.ID) {
				c.accounts = append(c.accounts, a.Account.ID)
			}
		}
		c.users = append(c.users, id)
	}
	return c, nil
}

// unexpected reports whether err is a failure no caller should see: a
// database failure or a lost race, rather than a refusal.
func unexpected(err error) bool {
	return errors.Is(err, store.ErrBackend) || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrClosed) ||
		strings.Contains(err.Error(), "locked") || strings.Contains(err.Error(), "busy") || strings.Contains(err.Error(), "deadlock")
}

// step does one random operation and returns its name and error.
func (c *chaos) step(ctx context.Context, rng *rand.Rand) (string, error) {
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	p := c.r.Policy()
	roles := p.Roles()
	c.mu.Lock()
	acct := pick(c.accounts)
	var tok string
	if len(c.tokens) > 0 {
		tok = pick(c.tokens)
	}
	c.mu.Unlock()
	// Most of the time the actor is someone who manages the account, so
	// that most operations get past authorization.
	actor := pick(c.users)
	if rng.IntN(3) > 0 {
		for _, i := range rng.Perm(len(c.users)) {
			if c.r.Can(ctx, c.users[i], acct, rbac.MembersInvite) {
				actor = c.users[i]
				break
			}
		}
	}
	switch op := rng.IntN(12); op {
	case 0:
		_, err := c.r.Teams.ConvertToTeam(ctx, actor, acct, "Team "+actor)
		return "convert", err
	case 1, 2:
		opts := []invites.InviteOption{}
		if rng.IntN(3) == 0 {
			opts = append(opts, invites.MaxUses(3))
		}
		inv, err := c.r.Invites.CreateLink(ctx, actor, acct, roles[rng.IntN(len(roles))], opts...)
		if err == nil {
			c.mu.Lock()
			c.tokens = append(c.tokens, inv.Token)
			c.mu.Unlock()
		}
		return "invite", err
	case 3, 4:
		if tok == "" {
			return "accept", nil
		}
		_, err := c.r.Invites.Accept(ctx, actor, tok)
		return "accept", err
	case 5:
		_, err := c.r.Teams.ChangeRole(ctx, actor, acct, pick(c.users), roles[rng.IntN(len(roles))])
		return "change role", err
	case 6:
		return "remove", c.r.Teams.RemoveMember(ctx, actor, acct, pick(c.users))
	case 7:
		return "leave", c.r.Teams.Leave(ctx, actor, acct)
	case 8:
		_, err := c.r.Teams.TransferOwnership(ctx, actor, acct, pick(c.users))
		return "transfer", err
	case 9:
		id, tok := c.box.any(rng)
		if id == "" {
			return "confirm transfer", nil
		}
		if _, err := c.r.Teams.ConfirmTransfer(ctx, actor, id, tok); err != nil {
			return "confirm transfer", err
		}
		_, err := c.r.Teams.AcceptTransfer(ctx, pick(c.users), id, c.box.token(id))
		return "accept transfer", err
	case 10:
		_, err := c.r.Teams.DeleteTeam(ctx, actor, acct)
		return "delete team", err
	default:
		_, err := c.r.Invites.Pending(ctx, actor, acct)
		return "list invites", err
	}
}

// any returns a random transfer and its newest token, or "" if there is
// none.
func (b *tokenBox) any(rng *rand.Rand) (id, tok string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.tokens) == 0 {
		return "", ""
	}
	ids := slices.Sorted(maps.Keys(b.tokens))
	id = ids[rng.IntN(len(ids))]
	return id, b.tokens[id]
}

// checkInvariants reads every account the users belong to from the store
// and fails t unless: no user is a member twice, every account has a member
// with the top role, the in-memory index answers every Can question as the
// stored members say, the audit chain verifies, the members replayed from
// the audit log equal the stored members, and no invite was used more often
// than it allows or twice by one user. It returns the number of
// memberships.
func checkInvariants(t testing.TB, r *roster.Roster, s store.Store, users []string) int {
	t.Helper()
	ctx := context.Background()
	p := r.Policy()
	members := map[string][]store.Member{}
	var invs []store.Invite
	uses := map[string][]store.InviteUse{}
	err := s.View(ctx, func(tx store.Tx) error {
		for _, u := range users {
			ms, err := tx.Memberships(ctx, u)
			if err != nil {
				return err
			}
			for _, m := range ms {
				members[m.AccountID] = nil
			}
		}
		for id := range members {
			ms, err := tx.Members(ctx, id)
			if err != nil {
				return err
			}
			members[id] = ms
			is, err := tx.Invites(ctx, id)
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
	if err != nil {
		t.Fatalf("read the store: %v", err)
	}
	for id, ms := range members {
		roles := map[string]rbac.Role{}
		var top string
		for _, m := range ms {
			if _, dup := roles[m.UserID]; dup {
				t.Fatalf("invariant: %s is a member of %s twice", m.UserID, id)
			}
			roles[m.UserID] = rbac.Role(m.Role)
			if p.IsTop(rbac.Role(m.Role)) {
				top = m.UserID
			}
		}
		if top == "" {
			t.Fatalf("invariant: account %s has no member with the top role: %v", id, roles)
		}
		for _, u := range append(slices.Clone(users), "canary") {
			role, member := roles[u]
			for _, a := range p.Actions() {
				if got, want := r.Can(ctx, u, id, a), member && p.Allows(role, a); got != want {
					t.Fatalf("index: Can(%s, %s, %s) = %v, the store says %v (role %q)", u, id, a, got, want, role)
				}
			}
		}
		if _, err := r.Audit.Verify(ctx, top, id); err != nil {
			t.Fatalf("audit chain of %s: %v", id, err)
		}
		replayed, err := r.Audit.MembersAt(ctx, top, id, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatalf("members of %s from the audit log: %v", id, err)
		}
		fromLog := map[string]rbac.Role{}
		for _, m := range replayed {
			fromLog[m.UserID] = rbac.Role(m.Role)
		}
		if !maps.Equal(fromLog, roles) {
			t.Fatalf("invariant: members of %s: stored %v, replayed from the audit log %v", id, roles, fromLog)
		}
	}
	for _, inv := range invs {
		us := uses[inv.ID]
		seen := map[string]bool{}
		for _, u := range us {
			if seen[u.UserID] {
				t.Fatalf("invariant: %s used invite %s twice", u.UserID, inv.ID)
			}
			seen[u.UserID] = true
		}
		if len(us) > max(inv.MaxUses, 1) || inv.Uses != len(us) {
			t.Fatalf("invariant: invite %s counts %d uses of %d, and %d are recorded", inv.ID, inv.Uses, inv.MaxUses, len(us))
		}
	}
	n := 0
	for _, ms := range members {
		n += len(ms)
	}
	return n
}

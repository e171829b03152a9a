package rostertest

import (
	"context"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/notify"
	"github.com/teamroster/roster/store"
)

// Inbox is a notify.Notifier that keeps every transfer notice and
// invitation, for tests to follow the links. The zero Inbox is ready to
// use; it is safe for concurrent use.
type Inbox struct {
	mu       sync.Mutex
	notices  []notify.Transfer
	tokens   map[string]string // by transfer ID, the newest token sent
	messages []notify.Invite
}

var _ notify.Notifier = (*Inbox)(nil)

// TransferConfirm keeps n. It never fails.
func (in *Inbox) TransferConfirm(_ context.Context, n notify.Transfer) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.notices = append(in.notices, n)
	if in.tokens == nil {
		in.tokens = map[string]string{}
	}
	in.tokens[n.TransferID] = n.Token
	return nil
}

// TransferAccept keeps n. It never fails.
func (in *Inbox) TransferAccept(ctx context.Context, n notify.Transfer) error {
	return in.TransferConfirm(ctx, n)
}

// SendInvite keeps m. It never fails.
func (in *Inbox) SendInvite(_ context.Context, m notify.Invite) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.messages = append(in.messages, m)
	return nil
}

// Messages returns the invitations sent so far, oldest first.
func (in *Inbox) Messages() []notify.Invite {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Clone(in.messages)
}

// Last returns the newest transfer notice sent to user (at
// user@example.com), failing tb if there is none.
func (in *Inbox) Last(tb testing.TB, user string) notify.Transfer {
	tb.Helper()
	in.mu.Lock()
	defer in.mu.Unlock()
	for i := len(in.notices) - 1; i >= 0; i-- {
		if n := in.notices[i]; n.Email == user+"@example.com" {
			return n
		}
	}
	tb.Fatalf("no notice for %s", user)
	return notify.Transfer{}
}

// Token returns the newest token sent for the transfer (to confirm it, or,
// once confirmed, to accept it), or "" if none was sent.
func (in *Inbox) Token(transferID string) string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.tokens[transferID]
}

// anyTransfer returns a transfer drawn with rng from those a notice was
// sent for, and its newest token, or "" if there is none.
func (in *Inbox) anyTransfer(rng *rand.Rand) (id, token string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.tokens) == 0 {
		return "", ""
	}
	ids := slices.Sorted(maps.Keys(in.tokens))
	id = ids[rng.IntN(len(ids))]
	return id, in.tokens[id]
}

// Transfer completes a transfer that tr.From started (TransferOwnership or
// GrantTopRole) with the links in the inbox: tr.From confirms, tr.To
// accepts. It fails tb if either step fails.
func (in *Inbox) Transfer(tb testing.TB, r *roster.Roster, tr store.Transfer) {
	tb.Helper()
	ctx := context.Background()
	if _, err := r.Teams.ConfirmTransfer(ctx, tr.From, tr.ID, in.Last(tb, tr.From).Token); err != nil {
		tb.Fatalf("confirm transfer: %v", err)
	}
	if _, err := r.Teams.AcceptTransfer(ctx, tr.To, tr.ID, in.Last(tb, tr.To).Token); err != nil {
		tb.Fatalf("accept transfer: %v", err)
	}
}

// MakeTop gives member the top role as actor (who holds it): by a role
// change, or where the policy wants it by a confirmed and accepted grant
// (the Roster must have been made with in as its notifier). It fails tb if
// any step fails.
func (in *Inbox) MakeTop(tb testing.TB, r *roster.Roster, actor, accountID, member string) {
	tb.Helper()
	ctx := context.Background()
	if !r.Policy().TopByTransfer() {
		if _, err := r.Teams.ChangeRole(ctx, actor, accountID, member, r.Policy().Top()); err != nil {
			tb.Fatalf("make %s top: %v", member, err)
		}
		return
	}
	tr, err := r.Teams.GrantTopRole(ctx, actor, accountID, member)
	if err != nil {
		tb.Fatalf("grant %s the top role: %v", member, err)
	}
	in.Transfer(tb, r, tr)
}

package audit

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/teamroster/roster/internal/check"
	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// PruneResult is what Prune did.
type PruneResult struct {
	// Deleted is the number of events deleted.
	Deleted int64
	// AnchorID is the newest deleted event, whose hash the kept chain now
	// starts from; 0 if nothing was deleted.
	AnchorID int64
	// Event is the store.EventAuditPruned event recorded; zero if nothing was deleted.
	Event store.Event
}

// Prune deletes the account's events older than before, for a retention
// policy, and keeps the rest of the chain verifiable. It deletes the oldest
// events in chain order up to the first one at or after before (so an event
// older than before that follows a newer one, which only clock skew between
// servers can cause, is kept), records the hash of the last one deleted as
// the chain's anchor, and records a store.EventAuditPruned event holding the cut, the
// number deleted, the anchor and the membership after the last deleted
// event, so that MembersAt still answers for times from before on. Times
// before it become unanswerable (ErrPruned). Nothing deleted, nothing
// recorded.
//
// Pruning destroys evidence, so the actor needs the policy's top role (admin
// for Runpod, owner for DigitalOcean), which holds every permission; a
// member refused is recorded as a denied store.EventAuditPruned. before may not be in
// the future. Everything happens in one transaction. Prune returns an error
// wrapping store.ErrInvalid (malformed input, before in the future or outside
// the years 1970 to 9999), store.ErrNotFound (no such account),
// rbac.ErrNotMember or rbac.ErrDenied.
func (s *Service) Prune(ctx context.Context, actor, accountID string, before time.Time) (PruneResult, error) {
	var res PruneResult
	fail := func(err error) (PruneResult, error) {
		return PruneResult{}, fmt.Errorf("prune %q before %s by %q: %w", accountID, before.UTC().Format(time.RFC3339Nano), actor, err)
	}
	if err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID)); err != nil {
		return fail(err)
	}
	if err := validTime("cut", before); err != nil {
		return fail(err)
	}
	before = before.UTC().Truncate(time.Microsecond)
	if before.After(s.door.Now()) {
		return fail(fmt.Errorf("%w: cut is in the future", store.ErrInvalid))
	}
	_, err := s.door.Update(ctx, s.call(actor, accountID, store.EventAuditPruned), func(c *txn.Change) error {
		if !c.Rights.Top() {
			return fmt.Errorf("role %q is not the top role, which pruning needs: %w", c.Actor.Role, rbac.ErrDenied)
		}
		tx := c.Tx
		m, through, _, err := s.checkpoint(ctx, tx, accountID)
		if err != nil {
			return err
		}
		// The oldest event at or after the cut, in chain order, bounds the
		// events to delete: all the events before it.
		kept, err := tx.Events(ctx, store.EventFilter{AccountID: accountID, Since: before, Order: store.AppendOrder, Limit: 1})
		if err != nil {
			return err
		}
		prefix := store.EventFilter{AccountID: accountID, Order: store.AppendOrder, AfterID: through}
		if len(kept) > 0 {
			prefix.BeforeID = kept[0].ID
		}
		var last store.Event
		err = tx.ScanEvents(ctx, prefix, func(e store.Event) error {
			m.apply(e)
			last = e
			return nil
		})
		if err != nil {
			return err
		}
		if last.ID == 0 {
			return nil
		}
		n, err := tx.DeleteEvents(ctx, accountID, last.ID)
		if err != nil {
			return err
		}
		head, err := tx.ChainHead(ctx, accountID)
		if errors.Is(err, store.ErrNotFound) {
			head, err = store.ChainHead{AccountID: accountID}, nil
		}
		if err != nil {
			return err
		}
		head.AnchorID, head.AnchorHash = last.ID, last.Hash
		if err := tx.SetChainHead(ctx, head); err != nil {
			return err
		}
		d := pruneDetails{
			Before: before.Format(time.RFC3339Nano), Deleted: n,
			AnchorID: last.ID, AnchorHash: hex.EncodeToString(last.Hash),
			Members: map[string]checkpointMember{},
		}
		for user, mm := range m.members {
			d.Members[user] = checkpointMember{Role: mm.Role, JoinedAt: mm.JoinedAt.UTC().Format(time.RFC3339Nano)}
		}
		after, err := json.Marshal(d)
		if err != nil {
			return fmt.Errorf("encode prune details: %w", err)
		}
		ev, err := c.Record(store.Event{
			Action: store.EventAuditPruned, ResourceType: "audit", ResourceID: accountID, After: string(after),
		})
		if err != nil {
			return err
		}
		res = PruneResult{Deleted: n, AnchorID: last.ID, Event: ev}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	return res, nil
}

package audit_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/internal/chain"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// verifyFixture builds two teams whose events interleave, so that each
// account's event IDs have gaps, and returns them with the first team's
// events in chain order.
func verifyFixture(t *testing.T, e *env) (store.Account, store.Account, []store.Event) {
	t.Helper()
	acct, other := fixture(t, e)
	for i := range 3 {
		e.record(t, "zed", other.ID, audit.Entry{Action: "pod.restarted", ResourceType: "pod", ResourceID: "z"})
		e.record(t, "bob", acct.ID, audit.Entry{Action: "pod.restarted", ResourceType: "pod", ResourceID: string(rune('a' + i))})
	}
	return acct, other, e.chainOrder(t, acct.ID)
}

// between returns an event of other whose ID lies between two events of
// events, and the index of the earlier of the two.
func between(t *testing.T, events, others []store.Event) (store.Event, int) {
	t.Helper()
	for i := 1; i < len(events)-1; i++ {
		for _, o := range others {
			if o.ID > events[i].ID && o.ID < events[i+1].ID {
				return o, i
			}
		}
	}
	t.Fatal("no event of the other account lies between two of the account's")
	return store.Event{}, 0
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		t.Run("an intact chain verifies and ends at its head", func(t *testing.T) {
			e := newEnv(t, b, rbac.Runpod())
			acct, other, events := verifyFixture(t, e)
			rep, err := e.r.Audit.Verify(ctx, "alice", acct.ID)
			if err != nil {
				t.Fatal(err)
			}
			last := events[len(events)-1]
			if rep.Events != int64(len(events)) || rep.Head.EventID != last.ID || !bytes.Equal(rep.Head.Hash, last.Hash) {
				t.Errorf("report = %+v, want %d events ending at %d", rep, len(events), last.ID)
			}
			head, err := e.r.Audit.Head(ctx, "alice", acct.ID)
			if err != nil {
				t.Fatal(err)
			}
			if head.EventID != rep.Head.EventID || !bytes.Equal(head.Hash, rep.Head.Hash) || !head.Time.Equal(last.Time) {
				t.Errorf("Head = %v, want the verified head %v", head, rep.Head)
			}
			if _, err := e.r.Audit.Verify(ctx, "zed", other.ID); err != nil {
				t.Errorf("the other account: %v", err)
			}
			if _, err := e.r.Audit.Verify(ctx, "alice", acct.ID, head); err != nil {
				t.Errorf("Verify against its own head: %v", err)
			}
		})

		cases := []struct {
			name   string
			damage func(t *testing.T, e *env, acct store.Account, events, others []store.Event) int64 // returns the event to be named
			kind   audit.Tamper
		}{
			{"an edited field", func(t *testing.T, e *env, _ store.Account, events, _ []store.Event) int64 {
				e.exec(t, "UPDATE roster_events SET reason = 'nothing to see' WHERE id = ?", events[5].ID)
				return events[5].ID
			}, audit.TamperAltered},
			{"an edited actor on a roster event", func(t *testing.T, e *env, _ store.Account, events, _ []store.Event) int64 {
				e.exec(t, "UPDATE roster_events SET actor = 'mallory' WHERE id = ?", events[2].ID)
				return events[2].ID
			}, audit.TamperAltered},
			{"an edited time", func(t *testing.T, e *env, _ store.Account, events, _ []store.Event) int64 {
				e.exec(t, "UPDATE roster_events SET occurred_at = ? WHERE id = ?", events[7].Time.Add(-time.Hour), events[7].ID)
				return events[7].ID
			}, audit.TamperAltered},
			{"an edited result", func(t *testing.T, e *env, _ store.Account, events, _ []store.Event) int64 {
				for _, ev := range events {
					if ev.Result == store.Denied {
						e.exec(t, "UPDATE roster_events SET result = 'allowed' WHERE id = ?", ev.ID)
						return ev.ID
					}
				}
				t.Fatal("no denied event")
				return 0
			}, audit.TamperAltered},
			{"an edited hash", func(t *testing.T, e *env, _ store.Account, events, _ []store.Event) int64 {
				e.exec(t, "UPDATE roster_events SET hash = prev_hash WHERE id = ?", events[4].ID)
				return events[4].ID
			}, audit.TamperAltered},
			{"a deleted event in the middle", func(t *testing.T, e *env, _ store.Account, events, _ []store.Event) int64 {
				e.exec(t, "DELETE FROM roster_events WHERE id = ?", events[6].ID)
				return events[7].ID
			}, audit.TamperDeleted},
			{"several deleted events in the middle", func(t *testing.T, e *env, _ store.Account, events, _ []store.Event) int64 {
				e.exec(t, "DELETE FROM roster_events WHERE id >= ? AND id <= ? AND account_id = ?", events[3].ID, events[8].ID, events[3].AccountID)
				return events[9].ID
			}, audit.TamperDeleted},
			{"deleted oldest events", func(t *testing.T, e *env, _ store.Account, events, _ []store.Event) int64 {
				e.exec(t, "DELETE FROM roster_events WHERE id <= ? AND account_id = ?", events[1].ID, events[1].AccountID)
				return events[2].ID
			}, audit.TamperDeleted},
			{"truncated newest events", func(t *testing.T, e *env, _ store.Account, events, _ []store.Event) int64 {
				n := len(events)
				e.exec(t, "DELETE FROM roster_events WHERE id >= ? AND account_id = ?", events[n-2].ID, events[n-2].AccountID)
				return events[n-1].ID
			}, audit.TamperTruncated},
			{"every event deleted", func(t *testing.T, e *env, _ store.Account, events, _ []store.Event) int64 {
				e.exec(t, "DELETE FROM roster_events WHERE account_id = ?", events[0].AccountID)
				return events[len(events)-1].ID
			}, audit.TamperTruncated},
			{"a row appended without a hash", func(t *testing.T, e *env, acct store.Account, events, _ []store.Event) int64 {
				e.exec(t, `INSERT INTO roster_events (account_id, occurred_at, actor, action, resource_type, resource_id,
					result, reason, before_value, after_value, ip, user_agent, request_id)
					VALUES (?, ?, 'alice', 'member.added', 'member', 'mallory', 'allowed', '', '', '{"role":"admin"}', '', '', '')`,
					acct.ID, events[len(events)-1].Time)
				forged := e.chainOrder(t, acct.ID)
				return forged[len(forged)-1].ID
			}, audit.TamperInserted},
			{"a well-hashed event inserted in the middle", func(t *testing.T, e *env, acct store.Account, events, others []store.Event) int64 {
				// Move an event of the other account whose ID falls between two
				// of this account's into this chain, linked and hashed correctly.
				o, i := between(t, events, others)
				forged := store.Event{AccountID: acct.ID, Time: events[i].Time, Actor: "alice", Action: "member.added",
					ResourceType: "member", ResourceID: "mallory", Result: store.Allowed, After: `{"role":"admin"}`,
					PrevHash: events[i].Hash}
				forged.Hash = chain.Hash(forged.PrevHash, forged)
				e.exec(t, `UPDATE roster_events SET account_id = ?, occurred_at = ?, actor = ?, action = ?, resource_type = ?,
					resource_id = ?, result = ?, reason = '', before_value = '', after_value = ?, ip = '', user_agent = '',
					request_id = '', prev_hash = ?, hash = ? WHERE id = ?`,
					forged.AccountID, forged.Time, forged.Actor, forged.Action, forged.ResourceType, forged.ResourceID,
					string(forged.Result), forged.After, forged.PrevHash, forged.Hash, o.ID)
				return o.ID
			}, audit.TamperInserted},
			{"a replaced newest event with a valid hash", func(t *testing.T, e *env, _ store.Account, events, _ []store.Event) int64 {
				last := events[len(events)-1]
				last.Reason = "replaced"
				last.Hash = chain.Hash(last.PrevHash, last)
				e.exec(t, "UPDATE roster_events SET reason = ?, hash = ? WHERE id = ?", last.Reason, last.Hash, last.ID)
				return last.ID
			}, audit.TamperRewritten},
			{"a deleted chain head", func(t *testing.T, e *env, acct store.Account, events, _ []store.Event) int64 {
				e.exec(t, "DELETE FROM roster_chain_heads WHERE account_id = ?", acct.ID)
				return events[0].ID
			}, audit.TamperHead},
		}
		for _, c := range cases {
			t.Run("Verify catches "+c.name, func(t *testing.T) {
				e := newEnv(t, b, rbac.Runpod())
				acct, other, events := verifyFixture(t, e)
				others := e.chainOrder(t, other.ID)
				want := c.damage(t, e, acct, events, others)
				_, err := e.r.Audit.Verify(ctx, "alice", acct.ID)
				te := tamper(t, err)
				if te.Kind != c.kind || te.EventID != want || te.AccountID != acct.ID {
					t.Errorf("Verify = %v, want %s at event %d", err, c.kind, want)
				}
				if _, err := e.r.Audit.Verify(ctx, "zed", other.ID); err != nil && c.name != "a well-hashed event inserted in the middle" {
					t.Errorf("damage to one account breaks the other's chain: %v", err)
				}
			})
		}

		t.Run("moving an event to another account breaks that account's chain too", func(t *testing.T) {
			e := newEnv(t, b, rbac.Runpod())
			acct, other, events := verifyFixture(t, e)
			others := e.chainOrder(t, other.ID)
			o, _ := between(t, events, others)
			e.exec(t, "UPDATE roster_events SET account_id = ? WHERE id = ?", acct.ID, o.ID)
			te := tamper(t, func() error { _, err := e.r.Audit.Verify(ctx, "zed", other.ID); return err }())
			if te.Kind != audit.TamperDeleted {
				t.Errorf("the other account's chain: %v, want %s", te, audit.TamperDeleted)
			}
		})

		t.Run("a rewritten chain passes alone but not against a head kept elsewhere", func(t *testing.T) {
			e := newEnv(t, b, rbac.Runpod())
			acct, _, events := verifyFixture(t, e)
			kept, err := e.r.Audit.Head(ctx, "alice", acct.ID)
			if err != nil {
				t.Fatal(err)
			}
			// Someone with database access deletes the newest events and
			// rewrites the head to match: the limit of a chain without anchors.
			n := len(events)
			newLast := events[n-3]
			e.exec(t, "DELETE FROM roster_events WHERE id > ? AND account_id = ?", newLast.ID, acct.ID)
			e.exec(t, "UPDATE roster_chain_heads SET last_id = ?, last_hash = ?, last_time = ? WHERE account_id = ?",
				newLast.ID, newLast.Hash, newLast.Time, acct.ID)
			if _, err := e.r.Audit.Verify(ctx, "alice", acct.ID); err != nil {
				t.Errorf("a consistently rewritten chain: Verify = %v; the documented limit says it passes", err)
			}
			te := tamper(t, func() error { _, err := e.r.Audit.Verify(ctx, "alice", acct.ID, kept); return err }())
			if te.Kind != audit.TamperTruncated || te.EventID != kept.EventID {
				t.Errorf("Verify against the kept head = %v, want truncated at %d", te, kept.EventID)
			}
		})

		t.Run("an event rewritten with the whole chain after it fails against an older kept head", func(t *testing.T) {
			e := newEnv(t, b, rbac.Runpod())
			acct, _, events := verifyFixture(t, e)
			kept, err := e.r.Audit.Head(ctx, "alice", acct.ID)
			if err != nil {
				t.Fatal(err)
			}
			prev := events[3].PrevHash
			for i := 3; i < len(events); i++ {
				ev := events[i]
				if i == 3 {
					ev.Actor = "mallory"
				}
				ev.PrevHash = prev
				ev.Hash = chain.Hash(prev, ev)
				e.exec(t, "UPDATE roster_events SET actor = ?, prev_hash = ?, hash = ? WHERE id = ?", ev.Actor, ev.PrevHash, ev.Hash, ev.ID)
				prev = ev.Hash
			}
			e.exec(t, "UPDATE roster_chain_heads SET last_hash = ? WHERE account_id = ?", prev, acct.ID)
			if _, err := e.r.Audit.Verify(ctx, "alice", acct.ID); err != nil {
				t.Errorf("a consistently rewritten chain: Verify = %v; the documented limit says it passes", err)
			}
			te := tamper(t, func() error { _, err := e.r.Audit.Verify(ctx, "alice", acct.ID, kept); return err }())
			if te.Kind != audit.TamperRewritten || te.EventID != kept.EventID {
				t.Errorf("Verify against the kept head = %v, want rewritten at %d", te, kept.EventID)
			}
		})

		t.Run("heads kept elsewhere stay valid as the chain grows", func(t *testing.T) {
			e := newEnv(t, b, rbac.Runpod())
			acct, _, _ := verifyFixture(t, e)
			var heads []audit.Head
			for i := range 3 {
				h, err := e.r.Audit.Head(ctx, "alice", acct.ID)
				if err != nil {
					t.Fatal(err)
				}
				heads = append(heads, h)
				e.record(t, "alice", acct.ID, audit.Entry{Action: "endpoint.created", ResourceID: string(rune('x' + i))})
			}
			if _, err := e.r.Audit.Verify(ctx, "alice", acct.ID, heads...); err != nil {
				t.Errorf("Verify against older heads: %v", err)
			}
			forged := heads[1]
			forged.Hash = bytes.Repeat([]byte{1}, 32)
			te := tamper(t, func() error { _, err := e.r.Audit.Verify(ctx, "alice", acct.ID, forged); return err }())
			if te.Kind != audit.TamperRewritten || te.EventID != forged.EventID {
				t.Errorf("Verify against a head with another hash = %v, want rewritten", te)
			}
		})

		t.Run("Verify refuses anchors of another account and readers without the audit permission", func(t *testing.T) {
			e := newEnv(t, b, rbac.Runpod())
			acct, other := fixture(t, e)
			h, err := e.r.Audit.Head(ctx, "zed", other.ID)
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.r.Audit.Verify(ctx, "alice", acct.ID, h)
			checkErr(t, "an anchor of another account", err, store.ErrInvalid)
			_, err = e.r.Audit.Verify(ctx, "carol", acct.ID)
			checkErr(t, "a dev verifying", err, rbac.ErrDenied)
			_, err = e.r.Audit.Head(ctx, "zed", acct.ID)
			checkErr(t, "a non-member's head", err, rbac.ErrNotMember)
		})

		t.Run("an event appended around roster is reported as inserted", func(t *testing.T) {
			e := newEnv(t, b, rbac.Runpod())
			acct := e.team(t, "alice")
			if _, err := e.s.Update(ctx, func(tx store.Tx) error {
				_, err := tx.AppendEvent(ctx, store.Event{AccountID: acct.ID, Action: "x.y"})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			te := tamper(t, func() error { _, err := e.r.Audit.Verify(ctx, "alice", acct.ID); return err }())
			if te.Kind != audit.TamperInserted {
				t.Errorf("an unchained event = %v, want inserted", te)
			}
		})
	})
}

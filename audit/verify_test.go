package audit_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/internal/chain"
	"github.com/teamroster/roster/internal/rostertest"
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
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
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
			// The head of a chain with no event yet (see Head) anchors nothing.
			if _, err := e.r.Audit.Verify(ctx, "alice", acct.ID, audit.Head{AccountID: acct.ID}); err != nil {
				t.Errorf("Verify against the head of an empty chain: %v", err)
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
					request_id = '', prev_hash = ?, hash = ?, salt = NULL, commitment = NULL WHERE id = ?`,
					forged.AccountID, forged.Time, forged.Actor, forged.Action, forged.ResourceType, forged.ResourceID,
					string(forged.Result), forged.After, forged.PrevHash, forged.Hash, o.ID)
				return o.ID
			}, audit.TamperInserted},
			{"a well-hashed row appended that links to the first event", func(t *testing.T, e *env, acct store.Account, events, _ []store.Event) int64 {
				forged := store.Event{AccountID: acct.ID, Time: events[len(events)-1].Time, Actor: "alice", Action: "member.added",
					ResourceType: "member", ResourceID: "mallory", Result: store.Allowed, After: `{"role":"admin"}`,
					PrevHash: events[0].Hash}
				forged.Hash = chain.Hash(forged.PrevHash, forged)
				e.exec(t, `INSERT INTO roster_events (account_id, occurred_at, actor, action, resource_type, resource_id,
					result, reason, before_value, after_value, ip, user_agent, request_id, prev_hash, hash)
					VALUES (?, ?, ?, ?, ?, ?, ?, '', '', ?, '', '', '', ?, ?)`,
					forged.AccountID, forged.Time, forged.Actor, forged.Action, forged.ResourceType, forged.ResourceID,
					string(forged.Result), forged.After, forged.PrevHash, forged.Hash)
				// The head moved to it too, as by someone who can write the database.
				all := e.chainOrder(t, acct.ID)
				e.exec(t, "UPDATE roster_chain_heads SET last_id = ?, last_hash = ? WHERE account_id = ?", all[len(all)-1].ID, forged.Hash, acct.ID)
				return events[1].ID // the first event past the one it links to
			}, audit.TamperInserted},
			{"a row that starts a chain of its own, with the head moved to it", func(t *testing.T, e *env, acct store.Account, events, _ []store.Event) int64 {
				forged := store.Event{AccountID: acct.ID, Time: events[len(events)-1].Time, Actor: "alice", Action: "member.added",
					ResourceType: "member", ResourceID: "mallory", Result: store.Allowed, After: `{"role":"admin"}`}
				forged.Hash = chain.Hash(nil, forged)
				e.exec(t, `INSERT INTO roster_events (account_id, occurred_at, actor, action, resource_type, resource_id,
					result, reason, before_value, after_value, ip, user_agent, request_id, hash)
					VALUES (?, ?, ?, ?, ?, ?, ?, '', '', ?, '', '', '', ?)`,
					forged.AccountID, forged.Time, forged.Actor, forged.Action, forged.ResourceType, forged.ResourceID,
					string(forged.Result), forged.After, forged.Hash)
				all := e.chainOrder(t, acct.ID)
				id := all[len(all)-1].ID
				e.exec(t, "UPDATE roster_chain_heads SET last_id = ?, last_hash = ? WHERE account_id = ?", id, forged.Hash, acct.ID)
				return id
			}, audit.TamperInserted},
			{"a replaced newest event with a valid hash", func(t *testing.T, e *env, _ store.Account, events, _ []store.Event) int64 {
				last := events[len(events)-1]
				last.Reason = "replaced"
				last.Commitment = chain.Commit(last.Salt, last)
				last.Hash = chain.Hash(last.PrevHash, last)
				e.exec(t, "UPDATE roster_events SET reason = ?, commitment = ?, hash = ? WHERE id = ?", last.Reason, last.Commitment, last.Hash, last.ID)
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

// forgePrune appends to the account's chain, behind the store's back, an
// audit.pruned event as Prune writes it, claiming the cut and the anchor
// given, correctly hashed and linked to the newest event, and rewrites the
// chain head to match: what someone with write access to the database, but
// no secret, can do after deleting the events up to the anchor.
func forgePrune(t *testing.T, e *env, accountID string, cut time.Time, anchor store.Event, deleted int) store.Event {
	t.Helper()
	log := e.chainOrder(t, accountID)
	last := log[len(log)-1]
	after, err := json.Marshal(map[string]any{
		"before": cut.UTC().Format(time.RFC3339Nano), "deleted": deleted,
		"anchor_id": anchor.ID, "anchor_hash": hex.EncodeToString(anchor.Hash), "members": map[string]any{},
	})
	if err != nil {
		t.Fatal(err)
	}
	ev := store.Event{AccountID: accountID, Time: last.Time.Add(time.Millisecond), Actor: "alice", Action: store.EventAuditPruned,
		ResourceType: "audit", ResourceID: accountID, Result: store.Allowed, After: string(after), PrevHash: last.Hash}
	ev.Hash = chain.Hash(ev.PrevHash, ev)
	err = e.raw.QueryRow(e.b.Rebind(`INSERT INTO roster_events (account_id, occurred_at, actor, action, resource_type, resource_id,
		result, reason, before_value, after_value, ip, user_agent, request_id, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, '', '', ?, '', '', '', ?, ?) RETURNING id`),
		ev.AccountID, ev.Time, ev.Actor, ev.Action, ev.ResourceType, ev.ResourceID, string(ev.Result), ev.After, ev.PrevHash, ev.Hash).Scan(&ev.ID)
	if err != nil {
		t.Fatalf("insert the forged prune record: %v", err)
	}
	e.exec(t, "UPDATE roster_chain_heads SET last_id = ?, last_hash = ?, last_time = ?, anchor_id = ?, anchor_hash = ? WHERE account_id = ?",
		ev.ID, ev.Hash, ev.Time, anchor.ID, anchor.Hash, accountID)
	return ev
}

// keptHeadFixture builds verifyFixture's teams, keeps the first team's head,
// and records four more events after it. It returns the first team, the
// kept head and the team's events in chain order.
func keptHeadFixture(t *testing.T, e *env) (store.Account, audit.Head, []store.Event) {
	t.Helper()
	acct, _, _ := verifyFixture(t, e)
	kept, err := e.r.Audit.Head(context.Background(), "alice", acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		e.record(t, "alice", acct.ID, audit.Entry{Action: "endpoint.created", ResourceType: "endpoint", ResourceID: string(rune('p' + i))})
	}
	return acct, kept, e.chainOrder(t, acct.ID)
}

// indexOf returns the index of the event with the given ID in events.
func indexOf(t *testing.T, events []store.Event, id int64) int {
	t.Helper()
	i := slices.IndexFunc(events, func(ev store.Event) bool { return ev.ID == id })
	if i < 0 {
		t.Fatalf("no event %d among %v", id, eventIDs(events))
	}
	return i
}

func TestVerifyKeptHeads(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		t.Run("a kept head is missed when every event and the chain head were deleted", func(t *testing.T) {
			e := newEnv(t, b, rbac.Runpod())
			acct, kept, _ := keptHeadFixture(t, e)
			e.exec(t, "DELETE FROM roster_events WHERE account_id = ?", acct.ID)
			e.exec(t, "DELETE FROM roster_chain_heads WHERE account_id = ?", acct.ID)
			if _, err := e.r.Audit.Verify(ctx, "alice", acct.ID); err != nil {
				t.Errorf("an emptied chain without a kept head: Verify = %v; the documented limit says it passes", err)
			}
			te := tamper(t, func() error { _, err := e.r.Audit.Verify(ctx, "alice", acct.ID, kept); return err }())
			if te.Kind != audit.TamperTruncated || te.EventID != kept.EventID || te.AccountID != acct.ID {
				t.Errorf("Verify against the kept head = %v, want truncated at %d", te, kept.EventID)
			}
		})

		for _, c := range []struct {
			name string
			cut  func(kept audit.Head, events []store.Event) time.Time
		}{
			{"at the kept head's time", func(kept audit.Head, _ []store.Event) time.Time { return kept.Time }},
			{"before the kept head's time", func(_ audit.Head, events []store.Event) time.Time { return events[0].Time }},
		} {
			t.Run("a kept head is missed when its events were deleted behind a prune record with a cut "+c.name, func(t *testing.T) {
				e := newEnv(t, b, rbac.Runpod())
				acct, kept, events := keptHeadFixture(t, e)
				anchor := events[indexOf(t, events, kept.EventID)+2]
				e.exec(t, "DELETE FROM roster_events WHERE id <= ? AND account_id = ?", anchor.ID, acct.ID)
				forgePrune(t, e, acct.ID, c.cut(kept, events), anchor, indexOf(t, events, anchor.ID)+1)
				if _, err := e.r.Audit.Verify(ctx, "alice", acct.ID); err != nil {
					t.Fatalf("the forged prune does not pass on its own, so the test proves nothing: %v", err)
				}
				te := tamper(t, func() error { _, err := e.r.Audit.Verify(ctx, "alice", acct.ID, kept); return err }())
				if te.Kind != audit.TamperRewritten || te.EventID != kept.EventID {
					t.Errorf("Verify against the kept head = %v, want rewritten at %d", te, kept.EventID)
				}
			})
		}

		t.Run("a forged prune record that names the kept head as its anchor needs its hash", func(t *testing.T) {
			e := newEnv(t, b, rbac.Runpod())
			acct, kept, events := keptHeadFixture(t, e)
			anchor := events[indexOf(t, events, kept.EventID)]
			e.exec(t, "DELETE FROM roster_events WHERE id <= ? AND account_id = ?", anchor.ID, acct.ID)
			forgePrune(t, e, acct.ID, events[len(events)-1].Time, anchor, indexOf(t, events, anchor.ID)+1)
			if _, err := e.r.Audit.Verify(ctx, "alice", acct.ID, kept); err != nil {
				t.Errorf("the anchor's own head: %v; the documented limit says it passes", err)
			}
			forged := kept
			forged.Hash = bytes.Repeat([]byte{1}, 32)
			te := tamper(t, func() error { _, err := e.r.Audit.Verify(ctx, "alice", acct.ID, forged); return err }())
			if te.Kind != audit.TamperRewritten || te.EventID != kept.EventID {
				t.Errorf("Verify against a head with another hash = %v, want rewritten at %d", te, kept.EventID)
			}
		})

		t.Run("a forged prune record with a cut after the kept head's time passes: the documented limit", func(t *testing.T) {
			e := newEnv(t, b, rbac.Runpod())
			acct, kept, events := keptHeadFixture(t, e)
			i := indexOf(t, events, kept.EventID)
			anchor := events[i+2]
			e.exec(t, "DELETE FROM roster_events WHERE id <= ? AND account_id = ?", anchor.ID, acct.ID)
			forgePrune(t, e, acct.ID, events[i+3].Time, anchor, i+3)
			if _, err := e.r.Audit.Verify(ctx, "alice", acct.ID, kept); err != nil {
				t.Errorf("Verify = %v; without a secret such a forgery cannot be told from a real prune", err)
			}
		})

		t.Run("a kept head pruned away with no prune record is missed", func(t *testing.T) {
			e := newEnv(t, b, rbac.Runpod())
			acct, kept, events := keptHeadFixture(t, e)
			anchor := events[indexOf(t, events, kept.EventID)+1]
			e.exec(t, "DELETE FROM roster_events WHERE id <= ? AND account_id = ?", anchor.ID, acct.ID)
			e.exec(t, "UPDATE roster_chain_heads SET anchor_id = ?, anchor_hash = ? WHERE account_id = ?", anchor.ID, anchor.Hash, acct.ID)
			tamper(t, func() error { _, err := e.r.Audit.Verify(ctx, "alice", acct.ID, kept); return err }())
		})

		t.Run("kept heads older than a real prune's cut still verify", func(t *testing.T) {
			e := newEnv(t, b, rbac.Runpod())
			acct, _, _ := verifyFixture(t, e)
			var heads []audit.Head
			for i := range 4 {
				h, err := e.r.Audit.Head(ctx, "alice", acct.ID)
				if err != nil {
					t.Fatal(err)
				}
				heads = append(heads, h)
				e.record(t, "alice", acct.ID, audit.Entry{Action: "endpoint.created", ResourceType: "endpoint", ResourceID: string(rune('p' + i))})
			}
			// Cut at the first event newer than heads[1]: heads[0] and heads[1]
			// are pruned, the event before the cut becomes the anchor, heads[2]
			// and heads[3] are kept.
			events := e.chainOrder(t, acct.ID)
			i := indexOf(t, events, heads[1].EventID) + 1
			for ; i < len(events) && !events[i].Time.After(heads[1].Time); i++ {
			}
			res, err := e.r.Audit.Prune(ctx, "alice", acct.ID, events[i].Time)
			if err != nil {
				t.Fatal(err)
			}
			anchor := events[i-1]
			if res.AnchorID != anchor.ID || e.chainOrder(t, acct.ID)[0].ID != events[i].ID {
				t.Fatalf("Prune anchored at %d, want %d, the event before the cut", res.AnchorID, anchor.ID)
			}
			heads = append(heads, audit.Head{AccountID: acct.ID, EventID: anchor.ID, Hash: anchor.Hash, Time: anchor.Time})
			if _, err := e.r.Audit.Verify(ctx, "alice", acct.ID, heads...); err != nil {
				t.Errorf("Verify against heads pruned, at the anchor and kept: %v", err)
			}
			late := heads[0]
			late.Time = events[i].Time
			te := tamper(t, func() error { _, err := e.r.Audit.Verify(ctx, "alice", acct.ID, late); return err }())
			if te.Kind != audit.TamperRewritten || te.EventID != late.EventID {
				t.Errorf("Verify against a pruned head whose time is not before the cut = %v, want rewritten at %d", te, late.EventID)
			}
		})
	})
}

// TestVerifyAfterErasure checks that a chain holding a user's erased events
// verifies, its user.erased record accounting for them, and that the report
// counts them.
func TestVerifyAfterErasure(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, b, rbac.Runpod())
		acct := rostertest.Team(t, e.r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
		e.record(t, "bob", acct.ID, audit.Entry{Action: "pod.created", ResourceType: "pod", ResourceID: "p1", After: `{"by":"bob"}`})
		if _, err := e.r.Teams.DeleteUser(ctx, "bob", "bob"); err != nil {
			t.Fatal(err)
		}
		rep, err := e.r.Audit.Verify(ctx, "alice", acct.ID)
		if err != nil {
			t.Fatalf("Verify after bob was erased: %v", err)
		}
		var erased int64
		for _, ev := range rostertest.Events(t, e.s, acct.ID) {
			if chain.Erased(ev) {
				erased++
			}
		}
		if erased == 0 || rep.Erased != erased {
			t.Errorf("Verify counted %d erased events after bob, who acted and was named in the team's log, was erased; the log holds %d", rep.Erased, erased)
		}
	})
}

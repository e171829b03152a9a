package chain_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/teamroster/roster/internal/chain"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/store"
)

var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.UTC)

func sample() store.Event {
	return store.Event{
		AccountID: "acc", Time: t0, Actor: "alice", Action: "member.role_changed",
		ResourceType: "member", ResourceID: "bob", Result: store.Allowed, Reason: "why",
		Before: `{"role":"dev"}`, After: `{"role":"admin"}`,
		IP: "203.0.113.7", UserAgent: "curl/8", RequestID: "req-1",
	}
}

func TestHash(t *testing.T) {
	t.Run("the same event and link hash alike", func(t *testing.T) {
		if !bytes.Equal(chain.Hash([]byte("p"), sample()), chain.Hash([]byte("p"), sample())) {
			t.Error("Hash is not deterministic")
		}
		e := sample()
		e.ID, e.PrevHash, e.Hash = 99, []byte("ignored"), []byte("ignored")
		if !bytes.Equal(chain.Hash([]byte("p"), sample()), chain.Hash([]byte("p"), e)) {
			t.Error("Hash covers ID, PrevHash or Hash, which it must not")
		}
	})
	t.Run("every covered field changes the hash", func(t *testing.T) {
		base := chain.Hash([]byte("p"), sample())
		edits := map[string]func(*store.Event){
			"account":       func(e *store.Event) { e.AccountID += "x" },
			"time":          func(e *store.Event) { e.Time = e.Time.Add(time.Microsecond) },
			"actor":         func(e *store.Event) { e.Actor += "x" },
			"action":        func(e *store.Event) { e.Action += "x" },
			"resource type": func(e *store.Event) { e.ResourceType += "x" },
			"resource ID":   func(e *store.Event) { e.ResourceID += "x" },
			"result":        func(e *store.Event) { e.Result = store.Denied },
			"reason":        func(e *store.Event) { e.Reason += "x" },
			"before":        func(e *store.Event) { e.Before += " " },
			"after":         func(e *store.Event) { e.After += " " },
			"ip":            func(e *store.Event) { e.IP += "x" },
			"user agent":    func(e *store.Event) { e.UserAgent += "x" },
			"request ID":    func(e *store.Event) { e.RequestID += "x" },
		}
		for name, edit := range edits {
			e := sample()
			edit(&e)
			if bytes.Equal(base, chain.Hash([]byte("p"), e)) {
				t.Errorf("changing the %s does not change the hash", name)
			}
		}
		if bytes.Equal(base, chain.Hash([]byte("q"), sample())) {
			t.Error("changing the previous hash does not change the hash")
		}
	})
	t.Run("the v1 hash, of an event without a commitment, is the encoding the audit package documents", func(t *testing.T) {
		e := sample()
		var buf []byte
		field := func(b []byte) {
			buf = binary.BigEndian.AppendUint64(buf, uint64(len(b)))
			buf = append(buf, b...)
		}
		field([]byte("roster audit chain v1"))
		field([]byte("p"))
		field([]byte(e.AccountID))
		field(binary.BigEndian.AppendUint64(nil, uint64(e.Time.UnixMicro())))
		for _, s := range []string{e.Actor, string(e.Action), e.ResourceType, e.ResourceID, string(e.Result), e.Reason,
			e.Before, e.After, e.IP, e.UserAgent, e.RequestID} {
			field([]byte(s))
		}
		want := sha256.Sum256(buf)
		if got := chain.Hash([]byte("p"), e); !bytes.Equal(got, want[:]) {
			t.Errorf("Hash = %x, want %x", got, want)
		}
	})
	t.Run("moving text between fields changes the hash", func(t *testing.T) {
		a, b := sample(), sample()
		a.Actor, a.Action = "ab", "c"
		b.Actor, b.Action = "a", "bc"
		if bytes.Equal(chain.Hash(nil, a), chain.Hash(nil, b)) {
			t.Error(`actor "ab" + action "c" hashes like actor "a" + action "bc"`)
		}
	})
	t.Run("Valid accepts a hashed event and refuses an edited one", func(t *testing.T) {
		e := sample()
		e.PrevHash = []byte("p")
		e.Hash = chain.Hash(e.PrevHash, e)
		if !chain.Valid(e) {
			t.Error("Valid refuses a correctly hashed event")
		}
		edited := e
		edited.Reason = "other"
		unhashed := e
		unhashed.Hash = nil
		relinked := e
		relinked.PrevHash = []byte("q")
		for name, bad := range map[string]store.Event{"edited": edited, "without hash": unhashed, "relinked": relinked} {
			if chain.Valid(bad) {
				t.Errorf("Valid accepts an event %s", name)
			}
		}
	})
}

// update runs fn through chain.Update on s and fails the test on error.
func update(t *testing.T, ctx context.Context, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if _, err := s.Update(ctx, chain.Update(ctx, fn)); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// seed creates the accounts.
func seed(t *testing.T, s store.Store, accounts ...string) {
	t.Helper()
	update(t, t.Context(), s, func(tx store.Tx) error {
		for _, a := range accounts {
			if err := tx.CreateAccount(t.Context(), store.Account{ID: a, Kind: store.Team, Name: a, Owner: "o"}); err != nil {
				return err
			}
		}
		return nil
	})
}

// appendAll appends events through chain.Update, one transaction per group.
func appendAll(t *testing.T, ctx context.Context, s store.Store, groups ...[]store.Event) []store.Event {
	t.Helper()
	var out []store.Event
	for _, g := range groups {
		update(t, ctx, s, func(tx store.Tx) error {
			for _, e := range g {
				got, err := tx.AppendEvent(ctx, e)
				if err != nil {
					return err
				}
				out = append(out, got)
			}
			return nil
		})
	}
	return out
}

// stored returns the account's events in chain order and its head.
func stored(t *testing.T, s store.Store, account string) ([]store.Event, store.ChainHead) {
	t.Helper()
	var events []store.Event
	var head store.ChainHead
	err := s.View(t.Context(), func(tx store.Tx) error {
		var err error
		events, err = tx.Events(t.Context(), store.EventFilter{AccountID: account, Order: store.AppendOrder})
		if err != nil {
			return err
		}
		head, err = tx.ChainHead(t.Context(), account)
		return err
	})
	if err != nil {
		t.Fatalf("read %s: %v", account, err)
	}
	return events, head
}

// checkChain fails the test unless events form one chain ending at head.
func checkChain(t *testing.T, events []store.Event, head store.ChainHead) {
	t.Helper()
	var prev []byte
	for i, e := range events {
		if !chain.Valid(e) {
			t.Errorf("event %d (ID %d) does not hash to its Hash", i, e.ID)
		}
		if !bytes.Equal(e.PrevHash, prev) {
			t.Errorf("event %d (ID %d) links to %x, want %x", i, e.ID, e.PrevHash, prev)
		}
		prev = e.Hash
	}
	if n := len(events); n > 0 {
		last := events[n-1]
		if head.LastID != last.ID || !bytes.Equal(head.LastHash, last.Hash) || !head.LastTime.Equal(last.Time) {
			t.Errorf("head = %d %x %v, want the last event %d %x %v", head.LastID, head.LastHash, head.LastTime, last.ID, last.Hash, last.Time)
		}
	}
}

func TestUpdate(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Skip(t)
			t.Run("events are linked into one chain per account across transactions", func(t *testing.T) {
				s := b.Store(t)
				seed(t, s, "a", "b")
				ev := func(account string, minute int) store.Event {
					return store.Event{AccountID: account, Action: "x.y", Time: t0.Add(time.Duration(minute) * time.Minute)}
				}
				appendAll(t, t.Context(), s,
					[]store.Event{ev("a", 1), ev("b", 1), ev("a", 2)},
					[]store.Event{ev("b", 2)},
					[]store.Event{ev("a", 3), ev("a", 4), ev("b", 3)},
				)
				for _, account := range []string{"a", "b"} {
					events, head := stored(t, s, account)
					if len(events) == 0 {
						t.Fatalf("no events in %s", account)
					}
					checkChain(t, events, head)
				}
			})
			t.Run("every appended event gets a salt of its own and the commitment of its personal fields", func(t *testing.T) {
				s := b.Store(t)
				seed(t, s, "a")
				appendAll(t, t.Context(), s, []store.Event{
					{AccountID: "a", Action: "x.y", After: `{"email":"bob@example.com"}`},
					{AccountID: "a", Action: "x.y", After: `{"email":"bob@example.com"}`},
				})
				events, _ := stored(t, s, "a")
				for i, e := range events {
					if len(e.Salt) != chain.SaltSize || !bytes.Equal(e.Commitment, chain.Commit(e.Salt, e)) {
						t.Errorf("event %d: salt %x, commitment %x; want %d random bytes and the commitment of its fields", i, e.Salt, e.Commitment, chain.SaltSize)
					}
				}
				if len(events) == 2 && (bytes.Equal(events[0].Salt, events[1].Salt) || bytes.Equal(events[0].Commitment, events[1].Commitment)) {
					t.Error("two events with the same fields got the same salt or commitment")
				}
			})
			t.Run("request metadata in the context is stamped on events that lack it", func(t *testing.T) {
				s := b.Store(t)
				seed(t, s, "a")
				ctx := store.WithRequest(t.Context(), store.Request{IP: "203.0.113.9:443", UserAgent: "agent\n[forged] line", RequestID: "req-7"})
				got := appendAll(t, ctx, s, []store.Event{
					{AccountID: "a", Action: "x.y"},
					{AccountID: "a", Action: "x.y", IP: "198.51.100.1", RequestID: "own"},
				})
				want := []store.Request{
					{IP: "203.0.113.9", UserAgent: "agent\uFFFD[forged] line", RequestID: "req-7"},
					{IP: "198.51.100.1", UserAgent: "agent\uFFFD[forged] line", RequestID: "own"},
				}
				events, head := stored(t, s, "a")
				for i, e := range events {
					if r := (store.Request{IP: e.IP, UserAgent: e.UserAgent, RequestID: e.RequestID}); r != want[i] {
						t.Errorf("event %d metadata = %+v, want %+v", i, r, want[i])
					}
					if got[i].IP != e.IP || got[i].UserAgent != e.UserAgent {
						t.Errorf("AppendEvent returned metadata %q %q, stored %q %q", got[i].IP, got[i].UserAgent, e.IP, e.UserAgent)
					}
				}
				checkChain(t, events, head)
			})
			t.Run("times are UTC microseconds, now when zero, and not before the previous event within MaxClamp", func(t *testing.T) {
				s := b.Store(t)
				seed(t, s, "a")
				before := time.Now().Add(-time.Second)
				local := time.Date(2099, 1, 2, 3, 4, 5, 6789, time.FixedZone("X", 3600))
				got := appendAll(t, t.Context(), s,
					[]store.Event{{AccountID: "a", Action: "x.y"}},
					[]store.Event{{AccountID: "a", Action: "x.y", Time: local}},
					[]store.Event{{AccountID: "a", Action: "x.y", Time: local.Add(-chain.MaxClamp)}}, // skewed: moved up
					[]store.Event{{AccountID: "a", Action: "x.y", Time: t0}},                         // far earlier: kept
				)
				if got[0].Time.Before(before) || got[0].Time.Location() != time.UTC {
					t.Errorf("zero time became %v, want now in UTC", got[0].Time)
				}
				if want := local.UTC().Truncate(time.Microsecond); !got[1].Time.Equal(want) || got[1].Time.Location() != time.UTC {
					t.Errorf("time = %v, want %v", got[1].Time, want)
				}
				if !got[2].Time.Equal(got[1].Time) {
					t.Errorf("a time MaxClamp earlier became %v, want the previous event's %v", got[2].Time, got[1].Time)
				}
				if !got[3].Time.Equal(t0) {
					t.Errorf("a time decades earlier became %v, want it kept as %v", got[3].Time, t0)
				}
				events, head := stored(t, s, "a")
				checkChain(t, events, head)
			})
			t.Run("nothing is chained when the function fails", func(t *testing.T) {
				s := b.Store(t)
				seed(t, s, "a")
				first := appendAll(t, t.Context(), s, []store.Event{{AccountID: "a", Action: "x.y"}})
				boom := errors.New("boom")
				_, err := s.Update(t.Context(), chain.Update(t.Context(), func(tx store.Tx) error {
					if _, err := tx.AppendEvent(t.Context(), store.Event{AccountID: "a", Action: "x.y"}); err != nil {
						return err
					}
					return boom
				}))
				if !errors.Is(err, boom) {
					t.Fatalf("Update = %v, want boom", err)
				}
				events, head := stored(t, s, "a")
				if len(events) != 1 || head.LastID != first[0].ID {
					t.Errorf("after a failed transaction: %d events, head %d; want 1 and %d", len(events), head.LastID, first[0].ID)
				}
			})
			t.Run("bad events get the store's errors and leave no head", func(t *testing.T) {
				s := b.Store(t)
				seed(t, s, "a")
				for _, c := range []struct {
					e    store.Event
					want error
				}{
					{store.Event{AccountID: "nope", Action: "x.y"}, store.ErrNotFound},
					{store.Event{AccountID: "a"}, store.ErrInvalid},
					{store.Event{Action: "x.y"}, store.ErrInvalid},
				} {
					_, err := s.Update(t.Context(), chain.Update(t.Context(), func(tx store.Tx) error {
						_, err := tx.AppendEvent(t.Context(), c.e)
						return err
					}))
					if !errors.Is(err, c.want) {
						t.Errorf("AppendEvent(%+v) = %v, want %v", c.e, err, c.want)
					}
				}
				err := s.View(t.Context(), func(tx store.Tx) error {
					_, err := tx.ChainHead(t.Context(), "a")
					return err
				})
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("ChainHead after failed appends = %v, want ErrNotFound", err)
				}
			})
			t.Run("ChainHead and SetChainHead work on the transaction's copy", func(t *testing.T) {
				s := b.Store(t)
				seed(t, s, "a")
				update(t, t.Context(), s, func(tx store.Tx) error {
					if _, err := tx.ChainHead(t.Context(), "a"); !errors.Is(err, store.ErrNotFound) {
						t.Errorf("ChainHead before any event = %v, want ErrNotFound", err)
					}
					e, err := tx.AppendEvent(t.Context(), store.Event{AccountID: "a", Action: "x.y"})
					if err != nil {
						return err
					}
					h, err := tx.ChainHead(t.Context(), "a")
					if err != nil {
						return err
					}
					if h.LastID != e.ID || !bytes.Equal(h.LastHash, e.Hash) {
						t.Errorf("head within the transaction = %+v, want event %d", h, e.ID)
					}
					h.AnchorID, h.AnchorHash = 1, []byte("anchor")
					if err := tx.SetChainHead(t.Context(), h); err != nil {
						return err
					}
					if err := tx.SetChainHead(t.Context(), store.ChainHead{}); !errors.Is(err, store.ErrInvalid) {
						t.Errorf("SetChainHead without account = %v, want ErrInvalid", err)
					}
					if err := tx.SetChainHead(t.Context(), store.ChainHead{AccountID: "nope"}); !errors.Is(err, store.ErrNotFound) {
						t.Errorf("SetChainHead of an unknown account = %v, want ErrNotFound", err)
					}
					_, err = tx.AppendEvent(t.Context(), store.Event{AccountID: "a", Action: "x.y"})
					return err
				})
				events, head := stored(t, s, "a")
				checkChain(t, events, head)
				if head.AnchorID != 1 || string(head.AnchorHash) != "anchor" {
					t.Errorf("stored head anchor = %d %q, want 1 \"anchor\"", head.AnchorID, head.AnchorHash)
				}
			})
			t.Run("concurrent writers to one account keep one chain in ID order", func(t *testing.T) {
				s := b.Store(t)
				seed(t, s, "a", "b")
				const writers, each = 8, 10
				var wg sync.WaitGroup
				errs := make(chan error, writers)
				for w := range writers {
					wg.Go(func() {
						for i := range each {
							account := []string{"a", "b"}[(w+i)%2]
							_, err := s.Update(t.Context(), chain.Update(t.Context(), func(tx store.Tx) error {
								_, err := tx.AppendEvent(t.Context(), store.Event{AccountID: account, Action: "x.y", Actor: fmt.Sprint(w)})
								return err
							}))
							if err != nil {
								errs <- err
								return
							}
						}
					})
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Fatal(err)
				}
				total := 0
				for _, account := range []string{"a", "b"} {
					events, head := stored(t, s, account)
					checkChain(t, events, head)
					total += len(events)
				}
				if total != writers*each {
					t.Errorf("%d events stored, want %d", total, writers*each)
				}
			})
		})
	}
}

// committed returns sample() as AppendEvent makes it: salted, committed to
// its personal fields and hashed over the commitment (v2).
func committed() store.Event {
	e := sample()
	e.PrevHash = []byte("p")
	e.Salt = bytes.Repeat([]byte{7}, chain.SaltSize)
	e.Commitment = chain.Commit(e.Salt, e)
	e.Hash = chain.Hash(e.PrevHash, e)
	return e
}

func TestCommitment(t *testing.T) {
	t.Run("the v2 hash covers the commitment in place of the personal fields", func(t *testing.T) {
		e := committed()
		var buf []byte
		field := func(b []byte) {
			buf = binary.BigEndian.AppendUint64(buf, uint64(len(b)))
			buf = append(buf, b...)
		}
		field([]byte("roster audit chain v2"))
		field([]byte("p"))
		field([]byte(e.AccountID))
		field(binary.BigEndian.AppendUint64(nil, uint64(e.Time.UnixMicro())))
		for _, s := range []string{e.Actor, string(e.Action), e.ResourceType, e.ResourceID, string(e.Result),
			string(e.Commitment), e.RequestID} {
			field([]byte(s))
		}
		want := sha256.Sum256(buf)
		if got := chain.Hash([]byte("p"), e); !bytes.Equal(got, want[:]) {
			t.Errorf("Hash = %x, want %x", got, want)
		}
		buf = nil
		field([]byte("roster audit commitment v2"))
		field(e.Salt)
		for _, s := range []string{e.Before, e.After, e.Reason, e.IP, e.UserAgent} {
			field([]byte(s))
		}
		if want := sha256.Sum256(buf); !bytes.Equal(e.Commitment, want[:]) {
			t.Errorf("Commit = %x, want %x", e.Commitment, want)
		}
	})
	t.Run("every personal field and the salt change the commitment", func(t *testing.T) {
		base := committed()
		for name, edit := range map[string]func(*store.Event){
			"before":     func(e *store.Event) { e.Before += " " },
			"after":      func(e *store.Event) { e.After += " " },
			"reason":     func(e *store.Event) { e.Reason += "x" },
			"ip":         func(e *store.Event) { e.IP += "x" },
			"user agent": func(e *store.Event) { e.UserAgent += "x" },
			"salt":       func(e *store.Event) { e.Salt = bytes.Repeat([]byte{8}, chain.SaltSize) },
		} {
			e := base
			edit(&e)
			if bytes.Equal(base.Commitment, chain.Commit(e.Salt, e)) {
				t.Errorf("changing the %s does not change the commitment", name)
			}
		}
	})
	t.Run("an event is erasable once: with its commitment and its salt", func(t *testing.T) {
		e := committed()
		erased := e
		erased.Salt = nil
		v1 := e
		v1.Commitment, v1.Salt = nil, nil
		stray := v1 // a salt without a commitment: a v1 event, whatever the salt
		stray.Salt = e.Salt
		for _, tc := range []struct {
			name               string
			e                  store.Event
			erasable, isErased bool
		}{
			{"committed", e, true, false},
			{"erased", erased, false, true},
			{"v1", v1, false, false},
			{"v1 with a stray salt", stray, false, false},
		} {
			if chain.Erasable(tc.e) != tc.erasable || chain.Erased(tc.e) != tc.isErased {
				t.Errorf("%s: Erasable %v, Erased %v; want %v, %v", tc.name, chain.Erasable(tc.e), chain.Erased(tc.e), tc.erasable, tc.isErased)
			}
		}
		stray.Hash = chain.Hash(stray.PrevHash, stray)
		if !chain.Valid(stray) {
			t.Error("a v1 event with a stray salt is not valid: the salt of an event without a commitment is not checked")
		}
	})
	t.Run("Valid checks the personal fields against the commitment while the salt is there", func(t *testing.T) {
		e := committed()
		if !chain.Valid(e) || !chain.Erasable(e) || chain.Erased(e) {
			t.Fatalf("a committed event: Valid %v, Erasable %v, Erased %v; want true, true, false", chain.Valid(e), chain.Erasable(e), chain.Erased(e))
		}
		edited := e
		edited.IP = "198.51.100.1"
		recommitted := e // the commitment recomputed, the hash not
		recommitted.Reason = "other"
		recommitted.Commitment = chain.Commit(e.Salt, recommitted)
		for name, bad := range map[string]store.Event{"with an edited IP": edited, "with a new commitment": recommitted} {
			if chain.Valid(bad) {
				t.Errorf("Valid accepts an event %s", name)
			}
		}
	})
	t.Run("an erased event stays valid on its commitment, and its other fields stay covered", func(t *testing.T) {
		e := committed()
		e.Before, e.After, e.Reason, e.IP, e.UserAgent, e.Salt = `{"role":"[erased]"}`, "", "", "", "", nil
		if !chain.Valid(e) || !chain.Erased(e) || chain.Erasable(e) {
			t.Fatalf("an erased event: Valid %v, Erased %v, Erasable %v; want true, true, false", chain.Valid(e), chain.Erased(e), chain.Erasable(e))
		}
		actor := e
		actor.Actor = "mallory"
		commitment := e
		commitment.Commitment = bytes.Repeat([]byte{1}, sha256.Size)
		for name, bad := range map[string]store.Event{"with another actor": actor, "with another commitment": commitment} {
			if chain.Valid(bad) {
				t.Errorf("Valid accepts an erased event %s", name)
			}
		}
	})
	t.Run("an event without a commitment is hashed as v1 and cannot be erased", func(t *testing.T) {
		e := sample()
		e.Hash = chain.Hash(nil, e)
		if !chain.Valid(e) || chain.Erasable(e) || chain.Erased(e) {
			t.Errorf("a v1 event: Valid %v, Erasable %v, Erased %v; want true, false, false", chain.Valid(e), chain.Erasable(e), chain.Erased(e))
		}
		e.IP = ""
		if chain.Valid(e) {
			t.Error("Valid accepts a v1 event whose IP was emptied")
		}
	})
}

// lockCounter is a store.Tx that counts the accounts it locks.
type lockCounter struct {
	store.Tx
	locks map[string]int
}

func (c *lockCounter) LockAccount(ctx context.Context, id string) (store.Account, error) {
	c.locks[id]++
	return c.Tx.LockAccount(ctx, id)
}

func TestLocksOnce(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.Skip(t)
			s := b.Store(t)
			seed(t, s, "a", "b")
			ctx := t.Context()
			c := &lockCounter{locks: map[string]int{}}
			_, err := s.Update(ctx, func(tx store.Tx) error {
				c.Tx = tx
				ct := chain.Wrap(c)
				if _, err := ct.LockAccount(ctx, "a"); err != nil {
					return err
				}
				for _, account := range []string{"a", "b", "a", "b"} {
					if _, err := ct.AppendEvent(ctx, store.Event{AccountID: account, Action: "x.y"}); err != nil {
						return err
					}
				}
				return ct.Flush(ctx)
			})
			if err != nil {
				t.Fatal(err)
			}
			// a was locked by the caller, b by its first event; neither again.
			if c.locks["a"] != 1 || c.locks["b"] != 1 {
				t.Errorf("locks taken: %v, want each account locked once", c.locks)
			}
			for _, account := range []string{"a", "b"} {
				events, head := stored(t, s, account)
				checkChain(t, events, head)
			}
		})
	}
}

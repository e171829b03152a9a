// Package chain links each account's audit events into a hash chain and
// stamps them with the request metadata of their context. It works above
// any store.Store: roster runs every Update of its services through Update,
// so the chain and the metadata are computed in this one place, whichever
// Store keeps the events. The audit package recomputes hashes with Hash to
// verify a chain.
//
// An event's personal fields (Before, After, Reason, IP, UserAgent) are
// not hashed into the chain themselves but through a commitment, a hash of
// them under a random salt kept with the event (Commit). Erasing a user's
// data rewrites those fields and deletes the salt: the commitment, and so
// every hash of the chain, stays as it was, and nothing is left from which
// the erased values could be guessed and checked. Events appended before
// commitments existed (v1) hash the fields themselves and cannot be
// erased without breaking the chain.
package chain

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"time"

	"github.com/teamroster/roster/store"
)

// The tags that start every hashed encoding, so that no encoding can
// produce the same input as another: v1 hashes an event's fields
// themselves; v2 hashes a commitment to its personal fields instead, and
// commitment starts the commitment's own encoding.
const (
	versionV1  = "roster audit chain v1"
	versionV2  = "roster audit chain v2"
	commitment = "roster audit commitment v2"
)

// SaltSize is the length in bytes of an event's random salt.
const SaltSize = 16

// Hash returns the hash of e linked to prev, the hash of the account's
// previous event (nil for the first): SHA-256 over a canonical encoding in
// which every field is length-prefixed, so that no two different events
// encode alike. It covers prev, the account, the time (in microseconds
// since the Unix epoch, UTC), actor, action, resource type and ID, result
// and request ID, and the personal fields (see Commit): for an event with a
// Commitment (v2) the commitment, for one without (v1, appended before
// commitments existed) reason, before and after values, IP and user agent
// themselves. It does not cover the ID the store assigns, nor e.PrevHash,
// e.Hash and e.Salt.
func Hash(prev []byte, e store.Event) []byte {
	h := sha256.New()
	field := writer(h)
	v2 := len(e.Commitment) > 0
	if v2 {
		field([]byte(versionV2))
	} else {
		field([]byte(versionV1))
	}
	field(prev)
	field([]byte(e.AccountID))
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], uint64(e.Time.UnixMicro()))
	field(ts[:])
	fields := []string{e.Actor, string(e.Action), e.ResourceType, e.ResourceID, string(e.Result)}
	if v2 {
		fields = append(fields, string(e.Commitment), e.RequestID)
	} else {
		fields = append(fields, e.Reason, e.Before, e.After, e.IP, e.UserAgent, e.RequestID)
	}
	for _, s := range fields {
		field([]byte(s))
	}
	return h.Sum(nil)
}

// Commit returns the commitment of e's personal fields under salt: SHA-256
// over salt and e's Before, After, Reason, IP and UserAgent, encoded as
// Hash encodes. These are the fields Tx.EraseEvent rewrites: once an
// event's salt is deleted, nobody can tell from its commitment what they
// held.
func Commit(salt []byte, e store.Event) []byte {
	h := sha256.New()
	field := writer(h)
	field([]byte(commitment))
	field(salt)
	for _, s := range []string{e.Before, e.After, e.Reason, e.IP, e.UserAgent} {
		field([]byte(s))
	}
	return h.Sum(nil)
}

// writer returns a function that writes b to h length-prefixed.
func writer(h hash.Hash) func(b []byte) {
	var n [8]byte
	return func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
}

// Valid reports whether e's Hash is the hash of its content linked to its
// own PrevHash and, for an event with a Commitment and a Salt, whether the
// commitment is that of its personal fields. An erased event (see Erased)
// is valid if its Hash is right: its personal fields are no longer
// covered.
func Valid(e store.Event) bool {
	if len(e.Commitment) > 0 && len(e.Salt) > 0 && !bytes.Equal(e.Commitment, Commit(e.Salt, e)) {
		return false
	}
	return len(e.Hash) == sha256.Size && bytes.Equal(e.Hash, Hash(e.PrevHash, e))
}

// Erasable reports whether e's personal fields can be erased without
// breaking the chain: it has a Commitment and still its Salt. Events
// appended before commitments existed cannot.
func Erasable(e store.Event) bool { return len(e.Commitment) > 0 && len(e.Salt) > 0 }

// Erased reports whether e's personal fields were erased: it has a
// Commitment but no Salt.
func Erased(e store.Event) bool { return len(e.Commitment) > 0 && len(e.Salt) == 0 }

// Update returns fn wrapped for store.Store.Update: fn's transaction is a
// *Tx, and the chain heads it changed are written when fn returns nil.
func Update(ctx context.Context, fn func(store.Tx) error) func(store.Tx) error {
	return func(tx store.Tx) error {
		ct := Wrap(tx)
		if err := fn(ct); err != nil {
			return err
		}
		return ct.Flush(ctx)
	}
}

// Wrap returns a Tx that chains the events appended through tx. Call Flush
// once the transaction's changes are made, before its function returns.
func Wrap(tx store.Tx) *Tx { return &Tx{Tx: tx, heads: map[string]*head{}} }

// Tx is a store.Tx whose AppendEvent chains events. Before the first event
// of an account in the transaction it locks the account (so that each
// account's chain grows one transaction at a time, and its event IDs follow
// the chain) and reads the account's chain head; it keeps the head in
// memory for the rest of the transaction and writes it when the function
// passed to Update returns nil. ChainHead and SetChainHead read and change
// that copy. A transaction that appends to several accounts locks them in
// the order of its first append to each (an account the transaction locked
// through the Tx's LockAccount before is not locked again); two transactions that do so in
// opposite orders can deadlock, which PostgreSQL breaks by failing one with
// store.ErrConflict (roster's services append to one account per
// transaction). A Tx is used by one goroutine, as any store.Tx.
type Tx struct {
	store.Tx
	heads  map[string]*head
	order  []string        // accounts in the order their heads were loaded
	locked map[string]bool // accounts LockAccount locked, nil until one is
}

// LockAccount locks the account as the underlying Tx does and remembers
// that it did, so that the account's first event does not lock it again.
// It returns the underlying Tx's errors.
func (t *Tx) LockAccount(ctx context.Context, id string) (store.Account, error) {
	a, err := t.Tx.LockAccount(ctx, id)
	if err == nil {
		if t.locked == nil {
			t.locked = map[string]bool{}
		}
		t.locked[id] = true
	}
	return a, err
}

type head struct {
	h      store.ChainHead
	stored bool // a head row exists or will be written
	dirty  bool
}

// load returns the account's head, locking the account and reading the
// head the first time. It returns store.ErrNotFound if there is no such
// account.
func (t *Tx) load(ctx context.Context, accountID string) (*head, error) {
	if hd, ok := t.heads[accountID]; ok {
		return hd, nil
	}
	if !t.locked[accountID] {
		if _, err := t.LockAccount(ctx, accountID); err != nil {
			return nil, err
		}
	}
	h, err := t.Tx.ChainHead(ctx, accountID)
	stored := err == nil
	if errors.Is(err, store.ErrNotFound) {
		h, err = store.ChainHead{AccountID: accountID}, nil
	}
	if err != nil {
		return nil, err
	}
	hd := &head{h: h, stored: stored}
	t.heads[accountID] = hd
	t.order = append(t.order, accountID)
	return hd, nil
}

// MaxClamp is how far AppendEvent moves an event's time forward to keep it
// from going before the account's previous event: the clock skew between
// application servers it absorbs. An event more than MaxClamp older than
// its predecessor keeps its own time, so that one wrong clock cannot pin
// every later event of the account to a time in the future.
const MaxClamp = 5 * time.Minute

// AppendEvent stamps e with the request metadata of ctx (store.RequestFrom)
// in the fields e leaves empty, sets a zero Time to now, keeps Time in UTC
// to the microsecond and not before the account's previous event (moving it
// forward by at most MaxClamp), gives it a random Salt and the Commitment
// of its personal fields (Commit), links it to that event with PrevHash and
// Hash, and appends it. So within an account, time order is chain order,
// unless clocks disagree by more than MaxClamp. It returns the errors of
// the underlying Tx's LockAccount, ChainHead and AppendEvent.
func (t *Tx) AppendEvent(ctx context.Context, e store.Event) (store.Event, error) {
	if e.AccountID == "" || e.Action == "" {
		return t.Tx.AppendEvent(ctx, e) // the Store reports the invalid event
	}
	hd, err := t.load(ctx, e.AccountID)
	if err != nil {
		return store.Event{}, fmt.Errorf("append %s to %s: %w", e.Action, e.AccountID, err)
	}
	req := store.RequestFrom(ctx)
	if e.IP == "" {
		e.IP = req.IP
	}
	if e.UserAgent == "" {
		e.UserAgent = req.UserAgent
	}
	if e.RequestID == "" {
		e.RequestID = req.RequestID
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	if e.Time.Before(hd.h.LastTime) && hd.h.LastTime.Sub(e.Time) <= MaxClamp {
		e.Time = hd.h.LastTime
	}
	e.PrevHash = bytes.Clone(hd.h.LastHash)
	e.Salt = make([]byte, SaltSize)
	rand.Read(e.Salt) // never returns an error
	e.Commitment = Commit(e.Salt, e)
	e.Hash = Hash(e.PrevHash, e)
	out, err := t.Tx.AppendEvent(ctx, e)
	if err != nil {
		return store.Event{}, err
	}
	hd.h.LastID, hd.h.LastHash, hd.h.LastTime = out.ID, e.Hash, e.Time
	hd.stored, hd.dirty = true, true
	return out, nil
}

// ChainHead returns the transaction's copy of the account's chain head,
// locking the account when it reads it first. It returns store.ErrNotFound
// if the account has no head (or does not exist).
func (t *Tx) ChainHead(ctx context.Context, accountID string) (store.ChainHead, error) {
	hd, err := t.load(ctx, accountID)
	if err != nil {
		return store.ChainHead{}, err
	}
	if !hd.stored {
		return store.ChainHead{}, fmt.Errorf("head of %s: %w", accountID, store.ErrNotFound)
	}
	return hd.h, nil
}

// SetChainHead replaces the transaction's copy of the account's chain head;
// it is written when the transaction's function returns. It returns
// store.ErrInvalid if h.AccountID is empty and store.ErrNotFound if there
// is no such account.
func (t *Tx) SetChainHead(ctx context.Context, h store.ChainHead) error {
	if h.AccountID == "" {
		return fmt.Errorf("set head: %w: empty account ID", store.ErrInvalid)
	}
	hd, err := t.load(ctx, h.AccountID)
	if err != nil {
		return err
	}
	hd.h, hd.stored, hd.dirty = h, true, true
	return nil
}

// Flush writes the chain heads that changed. It returns the errors of the
// underlying Tx's SetChainHead.
func (t *Tx) Flush(ctx context.Context) error {
	for _, id := range t.order {
		if hd := t.heads[id]; hd.dirty {
			if err := t.Tx.SetChainHead(ctx, hd.h); err != nil {
				return fmt.Errorf("write head of %s: %w", id, err)
			}
		}
	}
	return nil
}

package rostertest

import (
	"context"
	"fmt"
	"sync"

	"github.com/teamroster/roster/store"
)

// ErrFault is the failure a FaultStore injects: a database failure
// (store.ErrBackend), as a real one would be.
var ErrFault = store.Kinded(store.ErrBackend, "rostertest: injected write failure")

// FaultStore is a Store whose write transactions fail the nth call of a Tx
// write method counted from when it is armed (or, armed with a cancel
// function, call it just before that write), for the fault-injection
// tests: a call that fails must leave everything as it was. It is safe for
// concurrent use; the count runs across all transactions.
type FaultStore struct {
	store.Store
	mu     sync.Mutex
	armed  bool
	n      int // the write to fail, counting from 1
	writes int // writes seen since armed
	fired  bool
	cancel context.CancelFunc // set: cancel instead of failing
}

// Arm makes the nth write from now fail with ErrFault; with cancel, makes
// it run after cancel is called instead.
func (f *FaultStore) Arm(n int, cancel context.CancelFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed, f.n, f.writes, f.fired, f.cancel = true, n, 0, false, cancel
}

// Disarm stops injecting and reports whether the fault fired since the
// last Arm; a second Disarm reports false.
func (f *FaultStore) Disarm() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	fired := f.fired
	f.armed, f.fired = false, false
	return fired
}

// write counts one write method call and returns the error to inject, if
// this is the one.
func (f *FaultStore) write() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.armed {
		return nil
	}
	f.writes++
	if f.writes != f.n {
		return nil
	}
	f.fired = true
	if f.cancel != nil {
		f.cancel()
		return nil
	}
	return ErrFault
}

// Update runs fn in a write transaction of the wrapped Store whose write
// methods count towards the armed fault. It returns the wrapped Store's
// results, and fn's error (ErrFault for an injected failure).
func (f *FaultStore) Update(ctx context.Context, fn func(store.Tx) error) (store.Commit, error) {
	return TxStore{Store: f.Store, Wrap: func(tx store.Tx) store.Tx { return &faultTx{Tx: tx, f: f} }}.Update(ctx, fn)
}

// faultTx passes every call to the real Tx, counting the writes.
type faultTx struct {
	store.Tx
	f *FaultStore
}

func (t *faultTx) CreateUser(ctx context.Context, u store.User) error {
	if err := t.f.write(); err != nil {
		return err
	}
	return t.Tx.CreateUser(ctx, u)
}

func (t *faultTx) UpdateUser(ctx context.Context, u store.User) error {
	if err := t.f.write(); err != nil {
		return err
	}
	return t.Tx.UpdateUser(ctx, u)
}

func (t *faultTx) CreateAccount(ctx context.Context, a store.Account) error {
	if err := t.f.write(); err != nil {
		return err
	}
	return t.Tx.CreateAccount(ctx, a)
}

func (t *faultTx) UpdateAccount(ctx context.Context, a store.Account) error {
	if err := t.f.write(); err != nil {
		return err
	}
	return t.Tx.UpdateAccount(ctx, a)
}

func (t *faultTx) CreateMember(ctx context.Context, m store.Member) error {
	if err := t.f.write(); err != nil {
		return err
	}
	return t.Tx.CreateMember(ctx, m)
}

func (t *faultTx) UpdateMember(ctx context.Context, m store.Member) error {
	if err := t.f.write(); err != nil {
		return err
	}
	return t.Tx.UpdateMember(ctx, m)
}

func (t *faultTx) DeleteMember(ctx context.Context, accountID, userID string) error {
	if err := t.f.write(); err != nil {
		return err
	}
	return t.Tx.DeleteMember(ctx, accountID, userID)
}

func (t *faultTx) PutTeamRole(ctx context.Context, r store.TeamRole) error {
	if err := t.f.write(); err != nil {
		return err
	}
	return t.Tx.PutTeamRole(ctx, r)
}

func (t *faultTx) DeleteTeamRole(ctx context.Context, accountID, name string) error {
	if err := t.f.write(); err != nil {
		return err
	}
	return t.Tx.DeleteTeamRole(ctx, accountID, name)
}

func (t *faultTx) CreateInvite(ctx context.Context, inv store.Invite) error {
	if err := t.f.write(); err != nil {
		return err
	}
	return t.Tx.CreateInvite(ctx, inv)
}

func (t *faultTx) UpdateInvite(ctx context.Context, inv store.Invite) error {
	if err := t.f.write(); err != nil {
		return err
	}
	return t.Tx.UpdateInvite(ctx, inv)
}

func (t *faultTx) CreateInviteUse(ctx context.Context, u store.InviteUse) error {
	if err := t.f.write(); err != nil {
		return err
	}
	return t.Tx.CreateInviteUse(ctx, u)
}

func (t *faultTx) CreateTransfer(ctx context.Context, tr store.Transfer) error {
	if err := t.f.write(); err != nil {
		return err
	}
	return t.Tx.CreateTransfer(ctx, tr)
}

func (t *faultTx) UpdateTransfer(ctx context.Context, tr store.Transfer) error {
	if err := t.f.write(); err != nil {
		return err
	}
	return t.Tx.UpdateTransfer(ctx, tr)
}

func (t *faultTx) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	if err := t.f.write(); err != nil {
		return err
	}
	return t.Tx.CreateAPIKey(ctx, k)
}

func (t *faultTx) UpdateAPIKey(ctx context.Context, k store.APIKey) error {
	if err := t.f.write(); err != nil {
		return err
	}
	return t.Tx.UpdateAPIKey(ctx, k)
}

func (t *faultTx) TouchAPIKeys(ctx context.Context, uses []store.APIKeyUse) error {
	if err := t.f.write(); err != nil {
		return err
	}
	return t.Tx.TouchAPIKeys(ctx, uses)
}

func (t *faultTx) CreateDomain(ctx context.Context, d store.Domain) error {
	if err := t.f.write(); err != nil {
		return err
	}
	return t.Tx.CreateDomain(ctx, d)
}

func (t *faultTx) UpdateDomain(ctx context.Context, d store.Domain) error {
	if err := t.f.write(); err != nil {
		return err
	}
	return t.Tx.UpdateDomain(ctx, d)
}

func (t *faultTx) DeleteDomain(ctx context.Context, name, accountID string) error {
	if err := t.f.write(); err != nil {
		return err
	}
	return t.Tx.DeleteDomain(ctx, name, accountID)
}

func (t *faultTx) AppendEvent(ctx context.Context, e store.Event) (store.Event, error) {
	if err := t.f.write(); err != nil {
		return store.Event{}, err
	}
	return t.Tx.AppendEvent(ctx, e)
}

func (t *faultTx) DeleteEvents(ctx context.Context, accountID string, throughID int64) (int64, error) {
	if err := t.f.write(); err != nil {
		return 0, err
	}
	return t.Tx.DeleteEvents(ctx, accountID, throughID)
}

func (t *faultTx) SetChainHead(ctx context.Context, h store.ChainHead) error {
	if err := t.f.write(); err != nil {
		return err
	}
	return t.Tx.SetChainHead(ctx, h)
}

// SnapshotAccounts reads through to the wrapped Store, so that a Roster with
// a memory budget (roster.WithMemoryBudget) runs on a FaultStore; it injects
// no fault. It returns an error wrapping store.ErrInvalid if the wrapped
// Store is not a store.AccountReader.
func (f *FaultStore) SnapshotAccounts(ctx context.Context, accounts []string, fn func(store.SnapshotItem) error) (store.Revision, error) {
	r, ok := f.Store.(store.AccountReader)
	if !ok {
		return 0, fmt.Errorf("%w: the wrapped store reads no single accounts", store.ErrInvalid)
	}
	return r.SnapshotAccounts(ctx, accounts, fn)
}

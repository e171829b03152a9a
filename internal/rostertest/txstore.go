package rostertest

import (
	"context"

	"github.com/teamroster/roster/store"
)

// TxStore is a Store whose write transactions hand their function the Tx
// that Wrap makes of the real one, for tests that watch or steer what a
// call does inside its transaction: a write made to fail, a read held at a
// barrier, another connection's change committed between two statements.
// Everything else passes through to the wrapped Store. It is safe for
// concurrent use if Wrap and the Tx it makes are.
type TxStore struct {
	store.Store
	Wrap func(store.Tx) store.Tx
}

// Update runs fn in a write transaction of the wrapped Store, on the Tx
// Wrap makes of it, and returns the wrapped Store's results.
func (s TxStore) Update(ctx context.Context, fn func(store.Tx) error) (store.Commit, error) {
	return s.Store.Update(ctx, func(tx store.Tx) error { return fn(s.Wrap(tx)) })
}

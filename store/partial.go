package store

import "context"

// AccountReader is implemented by a Store that reads part of a snapshot:
// the records of the accounts asked for, so that an in-memory view can hold
// only the accounts it is asked about and load a missing one in one read
// (see roster.WithMemoryBudget). A Store need not implement it: a view of a
// Store that does not holds every account.
type AccountReader interface {
	// SnapshotAccounts calls fn for each of the items Snapshot would
	// deliver that belong to the given accounts: every one of them that
	// exists, its team roles, its memberships and its live API keys, all
	// read from one consistent snapshot, in no particular order, and
	// returns the Revision that snapshot reflects. Like Snapshot it sets
	// SignIn for every membership of an account that requires secure
	// sign-in, and may leave it empty for the others. An account that does
	// not exist, or an ID given twice, adds nothing; with no accounts it
	// delivers nothing and returns the store's revision. If fn returns an error
	// SnapshotAccounts stops and returns it. It returns ErrClosed after
	// Close and ErrBackend on database failure.
	SnapshotAccounts(ctx context.Context, accounts []string, fn func(SnapshotItem) error) (Revision, error)
}

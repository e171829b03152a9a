package teams

import (
	"context"
	"errors"
	"fmt"

	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/store"
)

// Keeping roster's users in step with the host application's.
//
// The host owns its users: roster keeps each one's ID, email, name and
// sign-in method, for the members table, email invites and secure sign-in.
// A host calls UpsertUser from its sign-in callback (or after a profile
// change), UpdateUser where the user must exist already, and ImportUsers
// once to bring in an existing users table. Profile changes are not audit
// events: the host's own records are the source of them.

// UpsertUser makes roster's copy of the user equal to u: it creates the user
// with their personal account, as CreateUser does, if u.ID is new, and
// otherwise updates their email, name and sign-in method, if any differ.
// It is idempotent, for sign-in callbacks: calling it again with the same u
// writes nothing. It returns the stored user and whether it was created, or
// an error wrapping store.ErrInvalid (as CreateUser). It is safe for
// concurrent use: of concurrent calls for a new user, one creates it and
// the others update it.
func (s *Service) UpsertUser(ctx context.Context, u store.User) (store.User, bool, error) {
	var (
		out     store.User
		created bool
	)
	once := func() error {
		_, err := s.door.Update(ctx, txn.Call{Actor: u.ID, Need: txn.Anyone}, func(c *txn.Change) error {
			var (
				what upserted
				err  error
			)
			out, what, err = s.upsert(ctx, c, u)
			created = what == userCreated
			return err
		})
		return err
	}
	err := s.validUser(u)
	if err == nil {
		err = once()
		if errors.Is(err, store.ErrExists) {
			err = once() // a concurrent call created the user first: update it
		}
	}
	if err != nil {
		return store.User{}, false, fmt.Errorf("upsert user %q: %w", u.ID, err)
	}
	return out, created, nil
}

// upserted says what upsert did.
type upserted uint8

const (
	userUnchanged upserted = iota
	userCreated
	userUpdated
)

// upsert creates or updates the valid user u in the call's transaction and
// returns them as stored and what it did.
func (s *Service) upsert(ctx context.Context, c *txn.Change, u store.User) (store.User, upserted, error) {
	old, err := c.Tx.User(ctx, u.ID)
	if errors.Is(err, store.ErrNotFound) {
		acct, err := s.createUser(ctx, c, u)
		u.ActiveAccount, u.CreatedAt = acct.ID, acct.CreatedAt
		return u, userCreated, err
	} else if err != nil {
		return store.User{}, 0, err
	}
	if old.Email == u.Email && old.Name == u.Name && old.SignIn == u.SignIn {
		return old, userUnchanged, nil
	}
	old.Email, old.Name, old.SignIn = u.Email, u.Name, u.SignIn
	return old, userUpdated, c.Tx.UpdateUser(ctx, old)
}

// UpdateUser replaces the email, name and sign-in method of the existing
// user u.ID by u's (ActiveAccount and CreatedAt are kept). A new sign-in
// method takes effect at once: in a team that requires secure sign-in, a
// member who moves to an insecure one loses access there, and one who moves
// to a secure one regains it. It returns the stored user, or an error
// wrapping store.ErrInvalid (as CreateUser) or store.ErrNotFound. It is
// safe for concurrent use.
func (s *Service) UpdateUser(ctx context.Context, u store.User) (store.User, error) {
	var out store.User
	err := s.validUser(u)
	if err == nil {
		_, err = s.door.Update(ctx, txn.Call{Actor: u.ID, Need: txn.Anyone}, func(c *txn.Change) error {
			if _, err := c.Tx.User(ctx, u.ID); err != nil {
				return err
			}
			var err error
			out, _, err = s.upsert(ctx, c, u)
			return err
		})
	}
	if err != nil {
		return store.User{}, fmt.Errorf("update user %q: %w", u.ID, err)
	}
	return out, nil
}

// UsersByEmail returns the users whose email is addr, compared
// case-insensitively, ordered by ID: none, one, or several where the host
// lets addresses repeat. It returns an error wrapping store.ErrInvalid for
// a malformed address. It is safe for concurrent use.
func (s *Service) UsersByEmail(ctx context.Context, addr string) ([]store.User, error) {
	var out []store.User
	err := store.ValidateEmail(addr)
	if err == nil {
		err = s.door.View(ctx, txn.Call{Need: txn.Anyone}, func(c *txn.Change) (err error) {
			out, err = c.Tx.UsersByEmail(ctx, []string{addr})
			return err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("users by email: %w", err)
	}
	return out, nil
}

// Limits of ImportUsers.
const (
	// DefaultImportBatch is how many users ImportUsers writes per
	// transaction unless ImportBatch says otherwise.
	DefaultImportBatch = 1000
	// MaxImportBatch is the largest batch ImportBatch accepts.
	MaxImportBatch = 10000
)

// ImportOption configures ImportUsers.
type ImportOption func(*importConfig)

type importConfig struct {
	batch    int
	progress func(ImportResult)
}

// ImportBatch sets how many users ImportUsers writes per transaction: 1 to
// MaxImportBatch (DefaultImportBatch by default).
func ImportBatch(n int) ImportOption { return func(c *importConfig) { c.batch = n } }

// ImportProgress sets a function ImportUsers calls after each committed
// batch with the counts so far, from the calling goroutine.
func ImportProgress(fn func(ImportResult)) ImportOption {
	return func(c *importConfig) { c.progress = fn }
}

// ImportResult counts what ImportUsers did.
type ImportResult struct {
	// Total is the number of users given.
	Total int
	// Done is the number of users in committed batches: Created +
	// Updated + Unchanged.
	Done int
	// Created, Updated and Unchanged count the users of committed batches
	// that were new, that changed, and that were already equal.
	Created, Updated, Unchanged int
}

// ImportError reports the row that stopped ImportUsers: the batch holding
// it wrote nothing, the batches before it stay committed.
type ImportError struct {
	// Row is the user's index in the slice given to ImportUsers.
	Row int
	// UserID is the ID of the user in that row.
	UserID string
	// Err says why; it wraps one of the kinds of package store.
	Err error
}

// Error implements error.
func (e *ImportError) Error() string {
	return fmt.Sprintf("row %d (user %q): %v", e.Row, e.UserID, e.Err)
}

// Unwrap returns Err.
func (e *ImportError) Unwrap() error { return e.Err }

// ImportUsers brings an existing users table into roster: it upserts each
// user as UpsertUser does (new users get their personal account), in
// batches of one transaction each, and reports progress after each batch
// (ImportProgress). A batch is all or nothing: every user in it is
// checked before it is written, and a refused row stops the import with an
// *ImportError naming the row and why, its batch writing nothing and the
// batches before it staying committed, so calling ImportUsers again with
// the same users finishes the job. A user ID given twice is refused. It
// returns the counts of the committed batches and nil, an *ImportError
// (wrapping store.ErrInvalid, store.ErrExists or the store's errors), or an
// error wrapping store.ErrInvalid for a bad option. It is safe for
// concurrent use.
func (s *Service) ImportUsers(ctx context.Context, users []store.User, opts ...ImportOption) (ImportResult, error) {
	c := importConfig{batch: DefaultImportBatch}
	for _, o := range opts {
		o(&c)
	}
	res := ImportResult{Total: len(users)}
	if c.batch < 1 || c.batch > MaxImportBatch {
		return res, fmt.Errorf("import users: %w: batch size %d is outside 1..%d", store.ErrInvalid, c.batch, MaxImportBatch)
	}
	seen := make(map[string]int, len(users))
	for i, u := range users {
		err := s.validUser(u)
		if j, ok := seen[u.ID]; ok && err == nil {
			err = fmt.Errorf("%w: user ID also in row %d", store.ErrInvalid, j)
		}
		if err != nil {
			return res, fmt.Errorf("import users: %w", &ImportError{Row: i, UserID: u.ID, Err: err})
		}
		seen[u.ID] = i
	}
	for start := 0; start < len(users); start += c.batch {
		batch := users[start:min(start+c.batch, len(users))]
		var counts [3]int // by upserted
		row := start      // the row being written when the batch failed
		_, err := s.door.Update(ctx, txn.Call{Need: txn.Anyone}, func(x *txn.Change) error {
			counts = [3]int{}
			for i, u := range batch {
				row = start + i
				_, what, err := s.upsert(ctx, x, u)
				if err != nil {
					return err
				}
				counts[what]++
			}
			return nil
		})
		if err != nil {
			return res, fmt.Errorf("import users: %w", &ImportError{Row: row, UserID: users[row].ID, Err: err})
		}
		res.Created += counts[userCreated]
		res.Updated += counts[userUpdated]
		res.Unchanged += counts[userUnchanged]
		res.Done += len(batch)
		if c.progress != nil {
			c.progress(res)
		}
	}
	return res, nil
}

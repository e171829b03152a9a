package store

import (
	"cmp"
	"fmt"
	"strings"
	"time"
)

// Sizes of a page of the lists roster's services return a page at a time
// (the members table, the account selector, invites, transfers and the
// audit log).
const (
	DefaultPageSize = 50   // rows per page when a page's size is 0
	MaxPageSize     = 1000 // the largest page size a service accepts
)

// MaxCursorLen is the longest cursor, in bytes, a service accepts; a longer
// one is malformed.
const MaxCursorLen = 512

// Page asks a service for one page of a list: at most Size rows (0 means
// DefaultPageSize), continuing after Cursor, the next cursor the previous
// page of the same list returned ("" for the first page). A cursor is
// opaque and URL-safe; it belongs to the list and the account (or user)
// that returned it, and a service refuses it anywhere else.
type Page struct {
	Size   int
	Cursor string
}

// Validate returns an error wrapping ErrInvalid if Size is outside 0 to
// MaxPageSize or Cursor is longer than MaxCursorLen; nil otherwise. It does
// not decode the cursor: the service that made it does.
func (p Page) Validate() error {
	switch {
	case p.Size < 0 || p.Size > MaxPageSize:
		return fmt.Errorf("%w: page size %d is outside 0..%d", ErrInvalid, p.Size, MaxPageSize)
	case len(p.Cursor) > MaxCursorLen:
		return fmt.Errorf("%w: malformed cursor: too long", ErrInvalid)
	}
	return nil
}

// Rows returns how many rows the page holds at most: Size, or
// DefaultPageSize when Size is 0.
func (p Page) Rows() int {
	if p.Size == 0 {
		return DefaultPageSize
	}
	return p.Size
}

// Key is the position of a record in a list a Tx reads a range at a time
// (Members, Memberships, Invites, Transfers): the record's time in that
// list (JoinedAt, CreatedAt) and the ID that orders records of the same
// time (the UserID, the AccountID, the invite's or transfer's ID). Keys
// order by Time, the zero time first, then by ID in byte order.
type Key struct {
	Time time.Time
	ID   string
}

// Compare returns -1, 0 or +1 as k orders before, with or after o: by
// Time, the zero time first, then by ID.
func (k Key) Compare(o Key) int {
	switch kz, oz := k.Time.IsZero(), o.Time.IsZero(); {
	case kz && !oz:
		return -1
	case oz && !kz:
		return 1
	}
	return cmp.Or(k.Time.Compare(o.Time), strings.Compare(k.ID, o.ID))
}

// IsZero reports whether k is the zero Key, which in a Range means the
// start of the list.
func (k Key) IsZero() bool { return k.ID == "" && k.Time.IsZero() }

// Range selects a stretch of a list a Tx reads in the list's order: the
// records that come after After (all of them when After is zero), at most
// Limit of them (all when Limit is 0). In an ascending list (Members,
// Memberships) the records after a key are those whose Key is greater; in a
// newest-first list (Invites, Transfers), those whose Key is less. The zero
// Range is the whole list.
type Range struct {
	After Key
	Limit int
}

// Validate checks r the way every Store checks a Range: it returns an error
// wrapping ErrInvalid if Limit is negative or After has a time but no ID;
// nil otherwise.
func (r Range) Validate() error {
	switch {
	case r.Limit < 0:
		return fmt.Errorf("%w: negative limit %d", ErrInvalid, r.Limit)
	case r.After.ID == "" && !r.After.Time.IsZero():
		return fmt.Errorf("%w: range key has a time but no ID", ErrInvalid)
	}
	return nil
}

// Follows reports whether a record at key k comes after r.After in a list
// ordered ascending (desc false) or newest first (desc true), as a Store
// selects the records of a Range.
func (r Range) Follows(k Key, desc bool) bool {
	if r.After.IsZero() {
		return true
	}
	c := k.Compare(r.After)
	if desc {
		return c < 0
	}
	return c > 0
}

// Key returns the invite's position in its account's invites (Tx.Invites):
// its CreatedAt and ID.
func (inv Invite) Key() Key { return Key{Time: inv.CreatedAt, ID: inv.ID} }

// Key returns the transfer's position in its account's transfers
// (Tx.Transfers): its CreatedAt and ID.
func (t Transfer) Key() Key { return Key{Time: t.CreatedAt, ID: t.ID} }

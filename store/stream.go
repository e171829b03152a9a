package store

import (
	"cmp"
	"fmt"
)

// EventPosition is the place of a committed event in the Store's event
// stream, which holds the events of every account. Positions are ordered
// by Commit, then by ID (see Compare); the zero EventPosition comes before
// every event.
//
// Commit is a number the Store gives the transaction that appended the
// event, so that the stream never grows behind a reader (see
// Store.EventsAfter) although a transaction that took a smaller event ID
// may commit after one that took a larger. A Store whose writers commit
// one at a time, in the order they take event IDs, may leave it 0 or use
// the event's ID; sqlstore on PostgreSQL uses the transaction's ID and
// reads only the events of transactions that have all ended.
type EventPosition struct {
	Commit uint64
	ID     int64
}

// Compare returns -1, 0 or +1 as p comes before, at or after q in the
// stream.
func (p EventPosition) Compare(q EventPosition) int {
	return cmp.Or(cmp.Compare(p.Commit, q.Commit), cmp.Compare(p.ID, q.ID))
}

// StreamEvent is one event read from the event stream with its position.
type StreamEvent struct {
	Position EventPosition
	Event    Event
}

// CheckEventsAfter checks the arguments of Store.EventsAfter the way every
// Store checks them and returns the number of events to read: limit, or
// DefaultPageSize when limit <= 0. It returns an error wrapping ErrInvalid
// if after.ID is negative or limit is above MaxPageSize.
func CheckEventsAfter(after EventPosition, limit int) (int, error) {
	switch {
	case after.ID < 0:
		return 0, fmt.Errorf("%w: negative event ID %d in stream position", ErrInvalid, after.ID)
	case limit > MaxPageSize:
		return 0, fmt.Errorf("%w: limit %d is above %d", ErrInvalid, limit, MaxPageSize)
	case limit <= 0:
		return DefaultPageSize, nil
	}
	return limit, nil
}

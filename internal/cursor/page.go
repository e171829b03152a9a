package cursor

import "github.com/teamroster/roster/store"

// Read reads one page of a list that a Tx returns a range at a time (read),
// in the list's order, from after (the start when zero): the first size
// rows that keep keeps (every row when keep is nil), and whether more kept
// rows follow. It reads the list in ranges, the first of size+1 rows and
// each following one twice as long (at most store.MaxPageSize), until it
// has size+1 kept rows or the list ends, so an unfiltered page is one read.
// key returns a row's position in the list. keep returns, in order, the
// rows of a range to keep; it may read the transaction. Read returns the
// first error of read or keep unchanged.
func Read[T any](size int, after store.Key, read func(store.Range) ([]T, error), key func(T) store.Key,
	keep func([]T) ([]T, error)) (rows []T, more bool, err error) {
	n := min(size+1, store.MaxPageSize)
	for {
		batch, err := read(store.Range{After: after, Limit: n})
		if err != nil {
			return nil, false, err
		}
		kept := batch
		if keep != nil {
			if kept, err = keep(batch); err != nil {
				return nil, false, err
			}
		}
		rows = append(rows, kept...)
		switch {
		case len(rows) > size:
			return rows[:size], true, nil
		case len(batch) < n:
			return rows, false, nil
		}
		after = key(batch[len(batch)-1])
		n = min(2*n, store.MaxPageSize)
	}
}

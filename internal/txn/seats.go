package txn

import "github.com/teamroster/roster/store"

// Seats checks, at the Door's time, that the call's account has room for a
// change that adds filled seats (new members or invitations) and frees
// freed (invitations the change closes, such as the one a join uses): it
// returns a *store.SeatLimitError, which wraps store.ErrNoSeats, if the
// account has a seat limit and the seats filled after the change would
// exceed it. A limit lowered below the seats filled removes nobody, and
// refuses every join and invitation until seats are freed, a join through a
// single-use invitation included (it frees the seat it fills). It returns
// the store's errors.
func (c *Change) Seats(added, freed int) error {
	limit := c.Account.SeatLimit
	if limit <= 0 {
		return nil
	}
	members, pending, err := c.Tx.Seats(c.ctx, c.Account.ID, c.Now())
	if err != nil {
		return err
	}
	if used := members + pending; used-freed+added > limit {
		return &store.SeatLimitError{Limit: limit, Used: used}
	}
	return nil
}

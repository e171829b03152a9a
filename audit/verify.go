package audit

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/teamroster/roster/internal/chain"
	"github.com/teamroster/roster/internal/check"
	"github.com/teamroster/roster/store"
)

// Head is the newest event of an account's hash chain: its ID, Hash and
// Time. Export it regularly to a place that whoever can write to the
// database cannot (see the package documentation), and pass it to Verify
// later to prove that the chain still holds it. Keep all three: once the
// event is pruned, Verify checks its ID and Time against the prune's record
// (String leaves the Time out).
type Head struct {
	AccountID string
	EventID   int64
	Hash      []byte
	Time      time.Time
}

// String returns the head as "account@id:hash" with the hash in hex.
func (h Head) String() string {
	return fmt.Sprintf("%s@%d:%x", h.AccountID, h.EventID, h.Hash)
}

// Head returns the head of the account's chain (EventID 0 if the account
// has no chained event). The actor needs rbac.AuditRead; a member refused is
// recorded as a denied store.EventAuditQueried. It returns an error wrapping
// store.ErrInvalid, store.ErrNotFound (no such account), rbac.ErrNotMember
// or rbac.ErrDenied. It is safe for concurrent use.
func (s *Service) Head(ctx context.Context, actor, accountID string) (Head, error) {
	h := Head{AccountID: accountID}
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID))
	if err == nil {
		err = s.read(ctx, actor, accountID, store.EventAuditQueried, func(tx store.Tx) error {
			ch, err := tx.ChainHead(ctx, accountID)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			h.EventID, h.Hash, h.Time = ch.LastID, ch.LastHash, ch.LastTime
			return err
		})
	}
	if err != nil {
		return Head{}, fmt.Errorf("head of %q for %q: %w", accountID, actor, err)
	}
	return h, nil
}

// Tamper is the kind of damage Verify found in a chain.
type Tamper string

// The kinds of damage Verify reports.
const (
	// TamperAltered: the event's content no longer hashes to its stored
	// Hash (a field, its time or its hash was edited, or the row was
	// inserted without a valid hash), or its personal fields no longer
	// match its commitment; or, for the newest erased event, the chain
	// holds more erased events than its user.erased events record (a salt
	// was deleted out of band).
	TamperAltered Tamper = "altered"
	// TamperDeleted: the event does not link to the event kept before it:
	// the events in between, or the oldest events, were deleted.
	TamperDeleted Tamper = "deleted"
	// TamperInserted: the event, although it hashes correctly, is not part
	// of the chain: the next event links past it, or it lies beyond the
	// chain head.
	TamperInserted Tamper = "inserted"
	// TamperTruncated: the chain ends before its head: the newest events,
	// from the named one on, were deleted.
	TamperTruncated Tamper = "truncated"
	// TamperRewritten: the chain disagrees with a head it must contain (its
	// stored head, or a Head passed to Verify): it was rewritten.
	TamperRewritten Tamper = "rewritten"
	// TamperHead: the chain head record is missing although the account has
	// events.
	TamperHead Tamper = "head"
)

// TamperError is the error Verify returns for a broken chain. It wraps
// ErrTampered.
type TamperError struct {
	AccountID string
	// EventID is the first event found wrong. For TamperTruncated it is the
	// missing head event (or anchored event) that the chain should reach.
	EventID int64
	Kind    Tamper
	// Detail says what was found, in one sentence.
	Detail string
}

// Error describes the damage.
func (e *TamperError) Error() string {
	return fmt.Sprintf("audit: chain of %s broken at event %d (%s): %s", e.AccountID, e.EventID, e.Kind, e.Detail)
}

// Unwrap returns ErrTampered.
func (e *TamperError) Unwrap() error { return ErrTampered }

// Report is what Verify checked.
type Report struct {
	AccountID string
	// Events is the number of events checked.
	Events int64
	// Head is the verified head of the chain.
	Head Head
	// AnchorID is the newest pruned event: older history is gone, and an
	// anchor at or before it is only checked against the last prune's
	// record. 0 if nothing was pruned.
	AnchorID int64
	// Erased is the number of checked events whose personal fields were
	// erased (teams.Service.DeleteUser): their Before, After, Reason, IP
	// and UserAgent are no longer covered by the chain, everything else
	// is.
	Erased int64
}

// recentLinks is how many of the latest events Verify remembers to tell an
// event inserted out of band from events deleted.
const recentLinks = 256

// Verify walks the account's hash chain, oldest first, in one read-only
// transaction, and checks that every event hashes to its stored Hash, links
// to the event before it (or, after pruning, to the anchor that the last
// audit.pruned event recorded), and that the chain ends at its stored head.
// Each of anchors, heads returned by Head earlier and kept elsewhere, must
// still be in the chain, or have been pruned: an anchor missing from the
// chain passes only if the newest audit.pruned event of the chain covers it
// (its ID is at or before that prune's anchor, with the anchor's hash if it
// is the anchor, and its Time is before that prune's cut, as for every event
// a real Prune deletes). An anchor of an account whose events and chain head
// are all gone is reported too. An event whose personal fields were erased
// (teams.Service.DeleteUser; it keeps its commitment, not its salt) passes on
// its commitment; Report.Erased counts them, and they may not outnumber the
// erasures the chain's store.EventUserErased events record. The actor
// needs rbac.AuditRead; a member refused is recorded as a denied
// store.EventAuditQueried.
//
// Verify returns the Report and nil for an intact chain, and a *TamperError
// (wrapping ErrTampered) that names the first event found wrong and how, for
// a broken one. What a hash chain cannot show: a chain and head rewritten
// consistently by someone with write access to the database, unless an
// anchor kept elsewhere is passed; and, without a secret, a forged prune
// record whose cut lies after an anchor's Time cannot be told from a real
// prune, so the events from that anchor on may have been deleted by it:
// keep anchors newer than your retention period too. It also returns errors
// wrapping store.ErrInvalid (an anchor of another account),
// store.ErrNotFound, rbac.ErrNotMember or rbac.ErrDenied. It is safe for
// concurrent use.
func (s *Service) Verify(ctx context.Context, actor, accountID string, anchors ...Head) (Report, error) {
	rep := Report{AccountID: accountID}
	fail := func(err error) (Report, error) {
		return rep, fmt.Errorf("verify %q for %q: %w", accountID, actor, err)
	}
	if err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID)); err != nil {
		return fail(err)
	}
	for _, a := range anchors {
		if a.AccountID != accountID {
			return fail(fmt.Errorf("%w: anchor %s is not of account %s", store.ErrInvalid, a, accountID))
		}
	}
	var tamper *TamperError
	err := s.read(ctx, actor, accountID, store.EventAuditQueried, func(tx store.Tx) error {
		var err error
		tamper, err = walk(ctx, tx, accountID, anchors, &rep)
		return err
	})
	if err != nil {
		return fail(err)
	}
	if tamper != nil {
		return rep, tamper
	}
	return rep, nil
}

// link is an event's place in the chain.
type link struct {
	id   int64
	hash []byte
}

// walk checks the account's chain and fills rep. It returns the first
// damage found, or nil.
func walk(ctx context.Context, tx store.Tx, accountID string, anchors []Head, rep *Report) (*TamperError, error) {
	broken := func(id int64, kind Tamper, format string, args ...any) *TamperError {
		return &TamperError{AccountID: accountID, EventID: id, Kind: kind, Detail: fmt.Sprintf(format, args...)}
	}
	head, err := tx.ChainHead(ctx, accountID)
	hasHead := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	rep.AnchorID = head.AnchorID
	want := map[int64][]Head{} // anchors to find, by event ID
	for _, a := range anchors {
		if a.EventID > 0 {
			want[a.EventID] = append(want[a.EventID], a)
		}
	}
	prev := link{id: head.AnchorID, hash: head.AnchorHash}
	var recent []link // the latest events, oldest first, at most recentLinks
	var first int64
	var lastPrune *string // the After of the newest allowed prune record
	var erasures int64    // erasures recorded by user.erased events
	var lastErased int64  // the newest erased event
	var found *TamperError
	stop := errors.New("stop")
	err = tx.ScanEvents(ctx, store.EventFilter{AccountID: accountID, Order: store.AppendOrder}, func(e store.Event) error {
		switch {
		case !hasHead:
			found = broken(e.ID, TamperHead, "the account has events but no chain head record: the head was deleted, or the events inserted out of band")
		case e.ID > head.LastID:
			found = broken(e.ID, TamperInserted, "the event lies beyond the chain head (event %d): it was appended out of band", head.LastID)
		case !chain.Valid(e):
			found = broken(e.ID, TamperAltered, "the event's content does not hash to its stored hash: it was edited, or inserted without a valid hash")
		case !bytes.Equal(e.PrevHash, prev.hash):
			found = unlinked(e, prev, recent, first, broken)
		}
		if found != nil {
			return stop
		}
		for _, a := range want[e.ID] {
			if !bytes.Equal(a.Hash, e.Hash) {
				found = broken(e.ID, TamperRewritten, "the event's hash differs from the anchored head's: the chain was rewritten")
				return stop
			}
		}
		delete(want, e.ID)
		if e.Action == store.EventAuditPruned && e.Result == store.Allowed {
			lastPrune = &e.After
		}
		if e.Action == store.EventUserErased && e.Result == store.Allowed {
			n, _ := strconv.ParseInt(field(e.After, "erased"), 10, 64)
			erasures += n
		}
		if chain.Erased(e) {
			rep.Erased++
			lastErased = e.ID
		}
		if first == 0 {
			first = e.ID
		}
		prev = link{id: e.ID, hash: e.Hash}
		if len(recent) == recentLinks {
			recent = append(recent[:0], recent[1:]...)
		}
		recent = append(recent, prev)
		rep.Events++
		return nil
	})
	if errors.Is(err, stop) {
		return found, nil
	}
	if err != nil {
		return nil, err
	}
	missing := slices.Sorted(maps.Keys(want)) // anchors not found, oldest first
	if !hasHead {
		if len(missing) > 0 {
			id := missing[len(missing)-1]
			return broken(id, TamperTruncated, "the account has no events and no chain head, but an anchored head is event %d: the events and the head were deleted", id), nil
		}
		return nil, nil // no events and no head: an empty chain
	}
	switch {
	case prev.id < head.LastID:
		return broken(head.LastID, TamperTruncated, "the chain ends at event %d but its head is event %d: the newest events were deleted", prev.id, head.LastID), nil
	case !bytes.Equal(prev.hash, head.LastHash):
		return broken(prev.id, TamperRewritten, "the newest event's hash differs from the chain head's: it was replaced"), nil
	case rep.Erased > erasures:
		return broken(lastErased, TamperAltered, "%d events are erased but the chain records %d erasures: salts were deleted out of band", rep.Erased, erasures), nil
	}
	var prune *pruneDetails // the newest prune record, if readable
	if lastPrune != nil {
		var d pruneDetails
		if json.Unmarshal([]byte(*lastPrune), &d) == nil {
			prune = &d
		}
	}
	if head.AnchorID != 0 || len(head.AnchorHash) != 0 {
		if prune == nil || prune.AnchorID != head.AnchorID || prune.AnchorHash != hex.EncodeToString(head.AnchorHash) {
			id := first
			if id == 0 {
				id = head.AnchorID
			}
			return broken(id, TamperDeleted, "the chain's anchor (event %d) is not the one the last prune recorded: the oldest events were deleted out of band", head.AnchorID), nil
		}
	}
	for _, id := range missing {
		for _, a := range want[id] {
			switch {
			case id > head.LastID:
				return broken(id, TamperTruncated, "an anchored head (event %d) is beyond the chain's head (event %d): the newest events were deleted and the head rewritten", id, head.LastID), nil
			case id > head.AnchorID:
				return broken(id, TamperRewritten, "an anchored head (event %d) is no longer in the chain: the chain was rewritten", id), nil
			case !prune.covers(a):
				return broken(id, TamperRewritten, "the anchored head (event %d) is missing from the chain and no prune covers it: its events were deleted and a prune record forged", id), nil
			}
			// the anchored event was pruned: nothing more to check
		}
	}
	rep.Head = Head{AccountID: accountID, EventID: head.LastID, Hash: head.LastHash, Time: head.LastTime}
	return nil, nil
}

// covers reports whether the prune d (nil for none) may have deleted the
// anchored event a: a Prune deletes only events up to its anchor and older
// than its cut, so a's ID must be at or before the anchor (with the
// anchor's hash if it is the anchor) and a's Time before the cut.
func (d *pruneDetails) covers(a Head) bool {
	if d == nil || a.EventID > d.AnchorID {
		return false
	}
	cut, err := time.Parse(time.RFC3339Nano, d.Before)
	if err != nil || !a.Time.Before(cut) {
		return false
	}
	return a.EventID < d.AnchorID || d.AnchorHash == hex.EncodeToString(a.Hash)
}

// unlinked says what an event whose PrevHash is not the previous event's
// Hash means: events after one the event links to were inserted, or events
// before it were deleted.
func unlinked(e store.Event, prev link, recent []link, first int64, broken func(int64, Tamper, string, ...any) *TamperError) *TamperError {
	for i := len(recent) - 2; i >= 0; i-- {
		if bytes.Equal(e.PrevHash, recent[i].hash) {
			return broken(recent[i+1].id, TamperInserted, "event %d links to event %d, past this one: this event was inserted out of band", e.ID, recent[i].id)
		}
	}
	if len(e.PrevHash) == 0 && first != 0 {
		return broken(e.ID, TamperInserted, "the event starts a chain of its own in the middle of the account's: it was inserted out of band")
	}
	if first == 0 {
		return broken(e.ID, TamperDeleted, "the oldest kept event does not link to the chain's anchor (event %d): the events before it were deleted", prev.id)
	}
	return broken(e.ID, TamperDeleted, "the event does not link to event %d before it: the events in between were deleted", prev.id)
}

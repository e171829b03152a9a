package audit

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/teamroster/roster/internal/check"
	"github.com/teamroster/roster/internal/text"
	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/store"
)

// Format is a file format of Export.
type Format string

// The formats of Export.
const (
	// NDJSON writes one JSON object per line (newline-delimited JSON), with
	// the fields named in the CSV header below.
	NDJSON Format = "ndjson"
	// CSV writes RFC 4180 comma-separated values with a header row: id,
	// account_id, time, actor, action, resource_type, resource_id, result,
	// reason, before, after, ip, user_agent, request_id, prev_hash, hash,
	// salt, commitment (DecodeCSV also reads exports without the last
	// two, made before events had them).
	// A cell that starts with '=', '+', '-', '@', a tab, a carriage return
	// or a single quote gets a single quote put in front, so that a
	// spreadsheet shows it as text instead of running it as a formula;
	// DecodeCSV removes it again.
	CSV Format = "csv"
)

// csvHeader is the header row of a CSV export and the field names of an
// NDJSON one.
var csvHeader = []string{"id", "account_id", "time", "actor", "action", "resource_type", "resource_id",
	"result", "reason", "before", "after", "ip", "user_agent", "request_id", "prev_hash", "hash", "salt", "commitment"}

// v1Columns is the number of columns of exports made before events had a
// salt and a commitment: csvHeader's first ones. DecodeCSV reads them too.
const v1Columns = 16

// record is one exported event. Times are RFC 3339 in UTC with up to
// microseconds; hashes, salts and commitments are lowercase hex (empty when
// absent); Before and After are the stored JSON text as strings, byte for
// byte, so that an export can be checked against the hash chain.
type record struct {
	ID           int64  `json:"id"`
	AccountID    string `json:"account_id"`
	Time         string `json:"time"`
	Actor        string `json:"actor"`
	Action       string `json:"action"`
	ResourceType string `json:"resource_type"`
	ResourceID   string `json:"resource_id"`
	Result       string `json:"result"`
	Reason       string `json:"reason"`
	Before       string `json:"before"`
	After        string `json:"after"`
	IP           string `json:"ip"`
	UserAgent    string `json:"user_agent"`
	RequestID    string `json:"request_id"`
	PrevHash     string `json:"prev_hash"`
	Hash         string `json:"hash"`
	Salt         string `json:"salt"`
	Commitment   string `json:"commitment"`
}

func toRecord(e store.Event) record {
	return record{
		ID: e.ID, AccountID: e.AccountID, Time: e.Time.UTC().Format(time.RFC3339Nano),
		Actor: e.Actor, Action: string(e.Action), ResourceType: e.ResourceType, ResourceID: e.ResourceID,
		Result: string(e.Result), Reason: e.Reason, Before: e.Before, After: e.After,
		IP: e.IP, UserAgent: e.UserAgent, RequestID: e.RequestID,
		PrevHash: hex.EncodeToString(e.PrevHash), Hash: hex.EncodeToString(e.Hash),
		Salt: hex.EncodeToString(e.Salt), Commitment: hex.EncodeToString(e.Commitment),
	}
}

func (r record) cells() []string {
	return []string{strconv.FormatInt(r.ID, 10), r.AccountID, r.Time, r.Actor, r.Action, r.ResourceType, r.ResourceID,
		r.Result, r.Reason, r.Before, r.After, r.IP, r.UserAgent, r.RequestID, r.PrevHash, r.Hash, r.Salt, r.Commitment}
}

func (r record) event() (store.Event, error) {
	t, err := time.Parse(time.RFC3339Nano, r.Time)
	if err != nil {
		return store.Event{}, fmt.Errorf("%w: event %d: bad time %q", store.ErrInvalid, r.ID, r.Time)
	}
	prev, err1 := decodeHash(r.PrevHash)
	hash, err2 := decodeHash(r.Hash)
	salt, err3 := decodeHash(r.Salt)
	commitment, err4 := decodeHash(r.Commitment)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return store.Event{}, fmt.Errorf("%w: event %d: bad hash", store.ErrInvalid, r.ID)
	}
	return store.Event{
		ID: r.ID, AccountID: r.AccountID, Time: t.UTC(),
		Actor: r.Actor, Action: store.EventAction(r.Action), ResourceType: r.ResourceType, ResourceID: r.ResourceID,
		Result: store.Result(r.Result), Reason: r.Reason, Before: r.Before, After: r.After,
		IP: r.IP, UserAgent: r.UserAgent, RequestID: r.RequestID, PrevHash: prev, Hash: hash,
		Salt: salt, Commitment: commitment,
	}, nil
}

func decodeHash(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	return hex.DecodeString(s)
}

// Export writes the account's events matching f to w in the given format,
// newest first, streaming them from the database as it reads them (memory
// stays constant however many there are) within one read-only transaction,
// which stays open while w is written. f.Limit caps the number of events (0
// means all, with no maximum) and f.Cursor starts below a Query page. The
// actor needs rbac.AuditRead. Every export is recorded as a
// store.EventAuditExported event, with the format and the filter, before the
// first event is read, so that no export goes unrecorded (one that then
// fails midway stays recorded); a member refused is recorded as a denied
// one.
//
// Export returns the number of events written, and an error wrapping
// store.ErrInvalid (a malformed filter or unknown format),
// store.ErrNotFound, rbac.ErrNotMember, rbac.ErrDenied, or the error of w (a
// failed write stops the export).
func (s *Service) Export(ctx context.Context, actor, accountID string, f Filter, format Format, w io.Writer) (int, error) {
	fail := func(n int, err error) (int, error) {
		return n, fmt.Errorf("export %q by %q: %w", accountID, actor, err)
	}
	if err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID)); err != nil {
		return fail(0, err)
	}
	if format != NDJSON && format != CSV {
		return fail(0, fmt.Errorf("%w: unknown export format %q", store.ErrInvalid, text.Clean(string(format), 32)))
	}
	sf, err := f.storeFilter(accountID, true)
	if err != nil {
		return fail(0, err)
	}
	_, err = s.door.Update(ctx, s.call(actor, accountID, store.EventAuditExported), func(c *txn.Change) error {
		_, err := c.Record(store.Event{
			Action: store.EventAuditExported, ResourceType: "audit", ResourceID: accountID, After: exportDetails(format, f),
		})
		return err
	})
	if err != nil {
		return fail(0, err)
	}
	n := 0
	err = s.read(ctx, actor, accountID, store.EventAuditExported, func(tx store.Tx) error {
		enc := newEncoder(format, w)
		if err := enc.header(); err != nil {
			return err
		}
		err := tx.ScanEvents(ctx, sf, func(e store.Event) error {
			if err := enc.write(e); err != nil {
				return err
			}
			n++
			return nil
		})
		if err != nil {
			return err
		}
		return enc.flush()
	})
	if err != nil {
		return fail(n, err)
	}
	return n, nil
}

// exportDetails is the After value of a store.EventAuditExported event: the
// format and the filter's set fields.
func exportDetails(format Format, f Filter) string {
	d := map[string]any{"format": format}
	if f.Limit > 0 {
		d["limit"] = f.Limit
	}
	for k, v := range map[string]string{
		"actor": f.Actor, "action": string(f.Action), "resource_type": f.ResourceType, "resource_id": f.ResourceID,
		"result": string(f.Result), "since": timeKey(f.Since), "until": timeKey(f.Until),
	} {
		if v != "" {
			d[k] = v
		}
	}
	b, err := json.Marshal(d)
	if err != nil {
		panic(fmt.Sprintf("audit: encode export details: %v", err)) // only strings and ints are encoded
	}
	return string(b)
}

// encoder writes events in one format through a buffer.
type encoder struct {
	format Format
	bw     *bufio.Writer
	cw     *csv.Writer
	je     *json.Encoder
}

func newEncoder(format Format, w io.Writer) *encoder {
	e := &encoder{format: format, bw: bufio.NewWriterSize(w, 64<<10)}
	if format == CSV {
		e.cw = csv.NewWriter(e.bw)
	} else {
		e.je = json.NewEncoder(e.bw)
	}
	return e
}

func (e *encoder) header() error {
	if e.cw != nil {
		return e.cw.Write(csvHeader)
	}
	return nil
}

func (e *encoder) write(ev store.Event) error {
	r := toRecord(ev)
	if e.je != nil {
		return e.je.Encode(r)
	}
	cells := r.cells()
	for i, c := range cells {
		cells[i] = guardCell(c)
	}
	return e.cw.Write(cells)
}

// flush writes out what the encoder holds. The CSV writer writes into bw
// itself (csv.NewWriter takes a *bufio.Writer of at least its own size as
// it is, see bufio.NewWriterSize), so flushing bw flushes both, and bw's
// Flush returns any write error either met.
func (e *encoder) flush() error {
	return e.bw.Flush()
}

// guardCell puts a single quote before a cell that a spreadsheet would read
// as a formula, and before one that starts with a single quote, so that
// unguardCell can tell them apart.
func guardCell(c string) string {
	if c != "" && strings.ContainsRune("=+-@\t\r'", rune(c[0])) {
		return "'" + c
	}
	return c
}

func unguardCell(c string) string { return strings.TrimPrefix(c, "'") }

// DecodeNDJSON reads an NDJSON export and calls fn for each event in it, in
// file order, stopping at fn's first error, which it returns unchanged. It
// returns an error wrapping store.ErrInvalid for a line that is not an
// exported event, and the reader's errors.
func DecodeNDJSON(r io.Reader, fn func(store.Event) error) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	for line := 1; ; line++ {
		var rec record
		err := dec.Decode(&rec)
		if errors.Is(err, io.EOF) {
			return nil
		}
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		if errors.As(err, &syntax) || errors.As(err, &typ) || errors.Is(err, io.ErrUnexpectedEOF) ||
			(err != nil && strings.HasPrefix(err.Error(), "json: unknown field")) {
			return fmt.Errorf("decode NDJSON record %d: %w: %w", line, store.ErrInvalid, err)
		}
		if err != nil {
			return fmt.Errorf("decode NDJSON record %d: %w", line, err)
		}
		e, err := rec.event()
		if err != nil {
			return fmt.Errorf("decode NDJSON record %d: %w", line, err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
}

// DecodeCSV reads a CSV export and calls fn for each event in it, in file
// order, removing the quotes that guard against formulas; it stops at fn's
// first error, which it returns unchanged. It returns an error wrapping
// store.ErrInvalid for a missing or different header or a malformed row,
// and the reader's errors.
func DecodeCSV(r io.Reader, fn func(store.Event) error) error {
	cr := csv.NewReader(r) // every row has as many cells as the header
	head, err := cr.Read()
	if err != nil {
		return fmt.Errorf("decode CSV header: %w: %w", store.ErrInvalid, err)
	}
	if h := strings.Join(head, ","); h != strings.Join(csvHeader, ",") && h != strings.Join(csvHeader[:v1Columns], ",") {
		return fmt.Errorf("decode CSV header: %w: not an audit export header", store.ErrInvalid)
	}
	for line := 2; ; line++ {
		cells, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var parse *csv.ParseError
		if errors.As(err, &parse) {
			return fmt.Errorf("decode CSV row %d: %w: %w", line, store.ErrInvalid, err)
		}
		if err != nil {
			return fmt.Errorf("decode CSV row %d: %w", line, err)
		}
		for i, c := range cells {
			cells[i] = unguardCell(c)
		}
		id, err := strconv.ParseInt(cells[0], 10, 64)
		if err != nil {
			return fmt.Errorf("decode CSV row %d: %w: bad id %q", line, store.ErrInvalid, cells[0])
		}
		rec := record{ID: id, AccountID: cells[1], Time: cells[2], Actor: cells[3], Action: cells[4],
			ResourceType: cells[5], ResourceID: cells[6], Result: cells[7], Reason: cells[8],
			Before: cells[9], After: cells[10], IP: cells[11], UserAgent: cells[12], RequestID: cells[13],
			PrevHash: cells[14], Hash: cells[15]}
		if len(cells) > v1Columns {
			rec.Salt, rec.Commitment = cells[16], cells[17]
		}
		e, err := rec.event()
		if err != nil {
			return fmt.Errorf("decode CSV row %d: %w", line, err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
}

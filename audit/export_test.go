package audit_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/internal/chain"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// decode reads an export in the given format.
func decode(t testing.TB, format audit.Format, data []byte) []store.Event {
	t.Helper()
	var out []store.Event
	collect := func(e store.Event) error { out = append(out, e); return nil }
	var err error
	if format == audit.CSV {
		err = audit.DecodeCSV(bytes.NewReader(data), collect)
	} else {
		err = audit.DecodeNDJSON(bytes.NewReader(data), collect)
	}
	if err != nil {
		t.Fatalf("decode %s: %v\n%s", format, err, data)
	}
	return out
}

// export runs Export and fails the test on error.
func export(t testing.TB, e *env, actor, account string, f audit.Filter, format audit.Format) ([]byte, int) {
	t.Helper()
	var buf bytes.Buffer
	n, err := e.r.Audit.Export(context.Background(), actor, account, f, format, &buf)
	if err != nil {
		t.Fatalf("Export(%s, %+v): %v", format, f, err)
	}
	return buf.Bytes(), n
}

func TestExport(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, b, rbac.Runpod())
		acct, _ := fixture(t, e)
		// Values a spreadsheet would run as formulas, and text users typed.
		rostertest.User(t, e.r, "=1+2")
		if _, err := e.r.Teams.AddMember(ctx, "alice", acct.ID, "=1+2", rbac.RunpodDev); err != nil {
			t.Fatal(err)
		}
		e.record(t, "=1+2", acct.ID, audit.Entry{Action: "pod.created", ResourceType: "+pod", ResourceID: "@SUM(A1:A9)",
			Reason: "-2+3, \"quoted\"; 'single'", After: `{"name":"=HYPERLINK(\"http://x\")","note":"line1\nline2"}`})

		for _, format := range []audit.Format{audit.NDJSON, audit.CSV} {
			t.Run(string(format)+" export round-trips the log", func(t *testing.T) {
				data, n := export(t, e, "alice", acct.ID, audit.Filter{}, format)
				got := decode(t, format, data)
				// The export is recorded before it reads, so it holds its
				// own record, the newest event.
				want := queryAll(t, e.r.Audit, "alice", acct.ID, audit.Filter{Limit: 7})
				if want[0].Action != store.EventAuditExported || want[0].Actor != "alice" {
					t.Fatalf("the newest event is %s by %s, want the export's record", want[0].Action, want[0].Actor)
				}
				if n != len(want) {
					t.Errorf("Export reported %d events, want %d", n, len(want))
				}
				checkEvents(t, "decoded export", want, got)
				for _, ev := range got {
					if !chain.Valid(ev) {
						t.Errorf("exported event %d does not hash to its hash: the export lost a byte", ev.ID)
					}
				}
			})
			t.Run(string(format)+" export applies the filter and the limit", func(t *testing.T) {
				f := audit.Filter{Actor: "bob", ResourceType: "pod"}
				data, _ := export(t, e, "alice", acct.ID, f, format)
				checkEvents(t, "filtered export", queryAll(t, e.r.Audit, "alice", acct.ID, f), decode(t, format, data))
				f.Limit = 2
				data, n := export(t, e, "alice", acct.ID, f, format)
				if got := decode(t, format, data); n != 2 || len(got) != 2 {
					t.Errorf("export with limit 2 wrote %d events (reported %d)", len(got), n)
				}
				page, next, err := e.r.Audit.Query(ctx, "alice", acct.ID, audit.Filter{Actor: "bob", ResourceType: "pod", Limit: 1})
				if err != nil {
					t.Fatal(err)
				}
				data, _ = export(t, e, "alice", acct.ID, audit.Filter{Actor: "bob", ResourceType: "pod", Cursor: next}, format)
				rest := decode(t, format, data)
				checkEvents(t, "export below a cursor", queryAll(t, e.r.Audit, "alice", acct.ID, audit.Filter{Actor: "bob", ResourceType: "pod"})[len(page):], rest)
			})
		}

		t.Run("CSV cells that a spreadsheet would run are quoted", func(t *testing.T) {
			data, _ := export(t, e, "alice", acct.ID, audit.Filter{}, audit.CSV)
			rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			guarded := 0
			for _, row := range rows {
				for _, cell := range row {
					if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
						t.Errorf("cell %q starts with a formula character", cell)
					}
					if strings.HasPrefix(cell, "'") {
						guarded++
					}
				}
			}
			if guarded < 4 {
				t.Errorf("%d guarded cells, want at least the actor, resource type, resource ID and reason", guarded)
			}
			if !bytes.Contains(data, []byte(`'=1+2`)) || !bytes.Contains(data, []byte(`'@SUM(A1:A9)`)) {
				t.Errorf("export lacks the guarded cells:\n%s", data)
			}
		})

		t.Run("NDJSON is one event per line with escaped text", func(t *testing.T) {
			data, n := export(t, e, "alice", acct.ID, audit.Filter{}, audit.NDJSON)
			lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			if len(lines) != n {
				t.Fatalf("%d lines for %d events", len(lines), n)
			}
			for _, l := range lines {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Errorf("line %q: %v", l, err)
				}
				if len(m) != 18 {
					t.Errorf("line has %d fields, want 18", len(m))
				}
			}
		})

		t.Run("every export is recorded before it reads", func(t *testing.T) {
			data, _ := export(t, e, "alice", acct.ID, audit.Filter{Action: store.EventAuditExported, Limit: 1}, audit.NDJSON)
			got := e.events(t, store.EventFilter{AccountID: acct.ID, Action: store.EventAuditExported, Limit: 1})
			if len(got) != 1 || got[0].Actor != "alice" || got[0].Result != store.Allowed ||
				got[0].After != `{"action":"audit.exported","format":"ndjson","limit":1}` {
				t.Fatalf("export event = %+v", got)
			}
			checkEvents(t, "the export of the newest export", got, decode(t, audit.NDJSON, data))
			// Without a filter, the record names the format alone.
			export(t, e, "alice", acct.ID, audit.Filter{}, audit.CSV)
			got = e.events(t, store.EventFilter{AccountID: acct.ID, Action: store.EventAuditExported, Limit: 1})
			if len(got) != 1 || got[0].After != `{"format":"csv"}` {
				t.Fatalf("the record of an export without a filter = %+v, want its format alone", got)
			}
		})

		t.Run("bad input is refused", func(t *testing.T) {
			var buf bytes.Buffer
			_, err := e.r.Audit.Export(ctx, "alice", acct.ID, audit.Filter{}, "xlsx", &buf)
			checkErr(t, "an unknown format", err, store.ErrInvalid)
			_, err = e.r.Audit.Export(ctx, "alice", acct.ID, audit.Filter{Limit: -1}, audit.CSV, &buf)
			checkErr(t, "a negative limit", err, store.ErrInvalid)
			_, err = e.r.Audit.Export(ctx, "alice", acct.ID, audit.Filter{Action: "x"}, audit.CSV, &buf)
			checkErr(t, "a malformed action", err, store.ErrInvalid)
			if buf.Len() != 0 {
				t.Errorf("refused exports wrote %q", buf.String())
			}
		})
	})
}

// failingWriter accepts its first write and fails every later one.
type failingWriter struct {
	writes int
	bytes  int
}

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	w.writes++
	if w.writes > 1 {
		return 0, errDiskFull
	}
	w.bytes += len(p)
	return len(p), nil
}

func TestExportStreams(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, b, rbac.Runpod())
		acct := e.team(t, "alice")
		// 3000 events of about 300 bytes: far more than the export's buffer.
		const total = 3000
		_, err := e.s.Update(ctx, chain.Update(ctx, func(tx store.Tx) error {
			for i := range total {
				_, err := tx.AppendEvent(ctx, store.Event{AccountID: acct.ID, Actor: "alice", Action: "pod.created",
					ResourceType: "pod", ResourceID: fmt.Sprint("pod_", i), Result: store.Allowed,
					After: fmt.Sprintf(`{"image":"%s"}`, strings.Repeat("x", 200))})
				if err != nil {
					return err
				}
			}
			return nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		t.Run("a failing writer stops the export early", func(t *testing.T) {
			for _, f := range []audit.Format{audit.NDJSON, audit.CSV} {
				w := &failingWriter{}
				n, err := e.r.Audit.Export(ctx, "alice", acct.ID, audit.Filter{}, f, w)
				if !errors.Is(err, errDiskFull) {
					t.Fatalf("Export as %v = %v, want the writer's error", f, err)
				}
				if w.writes != 2 || n >= total/2 {
					t.Errorf("export as %v read %d events and wrote %d times before stopping, want to stop at the second write", f, n, w.writes)
				}
			}
		})
		t.Run("a writer failing at the last flush fails the export", func(t *testing.T) {
			small := e.team(t, "bob") // a few events: the export's buffer holds them all
			for _, f := range []audit.Format{audit.NDJSON, audit.CSV} {
				w := &failingWriter{writes: 1}
				if _, err := e.r.Audit.Export(ctx, "bob", small.ID, audit.Filter{}, f, w); !errors.Is(err, errDiskFull) || w.writes != 2 {
					t.Errorf("Export as %v into a failing writer = %v after %d writes, want the writer's error at the one write", f, err, w.writes-1)
				}
			}
		})
		t.Run("a full export is written in pieces as it is read", func(t *testing.T) {
			var sizes countingWriter
			n, err := e.r.Audit.Export(ctx, "alice", acct.ID, audit.Filter{}, audit.CSV, &sizes)
			if err != nil || n < total {
				t.Fatalf("Export = %d, %v", n, err)
			}
			if sizes.writes < 10 {
				t.Errorf("%d writes for %d bytes: the export was not streamed", sizes.writes, sizes.n)
			}
		})
	})
}

type countingWriter struct{ writes, n int }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	w.n += len(p)
	return len(p), nil
}

func TestDecodeRefusesMalformedExports(t *testing.T) {
	header := "id,account_id,time,actor,action,resource_type,resource_id,result,reason,before,after,ip,user_agent,request_id,prev_hash,hash\n"
	row := "1,acc,2025-01-01T00:00:00Z,a,x.y,,,allowed,,,,,,,,\n"
	for name, c := range map[string]struct {
		format audit.Format
		data   string
	}{
		"CSV without header":      {audit.CSV, row},
		"CSV with another header": {audit.CSV, "a,b\n1,2\n"},
		"CSV with a short row":    {audit.CSV, header + "1,acc\n"},
		"CSV with a bad ID":       {audit.CSV, header + strings.Replace(row, "1,", "one,", 1)},
		"CSV with a bad time":     {audit.CSV, header + strings.Replace(row, "2025-01-01T00:00:00Z", "yesterday", 1)},
		"CSV with a bad hash":     {audit.CSV, header + strings.TrimSuffix(row, ",\n") + ",zz\n"},
		"empty CSV":               {audit.CSV, ""},
		"NDJSON that is not JSON": {audit.NDJSON, "{not json}\n"},
		"NDJSON cut short":        {audit.NDJSON, `{"id":1,"account_id":"a"`},
		"NDJSON with a bad time":  {audit.NDJSON, `{"id":1,"time":"now"}` + "\n"},
		"NDJSON with an unknown field": {audit.NDJSON,
			`{"id":1,"time":"2025-01-01T00:00:00Z","token":"x"}` + "\n"},
		"NDJSON with a wrong type": {audit.NDJSON, `{"id":"1"}` + "\n"},
	} {
		var err error
		fn := func(store.Event) error { return nil }
		if c.format == audit.CSV {
			err = audit.DecodeCSV(strings.NewReader(c.data), fn)
		} else {
			err = audit.DecodeNDJSON(strings.NewReader(c.data), fn)
		}
		checkErr(t, name, err, store.ErrInvalid)
	}
	t.Run("the error names the malformed line", func(t *testing.T) {
		ok := `{"id":1,"time":"2025-01-01T00:00:00Z"}` + "\n"
		fn := func(store.Event) error { return nil }
		if err := audit.DecodeNDJSON(strings.NewReader(ok+ok+"{not json}\n"), fn); err == nil || !strings.Contains(err.Error(), "record 3:") {
			t.Errorf("DecodeNDJSON of a bad third line: %v, want it to name record 3", err)
		}
		bad := strings.Replace(row, "1,", "one,", 1)
		if err := audit.DecodeCSV(strings.NewReader(header+row+bad), fn); err == nil || !strings.Contains(err.Error(), "row 3:") {
			t.Errorf("DecodeCSV of a bad third line: %v, want it to name row 3", err)
		}
	})
	t.Run("fn's error stops decoding and is returned unchanged", func(t *testing.T) {
		stop := errors.New("stop")
		calls := 0
		err := audit.DecodeCSV(strings.NewReader(header+row+row), func(store.Event) error { calls++; return stop })
		if err != stop || calls != 1 {
			t.Errorf("DecodeCSV = %v after %d calls, want stop after 1", err, calls)
		}
		err = audit.DecodeNDJSON(io.MultiReader(strings.NewReader(`{"id":1,"time":"2025-01-01T00:00:00Z"}`+"\n"), strings.NewReader(`{"id":2,"time":"2025-01-01T00:00:00Z"}`)),
			func(store.Event) error { return stop })
		if err != stop {
			t.Errorf("DecodeNDJSON = %v, want stop", err)
		}
	})
}

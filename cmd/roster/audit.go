package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/store"
)

// filterFlags are the flags that select audit events.
type filterFlags struct {
	since, until             string
	actor, action            string
	resourceType, resourceID string
	result                   string
}

// add adds the filter flags to fs.
func (f *filterFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&f.since, "since", "", "only events at or after this time (RFC 3339)")
	fs.StringVar(&f.until, "until", "", "only events before this time (RFC 3339)")
	fs.StringVar(&f.actor, "actor", "", "only events by this user")
	fs.StringVar(&f.action, "action", "", "only events with this action, such as member.added")
	fs.StringVar(&f.resourceType, "resource-type", "", "only events on this type of resource, such as member")
	fs.StringVar(&f.resourceID, "resource-id", "", "only events on this resource")
	fs.StringVar(&f.result, "result", "", "only allowed or only denied attempts")
}

// filter returns the audit.Filter the flags describe; the audit service
// validates the rest.
func (f *filterFlags) filter() (audit.Filter, error) {
	af := audit.Filter{
		Actor:        f.actor,
		Action:       store.EventAction(f.action),
		ResourceType: f.resourceType,
		ResourceID:   f.resourceID,
		Result:       store.Result(f.result),
	}
	if f.result != "" && af.Result != store.Allowed && af.Result != store.Denied {
		return af, usagef("-result %q: want %s or %s", f.result, store.Allowed, store.Denied)
	}
	for _, t := range []struct {
		flag, value string
		to          *time.Time
	}{{"since", f.since, &af.Since}, {"until", f.until, &af.Until}} {
		if t.value == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339, t.value)
		if err != nil {
			return af, usagef("-%s %q: want a time such as 2026-01-02T15:04:05Z", t.flag, t.value)
		}
		*t.to = v
	}
	return af, nil
}

// accountArgs parses the arguments of an audit command, ACCOUNT -as USER,
// and checks that -as is set.
func accountArgs(fs *flag.FlagSet, args []string, as *string) (string, error) {
	pos, err := parse(fs, args, "ACCOUNT")
	if err != nil {
		return "", err
	}
	if *as == "" {
		return "", usagef("-as is required")
	}
	return pos[0], nil
}

// runAuditQuery is "roster audit query ACCOUNT -as USER": it prints the
// account's events matching the filter flags, newest first.
func runAuditQuery(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	const name = "audit query"
	fs := newFlags(name, "audit query -db DB [-policy P] ACCOUNT -as USER [-limit N] [filters]", stderr)
	var f dbFlags
	var ff filterFlags
	f.addDB(fs)
	f.addPolicy(fs)
	ff.add(fs)
	as := fs.String("as", "", "the member reading the log, who needs the audit permission (required)")
	limit := fs.Int("limit", 100, "print at most this many events; 0 prints all")
	account, err := accountArgs(fs, args, as)
	if err == nil && *limit < 0 {
		err = usagef("-limit %d: want 0 or more", *limit)
	}
	var af audit.Filter
	if err == nil {
		af, err = ff.filter()
	}
	if err != nil {
		return fail(stderr, name, err)
	}
	err = f.withSession(ctx, func(s *session) error {
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTIME\tACTOR\tACTION\tRESOURCE\tRESULT\tREASON")
		printed := 0
		for {
			if *limit > 0 {
				af.Limit = min(*limit-printed, audit.MaxLimit)
			}
			events, next, err := s.Audit.Query(ctx, *as, account, af)
			if err != nil {
				return err
			}
			for _, e := range events {
				resource := e.ResourceType
				if e.ResourceID != "" {
					resource += ":" + e.ResourceID
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, stamp(e.Time), e.Actor, e.Action, resource, e.Result, e.Reason)
			}
			printed += len(events)
			if next == "" || (*limit > 0 && printed >= *limit) {
				return tw.Flush()
			}
			af.Cursor = next
		}
	})
	if err != nil {
		return fail(stderr, name, err)
	}
	return exitOK
}

// runAuditExport is "roster audit export ACCOUNT -as USER -format F": it
// writes the account's events matching the filter flags to stdout or -o.
func runAuditExport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	const name = "audit export"
	fs := newFlags(name, "audit export -db DB [-policy P] ACCOUNT -as USER -format csv|ndjson [-o FILE] [-limit N] [filters]", stderr)
	var f dbFlags
	var ff filterFlags
	f.addDB(fs)
	f.addPolicy(fs)
	ff.add(fs)
	as := fs.String("as", "", "the member exporting the log, who needs the audit permission (required)")
	format := fs.String("format", "", "the file format: csv or ndjson (required)")
	out := fs.String("o", "", "write to this file instead of standard output")
	limit := fs.Int("limit", 0, "export at most this many events; 0 exports all")
	account, err := accountArgs(fs, args, as)
	if err == nil && audit.Format(*format) != audit.CSV && audit.Format(*format) != audit.NDJSON {
		err = usagef("-format %q: want %s or %s", *format, audit.CSV, audit.NDJSON)
	}
	if err == nil && *limit < 0 {
		err = usagef("-limit %d: want 0 or more", *limit)
	}
	var af audit.Filter
	if err == nil {
		af, err = ff.filter()
		af.Limit = *limit
	}
	if err != nil {
		return fail(stderr, name, err)
	}
	var n int
	err = f.withSession(ctx, func(s *session) error {
		return writeOutput(*out, stdout, func(w io.Writer) error {
			p := startProgress(stderr, "exporting", isTerminal(stderr))
			var err error
			n, err = s.Audit.Export(ctx, *as, account, af, audit.Format(*format), p.writer(w))
			p.finish()
			return err
		})
	})
	if err != nil {
		return fail(stderr, name, err)
	}
	fmt.Fprintf(stderr, "roster %s: %d events exported\n", name, n)
	return exitOK
}

// writeOutput calls write with stdout, or with the file at path if it is
// set, which it writes in full or not at all (through a temporary file
// renamed into place).
func writeOutput(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "" {
		return write(stdout)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	if err := write(tmp); err != nil {
		return errors.Join(err, tmp.Close(), os.Remove(tmp.Name()))
	}
	if err := tmp.Close(); err != nil {
		return errors.Join(err, os.Remove(tmp.Name()))
	}
	return os.Rename(tmp.Name(), path)
}

// runAuditVerify is "roster audit verify ACCOUNT -as USER": it verifies the
// account's hash chain; with -head FILE, also that the chain still holds
// the head kept in FILE, and then keeps the new head there.
func runAuditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	const name = "audit verify"
	fs := newFlags(name, "audit verify -db DB [-policy P] ACCOUNT -as USER [-head FILE]", stderr)
	var f dbFlags
	f.addDB(fs)
	f.addPolicy(fs)
	as := fs.String("as", "", "the member verifying the log, who needs the audit permission (required)")
	headFile := fs.String("head", "", "a file keeping the chain's head: the head in it must still be in the chain, and the new head replaces it")
	account, err := accountArgs(fs, args, as)
	if err != nil {
		return fail(stderr, name, err)
	}
	var anchors []audit.Head
	if *headFile != "" {
		h, ok, err := readHead(*headFile)
		if err != nil {
			return fail(stderr, name, err)
		}
		if ok {
			anchors = append(anchors, h)
		}
	}
	err = f.withSession(ctx, func(s *session) error {
		p := startProgress(stderr, "verifying", isTerminal(stderr))
		rep, err := s.Audit.Verify(ctx, *as, account, anchors...)
		p.finish()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "ok: %d events verified, head %s\n", rep.Events, rep.Head)
		if rep.Erased > 0 {
			fmt.Fprintf(stdout, "%d events have had their personal fields erased\n", rep.Erased)
		}
		for _, a := range anchors {
			fmt.Fprintf(stdout, "the kept head %s still holds\n", a)
		}
		if *headFile == "" {
			return nil
		}
		return writeOutput(*headFile, nil, func(w io.Writer) error {
			return json.NewEncoder(w).Encode(rep.Head)
		})
	})
	if err != nil {
		return fail(stderr, name, err)
	}
	return exitOK
}

// readHead reads the head kept in path, and reports false if there is no
// such file yet.
func readHead(path string) (audit.Head, bool, error) {
	var h audit.Head
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return h, false, nil
	}
	if err != nil {
		return h, false, err
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return h, false, fmt.Errorf("%s: not a kept head: %w", path, err)
	}
	return h, true, nil
}

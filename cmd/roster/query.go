package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// errNotAllowed is the failure of a check that is answered no.
var errNotAllowed = errors.New("not allowed")

// runCheck is "roster check USER ACCOUNT ACTION": it prints "allowed", or
// "denied" and why, as the Roster's Check answers; denied exits 1.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runQuestion(ctx, "check", args, stdout, stderr, func(d roster.Decision, w io.Writer) {
		if d.Allowed {
			fmt.Fprintln(w, "allowed")
		} else {
			fmt.Fprintf(w, "denied: %v\n", d.Err)
		}
	})
}

// runExplain is "roster explain USER ACCOUNT ACTION": it prints the
// Roster's Explain decision, field by field; denied exits 1.
func runExplain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runQuestion(ctx, "explain", args, stdout, stderr, func(d roster.Decision, w io.Writer) {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "user\t%s\n", d.User)
		fmt.Fprintf(tw, "account\t%s\n", d.Account)
		fmt.Fprintf(tw, "action\t%s\n", d.Action)
		role := string(d.Role)
		if role == "" {
			role = "(not a member)"
		}
		fmt.Fprintf(tw, "role\t%s\n", role)
		fmt.Fprintf(tw, "revision\t%d\n", d.Revision)
		fmt.Fprintf(tw, "allowed\t%t\n", d.Allowed)
		if d.Err != nil {
			fmt.Fprintf(tw, "reason\t%v\n", d.Err)
		}
		tw.Flush() // writes to w, whose own errors are the caller's
	})
}

// runQuestion parses USER ACCOUNT ACTION, asks the Roster's Explain and
// prints its answer with show. A question roster refuses as invalid (an
// unknown action, a malformed ID) exits 2, a denial 1.
func runQuestion(ctx context.Context, name string, args []string, stdout, stderr io.Writer, show func(roster.Decision, io.Writer)) int {
	fs := newFlags(name, name+" -db DB [-policy P] USER ACCOUNT ACTION", stderr)
	var f dbFlags
	f.addDB(fs)
	f.addPolicy(fs)
	pos, err := parse(fs, args, "USER", "ACCOUNT", "ACTION")
	if err != nil {
		return fail(stderr, name, err)
	}
	err = f.withSession(ctx, func(s *session) error {
		d := s.Explain(ctx, pos[0], pos[1], rbac.Action(pos[2]))
		if errors.Is(d.Err, store.ErrInvalid) {
			return d.Err
		}
		show(d, stdout)
		if !d.Allowed {
			return errNotAllowed
		}
		return nil
	})
	if errors.Is(err, errNotAllowed) {
		return exitFailure
	}
	if err != nil {
		return fail(stderr, name, err)
	}
	return exitOK
}

// runMembers is "roster members ACCOUNT -as USER": it prints the account's
// members table as USER sees it, reading it a page at a time.
func runMembers(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	const name = "members"
	fs := newFlags(name, "members -db DB [-policy P] ACCOUNT -as USER [-page N]", stderr)
	var f dbFlags
	f.addDB(fs)
	f.addPolicy(fs)
	as := fs.String("as", "", "the member whose view to show (required)")
	size := fs.Int("page", store.DefaultPageSize, "rows read per page")
	pos, err := parse(fs, args, "ACCOUNT")
	if err == nil && *as == "" {
		err = usagef("-as is required")
	}
	if err == nil && (*size < 1 || *size > store.MaxPageSize) {
		err = usagef("-page %d: want 1 to %d", *size, store.MaxPageSize)
	}
	if err != nil {
		return fail(stderr, name, err)
	}
	err = f.withSession(ctx, func(s *session) error {
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "USER\tNAME\tEMAIL\tROLE\tSTATUS\tJOINED\tOWNER")
		page := store.Page{Size: *size}
		for {
			rows, next, err := s.Teams.Members(ctx, *as, pos[0], page)
			if err != nil {
				return err
			}
			for _, m := range rows {
				owner := ""
				if m.Owner {
					owner = "owner"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.UserID, m.Name, m.Email, m.Role, m.Status, stamp(m.JoinedAt), owner)
			}
			if next == "" {
				return tw.Flush()
			}
			page.Cursor = next
		}
	})
	if err != nil {
		return fail(stderr, name, err)
	}
	return exitOK
}

// stamp formats t as a UTC time to the second, or "-" for the zero time.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/teamroster/roster/rbac"
)

// runPolicyTable is "roster policy table": it prints the policy's matrix,
// one row per action and one column per role, as Markdown or CSV.
func runPolicyTable(_ context.Context, args []string, stdout, stderr io.Writer) int {
	const name = "policy table"
	fs := newFlags(name, "policy table [-policy P] [-format markdown|csv]", stderr)
	var f dbFlags
	f.addPolicy(fs)
	format := fs.String("format", "markdown", "the output format: markdown or csv")
	if _, err := parse(fs, args); err != nil {
		return fail(stderr, name, err)
	}
	err := func() error {
		if *format != "markdown" && *format != "csv" {
			return usagef("-format %q: want markdown or csv", *format)
		}
		p, err := f.loadPolicy()
		if err != nil {
			return err
		}
		if *format == "csv" {
			return policyCSV(p, stdout)
		}
		return policyMarkdown(p, stdout)
	}()
	if err != nil {
		return fail(stderr, name, err)
	}
	return exitOK
}

// policyMarkdown writes p's matrix as a Markdown table, ✅ where a role
// holds an action and ❌ where it does not.
func policyMarkdown(p *rbac.Policy, w io.Writer) error {
	roles := p.Roles()
	var b strings.Builder
	b.WriteString("| action |")
	for _, r := range roles {
		fmt.Fprintf(&b, " %s |", r)
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", len(roles)) + "\n")
	for _, a := range p.Actions() {
		fmt.Fprintf(&b, "| %s |", a)
		for _, r := range roles {
			mark := "❌"
			if p.Allows(r, a) {
				mark = "✅"
			}
			fmt.Fprintf(&b, " %s |", mark)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// policyCSV writes p's matrix as CSV: a header of "action" and the roles,
// then one row per action with true or false per role.
func policyCSV(p *rbac.Policy, w io.Writer) error {
	cw := csv.NewWriter(w)
	roles := p.Roles()
	header := []string{"action"}
	for _, r := range roles {
		header = append(header, string(r))
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, a := range p.Actions() {
		row := []string{string(a)}
		for _, r := range roles {
			row = append(row, strconv.FormatBool(p.Allows(r, a)))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// runPolicyTest is "roster policy test FILE": it compares the policy's
// answers with the expected ones in FILE and prints each mismatch with its
// line; any mismatch, or a malformed file, exits 1.
func runPolicyTest(_ context.Context, args []string, stdout, stderr io.Writer) int {
	const name = "policy test"
	fs := newFlags(name, "policy test [-policy P] FILE\n\nFILE is CSV: a header role,action,allowed then one expected answer a line\n(allowed is true or false); lines starting with # are comments.", stderr)
	var f dbFlags
	f.addPolicy(fs)
	pos, err := parse(fs, args, "FILE")
	if err != nil {
		return fail(stderr, name, err)
	}
	p, err := f.loadPolicy()
	if err != nil {
		return fail(stderr, name, err)
	}
	file, err := os.Open(pos[0])
	if err != nil {
		return fail(stderr, name, err)
	}
	defer file.Close() // read only: closing cannot lose data
	cases, mismatches, err := testPolicy(p, file, func(line int, c policyCase, got bool) {
		fmt.Fprintf(stdout, "%s:%d: %s %s: want allowed=%t, policy %s says %t\n", pos[0], line, c.role, c.action, c.allowed, p.Name(), got)
	})
	if err != nil {
		return fail(stderr, name, fmt.Errorf("%s:%w", pos[0], err))
	}
	if mismatches > 0 {
		fmt.Fprintf(stderr, "roster %s: %d of %d expectations failed\n", name, mismatches, cases)
		return exitFailure
	}
	fmt.Fprintf(stdout, "ok: %d expectations hold for policy %s\n", cases, p.Name())
	return exitOK
}

// policyCase is one expected answer of a policy test file.
type policyCase struct {
	role    rbac.Role
	action  rbac.Action
	allowed bool
}

// errPolicyFile is the error of a malformed policy test file; its message
// starts with the line number.
var errPolicyFile = errors.New("malformed policy test file")

// testPolicy reads a policy test file from r, calls mismatch for every case
// p answers otherwise, and returns the number of cases and of mismatches.
// A malformed file (no header, a wrong field count, an unknown role or
// action, a value that is not true or false) stops it with an error naming
// the line as "LINE: ...".
func testPolicy(p *rbac.Policy, r io.Reader, mismatch func(line int, c policyCase, got bool)) (cases, mismatches int, err error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = 3
	cr.TrimLeadingSpace = true
	header := true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return cases, mismatches, fmt.Errorf("%d: %w: %v", pe.Line, errPolicyFile, pe.Err)
			}
			return cases, mismatches, err
		}
		line, _ := cr.FieldPos(0)
		if header {
			header = false
			if rec[0] != "role" || rec[1] != "action" || rec[2] != "allowed" {
				return cases, mismatches, fmt.Errorf("%d: %w: want the header role,action,allowed, got %s", line, errPolicyFile, strings.Join(rec, ","))
			}
			continue
		}
		c := policyCase{role: rbac.Role(rec[0]), action: rbac.Action(rec[1])}
		switch {
		case !p.HasRole(c.role):
			return cases, mismatches, fmt.Errorf("%d: %w: policy %s has no role %q", line, errPolicyFile, p.Name(), c.role)
		case !p.HasAction(c.action):
			return cases, mismatches, fmt.Errorf("%d: %w: policy %s has no action %q", line, errPolicyFile, p.Name(), c.action)
		}
		if c.allowed, err = strconv.ParseBool(rec[2]); err != nil {
			return cases, mismatches, fmt.Errorf("%d: %w: allowed is %q, want true or false", line, errPolicyFile, rec[2])
		}
		cases++
		if got := p.Allows(c.role, c.action); got != c.allowed {
			mismatches++
			mismatch(line, c, got)
		}
	}
	if header {
		return cases, mismatches, fmt.Errorf("1: %w: empty, want the header role,action,allowed", errPolicyFile)
	}
	return cases, mismatches, nil
}

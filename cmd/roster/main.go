// Command roster is the operator's tool for a roster database: it migrates
// the schema, prints and tests a policy, answers permission questions,
// lists members, queries, exports and verifies the audit log, and makes an
// audited emergency grant.
//
// Usage:
//
//	roster migrate -db DB [-check]
//	roster migrate -export DIR -dialect sqlite|postgres
//	roster policy table [-policy P] [-format markdown|csv]
//	roster policy test [-policy P] FILE
//	roster check -db DB [-policy P] USER ACCOUNT ACTION
//	roster explain -db DB [-policy P] USER ACCOUNT ACTION
//	roster members -db DB [-policy P] ACCOUNT -as USER
//	roster audit query -db DB [-policy P] ACCOUNT -as USER [filters]
//	roster audit export -db DB [-policy P] ACCOUNT -as USER -format csv|ndjson [-o FILE]
//	roster audit verify -db DB [-policy P] ACCOUNT -as USER [-head FILE]
//	roster grant -db DB [-policy P] USER ACCOUNT ROLE -operator NAME
//
// DB is the path of a SQLite file or a PostgreSQL URL (postgres://...).
// P is runpod (the default), digitalocean, or MODEL.conf,POLICY.csv. Flags
// may come before or after the arguments. Only migrate changes the schema
// or creates a SQLite file; the other commands refuse a database whose
// schema is not at this version.
//
// The exit status is 0 on success, 1 on failure (including a check that
// is denied and a policy test with mismatches) and 2 for a usage error: an
// unknown command or flag, a missing or malformed argument, or input that
// roster refuses as invalid.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/teamroster/roster/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

const usage = `usage: roster COMMAND [flags] [arguments]

commands:
  migrate        bring the schema up to date; -check reports it; -export writes the SQL
  policy table   print a policy's role x action matrix
  policy test    compare a policy with a CSV file of expected answers
  check          ask whether a user may perform an action in an account
  explain        the same, with the role and the reason
  members        list an account's members
  audit query    list an account's audit events
  audit export   write an account's audit log as CSV or NDJSON
  audit verify   verify an account's audit hash chain
  grant          give a user a role, as an operator, audited

Run 'roster COMMAND -h' for a command's flags.
`

// command is one subcommand: it parses its own arguments and returns the
// exit status.
type command func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// run runs the command line args (without the program name), writing its
// output to stdout and its messages to stderr, and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	commands := map[string]command{
		"migrate": runMigrate,
		"policy":  group("policy", map[string]command{"table": runPolicyTable, "test": runPolicyTest}),
		"check":   runCheck,
		"explain": runExplain,
		"members": runMembers,
		"audit":   group("audit", map[string]command{"query": runAuditQuery, "export": runAuditExport, "verify": runAuditVerify}),
		"grant":   runGrant,
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "roster: unknown command %q\n%s", args[0], usage)
		return exitUsage
	}
	return cmd(ctx, args[1:], stdout, stderr)
}

// group returns a command that runs one of subs, named by its first
// argument.
func group(name string, subs map[string]command) command {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		if len(args) == 0 {
			fmt.Fprintf(stderr, "roster %s: missing subcommand (%s)\n", name, strings.Join(sortedKeys(subs), ", "))
			return exitUsage
		}
		cmd, ok := subs[args[0]]
		if !ok {
			fmt.Fprintf(stderr, "roster %s: unknown subcommand %q (%s)\n", name, args[0], strings.Join(sortedKeys(subs), ", "))
			return exitUsage
		}
		return cmd(ctx, args[1:], stdout, stderr)
	}
}

// usageError is an error in the command line: it exits with exitUsage.
// A reported one has been written to stderr already (by the flag package).
type usageError struct {
	msg      string
	reported bool
}

func (e usageError) Error() string { return e.msg }

// usagef returns a usageError with a formatted message.
func usagef(format string, a ...any) error { return usageError{msg: fmt.Sprintf(format, a...)} }

// errHelp reports that -h was given: the flag set has printed its usage.
var errHelp = errors.New("help requested")

// fail writes err, prefixed with the command's name, to stderr and returns
// the exit status it calls for: exitUsage for a usage error or an input
// roster refuses as invalid, exitOK after -h, exitFailure otherwise.
func fail(stderr io.Writer, name string, err error) int {
	if errors.Is(err, errHelp) {
		return exitOK
	}
	var u usageError
	isUsage := errors.As(err, &u)
	if !isUsage || !u.reported {
		fmt.Fprintf(stderr, "roster %s: %v\n", name, err)
	}
	if isUsage || errors.Is(err, store.ErrInvalid) {
		return exitUsage
	}
	return exitFailure
}

// newFlags returns an empty flag set for the command name that writes its
// usage, headed by synopsis, to stderr.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: roster %s\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args with fs, allowing flags after the arguments as well as
// before them (everything after "--" is an argument), and returns the
// arguments, checking that there are want of them.
func parse(fs *flag.FlagSet, args []string, want ...string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, usageError{msg: err.Error(), reported: true}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	if len(pos) != len(want) {
		if len(want) == 0 {
			return nil, usagef("unexpected arguments: %s", strings.Join(pos, " "))
		}
		args := "arguments"
		if len(want) == 1 {
			args = "argument"
		}
		return nil, usagef("want %d %s (%s), got %d", len(want), args, strings.Join(want, " "), len(pos))
	}
	for i, p := range pos {
		if p == "" {
			return nil, usagef("%s is empty", want[i])
		}
	}
	return pos, nil
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

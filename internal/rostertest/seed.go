package rostertest

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/teamroster/roster/internal/testdb"
)

// EnvSeed names the environment variable that replays a random test: set
// it to the seed a run printed, and the test makes the same random choices
// again. It is the one way every random test of the module takes a seed.
const EnvSeed = "ROSTER_SEED"

// EnvSoak names the environment variable that makes the random tests soak:
// set to a duration (such as 10m), TestModel and TestCrash keep going until
// it has passed, instead of stopping after their usual number of runs.
const EnvSoak = "ROSTER_SOAK"

// LookupSeed returns the seed EnvSeed holds and true, or false if it is
// unset. It returns an error if EnvSeed is set to something other than an
// unsigned decimal integer.
func LookupSeed() (uint64, bool, error) {
	v, ok := os.LookupEnv(EnvSeed)
	if !ok || v == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("%s=%q is not a seed: %w", EnvSeed, v, err)
	}
	return n, true, nil
}

// Seed returns the seed of tb's random choices: EnvSeed's value if it is
// set, else a new random one. It logs the seed with the command that
// replays it when tb starts, and again if tb fails, so that the seed stands
// beside the failure. It fails tb if EnvSeed is malformed.
func Seed(tb testing.TB) uint64 {
	tb.Helper()
	seed, ok, err := LookupSeed()
	if err != nil {
		tb.Fatal(err)
	}
	if !ok {
		seed = rand.Uint64()
	}
	LogSeed(tb, seed)
	return seed
}

// LogSeed logs seed as the seed of tb with the command that replays it, now
// and again if tb fails, for a test whose seed does not come from Seed.
func LogSeed(tb testing.TB, seed uint64) {
	tb.Helper()
	line := fmt.Sprintf("seed %d; replay: %s=%d go test -run '%s' %s", seed, EnvSeed, seed, RunPattern(tb.Name()), packageDir())
	tb.Log(line)
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Log("failed with " + line)
		}
	})
}

// RunPattern returns the -run pattern that selects exactly the test or
// subtest of the given name (as testing.T.Name returns it).
func RunPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// Soak returns how long a soak run lasts and true if EnvSoak is set, and
// false otherwise. It fails tb if EnvSoak is not a positive duration.
func Soak(tb testing.TB) (time.Duration, bool) {
	tb.Helper()
	v := os.Getenv(EnvSoak)
	if v == "" {
		return 0, false
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		tb.Fatalf("%s=%q is not a positive duration such as 10m", EnvSoak, v)
	}
	return d, true
}

// Main is the body of the TestMain of a package with PostgreSQL tests: it
// runs the tests and, if some skipped themselves because
// testdb.EnvPostgres is unset, prints one line saying how many and how to
// run them, then exits with the tests' status.
//
// go test shows a passing package's output only with -v, so without -v
// the line goes to the go command's own output when this process can
// reach it (its parent's standard output, on Linux, when that is a
// terminal or a pipe); otherwise only -v or a failure shows it. A result
// go test took from its cache prints nothing: the tests did not run.
func Main(m *testing.M) {
	code := m.Run()
	if n := testdb.Skipped(); n > 0 {
		out := skipOutput()
		tests, them := "tests", "them"
		if n == 1 {
			tests, them = "test", "it"
		}
		fmt.Fprintf(out, "%s: %d PostgreSQL %s skipped; run %s with %s='postgres://user@host:5432/db?sslmode=disable' go test ./...\n",
			packageDir(), n, tests, them, testdb.EnvPostgres)
		if out != os.Stdout {
			_ = out.Close() // written; nothing to recover on close
		}
	}
	os.Exit(code)
}

// skipOutput returns where Main's line goes: the test binary's standard
// output when go test shows it (-v, -json), else the go command's.
func skipOutput() *os.File {
	if v := flag.Lookup("test.v"); v != nil && v.Value.String() != "false" {
		return os.Stdout
	}
	parent := fmt.Sprintf("/proc/%d/fd/1", os.Getppid())
	// A regular file is written at the go command's own offset: opening it
	// again would write over its output. Terminals and pipes are safe.
	if fi, err := os.Stat(parent); err != nil || fi.Mode().IsRegular() {
		return os.Stdout
	}
	f, err := os.OpenFile(parent, os.O_WRONLY, 0)
	if err != nil {
		return os.Stdout
	}
	return f
}

// packageDir returns the directory of the package under test relative to
// the module root, as go test names it (./teams, or . for the root), or
// "." if the module root cannot be found.
func packageDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			rel, err := filepath.Rel(dir, wd)
			if err != nil || rel == "." {
				return "."
			}
			return "./" + filepath.ToSlash(rel)
		}
		if filepath.Dir(dir) == dir {
			return "."
		}
	}
}

package roster_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// crashChild and crashBackend name the environment variables that make
// TestCrash the child process: the database to work on (a SQLite file or
// a PostgreSQL DSN) and its backend.
const (
	crashChild   = "ROSTER_CRASH_CHILD"
	crashBackend = "ROSTER_CRASH_BACKEND"
)

const crashUsers = "crash-u"

// TestCrash runs, on each backend, a child process that does random
// operations on one database and kills it with SIGKILL at a random moment,
// many times over on the same database; after every kill it reopens the
// database and checks the invariants, the audit chains, and that the
// in-memory index loaded from it equals the stored members. The kill times
// and the children's seeds come from the logged seed (see
// rostertest.Seed). With rostertest.EnvSoak set it goes on until the soak's
// time is up.
func TestCrash(t *testing.T) {
	if dsn := os.Getenv(crashChild); dsn != "" {
		crashWork(os.Getenv(crashBackend), dsn)
		return
	}
	soak, soaking := rostertest.Soak(t)
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		cycles := 25 // a PostgreSQL cycle costs seconds: its reopening migrates and listens
		if b.Name == "postgres" {
			cycles = 10
		}
		if testing.Short() {
			cycles /= 3
		}
		rng := rand.New(rand.NewPCG(rostertest.Seed(t), 0))
		dsn := b.DSN(t)
		deadline := time.Now().Add(soak)
		var ops, memberships, cycle int
		for ; soaking && time.Now().Before(deadline) || !soaking && cycle < cycles; cycle++ {
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$", "-test.count=1")
			cmd.Env = append(os.Environ(), crashChild+"="+dsn, crashBackend+"="+b.Name,
				rostertest.EnvSeed+"="+strconv.FormatUint(rng.Uint64(), 10))
			cmd.Stderr = os.Stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := bufio.NewScanner(out)
			// The child says "ready" once it has opened the database, then
			// prints a line per operation done.
			if !lines.Scan() || lines.Text() != "ready" {
				_ = cmd.Process.Kill()
				t.Fatalf("cycle %d: the child did not start: %q %v (%v)", cycle, lines.Text(), lines.Err(), cmd.Wait())
			}
			n := make(chan int)
			go func() {
				c := 0
				for lines.Scan() {
					if lines.Text() != "op" {
						t.Errorf("child: %s", lines.Text())
					}
					c++
				}
				n <- c
			}()
			time.Sleep(time.Duration(20+rng.IntN(400)) * time.Millisecond)
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			err = cmd.Wait()
			done := <-n
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("cycle %d: the child ended on its own, not killed: %v", cycle, err)
			}
			ops += done
			memberships = crashCheck(t, b, dsn)
		}
		if !t.Failed() {
			t.Logf("crashes survived: %d, operations done by the killed processes: %d, memberships at the end: %d, invariant violations: 0",
				cycle, ops, memberships)
		}
	})
}

// crashOpen opens a Roster with the Runpod policy on the database of
// backend b, and the store under it, which closing the Roster leaves open.
func crashOpen(ctx context.Context, backend, dsn string, opts ...roster.Option) (*roster.Roster, store.Store, error) {
	for _, b := range testdb.Backends() {
		if b.Name != backend {
			continue
		}
		s, err := b.Open(dsn)
		if err != nil {
			return nil, nil, err
		}
		r, err := roster.New(ctx, s, rbac.Runpod(), opts...)
		if err != nil {
			return nil, nil, errors.Join(err, s.Close())
		}
		return r, s, nil
	}
	return nil, nil, fmt.Errorf("no backend %q", backend)
}

// crashCheck reopens the database and checks it, returning the number of
// memberships.
func crashCheck(t *testing.T, b testdb.Backend, dsn string) int {
	t.Helper()
	ctx := context.Background()
	r, s, err := crashOpen(ctx, b.Name, dsn)
	if err != nil {
		t.Fatalf("reopen after the crash: %v", err)
	}
	defer func() {
		if err := errors.Join(r.Close(), s.Close()); err != nil {
			t.Error(err)
		}
	}()
	d, err := rostertest.NewDriver(ctx, r, &rostertest.Inbox{}, crashUsers, 6)
	if err != nil {
		t.Fatalf("users after the crash: %v", err)
	}
	// A second handle, to read the database as stored. It is closed here,
	// not when t ends: a soak runs hundreds of checks in one test.
	read, err := b.Open(dsn)
	if err != nil {
		t.Fatalf("open a second store: %v", err)
	}
	defer func() {
		if err := read.Close(); err != nil {
			t.Error(err)
		}
	}()
	return rostertest.CheckInvariants(t, r, read, d.Users())
}

// TestCrashCheckClosesItsConnections checks that crashCheck leaves no
// connection open: a soak runs it hundreds of times in one test, and
// PostgreSQL refuses connections past max_connections.
func TestCrashCheckClosesItsConnections(t *testing.T) {
	b := testdb.Backends()[1]
	dsn := b.DSN(t)
	func() { // a database with a team, as a crash leaves it
		r, s, err := crashOpen(context.Background(), b.Name, dsn)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Error(err)
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()
	for range 3 {
		crashCheck(t, b, dsn)
	}
	// A closed connection's server process leaves pg_stat_activity when it
	// has exited, a moment after the client hung up (longer on a loaded
	// machine); a leaked one stays.
	n := testdb.Sessions(t, dsn)
	for deadline := time.Now().Add(10 * time.Second); n != 0 && time.Now().Before(deadline); n = testdb.Sessions(t, dsn) {
		time.Sleep(50 * time.Millisecond)
	}
	if n != 0 {
		t.Fatalf("10 s after three checks, %d connections are still open on the test's schema, want 0", n)
	}
}

// crashWork is the child: random operations on the database, drawn from
// the seed its parent gave it, until it is killed. It exits with status 2
// on an error no caller should see.
func crashWork(backend, dsn string) {
	ctx := context.Background()
	fail := func(err error) {
		fmt.Println(err)
		os.Exit(2)
	}
	seed, ok, err := rostertest.LookupSeed()
	if err != nil || !ok {
		fail(fmt.Errorf("the child needs %s: %v", rostertest.EnvSeed, err))
	}
	box := &rostertest.Inbox{}
	r, _, err := crashOpen(ctx, backend, dsn, roster.WithNotifier(box), roster.WithBaseURL("https://app.example.com/team"))
	if err != nil {
		fail(err)
	}
	d, err := rostertest.NewDriver(ctx, r, box, crashUsers, 6)
	if err != nil {
		fail(err)
	}
	fmt.Println("ready")
	rng := rand.New(rand.NewPCG(seed, 0))
	for {
		op, err := d.Step(ctx, rng)
		if err != nil && rostertest.Unexpected(err) {
			fail(fmt.Errorf("%s: %w", op, err))
		}
		fmt.Println("op")
	}
}

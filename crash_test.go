package roster_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/store/sqlstore"
)

// crashChild names the environment variable that makes TestCrash the child
// process: its value is the SQLite file to work on.
const crashChild = "ROSTER_CRASH_CHILD"

const crashUsers = "crash-u"

// TestCrash runs a child process that does random operations on a SQLite
// file and kills it with SIGKILL at a random moment, many times over on the
// same file; after every kill it reopens the file and checks the
// invariants, the audit chains, and that the in-memory index loaded from
// the file equals the stored members.
func TestCrash(t *testing.T) {
	if path := os.Getenv(crashChild); path != "" {
		crashWork(path)
		return
	}
	cycles := 25
	if testing.Short() {
		cycles = 8
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	var ops, memberships int
	for cycle := range cycles {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChild+"="+path)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		// The child says "ready" once it has opened the file, then prints a
		// line per operation done.
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
		time.Sleep(time.Duration(20+rand.IntN(400)) * time.Millisecond)
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
		memberships = crashCheck(t, path)
	}
	if !t.Failed() {
		t.Logf("crashes survived: %d, operations done by the killed processes: %d, memberships at the end: %d, invariant violations: 0",
			cycles, ops, memberships)
	}
}

// crashCheck reopens the file and checks it, returning the number of
// memberships.
func crashCheck(t *testing.T, path string) int {
	t.Helper()
	ctx := context.Background()
	r, err := roster.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen after the crash: %v", err)
	}
	defer func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	}()
	d, err := rostertest.NewDriver(ctx, r, &rostertest.Inbox{}, crashUsers, 6)
	if err != nil {
		t.Fatalf("users after the crash: %v", err)
	}
	s, err := sqlstore.OpenSQLite(path) // a second handle, to read the file as stored
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()
	return rostertest.CheckInvariants(t, r, s, d.Users())
}

// crashWork is the child: random operations on the file until it is
// killed. It exits with status 2 on an error no caller should see.
func crashWork(path string) {
	ctx := context.Background()
	fail := func(err error) {
		fmt.Println(err)
		os.Exit(2)
	}
	box := &rostertest.Inbox{}
	r, err := roster.Open(ctx, path, roster.WithNotifier(box), roster.WithBaseURL("https://app.example.com/team"))
	if err != nil {
		fail(err)
	}
	d, err := rostertest.NewDriver(ctx, r, box, crashUsers, 6)
	if err != nil {
		fail(err)
	}
	fmt.Println("ready")
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	for {
		op, err := d.Step(ctx, rng)
		if err != nil && rostertest.Unexpected(err) {
			fail(fmt.Errorf("%s: %w", op, err))
		}
		fmt.Println("op")
	}
}

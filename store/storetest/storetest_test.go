package storetest_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/store/storetest"
)

// TestSuite runs the suite on the default Store, SQLite, from the suite's
// own package.
func TestSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return testdb.Backends()[0].Store(t) })
}

// forgetful is a Store whose UpdateUser reports success and writes nothing.
type forgetful struct{ store.Store }

func (f forgetful) Update(ctx context.Context, fn func(store.Tx) error) (store.Commit, error) {
	return f.Store.Update(ctx, func(tx store.Tx) error { return fn(forgetfulTx{tx}) })
}

type forgetfulTx struct{ store.Tx }

func (forgetfulTx) UpdateUser(context.Context, store.User) error { return nil }

// TestSuiteCatchesABrokenStore runs the suite's users area, in a child
// process, on a Store whose UpdateUser writes nothing, and checks that the
// suite fails it where it should.
func TestSuiteCatchesABrokenStore(t *testing.T) {
	if os.Getenv("STORETEST_FORGETFUL") == "1" {
		storetest.Run(t, func(t *testing.T) store.Store { return forgetful{testdb.Backends()[0].Store(t)} })
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSuiteCatchesABrokenStore$/users/", "-test.v")
	cmd.Env = append(os.Environ(), "STORETEST_FORGETFUL=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the suite passed a Store whose UpdateUser writes nothing:\n%s", out)
	}
	if !strings.Contains(string(out), "--- FAIL: TestSuiteCatchesABrokenStore/users/update_user_replaces_email,_name_and_sign-in") {
		t.Errorf("the suite did not fail the subtest about UpdateUser:\n%s", out)
	}
}

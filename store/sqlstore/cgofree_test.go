package sqlstore_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teamroster/roster/internal/testdb"
)

// TestPostgresProgramBuildsWithoutCgo builds testdata/cgofree, a
// PostgreSQL-only program, with CGO_ENABLED=0 and runs it: opening SQLite
// fails with ErrNoCgo, and with the PostgreSQL DSN set, roster works there.
func TestPostgresProgramBuildsWithoutCgo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build with: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "cgofree")
	build := exec.Command(goBin, "build", "-o", bin, "./testdata/cgofree")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
	if out, err := exec.Command(goBin, "version", "-m", bin).CombinedOutput(); err != nil || !strings.Contains(string(out), "CGO_ENABLED=0") {
		t.Fatalf("the program's build settings do not say CGO_ENABLED=0 (%v):\n%s", err, out)
	}
	args := []string{testdb.SQLitePath(t)}
	want := "sqlite: refused without cgo\n"
	if os.Getenv(testdb.EnvPostgres) != "" {
		args = append(args, testdb.Postgres(t))
		want += "postgres: ok\n"
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil || string(out) != want {
		t.Errorf("the program printed %q (%v), want %q", out, err, want)
	}
}

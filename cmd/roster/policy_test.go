package main_test

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/teamroster/roster/rbac"
)

func TestPolicyTable(t *testing.T) {
	t.Run("markdown of the runpod preset", func(t *testing.T) {
		roster(t, "policy", "table").want(t, 0,
			"| action | basic | billing | dev | admin |\n|---|---|---|---|---|\n",
			"| pods.manage | ❌ | ❌ | ✅ | ✅ |\n",
			"| billing.read | ❌ | ✅ | ❌ | ✅ |\n")
	})
	for _, p := range []*rbac.Policy{rbac.Runpod(), rbac.DigitalOcean()} {
		t.Run("csv of "+p.Name()+" answers as the policy does", func(t *testing.T) {
			res := roster(t, "policy", "table", "-policy", p.Name(), "-format", "csv")
			res.want(t, 0)
			checkMatrix(t, p, res.stdout)
		})
	}
	t.Run("a policy from files", func(t *testing.T) {
		res := roster(t, "policy", "table", "-format", "csv", "-policy", "../../rbac/model.conf,../../rbac/digitalocean.csv")
		res.want(t, 0)
		checkMatrix(t, rbac.DigitalOcean(), res.stdout)
	})
	t.Run("bad flags exit 2", func(t *testing.T) {
		roster(t, "policy", "table", "-format", "html").want(t, 2, `-format "html": want markdown or csv`)
		roster(t, "policy", "table", "-policy", "aws").want(t, 2, `-policy "aws"`)
		roster(t, "policy", "table", "extra").want(t, 2, "unexpected arguments: extra")
	})
	t.Run("missing policy files exit 1", func(t *testing.T) {
		roster(t, "policy", "table", "-policy", "no.conf,no.csv").want(t, 1, "no.conf")
	})
}

// checkMatrix fails t unless the CSV matrix out holds p's answer for every
// role and action.
func checkMatrix(t *testing.T, p *rbac.Policy, out string) {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(p.Actions())+1 {
		t.Fatalf("%d rows, want a header and %d actions", len(rows), len(p.Actions()))
	}
	for i, a := range p.Actions() {
		row := rows[i+1]
		if row[0] != string(a) {
			t.Fatalf("row %d is %s, want %s", i+1, row[0], a)
		}
		for j, r := range p.Roles() {
			if rows[0][j+1] != string(r) {
				t.Fatalf("column %d is %s, want %s", j+1, rows[0][j+1], r)
			}
			if got, _ := strconv.ParseBool(row[j+1]); got != p.Allows(r, a) {
				t.Errorf("%s %s: table says %s, policy %t", r, a, row[j+1], p.Allows(r, a))
			}
		}
	}
}

func TestPolicyTest(t *testing.T) {
	write := func(t *testing.T, text string) string {
		t.Helper()
		path := filepath.Join(t.TempDir(), "expect.csv")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	t.Run("expectations that hold exit 0", func(t *testing.T) {
		path := write(t, "role,action,allowed\n# devs run pods\ndev,pods.manage,true\nbasic,pods.manage,false\nadmin, audit.read, true\n")
		roster(t, "policy", "test", path).want(t, 0, "ok: 3 expectations hold for policy runpod")
	})
	t.Run("each mismatch is printed with its line and exits 1", func(t *testing.T) {
		path := write(t, "role,action,allowed\ndev,pods.manage,true\nbilling,pods.manage,true\nbasic,billing.read,true\n")
		res := roster(t, "policy", "test", path)
		res.want(t, 1, path+":3: billing pods.manage: want allowed=true, policy runpod says false",
			path+":4: basic billing.read: want allowed=true", "2 of 3 expectations failed")
	})
	t.Run("the policy flag chooses the policy", func(t *testing.T) {
		path := write(t, "role,action,allowed\nowner,members.manage,true\nmember,members.manage,false\n")
		roster(t, "policy", "test", "-policy", "digitalocean", path).want(t, 0, "ok: 2 expectations hold for policy digitalocean")
	})
	for _, c := range []struct{ name, text, want string }{
		{"an unknown role", "role,action,allowed\ndev,pods.manage,true\nroot,pods.manage,true\n", ":3: malformed policy test file: policy runpod has no role \"root\""},
		{"an unknown action", "role,action,allowed\ndev,pods.fly,true\n", ":2: malformed policy test file: policy runpod has no action \"pods.fly\""},
		{"a value that is not a boolean", "role,action,allowed\ndev,pods.manage,maybe\n", `:2: malformed policy test file: allowed is "maybe"`},
		{"a wrong field count", "role,action,allowed\ndev,pods.manage\n", ":2: malformed policy test file: wrong number of fields"},
		{"a missing header", "dev,pods.manage,true\n", ":1: malformed policy test file: want the header role,action,allowed"},
		{"an empty file", "", ":1: malformed policy test file: empty"},
	} {
		t.Run("a file with "+c.name+" names its line and exits 1", func(t *testing.T) {
			path := write(t, c.text)
			roster(t, "policy", "test", path).want(t, 1, path+c.want)
		})
	}
	t.Run("a missing file exits 1", func(t *testing.T) {
		roster(t, "policy", "test", filepath.Join(t.TempDir(), "none.csv")).want(t, 1, "none.csv")
	})
	t.Run("no file exits 2", func(t *testing.T) {
		roster(t, "policy", "test").want(t, 2, "want 1 argument (FILE), got 0")
	})
}

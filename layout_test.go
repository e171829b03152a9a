package roster_test

import (
	"go/build"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/teamroster/roster"

// TestImportDirection holds the import rules of the design: imports run one
// way, downward; store needs only the standard library (its one module
// import, internal/text, needs nothing else); rbac is the only package that
// imports Casbin (the gorm adapter in sqlstore aside), and imports of the
// module only store, for the kinds of error; OpenTelemetry comes in through
// its API alone (the root package and internal/txn), never its SDK, which
// is the host's choice.
func TestImportDirection(t *testing.T) {
	// For each package (relative to the module root), the module packages it
	// may import and whether it may import packages from outside the
	// standard library.
	rules := map[string]struct {
		internal []string
		external func(path string) bool
	}{
		".":                   {internal: []string{"teams", "invites", "audit", "apikeys", "notify", "rbac", "store", "store/sqlstore", "internal/authz", "internal/check", "internal/index", "internal/token", "internal/txn"}, external: otelAPI},
		"store":               {internal: []string{"internal/text"}},
		"store/sqlstore":      {internal: []string{"store"}, external: prefixes("gorm.io/", "github.com/casbin/gorm-adapter/", "github.com/jackc/", "github.com/mattn/go-sqlite3")},
		"store/storetest":     {internal: []string{"store", "internal/overlap"}, external: prefixes("github.com/google/go-cmp/")},
		"rbac":                {internal: []string{"store"}, external: prefixes("github.com/casbin/casbin/v2")},
		"internal/txn":        {internal: []string{"store", "rbac", "internal/authz", "internal/chain", "internal/text"}, external: otelAPI},
		"internal/authz":      {internal: []string{"store", "rbac"}},
		"internal/index":      {internal: []string{"store", "rbac"}},
		"internal/chain":      {internal: []string{"store"}},
		"internal/token":      {internal: []string{"store"}},
		"internal/cursor":     {internal: []string{"store"}},
		"internal/check":      {internal: []string{"store"}},
		"internal/text":       {},
		"internal/overlap":    {internal: []string{"store"}},
		"internal/testdb":     {internal: []string{"store/sqlstore"}, external: prefixes("github.com/jackc/pgx/v5")},
		"internal/rostertest": {internal: []string{".", "teams", "invites", "audit", "apikeys", "notify", "rbac", "store", "internal/testdb"}},
		"notify":              {internal: []string{"store", "rbac"}},
		"teams":               {internal: []string{"store", "rbac", "notify", "internal/txn", "internal/token", "internal/check", "internal/cursor"}},
		"invites":             {internal: []string{"store", "rbac", "notify", "internal/txn", "internal/authz", "internal/token", "internal/check", "internal/cursor"}},
		"apikeys":             {internal: []string{"store", "rbac", "internal/txn", "internal/token", "internal/check", "internal/cursor"}},
		"audit":               {internal: []string{"store", "rbac", "internal/txn", "internal/chain", "internal/check", "internal/text", "internal/cursor"}},
		// The team API uses roster's public API only, as a host would.
		"teamapi": {internal: []string{".", "teams", "invites", "audit", "apikeys", "rbac", "store"}},
		"bench":   {}, // benchmarks only: its test files import what they measure
		// The operator's CLI uses roster's public API only.
		"cmd/roster": {internal: []string{".", "audit", "rbac", "store", "store/sqlstore"}},
	}
	seen := map[string]bool{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		pkg, err := build.ImportDir(path, 0)
		if _, ok := err.(*build.NoGoError); ok {
			return nil
		}
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(path)
		if strings.HasPrefix(rel, "examples/") {
			// An example is a main package that reads whole: it may import
			// anything a user would, but no code of another example.
			if pkg.Name != "main" {
				t.Errorf("%s: examples are main packages, found package %s", rel, pkg.Name)
			}
			for _, imp := range slices.Concat(pkg.Imports, pkg.TestImports, pkg.XTestImports) {
				if imp == module+"/examples" || strings.HasPrefix(imp, module+"/examples/") {
					t.Errorf("%s imports %s: an example shows all its code, sharing none with another", rel, imp)
				}
			}
			return nil
		}
		rule, ok := rules[rel]
		if !ok {
			t.Errorf("%s: no import rule for this package: add one to TestImportDirection", rel)
			return nil
		}
		seen[rel] = true
		for _, imp := range pkg.Imports {
			switch {
			case imp == module || strings.HasPrefix(imp, module+"/"):
				target := strings.TrimPrefix(strings.TrimPrefix(imp, module), "/")
				if target == "" {
					target = "."
				}
				if !slices.Contains(rule.internal, target) {
					t.Errorf("%s imports %s, which the design forbids", rel, imp)
				}
			case !strings.Contains(strings.Split(imp, "/")[0], "."):
				// standard library
			case rule.external == nil || !rule.external(imp):
				t.Errorf("%s imports %s: only the standard library%s is allowed", rel, imp, map[bool]string{true: " and its listed dependencies"}[rule.external != nil])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for rel := range rules {
		if !seen[rel] {
			t.Errorf("package %s of the design is missing", rel)
		}
	}
}

// otelAPI reports whether path is a package of OpenTelemetry's API (otel,
// its attribute, codes, trace and metric packages), not of its SDK.
func otelAPI(path string) bool {
	return prefixes("go.opentelemetry.io/otel/")(path) && !prefixes("go.opentelemetry.io/otel/sdk/")(path)
}

func prefixes(ps ...string) func(string) bool {
	return func(path string) bool {
		for _, p := range ps {
			if strings.HasPrefix(path, p) || path == strings.TrimSuffix(p, "/") {
				return true
			}
		}
		return false
	}
}

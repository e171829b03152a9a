package rbac_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/teamroster/roster/rbac"
)

// testModel is roster's model with known line numbers: r on line 2, p on 5,
// g on 8, e on 11 and m on 14.
const testModel = `[request_definition]
r = sub, dom, act

[policy_definition]
p = sub, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.act == p.act
`

// testPolicy is a valid policy whose rules are on lines 2 to 6.
const testPolicy = `# admins do everything
p, admin, members.invite
p, admin, members.manage
p, admin, settings.manage
p, admin, audit.read
p, viewer, audit.read
`

func TestParseErrors(t *testing.T) {
	library := "p, admin, members.invite\np, admin, members.manage\np, admin, settings.manage\np, admin, audit.read\n"
	tests := []struct {
		name    string
		model   string // testModel if empty
		policy  string
		wantErr error
		wantMsg string
	}{
		// Policy files.
		{
			name:    "missing library actions are named",
			policy:  "p, admin, members.manage\np, admin, settings.manage\n",
			wantErr: rbac.ErrInvalidPolicy,
			wantMsg: "rbac: team.csv: missing library actions members.invite, audit.read",
		},
		{
			name:    "no role holds every action",
			policy:  "p, admin, members.invite\np, admin, members.manage\np, owner, settings.manage\np, owner, audit.read\n",
			wantErr: rbac.ErrInvalidPolicy,
			wantMsg: "rbac: team.csv: no role holds every action",
		},
		{
			name:    "grouping rule",
			policy:  library + "g, alice, admin, acme\n",
			wantErr: rbac.ErrInvalidPolicy,
			wantMsg: "team.csv:5: g rule: grouping rules belong in the store",
		},
		{
			name:    "numbered grouping rule",
			policy:  library + "\n# comment\ng2, alice, admin\n",
			wantErr: rbac.ErrInvalidPolicy,
			wantMsg: "team.csv:7: g2 rule: grouping rules belong in the store",
		},
		{
			name:    "unknown rule type",
			policy:  library + "p2, admin, audit.read\n",
			wantErr: rbac.ErrInvalidPolicy,
			wantMsg: `team.csv:5: unknown rule type "p2"`,
		},
		{
			name:    "too few fields",
			policy:  "p, admin\n" + library,
			wantErr: rbac.ErrInvalidPolicy,
			wantMsg: "team.csv:1: p rule has 2 fields, want 3",
		},
		{
			name:    "too many fields",
			policy:  library + "p, admin, audit.read, allow\n",
			wantErr: rbac.ErrInvalidPolicy,
			wantMsg: "team.csv:5: p rule has 4 fields, want 3",
		},
		{
			name:    "duplicate rule names both lines",
			policy:  library + "\np,admin,  members.manage\n",
			wantErr: rbac.ErrInvalidPolicy,
			wantMsg: "team.csv:6: duplicate rule p, admin, members.manage (first on line 2)",
		},
		{
			name:    "empty role",
			policy:  library + "p, , audit.read\n",
			wantErr: rbac.ErrInvalidPolicy,
			wantMsg: `team.csv:5: role "" is empty`,
		},
		{
			name:    "empty action",
			policy:  library + "p, admin,\n",
			wantErr: rbac.ErrInvalidPolicy,
			wantMsg: `team.csv:5: action "" is empty`,
		},
		{
			name:    "wildcard role",
			policy:  library + "p, *, audit.read\n",
			wantErr: rbac.ErrInvalidPolicy,
			wantMsg: `team.csv:5: role "*" is "*"`,
		},
		{
			name:    "comma in a name",
			policy:  library + "p, ad,min, audit.read\n",
			wantErr: rbac.ErrInvalidPolicy,
			wantMsg: "team.csv:5: p rule has 4 fields",
		},
		{
			name:    "space in a name",
			policy:  library + "p, ad min, audit.read\n",
			wantErr: rbac.ErrInvalidPolicy,
			wantMsg: `team.csv:5: role "ad min" contains a space`,
		},
		{
			name:    "space before a comma",
			policy:  library + "p, admin , audit.read\n",
			wantErr: rbac.ErrInvalidPolicy,
			wantMsg: `team.csv:5: role "admin " ends with a space`,
		},
		{
			name:    "double quote in a name",
			policy:  library + "p, admin, \"audit.read\"\n",
			wantErr: rbac.ErrInvalidPolicy,
			wantMsg: `team.csv:5: action "\"audit.read\"" contains a double quote`,
		},
		{
			name:    "control character in a name",
			policy:  library + "p, ad\x01min, audit.read\n",
			wantErr: rbac.ErrInvalidPolicy,
			wantMsg: "team.csv:5: role \"ad\\x01min\" contains the unprintable character U+0001",
		},
		{
			name:    "invalid UTF-8 in a name",
			policy:  library + "p, ad\xffmin, audit.read\n",
			wantErr: rbac.ErrInvalidPolicy,
			wantMsg: "team.csv:5: role \"ad\\xffmin\" is not valid UTF-8",
		},
		{
			name:    "name longer than 128 bytes",
			policy:  library + "p, admin, " + strings.Repeat("a", 129) + "\n",
			wantErr: rbac.ErrInvalidPolicy,
			wantMsg: "team.csv:5: action \"aaaa",
		},
		{
			name:    "policy over 1 MiB",
			policy:  library + strings.Repeat("# padding\n", 2<<20/10),
			wantErr: rbac.ErrInvalidPolicy,
			wantMsg: "rbac: team.csv: file is larger than the 1 MiB limit",
		},
		{
			name:    "more than 4096 roles",
			policy:  library + manyRules(4097, func(i int) string { return fmt.Sprintf("p, r%d, audit.read", i) }),
			wantErr: rbac.ErrInvalidPolicy,
			wantMsg: "team.csv:4100: more than 4096 distinct roles",
		},
		{
			name:    "more than 4096 actions",
			policy:  library + manyRules(4097, func(i int) string { return fmt.Sprintf("p, admin, a%d", i) }),
			wantErr: rbac.ErrInvalidPolicy,
			wantMsg: "team.csv:4097: more than 4096 distinct actions",
		},
		{
			name: "too large to compile",
			policy: library + manyRules(1000, func(i int) string {
				return fmt.Sprintf("p, r%d, members.invite\np, r%[1]d, audit.read", i)
			}),
			wantErr: rbac.ErrInvalidPolicy,
			wantMsg: "team.csv: too large to compile: 1001 roles x 4 actions x 2004 rules",
		},

		// Model files.
		{
			name:    "model Casbin cannot parse",
			model:   "[request_definition]\nr = sub, dom, act\n",
			policy:  testPolicy,
			wantErr: rbac.ErrInvalidPolicy,
			wantMsg: "rbac: team.conf: Casbin cannot parse the model: missing required sections",
		},
		{
			name:    "model line without a value",
			model:   strings.Replace(testModel, "[matchers]\n", "[matchers]\nbroken\n", 1),
			policy:  testPolicy,
			wantErr: rbac.ErrInvalidPolicy,
			wantMsg: "rbac: team.conf: Casbin cannot parse the model",
		},
		{
			name:    "matcher on request attributes",
			model:   strings.Replace(testModel, "r.act == p.act", "r.act == p.act && r.dom.Age > 18", 1),
			policy:  testPolicy,
			wantErr: rbac.ErrNotCompilable,
			wantMsg: `team.conf: Casbin cannot decide role "admin", action "members.invite"`,
		},
		{
			name:    "request with an object",
			model:   strings.Replace(testModel, "r = sub, dom, act", "r = sub, dom, obj, act", 1),
			policy:  testPolicy,
			wantErr: rbac.ErrNotCompilable,
			wantMsg: "team.conf:2: request definition",
		},
		{
			name:    "rules without the model's effect column",
			model:   strings.Replace(testModel, "p = sub, act", "p = sub, act, eft", 1),
			policy:  testPolicy,
			wantErr: rbac.ErrInvalidPolicy,
			wantMsg: "team.csv:2: p rule has 3 fields, want 4 (p, role, action, eft)",
		},
		{
			name:    "policy definition without an action column",
			model:   strings.Replace(testModel, "p = sub, act", "p = sub, obj", 1),
			policy:  testPolicy,
			wantErr: rbac.ErrNotCompilable,
			wantMsg: `team.conf:5: policy definition "p = sub, obj": it needs the columns sub (the role) and act (the action)`,
		},
		{
			name:    "wildcard role in a fallback policy",
			model:   strings.Replace(testModel, "r.act == p.act", "keyMatch(r.act, p.act)", 1),
			policy:  testPolicy + "p, *, audit.read\n",
			wantErr: rbac.ErrInvalidPolicy,
			wantMsg: `team.csv:7: role "*" is "*"`,
		},
		{
			name:    "fallback policy without a top role",
			model:   strings.Replace(testModel, "r.act == p.act", "keyMatch(r.act, p.act)", 1),
			policy:  "p, admin, members.*\np, owner, settings.manage\np, owner, audit.read\n",
			wantErr: rbac.ErrInvalidPolicy,
			wantMsg: "rbac: team.csv: no role holds every action",
		},
		{
			name:    "effect with other spaces, which Casbin does not recognize",
			model:   strings.Replace(testModel, "(p.eft == allow)", "(p.eft==allow)", 1),
			policy:  testPolicy,
			wantErr: rbac.ErrNotCompilable,
			wantMsg: `team.conf: Casbin cannot decide role "admin", action "members.invite": unsupported effect`,
		},
		{
			name:    "role definition without domains",
			model:   strings.Replace(testModel, "g = _, _, _", "g = _, _", 1),
			policy:  testPolicy,
			wantErr: rbac.ErrNotCompilable,
			wantMsg: "team.conf:8: role definition",
		},
		{
			name:    "second role definition",
			model:   strings.Replace(testModel, "g = _, _, _", "g = _, _, _\ng2 = _, _", 1),
			policy:  testPolicy,
			wantErr: rbac.ErrNotCompilable,
			wantMsg: `team.conf:9: "g2 = _, _" is not supported`,
		},
		{
			name:    "no role definition",
			model:   strings.Replace(testModel, "[role_definition]\ng = _, _, _\n", "", 1),
			policy:  testPolicy,
			wantErr: rbac.ErrNotCompilable,
			wantMsg: "rbac: team.conf: role definition g is missing from [role_definition]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			model := tt.model
			if model == "" {
				model = testModel
			}
			p, err := rbac.Parse("team", []byte(model), []byte(tt.policy))
			if err == nil {
				t.Fatalf("Parse succeeded with roles %v, want an error", p.Roles())
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Parse error %q does not wrap %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Parse error %q does not contain %q", err, tt.wantMsg)
			}
		})
	}
}

// manyRules returns n rules, one per line, made by rule.
func manyRules(n int, rule func(int) string) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(rule(i))
		b.WriteString("\n")
	}
	return b.String()
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name          string
		model, policy string
	}{
		{
			name: "model with other whitespace and comments",
			model: "# mine\n[request_definition]\nr=sub,dom,act\n[policy_definition]\np = sub,  act\n" +
				"[role_definition]\ng = _,_,_\n[policy_effect]\ne =   some(where (p.eft == allow))  \n" +
				"[matchers]\nm = g(r.sub,p.sub,r.dom)&&r.act==p.act # flat RBAC\n",
			policy: testPolicy,
		},
		{
			name:   "CRLF line endings and tabs after commas",
			model:  strings.ReplaceAll(testModel, "\n", "\r\n"),
			policy: strings.ReplaceAll(strings.ReplaceAll(testPolicy, ", ", ",\t"), "\n", "\r\n"),
		},
		{
			name:   "unicode names of 128 bytes",
			model:  testModel,
			policy: testPolicy + "p, " + strings.Repeat("ü", 64) + ", audit.read\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := rbac.Parse("team", []byte(tt.model), []byte(tt.policy))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if p.Top() != "admin" || !p.Allows(p.Roles()[1], rbac.AuditRead) || p.Allows(p.Roles()[1], rbac.MembersInvite) {
				t.Errorf("Parse gave roles %v with actions %v and %v", p.Roles(), p.RoleActions("admin"), p.RoleActions(p.Roles()[1]))
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	modelPath := writeFile(t, dir, "model.conf", testModel)
	policyPath := writeFile(t, dir, "team.csv", testPolicy)
	want, err := rbac.Parse("team", []byte(testModel), []byte(testPolicy))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}

	t.Run("from disk", func(t *testing.T) {
		p, err := rbac.Load(modelPath, policyPath)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		assertSamePolicy(t, want, p)
	})
	t.Run("from an fs.FS", func(t *testing.T) {
		p, err := rbac.LoadFS(os.DirFS(dir), "model.conf", "team.csv")
		if err != nil {
			t.Fatalf("LoadFS: %v", err)
		}
		assertSamePolicy(t, want, p)
	})
	t.Run("from a subdirectory of an fs.FS", func(t *testing.T) {
		fsys := fstest.MapFS{
			"policies/model.conf": {Data: []byte(testModel)},
			"policies/team.csv":   {Data: []byte(testPolicy)},
		}
		p, err := rbac.LoadFS(fsys, "policies/model.conf", "policies/team.csv")
		if err != nil {
			t.Fatalf("LoadFS: %v", err)
		}
		assertSamePolicy(t, want, p)
	})
	t.Run("errors name the path given", func(t *testing.T) {
		bad := writeFile(t, dir, "bad.csv", testPolicy+"g, alice, admin, acme\n")
		_, err := rbac.Load(modelPath, bad)
		if !errors.Is(err, rbac.ErrInvalidPolicy) || !strings.Contains(err.Error(), bad+":7:") {
			t.Errorf("Load error = %v, want ErrInvalidPolicy naming %s:7", err, bad)
		}
	})
	t.Run("missing model file", func(t *testing.T) {
		_, err := rbac.Load(filepath.Join(dir, "missing.conf"), policyPath)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Load error = %v, want one wrapping fs.ErrNotExist", err)
		}
	})
	t.Run("missing policy file", func(t *testing.T) {
		_, err := rbac.Load(modelPath, filepath.Join(dir, "missing.csv"))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Load error = %v, want one wrapping fs.ErrNotExist", err)
		}
		_, err = rbac.LoadFS(os.DirFS(dir), "model.conf", "missing.csv")
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("LoadFS error = %v, want one wrapping fs.ErrNotExist", err)
		}
	})
	t.Run("policy file over 1 MiB", func(t *testing.T) {
		huge := writeFile(t, dir, "huge.csv", strings.Repeat("#", 2<<20))
		_, err := rbac.Load(modelPath, huge)
		if !errors.Is(err, rbac.ErrInvalidPolicy) || !strings.Contains(err.Error(), "huge.csv: file is larger than the 1 MiB limit") {
			t.Errorf("Load error = %v, want ErrInvalidPolicy for the size", err)
		}
	})
	t.Run("model file over 1 MiB", func(t *testing.T) {
		writeFile(t, dir, "huge.conf", strings.Repeat("#", 2<<20))
		_, err := rbac.LoadFS(os.DirFS(dir), "huge.conf", "team.csv")
		if !errors.Is(err, rbac.ErrInvalidPolicy) || !strings.Contains(err.Error(), "huge.conf: file is larger") {
			t.Errorf("LoadFS error = %v, want ErrInvalidPolicy for the size", err)
		}
	})
}

func TestPresetTextsRoundTrip(t *testing.T) {
	for _, preset := range []*rbac.Policy{rbac.Runpod(), rbac.DigitalOcean()} {
		t.Run(preset.Name()+" parsed from its own texts", func(t *testing.T) {
			p, err := rbac.Parse(preset.Name(), []byte(preset.ModelText()), []byte(preset.PolicyText()))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			assertSamePolicy(t, preset, p)
		})
		t.Run(preset.Name()+" loaded from files", func(t *testing.T) {
			dir := t.TempDir()
			p, err := rbac.Load(
				writeFile(t, dir, "model.conf", preset.ModelText()),
				writeFile(t, dir, preset.Name()+".csv", preset.PolicyText()))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			assertSamePolicy(t, preset, p)
		})
	}
}

func mustParse(tb testing.TB, model, policy string) *rbac.Policy {
	tb.Helper()
	p, err := rbac.Parse("team", []byte(model), []byte(policy))
	if err != nil {
		tb.Fatalf("Parse: %v", err)
	}
	return p
}

func writeFile(tb testing.TB, dir, name, text string) string {
	tb.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// assertSamePolicy checks that got has want's name, texts, roles, actions,
// top role and decision table.
func assertSamePolicy(tb testing.TB, want, got *rbac.Policy) {
	tb.Helper()
	type summary struct {
		Name, Model, Policy string
		Roles               []rbac.Role
		Actions             []rbac.Action
		Top                 rbac.Role
		Table               map[rbac.Role][]rbac.Action
	}
	summarize := func(p *rbac.Policy) summary {
		s := summary{p.Name(), p.ModelText(), p.PolicyText(), p.Roles(), p.Actions(), p.Top(), map[rbac.Role][]rbac.Action{}}
		for _, r := range p.Roles() {
			s.Table[r] = p.RoleActions(r)
		}
		return s
	}
	if diff := cmp.Diff(summarize(want), summarize(got)); diff != "" {
		tb.Errorf("policies differ (-want +got):\n%s", diff)
	}
}

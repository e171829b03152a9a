package rbac

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/casbin/casbin/v2/model"
)

// flatModel lists, section by section, roster's domain RBAC model
// (model.conf): the only model the decision table represents exactly.
var flatModel = [...]struct {
	sec     string // Casbin's section key
	section string // the section's name in the model file
	value   string
	what    string
	// exact is set for the effect: Casbin recognizes effects by their
	// exact text, spaces included.
	exact bool
	// required is set for the sections every model must have as here:
	// roster asks Enforce(role, team, action), which Casbin answers as for
	// a user whose membership is the grouping rule "g, user, role, team".
	required bool
}{
	{"r", "request_definition", "sub, dom, act", "request definition", false, true},
	{"p", "policy_definition", "sub, act", "policy definition", false, false},
	{"g", "role_definition", "_, _, _", "role definition", false, true},
	{"e", "policy_effect", "some(where (p.eft == allow))", "policy effect", true, false},
	{"m", "matchers", "g(r.sub, p.sub, r.dom) && r.act == p.act", "matcher", false, false},
}

// shape is what the loader needs to know of a model: whether it is the flat
// model, and the columns of its policy rules.
type shape struct {
	flat    bool
	columns []string // of the policy definition, such as sub, act, eft
	sub     int      // the column holding the role
	act     int      // the column holding the action
	dom     int      // the column holding a team, or -1 if there is none
	eval    bool     // the matcher calls eval, which evaluates rule fields
}

// checkModel returns the shape of m (parsed by Casbin from text): flat if
// it is roster's domain RBAC model up to whitespace (outside the effect) and
// comments. It returns an error wrapping ErrNotCompilable, naming the file
// and the line of the offending key, if the model does not keep roster's
// request (r = sub, dom, act) and one role definition g = _, _, _, has a
// second definition in a section, or has a policy definition without the
// columns sub and act, or if a member's rights could depend on more than
// their role, the team and the action (see checkByRole).
func checkModel(m model.Model, text, file string) (shape, error) {
	sh := shape{flat: true}
	for _, want := range flatModel {
		notSupported := func(line int, what string) error {
			return &loadError{kind: ErrNotCompilable, file: file, line: line, msg: fmt.Sprintf(
				"%s: roster asks Casbin Enforce(role, team, action), as for a member whose membership is the grouping rule g(user, role, team), "+
					"so a model needs r = sub, dom, act, one role definition g = _, _, _ and one definition per section",
				what)}
		}
		defs := m[want.sec]
		got, ok := defs[want.sec]
		if !ok {
			return sh, notSupported(0, fmt.Sprintf("%s %s is missing from [%s]", want.what, want.sec, want.section))
		}
		for _, key := range slices.Sorted(maps.Keys(defs)) {
			if key != want.sec {
				n, line := modelLine(text, want.section, key)
				return sh, notSupported(n, fmt.Sprintf("%q is not supported", line))
			}
		}
		// Compare the values as Casbin holds them: it rewrites some
		// sections (r.sub becomes r_sub, comments go), so pass the
		// supported value through the same rewriting.
		ref := model.NewModel()
		ref.AddDef(want.sec, want.sec, want.value)
		gotValue, wantValue := got.Value, ref[want.sec][want.sec].Value
		if !want.exact {
			gotValue, wantValue = stripSpace(gotValue), stripSpace(wantValue)
		}
		if strings.TrimSpace(gotValue) != strings.TrimSpace(wantValue) {
			n, line := modelLine(text, want.section, want.sec)
			if want.required {
				return sh, notSupported(n, fmt.Sprintf("%s %q is not supported", want.what, line))
			}
			sh.flat = false
		}
		if want.sec == "p" {
			sh.columns = slices.Clone(got.Tokens)
		}
	}
	sh.sub, sh.act = slices.Index(sh.columns, "p_sub"), slices.Index(sh.columns, "p_act")
	if sh.sub < 0 || sh.act < 0 {
		n, line := modelLine(text, "policy_definition", "p")
		return sh, &loadError{kind: ErrNotCompilable, file: file, line: n, msg: fmt.Sprintf(
			"policy definition %q: it needs the columns sub (the role) and act (the action)", line)}
	}
	sh.dom = slices.Index(sh.columns, "p_dom")
	for i, c := range sh.columns {
		sh.columns[i] = strings.TrimPrefix(c, "p_")
	}
	if err := checkByRole(m, text, file); err != nil {
		return sh, err
	}
	sh.eval = evalCall.MatchString(m["m"]["m"].Value)
	return sh, nil
}

var (
	// gCall finds the calls of g in a matcher as Casbin holds it.
	gCall = regexp.MustCompile(`\bg\s*\(`)
	// roleCall is the one call of g roster supports.
	roleCall = regexp.MustCompile(`\bg\s*\(\s*r_sub\s*,\s*p_sub\s*,\s*r_dom\s*\)`)
	// subjectUse finds the request's subject, as Casbin escapes it (r_sub)
	// or not (r.sub, as in a string that eval evaluates).
	subjectUse = regexp.MustCompile(`\br[._]sub\b`)
	// evalCall finds a call of eval, which evaluates a rule field as an
	// expression.
	evalCall = regexp.MustCompile(`\beval\s*\(`)
)

// checkByRole returns an error wrapping ErrNotCompilable, naming the file
// and the line, if a member's rights under m (parsed by Casbin from text)
// could depend on more than their role, the team and the action: roster asks
// Casbin Enforce(role, team, action), with no user in Casbin (see
// [Policy.AllowsIn]), which answers as for a member only if the subject
// reaches the matcher through one g(r.sub, p.sub, r.dom) and the effect does
// not depend on the subject hierarchy. It refuses the effect
// subjectPriority(p.eft) || deny, whose order Casbin computes from the
// grouping rules, and a matcher that calls g more than once, or with other
// arguments, or uses r.sub outside that call.
func checkByRole(m model.Model, text, file string) error {
	refuse := func(section, key, why string) error {
		n, line := modelLine(text, section, key)
		return &loadError{kind: ErrNotCompilable, file: file, line: n, msg: fmt.Sprintf(
			"%q: %s; roster decides by role, team and action alone, so what a member may do must not depend on who they are", line, why)}
	}
	if strings.Contains(m["e"]["e"].Value, "subjectPriority") {
		return refuse("policy_effect", "e",
			"subjectPriority orders the rules by the role hierarchy of the memberships, so answers would depend on the memberships")
	}
	matcher := m["m"]["m"].Value
	calls := len(gCall.FindAllStringIndex(matcher, -1))
	switch {
	case calls > 1:
		return refuse("matchers", "m", "the matcher calls g more than once: call it once, as g(r.sub, p.sub, r.dom)")
	case calls == 1 && !roleCall.MatchString(matcher):
		return refuse("matchers", "m", "the matcher calls g with other arguments than g(r.sub, p.sub, r.dom)")
	case len(subjectUse.FindAllStringIndex(matcher, -1)) > calls:
		return refuse("matchers", "m", "the matcher uses r.sub outside g(r.sub, p.sub, r.dom)")
	}
	return nil
}

// modelLine returns the 1-based number and the text of the line defining
// key in [section] of a model file's text, or 0 and "" if there is none. It
// reads the file as Casbin's config parser does: # and ; start comments,
// [name] starts a section.
func modelLine(text, section, key string) (int, string) {
	current := ""
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[' && line[len(line)-1] == ']':
			current = line[1 : len(line)-1]
		default:
			k, _, ok := strings.Cut(line, "=")
			if ok && current == section && strings.TrimSpace(k) == key {
				return n + 1, line
			}
		}
	}
	return 0, ""
}

// stripSpace returns s without white space.
func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

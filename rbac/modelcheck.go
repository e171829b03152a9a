package rbac

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/casbin/casbin/v2/model"
)

// supportedModel lists, section by section, the only model the decision
// table represents exactly: roster's domain RBAC model (model.conf).
var supportedModel = [...]struct {
	sec     string // Casbin's section key
	section string // the section's name in the model file
	value   string
	what    string
	// exact is set for the effect: Casbin recognizes effects by their
	// exact text, spaces included.
	exact bool
}{
	{"r", "request_definition", "sub, dom, act", "request definition", false},
	{"p", "policy_definition", "sub, act", "policy definition", false},
	{"g", "role_definition", "_, _, _", "role definition", false},
	{"e", "policy_effect", "some(where (p.eft == allow))", "policy effect", true},
	{"m", "matchers", "g(r.sub, p.sub, r.dom) && r.act == p.act", "matcher", false},
}

// checkModel returns an error wrapping ErrNotCompilable, naming the file and
// the line of the offending key, unless m (parsed by Casbin from text) is
// roster's domain RBAC model up to whitespace (outside the effect) and
// comments.
func checkModel(m model.Model, text, file string) error {
	for _, want := range supportedModel {
		notSupported := func(line int, what string) error {
			return &loadError{kind: ErrNotCompilable, file: file, line: line, msg: fmt.Sprintf(
				"%s: the decision table represents only roster's domain RBAC model (%s = %s); models depending on request attributes or patterns are not supported yet",
				what, want.sec, want.value)}
		}
		defs := m[want.sec]
		got, ok := defs[want.sec]
		if !ok {
			return notSupported(0, fmt.Sprintf("%s %s is missing from [%s]", want.what, want.sec, want.section))
		}
		for _, key := range slices.Sorted(maps.Keys(defs)) {
			if key != want.sec {
				n, line := modelLine(text, want.section, key)
				return notSupported(n, fmt.Sprintf("%q is not supported", line))
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
			return notSupported(n, fmt.Sprintf("%s %q is not supported", want.what, line))
		}
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

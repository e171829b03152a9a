package rbac

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/casbin/casbin/v2/model"
)

// Limits on what Load, LoadFS and Parse accept.
const (
	maxFileSize = 1 << 20 // bytes in a model or policy file
	maxNames    = 4096    // distinct roles, and distinct actions, in a policy
	maxNameLen  = 128     // bytes in a role or action name

	// maxCompileWork bounds roles x actions x rules x teams: compiling
	// asks Casbin once per role and action, finding a fallback policy's
	// top role may ask again in each team its rules name, and each answer
	// evaluates the matcher on up to every rule (about 0.7 µs each), so
	// this keeps Load under about 1.5 s.
	maxCompileWork = 1 << 21
)

// Load reads a Casbin model file and a policy file from disk and compiles
// them, or loads them as a fallback policy that Casbin decides (see
// [Policy.Compiled]); see [Parse] for what the files must hold. The policy's name is the
// base name of policyPath without its extension. Errors name the file and,
// where it applies, the line. Load returns an error wrapping fs.ErrNotExist
// (or another fs error) if a file cannot be read, and one wrapping
// [ErrInvalidPolicy] or [ErrNotCompilable] if it cannot be loaded.
func Load(modelPath, policyPath string) (*Policy, error) {
	open := func(name string) (fs.File, error) { return os.Open(name) }
	modelData, err := readFile(open, modelPath)
	if err != nil {
		return nil, err
	}
	policyData, err := readFile(open, policyPath)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSuffix(filepath.Base(policyPath), filepath.Ext(policyPath))
	return parse(name, modelPath, policyPath, modelData, policyData)
}

// LoadFS is like [Load] but reads the files from fsys; the paths follow the
// rules of [fs.FS]. The policy's name is the base name of policyPath
// without its extension.
func LoadFS(fsys fs.FS, modelPath, policyPath string) (*Policy, error) {
	modelData, err := readFile(fsys.Open, modelPath)
	if err != nil {
		return nil, err
	}
	policyData, err := readFile(fsys.Open, policyPath)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSuffix(path.Base(policyPath), path.Ext(policyPath))
	return parse(name, modelPath, policyPath, modelData, policyData)
}

// Parse compiles a Casbin model and a policy given as text. The policy is
// named name, and errors call the files name+".conf" and name+".csv".
//
// The model should be roster's domain RBAC model (see the package
// documentation); whitespace and comments may differ. Any other model
// keeping roster's request (r = sub, dom, act) and one role definition
// (g = _, _, _), whose policy definition has the columns sub and act, loads
// as a fallback policy that is not compiled (see "Fallback" in the package
// documentation and [Policy.Compiled]), unless a member's rights under it
// could depend on more than their role, the team and the action: an effect
// using subjectPriority, a matcher calling g more than once or otherwise
// than as g(r.sub, p.sub, r.dom) or using r.sub anywhere else, or rule
// fields mentioning r.sub that the matcher's eval would evaluate are refused
// with [ErrNotCompilable]. A model Casbin cannot parse is refused with
// [ErrInvalidPolicy]; any other model, or one on which Casbin fails to
// decide, with [ErrNotCompilable]. Errors name the file and, where it
// applies, the line.
//
// The policy holds one rule "p, role, action" a line (or one field per
// column of the model's policy definition, such as "p, role, action, deny");
// blank lines and lines starting with # are skipped. Spaces may follow a
// comma but not precede one, so that Casbin's own CSV reader reads the file
// the same way. Role and action names are 1 to 128 bytes of printable UTF-8
// without spaces, commas or double quotes, and not "*", though a fallback
// policy's actions may be patterns, "*" among them.
// Grouping rules (g lines), other rule types, malformed or duplicate rules,
// a compiled policy lacking one of the library actions ([MembersInvite],
// [MembersManage], [SettingsManage], [AuditRead]), a policy with no role
// holding every action (for a fallback policy: in a team that neither the
// model nor the rules name, nor in any team the rules name in a dom column),
// files over 1 MiB and policies with more than 4096 roles or 4096 actions
// are refused with [ErrInvalidPolicy]. A fallback policy's actions always
// include the library actions.
//
// Parse asks Casbin once for every role and action and keeps the answers in
// the Policy's decision table; for a compiled policy Casbin is not consulted
// afterwards. Finding a fallback policy's top role may ask again in every
// team its rules name. Each answer evaluates the matcher on up to every
// rule, so a policy whose roles x actions x rules x teams (1 plus the teams
// the rules name) exceeds 2,097,152 is refused with [ErrInvalidPolicy]
// rather than compiled for seconds; 20 roles x 100 actions x 1,000 rules
// compile in about 1.5 s.
func Parse(name string, model, policy []byte) (*Policy, error) {
	return parse(name, name+".conf", name+".csv", model, policy)
}

// readFile reads the named file through open, refusing files over the size
// limit without reading them whole.
func readFile(open func(string) (fs.File, error), name string) ([]byte, error) {
	f, err := open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > maxFileSize {
		return nil, tooLarge(name)
	}
	return data, nil
}

func tooLarge(file string) error {
	return &loadError{kind: ErrInvalidPolicy, file: file, msg: "file is larger than the 1 MiB limit"}
}

// parse validates and compiles a model file and a policy file; modelFile and
// policyFile name them in errors.
func parse(name, modelFile, policyFile string, modelData, policyData []byte) (*Policy, error) {
	if len(modelData) > maxFileSize {
		return nil, tooLarge(modelFile)
	}
	if len(policyData) > maxFileSize {
		return nil, tooLarge(policyFile)
	}
	p := &Policy{
		name:       name,
		modelText:  string(modelData),
		policyText: string(policyData),
	}

	m, err := model.NewModelFromString(p.modelText)
	if err != nil {
		return nil, &loadError{kind: ErrInvalidPolicy, file: modelFile, msg: "Casbin cannot parse the model", err: err}
	}
	sh, err := checkModel(m, p.modelText, modelFile)
	if err != nil {
		return nil, err
	}
	p.fallback = !sh.flat

	named, err := p.parseRules(policyFile, sh)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, a := range libraryActions {
		switch {
		case p.HasAction(a):
		case p.fallback:
			// A pattern may grant it: the table decides it through Casbin.
			p.addAction(a)
		default:
			missing = append(missing, string(a))
		}
	}
	if len(missing) > 0 {
		return nil, &loadError{kind: ErrInvalidPolicy, file: policyFile,
			msg: "missing library actions " + strings.Join(missing, ", ") + ": roster checks them, so every policy must list them"}
	}

	// Compiling asks Casbin about every role and action in the probe
	// team, and finding the top role may ask again in each team the rules
	// name.
	teams := 1 + len(p.domains)
	if work := len(p.roles) * len(p.actions) * len(p.rules) * teams; work > maxCompileWork {
		msg := fmt.Sprintf("too large to compile: %d roles x %d actions x %d rules", len(p.roles), len(p.actions), len(p.rules))
		if teams > 1 {
			msg += fmt.Sprintf(" x %d teams (the %d the rules name and one other)", teams, len(p.domains))
		}
		return nil, &loadError{kind: ErrInvalidPolicy, file: policyFile, msg: fmt.Sprintf(
			"%s = %d rule evaluations by Casbin, over the limit of %d", msg, work, maxCompileWork)}
	}
	if err := compile(m, p, modelFile); err != nil {
		return nil, err
	}

	// The model is the flat domain RBAC model, so Casbin must have allowed
	// exactly the file's rules. A difference would mean Casbin's semantics
	// changed under us: refuse rather than serve a table nobody can explain.
	if !p.fallback {
		want := make(map[cell]bool, len(named))
		for _, c := range named {
			want[c] = true
		}
		for r := range p.roles {
			for a := range p.actions {
				c := cell{RoleID(r), ActionID(a)}
				if got := p.Allowed(c.role, c.action); got != want[c] {
					return nil, &loadError{kind: ErrNotCompilable, file: policyFile,
						msg: fmt.Sprintf("Casbin's answer %t for role %q and action %q differs from the file's rules", got, p.roles[r], p.actions[a])}
				}
			}
		}
	}

	top := slices.IndexFunc(p.roles, func(r Role) bool {
		return p.IsTop(r) || slices.ContainsFunc(p.domains, func(team string) bool { return p.IsTopIn(team, r) })
	})
	if top < 0 {
		msg := "no role holds every action: give one role (like admin or owner) every action of the policy"
		if len(p.domains) > 0 {
			msg = "no role holds every action in any team, named by the rules or not: " +
				"give one role (like admin or owner) every action of the policy in some team"
		}
		return nil, &loadError{kind: ErrInvalidPolicy, file: policyFile, msg: msg}
	}
	p.top = RoleID(top)
	return p, nil
}

// cell is one entry of the decision table, and one rule of a policy file.
type cell struct {
	role   RoleID
	action ActionID
}

// patternChars are the characters that make the action of a fallback
// policy's rule a pattern (keyMatch's *, keyMatch2's :id, keyMatch3's {id},
// regular expressions) rather than an action name.
const patternChars = "*?:{}()[]^$|\\+"

// isPattern reports whether the action of a fallback policy's rule is a
// pattern: it names no action of its own.
func isPattern(action string) bool { return strings.ContainsAny(action, patternChars) }

// parseRules parses the policy text line by line, keeping each rule's
// fields in p.rules in file order and filling p.roles, p.actions and their
// indexes, and for a fallback policy p.patterns and p.domains. It returns
// the rules that name an action (all of them for the flat model), as cells.
// sh gives the columns of a rule.
func (p *Policy) parseRules(file string, sh shape) ([]cell, error) {
	p.roleIndex = make(map[Role]RoleID)
	p.actionIndex = make(map[Action]ActionID)
	want := make([]string, len(sh.columns))
	for i, c := range sh.columns {
		switch i {
		case sh.sub:
			want[i] = "role"
		case sh.act:
			want[i] = "action"
		default:
			want[i] = c
		}
	}
	var named []cell
	seen := make(map[string]int) // line of each rule
	inDomains, inPatterns := make(map[string]bool), make(map[Action]bool)
	text := p.policyText
	for n := 1; text != ""; n++ {
		var line string
		line, text, _ = strings.Cut(text, "\n")
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fail := func(format string, args ...any) error {
			return &loadError{kind: ErrInvalidPolicy, file: file, line: n, msg: fmt.Sprintf(format, args...)}
		}

		// Read the fields as Casbin's CSV reader does: it trims the line
		// and the space after each comma, and keeps any space before one,
		// which checkName then refuses.
		fields := strings.Split(line, ",")
		for i := range fields {
			fields[i] = strings.TrimLeftFunc(fields[i], unicode.IsSpace)
		}
		switch ptype := fields[0]; {
		case isGrouping(ptype):
			return nil, fail("%s rule: grouping rules belong in the store, not the policy file: list each role's actions", ptype)
		case ptype != "p":
			return nil, fail("unknown rule type %q: a policy file holds only p rules (p, %s)", ptype, strings.Join(want, ", "))
		case len(fields) != 1+len(want):
			return nil, fail("p rule has %d fields, want %d (p, %s)", len(fields), 1+len(want), strings.Join(want, ", "))
		}
		fields = fields[1:]
		for i, f := range fields {
			// A fallback policy's actions and other columns may be "*".
			if msg := checkName(f); msg != "" && (i == sh.sub || f != "*" || !p.fallback) {
				return nil, fail("%s %q %s", want[i], f, msg)
			}
		}
		role, action := fields[sh.sub], fields[sh.act]
		if sh.eval {
			for i, f := range fields {
				if subjectUse.MatchString(f) {
					return nil, &loadError{kind: ErrNotCompilable, file: file, line: n, msg: fmt.Sprintf(
						"%s %q uses r.sub, which the matcher's eval would evaluate; roster decides by role, team and action alone, "+
							"so what a member may do must not depend on who they are", want[i], f)}
				}
			}
		}

		key := strings.Join(fields, ",")
		if first, dup := seen[key]; dup {
			return nil, fail("duplicate rule p, %s (first on line %d)", strings.Join(fields, ", "), first)
		}
		seen[key] = n
		p.rules = append(p.rules, fields)
		if sh.dom >= 0 && !isPattern(fields[sh.dom]) && !inDomains[fields[sh.dom]] {
			inDomains[fields[sh.dom]] = true
			p.domains = append(p.domains, fields[sh.dom])
		}

		rid, ok := p.roleIndex[Role(role)]
		if !ok {
			if len(p.roles) == maxNames {
				return nil, fail("more than %d distinct roles", maxNames)
			}
			rid = p.addRole(Role(role))
		}
		if p.fallback && isPattern(action) {
			if !inPatterns[Action(action)] {
				inPatterns[Action(action)] = true
				p.patterns = append(p.patterns, Action(action))
			}
			continue
		}
		aid, ok := p.actionIndex[Action(action)]
		if !ok {
			if len(p.actions) == maxNames {
				return nil, fail("more than %d distinct actions", maxNames)
			}
			aid = p.addAction(Action(action))
		}
		named = append(named, cell{rid, aid})
	}
	return named, nil
}

// addRole adds a role to p and returns its ID.
func (p *Policy) addRole(r Role) RoleID {
	id := RoleID(len(p.roles))
	p.roleIndex[r] = id
	p.roles = append(p.roles, r)
	return id
}

// addAction adds an action to p and returns its ID.
func (p *Policy) addAction(a Action) ActionID {
	id := ActionID(len(p.actions))
	p.actionIndex[a] = id
	p.actions = append(p.actions, a)
	return id
}

// isGrouping reports whether ptype is a Casbin grouping rule type: g, g2, g3...
func isGrouping(ptype string) bool {
	if ptype == "g" {
		return true
	}
	if !strings.HasPrefix(ptype, "g") {
		return false
	}
	_, err := strconv.Atoi(ptype[1:])
	return err == nil
}

// checkName returns why s is not a valid role or action name, or "" if it
// is one.
func checkName(s string) string {
	switch {
	case s == "":
		return "is empty"
	case len(s) > maxNameLen:
		return fmt.Sprintf("is longer than %d bytes", maxNameLen)
	case s == "*":
		return `is "*": wildcards are not supported`
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	}
	if strings.TrimRightFunc(s, unicode.IsSpace) != s {
		return "ends with a space: remove the space before the comma"
	}
	for _, c := range s {
		switch {
		case unicode.IsSpace(c):
			return "contains a space"
		case c == ',':
			return "contains a comma"
		case c == '"':
			return "contains a double quote"
		case !unicode.IsPrint(c):
			return fmt.Sprintf("contains the unprintable character %U", c)
		}
	}
	return ""
}

// loadError is an error in a model or policy file. It names the file and,
// where it applies, the line, and wraps ErrInvalidPolicy or
// ErrNotCompilable and the underlying Casbin error, if any.
type loadError struct {
	kind error  // ErrInvalidPolicy or ErrNotCompilable
	file string // as given to Load or LoadFS, or name.conf / name.csv
	line int    // 1-based; 0 if the error concerns the whole file
	msg  string
	err  error // the cause, or nil
}

func (e *loadError) Error() string {
	var b strings.Builder
	b.WriteString("rbac: ")
	b.WriteString(e.file)
	if e.line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.line))
	}
	b.WriteString(": ")
	b.WriteString(e.msg)
	if e.err != nil {
		b.WriteString(": ")
		b.WriteString(e.err.Error())
	}
	return b.String()
}

func (e *loadError) Unwrap() []error {
	if e.err == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.err}
}

package rbac

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
)

// probeDomain is the domain of the probe memberships used to compile the
// decision table. Role and action names are printable, so a name holding a
// NUL byte cannot collide with them.
const probeDomain = "\x00probe"

// probeUser returns the probe user that holds role r while compiling.
func probeUser(r int) string { return "\x00probe\x00" + strconv.Itoa(r) }

// compile fills p.table by asking Casbin: it builds an enforcer from the
// model m and the policy's rules (exactly the file's), gives each role a
// probe user in a probe domain, and records Enforce(probe user, probe
// domain, action) for every role and action. The table is thus Casbin's own
// answer; the enforcer is discarded afterwards.
func compile(m model.Model, p *Policy, modelFile string) error {
	fail := func(msg string, err error) error {
		return &loadError{kind: ErrNotCompilable, file: modelFile, msg: msg, err: err}
	}
	e, err := newCasbin(m, p.rules)
	if err != nil {
		return fail("cannot build a Casbin enforcer", err)
	}
	probes := make([][]string, len(p.roles))
	for r, role := range p.roles {
		probes[r] = []string{probeUser(r), string(role), probeDomain}
	}
	if _, err := e.AddGroupingPolicies(probes); err != nil {
		return fail("Casbin refused the probe memberships", err)
	}

	p.words = (len(p.actions) + 63) / 64
	p.table = make([]uint64, len(p.roles)*p.words)
	for r := range p.roles {
		for a, action := range p.actions {
			ok, err := e.Enforce(probes[r][0], probeDomain, string(action))
			if err != nil {
				return fail(fmt.Sprintf("Casbin cannot decide role %q, action %q", p.roles[r], action), err)
			}
			if ok {
				p.table[r*p.words+a>>6] |= 1 << (a & 63)
			}
		}
	}
	return nil
}

// newCasbin returns a Casbin enforcer on the model m holding exactly the
// policy rules, and no grouping rule.
func newCasbin(m model.Model, rules [][]string) (*casbin.Enforcer, error) {
	e, err := casbin.NewEnforcer(m)
	if err != nil {
		return nil, err
	}
	if _, err := e.AddPolicies(rules); err != nil {
		return nil, fmt.Errorf("Casbin refused the policy rules: %w", err)
	}
	if held, err := e.GetPolicy(); err != nil || !slices.EqualFunc(held, rules, slices.Equal) {
		return nil, errors.Join(errors.New("Casbin does not hold exactly the policy file's rules"), err)
	}
	return e, nil
}

package rbac

// AllowsIn reports whether a member of team holding role r may perform
// action a. What a member may do depends only on their role, the team and
// the action.
//
// For a compiled policy it is [Policy.Allows](r, a): the team does not
// matter. For a fallback policy it is Casbin's own Enforce(r, team, a) on
// one enforcer, built when the policy loaded from its model and rules, that
// holds no grouping rule and no user: Casbin's role manager links every
// subject to itself, so this is exactly Casbin's answer for a user whose
// only grouping rule is "g, user, r, team". There a need not be one of
// [Policy.Actions]: a pattern rule such as "p, dev, pods.*" grants
// "pods.gpu.create". Each answer evaluates the model's matcher on up to
// every rule: microseconds and hundreds of allocations.
//
// AllowsIn is false for an unknown role (one not in [Policy.Roles]), for
// the zero Policy, and if Casbin returns an error. It is safe for concurrent
// use by multiple goroutines: the enforcer is never changed after loading.
func (p *Policy) AllowsIn(team string, r Role, a Action) bool {
	if !p.fallback {
		return p.Allows(r, a)
	}
	if !p.HasRole(r) {
		return false
	}
	ok, err := p.casbin.Enforce(string(r), team, string(a))
	return err == nil && ok
}

// IsTopIn reports whether role r holds, in team, every action of
// [Policy.Actions] (see [Policy.AllowsIn]). For a compiled policy it is
// [Policy.IsTop](r). It is false for an unknown role. It is safe for
// concurrent use.
func (p *Policy) IsTopIn(team string, r Role) bool {
	if !p.fallback {
		return p.IsTop(r)
	}
	if !p.HasRole(r) {
		return false
	}
	for _, x := range p.actions {
		if !p.AllowsIn(team, r, x) {
			return false
		}
	}
	return true
}

// CoversIn reports whether, in team, role a holds every right role b holds,
// so that a holder of a may grant b there without granting more than they
// have. For a compiled policy it is [Policy.Covers](a, b).
//
// A fallback policy's rules may grant actions through patterns, so its
// rights are not a finite list; CoversIn compares them on representative
// actions: each action of [Policy.Actions], and each action of a rule of
// the policy file, patterns included, asked as a literal action (such as
// "pods.*" itself). a covers b if, for every representative x,
// AllowsIn(team, b, x) implies AllowsIn(team, a, x). So a role whose rights
// come from "pods.*" is not covered by one that holds only some named
// actions, such as "pods.create". The limit: an action that no rule names
// and that the representatives do not stand for, such as one a regular
// expression matches while its own text does not, is not compared.
//
// Every known role covers itself. CoversIn is false if either role is
// unknown. It is safe for concurrent use.
func (p *Policy) CoversIn(team string, a, b Role) bool {
	if !p.fallback {
		return p.Covers(a, b)
	}
	if !p.HasRole(a) || !p.HasRole(b) {
		return false
	}
	if a == b {
		return true
	}
	for _, list := range [][]Action{p.actions, p.patterns} {
		for _, x := range list {
			if p.AllowsIn(team, b, x) && !p.AllowsIn(team, a, x) {
				return false
			}
		}
	}
	return true
}

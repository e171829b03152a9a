package rbac

import (
	"fmt"

	"github.com/casbin/casbin/v2"

	"github.com/teamroster/roster/store"
)

// RoleID is a role's index in [Policy.Roles]: the compiled form of a Role
// used by [Policy.Allowed]. IDs are only meaningful for the Policy that
// issued them.
type RoleID uint16

// ActionID is an action's index in [Policy.Actions]: the compiled form of an
// Action used by [Policy.Allowed]. IDs are only meaningful for the Policy
// that issued them.
type ActionID uint16

// Policy is a loaded policy: the roles and actions of a policy file and a
// decision table saying which role holds which action, computed once by
// Casbin when the policy is loaded. For roster's own model the table is the
// whole answer; for a fallback policy (see [Policy.Compiled]) Casbin decides
// each question about a team through [Policy.AllowsIn]. A Policy is
// immutable and safe for concurrent use by multiple goroutines. Obtain one
// from [Runpod], [DigitalOcean], [Load], [LoadFS] or [Parse]; the zero
// Policy has no roles and allows nothing.
type Policy struct {
	name        string
	modelText   string
	policyText  string
	roles       []Role
	actions     []Action
	roleIndex   map[Role]RoleID
	actionIndex map[Action]ActionID
	rules       [][]string // the policy file's rules, without the "p"

	// fallback is set when the model is not the flat domain RBAC model:
	// see Compiled.
	fallback bool
	// casbin decides AllowsIn for a fallback policy: an enforcer on the
	// model and rules, with no grouping rule, never changed after loading.
	// It is nil for a compiled policy.
	casbin *casbin.Enforcer
	// patterns are the distinct actions of a fallback policy's rules that
	// are patterns, such as "pods.*", in file order; with actions they are
	// CoversIn's representative actions.
	patterns []Action
	// domains are the distinct teams named by a fallback policy's rules
	// (its "dom" column), patterns excepted, in file order.
	domains []string

	// table holds one bitset over actions per role: role r holds action a
	// if bit a%64 of table[int(r)*words+int(a)/64] is set.
	table []uint64
	words int // uint64 words per role
	top   RoleID

	topByTransfer bool // see TopByTransfer
	// signIns are the sign-in methods the policy accepts (see SignIns).
	signIns store.SignIns
}

// Name returns the policy's name: "runpod" or "digitalocean" for the
// presets, the name given to [Parse], or the base name of the policy file
// without its extension for [Load] and [LoadFS].
func (p *Policy) Name() string { return p.name }

// Roles returns the policy's roles in order of first appearance in the
// policy file. The slice is fresh; the caller may modify it.
func (p *Policy) Roles() []Role { return append([]Role(nil), p.roles...) }

// Actions returns the policy's actions in order of first appearance in the
// policy file. The slice is fresh; the caller may modify it.
func (p *Policy) Actions() []Action { return append([]Action(nil), p.actions...) }

// HasRole reports whether the policy defines role r.
func (p *Policy) HasRole(r Role) bool {
	_, ok := p.roleIndex[r]
	return ok
}

// HasAction reports whether the policy defines action a.
func (p *Policy) HasAction(a Action) bool {
	_, ok := p.actionIndex[a]
	return ok
}

// Top returns the top role: the first role, in policy file order, that
// holds every action. For a fallback policy that is every action in some
// team: in a team that neither the model nor the rules name, or in one of
// the teams the rules name in the policy definition's dom column; Top need
// not hold every action in every team (see [Policy.IsTopIn]). Every loaded
// policy has one; the zero Policy returns "".
func (p *Policy) Top() Role {
	if len(p.roles) == 0 {
		return ""
	}
	return p.roles[p.top]
}

// IsTop reports whether role r holds every action of the policy. For a
// fallback policy it describes a team that neither the model nor the rules
// name; [Policy.IsTopIn] answers for a given team. It is false for an
// unknown role.
func (p *Policy) IsTop(r Role) bool {
	id, ok := p.roleIndex[r]
	if !ok {
		return false
	}
	for a := range p.actions {
		if !p.Allowed(id, ActionID(a)) {
			return false
		}
	}
	return true
}

// Allows reports whether role r may perform action a. For a fallback policy
// it describes a team that neither the model nor the rules name, and only
// the policy's actions; [Policy.AllowsIn] answers for a given team and any
// action. It is false for an unknown role or action.
func (p *Policy) Allows(r Role, a Action) bool {
	rid, ok := p.roleIndex[r]
	if !ok {
		return false
	}
	aid, ok := p.actionIndex[a]
	if !ok {
		return false
	}
	return p.Allowed(rid, aid)
}

// RoleActions returns the actions role r holds, in [Policy.Actions] order,
// in a fresh slice; for a fallback policy, in a team that neither the model
// nor the rules name. It returns nil for an unknown role and an empty,
// non-nil slice for a known role that holds no action.
func (p *Policy) RoleActions(r Role) []Action {
	id, ok := p.roleIndex[r]
	if !ok {
		return nil
	}
	out := []Action{}
	for a, name := range p.actions {
		if p.Allowed(id, ActionID(a)) {
			out = append(out, name)
		}
	}
	return out
}

// Covers reports whether role a holds every action that role b holds, so
// that someone with role a may grant role b without granting more than
// they have. For a fallback policy it compares the decision table's rows,
// which describe a team that neither the model nor the rules name, over
// the policy's actions; [Policy.CoversIn] answers for a given team. Every
// known role covers itself. It is false if either role is unknown.
func (p *Policy) Covers(a, b Role) bool {
	ai, ok := p.roleIndex[a]
	if !ok {
		return false
	}
	bi, ok := p.roleIndex[b]
	if !ok {
		return false
	}
	as, bs := p.row(ai), p.row(bi)
	for i := range bs {
		if bs[i]&^as[i] != 0 {
			return false
		}
	}
	return true
}

// Compiled reports whether the decision table answers every question of the
// policy, so that a team's permissions need nothing but [Policy.Allowed]: it
// is true for roster's domain RBAC model, the presets among them, and for the
// zero Policy. It is false for a fallback policy, whose model Casbin must
// evaluate for each question (see "Fallback" in the package documentation):
// its table still answers for its roles and listed actions in a team that
// neither the model nor the rules name, but the answer for a given team
// comes from [Policy.AllowsIn], [Policy.IsTopIn] and [Policy.CoversIn].
func (p *Policy) Compiled() bool { return !p.fallback }

// ModelText returns the text of the policy's Casbin model file, exactly as
// loaded.
func (p *Policy) ModelText() string { return p.modelText }

// PolicyText returns the text of the policy file, exactly as loaded. Together
// with [Policy.ModelText] it lets a test build its own Casbin enforcer on the
// same data.
func (p *Policy) PolicyText() string { return p.policyText }

// RoleID returns the compiled ID of role r, and false if the policy does not
// define r.
func (p *Policy) RoleID(r Role) (RoleID, bool) {
	id, ok := p.roleIndex[r]
	return id, ok
}

// ActionID returns the compiled ID of action a, and false if the policy does
// not define a.
func (p *Policy) ActionID(a Action) (ActionID, bool) {
	id, ok := p.actionIndex[a]
	return id, ok
}

// Role returns the role with the given ID, or "" if id is out of range.
func (p *Policy) Role(id RoleID) Role {
	if int(id) >= len(p.roles) {
		return ""
	}
	return p.roles[id]
}

// Action returns the action with the given ID, or "" if id is out of range.
func (p *Policy) Action(id ActionID) Action {
	if int(id) >= len(p.actions) {
		return ""
	}
	return p.actions[id]
}

// Allowed reports whether the role with ID r may perform the action with ID
// a. It is a bounds check and a bit test: it neither allocates nor locks. It
// is false for out-of-range IDs.
func (p *Policy) Allowed(r RoleID, a ActionID) bool {
	if int(r) >= len(p.roles) || int(a) >= len(p.actions) {
		return false
	}
	return p.table[int(r)*p.words+int(a)>>6]&(1<<(a&63)) != 0
}

// row returns the bitset of role r.
func (p *Policy) row(r RoleID) []uint64 {
	return p.table[int(r)*p.words : (int(r)+1)*p.words]
}

// TopByTransfer reports whether the top role may be granted only through an
// ownership transfer that the current holder confirms and the new holder
// accepts, as on DigitalOcean, rather than by a plain role change or
// invitation.
func (p *Policy) TopByTransfer() bool { return p.topByTransfer }

// WithTopByTransfer returns a copy of p whose top role is granted only
// through an ownership transfer (see [Policy.TopByTransfer]). The
// DigitalOcean preset is built this way.
func (p *Policy) WithTopByTransfer() *Policy {
	c := *p
	c.topByTransfer = true
	return &c
}

// SignIns returns the sign-in methods the policy accepts and which of them
// are secure: store.DefaultSignIns unless WithSignIn changed them. A team
// that requires secure sign-in (store.Account.RequireSecureSignIn) lets
// only members with a secure one act.
func (p *Policy) SignIns() store.SignIns { return p.signIns }

// WithSignIn returns a copy of p that accepts the sign-in method, as secure
// or not, besides those p accepts; naming one of them changes whether it
// is secure. It returns an error wrapping store.ErrInvalid if the name is
// malformed (see store.SignIn.Valid).
//
//	p, err := rbac.DigitalOcean().WithSignIn("passkey", true)
func (p *Policy) WithSignIn(method store.SignIn, secure bool) (*Policy, error) {
	s, err := p.signIns.With(method, secure)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", p.name, err)
	}
	c := *p
	c.signIns = s
	return &c, nil
}

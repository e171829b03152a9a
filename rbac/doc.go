// Package rbac decides who may do what in a team: which role may perform
// which action. It is the only package of roster that imports Casbin, and no
// Casbin type appears in its API.
//
// # Model
//
// Permissions follow one Casbin model, role-based access control with
// domains (model.conf):
//
//	[request_definition]
//	r = sub, dom, act
//	[policy_definition]
//	p = sub, act
//	[role_definition]
//	g = _, _, _
//	[policy_effect]
//	e = some(where (p.eft == allow))
//	[matchers]
//	m = g(r.sub, p.sub, r.dom) && r.act == p.act
//
// A request asks whether user sub may perform action act in team dom. A
// membership is a grouping rule "g, user, role, team"; memberships live in
// roster's store, never in a policy file. A role's permissions are policy
// rules "p, role, action", listed in a policy file. A user may perform an
// action in a team if their role in that team has a rule for it.
//
// # Presets
//
// Two policies are embedded: [Runpod] (roles basic, billing, dev and admin,
// reproducing Runpod's team permission table) and [DigitalOcean] (roles
// owner, biller, billing_viewer, member, modifier and resource_viewer,
// reproducing DigitalOcean's team role table). The constants of type [Role]
// and [Action] name their roles and actions.
//
// # Writing your own policy
//
// A policy file lists, one rule a line, every action of every role:
//
//	# Viewers read; editors also write; admins do everything.
//	p, viewer, docs.read
//	p, editor, docs.read
//	p, editor, docs.write
//	p, admin, docs.read
//	p, admin, docs.write
//	p, admin, members.invite
//	p, admin, members.manage
//	p, admin, settings.manage
//	p, admin, audit.read
//
// Blank lines and lines starting with # are ignored. There is no role
// inheritance: if editors may do everything viewers may, list those actions
// for editors too. Names are 1 to 128 bytes of printable UTF-8 with no
// spaces, commas or double quotes, and "*" is not a wildcard but refused.
// Every policy must contain the four actions roster itself checks,
// [MembersInvite], [MembersManage], [SettingsManage] and [AuditRead], and at
// least one role must hold every action: the first such role in the file is
// the [Policy.Top] role, like admin or owner in the presets. Load the files
// with [Load], [LoadFS] or [Parse], passing roster's model.conf (or a copy
// that differs only in whitespace and comments) as the model; a preset's
// [Policy.ModelText] returns it.
//
// # Decision table
//
// Loading compiles the policy into a decision table: for every role and
// action, the loader asks Casbin's own Enforce(role, team, action), in a
// probe team, whether a member with that role may perform the action, and
// keeps the answer as one bit. [Policy.Allowed] is then a bit test that
// neither allocates nor locks, and gives the same answer as Casbin's
// Enforce on the same model, policy and memberships.
//
// # Fallback
//
// A model the table cannot represent exactly still loads if it keeps
// roster's request (r = sub, dom, act) and one role definition (g = _, _,
// _), and its policy definition has the columns sub and act: matchers with
// patterns such as keyMatch(r.act, p.act) and rules like "p, dev, pods.*",
// a deny or priority effect with rules "p, role, action, eft", conditions on
// the team, rules naming their team in a dom column (Casbin's canonical
// model with domains, p = sub, dom, act and m = g(r.sub, p.sub, r.dom) &&
// r.dom == p.dom && r.act == p.act). Such a policy is not compiled
// ([Policy.Compiled] is false).
//
// What a member may do in a fallback policy depends only on their role, the
// team and the action, and no user ever reaches Casbin: roster asks Casbin
// Enforce(role, team, action) ([Policy.AllowsIn]) on one enforcer holding
// the policy's rules and no grouping rule. Casbin's role manager links every
// subject to itself, so that is exactly Casbin's answer for a user whose
// only grouping rule is "g, user, role, team", but a user cannot become a
// role by sharing its name, nor make a role another. Each answer costs
// microseconds and hundreds of allocations. [Policy.IsTopIn] asks it for
// every action of the policy; [Policy.CoversIn], which decides whether a
// holder of one role may grant another, asks it for representative actions:
// every action of [Policy.Actions] and every action of a rule, patterns
// included, asked as a literal action. An action that no rule names is
// compared only through these representatives.
//
// For the answer to depend on nothing but role, team and action, a model is
// refused with [ErrNotCompilable], naming the file and line, if its effect
// is subjectPriority(p.eft) || deny (Casbin orders those rules by the role
// hierarchy of the memberships), or if its matcher calls g more than once,
// calls it with other arguments than g(r.sub, p.sub, r.dom), or uses r.sub
// anywhere else; and a policy whose rule fields a matcher's eval would
// evaluate may not mention r.sub. Rules with a priority column are sorted
// by priority, as Casbin's LoadPolicy does.
//
// Its roles are the subjects of its rules. Its actions are the actions of
// its rules that are not patterns, plus the four library actions: an action
// containing one of the characters *?:{}()[]^$|\+ is a pattern, which
// grants what Casbin says it does but names no action of its own (in
// particular "*", which a compiled policy refuses). The decision table is
// still computed through Casbin for these roles and actions, in a probe team
// that neither the model nor the rules name, and answers [Policy.Allows],
// [Policy.Covers], [Policy.IsTop] and [Policy.RoleActions] for that team.
// [Policy.Top] is the first role, in policy file order, that holds every
// action in that team or in a team the rules name in their dom column.
// Models with another request, such as r = sub, dom, obj, act, or several
// role definitions are refused with [ErrNotCompilable]: roster can only ask
// Enforce(role, team, action).
package rbac

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
// action, the loader asks Casbin's own Enforce, through a probe membership,
// whether a member with that role may perform the action, and keeps the
// answer as one bit. [Policy.Allowed] is then a bit test that neither
// allocates nor locks, and gives the same answer as Casbin's Enforce on the
// same model, policy and memberships.
//
// # Fallback
//
// A model the table cannot represent exactly still loads if it keeps
// roster's request (r = sub, dom, act) and one role definition (g = _, _,
// _), and its policy definition has the columns sub and act: matchers with
// patterns such as keyMatch(r.act, p.act) and rules like "p, dev, pods.*",
// a deny effect with rules "p, role, action, eft", conditions on the team.
// Such a policy is not compiled ([Policy.Compiled] is false): the answer for
// a user, team and action comes from Casbin's own Enforce, through an
// [Enforcer] holding the memberships (roster keeps one beside its index).
// Each answer costs microseconds and hundreds of allocations, and Casbin
// keeps about 1.5 KB per membership.
//
// Its roles are the subjects of its rules. Its actions are the actions of
// its rules that are not patterns, plus the four library actions: an action
// containing one of the characters *?:{}()[]^$|\+ is a pattern, which
// grants what Casbin says it does but names no action of its own (in
// particular "*", which a compiled policy refuses). The decision table is
// still computed through Casbin for these roles and actions, in a probe team
// that no model names, and answers [Policy.Allows], [Policy.Covers],
// [Policy.RoleActions] and [Policy.Top] for grant checks. Models with
// another request, such as r = sub, dom, obj, act, or several role
// definitions are refused with [ErrNotCompilable]: roster can only ask
// Enforce(user, team, action).
package rbac

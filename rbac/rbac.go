package rbac

import "github.com/teamroster/roster/store"

// Role names a role of a policy, such as "admin". A role is defined by the
// policy file that lists its actions; the constants below name the roles of
// the two presets.
type Role string

// Action names something a member may do in a team, such as "pods.manage".
// The constants below name the actions of the two presets; a custom policy
// may define more.
type Action string

// Roles of the Runpod preset (see [Runpod]).
const (
	RunpodBasic   Role = "basic"   // uses existing Pods and endpoints
	RunpodBilling Role = "billing" // billing only
	RunpodDev     Role = "dev"     // basic plus creating and managing Pods and endpoints
	RunpodAdmin   Role = "admin"   // every action; the top role
)

// Roles of the DigitalOcean preset (see [DigitalOcean]).
const (
	DigitalOceanOwner          Role = "owner"           // every action; the top role
	DigitalOceanBiller         Role = "biller"          // full billing access only
	DigitalOceanBillingViewer  Role = "billing_viewer"  // limited billing read only
	DigitalOceanMember         Role = "member"          // full resource access, settings read only
	DigitalOceanModifier       Role = "modifier"        // resources except delete, settings read only
	DigitalOceanResourceViewer Role = "resource_viewer" // resources and settings read only
)

// Actions the library itself checks. Every policy must contain all four; a
// policy lacking one is refused with [ErrInvalidPolicy].
const (
	MembersInvite  Action = "members.invite"  // invite, resend and revoke invites
	MembersManage  Action = "members.manage"  // change roles, remove members, custom roles ("Manage team permissions")
	SettingsManage Action = "settings.manage" // rename, delete team, other team settings
	AuditRead      Action = "audit.read"      // read the audit log
)

// libraryActions lists the actions every policy must contain.
var libraryActions = [...]Action{MembersInvite, MembersManage, SettingsManage, AuditRead}

// Actions of the Runpod preset, one per row of its permission table (plus the
// four library actions). BillingRead and BillingManage are shared with the
// DigitalOcean preset.
const (
	AccountAccess   Action = "account.access"   // Access team account
	PodsConnect     Action = "pods.connect"     // Connect to existing Pods
	PodsManage      Action = "pods.manage"      // Create/delete/start/stop Pods
	EndpointsManage Action = "endpoints.manage" // Create/delete Serverless endpoints
	EndpointsInvoke Action = "endpoints.invoke" // Send requests to Serverless endpoints
	BillingRead     Action = "billing.read"     // View billing information (DigitalOcean: billing full access, read)
	BillingManage   Action = "billing.manage"   // Manage payment methods (DigitalOcean: billing full access, manage)
)

// Actions of the DigitalOcean preset, besides BillingRead, BillingManage and
// the four library actions.
const (
	ResourcesRead      Action = "resources.read"       // see shared resources
	ResourcesCreate    Action = "resources.create"     // create shared resources
	ResourcesUpdate    Action = "resources.update"     // modify shared resources
	ResourcesDelete    Action = "resources.delete"     // delete shared resources
	BillingReadLimited Action = "billing.read_limited" // the limited billing view of a billing viewer
	SettingsRead       Action = "settings.read"        // see team settings
)

// Errors returned by this package; test for them with errors.Is. Each wraps
// one of the kinds of package store (see its Errors section).
var (
	// ErrUnknownRole reports a role that the policy does not define. Policy
	// methods answer false or nil for unknown roles; packages built on rbac
	// return this error when a caller names one. It wraps store.ErrInvalid.
	ErrUnknownRole = store.Kinded(store.ErrInvalid, "rbac: unknown role")
	// ErrUnknownAction reports an action that the policy does not define.
	// Policy methods answer false for unknown actions; packages built on rbac
	// return this error when a caller names one. It wraps store.ErrInvalid.
	ErrUnknownAction = store.Kinded(store.ErrInvalid, "rbac: unknown action")
	// ErrDenied reports that a member's role does not allow an action.
	// Packages built on rbac return it when a check fails. It wraps
	// store.ErrDenied.
	ErrDenied = store.Kinded(store.ErrDenied, "rbac: permission denied")
	// ErrNotMember reports that a user is not a member of the team they act
	// in. Packages built on rbac return it when a check finds no membership.
	// It wraps store.ErrDenied.
	ErrNotMember = store.Kinded(store.ErrDenied, "rbac: not a member")
	// ErrSecureSignIn reports a member of a team that requires secure
	// sign-in (store.Account.RequireSecureSignIn) whose sign-in method is
	// not secure (Policy.SignIns): they may do nothing in the team until
	// they enable a secure one. It wraps ErrDenied, and so store.ErrDenied.
	ErrSecureSignIn = store.Kinded(ErrDenied, "rbac: the team requires secure sign-in; enable a secure sign-in method")
	// ErrSuspended reports a member of a team who is suspended
	// (store.Member.SuspendedAt): they keep their role and seat and may do
	// nothing until reinstated. It wraps ErrDenied, and so store.ErrDenied.
	ErrSuspended = store.Kinded(ErrDenied, "rbac: the member is suspended")
	// ErrTopByTransfer reports an attempt to grant the top role directly
	// where the policy grants it only by an ownership transfer (see
	// Policy.TopByTransfer). It wraps store.ErrPrecondition: the transfer
	// flow grants it.
	ErrTopByTransfer = store.Kinded(store.ErrPrecondition, "rbac: the top role is granted only by an ownership transfer")
	// ErrInvalidPolicy reports a model or policy file that cannot be loaded:
	// a syntax error, a bad name, a duplicate rule, a missing library action,
	// no top role, or input over the size limits. It wraps store.ErrInvalid.
	ErrInvalidPolicy = store.Kinded(store.ErrInvalid, "rbac: invalid policy")
	// ErrNotCompilable reports a valid Casbin model that roster cannot use:
	// one whose request is not r = sub, dom, act, with another role
	// definition than one g = _, _, _, whose policy definition lacks sub or
	// act, under which a member's rights could depend on more than their
	// role, the team and the action (a subjectPriority effect; a matcher
	// using r.sub other than in one g(r.sub, p.sub, r.dom)), or on which
	// Casbin fails to decide. Other models the decision table cannot
	// represent load as fallback policies (see Policy.Compiled). It wraps
	// store.ErrInvalid.
	ErrNotCompilable = store.Kinded(store.ErrInvalid, "rbac: model not compilable")
)

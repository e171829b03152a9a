// Package roster gives a Go backend team accounts, members with roles, and an
// audit log, and answers Can(user, account, action) from memory in its
// handlers.
//
// It reproduces two products' team models: Runpod's (roles basic, billing,
// dev and admin; rbac.Runpod) and DigitalOcean's (owner, biller, billing
// viewer, member, modifier and resource viewer; rbac.DigitalOcean). Each
// user has a personal account, which can be converted into a team account
// and back without changing its ID.
//
// # Quick start
//
//	r, err := roster.Open(ctx, "roster.db") // SQLite file, Runpod policy
//	if err != nil { ... }
//	defer r.Close()
//
//	alice, err := r.Teams.CreateUser(ctx, store.User{ID: "alice", Email: "alice@example.com", Name: "Alice", SignIn: store.SignInGoogle})
//	team, err := r.Teams.ConvertToTeam(ctx, "alice", alice.ID, "Acme")
//	_, err = r.Teams.AddMember(ctx, "alice", team.ID, "bob", rbac.RunpodDev)
//
//	if !r.Can(ctx, "bob", team.ID, rbac.PodsManage) { ... }   // in a handler
//	err = r.Check(ctx, "bob", team.ID, rbac.BillingRead)       // says why not
//
//	events, next, err := r.Audit.Query(ctx, "alice", team.ID, audit.Filter{Action: "member.added"})
//
// # How it fits together
//
// A Roster joins one store.Store (store/sqlstore on SQLite or PostgreSQL, or
// your own implementation that passes store/storetest) and one rbac.Policy
// (a Casbin model and policy file, compiled into a decision table). Every
// change goes through the Teams service in one transaction that authorizes
// the actor with the policy, checks the invariants (a team always keeps a
// member with the top role; one membership per user and account), makes the
// change and writes its audit event.
//
// Can never touches the database: the Roster holds every membership in
// memory, loaded at Open and updated from each commit's change list before
// the call that made it returns.
//
// # Several instances
//
// Instances of an application sharing one PostgreSQL database each run a
// Roster. A Roster follows the changes the others commit: the Store
// announces every commit (LISTEN/NOTIFY on PostgreSQL, see store.Watcher),
// the Roster reads the changes after its revision and applies them in
// order, and it checks for new revisions every second anyway (WithFollow),
// so announcements lost to a dropped connection cost at most that. For the
// moments a change takes to travel, TrackWrites gives the revision of a
// write, CanAt answers as of a revision on any instance, and CheckStrict
// decides from the database itself.
package roster

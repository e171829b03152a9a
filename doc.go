// Package roster gives a Go backend team accounts the way Runpod and
// DigitalOcean give them to their customers: personal accounts that convert
// to teams, invitations, roles, ownership transfer and an audit log, with
// Can(user, account, action) answered from memory in your handlers.
//
// # Quick start
//
//	r, err := roster.Open(ctx, "roster.db") // SQLite file, Runpod policy
//	if err != nil { ... }
//	defer r.Close()
//
//	// Your sign-up registers each user; they get a personal account.
//	alice, err := r.Teams.CreateUser(ctx, store.User{ID: "alice", Email: "alice@example.com", Name: "Alice", SignIn: store.SignInGoogle})
//	team, err := r.Teams.ConvertToTeam(ctx, "alice", alice.ID, "Acme") // same account ID
//
//	inv, err := r.Invites.CreateLink(ctx, "alice", team.ID, rbac.RunpodDev) // needs roster.WithBaseURL
//	_, err = r.Invites.Accept(ctx, "bob", inv.Token)
//
//	if !r.Can(ctx, "bob", team.ID, rbac.PodsManage) { ... } // no I/O, no allocation
//	err = r.Check(ctx, "bob", team.ID, rbac.BillingRead)     // says why not
//
//	events, next, err := r.Audit.Query(ctx, "alice", team.ID, audit.Filter{Action: store.EventMemberJoined})
//
// # In an HTTP server
//
// Require guards a route with an action. You supply the user (your own
// authentication) and where the team comes from: a path value, a header, or
// else the user's active account. Denials are RFC 9457 problem reports
// (401 without a user, 403 when denied); the handler reads the user and team
// with UserFrom and TeamFrom, and the audit events it writes carry the
// request's IP, user agent and request ID.
//
//	opts := roster.HTTPOptions{User: mySession, Team: roster.TeamFromPath("team")}
//	mux.Handle("POST /teams/{team}/pods", r.Require(rbac.PodsManage, opts)(createPod))
//	mux.Handle("GET /teams/{team}/members", r.RequireMember(opts)(listMembers))
//
// Package teamapi serves a whole team page's JSON API this way, with its
// OpenAPI document, for the host to mount under a prefix of its choosing.
//
// # The parts
//
//   - r.Teams (package teams): users, accounts, conversion, members, roles,
//     leaving, the account selector, ownership transfer, custom team roles.
//   - r.Invites (package invites): link and email invitations, pending list,
//     resend, revoke, accept; tokens are stored only as hashes.
//   - r.Audit (package audit): query with filters, host events, export,
//     hash-chain verification, retention, point-in-time membership.
//   - package notify: the Notifier your mail service implements to send
//     roster's emails (invitations, ownership transfer links); see
//     WithNotifier.
//   - package rbac: the Runpod and DigitalOcean policies (Casbin model and
//     policy files compiled into a decision table), or your own.
//   - package store: the Store contract; store/sqlstore is the default
//     (SQLite, or PostgreSQL for several instances on one database), and any
//     Store that passes store/storetest works with New.
//
// Every change is one transaction that authorizes the actor with the
// policy, keeps the invariants (a team always keeps a member with the top
// role), makes the change and writes its audit event. Can reflects a change
// as soon as the call that made it returns; Can never touches the
// database, unless the Roster holds only the accounts it is asked about
// (WithMemoryBudget) and the account is not among them.
//
// The examples directory holds runnable programs: quickstart, httpserver
// (package teamapi mounted with a demo sign-in, and a console page in the
// browser over it) and customstore (a Store written from scratch).
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
//
// # Observing
//
// WithLogger gives roster a log/slog logger (the follower's reconnections,
// catch-ups and failed reads, slow writes); WithTracerProvider and
// WithMeterProvider give it OpenTelemetry providers (a span per write,
// decisions, write durations, follower lag), the global ones by default.
// Health and HealthHandler tell a readiness probe whether the in-memory
// view is fit to answer. None of them records a token, an email, a name or
// an IP address.
package roster

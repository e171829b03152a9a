// Package teamapi serves roster's team page as a JSON API that a host
// application mounts on its own server: the account selector and switching,
// creating, converting and deleting teams, the members table with its pages
// and seats, the roles and what each may do, role changes (previewed, then
// made for good or until a time), suspension and reinstatement, memberships
// that end at a time, removal and leaving, invites by link and by email
// (create, list, resend, copy the link again, revoke, preview and accept),
// ownership transfers (start, confirm, accept, cancel), secure sign-in
// (preview and toggle), email domains (claim one and get the challenge to
// publish in its DNS, list, remove; confirming a claim is the host's call,
// Teams.ConfirmDomain, after its own DNS lookup), API keys and service
// accounts (create, list one's own or the team's, revoke) and the audit log
// with every filter and its export as JSON Lines or CSV.
//
// New returns the API as an http.Handler. The host supplies its own
// authentication (Options.User, as roster.HTTPOptions.User) and the path
// prefix the routes live under (Options.Prefix):
//
//	api, err := teamapi.New(r, teamapi.Options{
//		User:   mySession, // func(*http.Request) (userID string, ok bool)
//		Prefix: "/api",
//	})
//	if err != nil { ... }
//	mux.Handle("/api/", api)
//
// # What it serves
//
// The OpenAPI 3.1 document at GET {prefix}/openapi.json describes every
// route: its method and path, its parameters and body, who may call it
// (x-roster-access) and the JSON schema of each answer. In short:
//
//   - Each route is behind roster's middleware, as the README's "In an HTTP
//     server" shows: r.RequireUser for the user's own routes (GET /me,
//     POST /teams, invites by token, transfer steps), r.RequireMember for
//     what every member of {team} may do, and r.Require(action) for the
//     rest, so that a route answers 401 without a user and 403 to a user
//     whose role lacks the action, before its handler runs.
//   - Answers are the package's own types (User, Account, MemberRow,
//     Invitation, Transfer, APIKey, Event, Page...) in snake_case, leaving
//     out empty fields: no token hash, no field of the audit hash chain, no
//     zero time. An audit event's before and after are JSON values. A new
//     invite's or API key's token is in the answer that made it only.
//   - API keys act only through roster's Can, on the host's own routes; they
//     do not manage the team. With Options.APIKeys the API recognises them
//     and refuses a working key with 403 (one that does not work with 401);
//     without it a key is no user.
//   - Errors are RFC 9457 problem reports: roster's errors with the status
//     of roster.HTTPStatus and their public message (roster.WriteError),
//     never an internal ID or a database's text.
//   - Requests that change state pass SameSiteJSON: no cross-site request
//     (403), no body but application/json (415).
//   - A body must be one JSON object of the route's fields, of at most
//     Options.MaxBodyBytes (DefaultMaxBodyBytes, 64 KiB): anything else is
//     refused (400, 413) and changes nothing. So are unknown query
//     parameters.
//   - One log record per request, to Options.Logger or the Roster's logger
//     (roster.WithLogger): method, route pattern, status, duration.
//
// The package does no authentication, sends no mail (roster's Notifier
// does: roster.WithNotifier) and serves no page: a page over it, such as the
// console of examples/httpserver, is the host's.
package teamapi

// Package bench holds roster's performance benchmarks. It has no API: its
// benchmarks generate teams of ten members at several sizes, store them in a
// SQLite file (and in PostgreSQL when ROSTER_TEST_POSTGRES_DSN is set), and
// measure, in one run on the same memberships, roster's Can against Casbin's
// Enforcer and CachedEnforcer on the same model and policy, the memory the
// in-memory index takes per membership, the time roster.Open takes to get
// ready, and the rate of writes through the public API.
//
// Run everything with
//
//	go test -run '^$' -bench . -benchmem -timeout 0 ./bench/
//
// or scripts/bench, which repeats the run and prints the table of medians the
// README shows. The generated SQLite files are kept in the system's
// temporary directory and reused by later runs.
package bench

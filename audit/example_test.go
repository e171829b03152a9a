package audit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// openExample opens a Roster on a SQLite file in a new temporary directory
// with a Runpod team: alice (admin) and bob (dev). close removes it all.
func openExample() (r *roster.Roster, team store.Account, close func()) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "roster-audit-example-")
	if err != nil {
		log.Fatal(err)
	}
	r, err = roster.Open(ctx, filepath.Join(dir, "roster.db"))
	if err != nil {
		log.Fatal(err)
	}
	alice, err := r.Teams.CreateUser(ctx, store.User{ID: "alice", Email: "alice@example.com", Name: "Alice", SignIn: store.SignInGoogle})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Teams.CreateUser(ctx, store.User{ID: "bob", Email: "bob@example.com", Name: "Bob", SignIn: store.SignInEmail}); err != nil {
		log.Fatal(err)
	}
	team, err = r.Teams.ConvertToTeam(ctx, "alice", alice.ID, "Acme")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Teams.AddMember(ctx, "alice", team.ID, "bob", rbac.RunpodDev); err != nil {
		log.Fatal(err)
	}
	return r, team, func() {
		if err := r.Close(); err != nil {
			log.Print(err)
		}
		os.RemoveAll(dir)
	}
}

// The host application records its own events in the team's log, with the
// request's metadata, and an admin filters the log by user and resource.
func ExampleService_Record() {
	r, team, done := openExample()
	defer done()

	// In a handler, after the request passed audit.Middleware (or with the
	// metadata put in the context by hand):
	ctx := store.WithRequest(context.Background(), store.Request{IP: "203.0.113.7", UserAgent: "console/1.0", RequestID: "req-42"})
	if _, err := r.Audit.Record(ctx, "bob", team.ID, audit.Entry{
		Action: "pod.created", ResourceType: "pod", ResourceID: "pod_7f3a", After: `{"gpu":"A100"}`,
	}); err != nil {
		log.Fatal(err)
	}
	// roster's own actions cannot be forged.
	_, err := r.Audit.Record(ctx, "bob", team.ID, audit.Entry{Action: "member.role_changed"})
	fmt.Println("forging member.role_changed:", errors.Is(err, audit.ErrReserved))

	events, _, err := r.Audit.Query(context.Background(), "alice", team.ID, audit.Filter{Actor: "bob", ResourceType: "pod"})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range events {
		fmt.Println(e.Actor, e.Action, e.ResourceID, e.After, e.IP, e.RequestID)
	}
	// Only roles with audit.read may read the log; the refusal is logged too.
	_, _, err = r.Audit.Query(context.Background(), "bob", team.ID, audit.Filter{})
	fmt.Println("bob reads the log:", errors.Is(err, rbac.ErrDenied))
	// Output:
	// forging member.role_changed: true
	// bob pod.created pod_7f3a {"gpu":"A100"} 203.0.113.7 req-42
	// bob reads the log: true
}

// Query pages through the log newest first; a cursor continues where the
// last page ended even while new events arrive.
func ExampleService_Query() {
	r, team, done := openExample()
	defer done()
	ctx := context.Background()
	for _, pod := range []string{"p1", "p2", "p3"} {
		if _, err := r.Audit.Record(ctx, "bob", team.ID, audit.Entry{Action: "pod.created", ResourceType: "pod", ResourceID: pod}); err != nil {
			log.Fatal(err)
		}
	}
	f := audit.Filter{Action: "pod.created", Limit: 2}
	for page := 1; ; page++ {
		events, next, err := r.Audit.Query(ctx, "alice", team.ID, f)
		if err != nil {
			log.Fatal(err)
		}
		var ids []string
		for _, e := range events {
			ids = append(ids, e.ResourceID)
		}
		fmt.Println("page", page, ids)
		if next == "" {
			break
		}
		f.Cursor = next
	}
	// Output:
	// page 1 [p3 p2]
	// page 2 [p1]
}

// Export streams a filtered log as CSV (or NDJSON) to any io.Writer.
func ExampleService_Export() {
	r, team, done := openExample()
	defer done()
	var buf bytes.Buffer
	n, err := r.Audit.Export(context.Background(), "alice", team.ID, audit.Filter{ResourceType: "member"}, audit.CSV, &buf)
	if err != nil {
		log.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	fmt.Println(n, "event")
	fmt.Println(lines[0])
	fmt.Println(strings.Join(strings.Split(lines[1], ",")[3:7], ","))
	// Output:
	// 1 event
	// id,account_id,time,actor,action,resource_type,resource_id,result,reason,before,after,ip,user_agent,request_id,prev_hash,hash,salt,commitment
	// alice,member.added,member,bob
}

// Verify walks the hash chain; a head kept elsewhere proves later that the
// chain still holds it.
func ExampleService_Verify() {
	r, team, done := openExample()
	defer done()
	ctx := context.Background()
	kept, err := r.Audit.Head(ctx, "alice", team.ID) // store it outside the database
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Audit.Record(ctx, "bob", team.ID, audit.Entry{Action: "pod.created"}); err != nil {
		log.Fatal(err)
	}
	rep, err := r.Audit.Verify(ctx, "alice", team.ID, kept)
	fmt.Println(rep.Events, "events verified:", err)
	// Output:
	// 4 events verified: <nil>
}

// MembersAt answers who was a member, with which role, at a given time.
func ExampleService_MembersAt() {
	r, team, done := openExample()
	defer done()
	ctx := context.Background()
	joined, _, err := r.Audit.Query(ctx, "alice", team.ID, audit.Filter{Action: "member.added", ResourceID: "bob"})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Teams.ChangeRole(ctx, "alice", team.ID, "bob", rbac.RunpodBasic); err != nil {
		log.Fatal(err)
	}
	for _, at := range []time.Time{joined[0].Time, time.Now()} {
		m, ok, err := r.Audit.MemberAt(ctx, "alice", team.ID, "bob", at)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ok, m.Role, rbac.Runpod().Allows(rbac.Role(m.Role), rbac.PodsManage))
	}
	// Output:
	// true dev true
	// true basic false
}

// Prune deletes old events for a retention policy; the rest of the chain
// still verifies and membership after the cut is still answered.
func ExampleService_Prune() {
	r, team, done := openExample()
	defer done()
	ctx := context.Background()
	res, err := r.Audit.Prune(ctx, "alice", team.ID, time.Now())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("deleted:", res.Deleted)
	_, err = r.Audit.Verify(ctx, "alice", team.ID)
	fmt.Println("verify:", err)
	members, err := r.Audit.MembersAt(ctx, "alice", team.ID, time.Now())
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range members {
		fmt.Println(m.UserID, m.Role)
	}
	_, err = r.Audit.MembersAt(ctx, "alice", team.ID, time.Now().Add(-time.Hour))
	fmt.Println(errors.Is(err, audit.ErrPruned))
	// Output:
	// deleted: 3
	// verify: <nil>
	// alice admin
	// bob dev
	// true
}

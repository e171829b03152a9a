// Command customstore shows how to swap roster's store: MemStore (in
// memstore.go) is a store.Store written from scratch that keeps everything in
// memory, and main_test.go proves it with the conformance suite,
// storetest.Run, which every Store must pass. roster.New takes any Store;
// this program runs the team flow on it.
//
//	go run ./examples/customstore
//	go test ./examples/customstore   # the conformance suite against MemStore
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, w io.Writer) error {
	s := NewMemStore()
	defer s.Close()
	r, err := roster.New(ctx, s, rbac.Runpod(), roster.WithBaseURL("https://app.example.com/team"))
	if err != nil {
		return err
	}
	defer r.Close() // leaves s open: New does not own its Store
	fmt.Fprintln(w, "roster on MemStore, an in-memory store.Store")

	alice, err := r.Teams.CreateUser(ctx, store.User{ID: "alice", Email: "alice@example.com", Name: "Alice", SignIn: store.SignInGoogle})
	if err != nil {
		return err
	}
	if _, err := r.Teams.CreateUser(ctx, store.User{ID: "bob", Email: "bob@example.com", Name: "Bob", SignIn: store.SignInEmail}); err != nil {
		return err
	}
	team, err := r.Teams.ConvertToTeam(ctx, "alice", alice.ID, "Acme")
	if err != nil {
		return err
	}
	inv, err := r.Invites.CreateLink(ctx, "alice", team.ID, rbac.RunpodDev)
	if err != nil {
		return err
	}
	if _, err := r.Invites.Accept(ctx, "bob", inv.Token); err != nil {
		return err
	}
	fmt.Fprintf(w, "bob joined %s by link; Can(bob, pods.manage) = %v\n", team.Name, r.Can(ctx, "bob", team.ID, rbac.PodsManage))
	if err := r.Teams.RemoveMember(ctx, "alice", team.ID, "bob"); err != nil {
		return err
	}
	fmt.Fprintf(w, "alice removed bob; Can(bob, pods.manage) = %v\n", r.Can(ctx, "bob", team.ID, rbac.PodsManage))

	events, _, err := r.Audit.Query(ctx, "alice", team.ID, audit.Filter{})
	if err != nil {
		return err
	}
	rep, err := r.Audit.Verify(ctx, "alice", team.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "audit log: %d events; Verify checked %d and the hash chain holds\n", len(events), rep.Events)
	for _, e := range events {
		fmt.Fprintf(w, "  %-18s by %s\n", e.Action, e.Actor)
	}
	return nil
}

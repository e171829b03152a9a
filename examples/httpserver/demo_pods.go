package main

// DEMO ONLY: this file stands in for the host application's own resources,
// the routes it guards with roster's middleware. Replace it with yours.

import (
	"net/http"

	"github.com/teamroster/roster"
)

// pod is one of a team's pods, as the demo makes them up.
type pod struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	GPU    string `json:"gpu"`
	Status string `json:"status"`
}

// demoPods are the pods every team has in the demo.
var demoPods = []pod{
	{ID: "pod_1", Name: "trainer", GPU: "A100", Status: "running"},
	{ID: "pod_2", Name: "notebook", GPU: "L4", Status: "stopped"},
}

// podList answers GET /api/demo/teams/{team}/pods.
type podList struct {
	Team string `json:"team"`
	// Actor is who asked: the signed-in user, or the API key's ID (key_...),
	// as roster.UserFrom returns them and as the audit log would name them.
	Actor string `json:"actor"`
	// KeyOwner is the member whose API key made the request; absent for a
	// user and for a service account.
	KeyOwner string `json:"key_owner,omitempty"`
	Items    []pod  `json:"items"`
}

// pods lists the team's pods. The middleware in front of it
// (roster.Require(rbac.PodsConnect) with APIKeys) has let through only a
// member, or an API key of the team, that may connect to pods: a handler
// of the host asks nothing more.
func (s *server) pods(_ http.ResponseWriter, req *http.Request) (any, error) {
	out := podList{Items: demoPods}
	out.Team, _ = roster.TeamFrom(req.Context())
	out.Actor, _ = roster.UserFrom(req.Context())
	if p, ok := roster.KeyFrom(req.Context()); ok {
		out.KeyOwner = p.User
	}
	return out, nil
}

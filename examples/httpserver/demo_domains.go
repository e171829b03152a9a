package main

// DEMO ONLY: this file stands in for the host application's DNS check of a
// team's email domain. roster does no DNS: the team's owner claims a domain
// through the team API (POST /api/teams/{team}/domains), which answers a
// challenge to publish in a DNS TXT record of the domain, and the host
// confirms the claim (Teams.ConfirmDomain) once it has found that record.
// Replace confirmDomain with your own check, run by your backend.

import (
	"net/http"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/teamapi"
)

// confirmDomain answers POST /api/demo/teams/{team}/domains/{name}/confirm:
// the demo's stand-in for the host's DNS check, which whoever may manage
// the team's settings asks for (the middleware in front of it,
// roster.Require(rbac.SettingsManage), lets only them through). A real host
// first looks the domain's TXT records up and confirms the claim only if one
// of them is the claim's challenge, as in
//
//	records, err := net.DefaultResolver.LookupTXT(ctx, name)
//	// ... find the claim's Challenge among records, else refuse
//
// The demo skips the lookup and confirms the claim (Teams.ConfirmDomain); it
// answers the claim as GET /api/teams/{team}/domains does. From then on a
// user who signs in with an address at the domain joins the team or is
// shown it (see signIn).
func (s *server) confirmDomain(_ http.ResponseWriter, req *http.Request) (any, error) {
	team, _ := roster.TeamFrom(req.Context())
	d, err := s.r.Teams.ConfirmDomain(req.Context(), team, req.PathValue("name"))
	if err != nil {
		return nil, err
	}
	return teamapi.DomainOf(d), nil
}

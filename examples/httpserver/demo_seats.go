package main

// DEMO ONLY: this file stands in for the host application's billing, which
// sets a team's seat limit from its plan. Members never set it: the team API
// has no route for it. Replace it with your billing code, which calls
// Teams.SetSeatLimit when a plan changes.

import (
	"net/http"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/teamapi"
)

// planBody is the demo's plan: how many seats the team pays for, 0 for no
// limit.
type planBody struct {
	Seats int `json:"seats"`
}

// setPlan answers PUT /api/demo/teams/{team}/plan: the demo's stand-in for
// a billing plan, which whoever may manage the team's billing picks (the
// middleware in front of it, roster.Require(rbac.BillingManage), lets only
// them through). The host, not roster's team API, sets the seat limit from
// it (Teams.SetSeatLimit); it answers the seats as GET
// /api/teams/{team}/seats does.
func (s *server) setPlan(w http.ResponseWriter, req *http.Request) (any, error) {
	var in planBody
	if err := decode(w, req, &in); err != nil {
		return nil, err
	}
	team, _ := roster.TeamFrom(req.Context())
	user, _ := roster.UserFrom(req.Context())
	if _, err := s.r.Teams.SetSeatLimit(req.Context(), team, in.Seats); err != nil {
		return nil, err
	}
	seats, err := s.r.Teams.Seats(req.Context(), user, team)
	if err != nil {
		return nil, err
	}
	return teamapi.SeatsOf(seats), nil
}

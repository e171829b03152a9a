package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// maxOperatorLen is the longest operator name, in characters.
const maxOperatorLen = 64

// grantAction is the host event that records an operator's grant.
const grantAction store.EventAction = "operator.role_granted"

// runGrant is "roster grant USER ACCOUNT ROLE -operator NAME": an emergency
// grant made by an operator, who is not a member of the account.
//
// roster lets only members act, so the grant is made with the authority of
// the account's owner, through the normal write path: AddMember if USER is
// not a member, ChangeRole if they are. The owner rules therefore hold: the
// owner's own role cannot be changed, a role the owner's does not cover
// cannot be granted, and where the policy grants the top role only by
// transfer, it cannot be granted here. Every event the grant writes carries
// the operator's name in its request metadata (user agent "roster-cli
// grant by operator NAME", and a request ID of its own), and a host event
// operator.role_granted, by the owner, records the operator, the user and
// the role in the same log.
func runGrant(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	const name = "grant"
	fs := newFlags(name, "grant -db DB [-policy P] USER ACCOUNT ROLE -operator NAME", stderr)
	var f dbFlags
	f.addDB(fs)
	f.addPolicy(fs)
	operator := fs.String("operator", "", "the name of the operator making the grant, kept in the audit log (required)")
	pos, err := parse(fs, args, "USER", "ACCOUNT", "ROLE")
	if err == nil {
		err = checkOperator(*operator)
	}
	if err != nil {
		return fail(stderr, name, err)
	}
	user, account, role := pos[0], pos[1], rbac.Role(pos[2])
	err = f.withSession(ctx, func(s *session) error {
		if !s.Policy().HasRole(role) {
			return usagef("policy %s has no role %q (roles: %s)", s.Policy().Name(), role, roleList(s.Policy()))
		}
		var acct store.Account
		err := s.store.View(ctx, func(tx store.Tx) error {
			var err error
			acct, err = tx.Account(ctx, account)
			return err
		})
		if err != nil {
			return err
		}
		if acct.Owner == "" {
			return fmt.Errorf("account %s has no owner whose authority the grant could use", account)
		}
		req := store.Request{UserAgent: "roster-cli grant by operator " + *operator, RequestID: "operator-grant-" + rand.Text()}
		ctx := store.WithRequest(ctx, req)
		verb := "added"
		_, err = s.Teams.AddMember(ctx, acct.Owner, account, user, role)
		if errors.Is(err, store.ErrExists) {
			verb = "changed"
			_, err = s.Teams.ChangeRole(ctx, acct.Owner, account, user, role)
		}
		if err != nil {
			return err
		}
		after, err := json.Marshal(struct {
			Operator string    `json:"operator"`
			Role     rbac.Role `json:"role"`
			Change   string    `json:"change"`
		}{*operator, role, verb})
		if err != nil {
			return err
		}
		e, err := s.Audit.Record(ctx, acct.Owner, account, audit.Entry{
			Action:       grantAction,
			ResourceType: "member",
			ResourceID:   user,
			Reason:       "emergency grant by operator " + *operator,
			After:        string(after),
		})
		if err != nil {
			return fmt.Errorf("the grant is made and its events name the operator, but recording %s failed: %w", grantAction, err)
		}
		fmt.Fprintf(stdout, "%s %s as %s in %s with the authority of its owner %s; recorded as event %d (request %s)\n",
			user, verb, role, account, acct.Owner, e.ID, req.RequestID)
		return nil
	})
	if err != nil {
		return fail(stderr, name, err)
	}
	return exitOK
}

// checkOperator returns a usage error unless name is a usable operator
// name: printable text of 1 to maxOperatorLen characters, not all spaces.
func checkOperator(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return usagef("-operator is required")
	case !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxOperatorLen:
		return usagef("-operator: want at most %d characters of text", maxOperatorLen)
	case strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return usagef("-operator %q: only printable characters", name)
	}
	return nil
}

// roleList returns p's roles joined by commas.
func roleList(p *rbac.Policy) string {
	roles := make([]string, 0, len(p.Roles()))
	for _, r := range p.Roles() {
		roles = append(roles, string(r))
	}
	return strings.Join(roles, ", ")
}

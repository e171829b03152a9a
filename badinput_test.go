package roster_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/invites"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teams"
)

// hostile are the classes of bad string input every public method is fed.
// Values of the classes marked data may be legitimate text (a team named
// "*"), so a method may accept them; the others never.
var hostile = []struct {
	class  string
	data   bool
	values []string
}{
	{"empty", false, []string{""}},
	{"oversized", false, []string{strings.Repeat("a", 70_000)}},
	{"non-UTF-8", false, []string{"\xff\xfe", "a\xc3"}},
	{"control characters", false, []string{"a\x00b", "a\nb", "\x1b[31m"}},
	{"SQL-looking", true, []string{"' OR '1'='1", "x'); DROP TABLE roster_members; --"}},
	{"wildcard-looking", true, []string{"*", "%", "_", ","}},
}

// sentinels are the documented errors a refusal may wrap.
var sentinels = []error{
	store.ErrInvalid, store.ErrNotFound, store.ErrExists,
	rbac.ErrNotMember, rbac.ErrDenied, rbac.ErrUnknownRole, rbac.ErrUnknownAction, rbac.ErrTopByTransfer,
	teams.ErrNotTeam, teams.ErrAlreadyTeam, teams.ErrLastOwner, teams.ErrInvalidToken, teams.ErrRoleTooBroad,
	teams.ErrTransferClosed, teams.ErrRoleInUse,
	invites.ErrMalformedToken, invites.ErrUnknownToken, invites.ErrRevoked, invites.ErrUsed,
	audit.ErrPruned,
}

// badInputWorld is a team with an admin, a basic member, an outsider, a
// pending invite, an open ownership transfer and a team role.
type badInputWorld struct {
	team, personal, invite, token, xfer, xferToken string
}

// badInputCalls gives, for every exported method of the four public
// receivers, valid arguments after ctx; the test swaps one string at a time
// (a string argument, a string field of a struct argument, or the element
// of a string slice) for a hostile value. A nil entry means the method takes
// no string input. TestBadInputEveryMethod fails if a method is missing here.
func badInputCalls(w badInputWorld) map[string]map[string][]any {
	now := time.Now()
	return map[string]map[string][]any{
		"teams": {
			"AcceptTransfer":    {"bas", w.xfer, w.xferToken},
			"Account":           {"adm", w.team},
			"Accounts":          {"adm"},
			"Active":            {"adm"},
			"AddMember":         {"adm", w.team, "out", rbac.RunpodBasic},
			"CancelTransfer":    {"adm", w.team, w.xfer},
			"ChangeRole":        {"adm", w.team, "bas", rbac.RunpodDev},
			"ConfirmTransfer":   {"adm", w.xfer, w.xferToken},
			"ConvertToTeam":     {"out", w.personal, "Out"},
			"CreateUser":        {store.User{ID: "new", Email: "new@example.com", Name: "New", SignIn: store.SignInEmail}},
			"DefineRole":        {"adm", w.team, "viewer2", []rbac.Action{rbac.AccountAccess}},
			"DeleteRole":        {"adm", w.team, "viewer"},
			"DeleteTeam":        {"own", w.team},
			"GrantTopRole":      {"adm", w.team, "bas"},
			"Leave":             {"bas", w.team},
			"Members":           {"adm", w.team},
			"PreviewRoleChange": {"adm", w.team, "bas", rbac.RunpodDev},
			"RemoveMember":      {"adm", w.team, "bas"},
			"Rename":            {"adm", w.team, "Renamed"},
			"Roles":             {"adm", w.team},
			"Switch":            {"bas", w.team},
			"TransferOwnership": {"own", w.team, "bas"},
			"Transfers":         {"adm", w.team},
			"User":              {"adm"},
		},
		"invites": {
			"Accept":      {"out", w.token},
			"CreateEmail": {"adm", w.team, rbac.RunpodBasic, []string{"x@example.com"}},
			"CreateLink":  {"adm", w.team, rbac.RunpodBasic},
			"List":        {"adm", w.team},
			"Pending":     {"adm", w.team},
			"Preview":     {w.token},
			"Resend":      {"adm", w.team, w.invite},
			"Revoke":      {"adm", w.team, w.invite},
		},
		"audit": {
			"Export":    {"adm", w.team, audit.Filter{}, audit.NDJSON, io.Discard},
			"Head":      {"adm", w.team},
			"MemberAt":  {"adm", w.team, "bas", now},
			"MembersAt": {"adm", w.team, now},
			"Prune":     {"adm", w.team, now.Add(-time.Hour)},
			"Query":     {"adm", w.team, audit.Filter{}},
			"Record":    {"adm", w.team, audit.Entry{Action: "pod.created"}},
			"Verify":    {"adm", w.team},
		},
		"roster": {
			"Can":         {"adm", w.team, rbac.PodsConnect},
			"Check":       {"adm", w.team, rbac.PodsConnect},
			"Explain":     {"adm", w.team, rbac.PodsConnect},
			"CanAt":       {store.Revision(0), "adm", w.team, rbac.PodsConnect},
			"CheckStrict": {"adm", w.team, rbac.PodsConnect},
			"Close":       nil,
			"Policy":      nil,
			"Revision":    nil,
			"Sync":        nil,
			"WaitFor":     nil,
			// The middleware takes no context: its string inputs come
			// from requests, and http_test.go sends malformed users and
			// teams through it.
			"Require":       nil,
			"RequireMember": nil,
			"RequireUser":   nil,
		},
	}
}

// ignored are the inputs a method documents that it ignores.
var ignored = map[string]bool{
	"CreateUser arg 1 field ActiveAccount": true, // the new personal account becomes the active one
}

// variants returns copies of args with one string replaced by v, each with
// a name saying which. A string that is v already (an optional field left
// empty) is not replaced.
func variants(args []any, v string) (names []string, out [][]any) {
	for i, a := range args {
		rv := reflect.ValueOf(a)
		swap := func(name string, nv reflect.Value) {
			c := slices.Clone(args)
			c[i] = nv.Interface()
			names, out = append(names, name), append(out, c)
		}
		switch rv.Kind() {
		case reflect.String:
			if rv.String() == v {
				continue
			}
			swap(fmt.Sprintf("arg %d", i+1), reflect.ValueOf(v).Convert(rv.Type()))
		case reflect.Slice:
			if rv.Type().Elem().Kind() == reflect.String {
				s := reflect.MakeSlice(rv.Type(), 1, 1)
				s.Index(0).Set(reflect.ValueOf(v).Convert(rv.Type().Elem()))
				swap(fmt.Sprintf("arg %d element", i+1), s)
			}
		case reflect.Struct:
			for f := range rv.NumField() {
				if rv.Field(f).Kind() != reflect.String || !rv.Type().Field(f).IsExported() || rv.Field(f).String() == v {
					continue
				}
				nv := reflect.New(rv.Type()).Elem()
				nv.Set(rv)
				nv.Field(f).Set(reflect.ValueOf(v).Convert(rv.Field(f).Type()))
				swap(fmt.Sprintf("arg %d field %s", i+1, rv.Type().Field(f).Name), nv)
			}
		}
	}
	return names, out
}

// TestBadInputEveryMethod calls every public method of teams, invites, audit and the
// root package with empty, oversized, non-UTF-8, control-character,
// SQL-looking and wildcard-looking strings in each string it takes, and
// checks that none panics, every refusal is a documented sentinel error and
// writes nothing, and that Can never allows on such input.
func TestBadInputEveryMethod(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		ctx := context.Background()
		box := &tokenBox{tokens: map[string]string{}}
		r, s := newRoster(t, b, rbac.Runpod(), roster.WithNotifier(box), roster.WithBaseURL("https://app.example.com/team"))
		w := badInputWorld{team: team(t, r, "own", map[string]rbac.Role{"adm": rbac.RunpodAdmin, "bas": rbac.RunpodBasic}).ID}
		w.personal = user(t, r, "out").ID
		inv, err := r.Invites.CreateLink(ctx, "own", w.team, rbac.RunpodDev)
		if err != nil {
			t.Fatal(err)
		}
		w.invite, w.token = inv.ID, inv.Token
		tr, err := r.Teams.TransferOwnership(ctx, "own", w.team, "bas")
		if err != nil {
			t.Fatal(err)
		}
		w.xfer, w.xferToken = tr.ID, box.token(tr.ID)
		if _, err := r.Teams.DefineRole(ctx, "own", w.team, "viewer", []rbac.Action{rbac.AccountAccess}); err != nil {
			t.Fatal(err)
		}
		// In this order, users the calls create (such as one named "*")
		// exist only for the calls after them.
		receivers := []struct {
			name string
			recv any
		}{{"roster", r}, {"audit", r.Audit}, {"invites", r.Invites}, {"teams", r.Teams}}
		calls := badInputCalls(w)
		var refused, accepted int
		var last int64 // the newest event ID seen
		for _, e := range eventsAfter(t, s, 0) {
			last = max(last, e.ID)
		}
		for _, rc := range receivers {
			rname, rv := rc.name, reflect.ValueOf(rc.recv)
			for m := range rv.NumMethod() {
				method := rv.Type().Method(m).Name
				args, listed := calls[rname][method]
				if !listed {
					t.Errorf("%s.%s is not in the bad input table: add its arguments to badInputCalls", rname, method)
					continue
				}
				for _, h := range hostile {
					for _, v := range h.values {
						names, variants := variants(args, v)
						for i, vargs := range variants {
							if ignored[method+" "+names[i]] {
								continue
							}
							what := fmt.Sprintf("%s.%s %s %s %.20q", rname, method, names[i], h.class, v)
							rev := r.Revision()
							err, ok := callMethod(ctx, rv.Method(m), vargs)
							if !ok {
								if err != nil {
									t.Errorf("%s: %v", what, err)
								}
								continue
							}
							if err == nil {
								for _, e := range eventsAfter(t, s, last) {
									last = max(last, e.ID)
								}
								if !h.data {
									t.Errorf("%s: accepted", what)
								}
								accepted++
								continue
							}
							refused++
							if !slices.ContainsFunc(sentinels, func(s error) bool { return errors.Is(err, s) }) {
								t.Errorf("%s: an error wrapping no documented sentinel: %v", what, err)
							}
							if cs, err2 := s.Changes(ctx, rev, 1); err2 != nil || len(cs) > 0 {
								t.Errorf("%s: refused (%v) but changed memberships or accounts: %v %v", what, err, cs, err2)
							}
							// Malformed input writes nothing; a well-formed
							// refusal may only be recorded as denied.
							for _, e := range eventsAfter(t, s, last) {
								last = max(last, e.ID)
								if !h.data || e.Result != store.Denied {
									t.Errorf("%s: refused (%v) but wrote event %d %s (%s)", what, err, e.ID, e.Action, e.Result)
								}
							}
						}
					}
				}
			}
		}
		t.Run("users and teams named like wildcards match only themselves", func(t *testing.T) {
			wildTeam := team(t, r, "wild-owner", nil).ID
			for _, u := range []string{"*", "%", "_", ","} {
				if _, err := r.Teams.User(ctx, u); errors.Is(err, store.ErrNotFound) {
					user(t, r, u)
				}
				if _, err := r.Teams.AddMember(ctx, "wild-owner", wildTeam, u, rbac.RunpodBasic); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := r.Teams.Rename(ctx, "wild-owner", wildTeam, "*"); err != nil {
				t.Fatal(err)
			}
			for _, u := range []string{"*", "%", "_", ","} {
				if !r.Can(ctx, u, wildTeam, rbac.PodsConnect) {
					t.Errorf("%q cannot use the team it is a member of", u)
				}
				for _, other := range []string{w.team, w.personal} {
					for _, a := range r.Policy().Actions() {
						if r.Can(ctx, u, other, a) {
							if _, err := r.Teams.Account(ctx, u, other); err != nil { // not a member there
								t.Errorf("%q may %s on %s, of which it is no member", u, a, other)
							}
						}
					}
				}
				if err := r.Teams.RemoveMember(ctx, "wild-owner", wildTeam, u); err != nil {
					t.Fatal(err)
				}
				rows, err := r.Teams.Members(ctx, "wild-owner", wildTeam)
				if err != nil {
					t.Fatal(err)
				}
				for _, row := range rows {
					if row.UserID == u {
						t.Errorf("%q is still a member after its removal", u)
					}
				}
				if len(rows) == 0 {
					t.Errorf("removing %q removed everyone", u)
				}
			}
			es, _, err := r.Audit.Query(ctx, "wild-owner", wildTeam, audit.Filter{ResourceID: "%"})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range es {
				if e.ResourceID != "%" {
					t.Errorf("a filter on resource %q returned an event on %q", "%", e.ResourceID)
				}
			}
			if len(es) == 0 {
				t.Error("a filter on resource \"%\" found none of its events")
			}
		})
		if !t.Failed() {
			t.Logf("bad input calls: %d refused with a sentinel error and no change, %d accepted as data", refused, accepted)
		}
	})
}

// eventsAfter returns the events with an ID above id, of every account.
func eventsAfter(t *testing.T, s store.Store, id int64) []store.Event {
	t.Helper()
	var es []store.Event
	err := s.View(context.Background(), func(tx store.Tx) (err error) {
		es, err = tx.Events(context.Background(), store.EventFilter{AfterID: id})
		return err
	})
	if err != nil {
		t.Fatalf("read events: %v", err)
	}
	return es
}

// callMethod calls m with ctx and args, recovering a panic. It returns the
// call's error (for Can, an error if it allowed) and whether the method
// produced an answer to check; a panic is returned as an error with ok
// false.
func callMethod(ctx context.Context, m reflect.Value, args []any) (err error, ok bool) {
	defer func() {
		if p := recover(); p != nil {
			err, ok = fmt.Errorf("panic: %v", p), false
		}
	}()
	in := []reflect.Value{reflect.ValueOf(ctx)}
	for _, a := range args {
		in = append(in, reflect.ValueOf(a))
	}
	out := m.Call(in)
	switch res := out[len(out)-1].Interface().(type) {
	case error:
		return res, true
	case nil:
		return nil, true
	case bool: // Can
		if res {
			return errors.New("Can allowed it"), false
		}
		return fmt.Errorf("Can said no: %w", rbac.ErrDenied), true
	case roster.Decision:
		return res.Err, true
	}
	return nil, true
}

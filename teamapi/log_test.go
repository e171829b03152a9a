package teamapi_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/teamapi"
)

// logLine is a record of the request log: method, route, status and a
// duration, in slog's text format.
var logLine = regexp.MustCompile(`^time=\S+ level=(INFO|ERROR) msg="http request" method=([A-Z]+) route=(\S*) status=(\d{3}) duration=\d[\d.]*(ns|µs|ms|s)( error="[^"]*")?$`)

// TestRequestLog checks the request log: one record per request with its
// method, route pattern, status and duration, and the kind of roster's
// error; never a token, whether in the path or the body.
func TestRequestLog(t *testing.T) {
	f := setup(t, testdb.Backends()[0], teamapi.Options{})
	before := len(f.logs.With(`msg="http request"`))
	team := prefix + "/teams/" + f.team
	f.do(t, "bob", "GET", prefix+"/invites/"+f.token, nil, 200, nil)
	f.do(t, "alice", "POST", prefix+"/transfers/"+f.transfer+"/confirm", map[string]string{"token": f.confirm}, 200, nil)
	f.do(t, "bob", "POST", prefix+"/invites/"+f.token+"x/accept", nil, 400, nil)
	f.do(t, "alice", "DELETE", team+"/invites/inv_nosuch", nil, 404, nil)
	f.do(t, "alice", "GET", team+"/members?colour=red", nil, 400, nil)
	f.do(t, "", "GET", prefix+"/me", nil, 401, nil)
	f.do(t, "alice", "GET", prefix+"/secret-"+f.token, nil, 404, nil)
	f.do(t, "alice", "PUT", prefix+"/me", nil, 405, nil)

	lines := f.logs.With(`msg="http request"`)[before:]
	want := []struct{ method, route, status, err string }{
		{"GET", prefix + "/invites/{token}", "200", ""},
		{"POST", prefix + "/transfers/{id}/confirm", "200", ""},
		{"POST", prefix + "/invites/{token}/accept", "400", "malformed token"},
		{"DELETE", prefix + "/teams/{team}/invites/{id}", "404", "store: not found"},
		{"GET", prefix + "/teams/{team}/members", "400", ""},
		{"GET", prefix + "/me", "401", ""},
		{"GET", "", "404", ""},
		{"PUT", "", "405", ""},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d records for %d requests:\n%s", len(lines), len(want), strings.Join(lines, "\n"))
	}
	for i, w := range want {
		m := logLine.FindStringSubmatch(lines[i])
		if m == nil {
			t.Errorf("record %q is not a request's", lines[i])
			continue
		}
		if m[2] != w.method || strings.Trim(m[3], `"`) != w.route || m[4] != w.status {
			t.Errorf("record %q: want %s %q %s", lines[i], w.method, w.route, w.status)
		}
		if w.err != "" && !strings.Contains(m[6], w.err) {
			t.Errorf("record %q: want the error kind %q", lines[i], w.err)
		}
	}
	for _, secret := range []string{f.token, f.confirm, f.keyToken} {
		for _, l := range f.logs.Lines() {
			if strings.Contains(l, secret) {
				t.Errorf("the log holds a token: %s", l)
			}
		}
	}
}

// TestRequestLogDestination checks where the log goes: to Options.Logger
// when set, and otherwise to the Roster's logger.
func TestRequestLogDestination(t *testing.T) {
	t.Run("Options.Logger, not the Roster's", func(t *testing.T) {
		own := &rostertest.Logs{}
		s := serve(t, testdb.Backends()[0], teamapi.Options{Logger: own.Logger()})
		s.do(t, "", "GET", prefix+"/me", nil, 401, nil)
		if len(own.With(`msg="http request"`, "status=401")) != 1 || len(s.logs.With(`msg="http request"`)) != 0 {
			t.Errorf("Options.Logger has %q; the Roster's %q", own.Lines(), s.logs.Lines())
		}
	})
	t.Run("the Roster's logger by default", func(t *testing.T) {
		logs := &rostertest.Logs{}
		s := serve(t, testdb.Backends()[0], teamapi.Options{}, roster.WithLogger(logs.Logger()))
		s.do(t, "", "GET", prefix+"/me", nil, 401, nil)
		if len(logs.With(`msg="http request"`, "status=401")) != 1 {
			t.Errorf("the Roster's logger has %q", logs.Lines())
		}
	})
}

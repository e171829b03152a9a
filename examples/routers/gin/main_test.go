package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/rbac"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// open returns a roster on a database in the test's temporary directory,
// with the demo's team (seed), and the team's ID.
func open(t *testing.T) (*roster.Roster, string) {
	t.Helper()
	ctx := context.Background()
	r, err := roster.Open(ctx, filepath.Join(t.TempDir(), "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	team, err := seed(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	return r, team
}

// call sends a request as user ("" for none) to h and returns the response.
func call(t *testing.T, h http.Handler, user, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	if user != "" {
		req.Header.Set("X-User", user)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestRoutes(t *testing.T) {
	r, team := open(t)
	h, err := routes(r)
	if err != nil {
		t.Fatal(err)
	}
	pods := "/teams/" + team + "/pods"
	for _, c := range []struct {
		name, user, method, path string
		status                   int
		body                     string
	}{
		{"a member whose role may manage pods creates one", "bob", "POST", pods, 200, "bob creates a pod in " + team},
		{"a member of any role lists the pods", "carol", "GET", pods, 200, "carol lists the pods of " + team},
		{"a member whose role lacks the action is refused", "carol", "POST", pods, 403, `your role \"billing\" may not pods.manage on this account`},
		{"a user who is no member is refused", "dave", "GET", pods, 403, "you are not a member of this account"},
		{"a user who is no member may not create a pod either", "dave", "POST", pods, 403, "you are not a member of this account"},
		{"a team that does not exist is refused like another's", "dave", "GET", "/teams/nosuchteam/pods", 403, "you are not a member of this account"},
		{"a request without a user is told to sign in", "", "POST", pods, 401, "sign in first"},
		{"the team API answers through the router", "carol", "GET", "/api/teams/" + team + "/members", 200, `"user_id":"bob"`},
		{"the team API refuses a user who is no member", "dave", "GET", "/api/teams/" + team + "/members", 403, "you are not a member of this account"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := call(t, h, c.user, c.method, c.path)
			if res.Code != c.status || !strings.Contains(res.Body.String(), c.body) {
				t.Errorf("%s %s as %q: %d %s, want %d with %q", c.method, c.path, c.user, res.Code, res.Body, c.status, c.body)
			}
			if ct := res.Header().Get("Content-Type"); c.status != 200 && ct != "application/problem+json" {
				t.Errorf("a refusal is %s, want application/problem+json", ct)
			}
		})
	}
}

// TestWithoutPathValuesFailsClosed shows the wiring the example avoids:
// without pathValues, Gin keeps the route's parameters to itself, the
// request has no path value "team", and roster's middleware answers 400
// rather than guess a team. The handler never runs.
func TestWithoutPathValuesFailsClosed(t *testing.T) {
	r, team := open(t)
	g := gin.New()
	g.POST("/teams/:team/pods", guard(r.Require(rbac.PodsManage, roster.HTTPOptions{User: demoUser, Team: roster.TeamFromPath("team")})), func(c *gin.Context) {
		t.Error("the handler ran")
	})
	res := call(t, g, "bob", "POST", "/teams/"+team+"/pods")
	if res.Code != 400 || !strings.Contains(res.Body.String(), "the request names no team") {
		t.Errorf("POST as bob: %d %s, want 400: the request names no team", res.Code, res.Body)
	}
}

// TestGuardStopsTheChain shows that a refusal of roster's middleware ends
// Gin's chain: no later handler runs, and none writes after the refusal.
func TestGuardStopsTheChain(t *testing.T) {
	r, team := open(t)
	g := gin.New()
	g.Use(pathValues)
	g.POST("/teams/:team/pods", guard(r.Require(rbac.PodsManage, roster.HTTPOptions{User: demoUser, Team: roster.TeamFromPath("team")})), func(c *gin.Context) {
		t.Error("the handler ran")
	})
	res := call(t, g, "carol", "POST", "/teams/"+team+"/pods")
	if res.Code != 403 || res.Header().Get("Content-Type") != "application/problem+json" || !strings.HasSuffix(res.Body.String(), "}\n") {
		t.Errorf("POST as carol: %d %s %s, want 403 and the problem report alone", res.Code, res.Header().Get("Content-Type"), res.Body)
	}
}

// TestRun runs the example as main does, on a free port of 127.0.0.1: it
// prints the requests to try, answers them, and returns when its context
// ends.
func TestRun(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs := &logBuffer{ready: make(chan struct{})}
	db := filepath.Join(t.TempDir(), "roster.db")
	var runErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		runErr = run(ctx, ln, db, logs)
	}()
	defer func() {
		cancel()
		<-done
		if runErr != nil && !errors.Is(runErr, http.ErrServerClosed) {
			t.Errorf("run: %v", runErr)
		}
	}()
	select {
	case <-logs.ready:
	case <-done:
		t.Fatalf("run returned before serving: %v\n%s", runErr, logs)
	}
	// The first request the example suggests: bob creates a pod.
	_, try, _ := strings.Cut(logs.String(), "  curl -X POST -H 'X-User: bob' ")
	target, _, _ := strings.Cut(try, "\n")
	if !strings.HasPrefix(target, "http://"+ln.Addr().String()+"/teams/") {
		t.Fatalf("the log suggests no request of bob's:\n%s", logs)
	}
	req, err := http.NewRequest("POST", target, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-User", "bob")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(string(body), "bob creates a pod in ") {
		t.Errorf("POST %s as bob: %d %s, want 200", target, res.StatusCode, body)
	}
}

// logBuffer is the example's log, safe for concurrent use. ready is closed
// once the last request the example suggests (the team API's) is written:
// run writes it just before it serves.
type logBuffer struct {
	mu    sync.Mutex
	b     strings.Builder
	ready chan struct{}
	once  sync.Once
}

// Write appends p.
func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if strings.Contains(string(p), "/api/teams/") {
		defer l.once.Do(func() { close(l.ready) })
	}
	return l.b.Write(p)
}

// String returns what was written.
func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

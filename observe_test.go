package roster_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// telemetry is an OpenTelemetry SDK that keeps spans and metrics in memory.
type telemetry struct {
	spans  *tracetest.InMemoryExporter
	reader *sdkmetric.ManualReader
	opts   []roster.Option
}

func newTelemetry(t *testing.T) *telemetry {
	t.Helper()
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() {
		if err := errors.Join(tp.Shutdown(context.Background()), mp.Shutdown(context.Background())); err != nil {
			t.Error(err)
		}
	})
	return &telemetry{spans: spans, reader: reader, opts: []roster.Option{roster.WithTracerProvider(tp), roster.WithMeterProvider(mp)}}
}

// span returns the newest span named name, failing the test if none is.
func (tm *telemetry) span(t *testing.T, name string) tracetest.SpanStub {
	t.Helper()
	spans := tm.spans.GetSpans()
	for i := len(spans) - 1; i >= 0; i-- {
		if spans[i].Name == name {
			return spans[i]
		}
	}
	t.Fatalf("no span %q", name)
	return tracetest.SpanStub{}
}

// metric returns the metric named name as last collected.
func (tm *telemetry) metric(t *testing.T, name string) metricdata.Aggregation {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := tm.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m.Data
			}
		}
	}
	t.Fatalf("no metric %q", name)
	return nil
}

// writes returns how many writes of the operation with the outcome the
// write duration histogram holds.
func (tm *telemetry) writes(t *testing.T, operation, outcome string) uint64 {
	t.Helper()
	h, ok := tm.metric(t, "roster.write.duration").(metricdata.Histogram[float64])
	if !ok {
		t.Fatal("roster.write.duration is not a float histogram")
	}
	for _, dp := range h.DataPoints {
		op, _ := dp.Attributes.Value("roster.operation")
		out, _ := dp.Attributes.Value("roster.outcome")
		if op.AsString() == operation && out.AsString() == outcome {
			return dp.Count
		}
	}
	return 0
}

// decisions returns the decision counter's value for the outcome.
func (tm *telemetry) decisions(t *testing.T, outcome string) int64 {
	t.Helper()
	sum, ok := tm.metric(t, "roster.decisions").(metricdata.Sum[int64])
	if !ok || !sum.IsMonotonic {
		t.Fatal("roster.decisions is not a monotonic int counter")
	}
	for _, dp := range sum.DataPoints {
		if v, _ := dp.Attributes.Value("roster.outcome"); v.AsString() == outcome {
			return dp.Value
		}
	}
	return 0
}

// attr returns the span's attribute key as a string ("" if absent).
func attr(s tracetest.SpanStub, key attribute.Key) string {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.Value.Emit()
		}
	}
	return ""
}

// brokenWrites is a Store whose write transactions fail while fail is set.
type brokenWrites struct {
	store.Store
	fail *atomic.Bool
}

func (b brokenWrites) Update(ctx context.Context, fn func(store.Tx) error) (store.Commit, error) {
	if b.fail.Load() {
		return store.Commit{}, fmt.Errorf("test: %w", store.ErrBackend)
	}
	return b.Store.Update(ctx, fn)
}

func TestTraces(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		tm := newTelemetry(t)
		fail := &atomic.Bool{}
		r := rostertest.New(t, brokenWrites{b.Store(t), fail}, rbac.Runpod(), append(tm.opts, roster.WithBaseURL("https://app.example.com"))...)
		acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev, "carol": rbac.RunpodBasic})

		t.Run("an allowed write is one span with its action, account, outcome and revision", func(t *testing.T) {
			if _, err := r.Teams.ChangeRole(ctx, "alice", acct.ID, "carol", rbac.RunpodBilling); err != nil {
				t.Fatal(err)
			}
			s := tm.span(t, "roster.teams.ChangeRole")
			for key, want := range map[attribute.Key]string{
				"roster.operation": "teams.ChangeRole", "roster.action": string(rbac.MembersManage),
				"roster.account.id": acct.ID, "roster.outcome": "allowed",
				"roster.revision": fmt.Sprint(r.Revision()), "roster.error": "",
			} {
				if got := attr(s, key); got != want {
					t.Errorf("%s = %q, want %q", key, got, want)
				}
			}
			if s.Status.Code != codes.Unset {
				t.Errorf("status %v, want unset", s.Status)
			}
			if n := tm.writes(t, "teams.ChangeRole", "allowed"); n != 1 {
				t.Errorf("write duration holds %d allowed role changes, want 1", n)
			}
		})

		t.Run("a denied write is a span with outcome denied, not an error", func(t *testing.T) {
			if _, err := r.Teams.ChangeRole(ctx, "bob", acct.ID, "carol", rbac.RunpodDev); !errors.Is(err, rbac.ErrDenied) {
				t.Fatalf("a dev changing a role: %v, want ErrDenied", err)
			}
			s := tm.span(t, "roster.teams.ChangeRole")
			if got := attr(s, "roster.outcome"); got != "denied" {
				t.Errorf("outcome %q, want denied", got)
			}
			if got := attr(s, "roster.error"); got != rbac.ErrDenied.Error() {
				t.Errorf("error %q, want %q", got, rbac.ErrDenied)
			}
			if s.Status.Code != codes.Unset {
				t.Errorf("status %v, want unset: a denial is an answer, not a failure", s.Status)
			}
			if n := tm.writes(t, "teams.ChangeRole", "denied"); n != 1 {
				t.Errorf("write duration holds %d denied role changes, want 1", n)
			}
		})

		t.Run("a failing write is a span with outcome error and the error's kind only", func(t *testing.T) {
			rostertest.User(t, r, "dave")
			fail.Store(true)
			_, err := r.Teams.AddMember(ctx, "alice", acct.ID, "dave", rbac.RunpodDev)
			fail.Store(false)
			if !errors.Is(err, store.ErrBackend) {
				t.Fatalf("AddMember on a failing store: %v, want ErrBackend", err)
			}
			s := tm.span(t, "roster.teams.AddMember")
			if got := attr(s, "roster.outcome"); got != "error" {
				t.Errorf("outcome %q, want error", got)
			}
			if s.Status.Code != codes.Error || s.Status.Description != store.ErrBackend.Error() {
				t.Errorf("status %v, want an error described as %q", s.Status, store.ErrBackend)
			}
			if n := tm.writes(t, "teams.AddMember", "error"); n != 1 {
				t.Errorf("write duration holds %d failed additions, want 1", n)
			}
		})

		t.Run("each service's write is named after its method", func(t *testing.T) {
			inv, err := r.Invites.CreateLink(ctx, "alice", acct.ID, rbac.RunpodBasic)
			if err != nil {
				t.Fatal(err)
			}
			tm.span(t, "roster.invites.CreateLink")
			rostertest.User(t, r, "erin")
			if _, err := r.Invites.Accept(ctx, "erin", inv.Token); err != nil {
				t.Fatal(err)
			}
			// Accept finds its account from the token.
			if got := attr(tm.span(t, "roster.invites.Accept"), "roster.account.id"); got != acct.ID {
				t.Errorf("Accept's account %q, want %q", got, acct.ID)
			}
			if _, err := r.Audit.Record(ctx, "bob", acct.ID, audit.Entry{Action: "pod.created"}); err != nil {
				t.Fatal(err)
			}
			if got := attr(tm.span(t, "roster.audit.Record"), "roster.outcome"); got != "allowed" {
				t.Errorf("audit.Record's outcome %q, want allowed", got)
			}
		})
	})
}

func TestDecisionMetrics(t *testing.T) {
	ctx := context.Background()
	tm := newTelemetry(t)
	r, _ := rostertest.Open(t, testdb.Backends()[0], rbac.Runpod(), tm.opts...)
	acct := rostertest.Team(t, r, "alice", map[string]rbac.Role{"bob": rbac.RunpodDev})
	r.Can(ctx, "bob", acct.ID, rbac.PodsManage)
	allowed, denied := tm.decisions(t, "allowed"), tm.decisions(t, "denied")
	if allowed != 0 || denied != 0 {
		t.Errorf("%d allowed and %d denied before the first collection, want none: counting starts with it", allowed, denied)
	}
	for range 3 {
		r.Can(ctx, "bob", acct.ID, rbac.PodsManage)
	}
	r.Can(ctx, "bob", acct.ID, rbac.BillingManage)
	r.CanAt(ctx, r.Revision(), "nobody", acct.ID, rbac.PodsManage)
	_ = r.Check(ctx, "bob", acct.ID, rbac.PodsManage)
	_ = r.CheckStrict(ctx, "bob", acct.ID, rbac.BillingManage)
	if got := tm.decisions(t, "allowed") - allowed; got != 4 {
		t.Errorf("%d more allowed decisions, want 4", got)
	}
	if got := tm.decisions(t, "denied") - denied; got != 3 {
		t.Errorf("%d more denied decisions, want 3", got)
	}
	// Counting keeps Can free of allocations with an SDK installed.
	if n := testing.AllocsPerRun(100, func() { r.Can(ctx, "bob", acct.ID, rbac.PodsManage) }); n != 0 {
		t.Errorf("Can allocates %v times with metrics on, want 0", n)
	}
}

// relistening is a Store whose announcements start, are lost and start
// again: Watch announces 0 twice.
type relistening struct{ store.Store }

func (relistening) Watch(ctx context.Context, fn func(store.Revision)) error {
	fn(0)
	fn(0)
	<-ctx.Done()
	return ctx.Err()
}

func TestLogs(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		t.Run("Logger is the logger WithLogger gave, or one that discards", func(t *testing.T) {
			logs := &rostertest.Logs{}
			r, _ := rostertest.Open(t, b, rbac.Runpod(), roster.WithLogger(logs.Logger()))
			r.Logger().Info("from the host", "n", 1)
			if got := logs.With("level=INFO", "from the host", "n=1"); len(got) != 1 {
				t.Errorf("records %q, want the host's one", logs.Lines())
			}
			quiet, _ := rostertest.Open(t, b, rbac.Runpod())
			if quiet.Logger() == nil || quiet.Logger().Enabled(ctx, slog.LevelError) {
				t.Errorf("without WithLogger, Logger() = %v, want a logger that discards", quiet.Logger())
			}
		})

		t.Run("a reconnection is logged", func(t *testing.T) {
			logs := &rostertest.Logs{}
			instance(t, relistening{b.Store(t)}, rbac.Runpod(), roster.WithLogger(logs.Logger()), roster.WithFollow(time.Hour))
			eventually(t, "the reconnection is logged", func() bool {
				return len(logs.With("level=INFO", "listening again", "reconnections=1")) == 1
			})
		})

		t.Run("failed reads are logged with their count, and so is the recovery", func(t *testing.T) {
			logs := &rostertest.Logs{}
			r1, s := rostertest.Open(t, b, rbac.Runpod())
			fails := &atomic.Int32{}
			fails.Store(2)
			instance(t, failing{s, fails}, rbac.Runpod(), roster.WithLogger(logs.Logger()), roster.WithFollow(5*time.Millisecond))
			rostertest.User(t, r1, "alice")
			eventually(t, "the recovery is logged", func() bool {
				return len(logs.With("level=INFO", "reading the store's changes again", "failures=2")) == 1
			})
			for _, n := range []string{"failures=1", "failures=2"} {
				if got := logs.With("level=WARN", "cannot read the store's changes", n, `error="store: backend failure"`); len(got) != 1 {
					t.Errorf("%d warnings with %s, want 1: %q", len(got), n, logs.Lines())
				}
			}
		})

		t.Run("an announced revision that never appears is logged", func(t *testing.T) {
			logs := &rostertest.Logs{}
			_, s := rostertest.Open(t, b, rbac.Runpod())
			instance(t, lying{s, &atomic.Int32{}}, rbac.Runpod(), roster.WithLogger(logs.Logger()), roster.WithFollow(20*time.Millisecond))
			eventually(t, "the bogus announcement is logged", func() bool {
				return len(logs.With("level=WARN", "never appeared", fmt.Sprintf("announced=%d", uint64(1<<40)))) == 1
			})
		})

		t.Run("a full flow logs no token, email or name", func(t *testing.T) {
			logs := &rostertest.Logs{}
			tm := newTelemetry(t)
			in := &rostertest.Inbox{}
			opts := append([]roster.Option{
				roster.WithLogger(logs.Logger()), roster.WithSlowWrite(time.Nanosecond), // every write is slow
				roster.WithNotifier(in), roster.WithBaseURL("https://app.example.com/team"),
			}, tm.opts...)
			r, s := rostertest.Open(t, b, rbac.Runpod(), opts...)
			other := instance(t, s, rbac.Runpod(), roster.WithLogger(logs.Logger()), roster.WithFollow(10*time.Millisecond))
			secrets := []string{"Acme Hidden Labs", "Renamed Hidden Labs"}
			user := func(id, email, name string) store.Account {
				secrets = append(secrets, email, name)
				a, err := r.Teams.CreateUser(ctx, store.User{ID: id, Email: email, Name: name, SignIn: store.SignInEmail})
				if err != nil {
					t.Fatal(err)
				}
				return a
			}
			// The inbox finds transfer notices by these addresses.
			alice := user("alice", "alice@example.com", "Alice Zqxwv")
			user("bob", "bob@example.com", "Bob Zqxwv")
			user("carol", "carol@example.com", "Carol Zqxwv")
			acct, err := r.Teams.ConvertToTeam(ctx, "alice", alice.ID, "Acme Hidden Labs")
			if err != nil {
				t.Fatal(err)
			}
			invs, err := r.Invites.CreateEmail(ctx, "alice", acct.ID, rbac.RunpodDev, []string{"bob@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			link, err := r.Invites.CreateLink(ctx, "alice", acct.ID, rbac.RunpodBasic)
			if err != nil {
				t.Fatal(err)
			}
			secrets = append(secrets, invs[0].Token, invs[0].Link, link.Token, link.Link)
			if _, err := r.Invites.Accept(ctx, "bob", invs[0].Token); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Invites.Accept(ctx, "carol", invs[0].Token); err == nil {
				t.Fatal("an email invite was used twice")
			}
			if _, err := r.Invites.Accept(ctx, "carol", link.Token); err != nil {
				t.Fatal(err)
			}
			// A refusal whose error names the address.
			if _, err := r.Invites.CreateEmail(ctx, "alice", acct.ID, rbac.RunpodDev, []string{"carol@example.com"}); !strings.Contains(fmt.Sprint(err), "carol@example.com") {
				t.Fatalf("inviting a member: %v, want an error naming the address", err)
			}
			if _, err := r.Teams.ChangeRole(ctx, "bob", acct.ID, "carol", rbac.RunpodDev); !errors.Is(err, rbac.ErrDenied) {
				t.Fatalf("a dev changing a role: %v, want ErrDenied", err)
			}
			if _, err := r.Teams.Rename(ctx, "alice", acct.ID, "Renamed Hidden Labs"); err != nil {
				t.Fatal(err)
			}
			in.MakeTop(t, r, "alice", acct.ID, "bob")
			tr, err := r.Teams.TransferOwnership(ctx, "alice", acct.ID, "bob")
			if err != nil {
				t.Fatal(err)
			}
			secrets = append(secrets, in.Last(t, "alice").Token)
			in.Transfer(t, r, tr)
			secrets = append(secrets, in.Last(t, "bob").Token)
			if err := r.Teams.RemoveMember(ctx, "bob", acct.ID, "carol"); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the other roster follows", func() bool { return other.Revision() == r.Revision() })

			if got := logs.With("level=WARN", "slow write", "operation=invites.Accept", "account_id="+acct.ID); len(got) == 0 {
				t.Errorf("no slow write of invites.Accept logged with its account: %q", logs.Lines())
			}
			if got := logs.With("level=DEBUG", "caught up with the store"); len(got) == 0 {
				t.Errorf("the other roster logged no catch-up: %q", logs.Lines())
			}
			var texts []string
			texts = append(texts, logs.Lines()...)
			for _, sp := range tm.spans.GetSpans() {
				texts = append(texts, fmt.Sprint(sp.Name, sp.Attributes, sp.Status))
			}
			for _, text := range texts {
				for _, secret := range secrets {
					if secret != "" && strings.Contains(text, secret) {
						t.Errorf("%q is in %q", secret, text)
					}
				}
				for _, at := range []string{"@", "127.0.0.1"} {
					if strings.Contains(text, at) {
						t.Errorf("%q is in %q", at, text)
					}
				}
			}
		})
	})
}

// stuck is a behind Store that announces its commits: while its changes
// cannot be read, the view hears of revisions it cannot apply.
type stuck struct {
	behind
	w store.Watcher
}

func (s stuck) Watch(ctx context.Context, fn func(store.Revision)) error { return s.w.Watch(ctx, fn) }

func TestHealth(t *testing.T) {
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		r1, s := rostertest.Open(t, b, rbac.Runpod())
		w, ok := s.(store.Watcher)
		if !ok {
			t.Fatal("the store does not announce its commits")
		}
		fail := &atomic.Bool{}
		tm := newTelemetry(t)
		r2 := instance(t, stuck{behind{s, fail}, w}, rbac.Runpod(), append(tm.opts, roster.WithFollow(10*time.Millisecond))...)
		handler := r2.HealthHandler(time.Second)
		probe := func() (int, map[string]any) {
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("health body %q: %v", rec.Body, err)
			}
			return rec.Code, body
		}

		t.Run("a new roster is healthy", func(t *testing.T) {
			h := r2.Health()
			if !h.Healthy(time.Second) || h.Failing || h.LastError != nil || h.LastSync.IsZero() {
				t.Errorf("health of a new roster: %+v", h)
			}
			if code, body := probe(); code != http.StatusOK || body["healthy"] != true {
				t.Errorf("probe: %d %v, want 200 and healthy", code, body)
			}
		})

		t.Run("a view that cannot read is unhealthy, behind and lagging", func(t *testing.T) {
			fail.Store(true)
			// A read that began before cannot see what comes next.
			eventually(t, "the failure shows", func() bool { return r2.Health().Failing })
			rostertest.User(t, r1, "alice")
			eventually(t, "the announcement arrives", func() bool { return r2.Health().Behind > 0 })
			time.Sleep(20 * time.Millisecond) // some lag to see
			h := r2.Health()
			if h.Healthy(time.Hour) || !errors.Is(h.LastError, store.ErrBackend) || h.LastErrorAt.IsZero() {
				t.Errorf("health while reads fail: %+v", h)
			}
			if h.Behind == 0 || h.Lag < 20*time.Millisecond || h.Revision >= r1.Revision() {
				t.Errorf("behind %d for %v at revision %d (store at %d), want behind for at least 20ms", h.Behind, h.Lag, h.Revision, r1.Revision())
			}
			code, body := probe()
			if code != http.StatusServiceUnavailable || body["healthy"] != false || body["last_error"] != store.ErrBackend.Error() {
				t.Errorf("probe: %d %v, want 503, unhealthy, the error's kind", code, body)
			}
			if g, ok := tm.metric(t, "roster.follower.behind").(metricdata.Gauge[int64]); !ok || len(g.DataPoints) != 1 || g.DataPoints[0].Value < 1 {
				t.Errorf("roster.follower.behind = %+v, want at least 1", g)
			}
			if g, ok := tm.metric(t, "roster.follower.lag").(metricdata.Gauge[float64]); !ok || len(g.DataPoints) != 1 || g.DataPoints[0].Value < 0.02 {
				t.Errorf("roster.follower.lag = %+v, want at least 0.02 s", g)
			}
		})

		t.Run("it recovers once it reads again, and keeps the last error", func(t *testing.T) {
			failedAt := r2.Health().LastErrorAt
			fail.Store(false)
			eventually(t, "the view recovers", func() bool { return r2.Health().Healthy(time.Second) })
			h := r2.Health()
			if h.Behind != 0 || h.Lag != 0 || h.Revision != r1.Revision() || h.Failing {
				t.Errorf("health after recovery: %+v (store at %d)", h, r1.Revision())
			}
			if !errors.Is(h.LastError, store.ErrBackend) || h.LastErrorAt.Before(failedAt) || !h.LastSync.After(h.LastErrorAt) {
				t.Errorf("after recovery the last error is %v at %v, last sync %v", h.LastError, h.LastErrorAt, h.LastSync)
			}
			if code, body := probe(); code != http.StatusOK || body["last_error"] != store.ErrBackend.Error() {
				t.Errorf("probe: %d %v, want 200 with the last error's kind", code, body)
			}
			if g, ok := tm.metric(t, "roster.follower.behind").(metricdata.Gauge[int64]); !ok || g.DataPoints[0].Value != 0 {
				t.Errorf("roster.follower.behind = %+v, want 0", g)
			}
		})
	})
}

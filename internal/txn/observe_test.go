package txn_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teams"
)

// TestGlobalProviders checks that services wired by hand on a bare Store
// trace their writes with OpenTelemetry's global tracer provider, which a
// host sets once at start. It is the only test of the package that sets it.
func TestGlobalProviders(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	otel.SetTracerProvider(tp)
	t.Cleanup(func() {
		if err := tp.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	tm := teams.New(testdb.Backends()[0].Store(t), rbac.Runpod())
	if _, err := tm.CreateUser(context.Background(), store.User{ID: "alice", Email: "alice@example.com", Name: "Alice", SignIn: store.SignInEmail}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range spans.GetSpans() {
		names = append(names, s.Name)
	}
	if len(names) != 1 || names[0] != "roster.teams.CreateUser" {
		t.Errorf("spans %q, want one roster.teams.CreateUser", names)
	}
}

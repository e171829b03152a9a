package txn

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"

	"github.com/teamroster/roster/store"
)

// Scope is the OpenTelemetry instrumentation scope of roster's spans and
// metrics: the module path.
const Scope = "github.com/teamroster/roster"

// DefaultSlowWrite is the duration from which a write is logged as slow when
// no other threshold is given.
const DefaultSlowWrite = 250 * time.Millisecond

// The outcomes of a write, as the span attribute and metric attribute
// roster.outcome say them.
const (
	// Allowed: the write committed (even if bringing followers up to it
	// then failed; that is reported as an error of the call, not of the
	// write).
	Allowed = "allowed"
	// Denied: the actor may not make the write (an error of the kind
	// store.ErrDenied: not a member, or the role lacks the permission).
	Denied = "denied"
	// Failed: any other error: bad input, a missing record, a broken
	// precondition, a conflict, the database.
	Failed = "error"
)

// Attribute keys of roster's spans, metrics and log records. None carries
// personal data: IDs, actions and outcomes only.
const (
	KeyOperation = "roster.operation"
	KeyAction    = "roster.action"
	KeyAccount   = "roster.account.id"
	KeyOutcome   = "roster.outcome"
	KeyRevision  = "roster.revision"
	KeyError     = "roster.error"
)

// Observer reports a Door's writes: a span for each, its duration in a
// histogram by operation and outcome, and a log record for each that takes
// longer than its slow threshold. It is safe for concurrent use.
type Observer struct {
	tracer   trace.Tracer
	duration metric.Float64Histogram
	log      *slog.Logger
	slow     time.Duration
}

// Observed is implemented by a Store wrapper whose owner chooses where the
// Door reports its writes (the Roster, with its providers and logger). A
// Door on any other Store reports to OpenTelemetry's global providers and
// logs nothing.
type Observed interface {
	// Observer returns the Observer the Door reports to.
	Observer() *Observer
}

// NewObserver returns an Observer that traces with tp, measures with mp and
// logs writes taking slow or longer to log (none if slow <= 0). Nil
// providers mean OpenTelemetry's global ones, which do nothing until the
// host installs an SDK; a nil log logs nothing. An instrument that mp
// cannot make is reported to otel.Handle and replaced by one that records
// nothing: observing never stops roster. It is safe for concurrent use.
func NewObserver(tp trace.TracerProvider, mp metric.MeterProvider, log *slog.Logger, slow time.Duration) *Observer {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	duration, err := mp.Meter(Scope).Float64Histogram("roster.write.duration",
		metric.WithDescription("Duration of roster's write transactions, from the start of the call to the end of its post-commit work, by operation and outcome."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
	if err != nil {
		otel.Handle(err)
		duration = noop.Float64Histogram{}
	}
	return &Observer{tracer: tp.Tracer(Scope), duration: duration, log: log, slow: slow}
}

// defaultObserver is the Observer of a Door on a Store that is not
// Observed.
var defaultObserver = sync.OnceValue(func() *Observer { return NewObserver(nil, nil, nil, 0) })

// write is one write being observed.
type write struct {
	o       *Observer
	span    trace.Span
	start   time.Time
	op      string
	account string
}

// begin starts observing a write for call, returning the context its
// transaction runs in.
func (o *Observer) begin(ctx context.Context, call Call) (context.Context, *write) {
	w := &write{o: o, start: time.Now(), op: operation(), account: call.Account}
	attrs := []attribute.KeyValue{attribute.String(KeyOperation, w.op)}
	if call.Need == Permission {
		attrs = append(attrs, attribute.String(KeyAction, string(call.Action)))
	}
	if call.Account != "" {
		attrs = append(attrs, attribute.String(KeyAccount, call.Account))
	}
	ctx, w.span = o.tracer.Start(ctx, "roster."+w.op, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...))
	return ctx, w
}

// locked notes the account the write locked, which a call that finds its
// account from a record (Call.Find) learns only then.
func (w *write) locked(account string) {
	if account != "" && account != w.account {
		w.account = account
		w.span.SetAttributes(attribute.String(KeyAccount, account))
	}
}

// end ends the write's span and records its duration and outcome: allowed
// if it committed (revision is its commit's, 0 if it changed no
// membership, account or team role), and otherwise denied or error as err
// says. After a commit err is the failure of the work that follows it
// (following, hooks), which leaves the change standing: the outcome stays
// allowed and the span's status is an error.
func (w *write) end(ctx context.Context, committed bool, revision store.Revision, err error) {
	elapsed := time.Since(w.start)
	outcome := Allowed
	switch {
	case committed:
	case errors.Is(err, store.ErrDenied):
		outcome = Denied
	default:
		outcome = Failed
	}
	w.span.SetAttributes(attribute.String(KeyOutcome, outcome))
	if revision != 0 {
		w.span.SetAttributes(attribute.Int64(KeyRevision, int64(revision)))
	}
	if err != nil {
		// The sentinel's text only: the error's own names users and
		// records, and may carry the database's words.
		kind := ErrorKind(err)
		w.span.SetAttributes(attribute.String(KeyError, kind))
		if outcome != Denied {
			w.span.SetStatus(codes.Error, kind)
		}
	}
	w.span.End()
	w.o.duration.Record(ctx, elapsed.Seconds(), metric.WithAttributes(
		attribute.String(KeyOperation, w.op), attribute.String(KeyOutcome, outcome)))
	if w.o.slow > 0 && elapsed >= w.o.slow {
		attrs := []slog.Attr{slog.String("operation", w.op), slog.Duration("duration", elapsed), slog.String("outcome", outcome)}
		if w.account != "" {
			attrs = append(attrs, slog.String("account_id", w.account))
		}
		w.o.log.LogAttrs(ctx, slog.LevelWarn, "roster: slow write", attrs...)
	}
}

// ErrorKind returns what spans and log records say of err: the text of the
// most specific sentinel it wraps (see store.Sentinel), which names no
// user, record or database detail, or "unknown" if it wraps none. It is
// safe for concurrent use.
func ErrorKind(err error) string {
	if s := store.Sentinel(err); s != nil {
		return s.Error()
	}
	return "unknown"
}

// operation returns the name of the service method a write was called
// from, such as "teams.ChangeRole": the nearest caller on the stack that is
// an exported method of a roster package other than this one. A write
// called otherwise (a test driving the Door itself) is "write".
func operation() string {
	var pcs [32]uintptr
	n := runtime.Callers(3, pcs[:]) // from begin's caller: skip Callers, operation and begin
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if op, ok := method(f.Function); ok {
			return op
		}
		if !more {
			return "write"
		}
	}
}

// method returns "pkg.Method" for the function name of an exported method
// of a package of the module (other than this one), or of a closure in
// one, such as "github.com/teamroster/roster/teams.(*Service).AddMember.func1".
func method(fn string) (string, bool) {
	rest, ok := strings.CutPrefix(fn, Scope+"/")
	if !ok || strings.HasPrefix(rest, "internal/") {
		return "", false
	}
	slash := strings.LastIndexByte(rest, '/')
	pkg, name, ok := strings.Cut(rest[slash+1:], ".")
	if !ok {
		return "", false
	}
	// name is "(*Type).Method[.funcN...]" or "Type.Method[...]".
	_, after, ok := strings.Cut(name, ").")
	if !ok {
		if _, after, ok = strings.Cut(name, "."); !ok {
			return "", false
		}
	}
	m, _, _ := strings.Cut(after, ".")
	if m == "" || m[0] < 'A' || m[0] > 'Z' {
		return "", false
	}
	return pkg + "." + m, true
}

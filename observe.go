package roster

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/store"
)

// DefaultSlowWrite is the duration from which a write is logged as slow
// (see WithSlowWrite).
const DefaultSlowWrite = txn.DefaultSlowWrite

// WithLogger sets the logger roster reports to: the follower's reconnections,
// catch-ups, failed reads and announcements of revisions that never appear,
// the SQLite store's background checkpoints (for the Store Open makes; set
// it on a Store given to New with sqlstore.Store.SetLogger), and slow
// writes (see WithSlowWrite). Records carry IDs,
// revisions, durations and the kinds of errors (their sentinels' text,
// such as "store: backend failure"); never tokens, emails, names, IP
// addresses or the database's own messages. Without it, or with nil,
// nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// Logger returns the logger the Roster reports to (see WithLogger), or one
// that discards every record when none was given, so that code built on the
// Roster, such as package teamapi's request log, logs where roster does. It
// is safe for concurrent use.
func (r *Roster) Logger() *slog.Logger { return r.obs.log }

// WithSlowWrite sets the duration from which a write (a call of Teams,
// Invites or Audit that changes the store) is logged as slow, at level
// Warn, with its operation, account ID, duration and outcome. The default
// is DefaultSlowWrite (250 ms); 0 or less logs none.
func WithSlowWrite(d time.Duration) Option {
	return func(c *config) { c.slow, c.slowSet = d, true }
}

// WithTracerProvider sets the OpenTelemetry tracer provider of roster's
// spans: one per write, named "roster.<package>.<Method>" after the call
// that made it (such as "roster.teams.ChangeRole"), with the attributes
// roster.action (the permission it needs), roster.account.id,
// roster.outcome (allowed, denied or error), roster.revision and
// roster.error (the kind of error). Without it, or with nil, the global
// provider (otel.GetTracerProvider) is used, which does nothing until the
// host installs an SDK.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tracer = tp }
}

// WithMeterProvider sets the OpenTelemetry meter provider of roster's
// metrics:
//
//   - roster.decisions (counter): answers of Can, CanAt, Check, Explain
//     and CheckStrict, by roster.outcome (allowed or denied);
//   - roster.write.duration (histogram, seconds): writes by
//     roster.operation and roster.outcome (allowed, denied or error);
//   - roster.follower.behind (gauge): revisions the in-memory view knows
//     the store has and has not applied yet;
//   - roster.follower.lag (gauge, seconds): how long the view has been
//     behind (0 when it is not).
//
// Without it, or with nil, the global provider (otel.GetMeterProvider) is
// used, which does nothing until the host installs an SDK. Decisions are
// counted from the first collection on, so that Can pays only an atomic
// load until something reads them, and an atomic add after; never an
// allocation or a lock.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.meter = mp }
}

// observer is what a Roster reports to: its logger, the Door's Observer,
// the counts of its decisions and the health of its view.
type observer struct {
	log       *slog.Logger
	writes    *txn.Observer
	decisions decisions
	health    health
	metrics   metric.Registration // nil if none registered
}

// newObserver returns the observer the options c ask for.
func newObserver(c *config) *observer {
	log := c.logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	slow := DefaultSlowWrite
	if c.slowSet {
		slow = c.slow
	}
	return &observer{log: log, writes: txn.NewObserver(c.tracer, c.meter, log, slow)}
}

// decisions counts the answers of Can and its kin without a lock: one
// atomic add per answer, read by the observable counter at collection.
// Until the first collection, which shows that a meter provider with a
// reader is installed, it counts nothing, so that a host without one pays
// an atomic load per answer and no write.
type decisions struct {
	on      atomic.Bool // read by every answer, written once
	_       [120]byte   // each field on cache lines of its own
	allowed atomic.Uint64
	_       [120]byte
	denied  atomic.Uint64
	_       [120]byte
}

// count counts one answer, once counting is on.
func (d *decisions) count(allowed bool) {
	switch {
	case !d.on.Load():
	case allowed:
		d.allowed.Add(1)
	default:
		d.denied.Add(1)
	}
}

// collected turns counting on, at the first collection.
func (d *decisions) collected() {
	if !d.on.Load() {
		d.on.Store(true)
	}
}

// totals returns the answers counted so far.
func (d *decisions) totals() (allowed, denied uint64) {
	return d.allowed.Load(), d.denied.Load()
}

// health is what the Roster knows of its view's freshness: the highest
// revision it has heard the store has, since when it has been behind, and
// how its latest reads of the store's changes went. Its methods are safe
// for concurrent use.
type health struct {
	mu          sync.Mutex
	known       store.Revision // highest revision heard of
	behindSince time.Time      // when the view fell behind known; zero if never
	lastSync    time.Time
	lastErr     error
	lastErrAt   time.Time
	failures    int // consecutive failed reads
}

// heard notes that the store has revision rev, while the view is at
// applied.
func (h *health) heard(rev, applied store.Revision) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if rev <= applied {
		return
	}
	if h.known <= applied {
		// The view had caught up with all it knew of: it falls behind
		// now.
		h.behindSince = time.Now()
	}
	h.known = max(h.known, rev)
}

// forget drops what was heard of revisions above applied: announcements
// of revisions the store turned out not to have.
func (h *health) forget(applied store.Revision) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.known = min(h.known, applied)
}

// read notes the outcome of a read of the store's changes and returns how
// many reads had failed in a row before it, and since when.
func (h *health) read(err error) (failures int, since time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	if err != nil {
		h.failures++
		h.lastErr, h.lastErrAt = err, now
		return h.failures - 1, h.lastSync
	}
	failures, since = h.failures, h.lastSync
	h.failures, h.lastSync = 0, now
	return failures, since
}

// Health is the state of a Roster's in-memory view, for readiness probes
// and dashboards (see Roster.Health and Healthy).
type Health struct {
	// Revision is the store revision the view reflects.
	Revision store.Revision
	// Behind is how many revisions the view knows the store has that it
	// has not applied: announced by the store (see store.Watcher) and not
	// yet read. A Roster that does not follow (WithFollow(0)) or whose
	// store does not announce learns of revisions only by reading them,
	// and so is never behind by this count.
	Behind uint64
	// Lag is how long the view has been behind, without catching up in
	// between; 0 when Behind is 0.
	Lag time.Duration
	// LastSync is when the view last read the store's changes
	// successfully (the follower, Sync, WaitFor, or applying a write of
	// its own); New's load of the store counts.
	LastSync time.Time
	// LastError is the latest failure to read the store's changes, and
	// LastErrorAt when it happened; nil and zero if none has failed. Its
	// text may name records and carry the database's words: log
	// store.Sentinel(LastError) where those must not go.
	LastError   error
	LastErrorAt time.Time
	// Failing says the latest read failed: the view is stuck at Revision
	// until a read succeeds.
	Failing bool
	// Memory is about how many bytes the view takes, and Accounts how
	// many accounts it holds: every account of the store, or, with a
	// memory budget (see WithMemoryBudget), those asked about lately,
	// counting those asked about that the store lacks.
	Memory   int64
	Accounts int
	// AccountReads counts the accounts a view with a memory budget has
	// read from the store since New, each when it was asked about and not
	// held; 0 without a budget.
	AccountReads uint64
}

// Healthy reports whether the view is fit to answer Can: its latest read
// of the store's changes succeeded and it has been behind for no longer
// than maxLag. A view that cannot read (the database is down) is
// unhealthy from its first failed read, whatever the lag, since it cannot
// know how much it misses; it is healthy again after its next successful
// read. The follower reads at least every WithFollow interval, so a
// maxLag a few times that interval tolerates a slow read without
// flapping.
func (h Health) Healthy(maxLag time.Duration) bool {
	return !h.Failing && h.Lag <= maxLag
}

// Health returns the state of the in-memory view: its revision, how far
// and how long it is behind the store, its latest read and failure, and
// its memory.
// It takes no lock that Can takes, and is safe for concurrent use.
func (r *Roster) Health() Health {
	ix := r.mem.index()
	applied := ix.Revision()
	h := &r.obs.health
	h.mu.Lock()
	defer h.mu.Unlock()
	out := Health{
		Revision: applied, LastSync: h.lastSync,
		LastError: h.lastErr, LastErrorAt: h.lastErrAt, Failing: h.failures > 0,
		Memory: ix.Footprint(), Accounts: ix.Held(), AccountReads: r.mem.reads.Load(),
	}
	if h.known > applied {
		out.Behind = uint64(h.known - applied)
		out.Lag = time.Since(h.behindSince)
	}
	return out
}

// healthReport is the JSON body HealthHandler serves.
type healthReport struct {
	Healthy     bool       `json:"healthy"`
	Revision    uint64     `json:"revision"`
	Behind      uint64     `json:"behind"`
	LagSeconds  float64    `json:"lag_seconds"`
	LastSync    time.Time  `json:"last_sync"`
	LastError   string     `json:"last_error,omitempty"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
	MemoryBytes int64      `json:"memory_bytes"`
	Accounts    int        `json:"accounts"`
}

// HealthHandler returns an http.Handler for a readiness probe: it answers
// 200 when the view is healthy (Health.Healthy(maxLag)) and 503 Service
// Unavailable when not, with a JSON body giving healthy, revision,
// behind, lag_seconds, last_sync, memory_bytes, accounts and, once a read
// has failed,
// last_error (the error's kind only, such as "store: backend failure")
// and last_error_at. It is safe for concurrent use.
func (r *Roster) HealthHandler(maxLag time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := r.Health()
		rep := healthReport{
			Healthy: h.Healthy(maxLag), Revision: uint64(h.Revision), Behind: h.Behind,
			LagSeconds: h.Lag.Seconds(), LastSync: h.LastSync, MemoryBytes: h.Memory, Accounts: h.Accounts,
		}
		if h.LastError != nil {
			rep.LastError, rep.LastErrorAt = txn.ErrorKind(h.LastError), &h.LastErrorAt
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if !rep.Healthy {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(rep) // a client that left cannot be told
	})
}

// registerMetrics registers the Roster's observable metrics with mp (the
// global provider if nil). If mp cannot make them, the error is reported to
// otel.Handle and the Roster goes without them.
func (r *Roster) registerMetrics(mp metric.MeterProvider) {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	m := mp.Meter(txn.Scope)
	decided, err1 := m.Int64ObservableCounter("roster.decisions",
		metric.WithDescription("Answers of Can, CanAt, Check, Explain and CheckStrict, by outcome."), metric.WithUnit("{decision}"))
	behind, err2 := m.Int64ObservableGauge("roster.follower.behind",
		metric.WithDescription("Revisions the in-memory view knows the store has and has not applied."), metric.WithUnit("{revision}"))
	lag, err3 := m.Float64ObservableGauge("roster.follower.lag",
		metric.WithDescription("How long the in-memory view has been behind the store; 0 when it is not."), metric.WithUnit("s"))
	if err := errors.Join(err1, err2, err3); err != nil {
		otel.Handle(err)
		return
	}
	allowed := metric.WithAttributeSet(attribute.NewSet(attribute.String(txn.KeyOutcome, txn.Allowed)))
	denied := metric.WithAttributeSet(attribute.NewSet(attribute.String(txn.KeyOutcome, txn.Denied)))
	reg, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		r.obs.decisions.collected()
		a, d := r.obs.decisions.totals()
		o.ObserveInt64(decided, int64(a), allowed)
		o.ObserveInt64(decided, int64(d), denied)
		h := r.Health()
		o.ObserveInt64(behind, int64(h.Behind))
		o.ObserveFloat64(lag, h.Lag.Seconds())
		return nil
	}, decided, behind, lag)
	if err != nil {
		otel.Handle(err)
		return
	}
	r.obs.metrics = reg
}

// unregisterMetrics stops reporting the Roster's observable metrics.
func (r *Roster) unregisterMetrics() {
	if r.obs.metrics != nil {
		if err := r.obs.metrics.Unregister(); err != nil {
			otel.Handle(err)
		}
		r.obs.metrics = nil
	}
}

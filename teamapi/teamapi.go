package teamapi

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/store"
)

// DefaultMaxBodyBytes is the largest request body the API reads when
// Options.MaxBodyBytes is 0: 64 KiB, far more than any of its requests
// needs (an invite to invites.MaxEmails addresses is about 10 KiB).
const DefaultMaxBodyBytes = 64 << 10

// ErrOptions means New was given no Roster or invalid Options. It wraps
// store.ErrInvalid.
var ErrOptions = store.Kinded(store.ErrInvalid, "teamapi: invalid options")

// Options configures New.
type Options struct {
	// User returns the ID of the request's authenticated user, or false
	// if the request has none: the host's own authentication, as
	// roster.HTTPOptions.User. It is required, and must be safe for
	// concurrent use.
	User func(*http.Request) (string, bool)
	// Prefix is the path the API's routes start with, such as "/api": the
	// handler serves "/api/me", "/api/teams/{team}" and so on, and answers
	// 404 to any other path. Mount it on the host's mux at Prefix + "/".
	// Empty serves the routes at the root (for example behind
	// http.StripPrefix). It must start with "/" and not end with one.
	Prefix string
	// MaxBodyBytes is the largest request body read; a larger one is
	// refused with 413. 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Logger receives the request log, one record per request (see New).
	// Nil means the Roster's logger (roster.WithLogger).
	Logger *slog.Logger
	// APIKeys makes the API recognise roster's API keys sent as
	// "Authorization: Bearer rsk_..." (roster.HTTPOptions.APIKeys), as a
	// host does that accepts them on its own routes. API keys act only
	// through Can: they do not manage the team, their own keys included,
	// so every route but the OpenAPI document refuses a working key with
	// 403, and a key that does not work gets 401, before any handler runs.
	// Without APIKeys, a key is not a user: the request has whatever user
	// User finds in it, none for most hosts (401).
	APIKeys bool
}

// doc is the OpenAPI document of the API, with its paths relative to the
// prefix.
//
//go:embed openapi.json
var doc []byte

// api is the handler New returns.
type api struct {
	r        *roster.Roster
	limit    int64
	log      *slog.Logger
	mux      *http.ServeMux
	patterns map[string]bool // the patterns of the route table
	guard    http.Handler    // SameSiteJSON over mux
	doc      []byte          // doc with its server URL set to the prefix
}

// New returns an http.Handler that serves roster's team API under
// o.Prefix: every route of the OpenAPI document that GET
// {prefix}/openapi.json serves, each behind roster's middleware (r.Require,
// r.RequireMember or r.RequireUser, with o.User, o.APIKeys and the {team}
// path value) and all of them behind SameSiteJSON. A request made with a
// working API key (with o.APIKeys) is refused with 403 before its handler
// runs: keys do not manage the team. The API answers JSON in snake_case
// (see the response types such as Account and Page) and every error as a
// problem report (application/problem+json, see roster.Problem): roster's
// errors with the status roster.HTTPStatus gives them and their public
// message (roster.WriteError); a request it cannot read with 400 (malformed
// JSON, a field the route does not take, more than one JSON value, a
// missing body, a bad or unknown query parameter), 413 (a body over
// o.MaxBodyBytes) or 415 (a body that is not application/json); a path it
// does not serve with 404 and a method a path does not take with 405. A
// refused request changes nothing.
//
// It logs one record per request to o.Logger (or the Roster's logger) with
// the method, the route's pattern (never the path itself, which may hold
// a token), the status and the duration, and for an error of roster its
// kind, such as "store: not found"; at level Error for a status of 500 or
// above and Info otherwise.
//
// New returns an error wrapping ErrOptions if r or o.User is nil, o.Prefix
// is malformed or o.MaxBodyBytes is negative. The handler is safe for
// concurrent use.
func New(r *roster.Roster, o Options) (http.Handler, error) {
	switch {
	case r == nil:
		return nil, fmt.Errorf("%w: nil Roster", ErrOptions)
	case o.User == nil:
		return nil, fmt.Errorf("%w: no User: the API needs the host's authentication", ErrOptions)
	case o.MaxBodyBytes < 0:
		return nil, fmt.Errorf("%w: negative MaxBodyBytes %d", ErrOptions, o.MaxBodyBytes)
	case o.Prefix != "" && (!strings.HasPrefix(o.Prefix, "/") || strings.HasSuffix(o.Prefix, "/") || strings.ContainsAny(o.Prefix, "{}? \t\n#%")):
		return nil, fmt.Errorf("%w: Prefix %q must start with / and not end with one, without {, }, ?, # or spaces", ErrOptions, o.Prefix)
	}
	a := &api{r: r, limit: o.MaxBodyBytes, log: o.Logger, mux: http.NewServeMux(), patterns: map[string]bool{}}
	if a.limit == 0 {
		a.limit = DefaultMaxBodyBytes
	}
	if a.log == nil {
		a.log = r.Logger()
	}
	var err error
	if a.doc, err = withServer(doc, o.Prefix); err != nil {
		return nil, err
	}
	opts := roster.HTTPOptions{User: o.User, Team: roster.TeamFromPath("team"), APIKeys: o.APIKeys}
	for _, rt := range a.routes() {
		pattern := rt.pattern(o.Prefix)
		a.patterns[pattern] = true
		a.mux.Handle(pattern, rt.access.guard(r, opts)(a.serve(rt)))
	}
	a.guard = SameSiteJSON(a.mux)
	return a, nil
}

// withServer returns the OpenAPI document d with its server URL set to
// prefix ("/" when empty).
func withServer(d []byte, prefix string) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(d, &m); err != nil {
		return nil, fmt.Errorf("teamapi: the embedded OpenAPI document: %w", err)
	}
	url := prefix
	if url == "" {
		url = "/"
	}
	m["servers"] = []map[string]string{{"url": url}}
	return json.MarshalIndent(m, "", "  ")
}

// ServeHTTP serves the request and logs it.
func (a *api) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	start := time.Now()
	entry := &logEntry{}
	rec := &recorder{ResponseWriter: w}
	req = req.WithContext(context.WithValue(req.Context(), entryKey{}, entry))
	defer func() {
		route := ""
		if a.patterns[req.Pattern] {
			_, route, _ = strings.Cut(req.Pattern, " ")
		}
		p := recover()
		if p != nil && entry.err == nil {
			entry.err = fmt.Errorf("handler panicked: %v", p)
		}
		a.logRequest(req, route, rec.status(), time.Since(start), entry.err)
		if p != nil {
			panic(p) // net/http breaks the response off
		}
	}()
	if h, pattern := a.mux.Handler(req); pattern == "" {
		unrouted(rec, req, h)
		return
	}
	a.guard.ServeHTTP(rec, req)
}

// unrouted answers a request that matches no route as a problem report:
// 404, or 405 with the Allow header for a path that takes other methods.
// h is the mux's answer, which says which.
func unrouted(w http.ResponseWriter, req *http.Request, h http.Handler) {
	p := &probe{header: http.Header{}}
	h.ServeHTTP(p, req)
	switch p.code {
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", p.header.Get("Allow"))
		roster.WriteProblem(w, p.code, fmt.Sprintf("this path does not take the method %s", req.Method))
	default:
		roster.WriteProblem(w, http.StatusNotFound, "no such route")
	}
}

// probe is a ResponseWriter that keeps only the status and the headers.
type probe struct {
	header http.Header
	code   int
}

func (p *probe) Header() http.Header { return p.header }
func (p *probe) WriteHeader(code int) {
	if p.code == 0 {
		p.code = code
	}
}
func (p *probe) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	return len(b), nil
}

// keyRefusal is the detail of the 403 that answers a working API key on a
// route of a team (see Options.APIKeys). The user's own routes are refused
// by roster.RequireUser, in its words.
const keyRefusal = "an API key does not manage the team: the team API takes a signed-in user"

// serve returns the handler of the route, behind its middleware: it reads
// the query and the body, calls the route's handler and writes what it
// returns.
func (a *api) serve(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if _, ok := roster.KeyFrom(req.Context()); ok {
			// The services would refuse the key too, each in its own words
			// and some only after reading the body: refuse it here, first.
			roster.WriteProblem(w, http.StatusForbidden, keyRefusal)
			return
		}
		c := &call{w: w, req: req}
		c.user, _ = roster.UserFrom(req.Context())
		c.team, _ = roster.TeamFrom(req.Context())
		var err error
		if c.q, err = queryOf(req, rt.query); err != nil {
			a.fail(w, req, err)
			return
		}
		in := rt.newBody()
		if rt.method != http.MethodGet && rt.method != http.MethodHead {
			if err := decodeBody(w, req, in, !rt.body, a.limit); err != nil {
				a.fail(w, req, err)
				return
			}
		}
		v, err := rt.handle(c, in)
		switch {
		case err != nil:
			a.fail(w, req, err)
		case v == written{}:
		case v == nil:
			w.WriteHeader(http.StatusNoContent)
		default:
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(rt.status)
			_ = json.NewEncoder(w).Encode(v) // a failed write means the client has gone
		}
	})
}

// fail answers err as a problem report: a requestError with its status and
// detail, any other error by roster.WriteError.
func (a *api) fail(w http.ResponseWriter, req *http.Request, err error) {
	var re *requestError
	if errors.As(err, &re) {
		roster.WriteProblem(w, re.status, re.detail)
		return
	}
	noteError(req.Context(), err)
	roster.WriteError(w, err)
}

// logEntry is what the request log learns of a request as it is served.
type logEntry struct {
	err error // the error of roster that answered it
}

type entryKey struct{}

// noteError keeps err for the request's log record.
func noteError(ctx context.Context, err error) {
	if e, ok := ctx.Value(entryKey{}).(*logEntry); ok {
		e.err = err
	}
}

// logRequest writes the request's log record. The error appears only as
// its kind, the text of its sentinel: the error's own text may name
// emails and the database's messages.
func (a *api) logRequest(req *http.Request, route string, status int, d time.Duration, err error) {
	level := slog.LevelInfo
	if status >= http.StatusInternalServerError {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("method", req.Method), slog.String("route", route),
		slog.Int("status", status), slog.Duration("duration", d),
	}
	if err != nil {
		kind := "unknown"
		if s := store.Sentinel(err); s != nil {
			kind = s.Error()
		} else if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			kind = err.Error()
		}
		attrs = append(attrs, slog.String("error", kind))
	}
	a.log.LogAttrs(req.Context(), level, "http request", attrs...)
}

// recorder is a ResponseWriter that keeps the status written.
type recorder struct {
	http.ResponseWriter
	code int
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap returns the ResponseWriter under r, for http.ResponseController.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// status is the status written, 200 if none was (net/http sends 200).
func (r *recorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}

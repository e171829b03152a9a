package teamapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/teamroster/roster/store"
)

// requestError is a request the API cannot read: its body or its query.
// The handler answers it with its status and detail, a message about the
// request alone (never an ID or a server's error text), and it changes
// nothing.
type requestError struct {
	status int
	detail string
}

func (e *requestError) Error() string { return fmt.Sprintf("teamapi: %d: %s", e.status, e.detail) }

// badRequest is a 400 requestError.
func badRequest(format string, args ...any) error {
	return &requestError{status: http.StatusBadRequest, detail: fmt.Sprintf(format, args...)}
}

// decodeBody reads the request's JSON body into v, a pointer to the
// route's body type: one JSON object, with no field that v lacks, no data
// after it, at most limit bytes. A route whose body is optional (a pointer
// to struct{}) accepts an empty body; any other needs one. The Content-Type
// has been checked by SameSiteJSON.
func decodeBody(w http.ResponseWriter, req *http.Request, v any, optional bool, limit int64) error {
	if req.ContentLength > limit {
		return tooLarge(limit)
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, req.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return tooLarge(limit)
	case err != nil:
		return badRequest("the request body could not be read")
	case len(bytes.TrimSpace(raw)) == 0 && optional:
		return nil
	case len(bytes.TrimSpace(raw)) == 0:
		return badRequest("the request needs a JSON body")
	case bytes.TrimSpace(raw)[0] != '{':
		return badRequest("the request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("the request body must hold one JSON object and nothing after it")
	}
	return nil
}

// bodyError describes a decoding error of a request body without quoting
// the body.
func bodyError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("the request body is not valid JSON")
	case errors.As(err, &typ):
		return badRequest("the request body's field %q must be %s", typ.Field, jsonType(typ.Type.Kind().String()))
	}
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return badRequest("the request body has an unknown field %s", field)
	}
	return badRequest("the request body is not valid JSON")
}

// jsonType names a Go kind as JSON does.
func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return "a number"
}

// tooLarge is the requestError of a body over limit bytes.
func tooLarge(limit int64) error {
	return &requestError{status: http.StatusRequestEntityTooLarge,
		detail: fmt.Sprintf("the request body is larger than %d bytes", limit)}
}

// query is a request's query parameters, checked against the names its
// route takes.
type query url.Values

// queryOf returns the request's query, or a requestError if it is malformed,
// names a parameter the route does not take, or repeats one.
func queryOf(req *http.Request, names []string) (query, error) {
	q, err := url.ParseQuery(req.URL.RawQuery)
	if err != nil {
		return nil, badRequest("the query string is malformed")
	}
	for name, vs := range q {
		if !slices.Contains(names, name) {
			if len(names) == 0 {
				return nil, badRequest("this route takes no query parameters")
			}
			return nil, badRequest("unknown query parameter %q: this route takes %s", name, strings.Join(names, ", "))
		}
		if len(vs) > 1 {
			return nil, badRequest("the query parameter %q is given more than once", name)
		}
	}
	return query(q), nil
}

// get returns the parameter's value, "" when absent.
func (q query) get(name string) string { return url.Values(q).Get(name) }

// page returns the page the query asks for with limit (the page size) and
// cursor.
func (q query) page() (store.Page, error) {
	p := store.Page{Cursor: q.get("cursor")}
	if s := q.get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return p, badRequest("limit must be a whole number from 0 to %d", store.MaxPageSize)
		}
		p.Size = n
	}
	return p, nil
}

// time returns the parameter as RFC 3339 or a date (YYYY-MM-DD, midnight
// UTC); the zero time when absent.
func (q query) time(name string) (time.Time, error) {
	s := q.get(name)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, badRequest("%s must be an RFC 3339 time or a date (YYYY-MM-DD)", name)
}

package roster

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/teamroster/roster/store"
)

// statusClientClosed is nginx's 499 Client Closed Request, which net/http
// has no constant for.
const statusClientClosed = 499

// statuses maps each kind of error (see package store) to its HTTP status.
var statuses = []struct {
	kind   error
	status int
}{
	{store.ErrInvalid, http.StatusBadRequest},
	{store.ErrNotFound, http.StatusNotFound},
	{store.ErrExists, http.StatusConflict},
	{store.ErrDenied, http.StatusForbidden},
	{store.ErrUnauthenticated, http.StatusUnauthorized},
	{store.ErrGone, http.StatusGone},
	{store.ErrPrecondition, http.StatusConflict},
	{store.ErrConflict, http.StatusConflict},
	{store.ErrClosed, http.StatusServiceUnavailable},
	{store.ErrBackend, http.StatusInternalServerError},
}

// HTTPStatus returns the HTTP status that answers err, from the kind of the
// most specific sentinel err wraps (see store.Sentinel): 400 for
// store.ErrInvalid, 404 for store.ErrNotFound, 409 for store.ErrExists,
// store.ErrPrecondition and store.ErrConflict, 403 for store.ErrDenied,
// 401 for store.ErrUnauthenticated, 410 for store.ErrGone, 503 for
// store.ErrClosed and 500 for store.ErrBackend.
// An error wrapping no kind is 504 if it wraps context.DeadlineExceeded,
// 499 (Client Closed Request) if it wraps context.Canceled, and 500
// otherwise: net/http cancels a request's context when its client goes
// away, so nobody reads that answer, and a 4xx keeps clients leaving out of
// the server's error rates. A nil err is 200. It is the one mapping from roster's errors to
// statuses, and is safe for concurrent use.
func HTTPStatus(err error) int {
	if err == nil {
		return http.StatusOK
	}
	if s := store.Sentinel(err); s != nil {
		for _, k := range statuses {
			if errors.Is(s, k.kind) {
				return k.status
			}
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.Is(err, context.Canceled):
		return statusClientClosed
	}
	return http.StatusInternalServerError
}

// WriteError answers err as a problem report (see WriteProblem) with the
// status HTTPStatus gives it. The detail is a public message: the text of
// the most specific sentinel err wraps (see store.Sentinel) without its
// package prefix, such as "the account owner cannot be removed, demoted or
// leave; transfer ownership first". It is never err's own text, which names
// accounts, users and database errors and belongs in the host's logs. A
// status of 500 or above says only that something went wrong (503: that the
// service is unavailable; 504: that the request took too long). A nil err is
// a mistake of the caller, answered as 500. Like any write to w, it must
// not run concurrently with other writes to w.
func WriteError(w http.ResponseWriter, err error) {
	status := HTTPStatus(err)
	if err == nil {
		status = http.StatusInternalServerError
	}
	WriteProblem(w, status, publicDetail(err, status))
}

// publicDetail returns the detail WriteError shows for err answered with
// status.
func publicDetail(err error, status int) string {
	switch status {
	case http.StatusServiceUnavailable:
		return "the service is unavailable; try again later"
	case http.StatusGatewayTimeout:
		return "the request took too long"
	case statusClientClosed:
		return "the request was cancelled"
	}
	s := store.Sentinel(err)
	if status >= http.StatusInternalServerError || s == nil {
		return "something went wrong"
	}
	msg := s.Error()
	if prefix, rest, ok := strings.Cut(msg, ": "); ok && !strings.ContainsAny(prefix, " \t") {
		return rest
	}
	return msg
}

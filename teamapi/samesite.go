package teamapi

import (
	"mime"
	"net/http"

	"github.com/teamroster/roster"
)

// SameSiteJSON returns next behind the guard New puts in front of every
// route that changes state: every method but GET, HEAD and OPTIONS. A
// browser sends the host's session cookie with any request to its host,
// whichever page makes it, so without the guard another site's page (or a
// page on another port of the same host) could change things in the
// signed-in user's name (CSRF). Put it, or your framework's equivalent, in
// front of your own cookie-authenticated routes too, such as a sign-in. It
// refuses with a problem report (roster.WriteProblem), before next runs:
//
//   - 403 Forbidden: the request comes from another site. A browser says so
//     in Sec-Fetch-Site, which must be "same-origin" or "none" (the user
//     typed the address); without that header, an Origin header must name
//     the request's Host (see http.CrossOriginProtection). A request with
//     neither header is not from a browser's page (curl, a server) and
//     passes.
//   - 415 Unsupported Media Type: the request has a body whose Content-Type
//     is not application/json (parameters such as charset allowed). A
//     page can send text/plain or a form to another site without asking it
//     first, but not application/json.
//
// Safe methods pass unchecked: they must change nothing. The handler it
// returns is safe for concurrent use.
func SameSiteJSON(next http.Handler) http.Handler {
	var crossOrigin http.CrossOriginProtection // Sec-Fetch-Site, else Origin against Host
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch req.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, req)
			return
		}
		if err := crossOrigin.Check(req); err != nil {
			roster.WriteProblem(w, http.StatusForbidden, "cross-site requests may not change anything: send them from this site's pages")
			return
		}
		if req.ContentLength != 0 { // -1: a body of unknown length
			if mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type")); err != nil || mt != "application/json" {
				roster.WriteProblem(w, http.StatusUnsupportedMediaType, "the request body must be JSON, with Content-Type application/json")
				return
			}
		}
		next.ServeHTTP(w, req)
	})
}

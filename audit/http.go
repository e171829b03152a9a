package audit

import (
	"net/http"

	"github.com/teamroster/roster/store"
)

// Middleware returns next wrapped so that every request's context carries
// its metadata (store.WithRequest), which roster copies onto the audit
// events written while handling it: the IP address of r.RemoteAddr, the
// User-Agent header and the X-Request-ID header. It trusts no forwarding
// header such as X-Forwarded-For, which any client can set; behind a proxy
// you trust, call store.WithRequest yourself with the address it reports.
// The handler it returns is safe for concurrent use.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := store.WithRequest(r.Context(), store.Request{
			IP:        r.RemoteAddr,
			UserAgent: r.UserAgent(),
			RequestID: r.Header.Get("X-Request-ID"),
		})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

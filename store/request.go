package store

import (
	"context"
	"net/netip"
	"strings"

	"github.com/teamroster/roster/internal/text"
)

// Limits on the request metadata kept with an audit event. Longer values
// are cut at a character boundary.
const (
	MaxUserAgentLen = 512 // bytes
	MaxRequestIDLen = 128 // bytes
)

// Request is the metadata of the request on whose behalf a change is made:
// the client's IP address, its user agent and the host application's
// request ID. roster copies it onto every audit event written while
// handling the request. Put it in the context with WithRequest.
type Request struct {
	IP        string
	UserAgent string
	RequestID string
}

type requestKey struct{}

// WithRequest returns a copy of ctx carrying r, cleaned first so that it
// is safe to store and to show: IP is kept only if it parses as an IP
// address (an "address:port" keeps the address; anything else becomes
// empty), and UserAgent and RequestID have invalid UTF-8, control and
// format characters replaced by U+FFFD and are cut to MaxUserAgentLen and
// MaxRequestIDLen bytes. It is safe for concurrent use.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r.clean())
}

// RequestFrom returns the request metadata that WithRequest put in ctx, or
// the zero Request if there is none.
func RequestFrom(ctx context.Context) Request {
	r, _ := ctx.Value(requestKey{}).(Request)
	return r
}

// clean returns r made safe to store, as WithRequest describes.
func (r Request) clean() Request {
	return Request{
		IP:        cleanIP(r.IP),
		UserAgent: text.Clean(r.UserAgent, MaxUserAgentLen),
		RequestID: text.Clean(r.RequestID, MaxRequestIDLen),
	}
}

// cleanIP returns the canonical form of the address in s, or "".
func cleanIP(s string) string {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.String()
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().String()
	}
	return ""
}

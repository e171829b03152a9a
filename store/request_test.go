package store_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/teamroster/roster/store"
)

func TestRequest(t *testing.T) {
	t.Run("a context without metadata gives the zero request", func(t *testing.T) {
		if r := store.RequestFrom(context.Background()); r != (store.Request{}) {
			t.Errorf("RequestFrom(empty) = %+v, want zero", r)
		}
	})
	t.Run("metadata round-trips through the context", func(t *testing.T) {
		in := store.Request{IP: "203.0.113.7", UserAgent: "Mozilla/5.0 (X11)", RequestID: "req-42"}
		if got := store.RequestFrom(store.WithRequest(context.Background(), in)); got != in {
			t.Errorf("RequestFrom = %+v, want %+v", got, in)
		}
	})
	t.Run("IP addresses are kept in canonical form and anything else is dropped", func(t *testing.T) {
		for in, want := range map[string]string{
			"203.0.113.7":              "203.0.113.7",
			" 203.0.113.7 ":            "203.0.113.7",
			"203.0.113.7:8080":         "203.0.113.7",
			"[2001:DB8::1]:443":        "2001:db8::1",
			"2001:0db8:0000::0001":     "2001:db8::1",
			"":                         "",
			"localhost":                "",
			"1.2.3.4, 5.6.7.8":         "",
			"1.2.3.4\n[admin] granted": "",
			"' OR 1=1 --":              "",
		} {
			got := store.RequestFrom(store.WithRequest(context.Background(), store.Request{IP: in})).IP
			if got != want {
				t.Errorf("IP %q stored as %q, want %q", in, got, want)
			}
		}
	})
	t.Run("user agent and request ID cannot forge log lines", func(t *testing.T) {
		in := store.Request{
			UserAgent: "curl/8\r\n2025-01-01 admin logged in\u202eevil\x00\xff",
			RequestID: "id\u2028next",
		}
		got := store.RequestFrom(store.WithRequest(context.Background(), in))
		if want := "curl/8\uFFFD\uFFFD2025-01-01 admin logged in\uFFFDevil\uFFFD\uFFFD"; got.UserAgent != want {
			t.Errorf("UserAgent = %q, want %q", got.UserAgent, want)
		}
		if want := "id\uFFFDnext"; got.RequestID != want {
			t.Errorf("RequestID = %q, want %q", got.RequestID, want)
		}
	})
	t.Run("long values are cut at a character boundary", func(t *testing.T) {
		in := store.Request{UserAgent: strings.Repeat("é", store.MaxUserAgentLen), RequestID: strings.Repeat("x", 1000)}
		got := store.RequestFrom(store.WithRequest(context.Background(), in))
		if len(got.UserAgent) > store.MaxUserAgentLen || !utf8.ValidString(got.UserAgent) || len(got.UserAgent) < store.MaxUserAgentLen-1 {
			t.Errorf("UserAgent cut to %d bytes (valid UTF-8: %v), want at most %d", len(got.UserAgent), utf8.ValidString(got.UserAgent), store.MaxUserAgentLen)
		}
		if len(got.RequestID) != store.MaxRequestIDLen {
			t.Errorf("RequestID cut to %d bytes, want %d", len(got.RequestID), store.MaxRequestIDLen)
		}
	})
}

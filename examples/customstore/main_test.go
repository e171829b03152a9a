package main

import (
	"context"
	"strings"
	"testing"

	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/store/storetest"
)

// TestConformance runs the whole conformance suite against MemStore.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s := NewMemStore()
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
		return s
	})
}

func TestCustomStore(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("customstore failed: %v\noutput:\n%s", err, out.String())
	}
	for _, want := range []string{
		"bob joined Acme by link; Can(bob, pods.manage) = true",
		"alice removed bob; Can(bob, pods.manage) = false",
		"Verify checked 5 and the hash chain holds",
		"member.removed     by alice",
		"member.joined      by bob",
		"account.converted  by alice",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q\noutput:\n%s", want, out.String())
		}
	}
}

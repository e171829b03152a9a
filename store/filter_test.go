package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/teamroster/roster/store"
)

func TestEventFilterValidate(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name string
		f    store.EventFilter
	}{
		{"the zero filter", store.EventFilter{}},
		{"every field set", store.EventFilter{AccountID: "acc", Actor: "alice", Action: store.EventMemberAdded, ResourceType: "member",
			ResourceID: "bob", Since: now.Add(-time.Hour), Until: now, BeforeID: 9, Limit: 5, Result: store.Denied,
			Order: store.AppendOrder, Below: store.EventKey{Time: now, ID: 7}, AfterID: 2}},
		{"Since equal to Until", store.EventFilter{Since: now, Until: now}},
		{"only Since", store.EventFilter{Since: now}},
		{"allowed events", store.EventFilter{Result: store.Allowed}},
	} {
		if err := tc.f.Validate(); err != nil {
			t.Errorf("%s: Validate = %v, want nil", tc.name, err)
		}
	}
	for _, tc := range []struct {
		name string
		f    store.EventFilter
	}{
		{"a negative limit", store.EventFilter{Limit: -1}},
		{"a negative BeforeID", store.EventFilter{BeforeID: -1}},
		{"a negative AfterID", store.EventFilter{AfterID: -1}},
		{"Since after Until", store.EventFilter{Since: now, Until: now.Add(-time.Second)}},
		{"an unknown order", store.EventFilter{Order: "oldest"}},
		{"an unknown result", store.EventFilter{Result: "maybe"}},
		{"a cursor key without a time", store.EventFilter{Below: store.EventKey{ID: 3}}},
		{"a cursor key without an ID", store.EventFilter{Below: store.EventKey{Time: now}}},
		{"a cursor key with a negative ID", store.EventFilter{Below: store.EventKey{Time: now, ID: -3}}},
	} {
		if err := tc.f.Validate(); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: Validate = %v, want ErrInvalid", tc.name, err)
		}
	}
}

func TestEventOrderAndKey(t *testing.T) {
	for o, want := range map[store.EventOrder]bool{store.NewestFirst: true, store.AppendOrder: true, "oldest": false, "APPEND": false} {
		if got := o.Valid(); got != want {
			t.Errorf("EventOrder(%q).Valid() = %v, want %v", o, got, want)
		}
	}
	if !(store.EventKey{}).IsZero() {
		t.Error("the zero EventKey is not zero")
	}
	for _, k := range []store.EventKey{{ID: 1}, {Time: time.Unix(1, 0)}} {
		if k.IsZero() {
			t.Errorf("EventKey %+v is zero", k)
		}
	}
}

package store_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/teamroster/roster/store"
)

func TestKeyOrder(t *testing.T) {
	t1 := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	// In ascending order: the zero time first, then by time, then by ID
	// in byte order.
	keys := []store.Key{
		{ID: "a"}, {ID: "b"},
		{Time: t1, ID: "B"}, {Time: t1, ID: "a"},
		{Time: t1.Add(time.Nanosecond), ID: "A"},
	}
	for i, k := range keys {
		for j, o := range keys {
			want := 0
			switch {
			case i < j:
				want = -1
			case i > j:
				want = 1
			}
			if got := k.Compare(o); got != want {
				t.Errorf("%+v.Compare(%+v) = %d, want %d", k, o, got, want)
			}
		}
	}
	// After a key: greater keys ascending, lesser ones newest first; the
	// zero key is the start of either.
	r := store.Range{After: keys[2]}
	if !r.Follows(keys[3], false) || r.Follows(keys[1], false) || r.Follows(keys[2], false) {
		t.Error("ascending, a range follows only greater keys")
	}
	if !r.Follows(keys[1], true) || r.Follows(keys[3], true) || r.Follows(keys[2], true) {
		t.Error("newest first, a range follows only lesser keys")
	}
	for _, k := range keys {
		if !(store.Range{}).Follows(k, false) || !(store.Range{}).Follows(k, true) {
			t.Errorf("the zero range does not start before %+v", k)
		}
	}
}

func TestPageAndRangeValidate(t *testing.T) {
	for name, err := range map[string]error{
		"page size -1":        store.Page{Size: -1}.Validate(),
		"page size above max": store.Page{Size: store.MaxPageSize + 1}.Validate(),
		"a cursor too long":   store.Page{Cursor: strings.Repeat("a", store.MaxCursorLen+1)}.Validate(),
		"range limit -1":      store.Range{Limit: -1}.Validate(),
		"a key without an ID": store.Range{After: store.Key{Time: time.Now()}}.Validate(),
	} {
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	for name, err := range map[string]error{
		"the zero page":          store.Page{}.Validate(),
		"the largest page":       store.Page{Size: store.MaxPageSize}.Validate(),
		"the zero range":         store.Range{}.Validate(),
		"a key with a zero time": store.Range{After: store.Key{ID: "x"}, Limit: 3}.Validate(),
	} {
		if err != nil {
			t.Errorf("%s: %v, want nil", name, err)
		}
	}
	if got := (store.Page{}).Rows(); got != store.DefaultPageSize {
		t.Errorf("Rows of the zero page = %d, want %d", got, store.DefaultPageSize)
	}
	if got := (store.Page{Size: 7}).Rows(); got != 7 {
		t.Errorf("Rows of a page of 7 = %d", got)
	}
}

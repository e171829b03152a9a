package cursor_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/teamroster/roster/internal/cursor"
	"github.com/teamroster/roster/store"
)

func TestKeyRoundTrip(t *testing.T) {
	for _, k := range []store.Key{
		{},
		{ID: "u1"},
		{Time: time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC), ID: "émile"},
		{Time: time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), ID: strings.Repeat("x", store.MaxIDLen)},
		{Time: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), ID: "z"},
	} {
		c := cursor.EncodeKey(1, k, "members", "acc_1")
		if len(c) > store.MaxCursorLen || strings.ContainsAny(c, "+/=") {
			t.Errorf("cursor of %+v = %q: longer than %d or not URL-safe", k, c, store.MaxCursorLen)
		}
		part, got, err := cursor.DecodeKey(c, 1, "members", "acc_1")
		if err != nil || part != 1 || got.ID != k.ID || !got.Time.Equal(k.Time) || got.Time.IsZero() != k.Time.IsZero() {
			t.Errorf("DecodeKey(EncodeKey(%+v)) = %d, %+v, %v", k, part, got, err)
		}
	}
}

func TestBadCursors(t *testing.T) {
	k := store.Key{Time: time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC), ID: "u1"}
	good := cursor.EncodeKey(0, k, "members", "acc_1")
	flipped := []byte(good)
	flipped[5] ^= 1
	for name, c := range map[string]string{
		"another account":        cursor.EncodeKey(0, k, "members", "acc_2"),
		"another list":           cursor.EncodeKey(0, k, "invites", "acc_1"),
		"a part beyond the last": cursor.EncodeKey(2, k, "members", "acc_1"),
		"an invalid ID":          cursor.EncodeKey(0, store.Key{Time: k.Time, ID: "a b"}, "members", "acc_1"),
		"a time but no ID":       cursor.EncodeKey(0, store.Key{Time: k.Time}, "members", "acc_1"),
		"one character changed":  string(flipped),
		"cut":                    good[:len(good)-1],
		"not base64":             "not a cursor!",
		"padded":                 good + "==",
		"too long":               strings.Repeat("A", store.MaxCursorLen+1),
		"empty payload":          cursor.Encode(nil, "members", "acc_1"),
		"an audit cursor":        cursor.Encode(make([]byte, 16), "members", "acc_1"),
	} {
		if _, _, err := cursor.DecodeKey(c, 1, "members", "acc_1"); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: DecodeKey = %v, want ErrInvalid", name, err)
		}
	}
}

func TestRead(t *testing.T) {
	list := make([]int, 100) // the list 0..99; its key is the number
	for i := range list {
		list[i] = i
	}
	key := func(n int) store.Key { return store.Key{ID: fmt.Sprintf("%03d", n)} }
	var reads []int // the limit of each read
	read := func(r store.Range) ([]int, error) {
		reads = append(reads, r.Limit)
		var out []int
		for _, n := range list {
			if (r.After.IsZero() || key(n).Compare(r.After) > 0) && len(out) < r.Limit {
				out = append(out, n)
			}
		}
		return out, nil
	}
	multiplesOf := func(m int) func([]int) ([]int, error) {
		return func(batch []int) ([]int, error) {
			var kept []int
			for _, n := range batch {
				if n%m == 0 {
					kept = append(kept, n)
				}
			}
			return kept, nil
		}
	}

	t.Run("an unfiltered page is one read of one more row", func(t *testing.T) {
		reads = nil
		rows, more, err := cursor.Read(10, store.Key{}, read, key, nil)
		if err != nil || !more || len(rows) != 10 || rows[9] != 9 || fmt.Sprint(reads) != "[11]" {
			t.Errorf("Read = %v, %v, %v after reads %v; want 0..9, more, one read of 11", rows, more, err, reads)
		}
	})
	t.Run("a filtered page reads on, in longer ranges, until it is full", func(t *testing.T) {
		reads = nil
		rows, more, err := cursor.Read(3, key(0), read, key, multiplesOf(10))
		if err != nil || !more || fmt.Sprint(rows) != "[10 20 30]" || fmt.Sprint(reads) != "[4 8 16 32]" {
			t.Errorf("Read = %v, %v, %v after reads %v; want [10 20 30], more, reads [4 8 16 32]", rows, more, err, reads)
		}
	})
	t.Run("the last page says there is no more", func(t *testing.T) {
		rows, more, err := cursor.Read(5, key(89), read, key, multiplesOf(10))
		if err != nil || more || fmt.Sprint(rows) != "[90]" {
			t.Errorf("Read = %v, %v, %v; want [90] and no more", rows, more, err)
		}
	})
	t.Run("a page of none tells whether any row follows", func(t *testing.T) {
		if rows, more, err := cursor.Read(0, key(50), read, key, multiplesOf(7)); err != nil || !more || len(rows) != 0 {
			t.Errorf("Read(0) = %v, %v, %v; want no rows and more", rows, more, err)
		}
		if rows, more, err := cursor.Read(0, key(98), read, key, multiplesOf(7)); err != nil || more || len(rows) != 0 {
			t.Errorf("Read(0) at the end = %v, %v, %v; want no rows and no more", rows, more, err)
		}
	})
	t.Run("errors are returned unchanged", func(t *testing.T) {
		boom := errors.New("boom")
		if _, _, err := cursor.Read(5, store.Key{}, func(store.Range) ([]int, error) { return nil, boom }, key, nil); err != boom {
			t.Errorf("read error = %v, want boom", err)
		}
		if _, _, err := cursor.Read(5, store.Key{}, read, key, func([]int) ([]int, error) { return nil, boom }); err != boom {
			t.Errorf("keep error = %v, want boom", err)
		}
	})
}

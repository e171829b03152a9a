package index_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/teamroster/roster/internal/index"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// changesStore is a Store whose Changes lists the changes after a revision;
// it has nothing else.
type changesStore struct {
	store.Store
	changes []store.Change
}

// Changes returns at most limit changes after the revision, and more to
// finish the last commit, as store.Store's contract says.
func (s changesStore) Changes(_ context.Context, after store.Revision, limit int) ([]store.Change, error) {
	var out []store.Change
	for _, ch := range s.changes {
		if ch.Revision <= after {
			continue
		}
		if limit > 0 && len(out) >= limit && ch.Revision != out[len(out)-1].Revision {
			break
		}
		out = append(out, ch)
	}
	return out, nil
}

// repeatingStore is a changesStore whose Changes wrongly includes the
// changes at the revision it is asked to read after.
type repeatingStore struct{ changesStore }

func (s repeatingStore) Changes(ctx context.Context, after store.Revision, limit int) ([]store.Change, error) {
	return s.changesStore.Changes(ctx, after-1, limit)
}

func TestLookup(t *testing.T) {
	p := rbac.Runpod()
	ix := index.New(p)
	must(t, apply(ix,
		store.Change{Op: store.AccountCreated, AccountID: "empty"},
		store.Change{Op: store.MemberSet, AccountID: "team", UserID: "dev", Role: string(rbac.RunpodDev)},
		store.Change{Op: store.MemberSet, AccountID: "team", UserID: "ghost", Role: "ghost"},
		store.Change{Op: store.RoleSet, AccountID: "team", Role: "ops", Actions: []string{string(rbac.PodsManage)}},
		store.Change{Op: store.MemberSet, AccountID: "team", UserID: "ops", Role: "ops"},
		store.Change{Op: store.MemberSet, AccountID: "team", UserID: "gone", Role: string(rbac.RunpodAdmin)},
	))
	must(t, apply(ix, store.Change{Op: store.MemberDeleted, AccountID: "team", UserID: "gone"}))
	for _, c := range []struct {
		name          string
		account, user string
		action        rbac.Action
		want          index.Answer
	}{
		{"an unknown account is not known", "nowhere", "dev", rbac.PodsConnect, index.Answer{}},
		{"a known account without the user", "empty", "dev", rbac.PodsConnect, index.Answer{AccountKnown: true}},
		{"a removed member is no member", "team", "gone", rbac.PodsConnect, index.Answer{AccountKnown: true}},
		{"a member whose role allows the action", "team", "dev", rbac.PodsConnect,
			index.Answer{AccountKnown: true, Member: true, RoleKnown: true, Role: rbac.RunpodDev, Allowed: true}},
		{"a member whose role lacks the action", "team", "dev", rbac.BillingManage,
			index.Answer{AccountKnown: true, Member: true, RoleKnown: true, Role: rbac.RunpodDev}},
		{"a member asked about an action the policy lacks", "team", "dev", "no.such.action",
			index.Answer{AccountKnown: true, Member: true, RoleKnown: true, Role: rbac.RunpodDev}},
		{"a member holding a team role", "team", "ops", rbac.PodsManage,
			index.Answer{AccountKnown: true, Member: true, RoleKnown: true, Role: "ops", Allowed: true}},
		{"a member holding a role that is neither the policy's nor a team role", "team", "ghost", rbac.PodsConnect,
			index.Answer{AccountKnown: true, Member: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := ix.Lookup(c.account, c.user, c.action); got != c.want {
				t.Errorf("Lookup(%s, %s, %s) = %+v, want %+v", c.account, c.user, c.action, got, c.want)
			}
			if got := ix.Allowed(c.user, c.account, c.action); got != c.want.Allowed {
				t.Errorf("Allowed(%s, %s, %s) = %v, Lookup says %v", c.user, c.account, c.action, got, c.want.Allowed)
			}
			if got := ix.Member(c.account, c.user); got != c.want.Member {
				t.Errorf("Member(%s, %s) = %v, want %v", c.account, c.user, got, c.want.Member)
			}
		})
	}

	t.Run("readers allocate nothing", func(t *testing.T) {
		for _, q := range [][2]string{{"team", "dev"}, {"team", "ops"}, {"team", "nobody"}, {"nowhere", "dev"}} {
			n := testing.AllocsPerRun(100, func() {
				ix.Allowed(q[1], q[0], rbac.PodsManage)
				ix.Lookup(q[0], q[1], rbac.PodsManage)
				ix.Member(q[0], q[1])
			})
			if n != 0 {
				t.Errorf("Allowed, Lookup and Member on (%s, %s) allocate %v times, want 0", q[0], q[1], n)
			}
		}
	})
}

func TestRevision(t *testing.T) {
	ctx := context.Background()
	p := rbac.Runpod()
	member := func(rev store.Revision, account, user string) store.Change {
		return store.Change{Revision: rev, Op: store.MemberSet, AccountID: account, UserID: user, Role: string(rbac.RunpodDev)}
	}

	t.Run("Changed is closed when the revision advances, and only then", func(t *testing.T) {
		ix := index.New(p)
		changed := ix.Changed()
		select {
		case <-changed:
			t.Fatal("Changed is closed before any change")
		default:
		}
		must(t, apply(ix, member(0, "team", "u")))
		select {
		case <-changed:
		default:
			t.Fatal("Changed is not closed after the revision advanced")
		}
		if ix.Revision() != 1 {
			t.Errorf("revision %d after one commit, want 1", ix.Revision())
		}
		select {
		case <-ix.Changed():
			t.Error("the next Changed is closed before the revision advances again")
		default:
		}
	})

	t.Run("a commit that skips ahead catches up from the store", func(t *testing.T) {
		ix := index.New(p)
		s := changesStore{changes: []store.Change{member(1, "a", "u1"), member(2, "a", "u2"), member(3, "a", "u3")}}
		must(t, ix.Apply(ctx, s, store.Commit{Revision: 3, Changes: s.changes[2:]}))
		if ix.Revision() != 3 {
			t.Errorf("revision %d, want 3", ix.Revision())
		}
		for _, u := range []string{"u1", "u2", "u3"} {
			if !ix.Member("a", u) {
				t.Errorf("%s, added at a revision the commit skipped or by the commit, is not a member", u)
			}
		}
	})

	t.Run("a commit the index has already applied changes nothing", func(t *testing.T) {
		ix := index.New(p)
		must(t, apply(ix, member(0, "a", "u1")))
		must(t, ix.Apply(ctx, nil, store.Commit{Revision: 1, Changes: []store.Change{member(1, "a", "u2")}}))
		if ix.Member("a", "u2") || ix.Revision() != 1 {
			t.Errorf("an old commit was applied: u2 member %v, revision %d", ix.Member("a", "u2"), ix.Revision())
		}
	})

	t.Run("a store that skips a revision is a backend error", func(t *testing.T) {
		ix := index.New(p)
		s := changesStore{changes: []store.Change{member(2, "a", "u2")}}
		if err := ix.CatchUp(ctx, s); !errors.Is(err, store.ErrBackend) {
			t.Errorf("CatchUp error = %v, want ErrBackend", err)
		}
		if ix.Revision() != 0 || ix.Member("a", "u2") {
			t.Errorf("the skipped-to change was applied: revision %d, member %v", ix.Revision(), ix.Member("a", "u2"))
		}
	})

	t.Run("a store that skips a revision inside what it returns is a backend error", func(t *testing.T) {
		ix := index.New(p)
		s := changesStore{changes: []store.Change{member(1, "a", "u1"), member(2, "a", "u2"), member(4, "a", "u4")}}
		if err := ix.CatchUp(ctx, s); !errors.Is(err, store.ErrBackend) {
			t.Errorf("CatchUp error = %v, want ErrBackend", err)
		}
		if ix.Revision() > 2 || ix.Member("a", "u4") {
			t.Errorf("the index claims revision %d (member u4: %v) across a gap at 3", ix.Revision(), ix.Member("a", "u4"))
		}
	})

	t.Run("catching up reads every batch, and commits of several changes", func(t *testing.T) {
		// Three changes a commit, more commits than one read returns.
		var s changesStore
		const commits = 12000
		for rev := store.Revision(1); rev <= commits; rev++ {
			for j := range 3 {
				s.changes = append(s.changes, member(rev, fmt.Sprintf("a%d", j), fmt.Sprintf("u%d", rev)))
			}
		}
		ix := index.New(p)
		must(t, ix.CatchUp(ctx, s))
		if ix.Revision() != commits {
			t.Fatalf("after catching up, revision %d, want %d", ix.Revision(), commits)
		}
		for _, ch := range s.changes {
			if !ix.Member(ch.AccountID, ch.UserID) {
				t.Fatalf("%s is not a member of %s after catching up", ch.UserID, ch.AccountID)
			}
		}
	})

	t.Run("a store that returns the index's own revision again is a backend error", func(t *testing.T) {
		ix := index.New(p)
		must(t, apply(ix, member(0, "a", "u1")))
		s := repeatingStore{changesStore{changes: []store.Change{member(1, "a", "u2"), member(2, "a", "u3")}}}
		if err := ix.CatchUp(ctx, s); !errors.Is(err, store.ErrBackend) {
			t.Errorf("CatchUp error = %v, want ErrBackend", err)
		}
		if ix.Revision() != 1 || ix.Member("a", "u2") {
			t.Errorf("the repeated revision was applied: revision %d, member u2 %v", ix.Revision(), ix.Member("a", "u2"))
		}
	})

	t.Run("a commit that does not list its changes at its revision is read from the store", func(t *testing.T) {
		ix := index.New(p)
		s := changesStore{changes: []store.Change{member(1, "a", "u1")}}
		must(t, ix.Apply(ctx, s, store.Commit{Revision: 1}))
		if ix.Revision() != 1 || !ix.Member("a", "u1") {
			t.Errorf("after an empty commit: revision %d, member %v; want the store's change applied", ix.Revision(), ix.Member("a", "u1"))
		}
	})
}

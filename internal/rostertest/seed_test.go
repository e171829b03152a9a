package rostertest_test

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/store"
)

func TestSeed(t *testing.T) {
	t.Run("a seed in the environment is the one returned", func(t *testing.T) {
		t.Setenv(rostertest.EnvSeed, "12345")
		if got := rostertest.Seed(t); got != 12345 {
			t.Errorf("Seed = %d, want 12345 from %s", got, rostertest.EnvSeed)
		}
	})
	t.Run("without one, runs get different seeds", func(t *testing.T) {
		t.Setenv(rostertest.EnvSeed, "")
		if a, b := rostertest.Seed(t), rostertest.Seed(t); a == b {
			t.Errorf("two seeds drawn are both %d", a)
		}
	})
	t.Run("a malformed seed is an error", func(t *testing.T) {
		t.Setenv(rostertest.EnvSeed, "0x12")
		if _, _, err := rostertest.LookupSeed(); err == nil {
			t.Error("LookupSeed accepted 0x12")
		}
	})
}

func TestRunPattern(t *testing.T) {
	pattern := rostertest.RunPattern("TestCrash/sqlite/a_(b)")
	if pattern != `^TestCrash$/^sqlite$/^a_\(b\)$` {
		t.Errorf("RunPattern = %q", pattern)
	}
	// Each part matches its name only.
	for _, part := range []string{`^TestCrash$`, `^a_\(b\)$`} {
		re := regexp.MustCompile(part)
		if re.MatchString("TestCrashes") || re.MatchString("xa_(b)") {
			t.Errorf("%s matches a longer name", part)
		}
	}
}

func TestSoak(t *testing.T) {
	t.Setenv(rostertest.EnvSoak, "")
	if _, ok := rostertest.Soak(t); ok {
		t.Error("Soak is on without " + rostertest.EnvSoak)
	}
	t.Setenv(rostertest.EnvSoak, "90s")
	if d, ok := rostertest.Soak(t); !ok || d != 90*time.Second {
		t.Errorf("Soak = %v, %v, want 90s, true", d, ok)
	}
}

func TestFaultStore(t *testing.T) {
	ctx := context.Background()
	f := &rostertest.FaultStore{Store: sqlite.Store(t)}
	write := func(id string) error {
		_, err := f.Update(ctx, func(tx store.Tx) error {
			return tx.CreateUser(ctx, store.User{ID: id, Email: id + "@example.com", Name: id, SignIn: store.SignInEmail})
		})
		return err
	}
	f.Arm(2, nil)
	if err := write("a"); err != nil {
		t.Fatalf("the first write after Arm(2): %v", err)
	}
	if err := write("b"); !errors.Is(err, rostertest.ErrFault) {
		t.Fatalf("the second write after Arm(2): %v, want ErrFault", err)
	}
	if !f.Disarm() {
		t.Error("Disarm says the fault did not fire")
	}
	if f.Disarm() {
		t.Error("a second Disarm says the fault fired: it would be counted again")
	}
	if err := write("b"); err != nil {
		t.Errorf("a write after Disarm: %v", err)
	}
}

func TestFaultStoreFailsAPIKeyWrites(t *testing.T) {
	ctx := context.Background()
	f := &rostertest.FaultStore{Store: sqlite.Store(t)}
	hash := make([]byte, 32)
	key := store.APIKey{ID: "key_1", AccountID: "team1", Name: "CI", Role: "dev", Hash: hash}
	if _, err := f.Update(ctx, func(tx store.Tx) error {
		return tx.CreateAccount(ctx, store.Account{ID: "team1", Kind: store.Team, Name: "Team", Owner: "u1"})
	}); err != nil {
		t.Fatal(err)
	}
	renamed := key
	renamed.Name = "Renamed"
	for _, w := range []struct {
		name  string
		write func(tx store.Tx) error
	}{
		{"CreateAPIKey", func(tx store.Tx) error { return tx.CreateAPIKey(ctx, key) }},
		{"UpdateAPIKey", func(tx store.Tx) error { return tx.UpdateAPIKey(ctx, renamed) }},
		{"TouchAPIKeys", func(tx store.Tx) error {
			return tx.TouchAPIKeys(ctx, []store.APIKeyUse{{ID: "key_1", At: time.Now(), IP: "192.0.2.1"}})
		}},
	} {
		f.Arm(1, nil)
		if _, err := f.Update(ctx, w.write); !errors.Is(err, rostertest.ErrFault) {
			t.Errorf("%s with the fault armed: %v, want ErrFault", w.name, err)
		}
		f.Disarm()
		if w.name == "CreateAPIKey" { // the writes after it need the key
			if _, err := f.Update(ctx, w.write); err != nil {
				t.Fatalf("CreateAPIKey once disarmed: %v", err)
			}
		}
	}
	err := f.View(ctx, func(tx store.Tx) error {
		got, err := tx.APIKey(ctx, "key_1")
		if err == nil && (got.Name != key.Name || !got.LastUsedAt.IsZero()) {
			t.Errorf("key after the failed writes = %+v, want it as created", got)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestFaultStoreFailsDomainWrites(t *testing.T) {
	ctx := context.Background()
	f := &rostertest.FaultStore{Store: sqlite.Store(t)}
	claim := store.Domain{Name: "example.com", AccountID: "team1", Mode: store.DomainAutoJoin, Role: "dev", Challenge: "c"}
	if _, err := f.Update(ctx, func(tx store.Tx) error {
		return tx.CreateAccount(ctx, store.Account{ID: "team1", Kind: store.Team, Name: "Team", Owner: "u1"})
	}); err != nil {
		t.Fatal(err)
	}
	verified := claim
	verified.VerifiedAt = time.Now()
	// stored reads the claim: the one created, pending, or none.
	stored := func() (store.Domain, error) {
		var d store.Domain
		err := f.View(ctx, func(tx store.Tx) (err error) {
			d, err = tx.Domain(ctx, claim.Name, claim.AccountID)
			return err
		})
		return d, err
	}
	for _, w := range []struct {
		name  string
		write func(tx store.Tx) error
	}{
		{"CreateDomain", func(tx store.Tx) error { return tx.CreateDomain(ctx, claim) }},
		{"UpdateDomain", func(tx store.Tx) error { return tx.UpdateDomain(ctx, verified) }},
		{"DeleteDomain", func(tx store.Tx) error { return tx.DeleteDomain(ctx, claim.Name, claim.AccountID) }},
	} {
		f.Arm(1, nil)
		if _, err := f.Update(ctx, w.write); !errors.Is(err, rostertest.ErrFault) {
			t.Errorf("%s with the fault armed: %v, want ErrFault", w.name, err)
		}
		if !f.Disarm() {
			t.Errorf("%s with the fault armed: the fault did not fire", w.name)
		}
		d, err := stored()
		if w.name == "CreateDomain" {
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the claim after a failed CreateDomain = %+v, %v; want none", d, err)
			}
			// The writes after it need the claim.
			if _, err := f.Update(ctx, w.write); err != nil {
				t.Fatalf("CreateDomain once disarmed: %v", err)
			}
			continue
		}
		if err != nil || d != claim {
			t.Errorf("the claim after a failed %s = %+v, %v; want it as created", w.name, d, err)
		}
	}
}

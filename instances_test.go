package roster_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/apikeys"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/store/sqlstore"
)

// These tests run several instances of an application on one PostgreSQL
// schema, as a backend that outgrew one machine does: each instance is a
// Roster with a connection pool of its own, and one runs in a separate
// process (this test binary, run again as TestInstanceProcess). Timing
// figures are logged, never asserted; deadlines only bound liveness.

// Environment of the instance process.
const (
	envInstanceDSN    = "ROSTER_TEST_INSTANCE_DSN"    // the schema's DSN; unset: not an instance
	envInstanceFollow = "ROSTER_TEST_INSTANCE_FOLLOW" // WithFollow's interval
	envInstanceDeaf   = "ROSTER_TEST_INSTANCE_DEAF"   // "1": the store's announcements are hidden
)

// instanceReply prefixes the instance process's replies on its standard
// output, which the test framework writes to as well.
const instanceReply = "instance: "

// TestInstanceProcess is the instance process of TestInstances: a Roster on
// the DSN in its environment, answering on standard output the commands of
// its standard input, one a line:
//
//	watch <account> <user> <action> <revision>
//
// waits for the revision, replies "watching" if the user may perform the
// action, then "denied <unix nanoseconds>" as soon as it may not.
func TestInstanceProcess(t *testing.T) {
	dsn := os.Getenv(envInstanceDSN)
	if dsn == "" {
		t.Skip("the instance process of TestInstances; runs only when started by it")
	}
	ctx := context.Background()
	interval, err := time.ParseDuration(os.Getenv(envInstanceFollow))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sqlstore.OpenPostgres(dsn)
	if err != nil {
		t.Fatal(err)
	}
	var st store.Store = s
	if os.Getenv(envInstanceDeaf) == "1" {
		st = struct{ store.Store }{s}
	}
	r, err := roster.New(ctx, st, rbac.Runpod(), roster.WithFollow(interval))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()
	reply := func(format string, args ...any) { fmt.Printf(instanceReply+format+"\n", args...) }
	reply("ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var account, user, action string
		var rev uint64
		if _, err := fmt.Sscanf(in.Text(), "watch %s %s %s %d", &account, &user, &action, &rev); err != nil {
			reply("error %v", err)
			continue
		}
		if err := r.WaitFor(ctx, store.Revision(rev)); err != nil {
			reply("error %v", err)
			continue
		}
		if !r.Can(ctx, user, account, rbac.Action(action)) {
			reply("error %s may not %s before the removal", user, action)
			continue
		}
		reply("watching")
		for r.Can(ctx, user, account, rbac.Action(action)) {
			time.Sleep(50 * time.Microsecond)
		}
		reply("denied %d", time.Now().UnixNano())
	}
}

// observer watches one instance for a member's removal.
type observer interface {
	// observe returns once the instance allows user the action on the
	// account as of rev, and then sends on the channel the time it first
	// denies it.
	observe(t *testing.T, account, user string, action rbac.Action, rev store.Revision) <-chan time.Time
}

// local observes a Roster of this process.
type local struct{ r *roster.Roster }

func (l local) observe(t *testing.T, account, user string, action rbac.Action, rev store.Revision) <-chan time.Time {
	t.Helper()
	if !l.r.CanAt(context.Background(), rev, user, account, action) {
		t.Fatalf("%s may not %s before the removal", user, action)
	}
	seen := make(chan time.Time, 1)
	go func() {
		for l.r.Can(context.Background(), user, account, action) {
			time.Sleep(50 * time.Microsecond)
		}
		seen <- time.Now()
	}()
	return seen
}

// remote observes the instance process.
type remote struct {
	stdin   io.Writer
	replies chan string
}

// startInstance runs the instance process on dsn and stops it when the test
// ends.
func startInstance(t *testing.T, dsn string, follow time.Duration, deaf bool) *remote {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestInstanceProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), envInstanceDSN+"="+dsn, envInstanceFollow+"="+follow.String())
	if deaf {
		cmd.Env = append(cmd.Env, envInstanceDeaf+"=1")
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rm := &remote{stdin: stdin, replies: make(chan string, 16)}
	go func() {
		defer close(rm.replies)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), instanceReply); ok {
				rm.replies <- line
			}
		}
	}()
	t.Cleanup(func() {
		if err := stdin.Close(); err != nil {
			t.Error(err)
		}
		for range rm.replies {
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("instance process: %v", err)
		}
	})
	if got := rm.reply(t); got != "ready" {
		t.Fatalf("instance process says %q, want ready", got)
	}
	return rm
}

// reply returns the instance process's next reply.
func (rm *remote) reply(t *testing.T) string {
	t.Helper()
	select {
	case line, ok := <-rm.replies:
		if !ok {
			t.Fatal("the instance process ended")
		}
		return line
	case <-time.After(30 * time.Second):
		t.Fatal("the instance process did not reply within 30 s")
	}
	return ""
}

func (rm *remote) observe(t *testing.T, account, user string, action rbac.Action, rev store.Revision) <-chan time.Time {
	t.Helper()
	if _, err := fmt.Fprintf(rm.stdin, "watch %s %s %s %d\n", account, user, action, rev); err != nil {
		t.Fatal(err)
	}
	if got := rm.reply(t); got != "watching" {
		t.Fatalf("instance process: %s", got)
	}
	seen := make(chan time.Time, 1)
	go func() {
		line, ok := <-rm.replies
		ns, err := strconv.ParseInt(strings.TrimPrefix(line, "denied "), 10, 64)
		if !ok || err != nil {
			close(seen) // the zero time: reported by the caller
			return
		}
		seen <- time.Unix(0, ns)
	}()
	return seen
}

// openInstance opens a Roster with a connection pool of its own on dsn;
// deaf hides the store's announcements from it.
func openInstance(t *testing.T, dsn string, deaf bool, opts ...roster.Option) *roster.Roster {
	t.Helper()
	var s store.Store = pg.StoreOn(t, dsn)
	if deaf {
		s = struct{ store.Store }{s} // embedding only the interface hides Watch
	}
	return instance(t, s, rbac.Runpod(), opts...)
}

// addMembers makes n users members of the account with role in one commit, and
// returns their IDs, prefix0 to prefix<n-1>, and the commit's revision.
func addMembers(t *testing.T, s store.Store, account, prefix string, n int, role rbac.Role) ([]string, store.Revision) {
	t.Helper()
	ctx := context.Background()
	ids := make([]string, n)
	now := time.Now()
	c, err := s.Update(ctx, func(tx store.Tx) error {
		for i := range ids {
			ids[i] = prefix + strconv.Itoa(i)
			u := store.User{ID: ids[i], Email: ids[i] + "@example.com", Name: ids[i], SignIn: store.SignInEmail, CreatedAt: now}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			if err := tx.CreateMember(ctx, store.Member{AccountID: account, UserID: ids[i], Role: string(role), JoinedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("add %d members: %v", n, err)
	}
	return ids, c.Revision
}

// percentiles formats the 50th and 99th percentiles and the maximum.
func percentiles(d []time.Duration) string {
	slices.Sort(d)
	at := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }
	return fmt.Sprintf("p50 %v, p99 %v, max %v", at(0.50).Round(10*time.Microsecond), at(0.99).Round(10*time.Microsecond), d[len(d)-1].Round(10*time.Microsecond))
}

// measure removes users one by one through writer and returns, for each,
// how long after RemoveMember returned every observer denied (negative if
// they all did before it returned), and how long RemoveMember took.
func measure(t *testing.T, writer *roster.Roster, observers []observer, account string, users []string, rev store.Revision) (lags, writes []time.Duration) {
	t.Helper()
	ctx := context.Background()
	for _, u := range users {
		seen := make([]<-chan time.Time, len(observers))
		for i, o := range observers {
			seen[i] = o.observe(t, account, u, rbac.PodsManage, rev)
		}
		start := time.Now()
		tctx, w := roster.TrackWrites(ctx)
		if err := writer.Teams.RemoveMember(tctx, "alice", account, u); err != nil {
			t.Fatal(err)
		}
		returned := time.Now()
		rev = w.Revision()
		var last time.Time
		for i, ch := range seen {
			select {
			case at := <-ch:
				if at.IsZero() {
					t.Fatalf("observer %d failed", i)
				}
				if at.After(last) {
					last = at
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("observer %d still allows %s 30 s after the removal", i, u)
			}
		}
		lags = append(lags, last.Sub(returned))
		writes = append(writes, returned.Sub(start))
	}
	return lags, writes
}

// pg is the PostgreSQL backend.
var pg = testdb.Backends()[1]

func TestInstances(t *testing.T) {
	ctx := context.Background()
	dsn := testdb.Postgres(t)
	// The writer does not follow: every change it sees is its own.
	a := openInstance(t, dsn, false, roster.WithFollow(0))
	acct := rostertest.Team(t, a, "alice", nil)

	// others opens the instances the subtests below ask: one that holds
	// every account, and one that holds only those it is asked about and
	// drops them all after every read of one.
	others := func(t *testing.T) []*roster.Roster {
		return []*roster.Roster{openInstance(t, dsn, false), openInstance(t, dsn, false, roster.WithAnyMemoryBudget(0))}
	}

	t.Run("a removal reaches every other instance through notifications", func(t *testing.T) {
		const trials = 200
		users, rev := addMembers(t, pg.StoreOn(t, dsn), acct.ID, "healthy", trials, rbac.RunpodDev)
		observers := []observer{
			local{openInstance(t, dsn, false)},
			local{openInstance(t, dsn, false, roster.WithMemoryBudget(roster.MinMemoryBudget))},
			startInstance(t, dsn, roster.DefaultFollowInterval, false),
		}
		lags, writes := measure(t, a, observers, acct.ID, users, rev)
		t.Logf("notifications healthy, %d trials, 3 instances (one in another process): until every instance denies after RemoveMember returned: %s; RemoveMember took %s",
			trials, percentiles(lags), percentiles(writes))
	})

	t.Run("with notifications cut a removal reaches every other instance within the backstop interval", func(t *testing.T) {
		const (
			trials   = 30
			backstop = 100 * time.Millisecond
		)
		users, rev := addMembers(t, pg.StoreOn(t, dsn), acct.ID, "deaf", trials, rbac.RunpodDev)
		observers := []observer{
			local{openInstance(t, dsn, true, roster.WithFollow(backstop))},
			startInstance(t, dsn, backstop, true),
		}
		lags, writes := measure(t, a, observers, acct.ID, users, rev)
		t.Logf("notifications cut, backstop %v, %d trials, 2 instances (one in another process): until every instance denies: %s; RemoveMember took %s",
			backstop, trials, percentiles(lags), percentiles(writes))
	})

	t.Run("secure sign-in and sign-in changes reach another instance at their revision", func(t *testing.T) {
		b := openInstance(t, dsn, false)
		team := rostertest.Team(t, a, "sec-owner", map[string]rbac.Role{"sec-dev": rbac.RunpodDev})
		u, err := a.Teams.User(ctx, "sec-owner")
		if err != nil {
			t.Fatal(err)
		}
		u.SignIn = store.SignInGoogle
		if _, err := a.Teams.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		step := func(what string, fn func(ctx context.Context) error, want bool) {
			t.Helper()
			tctx, w := roster.TrackWrites(ctx)
			if err := fn(tctx); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if got := b.CanAt(ctx, w.Revision(), "sec-dev", team.ID, rbac.PodsManage); got != want {
				t.Errorf("after %s another instance answers %t for sec-dev, want %t", what, got, want)
			}
		}
		step("the team requires secure sign-in", func(ctx context.Context) error {
			_, err := a.Teams.SetSecureSignIn(ctx, "sec-owner", team.ID, true)
			return err
		}, false)
		dev, err := a.Teams.User(ctx, "sec-dev")
		if err != nil {
			t.Fatal(err)
		}
		dev.SignIn = store.SignInEmail2FA
		step("sec-dev enables 2FA", func(ctx context.Context) error { _, err := a.Teams.UpdateUser(ctx, dev); return err }, true)
		dev.SignIn = store.SignInEmail
		step("sec-dev drops 2FA", func(ctx context.Context) error { _, err := a.Teams.UpdateUser(ctx, dev); return err }, false)
		step("the team stops requiring it", func(ctx context.Context) error {
			_, err := a.Teams.SetSecureSignIn(ctx, "sec-owner", team.ID, false)
			return err
		}, true)
	})

	t.Run("new enemy, keys: a key revoked, or whose owner was removed, is refused at that revision", func(t *testing.T) {
		bs := others(t)
		team := rostertest.Team(t, a, "key-owner", nil)
		const trials = 100
		users, rev := addMembers(t, pg.StoreOn(t, dsn), team.ID, "key-", trials, rbac.RunpodDev)
		for _, b := range bs {
			if err := b.WaitFor(ctx, rev); err != nil {
				t.Fatal(err)
			}
		}
		stale := 0
		for i, u := range users {
			tctx, w := roster.TrackWrites(ctx)
			k, err := a.Keys.Create(tctx, u, team.ID, apikeys.Spec{Name: "k"})
			if err != nil {
				t.Fatal(err)
			}
			for j, b := range bs {
				if !b.CanAt(ctx, w.Revision(), k.Key.ID, team.ID, rbac.PodsManage) {
					t.Fatalf("instance %d does not know key %d at its creation's revision", j, i)
				}
				p, err := b.Authenticate(ctx, k.Token)
				if err != nil || p.Key != k.Key.ID {
					t.Fatalf("instance %d does not authenticate key %d: %+v, %v", j, i, p, err)
				}
			}
			tctx, w = roster.TrackWrites(ctx)
			if i%2 == 0 {
				_, err = a.Keys.Revoke(tctx, u, team.ID, k.Key.ID)
			} else {
				err = a.Teams.RemoveMember(tctx, "key-owner", team.ID, u)
			}
			if err != nil {
				t.Fatal(err)
			}
			for j, b := range bs {
				if b.CanAt(ctx, w.Revision(), k.Key.ID, team.ID, rbac.PodsManage) {
					stale++
				}
				if _, err := b.Authenticate(ctx, k.Token); !errors.Is(err, roster.ErrBadKey) {
					t.Errorf("instance %d authenticates key %d after its revocation's revision: %v", j, i, err)
				}
			}
		}
		if stale > 0 {
			t.Errorf("CanAt at the revocation's revision allowed %d of %d dead keys", stale, len(bs)*trials)
		}
	})

	t.Run("suspension, reinstatement and end times reach another instance at their revision", func(t *testing.T) {
		bs := others(t)
		team := rostertest.Team(t, a, "susp-owner", map[string]rbac.Role{"susp-dev": rbac.RunpodDev, "susp-temp": rbac.RunpodBasic})
		step := func(what string, fn func(ctx context.Context) error, user string, action rbac.Action, want bool) {
			t.Helper()
			tctx, w := roster.TrackWrites(ctx)
			if err := fn(tctx); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			for j, b := range bs {
				if got := b.CanAt(ctx, w.Revision(), user, team.ID, action); got != want {
					t.Errorf("after %s instance %d answers %t for %s, want %t", what, j, got, user, want)
				}
			}
		}
		step("suspending susp-dev", func(ctx context.Context) error {
			_, err := a.Teams.Suspend(ctx, "susp-owner", team.ID, "susp-dev")
			return err
		}, "susp-dev", rbac.PodsManage, false)
		step("reinstating susp-dev", func(ctx context.Context) error {
			_, err := a.Teams.Reinstate(ctx, "susp-owner", team.ID, "susp-dev")
			return err
		}, "susp-dev", rbac.PodsManage, true)
		step("granting susp-temp admin for an hour", func(ctx context.Context) error {
			_, err := a.Teams.GrantRoleUntil(ctx, "susp-owner", team.ID, "susp-temp", rbac.RunpodAdmin, time.Now().Add(time.Hour))
			return err
		}, "susp-temp", rbac.BillingRead, true)
		step("ending susp-temp's grant now (a grant of a second, then the time passes)", func(ctx context.Context) error {
			if _, err := a.Teams.ChangeRole(ctx, "susp-owner", team.ID, "susp-temp", rbac.RunpodBasic); err != nil {
				return err
			}
			_, err := a.Teams.GrantRoleUntil(ctx, "susp-owner", team.ID, "susp-temp", rbac.RunpodAdmin, time.Now().Add(time.Second))
			time.Sleep(1100 * time.Millisecond)
			return err
		}, "susp-temp", rbac.BillingRead, false)
		for j, b := range bs {
			if !b.Can(ctx, "susp-temp", team.ID, rbac.PodsConnect) {
				t.Errorf("instance %d does not fall back to basic at the grant's end", j)
			}
		}
	})

	t.Run("new enemy: an instance asked at the removal's revision never allows", func(t *testing.T) {
		s := pg.StoreOn(t, dsn)
		b := openInstance(t, dsn, false)
		// An instance that holds only the accounts it is asked about, and
		// drops them all after every read of one: at the removal's
		// revision it must never allow either.
		bb := openInstance(t, dsn, false, roster.WithAnyMemoryBudget(0))
		// Without freshness most answers are stale (the change has not
		// arrived yet), so fewer trials show it.
		for fresh, trials := range map[bool]int{true: 2000, false: 200} {
			users, rev := addMembers(t, s, acct.ID, fmt.Sprintf("enemy-%t-", fresh), trials, rbac.RunpodDev)
			if err := b.WaitFor(ctx, rev); err != nil {
				t.Fatal(err)
			}
			stale, staleBudget := 0, 0
			for _, u := range users {
				tctx, w := roster.TrackWrites(ctx)
				if err := a.Teams.RemoveMember(tctx, "alice", acct.ID, u); err != nil {
					t.Fatal(err)
				}
				var allowed bool
				if fresh {
					allowed = b.CanAt(ctx, w.Revision(), u, acct.ID, rbac.PodsManage)
					if bb.CanAt(ctx, w.Revision(), u, acct.ID, rbac.PodsManage) {
						staleBudget++
					}
				} else {
					allowed = b.Can(ctx, u, acct.ID, rbac.PodsManage)
				}
				if allowed {
					stale++
				}
			}
			t.Logf("freshness %t (Can%s): %d trials, %d stale answers", fresh, map[bool]string{true: "At"}[fresh], trials, stale)
			switch {
			case fresh && stale > 0:
				t.Errorf("CanAt at the removal's revision allowed %d of %d removed members", stale, trials)
			case staleBudget > 0:
				t.Errorf("CanAt at the removal's revision, with a memory budget, allowed %d of %d removed members", staleBudget, trials)
			case !fresh && stale == 0:
				t.Errorf("Can right after the removal never allowed in %d trials: the test cannot see the bug CanAt prevents", trials)
			}
		}
	})
}

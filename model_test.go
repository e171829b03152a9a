package roster_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/apikeys"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/invites"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teams"
)

// The reference model: the seeds' rules written out again, independently of
// roster's code. A policy is its role table; the top role holds every action.
type modelPolicy struct {
	policy        *rbac.Policy
	top           rbac.Role
	topByTransfer bool // DigitalOcean: the top role comes only by an ownership transfer
	roles         map[rbac.Role][]rbac.Action
}

// modelPolicies are the two presets as the seeds' tables state them.
// maxModelAccounts bounds the accounts a run creates, since compare asks
// Can for every user, account and action after every step.
const maxModelAccounts = 7

func modelPolicies() []modelPolicy {
	return []modelPolicy{
		{
			policy: rbac.Runpod(), top: rbac.RunpodAdmin,
			roles: map[rbac.Role][]rbac.Action{
				rbac.RunpodBasic:   {rbac.AccountAccess, rbac.PodsConnect, rbac.EndpointsInvoke},
				rbac.RunpodBilling: {rbac.AccountAccess, rbac.BillingRead, rbac.BillingManage},
				rbac.RunpodDev:     {rbac.AccountAccess, rbac.PodsConnect, rbac.PodsManage, rbac.EndpointsManage, rbac.EndpointsInvoke},
				rbac.RunpodAdmin: {rbac.AccountAccess, rbac.PodsConnect, rbac.PodsManage, rbac.EndpointsManage, rbac.EndpointsInvoke,
					rbac.BillingRead, rbac.BillingManage, rbac.MembersInvite, rbac.MembersManage, rbac.SettingsManage, rbac.AuditRead},
			},
		},
		{
			policy: rbac.DigitalOcean(), top: rbac.DigitalOceanOwner, topByTransfer: true,
			roles: map[rbac.Role][]rbac.Action{
				rbac.DigitalOceanOwner: {rbac.ResourcesRead, rbac.ResourcesCreate, rbac.ResourcesUpdate, rbac.ResourcesDelete,
					rbac.BillingReadLimited, rbac.BillingRead, rbac.BillingManage,
					rbac.SettingsRead, rbac.SettingsManage, rbac.MembersInvite, rbac.MembersManage, rbac.AuditRead},
				rbac.DigitalOceanBiller:         {rbac.BillingReadLimited, rbac.BillingRead, rbac.BillingManage},
				rbac.DigitalOceanBillingViewer:  {rbac.BillingReadLimited},
				rbac.DigitalOceanMember:         {rbac.ResourcesRead, rbac.ResourcesCreate, rbac.ResourcesUpdate, rbac.ResourcesDelete, rbac.SettingsRead},
				rbac.DigitalOceanModifier:       {rbac.ResourcesRead, rbac.ResourcesCreate, rbac.ResourcesUpdate, rbac.SettingsRead},
				rbac.DigitalOceanResourceViewer: {rbac.ResourcesRead, rbac.SettingsRead},
			},
		},
	}
}

func (p modelPolicy) allows(r rbac.Role, a rbac.Action) bool { return slices.Contains(p.roles[r], a) }

// covers: a member with role a may act on (or grant) role b only if a holds
// every action of b.
func (p modelPolicy) covers(a, b rbac.Role) bool {
	for _, x := range p.roles[b] {
		if !p.allows(a, x) {
			return false
		}
	}
	return true
}

// grant predicts the refusal of a member with role a giving role b:
// rbac.ErrDenied if b holds an action a lacks, rbac.ErrTopByTransfer if b is
// a top role given only by a transfer.
func (p modelPolicy) grant(a, b rbac.Role) error {
	switch {
	case !p.covers(a, b):
		return rbac.ErrDenied
	case p.topByTransfer && b == p.top:
		return rbac.ErrTopByTransfer
	}
	return nil
}

func (p modelPolicy) roleNames() []rbac.Role {
	return slices.Sorted(maps.Keys(p.roles))
}

func (p modelPolicy) actions() []rbac.Action {
	return p.roles[p.top]
}

type modelAccount struct {
	id    string
	team  bool
	owner string // the account owner: always a member with the top role
	// secure is whether the team requires secure sign-in of its members.
	secure  bool
	members map[string]rbac.Role
	events  map[string]int // allowed audit events by action
	// suspended holds the suspended members; seatLimit the team's seat
	// limit (0: none).
	suspended map[string]bool
	seatLimit int
	// until and fallback hold the end times of memberships, and the role
	// a role granted for a while falls back to ("" for a membership that
	// ends).
	until    map[string]time.Time
	fallback map[string]rbac.Role
}

type modelInvite struct {
	id, account, by string
	role            rbac.Role
	token           string
	old             []string // tokens replaced by resends
	maxUses, uses   int
	status          store.InviteStatus
	users           map[string]bool
	secure          bool // made while the team required secure sign-in
}

// closed predicts the refusal of managing (revoking, resending) the invite
// of account a that is no longer pending: invites.ErrUsed, invites.ErrRevoked
// or store.ErrNotTeam.
func (inv *modelInvite) closed(a *modelAccount) error {
	switch {
	case inv.status == store.InviteAccepted:
		return invites.ErrUsed
	case inv.status == store.InviteRevoked:
		return invites.ErrRevoked
	case !a.team:
		return store.ErrNotTeam
	}
	return nil
}

// modelKey is an API key: its scope is the actions it may perform (its
// role's, narrowed to the actions it was made with and to what its owner's
// roles have held since), of which its owner's present role bounds the ones
// Can allows.
type modelKey struct {
	id, account string
	owner       string // "" for a service account
	scope       []rbac.Action
	revoked     bool
}

type modelTransfer struct {
	id, account, from, to string
	kind                  store.TransferKind
	status                store.TransferStatus
}

type refModel struct {
	p         modelPolicy
	users     []string
	accounts  map[string]*modelAccount
	order     []string // account IDs in creation order
	invites   []*modelInvite
	transfers []*modelTransfer
	keys      []*modelKey
	// active is each user's stored active account ("" once they were
	// moved off it), and joined the accounts each is a member of, in the
	// order they joined.
	active map[string]string
	joined map[string][]string
	// joinedAt is when each user joined each account (user, NUL, account
	// ID), by now, the Roster's clock: the store orders a user's
	// memberships by that time, then by account ID.
	joinedAt map[string]time.Time
	now      func() time.Time
	// secure is whether each user signs in with a secure method:
	// store.SignInEmail is not, the others are.
	secure map[string]bool
}

// join makes user a member of the account with role.
func (m *refModel) join(a *modelAccount, user string, role rbac.Role) {
	a.members[user] = role
	m.joined[user] = append(m.joined[user], a.id)
	m.joinedAt[user+"\x00"+a.id] = m.now().Truncate(time.Microsecond) // as the store keeps it
}

// activeAccount is teams.Active by its documented rule: the account the user
// last switched to if they are still a member, else their first personal
// account, else the first team they joined.
func (m *refModel) activeAccount(user string) string {
	if id := m.active[user]; id != "" {
		if _, ok := m.accounts[id].members[user]; ok {
			return id
		}
	}
	joined := slices.Clone(m.joined[user])
	slices.SortStableFunc(joined, func(a, b string) int {
		if c := m.joinedAt[user+"\x00"+a].Compare(m.joinedAt[user+"\x00"+b]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	for _, personal := range []bool{true, false} {
		for _, id := range joined {
			if m.accounts[id].team != personal {
				return id
			}
		}
	}
	return ""
}

// door predicts how roster's one write path refuses a call by user in the
// account that needs action (or, if action is "", only a membership):
// rbac.ErrNotMember, rbac.ErrSecureSignIn if the team requires secure
// sign-in and they do not sign in securely, or rbac.ErrDenied if their role
// lacks the action. It returns their role.
func (m *refModel) door(a *modelAccount, user string, action rbac.Action) (rbac.Role, error) {
	r, ok := a.members[user]
	switch {
	case !ok:
		return "", rbac.ErrNotMember
	case m.shutOut(a, user) != nil:
		return r, m.shutOut(a, user)
	case action != "" && !m.p.allows(r, action):
		return r, rbac.ErrDenied
	}
	return r, nil
}

// shut reports whether the team shuts user out for signing in insecurely.
func (m *refModel) shut(a *modelAccount, user string) bool {
	return a.secure && !m.secure[user]
}

// shutOut predicts why the team shuts a member out of everything:
// rbac.ErrSuspended, rbac.ErrSecureSignIn, or nil.
func (m *refModel) shutOut(a *modelAccount, user string) error {
	switch {
	case a.suspended[user]:
		return rbac.ErrSuspended
	case m.shut(a, user):
		return rbac.ErrSecureSignIn
	}
	return nil
}

// can is the model's Can: user is a member whom the team does not shut out,
// with a role holding action.
func (m *refModel) can(a *modelAccount, user string, action rbac.Action) bool {
	r, member := a.members[user]
	return member && m.shutOut(a, user) == nil && m.p.allows(r, action)
}

// noSeats predicts whether a change adding filled seats and freeing freed
// ones takes the team past its seat limit: its members and pending invites
// fill seats.
func (m *refModel) noSeats(a *modelAccount, added, freed int) bool {
	if a.seatLimit == 0 {
		return false
	}
	used := len(a.members)
	for _, inv := range m.invites {
		if inv.account == a.id && inv.status == store.InvitePending {
			used++
		}
	}
	return used-freed+added > a.seatLimit
}

// canKey is the model's Can for an API key: live, holding action in its
// scope, and for a personal key, its owner may do it too.
func (m *refModel) canKey(k *modelKey, action rbac.Action) bool {
	return !k.revoked && slices.Contains(k.scope, action) && (k.owner == "" || m.can(m.accounts[k.account], k.owner, action))
}

// dropKeys revokes the live keys of the account that which selects.
func (m *refModel) dropKeys(a *modelAccount, which func(*modelKey) bool) {
	for _, k := range m.keys {
		if k.account == a.id && !k.revoked && which(k) {
			k.revoked = true
			a.events["api_key.revoked"]++
		}
	}
}

// fitKeys narrows user's live keys in the account to role's actions,
// revoking those left with none.
func (m *refModel) fitKeys(a *modelAccount, user string, role rbac.Role) {
	for _, k := range m.keys {
		if k.account != a.id || k.owner != user || k.revoked {
			continue
		}
		kept := slices.DeleteFunc(slices.Clone(k.scope), func(x rbac.Action) bool { return !m.p.allows(role, x) })
		switch {
		case len(kept) == len(k.scope):
		case len(kept) == 0:
			k.revoked = true
			a.events["api_key.revoked"]++
		default:
			k.scope = kept
			a.events["api_key.narrowed"]++
		}
	}
}

// startable predicts the refusal of a transfer of the account from actor to
// to once the door let actor in: store.ErrNotTeam, rbac.ErrDenied (to
// oneself) or store.ErrNotFound (to is not a member).
func (m *refModel) startable(a *modelAccount, actor, to string) error {
	_, member := a.members[to]
	switch {
	case !a.team:
		return store.ErrNotTeam
	case to == actor:
		return rbac.ErrDenied
	case !member:
		return store.ErrNotFound
	}
	return nil
}

// cancelTransfersOf cancels the account's open transfers from or to user.
func (m *refModel) cancelTransfersOf(a *modelAccount, user string) {
	for _, t := range m.transfers {
		if t.account == a.id && openTransfer(t.status) && (t.from == user || t.to == user) {
			t.status = store.TransferCancelled
			a.events["transfer.cancelled"]++
		}
	}
}

// startTransfer records a transfer of kind started, cancelling the open
// ones it supersedes: every handover of the account, or the grants to the
// same member.
func (m *refModel) startTransfer(a *modelAccount, id, from, to string, kind store.TransferKind) {
	for _, t := range m.transfers {
		if t.account == a.id && openTransfer(t.status) && t.kind == kind && (kind == store.TransferAccount || t.to == to) {
			t.status = store.TransferCancelled
			a.events["transfer.cancelled"]++
		}
	}
	m.transfers = append(m.transfers, &modelTransfer{id: id, account: a.id, from: from, to: to, kind: kind, status: store.TransferAwaitingConfirm})
	a.events["transfer.started"]++
}

func (m *refModel) remove(a *modelAccount, user, event string) {
	delete(a.members, user)
	delete(a.suspended, user)
	delete(a.until, user)
	delete(a.fallback, user)
	m.dropKeys(a, func(k *modelKey) bool { return k.owner == user })
	m.joined[user] = slices.DeleteFunc(m.joined[user], func(id string) bool { return id == a.id })
	if m.active[user] == a.id {
		m.active[user] = ""
	}
	m.cancelTransfersOf(a, user)
	a.events[event]++
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func openTransfer(s store.TransferStatus) bool {
	return s == store.TransferAwaitingConfirm || s == store.TransferAwaitingAccept
}

// modelChecks sets how many random runs rapid makes, unless -rapid.checks
// was given.
func modelChecks(n int) {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if !set {
		if err := flag.Set("rapid.checks", strconv.Itoa(n)); err != nil {
			panic(err)
		}
	}
}

// modelSeed returns the seed rapid starts from: -rapid.seed if given, else
// rostertest.Seed's, which it gives rapid. It logs it either way.
func modelSeed(t *testing.T) uint64 {
	t.Helper()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "rapid.seed" })
	if given {
		seed, err := strconv.ParseUint(flag.Lookup("rapid.seed").Value.String(), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		rostertest.LogSeed(t, seed)
		return seed
	}
	seed := rostertest.Seed(t)
	setRapidSeed(t, seed)
	return seed
}

// setRapidSeed makes the next rapid checks start from seed.
func setRapidSeed(t *testing.T, seed uint64) {
	t.Helper()
	if err := flag.Set("rapid.seed", strconv.FormatUint(seed, 10)); err != nil {
		t.Fatal(err)
	}
}

// TestModel drives random sequences of every membership operation (team
// creation, sign-in method changes and team-wide secure sign-in among
// them), by several actors, against roster and against the reference model
// above. Each refusal must wrap the sentinel the model predicts. After every
// step it compares Can for every (user, account, action), the members, the
// pending invites, the audit events by kind, and the invariants. Actors are
// mostly members the model lets act, so that most operations are allowed
// and the refused ones are near the boundary; it logs how many were allowed
// and refused, and why. One step in eight has one of its writes fail, and
// must then change nothing. Rapid starts from the seed it logs (see
// rostertest.Seed). With rostertest.EnvSoak set it runs round after round,
// each from a seed of its own, until the soak's time is up.
func TestModel(t *testing.T) {
	modelChecks(20) // rapid makes a fifth of them with -short
	seed := modelSeed(t)
	soak, soaking := rostertest.Soak(t)
	deadline := time.Now().Add(soak)
	seeds := rand.New(rand.NewPCG(seed, 0))
	var steps atomic.Int64
	tally := &modelTally{done: map[string]int{}, refused: map[string]int{}}
	for round := 0; ; round++ {
		if round > 0 {
			seed = seeds.Uint64()
			setRapidSeed(t, seed)
		}
		// The four runs (two backends, two presets) run in parallel: they
		// share nothing, and PostgreSQL's run waits on the server more than
		// it computes.
		//
		// Two of them hold only the accounts asked about, with a memory
		// budget of nothing: the memory is replaced by an empty one after
		// every account read, so nearly every question reads its account
		// again, while the steps' writes and the background replacement
		// race with the questions.
		t.Run("runs", func(t *testing.T) {
			for i, b := range testdb.Backends() {
				for j, p := range modelPolicies() {
					budget := (i+j)%2 == 1
					name := b.Name + "/" + string(p.policy.Name())
					if budget {
						name += "/budget"
					}
					t.Run(name, func(t *testing.T) {
						b.Skip(t)
						t.Parallel()
						box := &rostertest.Inbox{}
						s := b.Store(t)
						f := &rostertest.FaultStore{Store: s}
						// The model's time passes only with a sweep ("time
						// passes"), so the Roster sweeps no expiry of its own.
						clock := rostertest.NewClock()
						opts := []roster.Option{roster.WithNotifier(box), roster.WithBaseURL("https://app.example.com/team"),
							roster.WithClock(clock.Now), roster.WithSweep(0), roster.WithTransferTTL(100 * 365 * 24 * time.Hour)}
						if budget {
							opts = append(opts, roster.WithAnyMemoryBudget(0))
						}
						r := rostertest.New(t, f, p.policy, opts...)
						run := 0
						rapid.Check(t, func(rt *rapid.T) {
							run++
							h := &modelHarness{t: rt, r: r, s: s, f: f, box: box, steps: &steps, tally: tally, clock: clock,
								m: &refModel{p: p, accounts: map[string]*modelAccount{}, active: map[string]string{}, joined: map[string][]string{}, secure: map[string]bool{},
									joinedAt: map[string]time.Time{}, now: clock.Now}}
							h.init(fmt.Sprintf("m%d-%s", run, b.Name))
							rt.Repeat(h.actions())
							h.final()
						})
					})
				}
			}
		})
		if t.Failed() {
			if round > 0 {
				t.Logf("soak round %d failed; replay it: %s=%d go test -run '^TestModel$' .", round, rostertest.EnvSeed, seed)
			}
			return
		}
		if !soaking || time.Now().After(deadline) {
			done, refused, faults := tally.totals()
			t.Logf("rounds: %d, model steps run: %d (operations allowed %d, refused as the model predicted %d: %.0f%% allowed; failed by an injected fault %d), invariant violations: 0",
				round+1, steps.Load(), done, refused, 100*float64(done)/float64(max(done+refused, 1)), faults)
			t.Logf("allowed by operation: %s", tally.format(tally.done))
			t.Logf("refused by operation and sentinel: %s", tally.format(tally.refused))
			return
		}
	}
}

// modelTally counts the operations of every run: those allowed by
// operation, those refused by operation and the sentinel the model
// predicted, and those an injected write failure failed. It is safe for
// concurrent use.
type modelTally struct {
	mu      sync.Mutex
	done    map[string]int
	refused map[string]int
	faults  int
}

// count adds one operation: failed by a fault, allowed (want is nil) or
// refused with want.
func (t *modelTally) count(want error, op string, fault bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case fault:
		t.faults++
	case want == nil:
		t.done[op]++
	default:
		t.refused[op+": "+want.Error()]++
	}
}

// totals returns how many operations were allowed, refused and failed by
// a fault.
func (t *modelTally) totals() (done, refused, faults int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, n := range t.done {
		done += n
	}
	for _, n := range t.refused {
		refused += n
	}
	return done, refused, t.faults
}

// format lists counts, one of t's maps, by key.
func (t *modelTally) format(counts map[string]int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
	}
	return strings.Join(parts, " | ")
}

type modelHarness struct {
	t     *rapid.T
	r     *roster.Roster
	s     store.Store            // the store as written
	f     *rostertest.FaultStore // s, as roster sees it: a write fails now and then
	box   *rostertest.Inbox
	m     *refModel
	steps *atomic.Int64
	tally *modelTally
	// op is the name of the operation the step runs.
	op string
	// canary is a user who is never a member of anything.
	canary string
	// rng decides where faults are injected.
	rng *rand.Rand
	// clock is the Roster's clock, which only "time passes" moves.
	clock *rostertest.Clock
}

func (h *modelHarness) init(prefix string) {
	ctx := context.Background()
	h.rng = rand.New(rand.NewPCG(rapid.Uint64().Draw(h.t, "fault seed"), 0))
	for i := range 4 {
		// Even users sign in securely, odd ones with a bare password.
		id := prefix + "-u" + strconv.Itoa(i)
		method := store.SignInEmail
		if i%2 == 0 {
			method = store.SignInGoogle
		}
		acct, err := h.r.Teams.CreateUser(ctx, store.User{ID: id, Email: id + "@example.com", Name: id, SignIn: method})
		if err != nil {
			h.t.Fatalf("create user %s: %v", id, err)
		}
		h.m.users = append(h.m.users, id)
		h.m.secure[id] = method != store.SignInEmail
		a := &modelAccount{id: acct.ID, owner: id, members: map[string]rbac.Role{}, events: map[string]int{"account.created": 1}, suspended: map[string]bool{},
			until: map[string]time.Time{}, fallback: map[string]rbac.Role{}}
		h.m.accounts[acct.ID] = a
		h.m.join(a, id, h.m.p.top)
		h.m.active[id] = acct.ID
		h.m.order = append(h.m.order, acct.ID)
	}
	h.canary = prefix + "-canary"
	// Start with one team, every user a member with a role short of the
	// top one, so that a run reaches team operations early and most of
	// them find someone to act on.
	first := h.m.accounts[h.m.order[0]]
	if _, err := h.r.Teams.ConvertToTeam(ctx, h.m.users[0], first.id, "First"); err != nil {
		h.t.Fatalf("convert: %v", err)
	}
	first.team = true
	first.events["account.converted"]++
	roles := slices.DeleteFunc(h.m.p.roleNames(), func(r rbac.Role) bool { return r == h.m.p.top })
	for i, u := range h.m.users[1:] {
		role := roles[i%len(roles)]
		inv, err := h.r.Invites.CreateLink(ctx, first.owner, first.id, role)
		if err == nil {
			_, err = h.r.Invites.Accept(ctx, u, inv.Token)
		}
		if err != nil {
			h.t.Fatalf("%s joins %s as %s: %v", u, first.id, role, err)
		}
		h.m.invites = append(h.m.invites, &modelInvite{id: inv.ID, account: first.id, by: first.owner, role: role, token: inv.Token,
			maxUses: 1, uses: 1, status: store.InviteAccepted, users: map[string]bool{u: true}})
		h.m.join(first, u, role)
		first.events["invite.created"]++
		first.events["member.joined"]++
	}
}

func (h *modelHarness) user(label string) string {
	return rapid.SampledFrom(h.m.users).Draw(h.t, label)
}

// actorFor draws, most of the time, a member whom the model lets do action
// in the account (their role holds it and the team does not shut them
// out), so that most operations are allowed; otherwise, so that the refused
// ones are near the boundary, mostly a member who may not, and now and then
// any user.
func (h *modelHarness) actorFor(a *modelAccount, action rbac.Action, label string) string {
	var able, unable []string
	for _, u := range slices.Sorted(maps.Keys(a.members)) {
		if h.m.can(a, u, action) {
			able = append(able, u)
		} else {
			unable = append(unable, u)
		}
	}
	switch n := rapid.IntRange(0, 15).Draw(h.t, label+" may"); {
	case n == 0 || len(a.members) == 0:
		return h.user(label)
	case n < 4 && len(unable) > 0 || len(able) == 0:
		return rapid.SampledFrom(unable).Draw(h.t, label)
	}
	return rapid.SampledFrom(able).Draw(h.t, label)
}

// targetOf draws, seven times in eight, a member of the account other than
// its owner and but (the actor), if there is one, and any user otherwise.
func (h *modelHarness) targetOf(a *modelAccount, but, label string) string {
	var others []string
	for _, u := range slices.Sorted(maps.Keys(a.members)) {
		if u != a.owner && u != but {
			others = append(others, u)
		}
	}
	if len(others) > 0 && rapid.IntRange(0, 7).Draw(h.t, label+" is another member") > 0 {
		return rapid.SampledFrom(others).Draw(h.t, label)
	}
	return h.user(label)
}

// outsider draws, three times in four, a user who is not a member of the
// account, if there is one, and any user otherwise.
func (h *modelHarness) outsider(a *modelAccount, label string) string {
	out := slices.DeleteFunc(slices.Clone(h.m.users), func(u string) bool { _, member := a.members[u]; return member })
	if len(out) > 0 && rapid.IntRange(0, 3).Draw(h.t, label+" is an outsider") > 0 {
		return rapid.SampledFrom(out).Draw(h.t, label)
	}
	return h.user(label)
}

// invite draws, seven times in eight, a pending invite, and any invite
// otherwise; with no pending invite it skips the step seven times in
// eight, and with no invite at all always.
func (h *modelHarness) invite(t *rapid.T) *modelInvite {
	return pick(t, "invite", h.m.invites, func(inv *modelInvite) bool { return inv.status == store.InvitePending })
}

// transfer draws, seven times in eight, a transfer in a state the step may
// take it from (ready), and any transfer otherwise; with none ready it
// skips the step seven times in eight, and with no transfer at all always.
func (h *modelHarness) transfer(t *rapid.T, ready func(store.TransferStatus) bool) *modelTransfer {
	return pick(t, "transfer", h.m.transfers, func(tr *modelTransfer) bool { return ready(tr.status) })
}

// pick draws, seven times in eight, one of all that ready accepts, and any
// one otherwise; with none ready it skips the step seven times in eight,
// and with none at all always.
func pick[T any](t *rapid.T, label string, all []T, ready func(T) bool) T {
	if len(all) == 0 {
		t.Skip("no " + label)
	}
	readyOnes := slices.DeleteFunc(slices.Clone(all), func(x T) bool { return !ready(x) })
	if rapid.IntRange(0, 7).Draw(t, label+" is ready") > 0 {
		if len(readyOnes) == 0 {
			t.Skip("no " + label + " ready")
		}
		return rapid.SampledFrom(readyOnes).Draw(t, label)
	}
	return rapid.SampledFrom(all).Draw(t, label)
}

// memberOf draws a member of the account most of the time, and any user
// otherwise, so that most operations get past authorization.
func (h *modelHarness) memberOf(a *modelAccount, label string) string {
	if len(a.members) > 0 && rapid.IntRange(0, 3).Draw(h.t, label+" is a member") > 0 {
		return rapid.SampledFrom(slices.Sorted(maps.Keys(a.members))).Draw(h.t, label)
	}
	return h.user(label)
}

// sideOf draws, three times in four, side (the one who may take the
// transfer's next step), and otherwise one of the two sides or another
// member.
func (h *modelHarness) sideOf(tr *modelTransfer, side string) string {
	if rapid.IntRange(0, 3).Draw(h.t, "the side") > 0 {
		return side
	}
	return rapid.SampledFrom([]string{tr.from, tr.to, h.memberOf(h.m.accounts[tr.account], "other")}).Draw(h.t, "actor")
}

// account draws a team most of the time, if there is one.
func (h *modelHarness) account() *modelAccount { return h.accountOf(true) }

// accountOf draws, most of the time, a team if team is set and a personal
// account if not, preferring one with members besides its owner, so that
// most operations find someone to act on.
func (h *modelHarness) accountOf(team bool) *modelAccount {
	var kind, crowded []string
	for _, id := range h.m.order {
		if a := h.m.accounts[id]; a.team == team {
			kind = append(kind, id)
			if len(a.members) > 1 {
				crowded = append(crowded, id)
			}
		}
	}
	from := h.m.order
	switch n := rapid.IntRange(0, 7).Draw(h.t, "of the kind"); {
	case n >= 2 && len(crowded) > 0:
		from = crowded
	case n >= 1 && len(kind) > 0:
		from = kind
	}
	return h.m.accounts[rapid.SampledFrom(from).Draw(h.t, "account")]
}

// untilRefusal predicts the refusal of giving target's membership or role
// an end time, in the order the service checks: the door, an end time not
// after now, a personal account, no such member, a role the actor's does
// not cover, the owner.
func (h *modelHarness) untilRefusal(a *modelAccount, actor, target string, until time.Time) error {
	m := h.m
	mine, want := m.door(a, actor, rbac.MembersManage)
	theirs, member := a.members[target]
	switch {
	case want != nil:
		return want
	case !until.IsZero() && !until.After(h.clock.Now()):
		return store.ErrInvalid
	case !a.team:
		return store.ErrNotTeam
	case !member:
		return store.ErrNotFound
	case !m.p.covers(mine, theirs):
		return rbac.ErrDenied
	case target == a.owner:
		return teams.ErrLastOwner
	}
	return nil
}

// keySpec draws a key's role, most of the time one that mine (the
// creator's role) covers, and, one time in three, actions to narrow it to:
// mostly some of the role's, now and then one it lacks.
func (h *modelHarness) keySpec(t *rapid.T, mine rbac.Role) (rbac.Role, []rbac.Action) {
	role := h.role()
	var covered []rbac.Role
	for _, r := range h.m.p.roleNames() {
		if h.m.p.covers(mine, r) {
			covered = append(covered, r)
		}
	}
	if len(covered) > 0 && rapid.IntRange(0, 3).Draw(t, "role covered") > 0 {
		role = rapid.SampledFrom(covered).Draw(t, "key role")
	}
	if rapid.IntRange(0, 2).Draw(t, "narrowed") > 0 {
		return role, nil
	}
	from := h.m.p.roles[role]
	if len(from) == 0 || rapid.IntRange(0, 5).Draw(t, "an action the role lacks") == 0 {
		from = h.m.p.actions()
	}
	n := rapid.IntRange(1, len(from)).Draw(t, "actions")
	return role, slices.Compact(slices.Sorted(slices.Values(rapid.SliceOfN(rapid.SampledFrom(from), n, n).Draw(t, "which"))))
}

func (h *modelHarness) role() rbac.Role {
	return rapid.SampledFrom(h.m.p.roleNames()).Draw(h.t, "role")
}

// outcome fails the run if roster and the model disagree on an operation:
// want is nil if the model allows it, else the sentinel the model predicts
// the refusal wraps, which must be the most specific sentinel roster's error
// wraps (store.Sentinel), so that a refusal for another reason fails too.
// It reports whether the model should apply the outcome: not if an injected
// fault failed one of the call's writes. Such a call must return the failure
// and leave everything as it was, which compare checks after the step as
// after any other.
func (h *modelHarness) outcome(op string, want, err error) bool {
	h.t.Helper()
	if h.f.Disarm() {
		if !errors.Is(err, rostertest.ErrFault) {
			h.t.Fatalf("%s: an injected write failure, and the call returned %v", op, err)
		}
		h.tally.count(nil, "", true)
		return false
	}
	switch {
	case want == nil && err != nil:
		h.t.Fatalf("%s: the model allows it, roster refused: %v", op, err)
	case want != nil && err == nil:
		h.t.Fatalf("%s: the model refuses it (%v), roster did it", op, want)
	case want != nil && store.Sentinel(err) != want:
		h.t.Fatalf("%s: refused with %v (sentinel %v), the model predicts %v", op, err, store.Sentinel(err), want)
	}
	h.tally.count(want, h.op, false)
	return true
}

// fault arms, in one step out of eight, a failure of one of the next few
// writes the step's call makes (it fires only if the call writes that
// often). The choice comes from the run's own generator, seeded by rapid:
// drawing it from rapid at every step makes rapid end runs far sooner.
func (h *modelHarness) fault() {
	if h.rng.IntN(8) == 0 {
		h.f.Arm(1+h.rng.IntN(4), nil)
	}
}

// actions returns the steps rapid draws from: every membership operation,
// each with a fault injected now and then, and compare after each.
func (h *modelHarness) actions() map[string]func(*rapid.T) {
	actions := h.operations()
	for name, op := range actions {
		if name != "" {
			actions[name] = func(t *rapid.T) {
				defer h.f.Disarm() // a step that skipped itself left the fault armed
				// Each step a millisecond later, as calls come in a real
				// service: joins then order by time, as the store orders
				// memberships, and not by account ID.
				h.clock.Advance(time.Millisecond)
				h.op = name
				h.fault()
				op(t)
			}
		}
	}
	return actions
}

// operations returns the membership operations, each checked against the
// model, and compare under "". Each predicts the sentinel a refusal wraps,
// checking in the order roster's services check.
func (h *modelHarness) operations() map[string]func(*rapid.T) {
	ctx := context.Background()
	m := h.m
	return map[string]func(*rapid.T){
		"convert": func(*rapid.T) {
			a := h.accountOf(false)
			actor := h.actorFor(a, rbac.SettingsManage, "actor")
			_, want := m.door(a, actor, rbac.SettingsManage)
			switch {
			case want != nil:
			case a.team:
				want = teams.ErrAlreadyTeam
			case actor != a.owner:
				want = teams.ErrNotOwner
			}
			_, err := h.r.Teams.ConvertToTeam(ctx, actor, a.id, "Team "+actor)
			if !h.outcome("convert "+a.id+" by "+actor, want, err) || want != nil {
				return
			}
			a.team = true
			a.events["account.converted"]++
		},
		"invite": func(t *rapid.T) {
			a := h.account()
			actor, role := h.actorFor(a, rbac.MembersInvite, "actor"), h.role()
			uses := rapid.SampledFrom([]int{1, 1, 3}).Draw(t, "max uses")
			mine, want := m.door(a, actor, rbac.MembersInvite)
			switch {
			case want != nil:
			case !a.team:
				want = store.ErrNotTeam
			case m.p.grant(mine, role) != nil:
				want = m.p.grant(mine, role)
			case uses > 1 && role == m.p.top:
				want = invites.ErrReusableTop
			case m.noSeats(a, 1, 0):
				want = store.ErrNoSeats
			}
			inv, err := h.r.Invites.CreateLink(ctx, actor, a.id, role, invites.MaxUses(uses))
			if !h.outcome(fmt.Sprintf("invite to %s as %s (%d uses) by %s", a.id, role, uses, actor), want, err) || want != nil {
				return
			}
			m.invites = append(m.invites, &modelInvite{id: inv.ID, account: a.id, by: actor, role: role, token: inv.Token,
				maxUses: uses, status: store.InvitePending, users: map[string]bool{}, secure: a.secure})
			a.events["invite.created"]++
		},
		"accept": func(t *rapid.T) {
			inv := h.invite(t)
			user := h.outsider(m.accounts[inv.account], "user")
			tok := inv.token
			old := len(inv.old) > 0 && rapid.Bool().Draw(t, "old token")
			if old {
				tok = rapid.SampledFrom(inv.old).Draw(t, "which old token")
			}
			a := m.accounts[inv.account]
			by, byMember := a.members[inv.by]
			_, already := a.members[user]
			var want error
			revoke := false // the invite can never be accepted: roster revokes it
			switch {
			case already && m.shutOut(a, user) != nil: // the door refuses them before the invite is read
				want = m.shutOut(a, user)
			case old:
				want = invites.ErrSuperseded
			case inv.status == store.InviteRevoked:
				want = invites.ErrRevoked
			case inv.status != store.InvitePending:
				want = invites.ErrUsed
			case !a.team:
				want = store.ErrNotTeam
			case !byMember || !m.p.allows(by, rbac.MembersInvite) || m.p.grant(by, inv.role) != nil:
				want, revoke = invites.ErrInviterDenied, true
			case inv.maxUses > 1 && inv.role == m.p.top:
				want, revoke = invites.ErrReusableTop, true
			case a.suspended[inv.by]: // the invite waits for its inviter's reinstatement
				want = invites.ErrInviterSuspended
			case m.shut(a, inv.by): // the invite waits for its inviter to sign in securely
				want = invites.ErrInviterInsecure
			case (inv.secure || a.secure) && !m.secure[user]:
				want = invites.ErrInsecureSignIn
			case already:
				want = invites.ErrAlreadyMember
			case inv.users[user]:
				want = invites.ErrUsed
			case m.noSeats(a, 1, boolInt(inv.uses+1 >= inv.maxUses)):
				want = store.ErrNoSeats
			}
			_, err := h.r.Invites.Accept(ctx, user, tok)
			if !h.outcome(fmt.Sprintf("%s accepts invite %s (old token %v)", user, inv.id, old), want, err) {
				return
			}
			switch {
			case want == nil:
				m.join(a, user, inv.role)
				inv.users[user] = true
				inv.uses++
				if inv.uses >= inv.maxUses {
					inv.status = store.InviteAccepted
				}
				a.events["member.joined"]++
			case revoke:
				inv.status = store.InviteRevoked
				a.events["invite.revoked"]++
			}
		},
		"revoke": func(t *rapid.T) {
			inv := h.invite(t)
			a := m.accounts[inv.account]
			actor := h.actorFor(a, rbac.MembersInvite, "actor")
			mine, want := m.door(a, actor, rbac.MembersInvite)
			if want == nil {
				want = inv.closed(a)
			}
			if want == nil && !m.p.covers(mine, inv.role) {
				want = rbac.ErrDenied
			}
			err := h.r.Invites.Revoke(ctx, actor, a.id, inv.id)
			if !h.outcome(fmt.Sprintf("revoke %s by %s", inv.id, actor), want, err) || want != nil {
				return
			}
			inv.status = store.InviteRevoked
			a.events["invite.revoked"]++
		},
		"resend": func(t *rapid.T) {
			inv := h.invite(t)
			a := m.accounts[inv.account]
			actor := h.actorFor(a, rbac.MembersInvite, "actor")
			mine, want := m.door(a, actor, rbac.MembersInvite)
			switch {
			case want != nil:
			case inv.closed(a) != nil:
				want = inv.closed(a)
			case m.p.grant(mine, inv.role) != nil:
				want = m.p.grant(mine, inv.role)
			case inv.maxUses > 1 && inv.role == m.p.top:
				want = invites.ErrReusableTop
			}
			out, err := h.r.Invites.Resend(ctx, actor, a.id, inv.id)
			if !h.outcome(fmt.Sprintf("resend %s by %s", inv.id, actor), want, err) || want != nil {
				return
			}
			inv.old = append(inv.old, inv.token)
			inv.token = out.Token
			inv.by = actor
			a.events["invite.resent"]++
		},
		"change role": func(t *rapid.T) {
			a := h.account()
			actor := h.actorFor(a, rbac.MembersManage, "actor")
			target, role := h.targetOf(a, actor, "target"), h.role()
			mine, want := m.door(a, actor, rbac.MembersManage)
			theirs, member := a.members[target]
			switch {
			case want != nil:
			case !member:
				want = store.ErrNotFound
			case !m.p.covers(mine, theirs):
				want = rbac.ErrDenied
			case m.p.grant(mine, role) != nil:
				want = m.p.grant(mine, role)
			case role != theirs && target == a.owner:
				want = teams.ErrLastOwner
			}
			_, err := h.r.Teams.ChangeRole(ctx, actor, a.id, target, role)
			if !h.outcome(fmt.Sprintf("change %s in %s to %s by %s", target, a.id, role, actor), want, err) || want != nil ||
				role == theirs && a.fallback[target] == "" {
				return
			}
			if a.fallback[target] != "" { // a role given for good ends the one granted for a while
				delete(a.until, target)
				delete(a.fallback, target)
			}
			a.members[target] = role
			a.events["member.role_changed"]++
			m.fitKeys(a, target, role)
			if theirs == m.p.top && role != m.p.top {
				// A sender who loses the top role stands behind no transfer.
				for _, tr := range m.transfers {
					if tr.account == a.id && tr.from == target && openTransfer(tr.status) {
						tr.status = store.TransferCancelled
						a.events["transfer.cancelled"]++
					}
				}
			}
		},
		"remove": func(t *rapid.T) {
			a := h.account()
			actor := h.actorFor(a, rbac.MembersManage, "actor")
			target := h.targetOf(a, actor, "target")
			mine, want := m.door(a, actor, rbac.MembersManage)
			theirs, member := a.members[target]
			switch {
			case want != nil:
			case !member:
				want = store.ErrNotFound
			case !m.p.covers(mine, theirs):
				want = rbac.ErrDenied
			case target == a.owner:
				want = teams.ErrLastOwner
			}
			err := h.r.Teams.RemoveMember(ctx, actor, a.id, target)
			if !h.outcome(fmt.Sprintf("remove %s from %s by %s", target, a.id, actor), want, err) || want != nil {
				return
			}
			m.remove(a, target, "member.removed")
		},
		"leave": func(t *rapid.T) {
			a := h.account()
			user := h.targetOf(a, "", "user")
			var want error
			switch _, member := a.members[user]; {
			case !member:
				want = rbac.ErrNotMember
			case !a.team:
				want = store.ErrNotTeam
			case user == a.owner:
				want = teams.ErrLastOwner
			}
			err := h.r.Teams.Leave(ctx, user, a.id)
			if !h.outcome(fmt.Sprintf("%s leaves %s", user, a.id), want, err) || want != nil {
				return
			}
			m.remove(a, user, "member.left")
		},
		"transfer": func(t *rapid.T) {
			a := h.account()
			actor := h.actorFor(a, rbac.MembersManage, "actor")
			to := h.targetOf(a, actor, "to")
			_, want := m.door(a, actor, rbac.MembersManage)
			if want == nil {
				want = m.startable(a, actor, to)
			}
			if want == nil && actor != a.owner {
				want = teams.ErrNotOwner
			}
			tr, err := h.r.Teams.TransferOwnership(ctx, actor, a.id, to)
			if !h.outcome(fmt.Sprintf("transfer %s from %s to %s", a.id, actor, to), want, err) || want != nil {
				return
			}
			m.startTransfer(a, tr.ID, actor, to, store.TransferAccount)
		},
		"grant top role": func(t *rapid.T) {
			a := h.account()
			actor := h.actorFor(a, rbac.MembersManage, "actor")
			to := h.targetOf(a, actor, "to")
			mine, want := m.door(a, actor, rbac.MembersManage)
			switch {
			case want != nil:
			case m.startable(a, actor, to) != nil:
				want = m.startable(a, actor, to)
			case mine != m.p.top:
				want = rbac.ErrDenied
			case a.members[to] == m.p.top:
				want = store.ErrExists
			}
			tr, err := h.r.Teams.GrantTopRole(ctx, actor, a.id, to)
			if !h.outcome(fmt.Sprintf("grant the top role of %s from %s to %s", a.id, actor, to), want, err) || want != nil {
				return
			}
			m.startTransfer(a, tr.ID, actor, to, store.TransferRole)
		},
		"switch": func(t *rapid.T) {
			a := h.account()
			user := h.memberOf(a, "user")
			var want error
			if _, member := a.members[user]; !member {
				want = rbac.ErrNotMember
			} else if m.shutOut(a, user) != nil {
				want = m.shutOut(a, user)
			}
			err := h.r.Teams.Switch(ctx, user, a.id)
			if !h.outcome(fmt.Sprintf("%s switches to %s", user, a.id), want, err) || want != nil || m.active[user] == a.id {
				return
			}
			m.active[user] = a.id
			a.events["user.switched"]++
		},
		"confirm transfer": func(t *rapid.T) {
			tr := h.transfer(t, func(s store.TransferStatus) bool { return s == store.TransferAwaitingConfirm })
			actor := h.sideOf(tr, tr.from)
			a := m.accounts[tr.account]
			_, member := a.members[actor]
			var want error
			switch {
			case member && m.shutOut(a, actor) != nil: // a step acts as a member
				want = m.shutOut(a, actor)
			case tr.status != store.TransferAwaitingConfirm:
				want = teams.ErrTransferClosed
			case actor != tr.from:
				want = rbac.ErrDenied
			}
			_, err := h.r.Teams.ConfirmTransfer(ctx, actor, tr.id, h.box.Token(tr.id))
			if !h.outcome(fmt.Sprintf("confirm transfer %s by %s", tr.id, actor), want, err) || want != nil {
				return
			}
			tr.status = store.TransferAwaitingAccept
			a.events["transfer.confirmed"]++
		},
		"accept transfer": func(t *rapid.T) {
			tr := h.transfer(t, func(s store.TransferStatus) bool { return s == store.TransferAwaitingAccept })
			actor := h.sideOf(tr, tr.to)
			a := m.accounts[tr.account]
			_, member := a.members[actor]
			var want error
			switch {
			case member && m.shutOut(a, actor) != nil: // a step acts as a member
				want = m.shutOut(a, actor)
			case tr.status != store.TransferAwaitingAccept:
				want = teams.ErrTransferClosed
			case actor != tr.to:
				want = rbac.ErrDenied
			case a.members[tr.from] != m.p.top: // no longer a member, or demoted
				want = rbac.ErrDenied
			case tr.kind == store.TransferAccount && a.owner != tr.from:
				want = rbac.ErrDenied
			}
			_, err := h.r.Teams.AcceptTransfer(ctx, actor, tr.id, h.box.Token(tr.id))
			if !h.outcome(fmt.Sprintf("accept transfer %s by %s", tr.id, actor), want, err) || want != nil {
				return
			}
			if a.members[tr.to] != m.p.top {
				a.members[tr.to] = m.p.top
				a.events["member.role_changed"]++
				if a.fallback[tr.to] != "" { // the top role, given for good, ends a role granted for a while
					delete(a.until, tr.to)
					delete(a.fallback, tr.to)
				}
			}
			if tr.kind == store.TransferAccount {
				a.owner = tr.to
				a.events["account.owner_changed"]++
				delete(a.until, tr.to) // an owner's membership never ends
				delete(a.fallback, tr.to)
			}
			tr.status = store.TransferDone
			a.events["transfer.accepted"]++
		},
		"cancel transfer": func(t *rapid.T) {
			tr := h.transfer(t, openTransfer)
			actor := h.sideOf(tr, tr.from)
			a := m.accounts[tr.account]
			mine, want := m.door(a, actor, "")
			switch {
			case want != nil:
			case actor != tr.from && actor != tr.to && actor != a.owner && mine != m.p.top:
				want = rbac.ErrDenied
			case !openTransfer(tr.status):
				want = teams.ErrTransferClosed
			}
			err := h.r.Teams.CancelTransfer(ctx, actor, a.id, tr.id)
			if !h.outcome(fmt.Sprintf("cancel transfer %s by %s", tr.id, actor), want, err) || want != nil {
				return
			}
			tr.status = store.TransferCancelled
			a.events["transfer.cancelled"]++
		},
		"delete team": func(t *rapid.T) {
			if rapid.IntRange(0, 7).Draw(t, "delete") > 0 {
				t.Skip("a team lives longer") // deleting it ends most of what a run can do there
			}
			a := h.account()
			actor := h.actorFor(a, rbac.SettingsManage, "actor")
			_, want := m.door(a, actor, rbac.SettingsManage)
			switch {
			case want != nil:
			case !a.team:
				want = store.ErrNotTeam
			case actor != a.owner:
				want = teams.ErrNotOwner
			}
			_, err := h.r.Teams.DeleteTeam(ctx, actor, a.id)
			if !h.outcome(fmt.Sprintf("delete team %s by %s", a.id, actor), want, err) || want != nil {
				return
			}
			a.members[actor] = m.p.top
			for _, u := range slices.Sorted(maps.Keys(a.members)) {
				if u != actor {
					m.remove(a, u, "member.removed")
				}
			}
			m.dropKeys(a, func(k *modelKey) bool { return k.owner == "" })
			for _, inv := range m.invites {
				if inv.account == a.id && inv.status == store.InvitePending {
					inv.status = store.InviteRevoked
					a.events["invite.revoked"]++
				}
			}
			for _, tr := range m.transfers {
				if tr.account == a.id && openTransfer(tr.status) {
					tr.status = store.TransferCancelled
					a.events["transfer.cancelled"]++
				}
			}
			a.team, a.secure = false, false
			a.events["account.team_deleted"]++
		},
		"create team": func(t *rapid.T) {
			if len(m.order) >= maxModelAccounts {
				t.Skip("enough accounts")
			}
			actor := h.user("actor")
			acct, err := h.r.Teams.CreateTeam(ctx, actor, "Team "+strconv.Itoa(len(m.order)))
			if !h.outcome("create a team by "+actor, nil, err) {
				return
			}
			a := &modelAccount{id: acct.ID, team: true, owner: actor, members: map[string]rbac.Role{}, events: map[string]int{"account.created": 1}, suspended: map[string]bool{},
				until: map[string]time.Time{}, fallback: map[string]rbac.Role{}}
			m.accounts[acct.ID] = a
			m.order = append(m.order, acct.ID)
			m.join(a, actor, m.p.top)
		},
		"sign-in method": func(t *rapid.T) {
			user := h.user("user")
			method := rapid.SampledFrom([]store.SignIn{store.SignInEmail, store.SignInEmail2FA, store.SignInGoogle}).Draw(t, "method")
			u := store.User{ID: user, Email: user + "@example.com", Name: user, SignIn: method}
			var err error
			if rapid.Bool().Draw(t, "upsert") {
				_, _, err = h.r.Teams.UpsertUser(ctx, u)
			} else {
				_, err = h.r.Teams.UpdateUser(ctx, u)
			}
			if !h.outcome(fmt.Sprintf("%s signs in with %s", user, method), nil, err) {
				return
			}
			m.secure[user] = method != store.SignInEmail
		},
		"require secure sign-in": func(t *rapid.T) {
			a := h.account()
			actor := h.actorFor(a, rbac.SettingsManage, "actor")
			require := rapid.IntRange(0, 3).Draw(t, "require") > 0
			_, want := m.door(a, actor, rbac.SettingsManage)
			switch {
			case want != nil:
			case !a.team:
				want = store.ErrNotTeam
			case require && require != a.secure && !m.secure[actor]:
				want = teams.ErrInsecureActor
			}
			_, err := h.r.Teams.SetSecureSignIn(ctx, actor, a.id, require)
			if !h.outcome(fmt.Sprintf("%s sets secure sign-in of %s to %v", actor, a.id, require), want, err) || want != nil || require == a.secure {
				return
			}
			a.secure = require
			a.events["account.secure_sign_in_changed"]++
		},
		"create key": func(t *rapid.T) {
			a := h.account()
			service := rapid.IntRange(0, 3).Draw(t, "service account") == 0
			var actor string
			if service {
				actor = h.actorFor(a, rbac.MembersManage, "actor")
			} else {
				actor = h.memberOf(a, "actor")
			}
			role, actions := h.keySpec(t, a.members[actor])
			mine, want := m.door(a, actor, "")
			if service && want == nil && !m.p.allows(mine, rbac.MembersManage) {
				want = rbac.ErrDenied
			}
			scope := slices.Clone(m.p.roles[role])
			if want == nil && actions != nil {
				for _, x := range actions {
					if !m.p.allows(role, x) {
						want = store.ErrInvalid
					}
				}
				scope = slices.DeleteFunc(scope, func(x rbac.Action) bool { return !slices.Contains(actions, x) })
			}
			if want == nil && slices.ContainsFunc(scope, func(x rbac.Action) bool { return !m.p.allows(mine, x) }) {
				want = apikeys.ErrTooBroad
			}
			spec := apikeys.Spec{Name: "k", Role: role, Actions: actions}
			var c apikeys.Created
			var err error
			if service {
				c, err = h.r.Keys.CreateService(ctx, actor, a.id, spec)
			} else {
				c, err = h.r.Keys.Create(ctx, actor, a.id, spec)
			}
			if !h.outcome(fmt.Sprintf("create key (service %v) in %s as %s %v by %s", service, a.id, role, actions, actor), want, err) || want != nil {
				return
			}
			k := &modelKey{id: c.Key.ID, account: a.id, owner: actor, scope: scope}
			if service {
				k.owner = ""
			}
			m.keys = append(m.keys, k)
			a.events["api_key.created"]++
		},
		"revoke key": func(t *rapid.T) {
			k := pick(t, "key", m.keys, func(k *modelKey) bool { return !k.revoked })
			a := m.accounts[k.account]
			actor := k.owner
			if actor == "" || rapid.IntRange(0, 2).Draw(t, "someone else") == 0 {
				actor = h.actorFor(a, rbac.MembersManage, "actor")
			}
			mine, want := m.door(a, actor, "")
			switch {
			case want != nil:
			case k.revoked:
				want = apikeys.ErrRevoked
			case actor != k.owner && !m.p.allows(mine, rbac.MembersManage):
				want = rbac.ErrDenied
			case actor != k.owner && slices.ContainsFunc(k.scope, func(x rbac.Action) bool { return !m.p.allows(mine, x) }):
				want = rbac.ErrDenied
			}
			_, err := h.r.Keys.Revoke(ctx, actor, a.id, k.id)
			if !h.outcome(fmt.Sprintf("revoke key %s of %s by %s", k.id, k.owner, actor), want, err) || want != nil {
				return
			}
			k.revoked = true
			a.events["api_key.revoked"]++
		},
		"suspend": func(t *rapid.T) {
			a := h.account()
			actor := h.actorFor(a, rbac.MembersManage, "actor")
			target := h.targetOf(a, actor, "target")
			suspend := rapid.IntRange(0, 2).Draw(t, "reinstate") > 0
			mine, want := m.door(a, actor, rbac.MembersManage)
			theirs, member := a.members[target]
			switch {
			case want != nil:
			case !a.team:
				want = store.ErrNotTeam
			case !member:
				want = store.ErrNotFound
			case !m.p.covers(mine, theirs):
				want = rbac.ErrDenied
			case target == a.owner:
				want = teams.ErrLastOwner
			}
			call := h.r.Teams.Reinstate
			if suspend {
				call = h.r.Teams.Suspend
			}
			_, err := call(ctx, actor, a.id, target)
			if !h.outcome(fmt.Sprintf("suspend %v %s in %s by %s", suspend, target, a.id, actor), want, err) || want != nil || a.suspended[target] == suspend {
				return
			}
			if suspend {
				a.suspended[target] = true
				a.events["member.suspended"]++
			} else {
				delete(a.suspended, target)
				a.events["member.reinstated"]++
			}
		},
		"seat limit": func(t *rapid.T) {
			a := h.account()
			used := len(a.members)
			for _, inv := range m.invites {
				if inv.account == a.id && inv.status == store.InvitePending {
					used++
				}
			}
			limit := rapid.SampledFrom([]int{0, -1, used - 1, used, used + 1, used + 2}).Draw(t, "limit")
			var want error
			switch {
			case limit < 0:
				want = store.ErrInvalid
			case !a.team:
				want = store.ErrNotTeam
			}
			_, err := h.r.Teams.SetSeatLimit(ctx, a.id, limit)
			if !h.outcome(fmt.Sprintf("seat limit of %s to %d", a.id, limit), want, err) || want != nil || a.seatLimit == limit {
				return
			}
			a.seatLimit = limit
			a.events["account.seat_limit_changed"]++
		},
		"end membership": func(t *rapid.T) {
			a := h.account()
			actor := h.actorFor(a, rbac.MembersManage, "actor")
			target := h.targetOf(a, actor, "target")
			until := h.clock.Now().Add(rapid.SampledFrom([]time.Duration{-time.Hour, 30 * time.Minute, 3 * time.Hour, 0}).Draw(t, "ends in"))
			if rapid.IntRange(0, 5).Draw(t, "clear") == 0 {
				until = time.Time{}
			}
			want := h.untilRefusal(a, actor, target, until)
			if want == nil && a.fallback[target] != "" {
				want = store.ErrPrecondition
			}
			_, err := h.r.Teams.EndMembership(ctx, actor, a.id, target, until)
			if !h.outcome(fmt.Sprintf("end %s in %s at %v by %s", target, a.id, until, actor), want, err) || want != nil {
				return
			}
			if until.IsZero() {
				delete(a.until, target)
			} else {
				a.until[target] = until
			}
			a.events["member.expiry_set"]++
		},
		"grant role until": func(t *rapid.T) {
			a := h.account()
			actor := h.actorFor(a, rbac.MembersManage, "actor")
			target, role := h.targetOf(a, actor, "target"), h.role()
			until := h.clock.Now().Add(rapid.SampledFrom([]time.Duration{-time.Hour, 30 * time.Minute, 3 * time.Hour}).Draw(t, "ends in"))
			want := h.untilRefusal(a, actor, target, until)
			mine := a.members[actor]
			switch {
			case want != nil:
			case m.p.grant(mine, role) != nil:
				want = m.p.grant(mine, role)
			case a.fallback[target] == "" && !a.until[target].IsZero():
				want = store.ErrPrecondition
			}
			_, err := h.r.Teams.GrantRoleUntil(ctx, actor, a.id, target, role, until)
			if !h.outcome(fmt.Sprintf("grant %s to %s in %s until %v by %s", role, target, a.id, until, actor), want, err) || want != nil {
				return
			}
			if a.fallback[target] == "" {
				a.fallback[target] = a.members[target]
			}
			a.members[target], a.until[target] = role, until
			a.events["member.role_changed"]++
		},
		"time passes": func(t *rapid.T) {
			h.clock.Advance(time.Duration(rapid.IntRange(10, 180).Draw(t, "minutes")) * time.Minute)
			h.f.Disarm() // the sweep below is the host's, not a step that may fail
			if _, err := h.r.Teams.SweepExpired(ctx, h.clock.Now()); err != nil {
				h.t.Fatalf("sweep: %v", err)
			}
			now := h.clock.Now()
			for _, id := range m.order {
				a := m.accounts[id]
				for _, u := range slices.Sorted(maps.Keys(a.until)) {
					if now.Before(a.until[u]) {
						continue
					}
					if fb := a.fallback[u]; fb == "" {
						m.remove(a, u, "member.expired")
					} else {
						a.members[u] = fb
						delete(a.until, u)
						delete(a.fallback, u)
						a.events["member.role_expired"]++
						m.fitKeys(a, u, fb)
					}
				}
			}
		},
		"": func(*rapid.T) { h.compare() },
	}
}

// compare checks roster against the model after a step.
func (h *modelHarness) compare() {
	h.t.Helper()
	h.steps.Add(1)
	ctx := context.Background()
	m := h.m
	for _, id := range m.order {
		a := m.accounts[id]
		if a.members[a.owner] != m.p.top {
			h.t.Fatalf("invariant: the model's account %s has an owner %s with role %q", id, a.owner, a.members[a.owner])
		}
		for _, u := range append(slices.Clone(m.users), h.canary) {
			for _, act := range m.p.actions() {
				want := m.can(a, u, act)
				if got := h.r.Can(ctx, u, id, act); got != want {
					h.t.Fatalf("Can(%s, %s, %s) = %v, the model says %v (role %q, team requires secure sign-in %v, user signs in securely %v)",
						u, id, act, got, want, a.members[u], a.secure, m.secure[u])
				}
			}
		}
	}
	for _, k := range m.keys {
		for _, act := range m.p.actions() {
			if got, want := h.r.Can(ctx, k.id, k.account, act), m.canKey(k, act); got != want {
				h.t.Fatalf("Can(key %s of %q, %s, %s) = %v, the model says %v (scope %v, revoked %v, owner's role %q)",
					k.id, k.owner, k.account, act, got, want, k.scope, k.revoked, m.accounts[k.account].members[k.owner])
			}
		}
	}
	err := h.s.View(ctx, func(tx store.Tx) error {
		for _, id := range m.order {
			a := m.accounts[id]
			acct, err := tx.Account(ctx, id)
			if err != nil {
				return err
			}
			if got := acct.Kind == store.Team; got != a.team {
				h.t.Fatalf("account %s is a team: %v, the model says %v", id, got, a.team)
			}
			if acct.Owner != a.owner {
				h.t.Fatalf("account %s is owned by %s, the model says %s", id, acct.Owner, a.owner)
			}
			members, err := tx.Members(ctx, id, store.Range{})
			if err != nil {
				return err
			}
			got := map[string]rbac.Role{}
			for _, mem := range members {
				if _, dup := got[mem.UserID]; dup {
					h.t.Fatalf("invariant: %s is a member of %s twice", mem.UserID, id)
				}
				got[mem.UserID] = rbac.Role(mem.Role)
				if !mem.Until.Equal(a.until[mem.UserID]) || rbac.Role(mem.FallbackRole) != a.fallback[mem.UserID] || mem.Suspended() != a.suspended[mem.UserID] {
					h.t.Fatalf("%s in %s ends at %v falling back to %q, suspended %v; the model says %v, %q, %v", mem.UserID, id,
						mem.Until, mem.FallbackRole, mem.Suspended(), a.until[mem.UserID], a.fallback[mem.UserID], a.suspended[mem.UserID])
				}
			}
			if got[acct.Owner] != m.p.top {
				h.t.Fatalf("invariant: account %s's owner %s holds %q, not the top role", id, acct.Owner, got[acct.Owner])
			}
			if !maps.Equal(got, a.members) {
				h.t.Fatalf("members of %s: %v, the model says %v", id, got, a.members)
			}
			invs, err := tx.Invites(ctx, id, store.Range{})
			if err != nil {
				return err
			}
			var pending, wantPending []string
			for _, inv := range invs {
				if inv.Status == store.InvitePending {
					pending = append(pending, fmt.Sprintf("%s:%s:%d/%d", inv.ID, inv.Role, inv.Uses, inv.MaxUses))
				}
			}
			for _, inv := range m.invites {
				if inv.account == id && inv.status == store.InvitePending {
					wantPending = append(wantPending, fmt.Sprintf("%s:%s:%d/%d", inv.id, inv.role, inv.uses, inv.maxUses))
				}
			}
			sort.Strings(pending)
			sort.Strings(wantPending)
			if !slices.Equal(pending, wantPending) {
				h.t.Fatalf("pending invites of %s: %v, the model says %v", id, pending, wantPending)
			}
			es, err := tx.Events(ctx, store.EventFilter{AccountID: id})
			if err != nil {
				return err
			}
			counts := map[string]int{}
			for _, e := range es {
				if e.Result == store.Allowed {
					counts[string(e.Action)]++
				}
			}
			if !maps.Equal(counts, a.events) {
				h.t.Fatalf("audit events of %s by kind: %v, the model counts %v", id, counts, a.events)
			}
		}
		return nil
	})
	if err != nil {
		h.t.Fatalf("read the store: %v", err)
	}
	for _, u := range m.users {
		got, err := h.r.Teams.Active(ctx, u)
		want := m.activeAccount(u)
		if want == "" && errors.Is(err, store.ErrNotFound) {
			continue // a previous owner who left: a member of nothing
		}
		if err != nil {
			h.t.Fatalf("active account of %s: %v (the model says %q)", u, err, want)
		}
		if got.ID != want {
			h.t.Fatalf("active account of %s is %s, the model says %s (stored %q, joined %v)", u, got.ID, want, m.active[u], m.joined[u])
		}
	}
	err = h.s.View(ctx, func(tx store.Tx) error {
		for _, u := range m.users {
			stored, err := tx.User(ctx, u)
			if err != nil {
				return err
			}
			if stored.ActiveAccount != m.active[u] {
				h.t.Fatalf("stored active account of %s is %q, the model says %q", u, stored.ActiveAccount, m.active[u])
			}
		}
		return nil
	})
	if err != nil {
		h.t.Fatalf("read the users: %v", err)
	}
}

// final checks what is costly to check after every step: every invite was
// used at most its number of times, each user once, and every account's
// audit chain verifies.
func (h *modelHarness) final() {
	ctx := context.Background()
	m := h.m
	err := h.s.View(ctx, func(tx store.Tx) error {
		for _, inv := range m.invites {
			uses, err := tx.InviteUses(ctx, inv.id)
			if err != nil {
				return err
			}
			seen := map[string]bool{}
			for _, u := range uses {
				if seen[u.UserID] {
					h.t.Fatalf("invariant: %s used invite %s twice", u.UserID, inv.id)
				}
				seen[u.UserID] = true
			}
			if len(uses) > inv.maxUses || len(uses) != inv.uses {
				h.t.Fatalf("invariant: invite %s has %d uses (max %d), the model counts %d", inv.id, len(uses), inv.maxUses, inv.uses)
			}
		}
		return nil
	})
	if err != nil {
		h.t.Fatalf("read invite uses: %v", err)
	}
	for _, id := range m.order {
		a := m.accounts[id]
		// The owner reads the log, moving to a secure sign-in method first
		// if the team shuts them out.
		if m.shut(a, a.owner) {
			u := store.User{ID: a.owner, Email: a.owner + "@example.com", Name: a.owner, SignIn: store.SignInGoogle}
			if _, err := h.r.Teams.UpdateUser(ctx, u); err != nil {
				h.t.Fatalf("move %s to a secure sign-in method: %v", a.owner, err)
			}
			m.secure[a.owner] = true
		}
		if _, err := h.r.Audit.Verify(ctx, a.owner, id); err != nil {
			h.t.Fatalf("audit chain of %s: %v", id, err)
		}
	}
}

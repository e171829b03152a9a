package authz_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/teamroster/roster/internal/authz"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// teamRoles is a Tx that holds team roles and nothing else: Resolve reads
// no more.
type teamRoles struct {
	store.Tx
	roles map[string]store.TeamRole // by account and name, "acc/name"
	err   error                     // returned by every read, if set
}

func (tx teamRoles) TeamRole(_ context.Context, accountID, name string) (store.TeamRole, error) {
	if tx.err != nil {
		return store.TeamRole{}, tx.err
	}
	r, ok := tx.roles[accountID+"/"+name]
	if !ok {
		return store.TeamRole{}, fmt.Errorf("team role %s: %w", name, store.ErrNotFound)
	}
	return r, nil
}

// resolve resolves role in account acc, failing t on error.
func resolve(t *testing.T, tx store.Tx, p *rbac.Policy, role rbac.Role) authz.Rights {
	t.Helper()
	r, err := authz.Resolve(context.Background(), tx, p, "acc", role)
	if err != nil {
		t.Fatalf("Resolve(%s): %v", role, err)
	}
	return r
}

func TestPolicyRoles(t *testing.T) {
	tx := teamRoles{}
	for _, p := range []*rbac.Policy{rbac.Runpod(), rbac.DigitalOcean()} {
		for _, role := range p.Roles() {
			r := resolve(t, tx, p, role)
			if !r.Known() || r.Role() != role {
				t.Errorf("%s %s: Known %v, Role %q", p.Name(), role, r.Known(), r.Role())
			}
			for _, a := range p.Actions() {
				if got, want := r.Allows(a), p.Allows(role, a); got != want {
					t.Errorf("%s %s: Allows(%s) = %v, the policy says %v", p.Name(), role, a, got, want)
				}
			}
			if got, want := r.Actions(), p.RoleActions(role); !slices.Equal(got, want) {
				t.Errorf("%s %s: Actions = %v, want %v", p.Name(), role, got, want)
			}
			if got, want := r.Top(), p.IsTop(role); got != want {
				t.Errorf("%s %s: Top = %v, want %v", p.Name(), role, got, want)
			}
			if r.SeesInvitees() != p.Allows(role, rbac.MembersInvite) || r.SeesSignIns() != p.Allows(role, rbac.MembersManage) {
				t.Errorf("%s %s: SeesInvitees %v, SeesSignIns %v", p.Name(), role, r.SeesInvitees(), r.SeesSignIns())
			}
			if r.Allows("no.such.action") {
				t.Errorf("%s %s allows an action the policy does not have", p.Name(), role)
			}
		}
	}
}

func TestUnknownRoles(t *testing.T) {
	ctx := context.Background()
	for name, p := range map[string]*rbac.Policy{"compiled": rbac.Runpod(), "fallback": rostertest.FallbackPolicy(t)} {
		r, err := authz.Resolve(ctx, teamRoles{}, p, "acc", "nonesuch")
		if !errors.Is(err, rbac.ErrUnknownRole) {
			t.Errorf("%s: Resolve of an unknown role: %v, want ErrUnknownRole", name, err)
		}
		if r.Known() || r.Top() || len(r.Actions()) != 0 {
			t.Errorf("%s: the rights of an unknown role are known %v, top %v, actions %v", name, r.Known(), r.Top(), r.Actions())
		}
	}
	boom := errors.New("read failed")
	if _, err := authz.Resolve(ctx, teamRoles{err: boom}, rbac.Runpod(), "acc", "custom"); !errors.Is(err, boom) {
		t.Errorf("Resolve when the store fails: %v, want its error", err)
	}
}

func TestTeamRoles(t *testing.T) {
	p := rbac.Runpod()
	tx := teamRoles{roles: map[string]store.TeamRole{
		"acc/operator": {AccountID: "acc", Name: "operator", Actions: []string{string(rbac.AccountAccess), string(rbac.PodsManage), "pods.fly"}},
	}}
	r := resolve(t, tx, p, "operator")
	if !r.Known() || r.Top() {
		t.Errorf("a team role: Known %v, Top %v; want known, never top", r.Known(), r.Top())
	}
	if got, want := r.Actions(), []rbac.Action{rbac.AccountAccess, rbac.PodsManage}; !slices.Equal(got, want) {
		t.Errorf("Actions = %v, want %v (the policy's actions only)", got, want)
	}
	if _, err := authz.Resolve(context.Background(), tx, p, "other", "operator"); !errors.Is(err, rbac.ErrUnknownRole) {
		t.Errorf("another account's team role: %v, want ErrUnknownRole", err)
	}
	dev, admin := resolve(t, tx, p, rbac.RunpodDev), resolve(t, tx, p, rbac.RunpodAdmin)
	if !dev.Covers(r) || r.Covers(dev) || !admin.Covers(r) {
		t.Errorf("dev covers the operator %v, the operator covers dev %v, admin covers the operator %v; want true, false, true",
			dev.Covers(r), r.Covers(dev), admin.Covers(r))
	}
}

func TestCovers(t *testing.T) {
	tx := teamRoles{}
	p := rbac.Runpod()
	none := authz.None(p, "acc")
	if none.Known() || len(none.Actions()) != 0 {
		t.Errorf("None: Known %v, Actions %v; want nothing", none.Known(), none.Actions())
	}
	for _, role := range p.Roles() {
		r := resolve(t, tx, p, role)
		if !r.Covers(none) {
			t.Errorf("%s does not cover no rights", role)
		}
		if none.Covers(r) {
			t.Errorf("no rights cover %s", role)
		}
		for _, other := range p.Roles() {
			o := resolve(t, tx, p, other)
			if got, want := r.Covers(o), p.Covers(role, other); got != want {
				t.Errorf("%s covers %s = %v, the policy says %v", role, other, got, want)
			}
		}
	}
	empty := teamRoles{roles: map[string]store.TeamRole{"acc/empty": {AccountID: "acc", Name: "empty", Actions: []string{"gone.action"}}}}
	if e := resolve(t, empty, p, "empty"); !none.Covers(e) {
		t.Error("no rights do not cover a team role that holds nothing")
	}
	// The zero Rights (not a member) allow nothing.
	if z := (authz.Rights{}); z.Allows(rbac.AccountAccess) || z.Top() || z.Known() || len(z.Actions()) != 0 || z.SeesInvitees() {
		t.Errorf("the zero Rights: Allows %v, Top %v, Known %v, Actions %v; want nothing", z.Allows(rbac.AccountAccess), z.Top(), z.Known(), z.Actions())
	}
}

func TestFallback(t *testing.T) {
	tx := teamRoles{}
	p := rostertest.FallbackPolicy(t)
	admin, dev, viewer := resolve(t, tx, p, "admin"), resolve(t, tx, p, "dev"), resolve(t, tx, p, "viewer")
	if !dev.Allows("pods.gpu.create") || viewer.Allows("pods.gpu.create") || !viewer.Allows("pods.read") {
		t.Errorf("Allows does not follow Casbin's patterns: dev %v, viewer %v, viewer read %v",
			dev.Allows("pods.gpu.create"), viewer.Allows("pods.gpu.create"), viewer.Allows("pods.read"))
	}
	if !admin.Top() || dev.Top() {
		t.Errorf("Top: admin %v, dev %v; want true, false", admin.Top(), dev.Top())
	}
	if !admin.Covers(dev) || !dev.Covers(viewer) || viewer.Covers(dev) {
		t.Errorf("Covers: admin over dev %v, dev over viewer %v, viewer over dev %v", admin.Covers(dev), dev.Covers(viewer), viewer.Covers(dev))
	}
	// A compiled role's rights never cover a fallback role's, nor the other
	// way round: they are decided by different tables.
	compiled := resolve(t, tx, rbac.Runpod(), rbac.RunpodAdmin)
	if compiled.Covers(viewer) || viewer.Covers(compiled) {
		t.Error("rights of a compiled and a fallback policy cover each other")
	}
}

func TestMayActAndGrant(t *testing.T) {
	tx := teamRoles{}
	rp, do := rbac.Runpod(), rbac.DigitalOcean()
	admin, dev := resolve(t, tx, rp, rbac.RunpodAdmin), resolve(t, tx, rp, rbac.RunpodDev)
	if err := authz.MayAct(admin, dev); err != nil {
		t.Errorf("admin acting on a dev: %v", err)
	}
	if err := authz.MayAct(dev, admin); !errors.Is(err, rbac.ErrDenied) {
		t.Errorf("a dev acting on an admin: %v, want ErrDenied", err)
	}
	if err := authz.MayGrant(admin, admin); err != nil {
		t.Errorf("a Runpod admin granting admin: %v", err)
	}
	if err := authz.MayGrant(dev, admin); !errors.Is(err, rbac.ErrDenied) {
		t.Errorf("a dev granting admin: %v, want ErrDenied", err)
	}
	unknown, _ := authz.Resolve(context.Background(), tx, rp, "acc", "nonesuch")
	if err := authz.MayGrant(admin, unknown); !errors.Is(err, rbac.ErrUnknownRole) {
		t.Errorf("granting an unknown role: %v, want ErrUnknownRole", err)
	}
	owner, member := resolve(t, tx, do, rbac.DigitalOceanOwner), resolve(t, tx, do, rbac.DigitalOceanMember)
	if err := authz.MayGrant(owner, owner); !errors.Is(err, rbac.ErrTopByTransfer) {
		t.Errorf("a DigitalOcean owner granting owner: %v, want ErrTopByTransfer", err)
	}
	if err := authz.MayGrant(owner, member); err != nil {
		t.Errorf("a DigitalOcean owner granting member: %v", err)
	}
}

func TestOnly(t *testing.T) {
	tx := teamRoles{}
	t.Run("compiled", func(t *testing.T) {
		p := rbac.Runpod()
		admin, dev := resolve(t, tx, p, rbac.RunpodAdmin), resolve(t, tx, p, rbac.RunpodDev)
		key := dev.Only([]rbac.Action{rbac.PodsConnect, rbac.BillingRead, "no.such.action"})
		if !key.Allows(rbac.PodsConnect) || key.Allows(rbac.PodsManage) || key.Allows(rbac.BillingRead) {
			t.Errorf("dev narrowed to pods.connect: Allows connect %v, create %v, billing %v; want true, false, false (dev lacks billing)",
				key.Allows(rbac.PodsConnect), key.Allows(rbac.PodsManage), key.Allows(rbac.BillingRead))
		}
		if !dev.Covers(key) || key.Covers(dev) {
			t.Errorf("dev covers its narrowed key %v, key covers dev %v; want true, false", dev.Covers(key), key.Covers(dev))
		}
		if admin.Only([]rbac.Action{rbac.PodsConnect}).Top() || !admin.Top() {
			t.Error("narrowed admin rights are Top, or admin is not")
		}
		if !dev.Only(nil).Covers(dev) || !dev.Covers(dev.Only(nil)) {
			t.Error("Only(nil) changed the rights")
		}
		if slices.Equal(key.Actions(), dev.Actions()) || !slices.Equal(key.Actions(), []rbac.Action{rbac.PodsConnect}) {
			t.Errorf("narrowed actions = %v", key.Actions())
		}
	})
	t.Run("fallback", func(t *testing.T) {
		p := rostertest.FallbackPolicy(t)
		admin, dev, viewer := resolve(t, tx, p, "admin"), resolve(t, tx, p, "dev"), resolve(t, tx, p, "viewer")
		key := dev.Only([]rbac.Action{"pods.read", "billing.read"})
		if !key.Allows("pods.read") || key.Allows("pods.gpu.create") || key.Allows("billing.read") {
			t.Errorf("dev narrowed: read %v, gpu.create %v, billing.read %v; want true, false, false",
				key.Allows("pods.read"), key.Allows("pods.gpu.create"), key.Allows("billing.read"))
		}
		if !dev.Covers(key) || !viewer.Covers(key) || key.Covers(dev) || !admin.Covers(key) {
			t.Errorf("Covers: dev %v, viewer %v over the key; key over dev %v; admin %v",
				dev.Covers(key), viewer.Covers(key), key.Covers(dev), admin.Covers(key))
		}
		if wide := admin.Only([]rbac.Action{"billing.read"}); viewer.Covers(wide) || wide.Top() {
			t.Error("viewer covers a key narrowed to an action viewer lacks, or it is Top")
		}
	})
}

package rbac_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/teamroster/roster/rbac"
)

func TestCovers(t *testing.T) {
	p := rbac.Runpod()
	tests := []struct {
		a, b rbac.Role
		want bool
	}{
		{rbac.RunpodAdmin, rbac.RunpodBasic, true},
		{rbac.RunpodAdmin, rbac.RunpodBilling, true},
		{rbac.RunpodAdmin, rbac.RunpodDev, true},
		{rbac.RunpodDev, rbac.RunpodBasic, true},
		{rbac.RunpodBasic, rbac.RunpodBasic, true},
		{rbac.RunpodBasic, rbac.RunpodDev, false},
		{rbac.RunpodDev, rbac.RunpodBilling, false},
		{rbac.RunpodBilling, rbac.RunpodBasic, false},
		{rbac.RunpodDev, rbac.RunpodAdmin, false},
		{rbac.RunpodAdmin, "ghost", false},
		{"ghost", rbac.RunpodBasic, false},
		{"ghost", "ghost", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s covers %s is %t", tt.a, tt.b, tt.want), func(t *testing.T) {
			if got := p.Covers(tt.a, tt.b); got != tt.want {
				t.Errorf("Covers(%s, %s) = %t", tt.a, tt.b, got)
			}
		})
	}
	t.Run("owner covers every DigitalOcean role and member covers modifier", func(t *testing.T) {
		do := rbac.DigitalOcean()
		for _, r := range do.Roles() {
			if !do.Covers(rbac.DigitalOceanOwner, r) {
				t.Errorf("owner does not cover %s", r)
			}
		}
		if do.Covers(rbac.DigitalOceanModifier, rbac.DigitalOceanMember) {
			t.Error("modifier covers member, who may also delete")
		}
		if !do.Covers(rbac.DigitalOceanMember, rbac.DigitalOceanModifier) {
			t.Error("member does not cover modifier")
		}
	})
}

func TestRoleQueries(t *testing.T) {
	p := rbac.Runpod()
	t.Run("IsTop is false for other and unknown roles", func(t *testing.T) {
		if !p.IsTop(rbac.RunpodAdmin) || p.IsTop(rbac.RunpodDev) || p.IsTop("ghost") {
			t.Errorf("IsTop(admin, dev, ghost) = %t, %t, %t", p.IsTop(rbac.RunpodAdmin), p.IsTop(rbac.RunpodDev), p.IsTop("ghost"))
		}
	})
	t.Run("RoleActions lists a role's actions in policy order", func(t *testing.T) {
		want := []rbac.Action{rbac.AccountAccess, rbac.PodsConnect, rbac.EndpointsInvoke}
		if got := p.RoleActions(rbac.RunpodBasic); !slices.Equal(got, want) {
			t.Errorf("RoleActions(basic) = %v, want %v", got, want)
		}
	})
	t.Run("RoleActions is nil for an unknown role", func(t *testing.T) {
		if got := p.RoleActions("ghost"); got != nil {
			t.Errorf("RoleActions(ghost) = %#v, want nil", got)
		}
	})
	t.Run("slices returned are fresh", func(t *testing.T) {
		p.Roles()[0] = "mutated"
		p.Actions()[0] = "mutated"
		p.RoleActions(rbac.RunpodBasic)[0] = "mutated"
		if p.Roles()[0] != rbac.RunpodBasic || p.Actions()[0] != rbac.AccountAccess || p.RoleActions(rbac.RunpodBasic)[0] != rbac.AccountAccess {
			t.Error("mutating a returned slice changed the policy")
		}
	})
	t.Run("HasRole and HasAction", func(t *testing.T) {
		if !p.HasRole(rbac.RunpodDev) || p.HasRole(rbac.DigitalOceanOwner) || p.HasRole("") {
			t.Error("HasRole wrong")
		}
		if !p.HasAction(rbac.PodsManage) || p.HasAction(rbac.ResourcesDelete) || p.HasAction("") {
			t.Error("HasAction wrong")
		}
	})
	t.Run("the zero Policy has no roles and allows nothing", func(t *testing.T) {
		var zero rbac.Policy
		if zero.Top() != "" || zero.Roles() != nil || zero.Allowed(0, 0) || zero.Allows("admin", rbac.AuditRead) || zero.IsTop("") {
			t.Error("the zero Policy is not empty")
		}
	})
	t.Run("Allows is false for unknown roles and actions", func(t *testing.T) {
		if p.Allows("ghost", rbac.AccountAccess) || p.Allows(rbac.RunpodAdmin, "ghost.action") || p.Allows(rbac.RunpodAdmin, rbac.ResourcesRead) {
			t.Error("Allows is true for an unknown name")
		}
	})
}

func TestIDs(t *testing.T) {
	p := rbac.DigitalOcean()
	t.Run("IDs are indexes into Roles and Actions", func(t *testing.T) {
		for i, r := range p.Roles() {
			id, ok := p.RoleID(r)
			if !ok || int(id) != i || p.Role(id) != r {
				t.Errorf("RoleID(%s) = %d, %t; Role(%d) = %s", r, id, ok, id, p.Role(id))
			}
		}
		for i, a := range p.Actions() {
			id, ok := p.ActionID(a)
			if !ok || int(id) != i || p.Action(id) != a {
				t.Errorf("ActionID(%s) = %d, %t; Action(%d) = %s", a, id, ok, id, p.Action(id))
			}
		}
	})
	t.Run("Allowed agrees with Allows", func(t *testing.T) {
		for _, r := range p.Roles() {
			rid, _ := p.RoleID(r)
			for _, a := range p.Actions() {
				aid, _ := p.ActionID(a)
				if p.Allowed(rid, aid) != p.Allows(r, a) {
					t.Errorf("Allowed(%s, %s) != Allows", r, a)
				}
			}
		}
	})
	t.Run("unknown names have no ID", func(t *testing.T) {
		if _, ok := p.RoleID("ghost"); ok {
			t.Error("RoleID(ghost) found")
		}
		if _, ok := p.ActionID("ghost"); ok {
			t.Error("ActionID(ghost) found")
		}
	})
	t.Run("out-of-range IDs are denied and nameless", func(t *testing.T) {
		top, _ := p.RoleID(p.Top())
		roles, actions := rbac.RoleID(len(p.Roles())), rbac.ActionID(len(p.Actions()))
		for _, tt := range []struct {
			r rbac.RoleID
			a rbac.ActionID
		}{{roles, 0}, {top, actions}, {65535, 0}, {top, 65535}, {65535, 65535}, {top, 64}} {
			if p.Allowed(tt.r, tt.a) {
				t.Errorf("Allowed(%d, %d) = true", tt.r, tt.a)
			}
		}
		if p.Role(roles) != "" || p.Role(65535) != "" || p.Action(actions) != "" || p.Action(65535) != "" {
			t.Error("an out-of-range ID has a name")
		}
	})
	t.Run("more than 64 actions span several words", func(t *testing.T) {
		// admin holds everything; odd holds the odd-numbered actions.
		var b strings.Builder
		b.WriteString("p, admin, members.invite\np, admin, members.manage\np, admin, settings.manage\np, admin, audit.read\n")
		for i := range 200 {
			fmt.Fprintf(&b, "p, admin, a%d\n", i)
			if i%2 == 1 {
				fmt.Fprintf(&b, "p, odd, a%d\n", i)
			}
		}
		wide, err := rbac.Parse("wide", []byte(p.ModelText()), []byte(b.String()))
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		odd, _ := wide.RoleID("odd")
		for i := range 200 {
			aid, ok := wide.ActionID(rbac.Action(fmt.Sprintf("a%d", i)))
			if !ok {
				t.Fatalf("action a%d missing", i)
			}
			if got := wide.Allowed(odd, aid); got != (i%2 == 1) {
				t.Errorf("Allowed(odd, a%d [id %d]) = %t", i, aid, got)
			}
		}
		if got := len(wide.RoleActions("admin")); got != 204 {
			t.Errorf("admin holds %d actions, want 204", got)
		}
		if wide.Top() != "admin" || !wide.Covers("admin", "odd") || wide.Covers("odd", "admin") {
			t.Errorf("Top = %s, Covers wrong", wide.Top())
		}
	})
}

func TestAllowedDoesNotAllocate(t *testing.T) {
	p := rbac.Runpod()
	rid, _ := p.RoleID(rbac.RunpodDev)
	aid, _ := p.ActionID(rbac.PodsManage)
	var allowed bool
	if n := testing.AllocsPerRun(1000, func() { allowed = p.Allowed(rid, aid) }); n != 0 {
		t.Errorf("Allowed allocates %v times a call", n)
	}
	if n := testing.AllocsPerRun(1000, func() { allowed = p.Allows(rbac.RunpodDev, rbac.PodsManage) }); n != 0 {
		t.Errorf("Allows allocates %v times a call", n)
	}
	if !allowed {
		t.Error("dev may not manage pods")
	}
}

var sink bool

// BenchmarkAllowed measures the decision table's bit test, with the
// name-based Allows and plain Casbin's Enforce on the same policy for
// comparison.
func BenchmarkAllowed(b *testing.B) {
	p := rbac.Runpod()
	roles, actions := p.Roles(), p.Actions()
	b.Run("table", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			sink = p.Allowed(rbac.RoleID(i%len(roles)), rbac.ActionID(i%len(actions)))
		}
	})
	b.Run("names", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			sink = p.Allows(roles[i%len(roles)], actions[i%len(actions)])
		}
	})
	b.Run("casbin", func(b *testing.B) {
		e := plainEnforcer(b, p)
		for _, r := range roles {
			mustAddGrouping(b, e, "user-"+string(r), string(r), "team")
		}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			sink = mustEnforce(b, e, "user-"+string(roles[i%len(roles)]), "team", string(actions[i%len(actions)]))
		}
	})
}

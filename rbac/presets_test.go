package rbac_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/teamroster/roster/rbac"
)

// TestRunpodSeedTable reproduces the "Roles and permissions" table of seed
// 000 row by row: each cell says whether the column's role holds the row's
// action(s).
func TestRunpodSeedTable(t *testing.T) {
	p := rbac.Runpod()
	columns := []rbac.Role{rbac.RunpodBasic, rbac.RunpodBilling, rbac.RunpodDev, rbac.RunpodAdmin}
	rows := []struct {
		permission string
		cells      [4]string // Basic, Billing, Dev, Admin
		actions    []rbac.Action
	}{
		{"Access team account", [4]string{"✅", "✅", "✅", "✅"}, []rbac.Action{rbac.AccountAccess}},
		{"Connect to existing Pods", [4]string{"✅", "❌", "✅", "✅"}, []rbac.Action{rbac.PodsConnect}},
		{"Create/delete/start/stop Pods", [4]string{"❌", "❌", "✅", "✅"}, []rbac.Action{rbac.PodsManage}},
		{"Create/delete Serverless endpoints", [4]string{"❌", "❌", "✅", "✅"}, []rbac.Action{rbac.EndpointsManage}},
		{"Send requests to Serverless endpoints", [4]string{"✅", "❌", "✅", "✅"}, []rbac.Action{rbac.EndpointsInvoke}},
		{"View billing information", [4]string{"❌", "✅", "❌", "✅"}, []rbac.Action{rbac.BillingRead}},
		{"Manage payment methods", [4]string{"❌", "✅", "❌", "✅"}, []rbac.Action{rbac.BillingManage}},
		{"Invite team members", [4]string{"❌", "❌", "❌", "✅"}, []rbac.Action{rbac.MembersInvite}},
		{"Manage team permissions", [4]string{"❌", "❌", "❌", "✅"}, []rbac.Action{rbac.MembersManage}},
		{"Modify team account settings", [4]string{"❌", "❌", "❌", "✅"}, []rbac.Action{rbac.SettingsManage}},
		{"Access audit logs", [4]string{"❌", "❌", "❌", "✅"}, []rbac.Action{rbac.AuditRead}},
	}
	var mapped []rbac.Action
	for _, row := range rows {
		mapped = append(mapped, row.actions...)
		t.Run(row.permission, func(t *testing.T) {
			for i, role := range columns {
				want := mustMark(t, row.cells[i])
				for _, a := range row.actions {
					if got := p.Allows(role, a); got != want {
						t.Errorf("Allows(%s, %s) = %t, want %t (seed says %s)", role, a, got, want, row.cells[i])
					}
				}
			}
		})
	}

	t.Run("roles are the seed's columns", func(t *testing.T) {
		if diff := cmp.Diff(columns, p.Roles()); diff != "" {
			t.Errorf("Roles() mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("actions are the seed's rows and nothing else", func(t *testing.T) {
		if diff := cmp.Diff(mapped, p.Actions()); diff != "" {
			t.Errorf("Actions() mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("admin is the only top role", func(t *testing.T) {
		assertOnlyTop(t, p, rbac.RunpodAdmin)
	})
}

// mustMark reads a ✅ or ❌ cell of the Runpod table.
func mustMark(tb testing.TB, cell string) bool {
	tb.Helper()
	switch cell {
	case "✅":
		return true
	case "❌":
		return false
	}
	tb.Fatalf("cell %q is neither ✅ nor ❌", cell)
	return false
}

// TestDigitalOceanSeedTable reproduces the role table of seed 003 row by
// row: each area's words grant a set of actions, and a role holds exactly
// the union of its three areas' sets.
func TestDigitalOceanSeedTable(t *testing.T) {
	p := rbac.DigitalOcean()
	// What each word grants in each area (the mapping documented in
	// digitalocean.csv).
	sharedResources := map[string][]rbac.Action{
		"Full access":               {rbac.ResourcesRead, rbac.ResourcesCreate, rbac.ResourcesUpdate, rbac.ResourcesDelete},
		"Full access except delete": {rbac.ResourcesRead, rbac.ResourcesCreate, rbac.ResourcesUpdate},
		"Read only":                 {rbac.ResourcesRead},
		"No access":                 nil,
	}
	billingInformation := map[string][]rbac.Action{
		"Full access":       {rbac.BillingReadLimited, rbac.BillingRead, rbac.BillingManage},
		"Limited read only": {rbac.BillingReadLimited},
		"No access":         nil,
	}
	teamSettings := map[string][]rbac.Action{
		"Full access": {rbac.SettingsRead, rbac.SettingsManage, rbac.MembersInvite, rbac.MembersManage, rbac.AuditRead},
		"Read only":   {rbac.SettingsRead},
		"No access":   nil,
	}
	rows := []struct {
		name                         string
		role                         rbac.Role
		resources, billing, settings string
	}{
		{"Owner", rbac.DigitalOceanOwner, "Full access", "Full access", "Full access"},
		{"Biller", rbac.DigitalOceanBiller, "No access", "Full access", "No access"},
		{"Billing Viewer", rbac.DigitalOceanBillingViewer, "No access", "Limited read only", "No access"},
		{"Member", rbac.DigitalOceanMember, "Full access", "No access", "Read only"},
		{"Modifier", rbac.DigitalOceanModifier, "Full access except delete", "No access", "Read only"},
		{"Resource Viewer", rbac.DigitalOceanResourceViewer, "Read only", "No access", "Read only"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			granted := map[rbac.Action]bool{}
			for _, area := range []struct {
				name  string
				words map[string][]rbac.Action
				cell  string
			}{
				{"Shared Resources", sharedResources, row.resources},
				{"Billing Information", billingInformation, row.billing},
				{"Team Settings", teamSettings, row.settings},
			} {
				actions, ok := area.words[area.cell]
				if !ok {
					t.Fatalf("%s: no mapping for %q", area.name, area.cell)
				}
				for _, a := range actions {
					granted[a] = true
				}
			}
			for _, a := range p.Actions() {
				if got := p.Allows(row.role, a); got != granted[a] {
					t.Errorf("Allows(%s, %s) = %t, want %t", row.role, a, got, granted[a])
				}
			}
			for a := range granted {
				if !p.HasAction(a) {
					t.Errorf("the seed grants %s, which the policy lacks", a)
				}
			}
		})
	}

	t.Run("roles are the seed's rows", func(t *testing.T) {
		var want []rbac.Role
		for _, row := range rows {
			want = append(want, row.role)
		}
		if diff := cmp.Diff(want, p.Roles()); diff != "" {
			t.Errorf("Roles() mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("actions are the full-access sets and nothing else", func(t *testing.T) {
		var want []rbac.Action
		want = append(want, sharedResources["Full access"]...)
		want = append(want, billingInformation["Full access"]...)
		want = append(want, teamSettings["Full access"]...)
		if diff := cmp.Diff(want, p.Actions()); diff != "" {
			t.Errorf("Actions() mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("owner is the only top role", func(t *testing.T) {
		assertOnlyTop(t, p, rbac.DigitalOceanOwner)
	})
}

// assertOnlyTop checks that top is p's top role and that no other role
// holds every action.
func assertOnlyTop(tb testing.TB, p *rbac.Policy, top rbac.Role) {
	tb.Helper()
	if got := p.Top(); got != top {
		tb.Errorf("Top() = %s, want %s", got, top)
	}
	for _, r := range p.Roles() {
		if got, want := p.IsTop(r), r == top; got != want {
			tb.Errorf("IsTop(%s) = %t, want %t", r, got, want)
		}
	}
	if !slices.Equal(p.RoleActions(top), p.Actions()) {
		tb.Errorf("RoleActions(%s) = %v, want every action %v", top, p.RoleActions(top), p.Actions())
	}
}

func TestPresets(t *testing.T) {
	t.Run("names", func(t *testing.T) {
		if got := rbac.Runpod().Name(); got != "runpod" {
			t.Errorf("Runpod().Name() = %q", got)
		}
		if got := rbac.DigitalOcean().Name(); got != "digitalocean" {
			t.Errorf("DigitalOcean().Name() = %q", got)
		}
	})
	t.Run("compiled once and shared across goroutines", func(t *testing.T) {
		want := [2]*rbac.Policy{rbac.Runpod(), rbac.DigitalOcean()}
		got := make(chan [2]*rbac.Policy)
		for range 8 {
			go func() { got <- [2]*rbac.Policy{rbac.Runpod(), rbac.DigitalOcean()} }()
		}
		for range 8 {
			if g := <-got; g != want {
				t.Errorf("presets from another goroutine = %p, want %p", g, want)
			}
		}
	})
}

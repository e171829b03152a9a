package rbac_test

import (
	"errors"
	"fmt"

	"github.com/teamroster/roster/rbac"
)

func ExampleRunpod() {
	p := rbac.Runpod()
	fmt.Println(p.Name(), p.Roles(), "top:", p.Top())
	for _, r := range p.Roles() {
		fmt.Println(r, p.RoleActions(r))
	}
	// Output:
	// runpod [basic billing dev admin] top: admin
	// basic [account.access pods.connect endpoints.invoke]
	// billing [account.access billing.read billing.manage]
	// dev [account.access pods.connect pods.manage endpoints.manage endpoints.invoke]
	// admin [account.access pods.connect pods.manage endpoints.manage endpoints.invoke billing.read billing.manage members.invite members.manage settings.manage audit.read]
}

func ExampleDigitalOcean() {
	p := rbac.DigitalOcean()
	fmt.Println(p.RoleActions(rbac.DigitalOceanModifier))
	fmt.Println(p.Covers(rbac.DigitalOceanMember, rbac.DigitalOceanModifier))
	// Output:
	// [resources.read resources.create resources.update settings.read]
	// true
}

func ExamplePolicy_Allows() {
	p := rbac.Runpod()
	fmt.Println(p.Allows(rbac.RunpodDev, rbac.PodsManage))
	fmt.Println(p.Allows(rbac.RunpodBilling, rbac.PodsConnect))
	fmt.Println(p.Allows(rbac.RunpodAdmin, "no.such.action"))
	// Output:
	// true
	// false
	// false
}

func ExamplePolicy_Allowed() {
	p := rbac.Runpod()
	// Resolve names to IDs once, for example when indexing memberships...
	dev, _ := p.RoleID(rbac.RunpodDev)
	manage, _ := p.ActionID(rbac.PodsManage)
	// ...then each check is a bit test.
	fmt.Println(p.Allowed(dev, manage))
	// Output:
	// true
}

func ExampleParse() {
	policy := `
# Viewers read; admins do everything.
p, viewer, docs.read
p, admin, docs.read
p, admin, docs.write
p, admin, members.invite
p, admin, members.manage
p, admin, settings.manage
p, admin, audit.read
`
	model := rbac.Runpod().ModelText() // roster's model
	p, err := rbac.Parse("docs", []byte(model), []byte(policy))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Roles(), p.Top())
	fmt.Println(p.Allows("viewer", "docs.read"), p.Allows("viewer", "docs.write"))

	_, err = rbac.Parse("broken", []byte(model), []byte(policy+"g, alice, admin, acme\n"))
	fmt.Println(errors.Is(err, rbac.ErrInvalidPolicy))
	fmt.Println(err)
	// Output:
	// [viewer admin] admin
	// true false
	// true
	// rbac: broken.csv:10: g rule: grouping rules belong in the store, not the policy file: list each role's actions
}

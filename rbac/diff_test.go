package rbac_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/teamroster/roster/rbac"
)

func TestDiff(t *testing.T) {
	p := rbac.Runpod()
	t.Run("dev to billing gains billing and loses pods and endpoints", func(t *testing.T) {
		gained, lost, err := p.Diff(rbac.RunpodDev, rbac.RunpodBilling)
		if err != nil {
			t.Fatal(err)
		}
		if want := []rbac.Action{rbac.BillingRead, rbac.BillingManage}; !slices.Equal(gained, want) {
			t.Errorf("gained = %v, want %v", gained, want)
		}
		if want := []rbac.Action{rbac.PodsConnect, rbac.PodsManage, rbac.EndpointsManage, rbac.EndpointsInvoke}; !slices.Equal(lost, want) {
			t.Errorf("lost = %v, want %v", lost, want)
		}
	})
	t.Run("the same role changes nothing", func(t *testing.T) {
		gained, lost, err := p.Diff(rbac.RunpodAdmin, rbac.RunpodAdmin)
		if err != nil || gained != nil || lost != nil {
			t.Errorf("Diff(admin, admin) = %v, %v, %v; want nothing", gained, lost, err)
		}
	})
	t.Run("an unknown role is an error", func(t *testing.T) {
		if _, _, err := p.Diff(rbac.RunpodDev, "root"); !errors.Is(err, rbac.ErrUnknownRole) {
			t.Errorf("error = %v, want ErrUnknownRole", err)
		}
		if _, _, err := p.Diff("root", rbac.RunpodDev); !errors.Is(err, rbac.ErrUnknownRole) {
			t.Errorf("error = %v, want ErrUnknownRole", err)
		}
	})
}

func TestTopByTransfer(t *testing.T) {
	if rbac.Runpod().TopByTransfer() {
		t.Error("Runpod admins are granted directly, but the preset requires a transfer")
	}
	if !rbac.DigitalOcean().TopByTransfer() {
		t.Error("DigitalOcean owners need a transfer, but the preset does not say so")
	}
	p := rbac.Runpod().WithTopByTransfer()
	if !p.TopByTransfer() || rbac.Runpod().TopByTransfer() {
		t.Error("WithTopByTransfer must return a changed copy and leave the original alone")
	}
	if !p.Allows(rbac.RunpodAdmin, rbac.AuditRead) || p.Top() != rbac.RunpodAdmin {
		t.Error("the copy lost its decision table")
	}
}

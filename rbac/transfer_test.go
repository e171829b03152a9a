package rbac_test

import (
	"testing"

	"github.com/teamroster/roster/rbac"
)

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

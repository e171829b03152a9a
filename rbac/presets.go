package rbac

import (
	_ "embed"
	"sync"
)

var (
	//go:embed model.conf
	modelConf []byte
	//go:embed runpod.csv
	runpodCSV []byte
	//go:embed digitalocean.csv
	digitalOceanCSV []byte
)

var (
	runpod       = sync.OnceValue(func() *Policy { return mustParse("runpod", runpodCSV) })
	digitalOcean = sync.OnceValue(func() *Policy { return mustParse("digitalocean", digitalOceanCSV).WithTopByTransfer() })
)

// Runpod returns the Runpod preset: the roles basic, billing, dev and admin
// of Runpod team accounts, one action per row of Runpod's permission table
// (see runpod.csv). Admin is the top role. The preset is compiled on first
// use and shared; it is safe for concurrent use. Runpod panics only if the
// embedded files are broken, which the package's tests rule out.
func Runpod() *Policy { return runpod() }

// DigitalOcean returns the DigitalOcean preset: the roles owner, biller,
// billing_viewer, member, modifier and resource_viewer of DigitalOcean
// teams, with actions over shared resources, billing information and team
// settings (see digitalocean.csv). Owner is the top role, granted only by an
// ownership transfer (see [Policy.TopByTransfer]). The preset is
// compiled on first use and shared; it is safe for concurrent use.
// DigitalOcean panics only if the embedded files are broken, which the
// package's tests rule out.
func DigitalOcean() *Policy { return digitalOcean() }

// mustParse compiles an embedded preset, panicking if it is broken.
func mustParse(name string, policy []byte) *Policy {
	p, err := Parse(name, modelConf, policy)
	if err != nil {
		panic(err)
	}
	return p
}

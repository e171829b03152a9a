package teamapi_test

import (
	"testing"

	"github.com/teamroster/roster/internal/rostertest"
)

// TestMain runs the package's tests and says how many PostgreSQL tests
// skipped themselves, see rostertest.Main.
func TestMain(m *testing.M) { rostertest.Main(m) }

package roster_test

import (
	"os"
	"strings"
	"testing"

	"github.com/teamroster/roster"
)

// TestChangelogHasVersion checks that CHANGELOG.md's newest section is the
// one for roster.Version.
func TestChangelogHasVersion(t *testing.T) {
	text, err := os.ReadFile("CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(text)) {
		if strings.HasPrefix(line, "## [") {
			if want := "## [" + roster.Version + "]"; !strings.HasPrefix(line, want) {
				t.Errorf("CHANGELOG.md's newest section is %q, want one starting %q", strings.TrimSpace(line), want)
			}
			return
		}
	}
	t.Errorf("CHANGELOG.md has no section for version %s", roster.Version)
}

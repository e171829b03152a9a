package text_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/teamroster/roster/internal/text"
)

func TestClean(t *testing.T) {
	t.Run("ordinary text is kept as it is", func(t *testing.T) {
		for _, s := range []string{"", "plain", "Zoë's team ✓ 😀", "tab-free, quotes \"ok\" and 'ok'"} {
			if got := text.Clean(s, 1000); got != s {
				t.Errorf("Clean(%q) = %q", s, got)
			}
		}
	})
	t.Run("control, format, separator characters and invalid UTF-8 become U+FFFD", func(t *testing.T) {
		in := "a\r\nb\u202ec\x00d\xffe\u2028f\u2029g"
		if got, want := text.Clean(in, 1000), "a\uFFFD\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFDf\uFFFDg"; got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	})
	t.Run("long text is cut at a character boundary", func(t *testing.T) {
		got := text.Clean(strings.Repeat("é", 10), 5)
		if got != "éé" || !utf8.ValidString(got) {
			t.Errorf("Clean of ten é to 5 bytes = %q, want two é", got)
		}
	})
}

package gatehouse

import (
	"strings"
	"testing"
)

// No address that differs from an ASCII address beyond ASCII case may normalise into it, and
// every address that does so must be refused.
func TestEmailNeverFoldsIntoASCII(t *testing.T) {
	for _, in := range []string{"\u212aay@example.com", "t\u0130m@example.com", "t\u0131m@example.com", "\u017fam@example.com", "\uff4bay@example.com"} {
		n := NormalizeEmail(in)
		if strings.IndexFunc(n, func(r rune) bool { return r >= 0x80 }) < 0 {
			t.Errorf("NormalizeEmail(%+q) = %q: folded into ASCII", in, n)
		}
		if ValidateEmail(n) == nil {
			t.Errorf("ValidateEmail(%+q) accepted a look-alike", n)
		}
	}
	for in, want := range map[string]string{" Tim@Example.COM ": "tim@example.com", "ZOË@EXÄMPLE.COM": "zoë@exämple.com", "ÅSA@example.com": "åsa@example.com"} {
		if got := NormalizeEmail(in); got != want || ValidateEmail(got) != nil {
			t.Errorf("NormalizeEmail(%q) = %q (valid: %v), want %q", in, got, ValidateEmail(got) == nil, want)
		}
	}
}

func TestNamesMayCarryEmojiSelectorsOnlyAfterSymbols(t *testing.T) {
	if ValidateName("I \u2764\ufe0f Go") != nil {
		t.Error("an emoji with its presentation selector was refused")
	}
	for _, name := range []string{"Ad\ufe0fmin", "\ufe0fAdmin", "Ad\u034fmin", "Ad\u200dmin"} {
		if ValidateName(name) == nil {
			t.Errorf("%+q accepted", name)
		}
	}
}

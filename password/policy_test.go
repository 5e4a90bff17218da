package password

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPolicyCheck(t *testing.T) {
	const (
		tooShort = "Password must be at least 8 characters."
		tooLong  = "Password must be at most 256 characters."
	)
	long := func(n int) string { return strings.Repeat("é", n-1) + "x" } // 2 bytes per é
	tests := []struct {
		name, pw, want string
	}{
		{"empty", "", tooShort},
		{"7 ASCII", "abcdefg", tooShort},
		{"7 code points, 9 bytes", "pässwör", tooShort},
		{"8 code points, 10 bytes", "pässwörd", ""},
		{"8 code points of 4 bytes", "🔒🔑🗝🔐🛡🚪🏰🧱", ""},
		{"8 ASCII", "k9#vQ2!m", ""},
		{"256 code points", long(256), ""},
		{"257 code points", long(257), tooLong},
		{"256 ASCII", strings.Repeat("ab", 128), ""},
		{"257 ASCII", strings.Repeat("a", 257), tooLong},
		// Common passwords are the breach check's (CommonList), not the policy's.
		{"common", "password1", ""},
		{"common short one is refused for length first", "123456", tooShort},
		{"invalid UTF-8", "\xff\xfepassword123", "Password must be valid Unicode text."},
		{"truncated multibyte", "abcdefgh\xc3", "Password must be valid Unicode text."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (Policy{}).Check(tt.pw); got != tt.want {
				t.Fatalf("Check(%q) = %q, want %q", tt.pw, got, tt.want)
			}
		})
	}
}

func TestPolicyCustomLengths(t *testing.T) {
	p := Policy{MinLength: 12, MaxLength: 16}
	if got, want := p.Check("elevenchars"), "Password must be at least 12 characters."; got != want {
		t.Errorf("Check(11) = %q, want %q", got, want)
	}
	if got := p.Check("twelve chars"); got != "" {
		t.Errorf("Check(12) = %q, want accepted", got)
	}
	if got, want := p.Check("seventeen chars!!"), "Password must be at most 16 characters."; got != want {
		t.Errorf("Check(17) = %q, want %q", got, want)
	}
}

func TestCommonPasswordList(t *testing.T) {
	isCommon("") // loads the set
	if len(common) < 10000 {
		t.Fatalf("%d common passwords embedded, want at least 10000", len(common))
	}
	lines := strings.Split(strings.TrimSuffix(commonPasswordsFile, "\n"), "\n")
	if len(lines) != len(common) {
		t.Errorf("%d lines but %d distinct entries: the file has duplicates", len(lines), len(common))
	}
	for i, line := range lines {
		if line == "" || line != strings.ToLower(line) || strings.TrimSpace(line) != line || !utf8.ValidString(line) {
			t.Fatalf("line %d %q is not a trimmed, lower-case, non-empty entry", i+1, line)
		}
	}
	for _, pw := range []string{"123456", "password", "password1", "iloveyou", "trustno1"} {
		if !isCommon(pw) {
			t.Errorf("%q is not in the embedded list", pw)
		}
	}
}

func TestCommonListBreachChecker(t *testing.T) {
	for pw, want := range map[string]bool{"password1": true, "QWERTYUIOP": true, "a completely new passphrase": false} {
		if got, err := (CommonList{}).Breached(t.Context(), pw); err != nil || got != want {
			t.Errorf("Breached(%q) = %v, %v; want %v", pw, got, err, want)
		}
	}
	// In the other modes the list answers first; the next checker only for what it does not hold.
	next := &recordingChecker{}
	c := CommonList{Next: next}
	if got, _ := c.Breached(t.Context(), "Password1"); !got || len(next.asked) != 0 {
		t.Fatalf("a common password: %v, and the next checker was asked %v", got, next.asked)
	}
	if got, _ := c.Breached(t.Context(), "a completely new passphrase"); !got || len(next.asked) != 1 {
		t.Fatalf("an uncommon password: %v, asked %v; want the next checker's answer", got, next.asked)
	}
}

type recordingChecker struct{ asked []string }

func (r *recordingChecker) Breached(_ context.Context, pw string) (bool, error) {
	r.asked = append(r.asked, pw)
	return true, nil
}

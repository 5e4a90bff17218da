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

// commonLines is the embedded list split into its lines, and commonSet the same as a map: the
// plain model the bisection (isCommon) is checked against.
func commonLines(t testing.TB) ([]string, map[string]bool) {
	t.Helper()
	if !strings.HasSuffix(commonPasswordsFile, "\n") {
		t.Fatal("common_passwords.txt does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(commonPasswordsFile, "\n"), "\n")
	set := make(map[string]bool, len(lines))
	for _, l := range lines {
		set[l] = true
	}
	return lines, set
}

func TestCommonPasswordFile(t *testing.T) {
	lines, _ := commonLines(t)
	if len(lines) < 10000 {
		t.Fatalf("%d common passwords embedded, want at least 10000", len(lines))
	}
	for i, line := range lines {
		if line == "" || line != strings.ToLower(line) || strings.TrimSpace(line) != line || !utf8.ValidString(line) {
			t.Fatalf("line %d %q is not a trimmed, lower-case, non-empty entry", i+1, line)
		}
		// Strictly increasing in byte order: sorted as LC_ALL=C sort -u writes it, no duplicates.
		if i > 0 && lines[i-1] >= line {
			t.Fatalf("line %d %q does not sort after line %d %q in byte order", i+1, line, i, lines[i-1])
		}
	}
}

func TestCommonPasswordLookup(t *testing.T) {
	lines, set := commonLines(t)
	for _, pw := range []string{"123456", "password", "password1", "iloveyou", "trustno1", lines[0], lines[len(lines)-1]} {
		if !isCommon(pw) {
			t.Errorf("%q is not found in the embedded list", pw)
		}
	}
	for _, pw := range []string{"", "\n", lines[0][:len(lines[0])-1], lines[len(lines)-1] + "1", "\x00", "\xff", "a completely new passphrase"} {
		if isCommon(pw) {
			t.Errorf("%q is found but is not in the list", pw)
		}
	}
	// Every entry is found, in any case; the strings next to it (a byte less or more at the end,
	// a prefix, a suffix, the entry with its neighbour line) are found exactly when the list holds them.
	missed := 0
	for i, line := range lines {
		if !isCommon(line) || !isCommon(strings.ToUpper(line)) {
			t.Fatalf("entry %d %q is not found", i+1, line)
		}
		last := line[len(line)-1]
		near := []string{
			line[:len(line)-1], line[1:], line + "\x00", line + "~", " " + line, line + " ",
			line[:len(line)-1] + string(last-1), line[:len(line)-1] + string(last+1),
		}
		if i+1 < len(lines) {
			near = append(near, line+"\n"+lines[i+1], line+lines[i+1])
		}
		for _, s := range near {
			want := set[strings.ToLower(s)]
			if got := isCommon(s); got != want {
				t.Fatalf("isCommon(%q) = %v, want %v (next to entry %q)", s, got, want, line)
			}
			if !want {
				missed++
			}
		}
	}
	if missed < len(lines) {
		t.Fatalf("only %d near misses were tried", missed)
	}
}

func TestInSortedLines(t *testing.T) {
	for _, tt := range []struct {
		text string
		in   []string
		out  []string
	}{
		{"", nil, []string{"", "a"}},
		{"b\n", []string{"b"}, []string{"", "a", "c", "b\n", "bb"}},
		{"b", []string{"b"}, []string{"", "a", "c"}}, // no final newline
		{"a\nab\nabc\nb\n", []string{"a", "ab", "abc", "b"}, []string{"", "aa", "abcd", "ac", "ba", "a\nab"}},
	} {
		for _, k := range tt.in {
			if !inSortedLines(tt.text, k) {
				t.Errorf("inSortedLines(%q, %q) = false, want true", tt.text, k)
			}
		}
		for _, k := range tt.out {
			if inSortedLines(tt.text, k) {
				t.Errorf("inSortedLines(%q, %q) = true, want false", tt.text, k)
			}
		}
	}
}

// FuzzCommonPassword checks the bisection against a map of the file's lines for any input.
func FuzzCommonPassword(f *testing.F) {
	_, set := commonLines(f)
	for _, s := range []string{"", "password", "PassWord1", "passwor", "password\n", "zzzzzzz1", "zzzzzzz2", "!qaz2wsx", "\xff\xfe", "Ünïcödé"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isCommon(s), set[strings.ToLower(s)]; got != want {
			t.Fatalf("isCommon(%q) = %v, the map says %v", s, got, want)
		}
	})
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

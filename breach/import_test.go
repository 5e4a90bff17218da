package breach

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImportRangeDirectoryAndCombinedFile(t *testing.T) {
	dir := t.TempDir()
	pws := []string{"hunter2hunter2", "correct horse battery staple", "Tr0ub4dor&3", "lowercase file"}
	// A directory of range answers named by prefix (one with .txt, one lower-case), padding
	// lines with count 0, CRLF line ends, and a hidden file that is not read.
	for i, pw := range pws[:3] {
		h := sha1Hex(pw)
		name := h[:5]
		if i == 1 {
			name += ".txt"
		}
		if i == 2 {
			name = strings.ToLower(name)
		}
		body := fmt.Sprintf("%s:7\r\n%035X:0\r\n\r\n", h[5:], i)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, ".DS_Store"), []byte("junk"), 0o644)
	combined := filepath.Join(t.TempDir(), "pwned-passwords-sha1.txt")
	os.WriteFile(combined, []byte(strings.ToLower(sha1Hex(pws[3]))+":1\n"+sha1Hex("rare one")+":1\n"), 0o644)

	keys, st, err := Import([]string{dir, combined}, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Files != 4 || st.Lines != 8 || st.Skipped != 3 || len(keys) != 5 {
		t.Fatalf("stats %+v, %d keys", st, len(keys))
	}
	path := filepath.Join(t.TempDir(), "f")
	if _, err := WriteFilter(path, keys); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, pw := range append(pws, "rare one") {
		if ok, _ := f.Breached(t.Context(), pw); !ok {
			t.Errorf("%q not found", pw)
		}
	}
	if ok, _ := f.Breached(t.Context(), "never breached at all"); ok {
		t.Error("a password not imported is found")
	}
	// --min-count drops the rare ones.
	keys, _, _ = Import([]string{combined}, ImportOptions{MinCount: 2})
	if len(keys) != 0 {
		t.Errorf("MinCount 2 kept %d", len(keys))
	}
}

func TestImportRefusesBadLines(t *testing.T) {
	h := sha1Hex("x")
	for name, c := range map[string]struct{ file, body string }{
		"suffix without prefix name": {"hashes.txt", h[5:] + ":1\n"},
		"no colon":                   {"hashes.txt", h + "\n"},
		"short hash":                 {"hashes.txt", h[:20] + ":1\n"},
		"not hex":                    {"hashes.txt", strings.Repeat("Z", 40) + ":1\n"},
		"bad count":                  {"hashes.txt", h + ":many\n"},
		"NTLM (32 digits)":           {"hashes.txt", strings.Repeat("A", 32) + ":1\n"},
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), c.file)
			os.WriteFile(p, []byte("\n"+c.body), 0o644)
			_, _, err := Import([]string{p}, ImportOptions{})
			if err == nil || !strings.Contains(err.Error(), p+":2:") {
				t.Fatalf("err = %v; want one naming %s:2", err, p)
			}
		})
	}
	if _, _, err := Import([]string{"/nonexistent/dir"}, ImportOptions{}); err == nil {
		t.Fatal("a missing source is accepted")
	}
}

package breach

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ImportOptions tune Import.
type ImportOptions struct {
	// MinCount skips hashes seen fewer times than this in breaches (0 and 1 keep every hash
	// with a count of at least 1; padding entries, with a count of 0, are always skipped).
	MinCount uint64
}

// ImportStats describe what Import read.
type ImportStats struct {
	Files   int    // files read
	Lines   uint64 // hash lines read
	Skipped uint64 // lines below MinCount, or padding
}

// Import reads Pwned Passwords SHA-1 data from sources and returns the filter keys. A source is
// a file or a directory (read recursively, hidden files skipped). Each line is HASH:COUNT, where
// HASH is either the 40 hex digits of a SHA-1 (a combined download) or the 35-digit suffix of a
// range answer (api.pwnedpasswords.com/range/XXXXX), whose 5-digit prefix is the first five
// characters of the file's name, such as 0A1B2 or 0A1B2.txt. Upper and lower case are accepted;
// empty lines are skipped; anything else is an error naming the file and line.
func Import(sources []string, opt ImportOptions) ([]uint64, ImportStats, error) {
	var keys []uint64
	var st ImportStats
	for _, src := range sources {
		info, err := os.Stat(src)
		if err != nil {
			return nil, st, err
		}
		if !info.IsDir() {
			if keys, err = importFile(src, keys, opt, &st); err != nil {
				return nil, st, err
			}
			continue
		}
		var files []string
		err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path != src && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, st, err
		}
		slices.Sort(files)
		for _, f := range files {
			if keys, err = importFile(f, keys, opt, &st); err != nil {
				return nil, st, err
			}
		}
	}
	return keys, st, nil
}

func importFile(path string, keys []uint64, opt ImportOptions, st *ImportStats) ([]uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return keys, err
	}
	defer f.Close()
	st.Files++
	base := filepath.Base(path)
	prefix := ""
	if len(base) >= 5 && isHex(base[:5]) {
		prefix = base[:5]
	}
	return readLines(f, path, prefix, keys, opt, st)
}

func readLines(r io.Reader, name, prefix string, keys []uint64, opt ImportOptions, st *ImportStats) ([]uint64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 64*1024)
	line := 0
	var sum [20]byte
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		bad := func(why string) error {
			return fmt.Errorf("%s:%d: %s (want SHA1:COUNT, or SUFFIX:COUNT in a file named by its 5-digit prefix)", name, line, why)
		}
		h, c, ok := strings.Cut(text, ":")
		if !ok {
			return keys, bad("no colon")
		}
		switch len(h) {
		case 40:
		case 35:
			if prefix == "" {
				return keys, bad("a 35-digit suffix, but the file name does not start with a 5-digit hex prefix")
			}
			h = prefix + h
		default:
			return keys, bad(fmt.Sprintf("a hash of %d characters", len(h)))
		}
		if _, err := hex.Decode(sum[:], []byte(h)); err != nil {
			return keys, bad("not hexadecimal")
		}
		count, err := strconv.ParseUint(strings.TrimSpace(c), 10, 64)
		if err != nil {
			return keys, bad("the count is not a whole number")
		}
		st.Lines++
		if count == 0 || count < opt.MinCount {
			st.Skipped++
			continue
		}
		keys = append(keys, keyOf(sum))
	}
	if err := sc.Err(); err != nil {
		return keys, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	return keys, nil
}

func isHex(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}

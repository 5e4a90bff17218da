package breach

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/binary"
	"math"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

func randomHashes(t testing.TB, n int) [][sha1.Size]byte {
	t.Helper()
	out := make([][sha1.Size]byte, n)
	for i := range out {
		rand.Read(out[i][:])
	}
	return out
}

func keysOf(hashes [][sha1.Size]byte) []uint64 {
	keys := make([]uint64, len(hashes))
	for i, h := range hashes {
		keys[i] = keyOf(h)
	}
	return keys
}

// buildFile writes a filter of hashes to a temp dir and opens it.
func buildFile(t testing.TB, hashes [][sha1.Size]byte) (*Filter, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "breach.filter")
	n, err := WriteFilter(path, keysOf(hashes))
	if err != nil {
		t.Fatal(err)
	}
	if n != uint64(len(hashes)) {
		t.Fatalf("count %d, want %d", n, len(hashes))
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, path
}

// TestFilterNoFalseNegativesAndFalsePositiveRate is the measure: a filter of 100,000
// random SHA-1 hashes finds every one of them, and of 1,000,000 other random hashes at most
// 1e-6 of them (one) are reported; with 32-bit fingerprints the expectation is 0.00023.
func TestFilterNoFalseNegativesAndFalsePositiveRate(t *testing.T) {
	hashes := randomHashes(t, 100_000)
	f, path := buildFile(t, hashes)
	for i, h := range hashes {
		if !f.ContainsHash(h) {
			t.Fatalf("false negative: hash %d not found", i)
		}
	}
	const trials = 1_000_000
	fp := 0
	var h [sha1.Size]byte
	for range trials {
		rand.Read(h[:])
		if f.ContainsHash(h) {
			fp++
		}
	}
	rate := float64(fp) / trials
	t.Logf("false positives: %d of %d random hashes (rate %.2g; bound %.2g); file %d bytes for %d hashes (%.2f bytes each)",
		fp, trials, rate, FalsePositiveRate, f.Size(), f.Count(), float64(f.Size())/float64(f.Count()))
	if rate > 1e-6 {
		t.Fatalf("false-positive rate %g > 1e-6", rate)
	}
	if st, _ := os.Stat(path); st.Size() > 5*int64(len(hashes))+headerSize+1<<16 {
		t.Errorf("file of %d bytes for %d hashes: not compact", st.Size(), len(hashes))
	}
}

// TestFuseSizes builds filters of many sizes, including the edge cases, and checks every key.
func TestFuseSizes(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 4, 7, 10, 100, 1000, 4096, 12345, 65537, 250_000} {
		keys := make([]uint64, n)
		for i := range keys {
			keys[i] = mrand.Uint64()
		}
		want := append([]uint64(nil), keys...)
		p, fps, err := buildFuse(keys)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if !p.valid() || uint32(len(fps)) != p.ArrayLength {
			t.Fatalf("n=%d: invalid shape %+v (len %d)", n, p, len(fps))
		}
		for _, k := range want {
			hash := mixsplit(k, p.Seed)
			i0, i1, i2 := p.positions(hash)
			if fingerprint(hash)^fps[i0]^fps[i1]^fps[i2] != 0 {
				t.Fatalf("n=%d: key %x missing", n, k)
			}
		}
		if n >= 100_000 && float64(len(fps))/float64(n) > 1.2 {
			t.Errorf("n=%d: %d slots, %.3f per key", n, len(fps), float64(len(fps))/float64(n))
		}
	}
}

// TestFuseDuplicates: duplicate keys (the same hash in two range files) are fine.
func TestFuseDuplicates(t *testing.T) {
	keys := []uint64{5, 5, 5, 9, 9, 1 << 63, 1 << 63, 42}
	p, fps, err := buildFuse(keys)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []uint64{5, 9, 1 << 63, 42} {
		hash := mixsplit(k, p.Seed)
		i0, i1, i2 := p.positions(hash)
		if fingerprint(hash)^fps[i0]^fps[i1]^fps[i2] != 0 {
			t.Fatalf("key %d missing", k)
		}
	}
}

func TestEmptyFilter(t *testing.T) {
	f, _ := buildFile(t, nil)
	var h [sha1.Size]byte
	misses := 0
	for range 1000 {
		rand.Read(h[:])
		if !f.ContainsHash(h) {
			misses++
		}
	}
	// An empty filter's fingerprints are all zero: a hash is found only if its fingerprint is 0.
	if misses < 999 {
		t.Fatalf("empty filter matched %d of 1000", 1000-misses)
	}
}

// TestFileFormatRefusals: anything but an intact file of this version is refused at Open.
func TestFileFormatRefusals(t *testing.T) {
	_, path := buildFile(t, randomHashes(t, 1000))
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	reseal := func(b []byte) []byte { // a header edited consistently, checksum and all
		binary.LittleEndian.PutUint32(b[60:], crcHeader(b))
		return b
	}
	cases := map[string][]byte{
		"empty":              {},
		"header only":        good[:headerSize],
		"truncated header":   good[:30],
		"truncated data":     good[:len(good)-4],
		"one byte short":     good[:len(good)-1],
		"padded":             append(append([]byte(nil), good...), 0, 0, 0, 0),
		"bad magic":          mutate(func(b []byte) []byte { b[0] = 'X'; return reseal(b) }),
		"wrong version":      mutate(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[8:], 2); return reseal(b) }),
		"version 0":          mutate(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[8:], 0); return reseal(b) }),
		"16-bit prints":      mutate(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[12:], 16); return reseal(b) }),
		"header bit flip":    mutate(func(b []byte) []byte { b[24] ^= 1; return b }),
		"data bit flip":      mutate(func(b []byte) []byte { b[headerSize+100] ^= 0x80; return b }),
		"segment not pow2":   mutate(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[32:], 3); return reseal(b) }),
		"array too long":     mutate(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[40:], math.MaxUint32); return reseal(b) }),
		"segment count zero": mutate(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[36:], 0); return reseal(b) }),
		"text file":          []byte("5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8:3861493\n"),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			f, err := Open(write(name, b))
			if err == nil {
				f.Close()
				t.Fatal("opened")
			}
			t.Log(err)
		})
	}
	if _, err := Open(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("opened a missing file")
	}
	if _, err := Open(dir); err == nil {
		t.Fatal("opened a directory")
	}
	f, err := Open(write("good", good))
	if err != nil {
		t.Fatalf("the untouched copy: %v", err)
	}
	f.Close()
}

func crcHeader(b []byte) uint32 { return crc32Checksum(b[:60]) }

// BenchmarkFilterLookup is the cost of one offline check of a password already hashed, on a
// filter of a million hashes (the lookup is three reads from the mapped file).
func BenchmarkFilterLookup(b *testing.B) {
	f, _ := buildFile(b, randomHashes(b, 1_000_000))
	probes := randomHashes(b, 4096)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		f.ContainsHash(probes[i&4095])
	}
}

// BenchmarkBreached is the whole offline check of a password: SHA-1 and the lookup.
func BenchmarkBreached(b *testing.B) {
	f, _ := buildFile(b, randomHashes(b, 1_000_000))
	ctx := b.Context()
	for b.Loop() {
		f.Breached(ctx, "correct horse battery staple")
	}
}

// FuzzParse: no file, however crafted, makes the parser or a lookup panic; a file it accepts
// answers every lookup from inside its fingerprints.
func FuzzParse(f *testing.F) {
	path := filepath.Join(f.TempDir(), "good")
	if _, err := WriteFilter(path, []uint64{1, 2, 3, 4, 5}); err != nil {
		f.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	f.Add(b)
	f.Add(b[:headerSize])
	f.Add([]byte(fileMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Any file the fuzzer makes is resealed, so the checks behind the checksums are reached.
		if len(data) >= headerSize {
			binary.LittleEndian.PutUint32(data[44:], crc32Checksum(data[headerSize:]))
			binary.LittleEndian.PutUint32(data[60:], crc32Checksum(data[:60]))
		}
		flt, err := parse(data)
		if err != nil {
			return
		}
		var h [sha1.Size]byte
		for i := range 64 {
			h[0], h[7] = byte(i), byte(i*37)
			flt.ContainsHash(h)
		}
	})
}

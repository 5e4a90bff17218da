// Package password hashes passwords with argon2id on a bounded worker pool and checks new
// passwords against a length and common-password policy.
package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over memory
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams is the OWASP minimum for argon2id (19 MiB, 2 passes, 1 lane).
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Limits on parameters, shared by configuration and by parsing of stored hashes. A stored hash
// chooses how much memory and time its own verification costs, so anything beyond these is
// treated as corrupt rather than honoured: one bad row must not be able to stall or OOM the
// server.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 20
	minSaltLen   = 8
	maxSaltLen   = 128
	minKeyLen    = 8
	maxKeyLen    = 128
)

// ErrMalformedHash is wrapped by every error about a stored hash that cannot be parsed. Such a
// hash means corrupt data, a server-side fault, not a wrong password.
var ErrMalformedHash = errors.New("password: malformed argon2id hash")

// Validate reports whether p is within the limits this package accepts, both for hashing and
// for verifying stored hashes.
func (p Params) Validate() error {
	switch {
	case p.Threads < 1:
		return errors.New("threads must be at least 1")
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("time must be between 1 and %d", maxTime)
	// argon2 silently raises memory below 8 KiB per lane; refusing it keeps the encoded m equal
	// to the real cost, which needsRehash compares.
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemoryKiB:
		return fmt.Errorf("memory must be between 8*threads and %d KiB", maxMemoryKiB)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("salt length must be between %d and %d bytes", minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("key length must be between %d and %d bytes", minKeyLen, maxKeyLen)
	}
	return nil
}

// weakerThan reports whether hashes made with p are cheaper to attack than ones made with cur.
// Threads are left out: more lanes change the output but not the work an attacker must do.
func (p Params) weakerThan(cur Params) bool {
	return p.Memory < cur.Memory || p.Time < cur.Time || p.SaltLen < cur.SaltLen || p.KeyLen < cur.KeyLen
}

// b64 is the PHC encoding: standard alphabet, no padding.
var b64 = base64.RawStdEncoding.Strict()

func encodePHC(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// maxEncodedLen bounds the input before any work is done on it; the longest valid string is
// well under this.
const maxEncodedLen = 512

// decodePHC parses exactly the canonical form encodePHC produces. Any other spelling of the same
// value (reordered or extra parameters, leading zeros, padding, line breaks) is refused, so a
// stored hash has one meaning and tampering shows up as an error.
func decodePHC(s string) (Params, []byte, []byte, error) {
	fail := func(format string, args ...any) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("%w: %s", ErrMalformedHash, fmt.Sprintf(format, args...))
	}
	if len(s) > maxEncodedLen {
		return fail("longer than %d bytes", maxEncodedLen)
	}
	// "" $ "argon2id" $ "v=19" $ "m=..,t=..,p=.." $ salt $ key
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return fail("want 5 $-separated fields")
	}
	if parts[1] != "argon2id" {
		return fail("algorithm %q is not argon2id", parts[1])
	}
	v, ok := strings.CutPrefix(parts[2], "v=")
	if !ok {
		return fail("missing version")
	}
	if n, err := parseDecimal(v, 32); err != nil || n != argon2.Version {
		return fail("unsupported version %q", v)
	}

	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return fail("want parameters m, t, p")
	}
	var nums [3]uint64
	for i, name := range []string{"m", "t", "p"} {
		val, ok := strings.CutPrefix(kv[i], name+"=")
		if !ok {
			return fail("parameter %d is not %s", i+1, name)
		}
		bits := 32
		if name == "p" {
			bits = 8
		}
		n, err := parseDecimal(val, bits)
		if err != nil {
			return fail("parameter %s: %v", name, err)
		}
		nums[i] = n
	}

	salt, err := decodeB64(parts[4])
	if err != nil {
		return fail("salt: %v", err)
	}
	key, err := decodeB64(parts[5])
	if err != nil {
		return fail("hash: %v", err)
	}
	p := Params{
		Memory:  uint32(nums[0]),
		Time:    uint32(nums[1]),
		Threads: uint8(nums[2]),
		SaltLen: uint32(len(salt)),
		KeyLen:  uint32(len(key)),
	}
	if err := p.Validate(); err != nil {
		return fail("%v", err)
	}
	return p, salt, key, nil
}

// parseDecimal accepts only what PHC allows: ASCII digits, no sign, no leading zero.
// strconv alone would let zero-padded numbers like "019" through.
func parseDecimal(s string, bits int) (uint64, error) {
	if s == "" {
		return 0, errors.New("empty number")
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, errors.New("leading zero")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("not a decimal number")
		}
	}
	n, err := strconv.ParseUint(s, 10, bits)
	if err != nil {
		return 0, errors.New("number out of range")
	}
	return n, nil
}

// decodeB64 re-encodes the result and compares, because the standard decoder skips CR and LF
// anywhere in its input.
func decodeB64(s string) ([]byte, error) {
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, errors.New("invalid base64")
	}
	if b64.EncodeToString(b) != s {
		return nil, errors.New("non-canonical base64")
	}
	return b, nil
}

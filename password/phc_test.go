package password

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// cheap keeps tests fast; the pool and the format do not depend on the cost.
var cheap = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

var (
	salt16 = b64.EncodeToString([]byte("somesaltsomesalt"))
	key32  = b64.EncodeToString(bytes.Repeat([]byte{0xAB}, 32))
)

func TestEncodeDefaultParams(t *testing.T) {
	got := encodePHC(DefaultParams, []byte("somesaltsomesalt"), bytes.Repeat([]byte{0xAB}, 32))
	want := "$argon2id$v=19$m=19456,t=2,p=1$" + salt16 + "$" + key32
	if got != want {
		t.Fatalf("encodePHC(DefaultParams) = %q, want %q", got, want)
	}
}

func TestHashPHCFormat(t *testing.T) {
	h := NewHasher(cheap, 1, 0)
	enc, err := h.Hash(context.Background(), "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	// 16 bytes of salt and 32 of key are 22 and 43 unpadded base64 characters.
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !re.MatchString(enc) {
		t.Fatalf("Hash = %q, not the expected PHC form", enc)
	}
	p, salt, key, err := decodePHC(enc)
	if err != nil {
		t.Fatalf("decodePHC(own output): %v", err)
	}
	if p != cheap || len(salt) != 16 || len(key) != 32 {
		t.Fatalf("decodePHC = %+v, salt %d, key %d bytes", p, len(salt), len(key))
	}
	if again := encodePHC(p, salt, key); again != enc {
		t.Fatalf("re-encoding changed the string: %q", again)
	}
}

func TestDecodeMalformed(t *testing.T) {
	valid := func(params string) string {
		return "$argon2id$v=19$" + params + "$" + salt16 + "$" + key32
	}
	short := b64.EncodeToString([]byte("1234567")) // 7 bytes
	tests := []struct{ name, enc string }{
		{"empty", ""},
		{"garbage", "not a hash"},
		{"bcrypt", "$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"},
		{"wrong alg argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt16 + "$" + key32},
		{"wrong alg case", "$Argon2id$v=19$m=64,t=1,p=1$" + salt16 + "$" + key32},
		{"old version", "$argon2id$v=16$m=64,t=1,p=1$" + salt16 + "$" + key32},
		{"missing version", "$argon2id$m=64,t=1,p=1$" + salt16 + "$" + key32},
		{"version leading zero", "$argon2id$v=019$m=64,t=1,p=1$" + salt16 + "$" + key32},
		{"bad base64 salt", "$argon2id$v=19$m=64,t=1,p=1$!!!notbase64!!!$" + key32},
		{"bad base64 hash", "$argon2id$v=19$m=64,t=1,p=1$" + salt16 + "$" + key32[:len(key32)-1] + "*"},
		{"padded base64", valid("m=64,t=1,p=1") + "="},
		{"newline in base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt16[:4] + "\n" + salt16[4:] + "$" + key32},
		{"non-canonical trailing bits", "$argon2id$v=19$m=64,t=1,p=1$" + salt16[:len(salt16)-1] + "B$" + key32},
		{"huge m", valid("m=2000000,t=1,p=1")},
		{"m above 1 GiB", valid("m=1048577,t=1,p=1")},
		{"m overflows uint32", valid("m=99999999999,t=1,p=1")},
		{"m below 8 per lane", valid("m=8,t=1,p=2")},
		{"t zero", valid("m=64,t=0,p=1")},
		{"t above 20", valid("m=64,t=21,p=1")},
		{"p zero", valid("m=64,t=1,p=0")},
		{"p overflows uint8", valid("m=4096,t=1,p=256")},
		{"negative", valid("m=-64,t=1,p=1")},
		{"plus sign", valid("m=+64,t=1,p=1")},
		{"leading zero", valid("m=064,t=1,p=1")},
		{"empty number", valid("m=,t=1,p=1")},
		{"reordered", valid("t=1,m=64,p=1")},
		{"missing p", valid("m=64,t=1")},
		{"extra param", valid("m=64,t=1,p=1,data=abc")},
		{"spaces", valid("m=64, t=1, p=1")},
		{"short salt", "$argon2id$v=19$m=64,t=1,p=1$" + short + "$" + key32},
		{"short hash", "$argon2id$v=19$m=64,t=1,p=1$" + salt16 + "$" + short},
		{"empty salt", "$argon2id$v=19$m=64,t=1,p=1$$" + key32},
		{"missing hash", "$argon2id$v=19$m=64,t=1,p=1$" + salt16},
		{"trailing field", valid("m=64,t=1,p=1") + "$"},
		{"leading text", "x" + valid("m=64,t=1,p=1")},
		{"very long", valid("m=64,t=1,p=1") + strings.Repeat("A", 4096)},
	}
	h := NewHasher(cheap, 1, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, _, err := decodePHC(tt.enc); !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("decodePHC(%q) error = %v, want ErrMalformedHash", tt.enc, err)
			}
			before := h.computed.Load()
			ok, rehash, err := h.Verify(context.Background(), "password", tt.enc)
			if ok || rehash || !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("Verify = %v, %v, %v; want false, false, ErrMalformedHash", ok, rehash, err)
			}
			// The dummy hash must still run, so a corrupt row costs what a real one costs.
			if n := h.computed.Load() - before; n != 1 {
				t.Fatalf("Verify of a malformed hash ran %d computations, want 1", n)
			}
		})
	}
}

func TestDecodeLimitsAccepted(t *testing.T) {
	// The edges of the limits are valid, so hashes made at them can be verified later.
	for _, params := range []string{"m=1048576,t=20,p=1", "m=8,t=1,p=1", "m=2040,t=1,p=255"} {
		enc := "$argon2id$v=19$" + params + "$" + salt16 + "$" + key32
		if _, _, _, err := decodePHC(enc); err != nil {
			t.Errorf("decodePHC(%q): %v", enc, err)
		}
	}
}

func TestParamsValidate(t *testing.T) {
	if err := DefaultParams.Validate(); err != nil {
		t.Fatalf("DefaultParams.Validate: %v", err)
	}
	bad := []Params{
		{},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 4},
		{Memory: 2 << 20, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 21, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 0, SaltLen: 16, KeyLen: 32},
	}
	for _, p := range bad {
		if p.Validate() == nil {
			t.Errorf("%+v.Validate() = nil, want an error", p)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("NewHasher with invalid params did not panic")
		}
	}()
	NewHasher(Params{}, 1, 0)
}

// FuzzVerifyEncoded feeds arbitrary strings to the parser and, when they parse to cheap
// parameters, to Verify. Neither may panic, and anything that parses must be canonical.
func FuzzVerifyEncoded(f *testing.F) {
	h := NewHasher(cheap, 1, 0)
	// Fixed salt, because each fuzz worker is its own process and must agree on the real hash.
	fixedSalt := []byte("fuzzsaltfuzzsalt")
	good := encodePHC(cheap, fixedSalt, h.derive("pw", fixedSalt, cheap))
	for _, s := range []string{
		"", "$", "$$$$$", good, good + "$", strings.Replace(good, "m=64", "m=064", 1),
		"$argon2id$v=19$m=64,t=1,p=1$" + salt16 + "$" + key32,
		"$argon2id$v=19$m=4294967296,t=1,p=1$" + salt16 + "$" + key32,
		"$argon2id$v=19$m=64,t=1,p=1$\n$\r",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, enc string) {
		p, salt, key, err := decodePHC(enc)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("decodePHC error %v does not wrap ErrMalformedHash", err)
			}
			return
		}
		if again := encodePHC(p, salt, key); again != enc {
			t.Fatalf("accepted non-canonical %q (canonical %q)", enc, again)
		}
		if p.Memory > 1024 || p.Time > 2 || p.Threads > 4 {
			return // valid but too slow to run thousands of times
		}
		ok, _, err := h.Verify(context.Background(), "pw", enc)
		if err != nil {
			t.Fatalf("Verify(%q) error after a successful parse: %v", enc, err)
		}
		if ok && enc != good {
			t.Fatalf("Verify(%q) matched a string other than the real hash", enc)
		}
	})
}

func ExampleHasher_Hash() {
	h := NewHasher(DefaultParams, 0, 0)
	enc, _ := h.Hash(context.Background(), "correct horse battery staple")
	fmt.Println(enc[:len("$argon2id$v=19$m=19456,t=2,p=1$")])
	// Output: $argon2id$v=19$m=19456,t=2,p=1$
}

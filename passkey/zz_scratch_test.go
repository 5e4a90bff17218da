package passkey

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"testing"
	"context"

	"github.com/fxamacker/cbor/v2"
	"github.com/gatehouse/gatehouse"
)

var b64s = base64.RawURLEncoding

func TestScratchHostileRegistrations(t *testing.T) {
	rp, err := New(Config{RPID: "localhost", Origins: []string{"https://localhost:8443"}})
	if err != nil {
		t.Fatal(err)
	}
	pu := gatehouse.PasskeyUser{Handle: []byte("user-1"), Name: "a@example.com", DisplayName: "A"}
	keys := map[string]any{
		"okp-badx":  map[int]any{1: 1, 3: -8, -1: 6, -2: []byte{1, 2}},
		"okp-crv99": map[int]any{1: 1, 3: -8, -1: 99, -2: make([]byte, 32)},
		"ec2-crv99": map[int]any{1: 2, 3: -7, -1: 99, -2: make([]byte, 32), -3: make([]byte, 32)},
		"ec2-short": map[int]any{1: 2, 3: -7, -1: 1, -2: []byte{1}, -3: []byte{}},
		"ec2-zero":  map[int]any{1: 2, 3: -7, -1: 1, -2: make([]byte, 32), -3: make([]byte, 32)},
		"rsa-empty": map[int]any{1: 3, 3: -257, -1: []byte{}, -2: []byte{}},
		"rsa-e0":    map[int]any{1: 3, 3: -257, -1: make([]byte, 256), -2: []byte{0}},
		"rsa-hugee": map[int]any{1: 3, 3: -257, -1: append([]byte{0xff}, make([]byte, 255)...), -2: []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		"kty0":      map[int]any{1: 0, 3: -7},
		"nokty":     map[int]any{3: -7},
		"notmap":    []int{1, 2, 3},
		"alg-weird": map[int]any{1: 2, 3: -999, -1: 1, -2: make([]byte, 32), -3: make([]byte, 32)},
	}
	stmts := map[string]map[string]any{
		"none":              {},
		"packed-x5c":        {"alg": -7, "sig": []byte{1, 2}, "x5c": []any{[]byte{1, 2, 3}}},
		"packed-self":       {"alg": -7, "sig": []byte{1, 2}},
		"packed-empty":      {},
		"tpm":               {"ver": "2.0", "alg": -257, "x5c": []any{[]byte{1}}, "sig": []byte{1}, "certInfo": []byte{1, 2, 3}, "pubArea": []byte{0, 1}},
		"tpm-empty":         {"ver": "2.0"},
		"android-key":       {"alg": -7, "sig": []byte{1}, "x5c": []any{[]byte{1}}},
		"android-key-e":     {},
		"apple":             {"x5c": []any{[]byte{1}}},
		"apple-e":           {},
		"android-safetynet": {"ver": "1", "response": []byte("a.b.c")},
		"android-safetynet-e": {},
		"fido-u2f":          {"sig": []byte{1}, "x5c": []any{[]byte{1}}},
		"fido-u2f-e":        {},
		"compound":          {},
	}
	for kname, key := range keys {
		for sname, stmt := range stmts {
			fmtName := sname
			for _, suf := range []string{"-x5c", "-self", "-empty", "-e"} {
				if len(fmtName) > len(suf) && fmtName[len(fmtName)-len(suf):] == suf {
					fmtName = fmtName[:len(fmtName)-len(suf)]
				}
			}
			name := kname + "/" + sname
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Errorf("%s: PANIC %v", name, p)
					}
				}()
				opts, state, err := rp.BeginRegistration(pu, nil)
				if err != nil {
					t.Fatal(err)
				}
				var o struct{ Challenge string }
				_ = json.Unmarshal(opts, &o)
				cd, _ := json.Marshal(map[string]any{"type": "webauthn.create", "challenge": o.Challenge, "origin": "https://localhost:8443"})
				cose, _ := cbor.Marshal(key)
				h := sha256.Sum256([]byte("localhost"))
				auth := append([]byte{}, h[:]...)
				auth = append(auth, 0x45|0x40)
				auth = binary.BigEndian.AppendUint32(auth, 0)
				auth = append(auth, make([]byte, 16)...)
				id := []byte("credential-id-" + name)
				auth = binary.BigEndian.AppendUint16(auth, uint16(len(id)))
				auth = append(auth, id...)
				auth = append(auth, cose...)
				att, _ := cbor.Marshal(map[string]any{"fmt": fmtName, "attStmt": stmt, "authData": auth})
				cred, _ := json.Marshal(map[string]any{"id": b64s.EncodeToString(id), "rawId": b64s.EncodeToString(id), "type": "public-key",
					"response": map[string]any{"clientDataJSON": b64s.EncodeToString(cd), "attestationObject": b64s.EncodeToString(att)}})
				pk, err := rp.FinishRegistration(pu, state, cred)
				if err == nil {
					fmt.Printf("ACCEPTED %s\n", name)
					// try a login with garbage signature
					lo, ls, _ := rp.BeginLogin(nil, nil)
					var lo2 struct{ Challenge string }
					_ = json.Unmarshal(lo, &lo2)
					cd2, _ := json.Marshal(map[string]any{"type": "webauthn.get", "challenge": lo2.Challenge, "origin": "https://localhost:8443"})
					ad := append([]byte{}, h[:]...)
					ad = append(ad, 0x05)
					ad = binary.BigEndian.AppendUint32(ad, 1)
					for _, sig := range [][]byte{{}, {0x30, 0}, make([]byte, 64), make([]byte, 256)} {
						as, _ := json.Marshal(map[string]any{"id": b64s.EncodeToString(id), "rawId": b64s.EncodeToString(id), "type": "public-key",
							"response": map[string]any{"clientDataJSON": b64s.EncodeToString(cd2), "authenticatorData": b64s.EncodeToString(ad), "signature": b64s.EncodeToString(sig), "userHandle": b64s.EncodeToString(pu.Handle)}})
						pk.ID = "x"
						_, err := rp.FinishLogin(t.Context(), ls, as, func(_ context.Context, _, _ []byte) (gatehouse.PasskeyUser, []*gatehouse.Passkey, error) {
							return pu, []*gatehouse.Passkey{pk}, nil
						})
						if err == nil {
							t.Errorf("%s: login accepted", name)
						}
					}
				}
			}()
		}
	}
}

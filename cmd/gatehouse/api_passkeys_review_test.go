package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/gatehouse/gatehouse/internal/smtptest"
	"github.com/gatehouse/gatehouse/internal/webauthntest"
)

// Review findings on passkeys (docs/security.md section 15).

// TestPasskeyMFAOptionsConcurrent: asking for the passkey options of one mfa_token several times
// at once (a double click, two tabs) answers every request with options, never a 500: the
// ceremony of the mfa_token is replaced, whichever request writes last.
func TestPasskeyMFAOptionsConcurrent(t *testing.T) {
	s := startPasskeyServer(t)
	a := s.register(t)
	key := webauthntest.New(passkeyOrigin)
	s.addPasskey(t, a, key, "Key")
	r := s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": a.Email, "password": a.Password})
	expectProblem(t, r, http.StatusUnauthorized, "mfa_required")
	token := r.str(t, "mfa_token")
	for round := range 5 {
		rs := concurrently(8, func(int) *response {
			return s.do(t, "POST", "/api/v1/auth/mfa/webauthn/options", map[string]string{"mfa_token": token})
		})
		if counts := statusCounts(rs); counts[http.StatusOK] != 8 {
			t.Fatalf("round %d: concurrent options of one mfa_token: %v", round, counts)
		}
	}
	// The last options written serve the sign-in.
	o := s.do(t, "POST", "/api/v1/auth/mfa/webauthn/options", map[string]string{"mfa_token": token})
	expectStatus(t, o, http.StatusOK)
	cred, err := key.Get(publicKeyOf(t, o), webauthntest.Tamper{})
	if err != nil {
		t.Fatal(err)
	}
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]any{"mfa_token": token, "credential": json.RawMessage(cred)}), http.StatusOK)
}

// TestPasskeyAddedNotice: adding a passkey binds a new way to sign in (alone, at aal2), so the
// mailbox owner is told, as after a password change or a linked provider: whoever planted a
// passkey with a borrowed session must not go unnoticed. The notice does not carry the passkey's
// name (text chosen by whoever added it).
func TestPasskeyAddedNotice(t *testing.T) {
	mail := smtptest.Start(t, smtptest.Options{})
	s := startPasskeyServer(t, mailEnv(mail)...)
	a := s.register(t)
	s.addPasskey(t, a, webauthntest.New(passkeyOrigin), "Call +1 555 0100 to keep your account")
	m := mail.Await(t, mailWait, func(m *smtptest.Message) bool {
		return len(m.To) == 1 && m.To[0] == a.Email && strings.Contains(strings.ToLower(m.Subject), "passkey")
	})
	if !strings.Contains(m.Text, testAppURL) || strings.Contains(m.Text+m.HTML+m.Subject, "555 0100") {
		t.Fatalf("notice: %q\n%s", m.Subject, m.Text)
	}
}

// TestPasskeyUnusableKeyRefused: a registration whose public key is no key (no key type, a
// point off the curve, an empty RSA modulus) is refused and nothing is stored. Stored, it could
// never sign in, yet it would count as the account's second factor: the next password sign-in
// would ask for a passkey that cannot answer.
func TestPasskeyUnusableKeyRefused(t *testing.T) {
	s := startPasskeyServer(t)
	a := s.register(t)
	mustCBOR := func(v any) []byte {
		b, err := cbor.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	keys := map[string][]byte{
		"no key type":         mustCBOR(map[int]any{3: -7}),
		"point off the curve": mustCBOR(map[int]any{1: 2, 3: -7, -1: 1, -2: make([]byte, 32), -3: make([]byte, 32)}),
		"unknown curve":       mustCBOR(map[int]any{1: 2, 3: -7, -1: 99, -2: make([]byte, 32), -3: make([]byte, 32)}),
		"empty RSA modulus":   mustCBOR(map[int]any{1: 3, 3: -257, -1: []byte{}, -2: []byte{1, 0, 1}}),
	}
	for name, key := range keys {
		r := s.do(t, "POST", "/api/v1/users/me/passkeys/register/options", nil, bearer(a.Access))
		expectStatus(t, r, http.StatusOK)
		cred, _, err := webauthntest.New(passkeyOrigin).Create(publicKeyOf(t, r), webauthntest.Tamper{COSEKey: key})
		if err != nil {
			t.Fatal(err)
		}
		reg := s.do(t, "POST", "/api/v1/users/me/passkeys/register", map[string]any{
			"ceremony_id": r.str(t, "ceremony_id"), "name": name, "credential": json.RawMessage(cred)}, bearer(a.Access))
		if reg.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s", name, reg.Status, reg.Body)
		}
	}
	if got := s.do(t, "GET", "/api/v1/users/me/passkeys", nil, bearer(a.Access)); strings.TrimSpace(string(got.Body)) != "[]" {
		t.Fatalf("stored: %s", got.Body)
	}
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": a.Email, "password": a.Password}), http.StatusOK)
}

// TestPasskeyRegistrationCeremoniesBounded: a signed-in user asking for creation options again
// and again keeps one registration ceremony in the store, not one per request: the newest
// options replace the previous ones (which then answer invalid_ceremony), as new options of a
// sign-in's second step replace that step's.
func TestPasskeyRegistrationCeremoniesBounded(t *testing.T) {
	s := startPasskeyServer(t)
	a := s.register(t)
	var first *response
	for i := range 30 {
		r := s.do(t, "POST", "/api/v1/users/me/passkeys/register/options", nil, bearer(a.Access))
		expectStatus(t, r, http.StatusOK)
		if i == 0 {
			first = r
		}
	}
	if kept := s.sqlStrings(t, "SELECT kind FROM passkey_ceremonies WHERE user_id = '"+a.ID+"'"); len(kept) != 1 {
		t.Fatalf("%d registration ceremonies kept for one user", len(kept))
	}
	cred, _, err := webauthntest.New(passkeyOrigin).Create(publicKeyOf(t, first), webauthntest.Tamper{})
	if err != nil {
		t.Fatal(err)
	}
	expectProblem(t, s.do(t, "POST", "/api/v1/users/me/passkeys/register", map[string]any{
		"ceremony_id": first.str(t, "ceremony_id"), "credential": json.RawMessage(cred)}, bearer(a.Access)), http.StatusBadRequest, "invalid_ceremony")
	s.addPasskey(t, a, webauthntest.New(passkeyOrigin), "Newest options")
}

// TestPasskeyLimit: at most 20 passkeys per account; removing one makes room again.
func TestPasskeyLimit(t *testing.T) {
	s := startPasskeyServer(t)
	a := s.register(t)
	var last string
	for i := range 20 {
		last = s.addPasskey(t, a, webauthntest.New(passkeyOrigin), "Key "+string(rune('A'+i)))
	}
	expectProblem(t, s.do(t, "POST", "/api/v1/users/me/passkeys/register/options", nil, bearer(a.Access)), http.StatusConflict, "passkey_limit")
	expectStatus(t, s.do(t, "DELETE", "/api/v1/users/me/passkeys/"+last, nil, bearer(a.Access)), http.StatusOK)
	s.addPasskey(t, a, webauthntest.New(passkeyOrigin), "Room again")
	expectProblem(t, s.do(t, "POST", "/api/v1/users/me/passkeys/register/options", nil, bearer(a.Access)), http.StatusConflict, "passkey_limit")
}

// TestPasskeyRSAKeySize: an RSA key outside 2048 to 8192 bits is refused at registration. A
// modulus of hundreds of thousands of bits (the credential may be 64 KiB) would make every
// verification against it cost seconds of CPU, and anyone may send an assertion naming its
// credential id to the passwordless sign-in, unauthenticated; a 1024-bit one is breakable. A
// 2048-bit key is accepted.
func TestPasskeyRSAKeySize(t *testing.T) {
	s := startPasskeyServer(t)
	a := s.register(t)
	rsaKey := func(bits int) []byte {
		n := make([]byte, bits/8)
		for i := range n {
			n[i] = 0xc5
		}
		b, err := cbor.Marshal(map[int]any{1: 3, 3: -257, -1: n, -2: []byte{1, 0, 1}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	register := func(bits int) *response {
		r := s.do(t, "POST", "/api/v1/users/me/passkeys/register/options", nil, bearer(a.Access))
		expectStatus(t, r, http.StatusOK)
		cred, _, err := webauthntest.New(passkeyOrigin).Create(publicKeyOf(t, r), webauthntest.Tamper{COSEKey: rsaKey(bits)})
		if err != nil {
			t.Fatal(err)
		}
		return s.do(t, "POST", "/api/v1/users/me/passkeys/register", map[string]any{
			"ceremony_id": r.str(t, "ceremony_id"), "credential": json.RawMessage(cred)}, bearer(a.Access))
	}
	for _, bits := range []int{65536, 16384, 1024} {
		expectProblem(t, register(bits), http.StatusUnprocessableEntity, "passkey_rejected")
	}
	if got := s.do(t, "GET", "/api/v1/users/me/passkeys", nil, bearer(a.Access)); strings.TrimSpace(string(got.Body)) != "[]" {
		t.Fatalf("stored: %s", got.Body)
	}
	expectStatus(t, register(2048), http.StatusCreated)
}

// TestPasskeyAttestationCertificateKeySize: a "packed" attestation whose certificate holds an
// RSA key above 8192 bits is refused before its signature is checked: go-webauthn verifies
// attestation signatures without a bound on the key, so any signed-up account could make each
// registration attempt cost up to a second of CPU. The test's certificate key (65,536 bits, e=3)
// is built so that the attestation verifies: without the check, the registration succeeds.
func TestPasskeyAttestationCertificateKeySize(t *testing.T) {
	s := startPasskeyServer(t)
	a := s.register(t)
	r := s.do(t, "POST", "/api/v1/users/me/passkeys/register/options", nil, bearer(a.Access))
	expectStatus(t, r, http.StatusOK)
	var o struct {
		Challenge string
		RP        struct{ ID string }
	}
	if err := json.Unmarshal(publicKeyOf(t, r), &o); err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding
	clientData, _ := json.Marshal(map[string]any{"type": "webauthn.create", "challenge": o.Challenge, "origin": passkeyOrigin, "crossOrigin": false})
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x, y := key.PublicKey.X.FillBytes(make([]byte, 32)), key.PublicKey.Y.FillBytes(make([]byte, 32))
	cose, _ := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y})
	id := make([]byte, 32)
	_, _ = rand.Read(id)
	rpHash := sha256.Sum256([]byte(o.RP.ID))
	authData := append(rpHash[:], 0x45) // UP, UV, AT
	authData = binary.BigEndian.AppendUint32(authData, 0)
	authData = append(authData, make([]byte, 16)...)
	authData = binary.BigEndian.AppendUint16(authData, uint16(len(id)))
	authData = append(append(authData, id...), cose...)
	cdh := sha256.Sum256(clientData)
	digest := sha256.Sum256(append(append([]byte{}, authData...), cdh[:]...))

	// An RSA public key (N, 3) for which s^3 mod N is the PKCS#1 v1.5 encoding of digest: N = s^3 - m.
	const k = 8192 // bytes
	m := new(big.Int).SetBytes(pkcs1SHA256(k, digest[:]))
	target := new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), 8*k-1), m)
	sig := new(big.Int).Add(cubeRoot(target), big.NewInt(1))
	var n *big.Int
	for {
		n = new(big.Int).Sub(new(big.Int).Exp(sig, big.NewInt(3), nil), m)
		if n.Bit(0) == 1 && len(n.Bytes()) == k {
			break
		}
		sig.Add(sig, big.NewInt(1))
	}
	signer, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		Subject:               pkix.Name{Country: []string{"US"}, Organization: []string{"Test"}, OrganizationalUnit: []string{"Authenticator Attestation"}, CommonName: "test"},
		BasicConstraintsValid: true}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &rsa.PublicKey{N: n, E: 3}, signer)
	if err != nil {
		t.Fatal(err)
	}
	att, _ := cbor.Marshal(map[string]any{"fmt": "packed", "authData": authData,
		"attStmt": map[string]any{"alg": -257, "sig": sig.FillBytes(make([]byte, k)), "x5c": []any{cert}}})
	cred, _ := json.Marshal(map[string]any{"id": b64.EncodeToString(id), "rawId": b64.EncodeToString(id), "type": "public-key",
		"clientExtensionResults": map[string]any{},
		"response":               map[string]any{"clientDataJSON": b64.EncodeToString(clientData), "attestationObject": b64.EncodeToString(att)}})
	reg := s.do(t, "POST", "/api/v1/users/me/passkeys/register", map[string]any{
		"ceremony_id": r.str(t, "ceremony_id"), "credential": json.RawMessage(cred)}, bearer(a.Access))
	expectProblem(t, reg, http.StatusUnprocessableEntity, "passkey_rejected")
}

// pkcs1SHA256 is the PKCS#1 v1.5 encoding of a SHA-256 digest in k bytes.
func pkcs1SHA256(k int, digest []byte) []byte {
	prefix := []byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}
	em := make([]byte, k)
	em[1] = 1
	for i := 2; i < k-len(prefix)-len(digest)-1; i++ {
		em[i] = 0xff
	}
	copy(em[k-len(prefix)-len(digest):], prefix)
	copy(em[k-len(digest):], digest)
	return em
}

// cubeRoot is the integer cube root of a (rounded down).
func cubeRoot(a *big.Int) *big.Int {
	x := new(big.Int).Lsh(big.NewInt(1), uint(a.BitLen()/3+1))
	for {
		y := new(big.Int).Div(a, new(big.Int).Mul(x, x))
		y.Add(y, new(big.Int).Lsh(x, 1))
		y.Div(y, big.NewInt(3))
		if y.Cmp(x) >= 0 {
			return x
		}
		x = y
	}
}

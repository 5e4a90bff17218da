package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/token"
)

// TestSigningKeysSealedByDefault: with no GATEHOUSE_ENCRYPTION_KEY, `init` and `serve` keep the
// signing keys sealed under a key outside the database (the data directory's key file), so a
// read-only copy of the database cannot mint tokens: no row holds private-key material in any
// form, and on SQLite no file holds a key's bytes. And whoever does hold the key still cannot
// mint a token that lives longer than the access-token TTL.
func TestSigningKeysSealedByDefault(t *testing.T) {
	env := testEnv(t)
	(&testServer{env: env}).cli(t, "init", "--password", "an admin password 1")
	s := startServerEnv(t, env)
	a := s.register(t)

	keys := openedSigningKeys(t, env)
	mint := func(lifetime time.Duration) string {
		return mintAccessToken(t, a.Access, keys, time.Now(), lifetime)
	}
	// The key is the real one: a token of the usual lifetime passes...
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(mint(15*time.Minute))), http.StatusOK)
	// ...and one that would live a day is refused.
	if r := s.do(t, "GET", "/api/v1/users/me", nil, bearer(mint(24*time.Hour))); r.Status != http.StatusUnauthorized {
		t.Errorf("a token living 24h, signed with the real key: status %d, want 401", r.Status)
	}
	s.stop()

	for _, where := range privateKeyRows(t, s) {
		t.Errorf("the database holds a usable private key: %s", where)
	}
	if s.env["GATEHOUSE_DATABASE_URL"] != "" {
		return
	}
	entries, err := os.ReadDir(env["GATEHOUSE_DATA_DIR"])
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(env["GATEHOUSE_DATA_DIR"], e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if bytes.Contains(data, k.Private) {
				t.Errorf("%s holds signing key %s in plain text", e.Name(), k.ID)
			}
		}
	}
}

// TestPlainSigningKeysAreSealedAtStart: a key stored in plain text (by an earlier version) is
// sealed at the next start and the tokens it signed stay valid. A server given another key
// (GATEHOUSE_ENCRYPTION_KEY set to a new value) refuses to start with one line naming the fix;
// given the key file's content as GATEHOUSE_ENCRYPTION_KEY, it starts.
func TestPlainSigningKeysAreSealedAtStart(t *testing.T) {
	env := testEnv(t)
	env["GATEHOUSE_PUBLIC_URL"] = "https://auth.example.com"
	ctx := context.Background()
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := token.GenerateKey(cfg.SigningAlg, time.Now())
	if err == nil {
		err = store.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.CreateSigningKey(ctx, plain) })
	}
	store.Close()
	if err != nil {
		t.Fatal(err)
	}

	s := startServerEnv(t, env)
	a := s.register(t)
	if kidOf(t, a.Access) != plain.ID {
		t.Fatalf("signed with %s, want the stored key %s", kidOf(t, a.Access), plain.ID)
	}
	if !strings.Contains(s.cli(t, "signing-keys", "rotate"), "new signing key") {
		t.Fatal("rotate failed")
	}
	s.stop()
	if rows := privateKeyRows(t, s); len(rows) != 0 {
		t.Fatalf("private keys left in plain text: %v", rows)
	}

	raw := make([]byte, 32)
	rand.Read(raw)
	err = refusedStart(t, with(env, "GATEHOUSE_ENCRYPTION_KEY="+base64.StdEncoding.EncodeToString(raw)))
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "set GATEHOUSE_ENCRYPTION_KEY") || !strings.Contains(msg, plain.ID) {
		t.Fatalf("want one line naming the key and the fix, got: %v", err)
	}

	file, err := os.ReadFile(filepath.Join(env["GATEHOUSE_DATA_DIR"], "outbox.key"))
	if err != nil {
		t.Fatal(err)
	}
	again := startServerEnv(t, with(env, "GATEHOUSE_ENCRYPTION_KEY="+strings.TrimSpace(string(file))))
	expectStatus(t, again.do(t, "GET", "/api/v1/users/me", nil, bearer(a.Access)), http.StatusOK)
	again.login(t, a.Email, a.Password)
}

// openedSigningKeys returns the signing keys as a command run with env opens them.
func openedSigningKeys(t *testing.T, env map[string]string) []gatehouse.SigningKey {
	t.Helper()
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	cfg.resolvePublicURL(cfg.Addr)
	a, err := openApp(context.Background(), cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	keys, err := a.keys.SigningKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// mintAccessToken signs, with the key that signed like, a copy of like's claims issued at iat
// that lives lifetime: what a holder of the private key could make.
func mintAccessToken(t *testing.T, like string, keys []gatehouse.SigningKey, iat time.Time, lifetime time.Duration) string {
	t.Helper()
	parts := strings.Split(like, ".")
	var header, claims map[string]any
	decodeSegment(t, parts[0], &header)
	decodeSegment(t, parts[1], &claims)
	claims["iat"] = iat.Unix()
	claims["exp"] = iat.Add(lifetime).Unix()
	claims["jti"] = "minted-" + lifetime.String()
	for _, k := range keys {
		if k.ID != header["kid"] {
			continue
		}
		private, err := x509.ParsePKCS8PrivateKey(k.Private)
		if err != nil {
			t.Fatal(err)
		}
		tok := jwt.NewWithClaims(jwt.GetSigningMethod(k.Algorithm), jwt.MapClaims(claims))
		tok.Header["kid"], tok.Header["typ"] = k.ID, header["typ"]
		signed, err := tok.SignedString(private)
		if err != nil {
			t.Fatal(err)
		}
		return signed
	}
	t.Fatalf("no key %v", header["kid"])
	return ""
}

// privateKeyRows scans every value of every table of the server's database for private-key
// material: PKCS#8, SEC 1 or PKCS#1 DER (raw or base64), PEM, or a JWK with its private "d".
func privateKeyRows(t *testing.T, s *testServer) []string {
	t.Helper()
	db := s.openDB(t)
	defer db.Close()
	list := "SELECT name FROM sqlite_master WHERE type = 'table'"
	if strings.HasPrefix(s.env["GATEHOUSE_DATABASE_URL"], "postgres") {
		list = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
	}
	var tables []string
	rows, err := db.Query(list)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) < 5 {
		t.Fatalf("found only the tables %v", tables)
	}
	var found []string
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				var b []byte
				switch v := v.(type) {
				case []byte:
					b = v
				case string:
					b = []byte(v)
				}
				if b != nil && isPrivateKey(b) {
					found = append(found, table+"."+cols[i])
				}
			}
		}
		rows.Close()
	}
	return found
}

func isPrivateKey(b []byte) bool {
	forms := [][]byte{b}
	if d, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b))); err == nil {
		forms = append(forms, d)
	}
	for _, f := range forms {
		if _, err := x509.ParsePKCS8PrivateKey(f); err == nil {
			return true
		}
		if _, err := x509.ParseECPrivateKey(f); err == nil {
			return true
		}
		if _, err := x509.ParsePKCS1PrivateKey(f); err == nil {
			return true
		}
		if bytes.Contains(f, []byte("PRIVATE KEY-----")) {
			return true
		}
		var jwk map[string]any
		if json.Unmarshal(f, &jwk) == nil && jwk["d"] != nil {
			return true
		}
	}
	return false
}

// refusedStart runs gatehouse serve with env and returns the error it stops with; a server that
// starts serving instead fails the test.
func refusedStart(t *testing.T, env map[string]string) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"serve"}, func(k string) string { return env[k] }, pw, io.Discard)
		pw.Close()
		done <- err
	}()
	if line, _ := bufio.NewReader(pr).ReadString('\n'); line != "" {
		cancel()
		go io.Copy(io.Discard, pr)
		<-done
		t.Fatalf("the server started: %s", line)
	}
	err := <-done
	if err == nil {
		t.Fatal("the server exited without an error")
	}
	return err
}

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestSigningKeysSealedAtRest: with GATEHOUSE_ENCRYPTION_KEY, the database holds no usable
// private key, keys stored before the variable was set get sealed, and a server without the key
// refuses to start rather than mint a new key.
func TestSigningKeysSealedAtRest(t *testing.T) {
	env := testEnv(t)
	env["GATEHOUSE_PUBLIC_URL"] = "https://auth.example.com"
	plain := startServerEnv(t, env)
	a := plain.register(t)
	plain.stop()

	raw := make([]byte, 32)
	rand.Read(raw)
	env["GATEHOUSE_ENCRYPTION_KEY"] = base64.StdEncoding.EncodeToString(raw)
	s := startServerEnv(t, env)
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(a.Access)), http.StatusOK)
	out := s.cli(t, "signing-keys", "rotate")
	if !strings.Contains(out, "new signing key") {
		t.Fatalf("rotate: %s", out)
	}
	s.stop()

	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	store, err := openStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := store.SigningKeys(context.Background())
	store.Close()
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys: %d, %v", len(keys), err)
	}
	for _, k := range keys {
		if !bytes.HasPrefix(k.Private, sealedPrefix) {
			t.Fatalf("signing key %s is stored in plain text", k.ID)
		}
	}

	again := startServerEnv(t, env)
	expectStatus(t, again.do(t, "GET", "/api/v1/users/me", nil, bearer(a.Access)), http.StatusOK)
	again.login(t, a.Email, a.Password)
	again.stop()

	delete(env, "GATEHOUSE_ENCRYPTION_KEY")
	err = run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "GATEHOUSE_ENCRYPTION_KEY") {
		t.Fatalf("a server without the key started (or failed unclearly): %v", err)
	}
}

package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestASVS_3_4_SecurityHeaders: every answer carries nosniff and frame-ancestors none; HSTS once
// the public URL is HTTPS.
func TestASVS_3_4_SecurityHeaders(t *testing.T) {
	s := startServer(t)
	for _, path := range []string{"/healthz", "/api/v1/users/me", "/nope"} {
		r := s.do(t, "GET", path, nil)
		if r.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(r.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Fatalf("%s: headers %v", path, r.Header)
		}
		if r.Header.Get("Strict-Transport-Security") != "" {
			t.Fatalf("HSTS over plain HTTP with an http public URL")
		}
	}
	https := startServer(t, "GATEHOUSE_PUBLIC_URL=https://auth.example.com")
	if h := https.do(t, "GET", "/healthz", nil).Header.Get("Strict-Transport-Security"); !strings.HasPrefix(h, "max-age=") {
		t.Fatalf("no HSTS with an https public URL: %q", h)
	}
}

func TestASVS_3_5_CORS(t *testing.T) {
	s := startServer(t, "GATEHOUSE_CORS_ORIGINS=https://app.example.com")
	a := s.register(t)
	good := s.do(t, "GET", "/api/v1/users/me", nil, bearer(a.Access), "Origin: https://app.example.com")
	if good.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Fatalf("listed origin not allowed: %v", good.Header)
	}
	for _, origin := range []string{"https://evil.example", "https://app.example.com.evil.example", "null", "http://app.example.com"} {
		r := s.do(t, "GET", "/api/v1/users/me", nil, bearer(a.Access), "Origin: "+origin)
		if r.Header.Get("Access-Control-Allow-Origin") != "" || r.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Fatalf("foreign origin %s got CORS headers: %v", origin, r.Header)
		}
		pre := s.do(t, "OPTIONS", "/api/v1/auth/login", nil, "Origin: "+origin, "Access-Control-Request-Method: POST")
		if pre.Status == http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("foreign preflight from %s allowed: %d %v", origin, pre.Status, pre.Header)
		}
	}
	pre := s.do(t, "OPTIONS", "/api/v1/auth/login", nil, "Origin: https://app.example.com", "Access-Control-Request-Method: POST", "Access-Control-Request-Headers: content-type")
	expectStatus(t, pre, http.StatusNoContent)
	if !strings.Contains(pre.Header.Get("Access-Control-Allow-Headers"), "Content-Type") {
		t.Fatalf("preflight: %v", pre.Header)
	}
	env := testEnv(t)
	env["GATEHOUSE_CORS_ORIGINS"] = "*"
	if _, err := (&testServer{env: env}).cliErr("serve"); err == nil || !strings.Contains(err.Error(), "GATEHOUSE_CORS_ORIGINS") {
		t.Fatalf("a wildcard origin was accepted: %v", err)
	}
}

// TestCanarySecretsNeverRestInPlainText plants secrets through the API, then scans every file of
// the data directory and the server's log for them.
func TestCanarySecretsNeverRestInPlainText(t *testing.T) {
	s := startServer(t)
	const canaryPassword = "canary-password-5c1e0d7e"
	r := s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": "canary@example.com", "password": canaryPassword, "name": "Canary"})
	expectStatus(t, r, http.StatusCreated)
	access, refresh := r.str(t, "access_token"), r.str(t, "refresh_token")
	r2 := s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": refresh})
	expectStatus(t, r2, http.StatusOK)
	key := s.createKey(t, access)["api_key"].(string)
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+key), http.StatusOK)
	const newPassword = "canary-new-password-9a8b"
	expectStatus(t, s.do(t, "POST", "/api/v1/users/me/password", map[string]string{"current_password": canaryPassword, "new_password": newPassword}, bearer(access)), http.StatusOK)
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": "canary@example.com", "password": "canary-wrong-7f7f"}), http.StatusUnauthorized)
	s.stop() // flush everything to the files

	secrets := map[string]string{"password": canaryPassword, "new password": newPassword, "wrong password": "canary-wrong-7f7f",
		"refresh token": refresh, "rotated refresh token": r2.str(t, "refresh_token"), "API key": key, "API key body": key[11:]}
	err := filepath.Walk(s.env["GATEHOUSE_DATA_DIR"], func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for name, secret := range secrets {
			if bytes.Contains(data, []byte(secret)) {
				t.Errorf("the %s is in %s in plain text", name, filepath.Base(path))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	logs := s.logs.String()
	for name, secret := range secrets {
		if strings.Contains(logs, secret) {
			t.Errorf("the %s is in the log", name)
		}
	}
	if strings.Contains(logs, access) {
		t.Error("an access token is in the log")
	}
}

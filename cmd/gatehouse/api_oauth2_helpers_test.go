package main

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Helpers for the authorization-server tests (api_oauth2_*_test.go). They speak the wire of
// RFC 6749 (form-encoded requests, JSON answers), RFC 7591 (JSON registration) and RFC 6750.

// o2PublicURL is the public URL the authorization-server tests give their servers; the issuer must
// be exactly this (RFC 8414 §2, §3.3).
const o2PublicURL = "https://auth.example.com"

// o2Form posts an application/x-www-form-urlencoded body (RFC 6749 §3.2, §4.1.3).
func (s *testServer) o2Form(t *testing.T, path string, form url.Values, headers ...string) *response {
	t.Helper()
	return s.do(t, "POST", path, form.Encode(), append([]string{"Content-Type: application/x-www-form-urlencoded"}, headers...)...)
}

// o2Basic is the Authorization header of client_secret_basic: client_id and secret are
// form-urlencoded, then joined and base64-encoded (RFC 6749 §2.3.1).
func o2Basic(id, secret string) string {
	return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// expectO2Error checks an RFC 6749 §5.2 error answer: the status, a JSON object (never an
// RFC 9457 problem document) whose "error" is code. code "" accepts any error code.
func expectO2Error(t *testing.T, r *response, status int, code string) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d (%s); body: %s", r.Status, status, code, r.Body)
	}
	ct := r.Header.Get("Content-Type")
	if !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("content type %q, want application/json (RFC 6749 §5.2, never problem+json); body: %s", ct, r.Body)
	}
	m := r.json(t)
	got, _ := m["error"].(string)
	if got == "" {
		t.Fatalf("no \"error\" member (RFC 6749 §5.2): %s", r.Body)
	}
	if code != "" && got != code {
		t.Fatalf("error %q, want %q; body: %s", got, code, r.Body)
	}
	return m
}

// expectO2ErrorIn is expectO2Error accepting any one of several codes where the RFCs leave
// the choice to the server.
func expectO2ErrorIn(t *testing.T, r *response, status int, codes ...string) {
	t.Helper()
	m := expectO2Error(t, r, status, "")
	for _, c := range codes {
		if m["error"] == c {
			return
		}
	}
	t.Fatalf("error %v, want one of %v; body: %s", m["error"], codes, r.Body)
}

// o2Register sends an RFC 7591 registration request.
func (s *testServer) o2Register(t *testing.T, meta map[string]any) *response {
	t.Helper()
	return s.do(t, "POST", "/oauth2/register", meta)
}

// o2PublicClient registers a public client (token_endpoint_auth_method none) and returns its id.
func (s *testServer) o2PublicClient(t *testing.T) string {
	t.Helper()
	r := s.o2Register(t, map[string]any{
		"client_name":                "Test MCP client",
		"redirect_uris":              []string{"http://127.0.0.1/callback"},
		"token_endpoint_auth_method": "none",
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
	})
	expectStatus(t, r, http.StatusCreated)
	id := r.str(t, "client_id")
	if id == "" {
		t.Fatalf("registration without client_id: %s", r.Body)
	}
	return id
}

// o2ConfidentialClient registers a confidential client with the given token endpoint
// authentication method and returns its id and secret.
func (s *testServer) o2ConfidentialClient(t *testing.T, method string) (id, secret string) {
	t.Helper()
	r := s.o2Register(t, map[string]any{
		"client_name":                "Test web app",
		"redirect_uris":              []string{"https://app.example.com/callback"},
		"token_endpoint_auth_method": method,
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
	})
	expectStatus(t, r, http.StatusCreated)
	id, secret = r.str(t, "client_id"), r.str(t, "client_secret")
	if id == "" || secret == "" {
		t.Fatalf("confidential registration without client_id or client_secret: %s", r.Body)
	}
	return id, secret
}

// o2Verifier is a syntactically valid PKCE code verifier (RFC 7636 §4.1: 43..128 characters).
const o2Verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// Dynamic client registration: RFC 7591, with the redirect URI rules of RFC 6749 §3.1.2,
// RFC 8252 §7 (native apps) and the MCP authorization specification (2025-11-25).

func o2Meta(redirects ...string) map[string]any {
	return map[string]any{
		"client_name":                "Test client",
		"redirect_uris":              redirects,
		"token_endpoint_auth_method": "none",
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
	}
}

// RFC 7591 §3.2.1: 201 with client_id and the registered metadata; a public client
// (token_endpoint_auth_method none) gets no secret.
func TestOAuth2RegisterPublicClient(t *testing.T) {
	s := startServer(t)
	r := s.o2Register(t, o2Meta("https://app.example.com/callback"))
	expectStatus(t, r, http.StatusCreated)
	m := r.json(t)
	if id, _ := m["client_id"].(string); id == "" {
		t.Fatalf("no client_id: %s", r.Body)
	}
	if v, present := m["client_secret"]; present && v != "" && v != nil {
		t.Fatalf("public client got a secret: %s", r.Body)
	}
	if m["token_endpoint_auth_method"] != "none" {
		t.Fatalf("token_endpoint_auth_method %v, want none: %s", m["token_endpoint_auth_method"], r.Body)
	}
	uris, _ := m["redirect_uris"].([]any)
	if len(uris) != 1 || uris[0] != "https://app.example.com/callback" {
		t.Fatalf("redirect_uris not returned as registered: %s", r.Body)
	}
}

// RFC 7591 §3.2.1: a confidential client gets client_secret, and then client_secret_expires_at
// is REQUIRED (0 for never). The answer carries a secret, so it is not cached (RFC 6749 §5.1).
func TestOAuth2RegisterConfidentialClientGetsSecret(t *testing.T) {
	s := startServer(t)
	for _, method := range []string{"client_secret_basic", "client_secret_post"} {
		meta := o2Meta("https://app.example.com/callback")
		meta["token_endpoint_auth_method"] = method
		r := s.o2Register(t, meta)
		expectStatus(t, r, http.StatusCreated)
		m := r.json(t)
		if secret, _ := m["client_secret"].(string); secret == "" {
			t.Fatalf("%s: no client_secret: %s", method, r.Body)
		}
		if _, ok := m["client_secret_expires_at"].(float64); !ok {
			t.Fatalf("%s: client_secret_expires_at missing (RFC 7591 §3.2.1 REQUIRED with a secret): %s", method, r.Body)
		}
		if m["token_endpoint_auth_method"] != method {
			t.Fatalf("token_endpoint_auth_method %v, want %s", m["token_endpoint_auth_method"], method)
		}
		if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Fatalf("%s: Cache-Control %q on an answer carrying a secret, want no-store", method, cc)
		}
	}
}

// RFC 7591 §2: token_endpoint_auth_method defaults to client_secret_basic; whatever the server
// registers, its answer must be consistent: a secret exactly when the method needs one.
func TestOAuth2RegisterAuthMethodAndSecretAgree(t *testing.T) {
	s := startServer(t)
	meta := o2Meta("https://app.example.com/callback")
	delete(meta, "token_endpoint_auth_method")
	r := s.o2Register(t, meta)
	expectStatus(t, r, http.StatusCreated)
	m := r.json(t)
	method, _ := m["token_endpoint_auth_method"].(string)
	secret, _ := m["client_secret"].(string)
	switch {
	case method == "":
		t.Fatalf("answer does not say which token_endpoint_auth_method was registered: %s", r.Body)
	case method == "none" && secret != "":
		t.Fatalf("method none with a secret: %s", r.Body)
	case method != "none" && secret == "":
		t.Fatalf("method %s without a secret: %s", method, r.Body)
	}
}

// RFC 6749 §3.1.2.1 and OAuth 2.1: an https redirect URI is accepted.
func TestOAuth2RegisterRedirectHTTPSAccepted(t *testing.T) {
	s := startServer(t)
	expectStatus(t, s.o2Register(t, o2Meta("https://app.example.com/oauth/callback?x=1")), http.StatusCreated)
}

// RFC 8252 §7.3 and §8.3: plain http is allowed on the loopback interface (IPv4 and IPv6).
func TestOAuth2RegisterRedirectLoopbackHTTPAccepted(t *testing.T) {
	s := startServer(t)
	for _, uri := range []string{"http://127.0.0.1/callback", "http://127.0.0.1:33418/callback", "http://[::1]/callback"} {
		if r := s.o2Register(t, o2Meta(uri)); r.Status != http.StatusCreated {
			t.Errorf("%s: status %d, want 201; body %s", uri, r.Status, r.Body)
		}
	}
}

// RFC 8252 §7.1: private-use URI schemes of native apps are accepted (cursor://, and the
// reverse-domain form).
func TestOAuth2RegisterRedirectPrivateUseSchemeAccepted(t *testing.T) {
	s := startServer(t)
	for _, uri := range []string{"cursor://anysphere.cursor-retrieval/oauth/callback", "cursor://callback", "com.example.app:/oauth2redirect"} {
		if r := s.o2Register(t, o2Meta(uri)); r.Status != http.StatusCreated {
			t.Errorf("%s: status %d, want 201; body %s", uri, r.Status, r.Body)
		}
	}
}

// RFC 8252 §8.3 and OAuth 2.1: http is for loopback only; any other host, including names that
// merely start like a loopback address, is refused with invalid_redirect_uri (RFC 7591 §3.2.2).
func TestOAuth2RegisterRedirectHTTPNonLoopbackRefused(t *testing.T) {
	s := startServer(t)
	for _, uri := range []string{
		"http://app.example.com/callback",
		"HTTP://app.example.com/callback", // RFC 3986 §3.1: the scheme is http whatever its case
		"http://10.0.0.1/callback",
		"http://127.0.0.1.nip.io/callback",
		"http://127.0.0.1@evil.example/callback",
	} {
		t.Run(uri, func(t *testing.T) {
			expectO2Error(t, s.o2Register(t, o2Meta(uri)), http.StatusBadRequest, "invalid_redirect_uri")
		})
	}
}

// RFC 6749 §10.6 and RFC 9700 §4.1: script-carrying schemes are never redirect targets, whatever
// their case (RFC 3986 §3.1: schemes are case-insensitive).
func TestOAuth2RegisterRedirectDangerousSchemesRefused(t *testing.T) {
	s := startServer(t)
	for _, uri := range []string{
		"javascript:alert(document.cookie)",
		"javascript://callback/%0aalert(1)",
		"JavaScript:alert(1)",
		"data:text/html,<script>alert(1)</script>",
		"DATA:text/html;base64,PHNjcmlwdD4=",
		"vbscript:msgbox(1)",
	} {
		t.Run(uri, func(t *testing.T) {
			expectO2Error(t, s.o2Register(t, o2Meta(uri)), http.StatusBadRequest, "invalid_redirect_uri")
		})
	}
}

// RFC 6749 §3.1.2: the redirection endpoint URI MUST NOT include a fragment component; an empty
// fragment ("#") is a fragment too (RFC 3986 §3.5).
func TestOAuth2RegisterRedirectFragmentRefused(t *testing.T) {
	s := startServer(t)
	for _, uri := range []string{"https://app.example.com/cb#frag", "https://app.example.com/cb#", "http://127.0.0.1/cb#x"} {
		t.Run(uri, func(t *testing.T) {
			expectO2Error(t, s.o2Register(t, o2Meta(uri)), http.StatusBadRequest, "invalid_redirect_uri")
		})
	}
}

// RFC 6749 §3.1.2.2 and RFC 7591 §2: a client of the code flow must register its redirect URIs;
// relative URIs are not absolute URIs (RFC 6749 §3.1.2).
func TestOAuth2RegisterRedirectURIsRequired(t *testing.T) {
	s := startServer(t)
	noRedirects := o2Meta()
	delete(noRedirects, "redirect_uris")
	empty := o2Meta()
	empty["redirect_uris"] = []string{}
	relative := o2Meta("/callback")
	notAList := o2Meta()
	notAList["redirect_uris"] = "https://app.example.com/cb"
	for name, meta := range map[string]map[string]any{"missing": noRedirects, "empty": empty, "relative": relative, "string": notAList} {
		t.Run(name, func(t *testing.T) {
			expectO2ErrorIn(t, s.o2Register(t, meta), http.StatusBadRequest, "invalid_redirect_uri", "invalid_client_metadata")
		})
	}
}

// RFC 7591 §3.2.2: grant types and response types Gatehouse does not support are
// invalid_client_metadata (OAuth 2.1 removed implicit and password).
func TestOAuth2RegisterBadGrantTypesRefused(t *testing.T) {
	s := startServer(t)
	cases := map[string]func(m map[string]any){
		"password":       func(m map[string]any) { m["grant_types"] = []string{"password"} },
		"implicit":       func(m map[string]any) { m["grant_types"] = []string{"implicit"} },
		"unknown":        func(m map[string]any) { m["grant_types"] = []string{"urn:example:teleport"} },
		"token response": func(m map[string]any) { m["response_types"] = []string{"token"} },
		"not a list":     func(m map[string]any) { m["grant_types"] = "authorization_code" },
		"bad method":     func(m map[string]any) { m["token_endpoint_auth_method"] = "magic" },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			meta := o2Meta("https://app.example.com/callback")
			mutate(meta)
			expectO2Error(t, s.o2Register(t, meta), http.StatusBadRequest, "invalid_client_metadata")
		})
	}
}

// RFC 7591 §3.1: the request is a JSON object; anything else is a 400 in the RFC 6749 error
// format, never a problem document (contract: RFC 6749 errors under /oauth2/).
func TestOAuth2RegisterNonJSONBodyRefused(t *testing.T) {
	s := startServer(t)
	for name, send := range map[string]func() *response{
		"form": func() *response {
			return s.do(t, "POST", "/oauth2/register", "redirect_uris=https://a.example/cb", "Content-Type: application/x-www-form-urlencoded")
		},
		"broken": func() *response {
			return s.do(t, "POST", "/oauth2/register", `{"redirect_uris": [`, "Content-Type: application/json")
		},
		"array": func() *response {
			return s.do(t, "POST", "/oauth2/register", `["https://a.example/cb"]`, "Content-Type: application/json")
		},
		"empty":     func() *response { return s.do(t, "POST", "/oauth2/register", "", "Content-Type: application/json") },
		"plaintext": func() *response { return s.do(t, "POST", "/oauth2/register", "hello", "Content-Type: text/plain") },
	} {
		t.Run(name, func(t *testing.T) {
			r := send()
			if r.Status/100 != 4 {
				t.Fatalf("status %d, want 4xx; body %s", r.Status, r.Body)
			}
			expectO2ErrorIn(t, r, r.Status, "invalid_client_metadata", "invalid_request", "invalid_redirect_uri")
		})
	}
}

// RFC 7591 §2: the server MUST ignore client metadata it does not understand.
func TestOAuth2RegisterIgnoresUnknownMetadata(t *testing.T) {
	s := startServer(t)
	meta := o2Meta("https://app.example.com/callback")
	meta["x_vendor_extension"] = map[string]any{"nested": []int{1, 2, 3}}
	meta["frobnicate"] = true
	meta["software_id"] = "4NRB1-0XZABZI9E6-5SM3R"
	r := s.o2Register(t, meta)
	expectStatus(t, r, http.StatusCreated)
	if r.str(t, "client_id") == "" {
		t.Fatalf("no client_id: %s", r.Body)
	}
}

// The registration endpoint is rate-limited per IP (MCP 2025-11-25 security considerations;
// docs/oauth-server.md): over the limit, 429 with Retry-After (RFC 6585 §4).
func TestOAuth2RegisterRateLimitedPerIP(t *testing.T) {
	s := startServer(t, "GATEHOUSE_RATE_LIMITS=client_register_ip=2/1h")
	for i := range 2 {
		if r := s.o2Register(t, o2Meta("https://app.example.com/callback")); r.Status != http.StatusCreated {
			t.Fatalf("registration %d: status %d, want 201; body %s", i+1, r.Status, r.Body)
		}
	}
	r := s.o2Register(t, o2Meta("https://app.example.com/callback"))
	expectStatus(t, r, http.StatusTooManyRequests)
	if secs, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || secs <= 0 {
		t.Fatalf("Retry-After %q, want a positive number of seconds", r.Header.Get("Retry-After"))
	}
	// The root fallback (MCP 2025-03-26) is the same endpoint, not a way around the limit.
	expectStatus(t, s.do(t, "POST", "/register", o2Meta("https://app.example.com/callback")), http.StatusTooManyRequests)
}

// Under /oauth2/ every error, the rate limiter's included, is an RFC 6749 JSON error body, which
// is what OAuth client libraries parse; never application/problem+json.
func TestOAuth2RegisterRateLimitAnswerIsOAuthError(t *testing.T) {
	s := startServer(t, "GATEHOUSE_RATE_LIMITS=client_register_ip=1/1h")
	expectStatus(t, s.o2Register(t, o2Meta("https://app.example.com/callback")), http.StatusCreated)
	expectO2Error(t, s.o2Register(t, o2Meta("https://app.example.com/callback")), http.StatusTooManyRequests, "")
}

// GATEHOUSE_OAUTH_DCR=off refuses registration, in the RFC 6749 error format, and registers
// nothing.
func TestOAuth2RegisterRefusedWhenDCROff(t *testing.T) {
	s := startServer(t, "GATEHOUSE_OAUTH_DCR=off")
	for _, path := range []string{"/oauth2/register", "/register"} {
		r := s.do(t, "POST", path, o2Meta("https://app.example.com/callback"))
		if r.Status/100 != 4 {
			t.Fatalf("%s: status %d with DCR off, want 4xx; body %s", path, r.Status, r.Body)
		}
		expectO2Error(t, r, r.Status, "")
		if strings.Contains(string(r.Body), "client_id\"") {
			t.Fatalf("%s: answer names a client_id: %s", path, r.Body)
		}
	}
}

// MCP 2025-03-26 fallback (docs/oauth-server.md): /register and /token also answer at the root.
func TestOAuth2RootFallbackEndpoints(t *testing.T) {
	s := startServer(t)
	r := s.do(t, "POST", "/register", o2Meta("https://app.example.com/callback"))
	expectStatus(t, r, http.StatusCreated)
	id := r.str(t, "client_id")
	tok := s.o2Form(t, "/token", map[string][]string{"grant_type": {"refresh_token"}, "refresh_token": {"bogus"}, "client_id": {id}})
	expectO2Error(t, tok, http.StatusBadRequest, "invalid_grant")
}

// RFC 6749 §3.1.2: a redirection endpoint is an absolute URI; strings that do not parse as one,
// or name no host where the scheme needs one, are refused.
func TestOAuth2RegisterRedirectMalformedRefused(t *testing.T) {
	s := startServer(t)
	for _, uri := range []string{"https://", "https:///callback", "https://exa mple.com/cb", "http://[::1/cb", "not a uri"} {
		t.Run(uri, func(t *testing.T) {
			expectO2ErrorIn(t, s.o2Register(t, o2Meta(uri)), http.StatusBadRequest, "invalid_redirect_uri", "invalid_client_metadata")
		})
	}
}

// RFC 7591 §2: client_uri, logo_uri, tos_uri and policy_uri are URLs of web pages and images
// that the consent page shows; a javascript: or data: URI is none of these. The server refuses it
// (invalid_client_metadata) or drops it from what it registers (RFC 7591 §3.2.1), never keeps it.
func TestOAuth2RegisterClientPageURIsAreWebURLs(t *testing.T) {
	s := startServer(t)
	for _, field := range []string{"client_uri", "logo_uri", "tos_uri", "policy_uri"} {
		for _, bad := range []string{"javascript:alert(document.domain)", "data:text/html,<script>alert(1)</script>"} {
			t.Run(field+" "+bad[:5], func(t *testing.T) {
				meta := o2Meta("https://app.example.com/callback")
				meta[field] = bad
				r := s.o2Register(t, meta)
				if r.Status == http.StatusCreated {
					if v, _ := r.json(t)[field].(string); v != "" {
						t.Fatalf("registered %s %q", field, v)
					}
					return
				}
				expectO2Error(t, r, http.StatusBadRequest, "invalid_client_metadata")
			})
		}
	}
}

// Contract §1 (bodies over 1 MiB get 413) with §8 (RFC 6749 error bodies under /oauth2/): a huge
// registration request is refused before it is read, never a 500.
func TestOAuth2RegisterOversizedBodyRefused(t *testing.T) {
	s := startServer(t)
	big := `{"redirect_uris": ["https://app.example.com/cb"], "client_name": "` + strings.Repeat("a", 2<<20) + `"}`
	r := s.do(t, "POST", "/oauth2/register", big, "Content-Type: application/json")
	expectO2Error(t, r, http.StatusRequestEntityTooLarge, "")
}

// RFC 7591 §3.2.1: the client identifier is issued by the authorization server. A client_id (or
// client_secret) in the request is not honoured: otherwise a registration could take over another
// client's identifier, or claim a Client ID Metadata Document URL it does not control.
func TestOAuth2RegisterClientCannotChooseItsID(t *testing.T) {
	s := startServer(t)
	victim := s.o2PublicClient(t)
	for _, wanted := range []string{victim, "https://claude.ai/oauth/mcp-oauth-client-metadata", "my-own-id"} {
		meta := o2Meta("https://attacker.example/callback")
		meta["client_id"] = wanted
		meta["client_secret"] = "chosen-secret"
		r := s.o2Register(t, meta)
		if r.Status != http.StatusCreated {
			expectO2Error(t, r, http.StatusBadRequest, "invalid_client_metadata")
			continue
		}
		if got := r.str(t, "client_id"); got == wanted || got == "" {
			t.Fatalf("registration chose its own client_id %q: %s", wanted, r.Body)
		}
		if got := r.str(t, "client_secret"); got == "chosen-secret" {
			t.Fatalf("registration chose its own secret: %s", r.Body)
		}
	}
}

// RFC 6749 §4.4 and RFC 7591 §2.1: client_credentials is for confidential clients only; a public
// client (token_endpoint_auth_method none) registering for it is invalid_client_metadata.
func TestOAuth2RegisterPublicClientCredentialsRefused(t *testing.T) {
	s := startServer(t)
	meta := o2Meta("https://app.example.com/callback")
	meta["grant_types"] = []string{"client_credentials"}
	expectO2Error(t, s.o2Register(t, meta), http.StatusBadRequest, "invalid_client_metadata")
}

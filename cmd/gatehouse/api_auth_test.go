package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestGuideFlow replays the AINative guide: register → login → me → refresh → logout.
func TestGuideFlow(t *testing.T) {
	s := startServer(t)
	r := s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": "  Alice@Example.COM ", "password": "securepass-42", "name": "Alice"})
	expectStatus(t, r, http.StatusCreated)
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("token response Cache-Control %q", r.Header.Get("Cache-Control"))
	}
	reg := r.json(t)
	if reg["token_type"] != "bearer" || reg["expires_in"] != float64(900) || reg["refresh_token"] == "" {
		t.Fatalf("token response: %s", r.Body)
	}
	user := reg["user"].(map[string]any)
	if user["email"] != "alice@example.com" || user["name"] != "Alice" || user["role"] != "user" ||
		user["email_verified"] != false || user["is_active"] != true || user["avatar_url"] != nil {
		t.Fatalf("user object: %v", user)
	}
	if roles, _ := user["roles"].([]any); len(roles) != 1 || roles[0] != "user" {
		t.Fatalf("roles: %v", user["roles"])
	}
	if _, err := time.Parse(time.RFC3339, user["created_at"].(string)); err != nil {
		t.Fatalf("created_at: %v", err)
	}
	if strings.Count(reg["refresh_token"].(string), ".") != 0 {
		t.Fatal("refresh token looks like a JWT; it must be opaque")
	}

	access, refresh := s.login(t, "ALICE@example.com", "securepass-42")
	me := s.do(t, "GET", "/api/v1/users/me", nil, bearer(access))
	expectStatus(t, me, http.StatusOK)
	if me.str(t, "email") != "alice@example.com" || me.str(t, "id") != user["id"] {
		t.Fatalf("me: %s", me.Body)
	}

	r = s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": refresh})
	expectStatus(t, r, http.StatusOK)
	newAccess, newRefresh := r.str(t, "access_token"), r.str(t, "refresh_token")
	if newRefresh == refresh || newRefresh == "" {
		t.Fatal("refresh did not rotate the refresh token")
	}
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(newAccess)), http.StatusOK)

	expectStatus(t, s.do(t, "POST", "/api/v1/auth/logout", nil, bearer(newAccess)), http.StatusOK)
	// The session is gone: its access tokens (old and new) and its refresh token stop working at once.
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(newAccess)), http.StatusUnauthorized, "")
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(access)), http.StatusUnauthorized, "")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": newRefresh}), http.StatusUnauthorized, "invalid_refresh_token")
	// The registration session is another session and still works.
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(reg["access_token"].(string))), http.StatusOK)
}

func TestAccessTokenShape(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	parts := strings.Split(a.Access, ".")
	if len(parts) != 3 {
		t.Fatalf("access token is not a JWS: %s", a.Access)
	}
	var header, claims map[string]any
	decodeSegment(t, parts[0], &header)
	decodeSegment(t, parts[1], &claims)
	if header["alg"] != "ES256" || header["typ"] != "at+jwt" || header["kid"] == "" {
		t.Fatalf("header: %v", header)
	}
	for _, c := range []string{"iss", "sub", "aud", "exp", "iat", "jti", "sid", "email", "email_verified", "role"} {
		if _, ok := claims[c]; !ok {
			t.Errorf("claim %s missing: %v", c, claims)
		}
	}
	if claims["sub"] != a.ID || claims["iss"] != s.URL {
		t.Fatalf("claims: %v", claims)
	}
	jwks := s.do(t, "GET", "/.well-known/jwks.json", nil)
	expectStatus(t, jwks, http.StatusOK)
	if !strings.Contains(string(jwks.Body), header["kid"].(string)) {
		t.Fatalf("jwks does not publish kid %v: %s", header["kid"], jwks.Body)
	}
	if strings.Contains(string(jwks.Body), `"d"`) {
		t.Fatal("jwks leaks a private key member")
	}
	oidc := s.do(t, "GET", "/.well-known/openid-configuration", nil)
	expectStatus(t, oidc, http.StatusOK)
	if oidc.str(t, "issuer") != s.URL || oidc.str(t, "jwks_uri") != s.URL+"/.well-known/jwks.json" {
		t.Fatalf("openid-configuration: %s", oidc.Body)
	}
}

func decodeSegment(t *testing.T, seg string, v any) {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatal(err)
	}
}

func TestSigningAlgorithms(t *testing.T) {
	for _, alg := range []string{"RS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			s := startServer(t, "GATEHOUSE_SIGNING_ALG="+alg)
			a := s.register(t)
			var header map[string]any
			decodeSegment(t, strings.Split(a.Access, ".")[0], &header)
			if header["alg"] != alg {
				t.Fatalf("alg %v, want %s", header["alg"], alg)
			}
			expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(a.Access)), http.StatusOK)
		})
	}
}

func TestRegisterValidation(t *testing.T) {
	s := startServer(t)
	cases := []struct {
		name  string
		body  any
		field string
	}{
		{"bad email", map[string]string{"email": "not-an-email", "password": "long enough pw", "name": "x"}, "email"},
		{"display-name email", map[string]string{"email": "Bob <bob@example.com>", "password": "long enough pw"}, "email"},
		{"empty email", map[string]string{"email": "", "password": "long enough pw"}, "email"},
		{"short password", map[string]string{"email": "a@example.com", "password": "short"}, "password"},
		{"seven code points", map[string]string{"email": "a@example.com", "password": "ééééééé"}, "password"},
		{"too long password", map[string]string{"email": "a@example.com", "password": strings.Repeat("x", 257)}, "password"},
		{"control chars in name", map[string]string{"email": "a@example.com", "password": "long enough pw", "name": "a\x01b"}, "name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.do(t, "POST", "/api/v1/auth/register", c.body)
			expectProblem(t, r, http.StatusUnprocessableEntity, "validation_failed")
			errs, _ := r.json(t)["errors"].([]any)
			found := false
			for _, e := range errs {
				if e.(map[string]any)["field"] == c.field {
					found = true
				}
			}
			if !found {
				t.Fatalf("no error for field %s: %s", c.field, r.Body)
			}
		})
	}
	// Eight code points of multibyte characters are enough; 256 is the maximum and is kept whole.
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": "multi@example.com", "password": "éàüößñçø"}), http.StatusCreated)
	long := strings.Repeat("pässwörd", 32)
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": "long@example.com", "password": long}), http.StatusCreated)
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": "long@example.com", "password": long}), http.StatusOK)
	// Never truncated: the same password less its last character does not match.
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": "long@example.com", "password": long[:len(long)-1]}), http.StatusUnauthorized)
}

func TestPasswordMinLengthSetting(t *testing.T) {
	s := startServer(t, "GATEHOUSE_PASSWORD_MIN_LENGTH=15")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": "a@example.com", "password": "fourteen chars"}), http.StatusUnprocessableEntity, "validation_failed")
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": "a@example.com", "password": "fifteen chars!!"}), http.StatusCreated)
}

func TestRegisterDuplicateEmail(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	r := s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": strings.ToUpper(a.Email), "password": "another good password"})
	expectProblem(t, r, http.StatusConflict, "email_already_registered")
}

func TestLoginFailuresAreIdentical(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	unknown := s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": "nobody@example.com", "password": a.Password})
	wrong := s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": a.Email, "password": "wrong password!"})
	for _, r := range []*response{unknown, wrong} {
		expectProblem(t, r, http.StatusUnauthorized, "invalid_credentials")
		if r.str(t, "detail") != "Incorrect email or password" {
			t.Fatalf("detail: %s", r.Body)
		}
	}
	if string(unknown.Body) != string(wrong.Body) {
		t.Fatalf("bodies differ:\n%s\n%s", unknown.Body, wrong.Body)
	}
	// Form login, as OAuth2 password-grant clients send it.
	r := s.do(t, "POST", "/api/v1/auth/login", "username="+a.Email+"&password="+strings.ReplaceAll(a.Password, " ", "+"),
		"Content-Type: application/x-www-form-urlencoded")
	expectStatus(t, r, http.StatusOK)
	r = s.do(t, "POST", "/api/v1/auth/login", "username="+a.Email+"&password=nope", "Content-Type: application/x-www-form-urlencoded")
	expectProblem(t, r, http.StatusUnauthorized, "invalid_credentials")
}

func TestDisabledAccount(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	a := s.register(t)
	key := s.createKey(t, a.Access, "profile:read")["api_key"].(string)
	r := s.do(t, "PATCH", "/api/v1/admin/users/"+a.ID, map[string]any{"is_active": false}, bearer(admin.Access))
	expectStatus(t, r, http.StatusOK)
	if r.json(t)["is_active"] != false {
		t.Fatalf("not disabled: %s", r.Body)
	}
	// Disabling revoked every session at once.
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(a.Access)), http.StatusUnauthorized, "")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": a.Refresh}), http.StatusUnauthorized, "")
	// Right password: 403. Wrong password: the usual 401, so a disabled account is not revealed.
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": a.Email, "password": a.Password}), http.StatusForbidden, "account_disabled")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": a.Email, "password": "wrong password!"}), http.StatusUnauthorized, "invalid_credentials")
	// Enabled again: login works, but the API keys stay dead: disabling revoked them, it did not
	// suspend them, and they are no longer listed.
	expectStatus(t, s.do(t, "PATCH", "/api/v1/admin/users/"+a.ID, map[string]any{"is_active": true}, bearer(admin.Access)), http.StatusOK)
	access, _ := s.login(t, a.Email, a.Password)
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+key), http.StatusUnauthorized, "")
	if list := s.do(t, "GET", "/api/v1/api-keys", nil, bearer(access)); strings.TrimSpace(string(list.Body)) != "[]" {
		t.Fatalf("keys listed after disable and enable: %s", list.Body)
	}
	audit := s.do(t, "GET", "/api/v1/admin/audit?type=user.disabled&user_id="+a.ID, nil, bearer(admin.Access))
	if !strings.Contains(string(audit.Body), "1 API key revoked by "+admin.ID) || !strings.Contains(string(audit.Body), `"ip":"127.0.0.1"`) {
		t.Fatalf("the audit trail does not say the key was revoked, by whom and from where: %s", audit.Body)
	}
}

func TestRequireEmailVerification(t *testing.T) {
	s := startServer(t, "GATEHOUSE_REQUIRE_EMAIL_VERIFICATION=true")
	r := s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": "v@example.com", "password": "long enough pw"})
	expectStatus(t, r, http.StatusCreated)
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": "v@example.com", "password": "long enough pw"}), http.StatusForbidden, "email_not_verified")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": "v@example.com", "password": "wrong password"}), http.StatusUnauthorized, "invalid_credentials")
}

func TestPathAliases(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	for _, prefix := range []string{"/api/v1/auth", "/v1/auth", "/api/v1/public/auth", "/v1/public/auth"} {
		r := s.do(t, "POST", prefix+"/login", map[string]string{"email": a.Email, "password": a.Password})
		expectStatus(t, r, http.StatusOK)
		expectStatus(t, s.do(t, "GET", prefix+"/me", nil, bearer(r.str(t, "access_token"))), http.StatusOK)
		r = s.do(t, "POST", prefix+"/refresh", map[string]string{"refresh_token": r.str(t, "refresh_token")})
		expectStatus(t, r, http.StatusOK)
		expectStatus(t, s.do(t, "POST", prefix+"/logout", nil, bearer(r.str(t, "access_token"))), http.StatusOK)
	}
	r := s.do(t, "POST", "/v1/public/auth/register", map[string]string{"email": "alias@example.com", "password": "long enough pw"})
	expectStatus(t, r, http.StatusCreated)
}

func TestLogoutAll(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	access2, refresh2 := s.login(t, a.Email, a.Password)
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/logout", map[string]bool{"all": true}, bearer(a.Access)), http.StatusOK)
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(access2)), http.StatusUnauthorized, "")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": refresh2}), http.StatusUnauthorized, "")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/logout", nil), http.StatusUnauthorized, "")
}

func TestUpdateProfile(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	r := s.do(t, "PATCH", "/api/v1/users/me", map[string]any{"name": "  New Name ", "avatar_url": "https://cdn.example.com/a.png"}, bearer(a.Access))
	expectStatus(t, r, http.StatusOK)
	if r.str(t, "name") != "New Name" || r.str(t, "avatar_url") != "https://cdn.example.com/a.png" {
		t.Fatalf("profile: %s", r.Body)
	}
	// The change shows at once on /users/me, although that endpoint is served from a cache.
	if me := s.do(t, "GET", "/api/v1/users/me", nil, bearer(a.Access)); me.str(t, "name") != "New Name" {
		t.Fatalf("me after update: %s", me.Body)
	}
	r = s.do(t, "PATCH", "/api/v1/users/me", map[string]any{"avatar_url": nil}, bearer(a.Access))
	expectStatus(t, r, http.StatusOK)
	if r.json(t)["avatar_url"] != nil || r.str(t, "name") != "New Name" {
		t.Fatalf("clearing avatar: %s", r.Body)
	}
	expectProblem(t, s.do(t, "PATCH", "/api/v1/users/me", map[string]any{"avatar_url": "javascript:alert(1)"}, bearer(a.Access)), http.StatusUnprocessableEntity, "validation_failed")
	expectProblem(t, s.do(t, "PATCH", "/api/v1/users/me", map[string]any{"name": strings.Repeat("n", 201)}, bearer(a.Access)), http.StatusUnprocessableEntity, "validation_failed")
	expectProblem(t, s.do(t, "PATCH", "/api/v1/users/me", map[string]any{"name": 42}, bearer(a.Access)), http.StatusBadRequest, "malformed_json")
	// Fields that are not the user's to change are not changed.
	r = s.do(t, "PATCH", "/api/v1/users/me", map[string]any{"role": "admin", "email_verified": true}, bearer(a.Access))
	expectStatus(t, r, http.StatusOK)
	if r.str(t, "role") != "user" || r.json(t)["email_verified"] != false {
		t.Fatalf("privilege fields changed: %s", r.Body)
	}
}

func TestChangePassword(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	other, otherRefresh := s.login(t, a.Email, a.Password)
	expectProblem(t, s.do(t, "POST", "/api/v1/users/me/password", map[string]string{"current_password": "wrong password!", "new_password": "brand new passphrase"}, bearer(a.Access)), http.StatusUnprocessableEntity, "validation_failed")
	expectProblem(t, s.do(t, "POST", "/api/v1/users/me/password", map[string]string{"current_password": a.Password, "new_password": "short"}, bearer(a.Access)), http.StatusUnprocessableEntity, "validation_failed")
	expectStatus(t, s.do(t, "POST", "/api/v1/users/me/password", map[string]string{"current_password": a.Password, "new_password": "brand new passphrase"}, bearer(a.Access)), http.StatusOK)
	// Every other session is revoked; the current one stays.
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(other)), http.StatusUnauthorized, "")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": otherRefresh}), http.StatusUnauthorized, "")
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(a.Access)), http.StatusOK)
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": a.Email, "password": a.Password}), http.StatusUnauthorized, "invalid_credentials")
	s.login(t, a.Email, "brand new passphrase")
}

func TestSessions(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	other, _ := s.login(t, a.Email, a.Password)
	r := s.do(t, "GET", "/api/v1/users/me/sessions", nil, bearer(a.Access), "User-Agent: session-test/1.0")
	expectStatus(t, r, http.StatusOK)
	var list []map[string]any
	if err := json.Unmarshal(r.Body, &list); err != nil || len(list) != 2 {
		t.Fatalf("sessions: %s", r.Body)
	}
	var currentID, otherID string
	for _, sess := range list {
		for _, k := range []string{"id", "created_at", "last_used_at", "user_agent", "ip", "current"} {
			if _, ok := sess[k]; !ok {
				t.Fatalf("session lacks %s: %v", k, sess)
			}
		}
		if sess["current"] == true {
			currentID = sess["id"].(string)
		} else {
			otherID = sess["id"].(string)
		}
	}
	if currentID == "" || otherID == "" {
		t.Fatalf("current flag: %s", r.Body)
	}
	// Another user cannot revoke it: 404, not 403, so session ids are not confirmed.
	b := s.register(t)
	expectProblem(t, s.do(t, "DELETE", "/api/v1/users/me/sessions/"+otherID, nil, bearer(b.Access)), http.StatusNotFound, "")
	expectStatus(t, s.do(t, "DELETE", "/api/v1/users/me/sessions/"+otherID, nil, bearer(a.Access)), http.StatusNoContent)
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(other)), http.StatusUnauthorized, "")
	expectProblem(t, s.do(t, "DELETE", "/api/v1/users/me/sessions/"+otherID, nil, bearer(a.Access)), http.StatusNotFound, "")
	expectProblem(t, s.do(t, "DELETE", "/api/v1/users/me/sessions/does-not-exist", nil, bearer(a.Access)), http.StatusNotFound, "")
}

func TestHealth(t *testing.T) {
	s := startServer(t)
	expectStatus(t, s.do(t, "GET", "/healthz", nil), http.StatusOK)
	expectStatus(t, s.do(t, "GET", "/readyz", nil), http.StatusOK)
}

func TestHostileInput(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/register", `{"email":`), http.StatusBadRequest, "malformed_json")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/register", `{"email":"a@b.co"} trailing`), http.StatusBadRequest, "malformed_json")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/register", `[1,2]`), http.StatusBadRequest, "malformed_json")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/register", ""), http.StatusBadRequest, "malformed_json")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/register", `{"email":"x@example.com","password":"long enough pw"}`, "Content-Type: text/plain"), http.StatusUnsupportedMediaType, "unsupported_media_type")
	big := `{"email":"` + strings.Repeat("a", 1<<20) + `"}`
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/register", big), http.StatusRequestEntityTooLarge, "request_too_large")
	expectProblem(t, s.do(t, "GET", "/api/v1/nope", nil), http.StatusNotFound, "not_found")
	r := s.do(t, "DELETE", "/api/v1/auth/login", nil)
	expectProblem(t, r, http.StatusMethodNotAllowed, "method_not_allowed")
	if !strings.Contains(r.Header.Get("Allow"), "POST") {
		t.Fatalf("Allow: %q", r.Header.Get("Allow"))
	}
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": strings.Repeat("x", 5000)}), http.StatusUnauthorized, "")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{}), http.StatusUnprocessableEntity, "validation_failed")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/login", map[string]any{"email": []int{1}, "password": 3}), http.StatusBadRequest, "malformed_json")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/login", "username=%zz", "Content-Type: application/x-www-form-urlencoded"), http.StatusBadRequest, "")
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, "Authorization: Basic Zm9vOmJhcg=="), http.StatusUnauthorized, "")
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, "Authorization: Bearer "), http.StatusUnauthorized, "")
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, "Authorization: Bearer "+strings.Repeat("a", 9000)), http.StatusUnauthorized, "")
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, "Authorization: Bearer "+a.Refresh), http.StatusUnauthorized, "")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": "nul\x00@example.com", "password": "long enough pw"}), http.StatusBadRequest, "invalid_request_encoding")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/register", "{\"email\":\"\xff\xfe@example.com\",\"password\":\"long enough pw\"}"), http.StatusUnprocessableEntity, "")
	if strings.Contains(s.logs.String(), "panic") {
		t.Fatalf("server panicked:\n%s", s.logs.String())
	}
}

// TestHostileTextNeverReachesTheDatabase: NUL and broken UTF-8, where a database would refuse
// them, get clean 4xx answers, and security actions still happen (PostgreSQL refuses both).
func TestHostileTextNeverReachesTheDatabase(t *testing.T) {
	s := startServer(t, "GATEHOUSE_REFRESH_REUSE_INTERVAL=0")
	longUA := "User-Agent: " + strings.Repeat("a", 255) + "é" + strings.Repeat("\xff", 3)
	r := s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": "ua@example.com", "password": "long enough pw"}, longUA)
	expectStatus(t, r, http.StatusCreated)
	refresh := r.str(t, "refresh_token")
	access, _ := s.login(t, "ua@example.com", "long enough pw")
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": "ua@example.com", "password": "wrong password"}, longUA), http.StatusUnauthorized)
	r = s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": refresh}, longUA)
	expectStatus(t, r, http.StatusOK)
	// Reuse after the window: the session must really be revoked, whatever the user agent.
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": refresh}, longUA), http.StatusUnauthorized)
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": r.str(t, "refresh_token")}), http.StatusUnauthorized)

	expectProblem(t, s.do(t, "POST", "/api/v1/auth/login", `{"email":"ua@example.com\u0000","password":"x"}`), http.StatusBadRequest, "invalid_request_encoding")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/login", "username=ua%40example.com%00&password=x", "Content-Type: application/x-www-form-urlencoded"), http.StatusBadRequest, "invalid_request_encoding")
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me/audit?type=%FF", nil, bearer(access)), http.StatusBadRequest, "invalid_request_encoding")
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me/audit?cursor=%00", nil, bearer(access)), http.StatusBadRequest, "invalid_request_encoding")
	expectProblem(t, s.do(t, "DELETE", "/api/v1/users/me/sessions/%FF", nil, bearer(access)), http.StatusBadRequest, "")
	expectProblem(t, s.do(t, "DELETE", "/api/v1/api-keys/%00", nil, bearer(access)), http.StatusBadRequest, "")
	r = s.do(t, "POST", "/api/v1/api-keys", map[string]any{"name": "k\u0000"}, bearer(access))
	if r.Status >= 500 {
		t.Fatalf("NUL in a key name: %d", r.Status)
	}
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": strings.Repeat("a", 4000) + "@example.com", "password": "whatever pw"}), http.StatusUnauthorized, "invalid_credentials")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": "not an email", "password": "whatever pw"}), http.StatusUnauthorized, "invalid_credentials")
}

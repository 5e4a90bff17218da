package oauthtest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
)

// LinkedInUser is a member at the fake LinkedIn, as its userinfo endpoint describes them.
type LinkedInUser struct {
	Sub           string
	Name          string
	Email         string
	EmailVerified bool
	Picture       string
}

// LinkedIn behaves like "Sign In with LinkedIn using OpenID Connect": authorization at
// /oauth/v2/authorization (a URL only), token at /oauth/v2/accessToken, claims at /v2/userinfo.
// One server serves both bases: point GATEHOUSE_LINKEDIN_URL and GATEHOUSE_LINKEDIN_API_URL at URL.
type LinkedIn struct {
	*httptest.Server
	*codes
	ClientID, ClientSecret string

	mu sync.Mutex // guards the users' fields
}

// NewLinkedIn starts a fake LinkedIn on loopback; it stops when the test ends.
func NewLinkedIn(t testing.TB) *LinkedIn {
	l := &LinkedIn{ClientID: "li-client-" + randomString()[:8], ClientSecret: "li-secret-" + randomString()}
	l.codes = newCodes(l.ClientID, l.ClientSecret)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/v2/accessToken", l.token)
	mux.HandleFunc("GET /v2/userinfo", l.userinfo)
	l.Server = httptest.NewServer(mux)
	t.Cleanup(l.Close)
	return l
}

// Approve plays the browser and the member at LinkedIn's consent page.
func (l *LinkedIn) Approve(t testing.TB, authorizationURL string, u *LinkedInUser) (code, state string) {
	t.Helper()
	if base, _ := url.Parse(authorizationURL); base == nil || "http://"+base.Host != l.URL {
		t.Fatalf("authorization URL %q is not at the fake LinkedIn %s", authorizationURL, l.URL)
	}
	return l.approve(t, authorizationURL, "/oauth/v2/authorization", []string{"openid", "profile", "email"}, u)
}

// token answers like LinkedIn: JSON, 400 invalid_request for any bad code, 401 for bad client
// credentials.
func (l *LinkedIn) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err == nil && r.PostForm.Get("grant_type") != "authorization_code" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		writeJSON(w, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	tok, errCode, desc := l.redeem(r)
	switch errCode {
	case "":
		writeJSON(w, map[string]any{"access_token": tok, "expires_in": 5183999, "scope": "email,openid,profile", "token_type": "Bearer",
			"id_token": "not-used-by-gatehouse"})
	case "incorrect_client_credentials":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		writeJSON(w, map[string]string{"error": "invalid_client", "error_description": "Client authentication failed"})
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		writeJSON(w, map[string]string{"error": "invalid_request",
			"error_description": "Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code. Or authorization code expired. (" + desc + ")"})
	}
}

func (l *LinkedIn) userinfo(w http.ResponseWriter, r *http.Request) {
	v, ok := l.userOf(r)
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		writeJSON(w, map[string]any{"serviceErrorCode": 65600, "message": "Invalid access token", "status": 401})
		return
	}
	u := v.(*LinkedInUser)
	l.mu.Lock()
	defer l.mu.Unlock()
	writeJSON(w, map[string]any{"sub": u.Sub, "name": u.Name, "email": u.Email, "email_verified": u.EmailVerified,
		"picture": u.Picture, "locale": map[string]string{"country": "US", "language": "en"}})
}

package oauth

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/oauthtest"
)

const testRedirect = "https://app.example/cb"

func newTestGitHub(t *testing.T) (*oauthtest.GitHub, *GitHub) {
	fake := oauthtest.NewGitHub(t)
	return fake, NewGitHub(GitHubConfig{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, URL: fake.URL + "/", APIURL: fake.URL, Timeout: 2 * time.Second})
}

// signInGitHub runs authorize → consent → exchange for u, with PKCE.
func signInGitHub(t *testing.T, fake *oauthtest.GitHub, g *GitHub, u *oauthtest.GitHubUser) (*gatehouse.ProviderIdentity, error) {
	t.Helper()
	const verifier = "a-verifier-of-at-least-forty-three-characters-xyz"
	authURL, err := g.AuthCodeURL(context.Background(), gatehouse.AuthCodeRequest{State: "st", CodeChallenge: oauthtest.S256(verifier), Nonce: "n", RedirectURI: testRedirect})
	if err != nil {
		t.Fatal(err)
	}
	code, state := fake.Approve(t, authURL, u)
	if state != "st" {
		t.Fatalf("state %q", state)
	}
	return g.Exchange(context.Background(), gatehouse.CodeExchange{Code: code, CodeVerifier: verifier, Nonce: "n", RedirectURI: testRedirect})
}

func TestGitHubIdentity(t *testing.T) {
	fake, g := newTestGitHub(t)
	cases := []struct {
		name         string
		emails       []oauthtest.GitHubEmail
		wantEmail    string
		wantVerified bool
	}{
		{"primary verified", []oauthtest.GitHubEmail{{Email: "other@example.com", Verified: true}, {Email: "main@example.com", Primary: true, Verified: true}},
			"main@example.com", true},
		// A verified secondary address does not stand in for an unverified primary one.
		{"primary unverified", []oauthtest.GitHubEmail{{Email: "other@example.com", Verified: true}, {Email: "main@example.com", Primary: true}},
			"main@example.com", false},
		{"no addresses", nil, "", false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := &oauthtest.GitHubUser{ID: int64(1000 + i), Login: "octo", AvatarURL: "https://avatars.example/1", Emails: c.emails}
			id, err := signInGitHub(t, fake, g, u)
			if err != nil {
				t.Fatal(err)
			}
			if id.Subject != strconv.Itoa(1000+i) {
				t.Fatalf("subject %q, want GitHub's numeric id", id.Subject)
			}
			if id.Email != c.wantEmail || id.EmailVerified != c.wantVerified || id.Name != "octo" || id.AvatarURL != "https://avatars.example/1" {
				t.Fatalf("identity %+v", id)
			}
		})
	}
}

func TestGitHubErrors(t *testing.T) {
	fake, g := newTestGitHub(t)
	ctx := context.Background()
	u := &oauthtest.GitHubUser{ID: 7, Login: "x"}

	_, err := g.Exchange(ctx, gatehouse.CodeExchange{Code: "no-such-code", RedirectURI: testRedirect})
	if gatehouse.ErrorKindOf(err) != gatehouse.KindBadRequest || gatehouse.ErrorCodeOf(err) != "invalid_oauth_code" {
		t.Fatalf("bad code: %v", err)
	}

	// Our own credentials refused is not the client's fault.
	wrong := NewGitHub(GitHubConfig{ClientID: fake.ClientID, ClientSecret: "wrong", URL: fake.URL, APIURL: fake.URL})
	authURL, _ := wrong.AuthCodeURL(ctx, gatehouse.AuthCodeRequest{State: "s", RedirectURI: testRedirect})
	code, _ := fake.Approve(t, authURL, u)
	if _, err := wrong.Exchange(ctx, gatehouse.CodeExchange{Code: code, RedirectURI: testRedirect}); gatehouse.ErrorKindOf(err) != gatehouse.KindBadGateway {
		t.Fatalf("wrong client secret: %v", err)
	}

	fake.Garbage.Store(true)
	if _, err := signInGitHub(t, fake, g, u); gatehouse.ErrorKindOf(err) != gatehouse.KindBadGateway {
		t.Fatalf("garbage: %v", err)
	}
	fake.Garbage.Store(false)

	fake.Close()
	if _, err := g.Exchange(ctx, gatehouse.CodeExchange{Code: "c", RedirectURI: testRedirect}); gatehouse.ErrorKindOf(err) != gatehouse.KindBadGateway {
		t.Fatalf("down: %v", err)
	}
}

func TestLinkedInIdentity(t *testing.T) {
	fake := oauthtest.NewLinkedIn(t)
	l := NewLinkedIn(LinkedInConfig{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, URL: fake.URL, APIURL: fake.URL})
	ctx := context.Background()
	authURL, _ := l.AuthCodeURL(ctx, gatehouse.AuthCodeRequest{State: "s", CodeChallenge: oauthtest.S256("v-0123456789012345678901234567890123456789"), RedirectURI: testRedirect})
	code, _ := fake.Approve(t, authURL, &oauthtest.LinkedInUser{Sub: "abc", Name: "Ada", Email: "ada@example.com", EmailVerified: true})
	id, err := l.Exchange(ctx, gatehouse.CodeExchange{Code: code, CodeVerifier: "v-0123456789012345678901234567890123456789", RedirectURI: testRedirect})
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "abc" || id.Email != "ada@example.com" || !id.EmailVerified || id.Name != "Ada" {
		t.Fatalf("identity %+v", id)
	}
	// A verifier that does not match the challenge: LinkedIn's invalid_request, the client's fault.
	code, _ = fake.Approve(t, authURL, &oauthtest.LinkedInUser{Sub: "abc"})
	_, err = l.Exchange(ctx, gatehouse.CodeExchange{Code: code, CodeVerifier: "another-verifier-0123456789012345678901234", RedirectURI: testRedirect})
	if gatehouse.ErrorCodeOf(err) != "invalid_oauth_code" {
		t.Fatalf("wrong verifier: %v", err)
	}
}

func TestFlexBool(t *testing.T) {
	for in, want := range map[string]bool{`true`: true, `"true"`: true, `false`: false, `"false"`: false, `null`: false} {
		var b flexBool
		if err := json.Unmarshal([]byte(in), &b); err != nil || bool(b) != want {
			t.Errorf("%s: %v, %v", in, b, err)
		}
	}
	var b flexBool
	if err := json.Unmarshal([]byte(`"yes"`), &b); err == nil {
		t.Error(`"yes" accepted as a boolean`)
	}
}

package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestOAuthConfig(t *testing.T) {
	load := func(kv ...string) (*config, error) {
		env := map[string]string{}
		for _, e := range kv {
			k, v, _ := strings.Cut(e, "=")
			env[k] = v
		}
		return loadConfig(func(k string) string { return env[k] })
	}

	c, err := load()
	if err != nil {
		t.Fatal(err)
	}
	o := c.OAuth
	if !o.RequireState || o.StateTTL != 10*time.Minute || o.Timeout != 10*time.Second || o.providerCount() != 0 || len(o.RedirectURIs) != 0 {
		t.Fatalf("defaults: %+v", o)
	}

	c, err = load("GATEHOUSE_GITHUB_CLIENT_ID=id", "GATEHOUSE_GITHUB_SECRET=s",
		"GATEHOUSE_LINKEDIN_CLIENT_ID=lid", "GATEHOUSE_LINKEDIN_CLIENT_SECRET=ls", "GATEHOUSE_LINKEDIN_URL=https://li.example/",
		"GATEHOUSE_OIDC_PROVIDERS=google, azure-ad", "GATEHOUSE_OIDC_GOOGLE_ISSUER=https://accounts.google.com",
		"GATEHOUSE_OIDC_GOOGLE_CLIENT_ID=g", "GATEHOUSE_OIDC_GOOGLE_CLIENT_SECRET=gs",
		"GATEHOUSE_OIDC_AZURE_AD_ISSUER=https://login.microsoftonline.com/tenant/v2.0",
		"GATEHOUSE_OIDC_AZURE_AD_CLIENT_ID=a", "GATEHOUSE_OIDC_AZURE_AD_CLIENT_SECRET=as", "GATEHOUSE_OIDC_AZURE_AD_SCOPES=openid,email",
		"GATEHOUSE_OAUTH_REDIRECT_URIS=https://app.example/cb, com.example.app:/oauth",
		"GATEHOUSE_OAUTH_REQUIRE_STATE=false", "GATEHOUSE_OAUTH_STATE_TTL=1ns")
	if err != nil {
		t.Fatal(err)
	}
	o = c.OAuth
	if o.GitHub == nil || o.GitHub.ClientSecret != "s" || o.GitHub.URL != "https://github.com" || o.GitHub.APIURL != "https://api.github.com" {
		t.Fatalf("github: %+v", o.GitHub)
	}
	if o.LinkedIn == nil || o.LinkedIn.URL != "https://li.example" || o.LinkedIn.APIURL != "https://api.linkedin.com" {
		t.Fatalf("linkedin: %+v", o.LinkedIn)
	}
	if len(o.OIDC) != 2 || o.OIDC[0].Name != "google" || !slices.Equal(o.OIDC[0].Scopes, []string{"openid", "email", "profile"}) ||
		o.OIDC[1].Name != "azure-ad" || !slices.Equal(o.OIDC[1].Scopes, []string{"openid", "email"}) {
		t.Fatalf("oidc: %+v", o.OIDC)
	}
	if !slices.Equal(o.RedirectURIs, []string{"https://app.example/cb", "com.example.app:/oauth"}) || o.RequireState || o.StateTTL != time.Nanosecond {
		t.Fatalf("rules: %+v", o)
	}

	for _, bad := range []struct {
		name string
		env  []string
	}{
		{"GATEHOUSE_GITHUB_CLIENT_SECRET", []string{"GATEHOUSE_GITHUB_CLIENT_ID=id"}},
		{"GATEHOUSE_GITHUB_API_URL", []string{"GATEHOUSE_GITHUB_CLIENT_ID=id", "GATEHOUSE_GITHUB_CLIENT_SECRET=s", "GATEHOUSE_GITHUB_API_URL=api.github.com"}},
		{"GATEHOUSE_OIDC_PROVIDERS", []string{"GATEHOUSE_OIDC_PROVIDERS=verify-email"}},
		{"GATEHOUSE_OIDC_PROVIDERS", []string{"GATEHOUSE_OIDC_PROVIDERS=github"}},
		{"GATEHOUSE_OIDC_PROVIDERS", []string{"GATEHOUSE_OIDC_PROVIDERS=Bad_Name"}},
		{"GATEHOUSE_OIDC_CORP_ISSUER", []string{"GATEHOUSE_OIDC_PROVIDERS=corp"}},
		{"GATEHOUSE_OIDC_CORP_CLIENT_SECRET", []string{"GATEHOUSE_OIDC_PROVIDERS=corp", "GATEHOUSE_OIDC_CORP_ISSUER=https://idp.example", "GATEHOUSE_OIDC_CORP_CLIENT_ID=c"}},
		{"GATEHOUSE_OIDC_CORP_SCOPES", []string{"GATEHOUSE_OIDC_PROVIDERS=corp", "GATEHOUSE_OIDC_CORP_ISSUER=https://idp.example",
			"GATEHOUSE_OIDC_CORP_CLIENT_ID=c", "GATEHOUSE_OIDC_CORP_CLIENT_SECRET=s", "GATEHOUSE_OIDC_CORP_SCOPES=email"}},
		{"GATEHOUSE_OAUTH_REDIRECT_URIS", []string{"GATEHOUSE_OAUTH_REDIRECT_URIS=/relative/cb"}},
		{"GATEHOUSE_OAUTH_REDIRECT_URIS", []string{"GATEHOUSE_OAUTH_REDIRECT_URIS=https://app.example/cb#frag"}},
		{"GATEHOUSE_OAUTH_REQUIRE_STATE", []string{"GATEHOUSE_OAUTH_REQUIRE_STATE=sometimes"}},
		{"GATEHOUSE_OAUTH_STATE_TTL", []string{"GATEHOUSE_OAUTH_STATE_TTL=2h"}},
		{"GATEHOUSE_OAUTH_TIMEOUT", []string{"GATEHOUSE_OAUTH_TIMEOUT=forever"}},
	} {
		_, err := load(bad.env...)
		if err == nil || !strings.Contains(err.Error(), bad.name) {
			t.Errorf("%v: error %v does not name %s", bad.env, err, bad.name)
		}
		if err != nil && (strings.Contains(err.Error(), "=s\"") || strings.Contains(err.Error(), "\"s\"")) {
			t.Errorf("%v: the error shows a secret: %v", bad.env, err)
		}
	}
}

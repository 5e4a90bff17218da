package main

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// oauthConfig is the social sign-in part of the configuration.
type oauthConfig struct {
	RedirectURIs []string
	RequireState bool
	StateTTL     time.Duration
	Timeout      time.Duration // of each call to a provider
	GitHub       *oauthClientConfig
	LinkedIn     *oauthClientConfig
	OIDC         []oidcProviderConfig
	// The authorization server (Gatehouse as OAuth 2.1 / OpenID Connect provider).
	DCR                      bool // GATEHOUSE_OAUTH_DCR: dynamic client registration, on by default
	CIMDAllowPrivateNetworks bool // GATEHOUSE_OAUTH_CIMD_ALLOW_PRIVATE_NETWORKS: tests and development only
}

// oauthClientConfig is a built-in provider's app registration; nil when the provider is off.
type oauthClientConfig struct {
	ClientID, ClientSecret string
	URL, APIURL            string
}

type oidcProviderConfig struct {
	Name, Issuer, ClientID, ClientSecret string
	Scopes                               []string
}

// oidcProviderName is what a provider name may look like: it is a URL path segment and, upper-cased,
// part of environment variable names.
var oidcProviderName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

// reservedProviderNames would read as something else under /auth/: the built-in providers and the
// other auth endpoints.
var reservedProviderNames = []string{"github", "linkedin", "register", "login", "refresh", "logout", "me",
	"introspect", "verify-email", "forgot-password", "reset-password", "providers"}

func loadOAuthConfig(getenv func(string) string) (oauthConfig, error) {
	env := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	var c oauthConfig
	var err error
	duration := func(name, def string, min, max time.Duration) time.Duration {
		v := env(name, def)
		d, perr := time.ParseDuration(v)
		if err == nil && (perr != nil || d < min || d > max) {
			err = &configError{name, v, fmt.Sprintf("want a Go duration from %s to %s, such as %s", min, max, def)}
		}
		return d
	}
	c.StateTTL = duration("GATEHOUSE_OAUTH_STATE_TTL", "10m", time.Nanosecond, time.Hour)
	c.Timeout = duration("GATEHOUSE_OAUTH_TIMEOUT", "10s", time.Millisecond, time.Minute)
	if err != nil {
		return c, err
	}
	boolean := func(name, def string) (bool, error) {
		switch v := strings.ToLower(env(name, def)); v {
		case "1", "true", "yes", "on":
			return true, nil
		case "0", "false", "no", "off":
			return false, nil
		default:
			return false, &configError{name, v, "want true or false"}
		}
	}
	if c.RequireState, err = boolean("GATEHOUSE_OAUTH_REQUIRE_STATE", "true"); err != nil {
		return c, err
	}
	if c.DCR, err = boolean("GATEHOUSE_OAUTH_DCR", "on"); err != nil {
		return c, err
	}
	if c.CIMDAllowPrivateNetworks, err = boolean("GATEHOUSE_OAUTH_CIMD_ALLOW_PRIVATE_NETWORKS", "false"); err != nil {
		return c, err
	}
	for _, u := range splitList(getenv("GATEHOUSE_OAUTH_REDIRECT_URIS")) {
		parsed, perr := url.Parse(u)
		if perr != nil || parsed.Scheme == "" || parsed.Fragment != "" || (parsed.Host == "" && parsed.Opaque == "" && parsed.Path == "") {
			return c, &configError{"GATEHOUSE_OAUTH_REDIRECT_URIS", u, "want absolute URIs without a fragment, comma-separated"}
		}
		c.RedirectURIs = append(c.RedirectURIs, u)
	}

	builtIn := func(prefix, defURL, defAPI string) (*oauthClientConfig, error) {
		id := env(prefix+"_CLIENT_ID", "")
		// The contract names the pair "_CLIENT_ID, _SECRET": both spellings of the secret work.
		secret := env(prefix+"_CLIENT_SECRET", env(prefix+"_SECRET", ""))
		if id == "" {
			return nil, nil
		}
		if secret == "" {
			return nil, &configError{prefix + "_CLIENT_SECRET", "", "required when " + prefix + "_CLIENT_ID is set"}
		}
		p := &oauthClientConfig{ClientID: id, ClientSecret: secret,
			URL: strings.TrimRight(env(prefix+"_URL", defURL), "/"), APIURL: strings.TrimRight(env(prefix+"_API_URL", defAPI), "/")}
		for _, u := range []struct{ name, value string }{{prefix + "_URL", p.URL}, {prefix + "_API_URL", p.APIURL}} {
			if !isHTTPURL(u.value) {
				return nil, &configError{u.name, u.value, "want an absolute http(s) URL"}
			}
		}
		return p, nil
	}
	if c.GitHub, err = builtIn("GATEHOUSE_GITHUB", "https://github.com", "https://api.github.com"); err != nil {
		return c, err
	}
	if c.LinkedIn, err = builtIn("GATEHOUSE_LINKEDIN", "https://www.linkedin.com", "https://api.linkedin.com"); err != nil {
		return c, err
	}

	for _, name := range splitList(getenv("GATEHOUSE_OIDC_PROVIDERS")) {
		if !oidcProviderName.MatchString(name) || slices.Contains(reservedProviderNames, name) {
			return c, &configError{"GATEHOUSE_OIDC_PROVIDERS", name,
				"want names of lower-case letters, digits and dashes, other than " + strings.Join(reservedProviderNames, ", ")}
		}
		if slices.ContainsFunc(c.OIDC, func(p oidcProviderConfig) bool { return p.Name == name }) {
			return c, &configError{"GATEHOUSE_OIDC_PROVIDERS", name, "named twice"}
		}
		prefix := "GATEHOUSE_OIDC_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		p := oidcProviderConfig{
			Name:         name,
			Issuer:       env(prefix+"_ISSUER", ""),
			ClientID:     env(prefix+"_CLIENT_ID", ""),
			ClientSecret: env(prefix+"_CLIENT_SECRET", ""),
			Scopes:       strings.Fields(strings.ReplaceAll(env(prefix+"_SCOPES", "openid email profile"), ",", " ")),
		}
		switch {
		case !isHTTPURL(p.Issuer):
			return c, &configError{prefix + "_ISSUER", p.Issuer, "want the provider's issuer URL, as its discovery document states it"}
		case p.ClientID == "":
			return c, &configError{prefix + "_CLIENT_ID", "", "required for OIDC provider " + name}
		case p.ClientSecret == "":
			return c, &configError{prefix + "_CLIENT_SECRET", "", "required for OIDC provider " + name}
		case !slices.Contains(p.Scopes, "openid"):
			return c, &configError{prefix + "_SCOPES", strings.Join(p.Scopes, " "), "must include openid"}
		}
		c.OIDC = append(c.OIDC, p)
	}
	return c, nil
}

// providerCount is how many sign-in providers are configured.
func (c *oauthConfig) providerCount() int {
	n := len(c.OIDC)
	if c.GitHub != nil {
		n++
	}
	if c.LinkedIn != nil {
		n++
	}
	return n
}

func splitList(v string) []string {
	var out []string
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func isHTTPURL(v string) bool {
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

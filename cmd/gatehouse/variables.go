package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// variable is one GATEHOUSE_* setting as `gatehouse config check` shows it. Every variable that
// loadConfig reads is listed here (a test checks it), and documented in docs/configuration.md.
type variable struct {
	name   string
	secret bool                   // shown masked
	value  func(c *config) string // the value in effect; "" for unset
	unset  string                 // what unset means, when value is ""
}

func durationValue(get func(*config) time.Duration) func(*config) string {
	return func(c *config) string { return shortDuration(get(c)) }
}

// shortDuration writes 15m rather than 15m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func intValue(get func(*config) int) func(*config) string {
	return func(c *config) string { return strconv.Itoa(get(c)) }
}

func boolValue(get func(*config) bool) func(*config) string {
	return func(c *config) string { return strconv.FormatBool(get(c)) }
}

// providerValue is a built-in sign-in provider's setting, or its default while the provider is off.
func providerValue(get func(*oauthClientConfig) string, provider func(*config) *oauthClientConfig, def string) func(*config) string {
	return func(c *config) string {
		if p := provider(c); p != nil {
			return get(p)
		}
		return def
	}
}

var (
	github   = func(c *config) *oauthClientConfig { return c.OAuth.GitHub }
	linkedIn = func(c *config) *oauthClientConfig { return c.OAuth.LinkedIn }
)

var variables = []variable{
	{name: "GATEHOUSE_ADDR", value: func(c *config) string { return c.Addr }},
	{name: "GATEHOUSE_DATA_DIR", value: func(c *config) string { return c.DataDir }},
	{name: "GATEHOUSE_DATABASE_URL", value: func(c *config) string { return redactURL(c.DatabaseURL) }, unset: "a SQLite file in the data dir"},
	{name: "GATEHOUSE_DB_MAX_CONNS", value: intValue(func(c *config) int { return c.DBMaxConns })},
	{name: "GATEHOUSE_DB_STATEMENT_TIMEOUT", value: durationValue(func(c *config) time.Duration { return c.DBStatementTimeout })},
	{name: "GATEHOUSE_PUBLIC_URL", value: func(c *config) string { return c.PublicURL }},
	{name: "GATEHOUSE_APP_URL", value: func(c *config) string { return c.AppURL }},
	{name: "GATEHOUSE_ACCESS_TOKEN_TTL", value: durationValue(func(c *config) time.Duration { return c.AccessTokenTTL })},
	{name: "GATEHOUSE_REFRESH_TOKEN_TTL", value: durationValue(func(c *config) time.Duration { return c.RefreshTokenTTL })},
	{name: "GATEHOUSE_SESSION_LIFETIME", value: durationValue(func(c *config) time.Duration { return c.SessionLifetime })},
	{name: "GATEHOUSE_REFRESH_REUSE_INTERVAL", value: durationValue(func(c *config) time.Duration { return c.RefreshReuseInterval })},
	{name: "GATEHOUSE_SIGNING_ALG", value: func(c *config) string { return c.SigningAlg }},
	{name: "GATEHOUSE_REQUIRE_EMAIL_VERIFICATION", value: boolValue(func(c *config) bool { return c.RequireEmailVerification })},
	{name: "GATEHOUSE_ADMIN_REQUIRE_MFA", value: boolValue(func(c *config) bool { return c.AdminRequireMFA })},
	{name: "GATEHOUSE_MFA_REQUIRED_ROLES", value: func(c *config) string { return strings.Join(c.MFARequiredRoles, ",") }, unset: "none"},
	{name: "GATEHOUSE_WEBAUTHN_RP_ID", value: func(c *config) string { return c.WebAuthn.RPID }, unset: "the host of GATEHOUSE_PUBLIC_URL"},
	{name: "GATEHOUSE_WEBAUTHN_ORIGINS", value: func(c *config) string { return strings.Join(c.WebAuthn.Origins, ",") }, unset: "the origins of GATEHOUSE_PUBLIC_URL and GATEHOUSE_APP_URL"},
	{name: "GATEHOUSE_WEBAUTHN_RP_NAME", value: func(c *config) string { return c.WebAuthn.RPName }, unset: "the product name"},
	{name: "GATEHOUSE_ORG_AUTO_JOIN", value: boolValue(func(c *config) bool { return c.OrgAutoJoin })},
	{name: "GATEHOUSE_PASSWORD_MIN_LENGTH", value: intValue(func(c *config) int { return c.PasswordMinLength })},
	{name: "GATEHOUSE_BREACH_CHECK", value: func(c *config) string { return c.Breach.Mode }},
	{name: "GATEHOUSE_BREACH_FILE", value: func(c *config) string { return c.Breach.File }},
	{name: "GATEHOUSE_BREACH_API_URL", value: func(c *config) string { return c.Breach.APIURL }},
	{name: "GATEHOUSE_BREACH_TIMEOUT", value: durationValue(func(c *config) time.Duration { return c.Breach.Timeout })},
	{name: "GATEHOUSE_BREACH_FAIL", value: func(c *config) string { return c.Breach.Fail }},
	{name: "GATEHOUSE_RATE_LIMITS", value: func(c *config) string { return c.RateLimits }},
	{name: "GATEHOUSE_CORS_ORIGINS", value: func(c *config) string { return strings.Join(c.CORSOrigins, ",") }, unset: "none"},
	{name: "GATEHOUSE_TRUSTED_PROXIES", value: func(c *config) string {
		var out []string
		for _, p := range c.TrustedProxies {
			out = append(out, p.String())
		}
		return strings.Join(out, ",")
	}, unset: "none"},
	{name: "GATEHOUSE_METRICS_ADDR", value: func(c *config) string { return c.MetricsAddr }, unset: "/metrics on the main listener"},
	{name: "GATEHOUSE_CACHE_TTL", value: durationValue(func(c *config) time.Duration { return c.CacheTTL })},
	{name: "GATEHOUSE_HASH_WORKERS", value: intValue(func(c *config) int { return c.HashWorkers })},
	{name: "GATEHOUSE_HASH_QUEUE", value: func(c *config) string {
		if c.HashQueue < 0 {
			return ""
		}
		return strconv.Itoa(c.HashQueue)
	}, unset: "as many as get a slot within GATEHOUSE_HASH_MAX_WAIT"},
	{name: "GATEHOUSE_HASH_MAX_WAIT", value: durationValue(func(c *config) time.Duration { return c.HashMaxWait })},
	{name: "GATEHOUSE_LOG_LEVEL", value: func(c *config) string { return c.LogLevel }},
	{name: "GATEHOUSE_LOG_FORMAT", value: func(c *config) string { return c.LogFormat }},

	{name: "GATEHOUSE_SMTP_URL", value: func(c *config) string {
		if c.Email.SMTP == nil {
			return ""
		}
		return c.Email.SMTP.String()
	}, unset: "emails are written to the log"},
	{name: "GATEHOUSE_MAIL_FROM", value: func(c *config) string { return c.MailFrom }},
	{name: "GATEHOUSE_TEMPLATES_DIR", value: func(c *config) string { return c.Email.TemplatesDir }, unset: "built-in templates"},
	{name: "GATEHOUSE_PRODUCT_NAME", value: func(c *config) string { return c.Email.ProductName }},
	{name: "GATEHOUSE_ENCRYPTION_KEY", secret: true, value: func(c *config) string { return c.EncryptionKey }, unset: "the key file outbox.key in the data dir"},
	{name: "GATEHOUSE_VERIFY_TOKEN_TTL", value: durationValue(func(c *config) time.Duration { return c.Email.VerifyTokenTTL })},
	{name: "GATEHOUSE_RESET_TOKEN_TTL", value: durationValue(func(c *config) time.Duration { return c.Email.ResetTokenTTL })},
	{name: "GATEHOUSE_EMAIL_RESEND_INTERVAL", value: durationValue(func(c *config) time.Duration { return c.Email.ResendInterval })},
	{name: "GATEHOUSE_OUTBOX_RETRY_MIN", value: durationValue(func(c *config) time.Duration { return c.Email.OutboxRetryMin })},
	{name: "GATEHOUSE_OUTBOX_RETRY_MAX", value: durationValue(func(c *config) time.Duration { return c.Email.OutboxRetryMax })},
	{name: "GATEHOUSE_OUTBOX_MAX_AGE", value: durationValue(func(c *config) time.Duration { return c.Email.OutboxMaxAge })},

	{name: "GATEHOUSE_OAUTH_DCR", value: boolValue(func(c *config) bool { return c.OAuth.DCR })},
	{name: "GATEHOUSE_OAUTH_CIMD_ALLOW_PRIVATE_NETWORKS", value: boolValue(func(c *config) bool { return c.OAuth.CIMDAllowPrivateNetworks })},
	{name: "GATEHOUSE_OAUTH_REDIRECT_URIS", value: func(c *config) string { return strings.Join(c.OAuth.RedirectURIs, ",") }, unset: "every provider sign-in is refused"},
	{name: "GATEHOUSE_OAUTH_REQUIRE_STATE", value: boolValue(func(c *config) bool { return c.OAuth.RequireState })},
	{name: "GATEHOUSE_OAUTH_STATE_TTL", value: durationValue(func(c *config) time.Duration { return c.OAuth.StateTTL })},
	{name: "GATEHOUSE_OAUTH_TIMEOUT", value: durationValue(func(c *config) time.Duration { return c.OAuth.Timeout })},
	{name: "GATEHOUSE_GITHUB_CLIENT_ID", value: providerValue(func(p *oauthClientConfig) string { return p.ClientID }, github, ""), unset: "GitHub sign-in off"},
	{name: "GATEHOUSE_GITHUB_CLIENT_SECRET", secret: true, value: providerValue(func(p *oauthClientConfig) string { return p.ClientSecret }, github, "")},
	{name: "GATEHOUSE_GITHUB_URL", value: providerValue(func(p *oauthClientConfig) string { return p.URL }, github, "https://github.com")},
	{name: "GATEHOUSE_GITHUB_API_URL", value: providerValue(func(p *oauthClientConfig) string { return p.APIURL }, github, "https://api.github.com")},
	{name: "GATEHOUSE_LINKEDIN_CLIENT_ID", value: providerValue(func(p *oauthClientConfig) string { return p.ClientID }, linkedIn, ""), unset: "LinkedIn sign-in off"},
	{name: "GATEHOUSE_LINKEDIN_CLIENT_SECRET", secret: true, value: providerValue(func(p *oauthClientConfig) string { return p.ClientSecret }, linkedIn, "")},
	{name: "GATEHOUSE_LINKEDIN_URL", value: providerValue(func(p *oauthClientConfig) string { return p.URL }, linkedIn, "https://www.linkedin.com")},
	{name: "GATEHOUSE_LINKEDIN_API_URL", value: providerValue(func(p *oauthClientConfig) string { return p.APIURL }, linkedIn, "https://api.linkedin.com")},
	{name: "GATEHOUSE_OIDC_PROVIDERS", value: func(c *config) string {
		var names []string
		for _, p := range c.OAuth.OIDC {
			names = append(names, p.Name)
		}
		return strings.Join(names, ",")
	}, unset: "none"},
}

// aliasVariables are other spellings loadConfig accepts.
var aliasVariables = []string{"GATEHOUSE_GITHUB_SECRET", "GATEHOUSE_LINKEDIN_SECRET"}

// oidcSuffixes are the per-provider variables: GATEHOUSE_OIDC_<NAME>_<SUFFIX>.
var oidcSuffixes = []string{"ISSUER", "CLIENT_ID", "CLIENT_SECRET", "SCOPES"}

// oidcPrefix is a provider's variable prefix: the name upper-cased, dashes as underscores.
func oidcPrefix(name string) string {
	return "GATEHOUSE_OIDC_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// notOurs are GATEHOUSE_* variables that something other than the server reads: the test
// harness, and the apps that use the SDKs (often started from the same shell).
func notOurs(name string) bool {
	return strings.HasPrefix(name, "GATEHOUSE_TEST_") || name == "GATEHOUSE_URL" || name == "GATEHOUSE_API_KEY"
}

// variableHints point common guesses at the variable that does the job.
var variableHints = map[string]string{
	"GATEHOUSE_PORT":          "GATEHOUSE_ADDR (host:port, such as 127.0.0.1:8080)",
	"GATEHOUSE_HOST":          "GATEHOUSE_ADDR (host:port, such as 127.0.0.1:8080)",
	"GATEHOUSE_LISTEN":        "GATEHOUSE_ADDR (host:port, such as 127.0.0.1:8080)",
	"GATEHOUSE_LISTEN_ADDR":   "GATEHOUSE_ADDR (host:port, such as 127.0.0.1:8080)",
	"GATEHOUSE_BIND":          "GATEHOUSE_ADDR (host:port, such as 127.0.0.1:8080)",
	"GATEHOUSE_ADDRESS":       "GATEHOUSE_ADDR (host:port, such as 127.0.0.1:8080)",
	"GATEHOUSE_DB_URL":        "GATEHOUSE_DATABASE_URL",
	"GATEHOUSE_DATABASE":      "GATEHOUSE_DATABASE_URL",
	"GATEHOUSE_POSTGRES_URL":  "GATEHOUSE_DATABASE_URL",
	"GATEHOUSE_DSN":           "GATEHOUSE_DATABASE_URL",
	"GATEHOUSE_ISSUER":        "GATEHOUSE_PUBLIC_URL (the token issuer)",
	"GATEHOUSE_BASE_URL":      "GATEHOUSE_PUBLIC_URL",
	"GATEHOUSE_EXTERNAL_URL":  "GATEHOUSE_PUBLIC_URL",
	"GATEHOUSE_SMTP_HOST":     "GATEHOUSE_SMTP_URL (smtp://user:password@host:port)",
	"GATEHOUSE_SMTP_PORT":     "GATEHOUSE_SMTP_URL (smtp://user:password@host:port)",
	"GATEHOUSE_SMTP_USER":     "GATEHOUSE_SMTP_URL (smtp://user:password@host:port)",
	"GATEHOUSE_SMTP_USERNAME": "GATEHOUSE_SMTP_URL (smtp://user:password@host:port)",
	"GATEHOUSE_SMTP_PASSWORD": "GATEHOUSE_SMTP_URL (smtp://user:password@host:port)",
	"GATEHOUSE_JWT_ALG":       "GATEHOUSE_SIGNING_ALG",
	"GATEHOUSE_DEBUG":         "GATEHOUSE_LOG_LEVEL=debug",
	"GATEHOUSE_VERBOSE":       "GATEHOUSE_LOG_LEVEL=debug",
}

var oidcVariable = regexp.MustCompile(`^GATEHOUSE_OIDC_([A-Z0-9_]+?)_(ISSUER|CLIENT_ID|CLIENT_SECRET|SCOPES)$`)

// knownVariables are the names the configuration reads, given the OIDC providers named.
func knownVariables(oidcProviders []string) []string {
	var names []string
	for _, v := range variables {
		names = append(names, v.name)
	}
	names = append(names, aliasVariables...)
	for _, p := range oidcProviders {
		for _, suffix := range oidcSuffixes {
			names = append(names, oidcPrefix(p)+"_"+suffix)
		}
	}
	return names
}

// unknownVariables returns a warning for each GATEHOUSE_* variable the configuration does not read.
func unknownVariables(env environment) []string {
	providers := splitList(env.get("GATEHOUSE_OIDC_PROVIDERS"))
	known := knownVariables(providers)
	names := slices.Clone(env.names)
	slices.Sort(names)
	var warnings []string
	for _, name := range slices.Compact(names) {
		if !strings.HasPrefix(name, "GATEHOUSE_") || slices.Contains(known, name) || notOurs(name) {
			continue
		}
		warnings = append(warnings, unknownVariableWarning(name, known))
	}
	return warnings
}

func unknownVariableWarning(name string, known []string) string {
	msg := "unknown variable " + name + " is ignored"
	if hint, ok := variableHints[name]; ok {
		return msg + "; did you mean " + hint + "?"
	}
	if m := oidcVariable.FindStringSubmatch(name); m != nil {
		provider := strings.ToLower(strings.ReplaceAll(m[1], "_", "-"))
		return fmt.Sprintf("%s: no provider %s in GATEHOUSE_OIDC_PROVIDERS", msg, provider)
	}
	best, bestDistance := "", 4
	suffix := strings.TrimPrefix(name, "GATEHOUSE_")
	for _, k := range known {
		d := levenshtein(suffix, strings.TrimPrefix(k, "GATEHOUSE_"))
		if d < bestDistance && (d <= 2 || len(suffix) >= 10) {
			best, bestDistance = k, d
		}
	}
	if best != "" {
		return msg + "; did you mean " + best + "?"
	}
	return msg + " (the variables are listed in docs/configuration.md)"
}

// warnUnknownVariables logs unknownVariables at start: a misspelt name otherwise goes unnoticed
// while its default quietly applies.
func warnUnknownVariables(log *slog.Logger, env environment) {
	for _, w := range unknownVariables(env) {
		log.Warn(w)
	}
}

// printConfig prints the configuration in effect, secrets masked.
func printConfig(w io.Writer, cfg *config, getenv func(string) string) {
	c := *cfg
	c.resolvePublicURL(c.Addr)
	set := func(name string) bool { return strings.TrimSpace(getenv(name)) != "" }
	fmt.Fprintln(w, "configuration is valid")
	fmt.Fprintf(w, "database: %s%s\n\n", describeDatabase(&c), databaseState(&c))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tVALUE\tSOURCE")
	row := func(name, value, unset string, secret, fromEnv bool) {
		source := "default"
		if fromEnv {
			source = "environment"
		}
		switch {
		case value == "" && unset != "":
			value = "(unset: " + unset + ")"
		case value == "":
			value = "(unset)"
		case secret:
			value = "xxxxx (hidden)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", name, value, source)
	}
	for _, v := range variables {
		fromEnv := set(v.name)
		if strings.HasSuffix(v.name, "_CLIENT_SECRET") {
			fromEnv = fromEnv || set(strings.TrimSuffix(v.name, "_CLIENT_SECRET")+"_SECRET")
		}
		row(v.name, v.value(&c), v.unset, v.secret, fromEnv)
	}
	for _, p := range c.OAuth.OIDC {
		prefix := oidcPrefix(p.Name)
		row(prefix+"_ISSUER", p.Issuer, "", false, true)
		row(prefix+"_CLIENT_ID", p.ClientID, "", false, true)
		row(prefix+"_CLIENT_SECRET", p.ClientSecret, "", true, true)
		row(prefix+"_SCOPES", strings.Join(p.Scopes, " "), "", false, set(prefix+"_SCOPES"))
	}
	tw.Flush()
}

// databaseState says whether the SQLite database exists; config check connects to nothing.
func databaseState(cfg *config) string {
	if cfg.isPostgres() {
		return " (not contacted by config check)"
	}
	if info, err := os.Stat(cfg.sqlitePath()); err == nil && info.Mode().IsRegular() && info.Size() > 0 {
		return " (exists)"
	}
	return " (not created yet: serve, migrate or init creates it)"
}

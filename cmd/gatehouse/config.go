package main

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/seal"
)

// config is every setting of docs/configuration.md, read from the environment.
type config struct {
	Addr                     string
	DataDir                  string
	EncryptionKey            string // GATEHOUSE_ENCRYPTION_KEY, base64; empty: the key file in the data dir
	DatabaseURL              string
	PublicURL                string
	AppURL                   string
	SMTPURL                  string
	MailFrom                 string
	AccessTokenTTL           time.Duration
	RefreshTokenTTL          time.Duration
	SessionLifetime          time.Duration
	RefreshReuseInterval     time.Duration
	SigningAlg               string
	RequireEmailVerification bool
	AdminRequireMFA          bool
	OrgAutoJoin              bool // GATEHOUSE_ORG_AUTO_JOIN: verified-domain auto-join of organizations
	MFARequiredRoles         []string
	RateLimits               string
	RateLimitsEnabled        bool
	RateRules                rateRules
	MetricsAddr              string
	CORSOrigins              []string
	TrustedProxies           []netip.Prefix
	PasswordMinLength        int
	HashWorkers              int
	HashMaxWait              time.Duration
	HashQueue                int // cap on calls waiting for a hash slot; -1: none but the deadline rule
	CacheTTL                 time.Duration
	DBMaxConns               int           // PostgreSQL pool size of this process
	DBStatementTimeout       time.Duration // PostgreSQL statement_timeout; 0 keeps the server's
	LogLevel                 string
	LogFormat                string
	Breach                   breachConfig   // breached-password check: breach.go
	OAuth                    oauthConfig    // social sign-in: oauth_config.go
	Email                    emailConfig    // email and outbox: email_config.go
	WebAuthn                 webauthnConfig // passkeys: passkey_config.go
}

// configError names the variable at fault, so a bad value stops the process with a useful line.
type configError struct {
	name, value, why string
}

func (e *configError) Error() string {
	return fmt.Sprintf("%s=%q: %s", e.name, e.value, e.why)
}

func loadConfig(getenv func(string) string) (*config, error) {
	env := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := &config{
		Addr:          env("GATEHOUSE_ADDR", "127.0.0.1:8080"),
		DataDir:       env("GATEHOUSE_DATA_DIR", "./data"),
		EncryptionKey: env("GATEHOUSE_ENCRYPTION_KEY", ""),
		DatabaseURL:   env("GATEHOUSE_DATABASE_URL", ""),
		PublicURL:     env("GATEHOUSE_PUBLIC_URL", ""),
		AppURL:        env("GATEHOUSE_APP_URL", ""),
		SMTPURL:       env("GATEHOUSE_SMTP_URL", ""),
		MailFrom:      env("GATEHOUSE_MAIL_FROM", "Gatehouse <no-reply@localhost>"),
		SigningAlg:    env("GATEHOUSE_SIGNING_ALG", "ES256"),
		RateLimits:    env("GATEHOUSE_RATE_LIMITS", "on"),
		MetricsAddr:   env("GATEHOUSE_METRICS_ADDR", ""),
		LogLevel:      env("GATEHOUSE_LOG_LEVEL", "info"),
		LogFormat:     env("GATEHOUSE_LOG_FORMAT", "text"),
	}
	var err error
	duration := func(name, def string, min time.Duration) time.Duration {
		if err != nil {
			return 0
		}
		v := env(name, def)
		d, perr := time.ParseDuration(v)
		if perr != nil || d < min {
			err = &configError{name, v, fmt.Sprintf("want a Go duration of at least %s, such as %s", min, def)}
		}
		return d
	}
	integer := func(name string, def, min, max int) int {
		if err != nil {
			return 0
		}
		v := env(name, strconv.Itoa(def))
		n, perr := strconv.Atoi(v)
		if perr != nil || n < min || n > max {
			err = &configError{name, v, fmt.Sprintf("want a whole number from %d to %d", min, max)}
		}
		return n
	}
	boolean := func(name string, def bool) bool {
		if err != nil {
			return false
		}
		v := env(name, strconv.FormatBool(def))
		switch strings.ToLower(v) {
		case "1", "true", "yes", "on":
			return true
		case "0", "false", "no", "off":
			return false
		}
		err = &configError{name, v, "want true or false"}
		return false
	}
	c.AccessTokenTTL = duration("GATEHOUSE_ACCESS_TOKEN_TTL", "15m", time.Second)
	c.RefreshTokenTTL = duration("GATEHOUSE_REFRESH_TOKEN_TTL", "168h", time.Second)
	c.SessionLifetime = duration("GATEHOUSE_SESSION_LIFETIME", "720h", time.Second)
	c.RefreshReuseInterval = duration("GATEHOUSE_REFRESH_REUSE_INTERVAL", "10s", 0)
	c.CacheTTL = duration("GATEHOUSE_CACHE_TTL", "1s", 0)
	c.HashMaxWait = duration("GATEHOUSE_HASH_MAX_WAIT", "500ms", 0)
	c.RequireEmailVerification = boolean("GATEHOUSE_REQUIRE_EMAIL_VERIFICATION", false)
	c.OrgAutoJoin = boolean("GATEHOUSE_ORG_AUTO_JOIN", false)
	c.AdminRequireMFA = boolean("GATEHOUSE_ADMIN_REQUIRE_MFA", false)
	c.PasswordMinLength = integer("GATEHOUSE_PASSWORD_MIN_LENGTH", 8, 8, 256)
	c.HashWorkers = integer("GATEHOUSE_HASH_WORKERS", runtime.NumCPU(), 1, 1024)
	// Unset, the queue is as long as the pool can serve within GATEHOUSE_HASH_MAX_WAIT at the
	// measured hash time; a number caps it further.
	c.HashQueue = -1
	if env("GATEHOUSE_HASH_QUEUE", "") != "" {
		c.HashQueue = integer("GATEHOUSE_HASH_QUEUE", 0, 0, 1_000_000)
	}
	c.DBMaxConns = integer("GATEHOUSE_DB_MAX_CONNS", 16, 2, 10_000)
	c.DBStatementTimeout = duration("GATEHOUSE_DB_STATEMENT_TIMEOUT", "5s", 0)
	if err != nil {
		return nil, err
	}
	if c.CacheTTL > 10*time.Second {
		return nil, &configError{"GATEHOUSE_CACHE_TTL", c.CacheTTL.String(), "at most 10s: it bounds how long a revocation made elsewhere goes unnoticed"}
	}
	if c.AccessTokenTTL > 24*time.Hour {
		return nil, &configError{"GATEHOUSE_ACCESS_TOKEN_TTL", c.AccessTokenTTL.String(), "access tokens must be short-lived: at most 24h"}
	}
	switch c.SigningAlg {
	case "ES256", "RS256", "EdDSA":
	default:
		return nil, &configError{"GATEHOUSE_SIGNING_ALG", c.SigningAlg, "want ES256, RS256 or EdDSA"}
	}
	if c.RateLimitsEnabled, c.RateRules, err = parseRateLimits(c.RateLimits); err != nil {
		return nil, &configError{"GATEHOUSE_RATE_LIMITS", c.RateLimits, err.Error()}
	}
	if err := checkListenAddr("GATEHOUSE_ADDR", c.Addr); err != nil {
		return nil, err
	}
	if c.MetricsAddr != "" && c.MetricsAddr != "off" {
		if err := checkListenAddr("GATEHOUSE_METRICS_ADDR", c.MetricsAddr); err != nil {
			return nil, err
		}
	}
	for _, o := range strings.Split(getenv("GATEHOUSE_CORS_ORIGINS"), ",") {
		o = strings.TrimRight(strings.TrimSpace(o), "/")
		if o == "" {
			continue
		}
		u, perr := url.Parse(o)
		if o == "*" || perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" {
			return nil, &configError{"GATEHOUSE_CORS_ORIGINS", o, "want exact origins such as https://app.example.com (no wildcard)"}
		}
		c.CORSOrigins = append(c.CORSOrigins, strings.ToLower(o))
	}
	for _, role := range strings.Split(getenv("GATEHOUSE_MFA_REQUIRED_ROLES"), ",") {
		role = strings.ToLower(strings.TrimSpace(role))
		if role == "" || slices.Contains(c.MFARequiredRoles, role) {
			continue
		}
		if role != gatehouse.RoleUser && role != gatehouse.RoleAdmin {
			return nil, &configError{"GATEHOUSE_MFA_REQUIRED_ROLES", role, "want comma-separated role names: admin, user"}
		}
		c.MFARequiredRoles = append(c.MFARequiredRoles, role)
	}
	if v := getenv("GATEHOUSE_TRUSTED_PROXIES"); strings.TrimSpace(v) != "" {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			p, perr := netip.ParsePrefix(part)
			if perr != nil {
				a, aerr := netip.ParseAddr(part)
				if aerr != nil {
					return nil, &configError{"GATEHOUSE_TRUSTED_PROXIES", v, "want comma-separated CIDRs such as 10.0.0.0/8"}
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			c.TrustedProxies = append(c.TrustedProxies, p.Masked())
		}
	}
	for _, u := range []struct{ name, value string }{{"GATEHOUSE_PUBLIC_URL", c.PublicURL}, {"GATEHOUSE_APP_URL", c.AppURL}} {
		if u.value == "" {
			continue
		}
		parsed, perr := url.Parse(u.value)
		if perr != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
			return nil, &configError{u.name, u.value, "want an absolute http(s) URL"}
		}
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") &&
		!strings.HasPrefix(c.DatabaseURL, "sqlite:") && !strings.HasPrefix(c.DatabaseURL, "file:") {
		return nil, &configError{"GATEHOUSE_DATABASE_URL", redactURL(c.DatabaseURL), "want postgres://user:password@host:5432/database, or sqlite:PATH"}
	}
	if c.isPostgres() {
		if _, perr := postgres.ConnConfig(c.DatabaseURL, c.postgresOptions()); perr != nil {
			return nil, &configError{"GATEHOUSE_DATABASE_URL", redactURL(c.DatabaseURL), "not a valid PostgreSQL URL; want postgres://user:password@host:5432/database, the user and password percent-encoded"}
		}
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return nil, &configError{"GATEHOUSE_LOG_FORMAT", c.LogFormat, "want text or json"}
	}
	switch c.LogLevel = strings.ToLower(c.LogLevel); c.LogLevel {
	case "debug", "info", "warn", "error":
	case "warning":
		c.LogLevel = "warn"
	default:
		return nil, &configError{"GATEHOUSE_LOG_LEVEL", c.LogLevel, "want debug, info, warn or error"}
	}
	if c.Breach, err = loadBreachConfig(getenv, c.DataDir); err != nil {
		return nil, err
	}
	if c.OAuth, err = loadOAuthConfig(getenv); err != nil {
		return nil, err
	}
	if c.EncryptionKey != "" {
		if _, perr := seal.ParseKey(c.EncryptionKey); perr != nil {
			// The value is a secret: never echo it.
			return nil, &configError{"GATEHOUSE_ENCRYPTION_KEY", "(hidden)", perr.Error()}
		}
	}
	if c.Email, err = loadEmailConfig(getenv, c.SMTPURL, c.MailFrom); err != nil {
		return nil, err
	}
	c.WebAuthn = loadWebAuthnConfig(getenv)
	return c, nil
}

// checkListenAddr checks a listen address: host:port, where host may be empty (every interface)
// and port a number (0 picks a free one).
func checkListenAddr(name, value string) error {
	host, port, err := net.SplitHostPort(value)
	if err != nil {
		if n, aerr := strconv.Atoi(value); aerr == nil && n >= 0 && n <= 65535 {
			return &configError{name, value, fmt.Sprintf("want host:port, such as 127.0.0.1:%d (this machine only) or :%d (every interface)", n, n)}
		}
		return &configError{name, value, "want host:port, such as 127.0.0.1:8080 (this machine only) or :8080 (every interface)"}
	}
	if n, perr := strconv.Atoi(port); perr != nil || n < 0 || n > 65535 {
		return &configError{name, value, fmt.Sprintf("the port %q is not a number from 0 to 65535; want host:port, such as %s", port, net.JoinHostPort(host, "8080"))}
	}
	return nil
}

// sqlitePath is where the embedded database lives.
func (c *config) sqlitePath() string {
	switch {
	case strings.HasPrefix(c.DatabaseURL, "sqlite:"):
		return strings.TrimPrefix(strings.TrimPrefix(c.DatabaseURL, "sqlite:"), "//")
	case strings.HasPrefix(c.DatabaseURL, "file:"):
		return strings.TrimPrefix(c.DatabaseURL, "file:")
	}
	return filepath.Join(c.DataDir, "gatehouse.db")
}

// resolvePublicURL defaults the public URL to the address actually listened on.
func (c *config) resolvePublicURL(listenAddr string) {
	if c.PublicURL == "" {
		c.PublicURL = "http://" + listenAddr
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.AppURL == "" {
		c.AppURL = c.PublicURL
	}
	c.AppURL = strings.TrimRight(c.AppURL, "/")
}

// redactURL hides the password of a connection URL, even of one that does not parse.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err == nil && u.Scheme != "" {
		hidden := false
		if u.User != nil {
			_, hidden = u.User.Password()
		}
		// libpq and pgx also take the password as a query parameter.
		if q := u.Query(); q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
			hidden = true
		}
		if !hidden {
			return raw
		}
		return u.Redacted()
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		// Not a URL: a key=value DSN may hold password=...; hide it whole.
		if strings.Contains(raw, "password") {
			return "(hidden: it holds a password)"
		}
		return raw
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return raw
	}
	user, _, hasPassword := strings.Cut(rest[:at], ":")
	if !hasPassword {
		return raw
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}

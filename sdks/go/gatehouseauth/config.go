package gatehouseauth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of the Config fields.
const (
	DefaultLeeway                = 5 * time.Second
	DefaultIntrospectionCacheTTL = 30 * time.Second
	DefaultSessionCacheTTL       = 5 * time.Second
	DefaultTokenCacheSize        = 10_000
	DefaultJWKSMaxAge            = time.Hour

	// MaxLeeway bounds Config.Leeway: clock skew beyond this is a misconfigured clock.
	MaxLeeway = 5 * time.Minute
	// UnknownKeyRefetchInterval is the least time between two fetches of the JWKS caused by
	// tokens naming a kid the cached set lacks.
	UnknownKeyRefetchInterval = 10 * time.Second
)

// Config configures a Verifier. Issuer and Resource are required; the zero value of every
// other field is a sensible default.
type Config struct {
	// Issuer is Gatehouse's public URL exactly as it appears in the tokens' "iss"
	// (GATEHOUSE_PUBLIC_URL: an origin, no trailing slash), e.g. "https://auth.example.com".
	Issuer string
	// Resource is this server's own resource URI, exactly as registered in Gatehouse
	// (gatehouse resources add --uri ...) and as clients request it, e.g.
	// "https://api.example.com/mcp". A token is accepted only if its "aud" equals it.
	Resource string

	// JWKSURL is where the issuer's public keys are; default Issuer + "/.well-known/jwks.json".
	JWKSURL string
	// JWKSMaxAge is how long a fetched key set is used before it is fetched again on the next
	// verification (keys that were withdrawn stop working then); default 1 hour.
	JWKSMaxAge time.Duration
	// HTTPClient fetches the JWKS and calls introspection; default a client with a 10 s timeout.
	HTTPClient *http.Client

	// Leeway is the clock skew allowed on exp, nbf and iat. Zero means DefaultLeeway (5 s);
	// a negative value means none. At most MaxLeeway.
	Leeway time.Duration
	// AllowMultipleAudiences accepts a token whose "aud" is an array of several values one of
	// which is Resource. Off by default: such a token is also valid at another service.
	AllowMultipleAudiences bool

	// ScopesSupported are listed in the protected-resource metadata, along with every scope
	// named in a Middleware call.
	ScopesSupported []string
	// ResourceName is the optional human-readable name in the protected-resource metadata.
	ResourceName string

	// AcceptAPIKeys accepts Gatehouse API keys (X-API-Key: ak_... or Authorization: Bearer
	// ak_...) by asking the introspection endpoint. Off by default: it means clients send a
	// long-lived key to this server. Needs IntrospectionKey.
	AcceptAPIKeys bool
	// CheckSessions asks the introspection endpoint, after local verification, whether the
	// token's session is still live, so that a logout or revocation takes effect within
	// SessionCacheTTL instead of at the token's expiry. Needs IntrospectionKey.
	CheckSessions bool
	// IntrospectionKey is this server's own Gatehouse API key with scope tokens:introspect.
	IntrospectionKey string
	// IntrospectionURL defaults to Issuer + "/api/v1/auth/introspect".
	IntrospectionURL string
	// IntrospectionCacheTTL is how long an API key's introspection answer (good or bad) is
	// reused; default 30 s. A revoked key keeps working at most this long. Negative: no cache.
	IntrospectionCacheTTL time.Duration
	// SessionCacheTTL is how long a live-session answer is reused; default 5 s. Negative: no
	// cache. A revoked session's answer is kept until the token expires.
	SessionCacheTTL time.Duration

	// Delegation is what this server accepts of delegated tokens (those with "act", issued by
	// Gatehouse's token exchange to an agent acting for a user): DelegationAllowed (the
	// default: both kinds, the handler reads Principal.Act), DelegationRequired (only tokens an
	// agent holds for a user) or DelegationRefused (never a delegated token). Refused tokens get
	// 401 invalid_token. Per route, see [RequireDelegated] and [RefuseDelegated].
	Delegation DelegationPolicy

	// TokenCacheSize bounds the verified-token cache; default 10,000. Negative disables it.
	TokenCacheSize int
	// Now is the clock; default time.Now. Tests inject their own.
	Now func() time.Time
	// Logger receives the failures of the JWKS and introspection calls (never a token);
	// default slog.Default().
	Logger *slog.Logger
}

// Verifier verifies Gatehouse credentials for one resource. It is safe for concurrent use.
type Verifier struct {
	issuer, resource   string
	jwksURL, introURL  string
	metadataURL        string
	metadataPaths      []string
	leeway, jwksMaxAge time.Duration
	multiAud           bool
	apiKeys, sessions  bool
	introKey           string
	introTTL, sessTTL  time.Duration
	client             *http.Client
	now                func() time.Time
	log                *slog.Logger
	resourceName       string
	delegation         DelegationPolicy

	keys      atomic.Pointer[keySet]
	fetchMu   sync.Mutex // serialises JWKS fetches
	lastFetch time.Time  // guarded by fetchMu: when the JWKS was last requested
	tokens    *tokenCache
	intro     *resultCache // API keys
	sess      *resultCache // sessions of access tokens

	scopesMu sync.Mutex
	scopes   []string // ScopesSupported plus every scope named by Middleware
}

// New checks cfg and returns a Verifier. It does no I/O: the JWKS is fetched on first use.
func New(cfg Config) (*Verifier, error) {
	if err := checkIssuer(cfg.Issuer); err != nil {
		return nil, err
	}
	res, err := checkResource(cfg.Resource)
	if err != nil {
		return nil, err
	}
	v := &Verifier{
		issuer:       cfg.Issuer,
		resource:     cfg.Resource,
		jwksURL:      cfg.JWKSURL,
		introURL:     cfg.IntrospectionURL,
		leeway:       cfg.Leeway,
		jwksMaxAge:   cfg.JWKSMaxAge,
		multiAud:     cfg.AllowMultipleAudiences,
		apiKeys:      cfg.AcceptAPIKeys,
		sessions:     cfg.CheckSessions,
		introKey:     cfg.IntrospectionKey,
		introTTL:     cfg.IntrospectionCacheTTL,
		sessTTL:      cfg.SessionCacheTTL,
		client:       cfg.HTTPClient,
		now:          cfg.Now,
		log:          cfg.Logger,
		resourceName: cfg.ResourceName,
		delegation:   cfg.Delegation,
	}
	if v.delegation < DelegationAllowed || v.delegation > DelegationRefused {
		return nil, fmt.Errorf("gatehouseauth: unknown Delegation policy %d", v.delegation)
	}
	if v.jwksURL == "" {
		v.jwksURL = cfg.Issuer + "/.well-known/jwks.json"
	} else if err := checkHTTPURL("JWKSURL", v.jwksURL); err != nil {
		return nil, err
	}
	if v.introURL == "" {
		v.introURL = cfg.Issuer + "/api/v1/auth/introspect"
	} else if err := checkHTTPURL("IntrospectionURL", v.introURL); err != nil {
		return nil, err
	}
	switch {
	case v.leeway == 0:
		v.leeway = DefaultLeeway
	case v.leeway < 0:
		v.leeway = 0
	case v.leeway > MaxLeeway:
		return nil, fmt.Errorf("gatehouseauth: Leeway %v exceeds %v", v.leeway, MaxLeeway)
	}
	if v.jwksMaxAge <= 0 {
		v.jwksMaxAge = DefaultJWKSMaxAge
	}
	if (v.apiKeys || v.sessions) && v.introKey == "" {
		return nil, errors.New("gatehouseauth: AcceptAPIKeys and CheckSessions need IntrospectionKey (an API key with scope tokens:introspect)")
	}
	v.introTTL = ttlOrDefault(v.introTTL, DefaultIntrospectionCacheTTL)
	v.sessTTL = ttlOrDefault(v.sessTTL, DefaultSessionCacheTTL)
	if v.client == nil {
		v.client = &http.Client{Timeout: 10 * time.Second}
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.log == nil {
		v.log = slog.Default()
	}
	size := cfg.TokenCacheSize
	if size == 0 {
		size = DefaultTokenCacheSize
	}
	v.tokens = newTokenCache(size)
	v.intro = newResultCache(DefaultTokenCacheSize)
	v.sess = newResultCache(DefaultTokenCacheSize)

	// RFC 9728 §3.1: the well-known segment goes between the host and the resource's path.
	v.metadataPaths = []string{metadataPrefix}
	if p := strings.TrimSuffix(res.EscapedPath(), "/"); p != "" {
		v.metadataPaths = append([]string{metadataPrefix + res.EscapedPath()}, v.metadataPaths...)
	}
	v.metadataURL = res.Scheme + "://" + res.Host + v.metadataPaths[0]
	for _, s := range cfg.ScopesSupported {
		v.addScopes(s)
	}
	return v, nil
}

func ttlOrDefault(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

func checkHTTPURL(field, s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("gatehouseauth: %s %q is not an absolute http(s) URL", field, s)
	}
	return nil
}

func checkIssuer(s string) error {
	if s == "" {
		return errors.New("gatehouseauth: Config.Issuer is required")
	}
	if err := checkHTTPURL("Issuer", s); err != nil {
		return err
	}
	if strings.HasSuffix(s, "/") {
		// Issuers are compared as strings (RFC 8414 §3.3): trimming would hide a mismatch that
		// then refuses every token, so say so now.
		return fmt.Errorf("gatehouseauth: Issuer %q must not end with a slash (Gatehouse's issuer is its public URL without one)", s)
	}
	return nil
}

func checkResource(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("gatehouseauth: Config.Resource is required")
	}
	if err := checkHTTPURL("Resource", s); err != nil {
		return nil, err
	}
	u, _ := url.Parse(s)
	if u.Fragment != "" || strings.Contains(s, "#") {
		return nil, fmt.Errorf("gatehouseauth: Resource %q must not have a fragment (RFC 8707 §2)", s)
	}
	if u.RawQuery != "" || u.ForceQuery {
		return nil, fmt.Errorf("gatehouseauth: Resource %q must not have a query", s)
	}
	if strings.ContainsAny(u.EscapedPath(), "{} \t") {
		return nil, fmt.Errorf("gatehouseauth: Resource %q has characters a path cannot be served at", s)
	}
	return u, nil
}

// Issuer is the configured issuer.
func (v *Verifier) Issuer() string { return v.issuer }

// Resource is the configured resource URI.
func (v *Verifier) Resource() string { return v.resource }

// Leeway is the clock skew allowed on exp, nbf and iat.
func (v *Verifier) Leeway() time.Duration { return v.leeway }

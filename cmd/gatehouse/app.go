package main

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpapi"
	"github.com/gatehouse/gatehouse/metrics"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/seal"
	"github.com/gatehouse/gatehouse/sqlite"
	"github.com/gatehouse/gatehouse/token"
	"github.com/gatehouse/gatehouse/totp"
)

// hashIdleRelease is how long the password-hash pool stays idle before its memory is returned.
const hashIdleRelease = 5 * time.Second

// app is everything the commands share: configuration, the store and the services built on it.
type app struct {
	cfg      *config
	log      *slog.Logger
	store    gatehouse.Store
	tokens   *token.Issuer
	hasher   *password.Hasher
	auth     *gatehouse.AuthService
	authz    *gatehouse.AuthorizationServer // Gatehouse as an OAuth 2.1 / OpenID Connect provider
	mfa      *gatehouse.MFAService          // second factors
	passkeys *gatehouse.PasskeyService      // passkeys; nil when off (passkey_config.go)
	signIn   *gatehouse.EmailSignInService  // passwordless sign-in by email
	imp      *gatehouse.Impersonation       // admins acting as users, for support
	orgs     *gatehouse.OrgService          // organizations
	metrics  *metrics.Metrics
	master   *masterKey
	keys     *seal.SigningKeys
	limiter  *gatehouse.RateLimiter
	breach   *breachChecker // the configured breached-password check
	// runOutbox sends the queued emails until its context ends (serve only; nil for the CLI).
	runOutbox func(context.Context)
}

func newLogger(cfg *config, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openStore opens the configured database and applies migrations.
func openStore(ctx context.Context, cfg *config) (gatehouse.Store, error) {
	if cfg.isPostgres() {
		return postgres.Open(ctx, cfg.DatabaseURL, cfg.postgresOptions())
	}
	return sqlite.Open(ctx, cfg.sqlitePath())
}

func (c *config) isPostgres() bool {
	return strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://")
}

func (c *config) postgresOptions() postgres.Options {
	return postgres.Options{MaxConns: c.DBMaxConns, StatementTimeout: c.DBStatementTimeout}
}

// startupLocked runs fn so that instances starting together on one PostgreSQL database take
// turns: the first creates the initial signing key, the others find it instead of each adding one.
func (a *app) startupLocked(ctx context.Context, fn func(context.Context) error) error {
	if s, ok := a.store.(interface{ DB() *sql.DB }); ok && a.cfg.isPostgres() {
		return postgres.WithStartupLock(ctx, s.DB(), func() error { return fn(ctx) })
	}
	return fn(ctx)
}

// watchInvalidations drops what this instance's caches hold of a session, user or key whenever
// another instance (or the CLI) commits a revocation or a user change, so that it is honoured here within milliseconds rather than
// within GATEHOUSE_CACHE_TTL. SQLite has a single server process: nothing to watch.
func (a *app) watchInvalidations(ctx context.Context) {
	if !a.cfg.isPostgres() {
		return
	}
	invalidate := func(change string) {
		a.auth.Forget(postgres.ParseChange(change))
		a.log.Debug("caches invalidated", "change", change) // tests wait for this line
	}
	if err := postgres.WatchInvalidations(ctx, a.cfg.DatabaseURL, a.cfg.postgresOptions(), a.log, invalidate); err != nil {
		a.log.Error("postgres: cannot watch for revocations; caches expire by GATEHOUSE_CACHE_TTL only", "error", err)
	}
}

// openApp opens the store and builds the services. publicURL must be resolved before. mailLog is
// where the development mailer writes when no SMTP server is configured; a nil mailLog leaves the
// email rules off (the one-shot commands send no email, and so create no outbox).
func openApp(ctx context.Context, cfg *config, log *slog.Logger, mailLog io.Writer) (*app, error) {
	if err := prepareFiles(cfg, log); err != nil {
		return nil, err
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return nil, databaseError(cfg, err)
	}
	a := &app{cfg: cfg, log: log, store: store}
	if a.master, err = loadMasterKey(cfg, log, mailLog != nil); err == nil {
		a.keys, err = signingKeys(store, a.master)
	}
	if err != nil {
		store.Close()
		return nil, err
	}
	a.tokens = token.NewIssuer(token.Config{
		Issuer:   cfg.PublicURL,
		Audience: cfg.PublicURL,
		// OAuth clients' tokens for Gatehouse's own API.
		Audiences: []string{gatehouse.OwnAPIResource(cfg.PublicURL)},
		Algorithm: cfg.SigningAlg,
		TTL:       cfg.AccessTokenTTL,
		Log:       log,
	}, a.keys)
	if err := a.startupLocked(ctx, a.ensureSigningKey); err != nil {
		store.Close()
		return nil, err
	}
	var email *gatehouse.EmailDeps
	if mailLog != nil {
		if email, a.runOutbox, err = a.email(mailLog); err != nil {
			store.Close()
			return nil, err
		}
	}
	// Each hash takes 19 MiB of fresh memory, which the Go runtime would keep for minutes after a
	// burst of logins (about 120 MiB resident, still 67 MiB two minutes later); it goes back to
	// the OS once no hash has run for hashIdleRelease.
	a.hasher = password.NewHasher(password.DefaultParams, cfg.HashWorkers, cfg.HashMaxWait).
		WithQueueLimit(cfg.HashQueue).WithIdleRelease(hashIdleRelease)
	if a.breach, err = openBreachChecker(cfg, log); err != nil {
		store.Close()
		return nil, err
	}
	a.metrics = metrics.New()
	a.limiter = gatehouse.NewRateLimiter(store, cfg.RateLimitsEnabled, a.metrics.RateLimited)
	a.auth = gatehouse.NewAuthService(gatehouse.AuthDeps{
		Store:  store,
		Hasher: a.hasher,
		Policy: password.Policy{MinLength: cfg.PasswordMinLength, MaxLength: 256},
		Breach: a.breach.checker,
		Tokens: a.tokens,
		Config: gatehouse.AuthConfig{
			AccessTokenTTL:           cfg.AccessTokenTTL,
			RefreshTokenTTL:          cfg.RefreshTokenTTL,
			SessionLifetime:          cfg.SessionLifetime,
			RefreshReuseInterval:     cfg.RefreshReuseInterval,
			RequireEmailVerification: cfg.RequireEmailVerification,
			AdminRequireMFA:          cfg.AdminRequireMFA,
			OrgAutoJoin:              cfg.OrgAutoJoin,
			MFARequiredRoles:         cfg.MFARequiredRoles,
			PrincipalCacheTTL:        cfg.CacheTTL,
		},
		Log:      log,
		Observer: a.metrics,
		Limiter:  a.limiter,
		Rules: gatehouse.DomainRateRules{
			LoginAccount: cfg.RateRules["login_account"],
			ForgotEmail:  cfg.RateRules["forgot_email"],
			ResendEmail:  cfg.RateRules["resend_email"],
			NoticeEmail:  cfg.RateRules["notice_email"],
		},
		Email: email,
	})
	// TOTP secrets are sealed under a key of their own, derived from the master key.
	mfaBox, err := a.master.box("mfa secrets")
	if err != nil {
		store.Close()
		return nil, err
	}
	issuer := cfg.Email.ProductName
	if issuer == "" {
		issuer = "Gatehouse"
	}
	a.mfa = gatehouse.NewMFAService(gatehouse.MFADeps{
		Auth:   a.auth,
		Sealer: mfaBox,
		OTP:    totp.Engine{},
		Issuer: issuer,
		Rules: gatehouse.MFARateRules{
			TOTPFailures:     cfg.RateRules["mfa_totp_user"],
			RecoveryFailures: cfg.RateRules["mfa_recovery_user"],
		},
	})
	// Email sign-in codes are hashed under a key of their own, derived from the master key.
	codeKey, err := seal.Derive(a.master.key, "email sign-in codes")
	if err != nil {
		store.Close()
		return nil, err
	}
	rp, err := passkeyRP(cfg, issuer, log)
	if err != nil {
		store.Close()
		return nil, err
	}
	signInCfg := gatehouse.DefaultEmailSignInConfig
	signInCfg.PerAddress = cfg.RateRules["email_signin_email"]
	a.signIn = gatehouse.NewEmailSignInService(gatehouse.EmailSignInDeps{Auth: a.auth, CodeKey: codeKey, Config: signInCfg})
	if rp != nil {
		a.passkeys = gatehouse.NewPasskeyService(gatehouse.PasskeyDeps{Auth: a.auth, WebAuthn: rp, Failures: cfg.RateRules["mfa_webauthn_user"]})
	}
	a.imp = gatehouse.NewImpersonation(a.auth)
	a.orgs = gatehouse.NewOrgService(a.auth, gatehouse.OrgConfig{InvitationsPerOrg: cfg.RateRules["org_invitations"]})
	fetcher := newCIMDFetcher(cfg, log)
	a.authz = gatehouse.NewAuthorizationServer(gatehouse.AuthServerDeps{
		Auth:       a.auth,
		Metadata:   metadataFetcher{fetcher},
		Assertions: token.NewAssertionVerifier(fetcher.FetchKeySet, nil),
		Config: gatehouse.AuthServerConfig{
			Issuer:              cfg.PublicURL,
			DynamicRegistration: cfg.OAuth.DCR,
		},
	})
	a.metrics.Gauge("gatehouse_password_hash_waiting", "Requests waiting for a password-hash slot.", func() float64 { return float64(a.hasher.Waiting()) })
	a.metrics.Gauge("gatehouse_password_hash_running", "Password hashes being computed.", func() float64 { return float64(a.hasher.Running()) })
	a.metrics.Gauge("gatehouse_password_hash_seconds", "Estimated wall-clock time of one password hash.", func() float64 { return a.hasher.HashTime().Seconds() })
	a.metrics.Gauge("gatehouse_password_hash_queue_limit", "Requests that may wait for a password-hash slot now: as many as get one within GATEHOUSE_HASH_MAX_WAIT.", func() float64 { return float64(a.hasher.QueueLimit()) })
	return a, nil
}

// httpLimits are the per-IP rules the HTTP edge enforces.
func (a *app) httpLimits() httpapi.RateLimits {
	r := a.cfg.RateRules
	return httpapi.RateLimits{
		Limiter: a.limiter, LoginIP: r["login_ip"], Register: r["register_ip"], ForgotIP: r["forgot_ip"],
		ResetIP: r["reset_ip"], ResendIP: r["resend_ip"], OAuthIP: r["oauth_ip"], KeyFailureIP: r["key_failure_ip"],
		ClientRegisterIP: r["client_register_ip"], ClientAuthFailureIP: r["client_auth_failure_ip"],
		DeviceAuthorizationIP: r["device_authorization_ip"], DeviceCodeIP: r["device_code_ip"], DeviceCodeUser: r["device_code_user"],
		EmailSignInIP: r["email_signin_ip"], EmailCodeIP: r["email_code_ip"],
		OrgInviteIP: r["org_invite_ip"],
	}
}

// pruneRateEvents forgets rate-limit events older than any window, hourly.
func (a *app) pruneRateEvents(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.limiter.Prune(ctx, a.cfg.RateRules.longestWindow()); err != nil {
				a.log.Warn("could not prune rate-limit events", "error", err)
			}
		}
	}
}

// ensureSigningKey loads the signing keys, creating the first one on a new database (and sealing
// keys stored in plain text by an earlier version).
func (a *app) ensureSigningKey(ctx context.Context) error {
	if n, err := a.keys.SealExisting(ctx); err != nil {
		return err
	} else if n > 0 {
		a.log.Warn("signing keys: sealed the keys stored in plain text; copies made before (backups, unused database pages) still hold them: run `gatehouse signing-keys rotate`", "keys", n)
	}
	err := a.tokens.Reload(ctx)
	if !errors.Is(err, token.ErrNoSigningKey) {
		return err
	}
	if err := a.addSigningKey(ctx); err != nil {
		return err
	}
	return a.tokens.Reload(ctx)
}

func (a *app) addSigningKey(ctx context.Context) error {
	key, err := token.GenerateKey(a.cfg.SigningAlg, time.Now())
	if err != nil {
		return err
	}
	if key.Private, err = a.keys.Sealed(key); err != nil {
		return err
	}
	return a.store.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.CreateSigningKey(ctx, key) })
}

func (a *app) Close() error {
	a.breach.Close()
	return a.store.Close()
}

package token

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse/gatehouse"
)

// KeySource lists every stored signing key. A gatehouse.Store satisfies it.
type KeySource interface {
	SigningKeys(ctx context.Context) ([]gatehouse.SigningKey, error)
}

// Config configures an Issuer. Issuer, Audience, Algorithm and TTL are required.
type Config struct {
	Issuer   string // "iss" of every token, and the only one accepted
	Audience string // "aud" of first-party tokens
	// Audiences are the other audiences Verify accepts: the URI of Gatehouse's own API as an
	// OAuth resource. A token carries exactly one audience.
	Audiences []string
	Algorithm string // ES256, RS256 or EdDSA; keys of any other algorithm are ignored
	TTL       time.Duration
	Now       func() time.Time // defaults to time.Now
	Log       *slog.Logger     // defaults to slog.Default()
}

// leeway is the clock skew tolerated on exp and iat: small, since the tokens are short-lived
// and a large leeway lengthens the life of a stolen token.
const leeway = 5 * time.Second

// Issuer signs and verifies access tokens with the keys of a KeySource. It implements
// gatehouse.AccessTokens and is safe for concurrent use.
type Issuer struct {
	cfg    Config
	cfgErr error
	src    KeySource
	method jwt.SigningMethod
	parser *jwt.Parser

	keys atomic.Pointer[keyset]
	// reloadMu serializes reloads, so that a slow reload cannot overwrite the keyset installed by
	// a later one with older data.
	reloadMu sync.Mutex
	// lastForced is when (UnixNano, by cfg.Now) an unknown kid last triggered a reload.
	lastForced atomic.Int64
	jwks       atomic.Pointer[jwksCache]
	verified   *verifiedTokens
	// afterRunReload lets tests wait for Run's reloads instead of polling. Set before Run.
	afterRunReload func()
}

var _ gatehouse.AccessTokens = (*Issuer)(nil)

// NewIssuer returns an Issuer with no keys loaded: call Reload before Sign. An invalid Config is
// reported by Reload (and by every later call) rather than by a panic, so that startup fails with
// a message instead of a stack trace.
func NewIssuer(cfg Config, src KeySource) *Issuer {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	i := &Issuer{cfg: cfg, src: src, cfgErr: cfg.validate(src), verified: newVerifiedTokens(100_000)}
	if i.cfgErr == nil {
		i.method = jwt.GetSigningMethod(cfg.Algorithm)
		i.parser = jwt.NewParser(
			jwt.WithValidMethods([]string{cfg.Algorithm}),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(leeway),
			jwt.WithTimeFunc(cfg.Now),
		)
	}
	return i
}

func (c Config) validate(src KeySource) error {
	// An empty issuer or audience would silently switch the parser's check off.
	switch {
	case c.Issuer == "":
		return errors.New("token: Config.Issuer is required")
	case c.Audience == "":
		return errors.New("token: Config.Audience is required")
	case !supported(c.Algorithm):
		return fmt.Errorf("token: unsupported Config.Algorithm %q", c.Algorithm)
	case c.TTL <= 0:
		return errors.New("token: Config.TTL must be positive")
	case src == nil:
		return errors.New("token: no KeySource")
	}
	return nil
}

// TTL is the lifetime of the tokens that Sign issues.
func (i *Issuer) TTL() time.Duration { return i.cfg.TTL }

// CurrentKeyID is the kid that Sign uses, "" before the first successful Reload.
func (i *Issuer) CurrentKeyID() string {
	if ks := i.keys.Load(); ks != nil {
		return ks.signer.id
	}
	return ""
}

// Reload reads the keys from the source and installs them. On failure the previous keys stay
// in use. It returns ErrNoSigningKey when the source has no usable key of the configured
// algorithm.
func (i *Issuer) Reload(ctx context.Context) error {
	if i.cfgErr != nil {
		return i.cfgErr
	}
	i.reloadMu.Lock()
	defer i.reloadMu.Unlock()
	stored, err := i.src.SigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("token: reading signing keys: %w", err)
	}
	keys, skipped, err := publish(stored, i.cfg.Algorithm, i.cfg.TTL, i.cfg.Now())
	for _, s := range skipped {
		i.cfg.Log.Error("token: ignoring unusable signing key", "kid", s.id, "err", s.err)
	}
	if err != nil {
		return err
	}
	next := newKeyset(keys)
	switch prev := i.keys.Swap(next); {
	case prev == nil:
		i.cfg.Log.Info("token: signing key loaded", "kid", next.signer.id)
	case prev.signer.id != next.signer.id:
		i.cfg.Log.Info("token: signing with a new key", "kid", next.signer.id)
	}
	return nil
}

// Run reloads the keys every interval until ctx is done, so that a key added to the store by
// another instance or by the rotate command is used within the rotation contract.
func (i *Issuer) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = 5 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := i.Reload(ctx); err != nil && ctx.Err() == nil {
				i.cfg.Log.Error("token: reloading signing keys failed; keeping the current keys", "err", err)
			}
			if i.afterRunReload != nil {
				i.afterRunReload()
			}
		}
	}
}

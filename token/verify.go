package token

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse/gatehouse"
)

// maxTokenLen bounds the work an unauthenticated caller can make Verify do: real tokens are
// well under 1 KiB, and JSON decoding runs before the signature is checked.
const maxTokenLen = 8 << 10

// forcedReloadEvery limits the store reads that tokens with unknown kids can cause.
const forcedReloadEvery = time.Second

var (
	errTooLong         = errors.New("token: longer than 8 KiB")
	errForbiddenHeader = errors.New("token: header names a key or a critical extension")
	errWrongType       = errors.New(`token: header "typ" is not "at+jwt"`)
	errMissingKID      = errors.New(`token: header "kid" is missing`)
	errUnknownKID      = errors.New("token: unknown kid")
	errRetiredKey      = errors.New("token: signing key is retired")
	errTooLongLived    = errors.New("token: lives longer than the access-token TTL")
	errForeignAudience = errors.New("token: issued for another resource")
)

// forbiddenHeaders would let the token choose its own verification key (jku, jwk, x5u, x5c) or
// demand extensions we do not implement (crit, which RFC 7515 §4.1.11 says must then be refused).
// Keys come only from the store, so their mere presence marks a forgery attempt.
var forbiddenHeaders = [...]string{"jku", "jwk", "x5u", "x5c", "crit"}

// Verify checks an access token and returns its claims. Every failure wraps
// gatehouse.ErrUnauthenticated; the wrapped cause is for logs only. The token's one audience must
// be the first-party audience (a token without client_id) or one of Config.Audiences (an OAuth
// client's token).
func (i *Issuer) Verify(ctx context.Context, token string) (*gatehouse.AccessClaims, error) {
	c, err := i.VerifyAnyAudience(ctx, token)
	if err != nil {
		return nil, err
	}
	// A first-party token is for the first-party audience only; an OAuth client's token for
	// this server is for Gatehouse's own API as a resource.
	if c.ClientID == "" && c.Audience != i.cfg.Audience || c.ClientID != "" && !slices.Contains(i.cfg.Audiences, c.Audience) {
		return nil, unauthenticated(errForeignAudience)
	}
	return c, nil
}

// VerifyAnyAudience is Verify without the audience check (the token still carries exactly one):
// for introspection and userinfo, which answer for tokens of every resource.
func (i *Issuer) VerifyAnyAudience(ctx context.Context, token string) (*gatehouse.AccessClaims, error) {
	if i.cfgErr != nil {
		return nil, unauthenticated(i.cfgErr)
	}
	if len(token) > maxTokenLen {
		return nil, unauthenticated(errTooLong)
	}
	now := i.cfg.Now()
	if c, ok := i.verified.get(token, now); ok && i.keys.Load().publishes(c.KeyID, now) {
		claims := c.AccessClaims
		return &claims, nil
	}
	ks := i.keys.Load()
	c, kid, err := i.parse(token, ks)
	// A kid we do not know may be a key another instance has just started signing with.
	if errors.Is(err, errUnknownKID) && i.refreshFor(ctx, ks) {
		c, kid, err = i.parse(token, i.keys.Load())
	}
	if err == nil && !i.withinTTL(c.IssuedAt.Time, c.ExpiresAt.Time) {
		err = errTooLongLived
	}
	if err != nil {
		return nil, unauthenticated(err)
	}
	claims := c.access()
	i.verified.put(token, &verifiedClaims{AccessClaims: *claims, KeyID: kid}, now)
	return claims, nil
}

// lifetimeRounding is what rounding iat and exp to whole seconds may add to a lifetime.
const lifetimeRounding = time.Second

// withinTTL reports whether a token issued at iat and expiring at exp lives no longer than the
// configured TTL: this issuer never signs a longer one, so a longer one was minted with a leaked
// key, or under an older, longer TTL that no longer applies.
func (i *Issuer) withinTTL(iat, exp time.Time) bool {
	return exp.Sub(iat) <= i.cfg.TTL+lifetimeRounding
}

func unauthenticated(cause error) error {
	return fmt.Errorf("%w: %w", gatehouse.ErrUnauthenticated, cause)
}

func (i *Issuer) parse(token string, ks *keyset) (*wireClaims, string, error) {
	var c wireClaims
	t, err := i.parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		return ks.verificationKey(t.Header, i.cfg.Now())
	})
	if err != nil {
		return nil, "", err
	}
	kid, _ := t.Header["kid"].(string)
	return &c, kid, nil
}

// publishes reports whether the key kid still verifies tokens at now.
func (ks *keyset) publishes(kid string, now time.Time) bool {
	if ks == nil {
		return false
	}
	k, ok := ks.byID[kid]
	return ok && k.publishedAt(now)
}

// verificationKey runs after the parser has checked alg against the configured algorithm and
// before it checks the signature.
func (ks *keyset) verificationKey(header map[string]any, now time.Time) (any, error) {
	for _, name := range forbiddenHeaders {
		if _, ok := header[name]; ok {
			return nil, errForbiddenHeader
		}
	}
	// RFC 8725 §3.11 permits the "application/" prefix and media types are case-insensitive.
	typ, _ := header["typ"].(string)
	if !strings.EqualFold(typ, tokenType) && !strings.EqualFold(typ, "application/"+tokenType) {
		return nil, errWrongType
	}
	kid, _ := header["kid"].(string)
	if kid == "" {
		return nil, errMissingKID
	}
	if ks == nil {
		return nil, errUnknownKID
	}
	k, ok := ks.byID[kid]
	if !ok {
		return nil, errUnknownKID
	}
	// The keyset may be up to a reload interval old, so retirement is checked against the clock.
	if !k.publishedAt(now) {
		return nil, errRetiredKey
	}
	return k.public, nil
}

// refreshFor reloads the keys because a token named a kid missing from seen, and reports whether
// the keyset has changed since, so that the caller retries once. Reloads triggered this way are
// rate-limited, since anyone can send a made-up kid.
func (i *Issuer) refreshFor(ctx context.Context, seen *keyset) bool {
	if i.keys.Load() != seen {
		return true
	}
	now := i.cfg.Now().UnixNano()
	last := i.lastForced.Load()
	// A clock that went backwards does not block reloads until it catches up.
	limited := now >= last && now-last < int64(forcedReloadEvery)
	if limited || !i.lastForced.CompareAndSwap(last, now) {
		// Another caller is reloading or just did: wait for an in-flight reload rather than fail a
		// token signed with a key it is about to install.
		i.reloadMu.Lock()
		i.reloadMu.Unlock()
		return i.keys.Load() != seen
	}
	if err := i.Reload(ctx); err != nil {
		return false
	}
	return i.keys.Load() != seen
}

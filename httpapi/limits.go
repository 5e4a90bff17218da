package httpapi

import (
	"context"
	"net/http"
	"net/netip"

	"github.com/gatehouse/gatehouse"
)

// RateLimits are the per-IP rules the HTTP edge enforces before a handler runs. The per-account
// rules live in the domain, which knows the account.
type RateLimits struct {
	Limiter      *gatehouse.RateLimiter
	LoginIP      gatehouse.RateRule
	Register     gatehouse.RateRule
	ForgotIP     gatehouse.RateRule
	ResetIP      gatehouse.RateRule
	ResendIP     gatehouse.RateRule
	OAuthIP      gatehouse.RateRule
	KeyFailureIP gatehouse.RateRule
}

// TakeIP counts one event of the client at ip (as ClientOf reports it) against rule, or refuses
// with a KindRateLimited error. Every per-IP rule of every edge is counted here, so that a client
// is one subject on the API and on the dashboard alike.
func (l RateLimits) TakeIP(ctx context.Context, rule gatehouse.RateRule, ip string) error {
	_, err := l.Limiter.Take(ctx, rule, rateSubject(ip))
	return err
}

// limitIP counts the request against rule for the client's IP and refuses it with 429 beyond.
func (a *api) limitIP(rule gatehouse.RateRule, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.Limits.TakeIP(r.Context(), rule, clientIP(r, a.Config.TrustedProxies)); err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// countKeyFailure charges a failed API key to the client's IP; past the limit the caller gets
// 429 instead of 401, so keys cannot be guessed at speed.
func (a *api) countKeyFailure(r *http.Request, err error) error {
	if gatehouse.ErrorKindOf(err) != gatehouse.KindUnauthorized {
		return err
	}
	if lerr := a.chargeKeyFailure(r); lerr != nil {
		return lerr
	}
	return err
}

// chargeKeyFailure counts one failed API key against the client's IP: a 429 error past the limit.
func (a *api) chargeKeyFailure(r *http.Request) error {
	return a.Limits.TakeIP(r.Context(), a.Limits.KeyFailureIP, clientIP(r, a.Config.TrustedProxies))
}

// rateSubject is the address a per-IP rule counts: an IPv4 address as it is, an IPv6 address by
// its /64, since one subscriber usually holds a whole /64 and could otherwise rotate through it.
func rateSubject(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Is4() || a.Is4In6() {
		return ip
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

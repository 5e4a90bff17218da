package httpapi

import (
	"net/http"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpkit"
)

// RateLimits are the per-IP rules; httpkit holds them for both HTTP edges.
type RateLimits = httpkit.RateLimits

// limitIP counts the request against rule for the client's IP and refuses it with 429 beyond.
func (a *api) limitIP(rule gatehouse.RateRule, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.Limits.TakeIP(r.Context(), rule, httpkit.ClientIP(r, a.Config.TrustedProxies)); err != nil {
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
	return a.Limits.TakeIP(r.Context(), a.Limits.KeyFailureIP, httpkit.ClientIP(r, a.Config.TrustedProxies))
}

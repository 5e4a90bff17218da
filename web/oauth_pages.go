package web

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// A dashboard sign-in through a provider is the API's authorize and callback, with the browser
// itself as the client. The state is also kept in a short-lived HttpOnly cookie and the callback
// must bring back the same one: otherwise someone could send a victim's browser to the callback
// with the attacker's own code and state, signing the victim in to the attacker's account.

// oauthCookieMaxAge matches the default lifetime of a state; a state that outlives the cookie is
// refused here, one that dies before it is refused by the domain.
const oauthCookieMaxAge = 10 * time.Minute

func (s *server) oauthEnabled(provider string) bool {
	if s.OAuth == nil {
		return false
	}
	for _, p := range s.OAuth.Providers() {
		if p == provider {
			return true
		}
	}
	return false
}

func (s *server) oauthStart(w http.ResponseWriter, r *http.Request, v *visit) {
	provider := r.PathValue("provider")
	if !s.oauthEnabled(provider) {
		s.notFound(w, r, v)
		return
	}
	next := safeNext(r.URL.Query().Get("next"))
	vw := s.authView("Sign in", next)
	if !s.limitIP(w, r, v, s.Limits.OAuthIP, "login", vw) {
		return
	}
	auth, err := s.OAuth.Authorize(r.Context(), provider, CallbackURL(s.Config.PublicURL, provider))
	if err != nil {
		s.failForm(w, r, v, "login", vw, err)
		return
	}
	value := provider + "." + auth.State + "." + base64.RawURLEncoding.EncodeToString([]byte(next))
	http.SetCookie(w, s.cookie(s.cookies.oauth, value, oauthCookieMaxAge))
	redirect(w, r, auth.URL)
}

var errOAuthBrowser = &gatehouse.Error{Kind: gatehouse.KindBadRequest, Code: "oauth_browser_mismatch",
	Message: "This sign-in was not started in this browser, or took too long. Start again."}

func (s *server) oauthCallback(w http.ResponseWriter, r *http.Request, v *visit) {
	provider := r.PathValue("provider")
	if !s.oauthEnabled(provider) {
		s.notFound(w, r, v)
		return
	}
	q := r.URL.Query()
	// The cookie is spent whatever happens next: a state is good for one try.
	http.SetCookie(w, s.cookie(s.cookies.oauth, "", -1))
	next := ""
	started := false
	if c, err := r.Cookie(s.cookies.oauth); err == nil {
		parts := strings.SplitN(c.Value, ".", 3)
		if len(parts) == 3 && parts[0] == provider && parts[1] != "" &&
			subtle.ConstantTimeCompare([]byte(parts[1]), []byte(q.Get("state"))) == 1 {
			started = true
			if b, err := base64.RawURLEncoding.DecodeString(parts[2]); err == nil {
				next = safeNext(string(b))
			}
		}
	}
	vw := s.authView("Sign in", next)
	if q.Get("error") != "" {
		vw.Error = "Sign-in with " + gatehouse.ProviderLabel(provider) + " was cancelled or refused. You can try again, or sign in with your password."
		s.render(w, r, v, http.StatusBadRequest, "login", vw)
		return
	}
	if !started {
		s.failForm(w, r, v, "login", vw, errOAuthBrowser)
		return
	}
	if !s.limitIP(w, r, v, s.Limits.OAuthIP, "login", vw) {
		return
	}
	ts, err := s.OAuth.Callback(r.Context(), provider, gatehouse.OAuthCallback{
		Code: q.Get("code"), RedirectURI: CallbackURL(s.Config.PublicURL, provider), State: q.Get("state"),
	}, v.client)
	var mfa *gatehouse.MFARequiredError
	if errors.As(err, &mfa) {
		// The provider vouched for the account; it has an authenticator app too.
		s.mfaForm(w, r, v, http.StatusOK, mfa.Token, next, mfa.Factors, nil)
		return
	}
	if err != nil {
		s.failForm(w, r, v, "login", vw, err)
		return
	}
	s.startSession(w, ts)
	redirect(w, r, afterSignIn(next))
}

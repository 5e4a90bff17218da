package web

import (
	"net/http"
	"net/url"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpkit"
)

// visit is what every page handler knows about the request: who is signed in, and the token
// its forms must carry.
type visit struct {
	p      *gatehouse.Principal // nil when signed out
	csrf   string
	client gatehouse.Client
	// session is the browser's session cookie as this response leaves it (renewed when the
	// request refreshed the access token); empty when signed out.
	session string
}

type pageFunc func(w http.ResponseWriter, r *http.Request, v *visit)

// page resolves the browser's session, makes sure it has a CSRF secret, and refuses any POST
// that fails the CSRF check before the handler sees it.
func (s *server) page(h pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := &visit{client: httpkit.ClientOf(r, s.Config.TrustedProxies)}
		secret := s.csrfSecret(r)
		if r.Method == http.MethodPost {
			if err := s.checkCSRF(r); err != nil {
				if secret == nil {
					secret = s.newCSRFSecret(w)
				}
				v.csrf = csrfToken(secret)
				s.fail(w, r, v, err)
				return
			}
		}
		if secret == nil {
			secret = s.newCSRFSecret(w)
		}
		v.csrf = csrfToken(secret)
		p, session, err := s.resolveSession(w, r, v.client)
		if err != nil {
			s.fail(w, r, v, err)
			return
		}
		v.p, v.session = p, session
		h(w, r, v)
	})
}

// signedIn sends signed-out visitors to the sign-in page, which brings them back here after.
func (s *server) signedIn(h pageFunc) http.Handler {
	return s.page(func(w http.ResponseWriter, r *http.Request, v *visit) {
		if v.p == nil {
			back := r.URL.Path
			if r.Method == http.MethodGet && r.URL.RawQuery != "" {
				back += "?" + r.URL.RawQuery
			}
			redirect(w, r, "/login?next="+url.QueryEscape(back))
			return
		}
		if v.p.MFAEnrollmentRequired && r.URL.Path != "/account/security" && r.URL.Path != "/account/passkeys/options" {
			// The role requires a second factor and the user has none: enrolling is all this
			// session may do, as on the API (an app's consent refuses it too: Approve).
			redirect(w, r, enrolPage)
			return
		}
		h(w, r, v)
	})
}

// enrolPage is where a session that must first enrol a second factor is sent.
const enrolPage = "/account/security?notice=mfa_enrol"

// admin admits what the API's requireAdmin admits: a session whose user has the admin role.
func (s *server) admin(h pageFunc) http.Handler {
	return s.signedIn(func(w http.ResponseWriter, r *http.Request, v *visit) {
		if v.p.AdminNeedsMFA {
			s.errorPage(w, r, v, http.StatusForbidden, "Second factor required", "Admin pages need a sign-in with a second factor. Set up an authenticator app, then sign out and sign in again with a code.")
			return
		}
		if !v.p.Allows(gatehouse.ScopeAdmin) {
			s.errorPage(w, r, v, http.StatusForbidden, "Admins only", "This page is for administrators. Your account does not have the admin role.")
			return
		}
		h(w, r, v)
	})
}

// resolveSession returns the principal of the browser's session cookie, refreshing the access
// token server-side when it has expired, and the session cookie's value as the response leaves it
// (a refresh renews it: the refresh token the request arrived with is spent). A cookie that no
// longer works is cleared and the visitor is treated as signed out; only an outage is an error.
func (s *server) resolveSession(w http.ResponseWriter, r *http.Request, client gatehouse.Client) (*gatehouse.Principal, string, error) {
	c, err := r.Cookie(s.cookies.session)
	if err != nil || c.Value == "" {
		return nil, "", nil
	}
	access, refresh, ok := decodeSession(c.Value)
	if !ok {
		s.clearSession(w)
		return nil, "", nil
	}
	ctx := r.Context()
	p, err := s.Auth.Authenticate(ctx, access)
	if err == nil && p.ClientID != "" {
		// An app's OAuth token for Gatehouse's own API is not a dashboard session: whoever built
		// this cookie holds only what the user granted the app.
		s.clearSession(w)
		return nil, "", nil
	}
	if err == nil {
		p.UseClient(client)
		return p, c.Value, nil
	}
	if gatehouse.ErrorKindOf(err) != gatehouse.KindUnauthorized {
		return nil, "", err
	}
	if refresh == "" {
		// An impersonation session, which has nothing to refresh: it is over.
		s.clearSession(w)
		return nil, "", nil
	}
	ts, err := s.Auth.Refresh(ctx, refresh, client)
	if err != nil {
		if gatehouse.ErrorKindOf(err) == gatehouse.KindUnauthorized {
			s.clearSession(w)
			return nil, "", nil
		}
		return nil, "", err
	}
	s.renewSession(w, ts)
	p, err = s.Auth.Authenticate(ctx, ts.AccessToken)
	if err != nil {
		if gatehouse.ErrorKindOf(err) == gatehouse.KindUnauthorized {
			s.clearSession(w)
			return nil, "", nil
		}
		return nil, "", err
	}
	p.UseClient(client)
	return p, encodeSession(ts), nil
}

// redirect answers with 303, so a form post is followed by a GET.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// replaceSession keeps a sign-in's new session in the browser and ends the one it had, if any
// (signing in again, as when an app asked for a fresh sign-in, or as someone else): the old
// session would otherwise live on unseen.
func (s *server) replaceSession(w http.ResponseWriter, r *http.Request, v *visit, ts *gatehouse.TokenSet) {
	if v.p != nil {
		if err := s.Auth.Logout(r.Context(), v.p, false); err != nil && gatehouse.ErrorKindOf(err) != gatehouse.KindUnauthorized {
			s.Log.WarnContext(r.Context(), "dashboard: ending the replaced session failed", "error", err)
		}
	}
	s.startSession(w, ts)
}

// signedInAs ends a sign-in: the new session replaces the browser's (replaceSession), and the
// browser goes where it was headed.
func (s *server) signedInAs(w http.ResponseWriter, r *http.Request, v *visit, ts *gatehouse.TokenSet, next string) {
	s.replaceSession(w, r, v, ts)
	redirect(w, r, afterSignIn(next))
}

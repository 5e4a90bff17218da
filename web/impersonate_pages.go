package web

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Impersonation on the dashboard: an admin opens, from the users page, a dashboard session as a
// user (POST /admin/users/{id}/impersonate with a reason), which calls what the API's
// POST /api/v1/admin/users/{id}/impersonate calls. The admin's own session cookie is set aside in
// a cookie of its own (HttpOnly like it) while the browser holds the user's impersonation
// session, which has no refresh token; every page shows a banner naming both with an "End"
// button (POST /impersonation/end), which logs the impersonation session out and puts the
// admin's session back. When the impersonation session ends otherwise (its hour is over, it was
// revoked), the browser is signed out, the admin's set-aside session with it.

type impersonateData struct {
	Target  *gatehouse.User
	Minutes int // how long the session lives
}

// impersonateView is the reason form's page for the user of the path, or false after answering
// (no such user, or impersonation is off).
func (s *server) impersonateView(w http.ResponseWriter, r *http.Request, v *visit) (*view, bool) {
	if s.Impersonation == nil {
		s.notFound(w, r, v)
		return nil, false
	}
	u, err := s.Auth.User(r.Context(), r.PathValue("id"))
	if err != nil {
		if gatehouse.ErrorKindOf(err) == gatehouse.KindNotFound {
			s.notFound(w, r, v)
		} else {
			s.fail(w, r, v, err)
		}
		return nil, false
	}
	return &view{Title: "Impersonate " + u.Email, Nav: "users",
		Data: &impersonateData{Target: u, Minutes: int(s.Impersonation.TTL() / time.Minute)}}, true
}

// impersonateForm asks the admin for the reason.
func (s *server) impersonateForm(w http.ResponseWriter, r *http.Request, v *visit) {
	if vw, ok := s.impersonateView(w, r, v); ok {
		s.render(w, r, v, http.StatusOK, "impersonate", vw)
	}
}

// impersonate starts the session as the user and sets the admin's own session aside.
func (s *server) impersonate(w http.ResponseWriter, r *http.Request, v *visit) {
	vw, ok := s.impersonateView(w, r, v)
	if !ok {
		return
	}
	reason := r.PostFormValue("reason")
	t, err := s.Impersonation.Start(r.Context(), v.p, r.PathValue("id"), reason)
	if err != nil {
		vw.Form = map[string]string{"reason": reason}
		if e, ok := err.(*gatehouse.Error); ok && e.Code == "reason_required" {
			vw.Fields = map[string]string{"reason": e.Message}
			s.render(w, r, v, http.StatusBadRequest, "impersonate", vw)
			return
		}
		s.failForm(w, r, v, "impersonate", vw, err)
		return
	}
	s.startSession(w, &gatehouse.TokenSet{AccessToken: t.AccessToken})
	// After startSession, which forgets any set-aside session: the browser applies cookies in order.
	if c, err := r.Cookie(s.cookies.session); err == nil && c.Value != "" {
		http.SetCookie(w, s.cookie(s.cookies.stash, c.Value, s.Config.SessionMaxAge))
	}
	redirect(w, r, "/account?notice=impersonation_started")
}

// endImpersonation logs the impersonation session out and puts the admin's session back.
func (s *server) endImpersonation(w http.ResponseWriter, r *http.Request, v *visit) {
	if v.p.Impersonator == "" {
		redirect(w, r, "/")
		return
	}
	if err := s.Auth.Logout(r.Context(), v.p, false); err != nil && gatehouse.ErrorKindOf(err) != gatehouse.KindUnauthorized {
		s.fail(w, r, v, err)
		return
	}
	c, err := r.Cookie(s.cookies.stash)
	if err != nil || c.Value == "" {
		s.clearSession(w)
		s.newCSRFSecret(w)
		redirect(w, r, "/login?notice=impersonation_ended")
		return
	}
	http.SetCookie(w, s.cookie(s.cookies.session, c.Value, s.Config.SessionMaxAge))
	http.SetCookie(w, s.cookie(s.cookies.stash, "", -1))
	s.newCSRFSecret(w)
	redirect(w, r, "/admin/users?notice=impersonation_ended")
}

// impersonatorLabel names the admin of an impersonation session for the banner.
func (s *server) impersonatorLabel(r *http.Request, p *gatehouse.Principal) string {
	if p == nil || p.Impersonator == "" {
		return ""
	}
	if u, err := s.Auth.User(r.Context(), p.Impersonator); err == nil {
		return u.Email
	}
	return p.Impersonator
}

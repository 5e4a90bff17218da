package web

import (
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// freshUser reads the account again: the principal's copy can be a cache entry up to
// GATEHOUSE_CACHE_TTL old, and a page just redirected to after a change must show the change.
func (s *server) freshUser(r *http.Request, v *visit) *gatehouse.User {
	if u, err := s.Auth.User(r.Context(), v.p.User.ID); err == nil {
		v.p.User = u
	}
	return v.p.User
}

func (s *server) profileView(u *gatehouse.User) *view {
	avatar := ""
	if u.AvatarURL != nil {
		avatar = *u.AvatarURL
	}
	return &view{Title: "Your account", Nav: "account", Form: map[string]string{"name": u.Name, "avatar_url": avatar}}
}

func (s *server) accountPage(w http.ResponseWriter, r *http.Request, v *visit) {
	s.render(w, r, v, http.StatusOK, "account", s.profileView(s.freshUser(r, v)))
}

// updateProfile is PATCH /users/me: an empty avatar URL clears the avatar, as null does there.
func (s *server) updateProfile(w http.ResponseWriter, r *http.Request, v *visit) {
	name := r.PostFormValue("name")
	avatar := strings.TrimSpace(r.PostFormValue("avatar_url"))
	var avatarPtr *string
	if avatar != "" {
		avatarPtr = &avatar
	}
	_, err := s.Auth.UpdateProfile(r.Context(), v.p, gatehouse.ProfileUpdate{Name: &name, AvatarURL: &avatarPtr})
	if err != nil {
		vw := s.profileView(v.p.User)
		vw.Form["name"], vw.Form["avatar_url"] = name, avatar
		s.failForm(w, r, v, "account", vw, err)
		return
	}
	redirect(w, r, "/account?notice=profile_saved")
}

// resendVerification is POST /auth/verify-email/resend, behind the same per-IP limit.
func (s *server) resendVerification(w http.ResponseWriter, r *http.Request, v *visit) {
	vw := s.profileView(s.freshUser(r, v))
	if !s.limitIP(w, r, v, s.Limits.ResendIP, "account", vw) {
		return
	}
	err := s.Auth.ResendVerification(r.Context(), v.p)
	switch {
	case err == nil:
		redirect(w, r, "/account?notice=verification_sent")
	case gatehouse.ErrorCodeOf(err) == gatehouse.ErrEmailAlreadyVerified.Code:
		redirect(w, r, "/account?notice=already_verified")
	default:
		s.failForm(w, r, v, "account", vw, err)
	}
}

type passwordData struct {
	HasPassword bool
}

func (s *server) passwordView(u *gatehouse.User) *view {
	return &view{Title: "Change your password", Nav: "password", Data: passwordData{HasPassword: u.HasPassword()}}
}

func (s *server) passwordForm(w http.ResponseWriter, r *http.Request, v *visit) {
	s.render(w, r, v, http.StatusOK, "password", s.passwordView(s.freshUser(r, v)))
}

// changePassword is POST /users/me/password: it checks the current password and signs out every
// other session.
func (s *server) changePassword(w http.ResponseWriter, r *http.Request, v *visit) {
	vw := s.passwordView(s.freshUser(r, v))
	next := r.PostFormValue("new_password")
	if next != r.PostFormValue("confirm_password") {
		s.failForm(w, r, v, "password", vw, invalid("confirm_password", "The two new passwords are not the same."))
		return
	}
	if err := s.Auth.ChangePassword(r.Context(), v.p, r.PostFormValue("current_password"), next); err != nil {
		s.failForm(w, r, v, "password", vw, err)
		return
	}
	redirect(w, r, "/account/password?notice=password_changed")
}

package web

import (
	"net/http"

	"github.com/gatehouse/gatehouse"
)

// acceptInvitationData is what the invitation page shows.
type acceptInvitationData struct {
	Token    string
	Preview  *gatehouse.InvitationPreview
	Joined   bool
	Mismatch bool // signed in as another address, or not verified yet
}

// acceptInvitationPage is where an invitation email's link lands: {APP_URL}/accept-invitation?token=.
// Signed out, the visitor is sent to sign in (or to sign up, from there) and comes back here. The
// page shows the organization and an Accept button; accepting calls the same rule as
// POST /api/v1/invitations/accept.
func (s *server) acceptInvitationPage(w http.ResponseWriter, r *http.Request, v *visit) {
	token := r.URL.Query().Get("token")
	s.renderInvitation(w, r, v, token, nil)
}

func (s *server) renderInvitation(w http.ResponseWriter, r *http.Request, v *visit, token string, acceptErr error) {
	vw := &view{Title: "Invitation", Focus: true}
	if s.Orgs == nil {
		s.fail(w, r, v, gatehouse.ErrNotFound)
		return
	}
	preview, err := s.Orgs.PreviewInvitation(r.Context(), token)
	if err != nil {
		vw.Data = acceptInvitationData{}
		s.failForm(w, r, v, "accept_invitation", vw, err)
		return
	}
	data := acceptInvitationData{Token: token, Preview: preview,
		Mismatch: !v.p.User.EmailVerified || v.p.User.Email != preview.Email}
	vw.Data = data
	if acceptErr != nil {
		s.failForm(w, r, v, "accept_invitation", vw, acceptErr)
		return
	}
	s.render(w, r, v, http.StatusOK, "accept_invitation", vw)
}

// acceptInvitation accepts the invitation for the signed-in user.
func (s *server) acceptInvitation(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Orgs == nil {
		s.fail(w, r, v, gatehouse.ErrNotFound)
		return
	}
	token := r.PostFormValue("token")
	res, err := s.Orgs.AcceptInvitation(r.Context(), v.p, token)
	if err != nil {
		s.renderInvitation(w, r, v, token, err)
		return
	}
	vw := &view{Title: "Invitation accepted", Focus: true, Notice: "You joined " + res.Org.Name + " as " + res.Membership.Role + ".",
		Data: acceptInvitationData{Joined: true, Preview: &gatehouse.InvitationPreview{OrgName: res.Org.Name, OrgSlug: res.Org.Slug, Role: res.Membership.Role}}}
	s.render(w, r, v, http.StatusOK, "accept_invitation", vw)
}

package web

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse"
)

type sessionRow struct {
	ID, Device, IP, UserAgent string
	CreatedAt, LastUsedAt     time.Time
	Current                   bool
	ImpersonatedBy            string // the admin who opened it as the user, for support
}

type sessionsData struct {
	Sessions []sessionRow
	Others   int
}

func (s *server) sessionsPage(w http.ResponseWriter, r *http.Request, v *visit) {
	vw := &view{Title: "Your sessions", Nav: "sessions"}
	if err := s.loadSessions(r, v, vw); err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.render(w, r, v, http.StatusOK, "sessions", vw)
}

func (s *server) loadSessions(r *http.Request, v *visit, vw *view) error {
	list, err := s.Auth.ListSessions(r.Context(), v.p)
	if err != nil {
		return err
	}
	var d sessionsData
	for _, sv := range list {
		d.Sessions = append(d.Sessions, sessionRow{ID: sv.ID, Device: device(sv.UserAgent), IP: sv.IP, UserAgent: sv.UserAgent,
			CreatedAt: sv.CreatedAt, LastUsedAt: sv.LastUsedAt, Current: sv.Current})
		if sv.Impersonation() {
			d.Sessions[len(d.Sessions)-1].ImpersonatedBy = s.impersonatorLabel(r, &gatehouse.Principal{Impersonator: sv.Act.Subject})
		}
		if !sv.Current {
			d.Others++
		}
	}
	vw.Data = d
	return nil
}

// sessionsAction revokes one session (DELETE /users/me/sessions/{id}) or every session but this
// one, through the same domain call for each.
func (s *server) sessionsAction(w http.ResponseWriter, r *http.Request, v *visit) {
	ctx := r.Context()
	switch r.PostFormValue("action") {
	case "revoke":
		id := r.PostFormValue("id")
		if id == v.p.SessionID {
			// Revoking this browser's own session is signing out; the sign-out button does that.
			s.logout(w, r, v)
			return
		}
		if err := s.Auth.RevokeSession(ctx, v.p, id); err != nil {
			s.sessionsFailed(w, r, v, err)
			return
		}
		redirect(w, r, "/account/sessions?notice=session_revoked")
	case "revoke_others":
		list, err := s.Auth.ListSessions(ctx, v.p)
		if err != nil {
			s.sessionsFailed(w, r, v, err)
			return
		}
		for _, sv := range list {
			if sv.Current {
				continue
			}
			// A session that ended meanwhile is already what was asked for.
			if err := s.Auth.RevokeSession(ctx, v.p, sv.ID); err != nil && gatehouse.ErrorKindOf(err) != gatehouse.KindNotFound {
				s.sessionsFailed(w, r, v, err)
				return
			}
		}
		redirect(w, r, "/account/sessions?notice=others_revoked")
	default:
		s.sessionsFailed(w, r, v, gatehouse.Errorf(gatehouse.KindBadRequest, "unknown_action", "Unknown action."))
	}
}

func (s *server) sessionsFailed(w http.ResponseWriter, r *http.Request, v *visit, err error) {
	vw := &view{Title: "Your sessions", Nav: "sessions"}
	if lerr := s.loadSessions(r, v, vw); lerr != nil {
		s.fail(w, r, v, lerr)
		return
	}
	if gatehouse.ErrorKindOf(err) == gatehouse.KindNotFound {
		err = gatehouse.Errorf(gatehouse.KindNotFound, "not_found", "That session has already ended.")
	}
	s.failForm(w, r, v, "sessions", vw, err)
}

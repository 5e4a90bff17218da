package web

import "net/http"

// creditsPage shows what GET /public/credits/balance answers, for the signed-in user.
func (s *server) creditsPage(w http.ResponseWriter, r *http.Request, v *visit) {
	b, err := s.Auth.CreditBalance(r.Context(), v.p.User.ID)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.render(w, r, v, http.StatusOK, "credits", &view{Title: "Credits", Nav: "credits", Data: b})
}

package httpapi

import (
	"mime"
	"net/http"
	"net/url"

	"github.com/gatehouse/gatehouse"
)

// handleIntrospect answers RFC 7662 requests: the token comes as JSON {token} or, as the RFC
// writes it, as a form field.
func (a *api) handleIntrospect() http.Handler {
	type request struct {
		Token string `json:"token"`
	}
	type response struct {
		Active    bool   `json:"active"`
		TokenType string `json:"token_type,omitempty"`
		Sub       string `json:"sub,omitempty"`
		Sid       string `json:"sid,omitempty"`
		KeyID     string `json:"key_id,omitempty"`
		Scope     string `json:"scope,omitempty"`
		Email     string `json:"email,omitempty"`
		Role      string `json:"role,omitempty"`
		Exp       int64  `json:"exp,omitempty"`
		Iat       int64  `json:"iat,omitempty"`
		Iss       string `json:"iss,omitempty"`
		ClientID  string `json:"client_id,omitempty"`
		Aud       string `json:"aud,omitempty"`
		OrgID     string `json:"org_id,omitempty"`
		// Act is the actor chain of a delegated token (RFC 8693 §4.1).
		Act *gatehouse.Actor `json:"act,omitempty"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var token string
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
			body, err := readBody(r)
			if err != nil {
				writeError(w, r, a.Log, err)
				return
			}
			form, err := url.ParseQuery(string(body))
			if err != nil {
				writeError(w, r, a.Log, &httpError{http.StatusBadRequest, "malformed_form", "The form body is not valid URL encoding."})
				return
			}
			token = form.Get("token")
		} else {
			in, err := decode[request](r, false)
			if err != nil {
				writeError(w, r, a.Log, err)
				return
			}
			token = in.Token
		}
		if token == "" {
			writeError(w, r, a.Log, gatehouse.Invalid(gatehouse.FieldError{Field: "token", Message: "token is required."}))
			return
		}
		in := a.Auth.Introspect(r.Context(), token)
		// A key that does not work counts as a failed key of the caller's IP, as it would had the
		// caller presented it: otherwise introspection would be a way to guess keys without limit.
		if !in.Active && gatehouse.LooksLikeAPIKey(token) {
			if err := a.chargeKeyFailure(r); err != nil {
				writeError(w, r, a.Log, err)
				return
			}
		}
		out := response{Active: in.Active}
		if in.Active {
			out.TokenType, out.Sub, out.Sid, out.KeyID, out.Scope = in.TokenType, in.Subject, in.SessionID, in.KeyID, in.Scope
			out.Email, out.Role, out.Iss = in.Email, in.Role, a.Config.PublicURL
			out.ClientID, out.Aud, out.Act, out.OrgID = in.ClientID, in.Audience, in.Act, in.OrgID
			if in.ExpiresAt != nil {
				out.Exp = in.ExpiresAt.Unix()
			}
			if in.IssuedAt != nil {
				out.Iat = in.IssuedAt.Unix()
			}
		}
		respond(w, http.StatusOK, out)
	})
}

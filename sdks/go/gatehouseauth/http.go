package gatehouseauth

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// Authenticate verifies the credential of r: an access token in "Authorization: Bearer", or,
// with AcceptAPIKeys, an API key in "X-API-Key" or "Authorization: Bearer ak_...". Tokens in
// the query string or the body are never read (RFC 9700 §2.5, the MCP authorization spec).
// Scopes are not checked here.
func (v *Verifier) Authenticate(r *http.Request) (*Principal, error) {
	var bearer string
	switch auth := r.Header.Values("Authorization"); len(auth) {
	case 0:
	case 1:
		scheme, rest, _ := strings.Cut(auth[0], " ")
		if strings.EqualFold(scheme, "Bearer") {
			bearer = strings.TrimSpace(rest)
			if bearer == "" || strings.ContainsAny(bearer, " \t") {
				return nil, invalid("malformed Authorization header")
			}
		}
		// Another scheme (Basic…) is not a credential for this server: no token.
	default:
		return nil, &Error{Kind: ErrInvalidRequest, Reason: "more than one Authorization header"}
	}
	if v.apiKeys {
		if keys := r.Header.Values("X-API-Key"); len(keys) > 0 {
			if len(keys) > 1 || bearer != "" {
				return nil, &Error{Kind: ErrInvalidRequest, Reason: "more than one credential"}
			}
			return v.VerifyAPIKey(r.Context(), strings.TrimSpace(keys[0]))
		}
	}
	switch {
	case bearer == "":
		return nil, &Error{Kind: ErrNoToken}
	case strings.HasPrefix(bearer, APIKeyPrefix):
		return v.VerifyAPIKey(r.Context(), bearer)
	}
	return v.Verify(r.Context(), bearer)
}

// Middleware returns net/http middleware that lets a request through only with a credential
// that verifies and carries every one of scopes; the handler finds the caller with
// [PrincipalFrom]. Failures are answered by [Verifier.WriteError]. The scopes are also added
// to scopes_supported in the protected-resource metadata.
func (v *Verifier) Middleware(scopes ...string) func(http.Handler) http.Handler {
	v.addScopes(scopes...)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, err := v.Authenticate(r)
			if err == nil {
				err = RequireScopes(p, scopes...)
			}
			if err != nil {
				v.WriteError(w, err, scopes...)
				return
			}
			next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
		})
	}
}

// WriteError answers a request whose credential err refused, for an operation that needs
// scopes, as RFC 6750 §3 and the MCP authorization spec want:
//
//   - no credential: 401, WWW-Authenticate: Bearer resource_metadata="…", scope="…"
//   - a bad one: the same plus error="invalid_token"
//   - missing scope: 403, error="insufficient_scope" and scope naming every scope needed
//   - credentials sent two ways: 400, error="invalid_request"
//   - the issuer unreachable: 503 with Retry-After
//
// The body is JSON {"error", "error_description"}; the description is the fixed reason,
// never the token.
func (v *Verifier) WriteError(w http.ResponseWriter, err error, scopes ...string) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Kind: ErrInvalidToken, Reason: "invalid credential"}
	}
	if len(e.Scopes) > 0 {
		scopes = e.Scopes
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	status, code := http.StatusUnauthorized, "invalid_token"
	switch e.Kind {
	case ErrNoToken:
		code = ""
	case ErrInsufficientScope:
		status, code = http.StatusForbidden, "insufficient_scope"
	case ErrInvalidRequest:
		status, code = http.StatusBadRequest, "invalid_request"
	case ErrUnavailable:
		status, code = http.StatusServiceUnavailable, "temporarily_unavailable"
	}
	if status != http.StatusServiceUnavailable {
		h.Set("WWW-Authenticate", v.Challenge(code, scopes...))
	} else {
		h.Set("Retry-After", "5")
	}
	body := map[string]string{"error": code, "error_description": e.Reason}
	switch {
	case code == "":
		body["error"] = "unauthorized"
		body["error_description"] = "an access token is required"
	case e.Reason == "":
		body["error_description"] = "invalid credential"
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// Challenge is the value of a WWW-Authenticate header for this resource: the Bearer scheme
// with resource_metadata (RFC 9728 §5.1), scope when scopes are given, and error when code is
// not empty.
func (v *Verifier) Challenge(code string, scopes ...string) string {
	var b strings.Builder
	b.WriteString(`Bearer resource_metadata="`)
	b.WriteString(quoteSafe(v.metadataURL))
	b.WriteByte('"')
	if len(scopes) > 0 {
		b.WriteString(`, scope="`)
		b.WriteString(quoteSafe(strings.Join(scopes, " ")))
		b.WriteByte('"')
	}
	if code != "" {
		b.WriteString(`, error="`)
		b.WriteString(quoteSafe(code))
		b.WriteByte('"')
	}
	return b.String()
}

// quoteSafe drops what cannot stand in an RFC 9110 quoted-string without escaping (scope
// tokens and URLs never contain these; RFC 6749 §3.3 forbids '"' and '\' in scopes).
func quoteSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

package httpapi

import (
	"context"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpkit"
)

type principalKey struct{}

func principalFrom(ctx context.Context) *gatehouse.Principal {
	p, _ := ctx.Value(principalKey{}).(*gatehouse.Principal)
	return p
}

// maxCredentialLength bounds an Authorization value before anything parses it.
const maxCredentialLength = 8 << 10

// bearerToken returns the token of an "Authorization: Bearer" header, or "".
func bearerToken(header string) string {
	if len(header) > maxCredentialLength {
		return ""
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return ""
	}
	return token
}

var errAmbiguousCredentials = &httpError{http.StatusBadRequest, "ambiguous_credentials",
	"Send one credential: either Authorization or X-API-Key, not both."}

// authenticate resolves the caller of r. An API key comes in X-API-Key or as a Bearer value
// starting with ak_; anything else in Authorization is an access token. Both headers at once is
// refused rather than letting either one pass. Keys in query strings are never read.
func (a *api) authenticate(r *http.Request) (*gatehouse.Principal, error) {
	authz := r.Header.Get("Authorization")
	key := r.Header.Get("X-API-Key")
	if authz != "" && key != "" {
		return nil, errAmbiguousCredentials
	}
	if key != "" {
		p, err := a.Auth.AuthenticateAPIKey(r.Context(), strings.TrimSpace(key), true)
		if err != nil {
			return nil, a.countKeyFailure(r, err)
		}
		return p, nil
	}
	token := bearerToken(authz)
	if token == "" {
		return nil, gatehouse.ErrUnauthenticated
	}
	if gatehouse.LooksLikeAPIKey(token) {
		p, err := a.Auth.AuthenticateAPIKey(r.Context(), token, true)
		if err != nil {
			return nil, a.countKeyFailure(r, err)
		}
		return p, nil
	}
	return a.Auth.Authenticate(r.Context(), token)
}

// client is where r comes from, as the audit log records it.
func (a *api) client(r *http.Request) gatehouse.Client {
	return httpkit.ClientOf(r, a.Config.TrustedProxies)
}

func (a *api) withPrincipal(next http.Handler, allow func(*gatehouse.Principal) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.authenticate(r)
		if err != nil {
			if gatehouse.ErrorKindOf(err) == gatehouse.KindUnauthorized && (r.Header.Get("Authorization") != "" || r.Header.Get("X-API-Key") != "") {
				w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse", error="invalid_token"`)
			}
			writeError(w, r, a.Log, err)
			return
		}
		if err := allow(p); err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		if _, enrolling := next.(enrolment); p.MFAEnrollmentRequired && !enrolling {
			writeError(w, r, a.Log, gatehouse.ErrMFAEnrollmentRequired)
			return
		}
		p.UseClient(a.client(r))
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// enrolment marks the routes a session that must first enrol a second factor may use
// (Principal.MFAEnrollmentRequired): who it is, its factors, enrolling one (an authenticator app,
// a passkey), signing out.
type enrolment struct{ http.Handler }

var (
	errSessionRequired = &gatehouse.Error{Kind: gatehouse.KindForbidden, Code: "session_required",
		Message: "This needs a signed-in user; an API key or an app's OAuth token cannot do it."}
	errKeyRequired = &gatehouse.Error{Kind: gatehouse.KindForbidden, Code: "api_key_required",
		Message: "This needs an API key."}
)

func errMissingScope(scope string) error {
	return &gatehouse.Error{Kind: gatehouse.KindForbidden, Code: "insufficient_scope",
		Message: "This credential lacks the scope " + scope + "."}
}

// requireSession admits users signed in with a session (an access token), never API keys: keys
// can never change a password, an email or linked identities, or act on sessions.
func (a *api) requireSession(next http.Handler) http.Handler {
	return a.withPrincipal(next, func(p *gatehouse.Principal) error {
		if p.APIKey != nil || p.SessionID == "" || p.ClientID != "" {
			return errSessionRequired
		}
		return nil
	})
}

// requireScope admits sessions whose role allows scope, and keys that carry it.
func (a *api) requireScope(scope string, next http.Handler) http.Handler {
	return a.withPrincipal(next, func(p *gatehouse.Principal) error {
		if !p.Allows(scope) {
			if scope == gatehouse.ScopeAdmin && p.Impersonator != "" {
				return gatehouse.ErrImpersonationForbidden
			}
			if scope == gatehouse.ScopeAdmin && p.AdminNeedsMFA {
				return gatehouse.ErrAdminNeedsMFA
			}
			if scope == gatehouse.ScopeAdmin && p.APIKey == nil {
				return gatehouse.ErrForbidden
			}
			return errMissingScope(scope)
		}
		return nil
	})
}

// requireKeyScope admits only API keys that carry scope.
func (a *api) requireKeyScope(scope string, next http.Handler) http.Handler {
	return a.withPrincipal(next, func(p *gatehouse.Principal) error {
		if p.APIKey == nil {
			return errKeyRequired
		}
		if !p.Allows(scope) {
			return errMissingScope(scope)
		}
		return nil
	})
}

// requireAdmin admits admins, and keys of admins with the admin scope.
func (a *api) requireAdmin(next http.Handler) http.Handler {
	return a.requireScope(gatehouse.ScopeAdmin, next)
}

type userJSON struct {
	ID            string   `json:"id"`
	Email         string   `json:"email"`
	Name          string   `json:"name"`
	EmailVerified bool     `json:"email_verified"`
	Role          string   `json:"role"`
	Roles         []string `json:"roles"`
	IsActive      bool     `json:"is_active"`
	AvatarURL     *string  `json:"avatar_url"`
	CreatedAt     string   `json:"created_at"`
}

func userView(u *gatehouse.User) userJSON {
	return userJSON{
		ID:            u.ID,
		Email:         u.Email,
		Name:          u.Name,
		EmailVerified: u.EmailVerified,
		Role:          u.Role,
		Roles:         []string{u.Role},
		IsActive:      u.IsActive,
		AvatarURL:     u.AvatarURL,
		CreatedAt:     u.CreatedAt.UTC().Format(time.RFC3339),
	}
}

type tokenJSON struct {
	AccessToken  string   `json:"access_token"`
	RefreshToken string   `json:"refresh_token"`
	TokenType    string   `json:"token_type"`
	ExpiresIn    int      `json:"expires_in"`
	User         userJSON `json:"user"`
	// PasswordBreached: a login whose password is known from breaches; ask the user to change it.
	PasswordBreached bool `json:"password_breached,omitempty"`
	// MFAEnrollmentRequired: the user's role requires a second factor and the user has none; the
	// tokens are good only for enrolling one.
	MFAEnrollmentRequired bool `json:"mfa_enrollment_required,omitempty"`
}

func respondTokens(w http.ResponseWriter, status int, ts *gatehouse.TokenSet) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	respond(w, status, tokenJSON{
		AccessToken:  ts.AccessToken,
		RefreshToken: ts.RefreshToken,
		TokenType:    "bearer",
		ExpiresIn:    int(ts.ExpiresIn / time.Second),
		User:         userView(ts.User),

		PasswordBreached:      ts.PasswordBreached,
		MFAEnrollmentRequired: ts.MFAEnrollmentRequired,
	})
}

type messageJSON struct {
	Message string `json:"message"`
}

func (a *api) handleRegister() http.Handler {
	type request struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		Name     string `json:"name"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		ts, err := a.Auth.Register(r.Context(), gatehouse.RegisterInput(in), a.client(r))
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respondTokens(w, http.StatusCreated, ts)
	})
}

// handleLogin takes JSON {email, password} or an OAuth2-style form (username, password), as the
// guide's clients send either.
func (a *api) handleLogin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decodeLogin(r)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		var ts *gatehouse.TokenSet
		if in.orgID != "" && a.Orgs != nil {
			ts, err = a.Orgs.LoginInOrg(r.Context(), in.email, in.password, in.orgID, a.client(r))
		} else {
			ts, err = a.Auth.Login(r.Context(), in.email, in.password, a.client(r))
		}
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respondTokens(w, http.StatusOK, ts)
	})
}

// loginInput is a login; orgID, when set, is the organization the session starts in.
type loginInput struct{ email, password, orgID string }

func decodeLogin(r *http.Request) (loginInput, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/x-www-form-urlencoded" {
		body, err := readBody(r)
		if err != nil {
			return loginInput{}, err
		}
		return parseLoginForm(body)
	}
	type request struct {
		Email    string `json:"email"`
		Username string `json:"username"`
		Password string `json:"password"`
		OrgID    string `json:"org_id"`
	}
	in, err := decode[request](r, false)
	if err != nil {
		return loginInput{}, err
	}
	email := in.Email
	if email == "" {
		email = in.Username
	}
	return loginInput{email: email, password: in.Password, orgID: in.OrgID}, nil
}

func parseLoginForm(body []byte) (loginInput, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return loginInput{}, &httpError{http.StatusBadRequest, "malformed_form", "The form body is not valid URL encoding."}
	}
	email := form.Get("username")
	if email == "" {
		email = form.Get("email")
	}
	if strings.ContainsRune(email, 0) || strings.ContainsRune(form.Get("password"), 0) {
		return loginInput{}, errNUL
	}
	return loginInput{email: email, password: form.Get("password"), orgID: form.Get("org_id")}, nil
}

func (a *api) handleRefresh() http.Handler {
	type request struct {
		RefreshToken string `json:"refresh_token"`
		OrgID        string `json:"org_id"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		if in.RefreshToken == "" {
			writeError(w, r, a.Log, gatehouse.Invalid(gatehouse.FieldError{Field: "refresh_token", Message: "refresh_token is required."}))
			return
		}
		var ts *gatehouse.TokenSet
		if in.OrgID != "" && a.Orgs != nil {
			ts, err = a.Orgs.RefreshInOrg(r.Context(), in.RefreshToken, in.OrgID, a.client(r))
		} else {
			ts, err = a.Auth.Refresh(r.Context(), in.RefreshToken, a.client(r))
		}
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respondTokens(w, http.StatusOK, ts)
	})
}

func (a *api) handleLogout() http.Handler {
	type request struct {
		All bool `json:"all"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[request](r, true)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		if err := a.Auth.Logout(r.Context(), principalFrom(r.Context()), in.All); err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusOK, messageJSON{Message: "Logged out."})
	})
}

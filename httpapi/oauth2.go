package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpkit"
)

// The authorization server's endpoints (RFC 6749, 7009, 7591, 7662, 8414, OIDC Core). Errors
// here are RFC 6749 JSON ({"error", "error_description"}), never problem documents. The
// authorization endpoint and the consent page are the dashboard's (package web).

// isOAuthPath reports whether path is the authorization server's, where every error is an
// RFC 6749 error body (writeError sends them there).
func isOAuthPath(path string) bool {
	return strings.HasPrefix(path, "/oauth2/") || path == "/token" || path == "/register"
}

// oauthErrorBody is an RFC 6749 §5.2 error.
type oauthErrorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// writeOAuthError answers err as an OAuth error. invalid_client is 401 (with a Basic challenge
// when the client tried the Authorization header, RFC 6749 §5.2); a rate limit is 429 with
// Retry-After; an outage 503; anything unexpected a logged 500 server_error.
func writeOAuthError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if log == nil {
		log = slog.Default()
	}
	var ge *gatehouse.Error
	status, code, desc := http.StatusInternalServerError, "server_error", "Something went wrong on our side."
	var he *httpError
	switch {
	case errors.As(err, &he):
		status, code, desc = he.status, gatehouse.OAuthInvalidRequest, he.detail
	case !errors.As(err, &ge) || ge.Kind == gatehouse.KindInternal:
		log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "error", err)
	case gatehouse.IsOAuthErrorCode(ge.Code):
		code, desc = ge.Code, ge.Message
		switch ge.Code {
		case gatehouse.OAuthInvalidClient:
			status = http.StatusUnauthorized
			if r.Header.Get("Authorization") != "" {
				w.Header().Set("WWW-Authenticate", `Basic realm="gatehouse"`)
			}
		case gatehouse.OAuthInvalidToken:
			status = http.StatusUnauthorized
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		case gatehouse.OAuthInsufficientScope:
			status = http.StatusForbidden
			w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="openid"`)
		default:
			status = http.StatusBadRequest
		}
	case ge.Kind == gatehouse.KindRateLimited:
		status, code, desc = http.StatusTooManyRequests, "temporarily_unavailable", ge.Message
	case ge.Kind == gatehouse.KindUnavailable:
		status, code, desc = http.StatusServiceUnavailable, "temporarily_unavailable", ge.Message
	case ge.Kind == gatehouse.KindForbidden:
		status, code, desc = http.StatusForbidden, gatehouse.OAuthAccessDenied, ge.Message
	case ge.Kind == gatehouse.KindInvalid:
		status, code, desc = http.StatusBadRequest, gatehouse.OAuthInvalidRequest, ge.Message
	default:
		status, code, desc = httpkit.StatusOf(ge.Kind), gatehouse.OAuthInvalidRequest, ge.Message
		if status >= 500 {
			status = http.StatusBadRequest
		}
	}
	if ge != nil && ge.RetryAfter > 0 {
		httpkit.SetRetryAfter(w.Header(), ge.RetryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = encodeJSON(w, oauthErrorBody{Error: code, Description: desc})
}

var (
	errNotForm = &httpError{http.StatusBadRequest, "invalid_request",
		"The body must be application/x-www-form-urlencoded."}
	errBadForm = &httpError{http.StatusBadRequest, "invalid_request", "The form body is not valid URL encoding."}
)

// oauthForm reads a form-encoded body (RFC 6749 §3.2) and refuses a parameter sent twice (§3.1),
// except resource (RFC 8707), which may repeat. Parameters in the query string are ignored.
func oauthForm(r *http.Request) (url.Values, error) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return nil, errNotForm
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errBadForm
	}
	for name, vs := range form {
		if len(vs) > 1 && name != "resource" {
			return nil, &httpError{http.StatusBadRequest, "invalid_request", "The parameter " + cleanParam(name) + " appears more than once."}
		}
	}
	return form, nil
}

func cleanParam(s string) string {
	if len(s) > 40 {
		s = s[:40]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

// clientCredentials reads how the client authenticates (RFC 6749 §2.3.1, RFC 7523 §2.2): HTTP
// Basic with form-encoded id and secret, client_id and client_secret in the body, or a signed
// client_assertion (private_key_jwt); never two of them.
func clientCredentials(r *http.Request, form url.Values) (gatehouse.ClientCredentials, error) {
	cc := gatehouse.ClientCredentials{ClientID: form.Get("client_id"), Secret: form.Get("client_secret"), Method: gatehouse.AuthMethodNone}
	if cc.Secret != "" {
		cc.Method = gatehouse.AuthMethodPost
	}
	auth := r.Header.Get("Authorization")
	if form.Has("client_assertion") || form.Has("client_assertion_type") {
		if cc.Secret != "" || auth != "" {
			return cc, &httpError{http.StatusBadRequest, "invalid_request", "Use one client authentication method, not two."}
		}
		cc.Method, cc.AssertionType, cc.Assertion = gatehouse.AuthMethodJWT, form.Get("client_assertion_type"), form.Get("client_assertion")
		return cc, nil
	}
	if auth == "" {
		return cc, nil
	}
	scheme, rest, _ := strings.Cut(auth, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return cc, &httpError{http.StatusBadRequest, "invalid_request", "Clients authenticate with HTTP Basic or in the body."}
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
	if err != nil {
		return cc, gatehouse.Errorf(gatehouse.KindUnauthorized, gatehouse.OAuthInvalidClient, "The Basic credentials are malformed.")
	}
	id, secret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return cc, gatehouse.Errorf(gatehouse.KindUnauthorized, gatehouse.OAuthInvalidClient, "The Basic credentials are malformed.")
	}
	if id, err = url.QueryUnescape(id); err == nil {
		secret, err = url.QueryUnescape(secret)
	}
	if err != nil {
		return cc, gatehouse.Errorf(gatehouse.KindUnauthorized, gatehouse.OAuthInvalidClient, "The Basic credentials are malformed.")
	}
	if cc.Secret != "" {
		return cc, &httpError{http.StatusBadRequest, "invalid_request", "Use one client authentication method, not two."}
	}
	if cc.ClientID != "" && cc.ClientID != id {
		return cc, gatehouse.Errorf(gatehouse.KindUnauthorized, gatehouse.OAuthInvalidClient, "client_id differs from the Basic credentials.")
	}
	return gatehouse.ClientCredentials{ClientID: id, Secret: secret, Method: gatehouse.AuthMethodBasic}, nil
}

// chargeClientFailure counts a failed client authentication against the caller's address.
func (a *api) chargeClientFailure(r *http.Request, err error) error {
	var ge *gatehouse.Error
	if !errors.As(err, &ge) || ge.Code != gatehouse.OAuthInvalidClient {
		return err
	}
	if lerr := a.Limits.TakeIP(r.Context(), a.Limits.ClientAuthFailureIP, httpkit.ClientIP(r, a.Config.TrustedProxies)); lerr != nil {
		return lerr
	}
	return err
}

// clientRequest reads the form of a request to the token, revocation or introspection endpoint
// and how its client authenticates; on failure it has answered.
func (a *api) clientRequest(w http.ResponseWriter, r *http.Request) (url.Values, gatehouse.ClientCredentials, bool) {
	form, err := oauthForm(r)
	if err != nil {
		writeOAuthError(w, r, a.Log, err)
		return nil, gatehouse.ClientCredentials{}, false
	}
	cc, err := clientCredentials(r, form)
	if err != nil {
		a.writeClientError(w, r, err)
		return nil, cc, false
	}
	return form, cc, true
}

// writeClientError answers an error of an endpoint where clients authenticate, counting a failed
// client authentication against the caller's address first.
func (a *api) writeClientError(w http.ResponseWriter, r *http.Request, err error) {
	writeOAuthError(w, r, a.Log, a.chargeClientFailure(r, err))
}

func (a *api) handleOAuthToken() http.Handler {
	type response struct {
		AccessToken  string `json:"access_token"`
		TokenType    string `json:"token_type"`
		ExpiresIn    int64  `json:"expires_in"`
		RefreshToken string `json:"refresh_token,omitempty"`
		Scope        string `json:"scope"`
		IDToken      string `json:"id_token,omitempty"`
		// The API key the user approved on the device page ("gatehouse login --api-key"), once.
		APIKey          string     `json:"api_key,omitempty"`
		APIKeyID        string     `json:"api_key_id,omitempty"`
		APIKeyName      string     `json:"api_key_name,omitempty"`
		APIKeyScopes    []string   `json:"api_key_scopes,omitempty"`
		APIKeyExpiresAt *time.Time `json:"api_key_expires_at,omitempty"`
		// IssuedTokenType answers a token exchange (RFC 8693 §2.2.1).
		IssuedTokenType string `json:"issued_token_type,omitempty"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form, cc, ok := a.clientRequest(w, r)
		if !ok {
			return
		}
		out, err := a.AuthServer.Token(r.Context(), gatehouse.TokenRequest{
			GrantType:    form.Get("grant_type"),
			Code:         form.Get("code"),
			RedirectURI:  form.Get("redirect_uri"),
			CodeVerifier: form.Get("code_verifier"),
			RefreshToken: form.Get("refresh_token"),
			DeviceCode:   form.Get("device_code"),
			Scope:        form.Get("scope"),
			Resources:    form["resource"],
			Credentials:  cc,
			Exchange: gatehouse.TokenExchangeParams{
				SubjectToken: form.Get("subject_token"), SubjectTokenType: form.Get("subject_token_type"),
				ActorToken: form.Get("actor_token"), ActorTokenType: form.Get("actor_token_type"),
				RequestedTokenType: form.Get("requested_token_type"), Audience: form.Get("audience"),
			},
		}, httpkit.ClientOf(r, a.Config.TrustedProxies))
		if err != nil {
			a.writeClientError(w, r, err)
			return
		}
		w.Header().Set("Pragma", "no-cache")
		resp := response{AccessToken: out.AccessToken, TokenType: "Bearer",
			ExpiresIn: int64(out.ExpiresIn / time.Second), RefreshToken: out.RefreshToken, Scope: out.Scope, IDToken: out.IDToken,
			IssuedTokenType: out.IssuedTokenType}
		if k := out.APIKey; k != nil {
			resp.APIKey, resp.APIKeyID, resp.APIKeyName, resp.APIKeyScopes, resp.APIKeyExpiresAt = k.Secret, k.Key.ID, k.Key.Name, k.Key.Scopes, k.Key.ExpiresAt
		}
		respond(w, http.StatusOK, resp)
	})
}

// handleOAuthDeviceAuthorization is the device authorization endpoint (RFC 8628 §3.1, §3.2): a
// public client sends its client_id, a confidential one authenticates as at the token endpoint.
func (a *api) handleOAuthDeviceAuthorization() http.Handler {
	type response struct {
		DeviceCode              string `json:"device_code"`
		UserCode                string `json:"user_code"`
		VerificationURI         string `json:"verification_uri"`
		VerificationURIComplete string `json:"verification_uri_complete"`
		ExpiresIn               int64  `json:"expires_in"`
		Interval                int64  `json:"interval"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form, cc, ok := a.clientRequest(w, r)
		if !ok {
			return
		}
		_, scope := form["scope"]
		req := gatehouse.DeviceAuthorizationRequest{Scope: form.Get("scope"), ScopeOmitted: !scope, Resources: form["resource"],
			Credentials: cc, APIKeyName: form.Get("api_key_name"), APIKeyScope: form.Get("api_key_scope"),
			APIKeyDays: form.Get("api_key_expires_in_days")}
		for _, name := range []string{"api_key_name", "api_key_scope", "api_key_expires_in_days"} {
			if _, ok := form[name]; ok {
				req.WantsAPIKey = true
			}
		}
		out, err := a.AuthServer.AuthorizeDevice(r.Context(), req, httpkit.ClientOf(r, a.Config.TrustedProxies))
		if err != nil {
			a.writeClientError(w, r, err)
			return
		}
		verify := a.Config.PublicURL + "/device"
		w.Header().Set("Pragma", "no-cache")
		respond(w, http.StatusOK, response{DeviceCode: out.DeviceCode, UserCode: out.UserCode, VerificationURI: verify,
			VerificationURIComplete: verify + "?" + url.Values{"user_code": {out.UserCode}}.Encode(),
			ExpiresIn:               int64(out.ExpiresIn / time.Second), Interval: int64(out.Interval / time.Second)})
	})
}

func (a *api) handleOAuthRevoke() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form, cc, ok := a.clientRequest(w, r)
		if !ok {
			return
		}
		var err error
		if form.Get("token") == "" {
			err = &httpError{http.StatusBadRequest, gatehouse.OAuthInvalidRequest, "token is required (RFC 7009 §2.1)."}
		} else {
			err = a.AuthServer.Revoke(r.Context(), cc, form.Get("token"), httpkit.ClientOf(r, a.Config.TrustedProxies))
		}
		if err != nil {
			a.writeClientError(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
	})
}

func (a *api) handleOAuthIntrospect() http.Handler {
	type response struct {
		Active    bool   `json:"active"`
		TokenType string `json:"token_type,omitempty"`
		Sub       string `json:"sub,omitempty"`
		ClientID  string `json:"client_id,omitempty"`
		Scope     string `json:"scope,omitempty"`
		Aud       string `json:"aud,omitempty"`
		Sid       string `json:"sid,omitempty"`
		JTI       string `json:"jti,omitempty"`
		Iss       string `json:"iss,omitempty"`
		Exp       int64  `json:"exp,omitempty"`
		Iat       int64  `json:"iat,omitempty"`
		// Act is the actor chain of a delegated token (RFC 8693 §4.1).
		Act *gatehouse.Actor `json:"act,omitempty"`
		// The organization of a grant given for one (docs/oauth-server.md).
		OrgID          string   `json:"org_id,omitempty"`
		OrgRole        string   `json:"org_role,omitempty"`
		OrgPermissions []string `json:"org_permissions,omitempty"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form, cc, ok := a.clientRequest(w, r)
		if !ok {
			return
		}
		info, err := a.AuthServer.Introspect(r.Context(), cc, form.Get("token"))
		if err != nil {
			a.writeClientError(w, r, err)
			return
		}
		out := response{Active: info.Active}
		if info.Active {
			out = response{Active: true, TokenType: info.TokenType, Sub: info.Subject, ClientID: info.ClientID, Scope: info.Scope,
				Aud: info.Audience, Sid: info.SessionID, JTI: info.JTI, Iss: a.Config.PublicURL,
				Exp: info.ExpiresAt.Unix(), Iat: info.IssuedAt.Unix(), Act: info.Act,
				OrgID: info.OrgID, OrgRole: info.OrgRole, OrgPermissions: info.OrgPermissions}
		}
		respond(w, http.StatusOK, out)
	})
}

func (a *api) handleOAuthUserInfo() http.Handler {
	type response struct {
		Sub           string `json:"sub"`
		Email         string `json:"email,omitempty"`
		EmailVerified *bool  `json:"email_verified,omitempty"`
		Name          string `json:"name,omitempty"`
		Picture       string `json:"picture,omitempty"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := bearerToken(r.Header.Get("Authorization"))
		if token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusUnauthorized)
			_ = encodeJSON(w, oauthErrorBody{Error: gatehouse.OAuthInvalidToken, Description: "An access token is required."})
			return
		}
		info, err := a.AuthServer.UserInfo(r.Context(), token)
		if err != nil {
			writeOAuthError(w, r, a.Log, err)
			return
		}
		out := response{Sub: info.Subject, Name: info.Name, Picture: info.Picture}
		if info.WithEmail {
			verified := info.EmailVerified
			out.Email, out.EmailVerified = info.Email, &verified
		}
		w.Header().Set("Cache-Control", "no-store")
		respond(w, http.StatusOK, out)
	})
}

// clientRegistration is RFC 7591 §2 client metadata, as read and as answered.
type clientRegistration struct {
	RedirectURIs            []string `json:"redirect_uris"`
	ClientName              string   `json:"client_name,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"`
	GrantTypes              []string `json:"grant_types,omitempty"`
	ResponseTypes           []string `json:"response_types,omitempty"`
	ClientURI               string   `json:"client_uri,omitempty"`
	LogoURI                 string   `json:"logo_uri,omitempty"`
	Scope                   string   `json:"scope,omitempty"`
	// ApplicationType (OIDC Dynamic Registration §2; MCP 2026-07-28, SEP-837): "web" or
	// "native". Redirect URIs follow the same rules either way (https, loopback http, private-use
	// schemes), so it is checked and echoed.
	ApplicationType string `json:"application_type,omitempty"`
}

func (a *api) handleOAuthRegister() http.Handler {
	type response struct {
		ClientID              string `json:"client_id"`
		ClientSecret          string `json:"client_secret,omitempty"`
		ClientIDIssuedAt      int64  `json:"client_id_issued_at"`
		ClientSecretExpiresAt *int64 `json:"client_secret_expires_at,omitempty"`
		clientRegistration
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isJSONContentType(r) {
			writeOAuthError(w, r, a.Log, gatehouse.Errorf(gatehouse.KindBadRequest, gatehouse.OAuthInvalidClientMetadata, "The body must be JSON client metadata (RFC 7591)."))
			return
		}
		body, err := readBody(r)
		if err != nil {
			writeOAuthError(w, r, a.Log, err)
			return
		}
		// RFC 7591 §2: metadata the server does not understand is ignored, so the decoding is
		// lenient about unknown fields; wrong types are still refused.
		var in clientRegistration
		if err := json.Unmarshal(body, &in); err != nil {
			writeOAuthError(w, r, a.Log, gatehouse.Errorf(gatehouse.KindBadRequest, gatehouse.OAuthInvalidClientMetadata, "The body is not valid client metadata JSON."))
			return
		}
		switch in.ApplicationType {
		case "":
			in.ApplicationType = "web"
		case "web", "native":
		default:
			writeOAuthError(w, r, a.Log, gatehouse.Errorf(gatehouse.KindBadRequest, gatehouse.OAuthInvalidClientMetadata, "application_type must be web or native."))
			return
		}
		for _, rt := range in.ResponseTypes {
			if rt != "code" {
				writeOAuthError(w, r, a.Log, gatehouse.Errorf(gatehouse.KindBadRequest, gatehouse.OAuthInvalidClientMetadata, "response_types may hold only code."))
				return
			}
		}
		c, secret, err := a.AuthServer.RegisterClient(r.Context(), gatehouse.NewClientInput{
			Name: in.ClientName, RedirectURIs: in.RedirectURIs, GrantTypes: in.GrantTypes, AuthMethod: in.TokenEndpointAuthMethod,
			ClientURI: in.ClientURI, LogoURI: in.LogoURI,
		}, httpkit.ClientOf(r, a.Config.TrustedProxies))
		if err != nil {
			writeOAuthError(w, r, a.Log, err)
			return
		}
		out := response{ClientID: c.ID, ClientSecret: secret, ClientIDIssuedAt: c.CreatedAt.Unix(), clientRegistration: clientRegistration{
			RedirectURIs: c.RedirectURIs, ClientName: c.Name, TokenEndpointAuthMethod: c.AuthMethod, GrantTypes: c.GrantTypes,
			ResponseTypes: []string{"code"}, ClientURI: c.ClientURI, LogoURI: c.LogoURI, ApplicationType: in.ApplicationType,
		}}
		if secret != "" {
			never := int64(0)
			out.ClientSecretExpiresAt = &never
		}
		w.Header().Set("Pragma", "no-cache")
		respond(w, http.StatusCreated, out)
	})
}

// handleAuthServerMetadata serves RFC 8414 authorization server metadata, which is also the
// OpenID Connect discovery document: one document at both well-known URLs.
func (a *api) handleAuthServerMetadata() http.Handler {
	type response struct {
		Issuer                                 string   `json:"issuer"`
		AuthorizationEndpoint                  string   `json:"authorization_endpoint"`
		TokenEndpoint                          string   `json:"token_endpoint"`
		RegistrationEndpoint                   string   `json:"registration_endpoint,omitempty"`
		RevocationEndpoint                     string   `json:"revocation_endpoint"`
		IntrospectionEndpoint                  string   `json:"introspection_endpoint"`
		UserinfoEndpoint                       string   `json:"userinfo_endpoint"`
		DeviceAuthorizationEndpoint            string   `json:"device_authorization_endpoint"`
		JWKSURI                                string   `json:"jwks_uri"`
		ScopesSupported                        []string `json:"scopes_supported"`
		ResponseTypesSupported                 []string `json:"response_types_supported"`
		ResponseModesSupported                 []string `json:"response_modes_supported"`
		GrantTypesSupported                    []string `json:"grant_types_supported"`
		TokenEndpointAuthMethodsSupported      []string `json:"token_endpoint_auth_methods_supported"`
		TokenEndpointAuthSigningAlgs           []string `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`
		RevocationEndpointAuthMethodsSupported []string `json:"revocation_endpoint_auth_methods_supported"`
		RevocationEndpointAuthSigningAlgs      []string `json:"revocation_endpoint_auth_signing_alg_values_supported,omitempty"`
		IntrospectionEndpointAuthMethods       []string `json:"introspection_endpoint_auth_methods_supported"`
		IntrospectionEndpointAuthSigningAlgs   []string `json:"introspection_endpoint_auth_signing_alg_values_supported,omitempty"`
		CodeChallengeMethodsSupported          []string `json:"code_challenge_methods_supported"`
		SubjectTypesSupported                  []string `json:"subject_types_supported"`
		IDTokenSigningAlgValuesSupported       []string `json:"id_token_signing_alg_values_supported"`
		ClaimsSupported                        []string `json:"claims_supported"`
		PromptValuesSupported                  []string `json:"prompt_values_supported"`
		ACRValuesSupported                     []string `json:"acr_values_supported"`
		ClientIDMetadataDocumentSupported      bool     `json:"client_id_metadata_document_supported"`
		AuthorizationResponseIssParameter      bool     `json:"authorization_response_iss_parameter_supported"`
		RequestParameterSupported              bool     `json:"request_parameter_supported"`
		RequestURIParameterSupported           bool     `json:"request_uri_parameter_supported"`
		ServiceDocumentation                   string   `json:"service_documentation,omitempty"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scopes, err := a.AuthServer.ScopesSupported(r.Context())
		if err != nil {
			writeOAuthError(w, r, a.Log, err)
			return
		}
		base := a.Config.PublicURL
		out := response{
			Issuer:                                 base,
			AuthorizationEndpoint:                  base + "/oauth2/authorize",
			TokenEndpoint:                          base + "/oauth2/token",
			RevocationEndpoint:                     base + "/oauth2/revoke",
			IntrospectionEndpoint:                  base + "/oauth2/introspect",
			UserinfoEndpoint:                       base + "/oauth2/userinfo",
			DeviceAuthorizationEndpoint:            base + "/oauth2/device_authorization",
			JWKSURI:                                base + "/.well-known/jwks.json",
			ScopesSupported:                        scopes,
			ResponseTypesSupported:                 []string{"code"},
			ResponseModesSupported:                 []string{"query"},
			GrantTypesSupported:                    []string{gatehouse.GrantAuthCode, gatehouse.GrantRefresh, gatehouse.GrantClientCredentials, gatehouse.GrantDeviceCode, gatehouse.GrantTokenExchange},
			TokenEndpointAuthMethodsSupported:      []string{gatehouse.AuthMethodBasic, gatehouse.AuthMethodPost, gatehouse.AuthMethodNone},
			RevocationEndpointAuthMethodsSupported: []string{gatehouse.AuthMethodBasic, gatehouse.AuthMethodPost, gatehouse.AuthMethodNone},
			IntrospectionEndpointAuthMethods:       []string{gatehouse.AuthMethodBasic, gatehouse.AuthMethodPost},
			CodeChallengeMethodsSupported:          []string{"S256"},
			SubjectTypesSupported:                  []string{"public"},
			IDTokenSigningAlgValuesSupported:       []string{a.Config.SigningAlg},
			ClaimsSupported:                        []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "at_hash", "azp", "sid", "email", "email_verified", "name", "picture"},
			PromptValuesSupported:                  []string{"none", "login", "consent", "select_account"},
			ACRValuesSupported:                     gatehouse.ACRValuesSupported,
			ClientIDMetadataDocumentSupported:      a.AuthServer.MetadataDocuments(),
			AuthorizationResponseIssParameter:      true,
			ServiceDocumentation:                   base + "/api-reference",
		}
		if a.AuthServer.DynamicRegistration() {
			out.RegistrationEndpoint = base + "/oauth2/register"
		}
		if a.AuthServer.PrivateKeyJWT() {
			// private_key_jwt (RFC 7523 §2.2) at every endpoint where clients authenticate; the
			// MCP client-credentials extension asks for the signing algorithms with it.
			out.TokenEndpointAuthMethodsSupported = append(out.TokenEndpointAuthMethodsSupported, gatehouse.AuthMethodJWT)
			out.RevocationEndpointAuthMethodsSupported = append(out.RevocationEndpointAuthMethodsSupported, gatehouse.AuthMethodJWT)
			out.IntrospectionEndpointAuthMethods = append(out.IntrospectionEndpointAuthMethods, gatehouse.AuthMethodJWT)
			out.TokenEndpointAuthSigningAlgs = gatehouse.AssertionAlgorithms
			out.RevocationEndpointAuthSigningAlgs = gatehouse.AssertionAlgorithms
			out.IntrospectionEndpointAuthSigningAlgs = gatehouse.AssertionAlgorithms
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		respond(w, http.StatusOK, out)
	})
}

// openCORSPaths are the endpoints any origin may call, without credentials (no cookies are
// involved: clients authenticate with their own credentials or none), so that browser-based MCP
// clients can discover, register and get tokens.
var openCORSPaths = map[string]bool{
	"/.well-known/oauth-authorization-server": true,
	"/.well-known/openid-configuration":       true,
	"/.well-known/jwks.json":                  true,
	"/oauth2/token":                           true,
	"/oauth2/register":                        true,
	"/oauth2/revoke":                          true,
	"/oauth2/userinfo":                        true,
	"/token":                                  true,
	"/register":                               true,
}

// openCORS answers the CORS of openCORSPaths: any origin, no credentials, WWW-Authenticate
// exposed; a preflight is answered here.
func openCORS(w http.ResponseWriter, r *http.Request) (handled bool) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "WWW-Authenticate, Retry-After")
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", "GET, POST")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, MCP-Protocol-Version")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	return false
}

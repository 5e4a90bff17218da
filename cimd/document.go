package cimd

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Document is a validated Client ID Metadata Document: the client metadata (RFC 7591 §2 names)
// Gatehouse keeps. Fields the document omitted are empty. TokenEndpointAuthMethod is "none" when
// the document omitted it (see doc.go).
type Document struct {
	ClientID                string
	ClientName              string
	ClientURI               string
	LogoURI                 string
	TokenEndpointAuthMethod string
	Scope                   string
	JWKSURI                 string
	SoftwareID              string
	SoftwareVersion         string
	TOSURI                  string
	PolicyURI               string
	RedirectURIs            []string
	GrantTypes              []string
	ResponseTypes           []string
	Contacts                []string
	// JWKS is the document's "jwks" member as it was sent (a JSON object with a "keys" array
	// of public keys), or nil.
	JWKS json.RawMessage
	// FetchedAt is when the document was fetched; Expires is when the cached copy stops being
	// used (FetchedAt plus the cache lifetime, clamped to [MinCacheTTL, MaxCacheTTL]).
	FetchedAt time.Time
	Expires   time.Time
}

func (d *Document) clone() *Document {
	c := *d
	c.RedirectURIs = slices.Clone(d.RedirectURIs)
	c.GrantTypes = slices.Clone(d.GrantTypes)
	c.ResponseTypes = slices.Clone(d.ResponseTypes)
	c.Contacts = slices.Clone(d.Contacts)
	c.JWKS = bytes.Clone(d.JWKS)
	return &c
}

// wireDocument is the JSON shape decoded; a member of the wrong JSON type fails decoding.
type wireDocument struct {
	ClientID                *string         `json:"client_id"`
	ClientName              string          `json:"client_name"`
	ClientURI               string          `json:"client_uri"`
	LogoURI                 string          `json:"logo_uri"`
	TokenEndpointAuthMethod string          `json:"token_endpoint_auth_method"`
	Scope                   string          `json:"scope"`
	JWKSURI                 string          `json:"jwks_uri"`
	SoftwareID              string          `json:"software_id"`
	SoftwareVersion         string          `json:"software_version"`
	TOSURI                  string          `json:"tos_uri"`
	PolicyURI               string          `json:"policy_uri"`
	RedirectURIs            []string        `json:"redirect_uris"`
	GrantTypes              []string        `json:"grant_types"`
	ResponseTypes           []string        `json:"response_types"`
	Contacts                []string        `json:"contacts"`
	JWKS                    json.RawMessage `json:"jwks"`
}

// Token endpoint authentication methods a document may declare. The draft forbids every method
// built on a shared symmetric secret; of the rest, these are the ones Gatehouse can verify.
var allowedAuthMethods = []string{"none", "private_key_jwt"}

// Members a JWK may carry only when it holds private or symmetric key material (RFC 7518 §6).
var privateJWKMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// Redirect URI schemes refused outright: they run code or read local data in a browser.
var refusedRedirectSchemes = []string{"javascript", "data", "vbscript", "file"}

// parseDocument checks body as the Client ID Metadata Document fetched from clientID and returns
// the metadata it keeps. FetchedAt and Expires are left for the caller.
func parseDocument(clientID string, body []byte) (*Document, *Error) {
	members, err := topLevelMembers(body)
	if err != nil {
		return nil, err
	}
	// Draft-00 §4.1 / current "Credential and Key Material Restrictions": no shared secrets.
	for _, name := range []string{"client_secret", "client_secret_expires_at"} {
		if _, ok := members[name]; ok {
			return nil, fail("client metadata document must not contain " + name)
		}
	}
	var w wireDocument
	if e := json.Unmarshal(body, &w); e != nil {
		return nil, failWith("client metadata document has a member of the wrong type", e)
	}
	if w.ClientID == nil {
		return nil, fail("client metadata document has no client_id")
	}
	if *w.ClientID != clientID {
		return nil, fail("client metadata document's client_id does not match the URL it was fetched from")
	}

	if len(w.RedirectURIs) == 0 {
		return nil, fail("client metadata document must list at least one redirect_uris entry")
	}
	for _, r := range w.RedirectURIs {
		if reason := checkRedirectURI(r); reason != "" {
			return nil, fail("redirect_uris entry " + reason)
		}
	}

	method := w.TokenEndpointAuthMethod
	if method == "" {
		method = "none"
	}
	if !slices.Contains(allowedAuthMethods, method) {
		return nil, fail(`token_endpoint_auth_method must be "none" or "private_key_jwt"`)
	}

	for _, f := range []struct{ name, value string }{
		{"client_uri", w.ClientURI}, {"logo_uri", w.LogoURI},
		{"tos_uri", w.TOSURI}, {"policy_uri", w.PolicyURI},
	} {
		if f.value != "" && !isWebURL(f.value, false) {
			return nil, fail(f.name + " must be an absolute http or https URL")
		}
	}
	if w.JWKSURI != "" && !isWebURL(w.JWKSURI, true) {
		return nil, fail("jwks_uri must be an absolute https URL")
	}

	var jwks json.RawMessage
	if raw, ok := members["jwks"]; ok && !bytes.Equal(raw, []byte("null")) {
		if reason := checkJWKS(raw); reason != "" {
			return nil, fail(reason)
		}
		jwks = bytes.Clone(raw)
	}
	if jwks != nil && w.JWKSURI != "" {
		return nil, fail("client metadata document must not contain both jwks and jwks_uri")
	}
	if method == "private_key_jwt" && jwks == nil && w.JWKSURI == "" {
		return nil, fail("token_endpoint_auth_method private_key_jwt requires jwks or jwks_uri")
	}

	return &Document{
		ClientID:                clientID,
		ClientName:              w.ClientName,
		ClientURI:               w.ClientURI,
		LogoURI:                 w.LogoURI,
		TokenEndpointAuthMethod: method,
		Scope:                   w.Scope,
		JWKSURI:                 w.JWKSURI,
		SoftwareID:              w.SoftwareID,
		SoftwareVersion:         w.SoftwareVersion,
		TOSURI:                  w.TOSURI,
		PolicyURI:               w.PolicyURI,
		RedirectURIs:            slices.Clone(w.RedirectURIs),
		GrantTypes:              slices.Clone(w.GrantTypes),
		ResponseTypes:           slices.Clone(w.ResponseTypes),
		Contacts:                slices.Clone(w.Contacts),
		JWKS:                    jwks,
	}, nil
}

// topLevelMembers returns the members of the JSON object body, refusing anything that is not
// exactly one JSON object, and refusing a member name that appears twice (RFC 8259 §4 leaves
// duplicate names to the parser; a document that says client_id twice is refused rather than
// read one way here and another way elsewhere).
func topLevelMembers(body []byte) (map[string]json.RawMessage, *Error) {
	notObject := fail("client metadata document is not a JSON object")
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, notObject
	}
	members := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, notObject
		}
		name, _ := tok.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, notObject
		}
		if _, dup := members[name]; dup {
			return nil, fail("client metadata document has a duplicate member " + quoteShort(name))
		}
		members[name] = value
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, notObject
	}
	// Nothing but whitespace may follow the object.
	if rest := bytes.TrimSpace(body[dec.InputOffset():]); len(rest) != 0 {
		return nil, notObject
	}
	return members, nil
}

// quoteShort quotes a member name for an error reason, cut to keep the reason short.
func quoteShort(s string) string {
	const max = 40
	if len(s) > max {
		s = s[:max] + "..."
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// checkRedirectURI returns why r is not an acceptable redirect URI, or "".
func checkRedirectURI(r string) string {
	u, err := url.Parse(r)
	if err != nil || !u.IsAbs() {
		return "is not an absolute URI"
	}
	if strings.Contains(r, "#") {
		return "must not contain a fragment"
	}
	if slices.Contains(refusedRedirectSchemes, u.Scheme) {
		return "uses a forbidden scheme"
	}
	return ""
}

// isWebURL reports whether s is an absolute http(s) URL with a host (https only if httpsOnly).
func isWebURL(s string, httpsOnly bool) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil {
		return false
	}
	return u.Scheme == "https" || (!httpsOnly && u.Scheme == "http")
}

// checkJWKS returns why raw is not an acceptable public JWK Set, or "".
func checkJWKS(raw json.RawMessage) string {
	var set struct {
		Keys []map[string]json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil || set.Keys == nil {
		return `jwks must be a JSON object with a "keys" array of keys`
	}
	for _, k := range set.Keys {
		if k == nil {
			return `jwks must be a JSON object with a "keys" array of keys`
		}
		for _, m := range privateJWKMembers {
			if _, ok := k[m]; ok {
				return "jwks must contain only public keys"
			}
		}
	}
	return ""
}

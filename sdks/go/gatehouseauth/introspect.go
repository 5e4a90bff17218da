package gatehouseauth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxIntrospectionBytes bounds an introspection answer read.
const maxIntrospectionBytes = 64 << 10

// introspection is the RFC 7662 answer of POST {issuer}/api/v1/auth/introspect.
type introspection struct {
	Active    bool     `json:"active"`
	TokenType string   `json:"token_type"`
	Sub       string   `json:"sub"`
	Sid       string   `json:"sid"`
	KeyID     string   `json:"key_id"`
	ClientID  string   `json:"client_id"`
	Scope     string   `json:"scope"`
	Email     string   `json:"email"`
	Exp       *float64 `json:"exp"`
}

// VerifyAPIKey checks a Gatehouse API key (ak_...) through the introspection endpoint. It
// needs AcceptAPIKeys. Answers, good and bad, are cached for IntrospectionCacheTTL and never
// beyond the key's expiry.
func (v *Verifier) VerifyAPIKey(ctx context.Context, key string) (*Principal, error) {
	p, err := v.verifyAPIKey(ctx, key)
	if err != nil {
		return nil, err
	}
	// A key is never delegated: DelegationRequired refuses it.
	if err := v.checkDelegation(p); err != nil {
		return nil, err
	}
	return p, nil
}

func (v *Verifier) verifyAPIKey(ctx context.Context, key string) (*Principal, error) {
	if !v.apiKeys {
		return nil, invalid("API keys are not accepted here")
	}
	if !strings.HasPrefix(key, APIKeyPrefix) || len(key) > maxTokenBytes {
		return nil, invalid("not an API key")
	}
	k := keyOf(key)
	now := v.now()
	if e, ok := v.intro.get(k, now); ok {
		return e.p, e.err
	}
	in, all, err := v.introspect(ctx, key)
	if err != nil {
		return nil, err
	}
	e := resultEntry{until: now.Add(v.introTTL)}
	exp, hasExp := numericDate(in.Exp)
	switch {
	case !in.Active:
		e.err = invalid("API key not active")
	case in.Sub == "" || (in.TokenType != "" && in.TokenType != TypeAPIKey):
		e.err = invalid("not an API key")
	case hasExp && !now.Before(exp):
		e.err = invalid("API key expired")
	default:
		e.p = &Principal{Subject: in.Sub, Scopes: strings.Fields(in.Scope), Email: in.Email,
			KeyID: in.KeyID, TokenType: TypeAPIKey, Claims: all}
		if hasExp {
			e.p.ExpiresAt = exp
			if exp.Before(e.until) {
				e.until = exp
			}
		}
	}
	v.intro.put(k, e, now)
	return e.p, e.err
}

// checkSession asks Gatehouse whether the session of an access token that verified locally is
// still live. A live answer is reused for SessionCacheTTL; a dead one until the token expires
// (a revoked session never comes back).
func (v *Verifier) checkSession(ctx context.Context, k tokenKey, token string, p *Principal, now time.Time) error {
	if e, ok := v.sess.get(k, now); ok {
		return e.err
	}
	in, _, err := v.introspect(ctx, token)
	if err != nil {
		return err
	}
	e := resultEntry{until: now.Add(v.sessTTL)}
	switch {
	case !in.Active:
		e.err, e.until = invalid("token or session revoked"), p.ExpiresAt
	case in.Sub != p.Subject || (in.Sid != "" && p.SessionID != "" && in.Sid != p.SessionID):
		e.err, e.until = invalid("introspection disagrees with the token"), p.ExpiresAt
	}
	if e.until.After(p.ExpiresAt) {
		e.until = p.ExpiresAt
	}
	v.sess.put(k, e, now)
	return e.err
}

func (v *Verifier) introspect(ctx context.Context, token string) (*introspection, map[string]any, error) {
	body, _ := json.Marshal(map[string]string{"token": token})
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.introURL, bytes.NewReader(body))
	if err != nil {
		return nil, nil, unavailable("introspection request", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-API-Key", v.introKey)
	resp, err := v.client.Do(req)
	if err != nil {
		v.log.Error("gatehouseauth: introspection failed", "url", v.introURL, "err", err)
		return nil, nil, unavailable("introspection unreachable", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxIntrospectionBytes))
	if err != nil {
		return nil, nil, unavailable("introspection answer unreadable", err)
	}
	if resp.StatusCode != http.StatusOK {
		// 401/403 here means this server's own key is wrong or lacks tokens:introspect.
		v.log.Error("gatehouseauth: introspection refused", "url", v.introURL, "status", resp.StatusCode)
		return nil, nil, unavailable("introspection refused", fmt.Errorf("status %d", resp.StatusCode))
	}
	var in introspection
	var all map[string]any
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, nil, unavailable("introspection answer malformed", err)
	}
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, nil, unavailable("introspection answer malformed", err)
	}
	return &in, all, nil
}

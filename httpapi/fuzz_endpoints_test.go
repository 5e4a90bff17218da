package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpapi"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/seal"
	"github.com/gatehouse/gatehouse/sqlite"
	"github.com/gatehouse/gatehouse/token"
	"github.com/gatehouse/gatehouse/totp"
)

// endpointRig is a whole API on a real SQLite file, with a cheap password hash so that the
// fuzzer spends its time on input handling, not on argon2.
type endpointRig struct {
	handler http.Handler
	access  string
	key     string
	routes  []httpapi.Route
}

var (
	rigOnce sync.Once
	rig     *endpointRig
	rigErr  error
)

func newRig(dir string) (*endpointRig, error) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "fuzz.db"))
	if err != nil {
		return nil, err
	}
	tokens := token.NewIssuer(token.Config{Issuer: "http://fuzz", Audience: "http://fuzz", Algorithm: "ES256", TTL: time.Hour}, store)
	key, err := token.GenerateKey("ES256", time.Now())
	if err != nil {
		return nil, err
	}
	if err := store.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.CreateSigningKey(ctx, key) }); err != nil {
		return nil, err
	}
	if err := tokens.Reload(ctx); err != nil {
		return nil, err
	}
	cheap := password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	auth := gatehouse.NewAuthService(gatehouse.AuthDeps{Store: store, Hasher: password.NewHasher(cheap, 4, time.Second), Policy: password.Policy{}, Tokens: tokens, Config: gatehouse.DefaultAuthConfig, Log: log})
	authz := gatehouse.NewAuthorizationServer(gatehouse.AuthServerDeps{Auth: auth, Config: gatehouse.AuthServerConfig{Issuer: "http://fuzz", DynamicRegistration: true}})
	box, err := seal.New(make([]byte, seal.KeySize))
	if err != nil {
		return nil, err
	}
	mfa := gatehouse.NewMFAService(gatehouse.MFADeps{Auth: auth, Sealer: box, OTP: totp.Engine{}})
	h := httpapi.NewServer(httpapi.Deps{Auth: auth, MFA: mfa, AuthServer: authz, DB: store, Keys: tokens, Log: log, Config: httpapi.Config{PublicURL: "http://fuzz", SigningAlg: "ES256"}})
	r := &endpointRig{handler: h, routes: httpapi.Routes()}
	ts, err := auth.Register(ctx, gatehouse.RegisterInput{Email: "fuzz@example.com", Password: "fuzzing password", Name: "F"}, gatehouse.Client{})
	if err != nil {
		return nil, err
	}
	r.access = ts.AccessToken
	p, err := auth.Authenticate(ctx, ts.AccessToken)
	if err != nil {
		return nil, err
	}
	_, r.key, err = auth.CreateAPIKey(ctx, p, gatehouse.NewAPIKeyInput{Name: "fuzz", Scopes: []string{"profile:read", "credits:read", "credits:write", "keys:read", "keys:write", "tokens:introspect"}})
	return r, err
}

// FuzzEndpoints sends arbitrary bodies to every endpoint that takes one, signed in or not, as
// JSON or as a form: nothing a client sends may produce a 500.
func FuzzEndpoints(f *testing.F) {
	seeds := []string{`{"email":"a@b.co","password":"long enough pw","name":"x"}`, `{"refresh_token":"abc"}`, `{"all":true}`,
		`{"name":"k","scopes":["profile:read"],"expires_in_days":1}`, `{"token":"x"}`, `{"amount":1}`, `{"role":"admin","is_active":false}`,
		`{"current_password":"a","new_password":"b"}`, `{"avatar_url":null}`, `{"mfa_token":"x","code":"123456"}`, `{"code":"123456"}`, `{"code":"abcd-efgh-ijkl-mnop"}`, `{"password":"p"}`, `username=a&password=b`, `{`, `[]`, `null`, "\x00\xff"}
	for i, s := range seeds {
		for mode := range 3 {
			f.Add(uint8(i), uint8(mode), []byte(s))
		}
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, routeIndex, mode uint8, body []byte) {
		rigOnce.Do(func() { rig, rigErr = newRig(dir) })
		if rigErr != nil {
			t.Fatal(rigErr)
		}
		var withBody []httpapi.Route
		for _, rt := range rig.routes {
			if rt.Method == "POST" || rt.Method == "PATCH" {
				withBody = append(withBody, rt)
			}
		}
		rt := withBody[int(routeIndex)%len(withBody)]
		path := strings.NewReplacer("{id}", "x", "{provider}", "github").Replace(rt.Path)
		req := httptest.NewRequest(rt.Method, path, bytes.NewReader(body))
		switch mode % 3 {
		case 0:
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+rig.access)
		case 1:
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-API-Key", rig.key)
		case 2:
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		rig.handler.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable && rec.Code != http.StatusBadGateway {
			t.Fatalf("%s %s with %q: status %d: %s", rt.Method, path, body, rec.Code, rec.Body)
		}
		if rec.Code >= 400 && rec.Code != http.StatusMethodNotAllowed {
			var p map[string]any
			err := json.Unmarshal(rec.Body.Bytes(), &p)
			// The authorization server answers RFC 6749 error bodies; the rest of the API problem documents.
			if oauth := strings.HasPrefix(path, "/oauth2/") || path == "/token" || path == "/register"; oauth {
				if _, ok := p["error"].(string); err != nil || !ok || p["error_code"] != nil {
					t.Fatalf("%s %s: %d answer is not an RFC 6749 error: %s", rt.Method, path, rec.Code, rec.Body)
				}
			} else if err != nil || p["error_code"] == nil {
				t.Fatalf("%s %s: %d answer is not a problem document: %s", rt.Method, path, rec.Code, rec.Body)
			}
		}
	})
}

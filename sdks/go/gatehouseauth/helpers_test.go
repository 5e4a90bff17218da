package gatehouseauth_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/sdks/go/gatehouseauth"
	"github.com/gatehouse/gatehouse/sdks/go/gatehousetest"
)

const resource = "http://api.test/mcp"

const metadataURL = "http://api.test/.well-known/oauth-protected-resource/mcp"

// clock is a settable clock shared by the issuer and the verifier: tests move time instead of
// sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type rig struct {
	t   *testing.T
	clk *clock
	iss *gatehousetest.Issuer
	v   *gatehouseauth.Verifier
}

// newRig starts a stand-in issuer and a verifier for resource; edit changes the config.
func newRig(t *testing.T, edit func(*gatehouseauth.Config)) *rig {
	t.Helper()
	clk := newClock()
	iss := gatehousetest.NewIssuer(clk.Now)
	t.Cleanup(iss.Close)
	cfg := gatehouseauth.Config{
		Issuer:           iss.URL,
		Resource:         resource,
		Now:              clk.Now,
		HTTPClient:       iss.Client(),
		IntrospectionKey: iss.IntrospectionKey,
		Logger:           slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if edit != nil {
		edit(&cfg)
	}
	v, err := gatehouseauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{t: t, clk: clk, iss: iss, v: v}
}

// token mints a token for the resource with scope mcp:tools, then applies edit.
func (r *rig) token(edit func(*gatehousetest.Claims)) string {
	c := gatehousetest.Claims{Audience: resource, ClientID: "https://client.example/app.json", Scope: "mcp:tools", Email: "ada@example.com"}
	if edit != nil {
		edit(&c)
	}
	return r.iss.Mint(c)
}

type answer struct {
	status    int
	challenge string
	body      map[string]string
	principal *gatehouseauth.Principal
}

// call sends a request through v.Middleware(scopes...) with headers and returns the answer.
func (r *rig) call(target string, headers map[string]string, scopes ...string) answer {
	r.t.Helper()
	var seen *gatehouseauth.Principal
	h := r.v.Middleware(scopes...)(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		p, ok := gatehouseauth.PrincipalFrom(req.Context())
		if !ok {
			r.t.Fatal("handler reached without a principal")
		}
		seen = p
		w.WriteHeader(http.StatusOK)
	}))
	req := httptest.NewRequest(http.MethodPost, target, nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	a := answer{status: rec.Code, challenge: rec.Header().Get("WWW-Authenticate"), principal: seen}
	if rec.Code != http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), &a.body); err != nil {
			r.t.Fatalf("error body is not JSON: %q", rec.Body.String())
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
			r.t.Errorf("error answer Cache-Control = %q, want no-store", cc)
		}
	}
	return a
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

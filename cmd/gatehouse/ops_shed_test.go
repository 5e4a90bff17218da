package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpapi"
	"github.com/gatehouse/gatehouse/password"
)

type fakePool struct{ saturated atomic.Bool }

func (p *fakePool) Saturated() bool { return p.saturated.Load() }

// busyHasher refuses every hash, as a saturated pool does.
type busyHasher struct{}

func (busyHasher) Hash(context.Context, string) (string, error) { return "", gatehouse.ErrBusy }
func (busyHasher) Verify(context.Context, string, string) (bool, bool, error) {
	return false, false, gatehouse.ErrBusy
}
func (busyHasher) VerifyDummy(context.Context, string) error { return gatehouse.ErrBusy }

type observed struct {
	route, method string
	status        int
}

type recordingObserver struct{ got []observed }

func (o *recordingObserver) ObserveRequest(route, method string, status int, _ time.Duration) {
	o.got = append(o.got, observed{route, method, status})
}

// busyAPI is the real API over a real store, with a hash pool that refuses everything: what a
// request reaching the pool gets when it is full.
func busyAPI(t *testing.T) http.Handler {
	t.Helper()
	env := testEnv(t)
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	cfg.resolvePublicURL("127.0.0.1:1")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := openApp(context.Background(), cfg, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	auth := gatehouse.NewAuthService(gatehouse.AuthDeps{Store: a.store, Hasher: busyHasher{}, Policy: password.Policy{}, Tokens: a.tokens, Config: gatehouse.DefaultAuthConfig, Log: log})
	return httpapi.NewServer(httpapi.Deps{Auth: auth, DB: a.store, Keys: a.tokens, Log: log,
		Config: httpapi.Config{PublicURL: cfg.PublicURL, SigningAlg: cfg.SigningAlg}})
}

func post(path, body string, headers ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		r.Header.Set(k, v)
	}
	return r
}

// TestShedAnswerIsThePoolsAnswer: a request shed at the edge gets exactly what the pool's own
// refusal gives (status, headers, body), and the request metrics count it.
func TestShedAnswerIsThePoolsAnswer(t *testing.T) {
	api := busyAPI(t)
	body := `{"email":"someone@example.com","password":"a password"}`
	for _, path := range []string{"/api/v1/auth/login", "/api/v1/auth/register"} {
		want := httptest.NewRecorder()
		api.ServeHTTP(want, post(path, `{"email":"someone@example.com","password":"a password long enough","name":"N"}`))
		if want.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s through the busy pool: status %d, %s", path, want.Code, want.Body)
		}

		pool := &fakePool{}
		pool.saturated.Store(true)
		metrics := &recordingObserver{}
		next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			t.Fatalf("%s reached the API although the pool is full", path)
		})
		got := httptest.NewRecorder()
		shedWhenHashPoolFull(pool, metrics, slog.New(slog.NewTextHandler(io.Discard, nil)), false, next).ServeHTTP(got, post(path, body))

		if got.Code != want.Code || got.Body.String() != want.Body.String() {
			t.Fatalf("%s shed: %d %q; the pool answers %d %q", path, got.Code, got.Body, want.Code, want.Body)
		}
		wantHeader, gotHeader := want.Header().Clone(), got.Header().Clone()
		gotHeader.Del("Content-Length") // net/http adds it to the API's answer when it writes it
		for _, k := range mapsKeys(wantHeader, gotHeader) {
			if w, g := wantHeader.Values(k), gotHeader.Values(k); !slices.Equal(w, g) {
				t.Errorf("%s shed: header %s = %q, the pool's answer has %q", path, k, g, w)
			}
		}
		if len(metrics.got) != 1 || metrics.got[0] != (observed{"POST " + path, "POST", 503}) {
			t.Errorf("%s shed: metrics saw %+v", path, metrics.got)
		}
	}
}

func mapsKeys(hs ...http.Header) []string {
	var keys []string
	for _, h := range hs {
		for k := range h {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	return keys
}

// TestShedOnlyHashRequestsWhileFull: everything else goes to the API untouched.
func TestShedOnlyHashRequestsWhileFull(t *testing.T) {
	pool := &fakePool{}
	reached := 0
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached++
		if b, _ := io.ReadAll(r.Body); string(b) != "{}" && r.Method == http.MethodPost {
			t.Errorf("the API got body %q", b)
		}
	})
	h := shedWhenHashPoolFull(pool, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), false, next)
	send := func(r *http.Request) int {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}

	if code := send(post("/api/v1/auth/login", "{}")); code != http.StatusOK || reached != 1 {
		t.Fatalf("login with room in the pool: %d, reached the API %d times", code, reached)
	}
	pool.saturated.Store(true)
	for _, r := range []*http.Request{
		post("/api/v1/auth/refresh", "{}"),
		post("/api/v1/auth/login/", "{}"),
		httptest.NewRequest(http.MethodGet, "/api/v1/auth/login", nil),
		post("/login", "{}"), // the dashboard answers in HTML, itself
		post("/api/v1/auth/login", "{}", "Origin: https://app.example.com"),
	} {
		before := reached
		if code := send(r); code != http.StatusOK || reached != before+1 {
			t.Fatalf("%s %s %v with the pool full: %d, want it passed to the API", r.Method, r.URL.Path, r.Header, code)
		}
	}
	for path := range hashRoutes {
		if code := send(post(path, "{}")); code != http.StatusServiceUnavailable {
			t.Fatalf("%s with the pool full: %d, want 503", path, code)
		}
	}
}

// TestHashRoutesExist: every path the edge sheds is a POST route of the API.
func TestHashRoutesExist(t *testing.T) {
	for path := range hashRoutes {
		if !slices.ContainsFunc(httpapi.Routes(), func(r httpapi.Route) bool { return r.Method == "POST" && r.Path == path }) {
			t.Errorf("%s is not a POST route of the API", path)
		}
	}
}

// BenchmarkRefusal is the server's work for one login refused because the hash pool is full,
// without the network: through the API to the pool (what every refusal cost before the edge
// refused early, and what a request with an Origin header still costs), and at the edge.
func BenchmarkRefusal(b *testing.B) {
	t := &testing.T{}
	api := busyAPI(t)
	body := `{"email":"someone@example.com","password":"a password"}`
	pool := &fakePool{}
	pool.saturated.Store(true)
	edge := shedWhenHashPoolFull(pool, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), false, api)
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"pool", api}, {"edge", edge}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				bc.h.ServeHTTP(w, post("/api/v1/auth/login", body))
				if w.Code != http.StatusServiceUnavailable {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}

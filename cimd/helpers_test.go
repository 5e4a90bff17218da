package cimd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testClock is an injectable clock for the cache tests.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *testClock {
	return &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// requestClientID is the client_id a request was made for: the server sees it as its own host
// and path, which is exactly the URL the fetcher requested.
func requestClientID(r *http.Request) string {
	return "https://" + r.Host + r.URL.Path
}

// docJSON is a valid document for clientID with extra members set over it (a nil value removes
// the member).
func docJSON(clientID string, extra map[string]any) []byte {
	m := map[string]any{
		"client_id":     clientID,
		"client_name":   "Example MCP Client",
		"redirect_uris": []string{"http://127.0.0.1:3000/callback"},
	}
	for k, v := range extra {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// serveDoc answers every request with a valid document for the requested URL plus extra, and
// the given response headers.
func serveDoc(extra map[string]any, headers map[string]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(docJSON(requestClientID(r), extra))
	}
}

// counting wraps h and counts the requests it serves.
func counting(h http.Handler) (http.Handler, *atomic.Int64) {
	var n atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h.ServeHTTP(w, r)
	}), &n
}

// newServer starts a TLS server on loopback running h.
func newServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// trusting is a TLS configuration that trusts srv's certificate and nothing else.
func trusting(srv *httptest.Server) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return &tls.Config{RootCAs: pool}
}

// newTestFetcher is a fetcher for srv: private networks allowed (srv is on 127.0.0.1), srv's
// certificate trusted, and o's other settings.
func newTestFetcher(srv *httptest.Server, o Options) *Fetcher {
	o.AllowPrivateNetworks = true
	o.TLSConfig = trusting(srv)
	return New(o)
}

// mustFail asserts err is an *Error whose Reason contains want.
func mustFail(t *testing.T, err error, want string) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", want)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %T %v, want *Error", err, err)
	}
	if !strings.Contains(e.Reason, want) {
		t.Fatalf("got reason %q, want it to contain %q", e.Reason, want)
	}
	return e
}

func fetch(t *testing.T, f *Fetcher, clientID string) (*Document, error) {
	t.Helper()
	return f.Fetch(context.Background(), clientID)
}

func mustFetch(t *testing.T, f *Fetcher, clientID string) *Document {
	t.Helper()
	doc, err := fetch(t, f, clientID)
	if err != nil {
		t.Fatalf("Fetch(%q): %v (cause: %v)", clientID, err, errors.Unwrap(err))
	}
	return doc
}

package breach

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// rangeServer is a Pwned Passwords range API on loopback that knows the passwords given, pads
// every answer with count-0 decoys, and records what it was asked.
type rangeServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
}

func sha1Hex(pw string) string {
	s := sha1.Sum([]byte(pw))
	return strings.ToUpper(hex.EncodeToString(s[:]))
}

func newRangeServer(t *testing.T, known ...string) *rangeServer {
	rs := &rangeServer{}
	rs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs.mu.Lock()
		rs.requests = append(rs.requests, r.Clone(context.Background()))
		rs.mu.Unlock()
		prefix, ok := strings.CutPrefix(r.URL.Path, "/range/")
		if !ok || len(prefix) != 5 {
			http.NotFound(w, r)
			return
		}
		var b bytes.Buffer
		for _, pw := range known {
			if h := sha1Hex(pw); h[:5] == prefix {
				fmt.Fprintf(&b, "%s:%d\r\n", h[5:], 42)
			}
		}
		if r.Header.Get("Add-Padding") == "true" {
			for i := range 200 {
				fmt.Fprintf(&b, "%035X:0\r\n", i)
			}
		}
		w.Write(b.Bytes())
	}))
	t.Cleanup(rs.Close)
	return rs
}

func TestOnline(t *testing.T) {
	rs := newRangeServer(t, "hunter2hunter2", "correct horse battery staple")
	o := &Online{URL: rs.URL, Timeout: 2 * time.Second}
	for pw, want := range map[string]bool{"hunter2hunter2": true, "correct horse battery staple": true, "a password nobody has used": false} {
		got, err := o.Breached(t.Context(), pw)
		if err != nil || got != want {
			t.Fatalf("Breached(%q) = %v, %v; want %v", pw, got, err, want)
		}
	}
	// A suffix among the padding decoys (count 0) is not breached.
	pw := "padding only"
	rs2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s:0\r\n", sha1Hex(pw)[5:])
	}))
	defer rs2.Close()
	if got, err := (&Online{URL: rs2.URL}).Breached(t.Context(), pw); err != nil || got {
		t.Fatalf("a count-0 entry: %v, %v", got, err)
	}

	rs.mu.Lock()
	defer rs.mu.Unlock()
	if len(rs.requests) != 3 {
		t.Fatalf("%d requests, want 3", len(rs.requests))
	}
	for _, r := range rs.requests {
		if r.Header.Get("Add-Padding") != "true" {
			t.Errorf("no Add-Padding: true on %s", r.URL)
		}
		// Only the 5-digit prefix leaves the process: not the password, not the rest of its hash.
		raw := r.URL.String() + fmt.Sprint(r.Header) + r.Method
		prefix := strings.TrimPrefix(r.URL.Path, "/range/")
		if len(prefix) != 5 || r.URL.RawQuery != "" || r.ContentLength > 0 {
			t.Errorf("request %s %s carries more than a prefix", r.Method, r.URL)
		}
		for _, pw := range []string{"hunter2hunter2", "correct horse battery staple", "a password nobody has used"} {
			h := sha1Hex(pw)
			if strings.Contains(raw, pw) || strings.Contains(strings.ToUpper(raw), h[5:]) || strings.Contains(strings.ToUpper(raw), h[:8]) {
				t.Errorf("request %s leaks the password or its hash", r.URL)
			}
		}
	}
}

// hangingServer never answers: its handler waits for the request's context to end (the client
// giving up), so the test takes as long as the client's timeout and no longer.
func hangingServer(t *testing.T) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(s.Close)
	return s
}

func TestOnlineFailOpenAndClosed(t *testing.T) {
	s := hangingServer(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	open := &Online{URL: s.URL, Timeout: 50 * time.Millisecond, FailOpen: true, Log: log}
	start := time.Now()
	got, err := open.Breached(t.Context(), "anything at all")
	if err != nil || got {
		t.Fatalf("fail open: %v, %v; want false, nil", got, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("fail open took %s with a 50ms timeout", d)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "GATEHOUSE_BREACH_FAIL=open") {
		t.Fatalf("no warning logged: %s", logs.String())
	}

	closed := &Online{URL: s.URL, Timeout: 50 * time.Millisecond, FailOpen: false, Log: log}
	got, err = closed.Breached(t.Context(), "anything at all")
	if got || !errors.Is(err, gatehouse.ErrBreachCheckUnavailable) || gatehouse.ErrorKindOf(err) != gatehouse.KindUnavailable {
		t.Fatalf("fail closed: %v, %v; want breach_check_unavailable", got, err)
	}

	// An error status and a refused connection are outages too.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nope", http.StatusTooManyRequests)
	}))
	defer bad.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	for _, url := range []string{bad.URL, gone.URL} {
		if _, err := (&Online{URL: url}).Breached(t.Context(), "x"); !errors.Is(err, gatehouse.ErrBreachCheckUnavailable) {
			t.Errorf("%s: %v; want breach_check_unavailable", url, err)
		}
	}
}

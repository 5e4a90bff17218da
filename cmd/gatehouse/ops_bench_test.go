package main

import (
	"net/http"
	"net/url"
	"runtime"
	"testing"
)

// These benchmarks drive a real server over loopback HTTP, in process, so that
// `go test -bench . -cpuprofile` shows where a request's time goes. The load command
// (`gatehouse bench`) measures the same paths from outside, with latency percentiles.

func BenchmarkMe(b *testing.B) {
	s := startServer(&testing.T{})
	defer s.stop() // a bare testing.T runs no cleanups: each round's server must go, with its connections
	t := &testing.T{}
	a := s.register(t)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r := s.do(t, "GET", "/api/v1/users/me", nil, bearer(a.Access)); r.Status != http.StatusOK {
				b.Errorf("status %d", r.Status)
			}
		}
	})
}

// BenchmarkAPIKey is the credits balance read with an API key, the other hot read path.
func BenchmarkAPIKey(b *testing.B) {
	s := startServer(&testing.T{})
	defer s.stop() // a bare testing.T runs no cleanups: each round's server must go, with its connections
	t := &testing.T{}
	key, _ := s.createKey(t, s.register(t).Access)["api_key"].(string)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r := s.do(t, "GET", "/api/v1/public/credits/balance", nil, "X-API-Key: "+key); r.Status != http.StatusOK {
				b.Errorf("status %d", r.Status)
			}
		}
	})
}

func BenchmarkRefresh(b *testing.B) {
	s := startServer(&testing.T{})
	defer s.stop() // a bare testing.T runs no cleanups: each round's server must go, with its connections
	t := &testing.T{}
	const parallelism = 4
	tokens := make(chan string, parallelism*runtime.GOMAXPROCS(0))
	for range cap(tokens) {
		tokens <- s.register(t).Refresh
	}
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		refresh := <-tokens
		for pb.Next() {
			r := s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": refresh})
			if r.Status != http.StatusOK {
				b.Errorf("status %d", r.Status)
				return
			}
			refresh = r.str(t, "refresh_token")
		}
	})
}

// BenchmarkLogin keeps the hash pool busy without overloading it, so that its profile shows what
// a login costs besides the password hash.
func BenchmarkLogin(b *testing.B) {
	s := startServer(&testing.T{})
	defer s.stop() // a bare testing.T runs no cleanups: each round's server must go, with its connections
	t := &testing.T{}
	a := s.register(t)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": a.Email, "password": a.Password})
			if r.Status != http.StatusOK {
				b.Errorf("status %d", r.Status)
				return
			}
		}
	})
}

// BenchmarkLoginTOTP is BenchmarkLogin for a user with an authenticator app: the password step,
// up to its 401 mfa_required (the code step cannot repeat: a code is accepted once). With
// BenchmarkLogin it shows what a second factor adds to a login; the statements each one runs are
// counted by the root package's BenchmarkLoginStatements.
func BenchmarkLoginTOTP(b *testing.B) {
	s := startServer(&testing.T{})
	defer s.stop() // a bare testing.T runs no cleanups: each round's server must go, with its connections
	t := &testing.T{}
	a := s.register(t)
	s.enrolTOTP(t, a)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": a.Email, "password": a.Password})
			if r.Status != http.StatusUnauthorized {
				b.Errorf("status %d", r.Status)
				return
			}
		}
	})
}

// BenchmarkOAuthRefresh is BenchmarkRefresh through the authorization server: the refresh grant
// at /oauth2/token for a public client's grant, which runs the same rotation as
// /api/v1/auth/refresh plus the client's lookup and an audience-bound token. The grants are made
// before the timer starts, through the real sign-in and consent pages.
func BenchmarkOAuthRefresh(b *testing.B) {
	s := startServer(&testing.T{})
	defer s.stop() // a bare testing.T runs no cleanups: each round's server must go, with its connections
	t := &testing.T{}
	redirect := "http://127.0.0.1:9/callback"
	clientID := s.registerOAuthClient(t, "Bench", redirect)
	const parallelism = 4
	grants := make(chan string, parallelism*runtime.GOMAXPROCS(0))
	for range cap(grants) {
		grants <- s.oauthGrant(t, clientID, redirect)
	}
	if t.Failed() {
		b.Fatal("setting up the grants failed")
	}
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		refresh := <-grants
		for pb.Next() {
			r := s.postForm(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {clientID}})
			if r.Status != http.StatusOK {
				b.Errorf("status %d %s", r.Status, r.Body)
				return
			}
			refresh = r.str(t, "refresh_token")
		}
	})
}

// oauthGrant signs a new user in through the authorization endpoint, approves the client and
// returns the refresh token of the grant.
func (s *testServer) oauthGrant(t *testing.T, clientID, redirect string) string {
	user := s.register(t)
	wc := s.webClient(t)
	o := newOAuthRequest(clientID, redirect, "scope=openid")
	r := wc.signInFor(wc.get(o.path()), user.Email, user.Password)
	code := s.expectCode(t, wc.decide(expectConsent(t, r), "allow"), o)
	tok := s.exchangeCode(t, o, code)
	refresh, _ := tok["refresh_token"].(string)
	return refresh
}

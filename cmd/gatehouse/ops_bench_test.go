package main

import (
	"net/http"
	"testing"
)

// These benchmarks drive a real server over loopback HTTP, in process, so that
// `go test -bench . -cpuprofile` shows where a request's time goes. The load command
// (`gatehouse bench`) measures the same paths from outside, with latency percentiles.

func BenchmarkMe(b *testing.B) {
	s := startServer(&testing.T{})
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

func BenchmarkRefresh(b *testing.B) {
	s := startServer(&testing.T{})
	t := &testing.T{}
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		a := s.register(t)
		refresh := a.Refresh
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

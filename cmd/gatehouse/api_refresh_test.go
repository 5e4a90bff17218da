package main

import (
	"net/http"
	"strings"
	"testing"
)

func TestRefreshRetryWindowReturnsTheSameSuccessor(t *testing.T) {
	s := startServer(t) // default window: 10s
	a := s.register(t)
	first := s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": a.Refresh})
	expectStatus(t, first, http.StatusOK)
	retry := s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": a.Refresh})
	expectStatus(t, retry, http.StatusOK)
	if first.str(t, "refresh_token") != retry.str(t, "refresh_token") {
		t.Fatal("a retry within the window got a different successor")
	}
	// Whichever response the client kept, its tokens work.
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(retry.str(t, "access_token"))), http.StatusOK)
	next := s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": retry.str(t, "refresh_token")})
	expectStatus(t, next, http.StatusOK)
}

func TestConcurrentRefreshesWithinTheWindowAgree(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	results := concurrentRefreshes(t, s, a.Refresh, 20)
	tokens := map[string]bool{}
	for _, r := range results {
		expectStatus(t, r, http.StatusOK)
		tokens[r.str(t, "refresh_token")] = true
	}
	if len(tokens) != 1 {
		t.Fatalf("20 concurrent refreshes forked the session into %d refresh tokens", len(tokens))
	}
}

func TestConcurrentRefreshesWithoutWindowNeverFork(t *testing.T) {
	s := startServer(t, "GATEHOUSE_REFRESH_REUSE_INTERVAL=0")
	a := s.register(t)
	results := concurrentRefreshes(t, s, a.Refresh, 20)
	ok := 0
	for _, r := range results {
		switch r.Status {
		case http.StatusOK:
			ok++
		case http.StatusUnauthorized:
		default:
			t.Fatalf("unexpected status %d: %s", r.Status, r.Body)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of 20 concurrent refreshes succeeded, want exactly 1", ok)
	}
}

func concurrentRefreshes(t *testing.T, s *testServer, token string, n int) []*response {
	t.Helper()
	return concurrently(n, func(int) *response {
		return s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": token})
	})
}

func TestRefreshReuseRevokesTheSession(t *testing.T) {
	// A window of one nanosecond has always passed by the time the token comes back.
	s := startServer(t, "GATEHOUSE_REFRESH_REUSE_INTERVAL=1ns")
	a := s.register(t)
	other, otherRefresh := s.login(t, a.Email, a.Password)
	r := s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": a.Refresh})
	expectStatus(t, r, http.StatusOK)
	newAccess, newRefresh := r.str(t, "access_token"), r.str(t, "refresh_token")

	// The thief replays the spent token: 401, and the whole session dies.
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": a.Refresh}), http.StatusUnauthorized, "invalid_refresh_token")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": newRefresh}), http.StatusUnauthorized, "invalid_refresh_token")
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(newAccess)), http.StatusUnauthorized, "")
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(a.Access)), http.StatusUnauthorized, "")
	// Other sessions of the user are not touched.
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(other)), http.StatusOK)
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": otherRefresh}), http.StatusOK)
	if !strings.Contains(s.logs.String(), "refresh token reuse detected") {
		t.Fatal("reuse was not logged")
	}
	if strings.Contains(s.logs.String(), a.Refresh) || strings.Contains(s.logs.String(), newRefresh) {
		t.Fatal("a refresh token reached the log")
	}
}

func TestRefreshGarbage(t *testing.T) {
	s := startServer(t)
	for _, tok := range []string{"nope", "eyJhbGciOiJub25lIn0.e30.", strings.Repeat("A", 43)} {
		expectProblem(t, s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": tok}), http.StatusUnauthorized, "invalid_refresh_token")
	}
}

// A thief who replays a spent token inside the retry window must not keep pace with the owner:
// once the owner has spent the successor too, the replay is reuse, and the session dies.
func TestRefreshReplayAfterTheSuccessorIsSpentIsReuse(t *testing.T) {
	s := startServer(t) // default window: 10s, far longer than this test
	a := s.register(t)
	first := s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": a.Refresh})
	expectStatus(t, first, http.StatusOK)
	second := s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": first.str(t, "refresh_token")})
	expectStatus(t, second, http.StatusOK)

	// The original token's successor is spent: no answer for the replay, and the session is revoked.
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": a.Refresh}), http.StatusUnauthorized, "invalid_refresh_token")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": second.str(t, "refresh_token")}), http.StatusUnauthorized, "invalid_refresh_token")
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(second.str(t, "access_token"))), http.StatusUnauthorized, "")
	if !strings.Contains(s.logs.String(), "refresh token reuse detected") {
		t.Fatal("reuse was not logged")
	}
}

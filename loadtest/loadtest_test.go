package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is the closed-loop clock of a test: the fake server moves it, so a duration is a
// number of requests served and nothing depends on real time.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// fake mimics the Gatehouse endpoints the load generator uses, including refresh-token rotation:
// a spent refresh token is refused (the real server revokes the session on late reuse).
type fake struct {
	t        *testing.T
	apiKey   string
	clock    *fakeClock    // advanced by tick on every measured request, when set
	tick     time.Duration // how far each measured request moves the clock
	busyLeft atomic.Int64  // registrations still to answer 503 Retry-After: 0
	// login, when set, decides the fate of login number n: an HTTP status, or -1 to drop the
	// connection without an answer.
	login   func(n int64) int
	block   chan struct{} // when set, /users/me waits for it to close
	arrived chan struct{} // when set, /users/me sends on it before it waits for block

	mu        sync.Mutex
	passwords map[string]string // email → password
	access    map[string]string // access token → email
	refresh   map[string]bool   // refresh token → spent
	latest    map[string]string // email → newest refresh token
	reuses    int               // spent refresh tokens presented
	seq       int

	registers, logins, refreshes, mes, credits, busy atomic.Int64
}

func newFake(t *testing.T) (*fake, *httptest.Server) {
	f := &fake{t: t, passwords: map[string]string{}, access: map[string]string{}, refresh: map[string]bool{}, latest: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"status":"ok"}`)) })
	mux.HandleFunc("POST /api/v1/auth/register", f.handleRegister)
	mux.HandleFunc("POST /api/v1/auth/login", f.handleLogin)
	mux.HandleFunc("POST /api/v1/auth/refresh", f.handleRefresh)
	mux.HandleFunc("GET /api/v1/users/me", f.handleMe)
	mux.HandleFunc("GET /api/v1/public/credits/balance", f.handleCredits)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fake) measured() {
	if f.clock != nil {
		f.clock.Advance(f.tick)
	}
}

func problem(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"status":%d,"error_code":%q}`, status, code)
}

// issue makes a token pair for email; f.mu is held.
func (f *fake) issue(w http.ResponseWriter, status int, email string) {
	f.seq++
	at, rt := fmt.Sprintf("at-%d", f.seq), fmt.Sprintf("rt-%d", f.seq)
	f.access[at] = email
	f.refresh[rt] = false
	f.latest[email] = rt
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"access_token": at, "refresh_token": rt, "token_type": "bearer", "expires_in": 900})
}

func (f *fake) handleRegister(w http.ResponseWriter, r *http.Request) {
	f.registers.Add(1)
	if f.busyLeft.Add(-1) >= 0 {
		f.busy.Add(1)
		w.Header().Set("Retry-After", "0")
		problem(w, http.StatusServiceUnavailable, "server_busy")
		return
	}
	var in struct{ Email, Password, Name string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Email == "" || len(in.Password) < 8 || in.Name == "" {
		problem(w, http.StatusUnprocessableEntity, "validation_failed")
		return
	}
	if !strings.HasPrefix(in.Email, "bench-") || !strings.HasSuffix(in.Email, "@example.com") {
		f.t.Errorf("register: unexpected email %q", in.Email)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.passwords[in.Email]; ok {
		problem(w, http.StatusConflict, "email_taken")
		return
	}
	f.passwords[in.Email] = in.Password
	f.issue(w, http.StatusCreated, in.Email)
}

func (f *fake) handleLogin(w http.ResponseWriter, r *http.Request) {
	n := f.logins.Add(1)
	f.measured()
	var in struct{ Email, Password string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		problem(w, http.StatusBadRequest, "malformed_json")
		return
	}
	if f.login != nil {
		switch status := f.login(n); status {
		case -1:
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				f.t.Errorf("hijack: %v", err)
				return
			}
			conn.Close()
			return
		case http.StatusOK:
		default:
			problem(w, status, "scripted")
			return
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if pw, ok := f.passwords[in.Email]; !ok || pw != in.Password {
		problem(w, http.StatusUnauthorized, "invalid_credentials")
		return
	}
	f.issue(w, http.StatusOK, in.Email)
}

func (f *fake) handleRefresh(w http.ResponseWriter, r *http.Request) {
	f.refreshes.Add(1)
	f.measured()
	var in struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		problem(w, http.StatusBadRequest, "malformed_json")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	spent, ok := f.refresh[in.RefreshToken]
	if !ok || spent {
		if spent {
			f.reuses++
		}
		problem(w, http.StatusUnauthorized, "invalid_refresh_token")
		return
	}
	f.refresh[in.RefreshToken] = true
	email := ""
	for e, rt := range f.latest {
		if rt == in.RefreshToken {
			email = e
		}
	}
	f.issue(w, http.StatusOK, email)
}

func (f *fake) handleMe(w http.ResponseWriter, r *http.Request) {
	f.mes.Add(1)
	f.measured()
	if f.arrived != nil {
		f.arrived <- struct{}{}
	}
	if f.block != nil {
		<-f.block
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	email, known := f.access[token]
	f.mu.Unlock()
	if !ok || !known {
		problem(w, http.StatusUnauthorized, "invalid_token")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"email":%q}`, email)
}

func (f *fake) handleCredits(w http.ResponseWriter, r *http.Request) {
	f.credits.Add(1)
	f.measured()
	if r.Header.Get("X-API-Key") != f.apiKey || f.apiKey == "" {
		problem(w, http.StatusUnauthorized, "invalid_api_key")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"balance":42}`))
}

func mustRun(t *testing.T, cfg Config) *Report {
	t.Helper()
	rep, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return rep
}

func only(t *testing.T, rep *Report) *Result {
	t.Helper()
	if len(rep.Results) != 1 {
		t.Fatalf("got %d results, want 1", len(rep.Results))
	}
	return rep.Results[0]
}

// checkSums asserts the report's own arithmetic: every request has either a status or an error.
func checkSums(t *testing.T, r *Result) {
	t.Helper()
	var answered, ok int64
	for code, n := range r.Status {
		answered += n
		if code/100 == 2 {
			ok += n
		}
	}
	if answered+r.Errors != r.Requests {
		t.Errorf("%s: statuses %d + errors %d != requests %d", r.Scenario, answered, r.Errors, r.Requests)
	}
	if ok != r.Successes {
		t.Errorf("%s: 2xx statuses %d != successes %d", r.Scenario, ok, r.Successes)
	}
	if int64(r.Latency.Count) != r.Successes {
		t.Errorf("%s: %d latencies recorded for %d successes", r.Scenario, r.Latency.Count, r.Successes)
	}
	var kinds int64
	for _, n := range r.ErrorKinds {
		kinds += n
	}
	if kinds != r.Errors {
		t.Errorf("%s: error kinds add to %d, errors %d", r.Scenario, kinds, r.Errors)
	}
	if r.Scheduled > 0 && r.Requests+r.Dropped != r.Scheduled {
		t.Errorf("%s: requests %d + dropped %d != scheduled %d", r.Scenario, r.Requests, r.Dropped, r.Scheduled)
	}
}

func TestFakeRefusesSpentRefreshToken(t *testing.T) {
	// The chain test below means something only if the fake refuses a spent token.
	_, srv := newFake(t)
	post := func(path, body string) (int, map[string]string) {
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]string
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	status, reg := post("/api/v1/auth/register", `{"email":"bench-x-0@example.com","password":"correct horse","name":"x"}`)
	if status != http.StatusCreated {
		t.Fatalf("register: %d", status)
	}
	body := fmt.Sprintf(`{"refresh_token":%q}`, reg["refresh_token"])
	if status, _ := post("/api/v1/auth/refresh", body); status != http.StatusOK {
		t.Fatalf("first refresh: %d", status)
	}
	if status, _ := post("/api/v1/auth/refresh", body); status != http.StatusUnauthorized {
		t.Fatalf("refresh with a spent token: %d, want 401", status)
	}
}

func TestRefreshFollowsTheTokenChain(t *testing.T) {
	for _, tc := range []struct {
		name string
		rate float64
	}{{"closed loop", 0}, {"open loop", 4000}} {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFake(t)
			clock := newFakeClock()
			f.clock, f.tick = clock, time.Millisecond
			// Fewer users than connections: users must be lent out one request at a time.
			rep := mustRun(t, Config{URL: srv.URL, Connections: 6, Users: 3, Scenario: ScenarioRefresh,
				Duration: 200 * time.Millisecond, Rate: tc.rate, now: clock.Now})
			r := only(t, rep)
			checkSums(t, r)
			f.mu.Lock()
			reuses := f.reuses
			f.mu.Unlock()
			if reuses != 0 {
				t.Errorf("%d spent refresh tokens were presented again", reuses)
			}
			if r.Requests == 0 || r.Successes != r.Requests || r.Errors != 0 {
				t.Errorf("requests %d, successes %d, errors %d, status %v: want all successful", r.Requests, r.Successes, r.Errors, r.Status)
			}
			if got := f.refreshes.Load(); got != r.Requests {
				t.Errorf("server saw %d refreshes, report says %d", got, r.Requests)
			}
			if rep.Users != 3 || f.registers.Load() != 3 {
				t.Errorf("users %d, registrations %d, want 3", rep.Users, f.registers.Load())
			}
		})
	}
}

func TestCountsAddUp(t *testing.T) {
	f, srv := newFake(t)
	clock := newFakeClock()
	f.clock, f.tick = clock, time.Millisecond
	// Logins are POSTs, which net/http never retries, so the server sees each request once.
	f.login = func(n int64) int {
		switch {
		case n%5 == 0:
			return -1 // connection dropped: a transport error
		case n%3 == 0:
			return http.StatusServiceUnavailable
		case n%7 == 0:
			return http.StatusTooManyRequests
		}
		return http.StatusOK
	}
	rep := mustRun(t, Config{URL: srv.URL, Connections: 4, Scenario: ScenarioLogin, Duration: 300 * time.Millisecond, now: clock.Now})
	r := only(t, rep)
	checkSums(t, r)
	if got := f.logins.Load(); got != r.Requests {
		t.Errorf("server saw %d logins, report says %d", got, r.Requests)
	}
	if r.Errors == 0 || r.Status[503] == 0 || r.Status[429] == 0 || r.Successes == 0 {
		t.Errorf("want some of each outcome, got status %v, errors %d", r.Status, r.Errors)
	}
	if r.Status[401] != 0 {
		t.Errorf("%d logins refused: the right password was not sent", r.Status[401])
	}
	if r.Problems["503 scripted"] != r.Status[503] {
		t.Errorf("problems %v do not match status %v", r.Problems, r.Status)
	}
	// Of logins 1..n, those divisible by 5 fail; the rest answer. Requests may not be a multiple,
	// so compare against what the server counted.
	n := r.Requests
	if want := n / 5; r.Errors != want {
		t.Errorf("errors %d, want %d of %d", r.Errors, want, n)
	}
}

func TestDurationIsHonored(t *testing.T) {
	f, srv := newFake(t)
	clock := newFakeClock()
	f.clock, f.tick = clock, time.Millisecond
	const conns = 8
	// Each request moves the clock 1ms, so a 100ms run is about 100 requests: no request starts
	// once 100 have been served, and at most conns were started but not yet served by then.
	rep := mustRun(t, Config{URL: srv.URL, Connections: conns, Scenario: ScenarioMe, Duration: 100 * time.Millisecond, now: clock.Now})
	r := only(t, rep)
	checkSums(t, r)
	if r.Requests < 100 || r.Requests > 100+conns-1 {
		t.Errorf("requests %d, want between 100 and %d", r.Requests, 100+conns-1)
	}
	if r.Successes != r.Requests {
		t.Errorf("status %v, errors %d", r.Status, r.Errors)
	}
	if got := f.mes.Load(); got != r.Requests {
		t.Errorf("server saw %d, report says %d", got, r.Requests)
	}
}

func TestOpenLoopStopsAtItsCount(t *testing.T) {
	f, srv := newFake(t)
	rep := mustRun(t, Config{URL: srv.URL, Connections: 4, Scenario: ScenarioMe, Rate: 2000, Duration: 50 * time.Millisecond})
	r := only(t, rep)
	checkSums(t, r)
	if r.Scheduled != 100 {
		t.Errorf("scheduled %d, want 2000/s x 50ms = 100", r.Scheduled)
	}
	if got := f.mes.Load(); got != r.Requests || got > 100 {
		t.Errorf("server saw %d, report says %d, want at most 100", got, r.Requests)
	}
}

func TestOpenLoopDropsBeyondMaxInFlight(t *testing.T) {
	f, srv := newFake(t)
	f.block = make(chan struct{})
	cfg := Config{URL: srv.URL, Connections: 3, MaxInFlight: 3, Scenario: ScenarioMe, Rate: 1000, Duration: 40 * time.Millisecond,
		// The server holds every request until all 40 have been scheduled: 3 run, 37 are dropped.
		afterSchedule: func() { close(f.block) }}
	r := only(t, mustRun(t, cfg))
	checkSums(t, r)
	if r.Scheduled != 40 || r.Requests != 3 || r.Dropped != 37 || r.Successes != 3 {
		t.Errorf("scheduled %d, requests %d, dropped %d, successes %d: want 40, 3, 37, 3", r.Scheduled, r.Requests, r.Dropped, r.Successes)
	}
	if got := f.mes.Load(); got != 3 {
		t.Errorf("server saw %d requests, want 3", got)
	}
}

// TestOpenLoopInFlightNotCappedByConnections: in open loop every request in flight has its own
// connection, however few --connections says, so the server sees all of them at once. With one
// connection per --connections, requests queued in the client while the server queued others,
// and the report blamed the server for the client's queue.
func TestOpenLoopInFlightNotCappedByConnections(t *testing.T) {
	f, srv := newFake(t)
	f.block = make(chan struct{})
	f.arrived = make(chan struct{}, 3)
	cfg := Config{URL: srv.URL, Connections: 1, MaxInFlight: 3, Scenario: ScenarioMe, Rate: 1000, Duration: 40 * time.Millisecond,
		afterSchedule: func() {
			defer close(f.block)
			for i := range 3 {
				select {
				case <-f.arrived:
				case <-time.After(time.Minute):
					t.Errorf("only %d of 3 requests in flight reached the server", i)
					return
				}
			}
		}}
	r := only(t, mustRun(t, cfg))
	checkSums(t, r)
	if r.Requests != 3 || r.Successes != 3 {
		t.Errorf("requests %d, successes %d: want 3, 3", r.Requests, r.Successes)
	}
}

func TestSetupRetriesWhileBusy(t *testing.T) {
	f, srv := newFake(t)
	f.busyLeft.Store(5)
	clock := newFakeClock()
	f.clock, f.tick = clock, time.Millisecond
	rep := mustRun(t, Config{URL: srv.URL, Connections: 2, Users: 4, SetupConcurrency: 2, Scenario: ScenarioMe, Duration: 10 * time.Millisecond, now: clock.Now})
	if rep.Setup == nil || rep.Setup.Registered != 4 || rep.Setup.Retries != 5 || rep.Setup.Failed != 0 {
		t.Fatalf("setup %+v, want 4 registered after 5 retries", rep.Setup)
	}
	if got := f.registers.Load(); got != 9 {
		t.Errorf("server saw %d registrations, want 4 + 5 refused", got)
	}
}

func TestAllScenariosAndOutput(t *testing.T) {
	f, srv := newFake(t)
	f.apiKey = "ak_test"
	clock := newFakeClock()
	f.clock, f.tick = clock, time.Millisecond
	rep := mustRun(t, Config{URL: srv.URL + "/", Connections: 3, Scenario: ScenarioAll, APIKey: "ak_test", Password: "a fixed password", Duration: 30 * time.Millisecond, now: clock.Now})
	var names []string
	for _, r := range rep.Results {
		names = append(names, r.Scenario)
		checkSums(t, r)
		if r.Requests == 0 || r.Successes != r.Requests {
			t.Errorf("%s: requests %d, successes %d, status %v, errors %v", r.Scenario, r.Requests, r.Successes, r.Status, r.ErrorSamples)
		}
	}
	if got := strings.Join(names, ","); got != "me,refresh,login,credits" {
		t.Errorf("scenarios %s", got)
	}

	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"scenario", "p99", "refresh", "credits", "200:"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	if strings.Contains(table.String(), "ak_test") || strings.Contains(table.String(), "a fixed password") {
		t.Errorf("table shows a secret:\n%s", table.String())
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Scenarios []struct {
			Scenario  string           `json:"scenario"`
			Requests  int64            `json:"requests"`
			Status    map[string]int64 `json:"status"`
			LatencyMS map[string]float64
		} `json:"scenarios"`
	}
	if err := json.Unmarshal(js.Bytes(), &out); err != nil {
		t.Fatalf("json: %v\n%s", err, js.String())
	}
	if len(out.Scenarios) != 4 || out.Scenarios[0].Status["200"] != out.Scenarios[0].Requests {
		t.Errorf("json: %s", js.String())
	}
}

func TestCreditsNeedsAnAPIKey(t *testing.T) {
	_, srv := newFake(t)
	if _, err := Run(context.Background(), Config{URL: srv.URL, Scenario: ScenarioCredits}, nil); err == nil {
		t.Error("credits without an API key ran")
	}
	rep := mustRun(t, Config{URL: srv.URL, Connections: 1, Scenario: ScenarioAll, Duration: time.Millisecond})
	for _, r := range rep.Results {
		if r.Scenario == ScenarioCredits {
			t.Error("all ran credits without an API key")
		}
	}
	if len(rep.Notes) == 0 {
		t.Error("no note says credits was skipped")
	}
}

func TestUnreachableServerFails(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	rep, err := Run(context.Background(), Config{URL: url, Connections: 2, Duration: time.Millisecond}, nil)
	if err == nil || rep != nil {
		t.Fatalf("Run against a closed port: report %v, error %v", rep, err)
	}
	if !strings.Contains(err.Error(), "cannot reach") {
		t.Errorf("error %q", err)
	}
}

func TestConfigRejectsBadInput(t *testing.T) {
	for _, cfg := range []Config{
		{URL: "ftp://127.0.0.1"},
		{URL: "http://"},
		{URL: "http://127.0.0.1:8080/?x=1"},
		{URL: "http://u:p@127.0.0.1"},
		{Scenario: "nope"},
		{Connections: -1},
		{Rate: -1},
		{Duration: -time.Second},
	} {
		if _, err := Run(context.Background(), cfg, nil); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

func TestPercentile(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = ms(i + 1)
	}
	rand.Shuffle(len(hundred), func(i, j int) { hundred[i], hundred[j] = hundred[j], hundred[i] })
	if got, want := Summarize(hundred), (Latency{Count: 100, P50: ms(50), P90: ms(90), P99: ms(99), Max: ms(100)}); got != want {
		t.Errorf("1..100: %+v, want %+v", got, want)
	}

	ten := []time.Duration{ms(10), ms(1), ms(9), ms(2), ms(8), ms(3), ms(7), ms(4), ms(6), ms(5)}
	if got, want := Summarize(ten), (Latency{Count: 10, P50: ms(5), P90: ms(9), P99: ms(10), Max: ms(10)}); got != want {
		t.Errorf("1..10: %+v, want %+v", got, want)
	}

	// Nearest rank: the p-th percentile is the ceil(p*n/100)-th smallest value.
	sorted := []time.Duration{ms(1), ms(2), ms(3), ms(4), ms(5), ms(6), ms(7)}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{0, ms(1)}, {1, ms(1)}, {14, ms(1)}, {15, ms(2)}, {50, ms(4)}, {90, ms(7)}, {99, ms(7)}, {100, ms(7)}} {
		if got := Percentile(sorted, tc.p); got != tc.want {
			t.Errorf("p%v of 1..7ms = %v, want %v", tc.p, got, tc.want)
		}
	}

	skewed := []time.Duration{ms(1), ms(1), ms(1), ms(1), ms(1), ms(1), ms(1), ms(1), ms(1), ms(500)}
	if got := Summarize(skewed); got.P50 != ms(1) || got.P90 != ms(1) || got.P99 != ms(500) || got.Max != ms(500) {
		t.Errorf("skewed: %+v", got)
	}
	if got := Summarize(nil); got != (Latency{}) {
		t.Errorf("empty: %+v", got)
	}
	if got := Summarize([]time.Duration{ms(3)}); got != (Latency{Count: 1, P50: ms(3), P90: ms(3), P99: ms(3), Max: ms(3)}) {
		t.Errorf("one value: %+v", got)
	}
}

func TestScheduledCount(t *testing.T) {
	for _, tc := range []struct {
		rate float64
		d    time.Duration
		want int64
	}{{2000, 50 * time.Millisecond, 100}, {1000, 40 * time.Millisecond, 40}, {3, time.Second, 3}, {0.5, time.Second, 1}, {10, 150 * time.Millisecond, 2}} {
		if got := scheduledCount(tc.rate, tc.d); got != tc.want {
			t.Errorf("scheduledCount(%v, %v) = %d, want %d", tc.rate, tc.d, got, tc.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false}, {"0", 0, true}, {"2", 2 * time.Second, true}, {"-1", 0, false}, {"soon", 0, false},
		{"3600", maxRetryAfter, true},
		{now.Add(5 * time.Second).Format(http.TimeFormat), 5 * time.Second, true},
		{now.Add(-5 * time.Second).Format(http.TimeFormat), 0, true},
	} {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

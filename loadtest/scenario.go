package loadtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// API paths the scenarios use.
const (
	pathRegister = "/api/v1/auth/register"
	pathLogin    = "/api/v1/auth/login"
	pathRefresh  = "/api/v1/auth/refresh"
	pathMe       = "/api/v1/users/me"
	pathCredits  = "/api/v1/public/credits/balance"
)

// maxBody bounds what is read of any response.
const maxBody = 1 << 20

// user is one virtual user. Its tokens change only while one request holds it (see userPool).
type user struct {
	email     string
	password  string
	loginBody []byte
	access    string
	refresh   string
}

// userMode says how a scenario uses the virtual users.
type userMode int

const (
	noUser        userMode = iota // the request needs no user (credits)
	sharedUser                    // requests only read the user (me, login)
	exclusiveUser                 // a request changes the user: one request per user at a time (refresh)
)

// scenario is one kind of request.
type scenario struct {
	name  string
	users userMode
	// do sends one request as u; it returns the status, the problem's error_code for a non-2xx
	// answer, or an error when no usable answer came (transport failure, malformed 2xx body).
	do func(ctx context.Context, u *user) (status int, code string, err error)
}

func needsUsers(names []string) bool {
	for _, n := range names {
		if n != ScenarioCredits {
			return true
		}
	}
	return false
}

func scenarioByName(name string, r *runner) scenario {
	switch name {
	case ScenarioMe:
		return scenario{name, sharedUser, r.me}
	case ScenarioRefresh:
		return scenario{name, exclusiveUser, r.refresh}
	case ScenarioLogin:
		return scenario{name, sharedUser, r.login}
	case ScenarioCredits:
		return scenario{name, noUser, r.credits}
	}
	panic("loadtest: unknown scenario " + name)
}

// userPool hands out virtual users. Shared users are picked round robin by request index;
// exclusive ones are lent out one request at a time, so that each chains its own refresh tokens.
type userPool struct {
	mode  userMode
	users []*user
	idle  chan *user
}

func newUserPool(sc scenario, users []*user) *userPool {
	p := &userPool{mode: sc.users, users: users}
	if sc.users == exclusiveUser {
		p.idle = make(chan *user, len(users))
		for _, u := range users {
			p.idle <- u
		}
	}
	return p
}

func (p *userPool) take(ctx context.Context, i int) (*user, bool) {
	switch p.mode {
	case sharedUser:
		return p.users[i%len(p.users)], true
	case exclusiveUser:
		select {
		case u := <-p.idle:
			return u, true
		case <-ctx.Done():
			return nil, false
		}
	}
	return nil, true
}

func (p *userPool) put(u *user) {
	if p.mode == exclusiveUser {
		p.idle <- u
	}
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// errBadResponse marks a 2xx answer that the scenario cannot use.
var errBadResponse = errors.New("bad response")

func (r *runner) me(ctx context.Context, u *user) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+pathMe, nil)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+u.access)
	return r.send(req, nil)
}

// refresh spends u's refresh token and keeps the new one. On any failure u keeps its token: if
// the server did spend it, presenting it again within the reuse interval gets the same successor.
func (r *runner) refresh(ctx context.Context, u *user) (int, string, error) {
	body, _ := json.Marshal(map[string]string{"refresh_token": u.refresh})
	var tr tokenResponse
	status, code, err := r.post(ctx, pathRefresh, body, &tr)
	if err == nil && status/100 == 2 {
		if tr.RefreshToken == "" || tr.AccessToken == "" {
			return 0, "", fmt.Errorf("%w: refresh answer without tokens", errBadResponse)
		}
		u.refresh, u.access = tr.RefreshToken, tr.AccessToken
	}
	return status, code, err
}

func (r *runner) login(ctx context.Context, u *user) (int, string, error) {
	return r.post(ctx, pathLogin, u.loginBody, nil)
}

func (r *runner) credits(ctx context.Context, _ *user) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+pathCredits, nil)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("X-API-Key", r.cfg.APIKey)
	return r.send(req, nil)
}

func (r *runner) post(ctx context.Context, path string, body []byte, into any) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	return r.send(req, into)
}

// send does req and reads its whole answer, so the connection is reused. A 2xx body is decoded
// into into when it is not nil; a non-2xx one is read for its problem error_code.
func (r *runner) send(req *http.Request, into any) (int, string, error) {
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "gatehouse-bench")
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer drain(resp.Body)
	if resp.StatusCode/100 == 2 {
		if into != nil {
			if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(into); err != nil {
				return 0, "", fmt.Errorf("%w: %d answer: %v", errBadResponse, resp.StatusCode, err)
			}
		}
		return resp.StatusCode, "", nil
	}
	var p struct {
		ErrorCode string `json:"error_code"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 16<<10)).Decode(&p)
	return resp.StatusCode, p.ErrorCode, nil
}

func drain(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, maxBody))
	_ = body.Close()
}

// SetupResult describes the registration of the virtual users.
type SetupResult struct {
	Registered int           // users registered
	Failed     int           // users that could not be registered
	Retries    int           // registrations retried after 503 or 429
	Elapsed    time.Duration // time the whole setup took
	FirstError string        // why the first failed user failed
}

// setup registers cfg.Users fresh users, SetupConcurrency at a time. It fails when none could be
// registered; users that fail are left out and counted.
func (r *runner) setup(ctx context.Context) ([]*user, *SetupResult, error) {
	start := time.Now()
	tag := randomHex(4)
	n := r.cfg.Users
	users := make([]*user, n)
	errs := make([]error, n)
	retries := make([]int, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range r.cfg.SetupConcurrency {
		wg.Go(func() {
			for i := range next {
				pw := r.cfg.Password
				if pw == "" {
					pw = randomPassword()
				}
				u := &user{email: fmt.Sprintf("bench-%s-%d@example.com", tag, i), password: pw}
				u.loginBody, _ = json.Marshal(map[string]string{"email": u.email, "password": u.password})
				retries[i], errs[i] = r.register(ctx, u, fmt.Sprintf("Bench User %d", i))
				if errs[i] == nil {
					users[i] = u
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()

	res := &SetupResult{Elapsed: time.Since(start)}
	ok := users[:0]
	for i, u := range users {
		res.Retries += retries[i]
		if u != nil {
			ok = append(ok, u)
			continue
		}
		res.Failed++
		if res.FirstError == "" {
			if errs[i] != nil {
				res.FirstError = errs[i].Error()
			} else {
				res.FirstError = "interrupted"
			}
		}
	}
	res.Registered = len(ok)
	if ctx.Err() != nil {
		return nil, res, fmt.Errorf("setup interrupted: %w", context.Cause(ctx))
	}
	if len(ok) == 0 {
		return nil, res, fmt.Errorf("setup: no user could be registered: %s", res.FirstError)
	}
	return ok, res, nil
}

// register creates u, retrying with backoff while the server answers 503 or 429, and honoring
// its Retry-After.
func (r *runner) register(ctx context.Context, u *user, name string) (retries int, err error) {
	body, _ := json.Marshal(map[string]string{"email": u.email, "password": u.password, "name": name})
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, RequestTimeout)
		req, err := http.NewRequestWithContext(rctx, http.MethodPost, r.base+pathRegister, bytes.NewReader(body))
		if err != nil {
			cancel()
			return retries, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "gatehouse-bench")
		resp, err := r.client.Do(req)
		if err != nil {
			cancel()
			return retries, fmt.Errorf("register %s: %w", u.email, err)
		}
		status, retryAfter := resp.StatusCode, resp.Header.Get("Retry-After")
		var tr tokenResponse
		var code struct {
			ErrorCode string `json:"error_code"`
			Detail    string `json:"detail"`
		}
		if status == http.StatusCreated {
			err = json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(&tr)
		} else {
			_ = json.NewDecoder(io.LimitReader(resp.Body, 16<<10)).Decode(&code)
		}
		drain(resp.Body)
		cancel()
		switch {
		case status == http.StatusCreated && err == nil && tr.AccessToken != "" && tr.RefreshToken != "":
			u.access, u.refresh = tr.AccessToken, tr.RefreshToken
			return retries, nil
		case status == http.StatusCreated:
			return retries, fmt.Errorf("register %s: 201 without tokens (%v)", u.email, err)
		case status != http.StatusServiceUnavailable && status != http.StatusTooManyRequests:
			return retries, fmt.Errorf("register %s: %d %s %s", u.email, status, code.ErrorCode, code.Detail)
		case attempt >= setupAttempts:
			return retries, fmt.Errorf("register %s: still %d after %d attempts", u.email, status, attempt)
		}
		wait := backoff
		if d, ok := parseRetryAfter(retryAfter, time.Now()); ok {
			wait = d
		}
		backoff = min(2*backoff, 5*time.Second)
		wait += jitter(wait / 4)
		if !sleep(ctx, wait) {
			return retries, context.Cause(ctx)
		}
		retries++
	}
}

// parseRetryAfter reads a Retry-After header, seconds or an HTTP date, capped at maxRetryAfter.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0, false
		}
		d = time.Duration(min(secs, int(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = max(t.Sub(now), 0)
	} else {
		return 0, false
	}
	return min(d, maxRetryAfter), true
}

// sleep waits d, or until ctx is done; it reports whether the whole d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(mrand.Int64N(int64(d)))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// randomPassword is 24 random URL-safe characters behind a fixed mixed prefix: 144 bits.
func randomPassword() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return "Gh-" + base64.RawURLEncoding.EncodeToString(b)
}

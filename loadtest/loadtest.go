// Package loadtest drives load against a running Gatehouse server. It registers fresh virtual
// users (setup, not measured), then runs scenarios (me, refresh, login, credits) either closed
// loop (each connection issues requests back to back) or open loop (requests start on a fixed
// schedule) and reports throughput, status codes and latency percentiles.
//
// It only ever talks to the base URL it is given (and to Config.BareURL, the baseline); it follows
// no redirects and uses no proxy.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"time"
)

// Scenario names. ScenarioAll runs every scenario in the order of Scenarios.
const (
	ScenarioMe      = "me"
	ScenarioRefresh = "refresh"
	ScenarioLogin   = "login"
	ScenarioCredits = "credits"
	ScenarioAll     = "all"
)

// Scenarios lists the runnable scenarios in the order "all" runs them.
var Scenarios = []string{ScenarioMe, ScenarioRefresh, ScenarioLogin, ScenarioCredits}

// Defaults and limits.
const (
	DefaultURL         = "http://127.0.0.1:8080"
	DefaultConnections = 32
	DefaultDuration    = 10 * time.Second
	// RequestTimeout bounds every request, and how long a run may overrun its duration.
	RequestTimeout = 10 * time.Second

	maxConnections = 10000
	maxUsers       = 100000
	maxDuration    = 24 * time.Hour
	// maxScheduled bounds the requests an open-loop run schedules per scenario.
	maxScheduled = 100_000_000
	// setupAttempts bounds the tries to register one user when the server sheds load.
	setupAttempts = 12
	// maxRetryAfter caps how long one Retry-After makes setup wait.
	maxRetryAfter = 30 * time.Second
)

// Config describes one load run. Zero values mean the defaults.
type Config struct {
	URL         string        // base URL of the server; DefaultURL if empty
	Connections int           // closed loop: concurrent connections (workers); DefaultConnections if 0
	Duration    time.Duration // how long each scenario runs; DefaultDuration if 0
	Scenario    string        // a name from Scenarios, or ScenarioAll (the default)
	Rate        float64       // open loop: requests/s offered per scenario; 0 = closed loop
	Users       int           // virtual users to register; Connections if 0
	APIKey      string        // X-API-Key for the credits scenario
	Password    string        // password of every registered user; a random one per user if empty
	MaxInFlight int           // open loop: most requests (and connections) in flight; 4*Connections if 0
	// SetupConcurrency bounds the parallel registrations of setup; min(Users, 8) if 0.
	SetupConcurrency int

	// BareURL is the base URL of a bare net/http handler (see StartBare). When set, the run loads
	// it first, the same way as the scenarios, and reports each scenario as a share of it.
	BareURL string
	BarePID int // the bare server's process, whose CPU time is read like the server's
	// HashTime, when set, times one uncontended password hash as the server computes it; the
	// run calls it just before the login scenario and reports logins as a share of the hash
	// limit, HashCores / HashTime.
	HashTime  func() time.Duration
	HashCores int // cores the server hashes on; runtime.NumCPU() if 0
	// HashRate, when set, measures the hashes per second of HashCores hashes computed at once,
	// as the server's pool computes them when every worker is busy: on a memory-hard hash this is
	// below the hash limit (the hashes share the memory bandwidth and caches), and it is what a
	// login flood can reach at best. Called right after HashTime.
	HashRate func() float64
	// ServerPID, when set, is the server's process: its resident memory is read after each
	// scenario and, after the last, again once it has been idle for Settle.
	ServerPID int
	Settle    time.Duration

	// Test hooks.
	now           func() time.Time // clock of the closed-loop deadline; time.Now if nil
	afterSchedule func()           // called once an open-loop scheduler has scheduled everything
}

func (c Config) normalize() (Config, string, error) {
	if c.URL == "" {
		c.URL = DefaultURL
	}
	base, err := baseURL(c.URL)
	if err != nil {
		return c, "", err
	}
	if c.Connections == 0 {
		c.Connections = DefaultConnections
	}
	if c.Connections < 1 || c.Connections > maxConnections {
		return c, "", fmt.Errorf("connections must be between 1 and %d", maxConnections)
	}
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	if c.Duration < 0 || c.Duration > maxDuration {
		return c, "", fmt.Errorf("duration must be positive and at most %s", maxDuration)
	}
	if c.Rate < 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) {
		return c, "", errors.New("rate must be a non-negative number of requests per second")
	}
	if c.Rate > 0 && c.Rate*c.Duration.Seconds() > maxScheduled {
		return c, "", fmt.Errorf("rate x duration must be at most %d requests", maxScheduled)
	}
	if c.Users == 0 {
		c.Users = c.Connections
	}
	if c.Users < 1 || c.Users > maxUsers {
		return c, "", fmt.Errorf("users must be between 1 and %d", maxUsers)
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = 4 * c.Connections
	}
	if c.MaxInFlight < 1 {
		return c, "", errors.New("max in flight must be positive")
	}
	if c.SetupConcurrency == 0 {
		c.SetupConcurrency = min(c.Users, 8)
	}
	if c.SetupConcurrency < 1 {
		return c, "", errors.New("setup concurrency must be positive")
	}
	if c.Scenario == "" {
		c.Scenario = ScenarioAll
	}
	if strings.ContainsAny(c.APIKey, "\r\n") {
		return c, "", errors.New("api key must be one line")
	}
	if c.BareURL != "" {
		if c.BareURL, err = baseURL(c.BareURL); err != nil {
			return c, "", err
		}
	}
	if c.HashCores == 0 {
		c.HashCores = runtime.NumCPU()
	}
	if c.ServerPID < 0 || c.Settle < 0 || c.HashCores < 0 {
		return c, "", errors.New("server pid, settle and hash cores must not be negative")
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, base, nil
}

// baseURL checks the user-given URL and returns it without a trailing slash.
func baseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("url %q: want http:// or https://", raw)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("url %q: want scheme://host[:port][/path] only", raw)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// resolveScenarios expands name into the scenarios to run, and notes those "all" skips.
func resolveScenarios(name, apiKey string) (run, notes []string, err error) {
	if name == ScenarioAll {
		for _, s := range Scenarios {
			if s == ScenarioCredits && apiKey == "" {
				notes = append(notes, "scenario credits skipped: no --api-key given")
				continue
			}
			run = append(run, s)
		}
		return run, notes, nil
	}
	for _, s := range Scenarios {
		if s == name {
			if s == ScenarioCredits && apiKey == "" {
				return nil, nil, errors.New("scenario credits needs --api-key")
			}
			return []string{s}, nil, nil
		}
	}
	return nil, nil, fmt.Errorf("unknown scenario %q (want %s or %s)", name, strings.Join(Scenarios, ", "), ScenarioAll)
}

// NewClient returns the one client of a run: at most connections connections to the server,
// kept alive, no proxy, no redirects, RequestTimeout per request.
func NewClient(connections int) *http.Client {
	tr := &http.Transport{
		Proxy: nil, // only ever the given URL, whatever HTTP_PROXY says
		DialContext: (&net.Dialer{
			Timeout:   5 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		MaxIdleConns:          connections,
		MaxIdleConnsPerHost:   connections,
		MaxConnsPerHost:       connections,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: RequestTimeout,
		DisableCompression:    true,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   RequestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// runner holds what every request of a run needs.
type runner struct {
	cfg    Config
	base   string
	client *http.Client
}

// Run registers the virtual users, runs the scenarios one after the other and returns their
// report. It returns an error, with a nil report, when the server cannot be reached at all; when
// it is interrupted through ctx, it returns the partial report and the error.
func Run(ctx context.Context, cfg Config, progress io.Writer) (*Report, error) {
	cfg, base, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	scenarios, notes, err := resolveScenarios(cfg.Scenario, cfg.APIKey)
	if err != nil {
		return nil, err
	}
	if progress == nil {
		progress = io.Discard
	}
	// In open loop every request in flight gets a connection: with fewer, requests would queue in
	// this client while the server queues others, and the latency of the client's own queue would
	// be reported as the server's.
	conns := cfg.Connections
	if cfg.Rate > 0 {
		conns = max(conns, cfg.MaxInFlight)
	}
	client := NewClient(conns)
	defer client.CloseIdleConnections()
	r := &runner{cfg: cfg, base: base, client: client}

	if err := r.preflight(ctx); err != nil {
		return nil, err
	}
	rep := &Report{
		URL:         base,
		Mode:        modeOf(cfg),
		Connections: cfg.Connections,
		Rate:        cfg.Rate,
		MaxInFlight: cfg.MaxInFlight,
		Duration:    cfg.Duration,
		Notes:       notes,
	}
	if cfg.Rate == 0 {
		rep.MaxInFlight = 0
	}

	var users []*user
	if needsUsers(scenarios) {
		fmt.Fprintf(progress, "setup: registering %d users (%d at a time)...\n", cfg.Users, cfg.SetupConcurrency)
		var setup *SetupResult
		users, setup, err = r.setup(ctx)
		rep.Setup = setup
		if err != nil {
			return nil, err
		}
		rep.Users = len(users)
		if setup.Failed > 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("setup: %d of %d users could not be registered: %s", setup.Failed, cfg.Users, setup.FirstError))
		}
	}

	if cfg.BareURL != "" {
		fmt.Fprintf(progress, "%s: %s for %s (baseline: a bare net/http handler at %s)...\n", ScenarioBare, rep.Mode, cfg.Duration, cfg.BareURL)
		cpu0 := readCPU(cfg.BarePID)
		rep.Bare = r.runScenario(ctx, scenario{ScenarioBare, noUser, r.bare}, nil)
		if cfg.BarePID > 0 {
			rep.Bare.ServerCPU = readCPU(cfg.BarePID) - cpu0
		}
		if ctx.Err() != nil {
			return rep, fmt.Errorf("interrupted: %w", context.Cause(ctx))
		}
	}
	for _, name := range scenarios {
		if name == ScenarioLogin && cfg.HashTime != nil {
			fmt.Fprintf(progress, "%s: timing one uncontended password hash...\n", name)
			rep.HashTime, rep.HashCores = cfg.HashTime(), cfg.HashCores
			if cfg.HashRate != nil {
				fmt.Fprintf(progress, "%s: timing %d password hashes at once...\n", name, cfg.HashCores)
				rep.HashRate = cfg.HashRate()
			}
		}
		fmt.Fprintf(progress, "%s: %s for %s...\n", name, rep.Mode, cfg.Duration)
		cpu0 := readCPU(cfg.ServerPID)
		res := r.runScenario(ctx, scenarioByName(name, r), users)
		if cfg.ServerPID > 0 {
			res.RSS, _, _ = readRSS(cfg.ServerPID)
			res.ServerCPU = readCPU(cfg.ServerPID) - cpu0
		}
		rep.Results = append(rep.Results, res)
		if ctx.Err() != nil {
			return rep, fmt.Errorf("interrupted: %w", context.Cause(ctx))
		}
	}
	if cfg.ServerPID > 0 && cfg.Settle > 0 {
		fmt.Fprintf(progress, "waiting %s for the server to settle...\n", cfg.Settle)
		if !sleep(ctx, cfg.Settle) {
			return rep, fmt.Errorf("interrupted: %w", context.Cause(ctx))
		}
		rep.Settle = cfg.Settle
		rep.RSSSettled, _, _ = readRSS(cfg.ServerPID)
	}
	for _, res := range rep.Results {
		if res.Requests > 0 && res.Requests == res.Errors {
			return rep, fmt.Errorf("scenario %s: no request got a response from %s", res.Scenario, base)
		}
	}
	return rep, nil
}

func modeOf(cfg Config) string {
	if cfg.Rate > 0 {
		return "open loop"
	}
	return "closed loop"
}

// preflight fails when the server cannot be reached at all. Any HTTP answer will do.
func (r *runner) preflight(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the server at %s: %w", r.base, err)
	}
	drain(resp.Body)
	return nil
}

func (r *runner) runScenario(ctx context.Context, sc scenario, users []*user) *Result {
	if r.cfg.Rate > 0 {
		return r.openLoop(ctx, sc, users)
	}
	return r.closedLoop(ctx, sc, users)
}

// closedLoop runs Connections workers that issue requests back to back until the duration has
// passed (by cfg.now): no request starts after the deadline, and those in flight finish or time
// out within RequestTimeout.
func (r *runner) closedLoop(ctx context.Context, sc scenario, users []*user) *Result {
	c := r.cfg.Connections
	workers := make([]stats, c)
	// Each worker owns its latency slice; together they preallocate about a million entries.
	perWorker := min(1<<14, max(256, (1<<20)/c))
	for i := range workers {
		workers[i].lat = make([]time.Duration, 0, perWorker)
	}
	pool := newUserPool(sc, users)
	realStart := time.Now()
	deadline := r.cfg.now().Add(r.cfg.Duration)
	runCtx, cancel := context.WithDeadline(ctx, realStart.Add(r.cfg.Duration+RequestTimeout))
	defer cancel()

	done := make(chan struct{})
	for w := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			st := &workers[w]
			for i := w; r.cfg.now().Before(deadline) && runCtx.Err() == nil; i += c {
				u, ok := pool.take(runCtx, i)
				if !ok {
					return
				}
				t0 := time.Now()
				status, code, err := sc.do(runCtx, u)
				lat := time.Since(t0)
				pool.put(u)
				if err != nil && ctx.Err() != nil {
					return // interrupted: not a measurement
				}
				st.record(status, code, err, lat)
			}
		}()
	}
	for range workers {
		<-done
	}
	res := merge(sc.name, workers, time.Since(realStart))
	return res
}

// openLoop starts requests on a fixed schedule, request i at start + i/rate, for rate*duration
// requests. Latency counts from the scheduled start, so a slow server cannot hide its queue
// (coordinated omission). At most MaxInFlight requests run at once; a request whose start comes
// while all are busy is dropped. The scheduler stops after the duration; requests still in flight
// finish or time out within RequestTimeout.
func (r *runner) openLoop(ctx context.Context, sc scenario, users []*user) *Result {
	total := scheduledCount(r.cfg.Rate, r.cfg.Duration)
	slots := r.cfg.MaxInFlight
	// Each slot owns the stats of the requests it runs; the slot channel hands slots round robin.
	st := make([]stats, slots)
	perSlot := min(1<<14, int(total/int64(slots))+16)
	free := make(chan int, slots)
	for i := range st {
		st[i].lat = make([]time.Duration, 0, perSlot)
		free <- i
	}
	pool := newUserPool(sc, users)
	realStart := time.Now()
	runCtx, cancel := context.WithDeadline(ctx, realStart.Add(r.cfg.Duration+RequestTimeout))
	defer cancel()

	var dropped, scheduled int64
	inflight := make(chan struct{}, slots) // one token per request goroutine, to wait for them
	timer := time.NewTimer(time.Hour)
	timer.Stop()
schedule:
	for i := int64(0); i < total; i++ {
		at := realStart.Add(time.Duration(float64(i) * float64(time.Second) / r.cfg.Rate))
		if d := time.Until(at); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				timer.Stop()
				break schedule
			}
		}
		scheduled++
		select {
		case s := <-free:
			inflight <- struct{}{}
			go func() {
				defer func() { <-inflight; free <- s }()
				u, ok := pool.take(runCtx, int(i))
				if !ok {
					// The run's deadline passed while waiting for a user: the request never started.
					if ctx.Err() == nil {
						st[s].record(0, "", errNoUser, time.Since(at))
					}
					return
				}
				status, code, err := sc.do(runCtx, u)
				lat := time.Since(at)
				pool.put(u)
				if err != nil && ctx.Err() != nil {
					return
				}
				st[s].record(status, code, err, lat)
			}()
		default:
			dropped++
		}
	}
	if r.cfg.afterSchedule != nil {
		r.cfg.afterSchedule()
	}
	for range slots {
		inflight <- struct{}{}
	}
	res := merge(sc.name, st, time.Since(realStart))
	res.Scheduled = scheduled
	res.Dropped = dropped
	return res
}

// scheduledCount is how many requests an open loop schedules: those whose start, i/rate, falls
// within the duration.
func scheduledCount(rate float64, d time.Duration) int64 {
	n := int64(math.Ceil(rate*d.Seconds() - 1e-9))
	return max(n, 1)
}

var errNoUser = errors.New("no idle virtual user before the run's deadline")

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gatehouse/gatehouse/loadtest"
	"github.com/gatehouse/gatehouse/password"
)

const benchUsage = `usage: gatehouse bench [--url URL] [--scenario me|refresh|login|credits|all] [--connections N]
                       [--duration D] [--rate N] [--users N] [--api-key ak_...] [--password P]
                       [--baseline=false] [--pid PID [--settle D]] [--json]

Registers fresh users (not measured), then loads each scenario for --duration and prints requests,
2xx answers, status codes, errors, 2xx per second and p50/p90/p99/max latency of the 2xx answers.
First it loads a bare Go net/http handler the same way (the baseline: its own process, started by
this command on a free port of 127.0.0.1) and gives every scenario as a share of it; before the
login scenario it times one uncontended password hash on this machine and gives logins as a share
of the hash limit (this machine's cores / hash time), then times as many hashes at once as there
are cores and gives logins as a share of that parallel hash rate too. With --pid (the server's process, on this
machine), it reads the server's CPU time per 2xx answer and its resident memory after each
scenario, and the memory again after --settle of idleness.
Without --rate each connection sends requests back to back (closed loop); with --rate, requests
start on a fixed schedule (open loop), each on its own connection, at most --max-in-flight at once,
and latency counts from each scheduled start. A login flood: --scenario login --connections 64.
Only --url, and the baseline this command starts on 127.0.0.1, are ever contacted.

       gatehouse bench bare [--addr HOST:PORT]

Serves the baseline alone: every request answered 200 with a short JSON body, nothing else.

       gatehouse bench startup [--runs N] [--idle D] [--binary PATH] [--json]

Starts the server (gatehouse serve, with this environment and GATEHOUSE_ADDR set to a free port)
--runs times and reports how long each took to answer /healthz with 200, and its resident memory
then and after --idle (VmRSS from /proc, Linux only).

flags:`

// bench load-tests a running server; the logic lives in package loadtest.
func bench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "startup" {
		return benchStartup(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == benchBareCommand {
		return benchBare(ctx, args[1:], stderr)
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, benchUsage)
		fs.PrintDefaults()
	}
	var cfg loadtest.Config
	fs.StringVar(&cfg.URL, "url", loadtest.DefaultURL, "base URL of the server to load")
	fs.IntVar(&cfg.Connections, "connections", loadtest.DefaultConnections, "concurrent connections (closed-loop workers)")
	fs.DurationVar(&cfg.Duration, "duration", loadtest.DefaultDuration, "how long each scenario runs")
	fs.StringVar(&cfg.Scenario, "scenario", loadtest.ScenarioAll, "one of "+strings.Join(loadtest.Scenarios, ", ")+", or all (credits only with --api-key)")
	fs.Float64Var(&cfg.Rate, "rate", 0, "requests/s offered per scenario (open loop); 0 = closed loop, as fast as possible")
	fs.IntVar(&cfg.Users, "users", 0, "virtual users to register (0 = --connections)")
	fs.StringVar(&cfg.APIKey, "api-key", "", "API key (ak_...) sent as X-API-Key by the credits scenario")
	fs.StringVar(&cfg.Password, "password", "", "password of the registered users (default: a random strong one per user)")
	fs.IntVar(&cfg.MaxInFlight, "max-in-flight", 0, "open loop: most requests (and connections) in flight, beyond which scheduled requests are dropped (0 = 4 x --connections)")
	baseline := fs.Bool("baseline", true, "measure a bare net/http handler first and give each scenario as a share of it")
	fs.IntVar(&cfg.ServerPID, "pid", 0, "the server's process id: read its CPU time and resident memory after each scenario (Linux)")
	fs.DurationVar(&cfg.Settle, "settle", 0, "with --pid: read its resident memory again after this long idle")
	asJSON := fs.Bool("json", false, "print the report as one JSON object instead of a table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench: unexpected argument %q", fs.Arg(0))
	}
	if cfg.Connections <= 0 || cfg.Duration <= 0 || cfg.Users < 0 || cfg.MaxInFlight < 0 || cfg.ServerPID < 0 || cfg.Settle < 0 {
		return fmt.Errorf("bench: --connections and --duration must be positive, --users, --max-in-flight, --pid and --settle not negative")
	}
	cfg.HashTime, cfg.HashRate = timeOneHash, parallelHashRate
	if *baseline {
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("bench: baseline: %w", err)
		}
		bare, err := loadtest.StartBare(ctx, self, []string{"bench", benchBareCommand})
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer bare.Stop()
		cfg.BareURL, cfg.BarePID = bare.URL, bare.PID
	}

	rep, err := loadtest.Run(ctx, cfg, stderr)
	if rep != nil {
		err = writeReport(rep, *asJSON, stdout, err)
	}
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}

// benchBareCommand serves the baseline: gatehouse bench bare --addr HOST:PORT.
const benchBareCommand = "bare"

// benchBare serves loadtest.BareHandler on --addr until stopped; bench starts it as the baseline.
func benchBare(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench bare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("bench bare: %w", err)
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	return loadtest.ServeBare(ctx, ln)
}

// timeOneHash is the fastest of three password hashes as the server computes them, one at a
// time: the uncontended hash time of the login scenario's hash limit. A first hash, and a
// collection before each timed one, let every timed hash reuse memory the process already has,
// as a busy server's hashes do: a hash into fresh memory also pays for faulting in its 19 MiB,
// which on a virtual machine can double its time.
func timeOneHash() time.Duration {
	h := password.NewHasher(password.DefaultParams, 1, time.Minute)
	if _, err := h.Hash(context.Background(), "gatehouse bench"); err != nil {
		return 0
	}
	best := time.Duration(1<<63 - 1)
	for range 3 {
		runtime.GC()
		start := time.Now()
		if _, err := h.Hash(context.Background(), "gatehouse bench"); err != nil {
			return 0
		}
		best = min(best, time.Since(start))
	}
	return best
}

// parallelHashRate is the hashes per second of runtime.NumCPU() hashes computed at once, 16
// each, as the server's pool computes them when every worker is busy: the better of two rounds,
// after an untimed one that warms the memory, as for timeOneHash.
func parallelHashRate() float64 {
	workers := runtime.NumCPU()
	h := password.NewHasher(password.DefaultParams, workers, time.Minute)
	round := func(each int) bool {
		var wg sync.WaitGroup
		var failed atomic.Bool
		for range workers {
			wg.Go(func() {
				for range each {
					if _, err := h.Hash(context.Background(), "gatehouse bench"); err != nil {
						failed.Store(true)
					}
				}
			})
		}
		wg.Wait()
		return !failed.Load()
	}
	const each = 16
	if !round(2) {
		return 0
	}
	best := 0.0
	for range 2 {
		runtime.GC()
		start := time.Now()
		if !round(each) {
			return 0
		}
		best = max(best, float64(workers*each)/time.Since(start).Seconds())
	}
	return best
}

// benchReport is what a bench command prints, as a table or as JSON.
type benchReport interface {
	WriteJSON(io.Writer) error
	WriteTable(io.Writer) error
}

// writeReport prints rep and returns the run's error err, or else the printing's.
func writeReport(rep benchReport, asJSON bool, stdout io.Writer, err error) error {
	var werr error
	if asJSON {
		werr = rep.WriteJSON(stdout)
	} else {
		werr = rep.WriteTable(stdout)
	}
	if err == nil {
		err = werr
	}
	return err
}

// benchStartup measures start-up time and idle memory of the server; see loadtest.MeasureStartup.
func benchStartup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench startup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, benchUsage)
		fs.PrintDefaults()
	}
	var cfg loadtest.StartupConfig
	fs.StringVar(&cfg.Binary, "binary", "", "the gatehouse binary to start (default: this one)")
	fs.IntVar(&cfg.Runs, "runs", 5, "starts to measure, one after the other")
	fs.DurationVar(&cfg.Idle, "idle", 3*time.Second, "how long to leave the server idle before reading its memory again")
	asJSON := fs.Bool("json", false, "print the report as one JSON object instead of a table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench startup: unexpected argument %q", fs.Arg(0))
	}
	if cfg.Runs <= 0 || cfg.Idle <= 0 {
		return fmt.Errorf("bench startup: --runs and --idle must be positive")
	}
	if cfg.Binary == "" {
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("bench startup: %w", err)
		}
		cfg.Binary = self
	}
	cfg.Env = os.Environ()
	rep, err := loadtest.MeasureStartup(ctx, cfg, stderr)
	if rep != nil && len(rep.Runs) > 0 {
		err = writeReport(rep, *asJSON, stdout, err)
	}
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}

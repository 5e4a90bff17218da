package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// StartupConfig describes a measurement of the server's start: how long from starting the
// process until /healthz answers 200, and how much memory it holds then and once idle.
type StartupConfig struct {
	Binary string        // the gatehouse binary to start
	Args   []string      // its arguments; "serve" if empty
	Env    []string      // its environment (KEY=value); GATEHOUSE_ADDR is replaced by a free port
	Runs   int           // starts to measure; 5 if 0
	Idle   time.Duration // how long the server is left idle after it is healthy before its memory is read; 3s if 0

	// Timeout bounds each start, until healthy; 30s if 0.
	Timeout time.Duration
}

// StartupRun is one measured start. Memory figures are from /proc/PID/status (Linux only; 0
// elsewhere): VmRSS is all resident memory, RssAnon the process's own (heap, stacks), RssFile the
// mapped files (mostly the binary's code).
type StartupRun struct {
	Healthy     time.Duration // from starting the process to the first 200 from /healthz
	RSSHealthy  int64         // VmRSS in bytes when it first answered
	RSSIdle     int64         // VmRSS in bytes after Idle
	RSSAnonIdle int64         // RssAnon in bytes after Idle
	RSSFileIdle int64         // RssFile in bytes after Idle
}

// StartupReport is the outcome of MeasureStartup.
type StartupReport struct {
	Binary string
	Idle   time.Duration
	Runs   []StartupRun
}

// MeasureStartup starts cfg.Binary cfg.Runs times, one after the other, each on a free port of
// 127.0.0.1. It polls /healthz until the first 200 (a connection made while the server is still
// starting waits in the listen backlog, so the moment is exact to within the poll interval of
// about 1 ms only before the port is open), reads the process's resident memory, waits cfg.Idle,
// reads it again and stops the process with SIGTERM.
func MeasureStartup(ctx context.Context, cfg StartupConfig, progress io.Writer) (*StartupReport, error) {
	if cfg.Binary == "" {
		return nil, errors.New("startup: no binary to start")
	}
	if len(cfg.Args) == 0 {
		cfg.Args = []string{"serve"}
	}
	if cfg.Runs == 0 {
		cfg.Runs = 5
	}
	if cfg.Idle == 0 {
		cfg.Idle = 3 * time.Second
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Runs < 0 || cfg.Idle < 0 || cfg.Timeout < 0 {
		return nil, errors.New("startup: runs, idle and timeout must not be negative")
	}
	if progress == nil {
		progress = io.Discard
	}
	rep := &StartupReport{Binary: cfg.Binary, Idle: cfg.Idle}
	for i := range cfg.Runs {
		run, err := startOnce(ctx, cfg)
		if err != nil {
			return rep, fmt.Errorf("startup run %d: %w", i+1, err)
		}
		fmt.Fprintf(progress, "run %d: healthy after %s, %s resident when idle\n", i+1, ms(run.Healthy), mib(run.RSSIdle))
		rep.Runs = append(rep.Runs, run)
	}
	return rep, nil
}

func startOnce(ctx context.Context, cfg StartupConfig) (StartupRun, error) {
	var run StartupRun
	addr, err := freePort()
	if err != nil {
		return run, err
	}
	env := slices.DeleteFunc(slices.Clone(cfg.Env), func(kv string) bool { return strings.HasPrefix(kv, "GATEHOUSE_ADDR=") })
	env = append(env, "GATEHOUSE_ADDR="+addr)
	cmd := exec.Command(cfg.Binary, cfg.Args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stdout = io.Discard
	cmd.Stderr = &limitedBuffer{buf: &stderr, max: 64 << 10}

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return run, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer stopProcess(cmd, exited)

	if err := awaitHealthy(ctx, "http://"+addr+"/healthz", start.Add(cfg.Timeout), cfg.Timeout, exited, &stderr); err != nil {
		return run, fmt.Errorf("the server %w", err)
	}
	run.Healthy = time.Since(start)
	pid := cmd.Process.Pid
	run.RSSHealthy, _, _ = readRSS(pid)
	select {
	case <-time.After(cfg.Idle):
	case <-ctx.Done():
		return run, context.Cause(ctx)
	case err := <-exited:
		exited <- err
		return run, fmt.Errorf("the server exited while idle (%v): %s", err, strings.TrimSpace(stderr.String()))
	}
	run.RSSIdle, run.RSSAnonIdle, run.RSSFileIdle = readRSS(pid)
	return run, nil
}

// awaitHealthy asks url until it answers 200, giving up at deadline, when ctx ends, or when the
// process it waits for exits (exited, which it leaves as it found it); each request may take
// timeout. Its errors read after "the server ".
func awaitHealthy(ctx context.Context, url string, deadline time.Time, timeout time.Duration, exited chan error, stderr *bytes.Buffer) error {
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	defer client.CloseIdleConnections()
	for {
		resp, err := client.Get(url)
		if err == nil {
			drain(resp.Body)
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("exited before it was healthy (%v): %s", err, strings.TrimSpace(stderr.String()))
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("was not healthy by the deadline: %s", strings.TrimSpace(stderr.String()))
		}
	}
}

// stopProcess asks the server to stop and kills it if it has not within 10 s.
func stopProcess(cmd *exec.Cmd, exited chan error) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// freePort returns a 127.0.0.1 address that was free a moment ago.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// readRSS returns VmRSS, RssAnon and RssFile of pid in bytes, or zeros where /proc is missing.
func readRSS(pid int) (rss, anon, file int64) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(value)
		if len(fields) != 2 || fields[1] != "kB" {
			continue
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			continue
		}
		switch name {
		case "VmRSS":
			rss = kb << 10
		case "RssAnon":
			anon = kb << 10
		case "RssFile":
			file = kb << 10
		}
	}
	return rss, anon, file
}

// readCPU returns the user + system CPU time pid has used (fields 14 and 15 of /proc/PID/stat,
// in clock ticks of 10 ms), or 0 where /proc is missing or pid is 0.
func readCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name, field 2, is in parentheses and may hold spaces: count from after it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	return time.Duration(utime+stime) * tick
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// WriteTable prints every run, then the range and median of each figure.
func (rep *StartupReport) WriteTable(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "gatehouse bench startup: %s, %d runs, memory read when healthy and after %s idle\n\n", rep.Binary, len(rep.Runs), rep.Idle)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tto healthy\tRSS healthy\tRSS idle\tanon idle\tfile idle\t")
	for i, r := range rep.Runs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t\n", i+1, ms(r.Healthy), mib(r.RSSHealthy), mib(r.RSSIdle), mib(r.RSSAnonIdle), mib(r.RSSFileIdle))
	}
	if len(rep.Runs) > 0 {
		healthy := make([]time.Duration, len(rep.Runs))
		idle := make([]int64, len(rep.Runs))
		for i, r := range rep.Runs {
			healthy[i], idle[i] = r.Healthy, r.RSSIdle
		}
		slices.Sort(healthy)
		slices.Sort(idle)
		fmt.Fprintf(tw, "median\t%s\t\t%s\t\t\t\n", ms(healthy[len(healthy)/2]), mib(idle[len(idle)/2]))
		fmt.Fprintf(tw, "range\t%s–%s\t\t%s–%s\t\t\t\n", ms(healthy[0]), ms(healthy[len(healthy)-1]), mib(idle[0]), mib(idle[len(idle)-1]))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON prints the report as one JSON object, durations in milliseconds and memory in bytes.
func (rep *StartupReport) WriteJSON(w io.Writer) error {
	type run struct {
		HealthyMS   float64 `json:"healthy_ms"`
		RSSHealthy  int64   `json:"rss_healthy_bytes"`
		RSSIdle     int64   `json:"rss_idle_bytes"`
		RSSAnonIdle int64   `json:"rss_anon_idle_bytes"`
		RSSFileIdle int64   `json:"rss_file_idle_bytes"`
	}
	out := struct {
		Binary string  `json:"binary"`
		IdleMS float64 `json:"idle_ms"`
		Runs   []run   `json:"runs"`
	}{Binary: rep.Binary, IdleMS: msFloat(rep.Idle), Runs: []run{}}
	for _, r := range rep.Runs {
		out.Runs = append(out.Runs, run{msFloat(r.Healthy), r.RSSHealthy, r.RSSIdle, r.RSSAnonIdle, r.RSSFileIdle})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func msFloat(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

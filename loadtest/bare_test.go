package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// startBareInProcess serves BareHandler on loopback for the test's lifetime.
func startBareInProcess(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeBare(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeBare: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// TestBaselineAndShares runs the baseline before the scenarios and reports each as a share of
// it, logins as a share of the hash limit, and the server's memory and CPU when given its process.
func TestBaselineAndShares(t *testing.T) {
	f, srv := newFake(t)
	bare := startBareInProcess(t)
	hashTimed := 0
	rep := mustRun(t, Config{URL: srv.URL, BareURL: bare, Connections: 2, Scenario: ScenarioAll, Duration: 50 * time.Millisecond,
		Password: "a fixed password",
		HashTime: func() time.Duration {
			hashTimed++
			if f.logins.Load() != 0 {
				t.Error("the hash was timed after the login scenario had started")
			}
			return 25 * time.Millisecond
		},
		HashRate:  func() float64 { return 64 },
		HashCores: 2, ServerPID: os.Getpid(), Settle: time.Millisecond})
	if rep.Bare == nil || rep.Bare.Successes == 0 || rep.Bare.Successes != rep.Bare.Requests {
		t.Fatalf("baseline: %+v", rep.Bare)
	}
	if hashTimed != 1 || rep.HashLimit() != 80 {
		t.Errorf("hash timed %d times, limit %v, want once and 80/s", hashTimed, rep.HashLimit())
	}
	for _, r := range rep.Results {
		want := r.SuccessRate() / rep.Bare.SuccessRate()
		if r.Successes == 0 || r.ShareOf(rep.Bare) != want {
			t.Errorf("%s: share %v, want %v", r.Scenario, r.ShareOf(rep.Bare), want)
		}
		if runtime.GOOS == "linux" && r.RSS <= 0 {
			t.Errorf("%s: no resident memory read", r.Scenario)
		}
	}
	if runtime.GOOS == "linux" && rep.RSSSettled <= 0 {
		t.Error("no resident memory read after settling")
	}

	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"% bare", "bare ", "100.0%", "of the hash limit, 2 cores / 25.00ms a hash = 80.0/s",
		"of the parallel hash rate, 2 hashes at once = 64.0/s (80.0% of the hash limit)", "after 1ms idle"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Bare      *struct{ Successes int64 } `json:"bare"`
		HashLimit float64                    `json:"hash_limit_per_second"`
		HashRate  float64                    `json:"parallel_hash_rate_per_second"`
		Scenarios []struct {
			Scenario        string  `json:"scenario"`
			ShareOfBare     float64 `json:"share_of_bare"`
			ShareOfHash     float64 `json:"share_of_hash_limit"`
			ShareOfHashRate float64 `json:"share_of_parallel_hash_rate"`
		} `json:"scenarios"`
	}
	if err := json.Unmarshal(js.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if out.Bare == nil || out.Bare.Successes != rep.Bare.Successes || out.HashLimit != 80 || out.HashRate != 64 {
		t.Errorf("json: %s", js.String())
	}
	for _, s := range out.Scenarios {
		if s.ShareOfBare <= 0 || (s.Scenario == ScenarioLogin) != (s.ShareOfHash > 0) ||
			(s.Scenario == ScenarioLogin) != (s.ShareOfHashRate > 0) {
			t.Errorf("json scenario %+v", s)
		}
	}
}

// TestNoBaselineNoShares: without a baseline the report has no share column.
func TestNoBaselineNoShares(t *testing.T) {
	_, srv := newFake(t)
	rep := mustRun(t, Config{URL: srv.URL, Connections: 1, Scenario: ScenarioMe, Duration: 20 * time.Millisecond})
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if rep.Bare != nil || strings.Contains(table.String(), "% bare") || rep.Results[0].ShareOf(rep.Bare) != 0 {
		t.Errorf("baseline without BareURL:\n%s", table.String())
	}
}

func TestReadCPUOfThisProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	start := readCPU(os.Getpid())
	deadline := time.Now().Add(5 * time.Second)
	for readCPU(os.Getpid()) <= start && time.Now().Before(deadline) {
		for i := 0; i < 1e6; i++ {
			_ = strings.Repeat("x", i%7)
		}
	}
	if readCPU(os.Getpid()) <= start {
		t.Fatal("the CPU time read from /proc did not grow while this process worked")
	}
	if readCPU(0) != 0 || readCPU(-1) != 0 {
		t.Fatal("no process, no figure")
	}
}

// A baseline command that exits instead of serving is reported, with what it said, not waited for.
func TestStartBareReportsAServerThatExits(t *testing.T) {
	// The test binary refuses the --addr flag StartBare adds, and exits at once.
	_, err := StartBare(context.Background(), os.Args[0], []string{"-test.run=^$"})
	if err == nil || !strings.Contains(err.Error(), "bare server exited before it was healthy") || !strings.Contains(err.Error(), "addr") {
		t.Fatalf("StartBare of a process that exits at once = %v", err)
	}
}

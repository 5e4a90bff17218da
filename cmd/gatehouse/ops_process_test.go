package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

var buildOnce struct {
	sync.Once
	path string
	err  error
}

// gatehouseBinary builds the real binary once per test run.
func gatehouseBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gatehouse-bin-")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "gatehouse")
		out, err := exec.Command("go", "build", "-o", buildOnce.path, ".").CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.path
}

// startProcess runs `gatehouse serve` as a child process and returns it with its URL.
func startProcess(t *testing.T, env map[string]string) (*exec.Cmd, *testServer) {
	t.Helper()
	cmd := exec.Command(gatehouseBinary(t), "serve")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("server did not start: %v\n%s", err, logs.String())
	}
	return cmd, &testServer{URL: strings.TrimSpace(strings.TrimPrefix(line, "gatehouse listening on ")), env: env, logs: logs}
}

// TestSIGKILLKeepsEveryAccount kills the server without warning right after it answered, and
// checks that a restarted server knows every account it had confirmed.
func TestSIGKILLKeepsEveryAccount(t *testing.T) {
	env := testEnv(t)
	cmd, s := startProcess(t, env)
	var accounts []*account
	for range 10 {
		accounts = append(accounts, s.register(t))
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	_, s2 := startProcess(t, env)
	for _, a := range accounts {
		s2.login(t, a.Email, a.Password)
		// Sessions and refresh tokens survived too.
		expectStatus(t, s2.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": a.Refresh}), http.StatusOK)
	}
}

// TestSIGTERMFinishesInFlightRequests checks graceful shutdown: the process exits 0.
func TestSIGTERMShutsDownCleanly(t *testing.T) {
	env := testEnv(t)
	cmd, s := startProcess(t, env)
	s.register(t)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, s.logs.String())
	}
	if !strings.Contains(s.logs.String(), "shutting down") {
		t.Fatalf("no shutdown log:\n%s", s.logs.String())
	}
}

func TestDataFilesAreOwnerOnly(t *testing.T) {
	env := testEnv(t)
	_, s := startProcess(t, env)
	s.register(t)
	expectFilesOwnerOnly(t, env["GATEHOUSE_DATA_DIR"])
}

// expectOwnerOnly fails unless dir is 0700 and every file in it is owner-only.
func expectOwnerOnly(t *testing.T, dir string) {
	t.Helper()
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o700 {
		t.Errorf("the data directory has mode %v; want 0700", info.Mode().Perm())
	}
	expectFilesOwnerOnly(t, dir)
}

// expectFilesOwnerOnly fails unless every file in dir is owner-only.
func expectFilesOwnerOnly(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v; want owner-only", e.Name(), info.Mode().Perm())
		}
	}
}

// loosen gives dir and the files in it the modes a permissive umask or a restore with cp would.
func loosen(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.Chmod(filepath.Join(dir, e.Name()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestExistingDataDirIsMadeOwnerOnly: a data directory that exists before the first start (made
// with mkdir under a 022 umask) or that was restored readable by everyone is taken back to 0700
// at start, with the files in it, so no other local user can read the database or the key that
// seals the signing keys.
func TestExistingDataDirIsMadeOwnerOnly(t *testing.T) {
	env := testEnv(t)
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	loosen(t, dir) // the test process's umask may be 077 already
	env["GATEHOUSE_DATA_DIR"] = dir
	s := startServerEnv(t, env)
	a := s.register(t)
	s.stop()
	expectOwnerOnly(t, dir)

	loosen(t, dir)
	again := startServerEnv(t, env)
	again.login(t, a.Email, a.Password)
	again.stop()
	expectOwnerOnly(t, dir)
}

// TestDataDirThatCannotBeMadeOwnerOnly: a data directory open to others that this process may not
// tighten (another user's) stops the start with one line naming the fix, and is left alone.
// It needs root, to run the server as another user.
func TestDataDirThatCannotBeMadeOwnerOnly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the server as another user")
	}
	// A copy of the binary that the other user may run.
	open := t.TempDir()
	for _, d := range []string{filepath.Dir(open), open} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(open, "gatehouse")
	data, err := os.ReadFile(gatehouseBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(open, "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil { // writable by the other user, but root's
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "GATEHOUSE_ADDR=127.0.0.1:0", "GATEHOUSE_DATA_DIR=" + dir}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	// A server that starts prints its address; one that refuses closes stdout and exits.
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "" {
		t.Fatalf("the server started in a directory open to everyone: %s", line)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatal("the server exited 0")
	}
	msg := strings.TrimSpace(stderr.String())
	if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "GATEHOUSE_DATA_DIR") || !strings.Contains(msg, "chmod 700") {
		t.Fatalf("want one line naming the directory and the fix, got:\n%s", msg)
	}
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o777 {
		t.Fatalf("mode changed to %v", info.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("files were created in it: %v", entries)
	}
}

// TestBenchStartup runs `gatehouse bench startup` on the real binary: it starts the server, which
// answers /healthz, and reports the time and memory.
func TestBenchStartup(t *testing.T) {
	bin := gatehouseBinary(t)
	t.Setenv("GATEHOUSE_DATA_DIR", t.TempDir())
	t.Setenv("GATEHOUSE_RATE_LIMITS", "off")
	t.Setenv("GATEHOUSE_DATABASE_URL", "")
	var stdout, stderr strings.Builder
	err := run(context.Background(), []string{"bench", "startup", "--binary", bin, "--runs", "2", "--idle", "1ms", "--json"},
		os.Getenv, &stdout, &stderr)
	if err != nil {
		t.Fatalf("bench startup: %v\n%s", err, stderr.String())
	}
	var rep struct {
		Runs []struct {
			HealthyMS float64 `json:"healthy_ms"`
			RSSIdle   int64   `json:"rss_idle_bytes"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(stdout.String()), &rep); err != nil || len(rep.Runs) != 2 {
		t.Fatalf("report %q: %v", stdout.String(), err)
	}
	for _, r := range rep.Runs {
		if r.HealthyMS <= 0 || (runtime.GOOS == "linux" && r.RSSIdle <= 0) {
			t.Fatalf("run without figures: %+v", r)
		}
	}
}

// TestBenchBaseline runs `gatehouse bench` from the real binary against a server: it starts its
// own bare net/http server (the binary's `bench bare`), loads it first, and reports the scenario
// as a share of it, with the server's memory and CPU read through --pid (here this process).
func TestBenchBaseline(t *testing.T) {
	bin := gatehouseBinary(t)
	s := startServer(t, "GATEHOUSE_RATE_LIMITS=off")
	out, err := exec.Command(bin, "bench", "--url", s.URL, "--scenario", "me", "--connections", "2",
		"--duration", "200ms", "--pid", strconv.Itoa(os.Getpid()), "--json").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("bench: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var rep struct {
		Bare *struct {
			Successes int64            `json:"successes"`
			Status    map[string]int64 `json:"status"`
		} `json:"bare"`
		Scenarios []struct {
			Scenario    string  `json:"scenario"`
			Successes   int64   `json:"successes"`
			ShareOfBare float64 `json:"share_of_bare"`
			RSS         int64   `json:"rss_after_bytes"`
		} `json:"scenarios"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("report %q: %v", out, err)
	}
	if rep.Bare == nil || rep.Bare.Successes == 0 || rep.Bare.Status["200"] != rep.Bare.Successes {
		t.Fatalf("no baseline in %s", out)
	}
	if len(rep.Scenarios) != 1 || rep.Scenarios[0].Successes == 0 || rep.Scenarios[0].ShareOfBare <= 0 ||
		(runtime.GOOS == "linux" && rep.Scenarios[0].RSS <= 0) {
		t.Fatalf("scenario without its share of the baseline: %s", out)
	}
}

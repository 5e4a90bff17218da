package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
)

// TestStartupHelperServer is not a test: MeasureStartup runs the test binary as its server, and
// this is that server. It answers /healthz on GATEHOUSE_ADDR until SIGTERM ends the process.
func TestStartupHelperServer(t *testing.T) {
	if os.Getenv("LOADTEST_STARTUP_HELPER") != "1" {
		t.Skip("helper process for TestMeasureStartup")
	}
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	t.Fatal(http.ListenAndServe(os.Getenv("GATEHOUSE_ADDR"), nil))
}

func TestMeasureStartup(t *testing.T) {
	cfg := StartupConfig{
		Binary: os.Args[0],
		Args:   []string{"-test.run=^TestStartupHelperServer$"},
		// A GATEHOUSE_ADDR already in the environment is replaced, not duplicated.
		Env:  append(os.Environ(), "LOADTEST_STARTUP_HELPER=1", "GATEHOUSE_ADDR=192.0.2.1:1"),
		Runs: 2,
		Idle: 1, // a nanosecond
	}
	var progress bytes.Buffer
	rep, err := MeasureStartup(context.Background(), cfg, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 2 {
		t.Fatalf("%d runs reported, want 2", len(rep.Runs))
	}
	for i, r := range rep.Runs {
		if r.Healthy <= 0 {
			t.Errorf("run %d: healthy after %s", i+1, r.Healthy)
		}
		if runtime.GOOS == "linux" && (r.RSSHealthy <= 0 || r.RSSIdle <= 0 || r.RSSAnonIdle <= 0 || r.RSSFileIdle <= 0) {
			t.Errorf("run %d: memory not read: %+v", i+1, r)
		}
	}
	if !strings.Contains(progress.String(), "run 2: healthy after") {
		t.Errorf("progress: %q", progress.String())
	}

	var table, js bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"to healthy", "RSS idle", "median", "range"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var decoded struct {
		Runs []struct {
			HealthyMS float64 `json:"healthy_ms"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(js.Bytes(), &decoded); err != nil || len(decoded.Runs) != 2 || decoded.Runs[0].HealthyMS <= 0 {
		t.Fatalf("JSON report %s: %v", js.String(), err)
	}
}

func TestMeasureStartupReportsAServerThatExits(t *testing.T) {
	cfg := StartupConfig{Binary: os.Args[0], Args: []string{"-test.run=^$"}, Env: os.Environ(), Runs: 1}
	if _, err := MeasureStartup(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), "exited before it was healthy") {
		t.Fatalf("MeasureStartup of a process that exits at once = %v", err)
	}
}

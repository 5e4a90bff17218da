package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"time"
)

// The baseline of every run: a bare Go net/http handler, served by its own process on the same
// machine and loaded by the same client, in the same run, as the server. Each scenario's figure is
// then also given as a share of it, which is comparable across machines and across runs on a
// machine whose speed varies (a virtual machine shared with other work).

// ScenarioBare is the baseline's name in reports.
const ScenarioBare = "bare"

// bareBody is what the bare handler answers: a short JSON object, as the API's answers are.
var bareBody = []byte(`{"status":"ok"}` + "\n")

// BareHandler answers every request with 200 and a constant short JSON body, and does nothing
// else: the cost of Go's HTTP server itself.
func BareHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(bareBody)
	})
}

// ServeBare serves BareHandler on ln until ctx ends.
func ServeBare(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: BareHandler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// BareServer is a running baseline process.
type BareServer struct {
	URL  string // its base URL
	PID  int
	Stop func()
}

// StartBare starts binary with args plus "--addr ADDR" (a free port of 127.0.0.1; the command
// must then serve BareHandler there) and waits until it answers.
func StartBare(ctx context.Context, binary string, args []string) (*BareServer, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, append(args, "--addr", addr)...)
	var stderr bytes.Buffer
	cmd.Stdout = io.Discard
	cmd.Stderr = &limitedBuffer{buf: &stderr, max: 16 << 10}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() { stopProcess(cmd, exited) }

	base := "http://" + addr
	if err := awaitHealthy(ctx, base+"/", time.Now().Add(10*time.Second), time.Second, exited, &stderr); err != nil {
		stop()
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("baseline: the bare server %w", err)
	}
	return &BareServer{URL: base, PID: cmd.Process.Pid, Stop: stop}, nil
}

// bare is the baseline scenario: GET / on the bare server.
func (r *runner) bare(ctx context.Context, _ *user) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.cfg.BareURL+"/", nil)
	if err != nil {
		return 0, "", err
	}
	return r.send(req, nil)
}

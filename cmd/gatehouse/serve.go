package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/httpapi"
)

// keyReloadInterval is how often servers pick up signing keys rotated by another process; the
// contract allows 10 seconds.
const keyReloadInterval = 5 * time.Second

// keyUsageFlushInterval is how often API key use counts and last-use times reach the database.
const keyUsageFlushInterval = 5 * time.Second

// serve runs the server with a loaded configuration (serveCommand, in cli.go, loads it).
func serve(ctx context.Context, cfg *config, stdout, stderr io.Writer) error {
	log := newLogger(cfg, stderr)

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("GATEHOUSE_ADDR=%q: %w", cfg.Addr, err)
	}
	defer ln.Close()
	cfg.resolvePublicURL(ln.Addr().String())

	a, err := openApp(ctx, cfg, log, stderr)
	if err != nil {
		return err
	}
	defer a.Close()

	// Background work stops after the HTTP server has drained and before the store closes, so
	// the last batch of API key usage is written.
	bg, stopBackground := context.WithCancel(context.Background())
	var background sync.WaitGroup
	defer func() {
		stopBackground()
		background.Wait()
	}()
	background.Go(func() { a.tokens.Run(bg, keyReloadInterval) })
	background.Go(func() { a.auth.RunAPIKeyUsageFlusher(bg, keyUsageFlushInterval) })
	background.Go(func() { a.pruneRateEvents(bg) })
	background.Go(func() { a.watchInvalidations(bg) })
	background.Go(func() { a.runOutbox(bg) })

	apiHandler := httpapi.NewServer(httpapi.Deps{
		Auth:          a.auth,
		MFA:           a.mfa,
		SignIn:        a.signIn,
		Passkeys:      a.passkeys,
		OAuth:         newOAuthService(cfg, a.auth, log),
		AuthServer:    a.authz,
		DB:            a.store,
		Keys:          a.tokens,
		Log:           log,
		Impersonation: a.imp,
		Config: httpapi.Config{
			PublicURL:      cfg.PublicURL,
			TrustedProxies: cfg.TrustedProxies,
			SigningAlg:     cfg.SigningAlg,
			CORSOrigins:    cfg.CORSOrigins,
		},
		Limits:         a.httpLimits(),
		Metrics:        a.metrics,
		MetricsHandler: mainListenerMetrics(cfg, a),
	})
	dashboard, err := a.dashboard(cfg, log)
	if err != nil {
		return err
	}
	handler := withDashboard(apiHandler, dashboard)
	handler = shedWhenHashPoolFull(a.hasher, a.metrics, log, strings.HasPrefix(cfg.PublicURL, "https://"), handler)
	if err := serveMetricsSeparately(bg, cfg, a, &background); err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          nil,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("gatehouse started", "addr", ln.Addr().String(), "public_url", cfg.PublicURL, "database", databaseKind(cfg))
	fmt.Fprintf(stdout, "gatehouse listening on http://%s\n", ln.Addr().String())

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func databaseKind(cfg *config) string {
	if cfg.DatabaseURL != "" && (len(cfg.DatabaseURL) > 8 && cfg.DatabaseURL[:8] == "postgres") {
		return "postgres"
	}
	return "sqlite"
}

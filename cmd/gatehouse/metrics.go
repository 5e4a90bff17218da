package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// mainListenerMetrics serves /metrics on the API listener unless GATEHOUSE_METRICS_ADDR names
// another address (or "off").
func mainListenerMetrics(cfg *config, a *app) http.Handler {
	if cfg.MetricsAddr != "" {
		return nil
	}
	return a.metrics.Handler()
}

// serveMetricsSeparately starts the metrics listener of GATEHOUSE_METRICS_ADDR, stopped with ctx.
func serveMetricsSeparately(ctx context.Context, cfg *config, a *app, wg *sync.WaitGroup) error {
	if cfg.MetricsAddr == "" || cfg.MetricsAddr == "off" {
		return nil
	}
	ln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("GATEHOUSE_METRICS_ADDR=%q: %w", cfg.MetricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.metrics.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	wg.Go(func() { _ = srv.Serve(ln) })
	wg.Go(func() {
		<-ctx.Done()
		_ = srv.Close()
	})
	a.log.Info("metrics listening", "addr", ln.Addr().String())
	return nil
}

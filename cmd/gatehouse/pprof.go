//go:build pprof

package main

// Built only with -tags pprof, for profiling under `gatehouse bench` (docs/performance.md):
// serves net/http/pprof on GATEHOUSE_PPROF_ADDR (a loopback address), apart from the API. Release
// builds have no such listener.

import (
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	if addr := os.Getenv("GATEHOUSE_PPROF_ADDR"); addr != "" {
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
}

#!/usr/bin/env bash
# The full test suite: formatting and vet, every Go test on SQLite and on PostgreSQL, and a short
# run of every fuzz target. It starts what it needs (PostgreSQL; Chromium for the browser tests) and
# installs it where missing.
#   scripts/test.sh           everything
#   QUICK=1 scripts/test.sh   skip the fuzzing
set -euo pipefail
cd "$(dirname "$0")/.."

# Each stage prints its name and, when it ends, how long it took; the total comes last.
t_start=$(date +%s)
t_stage=$t_start
stage_name=""
stage_done() {
  [ -n "$stage_name" ] && printf -- '-- %s: %ss\n' "$stage_name" "$(( $(date +%s) - t_stage ))"
  t_stage=$(date +%s)
}
step() { stage_done; bg_check; stage_name="$*"; printf '\n== %s\n' "$*"; }
work=$(mktemp -d)

# A stage that waits on I/O more than it computes (the HTTP suite on PostgreSQL waits on the
# server) runs in the background, beside the stages that follow it: bg_start NAME COMMAND... starts
# it in a process group of its own, with its output in a file; bg_finish shows that output under
# its own heading, with its time, and fails the script when it failed. A background stage that
# fails ends the script at the next stage boundary; the script's exit stops one still running.
bg_pid="" bg_name="" bg_start_at=0
bg_start() {
  bg_name=$1; shift
  bg_start_at=$(date +%s)
  printf '\n== %s: started in the background, its output comes when it ends\n' "$bg_name"
  if command -v setsid >/dev/null 2>&1; then
    setsid "$@" >"$work/bg.log" 2>&1 </dev/null &
  else
    "$@" >"$work/bg.log" 2>&1 </dev/null &
  fi
  bg_pid=$!
}
bg_finish() {
  [ -n "$bg_pid" ] || return 0
  local rc=0 end
  wait "$bg_pid" || rc=$?
  end=$(date +%s)
  printf '\n== %s (ran in the background)\n' "$bg_name"
  cat "$work/bg.log"
  printf -- '-- %s: %ss, beside the other stages\n' "$bg_name" "$(( end - bg_start_at ))"
  bg_pid=""
  if [ "$rc" != 0 ]; then echo "$bg_name failed (exit status $rc)" >&2; exit "$rc"; fi
}
# bg_check fails fast: when the background stage has already ended, its result is shown now.
bg_check() { if [ -n "$bg_pid" ] && ! kill -0 "$bg_pid" 2>/dev/null; then bg_finish; fi; }
bg_stop() {
  if [ -n "$bg_pid" ]; then
    kill -TERM -- "-$bg_pid" 2>/dev/null || kill -TERM "$bg_pid" 2>/dev/null || true
    wait "$bg_pid" 2>/dev/null || true
  fi
}
trap 'bg_stop; rm -rf "$work"' EXIT

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './sdks/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

step "go vet"
go vet ./...

step "PostgreSQL"
if scripts/postgres-up.sh; then
  export GATEHOUSE_TEST_POSTGRES_URL=${GATEHOUSE_TEST_POSTGRES_URL:-postgres://gatehouse:gatehouse@127.0.0.1:5432/postgres?sslmode=disable}
  have_pg=1
else
  if [ "${CI:-}" = "true" ]; then echo "PostgreSQL could not be started; CI needs it" >&2; exit 1; fi
  echo "PostgreSQL is not available here: its tests will skip (run scripts/postgres-up.sh as root to enable them)"
  have_pg=0
fi

step "Chromium (browser tests)"
if scripts/chromium-up.sh; then
  /usr/bin/chromium --version 2>/dev/null || true
else
  if [ "${CI:-}" = "true" ]; then echo "Chromium could not be installed; CI needs it" >&2; exit 1; fi
  echo "Chromium is not available here: the browser tests will skip (run scripts/chromium-up.sh as root to enable them)"
fi

step "go test (SQLite and PostgreSQL stores, HTTP suite on SQLite)"
go test -count=1 ./...

if [ "$have_pg" = 1 ]; then
  # The HTTP suite again, on PostgreSQL. Most of its time is spent waiting for the server: it runs
  # beside the stages below, and its output comes at the end (or as soon as it fails).
  # The browser tests and the MCP SDK interop tests drive pages and example servers whose
  # behaviour does not depend on the store: they run once, on SQLite, above.
  stage_done; stage_name=""
  bg_start "go test: HTTP suite on PostgreSQL" env GATEHOUSE_TEST_DB=postgres \
    go test -count=1 -skip '^(TestBrowser|TestOAuthInteropMCPGoSDK$|TestOAuth2MachineMCPClientCredentials$)' ./cmd/gatehouse/
fi

step "race detector: the store (group commit) and the domain rules"
if command -v gcc >/dev/null 2>&1; then
  CGO_ENABLED=1 go test -race -count=1 ./sqlstore ./sqlite .
else
  echo "no C compiler here: the race detector needs one (apt-get install -y gcc); skipped"
fi

step "Go resource-server kit (sdks/go), its MCP adapter and the example MCP server (examples/mcp-server-go)"
# Each is its own module (the kit must not depend on the server or on MCP code), so the root's
# ./... does not reach them.
for mod in sdks/go sdks/go/gatehousemcp examples/mcp-server-go; do
  (cd "$mod" && go vet ./... && go test -count=1 ./...)
done
if command -v gcc >/dev/null 2>&1; then
  (cd sdks/go && CGO_ENABLED=1 go test -race -count=1 ./...)
  (cd sdks/go/gatehousemcp && CGO_ENABLED=1 go test -race -count=1 ./...)
fi

step "Python resource-server kit (sdks/python/test.sh: pytest against a real Gatehouse, benchmark)"
# Its venv is cached under ${XDG_CACHE_HOME:-~/.cache}/gatehouse; pip installs only on the first run.
sdks/python/test.sh

step "Interop: official MCP TypeScript SDK and openid-client against a real Gatehouse (sdks/interop/test.sh)"
# The official MCP Go SDK's end-to-end test is in the go test stages (cmd/gatehouse/api_oauth2_mcp_go_test.go).
sdks/interop/test.sh

step "TypeScript resource-server kit and examples/mcp-server-ts against a real Gatehouse (sdks/node/test.sh)"
# The official MCP Go SDK's client against examples/mcp-server-ts is in the go test stages
# (cmd/gatehouse/api_oauth2_mcp_go_test.go), with the Go example.
sdks/node/test.sh

step "Next.js SDK: unit tests against real servers, next build + Chromium end to end (sdks/nextjs/test.sh)"
scripts/chromium-up.sh # Debian's Chromium (never a browser download); the end-to-end stage needs it
sdks/nextjs/test.sh

if [ -z "${QUICK:-}" ]; then
  step "fuzzing (a few thousand inputs per target)"
  # A count, not a duration: Go 1.26's fuzz coordinator can report a spurious "context deadline
  # exceeded" when a duration runs out under load (go.dev/issue/75804, fixed in Go 1.27).
  fuzz() { # package target
    go test "$1" -run '^$' -fuzz "^$2\$" -fuzztime "${FUZZTIME:-10000x}" >"$work/fuzz.log" 2>&1 ||
      { cat "$work/fuzz.log"; echo "fuzz target $2 failed"; exit 1; }
    echo "ok   $1 $2"
  }
  for pkg in $(go list ./...); do
    dir=$(go list -f '{{.Dir}}' "$pkg")
    for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
      fuzz "$pkg" "$target"
    done
  done
fi

stage_done
bg_finish
printf '\n== all tests passed in %ss\n' "$(( $(date +%s) - t_start ))"

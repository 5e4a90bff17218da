#!/usr/bin/env bash
# Tests of the TypeScript resource-server kit (@gatehouse/resource) and of its example MCP server
# (examples/mcp-server-ts), against a real Gatehouse binary on loopback:
#   1. build.sh: npm ci (skipped while node_modules matches package-lock.json) and tsc;
#   2. type-check of the glue against the real Express, Hono and MCP SDK types (test/types.ts);
#   3. go build of gatehouse (unless $GATEHOUSE_BIN is an executable);
#   4. node --test: the kit against a stand-in issuer with an injected clock (verify.test.mjs),
#      against the real Gatehouse through the fetch guard, Express, Hono and the MCP SDK's
#      requireBearerAuth (gatehouse.test.mjs), and the example started through its run script
#      (example.test.mjs);
#   5. the benchmark, once (BENCH=0 skips it): a figure, never an assertion.
# Needs Node >= 20.9, npm and Go.
set -euo pipefail
cd "$(dirname "$0")"
repo_root=$(cd ../.. && pwd)

t_start=$(date +%s)
step() { printf '\n== node kit: %s (%ss)\n' "$*" "$(( $(date +%s) - t_start ))"; }
fail() { echo "node kit: $*" >&2; exit 1; }

command -v node >/dev/null || fail "node is not installed (Node >= 20.9 is needed)"
command -v npm >/dev/null || fail "npm is not installed"
command -v go >/dev/null || fail "go is not installed"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=9)?0:1)' ||
  fail "Node $(node --version) is too old: >= 20.9 is needed"

step "npm ci (when needed) and tsc"
./build.sh

step "type-check the glue against Express, Hono and the MCP SDK"
node_modules/.bin/tsc -p tsconfig.test.json

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "${GATEHOUSE_BIN:-}" ] || [ ! -x "$GATEHOUSE_BIN" ]; then
  step "go build gatehouse"
  (cd "$repo_root" && go build -o "$work/gatehouse" ./cmd/gatehouse)
  export GATEHOUSE_BIN="$work/gatehouse"
fi

step "node --test (stand-in issuer, real Gatehouse, examples/mcp-server-ts)"
# Quiet unless something fails: the output goes to a file, only the summary is shown.
if node --test --test-reporter=spec test/*.test.mjs >"$work/test.log" 2>&1; then
  grep -E '^ *(✔|ℹ (tests|pass|fail|duration_ms))' "$work/test.log" || tail -n 20 "$work/test.log"
else
  cat "$work/test.log"
  fail "node --test failed"
fi

if [ "${BENCH:-1}" != 0 ]; then
  step "benchmark (one core)"
  node bench/verify.mjs
fi
step "all node kit tests passed"

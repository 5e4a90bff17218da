#!/usr/bin/env bash
# Interop tests: clients nobody here wrote, against a real Gatehouse binary on loopback.
#   - the official MCP TypeScript SDK client (@modelcontextprotocol/sdk) through an MCP server
#     written with the same SDK and guarded by Gatehouse tokens (jose against the JWKS), once with
#     dynamic registration and once with a Client ID Metadata Document served over https on
#     loopback (its certificate made with openssl, trusted by Gatehouse through SSL_CERT_FILE);
#   - the same client against examples/mcp-server-py (the official MCP Python SDK guarded by the
#     Python kit, sdks/python), started through its run script;
#   - openid-client (v6) as an OpenID Connect relying party.
# The user's part (sign-in on /login, the consent page) is played over HTTP with a cookie jar.
# Needs Node >= 20.9, npm, Go, openssl and Python >= 3.10 (the example's run script makes its venv
# under ${XDG_CACHE_HOME:-~/.cache}/gatehouse once, then reuses it). The npm install is skipped while node_modules matches the lock
# file; npm's download cache is $NPM_CONFIG_CACHE (default ~/.npm).
#   GATEHOUSE_BIN=/path/to/gatehouse sdks/interop/test.sh   use a built binary
set -euo pipefail
cd "$(dirname "$0")"
repo_root=$(cd ../.. && pwd)

t_start=$(date +%s)
step() { printf '\n== interop: %s (%ss)\n' "$*" "$(( $(date +%s) - t_start ))"; }
fail() { echo "interop: $*" >&2; exit 1; }

command -v node >/dev/null || fail "node is not installed (Node >= 20.9 is needed)"
command -v npm >/dev/null || fail "npm is not installed"
command -v go >/dev/null || fail "go is not installed"
command -v openssl >/dev/null || fail "openssl is not installed (the metadata-document test makes a certificate with it)"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=9)?0:1)' ||
  fail "Node $(node --version) is too old: >= 20.9 is needed"

lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.interop-lock-hash 2>/dev/null)" = "$lock_hash" ]; then
  step "node_modules matches package-lock.json: no install"
else
  step "npm ci"
  npm ci --no-audit --no-fund --prefer-offline --loglevel=error
  echo "$lock_hash" > node_modules/.interop-lock-hash
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "${GATEHOUSE_BIN:-}" ] || [ ! -x "$GATEHOUSE_BIN" ]; then
  step "go build gatehouse"
  (cd "$repo_root" && go build -o "$work/gatehouse" ./cmd/gatehouse)
  export GATEHOUSE_BIN="$work/gatehouse"
fi

step "examples/mcp-server-py: its run script installs what it needs (cached after the first run)"
../../examples/mcp-server-py/run --help >/dev/null

step "node --test (MCP TypeScript SDK, openid-client)"
# Quiet unless something fails: the TAP output goes to a file, only the summary is shown.
if node --test --test-reporter=spec test/*.test.mjs >"$work/test.log" 2>&1; then
  grep -E '^ *(✔|ℹ (tests|pass|fail|duration_ms))' "$work/test.log" || tail -n 20 "$work/test.log"
else
  cat "$work/test.log"
  fail "node --test failed"
fi
step "all interop tests passed"

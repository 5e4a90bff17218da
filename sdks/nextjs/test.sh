#!/usr/bin/env bash
# Tests of the Next.js SDK (@gatehouse/next-sdk) and its example app:
#   1. npm ci of the SDK, build and type-check it; npm ci of examples/nextjs (which installs the
#      built SDK as a packed copy);
#   2. @arethetypeswrong/cli on the packed SDK (every TypeScript module resolution; installed once
#      into a cache directory);
#   3. go build of the gatehouse binary (shared by both test stages);
#   4. unit tests (vitest): the middleware, server helpers and route handlers against real
#      gatehouse servers on loopback;
#   5. end to end: `next build && next start` of variants of the example app, driven through
#      Debian's Chromium (/usr/bin/chromium) with playwright-core: the whole browser suite on the
#      main variant (middleware.ts, Edge runtime, Next 16), a smoke subset on the others (proxy.ts in
#      the callback form on Node.js with Cache Components; Next 15.5; the SDK installed as a
#      symlink); a proxy.ts that keeps `export const middleware` (the build must fail with Next's
#      hint); the npm alias @ainative/next-sdk from a packed tarball; a grep of every build for the
#      API key.
# Needs Node >= 20.9, npm (and the npm registry, or its cache), Go, and /usr/bin/chromium
# (scripts/test.sh installs it with apt-get).
#   E2E=0 sdks/nextjs/test.sh              skip the end-to-end stage
#   NEXT15=0 ...                           skip the Next 15.5 variant
#   E2E_VARIANTS=middleware ...            only these variants (middleware,proxy,next15,symlink)
#   ATTW=0 ...                             skip the @arethetypeswrong/cli check
set -euo pipefail
cd "$(dirname "$0")"
sdk_dir=$(pwd)
repo_root=$(cd ../.. && pwd)
example_dir="$repo_root/examples/nextjs"

t_start=$(date +%s)
step() { printf '\n== nextjs sdk: %s (%ss)\n' "$*" "$(( $(date +%s) - t_start ))"; }
fail() { echo "nextjs sdk: $*" >&2; exit 1; }

command -v node >/dev/null || fail "node is not installed (Node >= 20.9 is needed)"
command -v npm >/dev/null || fail "npm is not installed"
command -v go >/dev/null || fail "go is not installed"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=9)?0:1)' ||
  fail "Node $(node --version) is too old: Next.js 16 needs >= 20.9"
export NEXT_TELEMETRY_DISABLED=1

step "npm ci (sdks/nextjs)"
npm ci --no-audit --no-fund --loglevel=error

step "build and type-check the SDK"
npm run --silent build
npm run --silent typecheck

# Are the types wrong? The packed SDK under node10, node16 (CJS and ESM) and bundler resolution.
# The package is ESM-only, as jose, its one dependency, is: from CommonJS under node16 it is
# "ESM (dynamic import only)", which is true and intended, so that one rule is not counted.
if [ "${ATTW:-1}" = "0" ]; then
  step "ATTW=0: @arethetypeswrong/cli skipped"
else
  step "@arethetypeswrong/cli --pack"
  attw_version=0.18.5
  attw_dir="${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse-attw-$attw_version"
  if [ ! -x "$attw_dir/node_modules/.bin/attw" ]; then
    npm install --prefix "$attw_dir" --no-audit --no-fund --loglevel=error "@arethetypeswrong/cli@$attw_version" >/dev/null
  fi
  attw_log=$(mktemp)
  if "$attw_dir/node_modules/.bin/attw" --pack . --ignore-rules cjs-resolves-to-esm --format table-flipped --no-color >"$attw_log" 2>&1; then
    grep -E '^(│|\|)? *"@gatehouse' "$attw_log" | sed 's/[│|]/ /g; s/  */ /g' || true
    rm -f "$attw_log"
  else
    cat "$attw_log"; rm -f "$attw_log"
    fail "@arethetypeswrong/cli found problems in the packed SDK"
  fi
fi

step "npm ci (examples/nextjs, installs the built SDK)"
(cd "$example_dir" && npm ci --no-audit --no-fund --loglevel=error)

step "go build gatehouse"
bin_dir=$(mktemp -d)
trap 'rm -rf "$bin_dir"' EXIT
(cd "$repo_root" && go build -o "$bin_dir/gatehouse" ./cmd/gatehouse)
export GATEHOUSE_BIN="$bin_dir/gatehouse"

# vitest is quiet unless something fails: its output goes to a file, and only its summary is
# shown when every test passed.
vitest_quiet() {
  local log="$bin_dir/vitest.log"
  if NO_COLOR=1 npx vitest run --silent "$@" >"$log" 2>&1; then
    grep -E '^ *(Test Files|Tests|Duration) ' "$log" || tail -n 5 "$log"
  else
    cat "$log"
    fail "vitest $* failed"
  fi
}

step "unit tests (vitest, real gatehouse on loopback)"
vitest_quiet

if [ "${E2E:-1}" = "0" ]; then
  step "E2E=0: end-to-end tests skipped"
else
  [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] ||
    fail "${CHROMIUM_PATH:-/usr/bin/chromium} is missing: install Debian's chromium (apt-get install -y chromium); scripts/test.sh does it as root"
  if [ "${NEXT15:-1}" = "0" ] && [ -z "${E2E_VARIANTS:-}" ]; then export E2E_VARIANTS=middleware,proxy,symlink; fi
  step "end-to-end tests (next build + next start of ${E2E_VARIANTS:-middleware,proxy,next15,symlink}, Chromium via playwright-core)"
  vitest_quiet -c vitest.e2e.config.ts
fi

step "all Next.js SDK tests passed"

#!/usr/bin/env bash
# Tests of the Next.js SDK (@gatehouse/next-sdk) and its example app:
#   1. npm ci of the SDK, build and type-check it; npm ci of examples/nextjs (which installs the
#      built SDK as a packed copy);
#   2. go build of the gatehouse binary (shared by both test stages);
#   3. unit tests (vitest): the middleware, server helpers and route handlers against real
#      gatehouse servers on loopback;
#   4. end to end: `next build && next start` of the example app, twice (middleware.ts on the Edge
#      runtime, and the same app as Next 16's proxy.ts on Node.js), driven through Debian's
#      Chromium (/usr/bin/chromium) with playwright-core; then a grep of the build for the API key.
# Needs Node >= 20.9, npm, Go, and /usr/bin/chromium (scripts/test.sh installs it with apt-get).
#   5. (between 3 and 4) `next build` of the example on Next 15.5, which peerDependencies promise.
#   E2E=0 sdks/nextjs/test.sh              skip the end-to-end stage
#   NEXT15=0 ...                           skip the Next 15.5 build
#   E2E_VARIANTS=middleware ...            only the middleware.ts build
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

# peerDependencies promise Next 15.5 too: build the example once on it (Next's build type-checks the
# route handlers' exports, which 15.5 and 16 check differently). Build only, no browser: ~40 s.
if [ "${NEXT15:-1}" = "0" ]; then
  step "NEXT15=0: the Next 15.5 build is skipped"
else
  step "next build of the example on Next ${NEXT15_VERSION:-15.5.29}"
  n15_dir="$bin_dir/example-next15"
  mkdir -p "$n15_dir"
  (cd "$example_dir" && tar -cf - --exclude=./node_modules --exclude=./.next --exclude=./package-lock.json --exclude=./next-env.d.ts --exclude='*.tsbuildinfo' .) |
    (cd "$n15_dir" && tar -xf -)
  (cd "$n15_dir" && SDK_DIR="$sdk_dir" NEXT_VERSION="${NEXT15_VERSION:-15.5.29}" node -e '
    const fs = require("fs");
    const p = JSON.parse(fs.readFileSync("package.json", "utf8"));
    p.dependencies.next = process.env.NEXT_VERSION;
    p.dependencies["@gatehouse/next-sdk"] = "file:" + process.env.SDK_DIR;
    fs.writeFileSync("package.json", JSON.stringify(p, null, 2));')
  (cd "$n15_dir" && npm install --no-audit --no-fund --loglevel=error >"$bin_dir/next15-install.log" 2>&1) ||
    { cat "$bin_dir/next15-install.log"; fail "npm install of the example with next ${NEXT15_VERSION:-15.5.29} failed"; }
  if ! (cd "$n15_dir" && npx next build >"$bin_dir/next15-build.log" 2>&1); then
    cat "$bin_dir/next15-build.log"
    fail "next build of the example on Next ${NEXT15_VERSION:-15.5.29} failed"
  fi
  grep -E '^(Route|├|└|┌|ƒ Middleware)' "$bin_dir/next15-build.log" || true
fi

if [ "${E2E:-1}" = "0" ]; then
  step "E2E=0: end-to-end tests skipped"
else
  [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] ||
    fail "${CHROMIUM_PATH:-/usr/bin/chromium} is missing: install Debian's chromium (apt-get install -y chromium); scripts/test.sh does it as root"
  step "end-to-end tests (next build + next start, Chromium via playwright-core)"
  vitest_quiet -c vitest.e2e.config.ts
fi

step "all Next.js SDK tests passed"

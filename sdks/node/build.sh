#!/usr/bin/env bash
# Makes sdks/node ready to use from this checkout: npm ci when node_modules does not match
# package-lock.json (skipped otherwise; npm's download cache is $NPM_CONFIG_CACHE, default
# ~/.npm), then tsc into dist/ when dist is missing or older than the sources. Used by test.sh
# and by examples/mcp-server-ts/run. Quiet unless it has work to do (which it reports on stderr).
set -euo pipefail
cd "$(dirname "$0")"
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.kit-lock-hash 2>/dev/null)" != "$lock_hash" ]; then
  echo "sdks/node: npm ci" >&2
  npm ci --no-audit --no-fund --prefer-offline --loglevel=error >&2
  echo "$lock_hash" > node_modules/.kit-lock-hash
fi
if [ ! -f dist/.built ] || [ -n "$(find src package.json tsconfig.json -newer dist/.built -print -quit)" ]; then
  echo "sdks/node: tsc" >&2
  rm -rf dist
  node_modules/.bin/tsc -p tsconfig.json
  touch dist/.built
fi

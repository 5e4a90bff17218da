#!/usr/bin/env bash
# The Python kit's tests (pytest) against a real Gatehouse binary: the challenge matrix, key
# rotation, sessions, API keys, the Starlette/FastAPI and MCP SDK glue; then the benchmark of a
# cached-key verification (printed, not asserted).
# The virtual environment is made once per requirements-test.txt and Python version under
# $GATEHOUSE_PY_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/gatehouse) and reused after.
#   GATEHOUSE_BIN=/path/to/gatehouse sdks/python/test.sh   use a built binary
set -euo pipefail
cd "$(dirname "$0")"
repo_root=$(cd ../.. && pwd)

# Debian ships venv and ensurepip in python3-venv: install it where missing and allowed (CI runs as root).
if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "sdks/python: installing Python (python3-venv)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv; } >/dev/null
  fi
fi
command -v python3 >/dev/null || { echo "sdks/python: python3 is not installed (3.10 or later)" >&2; exit 1; }
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { echo "sdks/python: Python 3.10 or later is needed" >&2; exit 1; }

cache="${GATEHOUSE_PY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse}"
key=$( (cat requirements-test.txt; python3 -c 'import sys; print(sys.version)') | sha256sum | cut -c1-16)
venv="$cache/sdk-python-test-$key"
if [ ! -f "$venv/.installed" ]; then
  echo "sdks/python: creating $venv"
  rm -rf "$venv"
  mkdir -p "$cache"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
  touch "$venv/.installed"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "${GATEHOUSE_BIN:-}" ] || [ ! -x "$GATEHOUSE_BIN" ]; then
  (cd "$repo_root" && go build -o "$work/gatehouse" ./cmd/gatehouse)
  export GATEHOUSE_BIN="$work/gatehouse"
fi

"$venv/bin/python" -m pytest -q -p no:cacheprovider tests
"$venv/bin/python" bench.py --seconds 1

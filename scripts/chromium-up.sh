#!/usr/bin/env bash
# Makes Debian's Chromium available to the browser tests (the dashboard's in cmd/gatehouse, and any
# other suite that drives a real browser): installs the `chromium` package with apt-get where
# /usr/bin/chromium is missing. Installing needs root. No browser build is ever downloaded.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "Chromium is missing and installing it needs root: apt-get install -y chromium" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq chromium >/dev/null
test -x /usr/bin/chromium

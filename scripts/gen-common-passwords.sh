#!/usr/bin/env bash
# Regenerates password/common_passwords.txt from the password frequency list of the npm
# package zxcvbn (MIT, (c) Dan Wheeler and Dropbox, Inc.; see
# password/COMMON_PASSWORDS_LICENSE.txt). We keep all of the list, lower-cased, deduplicated and
# sorted in byte order: password/policy.go looks entries up by binary search over the embedded file.
# Requires npm and node. Run from anywhere: ./scripts/gen-common-passwords.sh
set -euo pipefail

ZXCVBN_VERSION=4.4.2
MIN_ENTRIES=10000

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/password/common_passwords.txt"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "zxcvbn@${ZXCVBN_VERSION}" >/dev/null)
tar -xzf "$tmp/zxcvbn-${ZXCVBN_VERSION}.tgz" -C "$tmp"

# The compiled lib/ file is a plain CommonJS module, so node can load it without CoffeeScript.
# Lower-casing matches the lookup (isCommon), which lower-cases the password first.
node - "$tmp/package/lib/frequency_lists.js" >"$tmp/frequency_order.txt" <<'JS'
const lists = require(process.argv[2]);
const seen = new Set();
const out = [];
for (const raw of lists.passwords) {
  const pw = String(raw).trim().toLowerCase();
  if (pw === "" || /[\r\n]/.test(pw) || seen.has(pw)) continue;
  seen.add(pw);
  out.push(pw);
}
process.stdout.write(out.join("\n") + "\n");
JS

# Byte order (LC_ALL=C), not the locale's collation: the binary search compares bytes.
LC_ALL=C sort -u "$tmp/frequency_order.txt" >"$tmp/common_passwords.txt"

count="$(wc -l <"$tmp/common_passwords.txt" | tr -d ' ')"
if [ "$count" -lt "$MIN_ENTRIES" ]; then
  echo "gen-common-passwords: only $count entries extracted (want >= $MIN_ENTRIES); refusing to overwrite $out" >&2
  exit 1
fi

# Replace atomically so a concurrent build never embeds a half-written file.
cp "$tmp/common_passwords.txt" "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $count passwords to $out"

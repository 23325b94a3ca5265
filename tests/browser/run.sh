#!/usr/bin/env bash
# Runs the real-browser tests (every tests/browser/*.test.mjs) from any directory.
#
# Builds nothing: build first (`SQLX_OFFLINE=true cargo build`), or point PROMPTSHIP_BIN
# at a binary. Needs Node.js >= 20 and Chromium (CHROMIUM_PATH, default /usr/bin/chromium).
# Extra arguments go to `node --test`, e.g. --test-name-pattern=JavaScript.
# TEST_FILES picks files, e.g. TEST_FILES=accounts.test.mjs (default: all *.test.mjs).
# SCREENSHOTS=1 also rewrites docs/screenshots/*.png.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

# Resolve a relative PROMPTSHIP_BIN against the caller's directory, before the cd below.
bin="${PROMPTSHIP_BIN:-$root/target/debug/promptship}"
case "$bin" in
  /*) ;;
  *) bin="$PWD/$bin" ;;
esac
if [[ ! -x "$bin" ]]; then
  echo "run.sh: no promptship binary at $bin" >&2
  echo "run.sh: build it with 'SQLX_OFFLINE=true cargo build' or set PROMPTSHIP_BIN" >&2
  exit 2
fi
export PROMPTSHIP_BIN="$bin"

cd "$here"
if [[ ! -d node_modules/playwright-core || ! -d node_modules/axe-core ]]; then
  npm ci --no-audit --no-fund
fi

# shellcheck disable=SC2086 # word splitting of TEST_FILES is meant
exec node --test "$@" ${TEST_FILES:-*.test.mjs}

#!/usr/bin/env bash
# Builds and runs the release binary the way the Dockerfile does (the same build flags
# and environment, the data in a temporary /data-like folder), checks `healthcheck`, a
# backup, and a clean exit on SIGTERM. The Docker engine itself is not needed.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
SQLX_OFFLINE=true cargo build --release --locked --features jemalloc --bin promptship
bin="$root/target/release/promptship"
# The feature took: jemalloc's messages are in the binary (its symbols are stripped).
if ! grep -q '<jemalloc>' "$bin"; then
  echo "FAIL: the release binary was built without jemalloc" >&2
  exit 1
fi

data="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$data"; }
trap cleanup EXIT
mkdir -p "$data/backups"
# The image's environment, but on loopback and a free port.
export BIND_ADDR="127.0.0.1:$port" DATABASE_URL="sqlite://$data/promptship.db" LOG_FORMAT=json
unset OPENAI_API_KEY OPENAI_BASE_URL

passed=0 failed=0
check() { if "$@"; then passed=$((passed + 1)); echo "ok: $*"; else failed=$((failed + 1)); echo "FAILED: $*"; fi; }

"$bin" healthcheck 2>/dev/null && { echo "healthcheck passed with no server"; exit 1; }
(cd "$data" && exec "$bin" serve) > "$data/server.log" 2>&1 &
pid=$!
up=false
for _ in $(seq 100); do "$bin" healthcheck 2>/dev/null && { up=true; break; }; sleep 0.1; done
check $up
check "$bin" healthcheck
check "$bin" backup "$data/backups/first.db"
check "$bin" doctor
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
check test "$status" -eq 0
check grep -q '"shutdown complete"' "$data/server.log"
ls -la "$bin" | awk '{ printf "release binary: %.1f MB\n", $5 / 1048576 }'
echo "release: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

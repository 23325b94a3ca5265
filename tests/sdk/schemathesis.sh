#!/usr/bin/env bash
# Fuzzes the OpenAPI document's routes with schemathesis against a running promptship in
# demo mode, with a key made through the app: no 5xx, and every response must match the
# document (status codes, content types, bodies). Needs the binary built.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/target/sdk-venv"
if [ ! -x "$venv/bin/st" ] || ! cmp -s "$here/requirements.txt" "$venv/requirements.txt"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$venv/requirements.txt"
fi
bin="${PROMPTSHIP_BIN:-$root/target/debug/promptship}"
work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# Generous limits: the fuzzer makes hundreds of calls from one address and one account.
env -u OPENAI_API_KEY -u OPENAI_BASE_URL \
  BIND_ADDR="127.0.0.1:$port" DATABASE_URL="sqlite://$work/app.db" LOG_FORMAT=json \
  DEMO_WORD_DELAY_MS=0 USER_DAILY_TOKENS=100000000 GLOBAL_DAILY_TOKENS=100000000 \
  GLOBAL_DAILY_USD=1000 MESSAGE_RATE_PER_MINUTE=100000 AUTH_RATE_PER_MINUTE=1000 \
  WRITE_RATE_PER_MINUTE=100000 GUESTS_PER_HOUR=100000 GUEST_MAX_CONVERSATIONS=100000 \
  "$bin" > "$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done

curl -fs -o /dev/null -c "$work/cookies" -X POST "$base/signup" \
  --data-urlencode "email=fuzz@example.com" --data-urlencode "password=correct horse battery staple" -w ''
key="$(curl -fs -b "$work/cookies" -X POST "$base/settings/keys" --data-urlencode "name=schemathesis" \
  | grep -o 'ps_[0-9a-f]*_[0-9a-f]*' | head -n 1)"
[ -n "$key" ] || { echo "could not create a key"; exit 1; }

cd "$work"
"$venv/bin/st" run "$base/api/openapi.json" \
  --header "Authorization: Bearer $key" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-40}" \
  --workers 1 \
  --generation-database none \
  --max-time "${SCHEMATHESIS_SECONDS:-300}"

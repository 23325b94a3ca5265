#!/usr/bin/env bash
# Puts Caddy (Debian's package) in front of promptship on 127.0.0.1 with the repo's
# Caddyfile, adapted only for local certificates and ports, and shows: a streamed
# answer's first chunk arrives through Caddy well before its last is generated; the
# security headers and HSTS arrive; plain HTTP is redirected to HTTPS.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
bin="${PROMPTSHIP_BIN:-$root/target/debug/promptship}"
work="$(mktemp -d)"
cleanup() {
  for p in ${app_pid:-} ${caddy_pid:-}; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

if command -v caddy >/dev/null; then
  caddy="$(command -v caddy)"
else
  (cd "$work" && apt-get download -q caddy >/dev/null 2>&1) \
    || { apt-get update -qq >/dev/null 2>&1; (cd "$work" && apt-get download -q caddy >/dev/null); }
  dpkg-deb -x "$work"/caddy_*.deb "$work/caddy-root"
  caddy="$work/caddy-root/usr/bin/caddy"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
app_port=$(free_port) http_port=$(free_port) https_port=$(free_port)

# The repo's Caddyfile with only the address, the upstream and local certificates changed.
{
  printf '{\n\tlocal_certs\n\tskip_install_trust\n\tadmin off\n\tdefault_bind 127.0.0.1\n\thttp_port %s\n\thttps_port %s\n}\n\n' "$http_port" "$https_port"
  sed -e "s/^{\$DOMAIN} {/localhost {/" -e "s/reverse_proxy promptship:3000/reverse_proxy 127.0.0.1:$app_port/" deploy/Caddyfile
} > "$work/Caddyfile"
grep -q "reverse_proxy 127.0.0.1:$app_port" "$work/Caddyfile"

env -u OPENAI_API_KEY -u OPENAI_BASE_URL \
  BIND_ADDR="127.0.0.1:$app_port" DATABASE_URL="sqlite://$work/app.db" LOG_FORMAT=json \
  TRUSTED_PROXIES=127.0.0.1 PUBLIC_URL="https://localhost:$https_port" DEMO_WORD_DELAY_MS=50 \
  "$bin" > "$work/app.log" 2>&1 &
app_pid=$!
HOME="$work" XDG_DATA_HOME="$work/caddy-data" XDG_CONFIG_HOME="$work/caddy-config" \
  "$caddy" run --adapter caddyfile --config "$work/Caddyfile" > "$work/caddy.log" 2>&1 &
caddy_pid=$!

base="https://localhost:$https_port"
for _ in $(seq 150); do curl -ksf "$base/healthz" >/dev/null && break; sleep 0.2; done
curl -ksf "$base/healthz" >/dev/null || { cat "$work/caddy.log"; echo "Caddy did not serve"; exit 1; }

BASE="$base" python3 - <<'PY'
import http.client, json, os, ssl, time, urllib.parse

base = urllib.parse.urlparse(os.environ["BASE"])
context = ssl._create_unverified_context()  # Caddy's local CA, not trusted here on purpose
passed = failed = 0

def check(ok, what):
    global passed, failed
    print(("ok: " if ok else "FAILED: ") + what)
    passed, failed = passed + ok, failed + (not ok)

def connect():
    return http.client.HTTPSConnection(base.hostname, base.port, context=context, timeout=30)

conn = connect()
conn.request("POST", "/api/v1/conversations", body="{}", headers={"Content-Type": "application/json"})
response = conn.getresponse()
cookie = response.getheader("Set-Cookie", "").split(";")[0]
conversation = json.loads(response.read())["id"]

conn = connect()
sent = time.monotonic()
conn.request(
    "POST", f"/api/v1/conversations/{conversation}/messages", body=json.dumps({"content": "hello"}),
    headers={"Content-Type": "application/json", "Accept": "text/event-stream", "Cookie": cookie},
)
response = conn.getresponse()
first_delta = done = None
for raw in response:
    line = raw.decode().strip()
    if line == "event: delta" and first_delta is None:
        first_delta = time.monotonic() - sent
    if line == "event: done":
        done = time.monotonic() - sent
check(first_delta is not None and done is not None, "the stream through Caddy has deltas and a done event")
if first_delta is not None and done is not None:
    print(f"first chunk after {first_delta * 1000:.0f} ms, last after {done * 1000:.0f} ms")
    check(first_delta < 1.0 and done - first_delta > 2.0, "the first chunk arrives well before the last is generated")

conn = connect()
conn.request("GET", "/")
response = conn.getresponse()
response.read()
headers = {k.lower(): v for k, v in response.getheaders()}
check("script-src 'self'" in headers.get("content-security-policy", ""), "the CSP arrives through Caddy")
check(headers.get("x-content-type-options") == "nosniff", "nosniff arrives")
check("max-age=" in headers.get("strict-transport-security", ""), "HSTS arrives")
check(headers.get("strict-transport-security", "").count("max-age") == 1, "HSTS is sent once")
print(f"caddy: {passed} passed, {failed} failed")
raise SystemExit(1 if failed else 0)
PY

redirect="$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "http://localhost:$http_port/")"
echo "plain HTTP: $redirect"
case "$redirect" in
  30[18]\ https://localhost*) echo "ok: plain HTTP is redirected to HTTPS" ;;
  *) echo "FAILED: plain HTTP is not redirected"; exit 1 ;;
esac

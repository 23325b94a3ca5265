#!/usr/bin/env bash
# Checks that every apps/*.prompt is a dotprompt file as Google's reference implementation
# reads it: renders each app's promptship.sample with the `dotprompt` npm package
# (render.mjs) and with `$PROMPTSHIP_BIN apps render NAME`, and fails unless the messages
# (roles and exact text) are the same JSON. Also fails on an app without a sample, one the
# reference cannot parse, or one whose sample or template strays from its input schema.
# The package is installed into target/apps-node from package-lock.json. Without node/npm
# or the binary the check is skipped, or fails in CI (PROMPTSHIP_CI=1).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

# Resolve a relative PROMPTSHIP_BIN against the caller's directory, before the cd below.
bin="${PROMPTSHIP_BIN:-$root/target/debug/promptship}"
case "$bin" in
  /*) ;;
  *) bin="$PWD/$bin" ;;
esac
cd "$root"

skip() {
  if [ "${PROMPTSHIP_CI:-}" = 1 ]; then echo "FAIL (cannot run in CI): $*" >&2; exit 1; fi
  echo "SKIP: $*"
  exit 0
}
command -v node >/dev/null && command -v npm >/dev/null || skip "node and npm are needed for the reference"
[ -x "$bin" ] || skip "no promptship binary at $bin (build it, or set PROMPTSHIP_BIN)"

export APPS_NODE_DIR="$root/target/apps-node"
if [ ! -d "$APPS_NODE_DIR/node_modules/dotprompt" ] || ! cmp -s "$here/package-lock.json" "$APPS_NODE_DIR/package-lock.json"; then
  rm -rf "$APPS_NODE_DIR" && mkdir -p "$APPS_NODE_DIR"
  cp "$here/package.json" "$here/package-lock.json" "$APPS_NODE_DIR/"
  (cd "$APPS_NODE_DIR" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
shopt -s nullglob
files=(apps/*.prompt)
[ ${#files[@]} -gt 0 ] || { echo "FAIL: no apps/*.prompt to check" >&2; exit 1; }

failed=()
for file in "${files[@]}"; do
  name="$(basename "$file" .prompt)"
  if ! node "$here/render.mjs" render "$file" > "$scratch/$name.reference.json"; then
    failed+=("$name"); continue
  fi
  if ! "$bin" apps render "$name" > "$scratch/$name.promptship.json" 2> "$scratch/$name.stderr"; then
    echo "$name: \`promptship apps render $name\` failed:" >&2
    cat "$scratch/$name.stderr" >&2
    failed+=("$name"); continue
  fi
  if node "$here/render.mjs" compare "$name" "$scratch/$name.reference.json" "$scratch/$name.promptship.json"; then
    echo "ok: $name"
  else
    failed+=("$name")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "FAIL: ${#failed[@]} of ${#files[@]} apps: ${failed[*]}" >&2
  exit 1
fi
echo "all ${#files[@]} apps render as the reference (dotprompt $(node -p "require('$APPS_NODE_DIR/node_modules/dotprompt/package.json').version")) does"

#!/usr/bin/env bash
# Runs the official OpenAI Python SDK against promptship. Needs the binary built
# (PROMPTSHIP_BIN, default target/debug/promptship); installs the SDK in a virtualenv.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/target/sdk-venv"
if [ ! -x "$venv/bin/pytest" ] || ! cmp -s "$here/requirements.txt" "$venv/requirements.txt"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$venv/requirements.txt"
fi
export PROMPTSHIP_BIN="${PROMPTSHIP_BIN:-$root/target/debug/promptship}"
cd "$root"
exec "$venv/bin/pytest" -q -p no:cacheprovider "$here"

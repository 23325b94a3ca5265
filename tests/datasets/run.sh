#!/usr/bin/env bash
# Loads every export format with Hugging Face `datasets` and runs OpenAI's cookbook
# checks on the openai-* files (tests/datasets/check_exports.py). Needs the binary built
# (PROMPTSHIP_BIN, default target/debug/promptship); installs `datasets` from PyPI into a
# virtualenv under target/ (the only network use: the exports are made with the demo model).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/target/datasets-venv"
if ! command -v python3 >/dev/null; then
  echo "python3 is missing: the export formats cannot be checked" >&2
  if [ -n "${PROMPTSHIP_CI:-}" ]; then exit 1; fi
  echo "skipped (set PROMPTSHIP_CI=1 to fail instead)"
  exit 0
fi
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$here/requirements.txt" "$venv/requirements.txt"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$venv/requirements.txt"
fi
export PROMPTSHIP_BIN="${PROMPTSHIP_BIN:-$root/target/debug/promptship}"
# Everything after the install is offline: the files are local.
export HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1 HF_HOME="$root/target/datasets-cache"
exec "$venv/bin/python" "$here/check_exports.py"

#!/usr/bin/env bash
# Keeps the cargo-generate side files honest: each `X.liquid` rendered with this
# repository's own values must equal the plain `X` that a clone builds with, so the two
# ways of starting a project give the same code. Also checks that cargo-generate.toml
# lets Liquid touch only those side files (Askama templates, static files and workflows
# use `{{ }}` / `{% %}` themselves). No tools needed beyond bash and sed.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ ! -f cargo-generate.toml ]]; then
  echo "template: no cargo-generate.toml (a project made from the template): nothing to check"
  exit 0
fi
failed=0
description=$(sed -n 's/^description = "\(.*\)"$/\1/p' Cargo.toml)
tagline=$(sed -n 's/^tagline = "\(.*\)"$/\1/p' promptship.toml)
tagline_ko=$(sed -n 's/^tagline_ko = "\(.*\)"$/\1/p' promptship.toml)
render() { # the placeholders cargo-generate.toml and cargo-generate itself define
  sed -e 's/{{project-name}}/promptship/g' \
      -e "s|{{description}}|$description|g" \
      -e "s|{{tagline}}|$tagline|g" \
      -e "s|{{tagline_ko}}|$tagline_ko|g" "$1"
}
for side in *.liquid; do
  plain=${side%.liquid}
  if ! diff -u "$plain" <(render "$side"); then
    echo "FAIL: $side rendered differs from $plain: make the same change in both" >&2
    failed=1
  fi
  grep -q "\"$side\"" cargo-generate.toml \
    || { echo "FAIL: $side is not in cargo-generate.toml's include list" >&2; failed=1; }
  grep -q "\"$plain\"" cargo-generate.toml \
    || { echo "FAIL: $plain is not in cargo-generate.toml's include list" >&2; failed=1; }
  if grep -n '{{\|{%' "$plain"; then
    echo "FAIL: $plain has Liquid in it: a plain clone would not build" >&2
    failed=1
  fi
  if grep -o '{{[^}]*}}' "$side" | grep -v -e '{{project-name}}' -e '{{description}}' -e '{{tagline}}' -e '{{tagline_ko}}'; then
    echo "FAIL: $side uses a placeholder neither cargo-generate nor cargo-generate.toml defines" >&2
    failed=1
  fi
done
include=$(sed -n 's/^include = \[\(.*\)\]$/\1/p' cargo-generate.toml | tr -d '" ' | tr ',' '\n')
for file in $include; do
  [[ -f $file.liquid || $file == *.liquid ]] \
    || { echo "FAIL: Liquid would render $file, which has no side file" >&2; failed=1; }
  [[ -f $file ]] || { echo "FAIL: the include list names $file, which does not exist" >&2; failed=1; }
done
if [[ $failed == 0 ]]; then
  echo "template: the side files match their plain files; Liquid touches nothing else"
fi
exit $failed

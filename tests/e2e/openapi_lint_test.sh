#!/usr/bin/env bash
# walletd's OpenAPI document as client developers meet it: what `walletd
# openapi` prints (the document GET /openapi.json serves) is docs/openapi.json,
# and the pinned @redocly/cli lints it clean with its recommended rules and
# no ignores (no redocly.yaml: the defaults are the recommended ruleset).
# The npm install is cached outside the work tree, keyed by the version, so
# repeated runs cost no download. Without npm: skipped on a developer's
# machine (exit 77), failed in CI (scripts/install-deps installs it).
set -euo pipefail
: "${WALLETD:?set WALLETD to the walletd binary}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
redocly_version=2.77.0
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

"$WALLETD" openapi >"$tmp/openapi.json"
if ! cmp -s "$tmp/openapi.json" "$root/docs/openapi.json"; then
  diff -u "$root/docs/openapi.json" "$tmp/openapi.json" | head -40
  echo "FAIL: docs/openapi.json differs from 'walletd openapi': regenerate it with walletd openapi > docs/openapi.json"
  exit 1
fi

if ! command -v npm >/dev/null; then
  if [ -n "${CI:-}" ]; then echo "FAIL: npm is missing (scripts/install-deps installs nodejs and npm)"; exit 1; fi
  echo "SKIP: npm is not installed"
  exit 77
fi
source "$root/tests/e2e/npm_cache.sh"
cache="$(npm_cached redocly-cli "@redocly/cli@$redocly_version")" || { echo "FAIL: npm install @redocly/cli@$redocly_version"; exit 1; }
redocly="$cache/node_modules/.bin/redocly"
# Run where no redocly.yaml can be picked up, without telemetry.
cd "$tmp"
if ! REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true "$redocly" lint --format=stylish \
     "$tmp/openapi.json" >"$tmp/lint.log" 2>&1; then
  cat "$tmp/lint.log"
  echo "FAIL: redocly lint found errors"
  exit 1
fi
# Warnings do not fail redocly's exit status; they fail this test.
if grep -qE 'You have [0-9]+ warnings?' "$tmp/lint.log" || ! grep -q 'Your API description is valid' "$tmp/lint.log"; then
  cat "$tmp/lint.log"
  echo "FAIL: redocly lint warned"
  exit 1
fi
grep -E 'validat' "$tmp/lint.log"
echo "ok: docs/openapi.json is what walletd serves, and @redocly/cli@$redocly_version lints it clean"

#!/usr/bin/env bash
# walletd as a client developer meets it: a TypeScript client generated
# from its /openapi.json (openapi-typescript for the types, openapi-fetch for
# the calls), type-checked with tsc --strict, run by Node against a live
# walletd: wallets, a deposit and its replay, a key reused for another
# request (409), transfers, an overdraw (422), balances, history pages
# followed to the end, one transaction, a missing user; every answer's
# status is one the document lists and its body validates against the
# schema for that status (ajv). The npm packages are pinned and cached
# outside the work tree, keyed by their versions.
source "$(dirname "$0")/lib.sh"
: "${WALLETD:?set WALLETD to the walletd binary}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
if ! command -v npm >/dev/null; then
  [ -n "${CI:-}" ] && fail "npm is missing (scripts/install-deps installs nodejs and npm)"
  echo "SKIP: npm is not installed"; exit 77
fi
packages=(openapi-typescript@7.13.0 openapi-fetch@0.17.0 typescript@5.9.3 @types/node@20.19.43 ajv@8.20.0)
source "$root/tests/e2e/npm_cache.sh"
cache="$(npm_cached openapi-client "${packages[@]}")" || fail "npm install ${packages[*]}"

# The client project: the test's sources, the generated types, the cached packages.
client="$tmp/client"
mkdir -p "$client"
cp "$root/tests/e2e/openapi_client/client.ts" "$root/tests/e2e/openapi_client/tsconfig.json" "$client/"
printf '{"type": "module"}\n' >"$client/package.json"
ln -s "$cache/node_modules" "$client/node_modules"
"$WALLETD" openapi >"$client/openapi.json"
"$cache/node_modules/.bin/openapi-typescript" "$client/openapi.json" -o "$client/schema.d.ts" >"$tmp/gen.log" 2>&1 ||
  { cat "$tmp/gen.log"; fail "openapi-typescript could not generate the client's types"; }
pass
(cd "$client" && "$cache/node_modules/.bin/tsc" -p tsconfig.json) >"$tmp/tsc.log" 2>&1 ||
  { cat "$tmp/tsc.log"; fail "the client does not type-check against the generated types"; }
pass
cp "$client/openapi.json" "$client/out/openapi.json"

asset="TS$(date +%s%N | tail -c 7)"
run 0 asset add "$asset" --scale 2
cat >"$tmp/walletd.toml" <<TOML
database = "$WALLETCTL_DATABASE"
[daemon]
listen = "127.0.0.1:0"
[[daemon.tokens]]
name = "ts-client"
sha256 = "$(printf 'tok-ts' | "$WALLETD" hash-token)"
scopes = ["read", "move"]
TOML
"$WALLETD" -c "$tmp/walletd.toml" >"$tmp/walletd.log" 2>&1 &
daemon=$!
trap 'kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; rm -rf "$tmp"' EXIT
port=$(walletd_port "$tmp/walletd.log")
[ -n "$port" ] || fail "walletd did not start: $(cat "$tmp/walletd.log")"
node "$client/out/client.js" "http://127.0.0.1:$port" tok-ts "$asset" "$$" >"$tmp/client.log" 2>&1 ||
  { cat "$tmp/client.log"; fail "the generated client's run against walletd"; }
cat "$tmp/client.log"
pass
finish

# Sourced by the tests that run npm packages (openapi_lint_test.sh,
# openapi_client_test.sh). npm_cached NAME PACKAGE...: installs the pinned
# PACKAGEs once into a cache outside the work tree (/var/cache/walletctl/npm
# when it can be written, as root in CI, else the user's cache), in a
# directory named NAME plus a hash of the package list, and prints that
# directory. Installed beside the cache and renamed into place, so a
# concurrent or interrupted install never leaves a half-filled cache. On a
# failed install prints npm's log and returns 1.
npm_cached() {
  local name=$1; shift
  local root="${WALLET_NPM_CACHE:-/var/cache/walletctl/npm}"
  if [ -z "${WALLET_NPM_CACHE:-}" ] && ! mkdir -p "$root" 2>/dev/null; then
    root="${XDG_CACHE_HOME:-$HOME/.cache}/walletctl/npm"
  fi
  local cache="$root/$name-$(printf '%s\n' "$@" | sha256sum | cut -c1-16)"
  if [ ! -f "$cache/.installed" ]; then
    mkdir -p "$root"
    local staging log
    staging="$(mktemp -d "$cache.XXXXXX")"  # mktemp's template, not a marker
    log="$staging.log"
    if ! npm install --prefix "$staging" --no-audit --no-fund --loglevel=error "$@" >"$log" 2>&1; then
      cat "$log" >&2; rm -rf "$staging" "$log"; return 1
    fi
    touch "$staging/.installed"
    rm -f "$log"
    mv -T "$staging" "$cache" 2>/dev/null || rm -rf "$staging"
  fi
  echo "$cache"
}

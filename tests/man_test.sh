#!/usr/bin/env bash
# Lints the man pages (mandoc and groff must report nothing) and checks that
# they are in step with the code: every command and every option that
# `walletctl ... --help` shows is documented in walletctl(1).
set -euo pipefail
: "${WALLETCTL:?set WALLETCTL to the walletctl binary}"
root="$(cd "$(dirname "$0")/.." && pwd)"
page="$root/man/walletctl.1"
status=0

for f in "$root"/man/*.[0-9]; do
  lint="$(mandoc -Tlint -Wwarning "$f" 2>&1 || true)"
  if [ -n "$lint" ]; then echo "mandoc: $lint"; status=1; fi
  warnings="$(groff -man -ww -z -Tutf8 "$f" 2>&1 >/dev/null || true)"
  if [ -n "$warnings" ]; then echo "groff: $f: $warnings"; status=1; fi
done

# The man page as plain text, with roff's \- turned into -.
text="$(sed 's/\\-/-/g; s/\\f[BIRP]//g' "$page")"

options_of() { "$WALLETCTL" "$@" --help | grep -oE '(^|[ ,])--[a-z][a-z-]*' | sed 's/^[ ,]//' | sort -u; }

commands="$("$WALLETCTL" --help | awk '/^Subcommands:/ {on=1; next} on && /^  [a-z]/ {print $1}')"
[ -n "$commands" ] || { echo "could not read the command list from --help"; exit 1; }
checked=0
for command in $commands; do
  subs="$("$WALLETCTL" "$command" --help | awk '/^Subcommands:/ {on=1; next} on && /^  [a-z]/ {print $1}')"
  targets=("$command")
  if [ -n "$subs" ]; then
    targets=()
    for s in $subs; do targets+=("$command $s"); done
  fi
  for words in "${targets[@]}"; do
    if ! grep -q "^\.SS $words\b" <<<"$text"; then echo "walletctl.1 has no section for '$words'"; status=1; fi
    # shellcheck disable=SC2086
    for option in $(options_of $words); do
      checked=$((checked + 1))
      if ! grep -qF -- "$option" <<<"$text"; then echo "walletctl.1 does not document $option of '$words'"; status=1; fi
    done
  done
done
for option in $(options_of); do
  checked=$((checked + 1))
  grep -qF -- "$option" <<<"$text" || { echo "walletctl.1 does not document global option $option"; status=1; }
done
# walletd(8) documents every option of walletd --help.
if [ -n "${WALLETD:-}" ]; then
  dtext="$(sed 's/\\-/-/g; s/\\f[BIRP]//g' "$root/man/walletd.8")"
  for option in $("$WALLETD" --help | grep -oE '(^|[ ,])--[a-z][a-z-]*' | sed 's/^[ ,]//' | sort -u); do
    checked=$((checked + 1))
    grep -qF -- "$option" <<<"$dtext" || { echo "walletd.8 does not document $option"; status=1; }
  done
else
  echo "WALLETD not set: walletd(8) not checked against walletd --help"; status=1
fi
[ "$checked" -gt 20 ] || { echo "only $checked options found in --help: parsing broke"; status=1; }
[ $status -eq 0 ] && echo "ok: man pages lint clean, $checked options documented"
exit $status

#!/usr/bin/env bash
# One short fuzz run for ctest: FUZZER over a scratch copy of CORPUS for
# SECONDS, so that the checked-in corpus never changes during a test run.
# Fails (and prints the input, hex-dumped) on any crash, sanitizer report,
# leak, timeout or violated invariant.
# Usage: smoke.sh FUZZER CORPUS_DIR SECONDS
set -euo pipefail
fuzzer="$1" corpus="$2" seconds="$3"
[ -x "$fuzzer" ] || { echo "smoke: $fuzzer not built (scripts/test builds it in build-fuzz)" >&2; exit 1; }
work="$(mktemp -d "${TMPDIR:-/tmp}/walletctl-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
cp -- "$corpus"/* "$work/corpus/"
status=0
# -timeout: one input may take at most 10 s; -rss_limit_mb bounds memory;
# -max_len keeps inputs to the size of real lines and bodies.
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -max_len=4096 \
  -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" >"$work/log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
  tail -n 60 "$work/log"
  for artifact in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
    [ -e "$artifact" ] || continue
    echo "--- input $(basename "$artifact") (add it to $corpus and a unit test once fixed):"
    od -A d -t x1z -v "$artifact" | head -n 40
  done
  exit 1
fi
grep -E '^(INFO: seed corpus|#[0-9]+.*DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added)' \
  "$work/log" || true
echo "smoke: $(basename "$fuzzer") passed: ${seconds}s over $(ls "$corpus" | wc -l) seed inputs"

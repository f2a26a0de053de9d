#!/usr/bin/env bash
# monitoring/alerts.yml: valid Prometheus rules (promtool check rules), and
# its unit tests pass (promtool test rules monitoring/alerts_test.yml).
# Without promtool: skipped on a developer's machine (exit 77), failed in CI
# (scripts/install-deps installs Debian's prometheus, which has it).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if ! command -v promtool >/dev/null; then
  if [ -n "${CI:-}" ]; then echo "FAIL: promtool is missing"; exit 1; fi
  echo "SKIP: promtool is not installed"; exit 77
fi
cd "$root/monitoring"
promtool check rules alerts.yml
promtool test rules alerts_test.yml
# Every alert has its runbook section.
for alert in $(grep -oE '^ *- alert: [A-Za-z]+' alerts.yml | awk '{print $3}'); do
  grep -qx "## $alert" "$root/docs/runbook.md" || { echo "FAIL: docs/runbook.md has no section ## $alert"; exit 1; }
done
echo "ok: alert rules valid, their tests pass, each has a runbook section"

#!/usr/bin/env bash
# The bank invariant test under faults, short and bounded for ctest (about a
# minute): see chaos.sh. It runs on a PostgreSQL cluster of its own, so
# crashing that one leaves the cluster of the other tests alone.
set -euo pipefail
exec bash "$(dirname "$0")/chaos.sh" --duration 35s --cli-clients 3 --http-clients 3 --wallets 5 --fault-every 2 --fsync off

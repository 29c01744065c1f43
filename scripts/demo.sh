#!/usr/bin/env bash
# The Quick start demo: a fresh sandbox (1 master + 3 replicas on ports 33001-33004), load, two lagging
# replicas, the master killed -9, then a dry run and a real failover to the MOST lagging replica.
set -euo pipefail
cd "$(dirname "$0")/.."
S="bash scripts/sandbox.sh"
MMMF="node dist/bin/mmmf.js"
CFG=.sandbox/mmmf.config.ts
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else step() { printf '\n== %s\n' "$*"; }; fi

step "Sandbox: 1 master + 3 replicas"
$S down >/dev/null
$S up
step "Load: test4 falls 3000 transactions behind, test3 500"
$S lag test4 && $S load 3000 && $S lag test3 && $S load 500
step "Crash: kill -9 the master"
$S kill test1
step "mmmf status"
$MMMF status --cfg $CFG || true
step "mmmf --failover-to test4 --dry-run (changes nothing)"
$MMMF --cfg $CFG --failover-to test4 --dry-run
step "mmmf --failover-to test4"
$MMMF --cfg $CFG --failover-to test4
step "mmmf status after the failover"
$MMMF status --cfg $CFG
step "Same data everywhere"
for n in test2 test3 test4; do
  printf '%s: %s\n' "$n" "$($S sql $n 'CHECKSUM TABLE sbtest.t' | tail -1)"
done
echo
echo "Sandbox left running in .sandbox (stop it with: bash scripts/sandbox.sh down)"

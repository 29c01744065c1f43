#!/usr/bin/env bash
# `npm run demo:pair`: MMM's master-master pair on a fresh sandbox (test1 ⇄ test2, test3 and test4 under the
# active): a switchover to the passive that keeps the pair circular, a failover after the active is killed -9,
# then rejoin of the old active as the passive again.
set -euo pipefail
cd "$(dirname "$0")/.."
S="bash scripts/sandbox.sh --dir .sandbox-pair --base-port 33011"
MMMF="node dist/bin/mmmf.js"
CFG=.sandbox-pair/mmmf.config.ts
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else step() { printf '\n== %s\n' "$*"; }; fi

step "Sandbox: test1 ⇄ test2 (a master-master pair), test3 and test4 under the active"
$S down >/dev/null
$S --topology pair up
$S load 500
$MMMF status --cfg $CFG
step "mmmf --switchover-to test2 (MMM's move_role writer: the pair stays circular)"
$MMMF --cfg $CFG --switchover-to test2
$MMMF status --cfg $CFG
step "Crash: kill -9 the active (test2), then fail over to the passive"
$S load 200
$S kill test2
$MMMF --cfg $CFG --failover-to test1 --force
$MMMF status --cfg $CFG || true
step "test2 comes back: mmmf rejoin test2 (a read-only passive again, the pair circular)"
$S start test2
$MMMF --cfg $CFG rejoin test2
$MMMF status --cfg $CFG
echo
echo "Sandbox left running in .sandbox-pair (stop it with: bash scripts/sandbox.sh --dir .sandbox-pair down)"

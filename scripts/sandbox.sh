#!/usr/bin/env bash
# Local MariaDB replication sandbox for mmmf: 1 master + N replicas on 127.0.0.1.
#
#   scripts/sandbox.sh [options] up|down|status|reset
#   scripts/sandbox.sh install                          install mariadb-server when missing (as root)
#   scripts/sandbox.sh [options] load [TRANSACTIONS]    write load on the current master
#   scripts/sandbox.sh [options] lag NAME               stop NAME's IO thread (it falls behind)
#   scripts/sandbox.sh [options] unlag NAME             start NAME's IO thread again
#   scripts/sandbox.sh [options] kill NAME              kill -9 NAME's server (a crash)
#   scripts/sandbox.sh [options] start NAME             start NAME's server again
#   scripts/sandbox.sh [options] sql NAME 'STATEMENT'   run SQL on NAME
#   scripts/sandbox.sh [options] cnf NAME 'option=value' add a server option to NAME's my.cnf and restart it
#
# Options (or environment):
#   --dir DIR            MMMF_SANDBOX_DIR     default: ./.sandbox
#   --base-port P        MMMF_SANDBOX_PORT    default: 33001 (test1 = P, test2 = P+1, ...)
#   --replicas N         MMMF_SANDBOX_REPLICAS default: 3
#   --binlog-format F    MMMF_BINLOG_FORMAT   ROW (default), STATEMENT or MIXED
#
# Every instance has its own datadir, socket, tmpdir and pid file under DIR. Only processes whose pid files
# live under DIR are ever stopped. The cluster's ready-made config is DIR/mmmf.config.ts. Accounts: root
# (no password, admin), repl/repl-secret (replication), app/app-secret (DML on sbtest, like an application).
set -euo pipefail

DIR=${MMMF_SANDBOX_DIR:-$PWD/.sandbox}
BASE_PORT=${MMMF_SANDBOX_PORT:-33001}
REPLICAS=${MMMF_SANDBOX_REPLICAS:-3}
FORMAT=${MMMF_BINLOG_FORMAT:-ROW}
REPL_USER=repl
REPL_PASSWORD=repl-secret

die() { echo "sandbox: $*" >&2; exit 1; }

args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) DIR=$2; shift 2 ;;
    --base-port) BASE_PORT=$2; shift 2 ;;
    --replicas) REPLICAS=$2; shift 2 ;;
    --binlog-format) FORMAT=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
set -- "${args[@]+"${args[@]}"}"
[ $# -ge 1 ] || die "missing command (up|down|status|reset|load|lag|unlag|kill|start|sql); see --help"
FORMAT=$(echo "$FORMAT" | tr '[:lower:]' '[:upper:]')
case "$FORMAT" in ROW|STATEMENT|MIXED) ;; *) die "--binlog-format must be ROW, STATEMENT or MIXED (got $FORMAT)" ;; esac
case "$REPLICAS" in ''|*[!0-9]*) die "--replicas must be a number" ;; esac

nodes() { local i; for ((i = 1; i <= REPLICAS + 1; i++)); do echo "test$i"; done; }
node_index() { echo "${1#test}"; }
node_port() { echo $((BASE_PORT + $(node_index "$1") - 1)); }
node_dir() { echo "$DIR/$1"; }
node_exists() { [ -f "$(node_dir "$1")/my.cnf" ] || die "no sandbox node '$1' in $DIR"; }
pid_of() { cat "$(node_dir "$1")/mariadbd.pid" 2>/dev/null || true; }
alive() { local pid; pid=$(pid_of "$1"); [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

client() { # client NAME [mariadb args...]
  local n=$1; shift
  mariadb --no-defaults -uroot -h127.0.0.1 -P"$(node_port "$n")" --connect-timeout=5 "$@"
}
sql() { client "$1" -N -B -e "$2"; }

ensure_mariadb() {
  command -v mariadbd >/dev/null && command -v mariadb-install-db >/dev/null && return
  [ "$(id -u)" = 0 ] || die "mariadb-server is not installed; run: sudo apt-get install -y mariadb-server"
  echo "sandbox: installing mariadb-server from the OS packages..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq mariadb-server mariadb-client >/dev/null
}

# One system-table template per machine and server version, copied for every node: running
# mariadb-install-db in parallel is slow and, with a shared tmpdir, corrupts system tables.
template() {
  local version cache lock
  version=$(mariadbd --version | awk '{print $3}')
  cache=${MMMF_TEMPLATE_CACHE:-${TMPDIR:-/tmp}/mmmf-template-$(id -u)}/$version
  mkdir -p "$(dirname "$cache")"
  lock="$cache.lock"
  (
    flock 9
    if [ ! -f "$cache/.done" ]; then
      rm -rf "$cache" && mkdir -p "$cache/tmp"
      mariadb-install-db --no-defaults --datadir="$cache/data" --user="$(id -un)" \
        --auth-root-authentication-method=normal --skip-test-db --tmpdir="$cache/tmp" \
        --innodb-log-file-size=16M >"$cache/install.log" 2>&1 ||
        { cat "$cache/install.log" >&2; die "mariadb-install-db failed"; }
      touch "$cache/.done"
    fi
  ) 9>"$lock"
  echo "$cache/data"
}

write_cnf() { # NAME
  local n=$1 d port idx
  d=$(node_dir "$n"); port=$(node_port "$n"); idx=$(node_index "$n")
  cat >"$d/my.cnf" <<EOF
[mariadbd]
user=$(id -un)
datadir=$d/data
socket=$d/mariadbd.sock
pid-file=$d/mariadbd.pid
tmpdir=$d/tmp
log-error=$d/error.log
port=$port
bind-address=127.0.0.1
skip-name-resolve
server_id=$idx
report_host=127.0.0.1
report_port=$port
log_bin=$d/data/mysql-bin
relay_log=$d/data/relay-bin
log_slave_updates=ON
binlog_format=$FORMAT
gtid_strict_mode=ON
innodb_buffer_pool_size=32M
innodb_log_file_size=16M
innodb_flush_log_at_trx_commit=2
sync_binlog=0
performance_schema=OFF
max_connections=200
EOF
  # Replicas stay read-only across restarts (MMM style: only the writer is writable).
  if [ "$idx" -gt 1 ]; then echo "read_only=ON" >>"$d/my.cnf"; fi
}

start_node() { # NAME
  local n=$1 d
  d=$(node_dir "$n")
  alive "$n" && return 0
  rm -f "$d/mariadbd.pid" "$d/mariadbd.sock"
  # setsid: the server must not die with the shell (or test runner) that started it.
  setsid mariadbd --defaults-file="$d/my.cnf" </dev/null >>"$d/error.log" 2>&1 &
}

wait_ready() { # NAME
  local n=$1 i
  for ((i = 0; i < 300; i++)); do
    if client "$n" -e 'SELECT 1' >/dev/null 2>&1; then return 0; fi
    sleep 0.05
  done
  tail -20 "$(node_dir "$n")/error.log" >&2
  die "$n did not start on port $(node_port "$n")"
}

stop_node() { # NAME [signal]
  local n=$1 sig=${2:-TERM} pid i
  pid=$(pid_of "$n")
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill "-$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < 600; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$(node_dir "$n")/mariadbd.pid"
}

write_config() {
  local f=$DIR/mmmf.config.ts n
  {
    echo "// Written by scripts/sandbox.sh for the sandbox in $DIR."
    echo "import type { MmmfConfig } from 'mmmf';"
    echo
    echo "export default {"
    echo "  replication: { user: '$REPL_USER', password: '$REPL_PASSWORD' },"
    echo "  defaults: { user: 'root', password: '' },"
    echo "  stateDir: 'state', // lock file and last-failover record, kept with the sandbox"
    echo "  hosts: {"
    for n in $(nodes); do
      echo "    $n: { host: '127.0.0.1', port: $(node_port "$n"), socket: '$(node_dir "$n")/mariadbd.sock' },"
    done
    echo "  },"
    echo "} satisfies MmmfConfig;"
  } >"$f"
}

cmd_up() {
  ensure_mariadb
  local tpl n master=test1 started=()
  tpl=$(template)
  for n in $(nodes); do
    if [ -d "$(node_dir "$n")/data" ]; then
      start_node "$n"; started+=("$n"); continue
    fi
    mkdir -p "$(node_dir "$n")/tmp"
    cp -a "$tpl" "$(node_dir "$n")/data"
    write_cnf "$n"
    start_node "$n"; started+=("$n")
  done
  for n in "${started[@]}"; do wait_ready "$n"; done
  if [ ! -f "$DIR/.initialized" ]; then
    for n in $(nodes); do
      [ "$n" = "$master" ] && continue
      sql "$n" "SET GLOBAL read_only=ON;
        CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$(node_port $master),
          MASTER_USER='$REPL_USER', MASTER_PASSWORD='$REPL_PASSWORD', MASTER_USE_GTID=slave_pos,
          MASTER_CONNECT_RETRY=1;
        START SLAVE;"
    done
    sql "$master" "CREATE USER '$REPL_USER'@'%' IDENTIFIED BY '$REPL_PASSWORD';
      GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '$REPL_USER'@'%';
      CREATE USER 'app'@'%' IDENTIFIED BY 'app-secret';
      GRANT SELECT, INSERT, UPDATE, DELETE ON sbtest.* TO 'app'@'%';
      CREATE DATABASE sbtest;
      CREATE TABLE sbtest.t (id BIGINT AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL, pad VARCHAR(255) NOT NULL,
        created TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB;"
    local pos
    pos=$(sql "$master" "SELECT @@gtid_binlog_pos")
    for n in $(nodes); do
      [ "$n" = "$master" ] && continue
      sql "$n" "SELECT MASTER_GTID_WAIT('$pos', 30)" | grep -qx 0 || die "$n did not catch up with $master"
    done
    touch "$DIR/.initialized"
  fi
  write_config
  echo "sandbox: up in $DIR: $(nodes | tr '\n' ' ')(ports $BASE_PORT..$((BASE_PORT + REPLICAS)), binlog_format=$FORMAT)"
  echo "sandbox: config: $DIR/mmmf.config.ts"
}

cmd_down() {
  local n
  [ -d "$DIR" ] || return 0
  for d in "$DIR"/test*; do [ -d "$d" ] && stop_node "$(basename "$d")" & done
  wait
  case "$DIR" in /|"$HOME"|"") die "refusing to remove $DIR" ;; esac
  rm -rf "$DIR"
  echo "sandbox: down ($DIR removed)"
}

cmd_status() {
  local n
  for n in $(nodes); do
    [ -f "$(node_dir "$n")/my.cnf" ] || { echo "$n: not created"; continue; }
    if alive "$n"; then echo "$n: running (pid $(pid_of "$n"), port $(node_port "$n"))"
    else echo "$n: stopped (port $(node_port "$n"))"; fi
  done
}

current_master() {
  local n
  for n in $(nodes); do
    alive "$n" || continue
    if [ -z "$(sql "$n" "SHOW SLAVE STATUS")" ] && [ "$(sql "$n" "SELECT @@read_only")" = 0 ]; then
      echo "$n"; return 0
    fi
  done
  die "no writable master found"
}

cmd_load() { # [TRANSACTIONS] — each one inserts 2 rows and updates one: mixed, realistic traffic
  local count=${1:-1000} master
  master=$(current_master)
  awk -v n="$count" 'BEGIN {
    srand(42)
    for (i = 1; i <= n; i++) {
      k = int(rand() * 100000)
      printf "BEGIN; INSERT INTO sbtest.t (k, pad) VALUES (%d, REPEAT(\"x\", %d)), (%d, \"it'"'"'s \\\\ \\\"quoted\\\"\");", k, 1 + k % 200, k + 1
      printf " UPDATE sbtest.t SET k = k + 1 WHERE id = %d; COMMIT;\n", 1 + int(rand() * i)
    }
  }' | client "$master"
  echo "sandbox: $count transactions written on $master"
}

cmd="$1"; shift
if [ "$cmd" != install ]; then mkdir -p "$DIR"; DIR=$(cd "$DIR" && pwd); fi
case "$cmd" in
  install) ensure_mariadb; echo "sandbox: $(mariadbd --version)" ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  reset) cmd_down; cmd_up ;;
  load) cmd_load "${1:-1000}" ;;
  lag) node_exists "$1"; sql "$1" "STOP SLAVE IO_THREAD"; echo "sandbox: $1 IO thread stopped" ;;
  unlag) node_exists "$1"; sql "$1" "START SLAVE IO_THREAD"; echo "sandbox: $1 IO thread started" ;;
  kill) node_exists "$1"; stop_node "$1" KILL; echo "sandbox: $1 killed (-9)" ;;
  start) node_exists "$1"; start_node "$1"; wait_ready "$1"; echo "sandbox: $1 started" ;;
  sql) node_exists "$1"; client "$1" -e "$2" ;;
  cnf) node_exists "$1"; echo "$2" >>"$(node_dir "$1")/my.cnf"; stop_node "$1"; start_node "$1"; wait_ready "$1"
    sql "$1" "START SLAVE" 2>/dev/null || true; echo "sandbox: $1 restarted with $2" ;;
  *) die "unknown command '$cmd'; see --help" ;;
esac

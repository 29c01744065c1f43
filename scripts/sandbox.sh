#!/usr/bin/env bash
# Local MariaDB replication sandbox for mmmf: 1 master + N replicas on 127.0.0.1.
#
#   scripts/sandbox.sh [options] up|down|status|reset
#   scripts/sandbox.sh install                          install mariadb-server when missing (as root)
#   scripts/sandbox.sh [options] load [TRANSACTIONS] [WRITER]  write load on the current master: every
#                                                       transaction also adds the next ledger row of WRITER
#                                                       (default 100) to sbtest.ledger
#   scripts/sandbox.sh [options] lag NAME               stop NAME's IO thread (it falls behind)
#   scripts/sandbox.sh [options] unlag NAME             start NAME's IO thread again
#   scripts/sandbox.sh [options] kill NAME              kill -9 NAME's server (a crash)
#   scripts/sandbox.sh [options] start NAME             start NAME's server again
#   scripts/sandbox.sh [options] sql NAME 'STATEMENT'   run SQL on NAME
#   scripts/sandbox.sh [options] cnf NAME 'option=value' add a server option to NAME's my.cnf and restart it
#   --netns mode only (every server on its own host in a network namespace, sshd on each, a writer VIP):
#   scripts/sandbox.sh [options] client CMD...          run CMD on the client host (e.g. node dist/bin/mmmf.js ...)
#   scripts/sandbox.sh [options] netcut|netrestore NAME take NAME's host off / back on the network
#   scripts/sandbox.sh [options] netcut-from NAME PEER...  drop NAME's traffic to PEERs (testN, client) only
#   scripts/sandbox.sh [options] sshstop NAME           stop NAME's sshd (the host stays up)
#   scripts/sandbox.sh [options] vip-holders [ADDRESS]  which hosts hold the writer VIP (or reader VIP ADDRESS)
#
# Options (or environment):
#   --dir DIR            MMMF_SANDBOX_DIR     default: ./.sandbox
#   --base-port P        MMMF_SANDBOX_PORT    default: 33001 (test1 = P, test2 = P+1, ...)
#   --replicas N         MMMF_SANDBOX_REPLICAS default: 3
#   --binlog-format F    MMMF_BINLOG_FORMAT   ROW (default), STATEMENT or MIXED
#   --positioning P      MMMF_SANDBOX_POSITIONING gtid (default: MASTER_USE_GTID=slave_pos) or file
#                                             (MASTER_USE_GTID=no; relay logs kept: relay_log_purge=OFF)
#   --topology T         MMMF_SANDBOX_TOPOLOGY flat (default: every replica under test1), pair (test1 ⇄ test2
#                                             replicate from each other, MMM's master-master pair; test1 active)
#                                             or tree (the last replica replicates from test2, an intermediate master)
#   --tls                MMMF_SANDBOX_TLS=1   a throw-away CA and server certificates (openssl), every server with
#                                             require_secure_transport=ON, replication channels over TLS, and a
#                                             config that connects over TCP with TLS (loopback mode only)
#   --semi-sync          MMMF_SANDBOX_SEMISYNC=1 semi-synchronous replication (built into MariaDB): the master
#                                             side on test1 (rpl_semi_sync_master_timeout=3000, wait point
#                                             AFTER_SYNC), the replica side on every replica, in each my.cnf
#   --netns              MMMF_SANDBOX_NETNS=1 hosts in network namespaces (root; installs iproute2,
#                                             openssh-server, iputils-arping when missing)
#   --socket             MMMF_SANDBOX_SOCKET=1 the config reaches each server as root over its Unix socket
#                                             (loopback mode only); by default mmmf connects over TCP to
#                                             127.0.0.1:port with the admin account, as in production
#
# Every instance has its own datadir, socket, tmpdir and pid file under DIR. Only processes whose pid files
# live under DIR are ever stopped. The cluster's ready-made config is DIR/mmmf.config.ts. Accounts: root
# (no password, over the socket: the sandbox's own commands), mmmf/mmmf-secret (admin, mmmf's account),
# repl/repl-secret (replication), app/app-secret (DML on sbtest, like an application). sbtest.ledger holds one
# row (writer, seq) per load transaction, written in that transaction: what arrived can be read back by content.
set -euo pipefail

DIR=${MMMF_SANDBOX_DIR:-$PWD/.sandbox}
BASE_PORT=${MMMF_SANDBOX_PORT:-33001}
REPLICAS=${MMMF_SANDBOX_REPLICAS:-3}
FORMAT=${MMMF_BINLOG_FORMAT:-ROW}
NETNS=${MMMF_SANDBOX_NETNS:-0}
POSITIONING=${MMMF_SANDBOX_POSITIONING:-gtid}
TOPOLOGY=${MMMF_SANDBOX_TOPOLOGY:-flat}
TLS=${MMMF_SANDBOX_TLS:-0}
SEMISYNC=${MMMF_SANDBOX_SEMISYNC:-0}
SOCKET=${MMMF_SANDBOX_SOCKET:-0}
REPL_USER=repl
REPL_PASSWORD=repl-secret
ADMIN_USER=mmmf
ADMIN_PASSWORD=mmmf-secret

die() { echo "sandbox: $*" >&2; exit 1; }
# shellcheck source=scripts/lib/netns.sh
. "$(dirname "$0")/lib/netns.sh"

args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) DIR=$2; shift 2 ;;
    --base-port) BASE_PORT=$2; shift 2 ;;
    --replicas) REPLICAS=$2; shift 2 ;;
    --binlog-format) FORMAT=$2; shift 2 ;;
    --netns) NETNS=1; shift ;;
    --positioning) POSITIONING=$2; shift 2 ;;
    --topology) TOPOLOGY=$2; shift 2 ;;
    --tls) TLS=1; shift ;;
    --semi-sync) SEMISYNC=1; shift ;;
    --socket) SOCKET=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
set -- "${args[@]+"${args[@]}"}"
[ $# -ge 1 ] || die "missing command (up|down|status|reset|load|lag|unlag|kill|start|sql); see --help"
FORMAT=$(echo "$FORMAT" | tr '[:lower:]' '[:upper:]')
case "$FORMAT" in ROW|STATEMENT|MIXED) ;; *) die "--binlog-format must be ROW, STATEMENT or MIXED (got $FORMAT)" ;; esac
case "$POSITIONING" in gtid|file) ;; *) die "--positioning must be gtid or file (got $POSITIONING)" ;; esac
case "$REPLICAS" in ''|*[!0-9]*) die "--replicas must be a number" ;; esac

nodes() { local i; for ((i = 1; i <= REPLICAS + 1; i++)); do echo "test$i"; done; }
node_index() { echo "${1#test}"; }
node_port() { if [ "$NETNS" = 1 ]; then echo 3306; else echo $((BASE_PORT + $(node_index "$1") - 1)); fi; }
# The address replicas (and mmmf) use: loopback, or in --netns mode the node's own host on the sandbox bridge.
node_host() { if [ "$NETNS" = 1 ]; then host_ip "$1"; else echo 127.0.0.1; fi; }
node_dir() { echo "$DIR/$1"; }
node_exists() { [ -f "$(node_dir "$1")/my.cnf" ] || die "no sandbox node '$1' in $DIR"; }
pid_of() { cat "$(node_dir "$1")/mariadbd.pid" 2>/dev/null || true; }
alive() { local pid; pid=$(pid_of "$1"); [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

client() { # client NAME [mariadb args...] — over the node's socket, which works in --netns mode too
  local n=$1; shift
  mariadb --no-defaults -uroot --socket="$(node_dir "$n")/mariadbd.sock" --connect-timeout=5 "$@"
}
sql() { client "$1" -N -B -e "$2"; }

# The sandbox ports lie inside Linux's ephemeral range (32768-60999): a client connection of another sandbox
# (a replica's IO thread, a test) can hold one as its local port, and a server started later then fails with
# "Address already in use". As root, keep the kernel from handing them out (only adds to the reserved list).
reserve_ports() {
  local f=/proc/sys/net/ipv4/ip_local_reserved_ports range=33001-33999 cur
  [ "$(id -u)" = 0 ] && [ -w "$f" ] || return 0
  cur=$(cat "$f")
  case ",$cur," in *",$range,"*) return 0 ;; esac
  echo "${cur:+$cur,}$range" >"$f" 2>/dev/null || true
}

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
bind-address=$(if [ "$NETNS" = 1 ]; then echo 0.0.0.0; else node_host "$n"; fi)
skip-name-resolve
server_id=$idx
report_host=$(node_host "$n")
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
  if [ "$TLS" = 1 ]; then
    printf 'ssl_ca=%s\nssl_cert=%s\nssl_key=%s\nrequire_secure_transport=ON\n' "$DIR/tls/ca.pem" "$DIR/tls/server.pem" "$DIR/tls/server.key" >>"$d/my.cnf"
  fi
  # File positioning maps coordinates through the best replica's relay log: keep it.
  if [ "$POSITIONING" = file ]; then echo "relay_log_purge=OFF" >>"$d/my.cnf"; fi
  # Replicas stay read-only across restarts (MMM style: only the writer is writable).
  if [ "$idx" -gt 1 ]; then echo "read_only=ON" >>"$d/my.cnf"; fi
  # Semi-sync as a production my.cnf sets it per role: the master waits up to 3 s for one replica's ack after
  # the binlog sync (AFTER_SYNC, not MariaDB's default, so a failover that forgets it shows); replicas ack.
  if [ "$SEMISYNC" = 1 ]; then
    if [ "$idx" -eq 1 ]; then
      printf 'rpl_semi_sync_master_enabled=ON\nrpl_semi_sync_master_timeout=3000\nrpl_semi_sync_master_wait_point=AFTER_SYNC\n' >>"$d/my.cnf"
    else
      echo "rpl_semi_sync_slave_enabled=ON" >>"$d/my.cnf"
    fi
  fi
}

start_node() { # NAME
  local n=$1 d
  d=$(node_dir "$n")
  alive "$n" && return 0
  rm -f "$d/mariadbd.pid" "$d/mariadbd.sock"
  # setsid: the server must not die with the shell (or test runner) that started it.
  in_host "$n" setsid mariadbd --defaults-file="$d/my.cnf" </dev/null >>"$d/error.log" 2>&1 &
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
    if [ "$TLS" = 1 ]; then
      echo "  replication: { user: '$REPL_USER', password: '$REPL_PASSWORD', ssl: { ca: '$DIR/tls/ca.pem' } },"
    else
      echo "  replication: { user: '$REPL_USER', password: '$REPL_PASSWORD' },"
    fi
    if [ "$NETNS" = 1 ]; then
      # mmmf runs on the client host and reaches every server over the sandbox network.
      echo "  defaults: { user: '$ADMIN_USER', password: '$ADMIN_PASSWORD' },"
      echo "  vip: { address: '$(vip_address)', interface: 'eth0', readers: ['$(reader_vip 1)', '$(reader_vip 2)'] },"
      echo "  ssh: { user: 'root', identityFile: '$DIR/ssh/id_ed25519', options: ['StrictHostKeyChecking=no', 'UserKnownHostsFile=/dev/null', 'LogLevel=ERROR'] },"
    elif [ "$TLS" = 1 ]; then
      # Over TCP with TLS (a Unix socket would count as secure and prove nothing).
      echo "  defaults: { user: '$ADMIN_USER', password: '$ADMIN_PASSWORD', ssl: { ca: 'tls/ca.pem' } },"
    elif [ "$SOCKET" = 1 ]; then
      echo "  defaults: { user: 'root', password: '' },"
    else
      # Over TCP, as in production: a dead server refuses or times out like a remote one, never ENOENT.
      echo "  defaults: { user: '$ADMIN_USER', password: '$ADMIN_PASSWORD' },"
    fi
    echo "  stateDir: 'state', // lock file and last-failover record, kept with the sandbox"
    echo "  hosts: {"
    for n in $(nodes); do
      if [ "$NETNS" = 1 ]; then echo "    $n: { host: '$(node_host "$n")', port: 3306 },"
      elif [ "$SOCKET" = 1 ]; then
        echo "    $n: { host: '127.0.0.1', port: $(node_port "$n"), socket: '$(node_dir "$n")/mariadbd.sock' },"
      else echo "    $n: { host: '127.0.0.1', port: $(node_port "$n") },"; fi
    done
    echo "  },"
    echo "} satisfies MmmfConfig;"
  } >"$f"
}

cmd_up() {
  ensure_mariadb
  reserve_ports
  local tpl n master=test1 started=()
  tpl=$(template)
  case "$TOPOLOGY" in flat | pair | tree) ;; *) die "--topology must be flat, pair or tree, got '$TOPOLOGY'" ;; esac
  [ "$TOPOLOGY" = flat ] || [ "$REPLICAS" -ge 2 ] || die "--topology $TOPOLOGY needs --replicas 2 or more"
  [ "$TLS" = 0 ] || [ "$NETNS" = 0 ] || die "--tls works in loopback mode only (not with --netns)"
  [ "$SOCKET" = 0 ] || { [ "$NETNS" = 0 ] && [ "$TLS" = 0 ]; } || die "--socket works in plain loopback mode only"
  printf 'BASE_PORT=%s\nREPLICAS=%s\nNETNS=%s\nPOSITIONING=%s\nTOPOLOGY=%s\nTLS=%s\nSEMISYNC=%s\nSOCKET=%s\n' "$BASE_PORT" "$REPLICAS" "$NETNS" "$POSITIONING" "$TOPOLOGY" "$TLS" "$SEMISYNC" "$SOCKET" >"$DIR/.settings"
  if [ "$TLS" = 1 ]; then tls_up; fi
  if [ "$NETNS" = 1 ]; then
    case " $(ip netns list | awk '{print $1}' | tr '\n' ' ')" in *" $(TAG_OF)-net "*) ;; *) net_up ;; esac
  fi
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
      local src=$master
      # tree: the last replica hangs under test2 (an intermediate master, log_slave_updates is on everywhere).
      if [ "$TOPOLOGY" = tree ] && [ "$n" = "test$((REPLICAS + 1))" ]; then src=test2; fi
      sql "$n" "SET GLOBAL read_only=ON;
        CHANGE MASTER TO MASTER_HOST='$(node_host $src)', MASTER_PORT=$(node_port $src),
          MASTER_USER='$REPL_USER', MASTER_PASSWORD='$REPL_PASSWORD', MASTER_USE_GTID=$(if [ "$POSITIONING" = file ]; then echo no; else echo slave_pos; fi),
          MASTER_CONNECT_RETRY=1$(tls_channel);
        START SLAVE;"
    done
    sql "$master" "CREATE USER '$ADMIN_USER'@'%' IDENTIFIED BY '$ADMIN_PASSWORD';
      GRANT ALL PRIVILEGES ON *.* TO '$ADMIN_USER'@'%' WITH GRANT OPTION;
      CREATE USER '$REPL_USER'@'%' IDENTIFIED BY '$REPL_PASSWORD';
      GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '$REPL_USER'@'%';
      CREATE USER 'app'@'%' IDENTIFIED BY 'app-secret';
      GRANT SELECT, INSERT, UPDATE, DELETE ON sbtest.* TO 'app'@'%';
      CREATE DATABASE sbtest;
      CREATE TABLE sbtest.t (id BIGINT AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL, pad VARCHAR(255) NOT NULL,
        created TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB;
      CREATE TABLE sbtest.ledger (writer INT NOT NULL, seq INT NOT NULL, PRIMARY KEY (writer, seq)) ENGINE=InnoDB;"
    local pos
    pos=$(sql "$master" "SELECT @@gtid_binlog_pos")
    for n in $(nodes); do
      [ "$n" = "$master" ] && continue
      [ "$(sql "$n" "SELECT MASTER_GTID_WAIT('$pos', 30)")" = 0 ] || die "$n did not catch up with $master"
    done
    if [ "$TOPOLOGY" = pair ]; then pair_up "$master" test2; fi
    touch "$DIR/.initialized"
  fi
  write_config
  echo "sandbox: up in $DIR: $(nodes | tr '\n' ' ')(ports $BASE_PORT..$((BASE_PORT + REPLICAS)), binlog_format=$FORMAT, positioning=$POSITIONING, topology=$TOPOLOGY$(if [ "$SEMISYNC" = 1 ]; then echo ', semi-sync'; fi))"
  echo "sandbox: config: $DIR/mmmf.config.ts"
}

tls_up() { # a throw-away CA and one server certificate for 127.0.0.1 / localhost, valid 10 days
  local t=$DIR/tls
  [ -f "$t/server.pem" ] && return 0
  if ! command -v openssl >/dev/null; then
    [ "$(id -u)" = 0 ] || die "--tls needs openssl (or root, to install it)"
    echo "sandbox: installing openssl from the OS packages..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null || die "could not install openssl"
  fi
  mkdir -p "$t"
  openssl req -x509 -newkey rsa:2048 -nodes -days 10 -subj "/CN=mmmf sandbox CA" \
    -keyout "$t/ca.key" -out "$t/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$t/server.key" -out "$t/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$t/san.ext"
  openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -CAcreateserial -days 10 \
    -extfile "$t/san.ext" -out "$t/server.pem" 2>/dev/null
  chmod 600 "$t"/*.key
}

tls_channel() { # the replication channel options of a --tls sandbox
  if [ "$TLS" = 1 ]; then echo ", MASTER_SSL=1, MASTER_SSL_CA='$DIR/tls/ca.pem', MASTER_SSL_VERIFY_SERVER_CERT=1"; fi
}

pair_up() { # ACTIVE PASSIVE — the active replicates from the passive too: MMM's circular pair
  local a=$1 p=$2 at
  if [ "$POSITIONING" = file ]; then
    at=$(sql "$p" "SHOW MASTER STATUS" | awk '{print "MASTER_LOG_FILE='"'"'" $1 "'"'"', MASTER_LOG_POS=" $2}')
  else
    at="MASTER_USE_GTID=current_pos"
  fi
  sql "$a" "CHANGE MASTER TO MASTER_HOST='$(node_host "$p")', MASTER_PORT=$(node_port "$p"),
      MASTER_USER='$REPL_USER', MASTER_PASSWORD='$REPL_PASSWORD', $at, MASTER_CONNECT_RETRY=1$(tls_channel);
    START SLAVE;"
}

cmd_down() {
  local n
  [ -d "$DIR" ] || return 0
  for d in "$DIR"/test*; do [ -d "$d" ] && stop_node "$(basename "$d")" & done
  wait
  if [ "$NETNS" = 1 ]; then net_down; fi
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
    # Writable: the master (in a pair the active one replicates too).
    if [ "$(sql "$n" "SELECT @@read_only")" = 0 ]; then
      echo "$n"; return 0
    fi
  done
  die "no writable master found"
}

cmd_load() { # [TRANSACTIONS] [WRITER] — each one inserts 2 rows, updates one and adds WRITER's next ledger row
  local count=${1:-1000} writer=${2:-100} master from
  case "$writer" in ''|*[!0-9]*) die "load: WRITER must be a number" ;; esac
  master=$(current_master)
  # The ledger continues from what the master holds: a gap-free sequence per writer, whatever a failover kept.
  from=$(sql "$master" "SELECT COALESCE(MAX(seq), 0) FROM sbtest.ledger WHERE writer = $writer")
  awk -v n="$count" -v w="$writer" -v from="$from" 'BEGIN {
    srand(42)
    for (i = 1; i <= n; i++) {
      k = int(rand() * 100000)
      printf "BEGIN; INSERT INTO sbtest.t (k, pad) VALUES (%d, REPEAT(\"x\", %d)), (%d, \"it'"'"'s \\\\ \\\"quoted\\\"\");", k, 1 + k % 200, k + 1
      printf " UPDATE sbtest.t SET k = k + 1 WHERE id = %d;", 1 + int(rand() * i)
      printf " INSERT INTO sbtest.ledger (writer, seq) VALUES (%d, %d); COMMIT;\n", w, from + i
    }
  }' | client "$master"
  echo "sandbox: $count transactions written on $master (ledger writer $writer, $((from + 1))..$((from + count)))"
}

cmd="$1"; shift
if [ "$cmd" != install ]; then mkdir -p "$DIR"; DIR=$(cd "$DIR" && pwd); fi
# A sandbox remembers how it was made, so later commands need only --dir.
# shellcheck disable=SC1091
if [ -f "$DIR/.settings" ] && [ "$cmd" != up ]; then . "$DIR/.settings"; fi
case "$cmd" in
  install) ensure_mariadb; echo "sandbox: $(mariadbd --version)" ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  reset) cmd_down; mkdir -p "$DIR"; cmd_up ;; # down removes the folder; up writes into it
  load) cmd_load "${1:-1000}" "${2:-100}" ;;
  lag) node_exists "$1"; sql "$1" "STOP SLAVE IO_THREAD"; echo "sandbox: $1 IO thread stopped" ;;
  unlag) node_exists "$1"; sql "$1" "START SLAVE IO_THREAD"; echo "sandbox: $1 IO thread started" ;;
  kill) node_exists "$1"; stop_node "$1" KILL; echo "sandbox: $1 killed (-9)" ;;
  start) node_exists "$1"; start_node "$1"; wait_ready "$1"; echo "sandbox: $1 started" ;;
  sql) node_exists "$1"; client "$1" -e "$2" ;;
  # exec: a signal that ends the command (a test's SIGKILL) is what the caller sees, not a shell's exit 137.
  client) [ "$NETNS" = 1 ] || die "client needs a --netns sandbox"; exec ip netns exec "$(ns_of client)" "$@" ;;
  netcut) node_exists "$1"; ip -n "$(ns_of "$1")" link set eth0 down; echo "sandbox: $1 cut off the network" ;;
  netrestore) node_exists "$1"; ip -n "$(ns_of "$1")" link set eth0 up; ip -n "$(ns_of "$1")" route flush type blackhole; echo "sandbox: $1 back on the network" ;;
  netcut-from) # NAME PEER... — NAME's replies to these hosts (testN or client) are dropped; others still reach it
    n=$1; shift; node_exists "$n"
    for p in "$@"; do ip -n "$(ns_of "$n")" route add blackhole "$(host_ip "$p")/32"; done
    echo "sandbox: $n cut off from $*" ;;
  sshstop) node_exists "$1"; kill "$(cat "$(node_dir "$1")/sshd.pid")"; echo "sandbox: sshd on $1 stopped" ;;
  vip-holders) vip_holders "${1:-}" ;;
  cnf) node_exists "$1"; echo "$2" >>"$(node_dir "$1")/my.cnf"; stop_node "$1"; start_node "$1"; wait_ready "$1"
    sql "$1" "START SLAVE" 2>/dev/null || true; echo "sandbox: $1 restarted with $2" ;;
  *) die "unknown command '$cmd'; see --help" ;;
esac

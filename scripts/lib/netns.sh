# Network-namespace hosts for scripts/sandbox.sh --netns (sourced). Every server gets a host of its own: a
# namespace with eth0 on a bridge that lives in a namespace of its own, so nothing routes outside the
# sandbox. sshd runs in every host (key-based root login); mmmf runs from a separate client host. The
# addresses (10.233.K.0/24, K from the base port) exist only inside these namespaces.
# shellcheck shell=bash

TAG_OF() { echo "mm${BASE_PORT}"; }
ns_of() { echo "$(TAG_OF)-$1"; }
subnet() { echo "10.233.$(((BASE_PORT - 33000) % 250 + 1))"; }
host_ip() { # NAME (testN or client)
  if [ "$1" = client ]; then echo "$(subnet).2"; else echo "$(subnet).$((10 + ${1#test}))"; fi
}
vip_address() { echo "$(subnet).100/24"; }
reader_vip() { echo "$(subnet).$((100 + $1))/24"; } # N: reader VIPs .101, .102 (placed by mmmf roles)
in_host() { # NAME CMD... — run CMD on NAME's host (plain in loopback mode)
  local n=$1; shift
  if [ "$NETNS" = 1 ]; then ip netns exec "$(ns_of "$n")" "$@"; else "$@"; fi
}

ensure_net_tools() {
  command -v ip >/dev/null && [ -x /usr/sbin/sshd ] && command -v arping >/dev/null && command -v ssh-keygen >/dev/null && return
  [ "$(id -u)" = 0 ] || die "--netns needs root with iproute2, openssh-server and iputils-arping"
  echo "sandbox: installing iproute2, openssh-server, iputils-arping from the OS packages..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq iproute2 openssh-server openssh-client iputils-arping >/dev/null
}

net_up() {
  [ "$(id -u)" = 0 ] || die "--netns needs root (network namespaces)"
  ensure_net_tools
  local tag net n ns
  tag=$(TAG_OF)
  net="$tag-net"
  ip netns add "$net"
  ip -n "$net" link set lo up
  ip -n "$net" link add br0 type bridge
  ip -n "$net" link set br0 up
  for n in $(nodes) client; do
    ns=$(ns_of "$n")
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip link add "${tag}a" type veth peer name "${tag}b"
    ip link set "${tag}a" netns "$ns"
    ip -n "$ns" link set "${tag}a" name eth0
    ip link set "${tag}b" netns "$net"
    ip -n "$net" link set "${tag}b" name "v-$n"
    ip -n "$net" link set "v-$n" master br0 up
    ip -n "$ns" addr add "$(host_ip "$n")/24" dev eth0
    ip -n "$ns" link set eth0 up
  done
  # The writer VIP starts on the master.
  ip -n "$(ns_of test1)" addr add "$(vip_address)" dev eth0
  ssh_up
}

ssh_up() {
  local n d
  mkdir -p /run/sshd "$DIR/ssh"
  [ -f "$DIR/ssh/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C "mmmf-sandbox" -f "$DIR/ssh/id_ed25519"
  [ -f "$DIR/ssh/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C "mmmf-sandbox-host" -f "$DIR/ssh/host_ed25519"
  cp "$DIR/ssh/id_ed25519.pub" "$DIR/ssh/authorized_keys"
  chmod 600 "$DIR/ssh/authorized_keys" "$DIR/ssh/host_ed25519" "$DIR/ssh/id_ed25519"
  for n in $(nodes); do
    d=$(node_dir "$n")
    mkdir -p "$d"
    cat >"$d/sshd_config" <<CFG
Port 22
ListenAddress $(host_ip "$n")
HostKey $DIR/ssh/host_ed25519
PidFile $d/sshd.pid
AuthorizedKeysFile $DIR/ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
LogLevel ERROR
CFG
    # Sessions of this sshd see an empty ~/.bashrc (bind-mounted in a mount namespace of its own, so the
    # machine's file is untouched): bash reads it for every ssh command, and a slow one (pyenv, nvm...)
    # would cost seconds per VIP step.
    : >"$DIR/ssh/bashrc"
    ip netns exec "$(ns_of "$n")" unshare --mount --propagation private sh -c \
      'if [ -f "$HOME/.bashrc" ]; then mount --bind "$1" "$HOME/.bashrc"; fi; exec /usr/sbin/sshd -f "$2" -E "$3"' \
      sandbox-sshd "$DIR/ssh/bashrc" "$d/sshd_config" "$d/sshd.log"
  done
}

net_down() {
  local n f tag
  tag=$(TAG_OF)
  for f in "$DIR"/test*/sshd.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
  # Only the namespaces this sandbox made: their names start with its own tag.
  for n in $(ip netns list | awk '{print $1}' | grep "^$tag-" || true); do ip netns del "$n"; done
  return 0
}

vip_holders() { # [ADDRESS] — default the writer VIP
  local n vip out
  vip=${1:-$(vip_address)}
  for n in $(nodes); do
    # Not `ip ... | grep -q`: under pipefail, grep quitting early can SIGPIPE ip and fail the pipeline.
    out=$(ip -n "$(ns_of "$n")" -o addr show dev eth0 2>/dev/null || true)
    case "$out" in *" ${vip%/*}/"*) echo "$n" ;; esac
  done
  return 0
}

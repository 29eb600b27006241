#!/usr/bin/env bash
# Provisions one VM of the Vagrant lab (Vagrantfile, docs/vagrant.md); run as root by Vagrant:
#   provision.sh server|client NODE_IP SERVER_IP [SOURCE]
# server: a one-node Consul server (node1). client: a Consul agent joining SERVER_IP.
# Every VM: Node.js 20 (NodeSource; Debian 12's own is 18), Consul (HashiCorp's apt repository),
# ovnetd built from SOURCE (default /vagrant) and running as the systemd service, talking to the
# local Consul agent and advertising the private-network address NODE_IP.
# Safe to run again (`vagrant provision`): each step only changes what differs.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

ROLE=${1:?usage: provision.sh server|client NODE_IP SERVER_IP [SOURCE]}
NODE_IP=${2:?NODE_IP missing}
SERVER_IP=${3:?SERVER_IP missing}
SOURCE=${4:-/vagrant}
NODE_MAJOR=20
CONSUL_HTTP=http://127.0.0.1:8500
export DEBIAN_FRONTEND=noninteractive

log() { printf '== provision %s: %s\n' "$(hostname)" "$*"; }

install_base() {
  log "base packages"
  apt-get update -qq
  # make, g++ and python3 build the native addon (node-gyp).
  apt-get install -y -qq --no-install-recommends \
    ca-certificates curl iproute2 iputils-ping build-essential python3 >/dev/null
}

install_node() {
  if [ "$(node_major)" -ge "$NODE_MAJOR" ]; then
    log "Node.js $(node --version): present"
    return
  fi
  log "Node.js $NODE_MAJOR from NodeSource"
  add_apt_repo nodesource https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key \
    "https://deb.nodesource.com/node_${NODE_MAJOR}.x nodistro main"
  apt-get update -qq
  apt-get install -y -qq nodejs >/dev/null
}

install_consul() {
  if ! command -v consul >/dev/null; then
    log "Consul from HashiCorp's apt repository"
    local codename
    codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
    add_apt_repo hashicorp https://apt.releases.hashicorp.com/gpg "https://apt.releases.hashicorp.com $codename main"
    apt-get update -qq
    apt-get install -y -qq consul >/dev/null
  fi
  install -d -o consul -g consul -m 0750 /opt/consul
  if consul_config "$ROLE" "$NODE_IP" "$SERVER_IP" | write_if_changed /etc/consul.d/consul.hcl; then
    log "Consul $ROLE configuration written"
    systemctl enable consul.service
    systemctl restart consul.service
  else
    systemctl enable --now consul.service
  fi
  wait_for_consul_leader
}

# The store is usable once this agent knows a leader (the server elected itself, or the client joined it).
wait_for_consul_leader() {
  for _ in $(seq 1 60); do
    if curl -fsS "$CONSUL_HTTP/v1/status/leader" 2>/dev/null | grep -q ':'; then
      log "Consul has a leader"
      return
    fi
    sleep 2
  done
  log "Consul has no leader after 120 s; ovnetd keeps retrying the store on its own"
}

install_ovnetd() {
  local iface
  iface=$(interface_with_address "$NODE_IP")
  log "ovnetd: underlay interface $iface ($NODE_IP)"
  # Start after the local Consul agent: the store lives there (the unit itself does not require Consul).
  if write_if_changed /etc/systemd/system/ovnetd.service.d/consul.conf <<'EOF'; then
[Unit]
Wants=consul.service
After=consul.service
EOF
    log "ovnetd: ordered after consul.service"
  fi
  "$SOURCE/scripts/install.sh" --source "$SOURCE" \
    --store consul://127.0.0.1:8500 --advertise-interface "$iface" --start
}

main() {
  install_base
  install_node
  install_consul
  install_ovnetd
  log "done: $(ovnetd --version) as the ovnetd service; $ROLE of Consul"
}

main

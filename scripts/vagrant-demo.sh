#!/usr/bin/env bash
# Run on the host after `vagrant up` (docs/vagrant.md): creates the overlay network "demo" in
# Consul, attaches a network namespace on each VM to it, and pings every endpoint from every
# other VM across the VXLAN overlay. Exits non-zero when a ping fails. Safe to run again.
#
#   node1 ns ovdemo 10.77.0.11 --+
#   node2 ns ovdemo 10.77.0.12 --+-- network "demo" (VXLAN over 192.168.56.0/21)
#   node3 ns ovdemo 10.77.0.13 --+
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

NETWORK=${NETWORK:-demo}
SUBNET=${SUBNET:-10.77.0.0/24}
NETNS=${NETNS:-ovdemo}
NODES=(node1 node2 node3)
IPS=(10.77.0.11 10.77.0.12 10.77.0.13)

# on NODE SCRIPT: runs a shell script on a VM as root.
on() {
  vagrant ssh "$1" -c "sudo sh -c $(printf '%q' "$2")" -- -q
}

create_network() {
  echo "== network $NETWORK ($SUBNET)"
  on node1 "ovnetd inspect $NETWORK >/dev/null 2>&1 || ovnetd create $NETWORK --subnet $SUBNET"
}

attach_endpoints() {
  local i
  for i in "${!NODES[@]}"; do
    echo "== ${NODES[$i]}: namespace $NETNS with ${IPS[$i]}"
    on "${NODES[$i]}" "ip netns exec $NETNS ip -4 -o addr show 2>/dev/null | grep -q ' ${IPS[$i]}/' \
      || { ip netns add $NETNS 2>/dev/null || true; ovnetd attach $NETWORK --netns $NETNS --ip ${IPS[$i]}; }"
  done
}

ping_matrix() {
  local i j failed=0
  echo "== ping matrix"
  for i in "${!NODES[@]}"; do
    for j in "${!IPS[@]}"; do
      [ "$i" -ne "$j" ] || continue
      if on "${NODES[$i]}" "ip netns exec $NETNS ping -c 3 -i 0.2 -W 2 ${IPS[$j]} >/dev/null"; then
        echo "ok    ${NODES[$i]} -> ${NODES[$j]} (${IPS[$j]})"
      else
        echo "FAIL  ${NODES[$i]} -> ${NODES[$j]} (${IPS[$j]})"
        failed=$((failed + 1))
      fi
    done
  done
  if [ "$failed" -gt 0 ]; then
    echo "$failed pings failed; see docs/vagrant.md, Troubleshooting" >&2
    return 1
  fi
  echo "all endpoints reach each other"
}

create_network
attach_endpoints
ping_matrix

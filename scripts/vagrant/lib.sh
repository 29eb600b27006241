# shellcheck shell=bash
# Functions for the Vagrant provisioning (provision.sh); sourced, never run. Kept apart so the
# tests can run them in a network namespace (test/unit/scripts-vagrant.test.ts).

# Prints the name of the interface that holds IPv4 address $1. A Vagrant VM's first interface
# is the NAT one, with the same address (10.0.2.15) on every VM, so "the first interface" or
# "the default route's interface" would make every agent advertise the same unreachable
# address: the overlay must use the private-network interface, found by its address.
interface_with_address() {
  local want=$1 ifname addr
  while read -r _ ifname _ addr _; do
    if [ "${addr%/*}" = "$want" ]; then
      printf '%s\n' "$ifname"
      return 0
    fi
  done < <(ip -o -4 addr show)
  printf 'no interface holds %s (ip -4 addr show lists the addresses)\n' "$want" >&2
  return 1
}

# The installed Node.js major version, 0 when there is none.
node_major() {
  if command -v node >/dev/null; then
    node -e 'console.log(process.versions.node.split(".")[0])'
  else
    echo 0
  fi
}

# consul_config server|client NODE_IP SERVER_IP: /etc/consul.d/consul.hcl for one lab VM.
# A server bootstraps alone (node1); a client joins SERVER_IP. Both gossip on NODE_IP: the VM
# has two private addresses (10.0.2.15 on NAT and NODE_IP), and Consul refuses to guess.
# The HTTP API stays on 127.0.0.1, where the local ovnetd reaches it.
consul_config() {
  local role=$1 node_ip=$2 server_ip=$3
  cat <<EOF
# Written by scripts/vagrant/provision.sh ($role).
datacenter  = "ovnetd-lab"
data_dir    = "/opt/consul"
bind_addr   = "$node_ip"
client_addr = "127.0.0.1"
EOF
  if [ "$role" = server ]; then
    printf 'server           = true\nbootstrap_expect = 1\n'
  else
    printf 'retry_join = ["%s"]\n' "$server_ip"
  fi
}

# add_apt_repo NAME KEY_URL "URI SUITE COMPONENT": a signed third-party apt source. apt reads
# the ASCII-armoured key as it is (signed-by=...asc), so gpg is not needed.
add_apt_repo() {
  local name=$1 key_url=$2 source=$3 key="/etc/apt/keyrings/$1.asc"
  install -d -m 0755 /etc/apt/keyrings
  if [ ! -s "$key" ]; then
    curl -fsSL "$key_url" -o "$key.tmp"
    mv "$key.tmp" "$key"
    chmod 0644 "$key"
  fi
  printf 'deb [signed-by=%s] %s\n' "$key" "$source" >"/etc/apt/sources.list.d/$name.list"
}

# write_if_changed FILE: stdin becomes FILE unless FILE already holds exactly that.
# Returns 0 when it wrote, 1 when FILE was already up to date.
write_if_changed() {
  local file=$1 tmp
  tmp=$(mktemp)
  cat >"$tmp"
  if cmp -s "$tmp" "$file"; then
    rm -f "$tmp"
    return 1
  fi
  install -D -m 0644 "$tmp" "$file"
  rm -f "$tmp"
}

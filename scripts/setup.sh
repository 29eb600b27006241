#!/usr/bin/env bash
# Installs what ovnetd's lab and tests need on a Debian/Ubuntu machine, then builds ovnetd.
# Idempotent: packages already present are not reinstalled; npm ci runs only when needed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: run as root (network namespaces, TAP devices and apt need it): sudo $0" >&2
  exit 1
fi
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "setup: Node.js 20 or later is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

PKGS=(iproute2 iputils-ping iperf3 tshark etcd-server procps ethtool shellcheck ruby systemd python3 make g++)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/ovnetd-setup-apt.log 2>&1 \
    || { tail -20 /tmp/ovnetd-setup-apt.log >&2; exit 1; }
  # Debian's etcd-server starts a system etcd; the tests and the lab start their own.
  systemctl disable --now etcd >/dev/null 2>&1 || true
fi

stamp=node_modules/.ovnetd-setup
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ ! -f native/build/Release/ovnet.node ]; then
  echo "setup: npm ci (installs packages, builds the native addon, compiles TypeScript)"
  npm ci --no-audit --no-fund
  touch "$stamp"
else
  npm run -s build >/dev/null
fi

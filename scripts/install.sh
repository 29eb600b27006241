#!/usr/bin/env bash
# Installs ovnetd on this host as the systemd service scripts/ovnetd.service:
#   user ovnetd (system, no login)   the service runs as it, holding only CAP_NET_ADMIN
#   /opt/ovnetd                      the package, built with npm ci (or copied pre-built)
#   /usr/local/bin/ovnetd            link to /opt/ovnetd/bin/ovnetd.js (the unit's ExecStart)
#   /etc/ovnetd/agent.json           written only when absent, from scripts/etc/ovnetd/agent.json
#   /etc/systemd/system/ovnetd.service, then daemon-reload (when systemd runs)
# Idempotent: a second run with the same source changes nothing and says so.
# Needs root, Node.js 20 or later, iproute2; to build: make, g++, python3.
set -euo pipefail
umask 022

PREFIX=/opt/ovnetd
BIN_LINK=/usr/local/bin/ovnetd
CONFIG_DIR=/etc/ovnetd
UNIT_FILE=/etc/systemd/system/ovnetd.service
SERVICE_USER=ovnetd
STATE_DIR=/var/lib/ovnetd
SOURCE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PREBUILT=0
START=0
STORE=""
ADVERTISE_INTERFACE=""
ADVERTISE=""
CHANGED=0

usage() {
  cat <<EOF
Usage: sudo $0 [options]
  --source DIR                 ovnetd source tree (default: $SOURCE)
  --prefix DIR                 where the package goes (default: $PREFIX)
  --prebuilt                   copy DIR as built (npm ci and npm run build done) instead of building
  --store URL                  for a new agent.json: consul://HOST:PORT, etcd://HOST:PORT
  --advertise-interface IF     for a new agent.json: take the underlay address from IF
  --advertise IP               for a new agent.json: the underlay address
  --start                      enable the service and (re)start it when something changed
EOF
}

log() { printf 'ovnetd-install: %s\n' "$*"; }
die() { printf 'ovnetd-install: error: %s\n' "$*" >&2; exit 1; }

parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --source) SOURCE=$(cd "${2:?--source needs a directory}" && pwd); shift ;;
      --prefix) PREFIX=${2:?--prefix needs a directory}; shift ;;
      --prebuilt) PREBUILT=1 ;;
      --store) STORE=${2:?--store needs a URL}; shift ;;
      --advertise-interface) ADVERTISE_INTERFACE=${2:?--advertise-interface needs an interface}; shift ;;
      --advertise) ADVERTISE=${2:?--advertise needs an address}; shift ;;
      --start) START=1 ;;
      -h|--help) usage; exit 0 ;;
      *) usage >&2; die "unknown option $1" ;;
    esac
    shift
  done
  if [ -n "$ADVERTISE" ] && [ -n "$ADVERTISE_INTERFACE" ]; then
    die "give --advertise or --advertise-interface, not both"
  fi
}

check_host() {
  [ "$(id -u)" -eq 0 ] || die "run as root (it creates a user and installs a systemd unit)"
  command -v node >/dev/null || die "Node.js 20 or later is needed (node not found)"
  node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
    || die "Node.js 20 or later is needed (found $(node --version))"
  command -v ip >/dev/null || die "iproute2 is needed (ip not found)"
  if [ ! -f "$SOURCE/package.json" ] || [ ! -f "$SOURCE/scripts/ovnetd.service" ]; then
    die "$SOURCE is not an ovnetd source tree"
  fi
}

ensure_user() {
  if getent passwd "$SERVICE_USER" >/dev/null; then
    log "user $SERVICE_USER: unchanged"
    return
  fi
  useradd --system --user-group --no-create-home --home-dir "$STATE_DIR" \
    --shell /usr/sbin/nologin --comment "ovnetd overlay agent" "$SERVICE_USER"
  log "user $SERVICE_USER: created"
}

# A tar of the source tree, every file owned by root: the service runs this code with
# CAP_NET_ADMIN, so no other user (the owner of a checkout) may be able to change it.
# "copy" takes the build outputs too when --prebuilt; "digest" is byte-stable and leaves
# node_modules out (package-lock.json stands for it, and hashing it is slow).
tree_tar() {
  local opts=(--exclude=./.git --exclude=./.vagrant --owner=0 --group=0 --numeric-owner)
  if [ "$PREBUILT" -eq 0 ]; then
    opts+=(--exclude=./node_modules --exclude=./dist --exclude=./native/build)
  fi
  if [ "$1" = digest ]; then
    opts+=(--exclude=./node_modules --sort=name --mtime=@0)
  fi
  tar -C "$SOURCE" "${opts[@]}" -cf - .
}

source_digest() {
  { echo "prebuilt=$PREBUILT"; tree_tar digest; } | sha256sum | cut -d' ' -f1
}

build_stage() {
  local stage=$1
  if [ "$PREBUILT" -eq 1 ]; then
    if [ ! -f "$stage/dist/cli/main.js" ] || [ ! -f "$stage/native/build/Release/ovnet.node" ]; then
      die "--prebuilt: $SOURCE is not built (run npm ci there first)"
    fi
    # npm prune below would then delete packages from the tree the link points to.
    if [ -L "$stage/node_modules" ]; then
      die "--prebuilt: $SOURCE/node_modules is a symbolic link; give a tree with its own node_modules"
    fi
  else
    log "building in $stage (npm ci: native addon and TypeScript)"
    (cd "$stage" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  # The build tools (typescript, node-gyp, vitest) are not needed to run.
  (cd "$stage" && npm prune --omit=dev --no-audit --no-fund --loglevel=error)
}

install_package() {
  local stamp="$PREFIX/.ovnetd-source" want stage="$PREFIX.new"
  want=$(source_digest)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$PREFIX/bin/ovnetd.js" ]; then
    log "package $PREFIX: unchanged"
    return
  fi
  rm -rf "$stage"
  mkdir -p "$stage"
  # --no-same-permissions: the umask (022) applies, whatever the checkout allows.
  tree_tar copy | tar -C "$stage" --no-same-permissions -xf -
  build_stage "$stage"
  echo "$want" >"$stage/.ovnetd-source"
  # Swap whole trees, so a failed build above leaves the installed version running.
  rm -rf "$PREFIX.old"
  if [ -e "$PREFIX" ]; then mv "$PREFIX" "$PREFIX.old"; fi
  mv "$stage" "$PREFIX"
  rm -rf "$PREFIX.old"
  CHANGED=1
  log "package $PREFIX: installed"
}

link_binary() {
  local target="$PREFIX/bin/ovnetd.js"
  if [ "$(readlink "$BIN_LINK" 2>/dev/null || true)" = "$target" ]; then
    log "link $BIN_LINK: unchanged"
    return
  fi
  mkdir -p "$(dirname "$BIN_LINK")"
  ln -sfn "$target" "$BIN_LINK"
  CHANGED=1
  log "link $BIN_LINK -> $target: made"
}

# Writes agent.json from the example with the flags applied; an existing file is the
# operator's and is never rewritten.
write_config() {
  local file="$CONFIG_DIR/agent.json"
  install -d -m 0755 "$CONFIG_DIR"
  if [ -e "$file" ]; then
    log "config $file: unchanged (exists; edit it to change the agent's settings)"
    return
  fi
  local tmp="$file.tmp"
  node - "$PREFIX/scripts/etc/ovnetd/agent.json" "$tmp" "$STORE" "$ADVERTISE_INTERFACE" "$ADVERTISE" <<'EOF'
const fs = require('node:fs');
const [example, out, store, advertiseInterface, advertise] = process.argv.slice(2);
const cfg = JSON.parse(fs.readFileSync(example, 'utf8'));
if (store) cfg.store = store;
if (advertiseInterface) { cfg.advertiseInterface = advertiseInterface; delete cfg.advertise; }
if (advertise) { cfg.advertise = advertise; delete cfg.advertiseInterface; }
fs.writeFileSync(out, JSON.stringify(cfg, null, 2) + '\n');
EOF
  # It may hold a store token: readable by root and the service only.
  chown "root:$SERVICE_USER" "$tmp"
  chmod 0640 "$tmp"
  mv "$tmp" "$file"
  CHANGED=1
  log "config $file: written"
}

install_unit() {
  local src="$PREFIX/scripts/ovnetd.service"
  if cmp -s "$src" "$UNIT_FILE"; then
    log "unit $UNIT_FILE: unchanged"
  else
    install -D -m 0644 "$src" "$UNIT_FILE"
    CHANGED=1
    log "unit $UNIT_FILE: installed"
  fi
  # sd_booted(3): without a running systemd there is nothing to reload or start.
  if [ ! -d /run/systemd/system ]; then
    log "systemd is not running: not reloading or starting"
    return
  fi
  systemctl daemon-reload
  if [ "$START" -eq 1 ]; then
    systemctl enable ovnetd.service
    if [ "$CHANGED" -eq 1 ]; then systemctl restart ovnetd.service; else systemctl start ovnetd.service; fi
    log "service ovnetd: $(systemctl is-active ovnetd.service || true)"
  fi
}

main() {
  parse_args "$@"
  check_host
  ensure_user
  install_package
  link_binary
  write_config
  install_unit
  if [ "$CHANGED" -eq 0 ]; then log "nothing changed"; fi
  if [ "$START" -eq 0 ]; then log "start it with: systemctl enable --now ovnetd"; fi
}

main "$@"

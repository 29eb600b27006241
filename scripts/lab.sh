#!/usr/bin/env bash
# README's lab command: sets up (scripts/setup.sh), then builds the one-machine lab.
# Extra arguments go to `ovnetd lab up`, e.g. scripts/lab.sh --hosts 4 --store etcd
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node bin/ovnetd.js lab up "$@"

#!/usr/bin/env bash
# README's test command: sets up (scripts/setup.sh), then runs the whole suite (npm test).
# Extra arguments go to vitest, e.g. scripts/test.sh test/unit
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec npm test -- "$@"

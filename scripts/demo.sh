#!/usr/bin/env bash
# Set up if needed, then reconstruct one report (a seed by default) and print its JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/nianbao extract "${1:-../shared/seeds/000_da14f1a2f0dce168.txt}" "${@:2}"

#!/usr/bin/env bash
# Set up if needed, then reconstruct one report and print its JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/nianbao extract "${1:?usage: bash scripts/demo.sh REPORT [extract options]}" "${@:2}"

#!/usr/bin/env bash
# Set up on first use, then run the demo: the loopback exchange simulator plus live streams.
# Extra arguments go to `cexfeed demo` (e.g. --duration 10, --format jsonl).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/cexfeed demo "$@"

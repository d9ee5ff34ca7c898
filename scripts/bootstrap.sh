#!/usr/bin/env bash
# Create .venv (once) and install cexfeed with its test dependencies into it.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
stamp=.venv/.cexfeed-installed
# a compiled part's source changed since the last install (e.g. after a pull): build again
changed_sources() {
    find src setup.py -newer "$stamp" \( -name '*.pyx' -o -name '*.pxd' -o -name '*.pxi' -o -name '*.c' -o -name '*.h' -o -name 'setup.py' \) -print -quit 2>/dev/null
}
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ -n "$(changed_sources)" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".[test,soak]"
    touch "$stamp"
fi

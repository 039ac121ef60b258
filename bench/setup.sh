#!/usr/bin/env bash
# Install the comparison link checkers for bench/run_bench.py, isolated from the project venv:
#   LinkChecker (PyPI)                 -> bench/.venvs/linkchecker
#   linkinator, markdown-link-check    -> bench/node_modules (versions pinned in bench/package.json,
#   with undici for the linkinator-limited row: bench/limit_in_flight.cjs)
# linkfresh itself is the project's own venv (.venv), installed as the README says.
# Re-running is cheap: each step is skipped when its tool is already there.
set -euo pipefail
cd "$(dirname "$0")"

LINKCHECKER_VERSION="${LINKCHECKER_VERSION:-10.6.0}"

if [ ! -x .venvs/linkchecker/bin/linkchecker ]; then
    python3 -m venv .venvs/linkchecker
    .venvs/linkchecker/bin/python -m pip install -q --upgrade pip
    .venvs/linkchecker/bin/python -m pip install -q "LinkChecker==${LINKCHECKER_VERSION}"
fi
.venvs/linkchecker/bin/linkchecker --version 2>/dev/null | sed -n 1p

if [ ! -x node_modules/.bin/linkinator ] || [ ! -x node_modules/.bin/markdown-link-check ]; then
    if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi
echo "linkinator $(node -p "require('./node_modules/linkinator/package.json').version")"
echo "markdown-link-check $(node -p "require('./node_modules/markdown-link-check/package.json').version")"

# linkfresh: the project's venv (created by the README's install command)
if [ ! -x ../.venv/bin/linkfresh ]; then
    echo "note: ../.venv/bin/linkfresh is missing; run the README's install command first" >&2
fi

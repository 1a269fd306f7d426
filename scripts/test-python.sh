#!/usr/bin/env bash
# The Python package's tests (part of scripts/test.sh): a virtual environment in
# target/python-venv, `pip install ./python` into it (a fresh build of the extension by maturin,
# as a user would install it, but with the test command's `ci` profile, so it reuses what
# scripts/test.sh built), then pytest over python/tests, comparing with the CLI in target/ci
# (built by scripts/test.sh first; FLOODSEG_CLI to choose another). Needs python3 ≥ 3.9 with
# venv; on Debian without it, python3-venv is installed when we may.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=target/python-venv
if ! command -v "$PY" >/dev/null 2>&1; then
    echo "scripts/test-python.sh: $PY not found; install Python ≥ 3.9 (or FLOODSEG_PYTHON=0 to skip)" >&2
    exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
    if ! "$PY" -m venv "$VENV" 2>/dev/null; then
        rm -rf "$VENV"
        if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
            echo "scripts/test-python.sh: installing python3-venv" >&2
            env DEBIAN_FRONTEND=noninteractive apt-get update -qq
            env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        fi
        "$PY" -m venv "$VENV"
    fi
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -r python/tests/requirements.txt
# the package itself, built from source like any user's install (maturin comes from PyPI)
export MATURIN_PEP517_ARGS=${MATURIN_PEP517_ARGS:---profile ci}
"$VENV/bin/python" -m pip install -q --force-reinstall --no-deps ./python
"$VENV/bin/python" -m pip install -q ./python
export FLOODSEG_CLI=${FLOODSEG_CLI:-$PWD/target/ci/floodseg}
if [ ! -x "$FLOODSEG_CLI" ]; then
    echo "scripts/test-python.sh: $FLOODSEG_CLI not found: run scripts/test.sh (or cargo test --profile ci), or set FLOODSEG_CLI" >&2
    exit 1
fi
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
# from the repository's root, so that the installed package is tested, not python/floodseg
"$VENV/bin/python" -m pytest -q python/tests

#!/usr/bin/env bash
# The test command (README, CI): builds and runs the whole test suite, benches compiled once.
# Needs only a Rust toolchain (cargo); the fixtures it checks against are committed, so Python
# is not needed. The GPU backend's tests need a Vulkan (or Metal/DX12) adapter, and one test
# runs the front stages on wgpu's GL backend. On Linux with apt-get, when we may install
# packages, whatever is missing of Mesa's software drivers is installed: lavapipe (Vulkan,
# package mesa-vulkan-drivers) when no Vulkan driver is installed, and EGL with llvmpipe
# (libegl1 libegl-mesa0 libgl1-mesa-dri) when no EGL vendor or no swrast driver is.
# FLOODSEG_REQUIRE_GPU=1 makes the GPU tests fail, not skip, when no adapter can be created, so a
# missing driver never turns them green; FLOODSEG_REQUIRE_GL=1 (set here on Linux; export
# FLOODSEG_REQUIRE_GL=0 to allow the skip) does the same for the GL test.
# Then the Python package: a virtual environment in target/python-venv (made once, reused),
# `pip install ./python` into it (maturin builds the extension) and its tests with pytest,
# against the CLI just built. FLOODSEG_PYTHON=0 skips this part (Rust only).
# Everything is built once, with the `ci` profile (Cargo.toml): optimised like a release, with
# debug assertions and overflow checks in floodseg's own code; the CLI the Python tests run is
# the one `cargo test` builds for the CLI tests (target/ci/floodseg).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null 2>&1; then
    echo "scripts/test.sh: cargo not found; install Rust (https://rustup.rs) first" >&2
    exit 1
fi
missing=()
if [ "$(uname -s)" = Linux ] && command -v apt-get >/dev/null 2>&1; then
    if ! ls /usr/share/vulkan/icd.d/*.json >/dev/null 2>&1; then
        missing+=(mesa-vulkan-drivers)
    fi
    if ! ls /usr/share/glvnd/egl_vendor.d/*.json >/dev/null 2>&1 \
        || ! ls /usr/lib/*/dri/swrast_dri.so >/dev/null 2>&1; then
        missing+=(libegl1 libegl-mesa0 libgl1-mesa-dri)
    fi
fi
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        SUDO=""
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        SUDO="no"
    fi
    if [ "$SUDO" != no ]; then
        echo "scripts/test.sh: installing Mesa's software drivers: ${missing[*]}" >&2
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
fi
export FLOODSEG_REQUIRE_GPU=1
if [ "$(uname -s)" = Linux ]; then
    export FLOODSEG_REQUIRE_GL=${FLOODSEG_REQUIRE_GL:-1}
fi
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
cargo test --profile ci --locked --all-targets "$@"
if [ "${FLOODSEG_PYTHON:-1}" != 0 ]; then
    bash scripts/test-python.sh
fi

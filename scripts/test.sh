#!/usr/bin/env bash
# The test command (README, CI): builds and runs the whole test suite, benches compiled once.
# Needs only a Rust toolchain (cargo); the fixtures it checks against are committed, so Python
# is not needed. The GPU backend's tests need a Vulkan (or Metal/DX12) adapter: when no Vulkan
# driver is installed and we may install packages, Mesa's software Vulkan driver (lavapipe,
# package mesa-vulkan-drivers) is installed. FLOODSEG_REQUIRE_GPU=1 makes the GPU tests fail,
# not skip, when no adapter can be created, so a missing driver never turns them green.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null 2>&1; then
    echo "scripts/test.sh: cargo not found; install Rust (https://rustup.rs) first" >&2
    exit 1
fi
if ! ls /usr/share/vulkan/icd.d/*.json >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        SUDO=""
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        SUDO="no"
    fi
    if [ "$SUDO" != no ]; then
        echo "scripts/test.sh: no Vulkan driver found; installing mesa-vulkan-drivers (lavapipe)" >&2
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mesa-vulkan-drivers >/dev/null
    fi
fi
export FLOODSEG_REQUIRE_GPU=1
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
cargo build --release --locked --bin floodseg
cargo test --locked --all-targets "$@"

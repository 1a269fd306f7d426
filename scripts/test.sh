#!/usr/bin/env bash
# The test command (README, CI): builds and runs the whole test suite, benches compiled once.
# Needs only a Rust toolchain (cargo); the fixtures it checks against are committed, so Python
# is not needed. The GPU backend's tests (a later issue) will install Mesa's software Vulkan
# driver here when no Vulkan adapter exists.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null 2>&1; then
    echo "scripts/test.sh: cargo not found; install Rust (https://rustup.rs) first" >&2
    exit 1
fi
cargo build --release --locked --bin floodseg
cargo test --locked --all-targets "$@"

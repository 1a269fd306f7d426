
// ---- shaders/tile_sweep.wgsl, appended by src/shaders.rs to the modules with tiled sweeps
// (watershed, peaks) ----
//
// A tiled sweep: a TILE × TILE workgroup iterates its tile in workgroup memory, reading what
// lies outside from the sweep's input, until an iteration changes nothing or TILE_ITERS have run
// (twins: `cpu::watershed::TILE`, `TILE_ITERS`; `cpu::peaks::TILE`, `TILE_ITERS`).
const TILE: u32 = 16u;
const TILE_ITERS: u32 = 32u;

// Its report bits (twin: `cpu::watershed::SWEEP_AGAIN`, `SWEEP_CHANGED`): another sweep could
// change something; the output differs from the input. A word holding only SWEEP_CHANGED says
// the sweep before ended the loop in its output, not in its input: the tiled sweep that reads it
// copies its input to its output (TILE_COPY), so that both ping-pong buffers hold the fixed
// point, and reports nothing.
const SWEEP_AGAIN: u32 = 1u;
const SWEEP_CHANGED: u32 = 2u;

// What a tiled sweep does, from the flag word the sweep before wrote.
const TILE_SKIP: u32 = 0u;
const TILE_COPY: u32 = 1u;
const TILE_RUN: u32 = 2u;

fn tile_mode(f: u32) -> u32 {
    if ((f & SWEEP_AGAIN) != 0u) {
        return TILE_RUN;
    }
    return select(TILE_SKIP, TILE_COPY, f != 0u);
}

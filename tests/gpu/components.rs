//! Stage components on the GPU equals its CPU twin (`cpu::components`) byte for byte — labels
//! and count — on every fixture and on seeded random and adversarial masks (4- and
//! 8-connectivity), whatever order the GPU runs the union-find in; and the exclusive scan
//! (`gpu::scan`, the twin's `scan_exclusive`) equals the twin at lengths around its block
//! and level boundaries (4 elements an invocation, 1024 a block, 1 048 576 two levels).
//!
//! GPU availability: `common::gpu()` (fails under `FLOODSEG_REQUIRE_GPU=1`, skips otherwise).

use crate::common;
use crate::common::{Rng, SIZES};

use std::time::Instant;

use floodseg::cpu::{self, Dims};
use floodseg::gpu::{self, GpuContext};

fn conn(diagonal: bool) -> &'static str {
    if diagonal {
        "8conn"
    } else {
        "4conn"
    }
}

/// GPU vs twin on one mask: labels (first differing pixel named) and count.
fn check(ctx: &GpuContext, case: &str, w: usize, h: usize, diagonal: bool, fg: &[u32]) -> u32 {
    let dims = Dims::new(w, h);
    let (want, want_n) = cpu::components::components(dims, diagonal, fg);
    let (got, got_n) = gpu::components::run_components(ctx, dims, diagonal, fg)
        .unwrap_or_else(|e| panic!("{case}: components: {e}"));
    let case = format!("{case}_{}", conn(diagonal));
    common::assert_same(&case, "components", w, &got, &want);
    assert_eq!(got_n, want_n, "{case}: stage components: count");
    want_n
}

fn noise(w: usize, h: usize, percent: u64, rng: &mut Rng) -> Vec<u32> {
    (0..w * h)
        .map(|_| (rng.below(100) < percent) as u32)
        .collect()
}

fn blobs(w: usize, h: usize, rng: &mut Rng) -> Vec<u32> {
    let mut m = vec![0u32; w * h];
    for _ in 0..1 + w * h / 300 {
        let cy = rng.below(h as u64) as i64;
        let cx = rng.below(w as u64) as i64;
        let r = 1 + rng.below(12) as i64;
        for y in 0..h as i64 {
            for x in 0..w as i64 {
                let (dy, dx) = (y - cy, x - cx);
                if dy * dy + dx * dx <= r * r {
                    m[y as usize * w + x as usize] = 1;
                }
            }
        }
    }
    m
}

fn checkerboard(w: usize, h: usize) -> Vec<u32> {
    (0..w * h)
        .map(|i| (i / w + i % w).is_multiple_of(2) as u32)
        .collect()
}

/// A rectangular spiral of 1-pixel lines one pixel apart (one 4-connected component), from the
/// outside in; `cut_corners` replaces each corner by a diagonal step (then only 8-connected).
fn spiral(w: usize, h: usize, cut_corners: bool) -> Vec<u32> {
    let mut m = vec![0u32; w * h];
    let (mut y0, mut x0, mut y1, mut x1) = (0i64, 0i64, h as i64 - 1, w as i64 - 1);
    let mut set = |y: i64, x: i64| m[y as usize * w + x as usize] = 1;
    while y0 <= y1 && x0 <= x1 {
        for x in x0..=x1 {
            set(y0, x);
        }
        for y in y0..=y1 {
            set(y, x1);
        }
        if y1 > y0 {
            for x in x0..=x1 {
                set(y1, x);
            }
        }
        // the left side stops two below the top, so the next ring joins at (y0 + 2, x0)
        if x1 > x0 {
            for y in (y0 + 2).min(y1)..=y1 {
                set(y, x0);
            }
        }
        if y0 + 2 <= y1 && x0 < x1 {
            set(y0 + 2, x0 + 1);
        }
        y0 += 2;
        x0 += 2;
        y1 -= 2;
        x1 -= 2;
    }
    if cut_corners {
        // Remove every pixel whose 4-neighbourhood turns a corner (one horizontal and one
        // vertical neighbour): the path then continues only diagonally there.
        let src = m.clone();
        let at = |y: i64, x: i64| {
            y >= 0
                && x >= 0
                && y < h as i64
                && x < w as i64
                && src[y as usize * w + x as usize] != 0
        };
        for y in 0..h as i64 {
            for x in 0..w as i64 {
                let horiz = at(y, x - 1) || at(y, x + 1);
                let vert = at(y - 1, x) || at(y + 1, x);
                let n = [at(y, x - 1), at(y, x + 1), at(y - 1, x), at(y + 1, x)]
                    .iter()
                    .filter(|&&b| b)
                    .count();
                if at(y, x) && horiz && vert && n == 2 {
                    m[y as usize * w + x as usize] = 0;
                }
            }
        }
    }
    m
}

/// Diagonal snakes: in every row one pixel per snake, at a triangle wave bouncing between the
/// left and right edges, so consecutive rows touch only diagonally (one 8-connected component
/// per snake, one 4-connected component per pixel).
fn diagonal_snakes(w: usize, h: usize, snakes: usize) -> Vec<u32> {
    let mut m = vec![0u32; w * h];
    let period = 2 * (w - 1).max(1);
    for s in 0..snakes {
        for y in 0..h {
            let t = (y + s * period / snakes.max(1)) % period;
            let x = if t < w { t } else { period - t };
            m[y * w + x.min(w - 1)] = 1;
        }
    }
    m
}

/// A boustrophedon snake: every other row full, joined alternately at the right and left end
/// (one long 4-connected path whose first pixel is far from most of it).
fn row_snake(w: usize, h: usize) -> Vec<u32> {
    let mut m = vec![0u32; w * h];
    for y in 0..h {
        if y % 2 == 0 {
            m[y * w..(y + 1) * w].fill(1);
        } else {
            let x = if y % 4 == 1 { w - 1 } else { 0 };
            m[y * w + x] = 1;
        }
    }
    m
}

/// The same, by columns and starting at the bottom right, so the smallest index of the
/// component (its root) is reached last by most chains.
fn col_snake_reversed(w: usize, h: usize) -> Vec<u32> {
    let mut m = vec![0u32; w * h];
    for x in 0..w {
        for y in 0..h {
            let xr = w - 1 - x;
            let on = if x % 2 == 0 {
                true
            } else {
                let yy = if x % 4 == 1 { 0 } else { h - 1 };
                y == yy
            };
            if on {
                m[y * w + xr] = 1;
            }
        }
    }
    m
}

/// Isolated single pixels on a grid of pitch 2 (no two touch, even diagonally).
fn single_pixels(w: usize, h: usize) -> Vec<u32> {
    (0..w * h)
        .map(|i| ((i / w).is_multiple_of(2) && (i % w).is_multiple_of(2)) as u32)
        .collect()
}

#[test]
fn scan_gpu_equals_cpu_at_block_boundaries() {
    let Some(ctx) = common::gpu() else { return };
    let mut rng = Rng::new(7);
    // blocks of 1024: one level up to 1024 elements, two up to 1 048 576, three beyond
    let lens = [
        1usize, 2, 3, 4, 5, 255, 256, 257, 1023, 1024, 1025, 2047, 2048, 4097, 65_537, 1_048_575,
        1_048_576, 1_048_577,
    ];
    for &n in &lens {
        for max in [2u64, 1000] {
            let src: Vec<u32> = (0..n).map(|_| rng.below(max) as u32).collect();
            let mut want = vec![0u32; n];
            let want_total = cpu::components::scan_exclusive(&src, &mut want);
            let (got, total) = gpu::scan::run_scan(ctx, &src).unwrap();
            let case = format!("scan_len{n}_max{max}");
            common::assert_same(&case, "scan", n, &got, &want);
            assert_eq!(total, want_total, "{case}: stage scan: total");
        }
    }
    // all ones: dst[i] == i
    let src = vec![1u32; 4097];
    let (got, total) = gpu::scan::run_scan(ctx, &src).unwrap();
    let want: Vec<u32> = (0..4097).collect();
    common::assert_same("scan_ones_4097", "scan", 4097, &got, &want);
    assert_eq!(total, 4097);
}

/// A scan longer than one row of 64-invocation workgroups
/// (`max_compute_workgroups_per_dimension × 64` elements): `scan_add`'s 2-D folded dispatch,
/// where the last row has idle workgroups. (`scan_blocks` folds the same way, from
/// `workgroup_id.y * num_workgroups.x + workgroup_id.x`, but only past 67 M elements, more
/// than WebGPU's default 128 MiB storage binding holds.)
#[test]
fn scan_gpu_equals_cpu_folded_dispatch() {
    let Some(ctx) = common::gpu() else { return };
    // The context requests WebGPU's default limits (`GpuContext::new`), so at most 65 535 per
    // dimension on every device: the fold is always reachable at about 4 M elements.
    let max = ctx.limits().max_compute_workgroups_per_dimension as usize;
    assert!(
        (1..=65_535).contains(&max),
        "max_compute_workgroups_per_dimension {max}: expected WebGPU's default limit"
    );
    let n = max * 64 + 65;
    assert!(ctx.workgroups(n as u32).1 > 1, "{n} elements do not fold");
    let mut rng = Rng::new(11);
    let src: Vec<u32> = (0..n).map(|_| rng.below(3) as u32).collect();
    let t = Instant::now();
    let mut want = vec![0u32; n];
    let want_total = cpu::components::scan_exclusive(&src, &mut want);
    let (got, total) = gpu::scan::run_scan(ctx, &src).unwrap();
    common::assert_same(&format!("scan_folded_len{n}"), "scan", n, &got, &want);
    assert_eq!(total, want_total, "scan_folded_len{n}: stage scan: total");
    eprintln!("scan of {n} elements (GPU + twin): {:?}", t.elapsed());
}

#[test]
fn components_gpu_equals_cpu_on_fixtures() {
    let Some(ctx) = common::gpu() else { return };
    let cases = common::fixture_cases();
    assert!(!cases.is_empty(), "no fixtures found");
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let args = std::fs::read_to_string(case.join("args.txt")).unwrap();
        let params = common::parse_args(&args);
        let img = floodseg::io::read_image(&common::fixture_input(&case))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let st = floodseg::pipeline::segment_cpu(&img, &params)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let (w, h) = (st.dims.width as usize, st.dims.height as usize);
        // The markers, exactly as the pipeline computes them.
        let n = check(ctx, &format!("{name}_peaks"), w, h, false, &st.peaks);
        assert_eq!(n, st.n_markers, "{name}: markers count");
        for diagonal in [false, true] {
            check(ctx, &format!("{name}_opened"), w, h, diagonal, &st.opened);
            check(ctx, &format!("{name}_mask"), w, h, diagonal, &st.mask);
        }
    }
}

#[test]
fn components_gpu_equals_cpu_random() {
    let Some(ctx) = common::gpu() else { return };
    let mut rng = Rng::new(1);
    for &(w, h) in SIZES {
        for diagonal in [false, true] {
            check(
                ctx,
                &format!("empty_{w}x{h}"),
                w,
                h,
                diagonal,
                &vec![0; w * h],
            );
            let n = check(
                ctx,
                &format!("full_{w}x{h}"),
                w,
                h,
                diagonal,
                &vec![1; w * h],
            );
            assert_eq!(n, 1, "full_{w}x{h}: one component");
            for p in [30u64, 50, 70] {
                let m = noise(w, h, p, &mut rng);
                check(ctx, &format!("noise{p}_{w}x{h}"), w, h, diagonal, &m);
            }
            let m = blobs(w, h, &mut rng);
            check(ctx, &format!("blobs_{w}x{h}"), w, h, diagonal, &m);
        }
    }
}

/// Union-find on the GPU runs in whatever order the device picks: the same dense masks
/// (near the percolation threshold, where trees are deep and hooks collide) several times.
#[test]
fn components_gpu_equals_cpu_repeated_dense_noise() {
    let Some(ctx) = common::gpu() else { return };
    let (w, h) = (257, 131);
    for seed in 0..4u64 {
        let mut rng = Rng::new(100 + seed);
        for (p, diagonal) in [(60u64, false), (45, true), (70, false), (50, true)] {
            let m = noise(w, h, p, &mut rng);
            for rep in 0..2 {
                check(
                    ctx,
                    &format!("dense{p}_s{seed}_r{rep}_{w}x{h}"),
                    w,
                    h,
                    diagonal,
                    &m,
                );
            }
        }
    }
}

#[test]
fn components_gpu_equals_cpu_special_cases() {
    let Some(ctx) = common::gpu() else { return };
    // checkerboard: 8-connectivity one component, 4-connectivity one per foreground pixel
    for &(w, h) in &[(1usize, 1usize), (2, 2), (17, 23), (64, 64), (257, 131)] {
        let m = checkerboard(w, h);
        let n = check(ctx, &format!("checker_{w}x{h}"), w, h, true, &m);
        assert_eq!(n, 1, "checker_{w}x{h}: 8-connectivity");
        let n = check(ctx, &format!("checker_{w}x{h}"), w, h, false, &m);
        assert_eq!(
            n as usize,
            (w * h).div_ceil(2),
            "checker_{w}x{h}: 4-connectivity"
        );
    }
    // spirals and snakes: long paths, deep union-find trees
    for &(w, h) in &[(17usize, 23usize), (64, 64), (257, 131), (131, 257)] {
        for diagonal in [false, true] {
            let m = spiral(w, h, false);
            let n = check(ctx, &format!("spiral_{w}x{h}"), w, h, diagonal, &m);
            assert_eq!(n, 1, "spiral_{w}x{h}: one component");
            let m = spiral(w, h, true);
            let n = check(ctx, &format!("spiral_cut_{w}x{h}"), w, h, diagonal, &m);
            if diagonal {
                assert_eq!(n, 1, "spiral_cut_{w}x{h}: one 8-connected component");
            }
            let m = row_snake(w, h);
            let n = check(ctx, &format!("row_snake_{w}x{h}"), w, h, diagonal, &m);
            assert_eq!(n, 1, "row_snake_{w}x{h}: one component");
            let m = col_snake_reversed(w, h);
            let n = check(ctx, &format!("col_snake_{w}x{h}"), w, h, diagonal, &m);
            assert_eq!(n, 1, "col_snake_{w}x{h}: one component");
            for snakes in [1usize, 3] {
                let m = diagonal_snakes(w, h, snakes);
                let n = check(
                    ctx,
                    &format!("diag_snakes{snakes}_{w}x{h}"),
                    w,
                    h,
                    diagonal,
                    &m,
                );
                if diagonal && snakes == 1 {
                    assert_eq!(n, 1, "diag_snakes1_{w}x{h}: one 8-connected component");
                }
            }
        }
    }
    // single pixels
    for &(w, h) in SIZES {
        let m = single_pixels(w, h);
        for diagonal in [false, true] {
            let n = check(ctx, &format!("singles_{w}x{h}"), w, h, diagonal, &m);
            assert_eq!(n as usize, w.div_ceil(2) * h.div_ceil(2), "singles_{w}x{h}");
        }
    }
    // 1×N / N×1 with alternating runs, and sizes around the scan's block boundaries
    // (64 = one block, 4096 = 64 blocks, 4097 = 17×241 one more)
    let mut rng = Rng::new(3);
    let shapes: &[(usize, usize)] = &[
        (1, 300),
        (300, 1),
        (8, 8),
        (1, 63),
        (1, 64),
        (1, 65),
        (65, 1),
        (64, 64),
        (63, 65),
        (17, 241),
        (241, 17),
        (4097, 1),
        (1, 4097),
    ];
    for &(w, h) in shapes {
        for diagonal in [false, true] {
            for p in [30u64, 50, 70] {
                let m = noise(w, h, p, &mut rng);
                check(ctx, &format!("edge_noise{p}_{w}x{h}"), w, h, diagonal, &m);
            }
            let m = checkerboard(w, h);
            check(ctx, &format!("edge_checker_{w}x{h}"), w, h, diagonal, &m);
            let n = check(
                ctx,
                &format!("edge_full_{w}x{h}"),
                w,
                h,
                diagonal,
                &vec![1; w * h],
            );
            assert_eq!(n, 1);
        }
    }
    // every pixel its own component at 4096 / 4097 foreground pixels: the count crosses a
    // scan block boundary of the second level
    for &(w, h) in &[(128usize, 64usize), (129, 63), (127, 65)] {
        let m = checkerboard(w, h);
        let n = check(ctx, &format!("roots_{w}x{h}"), w, h, false, &m);
        assert_eq!(n as usize, (w * h).div_ceil(2));
    }
}

/// One larger case (1024×1024 noise): exercises three scan levels (and a fourth block of
/// totals) and a deep union-find. Run once.
#[test]
fn components_gpu_equals_cpu_large_noise() {
    let Some(ctx) = common::gpu() else { return };
    let (w, h) = (1024, 1024);
    let mut rng = Rng::new(9);
    let m = noise(w, h, 55, &mut rng);
    let t = Instant::now();
    check(ctx, "large_noise55_1024x1024", w, h, false, &m);
    eprintln!("components 1024x1024 (GPU + twin): {:?}", t.elapsed());
}

/// The whole-stage API on device buffers: nothing read back until the caller asks.
#[test]
fn components_device_buffers_api() {
    let Some(ctx) = common::gpu() else { return };
    let (w, h) = (37, 19);
    let mut rng = Rng::new(5);
    let m = noise(w, h, 50, &mut rng);
    let dims = Dims::new(w, h);
    let fg = ctx.storage_init("test.fg", &m);
    let (labels, count) = gpu::components::components(ctx, dims, true, &fg).unwrap();
    let got = ctx
        .run_and_read("test.labels", w * h, |enc| {
            let out = ctx.storage("test.out", w * h);
            enc.copy_buffer_to_buffer(&labels, 0, &out, 0, 4 * (w * h) as u64);
            Ok(out)
        })
        .unwrap();
    let got_n = ctx
        .run_and_read("test.count", 1, |enc| {
            let out = ctx.storage("test.out", 1);
            enc.copy_buffer_to_buffer(&count, 0, &out, 0, 4);
            Ok(out)
        })
        .unwrap();
    let (want, want_n) = cpu::components::components(dims, true, &m);
    common::assert_same("device_api_37x19", "components", w, &got, &want);
    assert_eq!(got_n, vec![want_n]);
    // a foreground buffer too small for the image is bad input, not a panic
    assert!(gpu::components::components(ctx, Dims::new(64, 64), false, &fg).is_err());
}

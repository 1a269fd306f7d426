//! Criterion benchmarks of every stage and the whole pipeline (the lecture's parameters, and
//! `pipeline_rods`: `--preset rods`) on both backends, on synthetic
//! touching disks (dark cells of radius 6–15 on a bright background, one per 600 px²), with
//! throughput in pixels. Bench ids are `cpu/<stage>/<side>` and `gpu/<stage>/<side>`.
//!
//! - `cargo bench --bench pipeline` measures the CPU at 256² and 1024² and the GPU at 1024².
//! - `cargo test --benches` (and `--all-targets`) runs each bench once so they cannot rot; the
//!   GPU then runs at 128² only, because a software adapter (Mesa lavapipe) is what a machine
//!   without a GPU has, and it takes seconds per 1024² frame.
//! - `FLOODSEG_BENCH_GPU_SIDES=256,2048` overrides the GPU sides (both modes).
//!
//! GPU stage benches are device-resident: their inputs are uploaded once, each iteration
//! records and submits the stage's passes and waits for the device by reading back one `u32`
//! of the stage's output. `gpu/pipeline` is the library's `Segmenter::segment`: upload of the
//! samples, every stage, readback of every stage image. When no adapter can be created the GPU
//! benches print one line and are skipped (they fail instead when `FLOODSEG_REQUIRE_GPU=1`, as
//! the GPU tests do).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use floodseg::cpu::components::components;
use floodseg::cpu::distance::{distance, DistanceMode, JfaVariant};
use floodseg::cpu::maxima::MaximaParams;
use floodseg::cpu::opening::{opening, Structure};
use floodseg::cpu::peaks::{peaks, PeaksParams};
use floodseg::cpu::smooth::SmoothParams;
use floodseg::cpu::threshold::{threshold, threshold_params, GrayScale};
use floodseg::cpu::watershed::watershed;
use floodseg::cpu::{Dims, Rect};
use floodseg::gpu::{self, GpuContext};
use floodseg::image::RawImage;
use floodseg::pipeline::{gray_input, segment_cpu, Backend, Params, Preset, Segmenter, Stages};
use floodseg::synth::SplitMix64;
use std::time::Duration;

/// A `side × side` 8-bit image of dark touching disks on a bright background.
fn disks(side: usize, seed: u64) -> RawImage {
    let mut rng = SplitMix64(seed);
    let mut px = vec![230u8; side * side];
    let n = side * side / 600;
    for _ in 0..n {
        let cy = (rng.next() % side as u64) as i64;
        let cx = (rng.next() % side as u64) as i64;
        let r = 6 + (rng.next() % 10) as i64;
        for y in (cy - r).max(0)..(cy + r + 1).min(side as i64) {
            for x in (cx - r).max(0)..(cx + r + 1).min(side as i64) {
                if (y - cy).pow(2) + (x - cx).pow(2) < r * r {
                    px[y as usize * side + x as usize] = 40;
                }
            }
        }
    }
    RawImage::gray_u8(side, side, px)
}

fn lecture_params() -> Params {
    Params {
        level: floodseg::cpu::threshold::parse_level("128").unwrap(),
        dark: true,
        open: 1,
        min_distance: 5,
        ..Params::default()
    }
}

/// Criterion runs each bench once, without measuring, unless cargo passed `--bench`
/// (`cargo bench`); `cargo test --benches` does not.
fn test_mode() -> bool {
    !std::env::args().any(|a| a == "--bench")
}

fn cpu_sides() -> Vec<usize> {
    vec![256, 1024]
}

fn gpu_sides() -> Vec<usize> {
    if let Ok(s) = std::env::var("FLOODSEG_BENCH_GPU_SIDES") {
        let v: Vec<usize> = s
            .split(',')
            .filter_map(|x| x.trim().parse().ok())
            .filter(|&x| x > 0)
            .collect();
        if !v.is_empty() {
            return v;
        }
    }
    if test_mode() {
        vec![128]
    } else {
        vec![1024]
    }
}

fn cpu(c: &mut Criterion) {
    let mut g = c.benchmark_group("cpu");
    g.sample_size(10);
    let params = lecture_params();
    for side in cpu_sides() {
        let img = disks(side, 7);
        let s = segment_cpu(&img, &params).unwrap();
        let dims = Dims::new(side, side);
        g.throughput(Throughput::Elements((side * side) as u64));
        let (gp, samples, scale) = gray_input(&img).unwrap();
        g.bench_function(BenchmarkId::new("gray", side), |b| {
            let mut keys = vec![0u32; dims.len()];
            b.iter(|| floodseg::cpu::gray::gray(&gp, &samples, &mut keys))
        });
        let tp = threshold_params(dims, scale, &params.level, params.dark, &s.gray);
        g.bench_function(BenchmarkId::new("threshold", side), |b| {
            let mut mask = vec![0u32; dims.len()];
            b.iter(|| threshold(&tp, &s.gray, &mut mask, &mut [0]))
        });
        g.bench_with_input(BenchmarkId::new("opening", side), &s.mask, |b, m| {
            b.iter(|| opening(dims, Rect::full(dims), Structure::Cross, 1, m))
        });
        g.bench_with_input(
            BenchmarkId::new("distance_exact", side),
            &s.opened,
            |b, m| b.iter(|| distance(dims, DistanceMode::Exact, m)),
        );
        g.bench_with_input(
            BenchmarkId::new("distance_jfa2", side),
            &s.opened,
            |b, m| b.iter(|| distance(dims, DistanceMode::Jfa(JfaVariant::Squared), m)),
        );
        let pp = PeaksParams {
            dims,
            min_distance: params.min_distance,
            footprint: params.footprint_size(),
            border: params.min_distance,
        };
        g.bench_function(BenchmarkId::new("peaks", side), |b| {
            b.iter(|| peaks(&pp, &s.opened, &s.distance2))
        });
        g.bench_function(BenchmarkId::new("components", side), |b| {
            b.iter(|| components(dims, false, &s.peaks))
        });
        g.bench_function(BenchmarkId::new("watershed", side), |b| {
            b.iter(|| watershed(dims, &s.opened, &s.distance2, &s.markers))
        });
        g.bench_function(BenchmarkId::new("measure", side), |b| {
            b.iter(|| {
                floodseg::cpu::measure::measure_sums(
                    dims,
                    &s.labels,
                    &s.gray,
                    scale == GrayScale::Float,
                    s.n_markers,
                )
            })
        });
        g.bench_with_input(BenchmarkId::new("pipeline", side), &img, |b, img| {
            b.iter(|| segment_cpu(img, &params).unwrap())
        });
        // the stages of the accuracy modes
        let sp = SmoothParams { dims, passes: 1 };
        g.bench_function(BenchmarkId::new("smooth", side), |b| {
            b.iter(|| floodseg::cpu::smooth::smooth(&sp, &s.gray))
        });
        let bp = floodseg::cpu::background::BackgroundParams {
            dims,
            radius: 10,
            dark: true,
            key_max: s.scale.key_max(),
        };
        g.bench_function(BenchmarkId::new("background", side), |b| {
            b.iter(|| floodseg::cpu::background::flatten(&bp, &s.gray))
        });
        let mp = MaximaParams {
            dims,
            h_half: 2,
            border: 0,
        };
        g.bench_function(BenchmarkId::new("maxima_regional", side), |b| {
            b.iter(|| floodseg::cpu::maxima::regional(&mp, &s.opened, &s.distance2))
        });
        g.bench_function(BenchmarkId::new("maxima_hmax", side), |b| {
            b.iter(|| floodseg::cpu::maxima::hmax(&mp, &s.opened, &s.distance2))
        });
        let table = filter_table(s.n_markers);
        let fp = floodseg::cpu::filter::FilterParams::new(dims, &table);
        g.bench_function(BenchmarkId::new("filter", side), |b| {
            b.iter(|| {
                let mut l = s.labels.clone();
                floodseg::cpu::filter::filter_relabel(&fp, &table, &mut l);
                l
            })
        });
        let rods = Preset::Rods.params();
        g.bench_with_input(BenchmarkId::new("pipeline_rods", side), &img, |b, img| {
            b.iter(|| segment_cpu(img, &rods).unwrap())
        });
    }
    g.finish();
}

/// A filter table dropping every third object (renumbering the rest).
fn filter_table(n: u32) -> Vec<u32> {
    let mut table = vec![0u32; n as usize + 1];
    let mut next = 0;
    for (l, t) in table.iter_mut().enumerate().skip(1) {
        if l % 3 != 0 {
            next += 1;
            *t = next;
        }
    }
    table
}

/// Wait until the device has finished everything submitted, by reading back one `u32`.
fn sync(ctx: &GpuContext, buf: &gpu::wgpu::Buffer) {
    ctx.read_buffers("floodseg.bench.sync", &[(buf, 1)])
        .unwrap();
}

fn gpu_stages(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    ctx: &GpuContext,
    side: usize,
    s: &Stages,
    img: &RawImage,
) {
    let params = lecture_params();
    let dims = s.dims;
    let n = dims.len();
    let (gp, samples, scale) = gray_input(img).unwrap();
    // Device-resident inputs of every stage (the CPU twin's stage images, equal to the GPU's).
    let samples_buf = ctx.storage_init("floodseg.bench.samples", &samples);
    let keys = ctx.storage_init("floodseg.bench.keys", &s.gray);
    let mask = ctx.storage_init("floodseg.bench.mask", &s.mask);
    let opened = ctx.storage_init("floodseg.bench.opened", &s.opened);
    let d2 = ctx.storage_init("floodseg.bench.d2", &s.distance2);
    let peaks_buf = ctx.storage_init("floodseg.bench.peaks", &s.peaks);
    let markers = ctx.storage_init("floodseg.bench.markers", &s.markers);
    let labels = ctx.storage_init("floodseg.bench.labels", &s.labels);
    let out = ctx.storage("floodseg.bench.out", n);
    let scratch = ctx.storage("floodseg.bench.scratch", n);
    let dscratch = gpu::distance::DistanceScratch::new(ctx, dims);

    g.bench_function(BenchmarkId::new("gray", side), |b| {
        b.iter(|| {
            let mut enc = ctx.encoder("floodseg.bench.gray");
            gpu::gray::gray(ctx, &mut enc, &gp, &samples_buf, &out);
            ctx.submit("floodseg.bench.gray", enc).unwrap();
            sync(ctx, &out);
        })
    });
    let tp = threshold_params(dims, scale, &params.level, params.dark, &s.gray);
    let count = ctx.storage("floodseg.bench.count", 1);
    g.bench_function(BenchmarkId::new("threshold", side), |b| {
        b.iter(|| {
            let mut enc = ctx.encoder("floodseg.bench.threshold");
            gpu::threshold::threshold(ctx, &mut enc, &tp, &keys, &out, &count);
            ctx.submit("floodseg.bench.threshold", enc).unwrap();
            sync(ctx, &out);
        })
    });
    g.bench_function(BenchmarkId::new("opening", side), |b| {
        b.iter(|| {
            // The opening works in place: start each iteration from the thresholded mask.
            let mut enc = ctx.encoder("floodseg.bench.opening");
            enc.copy_buffer_to_buffer(&mask, 0, &out, 0, 4 * n as u64);
            gpu::opening::opening(
                ctx,
                &mut enc,
                dims,
                Rect::full(dims),
                params.structure,
                params.open,
                &out,
                &scratch,
            );
            ctx.submit("floodseg.bench.opening", enc).unwrap();
            sync(ctx, &out);
        })
    });
    for (id, mode) in [
        ("distance_exact", DistanceMode::Exact),
        ("distance_jfa2", DistanceMode::Jfa(JfaVariant::Squared)),
    ] {
        g.bench_function(BenchmarkId::new(id, side), |b| {
            b.iter(|| {
                let mut enc = ctx.encoder("floodseg.bench.distance");
                gpu::distance::distance(ctx, &mut enc, dims, mode, &opened, &dscratch, &out);
                ctx.submit("floodseg.bench.distance", enc).unwrap();
                sync(ctx, &out);
            })
        });
    }
    let pp = PeaksParams {
        dims,
        min_distance: params.min_distance,
        footprint: params.footprint_size(),
        border: params.min_distance,
    };
    g.bench_function(BenchmarkId::new("peaks", side), |b| {
        b.iter(|| sync(ctx, &gpu::peaks::peaks(ctx, &pp, &opened, &d2).unwrap()))
    });
    g.bench_function(BenchmarkId::new("components", side), |b| {
        b.iter(|| {
            let (_, count) = gpu::components::components(ctx, dims, false, &peaks_buf).unwrap();
            sync(ctx, &count);
        })
    });
    g.bench_function(BenchmarkId::new("watershed", side), |b| {
        b.iter(|| {
            sync(
                ctx,
                &gpu::watershed::watershed(ctx, dims, &opened, &d2, &markers).unwrap(),
            )
        })
    });
    g.bench_function(BenchmarkId::new("measure", side), |b| {
        b.iter(|| {
            let sums = gpu::measure::measure_sums(ctx, dims, &labels, &keys, s.n_markers).unwrap();
            sync(ctx, &sums);
        })
    });
    // the stages of the accuracy modes (maxima and filter through their entry points, which
    // upload their inputs and read the result back: one transfer each way included)
    let sp = SmoothParams { dims, passes: 1 };
    g.bench_function(BenchmarkId::new("smooth", side), |b| {
        b.iter(|| {
            let mut enc = ctx.encoder("floodseg.bench.smooth");
            gpu::smooth::smooth(ctx, &mut enc, &sp, &keys, &scratch, &out);
            ctx.submit("floodseg.bench.smooth", enc).unwrap();
            sync(ctx, &out);
        })
    });
    let bp = floodseg::cpu::background::BackgroundParams {
        dims,
        radius: 10,
        dark: true,
        key_max: s.scale.key_max(),
    };
    let bg_b = ctx.storage("floodseg.bench.background.b", dims.len());
    g.bench_function(BenchmarkId::new("background", side), |b| {
        b.iter(|| {
            let mut enc = ctx.encoder("floodseg.bench.background");
            gpu::background::flatten(ctx, &mut enc, &bp, &keys, &scratch, &bg_b, &out);
            ctx.submit("floodseg.bench.background", enc).unwrap();
            sync(ctx, &out);
        })
    });
    let mp = MaximaParams {
        dims,
        h_half: 2,
        border: 0,
    };
    g.bench_function(BenchmarkId::new("maxima_hmax", side), |b| {
        b.iter(|| gpu::maxima::hmax(ctx, &mp, &s.opened, &s.distance2).unwrap())
    });
    let table = filter_table(s.n_markers);
    g.bench_function(BenchmarkId::new("filter", side), |b| {
        b.iter(|| gpu::filter::relabel(ctx, dims, &s.labels, &table).unwrap())
    });
}

fn gpu(c: &mut Criterion) {
    let seg = match Segmenter::new(Backend::Gpu) {
        Ok(seg) => seg,
        Err(e) => {
            if std::env::var("FLOODSEG_REQUIRE_GPU").is_ok_and(|v| v == "1") {
                panic!("FLOODSEG_REQUIRE_GPU=1 but no GPU adapter: {e}");
            }
            println!("floodseg benches: GPU benches skipped, no adapter ({e})");
            return;
        }
    };
    // A second context for the stage benches (the Segmenter keeps its own private).
    let ctx = GpuContext::new().unwrap();
    println!("floodseg benches: {}", seg.description());
    let mut g = c.benchmark_group("gpu");
    g.sample_size(10);
    if ctx.is_software() {
        // Seconds per frame on a CPU rasterizer: keep `cargo bench` bounded.
        g.warm_up_time(Duration::from_millis(500));
        g.measurement_time(Duration::from_secs(2));
    }
    let params = lecture_params();
    for side in gpu_sides() {
        let img = disks(side, 7);
        let s = segment_cpu(&img, &params).unwrap();
        g.throughput(Throughput::Elements((side * side) as u64));
        gpu_stages(&mut g, &ctx, side, &s, &img);
        g.bench_with_input(BenchmarkId::new("pipeline", side), &img, |b, img| {
            b.iter(|| seg.segment(img, &params).unwrap())
        });
        let rods = Preset::Rods.params();
        g.bench_with_input(BenchmarkId::new("pipeline_rods", side), &img, |b, img| {
            b.iter(|| seg.segment(img, &rods).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, cpu, gpu);
criterion_main!(benches);

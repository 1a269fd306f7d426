//! Criterion benchmarks of each CPU stage and the whole pipeline on synthetic touching disks,
//! throughput in pixels. `cargo test --all-targets` runs each once so they cannot rot;
//! `cargo bench` measures. (GPU benches join when the GPU backend lands.)

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use floodseg::cpu::components::components;
use floodseg::cpu::distance::{distance, DistanceMode, JfaVariant};
use floodseg::cpu::opening::{opening, Structure};
use floodseg::cpu::peaks::{peaks, PeaksParams};
use floodseg::cpu::watershed::watershed;
use floodseg::cpu::{Dims, Rect};
use floodseg::image::RawImage;
use floodseg::pipeline::{segment_cpu, Params};
use floodseg::synth::SplitMix64;

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

fn stages(c: &mut Criterion) {
    let mut g = c.benchmark_group("cpu");
    g.sample_size(10);
    for side in [256usize, 1024] {
        let img = disks(side, 7);
        let s = segment_cpu(&img, &lecture_params()).unwrap();
        let dims = Dims::new(side, side);
        g.throughput(Throughput::Elements((side * side) as u64));
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
            min_distance: 5,
            footprint: 11,
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
        g.bench_with_input(BenchmarkId::new("pipeline", side), &img, |b, img| {
            b.iter(|| segment_cpu(img, &lecture_params()).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);

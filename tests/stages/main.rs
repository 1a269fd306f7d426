//! The CPU twin, stage by stage: one test binary (`cargo test --test stages`), one module per
//! stage, named as everywhere else (`src/cpu/<stage>.rs`, `shaders/<stage>.wgsl`), so
//! `cargo test --test stages <stage>::` runs one stage's tests. No GPU needed, except for two
//! checks that hold the GPU backend to a scikit-image fixture with the module's loaders
//! (`threshold::otsu_mask_gpu_equals_cpu`, `measure::props_of_gpu_sums_equal_regionprops_table`).
//!
//! | module              | twin vs naive (`tests/naive/`)      | schedules      | scikit-image / SciPy   |
//! |---------------------|-------------------------------------|----------------|------------------------|
//! | `gray`              | `f32_key` order                     | `gray_image`   |                        |
//! | `smooth`            |                                     |                | `correlate1d`          |
//! | `threshold`         | exact compares, `Decimal`, Otsu ties | `threshold_image` | `threshold_otsu`   |
//! | `opening`           | opening, erode/dilate in a rectangle | `opening`     |                        |
//! | `distance`          | brute-force EDT, JFA pinned         | `distance`     | (fixtures: JFA variants) |
//! | `peaks`             | `peak_local_max` walk               | `peaks`, rounds |                       |
//! | `maxima`            | regional / h-maxima from scratch    | `regional`, `hmax` | `tests/fixtures/maxima/` |
//! | `components`        | BFS labelling                       | runs           |                        |
//! | `watershed`         | priority-queue Dijkstra, SPEC rule  | Jacobi, levels |                        |
//! | `measure`           |                                     | bands          | `regionprops_table`    |
//! | `filter`            |                                     |                | shape filters, `clear_border` |
//! | `skimage_agreement` | —                                   | —              | the whole lecture pipeline and `--flood intensity` (pinned, ties checked) |
//!
//! Shared: `inputs` (the twin-vs-naive properties' random masks, `Mask`, `diff_message`, the
//! rod masks of the fixed measurement sets, `config`: the proptest seed and scale knobs) and
//! `schedules` (the schedule properties' masks and sizes, and every stage's schedules on large
//! colonies at once). `synth_rods` tests `floodseg::synth::rods`, the generator of the rod
//! images. The GPU side of every stage: `tests/gpu/<stage>.rs`; `tests/README.md` maps every
//! stage to all its tests.

#[path = "../common/mod.rs"]
mod common;
#[path = "../naive/mod.rs"]
mod naive;

mod inputs;
mod schedules;

mod components;
mod distance;
mod filter;
mod gray;
mod maxima;
mod measure;
mod opening;
mod peaks;
mod skimage_agreement;
mod smooth;
mod synth_rods;
mod threshold;
mod watershed;

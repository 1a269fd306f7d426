//! `floodseg tune`: arguments, then the library's search ([`floodseg::tune::Spec`] builds the
//! grids, [`floodseg::tune::run_searches`] scores them); this file prints the best settings.

use std::path::PathBuf;
use std::time::Instant;

use floodseg::io::FrameSource;
use floodseg::{checks, tune, Error, RawImage, Result, Segmenter};

use crate::args::{backend_of_arg, base_params, preset_of, BackendArg, PresetArg, StructureArg};
use crate::report::{self, Warner};

#[derive(clap::Args)]
pub(crate) struct TuneArgs {
    /// Input frames (an image, stack, folder, glob or several files, as for `segment`).
    #[arg(required = true, num_args = 1.., value_name = "INPUT")]
    pub(crate) input: Vec<PathBuf>,
    /// Ground-truth labels, frame for frame (as for `eval`).
    #[arg(long, value_name = "GT")]
    pub(crate) gt: PathBuf,
    /// Calibrate a preset (`lecture` or `rods`, as for `segment`): every list below then
    /// defaults to the preset's own value, except the threshold (`otsu,scan:24`) and, for
    /// `rods`, the core (`none,scan:10`), so the search finds the preset's levels; lists
    /// given still vary.
    #[arg(long, value_enum, value_name = "NAME")]
    pub(crate) preset: Option<PresetArg>,
    /// Objects are darker than the background.
    #[arg(long, conflicts_with = "bright")]
    pub(crate) dark: bool,
    /// Objects are brighter than the background (overrides a preset's --dark).
    #[arg(long)]
    pub(crate) bright: bool,
    /// Thresholds to try: `otsu`, values, ranges (`otsu,100:200:10`) and `scan[:N]` (N levels,
    /// default 24, from the 1st to the 99th percentile of the first frame)
    /// [default: otsu; with a preset: otsu,scan:24].
    #[arg(long, value_name = "LIST")]
    pub(crate) threshold: Option<String>,
    /// Smoothing passes to try (`0,1,2`) [default: 0,1].
    #[arg(long, value_name = "LIST")]
    pub(crate) smooth: Option<String>,
    /// Openings to try (`0:3`) [default: 0:2].
    #[arg(long, value_name = "LIST")]
    pub(crate) open: Option<String>,
    /// Marker kinds to try (`peaks,regional,hmax`) [default: peaks,hmax].
    #[arg(long, value_name = "LIST")]
    pub(crate) markers: Option<String>,
    /// min_distance values for `peaks` [default: 2,3,5,7,10].
    #[arg(long, value_name = "LIST")]
    pub(crate) min_distance: Option<String>,
    /// Heights for `hmax`, in pixels (multiples of 0.5) [default: 0.5:3:0.5].
    #[arg(long, value_name = "LIST")]
    pub(crate) h: Option<String>,
    /// `--core` levels to try: `none`, values, ranges and `scan[:N]` as for --threshold
    /// (levels not stricter than a fixed threshold are skipped) [default: none; with
    /// `--preset rods`: none,scan:10].
    #[arg(long, value_name = "LIST")]
    pub(crate) core: Option<String>,
    /// `--flood` values to try (`distance,intensity`) [default: distance; with a preset, the
    /// preset's].
    #[arg(long, value_name = "LIST")]
    pub(crate) flood: Option<String>,
    /// Minimum areas to try [default: 0,10,20,40].
    #[arg(long, value_name = "LIST")]
    pub(crate) min_area: Option<String>,
    /// Minimum eccentricities to try [default: 0].
    #[arg(long, value_name = "LIST")]
    pub(crate) min_eccentricity: Option<String>,
    /// Maximum widths to try, in pixels, `none` for no limit [default: none].
    #[arg(long, value_name = "LIST")]
    pub(crate) max_width: Option<String>,
    /// `--clear-border` values to try: `off` (or `none`: keep objects at the edge) and border
    /// widths B (`off,0`) [default: off; with a preset, the preset's].
    #[arg(long, value_name = "LIST")]
    pub(crate) clear_border: Option<String>,
    /// `--background` radii to try: `off` (or `none`) and radii R (`off,5,10,20`); each
    /// radius gets its own `scan` levels for --threshold and --core, taken on the flattened
    /// first frame [default: off; with a preset, the preset's].
    #[arg(long, value_name = "LIST")]
    pub(crate) background: Option<String>,
    /// Structuring element of the opening.
    #[arg(long, value_enum, default_value_t = StructureArg::Cross)]
    pub(crate) structure: StructureArg,
    /// IoU threshold of a match.
    #[arg(long, default_value_t = 0.5)]
    pub(crate) iou: f64,
    /// Settings to print, best first.
    #[arg(long, default_value_t = 5)]
    pub(crate) top: usize,
    /// One JSON object per printed setting, one per line.
    #[arg(long)]
    pub(crate) json: bool,
    /// Backend: `cpu`, `gpu`, or `auto`.
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    pub(crate) backend: BackendArg,
    /// Channel of a multichannel ImageJ hyperstack (0-based).
    #[arg(long, value_name = "C")]
    pub(crate) channel: Option<usize>,
    /// No progress or details on stderr.
    #[arg(short, long)]
    pub(crate) quiet: bool,
    /// Make every warning an error (exit 7): an empty ground-truth frame, a best F1 of 0.
    #[arg(long)]
    pub(crate) strict: bool,
}

pub(crate) fn run(a: TuneArgs) -> Result<()> {
    if !(a.iou > 0.0 && a.iou <= 1.0) {
        return Err(Error::param("--iou", format!("{} is not in (0, 1]", a.iou)));
    }
    let base = base_params(a.preset, a.dark, a.bright, a.structure);
    let frames: Vec<RawImage> =
        FrameSource::open_all(&a.input, a.channel)?.collect::<Result<_>>()?;
    let spec = tune::Spec {
        preset: a.preset.map(preset_of),
        threshold: a.threshold.clone(),
        smooth: a.smooth.clone(),
        open: a.open.clone(),
        markers: a.markers.clone(),
        min_distance: a.min_distance.clone(),
        h: a.h.clone(),
        core: a.core.clone(),
        flood: a.flood.clone(),
        min_area: a.min_area.clone(),
        min_eccentricity: a.min_eccentricity.clone(),
        max_width: a.max_width.clone(),
        clear_border: a.clear_border.clone(),
        background: a.background.clone(),
    };
    let searches = spec.searches(&base, &frames)?;
    let gt = floodseg::eval::read_label_frames(&a.gt)?;
    let mut warn = Warner::new(a.strict);
    for w in tune::warnings(&gt, &a.gt.display().to_string(), None) {
        warn.say(w)?;
    }
    let segmenter = Segmenter::new(backend_of_arg(a.backend))?;
    if segmenter.is_software() {
        warn.say(checks::software_adapter(segmenter.description()))?;
    }
    let total: usize = searches.iter().map(|(b, g)| g.trials(b.dark)).sum();
    if !a.quiet {
        eprintln!(
            "floodseg: backend {}; {total} settings on {} frame{}",
            segmenter.description(),
            frames.len(),
            if frames.len() == 1 { "" } else { "s" }
        );
    }
    let bar = report::progress_bar(Some(total), a.quiet, "settings");
    let t0 = Instant::now();
    let trials = tune::run_searches(&segmenter, &frames, &gt, &searches, a.iou, |done, _| {
        bar.set_position(done as u64)
    })?;
    bar.finish_and_clear();
    if !a.quiet {
        eprintln!(
            "floodseg: {} settings in {:.1} s",
            trials.len(),
            t0.elapsed().as_secs_f64()
        );
    }
    for w in tune::warnings(&gt, "", Some((&trials, base.dark, a.iou))) {
        warn.say(w)?;
    }
    warn.summary(frames.len());
    for (rank, &i) in tune::ranked(&trials).iter().take(a.top.max(1)).enumerate() {
        if a.json {
            println!("{}", trials[i].to_json(rank + 1));
        } else {
            println!("{}", trials[i].to_line(rank + 1));
        }
    }
    Ok(())
}

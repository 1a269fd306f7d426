//! The pipeline's flags, shared by every front end: the command line's [`PipelineArgs`] (used
//! by `segment`, `track` and `bench`), their value enums, and the one path from flags to
//! [`Params`] ([`params_of`], with [`base_params`] shared by `tune`). The Python package parses
//! its keywords through [`parse_words`], so a keyword means exactly what its flag means and is
//! refused with the same message.

use clap::{Parser, ValueEnum};

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::params::{
    self, parse_level, DistanceMode, Flood, JfaVariant, Markers, Params, Preset, Structure,
};

#[derive(clap::Args)]
pub struct PipelineArgs {
    /// Named parameter set: `lecture` (the lecture's pipeline and values: --threshold 180
    /// --dark --open 1 --markers peaks --min-distance 10 --footprint 10 --exclude-border 10
    /// --flood distance --min-area 0 --min-eccentricity 0) or
    /// `rods` (rod-shaped bacteria, dark on a brighter background: --threshold otsu --dark
    /// --open 1 --markers hmax --h 1 --exclude-border 0 --flood intensity --min-area 50
    /// --min-edge-area 30 --min-eccentricity 0.8; calibrate its levels with `tune --preset rods`).
    /// Flags given override its values.
    #[arg(long, value_enum, value_name = "NAME")]
    pub preset: Option<PresetArg>,
    /// Threshold in the input's own units (0–255 for 8-bit, counts for 16-bit, rgb2gray×255
    /// for 8-bit RGB), or `otsu` [default: otsu].
    #[arg(long, value_name = "T|otsu", allow_hyphen_values = true)]
    pub threshold: Option<String>,
    /// Objects are darker than the threshold (value < T); default: brighter (value > T).
    #[arg(long, conflicts_with = "bright")]
    pub dark: bool,
    /// Objects are brighter than the threshold (overrides a preset's --dark).
    #[arg(long)]
    pub bright: bool,
    /// Smoothing before the threshold: N passes of the integer binomial filter [1 2 1]/4 along
    /// rows and columns (σ ≈ √(N/2) px; 8- and 16-bit images) [default: 0].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub smooth: Option<u32>,
    /// Flatten uneven illumination before the threshold: subtract the background, a grey
    /// closing (--dark) or opening (--bright) with a (2R+1)×(2R+1) square, R larger than a
    /// cell's half width (the top-hat; the threshold then reads the flattened image, whose
    /// background is white with --dark, black with --bright). 8- and 16-bit images
    /// [default: off].
    #[arg(long, value_name = "R", allow_hyphen_values = true)]
    pub background: Option<u32>,
    /// Opening: K erosions then K dilations (0: none) [default: 0].
    #[arg(long = "open", value_name = "K", allow_hyphen_values = true)]
    pub open: Option<u32>,
    /// Structuring element of the opening.
    #[arg(long, value_enum, default_value_t = StructureArg::Cross)]
    pub structure: StructureArg,
    /// Markers: `peaks` (the lecture's peak_local_max), `regional` (every regional-maximum
    /// plateau of the distance) or `hmax` (maxima at least --h above their saddle: one rod,
    /// one marker) [default: peaks].
    #[arg(long, value_enum, value_name = "KIND")]
    pub markers: Option<MarkersArg>,
    /// Height of `--markers hmax`, in pixels of distance, a multiple of 0.5 [default: 1].
    #[arg(long, value_name = "H", allow_hyphen_values = true)]
    pub h: Option<String>,
    /// `min_distance` of peak_local_max (markers `peaks`): peak spacing, in pixels
    /// [default: 10].
    #[arg(long, value_name = "M", allow_hyphen_values = true)]
    pub min_distance: Option<u32>,
    /// Footprint of peak_local_max: an S×S box placed as scipy.ndimage places it (even S
    /// allowed) [default: 2M+1].
    #[arg(long, value_name = "S", allow_hyphen_values = true)]
    pub footprint: Option<u32>,
    /// Drop markers closer than B pixels to the image edge (peak_local_max's exclude_border)
    /// [default: M for `peaks`, as scikit-image; 0 for `regional` and `hmax`].
    #[arg(long, value_name = "B", allow_hyphen_values = true)]
    pub exclude_border: Option<u32>,
    /// Find the markers in the cores: pixels beyond this stricter level (darker than it with
    /// --dark, brighter with --bright; same units as --threshold), opened like the mask.
    /// Cells that touch in the mask but not in their cores get a marker each; the objects
    /// grow over the threshold's mask from them; a cell with no pixel beyond T2 gets no
    /// marker and is lost [default: none, markers from the mask].
    #[arg(long, value_name = "T2", allow_hyphen_values = true)]
    pub core: Option<String>,
    /// What the watershed floods: `distance` (−distance, the lecture's: cells part where the
    /// mask is narrowest) or `intensity` (the gray levels the threshold sees, darkest first
    /// with --dark: touching cells part along the brighter line between them)
    /// [default: distance; with --preset rods: intensity].
    #[arg(long, value_enum, value_name = "WHAT")]
    pub flood: Option<FloodArg>,
    /// Drop objects of fewer than A pixels after the watershed (debris) [default: 0].
    #[arg(long, value_name = "A", allow_hyphen_values = true)]
    pub min_area: Option<u64>,
    /// Keep objects touching the image edge from A pixels when A is below --min-area: a cell
    /// cut by the edge is smaller than a whole one [default: --min-area; with --preset rods:
    /// 30].
    #[arg(long, value_name = "A", allow_hyphen_values = true)]
    pub min_edge_area: Option<u64>,
    /// Drop objects of more than A pixels after the watershed (clumps, lens rings).
    #[arg(long, value_name = "A", allow_hyphen_values = true)]
    pub max_area: Option<u64>,
    /// Drop objects less elongated than E (regionprops eccentricity: 0 a disk, near 1 a long
    /// rod): round debris among rods; objects touching the image edge are exempt (a cut rod
    /// is round) [default: 0].
    #[arg(long, value_name = "E", allow_hyphen_values = true)]
    pub min_eccentricity: Option<f64>,
    /// Drop objects wider than W pixels (regionprops minor_axis_length): clumps, rings.
    #[arg(long, value_name = "W", allow_hyphen_values = true)]
    pub max_width: Option<f64>,
    /// Drop objects that touch the image edge (B = 0) or come within B pixels of it: cells
    /// cut by the frame, whose length and area would be wrong (scikit-image's
    /// clear_border(labels, buffer_size=B)) [default: off].
    #[arg(long, value_name = "B", allow_hyphen_values = true)]
    pub clear_border: Option<u32>,
    /// Distance transform: `exact` (separable) or a jump-flooding variant.
    #[arg(long, value_enum, default_value_t = DistanceArg::Exact)]
    pub distance: DistanceArg,
    /// Backend: `cpu`, `gpu`, or `auto` (a hardware GPU if present, else the CPU).
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    pub backend: BackendArg,
    /// Frames segmented at once (CPU: default one per core; GPU: default 8 for frames up to
    /// 1 MP, 4 up to 4 MP, else 2). Outputs do not depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Channel of a multichannel ImageJ hyperstack to segment (0-based).
    #[arg(long, value_name = "C")]
    pub channel: Option<usize>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PresetArg {
    Lecture,
    Rods,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FloodArg {
    Distance,
    Intensity,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MarkersArg {
    Peaks,
    Regional,
    Hmax,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum StructureArg {
    Cross,
    Square,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum BackendArg {
    Cpu,
    Gpu,
    Auto,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum DistanceArg {
    Exact,
    Jfa,
    #[value(name = "jfa+2")]
    JfaPlus2,
    Jfa2,
}

pub fn preset_of(p: PresetArg) -> Preset {
    match p {
        PresetArg::Lecture => Preset::Lecture,
        PresetArg::Rods => Preset::Rods,
    }
}

/// A preset's parameters (or the defaults) with the polarity and structuring element given:
/// what every subcommand starts from.
pub fn base_params(
    preset: Option<PresetArg>,
    dark: bool,
    bright: bool,
    structure: StructureArg,
) -> Params {
    let mut p = preset.map_or_else(Params::default, |p| preset_of(p).params());
    if dark {
        p.dark = true;
    }
    if bright {
        p.dark = false;
    }
    p.structure = match structure {
        StructureArg::Cross => Structure::Cross,
        StructureArg::Square => Structure::Square,
    };
    p
}

pub fn params_of(a: &PipelineArgs) -> Result<Params> {
    let mut p = base_params(a.preset, a.dark, a.bright, a.structure);
    if let Some(t) = &a.threshold {
        p.level = parse_level(t)?;
    }
    if let Some(n) = a.smooth {
        p.smooth = n;
    }
    if let Some(r) = a.background {
        p.background = Some(r);
    }
    if let Some(k) = a.open {
        p.open = k;
    }
    let preset_h = match p.markers {
        Markers::Hmax { h_half } => h_half,
        _ => 2,
    };
    let h_half = a.h.as_deref().map(params::parse_h).transpose()?;
    p.markers = match (a.markers, p.markers) {
        (Some(MarkersArg::Peaks), _) => Markers::Peaks,
        (Some(MarkersArg::Regional), _) => Markers::Regional,
        (Some(MarkersArg::Hmax), _) | (None, Markers::Hmax { .. }) => Markers::Hmax {
            h_half: h_half.unwrap_or(preset_h),
        },
        (None, m) => m,
    };
    if h_half.is_some() && !matches!(p.markers, Markers::Hmax { .. }) {
        return Err(Error::param(
            "--h",
            format!(
                "is the height of --markers hmax; the markers are {}",
                p.markers.name()
            ),
        ));
    }
    if let Some(m) = a.min_distance {
        p.min_distance = m;
    }
    if let Some(s) = a.footprint {
        p.footprint = Some(s);
    }
    if p.markers != Markers::Peaks {
        for (given, flag) in [
            (a.min_distance.is_some(), "--min-distance"),
            (a.footprint.is_some(), "--footprint"),
        ] {
            if given {
                return Err(Error::param(
                    flag,
                    format!(
                        "applies to --markers peaks; the markers are {}",
                        p.markers.name()
                    ),
                ));
            }
        }
    }
    if let Some(b) = a.exclude_border {
        p.exclude_border = Some(b);
    }
    if let Some(c) = &a.core {
        p.core = if c.eq_ignore_ascii_case("none") {
            None
        } else {
            Some(params::parse_core(c)?)
        };
    }
    match a.flood {
        Some(FloodArg::Distance) => p.flood = Flood::Distance,
        Some(FloodArg::Intensity) => p.flood = Flood::Intensity,
        None => {}
    }
    if let Some(m) = a.min_area {
        p.min_area = m;
    }
    if let Some(m) = a.min_edge_area {
        p.min_edge_area = Some(m);
    }
    if let Some(m) = a.max_area {
        p.max_area = Some(m);
    }
    if let Some(e) = a.min_eccentricity {
        p.min_eccentricity = e;
    }
    if let Some(w) = a.max_width {
        p.max_width = Some(w);
    }
    if let Some(b) = a.clear_border {
        p.clear_border = Some(b);
    }
    p.distance = match a.distance {
        DistanceArg::Exact => DistanceMode::Exact,
        DistanceArg::Jfa => DistanceMode::Jfa(JfaVariant::Plain),
        DistanceArg::JfaPlus2 => DistanceMode::Jfa(JfaVariant::Plus2),
        DistanceArg::Jfa2 => DistanceMode::Jfa(JfaVariant::Squared),
    };
    p.validate()?;
    if a.threads == Some(0) {
        return Err(Error::param("--threads", "must be at least 1"));
    }
    Ok(p)
}

pub fn backend_of(a: &PipelineArgs) -> Backend {
    backend_of_arg(a.backend)
}

pub fn backend_of_arg(b: BackendArg) -> Backend {
    match b {
        BackendArg::Cpu => Backend::Cpu,
        BackendArg::Gpu => Backend::Gpu,
        BackendArg::Auto => Backend::Auto,
    }
}

/// The pipeline's flags alone, for [`parse_words`].
#[derive(Parser)]
#[command(name = "floodseg", no_binary_name = true, disable_help_flag = true)]
struct Words {
    #[command(flatten)]
    pipeline: PipelineArgs,
}

/// Parse `words` (`["--threshold", "180", "--dark"]`) as the command line parses the pipeline's
/// flags. A word clap refuses (an unknown flag, a value not among a flag's choices) is an
/// [`Error::Usage`] with clap's message, without its usage lines.
pub fn parse_words<S: AsRef<str>>(words: &[S]) -> Result<PipelineArgs> {
    Words::try_parse_from(words.iter().map(|w| w.as_ref().to_string()))
        .map(|w| w.pipeline)
        .map_err(|e| {
            let text = e.to_string();
            let first = text.split("\n\n").next().unwrap_or(&text);
            Error::Usage(first.trim().trim_start_matches("error: ").to_string())
        })
}

/// The long names of the pipeline's flags (`threshold`, `min-distance`, …), in the order
/// `--help` lists them, each with whether it takes a value (`dark` and `bright` do not).
pub fn flag_names() -> Vec<(String, bool)> {
    use clap::CommandFactory;
    Words::command()
        .get_arguments()
        .filter_map(|a| {
            a.get_long()
                .map(|l| (l.to_string(), a.get_action().takes_values()))
        })
        .collect()
}

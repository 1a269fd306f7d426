//! OME-Zarr images in, label images out, through the `zarrs` crate: NGFF 0.5 on Zarr v3 (read
//! and written), NGFF 0.4 on Zarr v2 (read).
//!
//! **Reading** ([`ZarrImage`]): the first dataset (full resolution) of the image's first
//! multiscale, with axes `yx`, `tyx`, `cyx` or `tcyx` (`--channel` picks a channel; a channel
//! axis of length 1 needs none; `z` is accepted only with length 1, as z-stacks are refused
//! elsewhere). One frame (a `t` index) is read at a time; uint8, uint16 and float32 arrays are
//! read as they are, float64 as float32. Label images ([`ZarrImage::open_labels`], what
//! `track --labels` reads: floodseg's own `-o X.zarr` or an image's `labels/<name>`, or any
//! tool's) may be any unsigned or signed integer type, read as `u32` labels (a negative label
//! or one above `u32::MAX` is an error).
//!
//! **Writing** ([`ZarrLabels`]): a uint32 array of the frames' labels, axes `tyx` (or `yx` for
//! one frame), one chunk per frame, zstd-compressed, written frame by frame as the run goes (so
//! memory does not grow with the stack). Into the image's own `labels/<name>` group (`-o` the
//! input's path) with `image-label` metadata naming the image as its source, or as a standalone
//! label image at another `.zarr` path. The metadata that makes it an OME-Zarr label image
//! (the name in `labels/zarr.json`'s list, the multiscales and `image-label` attributes) is
//! written only when every frame is in: an interrupted run leaves an array that no OME-Zarr
//! reader lists, and `--resume` continues it, keeping the frames whose chunks exist.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{json, Map, Value};
use zarrs::array::{data_type, Array, ArrayBuilder};
use zarrs::filesystem::FilesystemStore;
use zarrs::group::{Group, GroupBuilder};

use crate::error::{Error, Result};
use crate::image::{RawImage, Samples};

type Store = FilesystemStore;

/// Whether `path` is a Zarr hierarchy's root: a folder with Zarr v3's `zarr.json` or v2's
/// `.zgroup`/`.zattrs`.
pub fn is_zarr(path: &Path) -> bool {
    path.is_dir()
        && (path.join("zarr.json").is_file()
            || path.join(".zgroup").is_file()
            || path.join(".zattrs").is_file())
}

/// Whether `path` names a Zarr output (`….zarr`, or an existing Zarr folder).
pub fn is_zarr_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("zarr"))
        || is_zarr(path)
}

fn bad(path: &Path, reason: impl Into<String>) -> Error {
    Error::Unsupported {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn store_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Decode {
        path: path.to_path_buf(),
        reason: format!("Zarr: {e}"),
    }
}

fn write_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Encode {
        path: path.to_path_buf(),
        reason: format!("Zarr: {e}"),
    }
}

fn open_store(path: &Path) -> Result<Arc<Store>> {
    FilesystemStore::new(path)
        .map(Arc::new)
        .map_err(|e| store_error(path, e))
}

/// The NGFF attributes of a group: v3 keeps them under `ome` (0.5), v2 at the top (0.4).
fn ngff(attrs: &Map<String, Value>) -> (&Map<String, Value>, String) {
    if let Some(Value::Object(ome)) = attrs.get("ome") {
        let v = ome
            .get("version")
            .and_then(Value::as_str)
            .unwrap_or("0.5")
            .to_string();
        (ome, v)
    } else {
        let v = attrs
            .get("multiscales")
            .and_then(|m| m.get(0))
            .and_then(|m| m.get("version"))
            .and_then(Value::as_str)
            .unwrap_or("0.4")
            .to_string();
        (attrs, v)
    }
}

/// The label images an OME-Zarr image lists in its `labels` group (none when it has none).
fn label_names(image: &Path) -> Vec<String> {
    let dir = image.join("labels");
    if !is_zarr(&dir) {
        return Vec::new();
    }
    let Ok(store) = open_store(&dir) else {
        return Vec::new();
    };
    let Ok(group) = Group::open(store, "/") else {
        return Vec::new();
    };
    let (ome, _) = ngff(group.attributes());
    match ome.get("labels") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    U8,
    U16,
    F32,
    F64,
    /// Label images only ([`ZarrImage::open_labels`]).
    U32,
    U64,
    I8,
    I16,
    I32,
    I64,
}

/// An OME-Zarr image opened for reading, frame by frame.
pub struct ZarrImage {
    path: PathBuf,
    array: Array<Store>,
    kind: Kind,
    /// Index of each axis in the array (`None`: absent).
    t: Option<usize>,
    c: Option<usize>,
    z: Option<usize>,
    /// The channel read.
    channel: u64,
    pub frames: usize,
    pub width: usize,
    pub height: usize,
    /// The NGFF version read (`0.4`, `0.5`).
    pub version: String,
    /// The full-resolution dataset's scale per axis (`t`, `y`, `x` when present), for the
    /// labels' metadata.
    scale: Vec<(char, f64)>,
    /// Axis units (`micrometer`, `minute`, …) as declared.
    units: Vec<(char, Option<String>)>,
}

impl ZarrImage {
    /// Open the OME-Zarr image at `path`; `channel` picks a channel of a `c` axis.
    pub fn open(path: &Path, channel: Option<usize>) -> Result<ZarrImage> {
        Self::open_as(path, channel, false)
    }

    /// Open the OME-Zarr label image at `path` (a label image's own group, e.g.
    /// `image.zarr/labels/cells`, or a standalone one): any integer data type, read by
    /// [`ZarrImage::read_labels`].
    pub fn open_labels(path: &Path) -> Result<ZarrImage> {
        Self::open_as(path, None, true)
    }

    fn open_as(path: &Path, channel: Option<usize>, labels: bool) -> Result<ZarrImage> {
        let store = open_store(path)?;
        let group = Group::open(store.clone(), "/").map_err(|e| store_error(path, e))?;
        let (ome, version) = ngff(group.attributes());
        if labels && !ome.contains_key("image-label") {
            let names = label_names(path);
            if let Some(first) = names.first() {
                return Err(Error::param(
                    "--labels",
                    format!(
                        "{} is an OME-Zarr image with label images ({}): name one, e.g. \
                         --labels {}",
                        path.display(),
                        names.join(", "),
                        path.join("labels").join(first).display()
                    ),
                ));
            }
        }
        let ms = ome
            .get("multiscales")
            .and_then(|m| m.get(0))
            .ok_or_else(|| {
                bad(
                    path,
                    "a Zarr group without OME-Zarr multiscales metadata: floodseg reads OME-Zarr \
                     images (NGFF 0.4 or 0.5)",
                )
            })?;
        let axes: Vec<(char, Option<String>)> = match ms.get("axes") {
            Some(Value::Array(a)) => a
                .iter()
                .map(|ax| {
                    let name = ax
                        .get("name")
                        .and_then(Value::as_str)
                        .or_else(|| ax.as_str())
                        .unwrap_or("?");
                    let unit = ax.get("unit").and_then(Value::as_str).map(str::to_string);
                    (
                        name.chars().next().unwrap_or('?').to_ascii_lowercase(),
                        unit,
                    )
                })
                .collect(),
            _ => return Err(bad(path, "its multiscales metadata has no axes")),
        };
        let dataset = ms
            .get("datasets")
            .and_then(|d| d.get(0))
            .ok_or_else(|| bad(path, "its multiscales metadata lists no dataset"))?;
        let array_path = dataset
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(path, "its first dataset has no path"))?;
        let array = Array::open(store, &format!("/{}", array_path.trim_matches('/')))
            .map_err(|e| store_error(path, e))?;
        let shape = array.shape().to_vec();
        if shape.len() != axes.len() {
            return Err(bad(
                path,
                format!(
                    "the array has {} dimensions but the metadata names {} axes",
                    shape.len(),
                    axes.len()
                ),
            ));
        }
        let find = |c: char| axes.iter().position(|(a, _)| *a == c);
        let (t, c, z, y, x) = (find('t'), find('c'), find('z'), find('y'), find('x'));
        let names: String = axes.iter().map(|(a, _)| *a).collect();
        let (Some(y), Some(x)) = (y, x) else {
            return Err(bad(path, format!("axes {names:?}: floodseg needs y and x")));
        };
        if y + 2 != shape.len()
            || x + 1 != shape.len()
            || axes.len() != 2 + [t, c, z].iter().flatten().count()
        {
            return Err(bad(
                path,
                format!("axes {names:?}: floodseg reads yx, tyx, cyx, tcyx (and z of length 1)"),
            ));
        }
        if let Some(z) = z {
            if shape[z] > 1 {
                return Err(bad(
                    path,
                    format!("z-stacks are not supported ({} z-slices)", shape[z]),
                ));
            }
        }
        let channels = c.map_or(1, |c| shape[c] as usize);
        let channel = match (c, channel) {
            (None, Some(ch)) if ch > 0 => {
                return Err(Error::param(
                    "channel",
                    format!(
                        "{} has no channel axis; channel {ch} does not exist",
                        path.display()
                    ),
                ))
            }
            (_, Some(ch)) if ch >= channels => {
                return Err(Error::param(
                    "channel",
                    format!(
                        "{} has {channels} channel(s): choose 0 to {}",
                        path.display(),
                        channels - 1
                    ),
                ))
            }
            (Some(_), None) if channels > 1 => {
                return Err(Error::param(
                    "channel",
                    format!(
                        "{} has {channels} channels; choose one (0 to {})",
                        path.display(),
                        channels - 1
                    ),
                ))
            }
            (_, ch) => ch.unwrap_or(0) as u64,
        };
        let dt = array.data_type();
        let image_kinds = [
            (data_type::uint8(), Kind::U8),
            (data_type::uint16(), Kind::U16),
            (data_type::float32(), Kind::F32),
            (data_type::float64(), Kind::F64),
        ];
        let label_kinds = [
            (data_type::uint8(), Kind::U8),
            (data_type::uint16(), Kind::U16),
            (data_type::uint32(), Kind::U32),
            (data_type::uint64(), Kind::U64),
            (data_type::int8(), Kind::I8),
            (data_type::int16(), Kind::I16),
            (data_type::int32(), Kind::I32),
            (data_type::int64(), Kind::I64),
        ];
        let kinds: &[_] = if labels { &label_kinds } else { &image_kinds };
        let Some(kind) = kinds.iter().find(|(d, _)| d == dt).map(|(_, k)| *k) else {
            return Err(bad(
                path,
                if labels {
                    format!("data type {dt}: a label image holds integers (uint8 to uint64, int8 to int64)")
                } else {
                    format!(
                        "data type {dt}: floodseg reads uint8, uint16, float32 and float64 images"
                    )
                },
            ));
        };
        let mut scale = Vec::new();
        if let Some(Value::Array(ts)) = dataset.get("coordinateTransformations") {
            for tr in ts {
                if tr.get("type").and_then(Value::as_str) == Some("scale") {
                    if let Some(Value::Array(s)) = tr.get("scale") {
                        for (i, v) in s.iter().enumerate() {
                            if let (Some(a), Some(v)) = (axes.get(i), v.as_f64()) {
                                if matches!(a.0, 't' | 'y' | 'x') {
                                    scale.push((a.0, v));
                                }
                            }
                        }
                    }
                }
            }
        }
        Ok(ZarrImage {
            path: path.to_path_buf(),
            kind,
            t,
            c,
            z,
            channel,
            frames: t.map_or(1, |t| shape[t] as usize),
            width: shape[x] as usize,
            height: shape[y] as usize,
            version,
            scale,
            units: axes
                .iter()
                .filter(|(a, _)| matches!(a, 't' | 'y' | 'x'))
                .cloned()
                .collect(),
            array,
        })
    }

    /// The image's root folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the image has a time axis.
    pub fn has_time(&self) -> bool {
        self.t.is_some()
    }

    /// The folder of the array read (what an output must never write into).
    pub fn array_dir(&self) -> PathBuf {
        self.path
            .join(self.array.path().as_str().trim_start_matches('/'))
    }

    /// Frame `t`, one channel.
    pub fn read(&self, t: usize) -> Result<RawImage> {
        let ranges = self.frame_ranges(t);
        let err = |e: zarrs::array::ArrayError| store_error(&self.path, format!("frame {t}: {e}"));
        let samples = match self.kind {
            Kind::U8 => Samples::U8(
                self.array
                    .retrieve_array_subset::<Vec<u8>>(&ranges)
                    .map_err(err)?,
            ),
            Kind::U16 => Samples::U16(
                self.array
                    .retrieve_array_subset::<Vec<u16>>(&ranges)
                    .map_err(err)?,
            ),
            Kind::F32 => Samples::F32(
                self.array
                    .retrieve_array_subset::<Vec<f32>>(&ranges)
                    .map_err(err)?,
            ),
            Kind::F64 => Samples::F32(
                self.array
                    .retrieve_array_subset::<Vec<f64>>(&ranges)
                    .map_err(err)?
                    .into_iter()
                    .map(|v| v as f32)
                    .collect(),
            ),
            _ => {
                return Err(bad(
                    &self.path,
                    "a label image opened as an image (ZarrImage::open_labels reads it)",
                ))
            }
        };
        Ok(RawImage {
            width: self.width,
            height: self.height,
            channels: 1,
            samples,
        })
    }

    /// The labels of frame `t` of a label image ([`ZarrImage::open_labels`]), as `u32`.
    pub fn read_labels(&self, t: usize) -> Result<Vec<u32>> {
        let ranges = self.frame_ranges(t);
        let err = |e: zarrs::array::ArrayError| store_error(&self.path, format!("frame {t}: {e}"));
        fn wide<T: Copy + TryInto<u32> + std::fmt::Display>(
            path: &Path,
            t: usize,
            v: Vec<T>,
        ) -> Result<Vec<u32>> {
            v.into_iter()
                .map(|x| {
                    x.try_into().map_err(|_| {
                        bad(
                            path,
                            format!("frame {t}: label {x} (labels must be 0 to {})", u32::MAX),
                        )
                    })
                })
                .collect()
        }
        let a = &self.array;
        let p = &self.path;
        match self.kind {
            Kind::U8 => wide(
                p,
                t,
                a.retrieve_array_subset::<Vec<u8>>(&ranges).map_err(err)?,
            ),
            Kind::U16 => wide(
                p,
                t,
                a.retrieve_array_subset::<Vec<u16>>(&ranges).map_err(err)?,
            ),
            Kind::U32 => a.retrieve_array_subset::<Vec<u32>>(&ranges).map_err(err),
            Kind::U64 => wide(
                p,
                t,
                a.retrieve_array_subset::<Vec<u64>>(&ranges).map_err(err)?,
            ),
            Kind::I8 => wide(
                p,
                t,
                a.retrieve_array_subset::<Vec<i8>>(&ranges).map_err(err)?,
            ),
            Kind::I16 => wide(
                p,
                t,
                a.retrieve_array_subset::<Vec<i16>>(&ranges).map_err(err)?,
            ),
            Kind::I32 => wide(
                p,
                t,
                a.retrieve_array_subset::<Vec<i32>>(&ranges).map_err(err)?,
            ),
            Kind::I64 => wide(
                p,
                t,
                a.retrieve_array_subset::<Vec<i64>>(&ranges).map_err(err)?,
            ),
            Kind::F32 | Kind::F64 => Err(bad(p, "a label image must hold integers, not floats")),
        }
    }

    /// The array region of frame `t` (one channel, z 0).
    fn frame_ranges(&self, t: usize) -> Vec<std::ops::Range<u64>> {
        let ndim = self.array.shape().len();
        let mut ranges: Vec<std::ops::Range<u64>> = Vec::with_capacity(ndim);
        for i in 0..ndim {
            let r = if Some(i) == self.t {
                t as u64..t as u64 + 1
            } else if Some(i) == self.c {
                self.channel..self.channel + 1
            } else if Some(i) == self.z {
                0..1
            } else {
                0..self.array.shape()[i]
            };
            ranges.push(r);
        }
        ranges
    }

    /// The labels' axes metadata and scale (`t` when the image has time, then `y`, `x`).
    fn label_axes(&self) -> (Vec<Value>, Vec<f64>) {
        let mut axes = Vec::new();
        let mut scale = Vec::new();
        for (a, unit) in &self.units {
            if *a == 't' && self.t.is_none() {
                continue;
            }
            let mut ax =
                json!({"name": a.to_string(), "type": if *a == 't' { "time" } else { "space" }});
            if let Some(u) = unit {
                ax["unit"] = json!(u);
            }
            axes.push(ax);
            scale.push(self.scale.iter().find(|(b, _)| b == a).map_or(1.0, |s| s.1));
        }
        (axes, scale)
    }

    /// Where and how the labels of this image are written.
    pub fn labels_layout(&self) -> LabelsLayout {
        let (axes, scale) = self.label_axes();
        LabelsLayout {
            frames: self.t.map(|_| self.frames),
            width: self.width,
            height: self.height,
            axes,
            scale,
        }
    }
}

/// The shape and metadata of a label image.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelsLayout {
    /// `Some(t)`: axes `tyx`; `None`: one frame, `yx`.
    pub frames: Option<usize>,
    pub width: usize,
    pub height: usize,
    /// NGFF axes objects and the scale per axis.
    pub axes: Vec<Value>,
    pub scale: Vec<f64>,
}

impl LabelsLayout {
    /// A plain layout (no calibration): `tyx` for `frames`, else `yx`.
    pub fn plain(frames: Option<usize>, width: usize, height: usize) -> LabelsLayout {
        let mut axes = Vec::new();
        if frames.is_some() {
            axes.push(json!({"name": "t", "type": "time"}));
        }
        axes.push(json!({"name": "y", "type": "space"}));
        axes.push(json!({"name": "x", "type": "space"}));
        let scale = vec![1.0; axes.len()];
        LabelsLayout {
            frames,
            width,
            height,
            axes,
            scale,
        }
    }

    fn shape(&self) -> Vec<u64> {
        let mut s = Vec::new();
        if let Some(t) = self.frames {
            s.push(t as u64);
        }
        s.push(self.height as u64);
        s.push(self.width as u64);
        s
    }
}

/// Where labels go: into an image's `labels/<name>` group, or a label image of their own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelsTarget {
    IntoImage { image: PathBuf, name: String },
    Standalone(PathBuf),
}

impl LabelsTarget {
    /// The folder holding the label image's group.
    pub fn group_dir(&self) -> PathBuf {
        match self {
            LabelsTarget::IntoImage { image, name } => image.join("labels").join(name),
            LabelsTarget::Standalone(p) => p.clone(),
        }
    }
}

/// Check a label name: one path component of letters, digits, `_`, `-`, `.`.
pub fn check_label_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::param(
            "--label-name",
            format!("{name:?} is not a label name (letters, digits, _ - . only)"),
        ))
    }
}

/// A label image being written frame by frame.
pub struct ZarrLabels {
    target: LabelsTarget,
    root: PathBuf,
    store: Arc<Store>,
    array: Array<Store>,
    layout: LabelsLayout,
}

const ARRAY: &str = "0";

impl ZarrLabels {
    /// Whether `target` may be written (before any work is done): an existing label image only
    /// with `resume` (returns true then), an existing folder that is not one never. Returns
    /// whether a label image is there.
    pub fn check_target(target: &LabelsTarget, resume: bool) -> Result<bool> {
        let dir = target.group_dir();
        let exists = dir.join("zarr.json").exists() || dir.join(".zgroup").exists();
        if exists && !resume {
            return Err(Error::param(
                "--output",
                format!(
                    "{} already holds a label image: floodseg does not replace it (remove it, \
                     choose another --label-name or -o, or continue an interrupted `segment` \
                     run with --resume)",
                    dir.display()
                ),
            ));
        }
        if let LabelsTarget::Standalone(p) = target {
            if p.exists()
                && !exists
                && std::fs::read_dir(p).map_or(true, |mut d| d.next().is_some())
            {
                return Err(Error::param(
                    "--output",
                    format!("{} exists and is not a floodseg label image", p.display()),
                ));
            }
        }
        Ok(exists)
    }

    /// Create (or with `resume`, reopen) the label image `target` of `layout`. Without
    /// `resume` an existing label image of that name is refused, never replaced.
    pub fn create(target: LabelsTarget, layout: LabelsLayout, resume: bool) -> Result<ZarrLabels> {
        let (root, group_path) = match &target {
            LabelsTarget::IntoImage { image, name } => {
                check_label_name(name)?;
                (image.clone(), format!("/labels/{name}"))
            }
            LabelsTarget::Standalone(p) => (p.clone(), String::new()),
        };
        let dir = target.group_dir();
        let exists = Self::check_target(&target, resume)?;
        std::fs::create_dir_all(&root).map_err(|source| Error::Io {
            path: root.clone(),
            source,
        })?;
        let store = open_store(&root)?;
        let array_path = format!("{group_path}/{ARRAY}");
        let shape = layout.shape();
        let mut chunk = shape.clone();
        if layout.frames.is_some() {
            chunk[0] = 1;
        }
        let array = if exists {
            let a = Array::open(store.clone(), &array_path).map_err(|e| store_error(&dir, e))?;
            if a.shape() != shape.as_slice() || *a.data_type() != data_type::uint32() {
                return Err(Error::param(
                    "--resume",
                    format!(
                        "{} holds labels of shape {:?}, not {:?}: not this run's",
                        dir.display(),
                        a.shape(),
                        shape
                    ),
                ));
            }
            a
        } else {
            if let LabelsTarget::IntoImage { .. } = &target {
                // the labels group (its list of names is completed at the end)
                if Group::open(store.clone(), "/labels").is_err() {
                    let g = GroupBuilder::new()
                        .attributes(ome_attrs(json!({"labels": []})))
                        .build(store.clone(), "/labels")
                        .map_err(|e| write_error(&dir, e))?;
                    g.store_metadata().map_err(|e| write_error(&dir, e))?;
                }
            }
            let g = GroupBuilder::new()
                .attributes(
                    [("floodseg".to_string(), json!({"complete": false}))]
                        .into_iter()
                        .collect(),
                )
                .build(
                    store.clone(),
                    if group_path.is_empty() {
                        "/"
                    } else {
                        &group_path
                    },
                )
                .map_err(|e| write_error(&dir, e))?;
            g.store_metadata().map_err(|e| write_error(&dir, e))?;
            let dims: Vec<String> = if layout.frames.is_some() {
                vec!["t".into(), "y".into(), "x".into()]
            } else {
                vec!["y".into(), "x".into()]
            };
            let a = ArrayBuilder::new(shape.clone(), chunk, data_type::uint32(), 0u32)
                .bytes_to_bytes_codecs(vec![Arc::new(zarrs::array::codec::ZstdCodec::new(
                    3, false,
                ))])
                .dimension_names(Some(dims))
                .build(store.clone(), &array_path)
                .map_err(|e| write_error(&dir, e))?;
            a.store_metadata().map_err(|e| write_error(&dir, e))?;
            a
        };
        Ok(ZarrLabels {
            target,
            root,
            store,
            array,
            layout,
        })
    }

    fn chunk_of(&self, t: usize) -> Vec<u64> {
        if self.layout.frames.is_some() {
            vec![t as u64, 0, 0]
        } else {
            vec![0, 0]
        }
    }

    /// Frame `t`'s labels, if an earlier run wrote them (`--resume`).
    pub fn written(&self, t: usize) -> Result<Option<Vec<u32>>> {
        self.array
            .retrieve_chunk_if_exists::<Vec<u32>>(&self.chunk_of(t))
            .map_err(|e| store_error(&self.target.group_dir(), e))
    }

    /// Write frame `t`'s labels (`width × height`).
    pub fn write(&self, t: usize, labels: &[u32]) -> Result<()> {
        if labels.len() != self.layout.width * self.layout.height {
            return Err(Error::BadData(format!(
                "{} labels for a {}×{} frame",
                labels.len(),
                self.layout.width,
                self.layout.height
            )));
        }
        self.array
            .store_chunk(&self.chunk_of(t), labels)
            .map_err(|e| write_error(&self.target.group_dir(), format!("frame {t}: {e}")))
    }

    /// Every frame is in: write the metadata that makes this an OME-Zarr label image.
    pub fn finish(self) -> Result<PathBuf> {
        let dir = self.target.group_dir();
        let werr = |e: &dyn std::fmt::Display| write_error(&dir, e);
        let multiscales = json!([{
            "name": match &self.target {
                LabelsTarget::IntoImage { name, .. } => name.clone(),
                LabelsTarget::Standalone(p) => p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
            },
            "axes": self.layout.axes,
            "datasets": [{"path": ARRAY, "coordinateTransformations": [{"type": "scale", "scale": self.layout.scale}]}],
        }]);
        let mut label_meta = json!({"multiscales": multiscales, "image-label": {}});
        if let LabelsTarget::IntoImage { .. } = &self.target {
            label_meta["image-label"] = json!({"source": {"image": "../../"}});
        }
        let group_path = match &self.target {
            LabelsTarget::IntoImage { name, .. } => format!("/labels/{name}"),
            LabelsTarget::Standalone(_) => "/".to_string(),
        };
        let mut attrs = ome_attrs(label_meta);
        attrs.insert(
            "floodseg".into(),
            json!({"complete": true, "version": env!("CARGO_PKG_VERSION")}),
        );
        let g = GroupBuilder::new()
            .attributes(attrs)
            .build(self.store.clone(), &group_path)
            .map_err(|e| werr(&e))?;
        g.store_metadata().map_err(|e| werr(&e))?;
        if let LabelsTarget::IntoImage { name, .. } = &self.target {
            let labels = Group::open(self.store.clone(), "/labels").map_err(|e| werr(&e))?;
            let mut list: Vec<Value> = labels
                .attributes()
                .get("ome")
                .and_then(|o| o.get("labels"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if !list.iter().any(|v| v.as_str() == Some(name)) {
                list.push(json!(name));
            }
            let mut ome = labels
                .attributes()
                .get("ome")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            ome.insert("version".into(), json!("0.5"));
            ome.insert("labels".into(), Value::Array(list));
            let g = GroupBuilder::new()
                .attributes(
                    [("ome".to_string(), Value::Object(ome))]
                        .into_iter()
                        .collect(),
                )
                .build(self.store.clone(), "/labels")
                .map_err(|e| werr(&e))?;
            g.store_metadata().map_err(|e| werr(&e))?;
        }
        let _ = &self.root;
        Ok(dir)
    }
}

fn ome_attrs(mut inner: Value) -> Map<String, Value> {
    inner["version"] = json!("0.5");
    [("ome".to_string(), inner)].into_iter().collect()
}

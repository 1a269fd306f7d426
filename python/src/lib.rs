//! `floodseg._floodseg`: the extension module under the Python package `floodseg`
//! (python/floodseg/__init__.py is the public face; this file only converts).
//!
//! Arrays come in as NumPy arrays and are borrowed, not copied, when C-contiguous (the
//! pipeline reads them through [`floodseg::image::ImageView`]); parameters come in as the
//! command line's words (`["--threshold", "180", "--dark"]`, made from keywords by the Python
//! side) and are parsed by [`floodseg::flags::parse_words`], so a keyword means exactly what
//! its flag means. The GIL is released while floodseg works. Every [`floodseg::Error`] becomes
//! an exception of `floodseg.errors` chosen by its kind, with the CLI's message.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use numpy::ndarray::IxDyn;
use numpy::{
    dtype, PyArray1, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyKeyboardInterrupt, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use floodseg::backend::Backend;
use floodseg::image::{ImageView, SampleSlice};
use floodseg::params::Params;
use floodseg::stages::{Keep, Stages};
use floodseg::track::{shape_doubtful, TrackOptions, TrackSummary, TrackedFrame, Tracker};
use floodseg::Error;

// ---------------------------------------------------------------------------------------------
// errors

/// The `floodseg.errors` class for `e` (the hierarchy is defined in Python, so that a parameter
/// error can be both `floodseg.Error` and `ValueError`).
fn error_class(e: &Error) -> &'static str {
    match e {
        Error::Parameter { .. } | Error::Usage(_) => "ParameterError",
        Error::Decode { .. } | Error::Unsupported { .. } | Error::BadData(_) => "InputError",
        Error::Limit(_) => "LimitError",
        Error::Backend(_) | Error::DeviceTimeout { .. } => "BackendError",
        Error::Read { .. } | Error::Io { .. } | Error::Encode { .. } => "FileError",
        Error::Interrupted(_) => "InterruptedError",
        Error::Strict(_) => "CheckError",
    }
}

/// An exception of the `floodseg.errors` class `class` (or `fallback` if the package cannot be
/// imported, which only a broken install causes).
fn raise_as(py: Python<'_>, class: &str, message: String, fallback: fn(String) -> PyErr) -> PyErr {
    let made = (|| -> PyResult<PyErr> {
        let class = py.import("floodseg.errors")?.getattr(class)?;
        Ok(PyErr::from_value(class.call1((message.clone(),))?))
    })();
    made.unwrap_or_else(|_| fallback(message))
}

fn to_py(py: Python<'_>, e: Error) -> PyErr {
    raise_as(py, error_class(&e), e.to_string(), PyValueError::new_err)
}

/// Run `work` without the GIL on a thread of its own while this thread watches for signals:
/// Ctrl-C (any signal handler that raises) sets the work's cancel flag, waits for it to stop
/// — at a frame's end, keeping what is finished as the CLI does — and raises the handler's
/// exception (`KeyboardInterrupt`, with the work's account of what it kept).
fn cancellable<T: Send>(
    py: Python<'_>,
    work: impl FnOnce(&AtomicBool) -> floodseg::Result<T> + Send,
) -> PyResult<T> {
    let cancel = AtomicBool::new(false);
    std::thread::scope(|s| {
        let handle = s.spawn(|| work(&cancel));
        let mut signal: Option<PyErr> = None;
        while !handle.is_finished() {
            if signal.is_none() {
                if let Err(e) = py.check_signals() {
                    cancel.store(true, Ordering::Relaxed);
                    signal = Some(e);
                }
            }
            py.detach(|| std::thread::sleep(std::time::Duration::from_millis(20)));
        }
        let result = handle
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        match (signal, result) {
            (Some(sig), Err(Error::Interrupted(m)))
                if sig.is_instance_of::<PyKeyboardInterrupt>(py) =>
            {
                Err(PyKeyboardInterrupt::new_err(m))
            }
            (Some(sig), _) => Err(sig),
            (None, r) => r.map_err(|e| to_py(py, e)),
        }
    })
}

/// The error a cancelled frame loop stops with (`frames` finished).
fn stopped(frames: usize) -> Error {
    let s = if frames == 1 { "" } else { "s" };
    Error::Interrupted(format!(
        "stopped after {frames} frame{s}; nothing is returned"
    ))
}

/// A bad input array: the `floodseg.errors.InputError` (also a `ValueError`), or, for a wrong
/// dtype, its `DtypeError` (also a `TypeError`).
fn input_error(py: Python<'_>, message: String) -> PyErr {
    to_py(py, Error::BadData(message))
}

fn dtype_error(py: Python<'_>, message: String) -> PyErr {
    raise_as(py, "DtypeError", message, PyTypeError::new_err)
}

// ---------------------------------------------------------------------------------------------
// arrays in

/// Borrowed samples of one element type, the whole array.
enum Data<'a> {
    U8(&'a [u8]),
    U16(&'a [u16]),
    F32(&'a [f32]),
}

impl Data<'_> {
    fn frame(&self, i: usize, len: usize) -> SampleSlice<'_> {
        let r = i * len..(i + 1) * len;
        match self {
            Data::U8(v) => SampleSlice::U8(&v[r]),
            Data::U16(v) => SampleSlice::U16(&v[r]),
            Data::F32(v) => SampleSlice::F32(&v[r]),
        }
    }
}

/// An image array's layout: frames × height × width × channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Layout {
    /// `None`: one frame (`yx`, `yxc`); `Some(t)`: a stack of t frames.
    frames: Option<usize>,
    height: usize,
    width: usize,
    channels: usize,
}

impl Layout {
    fn n_frames(&self) -> usize {
        self.frames.unwrap_or(1)
    }
    fn frame_len(&self) -> usize {
        self.height * self.width * self.channels
    }
    fn is_empty(&self) -> bool {
        self.n_frames() == 0 || self.height == 0 || self.width == 0
    }
    /// The labels' shape: `(H, W)` or `(T, H, W)`.
    fn label_shape(&self) -> Vec<usize> {
        match self.frames {
            None => vec![self.height, self.width],
            Some(t) => vec![t, self.height, self.width],
        }
    }
}

/// The layout of an array of `shape` read with `axes` (`yx`, `yxc`, `tyx`, `tyxc`; `None`:
/// inferred, a last axis of 3 or 4 being colour).
fn layout_of(py: Python<'_>, shape: &[usize], axes: Option<&str>) -> PyResult<Layout> {
    let inferred = match shape.len() {
        2 => "yx",
        3 if matches!(shape[2], 3 | 4) => "yxc",
        3 => "tyx",
        4 => "tyxc",
        n => {
            return Err(input_error(
                py,
                format!(
                    "an image is (H, W), (H, W, 3|4), (T, H, W) or (T, H, W, 3|4); this array \
                     has {n} dimensions {shape:?}"
                ),
            ))
        }
    };
    let axes = axes.unwrap_or(inferred);
    if axes.len() != shape.len() {
        return Err(to_py(
            py,
            Error::param(
                "axes",
                format!(
                    "{axes:?} names {} axes; the array has {}",
                    axes.len(),
                    shape.len()
                ),
            ),
        ));
    }
    let layout = match axes {
        "yx" => Layout {
            frames: None,
            height: shape[0],
            width: shape[1],
            channels: 1,
        },
        "yxc" => Layout {
            frames: None,
            height: shape[0],
            width: shape[1],
            channels: shape[2],
        },
        "tyx" => Layout {
            frames: Some(shape[0]),
            height: shape[1],
            width: shape[2],
            channels: 1,
        },
        "tyxc" => Layout {
            frames: Some(shape[0]),
            height: shape[1],
            width: shape[2],
            channels: shape[3],
        },
        other => {
            return Err(to_py(
                py,
                Error::param(
                    "axes",
                    format!("{other:?} is not one of \"yx\", \"yxc\", \"tyx\", \"tyxc\""),
                ),
            ))
        }
    };
    if !matches!(layout.channels, 1 | 3 | 4) {
        return Err(input_error(
            py,
            format!(
                "{} channels: an image has 1 (gray), 3 (RGB) or 4 (RGBA); pick a channel with \
                 image[..., c]",
                layout.channels
            ),
        ));
    }
    Ok(layout)
}

/// `obj` as a C-contiguous NumPy array of uint8, uint16 or float32 (float64 converted to
/// float32, other types refused). Contiguous arrays of those types pass through as they are.
fn image_array<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyUntypedArray>> {
    let py = obj.py();
    let np = py.import("numpy")?;
    let arr = match obj.cast::<PyUntypedArray>() {
        Ok(a) => a.clone(),
        Err(_) => np
            .call_method1("asarray", (obj,))?
            .cast_into::<PyUntypedArray>()?,
    };
    let dt = arr.dtype();
    let arr = if dt.is_equiv_to(&dtype::<u8>(py))
        || dt.is_equiv_to(&dtype::<u16>(py))
        || dt.is_equiv_to(&dtype::<f32>(py))
    {
        arr
    } else if dt.is_equiv_to(&dtype::<f64>(py)) {
        // floodseg computes float images in float32
        arr.call_method1("astype", (np.getattr("float32")?,))?
            .cast_into::<PyUntypedArray>()?
    } else {
        return Err(dtype_error(
            py,
            format!(
                "image dtype {dt} is not supported: give uint8, uint16, float32 or float64 \
                 (e.g. image.astype(numpy.uint16))"
            ),
        ));
    };
    if arr.is_c_contiguous() {
        Ok(arr)
    } else {
        Ok(np
            .call_method1("ascontiguousarray", (arr,))?
            .cast_into::<PyUntypedArray>()?)
    }
}

/// Run `f` on the borrowed samples of `arr` (C-contiguous uint8/uint16/float32).
fn with_data<R>(
    arr: &Bound<'_, PyUntypedArray>,
    f: impl FnOnce(Data<'_>) -> PyResult<R>,
) -> PyResult<R> {
    let py = arr.py();
    let dt = arr.dtype();
    if dt.is_equiv_to(&dtype::<u8>(py)) {
        let a = arr.cast::<PyArrayDyn<u8>>()?.readonly();
        f(Data::U8(
            a.as_slice()
                .map_err(|e| PyValueError::new_err(e.to_string()))?,
        ))
    } else if dt.is_equiv_to(&dtype::<u16>(py)) {
        let a = arr.cast::<PyArrayDyn<u16>>()?.readonly();
        f(Data::U16(
            a.as_slice()
                .map_err(|e| PyValueError::new_err(e.to_string()))?,
        ))
    } else {
        let a = arr.cast::<PyArrayDyn<f32>>()?.readonly();
        f(Data::F32(
            a.as_slice()
                .map_err(|e| PyValueError::new_err(e.to_string()))?,
        ))
    }
}

/// `obj` as labels: any integer array with no negative value, as `u32`, with its shape.
fn label_array(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    what: &str,
) -> PyResult<(Vec<u32>, Vec<usize>)> {
    let np = py.import("numpy")?;
    let arr = np
        .call_method1("asarray", (obj,))?
        .cast_into::<PyUntypedArray>()?;
    let shape = arr.shape().to_vec();
    let kind: String = arr.dtype().getattr("kind")?.extract()?;
    if kind != "u" && kind != "i" && kind != "b" {
        return Err(dtype_error(
            py,
            format!("{what} must be an integer array, not {}", arr.dtype()),
        ));
    }
    if arr.len() > 0 {
        let min: i128 = arr.call_method0("min")?.extract()?;
        let max: i128 = arr.call_method0("max")?.extract()?;
        if min < 0 || max > u32::MAX as i128 {
            return Err(input_error(
                py,
                format!("{what} must lie in 0..=4294967295; they range {min}..={max}"),
            ));
        }
    }
    let a = np
        .call_method1("ascontiguousarray", (arr, np.getattr("uint32")?))?
        .cast_into::<PyArrayDyn<u32>>()?;
    let v = a.readonly().as_slice()?.to_vec();
    Ok((v, shape))
}

// ---------------------------------------------------------------------------------------------
// arrays out

fn u32_array<'py>(py: Python<'py>, v: Vec<u32>, shape: &[usize]) -> PyResult<Bound<'py, PyAny>> {
    Ok(PyArray1::from_vec(py, v).reshape(IxDyn(shape))?.into_any())
}

fn bool_array<'py>(py: Python<'py>, v: &[u32], shape: &[usize]) -> PyResult<Bound<'py, PyAny>> {
    let b: Vec<bool> = v.iter().map(|&x| x != 0).collect();
    Ok(PyArray1::from_vec(py, b).reshape(IxDyn(shape))?.into_any())
}

fn f64_column<'py>(py: Python<'py>, v: Vec<f64>) -> Bound<'py, PyAny> {
    PyArray1::from_vec(py, v).into_any()
}

fn i64_column<'py>(py: Python<'py>, v: Vec<i64>) -> Bound<'py, PyAny> {
    PyArray1::from_vec(py, v).into_any()
}

fn bool_column<'py>(py: Python<'py>, v: Vec<bool>) -> Bound<'py, PyAny> {
    PyArray1::from_vec(py, v).into_any()
}

// ---------------------------------------------------------------------------------------------
// parameters

/// The pipeline parameters of `words`, refusing the flags an array call has no use for.
fn params_of_words(words: &[String]) -> floodseg::Result<(Params, Option<usize>)> {
    let args = floodseg::flags::parse_words(words)?;
    if args.channel.is_some() {
        return Err(Error::param(
            "channel",
            "applies to files; pick a channel of an array with image[..., c]",
        ));
    }
    let params = floodseg::flags::params_of(&args)?;
    Ok((params, args.threads))
}

fn backend_of(name: &str) -> floodseg::Result<Backend> {
    match name {
        "auto" => Ok(Backend::Auto),
        "cpu" => Ok(Backend::Cpu),
        "gpu" => Ok(Backend::Gpu),
        other => Err(Error::param(
            "backend",
            format!("{other:?} is not one of \"auto\", \"cpu\", \"gpu\""),
        )),
    }
}

/// The long names of the pipeline's flags (`min-distance`, …) and whether each takes a value:
/// the keywords `segment` takes.
#[pyfunction]
fn flag_names() -> Vec<(String, bool)> {
    floodseg::flags::flag_names()
}

/// Check `words` as `segment` would, without an image (raises what `segment` raises).
#[pyfunction]
fn check_words(py: Python<'_>, words: Vec<String>) -> PyResult<String> {
    let (p, _) = params_of_words(&words).map_err(|e| to_py(py, e))?;
    Ok(p.to_args())
}

// ---------------------------------------------------------------------------------------------
// the segmenter

/// A backend ready to segment (the GPU context made once); shared by threads.
#[pyclass(module = "floodseg._floodseg", name = "Segmenter", frozen)]
struct PySegmenter {
    inner: Arc<floodseg::Segmenter>,
    /// How long the library itself took in the last `segment` call (GIL released, arrays
    /// converted): what the benchmark subtracts to get the binding's overhead.
    last_core_ns: std::sync::atomic::AtomicU64,
}

/// Segment every frame of `data` (laid out as `layout`) with `params`, `threads` frames at
/// once; the labels of all frames, concatenated.
fn segment_frames(
    seg: &floodseg::Segmenter,
    data: &Data<'_>,
    layout: Layout,
    params: &Params,
    threads: usize,
    cancel: &AtomicBool,
) -> floodseg::Result<Vec<u32>> {
    use rayon::prelude::*;
    let done = std::sync::atomic::AtomicUsize::new(0);
    let one = |i: usize| -> floodseg::Result<Vec<u32>> {
        if cancel.load(Ordering::Relaxed) {
            return Err(stopped(done.load(Ordering::Relaxed)));
        }
        let view = ImageView {
            width: layout.width,
            height: layout.height,
            channels: layout.channels,
            samples: data.frame(i, layout.frame_len()),
        };
        let labels = seg
            .segment_view(view, params, Keep::Labels)
            .map(|s| s.labels)
            .map_err(|e| match (layout.frames, e) {
                (Some(_), Error::BadData(m)) => Error::BadData(format!("frame {i}: {m}")),
                (_, e) => e,
            })?;
        done.fetch_add(1, Ordering::Relaxed);
        Ok(labels)
    };
    let n = layout.n_frames();
    let frames: Vec<Vec<u32>> = if n <= 1 || threads <= 1 {
        (0..n).map(one).collect::<floodseg::Result<_>>()?
    } else {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.min(n))
            .build()
            .map_err(|e| Error::Backend(format!("cannot start {threads} threads: {e}")))?;
        pool.install(|| {
            (0..n)
                .into_par_iter()
                .map(one)
                .collect::<floodseg::Result<_>>()
        })?
    };
    Ok(frames.concat())
}

impl PySegmenter {
    fn labels_of<'py>(
        &self,
        py: Python<'py>,
        image: &Bound<'py, PyAny>,
        words: &[String],
        axes: Option<&str>,
    ) -> PyResult<(Vec<u32>, Layout)> {
        let (params, threads) = params_of_words(words).map_err(|e| to_py(py, e))?;
        self.labels_with(py, image, &params, threads, axes)
    }

    /// [`labels_of`](Self::labels_of) with parsed parameters.
    fn labels_with<'py>(
        &self,
        py: Python<'py>,
        image: &Bound<'py, PyAny>,
        params: &Params,
        threads: Option<usize>,
        axes: Option<&str>,
    ) -> PyResult<(Vec<u32>, Layout)> {
        let arr = image_array(image)?;
        let layout = layout_of(py, arr.shape(), axes)?;
        if layout.is_empty() {
            return Ok((Vec::new(), layout));
        }
        let pixels = layout.width * layout.height;
        let threads = threads.unwrap_or_else(|| self.inner.default_workers(Some(pixels)));
        let seg = self.inner.clone();
        let core_ns = &self.last_core_ns;
        let labels = with_data(&arr, |data| {
            cancellable(py, |cancel| {
                let t0 = std::time::Instant::now();
                let r = segment_frames(&seg, &data, layout, params, threads, cancel);
                core_ns.store(t0.elapsed().as_nanos() as u64, Ordering::Relaxed);
                r
            })
        })?;
        Ok((labels, layout))
    }
}

#[pymethods]
impl PySegmenter {
    #[new]
    #[pyo3(signature = (backend = "auto"))]
    fn new(py: Python<'_>, backend: &str) -> PyResult<Self> {
        let b = backend_of(backend).map_err(|e| to_py(py, e))?;
        let inner = py
            .detach(|| floodseg::Segmenter::new(b))
            .map_err(|e| to_py(py, e))?;
        Ok(PySegmenter {
            inner: Arc::new(inner),
            last_core_ns: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Which backend runs: `cpu`, `gpu: <adapter>`, or `cpu (why not the GPU)`.
    #[getter]
    fn description(&self) -> String {
        self.inner.description().to_string()
    }

    /// Seconds the library spent inside the last `segment` call (the rest of the call's time
    /// is the binding's: argument checks, array conversion, the GIL).
    #[getter]
    fn last_core_seconds(&self) -> f64 {
        self.last_core_ns.load(std::sync::atomic::Ordering::Relaxed) as f64 * 1e-9
    }

    /// `cpu` or `gpu`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    /// Labels (uint32) of `image` segmented with the flags `words`.
    #[pyo3(signature = (image, words, axes = None))]
    fn segment<'py>(
        &self,
        py: Python<'py>,
        image: &Bound<'py, PyAny>,
        words: Vec<String>,
        axes: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (labels, layout) = self.labels_of(py, image, &words, axes)?;
        u32_array(py, labels, &layout.label_shape())
    }

    /// A whole `floodseg segment` run on files (TIFF, PNG, folders, OME-Zarr) on this
    /// segmenter: the CLI's outputs, checks and safety rules (never over an input). Returns
    /// the run's summary.
    #[pyo3(signature = (inputs, output, words, stats = None, counts = None, overlay = None, label_name = None, resume = false, channel = None))]
    #[allow(clippy::too_many_arguments)]
    fn segment_files<'py>(
        &self,
        py: Python<'py>,
        inputs: Vec<std::path::PathBuf>,
        output: std::path::PathBuf,
        words: Vec<String>,
        stats: Option<std::path::PathBuf>,
        counts: Option<std::path::PathBuf>,
        overlay: Option<std::path::PathBuf>,
        label_name: Option<String>,
        resume: bool,
        channel: Option<usize>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (params, threads) = params_of_words(&words).map_err(|e| to_py(py, e))?;
        let job = floodseg::run::SegmentJob {
            inputs,
            channel,
            params,
            outputs: floodseg::outputs::Request {
                labels: output,
                stats,
                counts,
                overlay,
                save_stages: None,
                resume,
                label_name,
            },
            calibration: Default::default(),
            workers: threads,
            strict: false,
        };
        let seg = self.inner.clone();
        let summary = cancellable(py, |cancel| {
            floodseg::run::segment_to_files(&job, &seg, cancel, &mut floodseg::run::Quiet)
        })?;
        let d = PyDict::new(py);
        d.set_item("frames", summary.frames)?;
        d.set_item("objects", summary.objects)?;
        d.set_item("seconds", summary.seconds)?;
        d.set_item("resumed", summary.resumed)?;
        Ok(d)
    }

    /// Every stage image of one frame, as a dict of arrays.
    #[pyo3(signature = (image, words, axes = None))]
    fn stages<'py>(
        &self,
        py: Python<'py>,
        image: &Bound<'py, PyAny>,
        words: Vec<String>,
        axes: Option<&str>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (params, _) = params_of_words(&words).map_err(|e| to_py(py, e))?;
        let arr = image_array(image)?;
        let layout = layout_of(py, arr.shape(), axes)?;
        if layout.frames.is_some() {
            return Err(input_error(
                py,
                "stages() shows one frame: give an (H, W) or (H, W, 3|4) image (stack[t])".into(),
            ));
        }
        if layout.is_empty() {
            return Err(input_error(
                py,
                format!("the image is empty ({}×{})", layout.height, layout.width),
            ));
        }
        let seg = self.inner.clone();
        let s: Stages = with_data(&arr, |data| {
            py.detach(|| {
                let view = ImageView {
                    width: layout.width,
                    height: layout.height,
                    channels: layout.channels,
                    samples: data.frame(0, layout.frame_len()),
                };
                seg.segment_view(view, &params, Keep::All)
            })
            .map_err(|e| to_py(py, e))
        })?;
        let shape = [layout.height, layout.width];
        let d = PyDict::new(py);
        d.set_item("gray", u32_array(py, s.gray.clone(), &shape)?)?;
        if !s.smoothed.is_empty() {
            d.set_item("smoothed", u32_array(py, s.smoothed.clone(), &shape)?)?;
        }
        if !s.flattened.is_empty() {
            d.set_item("flattened", u32_array(py, s.flattened.clone(), &shape)?)?;
        }
        d.set_item("mask", bool_array(py, &s.mask, &shape)?)?;
        d.set_item("opened", bool_array(py, &s.opened, &shape)?)?;
        let dist: Vec<f32> = s.distance2.iter().map(|&d| (d as f32).sqrt()).collect();
        d.set_item(
            "distance",
            PyArray1::from_vec(py, dist).reshape(IxDyn(&shape))?,
        )?;
        d.set_item("distance2", u32_array(py, s.distance2.clone(), &shape)?)?;
        if !s.core_opened.is_empty() {
            d.set_item("core_opened", bool_array(py, &s.core_opened, &shape)?)?;
            d.set_item(
                "core_distance2",
                u32_array(py, s.core_distance2.clone(), &shape)?,
            )?;
        }
        d.set_item("peaks", bool_array(py, &s.peaks, &shape)?)?;
        d.set_item("markers", u32_array(py, s.markers.clone(), &shape)?)?;
        d.set_item("labels", u32_array(py, s.labels.clone(), &shape)?)?;
        if let Some(t) = s.threshold {
            d.set_item("threshold", t.level)?;
        }
        Ok(d)
    }

    /// Track the label stack `labels` (T, H, W), or the frames of `image` segmented with
    /// `words` when `labels` is None.
    #[pyo3(signature = (image, labels, words, max_gap, max_drift, interval = None, axes = None))]
    #[allow(clippy::too_many_arguments)]
    fn track<'py>(
        &self,
        py: Python<'py>,
        image: Option<&Bound<'py, PyAny>>,
        labels: Option<&Bound<'py, PyAny>>,
        words: Vec<String>,
        max_gap: usize,
        max_drift: usize,
        interval: Option<f64>,
        axes: Option<&str>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (params, threads) = params_of_words(&words).map_err(|e| to_py(py, e))?;
        // a cell the drift moves across the edge is followed down to the smallest cut cell
        // the segmentation keeps (as `floodseg track` does)
        let opts = TrackOptions {
            max_gap,
            max_drift,
            edge_area: params.edge_area(),
        };
        opts.validate().map_err(|e| to_py(py, e))?;
        if let Some(m) = interval {
            if !(m.is_finite() && m > 0.0) {
                return Err(to_py(
                    py,
                    Error::param(
                        "interval",
                        format!("{m} is not a positive number of minutes"),
                    ),
                ));
            }
        }
        // from the images: segmented without the shape filters, whose objects the tracker
        // keeps where they hold tracked cells (as `floodseg track` does)
        let mut shape = None;
        let (stack, t, h, w) = match (labels, image) {
            (Some(l), _) => {
                let (v, shape) = label_array(py, l, "labels")?;
                if shape.len() != 3 {
                    return Err(input_error(
                        py,
                        format!("labels to track are (T, H, W); this array is {shape:?}"),
                    ));
                }
                if let Some(img) = image {
                    let arr = image_array(img)?;
                    let lay = layout_of(py, arr.shape(), axes)?;
                    if lay.label_shape() != shape {
                        return Err(input_error(
                            py,
                            format!("the image is {:?} but the labels {shape:?}", arr.shape()),
                        ));
                    }
                }
                (v, shape[0], shape[1], shape[2])
            }
            (None, Some(img)) => {
                let (v, layout) =
                    self.labels_with(py, img, &params.without_shape_filter(), threads, axes)?;
                shape = Some(params);
                if layout.frames.is_none() {
                    return Err(input_error(
                        py,
                        "tracking needs a stack (T, H, W) or (T, H, W, 3|4)".into(),
                    ));
                }
                (v, layout.n_frames(), layout.height, layout.width)
            }
            (None, None) => {
                return Err(to_py(
                    py,
                    Error::param("image", "give the images to segment, or labels="),
                ))
            }
        };
        if t == 0 || h == 0 || w == 0 {
            return Err(input_error(
                py,
                format!("nothing to track: the stack is {t}×{h}×{w}"),
            ));
        }
        let seg = self.inner.clone();
        let (frames, lineage) = cancellable(
            py,
            |cancel| -> floodseg::Result<(Vec<TrackedFrame>, Vec<TrackSummary>)> {
                let pairs = |a: &[u32], b: &[u32], w: usize, h: usize, s: (i32, i32)| {
                    seg.pair_histogram(a, b, w, h, s)
                };
                let mut tracker = Tracker::new(w, h, opts)?;
                let mut done = Vec::with_capacity(t);
                for (i, frame) in stack.chunks_exact(w * h).enumerate() {
                    if cancel.load(Ordering::Relaxed) {
                        return Err(stopped(i));
                    }
                    let doubtful = shape
                        .as_ref()
                        .map_or_else(Vec::new, |p| shape_doubtful(p, w, h, frame));
                    let pushed = tracker.push_doubtful(frame, &doubtful, &pairs);
                    done.extend(pushed.map_err(|e| match e {
                        Error::BadData(m) => Error::BadData(format!("frame {i}: {m}")),
                        other => other,
                    })?);
                }
                let (rest, lineage, _) = tracker.finish();
                done.extend(rest);
                Ok((done, lineage))
            },
        )?;
        tracks_dict(py, frames, &lineage, (t, h, w), interval)
    }
}

/// The tracker's results as Python objects: `labels` (T, H, W), `tracks` and `lineage` (dicts
/// of columns) and `graph` (napari's {daughter: [mother]}).
fn tracks_dict<'py>(
    py: Python<'py>,
    frames: Vec<TrackedFrame>,
    lineage: &[TrackSummary],
    (t, h, w): (usize, usize, usize),
    interval: Option<f64>,
) -> PyResult<Bound<'py, PyDict>> {
    let mut ids = Vec::with_capacity(t * h * w);
    let (mut tid, mut tt, mut ty, mut tx, mut tp, mut ta, mut tl, mut tb, mut ti) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for f in frames {
        for c in &f.cells {
            tid.push(c.id as i64);
            tt.push(f.t as i64);
            ty.push(c.features.y);
            tx.push(c.features.x);
            tp.push(c.parent as i64);
            ta.push(c.features.area as i64);
            tl.push(c.features.length);
            tb.push(c.features.touches_border);
            ti.push(c.interpolated);
        }
        ids.extend(f.ids);
    }
    let tracks = PyDict::new(py);
    tracks.set_item("track_id", i64_column(py, tid))?;
    tracks.set_item("t", i64_column(py, tt))?;
    tracks.set_item("y", f64_column(py, ty))?;
    tracks.set_item("x", f64_column(py, tx))?;
    tracks.set_item("parent_id", i64_column(py, tp))?;
    tracks.set_item("area", i64_column(py, ta))?;
    tracks.set_item("length", f64_column(py, tl))?;
    tracks.set_item("touches_border", bool_column(py, tb))?;
    tracks.set_item("interpolated", bool_column(py, ti))?;

    let nan = f64::NAN;
    let lin = PyDict::new(py);
    let col_i = |f: &dyn Fn(&TrackSummary) -> i64| lineage.iter().map(f).collect::<Vec<i64>>();
    let col_f = |f: &dyn Fn(&TrackSummary) -> f64| lineage.iter().map(f).collect::<Vec<f64>>();
    let complete = |s: &TrackSummary| s.parent != 0 && s.divides();
    lin.set_item("track_id", i64_column(py, col_i(&|s| s.id as i64)))?;
    lin.set_item("parent_id", i64_column(py, col_i(&|s| s.parent as i64)))?;
    lin.set_item(
        "generation",
        i64_column(py, col_i(&|s| s.generation as i64)),
    )?;
    lin.set_item("start_frame", i64_column(py, col_i(&|s| s.start as i64)))?;
    lin.set_item("end_frame", i64_column(py, col_i(&|s| s.end as i64)))?;
    lin.set_item(
        "divides",
        bool_column(py, lineage.iter().map(|s| s.divides()).collect()),
    )?;
    lin.set_item(
        "touches_border",
        bool_column(py, lineage.iter().map(|s| s.touches_border).collect()),
    )?;
    lin.set_item("length_birth", f64_column(py, col_f(&|s| s.length_birth)))?;
    lin.set_item(
        "length_division",
        f64_column(py, col_f(&|s| if s.divides() { s.length_end } else { nan })),
    )?;
    lin.set_item(
        "added_length",
        f64_column(
            py,
            col_f(&|s| {
                if s.divides() {
                    s.length_end - s.length_birth
                } else {
                    nan
                }
            }),
        ),
    )?;
    let cycle = |s: &TrackSummary| {
        if complete(s) {
            (s.end - s.start + 1) as f64
        } else {
            nan
        }
    };
    lin.set_item("cycle_frames", f64_column(py, col_f(&cycle)))?;
    lin.set_item(
        "growth_rate",
        f64_column(py, col_f(&|s| s.growth_rate.unwrap_or(nan))),
    )?;
    if let Some(m) = interval {
        lin.set_item("cycle_minutes", f64_column(py, col_f(&|s| cycle(s) * m)))?;
        lin.set_item(
            "growth_rate_per_hour",
            f64_column(py, col_f(&|s| s.growth_rate.map_or(nan, |g| g * 60.0 / m))),
        )?;
    }
    let graph = PyDict::new(py);
    for s in lineage {
        if s.parent != 0 {
            graph.set_item(s.id, PyList::new(py, [s.parent])?)?;
        }
    }
    let out = PyDict::new(py);
    out.set_item("labels", u32_array(py, ids, &[t, h, w])?)?;
    out.set_item("tracks", tracks)?;
    out.set_item("lineage", lin)?;
    out.set_item("graph", graph)?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// measure and eval

/// The `--stats` columns of every object of `labels` (H, W) or (T, H, W), measured against
/// `image` (its gray values; None: no intensity column).
#[pyfunction]
#[pyo3(signature = (labels, image = None, axes = None))]
fn measure<'py>(
    py: Python<'py>,
    labels: &Bound<'py, PyAny>,
    image: Option<&Bound<'py, PyAny>>,
    axes: Option<&str>,
) -> PyResult<Bound<'py, PyDict>> {
    let (lab, shape) = label_array(py, labels, "labels")?;
    let (frames, h, w) = match shape.as_slice() {
        [h, w] => (None, *h, *w),
        [t, h, w] => (Some(*t), *h, *w),
        _ => {
            return Err(input_error(
                py,
                format!("labels are (H, W) or (T, H, W); this array is {shape:?}"),
            ))
        }
    };
    let img = match image {
        Some(i) => {
            let arr = image_array(i)?;
            let lay = layout_of(py, arr.shape(), axes)?;
            if lay.label_shape() != shape {
                return Err(input_error(
                    py,
                    format!("the image is {:?} but the labels {shape:?}", arr.shape()),
                ));
            }
            Some((arr, lay))
        }
        None => None,
    };
    let n = frames.unwrap_or(1);
    let zeros = vec![0u8; if img.is_none() { h * w } else { 0 }];
    let rows = {
        let run = |data: Option<&Data<'_>>,
                   lay: Option<Layout>|
         -> floodseg::Result<Vec<(usize, Vec<floodseg::measure::ObjectProps>)>> {
            let mut out = Vec::with_capacity(n);
            if h * w == 0 {
                return Ok(out);
            }
            for (t, frame) in lab.chunks_exact(h * w).enumerate() {
                let (compact, original) = floodseg::track::features::compact(frame);
                let view = match (data, lay) {
                    (Some(d), Some(l)) => ImageView {
                        width: w,
                        height: h,
                        channels: l.channels,
                        samples: d.frame(t, l.frame_len()),
                    },
                    _ => ImageView {
                        width: w,
                        height: h,
                        channels: 1,
                        samples: SampleSlice::U8(&zeros),
                    },
                };
                let s =
                    floodseg::backend::cpu::stages_from_labels(view, compact).map_err(
                        |e| match e {
                            Error::BadData(m) if frames.is_some() => {
                                Error::BadData(format!("frame {t}: {m}"))
                            }
                            e => e,
                        },
                    )?;
                let mut props = s.measure();
                for p in &mut props {
                    p.label = original[p.label as usize];
                }
                props.sort_by_key(|p| p.label);
                out.push((t, props));
            }
            Ok(out)
        };
        match &img {
            Some((arr, lay)) => with_data(arr, |d| {
                py.detach(|| run(Some(&d), Some(*lay)))
                    .map_err(|e| to_py(py, e))
            })?,
            None => py.detach(|| run(None, None)).map_err(|e| to_py(py, e))?,
        }
    };
    let all: Vec<(usize, &floodseg::measure::ObjectProps)> = rows
        .iter()
        .flat_map(|(t, ps)| ps.iter().map(move |p| (*t, p)))
        .collect();
    let d = PyDict::new(py);
    if frames.is_some() {
        d.set_item(
            "frame",
            i64_column(py, all.iter().map(|(t, _)| *t as i64).collect()),
        )?;
    }
    let fi = |f: &dyn Fn(&floodseg::measure::ObjectProps) -> i64| {
        i64_column(py, all.iter().map(|(_, p)| f(p)).collect())
    };
    let ff = |f: &dyn Fn(&floodseg::measure::ObjectProps) -> f64| {
        f64_column(py, all.iter().map(|(_, p)| f(p)).collect())
    };
    d.set_item("label", fi(&|p| p.label as i64))?;
    d.set_item("area", fi(&|p| p.area as i64))?;
    d.set_item("centroid_row", ff(&|p| p.centroid_row))?;
    d.set_item("centroid_col", ff(&|p| p.centroid_col))?;
    d.set_item("bbox_min_row", fi(&|p| p.bbox[0] as i64))?;
    d.set_item("bbox_min_col", fi(&|p| p.bbox[1] as i64))?;
    d.set_item("bbox_max_row", fi(&|p| p.bbox[2] as i64))?;
    d.set_item("bbox_max_col", fi(&|p| p.bbox[3] as i64))?;
    d.set_item("major_axis_length", ff(&|p| p.major_axis_length))?;
    d.set_item("minor_axis_length", ff(&|p| p.minor_axis_length))?;
    d.set_item("orientation", ff(&|p| p.orientation))?;
    d.set_item("eccentricity", ff(&|p| p.eccentricity))?;
    if img.is_some() {
        d.set_item("mean_intensity", ff(&|p| p.mean_intensity))?;
    }
    Ok(d)
}

/// StarDist's matching of `pred` against `gt` ((H, W) or (T, H, W), summed over frames) at
/// each IoU threshold.
#[pyfunction]
#[pyo3(signature = (gt, pred, thresholds))]
fn eval<'py>(
    py: Python<'py>,
    gt: &Bound<'py, PyAny>,
    pred: &Bound<'py, PyAny>,
    thresholds: Vec<f64>,
) -> PyResult<Bound<'py, PyList>> {
    let (g, gs) = label_array(py, gt, "gt")?;
    let (p, ps) = label_array(py, pred, "pred")?;
    if gs != ps {
        return Err(input_error(
            py,
            format!("gt is {gs:?} but pred is {ps:?}: they must have the same shape"),
        ));
    }
    if !(gs.len() == 2 || gs.len() == 3) {
        return Err(input_error(
            py,
            format!("label images are (H, W) or (T, H, W); these are {gs:?}"),
        ));
    }
    for &t in &thresholds {
        if !(0.0..=1.0).contains(&t) {
            return Err(to_py(
                py,
                Error::param("iou", format!("{t} is not in [0, 1]")),
            ));
        }
    }
    let (h, w) = (gs[gs.len() - 2], gs[gs.len() - 1]);
    let total = py
        .detach(|| -> floodseg::Result<Vec<floodseg::eval::Matching>> {
            let mut total: Option<Vec<floodseg::eval::Matching>> = None;
            let frame = (h * w).max(1);
            for (a, b) in g.chunks(frame).zip(p.chunks(frame)) {
                let li = |v: &[u32]| floodseg::eval::LabelImage {
                    width: w,
                    height: h,
                    labels: v.to_vec(),
                };
                let m = floodseg::eval::matching(&li(a), &li(b), &thresholds)?;
                match &mut total {
                    None => total = Some(m),
                    Some(t) => t.iter_mut().zip(&m).for_each(|(t, m)| t.add(m)),
                }
            }
            match total {
                Some(t) => Ok(t),
                None => floodseg::eval::matching(
                    &floodseg::eval::LabelImage {
                        width: w,
                        height: h,
                        labels: Vec::new(),
                    },
                    &floodseg::eval::LabelImage {
                        width: w,
                        height: h,
                        labels: Vec::new(),
                    },
                    &thresholds,
                ),
            }
        })
        .map_err(|e| to_py(py, e))?;
    let out = PyList::empty(py);
    for m in total {
        let d = PyDict::new(py);
        d.set_item("iou", m.iou)?;
        d.set_item("tp", m.tp)?;
        d.set_item("fp", m.fp)?;
        d.set_item("fn", m.fn_)?;
        d.set_item("n_true", m.n_true)?;
        d.set_item("n_pred", m.n_pred)?;
        d.set_item("precision", m.precision())?;
        d.set_item("recall", m.recall())?;
        d.set_item("f1", m.f1())?;
        d.set_item("mean_matched_iou", m.mean_matched_iou())?;
        d.set_item("panoptic_quality", m.panoptic_quality())?;
        out.append(d)?;
    }
    Ok(out)
}

#[pymodule]
fn _floodseg(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySegmenter>()?;
    m.add_function(wrap_pyfunction!(flag_names, m)?)?;
    m.add_function(wrap_pyfunction!(check_words, m)?)?;
    m.add_function(wrap_pyfunction!(measure, m)?)?;
    m.add_function(wrap_pyfunction!(eval, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

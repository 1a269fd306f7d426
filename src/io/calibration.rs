//! Physical units: the pixel size (micrometres per pixel, x and y) and the time between frames
//! (minutes), as an input declares them and as floodseg's label TIFFs carry them.
//!
//! # Reading ([`read_calibration`], [`FrameSource::calibration`](super::FrameSource::calibration))
//!
//! Only the first page of a TIFF is looked at, and for a folder or glob only its first file.
//! Each quantity is taken from the first of these sources that declares it:
//!
//! 1. **OME-XML** in the `ImageDescription` (OME-TIFF, as tifffile and Bio-Formats/Fiji write
//!    it): the first `Pixels` element's `PhysicalSizeX` and `PhysicalSizeY` (with
//!    `PhysicalSizeXUnit`/`PhysicalSizeYUnit`, default `µm`) and `TimeIncrement` (with
//!    `TimeIncrementUnit`, default `s`).
//! 2. **TIFF resolution**: `XResolution`/`YResolution` are pixels per `ResolutionUnit`. With the
//!    unit inch (2) or centimetre (3) the pixel size is 25400 or 10000 µm divided by the
//!    resolution. With the unit none (1) or no `ResolutionUnit` tag, the resolution is pixels
//!    per the length unit an **ImageJ description** names (`unit=`, and `yunit=` for y when it
//!    differs; `micron`, `um`, `µm` written as `\u00B5m`, `nm`, `mm`, `cm`, `m`, `inch` and
//!    their long spellings) — as ImageJ reads it; without such a unit it is no calibration.
//! 3. **ImageJ description** `finterval=` (frame interval, in ImageJ's time unit `tunit=`,
//!    which is seconds when absent; `ms`, `min`, `h` etc. are understood), converted to
//!    minutes. `spacing=` (the z step) is not used.
//! 4. **PNG** `pHYs` chunk with the unit metre: pixels per metre (no frame interval in PNG).
//!
//! Nothing is guessed: a quantity no source declares is `None`, and so is one whose unit is not
//! a length (or time) unit, that is zero, negative or not finite, or outside the range
//! [`Calibration`] accepts. Some values are defaults written by tools, not calibrations, and are
//! also taken as absent: a resolution of exactly 1 pixel per inch, centimetre or unit (the
//! `tiff` crate writes 1/1 with unit none on every page), and 72 or 96 dots per inch (the
//! defaults of image editors and of Windows; within 0.2 %, in inches, centimetres or PNG's
//! pixels per metre). A resolution without a `ResolutionUnit` tag is no calibration either
//! (TIFF's default unit is the inch, but ImageJ ignores it too). What was present but not used
//! is listed in [`DeclaredCalibration::ignored`].
//!
//! Checked against ImageJ 1.53t (`tests/fixtures/calibration/`): it agrees on ImageJ
//! descriptions (`unit=`, `finterval=`, `tunit=`), on centimetre resolutions, on 72 dpi and on a
//! missing `ResolutionUnit`. It differs in three places: ImageJ shows 96 dpi as an inch
//! calibration; with `ResolutionUnit` inch and `unit=um` it takes the inch figure as µm (floodseg
//! trusts the TIFF unit); and plain ImageJ ignores OME-XML (Fiji reads it through Bio-Formats).
//!
//! # Writing
//!
//! A label TIFF written with a calibration ([`write_labels_tiff_with`](super::write_labels_tiff_with),
//! [`StackWriter::create_calibrated`](super::StackWriter::create_calibrated)) carries
//! `XResolution`/`YResolution` in pixels per µm (a fraction `n/d` of 32-bit integers, exact for
//! sizes such as 0.065 µm = 13/200) with `ResolutionUnit` none (1), and an ImageJ description
//! with `unit=um`, which ImageJ shows as µm (it turns `um` into `µm`; its own files say
//! `unit=micron` or `unit=\u00B5m`). A stack with an interval also gets `finterval=<minutes>`
//! and `tunit=min`, as ImageJ itself writes a calibration in minutes (ImageJ's `finterval` is
//! in `tunit` units, seconds by default). Without a calibration the outputs are byte for byte
//! what they were before calibrations existed.

use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use tiff::decoder::ifd::Value;
use tiff::tags::Tag;

use super::read_tiff;
use crate::error::{Error, Result};

/// The smallest pixel size [`Calibration`] accepts, in µm (1 pm).
pub const MIN_PIXEL_SIZE_UM: f64 = 1e-6;
/// The largest pixel size [`Calibration`] accepts, in µm (1 m).
pub const MAX_PIXEL_SIZE_UM: f64 = 1e6;

/// The physical size of a pixel and the time between frames, each optional.
///
/// Every value held is finite and positive; pixel sizes lie in
/// [`MIN_PIXEL_SIZE_UM`]`..=`[`MAX_PIXEL_SIZE_UM`] (so that they can be written as a TIFF
/// resolution). `Calibration::default()` holds nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Calibration {
    pixel_size: Option<(f64, f64)>,
    interval: Option<f64>,
}

fn check_pixel_size(name: &'static str, um: f64) -> Result<f64> {
    if !um.is_finite() || um <= 0.0 {
        return Err(Error::param(
            name,
            format!("the pixel size must be a positive number of µm, not {um}"),
        ));
    }
    if !(MIN_PIXEL_SIZE_UM..=MAX_PIXEL_SIZE_UM).contains(&um) {
        return Err(Error::param(
            name,
            format!(
                "a pixel size of {um} µm is outside {MIN_PIXEL_SIZE_UM:e}..{MAX_PIXEL_SIZE_UM:e} \
                 µm (1 pm to 1 m); is the unit right?"
            ),
        ));
    }
    Ok(um)
}

fn check_interval(minutes: f64) -> Result<f64> {
    if !minutes.is_finite() || minutes <= 0.0 {
        return Err(Error::param(
            "--interval",
            format!("the frame interval must be a positive number of minutes, not {minutes}"),
        ));
    }
    Ok(minutes)
}

impl Calibration {
    /// A calibration from user values: `pixel_size` in µm per pixel `(x, y)`, `interval` in
    /// minutes. A value that is not finite and positive, or a pixel size outside
    /// [`MIN_PIXEL_SIZE_UM`]`..=`[`MAX_PIXEL_SIZE_UM`], is an [`Error::Parameter`] naming
    /// `--pixel-size` or `--interval`.
    pub fn new(pixel_size: Option<(f64, f64)>, interval: Option<f64>) -> Result<Self> {
        let pixel_size = match pixel_size {
            Some((x, y)) => Some((
                check_pixel_size("--pixel-size", x)?,
                check_pixel_size("--pixel-size", y)?,
            )),
            None => None,
        };
        let interval = interval.map(check_interval).transpose()?;
        Ok(Calibration {
            pixel_size,
            interval,
        })
    }

    /// This calibration with square pixels of `um` µm.
    pub fn with_pixel_size(self, um: f64) -> Result<Self> {
        self.with_pixel_size_xy(um, um)
    }

    /// This calibration with pixels `x_um` wide and `y_um` high.
    pub fn with_pixel_size_xy(self, x_um: f64, y_um: f64) -> Result<Self> {
        Calibration::new(Some((x_um, y_um)), self.interval)
    }

    /// This calibration with `minutes` between frames.
    pub fn with_interval(self, minutes: f64) -> Result<Self> {
        Calibration::new(self.pixel_size, Some(minutes))
    }

    /// The pixel size in µm, `(x, y)` (width, height of a pixel).
    pub fn pixel_size(&self) -> Option<(f64, f64)> {
        self.pixel_size
    }

    /// The time between frames in minutes.
    pub fn interval(&self) -> Option<f64> {
        self.interval
    }

    /// Neither a pixel size nor an interval.
    pub fn is_empty(&self) -> bool {
        self.pixel_size.is_none() && self.interval.is_none()
    }

    /// Each value of `self`, or where `self` has none, `fallback`'s: user values first, then
    /// what the input declares (`user.or(source.calibration()?)`).
    pub fn or(self, fallback: Calibration) -> Calibration {
        Calibration {
            pixel_size: self.pixel_size.or(fallback.pixel_size),
            interval: self.interval.or(fallback.interval),
        }
    }
}

/// Parse a `--pixel-size` value: one number of µm (square pixels) or two, `X,Y` (also `XxY`).
pub fn parse_pixel_size(text: &str) -> Result<(f64, f64)> {
    let bad = || {
        Error::param(
            "--pixel-size",
            format!("{text:?} is not a size in µm (one number, or two as X,Y)"),
        )
    };
    let num = |s: &str| s.trim().parse::<f64>().map_err(|_| bad());
    let t = text.trim();
    let (x, y) = match t.split_once([',', 'x', 'X', '×']) {
        Some((a, b)) => (num(a)?, num(b)?),
        None => {
            let v = num(t)?;
            (v, v)
        }
    };
    Ok((
        check_pixel_size("--pixel-size", x)?,
        check_pixel_size("--pixel-size", y)?,
    ))
}

/// Format a number for messages: up to 6 significant digits, no trailing zeros.
fn short(v: f64) -> String {
    let s = format!("{v:.6e}");
    let parsed: f64 = s.parse().unwrap_or(v);
    format!("{parsed}")
}

impl fmt::Display for Calibration {
    /// `pixel size 0.065 µm, interval 0.5 min`, `pixel size 0.065 × 0.07 µm (x × y)`, or
    /// `no calibration`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        match self.pixel_size {
            Some((x, y)) if x == y => parts.push(format!("pixel size {} µm", short(x))),
            Some((x, y)) => {
                parts.push(format!("pixel size {} × {} µm (x × y)", short(x), short(y)))
            }
            None => {}
        }
        if let Some(m) = self.interval {
            parts.push(format!("interval {} min", short(m)));
        }
        if parts.is_empty() {
            f.write_str("no calibration")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// What an input file declares: the [`Calibration`], where each value came from, and what was
/// present but not used (with the reason).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeclaredCalibration {
    pub calibration: Calibration,
    /// The source of the pixel size, e.g. `"OME-XML PhysicalSizeX/PhysicalSizeY"`.
    pub pixel_size_from: Option<&'static str>,
    /// The source of the interval, e.g. `"ImageJ finterval"`.
    pub interval_from: Option<&'static str>,
    /// Metadata that was present but is not a calibration, one sentence each.
    pub ignored: Vec<String>,
}

impl fmt::Display for DeclaredCalibration {
    /// E.g. `pixel size 0.065 µm (TIFF XResolution/YResolution, ImageJ unit), no interval`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.calibration;
        match (c.pixel_size, self.pixel_size_from) {
            (Some(_), from) => {
                let only = Calibration {
                    pixel_size: c.pixel_size,
                    interval: None,
                };
                write!(f, "{only}")?;
                if let Some(from) = from {
                    write!(f, " ({from})")?;
                }
            }
            (None, _) => f.write_str("no pixel size")?,
        }
        match (c.interval, self.interval_from) {
            (Some(m), from) => {
                write!(f, ", interval {} min", short(m))?;
                if let Some(from) = from {
                    write!(f, " ({from})")?;
                }
            }
            (None, _) => f.write_str(", no interval")?,
        }
        if !self.ignored.is_empty() {
            write!(f, "; ignored: {}", self.ignored.join("; "))?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Units
// ---------------------------------------------------------------------------------------------

/// A conversion `value * mul / div` (kept as two factors so that e.g. seconds → minutes is one
/// correctly rounded division).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Factor {
    mul: f64,
    div: f64,
}

impl Factor {
    const ONE: Factor = Factor { mul: 1.0, div: 1.0 };
    fn times(m: f64) -> Factor {
        Factor { mul: m, div: 1.0 }
    }
    fn per(d: f64) -> Factor {
        Factor { mul: 1.0, div: d }
    }
    fn apply(self, v: f64) -> f64 {
        if self.mul == 1.0 {
            v / self.div
        } else {
            v * self.mul / self.div
        }
    }
}

/// Replace ImageJ's `\uXXXX` escapes (it writes `µm` as `\u00B5m`).
fn unescape_imagej(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("\\u") {
        out.push_str(&rest[..i]);
        let hex = rest.get(i + 2..i + 6);
        match hex
            .filter(|h| h.chars().all(|c| c.is_ascii_hexdigit()))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32)
        {
            Some(c) => {
                out.push(c);
                rest = &rest[i + 6..];
            }
            None => {
                out.push_str("\\u");
                rest = &rest[i + 2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// µm per `unit` (a length unit as ImageJ, OME or people write it).
fn length_unit(unit: &str) -> Option<Factor> {
    let u = unit.trim().to_lowercase();
    Some(match u.as_str() {
        "pm" | "picometer" | "picometers" | "picometre" | "picometres" => Factor::per(1e6),
        "å" | "angstrom" | "angstroms" => Factor::per(1e4),
        "nm" | "nanometer" | "nanometers" | "nanometre" | "nanometres" => Factor::per(1e3),
        // U+00B5 micro sign, U+03BC Greek mu
        "µm" | "μm" | "um" | "micron" | "microns" | "micrometer" | "micrometers" | "micrometre"
        | "micrometres" => Factor::ONE,
        "mm" | "millimeter" | "millimeters" | "millimetre" | "millimetres" => Factor::times(1e3),
        "cm" | "centimeter" | "centimeters" | "centimetre" | "centimetres" => Factor::times(1e4),
        "m" | "meter" | "meters" | "metre" | "metres" => Factor::times(1e6),
        "in" | "inch" | "inches" => Factor::times(25400.0),
        _ => return None,
    })
}

/// Minutes per `unit` (a time unit as ImageJ or OME writes it).
fn time_unit(unit: &str) -> Option<Factor> {
    let u = unit.trim().to_lowercase();
    Some(match u.as_str() {
        "ns" | "nanosecond" | "nanoseconds" => Factor::per(6e10),
        "µs" | "μs" | "us" | "microsecond" | "microseconds" => Factor::per(6e7),
        "ms" | "msec" | "millisecond" | "milliseconds" => Factor::per(6e4),
        "s" | "sec" | "secs" | "second" | "seconds" => Factor::per(60.0),
        "min" | "mins" | "minute" | "minutes" => Factor::ONE,
        "h" | "hr" | "hrs" | "hour" | "hours" => Factor::times(60.0),
        "d" | "day" | "days" => Factor::times(1440.0),
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Parsing descriptions
// ---------------------------------------------------------------------------------------------

/// The `key=value` lines of an ImageJ description (values unescaped); `None` if the description
/// is not ImageJ's.
fn imagej_properties(description: &str) -> Option<Vec<(String, String)>> {
    if !description.starts_with("ImageJ=") {
        return None;
    }
    Some(
        description
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), unescape_imagej(v.trim())))
            .collect(),
    )
}

fn prop<'a>(props: &'a [(String, String)], key: &str) -> Option<&'a str> {
    props
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Decode the five predefined XML entities and numeric character references.
fn xml_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(end) = after.find(';').filter(|&e| e <= 10) else {
            out.push('&');
            rest = after;
            continue;
        };
        let entity = &after[..end];
        let c = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The attributes of the first element whose local name is `Pixels` (any namespace prefix) in
/// an OME-XML document; `None` if there is none.
fn ome_pixels_attributes(xml: &str) -> Option<Vec<(String, String)>> {
    let mut search = 0;
    while let Some(rel) = xml[search..].find('<') {
        let start = search + rel + 1;
        let tail = &xml[start..];
        let name_len = tail
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .unwrap_or(tail.len());
        let name = &tail[..name_len];
        let local = name.rsplit(':').next().unwrap_or(name);
        if local != "Pixels" {
            search = start;
            continue;
        }
        let mut attrs = Vec::new();
        let mut rest = &tail[name_len..];
        loop {
            rest = rest.trim_start();
            if rest.is_empty() || rest.starts_with('>') || rest.starts_with('/') {
                return Some(attrs);
            }
            let eq = rest.find('=')?;
            let key = rest[..eq].trim().to_string();
            let value_part = rest[eq + 1..].trim_start();
            let quote = value_part.chars().next()?;
            if quote != '"' && quote != '\'' {
                return Some(attrs);
            }
            let close = value_part[1..].find(quote)?;
            attrs.push((key, xml_unescape(&value_part[1..1 + close])));
            rest = &value_part[1 + close + 1..];
        }
    }
    None
}

fn is_ome(description: &str) -> bool {
    let head = description.trim_start();
    (head.starts_with("<?xml") || head.starts_with('<')) && description.contains("OME")
}

// ---------------------------------------------------------------------------------------------
// Combining the sources
// ---------------------------------------------------------------------------------------------

/// The metadata of a TIFF's first page that bear on calibration.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct TiffTags {
    /// `XResolution`, `YResolution` as numerator, denominator.
    pub x_resolution: Option<(u64, u64)>,
    pub y_resolution: Option<(u64, u64)>,
    pub resolution_unit: Option<u16>,
    pub description: Option<String>,
}

/// Within 0.2 % of `b`.
fn near(a: f64, b: f64) -> bool {
    (a - b).abs() <= 0.002 * b
}

/// A pixel size that tools write by default: 72 or 96 dpi.
fn is_default_dpi(um: f64) -> bool {
    near(um, 25400.0 / 72.0) || near(um, 25400.0 / 96.0)
}

impl DeclaredCalibration {
    fn set_pixel_size(&mut self, x: f64, y: f64, from: &'static str) {
        match Calibration::new(Some((x, y)), None) {
            Ok(c) => {
                self.calibration.pixel_size = c.pixel_size;
                self.pixel_size_from = Some(from);
            }
            Err(_) => self.ignored.push(format!(
                "{from}: a pixel size of {} × {} µm is out of range",
                short(x),
                short(y)
            )),
        }
    }

    fn set_interval(&mut self, minutes: f64, from: &'static str) {
        match check_interval(minutes) {
            Ok(m) => {
                self.calibration.interval = Some(m);
                self.interval_from = Some(from);
            }
            Err(_) => self.ignored.push(format!(
                "{from}: an interval of {} min is not positive",
                short(minutes)
            )),
        }
    }
}

/// Apply OME-XML `Pixels` attributes.
fn from_ome(attrs: &[(String, String)], out: &mut DeclaredCalibration) {
    let get = |k: &str| attrs.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str());
    let length = |value: &str, unit: Option<&str>, axis: &str| -> Result<f64, String> {
        let v: f64 = value
            .trim()
            .parse()
            .map_err(|_| format!("OME-XML PhysicalSize{axis}={value:?} is not a number"))?;
        let unit = unit.unwrap_or("µm");
        let f = length_unit(unit)
            .ok_or_else(|| format!("OME-XML PhysicalSize{axis}Unit={unit:?} is not a length"))?;
        Ok(f.apply(v))
    };
    match (get("PhysicalSizeX"), get("PhysicalSizeY")) {
        (Some(x), Some(y)) => {
            match (
                length(x, get("PhysicalSizeXUnit"), "X"),
                length(y, get("PhysicalSizeYUnit"), "Y"),
            ) {
                (Ok(x), Ok(y)) => out.set_pixel_size(x, y, "OME-XML PhysicalSizeX/PhysicalSizeY"),
                (Err(e), _) | (_, Err(e)) => out.ignored.push(e),
            }
        }
        (Some(_), None) => out
            .ignored
            .push("OME-XML gives PhysicalSizeX but not PhysicalSizeY".into()),
        (None, Some(_)) => out
            .ignored
            .push("OME-XML gives PhysicalSizeY but not PhysicalSizeX".into()),
        (None, None) => {}
    }
    if let Some(t) = get("TimeIncrement") {
        let unit = get("TimeIncrementUnit").unwrap_or("s");
        match (t.trim().parse::<f64>(), time_unit(unit)) {
            (Ok(v), Some(f)) => out.set_interval(f.apply(v), "OME-XML TimeIncrement"),
            (Err(_), _) => out
                .ignored
                .push(format!("OME-XML TimeIncrement={t:?} is not a number")),
            (_, None) => out.ignored.push(format!(
                "OME-XML TimeIncrementUnit={unit:?} is not a time unit"
            )),
        }
    }
}

/// Apply the TIFF resolution tags (with the ImageJ description's unit, if any).
fn from_resolution(
    tags: &TiffTags,
    imagej: Option<&[(String, String)]>,
    out: &mut DeclaredCalibration,
) {
    let ratio = |r: Option<(u64, u64)>| r.filter(|&(n, d)| n > 0 && d > 0);
    let (Some((xn, xd)), Some((yn, yd))) = (ratio(tags.x_resolution), ratio(tags.y_resolution))
    else {
        if tags.x_resolution.is_some() || tags.y_resolution.is_some() {
            out.ignored
                .push("TIFF XResolution/YResolution: one is missing or zero, no pixel size".into());
        }
        return;
    };
    // Units per pixel (the reciprocal of the resolution), as one division each.
    let per_px = |n: u64, d: u64| d as f64 / n as f64;
    let (ux, uy) = (per_px(xn, xd), per_px(yn, yd));
    let one_per_unit = xn == xd && yn == yd;
    match tags.resolution_unit {
        Some(unit @ (2 | 3)) => {
            let (factor, name, from) = if unit == 2 {
                (
                    25400.0,
                    "inch",
                    "TIFF XResolution/YResolution (pixels per inch)",
                )
            } else {
                (
                    10000.0,
                    "centimetre",
                    "TIFF XResolution/YResolution (pixels per centimetre)",
                )
            };
            let (x, y) = (ux * factor, uy * factor);
            if one_per_unit {
                out.ignored.push(format!(
                    "TIFF resolution of 1 pixel per {name} (a default written by tools)"
                ));
            } else if is_default_dpi(x) && is_default_dpi(y) {
                out.ignored.push(format!(
                    "TIFF resolution of {} dpi (a default written by tools)",
                    short(25400.0 / x)
                ));
            } else {
                out.set_pixel_size(x, y, from);
            }
        }
        None | Some(1) => {
            let unit = imagej.and_then(|p| prop(p, "unit"));
            let yunit = imagej.and_then(|p| prop(p, "yunit")).or(unit);
            match (unit, yunit) {
                (Some(u), Some(yu)) => match (length_unit(u), length_unit(yu)) {
                    (Some(fx), Some(fy)) => out.set_pixel_size(
                        fx.apply(ux),
                        fy.apply(uy),
                        "TIFF XResolution/YResolution, ImageJ unit",
                    ),
                    _ => out.ignored.push(format!(
                        "TIFF resolution in ImageJ unit {u:?}{}, not a length",
                        if yu == u {
                            String::new()
                        } else {
                            format!(" (y: {yu:?})")
                        }
                    )),
                },
                _ if one_per_unit => out.ignored.push(
                    "TIFF resolution of 1 pixel per unit with no unit (a default written by \
                     tools)"
                        .into(),
                ),
                _ => out.ignored.push(format!(
                    "TIFF resolution of {} pixels per unit with no unit (ResolutionUnit {})",
                    short(1.0 / ux),
                    match tags.resolution_unit {
                        Some(_) => "none",
                        None => "absent",
                    }
                )),
            }
        }
        Some(other) => out
            .ignored
            .push(format!("TIFF ResolutionUnit {other} is not a known unit")),
    }
}

/// Apply the ImageJ description's `finterval` (and `tunit`).
fn from_imagej_interval(props: &[(String, String)], out: &mut DeclaredCalibration) {
    let Some(f) = prop(props, "finterval") else {
        return;
    };
    let tunit = prop(props, "tunit").unwrap_or("sec");
    match (f.parse::<f64>(), time_unit(tunit)) {
        (Ok(v), Some(factor)) => out.set_interval(factor.apply(v), "ImageJ finterval"),
        (Err(_), _) => out
            .ignored
            .push(format!("ImageJ finterval={f:?} is not a number")),
        (_, None) => out
            .ignored
            .push(format!("ImageJ tunit={tunit:?} is not a time unit")),
    }
}

/// What the tags of a TIFF's first page declare.
pub(super) fn from_tiff_tags(tags: &TiffTags) -> DeclaredCalibration {
    let mut out = DeclaredCalibration::default();
    let description = tags.description.as_deref();
    let imagej = description.and_then(imagej_properties);
    if let Some(attrs) = description
        .filter(|d| is_ome(d))
        .and_then(ome_pixels_attributes)
    {
        from_ome(&attrs, &mut out);
    }
    if out.calibration.pixel_size.is_none() {
        from_resolution(tags, imagej.as_deref(), &mut out);
    }
    if out.calibration.interval.is_none() {
        if let Some(props) = &imagej {
            from_imagej_interval(props, &mut out);
        }
    }
    out
}

/// What a PNG `pHYs` chunk (pixels per unit x, y; unit 1 = metre) declares.
pub(super) fn from_png_phys(phys: Option<(u32, u32, u8)>) -> DeclaredCalibration {
    let mut out = DeclaredCalibration::default();
    match phys {
        None => {}
        Some((x, y, _)) if x == 0 || y == 0 => out
            .ignored
            .push("PNG pHYs with zero pixels per unit".into()),
        Some((_, _, unit)) if unit != 1 => out
            .ignored
            .push("PNG pHYs with no unit (an aspect ratio only)".into()),
        Some((x, y, _)) => {
            let (ux, uy) = (1e6 / f64::from(x), 1e6 / f64::from(y));
            if x == 1 && y == 1 {
                out.ignored
                    .push("PNG pHYs of 1 pixel per metre (a default written by tools)".into());
            } else if is_default_dpi(ux) && is_default_dpi(uy) {
                out.ignored.push(format!(
                    "PNG pHYs of {x} pixels per metre, {} dpi (a default written by tools)",
                    short(25400.0 / ux)
                ));
            } else {
                out.set_pixel_size(ux, uy, "PNG pHYs (pixels per metre)");
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Reading files
// ---------------------------------------------------------------------------------------------

/// The `pHYs` chunk of a PNG stream positioned after its signature: walks the chunks before
/// the first `IDAT` (where `pHYs` must be). `None` when absent or the chunk list is broken.
fn png_phys<R: Read + Seek>(reader: &mut R) -> Option<(u32, u32, u8)> {
    for _ in 0..10_000 {
        let mut head = [0u8; 8];
        reader.read_exact(&mut head).ok()?;
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let kind = &head[4..8];
        if kind == b"IDAT" || kind == b"IEND" {
            return None;
        }
        if kind == b"pHYs" && len == 9 {
            let mut body = [0u8; 9];
            reader.read_exact(&mut body).ok()?;
            let x = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
            let y = u32::from_be_bytes([body[4], body[5], body[6], body[7]]);
            return Some((x, y, body[8]));
        }
        // Skip the data and the CRC.
        reader.seek(SeekFrom::Current(i64::from(len) + 4)).ok()?;
    }
    None
}

fn rational(value: Option<Value>) -> Option<(u64, u64)> {
    match value? {
        Value::Rational(n, d) => Some((n.into(), d.into())),
        Value::List(v) => rational(v.into_iter().next()),
        _ => None,
    }
}

/// Read the calibration tags of the first page of a TIFF.
fn tiff_tags<R: Read + Seek>(
    reader: R,
    path: &Path,
    file_len: u64,
    ignored: &mut Vec<String>,
) -> Result<TiffTags> {
    let mut decoder = read_tiff::open(reader, path, file_len)?;
    let mut tags = TiffTags {
        x_resolution: rational(decoder.find_tag(Tag::XResolution).ok().flatten()),
        y_resolution: rational(decoder.find_tag(Tag::YResolution).ok().flatten()),
        resolution_unit: decoder
            .find_tag_unsigned::<u16>(Tag::ResolutionUnit)
            .ok()
            .flatten(),
        description: None,
    };
    match decoder.find_tag(Tag::ImageDescription) {
        Ok(Some(v)) => match v.into_string() {
            Ok(s) => tags.description = Some(s),
            Err(_) => ignored.push("ImageDescription is not text".into()),
        },
        Ok(None) => {}
        Err(_) => ignored.push("ImageDescription cannot be read (not UTF-8?)".into()),
    }
    Ok(tags)
}

/// What the image file `path` declares about its pixel size and frame interval (the first
/// page of a TIFF, the `pHYs` chunk of a PNG); see the [module docs](crate::io::calibration) for the rules.
///
/// A file that cannot be opened is an [`Error::Read`]; one that is not a readable PNG or TIFF
/// the same error [`read_image`](super::read_image) gives. Metadata that cannot be parsed is
/// never an error: it is listed in [`DeclaredCalibration::ignored`].
pub fn read_calibration(path: &Path) -> Result<DeclaredCalibration> {
    let io_err = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io_err)?;
    let file_len = file.metadata().map_err(io_err)?.len();
    let mut reader = BufReader::new(file);
    let mut magic = [0u8; 8];
    let n = super::read_prefix(&mut reader, &mut magic).map_err(io_err)?;
    if n == 0 {
        return Err(Error::Decode {
            path: path.to_path_buf(),
            reason: "file is empty".into(),
        });
    }
    match super::sniff(&magic[..n], path)? {
        super::Format::Png => Ok(from_png_phys(png_phys(&mut reader))),
        super::Format::Tiff => {
            reader.seek(SeekFrom::Start(0)).map_err(io_err)?;
            let mut ignored = Vec::new();
            let tags = catch_unwind(AssertUnwindSafe(|| {
                tiff_tags(reader, path, file_len, &mut ignored)
            }))
            .unwrap_or_else(|_| {
                Err(Error::Decode {
                    path: path.to_path_buf(),
                    reason: "malformed file (the decoder gave up)".into(),
                })
            })?;
            let mut declared = from_tiff_tags(&tags);
            ignored.append(&mut declared.ignored);
            declared.ignored = ignored;
            Ok(declared)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// The best fraction `p/q` with `p, q <= u32::MAX` for a positive `x` (continued fraction
/// convergents; exact when `x` is the double nearest a fraction with small terms, e.g.
/// 0.065 = 13/200).
fn best_fraction(x: f64) -> (u32, u32) {
    let limit = f64::from(u32::MAX);
    // h(-1)/k(-1) = 1/0, h(-2)/k(-2) = 0/1
    let (mut h1, mut k1, mut h2, mut k2) = (1.0f64, 0.0f64, 0.0f64, 1.0f64);
    let mut best = (x.round().clamp(1.0, limit) as u32, 1u32);
    let mut r = x;
    for _ in 0..64 {
        let a = r.floor();
        let h = a * h1 + h2;
        let k = a * k1 + k2;
        if h > limit || k > limit {
            break;
        }
        if h >= 1.0 && k >= 1.0 {
            best = (h as u32, k as u32);
        }
        let frac = r - a;
        if h / k == x || frac <= 0.0 {
            break;
        }
        (h2, k2, h1, k1) = (h1, k1, h, k);
        r = 1.0 / frac;
    }
    best
}

impl Calibration {
    /// The TIFF `XResolution`, `YResolution` for this pixel size: pixels per µm as
    /// `(numerator, denominator)` pairs, for `ResolutionUnit` none with `unit=um`.
    pub(super) fn resolution(&self) -> Option<((u32, u32), (u32, u32))> {
        self.pixel_size.map(|(x, y)| {
            let flip = |(p, q): (u32, u32)| (q, p);
            (flip(best_fraction(x)), flip(best_fraction(y)))
        })
    }

    /// The calibration lines of an ImageJ description (after `ImageJ=…` and the layout lines):
    /// `unit=um` with a pixel size; for a stack with an interval `finterval=` (minutes) and
    /// `tunit=min`.
    pub(super) fn imagej_lines(&self, stack: bool) -> String {
        let mut s = String::new();
        if self.pixel_size.is_some() {
            s.push_str("unit=um\n");
        }
        if let (true, Some(m)) = (stack, self.interval) {
            s.push_str(&format!("finterval={m}\ntunit=min\n"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(x: Option<(u64, u64)>, unit: Option<u16>, desc: Option<&str>) -> TiffTags {
        TiffTags {
            x_resolution: x,
            y_resolution: x,
            resolution_unit: unit,
            description: desc.map(String::from),
        }
    }

    #[test]
    fn constructors_validate() {
        let c = Calibration::new(Some((0.065, 0.07)), Some(0.5)).unwrap();
        assert_eq!(c.pixel_size(), Some((0.065, 0.07)));
        assert_eq!(c.interval(), Some(0.5));
        assert_eq!(
            c.to_string(),
            "pixel size 0.065 × 0.07 µm (x × y), interval 0.5 min"
        );
        let sq = Calibration::default().with_pixel_size(0.1).unwrap();
        assert_eq!(sq.to_string(), "pixel size 0.1 µm");
        assert_eq!(Calibration::default().to_string(), "no calibration");
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e-9, 2e6] {
            let e = Calibration::default().with_pixel_size(bad).unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::Parameter {
                        name: "--pixel-size",
                        ..
                    }
                ),
                "{bad}: {e}"
            );
        }
        for bad in [0.0, -0.5, f64::NAN, f64::NEG_INFINITY] {
            let e = Calibration::default().with_interval(bad).unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::Parameter {
                        name: "--interval",
                        ..
                    }
                ),
                "{bad}: {e}"
            );
        }
        let user = Calibration::new(None, Some(2.0)).unwrap();
        let file = Calibration::new(Some((0.2, 0.2)), Some(0.5)).unwrap();
        assert_eq!(
            user.or(file),
            Calibration::new(Some((0.2, 0.2)), Some(2.0)).unwrap()
        );
    }

    #[test]
    fn parse_pixel_size_forms() {
        assert_eq!(parse_pixel_size("0.065").unwrap(), (0.065, 0.065));
        assert_eq!(parse_pixel_size(" 0.065 , 0.07").unwrap(), (0.065, 0.07));
        assert_eq!(parse_pixel_size("0.1x0.2").unwrap(), (0.1, 0.2));
        for bad in ["", "abc", "0", "-1", "1,", "nan", "1,2,3"] {
            assert!(parse_pixel_size(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn units() {
        assert_eq!(length_unit("micron"), Some(Factor::ONE));
        assert_eq!(length_unit("\u{b5}m"), Some(Factor::ONE));
        assert_eq!(length_unit("\u{3bc}m"), Some(Factor::ONE));
        assert_eq!(length_unit(&unescape_imagej("\\u00B5m")), Some(Factor::ONE));
        assert_eq!(length_unit("nm").unwrap().apply(65.0), 0.065);
        assert_eq!(length_unit("mm").unwrap().apply(0.5), 500.0);
        assert_eq!(length_unit("pixel"), None);
        assert_eq!(time_unit("sec").unwrap().apply(30.0), 0.5);
        assert_eq!(time_unit("ms").unwrap().apply(1500.0), 0.025);
        assert_eq!(time_unit("h").unwrap().apply(2.0), 120.0);
        assert_eq!(time_unit("frame"), None);
        assert_eq!(unescape_imagej("a\\u00B5b\\uZZ"), "a\u{b5}b\\uZZ");
        assert_eq!(
            xml_unescape("&#181;m &amp; &#xB5;&lt;&bogus;"),
            "µm & µ<&bogus;"
        );
    }

    #[test]
    fn fractions() {
        assert_eq!(best_fraction(0.065), (13, 200));
        assert_eq!(best_fraction(1.0 / 0.065), (200, 13));
        assert_eq!(best_fraction(3.0), (3, 1));
        assert_eq!(best_fraction(1e6), (1_000_000, 1));
        assert_eq!(best_fraction(1e-6), (1, 1_000_000));
        for x in [
            0.1,
            0.0645,
            0.16,
            0.108_333,
            6.5,
            0.123_456_789,
            1.0 / 3.0,
            0.7077,
        ] {
            let (p, q) = best_fraction(x);
            let back = f64::from(p) / f64::from(q);
            assert!((back - x).abs() <= 1e-12 * x, "{x}: {p}/{q} = {back}");
        }
    }

    #[test]
    fn imagej_description_with_resolution() {
        let d = from_tiff_tags(&tags(
            Some((200, 13)),
            Some(1),
            Some("ImageJ=1.53t\nunit=micron\nfinterval=0.5\ntunit=min\n"),
        ));
        assert_eq!(d.calibration.pixel_size(), Some((0.065, 0.065)));
        assert_eq!(d.calibration.interval(), Some(0.5));
        assert_eq!(
            d.pixel_size_from,
            Some("TIFF XResolution/YResolution, ImageJ unit")
        );
        assert_eq!(d.interval_from, Some("ImageJ finterval"));
        // Seconds by default; nm; escaped µm; yunit.
        let d = from_tiff_tags(&tags(
            Some((1, 65)),
            None,
            Some("ImageJ=1.11a\nunit=nm\nfinterval=30\n"),
        ));
        assert_eq!(d.calibration.pixel_size(), Some((0.065, 0.065)));
        assert_eq!(d.calibration.interval(), Some(0.5));
        let d = from_tiff_tags(&tags(
            Some((10, 1)),
            Some(1),
            Some("ImageJ=1.53t\nunit=\\u00B5m\n"),
        ));
        assert_eq!(d.calibration.pixel_size(), Some((0.1, 0.1)));
        let mut t = tags(
            Some((10, 1)),
            Some(1),
            Some("ImageJ=1\nunit=um\nyunit=nm\n"),
        );
        t.y_resolution = Some((1, 200));
        assert_eq!(
            from_tiff_tags(&t).calibration.pixel_size(),
            Some((0.1, 0.2))
        );
    }

    #[test]
    fn defaults_and_unknown_units_are_ignored() {
        for t in [
            tags(Some((72, 1)), Some(2), None),
            tags(Some((96, 1)), Some(2), None),
            tags(Some((2835, 100)), Some(3), None),
            tags(Some((1, 1)), Some(2), None),
            tags(Some((1, 1)), Some(1), None),
            tags(Some((1, 1)), None, None),
            tags(Some((300, 1)), None, None),
            tags(Some((300, 1)), Some(1), Some("ImageJ=1.53t\nunit=pixel\n")),
            tags(Some((300, 1)), Some(7), None),
            tags(Some((0, 1)), Some(2), None),
        ] {
            let d = from_tiff_tags(&t);
            assert_eq!(d.calibration, Calibration::default(), "{t:?}");
            assert_eq!(d.ignored.len(), 1, "{t:?}: {:?}", d.ignored);
        }
        // An explicit ImageJ unit makes 1 pixel per unit a real calibration.
        let d = from_tiff_tags(&tags(
            Some((1, 1)),
            Some(1),
            Some("ImageJ=1.53t\nunit=micron\n"),
        ));
        assert_eq!(d.calibration.pixel_size(), Some((1.0, 1.0)));
        // A physical inch/cm resolution is trusted.
        let d = from_tiff_tags(&tags(Some((254_000, 1)), Some(2), None));
        assert_eq!(d.calibration.pixel_size(), Some((0.1, 0.1)));
        let d = from_tiff_tags(&tags(Some((153_846, 1)), Some(3), None));
        let (x, _) = d.calibration.pixel_size().unwrap();
        assert!((x - 0.065).abs() < 1e-6, "{x}");
        // No interval without finterval; a bad tunit is reported.
        let d = from_tiff_tags(&tags(
            None,
            None,
            Some("ImageJ=1\nfinterval=2\ntunit=frame\n"),
        ));
        assert_eq!(d.calibration, Calibration::default());
        assert!(d.ignored[0].contains("tunit"), "{:?}", d.ignored);
        assert!(from_tiff_tags(&tags(None, None, Some("hello")))
            .ignored
            .is_empty());
    }

    #[test]
    fn ome_xml() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image ID="Image:0"><Pixels ID="Pixels:0" DimensionOrder="XYCZT" PhysicalSizeX="0.065" PhysicalSizeXUnit="&#181;m" PhysicalSizeY='65' PhysicalSizeYUnit="nm" SizeT="3" TimeIncrement="30" TimeIncrementUnit="s"><TiffData/></Pixels></Image></OME>"#;
        let d = from_tiff_tags(&tags(Some((1, 1)), Some(1), Some(xml)));
        assert_eq!(d.calibration.pixel_size(), Some((0.065, 0.065)));
        assert_eq!(d.calibration.interval(), Some(0.5));
        assert_eq!(
            d.pixel_size_from,
            Some("OME-XML PhysicalSizeX/PhysicalSizeY")
        );
        assert_eq!(d.interval_from, Some("OME-XML TimeIncrement"));
        // Prefixed element names, default units, a missing Y, a non-length unit.
        let xml = r#"<ome:OME xmlns:ome="x"><ome:Image><ome:Pixels PhysicalSizeX="0.1" PhysicalSizeY="0.2" TimeIncrement="2" TimeIncrementUnit="min"/></ome:Image></ome:OME>"#;
        let d = from_tiff_tags(&tags(None, None, Some(xml)));
        assert_eq!(
            d.calibration,
            Calibration::new(Some((0.1, 0.2)), Some(2.0)).unwrap()
        );
        let xml = r#"<OME><Image><Pixels PhysicalSizeX="0.1"/></Image></OME>"#;
        let d = from_tiff_tags(&tags(None, None, Some(xml)));
        assert_eq!(d.calibration, Calibration::default());
        assert_eq!(d.ignored.len(), 1);
        let xml =
            r#"<OME><Pixels PhysicalSizeX="1" PhysicalSizeXUnit="pixel" PhysicalSizeY="1"/></OME>"#;
        let d = from_tiff_tags(&tags(None, None, Some(xml)));
        assert_eq!(d.calibration, Calibration::default());
        assert!(d.ignored[0].contains("not a length"), "{:?}", d.ignored);
    }

    #[test]
    fn png_phys() {
        let d = from_png_phys(Some((15_384_615, 15_384_615, 1)));
        let (x, y) = d.calibration.pixel_size().unwrap();
        assert!((x - 0.065).abs() < 1e-8 && x == y, "{x}");
        for p in [
            Some((2835, 2835, 1)),
            Some((3780, 3780, 1)),
            Some((5, 5, 0)),
            Some((0, 1, 1)),
        ] {
            let d = from_png_phys(p);
            assert_eq!(d.calibration, Calibration::default(), "{p:?}");
            assert_eq!(d.ignored.len(), 1, "{p:?}");
        }
        assert_eq!(from_png_phys(None), DeclaredCalibration::default());
    }

    #[test]
    fn writing_lines() {
        let c = Calibration::new(Some((0.065, 0.07)), Some(0.5)).unwrap();
        assert_eq!(c.resolution(), Some(((200, 13), (100, 7))));
        assert_eq!(c.imagej_lines(true), "unit=um\nfinterval=0.5\ntunit=min\n");
        assert_eq!(c.imagej_lines(false), "unit=um\n");
        let t = Calibration::new(None, Some(1.0)).unwrap();
        assert_eq!(t.imagej_lines(true), "finterval=1\ntunit=min\n");
        assert_eq!(Calibration::default().imagej_lines(true), "");
        // What is written reads back as the same values.
        let ((xn, xd), (yn, yd)) = c.resolution().unwrap();
        let desc = format!("ImageJ=1.11a\nimages=3\nframes=3\n{}", c.imagej_lines(true));
        let mut t = tags(Some((xn.into(), xd.into())), Some(1), Some(&desc));
        t.y_resolution = Some((yn.into(), yd.into()));
        assert_eq!(from_tiff_tags(&t).calibration, c);
    }
}

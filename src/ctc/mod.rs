//! The Cell Tracking Challenge (CTC) format: a folder of 16-bit label masks, one per frame,
//! whose labels are track ids, and a track file with one line `L B E P` per track (label, first
//! and last frame, 0-based and inclusive, and the parent's label or 0).
//!
//! The rules the CTC tools check (`ctc_validate` of py-ctcmetrics) and [`validate`] restates:
//! labels are unique and positive; a track's label is present in every frame from `B` to `E`
//! and in no other; a parent exists and ends *before* its child begins (so a dividing mother
//! ends in the frame before her daughters, and a track that is lost and found again after a gap
//! continues under a new label whose parent is the old one).
//!
//! File names: a result folder holds `maskTTT.tif` and `res_track.txt`; ground truth holds
//! `TRA/man_trackTTT.tif`, `TRA/man_track.txt` and `SEG/man_segTTT.tif`. `TTT` has 3 digits
//! for up to 1,000 frames and 4 above ([`digits`]).
//!
//! [`metrics`] scores a result folder against ground truth (DET, SEG, TRA, LNK, CT, TF,
//! BC(i), CCA, … as py-ctcmetrics defines them) and checks a folder by these rules
//! ([`validate_folder`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub mod metrics;

pub use metrics::{evaluate_folders, validate_folder, CtcScores};

/// One line of a CTC track file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CtcTrack {
    /// The track's label in the masks (1..=65535).
    pub label: u32,
    /// First and last frame (0-based, inclusive).
    pub begin: usize,
    pub end: usize,
    /// The parent track's label, 0 for none.
    pub parent: u32,
}

/// Digits of the frame number in mask file names: 3 for up to 1,000 frames, else 4 (and more
/// beyond 10,000).
pub fn digits(frames: usize) -> usize {
    let mut d = 3;
    let mut cap = 1000;
    while frames > cap {
        d += 1;
        cap *= 10;
    }
    d
}

/// `{prefix}{t:0digits}.tif`, e.g. `mask007.tif`, `man_track0042.tif`.
pub fn mask_name(prefix: &str, t: usize, digits: usize) -> String {
    format!("{prefix}{t:0digits$}.tif")
}

/// The track file's text: one `L B E P` line per track, by label.
pub fn format_tracks(tracks: &[CtcTrack]) -> String {
    let mut sorted = tracks.to_vec();
    sorted.sort();
    let mut s = String::new();
    for t in &sorted {
        s.push_str(&format!("{} {} {} {}\n", t.label, t.begin, t.end, t.parent));
    }
    s
}

/// Parse a track file's text (`name` only for messages). Blank lines are skipped; any other
/// line must hold four non-negative integers.
pub fn parse_tracks(text: &str, name: &Path) -> Result<Vec<CtcTrack>> {
    let bad = |line: usize, why: &str| Error::Decode {
        path: name.to_path_buf(),
        reason: format!("line {line}: {why}"),
    };
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        if fields.len() != 4 {
            return Err(bad(i + 1, "expected four numbers `L B E P`"));
        }
        let num = |k: usize| -> Result<u64> {
            fields[k].parse::<u64>().map_err(|_| {
                bad(
                    i + 1,
                    &format!("`{}` is not a non-negative integer", fields[k]),
                )
            })
        };
        let (l, b, e, p) = (num(0)?, num(1)?, num(2)?, num(3)?);
        if l == 0 || l > u64::from(u32::MAX) || p > u64::from(u32::MAX) {
            return Err(bad(i + 1, "a label must be in 1..=4294967295"));
        }
        out.push(CtcTrack {
            label: l as u32,
            begin: b as usize,
            end: e as usize,
            parent: p as u32,
        });
    }
    Ok(out)
}

/// Read a track file (`res_track.txt`, `man_track.txt`).
pub fn read_tracks(path: &Path) -> Result<Vec<CtcTrack>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_tracks(&text, path)
}

/// The masks `{prefix}T….tif` in `dir`, as (frame, path) by frame. Names whose digits do not
/// parse are ignored; two files for one frame (`mask7.tif` and `mask007.tif`) are an error.
pub fn list_masks(dir: &Path, prefix: &str) -> Result<Vec<(usize, PathBuf)>> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut found: BTreeMap<usize, PathBuf> = BTreeMap::new();
    for e in entries {
        let e = e.map_err(|source| Error::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(prefix) else {
            continue;
        };
        let Some(num) = rest
            .strip_suffix(".tif")
            .or_else(|| rest.strip_suffix(".tiff"))
        else {
            continue;
        };
        if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(t) = num.parse::<usize>() else {
            continue;
        };
        if let Some(old) = found.insert(t, e.path()) {
            return Err(Error::Decode {
                path: dir.to_path_buf(),
                reason: format!(
                    "two masks for frame {t}: {} and {name}",
                    old.file_name().unwrap_or_default().to_string_lossy()
                ),
            });
        }
    }
    Ok(found.into_iter().collect())
}

/// What [`validate`] found wrong, one line per problem (empty: valid).
pub type Problems = Vec<String>;

/// Check a track table against the labels present in each frame (`present[t]`: the set of
/// nonzero labels in frame `t`), by the CTC rules (module doc). Returns the problems found, at
/// most `limit` of them.
pub fn validate(tracks: &[CtcTrack], present: &[BTreeSet<u32>], limit: usize) -> Problems {
    let mut problems = Vec::new();
    let mut say = |p: String| {
        if problems.len() < limit {
            problems.push(p);
        }
    };
    let mut by_label: BTreeMap<u32, CtcTrack> = BTreeMap::new();
    for t in tracks {
        if by_label.insert(t.label, *t).is_some() {
            say(format!("label {} has two lines", t.label));
        }
        if t.begin > t.end {
            say(format!(
                "track {} begins ({}) after it ends ({})",
                t.label, t.begin, t.end
            ));
        }
        if t.parent == t.label {
            say(format!("track {} is its own parent", t.label));
        }
    }
    for t in by_label.values() {
        if t.parent != 0 {
            match by_label.get(&t.parent) {
                None => say(format!(
                    "track {}: parent {} has no line",
                    t.label, t.parent
                )),
                Some(p) if p.end >= t.begin => say(format!(
                    "track {}: parent {} ends in frame {}, not before the child begins ({})",
                    t.label, t.parent, p.end, t.begin
                )),
                _ => {}
            }
        }
    }
    for (f, labels) in present.iter().enumerate() {
        for l in labels {
            match by_label.get(l) {
                None => say(format!("frame {f}: label {l} has no track line")),
                Some(t) if f < t.begin || f > t.end => say(format!(
                    "frame {f}: label {l} is outside its track's frames {}–{}",
                    t.begin, t.end
                )),
                _ => {}
            }
        }
    }
    for t in by_label.values() {
        // (no frame at all is not a frame 0: `present` may be empty)
        let span = present.iter().enumerate().skip(t.begin);
        for (f, labels) in span.take_while(|&(f, _)| f <= t.end) {
            if !labels.contains(&t.label) {
                say(format!(
                    "frame {f}: track {} (frames {}–{}) is missing",
                    t.label, t.begin, t.end
                ));
            }
        }
        if t.end >= present.len() {
            say(format!(
                "track {} ends in frame {}, after the last mask ({})",
                t.label,
                t.end,
                present.len() as i64 - 1
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_follow_the_frame_count() {
        assert_eq!(digits(1), 3);
        assert_eq!(digits(1000), 3);
        assert_eq!(digits(1001), 4);
        assert_eq!(digits(10_000), 4);
        assert_eq!(digits(10_001), 5);
        assert_eq!(mask_name("mask", 7, 3), "mask007.tif");
        assert_eq!(mask_name("man_track", 42, 4), "man_track0042.tif");
    }

    #[test]
    fn tracks_round_trip_and_bad_lines_are_refused() {
        let t = vec![
            CtcTrack {
                label: 2,
                begin: 3,
                end: 9,
                parent: 1,
            },
            CtcTrack {
                label: 1,
                begin: 0,
                end: 2,
                parent: 0,
            },
        ];
        let text = format_tracks(&t);
        assert_eq!(text, "1 0 2 0\n2 3 9 1\n");
        let back = parse_tracks(&text, Path::new("x")).unwrap();
        assert_eq!(back, vec![t[1], t[0]]);
        assert!(parse_tracks("1 0 2\n", Path::new("x")).is_err());
        assert!(parse_tracks("0 0 2 0\n", Path::new("x")).is_err());
        assert!(parse_tracks("1 0 -2 0\n", Path::new("x")).is_err());
    }

    #[test]
    fn validate_finds_each_rule_broken() {
        let sets = |v: &[&[u32]]| -> Vec<BTreeSet<u32>> {
            v.iter().map(|f| f.iter().copied().collect()).collect()
        };
        let ok = vec![
            CtcTrack {
                label: 1,
                begin: 0,
                end: 1,
                parent: 0,
            },
            CtcTrack {
                label: 2,
                begin: 2,
                end: 2,
                parent: 1,
            },
            CtcTrack {
                label: 3,
                begin: 2,
                end: 2,
                parent: 1,
            },
        ];
        let present = sets(&[&[1], &[1], &[2, 3]]);
        assert!(validate(&ok, &present, 10).is_empty());
        // a parent that does not end before its child
        let mut bad = ok.clone();
        bad[0].end = 2;
        assert!(!validate(&bad, &sets(&[&[1], &[1], &[1, 2, 3]]), 10).is_empty());
        // a label with no line, and a track missing in a frame
        assert!(!validate(&ok, &sets(&[&[1], &[1, 9], &[2, 3]]), 10).is_empty());
        assert!(!validate(&ok, &sets(&[&[1], &[], &[2, 3]]), 10).is_empty());
        // a parent with no line
        let orphan = vec![CtcTrack {
            label: 2,
            begin: 0,
            end: 0,
            parent: 7,
        }];
        assert!(!validate(&orphan, &sets(&[&[2]]), 10).is_empty());
        // tracks but no frame at all
        assert_eq!(validate(&ok[..1], &[], 10).len(), 1);
    }
}

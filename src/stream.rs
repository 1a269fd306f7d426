//! Streaming many frames through a [`Segmenter`]: decode, segment and write overlap, memory
//! stays bounded, and results come back in frame order.
//!
//! Three kinds of threads work at once:
//! - one **reader** pulls frames from the source (decoding TIFF/PNG, or generating them) and
//!   queues at most `workers` of them;
//! - `workers` **segmenters** take frames from that queue; on the CPU backend one per core, so a
//!   stack uses every core, and on the GPU 2–8 by frame size ([`default_workers_for`]), so one
//!   frame's host work (upload, readback, conversion) overlaps other frames' device work and
//!   small frames share watersheds;
//! - the **caller's thread** runs the sink (encoding and writing outputs) on each result in
//!   frame order, while the workers go on with later frames.
//!
//! At most `2 · workers` frames are alive at any moment, whatever the stack's length, so
//! peak memory does not grow with the number of frames. Each frame is segmented by itself, so
//! the outputs do not depend on the number of workers: `workers = 1` and `workers = 16` give
//! the same bytes.
//!
//! The first error (reading frame `k`, segmenting it, or the sink) stops the stream: frames
//! before `k` have all reached the sink, no later frame does, and the error is returned.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Mutex;

use crate::backend::Segmenter;
use crate::error::Result;
use crate::image::RawImage;
use crate::params::Params;
pub use crate::stages::Keep;
use crate::stages::Stages;

/// The workers [`run`] uses by default for `segmenter`: every core on the CPU, two on a GPU.
pub fn default_workers(segmenter: &Segmenter) -> usize {
    default_workers_for(segmenter, None)
}

/// The workers [`run`] uses by default for `segmenter` on frames of `pixels` pixels (when
/// known): every core on the CPU; on a GPU 8 for frames up to 1 MP, 4 up to 4 MP, else 2.
/// Small frames are bound by latency (dispatches, readbacks), so more frames in flight — which
/// also share watersheds, see `gpu::batch` — raise throughput; large ones by memory. On an
/// H100 the 1024² stack ran at 124 frames/s with 8 workers and 79 with 2 (docs/gpu.md).
pub fn default_workers_for(segmenter: &Segmenter, pixels: Option<usize>) -> usize {
    segmenter.default_workers(pixels)
}

/// Segment every frame of `frames` with `workers` worker threads and hand each result to
/// `sink(index, image, stages)` in frame order, on the calling thread, with the stage images
/// `keep` says. Returns the number of frames that reached the sink.
///
/// An error from the source, the segmenter or the sink ends the stream (see the module doc);
/// errors about a frame's pixels are prefixed with `frame N: `.
pub fn run<I, F>(
    frames: I,
    segmenter: &Segmenter,
    params: &Params,
    workers: usize,
    keep: Keep,
    sink: F,
) -> Result<usize>
where
    I: Iterator<Item = Result<RawImage>> + Send,
    F: FnMut(usize, RawImage, Stages) -> Result<()>,
{
    let never = AtomicBool::new(false);
    run_with(
        frames,
        workers,
        keep,
        &never,
        |_, img| segmenter.segment_keep(img, params, keep),
        sink,
    )
}

/// [`run`] with the per-frame work given as `work(index, image)` (segmenting, or loading the
/// labels an earlier run wrote), and a `cancel` flag: once it is set, no further frame is read;
/// frames already read are finished and delivered, and the count of delivered frames is
/// returned (check the flag to tell a cancelled stream from a complete one).
pub fn run_with<I, W, F>(
    frames: I,
    workers: usize,
    keep: Keep,
    cancel: &AtomicBool,
    work: W,
    mut sink: F,
) -> Result<usize>
where
    I: Iterator<Item = Result<RawImage>> + Send,
    W: Fn(usize, &RawImage) -> Result<Stages> + Sync,
    F: FnMut(usize, RawImage, Stages) -> Result<()>,
{
    let workers = workers.max(1);
    let stop = AtomicBool::new(false);
    let (to_workers, from_reader) = sync_channel::<(usize, Result<RawImage>)>(workers);
    let from_reader = Mutex::new(from_reader);
    std::thread::scope(|scope| {
        let (to_sink, from_workers) = sync_channel::<(usize, Result<(RawImage, Stages)>)>(workers);

        // Tokens bound the frames alive between the reader and the sink: the reader takes one
        // before decoding a frame, the sink gives it back once the frame is written.
        let in_flight = 2 * workers;
        let (give_token, take_token) = sync_channel::<()>(in_flight);
        for _ in 0..in_flight {
            give_token
                .send(())
                .expect("the token channel has room for every token");
        }

        let stop_ref = &stop;
        scope.spawn(move || {
            let mut frames = frames;
            for index in 0.. {
                if take_token.recv().is_err()
                    || stop_ref.load(Ordering::Relaxed)
                    || cancel.load(Ordering::Relaxed)
                {
                    break;
                }
                let Some(frame) = frames.next() else { break };
                let failed = frame.is_err();
                if to_workers.send((index, frame)).is_err() || failed {
                    break;
                }
            }
        });
        for _ in 0..workers {
            let to_sink = to_sink.clone();
            let from_reader = &from_reader;
            let work = &work;
            scope.spawn(move || loop {
                // Hold the lock only to take the next frame, not while segmenting it.
                let next = from_reader.lock().map_or(None, |queue| queue.recv().ok());
                let Some((index, frame)) = next else { break };
                let result = frame.and_then(|img| {
                    if stop_ref.load(Ordering::Relaxed) {
                        // A frame after a failed one: its result would be discarded.
                        return Err(crate::Error::BadData("stream stopped".into()));
                    }
                    let mut stages = work(index, &img).map_err(|e| name_frame(e, index))?;
                    keep.trim(&mut stages);
                    Ok((img, stages))
                });
                if to_sink.send((index, result)).is_err() {
                    break;
                }
            });
        }
        drop(to_sink);

        let outcome = deliver(&from_workers, &give_token, &mut sink);
        // Stop the reader and workers after an error; dropping the tokens' sender and draining
        // the results unblock them.
        stop.store(true, Ordering::Relaxed);
        drop(give_token);
        while from_workers.recv().is_ok() {}
        outcome
    })
}

/// Reorder results and call the sink in frame order until the stream ends or fails.
fn deliver<F>(
    results: &Receiver<(usize, Result<(RawImage, Stages)>)>,
    tokens: &SyncSender<()>,
    sink: &mut F,
) -> Result<usize>
where
    F: FnMut(usize, RawImage, Stages) -> Result<()>,
{
    let mut pending = BTreeMap::new();
    let mut next = 0usize;
    for (index, result) in results.iter() {
        pending.insert(index, result);
        while let Some(result) = pending.remove(&next) {
            let (img, stages) = result?;
            sink(next, img, stages)?;
            next += 1;
            // The reader may have stopped already (end of the source); a lost token is fine.
            let _ = tokens.try_send(());
        }
    }
    Ok(next)
}

/// Prefix an error about a frame (its data, a limit it exceeds, a device fault while it ran)
/// with the frame index.
fn name_frame(err: crate::Error, index: usize) -> crate::Error {
    use crate::Error;
    match err {
        Error::BadData(m) => Error::BadData(format!("frame {index}: {m}")),
        Error::Limit(m) => Error::Limit(format!("frame {index}: {m}")),
        Error::Backend(m) => Error::Backend(format!("frame {index}: {m}")),
        Error::Decode { path, reason } => Error::Decode {
            path,
            reason: format!("frame {index}: {reason}"),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    fn frames(n: usize) -> impl Iterator<Item = Result<RawImage>> + Send {
        (0..n).map(|t| Ok(RawImage::gray_u8(3, 2, vec![t as u8; 6])))
    }

    fn stages_of(img: &RawImage) -> Stages {
        let p = Params::default();
        crate::pipeline::segment_cpu(img, &p).expect("a tiny frame segments")
    }

    /// A device fault at frame 5 (what a lost GPU or an out-of-memory error gives): frames 0–4
    /// reach the sink in order, nothing after, and the error names frame 5 — for any number
    /// of workers.
    #[test]
    fn a_fault_names_its_frame_and_keeps_the_frames_before_it() {
        for workers in [1, 2, 3, 8] {
            let never = AtomicBool::new(false);
            let mut seen = Vec::new();
            let result = run_with(
                frames(12),
                workers,
                Keep::Labels,
                &never,
                |t, img| {
                    if t == 5 {
                        Err(Error::Backend("device lost (Unknown): test".into()))
                    } else {
                        Ok(stages_of(img))
                    }
                },
                |t, _, _| {
                    seen.push(t);
                    Ok(())
                },
            );
            assert_eq!(seen, [0, 1, 2, 3, 4], "{workers} workers");
            match result {
                Err(Error::Backend(m)) => assert!(m.starts_with("frame 5: device lost"), "{m}"),
                other => panic!("{workers} workers: {other:?}"),
            }
        }
    }

    /// Cancelling stops reading; what was read is delivered, in order, and counted.
    #[test]
    fn cancel_delivers_what_was_read() {
        let cancel = AtomicBool::new(false);
        let mut seen = Vec::new();
        let n = run_with(
            frames(50),
            2,
            Keep::Labels,
            &cancel,
            |_, img| Ok(stages_of(img)),
            |t, _, _| {
                seen.push(t);
                if t == 3 {
                    cancel.store(true, Ordering::Relaxed);
                }
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(n, seen.len());
        assert!(n < 50, "cancel stopped the stream");
        assert_eq!(seen, (0..n).collect::<Vec<_>>());
    }
}

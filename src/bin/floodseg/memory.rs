//! How the process's allocator treats the frame-sized buffers every stage allocates.
//!
//! A 1024² frame allocates and frees about 60 MB of arrays (one `u32` or larger per pixel per
//! stage). glibc serves blocks that large with fresh `mmap`s (and trims freed heap memory back
//! to the kernel), so every frame page-faults all of it in again and the kernel zeroes it: on
//! the CPU backend that was about a third of a 1024² frame's time
//! (`floodseg bench cells_1024.tif --backend cpu --threads 1`, 2-core EPYC VM: 62 → 40 ms per
//! frame, the watershed 33 → 23 ms; BENCHMARKS.md). Keeping freed blocks for the next frame
//! removes that, and the peak resident memory stays what one frame needs (63 MiB both ways).
//! Only glibc needs this; a `GLIBC_TUNABLES` that sets malloc options wins.
//!
//! The first frame still page-faults its buffers in, 4 KiB at a time: about 13,300 faults for
//! a 1024² frame, which made a one-frame run (`floodseg bench cells_1024.tif --backend cpu
//! --threads 1 --frames 1`, the benchmark's "one frame at a time", and any `segment` of one
//! image) take 58–77 ms against 35–39 ms for a warm frame (2-core EPYC VM). So every thread
//! allocates from the main heap (one arena: the worker threads' own arenas are mmaps this
//! cannot reach), and the heap's first 192 MiB are marked for transparent huge pages (where
//! the kernel offers them on request, `madvise`; nothing changes under `always` or
//! `never`): about 1,100 faults, 38–44 ms. Nothing is touched in advance, so the resident
//! memory stays what the frames use (bench.py: 57 → 58 MiB one frame, 103 → 111 MiB two).

/// Keep freed frame buffers in the process for the next frame (glibc on Linux; elsewhere
/// nothing to do).
pub fn keep_freed_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        if std::env::var("GLIBC_TUNABLES").is_ok_and(|t| t.contains("glibc.malloc.")) {
            return;
        }
        // Blocks up to 32 MiB (glibc's largest allowed threshold) come from the heap instead
        // of their own mmap; up to 256 MiB of free heap stays mapped instead of being trimmed;
        // one arena, so that the worker threads' blocks come from that heap too.
        const MMAP_THRESHOLD: libc::c_int = 32 << 20;
        const TRIM_THRESHOLD: libc::c_int = 256 << 20;
        // SAFETY: mallopt only changes three tuning values of glibc's allocator; it is called
        // before any other thread exists and touches no memory of ours. A refused value
        // (return 0) leaves glibc's default, which is correct, only slower.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
            libc::mallopt(libc::M_ARENA_MAX, 1);
        }
        huge_page_heap();
    }
}

/// Mark the heap's next 192 MiB for transparent huge pages: grow it by that much in pieces
/// below the mmap threshold (so they come from the heap, untouched), `madvise` the range, free
/// the pieces (the trim threshold keeps them mapped for the frames to reuse).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn huge_page_heap() {
    const RESERVE: usize = 192 << 20;
    const PIECES: usize = 8;
    const HUGE: usize = 2 << 20;
    // SAFETY: the pieces are malloc'ed and freed here and never read or written; madvise
    // only sets an advisory flag on a range inside them (page-aligned, in the heap), and a
    // refused call (or a failed malloc, then nothing is advised) changes nothing else.
    unsafe {
        let ps: Vec<usize> = (0..PIECES)
            .map(|_| libc::malloc(RESERVE / PIECES) as usize)
            .collect();
        if ps.iter().all(|&p| p != 0) {
            let lo = *ps.iter().min().unwrap();
            let hi = *ps.iter().max().unwrap() + RESERVE / PIECES;
            let start = (lo + HUGE - 1) & !(HUGE - 1);
            let end = hi & !(HUGE - 1);
            if end > start {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
        for p in ps {
            libc::free(p as *mut libc::c_void);
        }
    }
}

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

/// Keep freed frame buffers in the process for the next frame (glibc on Linux; elsewhere
/// nothing to do).
pub fn keep_freed_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        if std::env::var("GLIBC_TUNABLES").is_ok_and(|t| t.contains("glibc.malloc.")) {
            return;
        }
        // Blocks up to 32 MiB (glibc's largest allowed threshold) come from the heap instead
        // of their own mmap; up to 256 MiB of free heap stays mapped instead of being trimmed.
        const MMAP_THRESHOLD: libc::c_int = 32 << 20;
        const TRIM_THRESHOLD: libc::c_int = 256 << 20;
        // SAFETY: mallopt only changes two tuning values of glibc's allocator; it is called
        // before any other thread exists and touches no memory of ours. A refused value
        // (return 0) leaves glibc's default, which is correct, only slower.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
        }
    }
}

//! Plumbing **gather** (`shaders/gather.wgsl`): small buffers concatenated into one, so the GPU
//! reads counts and convergence flags back with one copy. Not a stage of the pipeline: it
//! moves words and computes nothing.

/// Entry point `gather_words`: the parts, one after another.
pub fn gather_words(parts: &[&[u32]]) -> Vec<u32> {
    parts.concat()
}

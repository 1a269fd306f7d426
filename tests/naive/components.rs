//! Connected-component labelling by breadth-first flood fill: scan the pixels in raster order;
//! every foreground pixel not yet labelled starts a new component (numbered 1, 2, … in that
//! order, i.e. raster order of each component's first pixel, as `scipy.ndimage.label`), which a
//! BFS over 4- or 8-neighbours fills.

use std::collections::VecDeque;

pub fn label(width: usize, height: usize, diagonal: bool, fg: &[u32]) -> (Vec<u32>, u32) {
    let mut labels = vec![0u32; width * height];
    let mut count = 0u32;
    let mut offsets: Vec<(i64, i64)> = vec![(-1, 0), (0, -1), (0, 1), (1, 0)];
    if diagonal {
        offsets.extend([(-1, -1), (-1, 1), (1, -1), (1, 1)]);
    }
    for start in 0..width * height {
        if fg[start] == 0 || labels[start] != 0 {
            continue;
        }
        count += 1;
        labels[start] = count;
        let mut queue = VecDeque::from([start]);
        while let Some(i) = queue.pop_front() {
            let (y, x) = ((i / width) as i64, (i % width) as i64);
            for &(dy, dx) in &offsets {
                let (ny, nx) = (y + dy, x + dx);
                if ny < 0 || nx < 0 || ny >= height as i64 || nx >= width as i64 {
                    continue;
                }
                let j = ny as usize * width + nx as usize;
                if fg[j] != 0 && labels[j] == 0 {
                    labels[j] = count;
                    queue.push_back(j);
                }
            }
        }
    }
    (labels, count)
}

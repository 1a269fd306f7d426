#!/usr/bin/env python3
"""The lecture's scikit-image pipeline, stage by stage, for comparison with floodseg.

    python3 lecture_pipeline.py IMAGE OUT_DIR --threshold 180 --dark --open 1 --min-distance 10 --footprint 10

Writes OUT_DIR/{mask,opened,distance2,peaks,markers,labels}.tif (the same names and types as
`floodseg segment --save-stages`) and prints the object count. Needs numpy, scipy, scikit-image,
tifffile (pip install -r requirements.txt). Thresholds are in the image's own units; RGB images
are converted with rgb2gray and scaled back to 0-255 (8-bit) or 0-65535 (16-bit).

Importable: `run(image_path, out_dir, threshold, dark, open_k, min_distance, footprint)` does what
main() does and returns the object count (main() is a thin argparse wrapper around it).
This is a copy of ../shared/reference/lecture_pipeline.py with identical behaviour.
"""
import argparse, os
import numpy as np
import tifffile
from scipy import ndimage as ndi
from skimage import io
from skimage.color import rgb2gray
from skimage.feature import peak_local_max
from skimage.segmentation import watershed


def load(path):
    img = tifffile.imread(path) if path.lower().endswith((".tif", ".tiff")) else io.imread(path)
    if img.ndim == 3 and img.shape[-1] in (3, 4):
        return rgb2gray(img[..., :3]) * (255.0 if img.dtype == np.uint8 else 65535.0)
    return img.astype(np.float64)


def run(image_path, out_dir, threshold, dark=False, open_k=0, min_distance=10, footprint=None):
    """Run the pipeline on IMAGE_PATH, write the six stage TIFFs to OUT_DIR, return the count."""
    img = load(image_path)
    mask = img < threshold if dark else img > threshold
    os.makedirs(out_dir, exist_ok=True)
    w = lambda name, arr: tifffile.imwrite(os.path.join(out_dir, name + ".tif"), arr)
    w("mask", mask.astype(np.uint8))
    if open_k > 0:  # scipy's iterations=0 would mean "until nothing changes"
        mask = ndi.binary_dilation(ndi.binary_erosion(mask, iterations=open_k), iterations=open_k)
    w("opened", mask.astype(np.uint8))
    dist = ndi.distance_transform_edt(mask)
    w("distance2", np.rint(dist ** 2).astype(np.uint32))
    fp = np.ones((footprint, footprint)) if footprint else None
    coords = peak_local_max(dist, labels=mask.astype(np.int32), min_distance=min_distance, footprint=fp)
    peaks = np.zeros(mask.shape, np.uint8)
    if len(coords):
        peaks[tuple(coords.T)] = 1
    w("peaks", peaks)
    markers, n = ndi.label(peaks)
    w("markers", markers.astype(np.uint32))
    w("labels", watershed(-dist, markers, mask=mask).astype(np.uint32))
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("image"); ap.add_argument("out_dir")
    ap.add_argument("--threshold", type=float, required=True)
    ap.add_argument("--dark", action="store_true", help="objects are darker than the threshold")
    ap.add_argument("--open", type=int, default=0, help="erosions then dilations (0: none)")
    ap.add_argument("--min-distance", type=int, default=10)
    ap.add_argument("--footprint", type=int, default=None, help="S for an SxS box (default 2*min_distance+1)")
    a = ap.parse_args()
    n = run(a.image, a.out_dir, a.threshold, a.dark, a.open, a.min_distance, a.footprint)
    print(f"{n} objects")


if __name__ == "__main__":
    main()

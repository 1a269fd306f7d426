#!/usr/bin/env python3
"""Copy / losslessly re-encode the real images + ground truth that the F1 table uses into data/.

Usage: python3 scripts/eval/make_data.py /path/to/shared/data/real
Needs numpy, tifffile (zlib is in the standard library), Pillow. Pixel values are never changed;
every re-encoded file is read back and compared with its source here. See data/README.md.
"""
import hashlib
import shutil
import sys
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

src = Path(sys.argv[1])
repo = Path(__file__).resolve().parents[2]
data = repo / "data"


def deflate(a, dst, predictor=False):
    dst.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(dst, a, compression="zlib", compressionargs={"level": 9},
                     predictor=predictor)
    assert np.array_equal(tifffile.imread(dst), a), dst


def copy(s, dst):
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(s, dst)


made = []
# lecture frame 10 (original bytes) + its human mask (Deflate)
copy(src / "biodisco-ecoli/ecoli/img_0010.tif", data / "ecoli/img_0010.tif")
deflate(tifffile.imread(src / "biodisco-ecoli/ecoli/mask_0010.tif"),
        data / "ecoli/mask_0010_deflate.tif")
made += ["ecoli/img_0010.tif", "ecoli/mask_0010_deflate.tif"]

# ColiCoords ds1: three brightfield fields (Deflate; the predictor makes them larger) + label masks (Deflate)
for k in ["00001", "00002", "00004"]:
    bf = tifffile.imread(src / f"colicoords-ds1/ds1/brightfield/{k}.tif")
    deflate(bf, data / f"colicoords/ds1/{k}_brightfield.tif")
    gt = tifffile.imread(src / f"colicoords-ds1/ds1/binary/{k}_Probabilities_filtered.tif")
    deflate(gt, data / f"colicoords/ds1/{k}_binary.tif")
    made += [f"colicoords/ds1/{k}_brightfield.tif", f"colicoords/ds1/{k}_binary.tif"]

om = src / "omnipose-testfiles/test_files"
# uint16 phase images: Deflate + horizontal predictor
for name in ["e1t1_crop", "ec_5I_t141xy5c1"]:
    deflate(tifffile.imread(om / f"{name}.tif"), data / f"omnipose/{name}.tif", predictor=True)
    made.append(f"omnipose/{name}.tif")
# Sample000193: RGB with three identical channels -> one gray channel (values unchanged)
rgb = np.asarray(Image.open(om / "Sample000193.png"))
assert (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 0] == rgb[..., 2]).all()
Image.fromarray(rgb[..., 0]).save(data / "omnipose/Sample000193_gray.png", optimize=True)
assert np.array_equal(np.asarray(Image.open(data / "omnipose/Sample000193_gray.png")), rgb[..., 0])
made.append("omnipose/Sample000193_gray.png")
# model masks (Omnipose output, not human GT), Deflate; Sample000252's cropped like the image
for name in ["e1t1_crop", "ec_5I_t141xy5c1", "Sample000193", "Sample000033"]:
    deflate(tifffile.imread(om / f"masks/{name}_cp_masks.tif"),
            data / f"omnipose/masks/{name}_cp_masks_deflate.tif")
    made.append(f"omnipose/masks/{name}_cp_masks_deflate.tif")
m252 = tifffile.imread(om / "masks/Sample000252_cp_masks.tif")[60:217, 60:271]
# renumber the labels left in the window 1..n in order of their upstream numbers
present = np.unique(m252[m252 > 0])
lut = np.zeros(int(m252.max()) + 1, m252.dtype)
lut[present] = np.arange(1, len(present) + 1)
m252 = lut[m252]
deflate(m252, data / "omnipose/masks/Sample000252_crop_cp_masks_deflate.tif")
made.append("omnipose/masks/Sample000252_crop_cp_masks_deflate.tif")
# check the existing crop matches the same window of the upstream image
full = np.asarray(Image.open(om / "Sample000252.png"))
assert np.array_equal(full[60:217, 60:271], np.asarray(Image.open(data / "omnipose/Sample000252_crop.png")))

total = 0
for f in made:
    p = data / f
    total += p.stat().st_size
    print(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {f}  ({p.stat().st_size} B)")
print("total", total, "B")

#!/usr/bin/env python3
"""Regenerate the tiny synthetic test images in data/generated/ (our own, no third-party data).

Every image is 13 wide x 7 high (odd, not a power of two) and holds a closed-form pattern, so
tests/library/io.rs can recompute the expected samples without trusting floodseg's own reader:

    u8  gray   f8(x, y)     = (37*x + 11*y + 3) % 256
    u8  chan c f8c(x, y, c) = (37*x + 11*y + 85*c + 3) % 256
    u16 gray   f16(x, y)    = (5003*x + 977*y + 11) % 65536
    u16 chan c f16c(x,y,c)  = (5003*x + 977*y + 21011*c + 11) % 65536
    f32 gray   ff(x, y)     = (x - 2*y) * 0.25 + 0.125

PNGs are written by hand (zlib + CRC) so that the exact colour type and bit depth are known;
TIFFs are written with tifffile (LZW needs imagecodecs). Also re-encodes the lecture's human
mask `ecoli/mask_0000.tif` losslessly with Deflate (see data/README.md).

Usage: python3 data/generated/make_generated.py /work/shared/data/real
"""

import os
import struct
import sys
import zlib

import numpy as np
import tifffile

HERE = os.path.dirname(os.path.abspath(__file__))
W, H = 13, 7
Y, X = np.mgrid[0:H, 0:W].astype(np.int64)


def f8(c=None):
    v = 37 * X + 11 * Y + 3 + (0 if c is None else 85 * c)
    return (v % 256).astype(np.uint8)


def f16(c=None):
    v = 5003 * X + 977 * Y + 11 + (0 if c is None else 21011 * c)
    return (v % 65536).astype(np.uint16)


def ff():
    return ((X - 2 * Y) * 0.25 + 0.125).astype(np.float32)


def chans(f, n):
    return np.stack([f(c) for c in range(n)], axis=-1)


# ---------------------------------------------------------------- PNG, by hand
def png_chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def write_png(name, rows_bytes, width, height, bit_depth, color_type, extra=b""):
    raw = b"".join(b"\x00" + r for r in rows_bytes)  # filter type 0 on every row
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + extra
        + png_chunk(b"IDAT", zlib.compress(raw, 9))
        + png_chunk(b"IEND", b"")
    )
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def rows_be(a):
    """Rows of an (H, W[, C]) array as big-endian bytes (PNG byte order)."""
    a = np.ascontiguousarray(a)
    if a.dtype == np.uint16:
        a = a.astype(">u2")
    return [a[y].tobytes() for y in range(a.shape[0])]


def make_pngs():
    write_png("gray16.png", rows_be(f16()), W, H, 16, 0)
    write_png("rgb16.png", rows_be(chans(f16, 3)), W, H, 16, 2)
    write_png("rgba16.png", rows_be(chans(f16, 4)), W, H, 16, 6)
    write_png("graya8.png", rows_be(chans(f8, 2)), W, H, 8, 4)
    write_png("graya16.png", rows_be(chans(f16, 2)), W, H, 16, 4)
    # Palette: index = (x + y) % 4 -> colours below; 8-bit indices.
    pal = [(0, 0, 0), (255, 0, 0), (0, 128, 255), (250, 251, 252)]
    idx = ((X + Y) % 4).astype(np.uint8)
    plte = png_chunk(b"PLTE", bytes(v for rgb in pal for v in rgb))
    write_png("palette8.png", rows_be(idx), W, H, 8, 3, plte)
    # 1-bit gray: pixel = (x + y) % 2; rows packed MSB first, padded to a byte.
    bits = ((X + Y) % 2).astype(np.uint8)
    rows = [np.packbits(bits[y]).tobytes() for y in range(H)]
    write_png("gray1.png", rows, W, H, 1, 0)
    # Zero height (invalid per the PNG spec; must be refused, not decoded).
    write_png("zero_height.png", [], W, 0, 8, 0)


# ---------------------------------------------------------------- TIFF, tifffile
def tif(name, data, **kw):
    tifffile.imwrite(os.path.join(HERE, name), data, **kw)


def make_tiffs():
    # Supported.
    tif("gray16_deflate.tif", f16(), compression="zlib", predictor=True)
    tif("gray8_lzw.tif", f8(), compression="lzw")
    tif("rgb16.tif", chans(f16, 3), photometric="rgb")
    tif("rgba8_packbits.tif", chans(f8, 4), photometric="rgb", extrasamples=["unassalpha"],
        compression="packbits")
    tif("graya8.tif", chans(f8, 2), photometric="minisblack", extrasamples=["unassalpha"],
        planarconfig="contig")
    tif("gray16_bigendian.tif", f16(), byteorder=">")
    tif("gray32f_bigtiff.tif", ff(), bigtiff=True)
    tif("gray32f_deflate_fppredictor.tif", ff(), compression="zlib", predictor=3)
    tif("gray16_tiled.tif", np.tile(f16(), (3, 3)), tile=(16, 16))  # 39 x 21, partial tiles
    stack = np.stack([f8(), 255 - f8(), np.zeros((H, W), np.uint8)])
    tif("gray8_3pages.tif", stack, photometric="minisblack", metadata=None)
    # Unsupported or bad.
    tif("bilevel.tif", ((X + Y) % 2).astype(bool))
    tif("int16.tif", (f16().astype(np.int32) - 32768).astype(np.int16))
    tif("uint32.tif", f16().astype(np.uint32) * 65537)
    tif("float64.tif", ff().astype(np.float64))
    tif("complex64.tif", ff().astype(np.complex64))
    tif("rgb8_planar.tif", chans(f8, 3).transpose(2, 0, 1), photometric="rgb",
        planarconfig="separate")
    tif("cmyk8.tif", chans(f8, 4), photometric="separated")
    tif("gray8_5samples.tif", chans(f8, 5), photometric="minisblack", planarconfig="contig",
        extrasamples=["unspecified"] * 4)
    tif("rgb8_2extra.tif", chans(f8, 5), photometric="rgb", planarconfig="contig",
        extrasamples=["unspecified", "unspecified"])
    nan = ff()
    nan[3, 5] = np.nan
    tif("gray32f_nan.tif", nan)
    inf = ff()
    inf[6, 12] = -np.inf
    tif("gray32f_inf.tif", inf)


def make_zero_width_tiff():
    """A little-endian TIFF whose single IFD says ImageWidth = 0 (hand-written)."""
    entries = [  # tag, type (3 SHORT, 4 LONG), count, value
        (256, 4, 1, 0),  # ImageWidth = 0
        (257, 4, 1, 7),  # ImageLength
        (258, 3, 1, 8),  # BitsPerSample
        (259, 3, 1, 1),  # Compression none
        (262, 3, 1, 1),  # BlackIsZero
        (273, 4, 1, 8),  # StripOffsets
        (277, 3, 1, 1),  # SamplesPerPixel
        (278, 4, 1, 7),  # RowsPerStrip
        (279, 4, 1, 0),  # StripByteCounts
    ]
    ifd_offset = 8
    out = b"II*\x00" + struct.pack("<I", ifd_offset)
    out += struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        packed = struct.pack("<HHI", tag, typ, count)
        packed += struct.pack("<HH", value, 0) if typ == 3 else struct.pack("<I", value)
        out += packed
    out += struct.pack("<I", 0)
    with open(os.path.join(HERE, "zero_width.tif"), "wb") as f:
        f.write(out)


def make_mask_deflate(real_root):
    src = os.path.join(real_root, "biodisco-ecoli", "ecoli", "mask_0000.tif")
    dst = os.path.join(HERE, "..", "ecoli", "mask_0000_deflate.tif")
    a = tifffile.imread(src)
    assert a.dtype == np.uint16 and a.shape == (480, 640)
    tifffile.imwrite(dst, a, compression="zlib", compressionargs={"level": 9}, metadata=None)
    assert np.array_equal(tifffile.imread(dst), a)


if __name__ == "__main__":
    make_pngs()
    make_tiffs()
    make_zero_width_tiff()
    if len(sys.argv) > 1:
        make_mask_deflate(sys.argv[1])

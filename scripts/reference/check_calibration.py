"""Print what tifffile reads from label TIFFs floodseg wrote with a calibration: shape, dtype,
axes, XResolution/YResolution/ResolutionUnit of the first page, and the ImageJ metadata
(unit, finterval, tunit). Usage: python check_calibration.py FILE.tif ...

With --expect, also check the values the files of `cargo run --example calibrated_labels`
should hold (exit status 1 on a mismatch).
"""
import sys

import tifffile

EXPECT = {
    # name: (x µm, y µm, finterval in tunit, tunit)
    "stack_u16_aniso_0.5min.tif": (0.065, 0.07, 0.5, "min"),
    "stack_u16_0.065um_1.5min.tif": (0.065, 0.065, 1.5, "min"),
    "stack_u32_bigtiff.tif": (0.065, 0.065, 1.5, "min"),
    "labels_u16_0.1um.tif": (0.1, 0.1, None, None),
    "labels_u32_0.1um.tif": (0.1, 0.1, None, None),
}


def main(argv):
    expect = "--expect" in argv
    bad = 0
    for path in [a for a in argv if a != "--expect"]:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            tags = {n: page.tags[n].value if n in page.tags else None
                    for n in ("XResolution", "YResolution", "ResolutionUnit")}
            ij = tif.imagej_metadata or {}
            series = tif.series[0]
            # (tifffile's RESUNIT.NONE is falsy: test for None, not truth.)
            unit = None if tags["ResolutionUnit"] is None else int(tags["ResolutionUnit"])
            print(f"{path.rsplit('/', 1)[-1]}: shape={series.shape} dtype={series.dtype} "
                  f"axes={series.axes} bigtiff={tif.is_bigtiff} "
                  f"XResolution={tags['XResolution']} YResolution={tags['YResolution']} "
                  f"ResolutionUnit={unit} "
                  f"imagej_metadata unit={ij.get('unit')!r} finterval={ij.get('finterval')!r} "
                  f"tunit={ij.get('tunit')!r} frames={ij.get('frames')!r}")
            want = EXPECT.get(path.rsplit("/", 1)[-1])
            if expect and want:
                xr, yr = tags["XResolution"], tags["YResolution"]
                got = (xr[1] / xr[0], yr[1] / yr[0], ij.get("finterval"), ij.get("tunit"))
                ok = (abs(got[0] - want[0]) < 1e-12 and abs(got[1] - want[1]) < 1e-12
                      and got[2:] == want[2:] and ij.get("unit") == "um"
                      and unit == 1)
                if not ok:
                    bad += 1
                    print(f"  MISMATCH: got {got}, unit={ij.get('unit')!r}; want {want}, unit='um'")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

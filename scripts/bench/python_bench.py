#!/usr/bin/env python3
"""The Python package's costs, measured (issue: Python ≤ 5 % over the CLI's in-process time on
a 1024² frame; 2 Dask worker processes ≥ 1.6× one on a 2-core machine, CPU backend, one thread
each).

1. Overhead: `floodseg bench FRAME --backend cpu --threads 1 --preset rods --json` gives the
   CLI's in-process time per frame (the frame decoded once, segmented N times); the same frame
   through `floodseg.Segmenter("cpu").segment(array, preset="rods")` N times in this process.
   Both rounds alternate, each side's best round counts.
2. Dask: a stack of frames in Zarr (one frame per chunk), `floodseg.dask.segment(...).to_zarr()`
   on a LocalCluster of 1 and of 2 worker processes, threads_per_worker=1 and
   RAYON_NUM_THREADS=1 (one core per worker), after a warm-up that makes each worker's
   Segmenter; frames/s of the best of the rounds. Results equal the in-process labels (checked).

Usage: python scripts/bench/python_bench.py [--frames 10] [--stack 24] [--size 1024]
          [--out scripts/bench/PYTHON_BENCH]
Needs the package installed (scripts/test-python.sh makes target/python-venv) and
target/release/floodseg.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
CLI = Path(os.environ.get("FLOODSEG_CLI", ROOT / "target" / "release" / "floodseg"))


def cli(*args) -> str:
    env = dict(os.environ, XDG_RUNTIME_DIR=os.environ.get("XDG_RUNTIME_DIR", "/tmp"))
    return subprocess.run([str(CLI), *map(str, args)], check=True, capture_output=True,
                          text=True, env=env).stdout


def overhead(frame_path: Path, frames: int, rounds: int) -> dict:
    import tifffile

    import floodseg

    image = tifffile.imread(frame_path)
    seg = floodseg.Segmenter("cpu")
    seg.segment(image, preset="rods")  # warm-up
    cli_ms, py_ms, over = [], [], []
    for _ in range(rounds):
        out = json.loads(cli("bench", frame_path, "--frames", frames, "--backend", "cpu",
                             "--threads", "1", "--preset", "rods", "--json"))
        cli_ms.append(out["ms_per_frame"])
        total = core = 0.0
        for _ in range(frames):
            t0 = time.perf_counter()
            seg.segment(image, preset="rods")
            total += time.perf_counter() - t0
            core += seg._inner.last_core_seconds
        py_ms.append(total / frames * 1e3)
        over.append(total / core - 1.0)
    return {
        # the same calls: the whole call against the library's part of it (robust to a noisy
        # machine, where the CLI's separate runs vary by ±15 %)
        "overhead_same_calls": min(over),
        "frame": f"{image.shape[1]}x{image.shape[0]} {image.dtype}",
        "frames_per_round": frames,
        "rounds": rounds,
        "cli_ms_per_frame": min(cli_ms),
        "python_ms_per_frame": min(py_ms),
        "overhead": min(py_ms) / min(cli_ms) - 1.0,
        "cli_rounds_ms": cli_ms,
        "python_rounds_ms": py_ms,
    }


def dask_rate(zarr_path: Path, want: np.ndarray, rounds: int) -> dict:
    import dask.array as da
    import distributed

    import floodseg
    import floodseg.dask

    out = {}
    for workers in (1, 2):
        env = {"RAYON_NUM_THREADS": "1",
               "XDG_RUNTIME_DIR": os.environ.get("XDG_RUNTIME_DIR", "/tmp")}
        with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                      dashboard_address=None, env=env) as cluster, \
                distributed.Client(cluster) as client:
            arr = da.from_zarr(str(zarr_path))
            lazy = floodseg.dask.segment(arr, backend="cpu", preset="rods")
            # warm-up: every worker makes its Segmenter
            floodseg.dask.segment(arr[: 2 * workers], backend="cpu", preset="rods").compute()
            times = []
            for r in range(rounds):
                # labels written to Zarr by the workers (as docs/python.md runs it): nothing
                # but task metadata goes through the client
                dest = zarr_path.parent / f"labels_{workers}_{r}.zarr"
                t0 = time.perf_counter()
                lazy.to_zarr(str(dest))
                times.append(time.perf_counter() - t0)
                got = np.asarray(da.from_zarr(str(dest)))
                assert np.array_equal(got, want), "Dask's labels differ from the in-process ones"
            out[f"{workers}_workers"] = {"seconds": min(times), "frames_per_s": want.shape[0] / min(times),
                                         "rounds_s": times}
    out["speedup_2_over_1"] = out["2_workers"]["frames_per_s"] / out["1_workers"]["frames_per_s"]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=10, help="frames per overhead round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--stack", type=int, default=24, help="frames of the Dask stack")
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--out", type=Path, default=ROOT / "scripts" / "bench" / "PYTHON_BENCH")
    a = ap.parse_args()
    import tifffile
    import zarr

    import floodseg

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        frame = tmp / "rods.tif"
        cli("synth", "rods", "--size", f"{a.size}x{a.size}", "--seed", "5", "-o", frame)
        res = {"machine": f"{platform.node()} {os.cpu_count()} cores {platform.processor() or platform.machine()}",
               "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
               "floodseg": floodseg.__version__}
        res["overhead"] = overhead(frame, a.frames, a.rounds)
        image = tifffile.imread(frame)
        stack = np.stack([np.roll(image, 13 * i, axis=1) for i in range(a.stack)])
        z = zarr.open_array(str(tmp / "stack.zarr"), mode="w", shape=stack.shape,
                            chunks=(1,) + stack.shape[1:], dtype=stack.dtype)
        z[:] = stack
        want = floodseg.Segmenter("cpu").segment(stack, preset="rods")
        res["dask"] = dask_rate(tmp / "stack.zarr", want, a.rounds)
        res["dask"]["stack"] = f"{a.stack} frames {a.size}x{a.size} (Zarr, one frame per chunk)"
    a.out.with_suffix(".json").write_text(json.dumps(res, indent=1) + "\n")
    o, d = res["overhead"], res["dask"]
    md = f"""# Python package benchmark

`python {res['command']}` on {res['machine']} ({time.strftime('%Y-%m-%d')}).

| measure | value |
|---|---|
| CLI in-process, {o['frame']}, `--preset rods`, CPU, 1 frame at a time | {o['cli_ms_per_frame']:.1f} ms/frame |
| `floodseg.Segmenter("cpu").segment(array, preset="rods")` | {o['python_ms_per_frame']:.1f} ms/frame |
| Python's overhead against the CLI's runs (separate processes, noisy) | {100 * o['overhead']:+.1f} % |
| Python's overhead in the same calls (call time / the library's time inside it − 1) | {100 * o['overhead_same_calls']:+.2f} % |
| Dask, 1 worker process (1 thread, RAYON_NUM_THREADS=1), {d['stack']} | {d['1_workers']['frames_per_s']:.2f} frames/s |
| Dask, 2 worker processes | {d['2_workers']['frames_per_s']:.2f} frames/s |
| 2 workers over 1 | {d['speedup_2_over_1']:.2f}× |

Best of {o['rounds']} rounds each; every round's numbers are in `PYTHON_BENCH.json`.
"""
    a.out.with_suffix(".md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())

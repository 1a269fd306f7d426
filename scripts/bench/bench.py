#!/usr/bin/env python3
"""Run every tool on the same synthetic frames, each in its own process, and write BENCHMARKS.md.

Called by scripts/bench/run_benchmarks.sh (which builds floodseg and makes the data):

    python3 bench.py --floodseg target/release/floodseg --data DIR --out BENCHMARKS.md

Every measurement is one child process; its wall time and peak resident memory come from
os.wait4 (the kernel's ru_maxrss of that child alone). Raw results go to DIR/results.json.
"""
import argparse
import csv
import datetime
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))

# The lecture-style parameters, the same for every tool: dark cells (value < 128), one
# erosion + one dilation with the 4-neighbour cross, peaks at least 5 px apart with an 11×11
# footprint (peak_local_max's default 2·min_distance+1).
PARAMS = ["--threshold", "128", "--dark", "--open", "1", "--min-distance", "5"]
REPEATS = {1024: 5, 2048: 3, 4096: 3}


def run(cmd, env=None):
    """Run `cmd` in its own process: (stdout, stderr, wall seconds, peak RSS MiB, CPU seconds).

    CPU seconds are user + system time of the process and the children it waited for (all
    threads), from the same os.wait4."""
    with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe, text=True, env=env)
        _, status, ru = os.wait4(p.pid, 0)  # this child's own rusage
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        out, err = fo.read(), fe.read()
    if p.returncode != 0:
        sys.exit(f"bench.py: {shlex.join(cmd)} failed with {p.returncode}:\n{err}")
    return out, err, wall, ru.ru_maxrss / 1024.0, ru.ru_utime + ru.ru_stime


def log(msg):
    print(f"[{datetime.datetime.now(datetime.timezone.utc):%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def py_tool(py, tool, path, extra=()):
    cmd = [py, os.path.join(HERE, "tools.py"), tool, path, *PARAMS, *extra]
    out, _, wall, rss, cpu = run(cmd)
    r = json.loads(out.strip().splitlines()[-1])
    r["peak_rss_mib"] = rss
    r["cpu_s"] = cpu
    r["process_wall_s"] = wall
    return r


def fs_bench(binary, path, backend, threads, frames=None, env=None):
    cmd = [binary, "bench", path, "--backend", backend, "--threads", str(threads), "--json", *PARAMS]
    if frames:
        cmd += ["--frames", str(frames)]
    out, _, wall, rss, cpu = run(cmd, env)
    r = json.loads(out.strip().splitlines()[-1])
    r["peak_rss_mib"] = rss
    r["cpu_s"] = cpu
    r["process_wall_s"] = wall
    return r


def fs_segment(binary, path, out_path, backend, extra=(), env=None):
    cmd = [binary, "segment", path, "-o", out_path, "--backend", backend, "--quiet", *PARAMS, *extra]
    out, _, wall, rss, cpu = run(cmd, env)
    m = re.search(r"(\d+) objects", out)
    return {"objects": int(m.group(1)) if m else None, "wall_s": wall, "peak_rss_mib": rss, "cpu_s": cpu}


def summarize(kind, runs):
    """One tool's runs of one frame: ms per frame (median, min), stage medians, RSS, objects.

    Stage clocks are medians over the rounds, as the frame times are: a cold frame's stage can
    stall for tens of ms on fresh memory in a VM (seen on the watershed: 17-65 ms over 31 rounds
    of the same frame), and a mean would report those stalls as the stage's time."""
    if kind in ("skimage", "opencv"):
        ms = [r["compute_ms_median"] for r in runs]
        cpu = [r["compute_cpu_ms_median"] for r in runs]
        stages = [r["stages_ms"] for r in runs]
        objects = runs[0]["objects_total"]
    elif kind == "fs_segment_cpu":
        ms = [r["wall_s"] * 1e3 for r in runs]
        cpu = [r["cpu_s"] * 1e3 for r in runs]
        stages = []
        objects = runs[0]["objects"]
    else:
        ms = [r["ms_per_frame"] for r in runs]
        cpu = [r["cpu_s"] * 1e3 / r["frames"] for r in runs]
        stages = [r["stages_ms"] for r in runs]
        objects = runs[0]["objects"] // runs[0]["frames"]
    out = {
        "ms": statistics.median(ms),
        "ms_min": min(ms),
        "all_ms": ms,
        "cpu_ms": statistics.median(cpu),
        "runs": len(ms),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
        "objects": objects,
        "stages_ms": {k: statistics.median(s[k] for s in stages) for k in (stages[0] if stages else {})},
    }
    if kind == "opencv":
        only = [r["opencv_only_ms"] for r in runs]
        out["opencv_only_ms"] = statistics.median(only)
        out["opencv_only_ms_min"] = min(only)
        out["opencv_threads"] = runs[0].get("opencv_threads")
    if kind == "skimage" and "verified_against_reference_run" in runs[0]:
        out["verified_against_reference_run"] = runs[0]["verified_against_reference_run"]
    return out


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=60).stdout.strip()
    except Exception:
        return ""


def machine(py):
    cpu = sh("lscpu | sed -n 's/^Model name: *//p' | head -1") or platform.processor()
    cores = os.cpu_count()
    mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
    osname = sh(". /etc/os-release && echo \"$PRETTY_NAME\"") or platform.platform()
    versions = sh(
        f"{shlex.quote(py)} -c \"import sys, numpy, scipy, skimage, tifffile, cv2; "
        "print(sys.version.split()[0], numpy.__version__, scipy.__version__, skimage.__version__, "
        "tifffile.__version__, cv2.__version__)\""
    ).split()
    keys = ["python", "numpy", "scipy", "scikit-image", "tifffile", "opencv"]
    return {
        "date": f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        "cpu": cpu,
        "cores": cores,
        "hypervisor": sh("lscpu | sed -n 's/^Hypervisor vendor: *//p'"),
        "ram": mem,
        "os": f"{osname}, Linux {platform.release()}",
        "rustc": sh("rustc -V"),
        "floodseg_commit": sh(f"git -C {shlex.quote(ROOT)} rev-parse --short HEAD")
        + (" (uncommitted changes)" if sh(f"git -C {shlex.quote(ROOT)} status --porcelain -- src shaders Cargo.toml") else ""),
        **dict(zip(keys, versions)),
    }


def fmt(x, d=1):
    if x is None:
        return "–"
    if isinstance(x, str):
        return x
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.{d}f}"


def mp_s(side, ms):
    return side * side / (ms / 1e3) / 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--floodseg", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", default=os.path.join(ROOT, "BENCHMARKS.md"))
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--sizes", default="1024,2048,4096")
    ap.add_argument("--stack-frames", type=int, default=100)
    ap.add_argument("--no-gpu", action="store_true", help="skip floodseg's GPU backend")
    ap.add_argument("--command", default="bash scripts/bench/run_benchmarks.sh")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite --out from DATA/results.json of an earlier run, measuring nothing")
    a = ap.parse_args()
    py, fs = a.python, os.path.abspath(a.floodseg)
    sizes = [int(s) for s in a.sizes.split(",")]
    if a.report_only:
        with open(os.path.join(a.data, "results.json")) as fh:
            R = json.load(fh)
        R["frames"] = {int(k): v for k, v in R["frames"].items()}
        sizes = sorted(R["frames"])
        with open(a.out, "w") as fh:
            fh.write(report(R, a, sizes))
        return
    env = dict(os.environ, XDG_RUNTIME_DIR=os.environ.get("XDG_RUNTIME_DIR", "/tmp"))
    tmp = os.path.join(a.data, "out")
    os.makedirs(tmp, exist_ok=True)
    R = {"machine": machine(py), "params": " ".join(PARAMS), "frames": {}, "stack": {}}

    # ---- single frames -------------------------------------------------------------------
    # Rounds interleave the tools (one run of each per round), so a burst of load from other
    # processes on the machine hits every tool alike; the tables give the median and the
    # minimum over the rounds.
    for side in sizes:
        path = os.path.join(a.data, f"cells_{side}.tif")
        rounds = REPEATS.get(side, 3)
        f = R["frames"][side] = {"rounds": rounds, "load": []}
        runs = {k: [] for k in ("skimage", "opencv", "fs_cpu_1", "fs_cpu_2", "fs_segment_cpu")}
        for r in range(rounds):
            log(f"{side}²: round {r + 1} of {rounds} (load average {os.getloadavg()[0]:.1f})")
            f["load"].append(os.getloadavg()[0])
            verify = ["--verify"] if (r == 0 and side == sizes[0]) else []
            runs["skimage"].append(py_tool(py, "skimage", path, verify))
            runs["opencv"].append(py_tool(py, "opencv", path))
            runs["fs_cpu_1"].append(fs_bench(fs, path, "cpu", 1, 1, env))
            runs["fs_cpu_2"].append(fs_bench(fs, path, "cpu", 2, 2, env))
            runs["fs_segment_cpu"].append(fs_segment(fs, path, os.path.join(tmp, f"labels_{side}.tif"), "cpu", env=env))
        f["load"].append(os.getloadavg()[0])
        f["raw"] = runs
        sk_ms = [r["compute_ms_median"] for r in runs["skimage"]]
        f["opencv"] = summarize("opencv", runs["opencv"])
        for k, rs in runs.items():
            f[k] = f[k] if k == "opencv" else summarize(k, rs)
            # scikit-image's time over this tool's, round by round (same load), then the median
            f[k]["x_skimage"] = statistics.median(a / b for a, b in zip(sk_ms, f[k]["all_ms"]))
            f[k]["x_opencv"] = statistics.median(a / b for a, b in zip(f["opencv"]["all_ms"], f[k]["all_ms"]))
        oc = [r["opencv_only_ms"] for r in runs["opencv"]]
        f["opencv"]["only_x_skimage"] = statistics.median(a / b for a, b in zip(sk_ms, oc))
        if side == 1024 and not a.no_gpu:
            log("1024²: floodseg GPU backend (software adapter: slow)")
            try:
                g = fs_bench(fs, path, "gpu", 1, 1, env)
                f["fs_gpu"] = summarize("fs_cpu_1", [g])
                f["fs_gpu"]["adapter"] = g["adapter"]
                g = fs_segment(fs, path, os.path.join(tmp, "labels_gpu_1024.tif"), "gpu", env=env)
                f["fs_segment_gpu"] = summarize("fs_segment_cpu", [g])
                a_cpu = open(os.path.join(tmp, f"labels_{side}.tif"), "rb").read()
                a_gpu = open(os.path.join(tmp, "labels_gpu_1024.tif"), "rb").read()
                f["gpu_labels_identical"] = a_cpu == a_gpu
            except SystemExit as e:
                f["fs_gpu_error"] = str(e)

    # ---- the stack -----------------------------------------------------------------------
    stack = os.path.join(a.data, "stack_1024x100.tif")
    n = a.stack_frames
    s = R["stack"]
    s["frames"] = n
    s["load"] = [os.getloadavg()[0]]
    mf = ["--max-frames", str(n)]
    log(f"stack of {n}: scikit-image, 1 process")
    s["skimage"] = py_tool(py, "skimage", stack, mf)
    log(f"stack of {n}: scikit-image, 2 worker processes")
    s["skimage_2"] = py_tool(py, "skimage", stack, mf + ["--workers", "2"])
    log(f"stack of {n}: OpenCV")
    s["opencv"] = py_tool(py, "opencv", stack, mf)
    log(f"stack of {n}: floodseg bench cpu, 1 and 2 workers")
    s["fs_cpu_1"] = fs_bench(fs, stack, "cpu", 1, n, env)
    s["fs_cpu_2"] = fs_bench(fs, stack, "cpu", 2, n, env)
    if n == 100:
        log("stack: floodseg segment cpu → multi-page label TIFF")
        counts = os.path.join(tmp, "stack_counts.csv")
        s["fs_segment_cpu"] = fs_segment(fs, stack, os.path.join(tmp, "stack_labels.tif"), "cpu", ["--counts", counts], env)
        with open(counts) as fh:
            s["fs_segment_cpu"]["objects_per_frame"] = [int(r["objects"]) for r in csv.DictReader(fh)]

    s["load"].append(os.getloadavg()[0])

    with open(os.path.join(a.data, "results.json"), "w") as fh:
        json.dump(R, fh, indent=1, default=str)
    with open(a.out, "w") as fh:
        fh.write(report(R, a, sizes))
    log(f"wrote {a.out}")


def report(R, a, sizes):
    m = R["machine"]
    L = []
    w = L.append
    w("# Benchmarks\n")
    w("Reproduce this file (builds floodseg in release mode, makes the data, runs every tool; "
      "about 10 minutes on the machine below, plus the build):\n")
    w("```sh\n" + a.command + "\n```\n")
    w(f"Measured {m['date']} by `scripts/bench/run_benchmarks.sh` (floodseg {m['floodseg_commit']}).\n")
    w("**Machine.** " + f"{m['cpu']}, {m['cores']} cores"
      + (f" ({m['hypervisor']} virtual machine)" if m.get("hypervisor") else "")
      + f", {m['ram']} RAM, {m['os']}; no GPU (floodseg's GPU backend ran on Mesa's lavapipe, "
      "a software Vulkan rasterizer on the same CPU). "
      f"{m['rustc']}; Python {m.get('python')}, numpy {m.get('numpy')}, scipy {m.get('scipy')}, "
      f"scikit-image {m.get('scikit-image')}, tifffile {m.get('tifffile')}, "
      f"OpenCV {m.get('opencv')} (opencv-python-headless).\n")
    w("The same tools and data on a machine with a real GPU (floodseg's GPU backend on the "
      "hardware, not lavapipe): [BENCHMARKS-GPU.md](BENCHMARKS-GPU.md), written by "
      "`scripts/bench/run_gpu_benchmarks.sh`.\n")

    first = R["frames"][sizes[0]]
    w("**Data.** `scripts/bench/make_data.py`: deterministic 8-bit frames of dark touching cells "
      "(disks of radius 6–15 px at 60 ± 12, one per 600 px², overlapping freely) on a bright noisy "
      "background (200 ± 12) with 0.05 % single dark pepper pixels; single frames of 1024², 2048² "
      f"and 4096², and a {R['stack']['frames']}-frame 1024² multi-page TIFF stack (different cells "
      "in every frame).\n")
    w(f"**Parameters, the same for every tool:** `{R['params']}` — objects are pixels below 128, "
      "one erosion and one dilation with the 4-neighbour cross, peaks of the Euclidean distance at "
      "least 5 px apart (11×11 footprint, peak_local_max's default), 4-connected markers, "
      "watershed of −distance inside the opened mask.\n")
    w("**The tools.**\n")
    w("- *scikit-image*: the lecture pipeline of `scripts/reference/lecture_pipeline.py` "
      "(scipy.ndimage binary_erosion/dilation, distance_transform_edt and label; "
      "skimage.feature.peak_local_max; skimage.segmentation.watershed), one thread. Timed from "
      "the loaded array (the reference's float64 conversion excluded) to the labels; its labels "
      "were checked identical to those of the reference's own `run()` on the first frame"
      + (f" ({'identical' if first['skimage'].get('verified_against_reference_run') else 'NOT identical'})." if 'skimage' in first else ".") + "\n")
    ocv_thr = first["opencv"].get("opencv_threads")
    w("- *OpenCV + peak_local_max*: cv2.threshold, cv2.morphologyEx(MORPH_OPEN, 3×3 cross, "
      "k iterations, border as background), cv2.distanceTransform(DIST_L2, DIST_MASK_PRECISE), "
      "**skimage.feature.peak_local_max** (OpenCV has no peak finder), cv2.connectedComponents "
      "(4-connected), cv2.watershed (on the inverted distance scaled to 8 bits, the opened "
      "background as one extra marker). *OpenCV only* is the same run without the "
      f"peak_local_max stage. OpenCV used {ocv_thr} threads (cv2.getNumThreads()).\n")
    w("- *floodseg CPU*: the release binary's CPU backend (`--backend cpu`). `floodseg bench IMAGE "
      "--frames N --threads T --json` segments the image N times in one process "
      "(decoded once; no outputs written); `--threads 1` segments one frame at a time "
      "(latency, one core), `--threads 2` two frames at once on the two cores (throughput). "
      "*segment* is the whole CLI run, process start to label TIFF written.\n")
    w("- *floodseg GPU (lavapipe, software)*: `--backend gpu` on the 1024² frame only. There is "
      "no GPU in this machine: lavapipe runs the compute shaders on the CPU, so this row says "
      "nothing about floodseg on a real GPU.\n")
    loads = [x for f in R["frames"].values() for x in f["load"]] + R["stack"].get("load", [])
    w(f"**Load.** The machine was not idle: other jobs ran beside these measurements (1-minute "
      f"load average {min(loads):.1f}–{max(loads):.1f} on {m['cores']} cores, sampled between "
      "rounds), so absolute times are noisy and two frames at once may not run twice as fast "
      "as one. To share the noise fairly, single frames are measured in rounds that run every "
      "tool once, and the tables give the median and the fastest round.\n")
    w("Times are wall-clock milliseconds per frame of the pipeline alone (Python: from the "
      "loaded array to the labels; floodseg `bench`: total / frames, the frame decoded once). "
      "*× skimage* is scikit-image's time divided by the tool's in the same round, median over "
      "the rounds (above 1: faster than scikit-image). Peak RSS is the kernel's maximum "
      "resident set of that tool's own process (`os.wait4`), interpreter and imports included.\n")

    # ---- headline ------------------------------------------------------------------------
    w("## Headline\n")
    if 1024 in R["frames"]:
        f = R["frames"][1024]
        sk = f["skimage"]["ms"]
        best = max(("fs_cpu_1", "fs_cpu_2"), key=lambda k: f[k]["x_skimage"])
        ocv = f["opencv"]["ms"]
        w(f"On the 1024² frame (medians) scikit-image takes {fmt(sk)} ms, OpenCV + peak_local_max "
          f"{fmt(ocv)} ms, floodseg's CPU backend {fmt(f['fs_cpu_1']['ms'])} ms one "
          f"frame at a time and {fmt(f['fs_cpu_2']['ms'])} ms per frame with two frames "
          f"at once. floodseg's faster mode is **{f[best]['x_skimage']:.2f}× scikit-image** and "
          f"**{f[best]['x_opencv']:.2f}× OpenCV + peak_local_max** (median of the per-round ratios)"
          + (f"; the GPU backend on lavapipe takes {fmt(f['fs_gpu']['ms'])} ms" if "fs_gpu" in f else "")
          + f". In CPU time per frame, which the other jobs on the machine distort less: "
          f"scikit-image {fmt(f['skimage']['cpu_ms'])} ms, OpenCV + peak_local_max "
          f"{fmt(f['opencv']['cpu_ms'])} ms (both threads), floodseg CPU "
          f"{fmt(f['fs_cpu_1']['cpu_ms'])} ms ({f['skimage']['cpu_ms'] / f['fs_cpu_1']['cpu_ms']:.2f}× "
          "scikit-image).\n")
    st = R["stack"]
    if st:
        sk = st["skimage"]["stack_wall_s"]
        fs_w = min((1, 2), key=lambda k: st[f"fs_cpu_{k}"]["total_s"])
        fs2 = st[f"fs_cpu_{fs_w}"]["total_s"]
        w(f"On the {st['frames']}-frame 1024² stack: scikit-image "
          f"{sk:.1f} s in one process ({st['skimage_2']['stack_wall_s']:.1f} s in two), "
          f"OpenCV + peak_local_max {st['opencv']['stack_wall_s']:.1f} s, floodseg CPU "
          f"{fs2:.1f} s (its faster run, {fs_w} worker{'s' if fs_w > 1 else ''}; "
          f"**{sk / fs2:.2f}×** scikit-image in one process, "
          f"**{st['skimage_2']['stack_wall_s'] / fs2:.2f}×** in two; "
          f"**{st['opencv']['stack_wall_s'] / fs2:.2f}×** OpenCV + peak_local_max).\n")
    five, cv = _aims(R)
    w("The issue's aim on a 2-core CPU machine, at 1024²: floodseg's fastest backend at least "
      "5× scikit-image — " + ("**met**" if five else "**not met**")
      + "; at least as fast as OpenCV plus scikit-image's peak spacing — "
      + ("**met**" if cv else "**not met**")
      + " (see the stage table for where the time goes).\n")
    f1 = R["frames"].get(1024)
    if f1 and "fs_cpu_1" in f1:
        one = f1["fs_cpu_1"]
        x_sk = one["x_skimage"]
        ws = one["stages_ms"].get("watershed", float("nan"))
        x_cv = statistics.median(a / b for a, b in zip(f1["opencv"]["all_ms"], one["all_ms"]))
        w("Issue 18's aim for the CPU backend, one frame at a time on one core, at 1024²: at least "
          f"5× scikit-image — {x_sk:.2f}×, " + ("**met**" if x_sk >= 5 else "**not met**")
          + f"; at least 1.5× OpenCV + peak_local_max — {x_cv:.2f}×, "
          + ("**met**" if x_cv >= 1.5 else "**not met**")
          + " (medians of the per-round ratios). The watershed stage, at most 25 ms: "
          f"{ws:.1f} ms, " + ("**met**" if ws <= 25 else "**not met**")
          + " (median over the rounds; stage clocks below are medians too).\n")

    # ---- single frames -------------------------------------------------------------------
    w("## Single frames\n")
    w("*CPU ms* is CPU time (user + system, all threads) per frame, median over the rounds: for "
      "Python the pipeline's own (`time.process_time`), for floodseg the whole process's "
      "(`os.wait4`; process start and decoding included, a few ms). It measures the work done "
      "and is less inflated by the other jobs than wall time.\n")
    w("| image | tool | ms/frame (median) | ms/frame (min) | CPU ms | MP/s (median) | × skimage | peak RSS MiB | objects |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for side in sizes:
        f = R["frames"][side]
        sk = f["skimage"]["ms"]
        rows = [
            ("scikit-image", f["skimage"]),
            ("OpenCV + peak_local_max", f["opencv"]),
            ("OpenCV only (no peaks stage)", {"ms": f["opencv"]["opencv_only_ms"], "ms_min": f["opencv"]["opencv_only_ms_min"],
                                              "x_skimage": f["opencv"]["only_x_skimage"]}),
            ("floodseg CPU, 1 frame at a time", f["fs_cpu_1"]),
            ("floodseg CPU, 2 frames at once", f["fs_cpu_2"]),
            ("floodseg CPU `segment` (whole CLI run)", f["fs_segment_cpu"]),
        ]
        if "fs_gpu" in f:
            rows.append(("floodseg GPU on lavapipe (software!)", f["fs_gpu"]))
        if "fs_segment_gpu" in f:
            rows.append(("floodseg GPU on lavapipe, `segment`", f["fs_segment_gpu"]))
        for name, x in rows:
            ms = x["ms"]
            w(f"| {side}² | {name} | {fmt(ms)} | {fmt(x['ms_min'])} | {fmt(x.get('cpu_ms'))} | {fmt(mp_s(side, ms), 2)} | {x.get('x_skimage', sk / ms):.2f} | "
              f"{fmt(x.get('peak_rss_mib'))} | {fmt(x.get('objects'))} |")
    w("")
    if 1024 in R["frames"] and "gpu_labels_identical" in R["frames"][1024]:
        w(f"The GPU backend's label TIFF of the 1024² frame is "
          f"{'byte-identical to' if R['frames'][1024]['gpu_labels_identical'] else '**different from**'} the CPU backend's.\n")
    if "fs_gpu_error" in R["frames"].get(1024, {}):
        w(f"The GPU backend could not run: {R['frames'][1024]['fs_gpu_error']}\n")

    # ---- scaling -------------------------------------------------------------------------
    if len(sizes) > 1:
        lo, hi = sizes[0], sizes[-1]
        px = (hi / lo) ** 2
        w(f"## How cost grows from {lo}² to {hi}²\n")
        w(f"{hi}² has {px:.0f}× the pixels of {lo}²; a linear-time tool takes {px:.0f}× as long.\n")
        w("Wall-clock medians and CPU time per frame. On this shared machine the growth varies "
          "from run to run of this script (the other jobs compete for the same cores, caches "
          "and memory bandwidth, and a 4096² float64 image is 128 MiB): treat it as rough, and "
          "compare the tools within one run.\n")
        w(f"| tool | {lo}² ms | {hi}² ms | growth | {lo}² CPU ms | {hi}² CPU ms | CPU growth | CPU ns/pixel at {lo}² | at {hi}² |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name, k in [
            ("scikit-image", "skimage"),
            ("OpenCV + peak_local_max", "opencv"),
            ("floodseg CPU, 1 frame at a time", "fs_cpu_1"),
        ]:
            x, y = R["frames"][lo][k], R["frames"][hi][k]
            w(f"| {name} | {fmt(x['ms'])} | {fmt(y['ms'])} | {y['ms'] / x['ms']:.1f}× | "
              f"{fmt(x['cpu_ms'])} | {fmt(y['cpu_ms'])} | {y['cpu_ms'] / x['cpu_ms']:.1f}× | "
              f"{x['cpu_ms'] * 1e6 / lo**2:.0f} | {y['cpu_ms'] * 1e6 / hi**2:.0f} |")
        w("")

    # ---- stack ---------------------------------------------------------------------------
    if st:
        n = st["frames"]
        w(f"## {n}-frame 1024² stack\n")
        w("Read page by page from one multi-page TIFF; times include decoding the pages. "
          "scikit-image with 2 workers is a `multiprocessing.Pool(2)` of the same pipeline (peak "
          "RSS: the parent, then the largest worker).\n")
        sk = st["skimage"]["stack_wall_s"]
        w("*CPU ms/frame* is the process's user + system time (every thread and worker process) "
          "per frame: the work done, which other jobs on the machine inflate less than wall time "
          "(Python's interpreter start and imports, about half a CPU second, are in it).\n")
        w("| tool | total s | ms/frame | CPU ms/frame | frames/s | MP/s | × skimage (1 process) | peak RSS MiB | objects (all frames) |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        rows = [
            ("scikit-image, 1 process", st["skimage"], sk, st["skimage"]["peak_rss_mib"], st["skimage"]["objects_total"]),
            ("scikit-image, 2 worker processes", st["skimage_2"], st["skimage_2"]["stack_wall_s"],
             f"{fmt(st['skimage_2']['peak_rss_mib'])} + {fmt(st['skimage_2']['peak_rss_children_mib'])}", st["skimage_2"]["objects_total"]),
            ("OpenCV + peak_local_max", st["opencv"], st["opencv"]["stack_wall_s"], st["opencv"]["peak_rss_mib"], st["opencv"]["objects_total"]),
            ("floodseg CPU `bench`, 1 worker", st["fs_cpu_1"], st["fs_cpu_1"]["total_s"], st["fs_cpu_1"]["peak_rss_mib"], st["fs_cpu_1"]["objects"]),
            ("floodseg CPU `bench`, 2 workers", st["fs_cpu_2"], st["fs_cpu_2"]["total_s"], st["fs_cpu_2"]["peak_rss_mib"], st["fs_cpu_2"]["objects"]),
        ]
        if "fs_segment_cpu" in st:
            rows.append(("floodseg CPU `segment` → label stack (whole CLI run)", st["fs_segment_cpu"], st["fs_segment_cpu"]["wall_s"],
                         st["fs_segment_cpu"]["peak_rss_mib"], st["fs_segment_cpu"]["objects"]))
        for name, x, tot, rss, obj in rows:
            ms = tot * 1e3 / n
            cpu = x.get("cpu_s")
            w(f"| {name} | {tot:.1f} | {fmt(ms)} | {fmt(cpu * 1e3 / n if cpu else None)} | {n / tot:.2f} | "
              f"{fmt(mp_s(1024, ms), 2)} | {sk / tot:.2f} | {fmt(rss)} | {fmt(obj)} |")
        w("")
        pf_sk = st["skimage"]["objects_per_frame"]
        pf_cv = st["opencv"]["objects_per_frame"]
        same_cv = sum(x == y for x, y in zip(pf_sk, pf_cv))
        line = f"Per frame, OpenCV's object count equals scikit-image's in {same_cv} of {n} frames"
        if "fs_segment_cpu" in st:
            pf_fs = st["fs_segment_cpu"]["objects_per_frame"]
            line += f", floodseg's (`--counts`) in {sum(x == y for x, y in zip(pf_sk, pf_fs))} of {n}"
        w(line + ".\n")

    # ---- stages --------------------------------------------------------------------------
    if 1024 in R["frames"]:
        f = R["frames"][1024]
        w("## Where the time goes (1024², ms per frame)\n")
        w("Each tool's own stage clocks (floodseg: `bench --json`'s `stages_ms`, one frame at a "
          "time), medians over the rounds. floodseg's `gray` widens the samples to keys and `measure` takes the per-object "
          "sums; the Python pipelines have no such stages (their float64 conversion is not "
          "timed).\n")
        names = ["gray", "threshold", "opening", "distance", "peaks", "components", "watershed", "measure"]
        cols = [("scikit-image", f["skimage"]["stages_ms"]), ("OpenCV + peak_local_max", f["opencv"]["stages_ms"]),
                ("floodseg CPU", f["fs_cpu_1"]["stages_ms"])]
        if "fs_gpu" in f:
            cols.append(("floodseg GPU on lavapipe", f["fs_gpu"]["stages_ms"]))
        w("| stage | " + " | ".join(c for c, _ in cols) + " |")
        w("|---|" + "---:|" * len(cols))
        extra = [k for _, d in cols for k in d if k not in names]
        for k in names + sorted(set(extra)):
            w(f"| {k} | " + " | ".join(fmt(d.get(k)) for _, d in cols) + " |")
        w("")
    w("## Criterion benches\n")
    w("`cargo bench --bench pipeline` measures every stage and the whole pipeline in-process "
      "with criterion (`benches/pipeline.rs`, throughput in pixels): ids `cpu/<stage>/<side>` "
      "at 256² and 1024², and `gpu/<stage>/<side>` at 1024² when a GPU adapter exists "
      "(`FLOODSEG_BENCH_GPU_SIDES=2048,4096` picks other sides). The GPU stage benches keep "
      "their inputs on the device and wait for each submission with a one-`u32` readback; "
      "`gpu/pipeline` is `Segmenter::segment` with its upload and readback. `cargo test "
      "--benches` runs each once (GPU at 128²) so they cannot rot.\n")
    return "\n".join(L) + "\n"


def _aims(R):
    """(≥ 5× scikit-image, at least as fast as OpenCV + peak_local_max) at 1024²."""
    f = R["frames"].get(1024)
    if not f:
        return False, False
    best = min(f["fs_cpu_1"]["ms"], f["fs_cpu_2"]["ms"])
    return f["skimage"]["ms"] >= 5 * best, f["opencv"]["ms"] >= best


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""floodseg on a real GPU beside scikit-image and OpenCV on the same machine: writes BENCHMARKS-GPU.md.

Called by scripts/bench/run_gpu_benchmarks.sh (which builds floodseg and makes the data with
scripts/bench/make_data.py), on a machine with a GPU and a Vulkan driver:

    python3 gpu_bench.py --floodseg target/release/floodseg --data DIR --out BENCHMARKS-GPU.md

The same tools, data and parameters as BENCHMARKS.md (bench.py; every measurement one child
process, wall time and peak RSS from os.wait4), plus floodseg's GPU backend on every size and on
the stack, and a byte comparison of the label TIFFs the two backends write. It refuses to run on
a software adapter (lavapipe/llvmpipe): that is what BENCHMARKS.md already reports.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

import bench  # scripts/bench/bench.py: run, py_tool, fs_bench, fs_segment, summarize, machine
from bench import PARAMS, fmt, log, mp_s

ROUNDS = 3
GPU_FRAMES = {1024: 40, 2048: 20, 4096: 8}  # frames per GPU bench run (amortises the first)
SMALL_FRAMES = {256: 400, 512: 200, 1024: 60}


def fs_synth(binary, side, frames, backend, workers, env, extra=()):
    """`floodseg bench` on its own synthetic rod colonies (a new frame each time)."""
    cmd = [binary, "bench", "--size", f"{side}x{side}", "--frames", str(frames), "--backend",
           backend, "--threads", str(workers), "--json", "--preset", "rods", "--threshold", "128",
           *extra]
    out, _, wall, rss, cpu = bench.run(cmd, env)
    r = json.loads(out.strip().splitlines()[-1])
    r["peak_rss_mib"] = rss
    r["process_wall_s"] = wall
    return r


# Small-frame runs: (key, backend, workers, extra flags, column title)
SMALL_RUNS = [
    ("cpu_n", "cpu", None, (), "CPU, {cores} workers"),
    ("gpu_1", "gpu", 1, (), "GPU, 1 worker"),
    ("gpu_2", "gpu", 2, (), "GPU, 2 workers"),
    ("gpu_4", "gpu", 4, (), "GPU, 4 workers"),
    ("gpu_8_nobatch", "gpu", 8, ("--no-batch",), "GPU, 8 workers, unbatched"),
    ("gpu_8", "gpu", 8, (), "GPU, 8 workers"),
]


def gpu_name():
    out = bench.sh("nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader")
    return out.splitlines()[0] if out else ""


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--floodseg", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", default=os.path.join(bench.ROOT, "BENCHMARKS-GPU.md"))
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--sizes", default="1024,2048,4096")
    ap.add_argument("--stack-frames", type=int, default=100)
    ap.add_argument("--commit", default=None, help="floodseg's commit (where the tree has no .git)")
    ap.add_argument("--rustc", default=None, help="the compiler that built --floodseg")
    ap.add_argument("--command", default="bash scripts/bench/run_gpu_benchmarks.sh")
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument("--tests-log", default=None,
                    help="the test suite's output on this machine (its result lines go in the report)")
    ap.add_argument("--trial", action="store_true",
                    help="a quick check of this script: 1 round, few frames, software adapters allowed")
    a = ap.parse_args()
    py, fs = a.python, os.path.abspath(a.floodseg)
    sizes = [int(s) for s in a.sizes.split(",")]
    res_path = os.path.join(a.data, "results_gpu.json")
    if a.report_only:
        with open(res_path) as fh:
            R = json.load(fh)
        R["frames"] = {int(k): v for k, v in R["frames"].items()}
        with open(a.out, "w") as fh:
            fh.write(report(R, a))
        return
    env = dict(os.environ, XDG_RUNTIME_DIR=os.environ.get("XDG_RUNTIME_DIR", "/tmp"))
    tmp = os.path.join(a.data, "out")
    os.makedirs(tmp, exist_ok=True)
    cores = os.cpu_count()
    m = bench.machine(py)
    m["gpu"] = gpu_name()
    if a.commit:
        m["floodseg_commit"] = a.commit
    if a.rustc:
        m["rustc"] = a.rustc
    R = {"machine": m, "params": " ".join(PARAMS), "cores": cores, "frames": {}, "stack": {}}
    if a.tests_log and os.path.exists(a.tests_log):
        with open(a.tests_log, errors="replace") as fh:
            R["tests"] = [l.rstrip() for l in fh
                          if l.startswith(("test result:", "     Running", "failures:"))
                          or "FAILED" in l or "panicked" in l][:200]

    probe = bench.fs_bench(fs, os.path.join(a.data, f"cells_{sizes[0]}.tif"), "gpu", 1, 1, env)
    adapter = probe["adapter"]
    R["adapter"] = adapter
    R["timing_source"] = probe.get("timing_source")
    if a.trial:
        global ROUNDS
        ROUNDS = 1
        for d in (GPU_FRAMES, SMALL_FRAMES):
            for k in d:
                d[k] = 2
    elif any(s in adapter.lower() for s in ("llvmpipe", "lavapipe", "software", "swiftshader")):
        sys.exit(f"gpu_bench.py: the GPU backend runs on a software adapter ({adapter}); "
                 "BENCHMARKS.md (scripts/bench/run_benchmarks.sh) covers that case")
    log(f"adapter: {adapter}; {cores} CPU cores")

    def save():
        with open(res_path, "w") as fh:
            json.dump(R, fh, indent=1, default=str)

    # Small frames: floodseg's synthetic rod colonies (`bench --size`), where fixed costs per
    # frame (submissions, readbacks of convergence flags) weigh most.
    R["small"] = {}
    for side in (256, 512, 1024):
        log(f"small frames: {side}², CPU and GPU")
        row = R["small"][side] = {}
        nf = SMALL_FRAMES[side]
        for key, backend, workers, extra, _ in SMALL_RUNS:
            row[key] = fs_synth(fs, side, nf, backend, workers or cores, env, extra)
    save()

    for side in sizes:
        path = os.path.join(a.data, f"cells_{side}.tif")
        f = R["frames"][side] = {"rounds": ROUNDS}
        keys = ("skimage", "opencv", "fs_cpu_1", "fs_cpu_n", "fs_gpu_1", "fs_gpu_2", "fs_segment_gpu")
        runs = {k: [] for k in keys}
        ng = GPU_FRAMES.get(side, 10)
        for r in range(ROUNDS):
            log(f"{side}²: round {r + 1} of {ROUNDS}")
            runs["skimage"].append(bench.py_tool(py, "skimage", path))
            runs["opencv"].append(bench.py_tool(py, "opencv", path))
            runs["fs_cpu_1"].append(bench.fs_bench(fs, path, "cpu", 1, 1, env))
            runs["fs_cpu_n"].append(bench.fs_bench(fs, path, "cpu", cores, cores, env))
            runs["fs_gpu_1"].append(bench.fs_bench(fs, path, "gpu", 1, ng, env))
            runs["fs_gpu_2"].append(bench.fs_bench(fs, path, "gpu", 2, ng, env))
            runs["fs_segment_gpu"].append(bench.fs_segment(
                fs, path, os.path.join(tmp, f"labels_gpu_{side}.tif"), "gpu", env=env))
        cpu_seg = bench.fs_segment(fs, path, os.path.join(tmp, f"labels_cpu_{side}.tif"), "cpu", env=env)
        with open(os.path.join(tmp, f"labels_cpu_{side}.tif"), "rb") as h1, \
                open(os.path.join(tmp, f"labels_gpu_{side}.tif"), "rb") as h2:
            f["labels_identical"] = h1.read() == h2.read()
        f["fs_segment_cpu_objects"] = cpu_seg["objects"]
        sk_ms = [r["compute_ms_median"] for r in runs["skimage"]]
        f["opencv"] = bench.summarize("opencv", runs["opencv"])
        for k, rs in runs.items():
            if k != "opencv":
                f[k] = bench.summarize("fs_segment_cpu" if k == "fs_segment_gpu" else
                                       ("skimage" if k == "skimage" else "fs_cpu_1"), rs)
            f[k]["x_skimage"] = statistics.median(x / y for x, y in zip(sk_ms, f[k]["all_ms"]))
            f[k]["x_opencv"] = statistics.median(
                x / y for x, y in zip(f["opencv"]["all_ms"], f[k]["all_ms"]))
        f["gpu_frames"] = ng
        # what one frame asks of the GPU (the same on every device; src/gpu/counters.rs)
        f["gpu_counters"] = runs["fs_gpu_1"][0].get("gpu_counters")
        save()

    stack = os.path.join(a.data, "stack_1024x100.tif")
    n = a.stack_frames
    s = R["stack"]
    s["frames"] = n
    mf = ["--max-frames", str(n)]
    log(f"stack of {n}: scikit-image, 1 and {cores} processes; OpenCV")
    s["skimage"] = bench.py_tool(py, "skimage", stack, mf)
    s["skimage_n"] = bench.py_tool(py, "skimage", stack, mf + ["--workers", str(cores)])
    s["opencv"] = bench.py_tool(py, "opencv", stack, mf)
    log(f"stack of {n}: floodseg cpu ({cores} workers), gpu (1, 2, 4, 8 workers)")
    s["fs_cpu_n"] = bench.fs_bench(fs, stack, "cpu", cores, n, env)
    for w in (1, 2, 4, 8):
        s[f"fs_gpu_{w}"] = bench.fs_bench(fs, stack, "gpu", w, n, env)
    if n == 100:
        log("stack: floodseg segment gpu and cpu → multi-page label TIFFs, compared")
        s["fs_segment_gpu"] = bench.fs_segment(fs, stack, os.path.join(tmp, "stack_gpu.tif"), "gpu", env=env)
        s["fs_segment_cpu"] = bench.fs_segment(fs, stack, os.path.join(tmp, "stack_cpu.tif"), "cpu", env=env)
        with open(os.path.join(tmp, "stack_cpu.tif"), "rb") as h1, \
                open(os.path.join(tmp, "stack_gpu.tif"), "rb") as h2:
            s["labels_identical"] = h1.read() == h2.read()

    with open(res_path, "w") as fh:
        json.dump(R, fh, indent=1, default=str)
    with open(a.out, "w") as fh:
        fh.write(report(R, a))
    log(f"wrote {a.out}")


def report(R, a):
    m, cores = R["machine"], R["cores"]
    L = []
    w = L.append
    w("# Benchmarks on a GPU machine\n")
    w("The same data, parameters and Python tools as [BENCHMARKS.md](BENCHMARKS.md), on a machine "
      "with a real GPU, where floodseg's GPU backend runs on the hardware (BENCHMARKS.md's GPU rows "
      "are a software rasterizer). Reproduce on a machine with a GPU and its Vulkan driver:\n")
    w("```sh\n" + a.command + "\n```\n")
    w(f"Measured {m['date']} by `scripts/bench/gpu_bench.py` (floodseg {m['floodseg_commit']}).\n")
    w(f"**Machine.** {m['gpu'] or 'GPU'}; wgpu adapter: {R['adapter']}; {m['cpu']}, {cores} CPU "
      f"cores, {m['ram']} RAM, {m['os']}. floodseg built by {m.get('rustc') or 'rustc'}; "
      f"Python {m.get('python')}, numpy {m.get('numpy')}, scipy {m.get('scipy')}, scikit-image "
      f"{m.get('scikit-image')}, OpenCV {m.get('opencv')}. GPU stage times come from "
      f"{R.get('timing_source')}.\n")
    w(f"**Parameters** (every tool): `{R['params']}`. **Data**: `scripts/bench/make_data.py` "
      "(as BENCHMARKS.md).\n")
    w(f"**Tools.** *scikit-image*: the lecture pipeline, one thread. *OpenCV + peak_local_max*: "
      f"OpenCV's stages with its default threads, skimage's peak_local_max. *floodseg CPU*: "
      f"`floodseg bench --backend cpu`, one frame on one thread, and {cores} frames on {cores} "
      "workers (throughput). *floodseg GPU*: `floodseg bench --backend gpu --frames N` with 1 or "
      "2 workers (frames in flight; N frames of the same image decoded once, so the first frame's "
      "warm-up is amortised), and `segment` = the whole CLI run (process start, adapter and "
      "pipeline creation, decode, upload, readback, TIFF write). Times are wall-clock ms per "
      f"frame, the median of {ROUNDS} rounds that run every tool once; *× skimage* is "
      "scikit-image's time over the tool's in the same round (median).\n")

    w("## Single frames\n")
    w("| image | tool | ms/frame (median) | ms/frame (min) | MP/s | × skimage | × OpenCV+plm | peak RSS MiB | objects |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    names = [
        ("skimage", "scikit-image"),
        ("opencv", "OpenCV + peak_local_max"),
        ("fs_cpu_1", "floodseg CPU, 1 frame at a time"),
        ("fs_cpu_n", f"floodseg CPU, {cores} frames at once"),
        ("fs_gpu_1", "floodseg GPU, 1 worker"),
        ("fs_gpu_2", "floodseg GPU, 2 workers"),
        ("fs_segment_gpu", "floodseg GPU `segment` (whole CLI run)"),
    ]
    for side in sorted(R["frames"]):
        f = R["frames"][side]
        for k, label in names:
            x = f[k]
            w(f"| {side}² | {label} | {fmt(x['ms'])} | {fmt(x['ms_min'])} | "
              f"{mp_s(side, x['ms']):.1f} | {x['x_skimage']:.2f} | {x['x_opencv']:.2f} | "
              f"{fmt(x['peak_rss_mib'])} | {x['objects']:,} |")
    w("")
    for side in sorted(R["frames"]):
        f = R["frames"][side]
        w(f"- {side}²: GPU `segment` labels **{'byte-identical to' if f['labels_identical'] else 'DIFFERENT from'}** "
          f"the CPU backend's ({f['fs_segment_cpu_objects']:,} objects); GPU bench runs "
          f"{f['gpu_frames']} frames.")
    w("")
    if any(R["frames"][side].get("gpu_counters") for side in R["frames"]):
        w("## GPU steps per frame\n")
        w("What one frame in a stack's steady state asks of the GPU (`bench --json`, "
          "`gpu_counters`; counted where commands are recorded, so the same on every device): "
          "barrier-separated steps (passes + copies + clears + staged writes), submissions, "
          "blocking host waits, and the convergence loops' sweeps.\n")
        w("| image | steps | passes | copies | clears | writes | submissions | host waits | sweeps (peaks / cost / label) |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for side in sorted(R["frames"]):
            c = R["frames"][side].get("gpu_counters")
            if not c:
                continue
            sw = c.get("sweeps", {})
            w(f"| {side}² | {c['steps']} | {c['passes']} | {c['copies']} | {c['clears']} | "
              f"{c['writes']} | {c['submissions']} | {c['host_waits']} | "
              f"{sw.get('peaks', {}).get('sweeps')} / {sw.get('ws_cost', {}).get('sweeps')} / "
              f"{sw.get('ws_label', {}).get('sweeps')} |")
        w("")
    if R.get("tests"):
        w("## The test suite on this GPU\n")
        w("`cargo test --profile ci --all-targets` with `FLOODSEG_REQUIRE_GPU=1` (every GPU test "
          "on this adapter), run by the same script before the benchmarks:\n")
        w("```\n" + "\n".join(R["tests"]) + "\n```\n")
    w("## Where the GPU's time goes\n")
    w("Mean ms per frame of each stage, 1 worker (GPU timestamp queries where the adapter has them; "
      "*upload*/*readback* and host work are wall clock).\n")
    sides = sorted(R["frames"])
    stages = list(R["frames"][sides[0]]["fs_gpu_1"]["stages_ms"])
    w("| stage | " + " | ".join(f"{s}²" for s in sides) + " |")
    w("|---|" + "---:|" * len(sides))
    for st in stages:
        w(f"| {st} | " + " | ".join(fmt(R['frames'][s]['fs_gpu_1']['stages_ms'].get(st), 2) for s in sides) + " |")
    w("")

    if R.get("small"):
        w("## Small frames\n")
        w("floodseg alone, on its own synthetic rod colonies (`floodseg bench --size S --frames N "
          "--preset rods --threshold 128`, a new frame each time, generated on the CPU inside the "
          "timed stream): where each frame's fixed costs (submissions, convergence-flag readbacks) "
          "weigh most. ms/frame = total / frames. With several GPU workers, frames that reach the "
          "watershed together share one stacked watershed (`src/gpu/batch.rs`); *unbatched* turns "
          "that off (`bench --no-batch`). *batched* = frames that shared a watershed / frames.\n")
        keys = [r for r in SMALL_RUNS if r[0] in next(iter(R["small"].values()))]
        w("| frames | " + " | ".join(t.format(cores=cores) for *_, t in keys) + " |")
        w("|---|" + "---:|" * len(keys))
        for side in sorted(R["small"], key=int):
            row = R["small"][side]
            cells = []
            for k, *_ in keys:
                x = row[k]
                c = f"{x['ms_per_frame']:.2f} ms ({x['frames_per_s']:.0f}/s)"
                if x.get("batched_frames"):
                    c += f", batched {x['batched_frames']}/{x['frames']}"
                cells.append(c)
            w(f"| {row['cpu_n']['frames']} × {side}² | " + " | ".join(cells) + " |")
        w("")
        w("GPU stage times at these sizes (1 worker, mean ms per frame):\n")
        st = list(next(iter(R["small"].values()))["gpu_1"]["stages_ms"])
        w("| stage | " + " | ".join(f"{s}²" for s in sorted(R["small"], key=int)) + " |")
        w("|---|" + "---:|" * len(R["small"]))
        for name in st:
            w(f"| {name} | " + " | ".join(fmt(R["small"][s]["gpu_1"]["stages_ms"].get(name), 2)
                                        for s in sorted(R["small"], key=int)) + " |")
        w("")

    s = R["stack"]
    if s:
        n = s["frames"]
        w(f"## The {n}-frame 1024² stack\n")
        w("| tool | total s | ms/frame | frames/s | × skimage (1 process) | peak RSS MiB |")
        w("|---|---:|---:|---:|---:|---:|")
        rows = [
            ("scikit-image, 1 process", s["skimage"]["process_wall_s"], s["skimage"]["peak_rss_mib"]),
            (f"scikit-image, {cores} processes", s["skimage_n"]["process_wall_s"], s["skimage_n"]["peak_rss_mib"]),
            ("OpenCV + peak_local_max", s["opencv"]["process_wall_s"], s["opencv"]["peak_rss_mib"]),
            (f"floodseg CPU, {cores} workers (bench)", s["fs_cpu_n"]["total_s"], s["fs_cpu_n"]["peak_rss_mib"]),
        ]
        for wk in (1, 2, 4, 8):
            rows.append((f"floodseg GPU, {wk} worker{'s' if wk > 1 else ''} (bench)",
                         s[f"fs_gpu_{wk}"]["total_s"], s[f"fs_gpu_{wk}"]["peak_rss_mib"]))
        if "fs_segment_gpu" in s:
            rows.append(("floodseg GPU `segment` → label TIFF", s["fs_segment_gpu"]["wall_s"], s["fs_segment_gpu"]["peak_rss_mib"]))
            rows.append(("floodseg CPU `segment` → label TIFF", s["fs_segment_cpu"]["wall_s"], s["fs_segment_cpu"]["peak_rss_mib"]))
        base = s["skimage"]["process_wall_s"]
        for label, t, rss in rows:
            w(f"| {label} | {t:.2f} | {t * 1e3 / n:.1f} | {n / t:.1f} | {base / t:.2f} | {fmt(rss)} |")
        w("")
        w("Python rows are whole-process wall time (interpreter start, imports and reading the stack "
          "included); floodseg `bench` rows are its streaming total (decode overlapped); `segment` "
          "rows are the whole CLI run.")
        if "labels_identical" in s:
            w(f" The two backends' {n}-page label TIFFs are "
              f"**{'byte-identical' if s['labels_identical'] else 'DIFFERENT'}**.")
        w("")
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    main()

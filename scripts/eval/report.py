#!/usr/bin/env python3
"""Markdown tables from scripts/eval/results.json (written by prototype.py)."""
import json
import sys
from pathlib import Path

r = json.loads(Path(sys.argv[1] if len(sys.argv) > 1 else
                    Path(__file__).with_name("results.json")).read_text())


def thr(c):
    return c["threshold"]


def lect(c):
    return (f"{thr(c)}, {'dark' if c['dark'] else 'bright'}, open {c['open']}, "
            f"m {c['min_distance']}")


def rods(c):
    mk = c["markers"] if c["markers"] == "regional" else f"hmax h={c['markers']}"
    mx = c["max_area"] if c["max_area"] is not None else "∞"
    return (f"{thr(c)}, smooth {c['smooth']}, open {c['open']}, {mk}, "
            f"area {c['min_area']}..{mx}")


print("| set | GT | lecture best F1 (params) | rods best F1 (params) | rods best with Otsu "
      "(params) | shared `rods` F1 (n pred) | voronoi-otsu-like F1 (σ spot, σ outline) |")
print("|---|---|---|---|---|---|---|")
for s in r["sets"]:
    lb, rb, ro, vb = s["lecture_best"], s["rods_best"], s["rods_otsu_best"], s["vol_best"]
    print(f"| {s['name']} | {s['n_gt']} | **{lb['f1']:.2f}** ({lect(lb)}) | **{rb['f1']:.2f}** "
          f"({rods(rb)}) | {ro['f1']:.2f} ({rods(ro)}) | **{s['shared_f1']:.2f}** "
          f"({s['shared_n_pred']}) | {vb['f1']:.2f} ({vb['spot_sigma']}, {vb['outline_sigma']}) |")
print()
print("shared:", rods(r["shared"]), f"— mean F1 over the real sets {r['shared_mean_f1_real']:.3f}")
print()
print("| rank | shared candidate (Otsu) | mean F1, real sets |")
print("|---|---|---|")
for i, (c, f) in enumerate(r["top10"], 1):
    print(f"| {i} | {rods(c)} | {f:.3f} |")

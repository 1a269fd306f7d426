"""Check that `floodseg track`'s outputs load into napari as docs/tracking.md says: the tracks
table as a Tracks layer with its lineage graph, the relabelled stack as Labels, every point on
its own track's label. Needs napari (any Qt binding, or none: the viewer part is then skipped).

    floodseg synth timelapse -o m.tif --gt G --frames 30 --seed 5 --drift 2
    floodseg track m.tif --preset rods --tracks tracks.csv -o tracked.tif
    QT_QPA_PLATFORM=offscreen python scripts/eval/check_napari.py m.tif tracks.csv tracked.tif
"""

import sys

import numpy as np
import pandas as pd
import tifffile

import napari
from napari.layers import Labels, Tracks

movie, table, tracked = sys.argv[1:4]
df = pd.read_csv(table)
graph = {r.track_id: [r.parent_id] for r in df.drop_duplicates("track_id").itertuples() if r.parent_id}
points = df[["track_id", "t", "y", "x"]].to_numpy()
layer = Tracks(points, graph=graph)
labels = Labels(tifffile.imread(tracked)).data
on_label = sum(labels[int(t), int(round(y)), int(round(x))] == tid for tid, t, y, x in points)
print(f"napari {napari.__version__}: Tracks layer of {layer.data.shape[0]} points, "
      f"{len(np.unique(layer.data[:, 0]))} tracks, {len(layer.graph)} daughters in the graph; "
      f"{on_label} of {len(points)} points on their own label")
assert on_label == len(points)
try:
    v = napari.Viewer(show=False)
except Exception as e:  # no Qt binding
    print(f"viewer skipped: {type(e).__name__}")
else:
    v.add_image(tifffile.imread(movie))
    v.add_labels(labels)
    v.add_tracks(points, graph=graph)
    print("viewer layers:", [l.name for l in v.layers])
    v.close()

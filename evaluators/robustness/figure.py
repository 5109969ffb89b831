"""The picture of the default suite's perturbations on one demo query (docs/robustness.png, in the README).

    .venv/bin/python -m evaluators.robustness.figure docs/robustness.png

builds the embedded demo source into a temporary folder (offline, seconds), takes the eval query whose
mask is largest, draws every level of the default suite over its image and writes the PNG. Same seed,
same picture.
"""

from __future__ import annotations

import sys
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from evaluators.robustness import geometry
from evaluators.robustness.perturb import Region, draw
from evaluators.robustness.suite import DEFAULT_SUITE

PANELS = (("box", "boxes (realised IoU)"), ("point", "points (distance to the edge, px)"),
          ("mask", "masks (realised mask IoU)"))


def pick_query(build: Path) -> tuple[str, Region]:
    """(image path, region) of the eval query with the largest mask in a demo build."""
    import pyarrow.parquet as pq

    from scar.core.images_roots import images_root

    best = None
    for path in sorted((build / "demo").glob("eval-*.parquet")):
        table = pq.read_table(path, columns=["id", "qry_image_path", "bbox", "point", "mask", "image_width",
                                             "image_height"]).to_pylist()
        for row in table:
            area = int(geometry.decode(((row["mask"]["size"][0], row["mask"]["size"][1]), row["mask"]["counts"])).sum())
            if best is None or area > best[0]:
                best = (area, row)
    if best is None:
        raise SystemExit(f"{build}: no demo eval rows")
    row = best[1]
    x, y, w, h = row["bbox"]
    region = Region(row["id"], int(row["image_width"]), int(row["image_height"]), (x, y, x + w, y + h),
                    point=tuple(row["point"]), mask_rle=((row["mask"]["size"][0], row["mask"]["size"][1]),
                                                          row["mask"]["counts"]))
    return str(images_root(build, "demo") / row["qry_image_path"]), region


def draw_figure(image_path: str, region: Region, out: Path, seed: int = 0) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
    from PIL import Image

    image = np.asarray(Image.open(image_path).convert("RGB"))
    colors = plt.get_cmap("tab10").colors
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), dpi=100)
    x1, y1, x2, y2 = region.box
    pad = max(x2 - x1, y2 - y1) * 0.6
    for ax, (kind, title) in zip(axes, PANELS):
        ax.imshow(image)
        for i, level in enumerate(lvl for lvl in DEFAULT_SUITE if lvl.kind == kind):
            p = draw(region, level, seed)
            color = colors[i % 10]
            if p.skipped:
                continue
            if kind == "box":
                bx1, by1, bx2, by2 = p.box
                ax.add_patch(Rectangle((bx1, by1), bx2 - bx1, by2 - by1, fill=False, lw=2 if level.is_clean else 1.5,
                                       ls="-" if level.is_clean else "--", ec=color,
                                       label=f"{level.name} ({p.iou:.2f})"))
            elif kind == "point":
                ax.plot(*p.point, marker="o" if p.inside else "X", ms=9, mec="white", mfc=color, ls="",
                        label=f"{level.name} ({p.distance:+.1f})")
            else:
                mask = geometry.decode(p.mask_rle)
                ax.contour(mask.astype(float), levels=[0.5], colors=[color], linewidths=2 if level.is_clean else 1.3)
                ax.plot([], [], color=color, label=f"{level.name} ({p.iou:.2f})")
        if kind == "point":
            ax.contour(region.mask.astype(float), levels=[0.5], colors=["white"], linewidths=1)
        ax.set_xlim(max(0, x1 - pad), min(region.width, x2 + pad))
        ax.set_ylim(min(region.height, y2 + pad), max(0, y1 - pad))
        ax.set_title(title)
        ax.set_axis_off()
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0, -0.02), ncol=3, frameon=False)
    fig.suptitle(f"scar eval --robustness: the default suite on {region.sample_id} (seed {seed}); "
                 "the floor shows no prompt at all", fontsize=11)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", metadata={"Software": None})
    plt.close(fig)
    return out


def make(out: Path, seed: int = 0) -> Path:
    # a separate `scar build` process: the evaluators never import the commands
    with tempfile.TemporaryDirectory() as tmp:
        build = Path(tmp) / "scar"
        cmd = [sys.executable, "-m", "scar", "build", "--source", "demo", "--out", str(build), "--limit", "30", "--no-progress"]
        if subprocess.run(cmd, check=False).returncode != 0:
            raise SystemExit("building the demo source failed")
        image, region = pick_query(build)
        return draw_figure(image, region, out, seed)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/robustness.png")
    print(make(target))

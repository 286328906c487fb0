#!/usr/bin/env python3
"""How the dithering level trades grain for banding, photo by photo.

For each photo, k and level, runs `pixmeans quantize PHOTO -k K
--dither=LEVEL` and prints the dithered file's MSE against the photo's
pixels, its mean ΔE00 (from pixmeans' own report), its size, and the error
left once the photo and the file are both blurred: a Gaussian of sigma 1
pixel (and 2) over linear-light RGB, as a mean square of 255 times the
linear values. That unit is not the MSE's (a step in the shadows weighs
far less than one in the highlights), so compare blurred errors with each
other only. Plain MSE counts every grain of the dither as error; the
blurred error counts what the eye sees from a little way off, where the
grain merges into the colour it stands for and bands or stray dots remain.
`--peers` adds quantette's and libimagequant's dithering (built by run.sh)
beside them. Photos with transparent pixels are skipped.

    bench/compare/.venv/bin/python bench/compare/dither_levels.py \\
        --images ../shared/images --ks 16,64,256 --levels 0.75,0.8,0.85,0.875,0.9,1

The photos' pixels are those of the `image` crate's decoder (the peers
binary's `decode`, as in compare.py) when PEERS_BIN names it, else Pillow's.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

from compare import converted_profile

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
PEER_TOOLS = ("quantette-dither", "libimagequant-dither")


def linear(rgb: np.ndarray) -> np.ndarray:
    """8-bit sRGB to linear light, 0..1."""
    v = rgb / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def blurred(lin: np.ndarray, sigma: float) -> np.ndarray:
    return np.stack([gaussian_filter(lin[..., c], sigma) for c in range(3)], axis=-1)


def load(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float64)


def has_transparency(path: Path) -> bool:
    with Image.open(path) as im:
        if im.mode not in ("RGBA", "LA", "PA") and "transparency" not in im.info:
            return False
        return bool((np.asarray(im.convert("RGBA"))[..., 3] == 0).any())


def reference(photo: Path, work: Path) -> np.ndarray:
    """The photo's pixels as pixmeans decodes them (PNG: as Pillow does)."""
    if photo.suffix.lower() == ".png":
        return load(photo)
    peers = os.environ.get("PEERS_BIN")
    if not peers:
        print(f"note: {photo.name} decoded by Pillow, not by the image crate as pixmeans "
              "does (set PEERS_BIN): the MSE includes their difference", file=sys.stderr)
        return load(photo)
    out = work / f"{photo.stem}-reference.png"
    subprocess.run([peers, "--tool", "decode", "--k", "1", str(photo), str(out)],
                   check=True, stdout=subprocess.DEVNULL)
    return load(out)


class Scorer:
    """The blurred copies of one photo, kept for every output scored on it."""

    SIGMAS = (1.0, 2.0)

    def __init__(self, rgb: np.ndarray):
        self.rgb = rgb
        lin = linear(rgb)
        self.blurred = {s: blurred(lin, s) for s in self.SIGMAS}

    def score(self, out: np.ndarray) -> dict:
        lin = linear(out)
        figures = {"mse": float(((out - self.rgb) ** 2).mean())}
        for s, ref in self.blurred.items():
            figures[f"blur{s:g}"] = float(((blurred(lin, s) - ref) ** 2).mean()) * 255.0 ** 2
        return figures


def photos(items: list[str]) -> list[Path]:
    found: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found += sorted(q for q in p.iterdir()
                            if q.suffix.lower() in (".jpg", ".jpeg", ".png"))
        else:
            found.append(p)
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", nargs="+", required=True, help="photos or folders")
    ap.add_argument("--ks", default="16,64,256")
    ap.add_argument("--levels", default="0.75,0.8,0.85,0.875,0.9,1")
    ap.add_argument("--pixmeans", type=Path, default=REPO / "target/release/pixmeans")
    ap.add_argument("--peers", action="store_true",
                    help="also score quantette's and libimagequant's dithering (PEERS_BIN)")
    ap.add_argument("--json", type=Path, help="also write every row to this file")
    a = ap.parse_args()
    if a.peers and not os.environ.get("PEERS_BIN"):
        ap.error("--peers needs PEERS_BIN, the peers binary that run.sh builds")
    ks = [int(k) for k in a.ks.split(",")]
    levels = a.levels.split(",")
    rows = []
    print("photo k tool level | MSE  ΔE00 | blurred σ1  σ2 | bytes")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for photo in photos(a.images):
            if has_transparency(photo):
                print(f"note: {photo.name} skipped: it has transparent pixels, which "
                      "pixmeans leaves out of its figures", file=sys.stderr)
                continue
            pixels = reference(photo, work)
            scorer = Scorer(pixels)
            source = photo  # the file the tools read
            profile = converted_profile(a.pixmeans, photo, work)
            if profile:
                # pixmeans would cluster the colours converted to sRGB and the
                # peers the file's own: every tool reads the reference instead.
                print(f"note: {photo.name}'s colour profile is {profile}; every tool reads "
                      "its pixels without it", file=sys.stderr)
                source = work / f"{photo.stem}-pixels.png"
                Image.fromarray(pixels.astype(np.uint8), "RGB").save(source)
            for k in ks:
                runs = [("pixmeans", level) for level in levels]
                if a.peers:
                    runs += [(tool, "") for tool in PEER_TOOLS]
                for tool, level in runs:
                    out = work / "out.png"
                    report = {}
                    if tool == "pixmeans":
                        done = subprocess.run(
                            [str(a.pixmeans), "quantize", str(source), "-k", str(k),
                             f"--dither={level}", "-o", str(out), "--force", "--json"],
                            check=True, capture_output=True, text=True)
                        report = json.loads(done.stdout)
                    else:
                        subprocess.run([os.environ["PEERS_BIN"], "--tool", tool, "--k", str(k),
                                        "--seed", "0", str(source), str(out)],
                                       check=True, stdout=subprocess.DEVNULL)
                    figures = scorer.score(load(out))
                    row = {"photo": photo.name, "k": k, "tool": tool, "level": level,
                           "delta_e": report.get("delta_e", {}).get("mean"),
                           "bytes": out.stat().st_size if tool == "pixmeans" else None,
                           **figures}
                    rows.append(row)
                    de = "-" if row["delta_e"] is None else f"{row['delta_e']:.3f}"
                    size = "-" if row["bytes"] is None else str(row["bytes"])
                    print(f"{photo.name} {k} {tool} {level} | {figures['mse']:.2f} {de} | "
                          f"{figures['blur1']:.3f} {figures['blur2']:.3f} | {size}", flush=True)
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

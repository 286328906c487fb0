#!/usr/bin/env python3
"""How pixmeans' time and memory grow with the pixels: one photo resized.

The photo is resized with Pillow to each size, in megapixels, and saved as a
PNG, so that every size is decoded the same way: averaged over boxes to
shrink it (as a smaller sensor would see it; the averages are new colours)
and repeated to enlarge it (exactly the photo's colours); a size within 3 %
of the photo's keeps its pixels. For each size and k it runs

- `examples/stages` (see its doc): the seconds of counting the colours,
  seeding, Lloyd's passes, the figures, the whole of `quantize_counted`
  (mapping every pixel included) and encoding, each the median of the runs,
  with the iterations and the distinct colours;
- `pixmeans quantize IMG -k K -o OUT --force` as a whole process, under
  GNU time: wall seconds and peak resident memory, medians of the runs.

and prints one Markdown table. Growth is read against the smallest size:
"pixels" is how many times as many pixels, "quantize" how many times as
long `quantize_counted` took.

    cargo build --release -p pixmeans-cli -p pixmeans-io --examples --bins
    bench/compare/.venv/bin/python bench/compare/scaling.py ../shared/images/sunset.jpg \
        --sizes 1,4,12,48 --ks 16,256 --runs 3
"""

import argparse
import statistics
import subprocess
import tempfile
from pathlib import Path

from PIL import Image


def resized(photo: Path, mp: float, folder: Path) -> tuple[Path, int]:
    """The photo at about `mp` megapixels, as a PNG, and its pixel count."""
    with Image.open(photo) as im:
        im = im.convert("RGB")
        scale = (mp * 1e6 / (im.width * im.height)) ** 0.5
        size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
        out = folder / f"{mp:g}mp.png"
        if abs(scale * scale - 1) > 0.03:
            im = im.resize(size, Image.BOX if scale < 1 else Image.NEAREST)
        im.save(out, compress_level=1)
        return out, im.width * im.height


def stages(binary: Path, img: Path, k: int, runs: int) -> dict[str, float]:
    """Median seconds of each stage, plus iterations and colours."""
    text = subprocess.run([str(binary), str(img), str(k), str(runs)],
                          capture_output=True, text=True, check=True).stdout
    lines = [line.split() for line in text.splitlines() if line.strip()]
    head, rows = lines[0], lines[1:]
    return {name: statistics.median(float(r[i]) for r in rows)
            for i, name in enumerate(head) if name not in ("k", "run")}


def process(binary: Path, img: Path, k: int, runs: int, out: Path) -> tuple[float, float]:
    """Median wall seconds and peak resident MB (10^6 bytes) of quantize."""
    walls, peaks = [], []
    for _ in range(runs):
        cmd = ["/usr/bin/time", "-f", "%e %M", str(binary), "quantize", str(img),
               "-k", str(k), "-o", str(out), "--force"]
        err = subprocess.run(cmd, capture_output=True, text=True, check=True).stderr
        wall, kib = err.strip().splitlines()[-1].split()
        walls.append(float(wall))
        peaks.append(int(kib) * 1024 / 1e6)
    return statistics.median(walls), statistics.median(peaks)


def main() -> None:
    repo = Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("photo", type=Path)
    ap.add_argument("--sizes", default="1,4,12,48",
                    help="megapixels, comma-separated (default 1,4,12,48)")
    ap.add_argument("--ks", default="16,256", help="palette sizes (default 16,256)")
    ap.add_argument("--runs", type=int, default=3, help="runs of each (default 3)")
    ap.add_argument("--bin", type=Path, default=repo / "target" / "release",
                    help="where pixmeans and examples/stages are (default target/release)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        table(a, Path(tmp))


def table(a: argparse.Namespace, folder: Path) -> None:
    """Resizes the photo into `folder` and prints the table."""
    sizes = sorted(map(float, a.sizes.split(",")))
    images = [resized(a.photo, mp, folder) for mp in sizes]
    print("| MP | k | colours | count s | seed s | iterate s | iterations | figures s "
          "| quantize s | encode s | pixels | quantize | process s | peak MB | peak / RGB |")
    print("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for k in map(int, a.ks.split(",")):
        base = None
        for img, pixels in images:
            s = stages(a.bin / "examples" / "stages", img, k, a.runs)
            wall, peak = process(a.bin / "pixmeans", img, k, a.runs, folder / "out.png")
            base = base or (pixels, s["quantize"])
            print(f"| {pixels / 1e6:.1f} | {k} | {s['colours']:.0f} | {s['count']:.3f} "
                  f"| {s['seed']:.3f} | {s['iterate']:.3f} | {s['iter']:.0f} "
                  f"| {s['figures']:.3f} | {s['quantize']:.3f} | {s['encode']:.3f} "
                  f"| {pixels / base[0]:.1f} | {s['quantize'] / base[1]:.1f} "
                  f"| {wall:.2f} | {peak:.0f} | {peak / (pixels * 3 / 1e6):.2f} |", flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""pixmeans' PNG files against pngquant's, at the same number of colours.

What someone who wants smaller PNGs compares: for each image and k, the
bytes of the indexed PNG each tool writes and how far it is from the
original. pngquant runs as `pngquant K --nofs` (no dithering, its default
speed), pixmeans as `pixmeans quantize IMAGE -k K` at its default
compression and at `--compression best`; with `--dither`, pngquant at its
default (dithered) and pixmeans with `--dither`. A photo that is not a PNG is
first written as one by Pillow, since pngquant reads only PNG.

The error is computed the same way for both files, from the pixels Pillow
decodes: for an opaque image, MSE and PSNR in 8-bit RGB and the mean
CIEDE2000 (compare.py's `quality`); for an image with transparency, the
MSE of the two files composited over white and over black, the larger of
the two, so that an error in opacity counts as much as one in colour.

    bench/compare/.venv/bin/python bench/compare/pngquant_files.py \\
        --images ../shared/images --ks 16,64,256 --logo \\
        --cutout ../shared/images/chelsea.png ../shared/images/astronaut.png \\
        ../shared/images/coffee.png

pngquant (GPL) comes from the `pngquant-cli` wheel in requirements.txt; it
is used here only, never by pixmeans.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from compare import Reference, expand_images, load_rgb, psnr_of, quality

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def as_png(image: Path, work: Path) -> Path:
    """The image itself if it is a PNG, else a PNG of its pixels."""
    if image.suffix.lower() == ".png":
        return image
    png = work / f"{image.stem}.png"
    with Image.open(image) as im:
        im.convert("RGBA" if "A" in im.getbands() else "RGB").save(png)
    return png


def has_alpha(path: Path) -> bool:
    """Whether some pixel is not fully opaque."""
    with Image.open(path) as im:
        rgba = im.convert("RGBA")
    return rgba.getextrema()[3][0] < 255


def logo(work: Path) -> Path:
    """A 512 x 512 badge as icons are drawn: a blue disc with a yellow
    rounded square, edges smoothed (drawn at four times the size, then
    reduced), over a soft drop shadow, on a transparent background."""
    from PIL import ImageDraw, ImageFilter

    size = 512
    shadow = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ImageDraw.Draw(shadow).ellipse((80, 90, 440, 450), fill=(0, 0, 0, 160))
    shadow = shadow.filter(ImageFilter.GaussianBlur(18))
    big = Image.new("RGBA", (4 * size, 4 * size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(big)
    draw.ellipse((240, 240, 1720, 1720), fill=(30, 120, 220, 255))
    draw.rounded_rectangle((700, 600, 1300, 1400), 80, fill=(250, 200, 40, 255))
    badge = Image.alpha_composite(shadow, big.resize((size, size), Image.LANCZOS))
    path = work / "logo.png"
    badge.save(path)
    return path


def cutout(photo: Path, work: Path) -> Path:
    """A photo cut out as product shots and stickers are: an ellipse with
    a feathered edge (a 24-pixel blur of its mask) on a transparent
    background, so that the edge's partly transparent pixels carry the
    photo's colours."""
    from PIL import ImageDraw, ImageFilter

    with Image.open(photo) as im:
        rgb = im.convert("RGB")
    w, h = rgb.size
    mask = Image.new("L", (w, h), 0)
    ImageDraw.Draw(mask).ellipse((w // 8, h // 8, w - w // 8, h - h // 8), fill=255)
    rgba = rgb.copy()
    rgba.putalpha(mask.filter(ImageFilter.GaussianBlur(24)))
    path = work / f"{photo.stem}-cutout.png"
    rgba.save(path)
    return path


def composited(path: Path, background: int) -> np.ndarray:
    """The image's pixels over a plain background, as float RGB."""
    with Image.open(path) as im:
        rgba = np.asarray(im.convert("RGBA"), dtype=np.float64)
    alpha = rgba[..., 3:] / 255.0
    return rgba[..., :3] * alpha + background * (1.0 - alpha)


def error(original: Path, out: Path, ref: Reference | None) -> str:
    """PSNR dB / mean ΔE00 for an opaque image; PSNR over white and black
    (the worse) for one with transparency."""
    if ref is not None:
        q = quality(ref, out)
        return f"{q['psnr']:.2f} / {q['delta_e_mean']:.3f}"
    worst = max(
        float(((composited(original, bg) - composited(out, bg)) ** 2).mean())
        for bg in (0, 255)
    )
    return f"{psnr_of(worst):.2f} (composited)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", nargs="+", required=True, help="images or folders of images")
    ap.add_argument("--ks", default="16,64,256")
    ap.add_argument("--logo", action="store_true",
                    help="add a drawn badge with a soft shadow (partly transparent pixels)")
    ap.add_argument("--cutout", type=Path, nargs="+", default=[],
                    help="add these photos cut out with a feathered edge (partly transparent pixels)")
    ap.add_argument("--dither", action="store_true",
                    help="compare dithered files: pngquant's default, pixmeans --dither")
    ap.add_argument("--pixmeans", type=lambda p: Path(p).resolve(), default=REPO / "target/release/pixmeans")
    ap.add_argument("--pngquant", default=shutil.which("pngquant") or str(HERE / ".venv/bin/pngquant"))
    args = ap.parse_args()
    ks = [int(k) for k in args.ks.split(",")]
    print("| image | k | pngquant kB | pixmeans kB | pixmeans best kB | pngquant error | pixmeans error |")
    print("|---|--:|--:|--:|--:|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        images = expand_images(args.images) + ([logo(work)] if args.logo else [])
        images += [cutout(photo, work) for photo in args.cutout]
        for image in images:
            png = as_png(image, work)
            ref = None
            if not has_alpha(png):
                ref = Reference.build(load_rgb(png), png, "Pillow")
            for k in ks:
                outs = work / "out"  # apart from the inputs, whatever their names
                outs.mkdir(exist_ok=True)
                pq, pm, best = outs / "pq.png", outs / "pm.png", outs / "best.png"
                no_fs = [] if args.dither else ["--nofs"]
                subprocess.run([args.pngquant, str(k), *no_fs, "--force", "--output", str(pq), str(png)],
                               check=True)
                refused = None
                for out, extra in ((pm, []), (best, ["--compression", "best"])):
                    run = subprocess.run([str(args.pixmeans), "quantize", str(png), "-k", str(k), "-o",
                                          str(out), "--force", *extra, *(["--dither"] if args.dither else [])],
                                         capture_output=True, text=True)
                    if run.returncode != 0:
                        # A refusal (pixmeans refused k = 256 with transparent pixels before 2026-11-24).
                        refused = (run.stderr.strip().splitlines() or [f"exit {run.returncode}"])[-1]
                        refused = refused.replace("|", "/")
                kb = f"{pq.stat().st_size / 1e3:.1f}"
                if refused:
                    print(f"| {image.stem} | {k} | {kb} | refused | refused | {error(png, pq, ref)} | "
                          f"{refused} |", flush=True)
                    continue
                kb += "".join(f" | {p.stat().st_size / 1e3:.1f}" for p in (pm, best))
                print(f"| {image.stem} | {k} | {kb} | {error(png, pq, ref)} | {error(png, pm, ref)} |",
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

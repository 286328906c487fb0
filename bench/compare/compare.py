"""Compare pixmeans with other colour quantizers on real photos.

    python compare.py [--images DIR-or-FILES...] [--ks 16,64,256] [--runs 3]
                      [--tools pixmeans,pixmeans-oklab,pixmeans-oklab-sample,sklearn,opencv,
                               quantette,libimagequant,kmeans_colors,pixmeans-dither,
                               pixmeans-oklab-dither,quantette-dither,libimagequant-dither]
                      [--out results/results.jsonl]

Every run of every tool is a separate process started here, so whole-process
wall time (perf_counter around spawn..reap) and peak RSS (ru_maxrss of that
child, from os.wait4) are measured the same way for all. Each tool writes its
quantized image as PNG and prints a JSON line with at least "algo_seconds".
Quality is then computed here, identically for every tool, from the reference
pixels and the output PNG: MSE over pixels and channels in 8-bit RGB, PSNR =
10 log10(255^2 / MSE), CIEDE2000 (scikit-image, mean and 95th percentile) and
the number of distinct output colours. See README.md for the details.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
ALL_TOOLS = ["pixmeans", "pixmeans-oklab", "pixmeans-oklab-sample", "sklearn", "opencv",
             "quantette", "libimagequant", "kmeans_colors"]
# With each tool's default Floyd–Steinberg dithering: not in the default
# run (issue 5 compares undithered), asked for by name.
DITHERED_TOOLS = ["pixmeans-dither", "pixmeans-oklab-dither", "quantette-dither",
                  "libimagequant-dither"]
KNOWN_TOOLS = ALL_TOOLS + DITHERED_TOOLS
RUST_PEERS = {"quantette", "libimagequant", "kmeans_colors", "quantette-dither",
              "libimagequant-dither"}
PY_PEERS = {"sklearn", "opencv"}
IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp"}
# quantette's k-means fits minibatches drawn from at most this many pixels.
QUANTETTE_SAMPLE = 262_144
CHUNK = 1 << 19  # pixels per CIEDE2000 chunk: bounds the driver's memory


# ----------------------------------------------------------------------------
# Running one tool process


@dataclass
class ProcResult:
    returncode: int
    wall_seconds: float
    max_rss_mb: float
    stdout: str
    stderr: str
    timed_out: bool


def run_process(cmd: list[str], timeout: float, measure: Path) -> ProcResult:
    """Runs cmd under the `measure` launcher: wall time and peak RSS of cmd.

    The launcher (peers/src/bin/measure.rs) spawns cmd, reaps it with wait4
    and reports its wall time and ru_maxrss. It exists because a child's
    ru_maxrss on Linux includes the RSS of the process it was spawned from,
    which for this driver (NumPy, the reference image in Lab) is 100+ MB; the
    launcher's own few MB are the floor instead.
    """
    with tempfile.TemporaryDirectory(prefix="measure-") as tmp, \
            tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        report = Path(tmp) / "report.json"
        subprocess.run([str(measure), str(report), repr(float(timeout)), "--", *cmd],
                       stdin=subprocess.DEVNULL, stdout=out, stderr=err, check=False,
                       timeout=timeout + 120)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
        try:
            m = json.loads(report.read_text())
        except (OSError, ValueError) as e:
            raise RuntimeError(f"measure failed for {cmd[0]}: {e}; {stderr.strip()[-400:]}")
        code = m["exit_code"] if m["signal"] == 0 else -m["signal"]
        return ProcResult(returncode=code, wall_seconds=m["wall_seconds"],
                          max_rss_mb=m["max_rss_kb"] / 1024.0, stdout=stdout, stderr=stderr,
                          timed_out=m["timed_out"])


def last_json_line(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON line on standard output")


@dataclass
class Tools:
    pixmeans: Path
    peers: Path
    measure: Path
    python: str
    seed: int

    def command(self, tool: str, image: Path, k: int, out: Path) -> list[str]:
        if tool.startswith("pixmeans"):
            cmd = [str(self.pixmeans), "quantize", str(image), "-k", str(k), "-o", str(out),
                   "--force", "--json", "--seed", str(self.seed)]
            if tool.startswith("pixmeans-oklab"):
                cmd += ["--color-space", "oklab"]
            if tool.endswith("-dither"):
                cmd += ["--dither"]
            if tool == "pixmeans-oklab-sample":
                # The sample budget quantette's k-means fits on.
                cmd += ["--max-pixels", str(QUANTETTE_SAMPLE)]
            return cmd
        if tool in PY_PEERS:
            return [self.python, str(HERE / "py_peers.py"), tool, str(image), str(k), str(out),
                    str(self.seed)]
        if tool in RUST_PEERS:
            return [str(self.peers), "--tool", tool, "--k", str(k), "--seed", str(self.seed),
                    str(image), str(out)]
        raise ValueError(f"unknown tool {tool}")

    @staticmethod
    def algo_seconds(tool: str, report: dict) -> float:
        if tool.startswith("pixmeans"):
            return float(report["seconds"]["quantize"])
        return float(report["algo_seconds"])


# ----------------------------------------------------------------------------
# Quality, computed the same way for every tool


def rgb2lab(rgb_u8: np.ndarray) -> np.ndarray:
    from skimage.color import rgb2lab as _rgb2lab

    return _rgb2lab(rgb_u8.reshape(-1, 1, 3)).reshape(-1, 3)


@dataclass
class Reference:
    """The pixels every output is compared with, and their Lab values."""

    path: Path
    width: int
    height: int
    rgb: np.ndarray  # (N, 3) uint8
    lab: np.ndarray  # (N, 3) float64
    decoder: str
    notes: list[str] = field(default_factory=list)
    predecode: bool = False  # every tool reads the reference pixels from a PNG

    @classmethod
    def build(cls, rgb_hw3: np.ndarray, path: Path, decoder: str) -> "Reference":
        h, w, _ = rgb_hw3.shape
        rgb = np.ascontiguousarray(rgb_hw3.reshape(-1, 3))
        lab = np.empty(rgb.shape, dtype=np.float64)
        for s in range(0, len(rgb), CHUNK):
            lab[s:s + CHUNK] = rgb2lab(rgb[s:s + CHUNK])
        return cls(path, w, h, rgb, lab, decoder)


def load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def mse_of(ref: np.ndarray, out: np.ndarray) -> float:
    total = 0
    for s in range(0, len(ref), CHUNK):
        d = ref[s:s + CHUNK].astype(np.int32) - out[s:s + CHUNK].astype(np.int32)
        total += int(np.einsum("ij,ij->", d, d, dtype=np.int64))
    return total / (ref.shape[0] * 3)


def psnr_of(mse: float) -> float:
    return math.inf if mse == 0 else 10.0 * math.log10(255.0 ** 2 / mse)


def quality(ref: Reference, out_path: Path, with_delta_e: bool = True) -> dict:
    from skimage.color import deltaE_ciede2000

    out = load_rgb(out_path)
    if out.shape[:2] != (ref.height, ref.width):
        raise ValueError(f"output is {out.shape[1]}x{out.shape[0]}, input {ref.width}x{ref.height}")
    out = np.ascontiguousarray(out.reshape(-1, 3))
    mse = mse_of(ref.rgb, out)
    codes = (out[:, 0].astype(np.uint32) << 16) | (out[:, 1].astype(np.uint32) << 8) | out[:, 2]
    uniq, inverse = np.unique(codes, return_inverse=True)
    result = {"mse": mse, "psnr": psnr_of(mse), "colors": int(len(uniq)),
              "fingerprint": hashlib.blake2b(out.tobytes(), digest_size=16).hexdigest()}
    if with_delta_e:
        # The output has at most a few hundred colours: convert each once,
        # then look them up (rgb2lab works per pixel, so this is the same as
        # converting every pixel).
        palette = np.stack([(uniq >> 16) & 255, (uniq >> 8) & 255, uniq & 255], axis=1)
        palette_lab = rgb2lab(palette.astype(np.uint8))
        de = np.empty(len(out), dtype=np.float64)
        for s in range(0, len(out), CHUNK):
            de[s:s + CHUNK] = deltaE_ciede2000(ref.lab[s:s + CHUNK],
                                               palette_lab[inverse[s:s + CHUNK]])
        result["delta_e_mean"] = float(de.mean())
        result["delta_e_p95"] = float(np.percentile(de, 95))
    return result


# ----------------------------------------------------------------------------
# The comparison


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else math.nan


def expand_images(items: list[str]) -> list[Path]:
    paths: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            paths += sorted(q for q in p.iterdir() if q.suffix.lower() in IMAGE_EXTS)
        elif p.is_file():
            paths.append(p)
        else:
            sys.exit(f"compare.py: no such image or folder: {item}")
    if not paths:
        sys.exit("compare.py: no images")
    return paths


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def make_reference(image: Path, tools: Tools, work: Path, predecode: bool,
                   ) -> tuple[Reference, Path]:
    """The reference pixels, and the file every tool will read.

    The reference is the `image` crate's decoding (what pixmeans and the Rust
    peers see). Pillow (used by the Python peers) may decode JPEG differently;
    that is measured and reported. With --predecode every tool reads the
    reference pixels from a lossless PNG instead, so all see the same input.
    """
    pillow = load_rgb(image)
    notes: list[str] = []
    profile = converted_profile(tools.pixmeans, image, work)
    if profile is not None and not predecode:
        predecode = True
        notes.append(f"the file's colour profile is {profile}: pixmeans converts its colours "
                     "to sRGB and the peers do not, so every tool reads the image crate's "
                     "decoding, without the profile (as with --predecode)")
    decoded = work / "reference.png"
    decoder = "image crate (peers --tool decode)"
    res = None
    if tools.peers.exists():
        res = run_process([str(tools.peers), "--tool", "decode", "--k", "1", str(image),
                           str(decoded)], 600, tools.measure)
    if res is not None and res.returncode == 0:
        crate = load_rgb(decoded)
        if crate.shape != pillow.shape:
            notes.append(f"decoders disagree on size: image crate {crate.shape}, Pillow "
                         f"{pillow.shape}")
        else:
            d = pillow.astype(np.int32) - crate.astype(np.int32)
            if d.any():
                m = float((d.astype(np.float64) ** 2).mean())
                notes.append(
                    f"Pillow and the image crate decode this file differently (MSE {m:.3f} "
                    f"between them, {100 * float((d != 0).mean()):.1f}% of values, max "
                    f"|diff| {int(np.abs(d).max())})"
                    + ("; every tool reads the image crate's decoding (--predecode)" if predecode
                       else "; sklearn/opencv cluster Pillow's decoding, so their MSE/ΔE include "
                            "this difference (use --predecode to remove it)"))
        ref = Reference.build(crate, image, decoder)
    else:
        decoder = "Pillow (peers binary unavailable)"
        notes.append("reference decoded with Pillow: the peers binary could not decode it")
        ref = Reference.build(pillow, image, decoder)
        if predecode:
            Image.fromarray(pillow, "RGB").save(decoded, format="PNG")
    with Image.open(image) as im:
        if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
            notes.append("input has alpha: quality is measured on RGB only")
    ref.notes = notes
    ref.predecode = predecode
    return ref, (decoded if predecode else image)


def converted_profile(pixmeans: Path, image: Path, work: Path) -> str | None:
    """The colour profile pixmeans converts the file's colours from, if any
    (its own verdict, from `input_profile` in its report)."""
    done = subprocess.run([str(pixmeans), "quantize", str(image), "-k", "1", "-o",
                           str(work / "profile-probe.png"), "--force", "--json", "--quiet"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        return None  # the run itself will report why
    return json.loads(done.stdout).get("input_profile")


@dataclass
class Row:
    tool: str
    k: int
    algo: list[float] = field(default_factory=list)
    whole: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)
    mse_runs: list[float] = field(default_factory=list)
    quality: dict | None = None
    report: dict | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    runs_differ: bool = False


def run_tool(tool: str, k: int, ref: Reference, tool_input: Path, tools: Tools, runs: int,
             work: Path, timeout: float, keep: Path | None) -> Row:
    row = Row(tool, k)
    first_fp = None
    for r in range(runs):
        out = work / f"{tool}-k{k}-run{r}.png"
        cmd = tools.command(tool, tool_input, k, out)
        res = run_process(cmd, timeout, tools.measure)
        if res.timed_out:
            row.error = f"timed out after {timeout:g} s (run {r + 1})"
            break
        if res.returncode != 0:
            row.error = f"exit {res.returncode}: {res.stderr.strip()[-400:]}"
            break
        try:
            report = last_json_line(res.stdout)
            algo = Tools.algo_seconds(tool, report)
        except (ValueError, KeyError) as e:
            row.error = f"bad JSON from {tool}: {e}"
            break
        row.algo.append(algo)
        row.whole.append(res.wall_seconds)
        row.rss.append(res.max_rss_mb)
        q = quality(ref, out, with_delta_e=(r == 0))
        row.mse_runs.append(q["mse"])
        if r == 0:
            row.quality, row.report, first_fp = q, report, q["fingerprint"]
        elif q["fingerprint"] != first_fp:
            row.runs_differ = True
        if keep is not None and r == 0:
            shutil.copy(out, keep / f"{ref.path.stem}-{tool}-k{k}.png")
        out.unlink(missing_ok=True)
        log(f"    {tool:15s} k={k:<3d} run {r + 1}/{runs}: algo {algo:8.3f} s, whole "
            f"{res.wall_seconds:8.3f} s, {res.max_rss_mb:7.1f} MB, MSE {q['mse']:.3f}, "
            f"{q['colors']} colours")
    if row.quality is not None:
        if row.quality["colors"] > k:
            row.notes.append(f"{row.quality['colors']} colours > k")
        if row.runs_differ:
            spread = max(row.mse_runs) - min(row.mse_runs)
            row.notes.append(f"runs differ (MSE spread {spread:.3g})")
        # pixmeans reports its own figures: they must agree with ours (same
        # decoder, same formulas), or something is off in one of the two.
        report = row.report or {}
        self_mse = report.get("mse")
        if tool.startswith("pixmeans") and self_mse is not None:
            if abs(self_mse - row.quality["mse"]) > 1e-6 * max(1.0, self_mse):
                row.notes.append(f"pixmeans says MSE {self_mse:.4f}")
        self_de = report.get("delta_e")
        if tool.startswith("pixmeans") and isinstance(self_de, dict) and "mean" in self_de:
            if abs(self_de["mean"] - row.quality["delta_e_mean"]) > 1e-3:
                row.notes.append(f"pixmeans says mean ΔE00 {self_de['mean']:.4f}")
    if row.error:
        row.notes.append(row.error)
    return row


def fmt(x: float | None, spec: str) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, float) and math.isinf(x):
        return "∞"
    return format(x, spec)


def markdown_table(ref: Reference, rows: list[Row], runs: int) -> str:
    base = {r.k: median(r.algo) for r in rows if r.tool == "pixmeans" and r.algo}
    mp = ref.width * ref.height / 1e6
    lines = [
        f"### {ref.path.name} ({ref.width} x {ref.height}, {mp:.2f} MP)",
        "",
        f"Median of {runs} run(s) for times, max for peak memory, quality from the first run.",
        "",
        "| tool | k | algo s | whole s | peak MB | MSE | PSNR dB | mean ΔE00 | p95 ΔE00 "
        "| colours | algo / pixmeans | notes |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for r in sorted(rows, key=lambda r: (r.k, KNOWN_TOOLS.index(r.tool))):
        q = r.quality or {}
        algo = median(r.algo) if r.algo else None
        ratio = algo / base[r.k] if algo is not None and base.get(r.k) else None
        lines.append(
            f"| {r.tool} | {r.k} | {fmt(algo, '.3f')} | "
            f"{fmt(median(r.whole) if r.whole else None, '.3f')} | "
            f"{fmt(max(r.rss) if r.rss else None, '.0f')} | {fmt(q.get('mse'), '.2f')} | "
            f"{fmt(q.get('psnr'), '.2f')} | {fmt(q.get('delta_e_mean'), '.3f')} | "
            f"{fmt(q.get('delta_e_p95'), '.3f')} | {q.get('colors', '–')} | "
            f"{fmt(ratio, '.2f')} | {'; '.join(r.notes)} |")
    if ref.notes:
        lines += [""] + [f"Note: {n}." for n in ref.notes]
    return "\n".join(lines)


def record(ref: Reference, row: Row, args: argparse.Namespace, env: dict) -> dict:
    q = dict(row.quality or {})
    q.pop("fingerprint", None)
    return {
        "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "image": str(ref.path), "width": ref.width, "height": ref.height,
        "reference_decoder": ref.decoder, "predecode": ref.predecode,
        "reference_notes": ref.notes,
        "tool": row.tool, "k": row.k, "seed": args.seed, "runs": len(row.algo),
        "algo_seconds": row.algo, "whole_seconds": row.whole, "peak_rss_mb": row.rss,
        "algo_seconds_median": median(row.algo) if row.algo else None,
        "whole_seconds_median": median(row.whole) if row.whole else None,
        "peak_rss_mb_max": max(row.rss) if row.rss else None,
        **q,
        "colors_ok": (q.get("colors", 0) <= row.k) if q else None,
        "mse_runs": row.mse_runs, "runs_differ": row.runs_differ,
        "error": row.error, "notes": row.notes,
        "tool_report": row.report, "environment": env,
    }


def environment() -> dict:
    env = {"cores": os.cpu_count(), "python": platform.python_version(),
           "platform": platform.platform()}
    for mod in ("numpy", "PIL", "skimage"):
        try:
            env[mod] = __import__(mod).__version__
        except ImportError:
            pass
    return env


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", nargs="+", metavar="DIR_OR_FILE",
                    default=[str(REPO.parent / "shared" / "images" / n)
                             for n in ("picture0b.jpg", "sunset.jpg")],
                    help="a folder of photos or image files (default: <repo>/../shared/images/"
                         "picture0b.jpg and sunset.jpg)")
    ap.add_argument("--ks", default="16,64,256", help="comma-separated k values")
    ap.add_argument("--runs", type=int, default=3, help="runs per tool and k (median reported)")
    ap.add_argument("--tools", default=",".join(ALL_TOOLS), help="comma-separated tools")
    ap.add_argument("--out", default=str(HERE / "results" / "results.jsonl"),
                    help="JSON lines appended here, one per image, tool and k")
    ap.add_argument("--markdown", help="also write the tables to this file")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=1800.0,
                    help="seconds before one tool run is killed (default 1800)")
    ap.add_argument("--skip", default="", metavar="TOOL@K,...",
                    help="tool and k pairs not to run, e.g. opencv@256,kmeans_colors@256 "
                         "(both take hours at k=256 on 12 MP); shown as skipped")
    ap.add_argument("--predecode", action="store_true",
                    help="give every tool the same pixels: decode each input once with the "
                         "image crate to a PNG and have all tools read that PNG (exact quality "
                         "comparison; whole-process times then include PNG, not JPEG, decoding)")
    ap.add_argument("--keep", metavar="DIR", help="keep each tool's first output PNG here")
    ap.add_argument("--pixmeans", default=str(REPO / "target" / "release" / "pixmeans"))
    ap.add_argument("--peers", default=os.environ.get(
        "PEERS_BIN", str(HERE / "peers" / "target" / "release" / "peers")),
                    help="the peers binary; the `measure` launcher must sit beside it "
                         "(default: $PEERS_BIN or peers/target/release/peers)")
    ap.add_argument("--python", default=sys.executable, help="interpreter for py_peers.py")
    args = ap.parse_args()

    ks = [int(k) for k in args.ks.split(",") if k.strip()]
    if any(not 1 <= k <= 256 for k in ks):
        sys.exit("compare.py: every k must be 1..256")
    wanted = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = [t for t in wanted if t not in KNOWN_TOOLS]
    if unknown:
        sys.exit(f"compare.py: unknown tools {unknown}; known: {KNOWN_TOOLS}")
    skip: set[tuple[str, int]] = set()
    for item in filter(None, (x.strip() for x in args.skip.split(","))):
        tool, _, k = item.partition("@")
        if tool not in KNOWN_TOOLS or not k.isdigit():
            sys.exit(f"compare.py: --skip wants TOOL@K, got {item!r}")
        skip.add((tool, int(k)))
    if args.runs < 1:
        sys.exit("compare.py: --runs must be at least 1")
    peers = Path(args.peers)
    tools = Tools(Path(args.pixmeans), peers, peers.with_name("measure"), args.python, args.seed)
    if not tools.measure.exists():
        sys.exit(f"compare.py: no measure launcher at {tools.measure} (built with the peers; "
                 "see run.sh)")
    if any(t.startswith("pixmeans") for t in wanted) and not tools.pixmeans.exists():
        sys.exit(f"compare.py: no pixmeans binary at {tools.pixmeans} (cargo build --release)")
    if any(t in RUST_PEERS for t in wanted) and not tools.peers.exists():
        sys.exit(f"compare.py: no peers binary at {tools.peers} (see run.sh)")
    images = expand_images(args.images)
    out_path = Path(args.out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    keep = Path(args.keep) if args.keep else None
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
    env = environment()
    tables = []

    log(f"compare.py: {len(images)} image(s), k in {ks}, {args.runs} run(s), tools {wanted}; "
        f"{env['cores']} cores, load average {os.getloadavg()[0]:.2f}")
    for image in images:
        with tempfile.TemporaryDirectory(prefix="pixmeans-compare-") as tmp:
            work = Path(tmp)
            log(f"{image}: decoding the reference")
            ref, tool_input = make_reference(image, tools, work, args.predecode)
            for n in ref.notes:
                log(f"  note: {n}")
            rows = []
            for k in ks:
                for tool in wanted:
                    if (tool, k) in skip:
                        rows.append(Row(tool, k, notes=["skipped (--skip)"]))
                        continue
                    row = run_tool(tool, k, ref, tool_input, tools, args.runs, work,
                                   args.timeout, keep)
                    rows.append(row)
                    with out_path.open("a") as f:
                        f.write(json.dumps(record(ref, row, args, env)) + "\n")
            table = markdown_table(ref, rows, args.runs)
            tables.append(table)
            print(table + "\n", flush=True)
    if args.markdown:
        Path(args.markdown).write_text("\n\n".join(tables) + "\n")
    log(f"compare.py: results appended to {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""End to end against decoding alone: interleaved pairs of processes.

Each pair runs `examples/decode PHOTO` (the image crate's decoding, nothing
else) and then `pixmeans quantize PHOTO -k K -o OUT --force`, and times each
whole process by the wall clock. Interleaving keeps a drift in the machine's
speed from favouring either side. Prints every pair and the medians.

    cargo build --release -p pixmeans-cli -p pixmeans-io --examples --bins
    python3 bench/compare/end_to_end.py ../shared/images/sunset.jpg --pairs 15
"""

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    repo = Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("photo")
    ap.add_argument("-k", type=int, default=16, help="palette size (default 16)")
    ap.add_argument("--pairs", type=int, default=15, help="pairs to run (default 15)")
    ap.add_argument("--bin", type=Path, default=repo / "target" / "release",
                    help="where pixmeans and examples/decode are (default target/release)")
    a = ap.parse_args()
    out = Path(tempfile.mkdtemp()) / "out.png"
    decode = [str(a.bin / "examples" / "decode"), a.photo]
    quantize = [str(a.bin / "pixmeans"), "quantize", a.photo, "-k", str(a.k), "-o", str(out), "--force"]
    rows = []
    for _ in range(a.pairs):
        d, q = timed(decode), timed(quantize)
        rows.append((d, q))
        print(f"decode {d:.3f} s  quantize {q:.3f} s  ratio {q / d:.3f}", flush=True)
    d = statistics.median(r[0] for r in rows)
    q = statistics.median(r[1] for r in rows)
    ratios = sorted(r[1] / r[0] for r in rows)
    print(f"medians: decode {d:.3f} s, quantize {q:.3f} s, {q / d:.2f} times "
          f"(pairs {ratios[0]:.2f}-{ratios[-1]:.2f}, median {statistics.median(ratios):.2f})")


if __name__ == "__main__":
    main()

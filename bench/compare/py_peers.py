"""Run one Python peer of pixmeans on one image, as a user would.

    python py_peers.py sklearn|opencv IMG K OUT.png SEED

Loads IMG with Pillow (as RGB), clusters every pixel, rebuilds the image from
the rounded centres, writes OUT.png with Pillow and prints one JSON line:
{"tool", "version", "algo_seconds", "decode_seconds", "encode_seconds", ...}.

algo_seconds runs from the pixel array to (centres, one label per pixel): the
fit, which in both libraries also yields the labels. It excludes decoding,
reshaping to float, and rebuilding/encoding the output.

Part of bench/compare only; see README.md there for why these settings.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
from PIL import Image

# scikit-learn's default tolerance, which pixmeans uses too (--tol 1e-4).
SKLEARN_TOL = 1e-4
MAX_ITER = 300


def load(path: str) -> tuple[np.ndarray, float]:
    t0 = time.perf_counter()
    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB"))
    return rgb, time.perf_counter() - t0


def opencv_epsilon(data: np.ndarray, k: int, tol: float = SKLEARN_TOL) -> float:
    """The cv2.kmeans epsilon that matches scikit-learn's stopping rule.

    scikit-learn stops when the SUM over centres of their squared shifts is at
    most T = tol * mean(per-channel variance of the data). OpenCV squares
    epsilon and stops when the LARGEST single centre's squared shift is at most
    epsilon^2. Since max <= sum <= k * max, epsilon = sqrt(T / k) makes OpenCV
    stop only in a state where scikit-learn's rule holds too (sum <= k * T / k),
    and the two rules coincide when all centres move alike, as they do late in
    Lloyd's iterations.
    """
    var = float(np.mean(np.var(data, axis=0, dtype=np.float64)))
    return float(np.sqrt(tol * var / k))


def run_sklearn(pixels: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray, float, dict]:
    import sklearn
    from sklearn.cluster import KMeans

    data = pixels.astype(np.float64)  # 0..255, as the tutorials do it
    km = KMeans(n_clusters=k, init="k-means++", n_init=1, max_iter=MAX_ITER, tol=SKLEARN_TOL,
                random_state=seed)
    t0 = time.perf_counter()
    km.fit(data)
    labels = km.labels_
    algo = time.perf_counter() - t0
    extra = {
        "version": sklearn.__version__,
        "iterations": int(km.n_iter_),
        "inertia": float(km.inertia_),
        "settings": {"init": "k-means++", "n_init": 1, "max_iter": MAX_ITER, "tol": SKLEARN_TOL,
                     "algorithm": km.algorithm, "dtype": "float64", "random_state": seed},
    }
    return km.cluster_centers_, labels, algo, extra


def run_opencv(pixels: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray, float, dict]:
    import cv2

    data = np.ascontiguousarray(pixels, dtype=np.float32)
    eps = opencv_epsilon(data, k)  # the harness's choice, not timed
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, MAX_ITER, eps)
    cv2.setRNGSeed(seed)
    t0 = time.perf_counter()
    compactness, labels, centers = cv2.kmeans(data, k, None, criteria, 1, cv2.KMEANS_PP_CENTERS)
    algo = time.perf_counter() - t0
    extra = {
        "version": cv2.__version__,
        "compactness": float(compactness),
        "threads": cv2.getNumThreads(),
        "settings": {"flags": "KMEANS_PP_CENTERS", "attempts": 1, "max_iter": MAX_ITER,
                     "epsilon": eps, "epsilon_rule": "sqrt(1e-4 * mean channel variance / k)",
                     "dtype": "float32", "rng_seed": seed,
                     # OpenCV clamps maxCount to 100 whatever is asked.
                     "effective_max_iter": min(MAX_ITER, 100)},
    }
    return centers, labels.ravel(), algo, extra


def main(argv: list[str]) -> int:
    if len(argv) != 6 or argv[1] not in ("sklearn", "opencv"):
        print(__doc__, file=sys.stderr)
        return 2
    tool, path, k, out, seed = argv[1], argv[2], int(argv[3]), argv[4], int(argv[5])
    rgb, decode_seconds = load(path)
    h, w, _ = rgb.shape
    pixels = rgb.reshape(-1, 3)
    runner = run_sklearn if tool == "sklearn" else run_opencv
    centers, labels, algo, extra = runner(pixels, k, seed)

    t0 = time.perf_counter()
    palette = np.clip(np.rint(centers), 0, 255).astype(np.uint8)
    image = palette[labels].reshape(h, w, 3)
    Image.fromarray(image, "RGB").save(out, format="PNG")
    encode_seconds = time.perf_counter() - t0

    report = {"tool": tool, "k": k, "algo_seconds": algo, "decode_seconds": decode_seconds,
              "encode_seconds": encode_seconds, **extra}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

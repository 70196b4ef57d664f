"""Training of the Un-0 digit generator: class-conditional MMD between generated and real
digits, Adam, then quantization-aware fine-tuning of the couplings (straight-through rounding
to ``weight_bits``); seeded, single-threaded, numpy only.

Data: scikit-learn's 8x8 digits (shipped with the package, nothing downloaded), split once
(:func:`digits`, stratified, seed 0) into a training part (generator and quality classifier)
and a held-out part (the quality reference). The loss per step is the mean over the 10
classes of ``MMD^2`` between ``gen`` generated images of the class (fresh random phases) and
``gen`` real training images of the class, with the sum of three Gaussian kernels
``exp(-|x - y|^2 / h)``, ``h`` in :data:`BANDWIDTHS` (pixels in 0..1 units).

:data:`RUNS` names every saved parameter file; :func:`train_run` reproduces one from its name.
"""

import math
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .model import CLASSES, Net, Un0Params, backward, forward, mask, quantize, quantize_couplings

__all__ = ["TrainConfig", "RUNS", "digits", "mmd2", "train", "train_run", "save", "load",
           "params_path", "BANDWIDTHS"]

BANDWIDTHS = (1.0, 4.0, 16.0)
HERE = Path(__file__).parent


@dataclass(frozen=True)
class TrainConfig:
    """steps (float) + qat_steps (quantized couplings), ``gen`` images per class per step,
    Adam learning rates per parameter group, the seed. ``reservoir``: couplings, omegas and
    conditioning phases drawn at random (their std matched to ``coupling_std`` /
    ``omega_std``) and frozen; only the readout is trained."""
    steps: int = 800
    qat_steps: int = 200
    gen: int = 24
    lr_K: float = 0.05
    lr_w: float = 0.05
    lr_phi: float = 0.02
    lr_W: float = 0.01
    seed: int = 0
    reservoir: bool = False
    coupling_std: float = 4.0
    omega_std: float = 4.0


#: The saved parameter files: name -> (generator, training).
RUNS = {
    "n16": (Un0Params(main=16), TrainConfig()),
    "n48": (Un0Params(main=48), TrainConfig()),
    "n128": (Un0Params(main=128), TrainConfig(steps=600)),     # 3 minutes
    "n48_t1": (Un0Params(main=48, epochs=1), TrainConfig()),
    # T = 1 with an 8x larger step (shift 6 - 3): about the total time of the 10 epochs
    "n48_t1_s3": (Un0Params(main=48, epochs=1, shift=3), TrainConfig()),
    "n48_reservoir": (Un0Params(main=48), TrainConfig(qat_steps=0, reservoir=True)),
    # the SoC's 16-cell array (sim.soc.rtl.SIM_PARAMS): 12 main + 4 conditioning cells (8 + 8
    # scored 0.865 array-exact, 14 + 2 0.639, against 0.908; sim/soc/demos.py un0_demo_data)
    "n12c4": (Un0Params(main=12, cond=4), TrainConfig()),
}


def digits():
    """(X_train, y_train, X_test, y_test): scikit-learn's digits (integers 0..16), stratified
    2/3 : 1/3 split with seed 0."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    Xa, Xb, ya, yb = train_test_split(X.astype(np.int64), y, test_size=1 / 3, stratify=y,
                                      random_state=0)
    return Xa, ya, Xb, yb


def mmd2(X: np.ndarray, Y: np.ndarray):
    """(MMD^2 between the rows of X and Y, its gradient with respect to X): the biased
    estimate with the kernels of :data:`BANDWIDTHS`."""
    b, m = len(X), len(Y)

    def kern(A, B):
        d = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2 * A @ B.T
        d = np.maximum(d, 0)
        ks = [np.exp(-d / h) for h in BANDWIDTHS]
        return sum(ks), [k / h for k, h in zip(ks, BANDWIDTHS)]

    kxx, dxx = kern(X, X)
    kxy, dxy = kern(X, Y)
    kyy, _ = kern(Y, Y)
    loss = kxx.mean() - 2 * kxy.mean() + kyy.mean()
    # d/dx_a exp(-|x_a - z|^2 / h) = -2 (x_a - z) exp(.) / h
    gx = np.zeros_like(X)
    for wxx, wxy in zip(dxx, dxy):
        gx += (-2 / b**2) * 2 * (wxx.sum(1)[:, None] * X - wxx @ X)
        gx -= (-2 / (b * m)) * 2 * (wxy.sum(1)[:, None] * X - wxy @ Y)
    return loss, gx


class Adam:
    def __init__(self, lrs: dict, b1=0.9, b2=0.999, eps=1e-8):
        self.lrs, self.b1, self.b2, self.eps, self.t = lrs, b1, b2, eps, 0
        self.m, self.v = {}, {}

    def step(self, params: dict, grads: dict):
        self.t += 1
        for k, lr in self.lrs.items():
            g = grads[k]
            m = self.m[k] = self.b1 * self.m.get(k, 0) + (1 - self.b1) * g
            v = self.v[k] = self.b2 * self.v.get(k, 0) + (1 - self.b2) * g * g
            mh = m / (1 - self.b1 ** self.t)
            vh = v / (1 - self.b2 ** self.t)
            params[k] -= lr * mh / (np.sqrt(vh) + self.eps)


def init_net(u: Un0Params, tc: TrainConfig, rng) -> Net:
    """Random start: small couplings and omegas (``reservoir``: the frozen random ones),
    uniform conditioning phases, a small readout."""
    K = rng.normal(0, tc.coupling_std if tc.reservoir else 1.0, size=(u.main, u.n)) * mask(u)
    w = rng.normal(0, tc.omega_std if tc.reservoir else 1.0, size=u.main)
    if tc.reservoir:
        K = quantize_couplings(u, K)
        w = np.rint(w * u.p.sin_amp) / u.p.sin_amp
    phi = rng.uniform(0, 2 * math.pi, size=(CLASSES, u.cond))
    W = rng.normal(0, 0.3 / math.sqrt(2 * u.main), size=(64, 2 * u.main))
    return Net(K, w, phi, W, np.full(64, 0.3))


def train(u: Un0Params, tc: TrainConfig, *, log=None) -> tuple[Net, Net, list]:
    """Train; returns (the float network after ``steps``, the network after the quantized
    fine-tuning, the loss history ``[(step, loss)]``). Deterministic for a given ``tc.seed``
    (one BLAS thread)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return _train(u, tc, log)


def _train(u, tc, log):
    rng = np.random.default_rng(tc.seed)
    Xa, ya, _, _ = digits()
    real = [Xa[ya == c] / 16.0 for c in range(CLASSES)]
    net = init_net(u, tc, rng)
    lrs = {"W": tc.lr_W, "b": tc.lr_W}
    if not tc.reservoir:
        lrs.update(K=tc.lr_K, w=tc.lr_w, phi=tc.lr_phi)
    opt = Adam(lrs)
    labels = np.repeat(np.arange(CLASSES), tc.gen)
    hist, float_net = [], None
    t0 = time.monotonic()
    for step in range(tc.steps + tc.qat_steps):
        if step == tc.steps:
            float_net = net.copy()
        qat = step >= tc.steps
        theta0 = rng.uniform(0, 2 * math.pi, size=(len(labels), u.main))
        x, traj, K = forward(u, net, theta0, labels, quantized=qat)
        gx = np.zeros_like(x)
        loss = 0.0
        for c in range(CLASSES):
            sel = slice(c * tc.gen, (c + 1) * tc.gen)
            Y = real[c][rng.choice(len(real[c]), tc.gen, replace=False)]
            lc, gc = mmd2(x[sel], Y)
            loss += lc / CLASSES
            gx[sel] = gc / CLASSES
        g = backward(u, net, traj, K, labels, gx, quantized=qat)
        params, grads = net.arrays(), g.arrays()
        opt.step(params, grads)
        if step % 50 == 0 or step == tc.steps + tc.qat_steps - 1:
            hist.append((step, float(loss)))
            if log:
                log(f"step {step:4d} loss {loss:.4f} ({time.monotonic() - t0:.0f} s)")
    return (float_net if float_net is not None else net.copy()), net, hist


def params_path(name: str) -> Path:
    return HERE / f"{name}.npz"


def save(path, u: Un0Params, float_net: Net, net: Net, tc: TrainConfig, hist):
    """Write the float parameters (``float_*``), the quantization-aware ones and the array
    key (what configuration they were made for)."""
    key = u.key()
    arrays = {f"float_{k}": v.astype(np.float32) for k, v in float_net.arrays().items()}
    arrays.update({k: v.astype(np.float32) for k, v in net.arrays().items()})
    arrays.update({f"key_{k}": np.int64(v) for k, v in key.items()})
    arrays["train_seed"] = np.int64(tc.seed)
    arrays["loss"] = np.asarray(hist, dtype=np.float64)
    np.savez_compressed(path, **arrays)


def load(path, u: Un0Params) -> tuple[Net, Net]:
    """(float network, quantization-aware network) from a parameter file; a missing file or
    one made for another configuration is a one-line ValueError."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"parameter file {path} not found (python -m sim.onn.un0 train)")
    with np.load(path) as z:
        got = {k[4:]: int(z[k]) for k in z.files if k.startswith("key_")}
        want = u.key()
        if got != want:
            diff = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
            raise ValueError(f"{path.name} was made for another array configuration "
                             f"(file vs wanted: {diff})")
        names = ("K", "w", "phi", "W", "b")
        f = Net(*(z[f"float_{k}"].astype(np.float64) for k in names))
        q = Net(*(z[k].astype(np.float64) for k in names))
    return f, q


def train_run(name: str, *, log=None, out: Path | None = None):
    """Train the run ``name`` of :data:`RUNS` and save it (``out`` or the package's file);
    returns (path, CPU seconds). The reservoir's coupling and omega spread is that of the
    trained ``n48`` file."""
    u, tc = RUNS[name]
    if tc.reservoir:
        _, ref = load(params_path("n48"), RUNS["n48"][0])
        Kq = quantize(RUNS["n48"][0], ref)
        main = Kq.J[:u.main]
        tc = replace(tc, coupling_std=float(main[mask(u) > 0].std()),
                     omega_std=float((Kq.omega[:u.main] / u.p.sin_amp).std()))
    t0 = time.process_time()
    f, q, hist = train(u, tc, log=log)
    path = out or params_path(name)
    save(path, u, f, q, tc, hist)
    return path, time.process_time() - t0

# Ref: Unconventional AI, "Un-0" (June 2026): Kuramoto image generation with learned couplings,
#      natural frequencies and class-conditioning oscillators; docs/onn.md (the array's
#      Kuramoto epoch, bit for bit in sim/onn/model.py).
"""The Un-0 digit generator on the oscillator array: a float model to train and the array-exact
integer generator to run.

Cells ``0..N-1`` are the main block, ``N..N+C-1`` the conditioning block. A class ``y`` sets
the conditioning cells to its phases ``phi[y]``; they stay there because they are held (the
HOLD register of arrays built ``with_hold``, :func:`hold_mask`), and on an array without it
because their coupling row and omega are zero and the run has no noise. The host writes every
phase (the main cells' from :func:`start_phases`, the conditioning cells' of the class), START
with keep_phases runs ``T`` Kuramoto epochs (momentum 0, noise 0, CONFIG.shift ``s``):

    theta_i <- theta_i + rnd((omega_i + sum_{j != i} K_ij SIN[(theta_j - theta_i) >> 4]) >> s)

(``sim.onn.model.kuramoto_epoch``). The readout is linear in the array's SIN and COS of each
main cell's final phase (the SINCOS register), in integers:

    pixel = clip((Wq . [SIN, COS] + bq + 2**(R-1)) >> R, 0, 16)

The float model is the same map with real phases, the exact sine, real couplings in the
array's units and the sine table's truncation lag ``delta`` (the table is addressed by the top
``lut_bits`` of a phase, which reads on average half a table step behind): one float epoch is

    phi_i <- phi_i + c (w_i + sum_j K_ij sin(phi_j - phi_i - delta)),  c = 2 pi A / 2**(PB + s)

with ``A = sin_amp`` and ``omega_i = A w_i``; it is evaluated through two matrix products
(``sin(a - b) = sin a cos b - cos a sin b``), so one epoch costs ``O(B N n)``, and
:func:`backward` is its hand-written gradient (checked against finite differences in
tb/test_un0.py).
"""

import math
from dataclasses import dataclass, field

import numpy as np

from hdl.onn import Mode, OnnParams, RunConfig, epoch_cycles, lfsr_seed, start_cycles
from sim.onn import model as onn

__all__ = ["Un0Params", "Net", "Quantized", "default_shift", "quantize", "float_images",
           "forward", "backward", "start_phases", "exact_run", "exact_images", "readout_int",
           "run_config", "clocks_per_image", "to_pixels", "mask", "quantize_couplings",
           "PIXELS", "CLASSES", "PIXEL_MAX", "hold_mask", "load_accesses", "readout_accesses"]

PIXELS = 64
CLASSES = 10
PIXEL_MAX = 16      # scikit-learn's digits: integers 0..16


def default_shift(main: int, p: OnnParams | None = None) -> int:
    """CONFIG.shift for ``main`` cells: all couplings at full scale and in phase move a cell by
    about half a turn per epoch (``main * 2**(WB-1) * A * 2 / 2**PB = 2**s``, rounded)."""
    p = p or OnnParams(n=main + 1)
    full = main * (1 << (p.weight_bits - 1)) * p.sin_amp * 2 / (1 << p.phase_bits)
    return max(0, min(p.max_shift, round(math.log2(full))))


@dataclass(frozen=True)
class Un0Params:
    """Generator configuration (shared by the model, the training, the RTL bench and the
    tests).

    main    main cells N (their sin/cos are read out)
    cond    conditioning cells C (fixed phases per class)
    epochs  Kuramoto epochs T per image
    shift   CONFIG.shift; -1: :func:`default_shift`
    array   the array's build parameters other than n (widths); n = main + cond
    """
    main: int = 48
    cond: int = 8
    epochs: int = 10
    shift: int = -1
    array: OnnParams = field(default_factory=lambda: OnnParams(n=2))

    def __post_init__(self):
        for name, lo in (("main", 1), ("cond", 1), ("epochs", 1)):
            v = getattr(self, name)
            if not (isinstance(v, int) and v >= lo):
                raise ValueError(f"{name} must be an integer >= {lo}, not {v!r}")
        if self.shift == -1:
            object.__setattr__(self, "shift", default_shift(self.main, self.array))
        if not 0 <= self.shift <= self.array.max_shift:
            raise ValueError(f"shift must lie in 0..{self.array.max_shift}, not {self.shift!r}")

    @property
    def n(self) -> int:
        return self.main + self.cond

    @property
    def p(self) -> OnnParams:
        """The array these runs need: ``n = main + cond`` cells, the other widths of ``array``."""
        from dataclasses import replace
        return replace(self.array, n=self.n)

    @property
    def step(self) -> float:
        """``c``: radians per epoch of one coupling-sum unit (``A`` sine units)."""
        p = self.p
        return 2 * math.pi * p.sin_amp / (1 << (p.phase_bits + self.shift))

    @property
    def lag(self) -> float:
        """``delta``: the mean phase lag of the sine table's truncated address, radians."""
        p = self.p
        drop = p.phase_bits - p.lut_bits
        return 2 * math.pi * ((1 << drop) - 1) / 2 / (1 << p.phase_bits)

    def key(self) -> dict:
        """What a parameter file must match to run on this array configuration."""
        p = self.p
        return {"main": self.main, "cond": self.cond, "epochs": self.epochs,
                "shift": self.shift, "n": p.n, "phase_bits": p.phase_bits,
                "lut_bits": p.lut_bits, "sin_bits": p.sin_bits,
                "weight_bits": p.weight_bits, "omega_bits": p.omega_bits}


@dataclass
class Net:
    """Float parameters: ``K`` (N x n, coupling units, diagonal unused; row i is main cell i),
    ``w`` (N, omega / A), ``phi`` (10 x C, radians), readout ``W`` (64 x 2N: sin then cos
    columns) and ``b`` (64), pixels in units of ``PIXEL_MAX`` (0..1)."""
    K: np.ndarray
    w: np.ndarray
    phi: np.ndarray
    W: np.ndarray
    b: np.ndarray

    def copy(self) -> "Net":
        return Net(*(a.copy() for a in (self.K, self.w, self.phi, self.W, self.b)))

    def arrays(self) -> dict:
        return {"K": self.K, "w": self.w, "phi": self.phi, "W": self.W, "b": self.b}


@dataclass
class Quantized:
    """What the array and the integer readout run: ``J`` (n x n couplings in ``weight_bits``,
    zero conditioning rows and diagonal), ``omega`` (n, zero for conditioning cells),
    ``theta_c`` (10 x C conditioning phases), readout ``Wq`` (64 x 2N, int8), ``bq`` (64) and
    the readout shift ``R``."""
    J: np.ndarray
    omega: np.ndarray
    theta_c: np.ndarray
    Wq: np.ndarray
    bq: np.ndarray
    R: int


def mask(u: Un0Params) -> np.ndarray:
    """1 where a main cell i may couple to cell j (every j but itself)."""
    m = np.ones((u.main, u.n))
    m[np.arange(u.main), np.arange(u.main)] = 0
    return m


def quantize_couplings(u: Un0Params, K: np.ndarray) -> np.ndarray:
    """Round to the nearest integer and clip to the array's ``weight_bits`` (the forward pass
    of the quantization-aware training)."""
    lo, hi = u.p.weight_range
    return np.clip(np.rint(K), lo, hi) * mask(u)


def quantize(u: Un0Params, net: Net) -> Quantized:
    p = u.p
    J = np.zeros((u.n, u.n), dtype=np.int64)
    J[:u.main] = quantize_couplings(u, net.K).astype(np.int64)
    lo = -(1 << (p.omega_bits - 1))
    omega = np.zeros(u.n, dtype=np.int64)
    omega[:u.main] = np.clip(np.rint(net.w * p.sin_amp), lo, -lo - 1).astype(np.int64)
    turn = 1 << p.phase_bits
    theta_c = np.rint(net.phi / (2 * math.pi) * turn).astype(np.int64) % turn
    # readout: pixel = 16 (W [sin, cos] + b) with sin = SIN / A; int8 weights, scale 2**R
    Wp = net.W * PIXEL_MAX / p.sin_amp
    big = float(np.abs(Wp).max()) or 1.0
    R = max(0, int(math.floor(math.log2(127 / big))))
    Wq = np.clip(np.rint(Wp * (1 << R)), -127, 127).astype(np.int64)
    bq = np.rint(net.b * PIXEL_MAX * (1 << R)).astype(np.int64)
    return Quantized(J, omega, theta_c, Wq, bq, R)


# ------------------------------------------------------------------------------ float model
def forward(u: Un0Params, net: Net, theta0: np.ndarray, labels: np.ndarray, *,
            quantized: bool = False):
    """Float generator: ``theta0`` (B x N) main start phases (radians), ``labels`` (B).
    Returns (images B x 64 in 0..1 units, unclipped; the phase trajectory T+1 x B x n; the
    couplings used)."""
    K = quantize_couplings(u, net.K) if quantized else net.K * mask(u)
    phi = np.concatenate([theta0, net.phi[labels]], axis=1)
    traj = [phi]
    c, d = u.step, u.lag
    for _ in range(u.epochs):
        s, co = np.sin(phi), np.cos(phi)
        P, Q = s @ K.T, co @ K.T                         # (B, N)
        um = phi[:, :u.main] + d
        drive = net.w + np.cos(um) * P - np.sin(um) * Q
        phi = phi.copy()
        phi[:, :u.main] += c * drive
        traj.append(phi)
    main = phi[:, :u.main] - d
    feats = np.concatenate([np.sin(main), np.cos(main)], axis=1)
    return feats @ net.W.T + net.b, np.stack(traj), K


def backward(u: Un0Params, net: Net, traj: np.ndarray, K: np.ndarray, labels: np.ndarray,
             g_img: np.ndarray, *, quantized: bool = False) -> Net:
    """Gradient of a loss with respect to every parameter, given ``dL/dimages`` (B x 64) and
    the trajectory and couplings :func:`forward` returned. The couplings' gradient is the
    straight-through one when ``K`` was quantized (zero where the latent value is clipped)."""
    N, c, d = u.main, u.step, u.lag
    main = traj[-1][:, :N] - d
    sm, cm = np.sin(main), np.cos(main)
    feats = np.concatenate([sm, cm], axis=1)
    gW = g_img.T @ feats
    gb = g_img.sum(axis=0)
    gf = g_img @ net.W
    G = np.zeros_like(traj[-1])
    G[:, :N] = gf[:, :N] * cm - gf[:, N:] * sm
    gK = np.zeros_like(net.K)
    gw = np.zeros_like(net.w)
    for t in range(u.epochs - 1, -1, -1):
        phi = traj[t]
        s, co = np.sin(phi), np.cos(phi)
        um = phi[:, :N] + d
        su, cu = np.sin(um), np.cos(um)
        P, Q = s @ K.T, co @ K.T
        Gm = c * G[:, :N]
        gw += Gm.sum(axis=0)
        gP, gQ = Gm * cu, -Gm * su
        gK += gP.T @ s + gQ.T @ co
        Gn = G + co * (gP @ K) - s * (gQ @ K)            # through the senders' phases
        Gn[:, :N] += Gm * (-su * P - cu * Q)             # through the receivers' phases
        G = Gn
    gphi = np.zeros_like(net.phi)
    np.add.at(gphi, labels, G[:, N:])
    gK *= mask(u)
    lo, hi = u.p.weight_range
    if quantized:
        gK *= (net.K >= lo - 0.5) & (net.K <= hi + 0.5)
    return Net(gK, gw, gphi, gW, gb)


def to_pixels(x: np.ndarray) -> np.ndarray:
    """Float images (0..1 units) to the digits' integers 0..16."""
    return np.clip(np.rint(x * PIXEL_MAX), 0, PIXEL_MAX).astype(np.int64)


def float_images(u: Un0Params, net: Net, labels, rng, *, quantized: bool = False) -> np.ndarray:
    """Images (B x 64, integers 0..16) of the float generator from uniform random phases."""
    labels = np.asarray(labels)
    theta0 = rng.uniform(0, 2 * math.pi, size=(len(labels), u.main))
    x, _, _ = forward(u, net, theta0, labels, quantized=quantized)
    return to_pixels(x)


# ------------------------------------------------------------------------------ array-exact
def run_config(u: Un0Params, seed: int = 1) -> RunConfig:
    """Registers of a generator run: Kuramoto, CONFIG.shift, no noise, no momentum."""
    return RunConfig(mode=Mode.KURAMOTO, shift=u.shift, seed=seed).check(u.p)


def start_phases(u: Un0Params, seeds) -> np.ndarray:
    """Start phases of the main cells (B x N), written by the host: one stream of the cells'
    LFSR (``sim.onn.model.lfsr_step``) per image, started at ``lfsr_seed(seed, 0)`` and
    advanced 32 steps per cell (a fresh word each), phase = the word's top ``phase_bits``.

    Not START's own draw: cell i's LFSR starts at ``seed ^ c_i`` and the LFSR is linear over
    GF(2), so after the draw every cell's phase is ``r ^ d_i`` with one ``r`` per run and
    constants ``d_i``: only ``2**phase_bits`` distinct starts, all one XOR pattern apart."""
    p = u.p
    seeds = np.asarray(seeds, dtype=np.int64)
    s = np.asarray([lfsr_seed(int(v), 0) for v in seeds.ravel()], dtype=np.uint64)
    out = np.empty((s.size, u.main), dtype=np.int64)
    drop = np.uint64(32 - p.phase_bits)
    for i in range(u.main):
        s = onn.lfsr_step(s, 32)
        out[:, i] = (s >> drop).astype(np.int64)
    return out.reshape(seeds.shape + (u.main,))


def hold_mask(u: Un0Params) -> np.ndarray:
    """The HOLD bits of a run: the conditioning cells ``N..N+C-1``."""
    return np.arange(u.n) >= u.main


def exact_run(u: Un0Params, q: Quantized, labels, seeds) -> np.ndarray:
    """Final phases (B x n) of the integer golden model (``sim.onn.model``), one image per
    (label, seed): the host writes the main cells' :func:`start_phases` and the label's
    conditioning phases, holds the conditioning cells, START with keep_phases runs ``T``
    epochs. (Without the hold the phases are the same: their rows and omegas are zero.)"""
    p = u.p
    labels = np.asarray(labels, dtype=np.int64)
    cfg = run_config(u)
    J = onn.couplings(p, q.J)
    theta = np.concatenate([start_phases(u, seeds), q.theta_c[labels]], axis=-1)
    hold = hold_mask(u)
    st = onn.init_state(p, cfg, p.n, theta=theta, seeds=np.zeros(len(labels), dtype=np.int64),
                        hold=hold)
    for _ in range(u.epochs):
        st = onn.epoch(p, cfg, J, st, q.omega, hold)
    return st.theta


def readout_int(u: Un0Params, q: Quantized, sin: np.ndarray, cos: np.ndarray) -> np.ndarray:
    """Integer pixels from the main cells' SIN and COS (B x N each, the SINCOS register)."""
    f = np.concatenate([np.asarray(sin, dtype=np.int64), np.asarray(cos, dtype=np.int64)],
                       axis=-1)
    acc = f @ q.Wq.T + q.bq
    if q.R:
        acc = (acc + (1 << (q.R - 1))) >> q.R
    return np.clip(acc, 0, PIXEL_MAX)


def exact_images(u: Un0Params, q: Quantized, labels, seeds):
    """(final phases B x n, pixels B x 64) of the array-exact generator."""
    theta = exact_run(u, q, labels, seeds)
    s, c = onn.sincos(u.p, theta[:, :u.main])
    return theta, readout_int(u, q, s, c)


def clocks_per_image(u: Un0Params) -> int:
    """Array busy clocks per image: START with keep_phases, then ``T`` Kuramoto epochs (the
    CSR writes of the ``n`` phases and the readout's reads are bus clocks, not counted)."""
    return start_cycles(True) + u.epochs * epoch_cycles(u.p, Mode.KURAMOTO)


def load_accesses(u: Un0Params) -> int:
    """Bus writes that set up one image: CELL, the ``n`` PHASE writes (PHASE advances CELL) and
    CMD (START with keep_phases; EPOCHS, the couplings, omegas and HOLD are written once per
    run); the STATUS polls that wait for done come on top."""
    return 1 + u.n + 1


def readout_accesses(u: Un0Params) -> int:
    """Bus accesses that read one image's SIN and COS: a CELL write, then one SINCOS_INC read
    per main cell (``2 N`` with a CELL write and a SINCOS read per cell)."""
    return 1 + u.main

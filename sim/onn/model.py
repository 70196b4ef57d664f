# Ref: T. Wang, J. Roychowdhury, UCNC 2019 (OIM); M. Abernot et al., Front. Neurosci. 2021
#      (digital ONN); J. J. Hopfield, PNAS 1982 (Hebbian storage, sign update); K. Y. Camsari
#      et al., Phys. Rev. X 2017 (p-bits, the PBIT mode).
"""Integer-exact golden model of the oscillator-cell array (``hdl/onn/``), numpy int64.

The RTL will be compared with :func:`epoch` after every epoch, so this file computes exactly what
the hardware computes, in the same order of rounding (integer sums are order-free). The
equations are in ``docs/onn.md``; in short, per epoch ``t`` and cell ``i``:

- every cell's LFSR advances ``lfsr_steps`` steps; ``r_i`` = low 16 bits of the state, signed;
  ``eta_i = (r_i * a(t)) >> 15`` (floor), ``a(t) = max(0, a0 - ((t * noise_dec) >> 8))``;
- OIM:      ``x_i = sum_{j != i} J_ij SIN[(theta_j - theta_i) >> (PB - LB)] - ((ks(t) SIN[(2
  theta_i) >> (PB - LB)]) >> 4) + eta_i``, ``ks(t) = min(ks_max, (t * ks_inc) >> 8)``;
- KURAMOTO: ``x_i = omega_i + sum_{j != i} J_ij SIN[...] + eta_i``;
- both:     ``v_i <- v_i - (v_i >> m) + x_i`` (momentum m > 0; ``v_i <- x_i`` when m = 0),
            ``theta_i <- (theta_i + ((v_i + 2**(s-1)) >> s)) mod 2**PB`` (``v_i`` when s = 0);
- ONN: see :func:`onn_epoch`;
- PBIT: see :func:`pbit_epoch`;
- held cells (``hold``, the HOLD register of builds ``with_hold``): their phase and velocity
  are left as they are by every epoch and by START's draw; they still drive the other cells.

Every function takes a batch of independent runs along leading axes of ``theta`` (shape
``(..., m)``) with one coupling matrix ``J`` (``m x m``, ``m <= n``): a graph smaller than the
array uses cells ``0..m-1``; the other cells hold zero couplings, influence nobody, and are not
simulated (their presence changes nothing for cells ``0..m-1``, because cell i's LFSR seed
depends only on i).
"""

from dataclasses import dataclass

import numpy as np

from hdl.onn import (
    KS_FRAC,
    LFSR_TAPS,
    NOISE_SAMPLE_BITS,
    SCHED_FRAC,
    Mode,
    OnnParams,
    RunConfig,
    lfsr_seed,
    sin_table,
)

__all__ = ["State", "lfsr_step", "lfsr_init", "noise_sample", "ks_at", "amp_at", "couplings",
           "init_state", "epoch", "oim_epoch", "kuramoto_epoch", "onn_epoch", "pbit_epoch", "run",
           "spins", "phases_from_spins", "sincos", "hebbian", "lut", "epoch_noise", "round_shift",
           "coupling_sum", "held"]


# ------------------------------------------------------------------------------ tables
def lut(p: OnnParams) -> np.ndarray:
    return np.asarray(sin_table(p), dtype=np.int64)


# ------------------------------------------------------------------------------ LFSR
def lfsr_step(state: np.ndarray, steps: int = 1) -> np.ndarray:
    """Advance 32-bit Galois LFSRs (right shift; XOR LFSR_TAPS when a 1 falls out)."""
    s = np.asarray(state, dtype=np.uint64)
    taps = np.uint64(LFSR_TAPS)
    one = np.uint64(1)
    for _ in range(steps):
        out = s & one
        s = (s >> one) ^ (taps * out)
    return s


def lfsr_init(seed: int, cells: int, shape=()) -> np.ndarray:
    """Initial LFSR states, shape ``shape + (cells,)``; ``seed`` may be an array of shape
    ``shape`` (one seed per run)."""
    seeds = np.broadcast_to(np.asarray(seed, dtype=np.int64), shape)
    out = np.empty(tuple(shape) + (cells,), dtype=np.uint64)
    for idx in np.ndindex(*shape) if shape else [()]:
        out[idx] = [lfsr_seed(int(seeds[idx]), i) for i in range(cells)]
    return out


def noise_sample(state: np.ndarray) -> np.ndarray:
    """The low NOISE_SAMPLE_BITS of each state as a two's-complement integer."""
    r = (np.asarray(state, dtype=np.uint64) & np.uint64((1 << NOISE_SAMPLE_BITS) - 1))
    r = r.astype(np.int64)
    return np.where(r >= 1 << (NOISE_SAMPLE_BITS - 1), r - (1 << NOISE_SAMPLE_BITS), r)


# ------------------------------------------------------------------------------ schedules
def ks_at(cfg: RunConfig, t: int) -> int:
    return min(cfg.ks_max, (t * cfg.ks_inc) >> SCHED_FRAC)


def amp_at(cfg: RunConfig, t: int) -> int:
    return max(0, cfg.noise_amp - ((t * cfg.noise_dec) >> SCHED_FRAC))


# ------------------------------------------------------------------------------ state
@dataclass(frozen=True)
class State:
    """Everything the array holds between epochs: phases, LFSR states, the epoch counter."""
    theta: np.ndarray   # int64, (..., m), each in 0..2**phase_bits-1
    lfsr: np.ndarray    # uint64, (..., m)
    t: int = 0
    vel: np.ndarray | int = 0   # int64, (..., m): the velocity (momentum); START clears it


def couplings(p: OnnParams, J) -> np.ndarray:
    """Validate a coupling matrix for the array and return it with a zero diagonal (the cells
    skip j = i, so the diagonal the host writes never matters)."""
    J = np.array(J, dtype=np.int64)
    if J.ndim != 2 or J.shape[0] != J.shape[1]:
        raise ValueError(f"couplings must be a square matrix, not shape {J.shape}")
    if J.shape[0] > p.n:
        raise ValueError(f"{J.shape[0]} cells needed but the array has n={p.n}")
    lo, hi = p.weight_range
    np.fill_diagonal(J, 0)
    if J.size and (J.min() < lo or J.max() > hi):
        bad = J.min() if J.min() < lo else J.max()
        raise ValueError(f"coupling {bad} does not fit weight_bits={p.weight_bits} "
                         f"({lo}..{hi})")
    return J


def held(hold, m: int) -> np.ndarray | None:
    """The hold mask as ``m`` booleans (None: no cell held)."""
    if hold is None:
        return None
    h = np.asarray(hold, dtype=bool)
    if h.shape != (m,):
        raise ValueError(f"hold must have one entry per cell ({m}), not shape {h.shape}")
    return h if h.any() else None


def init_state(p: OnnParams, cfg: RunConfig, m: int, theta=None, seeds=None, *, hold=None,
               draw: bool | None = None) -> State:
    """State after START: LFSRs seeded from ``cfg.seed``, or from ``seeds`` (an array: one
    independent run per entry, batch shape = its shape). Phases are ``theta`` if given
    (host-written, START with keep_phases), else drawn: each LFSR advances ``lfsr_steps`` and
    the phase is the state's low ``phase_bits`` bits (uniform, so almost never on the 0 / pi
    fixed points). ``draw`` (default: ``theta is None``) draws even though ``theta`` is given:
    START without keep_phases, where the held cells (``hold``) keep their phases ``theta``."""
    seeds = np.asarray(cfg.seed if seeds is None else seeds, dtype=np.int64)
    lf = lfsr_init(seeds, m, seeds.shape)
    hold = held(hold, m)
    draw = theta is None if draw is None else draw
    if theta is not None:
        th = np.broadcast_to(np.asarray(theta, dtype=np.int64), seeds.shape + (m,)).copy()
        if th.size and (th.min() < 0 or th.max() >= 1 << p.phase_bits):
            raise ValueError(f"phases must lie in 0..{(1 << p.phase_bits) - 1}")
    elif hold is not None:
        raise ValueError("held cells keep their phases through START's draw: give theta")
    if draw:
        lf = lfsr_step(lf, p.lfsr_steps)
        new = (lf & np.uint64((1 << p.phase_bits) - 1)).astype(np.int64)
        th = new if hold is None else np.where(hold, th, new)
    return State(th, lf, 0)


def epoch_noise(p: OnnParams, cfg: RunConfig, st: State):
    """This epoch's LFSR states and noise: ``(r * a(t)) >> 15`` with ``r`` the low sample;
    PBIT: ``((r + r_hi) * a(t)) >> 16`` with ``r_hi`` the high 16 bits of the state as a
    second sample (their mean: a triangular distribution, same range)."""
    lf = lfsr_step(st.lfsr, p.lfsr_steps)
    if Mode(cfg.mode) == Mode.PBIT:
        r2 = noise_sample(lf) + noise_sample(lf >> np.uint64(NOISE_SAMPLE_BITS))
        return lf, (r2 * amp_at(cfg, st.t)) >> NOISE_SAMPLE_BITS
    eta = (noise_sample(lf) * amp_at(cfg, st.t)) >> (NOISE_SAMPLE_BITS - 1)
    return lf, eta


def round_shift(x: np.ndarray, s: int) -> np.ndarray:
    return (x + (1 << (s - 1))) >> s if s else x


def coupling_sum(p: OnnParams, J: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """acc_i = sum_j J_ij SIN[((theta_j - theta_i) mod 2**PB) >> (PB - LB)] (J_ii = 0)."""
    mask = (1 << p.phase_bits) - 1
    drop = p.phase_bits - p.lut_bits
    table = lut(p).astype(np.int32)
    th = theta.astype(np.int32) if p.phase_bits < 31 else theta
    idx = ((th[..., None, :] - th[..., :, None]) & mask) >> drop      # (..., i, j)
    prod = table[idx] * J.astype(np.int32)
    return prod.sum(axis=-1, dtype=np.int64)


def _step(p: OnnParams, cfg: RunConfig, st: State, lf, x, hold=None) -> State:
    """The phase update of OIM and Kuramoto from the force ``x``: the velocity ``v = v - (v >>
    m) + x`` (m = ``cfg.momentum``; ``v = x`` when m = 0), then ``theta += rnd(v >> shift)``;
    held cells keep both."""
    v = st.vel - (st.vel >> cfg.momentum) + x if cfg.momentum else x
    mask = (1 << p.phase_bits) - 1
    theta = (st.theta + round_shift(v, cfg.shift)) & mask
    hold = held(hold, st.theta.shape[-1])
    if hold is not None:
        theta = np.where(hold, st.theta, theta)
        v = np.where(hold, st.vel, v)
    return State(theta, lf, st.t + 1, v)


def oim_epoch(p: OnnParams, cfg: RunConfig, J: np.ndarray, st: State, hold=None) -> State:
    mask = (1 << p.phase_bits) - 1
    lf, eta = epoch_noise(p, cfg, st)
    acc = coupling_sum(p, J, st.theta)
    shil = lut(p)[((2 * st.theta) & mask) >> (p.phase_bits - p.lut_bits)]
    return _step(p, cfg, st, lf, acc - ((ks_at(cfg, st.t) * shil) >> KS_FRAC) + eta, hold)


def kuramoto_epoch(p: OnnParams, cfg: RunConfig, J: np.ndarray, st: State,
                   omega: np.ndarray, hold=None) -> State:
    lf, eta = epoch_noise(p, cfg, st)
    return _step(p, cfg, st, lf, np.asarray(omega, dtype=np.int64)
                 + coupling_sum(p, J, st.theta) + eta, hold)


def onn_epoch(p: OnnParams, cfg: RunConfig, J: np.ndarray, st: State, hold=None) -> State:
    """One ONN epoch: one period of P = 2**onn_phase_bits ticks.

    Cell j's output at tick t is ``o_j(t) = +1`` if ``(t - q_j) mod P < P/2`` else ``-1``, with
    ``q_j = theta_j >> (PB - onn_phase_bits)``. Each tick, ``S_i(t) = sum_{j != i} J_ij o_j(t) +
    eta_i`` (one noise sample per cell per epoch) and ``y_i(t) = 1`` if ``S_i(t) > 0``, ``0`` if
    ``< 0``, and ``o_i(t) > 0`` on a tie (the cell keeps its own output). The new phase is the
    first rising edge of ``y_i``: the smallest t in 0..P-1 with ``y_i(t) = 1`` and ``y_i(t-1
    mod P) = 0``; without one (y constant) the phase is kept. ``theta_i <- q_i' << (PB -
    onn_phase_bits)``.
    """
    P = p.onn_ticks
    drop = p.phase_bits - p.onn_phase_bits
    lf, eta = epoch_noise(p, cfg, st)
    q = st.theta >> drop
    t = np.arange(P)
    o = np.where(((t - q[..., None]) % P) < P // 2, 1, -1)            # (..., m, P)
    S = np.matmul(J, o) + eta[..., None]
    y = (S > 0) | ((S == 0) & (o > 0))
    rise = y & ~np.roll(y, 1, axis=-1)
    has = rise.any(axis=-1)
    qn = np.where(has, rise.argmax(axis=-1), q)
    hold = held(hold, st.theta.shape[-1])
    theta = qn << drop if hold is None else np.where(hold, st.theta, qn << drop)
    return State(theta, lf, st.t + 1, st.vel)


def pbit_epoch(p: OnnParams, cfg: RunConfig, J: np.ndarray, st: State, hold=None) -> State:
    """One PBIT epoch: cells 0..m-1 in turn (slot j = cell j) set their spin from the sign of
    ``f_j = A sum_{i != j} J_ji s_i + eta_j`` (``A`` = sin_amp, ``s = +1`` for spin bit 0,
    ``eta_j`` this epoch's noise sample): ``s_j = +1`` if ``f_j > 0``, ``-1`` if ``< 0``, kept on
    a tie; the phase becomes 0 or pi (``phases_from_spins``). The field uses every spin as the
    earlier slots left it, except the one slot just before (``j - 1``, same epoch): its new
    value reaches cell j's accumulator one clock too late, so cell j sees its old spin. At an
    epoch's start every field is exact (the hardware's fields are filled from the spins at
    START / RESUME and follow every flip after). A held cell's slot keeps its spin and phase.
    """
    lf, eta = epoch_noise(p, cfg, st)
    hold = held(hold, st.theta.shape[-1])
    A = p.sin_amp
    neg = spins(p, st.theta)
    s = 1 - 2 * neg                                    # (..., m)
    h = A * (s @ J.T)                                  # h_i = A sum_j J_ij s_j
    theta = st.theta.copy()
    changed_prev = np.zeros(neg.shape[:-1], dtype=bool)
    for j in range(J.shape[0]):
        seen = h[..., j]
        if j:       # the previous slot's flip has not reached the accumulator yet
            seen = seen - np.where(changed_prev, 2 * A * J[j, j - 1] * s[..., j - 1], 0)
        f = seen + eta[..., j]
        new = np.where(f > 0, 1, np.where(f < 0, -1, s[..., j]))
        if hold is not None and hold[j]:
            changed_prev = np.zeros_like(changed_prev)
            continue
        flip = new != s[..., j]
        h = h + np.where(flip[..., None], 2 * A * new[..., None] * J[:, j], 0)
        s[..., j] = new
        theta[..., j] = phases_from_spins(p, (1 - new) // 2)
        changed_prev = flip
    return State(theta, lf, st.t + 1, st.vel)


def epoch(p: OnnParams, cfg: RunConfig, J: np.ndarray, st: State, omega=None,
          hold=None) -> State:
    """One epoch in ``cfg.mode`` (``J`` from :func:`couplings`; ``hold``: one boolean per
    cell, the HOLD register)."""
    mode = Mode(cfg.mode)
    if mode == Mode.ONN:
        return onn_epoch(p, cfg, J, st, hold)
    if mode == Mode.PBIT:
        return pbit_epoch(p, cfg, J, st, hold)
    if mode == Mode.OIM:
        return oim_epoch(p, cfg, J, st, hold)
    if omega is None:
        omega = np.zeros(J.shape[0], dtype=np.int64)
    lo = -(1 << (p.omega_bits - 1))
    if np.min(omega) < lo or np.max(omega) >= -lo:
        raise ValueError(f"omega must lie in {lo}..{-lo - 1} for omega_bits={p.omega_bits}")
    return kuramoto_epoch(p, cfg, J, st, omega, hold)


def run(p: OnnParams, cfg: RunConfig, J, epochs: int, theta=None, seeds=None, omega=None,
        until_stable: bool = False, hold=None, draw: bool | None = None):
    """START then ``epochs`` epochs; returns the final :class:`State`. With ``until_stable``
    (ONN recall) stops early once no phase changed in an epoch. ``hold`` and ``draw``: see
    :func:`init_state` (held cells need their phases in ``theta``)."""
    cfg.check(p)
    J = couplings(p, J)
    st = init_state(p, cfg, J.shape[0], theta, seeds, hold=hold, draw=draw)
    for _ in range(epochs):
        nxt = epoch(p, cfg, J, st, omega, hold)
        if until_stable and np.array_equal(nxt.theta, st.theta):
            return nxt
        st = nxt
    return st


# ------------------------------------------------------------------------------ readout
def spins(p: OnnParams, theta) -> np.ndarray:
    """Binarized spin bits: 1 where the phase is nearer pi than 0 (theta in [T/4, 3T/4))."""
    th = np.asarray(theta, dtype=np.int64)
    return (((th + (1 << (p.phase_bits - 2))) >> (p.phase_bits - 1)) & 1).astype(np.int64)


def phases_from_spins(p: OnnParams, bits) -> np.ndarray:
    """Spin bit 0 -> phase 0, bit 1 -> phase pi (2**(phase_bits-1))."""
    return np.asarray(bits, dtype=np.int64) << (p.phase_bits - 1)


def sincos(p: OnnParams, theta) -> tuple[np.ndarray, np.ndarray]:
    """Kuramoto readout: SIN[theta >> (PB-LB)] and COS = SIN[(theta + T/4) >> (PB-LB)]."""
    th = np.asarray(theta, dtype=np.int64)
    mask = (1 << p.phase_bits) - 1
    drop = p.phase_bits - p.lut_bits
    table = lut(p)
    return table[th >> drop], table[((th + (1 << (p.phase_bits - 2))) & mask) >> drop]


# ------------------------------------------------------------------------------ Hebbian
def hebbian(p: OnnParams, patterns) -> np.ndarray:
    """Hebbian couplings for stored patterns (rows of spin bits 0/1; bit b means spin 1 - 2b):
    ``W_ij = sum_mu xi_i xi_j`` (zero diagonal), scaled to ``weight_bits`` only if it does not
    fit: ``W * hi // max|W|`` rounded half away from zero, ``hi = 2**(weight_bits-1) - 1``."""
    xi = 1 - 2 * np.asarray(patterns, dtype=np.int64)
    if xi.ndim != 2:
        raise ValueError(f"patterns must be a 2-D array (patterns x cells), not {xi.shape}")
    W = xi.T @ xi
    np.fill_diagonal(W, 0)
    hi = p.weight_range[1]
    big = int(np.abs(W).max()) if W.size else 0
    if big > hi:
        W = np.sign(W) * ((2 * np.abs(W) * hi + big) // (2 * big))
    return W

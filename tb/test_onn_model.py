# Ref: J. J. Hopfield, PNAS 1982 (synchronous sign update); rudy/G-set graph format.
"""Tests of the oscillator-array golden model (``sim/onn/model.py``) and the Max-Cut / recall tools
(``sim/onn/maxcut.py``); plain pytest, no HDL.

Independent oracles: a plainly written synchronous Hopfield network (ONN mode on binary
phases), scalar Python-int re-statements of the OIM / Kuramoto epoch equations and of the LFSR,
brute-force Max-Cut optima. Seeds are fixed and printed in failure messages.
"""

import argparse
import json
import math

import numpy as np
import pytest

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
from sim.flow.toolchain import ToolError
from sim.onn import maxcut
from sim.onn import model as onn


# ------------------------------------------------------------------------------ oracles
def hopfield_step(W, s):
    """Synchronous Hopfield update of spins s (+-1): s_i <- sign(sum_{j != i} W_ij s_j),
    keeping s_i when the sum is zero."""
    n = len(s)
    out = []
    for i in range(n):
        h = sum(int(W[i][j]) * int(s[j]) for j in range(n) if j != i)
        out.append(1 if h > 0 else -1 if h < 0 else int(s[i]))
    return out


def lfsr_scalar(state, steps):
    for _ in range(steps):
        out = state & 1
        state >>= 1
        if out:
            state ^= LFSR_TAPS
    return state


def analog_epoch_scalar(p, cfg, J, theta, lfsr, t, omega=None, vel=None):
    """OIM (omega None) or Kuramoto epoch with Python ints, straight from docs/onn.md. With
    ``vel`` (a list, updated in place) the momentum update: v <- v - floor(v / 2**m) + x."""
    T = 1 << p.phase_bits
    drop = p.phase_bits - p.lut_bits
    SIN = sin_table(p)
    n = len(theta)
    ks = min(cfg.ks_max, (t * cfg.ks_inc) >> SCHED_FRAC)
    amp = max(0, cfg.noise_amp - ((t * cfg.noise_dec) >> SCHED_FRAC))
    new_theta, new_lfsr = [], []
    for i in range(n):
        st = lfsr_scalar(int(lfsr[i]), p.lfsr_steps)
        r = st & 0xFFFF
        r = r - 0x10000 if r >= 0x8000 else r
        eta = (r * amp) // (1 << (NOISE_SAMPLE_BITS - 1))
        acc = sum(int(J[i][j]) * SIN[((int(theta[j]) - int(theta[i])) % T) >> drop]
                  for j in range(n) if j != i)
        if omega is None:
            x = acc - (ks * SIN[((2 * int(theta[i])) % T) >> drop]) // (1 << KS_FRAC) + eta
        else:
            x = int(omega[i]) + acc + eta
        if vel is not None and cfg.momentum:
            vel[i] = vel[i] - vel[i] // (1 << cfg.momentum) + x
            x = vel[i]
        step = (x + (1 << (cfg.shift - 1))) // (1 << cfg.shift) if cfg.shift else x
        new_theta.append((int(theta[i]) + step) % T)
        new_lfsr.append(st)
    return new_theta, new_lfsr


def pbit_epoch_scalar(p, cfg, J, theta, lfsr, t):
    """PBIT epoch with Python ints, from the definition (docs/onn.md), not incrementally: slot
    j recomputes cell j's whole field from the spins as they are, except that cell j - 1 still
    shows the spin it had before its own slot (its flip reaches the accumulators one clock too
    late)."""
    T = 1 << p.phase_bits
    A = p.sin_amp
    amp = max(0, cfg.noise_amp - ((t * cfg.noise_dec) >> SCHED_FRAC))
    n = len(theta)
    spin = [1 if ((int(th) + T // 4) % T) < T // 2 else -1 for th in theta]
    new_lfsr, before = [], None
    for j in range(n):
        st = lfsr_scalar(int(lfsr[j]), p.lfsr_steps)
        new_lfsr.append(st)
        r, r_hi = st & 0xFFFF, st >> 16
        r = r - 0x10000 if r >= 0x8000 else r
        r_hi = r_hi - 0x10000 if r_hi >= 0x8000 else r_hi
        eta = ((r + r_hi) * amp) // (1 << NOISE_SAMPLE_BITS)     # two samples (triangular)
        seen = list(spin)
        if j:
            seen[j - 1] = before
        f = A * sum(int(J[j][i]) * seen[i] for i in range(n) if i != j) + eta
        before = spin[j]
        spin[j] = 1 if f > 0 else -1 if f < 0 else spin[j]
    return [0 if s_ > 0 else T // 2 for s_ in spin], new_lfsr


def random_couplings(p, n, rng):
    lo, hi = p.weight_range
    J = rng.integers(lo, hi + 1, size=(n, n))
    return np.triu(J, 1) + np.triu(J, 1).T


# ------------------------------------------------------------------------------ params, tables
@pytest.mark.parametrize("field, value", [
    ("n", 1), ("n", 5000), ("phase_bits", 3), ("phase_bits", 33), ("lut_bits", 17),
    ("sin_bits", 2), ("weight_bits", 1), ("onn_phase_bits", 0), ("onn_phase_bits", 9),
    ("noise_bits", 17), ("lfsr_steps", 0), ("max_shift", 32), ("n", 8.0), ("n", True),
    ("max_momentum", 8), ("max_momentum", -1),
])
def test_params_reject_bad_values(field, value):
    with pytest.raises(ValueError) as err:
        OnnParams(**{field: value})
    msg = str(err.value)
    assert field in msg and repr(value) in msg and "\n" not in msg


@pytest.mark.parametrize("field, value", [("shift", 16), ("ks_max", 1 << 16), ("noise_amp", -1),
                                          ("seed", 1 << 32), ("ks_inc", 1 << 24),
                                          ("momentum", 1)])    # OnnParams(): no velocity
def test_run_config_checked_against_params(field, value):
    with pytest.raises(ValueError, match=field):
        RunConfig(**{field: value}).check(OnnParams())


@pytest.mark.parametrize("lut_bits, sin_bits", [(2, 3), (4, 8), (8, 8), (10, 12), (6, 16)])
def test_sin_table_properties(lut_bits, sin_bits):
    p = OnnParams(phase_bits=max(12, lut_bits), lut_bits=lut_bits, sin_bits=sin_bits)
    S = sin_table(p)
    size, A = 1 << lut_bits, p.sin_amp
    assert len(S) == size and S[0] == 0 and S[size // 4] == A and S[3 * size // 4] == -A
    assert max(S) == A and min(S) == -A
    for k in range(size):
        assert S[(size - k) % size] == -S[k]                  # odd
        assert S[(k + size // 2) % size] == -S[k]             # half-wave
        assert abs(S[k] - A * math.sin(2 * math.pi * k / size)) <= 0.5 + 1e-9
    assert all(S[k] <= S[k + 1] for k in range(size // 4))   # rising first quarter


def test_lfsr_polynomial_is_primitive():
    """The Galois LFSR's transition matrix M over GF(2) has order exactly 2^32 - 1."""
    M = np.zeros((32, 32), dtype=np.int64)   # column k = image of state bit k
    for k in range(32):
        img = lfsr_scalar(1 << k, 1)
        M[:, k] = [(img >> b) & 1 for b in range(32)]

    def mpow(A, e):
        R = np.eye(32, dtype=np.int64)
        while e:
            if e & 1:
                R = (R @ A) & 1
            A = (A @ A) & 1
            e >>= 1
        return R

    order = (1 << 32) - 1
    eye = np.eye(32, dtype=np.int64)
    assert np.array_equal(mpow(M, order), eye)
    for q in (3, 5, 17, 257, 65537):                          # prime factors of 2^32 - 1
        assert not np.array_equal(mpow(M, order // q), eye), q


def test_lfsr_vectorized_matches_scalar():
    states = [lfsr_seed(7, i) for i in range(20)] + [1, 0xFFFFFFFF, 0x80000000]
    got = onn.lfsr_step(np.asarray(states, dtype=np.uint64), 37)
    assert [int(v) for v in got] == [lfsr_scalar(s, 37) for s in states]
    assert all(lfsr_seed(s, i) != 0 for s in (0, 1, 0x9E3779B9 * 3 & 0xFFFFFFFF)
               for i in range(64))


# ------------------------------------------------------------------------------ ONN = Hopfield
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("n, weight_bits, onn_phase_bits", [(9, 2, 1), (16, 5, 4), (33, 3, 3)])
def test_onn_equals_synchronous_hopfield(seed, n, weight_bits, onn_phase_bits):
    p = OnnParams(n=64, weight_bits=weight_bits, onn_phase_bits=onn_phase_bits)
    rng = np.random.default_rng([seed, n])
    J = random_couplings(p, n, rng)
    J = J + np.diag(rng.integers(-1, 2, n))        # a diagonal the cells must ignore
    bits = rng.integers(0, 2, size=n)
    cfg = RunConfig(mode=Mode.ONN, seed=seed)
    st = onn.init_state(p, cfg, n, theta=onn.phases_from_spins(p, bits))
    Jc = onn.couplings(p, J)
    s = list(1 - 2 * bits)
    for k in range(6):
        s = hopfield_step(Jc, s)
        st = onn.epoch(p, cfg, Jc, st)
        assert list(1 - 2 * onn.spins(p, st.theta)) == s, f"seed {seed} epoch {k}"
        assert set(np.unique(st.theta)) <= {0, 1 << (p.phase_bits - 1)}   # stays binary


def test_onn_ties_exercised():
    """Cells 1 and 3 see a zero sum: they keep their own spin (-1); a rule that breaks ties
    to +1 (or to phase 0) would give [-1, 1, -1, 1]."""
    p = OnnParams(n=16, weight_bits=2)
    J = np.array([[0, 1, -1, 0], [1, 0, 0, 1], [-1, 0, 0, 1], [0, 1, 1, 0]])
    bits = np.array([0, 1, 0, 1])
    cfg = RunConfig(mode=Mode.ONN)
    st = onn.epoch(p, cfg, onn.couplings(p, J), onn.init_state(p, cfg, 4,
                                                              onn.phases_from_spins(p, bits)))
    expect = hopfield_step(J, list(1 - 2 * bits))
    assert list(1 - 2 * onn.spins(p, st.theta)) == expect == [-1, -1, -1, -1]


def test_onn_nonbinary_phase_follows_rising_edge():
    """One neighbour, positive coupling: the sign wave is the neighbour's square wave, so the
    new phase is the neighbour's phase (and with a negative coupling, half a period later)."""
    p = OnnParams(n=4, onn_phase_bits=4)
    drop = p.phase_bits - p.onn_phase_bits
    for q in range(16):
        th = np.array([0, q << drop])
        for w, want in ((1, q), (-1, (q + 8) % 16)):
            J = onn.couplings(p, [[0, w], [w, 0]])
            st = onn.epoch(p, RunConfig(mode=Mode.ONN), J, onn.init_state(
                p, RunConfig(mode=Mode.ONN), 2, th))
            assert int(st.theta[0]) >> drop == want, (q, w)


# ------------------------------------------------------------------------------ OIM, Kuramoto
@pytest.mark.parametrize("seed", [11, 12])
@pytest.mark.parametrize("params, momentum", [
    (OnnParams(n=32), 0), (OnnParams(n=32, phase_bits=16, lut_bits=6, sin_bits=10, weight_bits=3),
                           0),
    (OnnParams(n=32, max_momentum=7), 3), (OnnParams(n=32, max_momentum=7), 7)])
def test_oim_epoch_matches_scalar_equations(seed, params, momentum):
    p, n = params, 13
    rng = np.random.default_rng(seed)
    J = random_couplings(p, n, rng)
    cfg = RunConfig(mode=Mode.OIM, shift=3, ks_max=90, ks_inc=3000, noise_amp=700, noise_dec=90,
                    seed=seed, momentum=momentum).check(p)
    st = onn.init_state(p, cfg, n)
    th, lf, vel = list(st.theta), list(st.lfsr), [0] * n
    for t in range(5):
        th, lf = analog_epoch_scalar(p, cfg, J, th, lf, t, vel=vel)
        st = onn.epoch(p, cfg, onn.couplings(p, J), st)
        assert [int(v) for v in st.theta] == th, f"seed {seed} epoch {t}"
    assert onn.ks_at(cfg, 4) == min(90, (4 * 3000) >> 8) and onn.amp_at(cfg, 4) > 0


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_pbit_epoch_matches_scalar_definition(seed):
    """The vectorized, incremental PBIT model equals the from-scratch definition epoch by
    epoch (random couplings, not symmetric, random start phases, a decaying noise)."""
    p, n = OnnParams(n=32, with_pbit=True), 17
    rng = np.random.default_rng(seed)
    lo, hi = p.weight_range
    J = rng.integers(lo, hi + 1, size=(n, n))
    cfg = RunConfig(mode=Mode.PBIT, noise_amp=3000, noise_dec=(3000 << SCHED_FRAC) // 6,
                    seed=seed).check(p)
    st = onn.init_state(p, cfg, n)
    th, lf = list(st.theta), list(st.lfsr)
    flips = 0
    for t in range(8):
        th2, lf = pbit_epoch_scalar(p, cfg, onn.couplings(p, J), th, lf, t)
        st = onn.epoch(p, cfg, onn.couplings(p, J), st)
        assert [int(v) for v in st.theta] == th2, f"seed {seed} epoch {t}"
        flips += sum((a >= 1 << (p.phase_bits - 1)) != (b >= 1 << (p.phase_bits - 1))
                     for a, b in zip(th[:n], th2) if t)
        th = th2
    assert flips > 0, "no spin ever flipped: the check would not see the update"


def test_pbit_needs_a_pbit_build():
    with pytest.raises(ValueError, match="with_pbit"):
        RunConfig(mode=Mode.PBIT).check(OnnParams())
    with pytest.raises(ValueError, match="serial"):
        OnnParams(with_parallel=True, with_pbit=True)


def test_kuramoto_epoch_matches_scalar_equations():
    p, n, seed = OnnParams(n=16), 10, 5
    rng = np.random.default_rng(seed)
    J = random_couplings(p, n, rng)
    omega = rng.integers(-3000, 3000, size=n)
    cfg = RunConfig(mode=Mode.KURAMOTO, shift=2, ks_max=50, ks_inc=9999, noise_amp=40,
                    seed=seed).check(p)       # ks must be ignored in this mode
    st = onn.init_state(p, cfg, n)
    th, lf = list(st.theta), list(st.lfsr)
    for t in range(4):
        th, lf = analog_epoch_scalar(p, cfg, J, th, lf, t, omega)
        st = onn.epoch(p, cfg, onn.couplings(p, J), st, omega)
        assert [int(v) for v in st.theta] == th, f"epoch {t}"
    s, c = onn.sincos(p, st.theta)
    table = sin_table(p)
    drop = p.phase_bits - p.lut_bits
    assert [int(v) for v in c] == [table[((v + (1 << (p.phase_bits - 2))) % (1 << p.phase_bits))
                                         >> drop] for v in th]
    assert [int(v) for v in s] == [table[v >> drop] for v in th]


@pytest.mark.parametrize("m, force", [(1, 37), (4, -250), (7, 3)])
def test_momentum_velocity_settles_at_2_to_the_m_times_the_force(m, force):
    """A constant force f (Kuramoto, no couplings, no noise: x = omega = f): the velocity
    v <- v - floor(v / 2**m) + f rises to the fixed band 2**m f <= v < 2**m (f + 1) and stays
    there, and the phase then advances by rnd(v >> shift) every epoch."""
    p = OnnParams(n=2, max_momentum=7)
    cfg = RunConfig(mode=Mode.KURAMOTO, shift=2, momentum=m).check(p)
    omega = np.array([force, 0])
    st = onn.init_state(p, cfg, 2, theta=[0, 0])
    lo, hi = (1 << m) * force, (1 << m) * (force + 1)
    for _ in range(40 << m):
        st = onn.epoch(p, cfg, np.zeros((2, 2), dtype=np.int64), st, omega)
    v = int(st.vel[0])
    assert lo <= v < hi, f"m={m} f={force}: v={v} not in [{lo}, {hi})"
    before = int(st.theta[0])
    st = onn.epoch(p, cfg, np.zeros((2, 2), dtype=np.int64), st, omega)
    assert int(st.vel[0]) == v - (v >> m) + force
    assert (int(st.theta[0]) - before) % (1 << p.phase_bits) == (
        (int(st.vel[0]) + 2) >> 2) % (1 << p.phase_bits)
    assert int(st.vel[1]) == 0 and int(st.theta[1]) == 0
    assert abs(v) < 1 << (p.vel_bits - 1)


def test_default_config_momentum_follows_the_array():
    """Max-Cut defaults: momentum 4 and one more shift on an array with velocity registers, the
    plain update on one without (the SoC's), and a one-line error when asked for more than the
    array has."""
    g = maxcut.random_graph(30, 200, 4, (1,))
    plain = maxcut.default_config(OnnParams(n=32), g.W, 100)
    mom = maxcut.default_config(maxcut.array_params(32), g.W, 100)
    assert plain.momentum == 0 and mom.momentum == maxcut.DEFAULTS["momentum"] > 0
    assert mom.shift == plain.shift + maxcut.DEFAULTS["kick"]
    with pytest.raises(ValueError, match="momentum must be in 0..max_momentum=2"):
        maxcut.default_config(OnnParams(n=32, max_momentum=2), g.W, 100)


def test_model_deterministic_per_seed_and_batch_independent():
    p = OnnParams(n=64)
    g = maxcut.random_graph(24, 100, 3, (-1, 1))
    cfg = maxcut.default_config(p, g.W, 50)
    a = onn.run(p, cfg, -g.W, 50, seeds=np.array([4, 5, 6]))
    b = onn.run(p, cfg, -g.W, 50, seeds=np.array([4, 5, 6]))
    assert np.array_equal(a.theta, b.theta) and np.array_equal(a.lfsr, b.lfsr)
    assert not np.array_equal(a.theta[0], a.theta[1])
    for k, s in enumerate((4, 5, 6)):     # a run does not depend on its batch neighbours
        one = onn.run(p, RunConfig(**{**cfg.__dict__, "seed": s}), -g.W, 50)
        assert np.array_equal(one.theta, a.theta[k])


def test_unused_cells_do_not_change_the_used_ones():
    """A graph smaller than the array: simulating m cells equals simulating the padded array."""
    p = OnnParams(n=40)
    g = maxcut.random_graph(20, 60, 8, (1,))
    cfg = maxcut.default_config(p, g.W, 30, seed=77)
    small = onn.run(p, cfg, -g.W, 30)
    J = np.zeros((40, 40), dtype=np.int64)
    J[:20, :20] = -g.W
    big = onn.run(p, cfg, J, 30)
    assert np.array_equal(big.theta[:20], small.theta)


def test_noise_amplitude_bounds_and_zero_noise_ignores_seed():
    p = OnnParams(n=8)
    lf = onn.lfsr_step(onn.lfsr_init(3, 5000), 16)
    r = onn.noise_sample(lf)
    assert r.min() >= -(1 << 15) and r.max() < 1 << 15 and abs(r.mean()) < 1500
    eta = (r * 100) >> 15
    assert eta.min() == -100 and eta.max() == 99
    J = onn.couplings(p, random_couplings(p, 8, np.random.default_rng(0)))
    th = np.arange(8) * 500
    outs = [onn.run(p, RunConfig(shift=2, ks_max=5, ks_inc=64, seed=s), J, 10, theta=th).theta
            for s in (1, 2)]
    assert np.array_equal(*outs)
    noisy = onn.run(p, RunConfig(shift=2, noise_amp=500, seed=2), J, 10, theta=th).theta
    assert not np.array_equal(noisy, outs[0])


def test_spin_readout_boundaries():
    p = OnnParams(phase_bits=12)
    th = np.array([0, 1023, 1024, 2048, 3071, 3072, 4095])
    assert list(onn.spins(p, th)) == [0, 0, 1, 1, 1, 0, 0]


# ------------------------------------------------------------------------------ Hebbian, recall
def test_hebbian_stores_patterns_and_scales_to_width():
    p = OnnParams(n=128, weight_bits=5)
    rng = np.random.default_rng(21)
    pats = rng.integers(0, 2, size=(3, 64))
    W = onn.hebbian(p, pats)
    xi = 1 - 2 * pats
    assert np.array_equal(W, np.where(np.eye(64, dtype=bool), 0, xi.T @ xi))
    for x in xi:                                  # stored patterns are fixed points
        assert hopfield_step(W, list(x)) == list(x)
    many = rng.integers(0, 2, size=(40, 64))
    Wq = onn.hebbian(p, many)
    raw = (1 - 2 * many).T @ (1 - 2 * many)
    np.fill_diagonal(raw, 0)
    assert np.abs(Wq).max() == 15 and np.all(np.sign(Wq) == np.sign(np.round(raw * 15 / 40)))


def test_recall_low_load_recovers_patterns():
    p = OnnParams(n=128)
    pats = np.random.default_rng(5).integers(0, 2, size=(3, 100))
    r = maxcut.recall_trials(p, pats, 0.1, 30, 20, seed=5)
    assert r["rate"] == 1.0 and r["flipped_bits"] == 10
    over = maxcut.recall_trials(p, np.random.default_rng(6).integers(0, 2, size=(40, 100)),
                                0.1, 30, 20, seed=6)
    assert over["rate"] < 0.5                      # far above capacity: recall fails


# ------------------------------------------------------------------------------ Max-Cut quality
@pytest.mark.parametrize("gseed, n, weights", [(1, 14, (1,)), (2, 16, (-1, 1)), (3, 18, (1,)),
                                               (4, 20, (-1, 1)), (5, 20, (1,)),
                                               (6, 20, (-2, -1, 1, 3))])
def test_maxcut_reaches_optimum_small(gseed, n, weights):
    g = maxcut.random_graph(n, n * (n - 1) // 4, gseed, weights)
    opt, arg = maxcut.brute_force(g.W)
    assert int(maxcut.cut_value(g.W, arg)) == opt
    cuts, bits, _ = maxcut.solve_oim(maxcut.array_params(), g, maxcut.DEFAULT_EPOCHS,
                                     range(1, maxcut.DEFAULT_SEEDS + 1))
    assert np.array_equal(maxcut.cut_value(g.W, bits), cuts)
    assert cuts.max() >= 0.99 * opt, f"graph seed {gseed}: {cuts.max()} < 0.99 * {opt}"


@pytest.mark.parametrize("gseed, n, weights", [(1, 14, (1,)), (2, 16, (-1, 1)), (4, 20, (-1, 1)),
                                               (6, 20, (-2, -1, 1, 3))])
def test_maxcut_pbit_reaches_optimum_small(gseed, n, weights):
    g = maxcut.random_graph(n, n * (n - 1) // 4, gseed, weights)
    opt, _ = maxcut.brute_force(g.W)
    cuts, bits, cfg = maxcut.solve_oim(maxcut.array_params(), g, 200, range(1, 9),
                                       mode=Mode.PBIT)
    assert cfg.mode == Mode.PBIT and cfg.noise_amp > 0
    assert np.array_equal(maxcut.cut_value(g.W, bits), cuts)
    assert cuts.max() == opt, f"graph seed {gseed}: {cuts.max()} < {opt}"


def test_sa_baseline_reaches_optimum_small():
    g = maxcut.random_graph(18, 80, 9, (-1, 1))
    opt, _ = maxcut.brute_force(g.W)
    cuts, bits = maxcut.anneal(g.W, 200, range(4))
    assert cuts.max() == opt and np.array_equal(maxcut.cut_value(g.W, bits), cuts)


def test_dsb_reference_reaches_optimum_small():
    """The floating-point dSB reference (sim.onn.maxcut.bifurcation) finds the brute-force optimum
    of a small graph, and its cuts are those of its assignments."""
    g = maxcut.random_graph(18, 80, 9, (-1, 1))
    opt, _ = maxcut.brute_force(g.W)
    cuts, bits = maxcut.bifurcation(g.W, 400, range(8))
    assert cuts.max() == opt and np.array_equal(maxcut.cut_value(g.W, bits), cuts)


def test_sweep_refuses_bad_dsb_spec(capsys):
    """An unknown dSB parameter is a one-line error, not a traceback."""
    with pytest.raises(SystemExit) as e:
        maxcut.main(["sweep", "--epochs", "2", "--runs", "1", '[{"dsb": {"beta": 1}}]'])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "dsb" in err and err.count("\n") == 1


def test_tts99():
    assert maxcut.tts99(10, 0.5) == pytest.approx(10 * math.log(0.01) / math.log(0.5))
    assert maxcut.tts99(10, 0.995) == 10 and maxcut.tts99(10, 0) == math.inf
    with pytest.raises(ValueError):
        maxcut.tts99(10, 1.5)


# ------------------------------------------------------------------------------ CLI
def cli(argv):
    parser = argparse.ArgumentParser(prog="picojoule")
    sub = parser.add_subparsers(dest="cmd", required=True)
    maxcut.add_maxcut_parser(sub)
    maxcut.add_recall_parser(sub)
    args = parser.parse_args(argv)
    return args.func(args)


def test_maxcut_json_contract(tmp_path, capsys):
    g = maxcut.random_graph(30, 120, 12, (-1, 1, 2))
    path = tmp_path / "g.txt"
    maxcut.write_graph(path, g)
    assert cli(["maxcut", str(path), "--json", "--seeds", "3", "--epochs", "200"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    obj = json.loads(out)
    a = obj["assignment"]
    assert isinstance(obj["cut"], int) and len(a) == 30 and set(a) <= {0, 1}
    assert obj["cut"] == int(maxcut.cut_value(maxcut.read_graph(path).W, a))
    assert obj["cut"] == max(obj["cuts"])
    assert cli(["maxcut", str(path), "--json", "--seeds", "2", "--epochs", "50",
                "--mode", "pbit"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["config"]["mode"] == "pbit"
    assert obj["cut"] == int(maxcut.cut_value(maxcut.read_graph(path).W, obj["assignment"]))


def test_maxcut_text_and_rtl_engine(tmp_path, capsys):
    path = tmp_path / "g.txt"
    path.write_text("3 3\n1 2 1\n2 3 1\n1 3 1\n")
    assert cli(["maxcut", str(path), "--seeds", "2", "--epochs", "50"]) == 0
    assert capsys.readouterr().out.startswith("cut 2 ")
    # maxcut --engine rtl is tested with the RTL (tb/test_onn.py); recall has no RTL engine
    with pytest.raises(ToolError) as err:
        cli(["recall", "--engine", "rtl"])
    assert "not built yet" in str(err.value) and "\n" not in str(err.value)


def test_recall_cli_json(capsys):
    assert cli(["recall", "--size", "64", "--patterns", "2", "--trials", "10", "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["rate"] == 1.0 and obj["patterns"] == 2 and obj["size"] == 64


BAD_GRAPHS = [
    ("", 1, "empty"),
    ("3\n1 2 1\n", 1, "bad header"),
    ("3 x\n1 2 1\n", 1, "bad header"),
    ("3 1 5\n1 2 1\n", 1, "bad header"),
    ("0 0\n", 1, "n >= 1"),
    ("3 2\n1 2 1\n", 2, "edge count mismatch"),
    ("3 1\n1 2 1\n2 3 1\n", 3, "edge count mismatch"),
    ("3 2\n1 2 1\n1 4 1\n", 3, "node 4 out of range"),
    ("3 1\n0 2 1\n", 2, "node 0 out of range"),
    ("3 1\n1 2 1.5\n", 2, "weight must be an integer"),
    ("3 1\n1 2 one\n", 2, "weight must be an integer"),
    ("3 1\n1 a 1\n", 2, "node numbers must be integers"),
    ("3 1\n2 2 1\n", 2, "self-loop"),
    ("3 1\n1 2\n", 2, "expected 'i j w'"),
    ("3 2\n\n1 2 1\n\n2 3 1 7\n", 5, "expected 'i j w'"),
]


@pytest.mark.parametrize("text, line, what", BAD_GRAPHS)
def test_bad_graph_files(tmp_path, text, line, what):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(ToolError) as err:
        cli(["maxcut", str(path), "--seeds", "1", "--epochs", "1"])
    msg = str(err.value)
    assert msg.startswith(f"{path}:{line}: ") and what in msg and "\n" not in msg, msg


def test_missing_graph_file(tmp_path):
    with pytest.raises(ToolError, match="no such file"):
        maxcut.read_graph(tmp_path / "nope.txt")


def test_graph_too_large_or_too_heavy_for_the_array(tmp_path):
    path = tmp_path / "g.txt"
    maxcut.write_graph(path, maxcut.random_graph(30, 50, 1, (1,)))
    with pytest.raises(ToolError) as err:
        cli(["maxcut", str(path), "--cells", "20"])
    assert "30 nodes" in str(err.value) and "n=20" in str(err.value)
    path.write_text("2 1\n1 2 16\n")                # -16 fits 5 bits, but 17 does not
    assert cli(["maxcut", str(path), "--seeds", "1", "--epochs", "5"]) == 0
    path.write_text("2 1\n1 2 -16\n")
    with pytest.raises(ToolError, match="weight_bits=5"):
        cli(["maxcut", str(path), "--seeds", "1", "--epochs", "5"])


def test_bad_numeric_args():
    with pytest.raises(SystemExit):
        cli(["recall", "--noise", "1.5"])


def test_convergence_counts_against_a_plain_replay():
    """sim.onn.report's settle / reach / until-stable counts, against a replay that runs one
    seed at a time with ``onn.run`` for every prefix length (slow but independent)."""
    from sim.onn.report import maxcut_trace, recall_convergence, settle_epochs

    p = OnnParams()
    g = maxcut.random_graph(10, 22, 9, (1,))
    E = 60
    cfg = maxcut.default_config(p, g.W, E)
    spins, cuts = maxcut_trace(p, g, cfg, E, (3, 4))
    last, reach = settle_epochs(spins, cuts)
    for k, s in enumerate((3, 4)):
        c = RunConfig(**{**cfg.__dict__, "seed": s})
        seq = [onn.spins(p, onn.run(p, c, -g.W, e).theta) for e in range(1, E + 1)]
        final = seq[-1]
        want_last = 1 + max((e for e in range(1, E) if not np.array_equal(seq[e], seq[e - 1])),
                            default=0)
        cut_seq = [int(maxcut.cut_value(g.W, b)) for b in seq]
        assert np.array_equal(spins[:, k], np.asarray(seq))
        assert last[k] == want_last and np.array_equal(seq[last[k] - 1], final)
        assert reach[k] == cut_seq.index(cut_seq[-1]) + 1
    # recall: each cue's count equals onn.run(until_stable=True).t for that cue alone
    rows = recall_convergence(N=20, Ms=(3,), noises=(0.2,), trials=6, epochs=20)
    assert rows[0]["trials"] == 6 and rows[0]["stable"] >= 1
    pats = np.random.default_rng([3, 0x0A11]).integers(0, 2, size=(3, 20))
    W = onn.hebbian(p, pats)
    rng = np.random.default_rng(3)
    counts = []
    for k in range(6):
        cue = pats[k % 3].copy()
        cue[rng.choice(20, size=4, replace=False)] ^= 1
        st = onn.run(p, RunConfig(mode=Mode.ONN, seed=3), W, 20,
                     theta=onn.phases_from_spins(p, cue), until_stable=True)
        counts.append(st.t)
    stable = [c for c in counts if c < 20]
    assert rows[0]["epochs_max"] == max(stable) and rows[0]["stable"] == len(stable)


def test_sweep_refuses_classes_with_momentum(capsys):
    """The model-only partly sequential update has no velocity: asking for it with the momentum
    default is a one-line error, not a silently plain run."""
    with pytest.raises(SystemExit) as e:
        maxcut.main(["sweep", "--epochs", "2", "--runs", "1", '[{"classes": 2}]'])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "momentum" in err and err.count("\n") == 1

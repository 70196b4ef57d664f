# Ref: T. Wang, J. Roychowdhury, UCNC 2019 (OIM).
"""Max-Cut and associative recall on the oscillator array: run-time registers from a graph
(:func:`default_config`), the model solver (:func:`solve_oim`, OIM or PBIT mode), the same on
the RTL (:func:`solve_rtl`), step-shift schedules (:func:`solve_segments`) and Hebbian recall
(:func:`recall_trials`)."""

import math

import numpy as np

from hdl.onn import KS_FRAC, SCHED_FRAC, Mode, OnnParams, RunConfig
from sim.flow.toolchain import ToolError

from . import model as onn
from .baselines import cut_value, improving_flips
from .graphs import Graph

__all__ = ["DEFAULTS", "PBIT_DEFAULTS", "MODES", "DEFAULT_MODE", "MAXCUT_MOMENTUM",
           "DEFAULT_EPOCHS",
           "DEFAULT_SEEDS", "array_params", "default_config", "solve_oim", "solve_rtl",
           "solve_segments", "recall_trials"]

DEFAULTS = dict(step=0.3, kappa=0.05, ramp=0.8, nu=0.3, cool=0.8, momentum=4, kick=1)
#: PBIT mode: the noise amplitude (nu, in units of A * rms field) and the fraction of the
#: epochs over which it decays to 0 (cool); chosen by the sweep in docs/onn.md.
PBIT_DEFAULTS = dict(nu=2.0, cool=0.9)
MODES = {"oim": Mode.OIM, "pbit": Mode.PBIT}
#: The mode of ``picojoule maxcut`` without ``--mode``: chosen on held-out graphs by
#: ``python -m sim.onn.maxcut defaults`` (docs/onn.md, "The default mode").
DEFAULT_MODE = "pbit"

#: The array the Max-Cut tools simulate: velocity registers for ``DEFAULTS["momentum"]``.
MAXCUT_MOMENTUM = DEFAULTS["momentum"]


def array_params(n: int | None = None, **kw) -> OnnParams:
    """OnnParams of the Max-Cut tools (CLI, benchmark, schedule search): the default array
    (``n`` cells if given) with velocity registers for the default momentum."""
    return OnnParams(**({"n": n} if n is not None else {}), max_momentum=MAXCUT_MOMENTUM,
                     with_pbit=True, **kw)


def default_config(p: OnnParams, W: np.ndarray, epochs: int, seed: int = 1,
                   mode: Mode = Mode.OIM, **over) -> RunConfig:
    """Run-time registers for Max-Cut of ``W`` in ``epochs`` epochs (integers, from the graph).

    PBIT (``mode``): ``noise_amp = round(nu * A * rms)`` (the local field of a spin is ``A
    sum_j J_ij s_j``, so this is ``nu`` times its rms), decaying linearly to 0 over the first
    ``cool`` of the epochs (:data:`PBIT_DEFAULTS`); nothing else is read. OIM:

    - ``shift``: the smallest s with ``(A * D) >> s <= step * 2**PB`` (a full-field update
      moves at most ``step`` of a turn), ``A`` = sine amplitude, ``D = max_i sum_j |w_ij|``;
    - ``ks_max = round(kappa * D_mean * 2**KS_FRAC)`` (``D_mean`` the mean weighted degree;
      ks is in units of 2**-KS_FRAC), ramped from 0
      to ks_max over the first ``ramp`` of the epochs;
    - ``noise_amp = round(nu * A * sqrt(mean_i sum_j w_ij^2))``, decaying linearly to 0 over
      the first ``cool`` of the epochs;
    - ``momentum`` m (velocity leak 2**-m) if the array has velocity registers
      (``p.max_momentum > 0``; more than it has is an error), else 0; with momentum the
      shift is ``kick`` larger (the velocity builds up to 2**m kicks, so a single kick is
      made smaller).
    """
    A = p.sin_amp
    rms = math.sqrt(float((W.astype(float) ** 2).sum(axis=1).mean()))
    if Mode(mode) == Mode.PBIT:
        k = {**PBIT_DEFAULTS, **over}
        if set(k) != set(PBIT_DEFAULTS):
            raise ValueError(f"PBIT takes {sorted(PBIT_DEFAULTS)}, not {sorted(over)}")
        amp, dec = _decay(p, k["nu"] * A * rms, k["cool"], epochs)
        return RunConfig(mode=Mode.PBIT, noise_amp=amp, noise_dec=dec, seed=seed).check(p)
    k = {**DEFAULTS, **over}
    mom = k["momentum"] if p.max_momentum else 0     # more than the array has: an error
    absw = np.abs(W)
    D = int(absw.sum(axis=1).max()) or 1
    d_mean = float(absw.sum(axis=1).mean())
    shift = 0
    while shift < p.max_shift and (A * D) >> shift > k["step"] * (1 << p.phase_bits):
        shift += 1
    if mom:
        shift = min(shift + k["kick"], p.max_shift)
    ks_max = min(int(round(k["kappa"] * d_mean * (1 << KS_FRAC))), (1 << p.ks_bits) - 1)
    ks_inc = min(-(-(ks_max << SCHED_FRAC) // max(int(k["ramp"] * epochs), 1)),
                 (1 << (p.ks_bits + SCHED_FRAC)) - 1)
    amp, dec = _decay(p, k["nu"] * A * rms, k["cool"], epochs)
    return RunConfig(mode=Mode.OIM, shift=shift, ks_max=ks_max, ks_inc=ks_inc,
                     noise_amp=amp, noise_dec=dec, seed=seed, momentum=mom).check(p)


def _decay(p: OnnParams, amp: float, cool: float, epochs: int) -> tuple[int, int]:
    """NOISE_AMP and NOISE_DEC for an amplitude ``amp`` falling to 0 over ``cool * epochs``."""
    a = min(int(round(amp)), (1 << p.noise_bits) - 1)
    dec = min(-(-(a << SCHED_FRAC) // max(int(cool * epochs), 1)),
              (1 << (p.noise_bits + SCHED_FRAC)) - 1)
    return a, dec


def solve_oim(p: OnnParams, g: Graph, epochs: int, seeds, cfg: RunConfig | None = None,
              batch: int = 8, **over):
    """Max-Cut on the model: couplings ``J = -W`` (antiferromagnetic: connected cells are
    pushed apart), one run per seed (run seed = LFSR seed), spins read after the last epoch.
    Returns (cuts, assignments, cfg)."""
    if g.n > p.n:
        raise ToolError(f"the graph has {g.n} nodes but the array has n={p.n} cells "
                        "(use --cells to configure a larger array)")
    lo, hi = p.weight_range
    J = -g.W
    if J.size and (J.min() < lo or J.max() > hi):
        raise ToolError(f"edge weights {int(g.W.min())}..{int(g.W.max())} do not fit "
                        f"weight_bits={p.weight_bits} (couplings -w must lie in {lo}..{hi})")
    cfg = cfg or default_config(p, g.W, epochs, **over)
    seeds = [int(s) for s in np.atleast_1d(seeds)]
    cuts, bits = [], []
    for k in range(0, len(seeds), batch):
        st = onn.run(p, cfg, J, epochs, seeds=np.asarray(seeds[k:k + batch]))
        b = onn.spins(p, st.theta)
        bits.append(b)
        cuts.append(cut_value(g.W, b))
    return np.concatenate(cuts), np.concatenate(bits), cfg


def solve_rtl(p: OnnParams, g: Graph, epochs: int, seeds, cfg: RunConfig | None = None,
              sim: str = "verilator", lanes: int = 0, **over):
    """:func:`solve_oim` on the RTL: ``hdl.onn.OnnArray(p)`` (``lanes`` > 0: the
    time-multiplexed ``hdl.onn.OnnTdm(TdmParams(p, lanes))``) built by the one runner and
    programmed through its CSRs by ``sim.onn.bench.maxcut_runs`` (one START per seed, spins read
    after the last epoch). Same registers, so the same cuts as the model for the same seeds.
    Returns (cuts, assignments, cfg, runs) with ``runs`` the per-seed records (busy cycles)."""
    from hdl.onn import OnnArray, OnnTdm, TdmParams
    from sim.rtl import run

    from .bench import OnnRuns

    if g.n > p.n:
        raise ToolError(f"the graph has {g.n} nodes but the RTL array has n={p.n} cells "
                        "(use --cells to build a larger array)")
    lo, hi = p.weight_range
    if g.W.size and (-g.W.max() < lo or -g.W.min() > hi):
        raise ToolError(f"edge weights {int(g.W.min())}..{int(g.W.max())} do not fit "
                        f"weight_bits={p.weight_bits} (couplings -w must lie in {lo}..{hi})")
    cfg = cfg or default_config(p, g.W, epochs, **over)
    J = np.zeros((p.n, p.n), dtype=np.int64)
    J[:g.n, :g.n] = -g.W
    seeds = tuple(int(s) for s in np.atleast_1d(seeds))
    tp = TdmParams(p, lanes) if lanes else None
    r = run(OnnTdm(tp) if tp else OnnArray(p), key=("OnnTdm", tp) if tp else ("OnnArray", p),
            toplevel=tp.name if tp else p.name,
            test_module="sim.onn.bench", sim=sim, testcase="maxcut_runs",
            params=OnnRuns(p, tuple(map(tuple, J.tolist())), cfg, seeds, epochs, lanes=lanes))
    runs = r.data("runs")
    bits = np.asarray([rec["spins"][:g.n] for rec in runs], dtype=np.int64)
    return cut_value(g.W, bits), bits, cfg, runs


def _classes_epoch(p: OnnParams, cfg: RunConfig, J, st, classes: int):
    """A model-only experiment (the RTL updates all cells at once): one OIM epoch as
    ``classes`` passes, cells i = k mod classes updated in pass k from the phases the earlier
    passes left (partly sequential); same noise sample and ks(t) for the whole epoch."""
    mask = (1 << p.phase_bits) - 1
    lf, eta = onn.epoch_noise(p, cfg, st)
    th = st.theta.copy()
    for k in range(classes):
        acc = onn.coupling_sum(p, J, th)
        shil = onn.lut(p)[((2 * th) & mask) >> (p.phase_bits - p.lut_bits)]
        x = acc - ((onn.ks_at(cfg, st.t) * shil) >> KS_FRAC) + eta
        new = (th + onn.round_shift(x, cfg.shift)) & mask
        th[..., k::classes] = new[..., k::classes]
    return onn.State(th, lf, st.t + 1)


def solve_segments(p: OnnParams, g: Graph, epochs: int, seeds, segments=((1.0, 0),),
                   classes: int = 1, **over):
    """:func:`solve_oim` with a step-shift schedule: ``segments`` of (fraction of the epochs,
    extra shift); the host writes CONFIG.shift = default shift + extra and RESUMEs (ks and
    noise schedules continue, since t does). ``classes`` > 1: the model-only partly
    sequential update of :func:`_classes_epoch` (each cell still updates once per epoch).
    Returns (cuts, assignments, cfg, improving) with ``improving`` the number of single-spin
    flips that would raise each final cut."""
    import dataclasses

    cfg = default_config(p, g.W, epochs, **over)
    if classes > 1 and cfg.momentum:
        raise ToolError("classes > 1 runs the plain update only: add \"momentum\": 0 to \"over\"")
    J = onn.couplings(p, -g.W)
    st = onn.init_state(p, cfg, g.n, seeds=np.asarray([int(s) for s in seeds]))
    done = 0
    for k, (frac, extra) in enumerate(segments):
        c = dataclasses.replace(cfg, shift=min(cfg.shift + extra, p.max_shift)).check(p)
        count = epochs - done if k == len(segments) - 1 else int(round(frac * epochs))
        for _ in range(count):
            st = (onn.epoch(p, c, J, st) if classes == 1
                  else _classes_epoch(p, c, J, st, classes))
        done += count
    bits = onn.spins(p, st.theta)
    improving = improving_flips(g.W, bits)
    return cut_value(g.W, bits), bits, cfg, improving


def recall_trials(p: OnnParams, patterns: np.ndarray, noise: float, trials: int, epochs: int,
                  seed: int) -> dict:
    """Store ``patterns`` (Hebbian), then cue pattern ``k % M`` with exactly ``round(noise *
    N)`` bits flipped (seeded), ``trials`` cues in one batch, and run ONN epochs until no phase
    changes (or ``epochs``). A recall succeeds when the spins equal the stored pattern."""
    M, N = patterns.shape
    if N > p.n:
        raise ToolError(f"patterns have {N} bits but the array has n={p.n} cells "
                        "(use --cells to configure a larger array)")
    W = onn.hebbian(p, patterns)
    rng = np.random.default_rng(seed)
    target = patterns[np.arange(trials) % M]
    cue = target.copy()
    flips = int(round(noise * N))
    for k in range(trials):
        cue[k, rng.choice(N, size=flips, replace=False)] ^= 1
    cfg = RunConfig(mode=Mode.ONN, seed=seed & 0xFFFFFFFF)
    st = onn.run(p, cfg, W, epochs, theta=onn.phases_from_spins(p, cue),
                 seeds=np.full(trials, seed & 0xFFFFFFFF), until_stable=True)
    out = onn.spins(p, st.theta)
    ok = (out == target).all(axis=1)
    return {"trials": trials, "recalled": int(ok.sum()), "rate": float(ok.mean()),
            "overlap": float((out == target).mean()), "epochs_run": int(st.t),
            "flipped_bits": flips}


#: Epochs and independent runs of one ``picojoule maxcut`` (and of the benchmark's runs).
DEFAULT_EPOCHS = 1000
DEFAULT_SEEDS = 8

# Ref: docs/onn.md (the integer equations); sim/onn.py is the golden model.
"""Oscillator-cell array RTL (``hdl.onn.OnnArray``) in lockstep with the golden model.

Every check programs the array only through its CSR bus (``hdl.onn.register_map``), as the SoC
will. The lockstep checks run one epoch at a time (CMD.resume with EPOCHS = 1) and compare every
cell's phase register with ``sim.onn.epoch`` after each epoch, in each mode, with random
couplings (including a random diagonal the cells must ignore), random run-time registers
(shift, a ks ramp and a noise decay that both saturate inside the run) and random omegas; then
a continuous run of the same configuration must end in the model's state after exactly
``start_cycles + epochs * epoch_cycles(mode)`` busy clocks. Other checks: spin / sin / cos
readout, ONN until-stable stopping, coupling rewrite between runs (and a refused rewrite while
running), and the sticky errors. ``maxcut_runs`` is the RTL engine of ``picojoule maxcut``.
"""

import json
from dataclasses import dataclass, field

import cocotb
import numpy as np
import pytest
from cocotb.triggers import RisingEdge, Timer

from hdl.onn import (
    EPOCH_OVERHEAD,
    Cause,
    Mode,
    OnnArray,
    OnnParams,
    RunConfig,
    epoch_cycles,
    fill_cycles,
    register_map,
    start_cycles,
    weights_per_word,
)
from sim import onn
from tb.common import run
from tb.common.bench import CLOCK_NS, params, record, reset, seed, start_clock
from tb.common.csr import CsrMaster


@dataclass(frozen=True)
class OnnCheck:
    p: OnnParams
    epochs: int = 10          # lockstep epochs per mode


@dataclass(frozen=True)
class OnnRuns:
    """Runs for the RTL engine / the power proxy: one START per seed, ``epochs`` epochs each,
    with couplings ``J`` (n x n, nested lists), registers ``cfg`` and optional host phases."""
    p: OnnParams
    J: tuple
    cfg: RunConfig
    seeds: tuple
    epochs: int
    theta: tuple | None = None
    until_stable: bool = False
    omega: tuple | None = None
    extra: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------ driver
class Array:
    """CSR driver of one OnnArray."""

    def __init__(self, dut, p: OnnParams):
        self.dut, self.p = dut, p
        self.regs = register_map(p)
        self.csr = CsrMaster(dut, self.regs)

    def epoch_cycles(self, mode) -> int:
        return epoch_cycles(self.p, mode)

    async def load_couplings(self, J):
        """Write the full n x n matrix (column by column, groups of weights_per_word cells)."""
        p, k = self.p, weights_per_word(self.p)
        mask = (1 << p.weight_bits) - 1
        J = np.asarray(J, dtype=np.int64)
        await self.csr.write("JADDR", col=0, group=0)
        for j in range(p.n):
            for g in range(-(-p.n // k)):
                fields = {f"w{f}": int(J[g * k + f, j]) & mask if g * k + f < p.n else 0
                          for f in range(k)}
                await self.csr.write("JDATA", **fields)

    async def configure(self, cfg: RunConfig, *, epochs: int = 0, until_stable=False):
        await self.csr.write("CONFIG", mode=Mode(cfg.mode).value, shift=cfg.shift,
                             until_stable=int(until_stable), momentum=cfg.momentum)
        await self.csr.write("KS_MAX", value=cfg.ks_max)
        await self.csr.write("KS_INC", value=cfg.ks_inc)
        await self.csr.write("NOISE_AMP", value=cfg.noise_amp)
        await self.csr.write("NOISE_DEC", value=cfg.noise_dec)
        await self.csr.write("SEED", cfg.seed)
        await self.csr.write("EPOCHS", epochs)

    async def write_cells(self, reg: str, values, bits: int):
        await self.csr.write("CELL", cell=0)
        for v in values:
            await self.csr.write(reg, int(v) & ((1 << bits) - 1))

    async def phases(self) -> list[int]:
        await self.csr.write("CELL", cell=0)
        return [await self.csr.read("PHASE") for _ in range(self.p.n)]

    async def spins(self) -> list[int]:
        words = [await self.csr.read("SPINS", w) for w in range(self.regs["SPINS"].count)]
        return [(words[i // 32] >> (i % 32)) & 1 for i in range(self.p.n)]

    async def sincos(self, cell: int) -> tuple[int, int]:
        await self.csr.write("CELL", cell=cell)
        f = await self.csr.fields("SINCOS")
        b = self.p.sin_bits
        return tuple(v - (1 << b) if v >> (b - 1) else v for v in (f["sin"], f["cos"]))

    async def go(self, cmd: str, epochs: int, mode, *, keep=False, until_stable=False):
        """START or RESUME ``epochs`` epochs and wait for done (the bus is free meanwhile)."""
        await self.csr.write("EPOCHS", epochs)
        await self.csr.write("CMD", **{cmd: 1, "keep_phases": int(keep)})
        expect = epochs * self.epoch_cycles(mode) + (start_cycles(keep)
                                                      if cmd == "start" else 0)
        expect += fill_cycles(self.p, mode) if epochs else 0
        return await self.wait_idle(expect)

    async def wait_idle(self, expect: int):
        """Sleep ``expect`` clocks (no bus traffic), then poll STATUS until not busy."""
        if expect > 8:
            await Timer((expect - 4) * CLOCK_NS, unit="ns")
            await RisingEdge(self.dut.clk)
        for _ in range(expect + 50):
            st = await self.csr.fields("STATUS")
            if not st["busy"]:
                assert st["done"], f"not busy but not done: {st}"
                return st
        raise AssertionError(f"still busy {expect + 50} STATUS reads after {expect} clocks")


def random_couplings(p: OnnParams, rng, symmetric=False):
    lo, hi = p.weight_range
    J = rng.integers(lo, hi + 1, size=(p.n, p.n))
    if symmetric:
        J = np.triu(J, 1) + np.triu(J, 1).T
    return J            # the diagonal is random: the array must ignore it


def random_config(p: OnnParams, mode: Mode, rng, epochs: int) -> RunConfig:
    """Registers that exercise every term: a shift keeping steps moderate, a ks ramp and a
    noise decay that saturate half-way through ``epochs``."""
    big = p.sin_amp * (1 << (p.weight_bits - 1)) * (p.n - 1)
    shift = min(p.max_shift, max(0, big.bit_length() - p.phase_bits + int(rng.integers(0, 3))))
    ks_max = int(rng.integers(1, min(1 << p.ks_bits, 4000)))
    amp = int(rng.integers(1, min(1 << p.noise_bits, big // 4 + 2)))
    half = max(1, epochs // 2)
    # with velocity registers: the smallest momentum (its leak keeps the most bits) and the
    # largest (the widest velocity), by mode, so both ends of the shifter are checked
    mom = (1 if mode == Mode.OIM else p.max_momentum) if p.max_momentum else 0
    return RunConfig(mode=mode, shift=shift, ks_max=ks_max, ks_inc=-(-(ks_max << 8) // half),
                     noise_amp=amp, noise_dec=-(-(amp << 8) // half),
                     seed=int(rng.integers(0, 1 << 32)), momentum=mom).check(p)


def _signed(v, bits):
    return v - (1 << bits) if v >> (bits - 1) else v


# ------------------------------------------------------------------------------ cocotb side
async def _setup(dut):
    chk = params()
    await start_clock(dut)
    a = Array(dut, chk.p)
    await reset(dut)
    return chk, a


async def _loaded(dut, *, until_stable: bool = False):
    """:func:`_setup`, then the params' couplings and run configuration loaded (with the
    params' ``until_stable`` if asked)."""
    r, a = await _setup(dut)
    await a.load_couplings(np.asarray(r.J))
    await a.configure(r.cfg, **({"until_stable": r.until_stable} if until_stable else {}))
    return r, a


async def _lockstep(dut, mode: Mode, schedules: bool = False):
    chk, a = await _setup(dut)
    p = chk.p
    rng = np.random.default_rng([seed(), mode.value, schedules])
    J = random_couplings(p, rng)
    cfg = random_config(p, mode, rng, chk.epochs)
    if schedules:
        # No couplings and shift 0: each phase step is exactly eta_i - (ks(t) SIN[2 theta_i]
        # >> 4), so any error in the ks ramp, the noise decay or the noise product shows. Odd
        # increments make the 8 fractional bits of both schedule accumulators matter.
        J = np.zeros_like(J)
        ks_max = int(rng.integers(100, min(1 << p.ks_bits, 600)))
        amp = int(rng.integers(1000, 1 << p.noise_bits)) if p.noise_bits > 10 else (
            (1 << p.noise_bits) - 1)
        # Low byte 0xFF: the integer part lags t * (inc >> 8) by one from t = 1 on, so a
        # dropped or mis-rounded fraction changes ks(t) / a(t) in every epoch.
        span = 2 * chk.epochs // 3
        cfg = RunConfig(mode=mode, shift=0, ks_max=ks_max,
                        ks_inc=((ks_max // span) << 8) | 0xFF, noise_amp=amp,
                        noise_dec=((amp // span) << 8) | 0xFF, seed=cfg.seed).check(p)
    # natural frequencies up to 1/8 turn per epoch (after the shift), within omega_bits
    w_max = min(1 << (p.omega_bits - 1), 1 << max(0, cfg.shift + p.phase_bits - 3))
    omega = rng.integers(-w_max, w_max, size=p.n)
    Jc = onn.couplings(p, J)
    keep = mode == Mode.ONN        # ONN: host-written phases; others: drawn from the LFSRs
    theta0 = rng.integers(0, 1 << p.phase_bits, size=p.n) if keep else None
    await a.load_couplings(J)
    await a.configure(cfg)
    if mode == Mode.KURAMOTO:
        await a.write_cells("OMEGA", omega, p.omega_bits)
    if keep:
        await a.write_cells("PHASE", theta0, p.phase_bits)
    await a.go("start", 0, mode, keep=keep)
    st = onn.init_state(p, cfg, p.n, theta0)
    got = await a.phases()
    assert got == [int(v) for v in st.theta], f"{mode.name}: initial phases differ"
    trace = [list(got)]
    for e in range(chk.epochs):
        await a.go("resume", 1, mode)
        st = onn.epoch(p, cfg, Jc, st, omega if mode == Mode.KURAMOTO else None)
        got = await a.phases()
        want = [int(v) for v in st.theta]
        bad = [i for i in range(p.n) if got[i] != want[i]]
        assert not bad, (f"{mode.name} epoch {e} (t={e}, ks={onn.ks_at(cfg, e)}, "
                         f"a={onn.amp_at(cfg, e)}): cells {bad[:8]} rtl {[got[i] for i in bad[:8]]}"
                         f" model {[want[i] for i in bad[:8]]}")
        assert await a.csr.read("EPOCH") == e + 1
        trace.append(got)
    moved = sum(t0 != t1 for t0, t1 in zip(trace, trace[1:]))
    need = 1 if mode in (Mode.ONN, Mode.PBIT) else chk.epochs // 2    # these settle quickly
    assert moved >= need, f"{mode.name}: phases moved in only {moved} epochs"
    # readout
    assert await a.spins() == [int(v) for v in onn.spins(p, st.theta)]
    s, c = onn.sincos(p, st.theta)
    for i in range(min(p.n, 8)):
        assert await a.sincos(i) == (int(s[i]), int(c[i])), f"SINCOS of cell {i}"
    # a continuous run of the same registers ends in the same state, in exactly the cycles
    if keep:
        await a.write_cells("PHASE", theta0, p.phase_bits)
    await a.go("start", chk.epochs, mode, keep=keep)
    assert await a.phases() == trace[-1], f"{mode.name}: continuous run differs"
    cycles = await a.csr.read("CYCLES")
    want = start_cycles(keep) + fill_cycles(p, mode) + chk.epochs * a.epoch_cycles(mode)
    assert cycles == want, f"{mode.name}: {cycles} busy cycles, expected {want}"
    name = f"lockstep_{mode.name}{'_sched' if schedules else ''}"
    record(name, {"epochs": chk.epochs, "cycles": cycles, "epoch_cycles": a.epoch_cycles(mode)})


@cocotb.test()
async def lockstep_oim(dut):
    await _lockstep(dut, Mode.OIM)


@cocotb.test()
async def lockstep_schedules(dut):
    await _lockstep(dut, Mode.OIM, schedules=True)


@cocotb.test()
async def lockstep_kuramoto(dut):
    await _lockstep(dut, Mode.KURAMOTO)


@cocotb.test()
async def lockstep_onn(dut):
    await _lockstep(dut, Mode.ONN)


@cocotb.test()
async def lockstep_pbit(dut):
    await _lockstep(dut, Mode.PBIT)


@cocotb.test()
async def onn_until_stable(dut):
    """Hebbian recall from a noisy cue stops after the first epoch that changed nothing."""
    chk, a = await _setup(dut)
    p = chk.p
    rng = np.random.default_rng([seed(), 7])
    # One stored pattern and a quarter of the bits flipped: synchronous recall reaches the
    # pattern in one epoch and the next changes nothing (two patterns may oscillate forever).
    pats = rng.integers(0, 2, size=(1, p.n))
    W = onn.hebbian(p, pats)
    cue = pats[0].copy()
    cue[rng.choice(p.n, size=max(1, p.n // 4), replace=False)] ^= 1
    theta = onn.phases_from_spins(p, cue)
    cfg = RunConfig(mode=Mode.ONN, seed=3)
    await a.load_couplings(W)
    await a.configure(cfg, until_stable=True)
    await a.write_cells("PHASE", theta, p.phase_bits)
    st = onn.run(p, cfg, W, 50, theta=theta, until_stable=True)
    status = await a.go("start", 50, Mode.ONN, keep=True)
    assert 1 < st.t < 50 and np.array_equal(onn.spins(p, st.theta), pats[0]), st.t
    assert status["stable"] == 1
    assert await a.csr.read("EPOCH") == st.t
    assert await a.phases() == [int(v) for v in st.theta]


@cocotb.test()
async def pbit_until_stable(dut):
    """PBIT without noise is a greedy sequential descent: with CONFIG.until_stable the run stops
    after the first epoch that wrote no new phase, at the model's epoch and phases. (Not every
    matrix settles: a cell not yet seeing its predecessor's flip can make the two flip back and
    forth, a few % of random 8-12 cell matrices; the first that settles in the model is used.)"""
    chk, a = await _setup(dut)
    p = chk.p
    rng = np.random.default_rng([seed(), 11])
    for _ in range(20):
        J = random_couplings(p, rng, symmetric=True)
        cfg = RunConfig(mode=Mode.PBIT, seed=int(rng.integers(1, 1 << 32))).check(p)
        st = onn.run(p, cfg, J, 50, until_stable=True)
        if st.t < 50:
            break
    await a.load_couplings(J)
    await a.configure(cfg, until_stable=True)
    await a.csr.write("EPOCHS", 50)
    await a.csr.write("CMD", start=1)
    status = await a.wait_idle(start_cycles(False) + (st.t + 1) * a.epoch_cycles(Mode.PBIT))
    assert 1 < st.t < 50, st.t
    assert status["stable"] == 1
    assert await a.csr.read("EPOCH") == st.t
    assert await a.phases() == [int(v) for v in st.theta]


@cocotb.test()
async def coupling_rewrite(dut):
    """New couplings between runs take effect; a rewrite while running is refused (BUSY)."""
    chk, a = await _setup(dut)
    p = chk.p
    rng = np.random.default_rng([seed(), 9])
    cfg = random_config(p, Mode.OIM, rng, 6)
    await a.configure(cfg)
    for k in range(2):
        J = random_couplings(p, rng, symmetric=k == 1)
        await a.load_couplings(J)
        await a.go("start", 6, Mode.OIM)
        want = onn.run(p, cfg, J, 6).theta
        assert await a.phases() == [int(v) for v in want], f"couplings {k}"
    # JDATA while busy: refused, sticky BUSY, the run still uses the old matrix
    await a.csr.write("EPOCHS", 3)
    await a.csr.write("CMD", start=1)
    await a.csr.write("JADDR", col=0, group=0)
    await a.csr.write("JDATA", **{f"w{f}": 1 for f in range(weights_per_word(p))})
    st = await a.csr.fields("STATUS")
    assert st["busy"] and st["cause"] & Cause.BUSY, st
    await a.wait_idle(3 * a.epoch_cycles(Mode.OIM))
    # the run above (3 epochs) must equal the model with the old J
    want = onn.run(p, cfg, J, 3).theta
    assert await a.phases() == [int(v) for v in want], "refused write changed the couplings"
    await a.csr.write("CMD", clear=1)
    assert (await a.csr.fields("STATUS"))["error"] == 0


@cocotb.test()
async def errors(dut):
    """Bad run-time input sets a sticky cause bit, is not applied, and CMD.clear clears it."""
    chk, a = await _setup(dut)
    p = chk.p
    info = await a.csr.fields("INFO")
    assert (info["n"], info["phase_bits"], info["weight_bits"], info["parallel"],
            info["pbit"]) == (p.n, p.phase_bits, p.weight_bits, int(p.with_parallel),
                              int(p.with_pbit))
    await a.csr.write("CONFIG", mode=Mode.KURAMOTO.value, shift=3, momentum=p.max_momentum)
    await a.csr.write("CELL", cell=1)
    await a.csr.write("JADDR", col=1, group=0)
    cases = [("CONFIG", {"mode": Mode.PBIT.value, "shift": 1},
              0 if p.with_pbit else Cause.BAD_MODE),
             ("CONFIG", {"mode": 0, "shift": p.max_shift + 1}, Cause.BAD_SHIFT),
             ("CONFIG", {"mode": 0, "shift": 1, "momentum": p.max_momentum + 1},
              Cause.BAD_MOMENTUM),
             ("CELL", {"cell": p.n}, Cause.BAD_CELL),
             ("JADDR", {"col": p.n, "group": 0}, Cause.BAD_JADDR),
             ("JADDR", {"col": 0, "group": -(-p.n // weights_per_word(p))}, Cause.BAD_JADDR)]
    for reg, fields, cause in cases:
        if not cause or any(v >= 1 << a.regs[reg].layout[f].width for f, v in fields.items()):
            continue            # not an error in this build, or cannot be written
        await a.csr.write(reg, **fields)
        st = await a.csr.fields("STATUS")
        assert st["error"] == 1 and st["cause"] == cause, f"{reg} {fields}: {st}"
        assert await a.csr.fields("CONFIG") == {"mode": Mode.KURAMOTO.value, "shift": 3,
                                                "until_stable": 0,
                                                "momentum": p.max_momentum}, "bad CONFIG applied"
        assert (await a.csr.fields("CELL"))["cell"] == 1, "bad CELL applied"
        assert (await a.csr.fields("JADDR")) == {"col": 1, "group": 0}, "bad JADDR applied"
        await a.csr.write("CMD", clear=1)
        assert (await a.csr.fields("STATUS"))["error"] == 0, "CMD.clear did not clear"
    # START while running; configuration writes while running
    await a.csr.write("CONFIG", mode=Mode.OIM.value, shift=3)
    await a.csr.write("EPOCHS", 4)
    await a.csr.write("CMD", start=1)
    await a.csr.write("CMD", start=1)
    await a.csr.write("CONFIG", mode=Mode.ONN.value, shift=0)
    await a.csr.write("SEED", 99)
    st = await a.csr.fields("STATUS")
    assert st["busy"] and st["cause"] == Cause.BUSY, st
    assert (await a.csr.fields("CONFIG"))["mode"] == Mode.OIM.value
    assert await a.csr.read("SEED") == 1
    await a.wait_idle(4 * a.epoch_cycles(Mode.OIM))
    assert await a.csr.read("EPOCH") == 4, "the second START restarted the run"
    record("errors", {"cases": len(cases)})


@cocotb.test()
async def maxcut_runs(dut):
    """One START per seed; records every run's final phases, spins and busy cycles."""
    r, a = await _loaded(dut, until_stable=True)
    p = r.p
    if r.omega is not None:
        await a.write_cells("OMEGA", r.omega, p.omega_bits)
    out = []
    for s in r.seeds:
        await a.csr.write("SEED", int(s))
        if r.theta is not None:
            await a.write_cells("PHASE", r.theta, p.phase_bits)
        await a.go("start", r.epochs, r.cfg.mode, keep=r.theta is not None)
        out.append({"seed": int(s), "theta": await a.phases(), "spins": await a.spins(),
                    "epochs": await a.csr.read("EPOCH"), "cycles": await a.csr.read("CYCLES")})
    record("runs", out)


@cocotb.test()
async def spin_trace(dut):
    """Convergence on the RTL: for each seed, START 1 epoch then RESUME 1 epoch at a time up to
    ``epochs``, reading the SPINS words after every epoch (the schedules continue across
    RESUME). Records the spin trace (one int per epoch, bit i = cell i) and the busy cycles."""
    r, a = await _loaded(dut)
    out = []
    for s in r.seeds:
        await a.csr.write("SEED", int(s))
        trace = []
        for e in range(r.epochs):
            await a.go("start" if e == 0 else "resume", 1, r.cfg.mode)
            trace.append(sum(b << i for i, b in enumerate(await a.spins())))
        out.append({"seed": int(s), "trace": trace, "epochs": await a.csr.read("EPOCH"),
                    "cycles": await a.csr.read("CYCLES")})
    record("runs", out)


@cocotb.test()
async def power_epochs(dut):
    """Power workload: couplings, registers and START (0 epochs) outside the window; inside
    it, ``epochs`` epochs in the configured mode (ops = epochs * n cell-updates; a PBIT RESUME
    first runs its fill pass, which the window includes)."""
    from tb.common.activity import window_end, window_start

    r, a = await _loaded(dut)
    p = r.p
    await a.go("start", 0, r.cfg.mode)
    for _ in range(4):
        await RisingEdge(dut.clk)
    window = window_start()
    await a.go("resume", r.epochs, r.cfg.mode)
    window_end(window, ops=r.epochs * p.n, epochs=r.epochs, cells=p.n,
               cycles=r.epochs * a.epoch_cycles(r.cfg.mode) + fill_cycles(p, r.cfg.mode))
    st = onn.run(p, r.cfg, np.asarray(r.J), r.epochs)
    assert await a.phases() == [int(v) for v in st.theta]


# ------------------------------------------------------------------------------ pytest side
SMALL = [
    OnnParams(n=8),
    OnnParams(n=8, with_parallel=True),
    # four groups of copied control registers (5, 5, 5, 1 cells): a cell reading another
    # group's copy, or a copy one clock off its register, fails the lockstep
    OnnParams(n=16, phase_bits=10, lut_bits=6, sin_bits=6, weight_bits=4, onn_phase_bits=3,
              ks_bits=10, noise_bits=12, omega_bits=12, lfsr_steps=5, max_shift=12,
              fanout_cells=5),
    # velocity registers (momentum 1 in OIM, 7 in Kuramoto, 0 in the schedules check)
    OnnParams(n=8, max_momentum=7),
    # the PBIT mode, alone and beside copied control registers and velocity registers
    OnnParams(n=8, with_pbit=True),
    OnnParams(n=12, weight_bits=4, sin_bits=6, noise_bits=12, lfsr_steps=5, max_momentum=2,
              fanout_cells=5, with_pbit=True),
]
CHECKS = ("lockstep_oim,lockstep_schedules,lockstep_kuramoto,lockstep_onn,onn_until_stable,"
          "coupling_rewrite,errors")


def _modes(p: OnnParams):
    return [m for m in Mode if m != Mode.PBIT or p.with_pbit]


def _id(p: OnnParams) -> str:
    return p.name


def run_onn(sim, p, testcase, params_obj, **kw):
    return run(OnnArray(p), toplevel=p.name, test_module="tb.test_onn", sim=sim,
               testcase=testcase, params=params_obj, **kw)


@pytest.mark.parametrize("p", SMALL, ids=_id)
def test_onn_small(sim, p):
    r = run_onn(sim, p, CHECKS + (",lockstep_pbit,pbit_until_stable" if p.with_pbit else ""),
                OnnCheck(p, epochs=10))
    for mode in _modes(p):
        rec = r.data(f"lockstep_{mode.name}")
        assert rec["epoch_cycles"] == p.accumulate_cycles(mode) + EPOCH_OVERHEAD
        assert rec["cycles"] == (start_cycles(mode == Mode.ONN) + fill_cycles(p, mode)
                                 + 10 * rec["epoch_cycles"])


@pytest.mark.slow
def test_onn_64(sim):
    p = OnnParams(n=64)
    run_onn(sim, p, "lockstep_oim,lockstep_kuramoto,lockstep_onn,errors", OnnCheck(p, epochs=6))


def test_lfsr_advance_matrix_matches_model():
    from hdl.onn import lfsr_advance_matrix

    rows = lfsr_advance_matrix(16)
    rng = np.random.default_rng(5)
    for s in [int(v) for v in rng.integers(1, 1 << 32, size=20)]:
        got = sum(((sum((s >> b) & 1 for b in row)) & 1) << k for k, row in enumerate(rows))
        assert got == int(onn.lfsr_step(np.uint64(s), 16))


def test_register_map_fits():
    for p in SMALL + [OnnParams(), OnnParams(n=4096, weight_bits=16, omega_bits=32)]:
        regs = register_map(p)
        assert regs.size <= 1 << regs.addr_width
        assert weights_per_word(p) * p.weight_bits <= 32


def test_maxcut_rtl_engine_equals_model(tmp_path, capsys):
    """`picojoule maxcut --engine rtl` (Verilator) gives the model's cuts and assignment for
    the same seeds, in both modes; a graph larger than the built array is a one-line error."""
    from sim import maxcut
    from sim.cli import main as cli
    from sim.toolchain import ToolError

    path = tmp_path / "g.txt"
    maxcut.write_graph(path, maxcut.random_graph(8, 14, 4, (-1, 1, 2)))
    for mode in ("oim", "pbit"):
        out = {}
        for engine in ("model", "rtl"):
            assert cli(["maxcut", str(path), "--engine", engine, "--cells", "8", "--seeds",
                        "3", "--epochs", "120", "--seed", "5", "--mode", mode, "--json"]) == 0
            out[engine] = json.loads(capsys.readouterr().out)
        for key in ("cut", "cuts", "assignment", "best_seed", "config"):
            assert out["rtl"][key] == out["model"][key], (mode, key)
        assert out["rtl"]["engine"] == "rtl" and out["rtl"]["config"]["mode"] == mode
    maxcut.write_graph(path, maxcut.random_graph(9, 10, 4, (1,)))
    with pytest.raises(ToolError) as err:
        maxcut.cmd_maxcut(maxcut.add_maxcut_parser(_subparsers()).parse_args(
            [str(path), "--engine", "rtl", "--cells", "8"]))
    msg = str(err.value)
    assert "9 nodes" in msg and "n=8" in msg and "\n" not in msg


def _subparsers():
    import argparse

    return argparse.ArgumentParser().add_subparsers()

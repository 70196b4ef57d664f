"""cocotb driver of the oscillator arrays (``hdl.onn.OnnArray`` and the time-multiplexed
``hdl.onn.tdm.OnnTdm``, one register map): the CSR-level :class:`Array` driver, the lockstep
check against the golden model (:func:`lockstep`) and the runs the product needs
(``maxcut_runs`` for ``--engine rtl``, ``spin_trace`` for convergence, ``power_epochs`` for
energy); tb/test_onn.py and tb/test_onn_tdm.py add the tests."""

from dataclasses import dataclass, field

import cocotb
import numpy as np
from cocotb.triggers import RisingEdge, Timer

from hdl.onn import (
    Mode,
    OnnParams,
    RunConfig,
    epoch_cycles,
    fill_cycles,
    register_map,
    start_cycles,
    weights_per_word,
)
from hdl.onn.tdm import TdmParams, tdm_epoch_cycles, tdm_fill_cycles, tdm_start_cycles
from sim.onn import model as onn
from sim.rtl.bench import CLOCK_NS, params, record, reset, seed, start_clock
from sim.rtl.csr import CsrMaster


@dataclass(frozen=True)
class OnnCheck:
    p: OnnParams
    epochs: int = 10          # lockstep epochs per mode
    lanes: int = 0            # 0: OnnArray; else OnnTdm(TdmParams(p, lanes))


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
    lanes: int = 0            # 0: OnnArray; else OnnTdm(TdmParams(p, lanes))


class Array:
    """CSR driver of one OnnArray, or of one OnnTdm (``lanes`` > 0): the same registers, the
    array's own clocks per epoch, START and PBIT fill."""

    def __init__(self, dut, p: OnnParams, lanes: int = 0):
        self.dut, self.p = dut, p
        self.regs = register_map(p)
        self.csr = CsrMaster(dut, self.regs)
        self.tdm = TdmParams(p, lanes) if lanes else None

    def epoch_cycles(self, mode) -> int:
        return tdm_epoch_cycles(self.tdm, mode) if self.tdm else epoch_cycles(self.p, mode)

    def start_cycles(self, keep: bool) -> int:
        return tdm_start_cycles(self.tdm, keep) if self.tdm else start_cycles(keep)

    def fill_cycles(self, mode) -> int:
        return tdm_fill_cycles(self.tdm, mode) if self.tdm else fill_cycles(self.p, mode)

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

    async def write_hold(self, hold):
        """HOLD words from one boolean per cell (builds with_hold)."""
        bits = [int(bool(v)) for v in hold]
        for w in range(self.regs["HOLD"].count):
            word = sum(b << k for k, b in enumerate(bits[32 * w:32 * w + 32]))
            await self.csr.write("HOLD", word, index=w)

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

    async def sincos_burst(self, first: int, count: int) -> list[tuple[int, int]]:
        """SIN and COS of cells ``first``, ``first + 1``, ... (mod n): one CELL write, then
        ``count`` SINCOS_INC reads back to back."""
        await self.csr.write("CELL", cell=first)
        b, layout = self.p.sin_bits, self.regs["SINCOS_INC"].layout
        words = await self.csr.read_burst("SINCOS_INC", count)
        return [tuple(signed((w >> layout[f].offset) & ((1 << b) - 1), b) for f in ("sin", "cos"))
                for w in words]

    async def go(self, cmd: str, epochs: int, mode, *, keep=False, until_stable=False):
        """START or RESUME ``epochs`` epochs and wait for done (the bus is free meanwhile)."""
        await self.csr.write("EPOCHS", epochs)
        await self.csr.write("CMD", **{cmd: 1, "keep_phases": int(keep)})
        expect = epochs * self.epoch_cycles(mode) + (self.start_cycles(keep)
                                                      if cmd == "start" else 0)
        expect += self.fill_cycles(mode) if epochs else 0
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


def signed(v, bits):
    return v - (1 << bits) if v >> (bits - 1) else v


async def setup(dut):
    chk = params()
    await start_clock(dut)
    a = Array(dut, chk.p, getattr(chk, "lanes", 0))
    await reset(dut)
    return chk, a


async def loaded(dut, *, until_stable: bool = False):
    """:func:`setup`, then the params' couplings and run configuration loaded (with the
    params' ``until_stable`` if asked)."""
    r, a = await setup(dut)
    await a.load_couplings(np.asarray(r.J))
    await a.configure(r.cfg, **({"until_stable": r.until_stable} if until_stable else {}))
    return r, a


@cocotb.test()
async def maxcut_runs(dut):
    """One START per seed; records every run's final phases, spins and busy cycles."""
    r, a = await loaded(dut, until_stable=True)
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
    r, a = await loaded(dut)
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
    from sim.rtl.activity import window_end, window_start

    r, a = await loaded(dut)
    p = r.p
    await a.go("start", 0, r.cfg.mode)
    for _ in range(4):
        await RisingEdge(dut.clk)
    window = window_start()
    await a.go("resume", r.epochs, r.cfg.mode)
    window_end(window, ops=r.epochs * p.n, epochs=r.epochs, cells=p.n,
               cycles=r.epochs * a.epoch_cycles(r.cfg.mode) + a.fill_cycles(r.cfg.mode))
    st = onn.run(p, r.cfg, np.asarray(r.J), r.epochs)
    assert await a.phases() == [int(v) for v in st.theta]


async def lockstep(dut, mode: Mode, schedules: bool = False):
    """The lockstep check (OnnArray or OnnTdm): random couplings (with a random diagonal the
    array must ignore), random registers (a ks ramp and a noise decay that saturate inside the
    run; ``schedules``: no couplings and shift 0, so each step is exactly ``eta - ks SIN2 >>
    4``), random omegas; START 0 epochs, then RESUME one epoch at a time, every phase compared
    with ``sim.onn.model.epoch``; the readout; then one continuous run must end in the same
    state after exactly ``start + fill + epochs * epoch`` busy clocks (CYCLES). Records the
    cycle figures.

    Builds ``with_hold``: every cell gets a host phase, a random third of the cells (at least
    one) are held (HOLD), and START draws (ONN: keeps) the phases; the held cells must keep
    theirs through the draw and every epoch, the free cells follow the model with ``hold``,
    and at least one held cell must be one that the same epoch without HOLD would have moved
    (its coupling row, omega or noise is not zero)."""
    chk, a = await setup(dut)
    p = chk.p
    rng = np.random.default_rng([seed(), mode.value, schedules])
    J = random_couplings(p, rng)
    cfg = random_config(p, mode, rng, chk.epochs)
    if schedules:
        J = np.zeros_like(J)
        ks_max = int(rng.integers(100, min(1 << p.ks_bits, 600)))
        amp = int(rng.integers(1000, 1 << p.noise_bits)) if p.noise_bits > 10 else (
            (1 << p.noise_bits) - 1)
        span = 2 * chk.epochs // 3
        cfg = RunConfig(mode=mode, shift=0, ks_max=ks_max,
                        ks_inc=((ks_max // span) << 8) | 0xFF, noise_amp=amp,
                        noise_dec=((amp // span) << 8) | 0xFF, seed=cfg.seed).check(p)
    w_max = min(1 << (p.omega_bits - 1), 1 << max(0, cfg.shift + p.phase_bits - 3))
    omega = rng.integers(-w_max, w_max, size=p.n)
    Jc = onn.couplings(p, J)
    keep = mode == Mode.ONN        # ONN: host-written phases; others: drawn from the LFSRs
    theta0 = rng.integers(0, 1 << p.phase_bits, size=p.n) if keep else None
    hold = None
    if p.with_hold:                # its own generator: the other draws stay those without
        hrng = np.random.default_rng([seed(), mode.value, schedules, 1])
        hold = hrng.random(p.n) < 1 / 3
        hold[hrng.integers(0, p.n)] = True
        if hold.all():
            hold[0] = False
        assert schedules or np.abs(Jc[hold]).sum(), "held cells with zero coupling rows"
        if theta0 is None:
            theta0 = hrng.integers(0, 1 << p.phase_bits, size=p.n)
    await a.load_couplings(J)
    await a.configure(cfg)
    if mode == Mode.KURAMOTO:
        await a.write_cells("OMEGA", omega, p.omega_bits)
    if theta0 is not None:
        await a.write_cells("PHASE", theta0, p.phase_bits)
    if hold is not None:
        await a.write_hold(hold)
        words = [await a.csr.read("HOLD", w) for w in range(a.regs["HOLD"].count)]
        assert [(words[i // 32] >> (i % 32)) & 1 for i in range(p.n)] == hold.tolist()
    await a.go("start", 0, mode, keep=keep)
    st = onn.init_state(p, cfg, p.n, theta0, hold=hold, draw=not keep)
    got = await a.phases()
    assert got == [int(v) for v in st.theta], f"{mode.name}: initial phases differ"
    trace = [list(got)]
    would_move = 0              # held cells the epoch would have moved without HOLD
    for e in range(chk.epochs):
        await a.go("resume", 1, mode)
        om = omega if mode == Mode.KURAMOTO else None
        if hold is not None:
            free = onn.epoch(p, cfg, Jc, st, om)
            would_move += int((free.theta != st.theta)[hold].sum())
        st = onn.epoch(p, cfg, Jc, st, om, hold)
        got = await a.phases()
        want = [int(v) for v in st.theta]
        bad = [i for i in range(p.n) if got[i] != want[i]]
        assert not bad, (f"{mode.name} epoch {e} (seed {seed()}, ks={onn.ks_at(cfg, e)}, "
                         f"a={onn.amp_at(cfg, e)}): cells {bad[:8]} rtl {[got[i] for i in bad[:8]]}"
                         f" model {[want[i] for i in bad[:8]]}")
        assert await a.csr.read("EPOCH") == e + 1
        trace.append(got)
    if hold is not None:
        assert all(tr[i] == theta0[i] for tr in trace for i in np.flatnonzero(hold)), \
            f"{mode.name}: a held cell moved"
        assert would_move, f"{mode.name}: no held cell would have moved"
    moved = sum(t0 != t1 for t0, t1 in zip(trace, trace[1:]))
    need = 1 if mode in (Mode.ONN, Mode.PBIT) else chk.epochs // 2
    assert moved >= need, f"{mode.name}: phases moved in only {moved} epochs"
    assert await a.spins() == [int(v) for v in onn.spins(p, st.theta)]
    s, c = onn.sincos(p, st.theta)
    for i in range(min(p.n, 8)):
        assert await a.sincos(i) == (int(s[i]), int(c[i])), f"SINCOS of cell {i}"
    # the burst: every cell from cell 0, then across the wrap from cell n - 3; CELL moves on
    want_sc = [(int(s[i]), int(c[i])) for i in range(p.n)]
    assert await a.sincos_burst(0, p.n) == want_sc, "SINCOS_INC burst"
    assert (await a.csr.fields("CELL"))["cell"] == 0
    assert await a.sincos_burst(p.n - 3, 5) == (want_sc * 2)[p.n - 3:p.n + 2], "burst wrap"
    assert (await a.csr.fields("CELL"))["cell"] == 2
    if mode == Mode.KURAMOTO:
        await a.csr.write("CELL", cell=0)
        got_om = [signed(await a.csr.read("OMEGA"), p.omega_bits) for _ in range(p.n)]
        assert got_om == [int(v) for v in omega], "OMEGA readback"
    if keep:
        await a.write_cells("PHASE", theta0, p.phase_bits)
    await a.go("start", chk.epochs, mode, keep=keep)     # held cells: still theta0
    assert await a.phases() == trace[-1], f"{mode.name}: continuous run differs"
    cycles = await a.csr.read("CYCLES")
    want = a.start_cycles(keep) + a.fill_cycles(mode) + chk.epochs * a.epoch_cycles(mode)
    assert cycles == want, f"{mode.name}: {cycles} busy cycles, expected {want}"
    name = f"lockstep_{mode.name}{'_sched' if schedules else ''}"
    record(name, {"epochs": chk.epochs, "cycles": cycles, "epoch_cycles": a.epoch_cycles(mode)})

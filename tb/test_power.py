"""The switching-activity proxy and energy model, checked where the answer is known.

- a counter: bit i toggles once every 2^i cycles (expectation from that formula), RTL and gate
  level, and the clock toggles twice per cycle;
- the same counter held idle: no logic toggles, no logic energy, only clock energy;
- a pure flip-flop chain: RTL and gate-level toggle counts agree register by register;
- doubling the work (replaying the same operand sequence twice) doubles toggles and energy;
- windows that are empty, reversed, outside the dump, or quiet where toggles are required fail;
- a multiplier's netlist computes what its RTL computes, and its energy report is complete.

Also holds the cocotb workloads ``sim.power`` runs (``operand_stream`` for the multipliers).
"""

import random
from dataclasses import dataclass
from functools import cache

import cocotb
import pytest
from amaranth import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from cocotb.triggers import ClockCycles, FallingEdge

from hdl.exports import EXPORTS
from sim.lmul.workloads import OperandStream, operand_workload
from sim.power import energy
from sim.power.activity import ActivityError, Waves, Window, capture, read_window
from sim.power.gates import gate_energy, synthesize
from sim.power.report import measure_unit, traffic_energy
from sim.power.workloads import MemoryPort, Workload
from sim.rtl import convert, run
from sim.rtl.activity import measure, window_end, window_start
from sim.rtl.bench import params, reset, start_clock, value


# ------------------------------------------------------------------------- tiny test designs
class Counter(wiring.Component):
    """Free-running ``width``-bit counter, counting while ``en`` is high. Synchronous reset.

    Members
    -------
    en : In(1)
    count : Out(width)
    """

    def __init__(self, width: int):
        if width < 1:
            raise ValueError(f"width must be positive, not {width!r}")
        self.width = width
        super().__init__({"en": In(1), "count": Out(width)})

    def elaborate(self, platform):
        m = Module()
        with m.If(self.en):
            m.d.sync += self.count.eq(self.count + 1)
        return m


class FlopChain(wiring.Component):
    """``d`` through ``depth`` reset-less registers ``s0`` .. to ``q``. Latency ``depth``.

    Members
    -------
    d : In(width)
    q : Out(width)
    """

    def __init__(self, width: int, depth: int):
        if depth < 1:
            raise ValueError(f"depth must be positive, not {depth!r}")
        self.width, self.depth = width, depth
        super().__init__({"d": In(width), "q": Out(width)})

    @property
    def LATENCY(self):
        return self.depth

    def elaborate(self, platform):
        m = Module()
        prev = self.d
        for i in range(self.depth):
            s = Signal(self.width, name=f"s{i}", reset_less=True)
            m.d.sync += s.eq(prev)
            prev = s
        m.d.comb += self.q.eq(prev)
        return m


class RegisterFile(wiring.Component):
    """A ``depth`` x ``width`` memory with one synchronous read and one write port.

    Members
    -------
    ren, raddr, rdata : read port (data one cycle after an enabled read)
    wen, waddr, wdata : write port
    """

    def __init__(self, width: int = 8, depth: int = 16):
        self.width, self.depth = width, depth
        abits = (depth - 1).bit_length()
        super().__init__({"ren": In(1), "raddr": In(abits), "rdata": Out(width),
                          "wen": In(1), "waddr": In(abits), "wdata": In(width)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.mem = mem = Memory(shape=self.width, depth=self.depth, init=[])
        rd, wr = mem.read_port(), mem.write_port()
        m.d.comb += [rd.en.eq(self.ren), rd.addr.eq(self.raddr), self.rdata.eq(rd.data),
                     wr.en.eq(self.wen), wr.addr.eq(self.waddr), wr.data.eq(self.wdata)]
        return m


@dataclass(frozen=True)
class CounterWork:
    width: int = 6
    cycles: int = 200
    user: str = ""      # one run directory per test: parallel workers never share a dump


@dataclass(frozen=True)
class ChainWork:
    width: int = 3
    depth: int = 4
    cycles: int = 300
    seed: int = 5


# ------------------------------------------------------------------------------ cocotb side
@cocotb.test()
async def count_cycles(dut):
    """Window "counting": ``cycles`` clocks with en high; window "idle": as many with en low.
    Windows run from falling edge to falling edge, so each holds ``cycles`` rising edges."""
    p = params()
    dut.en.value = 0    # an undriven en is x in a 4-state gate netlist (RTL's `if` hides it)
    await start_clock(dut)
    await reset(dut)
    dut.en.value = 1
    await ClockCycles(dut.clk, 3)
    await FallingEdge(dut.clk)
    c0 = value(dut.count)
    w = window_start("counting")
    await ClockCycles(dut.clk, p.cycles)
    await FallingEdge(dut.clk)
    window_end(w, ops=p.cycles, c0=c0, c1=value(dut.count))
    dut.en.value = 0
    await ClockCycles(dut.clk, 2)
    await FallingEdge(dut.clk)
    async with measure(dut, ops=p.cycles, name="idle"):
        await ClockCycles(dut.clk, p.cycles)
        await FallingEdge(dut.clk)


@cocotb.test()
async def shift_random(dut):
    """Random words into the chain, one per clock, for ``cycles`` clocks."""
    p = params()
    rng = random.Random(p.seed)
    dut.d.value = 0
    await start_clock(dut)
    await ClockCycles(dut.clk, p.depth + 1)     # flush the power-on contents
    await FallingEdge(dut.clk)
    async with measure(dut, ops=p.cycles):
        for _ in range(p.cycles):
            dut.d.value = rng.getrandbits(p.width)
            await FallingEdge(dut.clk)


@cocotb.test()
async def memory_traffic(dut):
    """Random reads and writes for ``cycles`` clocks; the record says how many of each."""
    p = params()
    rng = random.Random(p.seed)
    for port in ("ren", "raddr", "wen", "waddr", "wdata"):
        getattr(dut, port).value = 0
    await start_clock(dut)
    await reset(dut)
    await FallingEdge(dut.clk)
    reads = writes = 0
    w = window_start()
    for _ in range(p.cycles):    # driven mid-cycle, sampled by the next rising edge
        ren, wen = rng.random() < 0.5, rng.random() < 0.3
        dut.ren.value, dut.wen.value = int(ren), int(wen)
        dut.raddr.value, dut.waddr.value = rng.getrandbits(4), rng.getrandbits(4)
        dut.wdata.value = rng.getrandbits(8)
        reads, writes = reads + ren, writes + wen
        await FallingEdge(dut.clk)
    dut.ren.value = dut.wen.value = 0
    window_end(w, ops=p.cycles, reads=reads, writes=writes)




# ------------------------------------------------------------------------------ pytest side
@cache
def counter_runs(sim: str, user: str):
    """RTL and gate-level runs of the counter workload for test ``user``."""
    work = CounterWork(user=user)
    dut = Counter(work.width)
    netlist = synthesize(convert(dut, "pj_counter"), "pj_counter")
    kw = {"toplevel": "pj_counter", "test_module": "tb.test_power", "sim": sim,
          "params": work, "testcase": "count_cycles", "waves": True}
    return work, netlist, run(dut, **kw), run(dut, verilog_text=netlist.verilog, **kw)


def test_counter_toggles_follow_the_formula(sim):
    work, _, r_rtl, r_gate = counter_runs(sim, "formula")
    for r in (r_rtl, r_gate):
        act = capture(r, "pj_counter", window="counting", require=["count", "clk"])
        c0, c1 = act.window.extra["c0"], act.window.extra["c1"]
        assert (c1 - c0) % (1 << work.width) == work.cycles % (1 << work.width)
        c1 = c0 + work.cycles   # unwrapped: bit i flips whenever the count reaches k * 2^i
        want = [c1 // (1 << i) - c0 // (1 << i) for i in range(work.width)]
        assert act.bits["count"].tolist() == want, r.run_dir
        assert act.toggles("clk") == 2 * work.cycles


def test_idle_design_has_no_logic_toggles(sim):
    work, netlist, r_rtl, r_gate = counter_runs(sim, "idle")
    rtl = capture(r_rtl, "pj_counter", window="idle", require=["clk"])
    assert rtl.total(exclude=("clk",)) == 0, {n: int(v.sum()) for n, v in rtl.bits.items()}
    gate = gate_energy(netlist, capture(r_gate, "pj_counter", window="idle", require=["clk"]))
    assert gate["toggles"] == 0
    assert gate["fj"]["logic"] == 0 and gate["fj"]["flipflop"] == 0
    # Clock: every flip-flop's clock pin (plus its wire) charged on both edges of each cycle.
    c = energy.pin_cap_ff("$_DFF_P_", "C") + energy.value("c_wire_per_pin")
    want = 2 * work.cycles * netlist.n_flipflops * energy.transition_energy_fj(c)
    assert netlist.n_flipflops == work.width
    assert gate["fj"]["clock"] == pytest.approx(want)


def test_flop_chain_rtl_and_gate_counts_agree(sim):
    work = ChainWork()
    dut = FlopChain(work.width, work.depth)
    netlist = synthesize(convert(dut, "pj_chain"), "pj_chain")
    assert set(netlist.cells) == {"$_DFF_P_"}, netlist.cells    # a pure chain: no logic
    kw = {"toplevel": "pj_chain", "test_module": "tb.test_power", "sim": sim, "params": work,
          "testcase": "shift_random", "waves": True}
    regs = [f"s{i}" for i in range(work.depth - 1)] + ["q", "d"]
    rtl = capture(run(dut, **kw), "pj_chain", require=regs)
    gate = capture(run(dut, verilog_text=netlist.verilog, **kw), "pj_chain", require=regs)
    for name in regs:
        assert rtl.bits[name].tolist() == gate.bits[name].tolist(), name
    assert gate_energy(netlist, gate)["toggles"] == sum(rtl.toggles(n) for n in regs)


def test_doubling_the_work_doubles_the_energy(sim):
    name = "lmul_e4m3"
    work = OperandStream("e4m3", n_ops=150, seed=3, windows=(("once", 1), ("twice", 2)))
    dut = EXPORTS[name]()
    netlist = synthesize(convert(dut, name), name)
    r = run(dut, toplevel=name, test_module="sim.lmul.power_bench", sim=sim,
            params=work, testcase="operand_stream", waves=True, verilog_text=netlist.verilog)
    once = gate_energy(netlist, capture(r, name, window="once", require=["y"]))
    twice = gate_energy(netlist, capture(r, name, window="twice", require=["y"]))
    assert once["toggles"] > 0
    assert twice["toggles"] == 2 * once["toggles"]
    assert twice["fj"]["logic"] == pytest.approx(2 * once["fj"]["logic"], rel=1e-12)


def test_bad_windows_fail_loudly(sim):
    _, _, r_rtl, _ = counter_runs(sim, "windows")
    good = read_window(r_rtl, "counting")
    waves = Waves(r_rtl.waves, "pj_counter")
    with pytest.raises(ActivityError, match="empty or reversed"):
        Window("w", good.t1_fs, good.t0_fs, 1)
    with pytest.raises(ActivityError, match="empty or reversed"):
        Window("w", good.t0_fs, good.t0_fs, 1)
    with pytest.raises(ActivityError, match="ops"):
        Window("w", good.t0_fs, good.t1_fs, 0)
    with pytest.raises(ActivityError, match="starts after the dump"):
        capture(waves, "pj_counter", window=Window("late", 10 * good.t1_fs, 11 * good.t1_fs, 1))
    with pytest.raises(ActivityError, match="never toggle"):
        capture(r_rtl, "pj_counter", window="idle", require=["count"])
    with pytest.raises(ActivityError, match="no window"):
        capture(r_rtl, "pj_counter", window="no_such_window")
    # A window between two clock edges sees no change at all: an error, not zero energy.
    quiet = Window("quiet", good.t0_fs + 1_000_000, good.t0_fs + 2_000_000, 1)
    with pytest.raises(ActivityError, match="no signal"):
        capture(waves, "pj_counter", window=quiet)


def test_memory_accesses_are_counted_and_charged(sim):
    work = ChainWork(cycles=150, seed=11)
    dut = RegisterFile()
    r = run(dut, toplevel="pj_regfile", test_module="tb.test_power", sim=sim, params=work,
            testcase="memory_traffic", waves=True)
    act = capture(r, "pj_regfile", require=["ren", "wen"])
    size = dut.depth * dut.width // 8
    wl = Workload("tb.test_power", "memory_traffic", work, memories=(
        MemoryPort("read", "ren", dut.width, size),
        MemoryPort("write", "wen", dut.width, size, write=True)))
    t = traffic_energy(act, wl)
    reads, writes = act.window.extra["reads"], act.window.extra["writes"]
    assert 0 < reads < work.cycles and 0 < writes < work.cycles
    assert t["memories"]["read"]["accesses"] == reads
    assert t["memories"]["write"]["accesses"] == writes
    want = (reads * energy.memory_access_pj(size, dut.width)
            + writes * energy.memory_access_pj(size, dut.width, write=True))
    assert t["pj"]["memory"] == pytest.approx(want)


def test_cocotb_window_rejects_no_ops():
    with pytest.raises(ValueError, match="positive"):
        window_end(_FakeWindow(), ops=0)


class _FakeWindow:
    name = "w"
    t0_fs = 0


def test_energy_constants_have_sources():
    for name, c in energy.CONSTANTS.items():
        assert c.source.strip() and c.unit.strip() and c.value > 0, name
    for cell, pins in energy.CELL_PINS.items():
        for pin, const in pins.items():
            assert const in energy.CONSTANTS, (cell, pin, const)
    assert energy.transition_energy_fj(2.0, 1.0) == 1.0
    assert energy.memory_access_pj(8 << 10, 64) == energy.value("sram_read_64b_8kb")
    assert energy.memory_access_pj(4 << 10, 32) == energy.value("sram_read_64b_8kb") / 2


@pytest.mark.parametrize("stream", [False, True], ids=["comb", "stream"])
def test_multiplier_energy_report(sim, stream):
    """lmul vs fpmul e4m3: netlists match the RTL; the report is complete; L-Mul is cheaper."""
    wl = operand_workload("e4m3", n_ops=200, seed=7, stream=stream)
    suffix = "_stream" if stream else ""
    res = {kind: measure_unit(f"{kind}_e4m3{suffix}", EXPORTS[f"{kind}_e4m3{suffix}"], wl,
                              sims=(sim,))["sims"][sim] for kind in ("lmul", "fpmul")}
    for r in res.values():
        assert r["ops"] == 200
        assert r["rtl"]["toggles_per_op"] > 0 and r["gate"]["toggles_per_op"] > 0
        assert r["pj_per_op"]["logic"] > 0
        assert r["pj_per_op"]["total"] == pytest.approx(
            sum(r["pj_per_op"][c] for c in ("logic", "flipflop_clock", "memory", "bus",
                                            "offchip")))
        if stream:
            assert r["traffic"]["boundaries"]["i"]["transfers"] == 200
            assert r["traffic"]["boundaries"]["o"]["transfers"] == 200
            assert r["pj_per_op"]["flipflop_clock"] > 0 and r["pj_per_op"]["bus"] > 0
    assert res["lmul"]["pj_per_op"]["compute"] < res["fpmul"]["pj_per_op"]["compute"]


@pytest.mark.slow
def test_gate_level_speed_benchmark(sim):
    """Prints the gate/RTL runtime ratio of the standard workload (issue 4 item 6: <= 5x);
    asserts only that both runs agree."""
    from sim.power.report import benchmark

    for name in ("fpmul_bf16", "fpmul_bf16_stream"):
        wl = operand_workload("bf16", stream=name.endswith("stream"))
        out = benchmark(name, EXPORTS[name], wl, sim=sim)
        assert out["gate_s"] > 0 and out["rtl_s"] > 0


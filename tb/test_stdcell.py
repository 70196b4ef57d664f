"""The standard-cell flow on OSU 0.18 um, checked against independent answers.

- a mapped netlist (Verilog adder/register unit with sync, async and negative-edge flip-flops,
  and an Amaranth counter) computes what its RTL computes, cycle by cycle, in Icarus;
- the netlist data: constants tied to "0"/"1", the clock net, areas from the liberty;
- timing: a wider adder has a longer critical path, wire load slows it, Fmax = 1/period, a
  path from a rising to a falling edge gets half a period;
- SDF: Icarus on the annotated netlist delays each output by the SDF's IOPATH value;
- OpenSTA's vectorless switching power equals our 1/2 C V^2 count within 1 %, its clock
  internal power is twice the liberty's per-cycle energy, leakage is the liberty's sum;
- bad inputs: a liberty missing a cell, designs that cannot be mapped, an SDF for another
  netlist, a broken sta run, apt-get missing or failing.

The OSU 0.18 liberty and OpenSTA are fetched with ``apt-get download`` on first use.
"""

import dataclasses
import random
import re
import subprocess
from pathlib import Path

import pytest
from amaranth import Module
from amaranth.back import verilog
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from sim.flow.toolchain import ToolError, icarus_missing
from sim.power import sta
from sim.power.liberty import read_liberty
from sim.power.stdcell import (
    StdcellError,
    apt_package,
    map_unit,
    osu018,
    simulation_verilog,
)

ADDREG = """
module pj_addreg(input clk, input rst, input arst, input en, input [7:0] a, input [7:0] b,
                 output reg [8:0] q, output reg [3:0] r, output reg l, output [2:0] k,
                 output [8:0] s);
  assign s = a + b;
  assign k = {1'b1, a[2] & b[2], 1'b0};
  always @(posedge clk) if (rst) q <= 0; else if (en) q <= a + b;
  always @(posedge clk or posedge arst) if (arst) r <= 4'b1010; else r <= r + a[3:0];
  always @(negedge clk) l <= a[0] ^ b[1];
endmodule
"""
ADDREG_PORTS = ({"rst": 1, "arst": 1, "en": 1, "a": 8, "b": 8},
                {"q": 9, "r": 4, "l": 1, "k": 3, "s": 9})

ADDER = """
module pj_add{n}(input [{m}:0] a, input [{m}:0] b, output [{n}:0] s);
  assign s = a + b;
endmodule
"""

# Inputs change at the rising edge, the product is taken at the falling one: half a period.
HALF = """
module pj_half(input clk, input [3:0] a, input [3:0] b, output reg [7:0] p);
  always @(negedge clk) p <= a * b;
endmodule
"""

SDFDUT = """
module pj_sdfdut(input clk, input a, input b, output y, output reg q);
  assign y = ~(a & b);
  always @(posedge clk) q <= a;
endmodule
"""

# A liberty with one inverter: lacks every cell a real netlist uses, and all flip-flops.
TINY_LIB = """
library(tiny) {
  time_unit : "1ns"; voltage_unit : "1V"; current_unit : "1uA";
  leakage_power_unit : "1nW"; capacitive_load_unit (1,pf); nom_voltage : 1.8;
  cell (INVX1) {
    area : 16;
    pin(A) { direction : input; capacitance : 0.01; }
    pin(Y) { direction : output; function : "!A"; }
  }
}
"""


class Counter(wiring.Component):
    en: In(1)
    count: Out(6)

    def elaborate(self, platform):
        m = Module()
        with m.If(self.en):
            m.d.sync += self.count.eq(self.count + 1)
        return m


@pytest.fixture(scope="module")
def osu():
    return osu018()[0]


@pytest.fixture(scope="module")
def addreg(osu):
    return map_unit(ADDREG, "pj_addreg", osu)


def _icarus(directory: Path, sources: dict[str, str], *, specify: bool = False) -> str:
    if icarus_missing():
        pytest.skip(icarus_missing())
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in sources.items():
        (directory / name).write_text(text)
    flags = ["-gspecify"] if specify else []
    subprocess.run(["iverilog", *flags, "-o", "sim.vvp", *sources], cwd=directory, check=True,
                   capture_output=True, text=True)
    return subprocess.run(["vvp", "-n", "sim.vvp"], cwd=directory, check=True,
                          capture_output=True, text=True).stdout


def _equivalence_tb(top: str, inputs: dict[str, int], outputs: dict[str, int], *,
                    seed: int, cycles: int = 300) -> str:
    """Drive ``top`` (netlist) and ``top``_ref (RTL) with the same random inputs between clock
    edges; compare every output after each edge. Resets are held for the first 2 cycles."""
    decl = [f"  reg [{w - 1}:0] {n};" for n, w in inputs.items()]
    decl += [f"  wire [{w - 1}:0] {n}_net, {n}_ref;" for n, w in outputs.items()]

    def conns(suffix):
        return ", ".join([".clk(clk)"] + [f".{n}({n})" for n in inputs]
                         + [f".{n}({n}{suffix})" for n in outputs])

    drive = []
    for n in inputs:
        if n in ("rst", "arst"):
            drive.append(f"    {n} = (i < 2) || (($random(seed) & 15) == 0);")
        else:
            drive.append(f"    {n} = $random(seed);")
    check = "\n".join(
        f"      if ({n}_net !== {n}_ref) begin bad = bad + 1; "
        f"if (bad < 5) $display(\"MISMATCH %0t {n} net=%b ref=%b\", $time, {n}_net, {n}_ref); "
        f"end" for n in outputs)
    return f"""`timescale 1ns/1ps
module tb;
  reg clk = 0;
  integer seed = {seed}, i, bad = 0;
{chr(10).join(decl)}
  {top} dut({conns("_net")});
  {top}_ref ref({conns("_ref")});
  always #5 clk = ~clk;
  initial begin
    for (i = 0; i < {cycles}; i = i + 1) begin
      #2;
{chr(10).join(drive)}
      #4;
      if (i > 2) begin
{check}
      end
      #4;
      if (i > 2) begin
{check}
      end
    end
    $display("DONE %0d mismatches", bad);
    $finish;
  end
endmodule
"""


def _amaranth_counter() -> str:
    return verilog.convert(Counter(), name="pj_counter", emit_src=False)


@pytest.mark.parametrize("design", ["addreg", "amaranth_counter"])
def test_netlist_matches_rtl_in_icarus(osu, design, tmp_path):
    if design == "addreg":
        top, rtl, (inputs, outputs) = "pj_addreg", ADDREG, ADDREG_PORTS
    else:
        top, rtl = "pj_counter", _amaranth_counter()
        inputs, outputs = {"rst": 1, "en": 1}, {"count": 6}
    netlist = map_unit(rtl, top, osu)
    seed = random.randrange(1 << 30)
    print(f"seed {seed}")
    ref = re.sub(rf"\bmodule\s+{top}\b", f"module {top}_ref", rtl, count=1)
    out = _icarus(tmp_path, {"tb.v": _equivalence_tb(top, inputs, outputs, seed=seed),
                             "ref.v": ref, "net.v": simulation_verilog(netlist, osu)})
    assert "DONE 0 mismatches" in out, out


def test_netlist_data(osu, addreg):
    lib = read_liberty(osu)
    counts = addreg.cell_counts
    # sync reset + enable -> DFFPOSX1 with logic; async set/reset -> DFFSR; negedge -> DFFNEGX1
    assert counts["DFFPOSX1"] == 9 and counts["DFFSR"] == 4 and counts["DFFNEGX1"] == 1
    assert not [c for c in counts if c.startswith("$")]
    assert addreg.area_um2 == pytest.approx(sum(lib.cells[c].area * n
                                                for c, n in counts.items()))
    clk = [b for b in addreg.inputs if addreg.nets[b].name == "clk"]
    assert addreg.clocks == frozenset(clk)
    # DFFSR's unused set or reset is tied high: a constant pin, not a net
    tied = [i.inputs for i in addreg.instances if i.cell == "DFFSR"]
    assert all(set(pins.values()) & {"1"} for pins in tied), tied
    driven = {b for i in addreg.instances for b in i.outputs.values()} | addreg.inputs
    assert set(addreg.nets) == driven
    assert {addreg.nets[b].name for b in addreg.outputs} <= {"q", "r", "l", "k", "s"}
    # cached: the same text maps to the same directory without running Yosys again
    log = addreg.directory / "yosys.log"
    stamp = log.stat().st_mtime_ns
    assert map_unit(ADDREG, "pj_addreg", osu).directory == addreg.directory
    assert log.stat().st_mtime_ns == stamp


def test_timing(osu, addreg):
    add = {n: map_unit(ADDER.format(n=n, m=n - 1), f"pj_add{n}", osu) for n in (2, 8)}
    comb = {n: sta.timing(net, osu) for n, net in add.items()}
    for t in comb.values():
        assert t["clock"] is None
        assert t["critical_path_ns"] == pytest.approx(t["min_period_ns"])
        assert re.fullmatch(r"[ab]\[\d\]", t["startpoint"]), t
        assert re.fullmatch(r"s\[\d\]", t["endpoint"]), t
    assert comb[8]["critical_path_ns"] > 1.5 * comb[2]["critical_path_ns"] > 0
    seq = sta.timing(addreg, osu, period_ns=20.0)
    assert seq["clock"] == "clk"
    assert seq["fmax_mhz"] == pytest.approx(1e3 / seq["min_period_ns"])
    assert seq["slack_ns"] == pytest.approx(20.0 - seq["min_period_ns"], abs=1e-4)
    names = {i.name for i in addreg.instances} | {"a", "b", "en", "rst", "arst"}
    assert seq["endpoint"].split("[")[0] in names | {"q", "r", "l", "k", "s"}
    loaded = sta.timing(addreg, osu, period_ns=20.0, wire_cap_pf_per_fanout=0.02)
    assert loaded["critical_path_ns"] > 1.2 * seq["critical_path_ns"]
    half = map_unit(HALF, "pj_half", osu)
    hal = sta.timing(half, osu)
    assert hal["min_period_ns"] == pytest.approx(2 * hal["critical_path_ns"])
    assert next(i.cell for i in half.instances if i.name == hal["endpoint"]) == "DFFNEGX1"
    with pytest.raises(sta.StaError, match="clocked by clk, not by clock_port 'ck'"):
        sta.timing(addreg, osu, clock_port="ck")


def _sdf_iopaths(sdf: Path) -> dict[tuple[str, str, str], tuple[float, float]]:
    out = {}
    for inst, body in re.findall(r"\(INSTANCE ([^)]+)\)(.*?)(?=\(CELLTYPE|\Z)",
                                 sdf.read_text(), re.S):
        for src, dst, rise, fall in re.findall(
                r"\(IOPATH (\S+) (\S+) \(([-\d.]+):[-\d.]+:[-\d.]+\) \(([-\d.]+):", body):
            out[inst, src, dst] = (float(rise), float(fall))
    return out


def test_sdf_annotates_in_icarus(osu, tmp_path):
    netlist = map_unit(SDFDUT, "pj_sdfdut", osu)
    sdf = sta.write_sdf(netlist, osu, output_load_pf=0.05)
    assert not re.search(r"\([-\d.]*::[-\d.]*\)", sdf.read_text())
    paths = _sdf_iopaths(sdf)
    nand = next(i.name for i in netlist.instances if i.cell == "NAND2X1")
    dff = next(i.name for i in netlist.instances if i.cell == "DFFPOSX1")
    a_pin = next(p for p, b in next(i for i in netlist.instances if i.name == nand)
                 .inputs.items() if netlist.nets[b].name == "a")
    fall_y = paths[nand, a_pin, "Y"][1]
    rise_q = paths[dff, "CLK", "Q"][0]
    assert fall_y > 0.01 and rise_q > 0.05
    tb = f"""`timescale 1ns/1ps
module tb;
  reg clk = 0, a = 0, b = 1;
  wire y, q;
  realtime t_y = -1, t_q = -1;
  pj_sdfdut dut(.clk(clk), .a(a), .b(b), .y(y), .q(q));
  initial begin
    $sdf_annotate("{sdf}", dut);
    #10 a = 1;
    #10 clk = 1;
    #10 $display("Y %0.6f Q %0.6f", t_y - 10, t_q - 20);
    $finish;
  end
  always @(negedge y) t_y = $realtime;
  always @(posedge q) t_q = $realtime;
endmodule
"""
    out = _icarus(tmp_path, {"tb.v": tb,
                             "net.v": simulation_verilog(netlist, osu, with_specify=True)},
                  specify=True)
    sta.check_icarus_sdf(out, sdf)
    got = re.search(r"Y (\S+) Q (\S+)", out)
    assert float(got.group(1)) == pytest.approx(fall_y, abs=0.0015), out
    assert float(got.group(2)) == pytest.approx(rise_q, abs=0.0015), out


def test_sdf_typical_filled():
    text = "(IOPATH A Y (0.1::0.2) (-0.08::-0.08)) (IOPATH R Q () (0.0::0.0))"
    assert sta.fill_sdf_typical(text) == (
        "(IOPATH A Y (0.1:0.2:0.2) (-0.08:-0.08:-0.08)) (IOPATH R Q () (0.0:0.0:0.0))")


def test_sdf_that_annotates_nothing(osu, addreg, tmp_path):
    other = map_unit(SDFDUT, "pj_sdfdut", osu)
    sdf = sta.write_sdf(addreg, osu)
    with pytest.raises(sta.StaError, match=re.escape(str(sdf)) + ": annotates nothing"):
        sta.check_sdf(sdf, other)
    tb = f"""`timescale 1ns/1ps
module tb;
  reg clk = 0, a = 0, b = 0;
  wire y, q;
  pj_sdfdut dut(.clk(clk), .a(a), .b(b), .y(y), .q(q));
  initial $sdf_annotate("{sdf}", dut);
endmodule
"""
    out = _icarus(tmp_path, {"tb.v": tb,
                             "net.v": simulation_verilog(other, osu, with_specify=True)},
                  specify=True)
    with pytest.raises(sta.StaError, match=re.escape(str(sdf)) + ": Icarus did not annotate "
                                           r"it: SDF WARNING: .*not a pj_addreg.*\(and \d+ more\)"):
        sta.check_icarus_sdf(out, sdf)


def test_vectorless_power(osu, addreg):
    lib = read_liberty(osu)
    loads = dict(period_ns=10.0, wire_cap_pf_per_fanout=0.002, output_load_pf=0.01)
    results = {}
    for activity in (0.0, 0.1, 0.3):
        results[activity] = sta.vectorless_power(addreg, osu, activity=activity, **loads)
        ours = sta.switching_energy_at_activity(addreg, osu, activity=activity, **loads)
        assert results[activity]["switching_w"] == pytest.approx(ours["cell_driven_w"],
                                                                 rel=0.01, abs=1e-12)
        assert ours["port_driven_w"] > 0     # the clock net: ours counts it, OpenSTA does not
    assert results[0.0]["switching_w"] == 0
    assert results[0.3]["switching_w"] == pytest.approx(3 * results[0.1]["switching_w"])
    # at activity 0 only clock pins toggle: 2 per period, each charged E_rise + E_fall
    clk_pj = 0.0
    for inst in addreg.instances:
        for pin in lib.cells[inst.cell].clock_pins:
            rise, fall = lib.cells[inst.cell].pins[pin].power_arc(
                None, slew_ns=lib.default_input_slew_ns)
            clk_pj += 2 * (rise + fall)
    assert results[0.0]["internal_w"] == pytest.approx(clk_pj * 1e-12 / 10e-9, rel=0.01)
    assert results[0.0]["combinational"]["internal_w"] == 0
    leak_w = sum(lib.cells[i.cell].leakage_nw for i in addreg.instances) * 1e-9
    assert results[0.1]["leakage_w"] == pytest.approx(leak_w, rel=1e-4)


def test_liberty_missing_a_cell(osu, addreg, tmp_path):
    tiny = tmp_path / "tiny.lib"
    tiny.write_text(TINY_LIB)
    for call in (lambda: sta.timing(addreg, tiny), lambda: simulation_verilog(addreg, tiny)):
        with pytest.raises(StdcellError, match=rf"{re.escape(str(tiny))}: no cell .*DFFSR"):
            call()


def test_designs_that_cannot_be_mapped(osu, tmp_path):
    tiny = tmp_path / "tiny.lib"
    tiny.write_text(TINY_LIB)
    with pytest.raises(ToolError, match=r"pj_addreg: cannot map to tiny.lib: .*legalized"):
        map_unit(ADDREG, "pj_addreg", tiny, out_dir=tmp_path / "tiny")
    display = SDFDUT.replace("q <= a;", "begin q <= a; $display(\"q=%b\", q); end")
    with pytest.raises(StdcellError, match=r"not mapped to osu018_stdcells.lib: \$print \(1\)"):
        map_unit(display, "pj_sdfdut", osu)


def test_failing_sta_run_names_its_log(osu, addreg, tmp_path):
    broken = dataclasses.replace(addreg, verilog="module pj_addreg(;\n", directory=tmp_path)
    with pytest.raises(sta.StaError, match=r"sta failed: Error.*; log: .*timing\.log$"):
        sta.timing(broken, osu)
    assert "Error" in (tmp_path / "timing.log").read_text()


def test_apt_errors(monkeypatch, tmp_path):
    with pytest.raises(ToolError, match=r"download picojoule-no-such-package` failed .*"
                                        r"run `apt-get update` as root"):
        apt_package("picojoule-no-such-package")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolError, match="apt-get not found, cannot fetch osu-x: or pass X$"):
        apt_package("osu-x", instead="or pass X")

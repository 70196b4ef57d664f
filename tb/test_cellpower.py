"""The liberty energy engine (sim/power/cellpower.py) on OSU 0.18 um, checked against answers
computed here from the liberty's own tables:

- a hand-built inverter chain + NAND2 + flip-flop with hand-made transitions: loads, slews,
  switching, internal (the latest input picks the arc, each edge charged once with its own
  table, ties and unknown causes shared) and leakage;
- the window: transitions outside [t0, t1) are not charged, twice the transitions cost twice
  the dynamic energy, none cost exactly the leakage;
- OpenSTA's vectorless switching power on a mapped 8-bit multiply-accumulate equals the
  engine's within 1 % at two activities;
- a real Icarus dump of that netlist: the transitions read through Waves equal a count made
  here from the VCD text, and switching equals count x 1/2 C V^2 per net.
"""

import dataclasses
import random
import re
import subprocess

import numpy as np
import pytest

from sim.flow.toolchain import icarus_missing
from sim.power import sta
from sim.power.activity import ActivityError, Waves
from sim.power.cellpower import (
    CellPowerModel,
    cell_energy,
    net_loads,
    net_slews,
    netlist_changes,
    switching_at_activity,
)
from sim.power.liberty import read_liberty
from sim.power.netlist import CellNetlist, Instance, Net
from sim.power.stdcell import map_unit, osu018, simulation_verilog

WIRE, OUT = 0.004, 0.02       # pF: not the defaults, so a default leaking in is caught

MAC = """
module pj_mac8(input clk, input clr, input [7:0] a, input [7:0] b, output reg [19:0] acc);
  always @(posedge clk) if (clr) acc <= 0; else acc <= acc + a * b;
endmodule
"""

# Tiny netlist: a -> INV -> n1 -> INV -> n2 -> NAND(n2, b) -> y -> DFF(D) -> q (output port).
A, B, CLK, N1, N2, Y, Q = range(2, 9)
TINY = CellNetlist(
    top="pj_tiny", verilog="",
    instances=(Instance("u1", "INVX1", {"A": A}, {"Y": N1}),
               Instance("u2", "INVX1", {"A": N1}, {"Y": N2}),
               Instance("u3", "NAND2X1", {"A": N2, "B": B}, {"Y": Y}),
               Instance("u4", "DFFPOSX1", {"CLK": CLK, "D": Y}, {"Q": Q})),
    nets={A: Net("a", 0), B: Net("b", 0), CLK: Net("clk", 0), N1: Net("n1", 0),
          N2: Net("n2", 0), Y: Net("y", 0), Q: Net("q", 0)},
    inputs=frozenset({A, B, CLK}), outputs=frozenset({Q}), clocks=frozenset({CLK}))

# One period (1000 fs) of consistent activity of TINY, every net back to its start value:
# a=b=0, clk=0, n1=1, n2=0, y=1, q=1 at t=0.
PERIOD = 1000
PATTERN = {A: [(100, 1), (600, 0)], B: [(50, 1), (300, 0)],
           CLK: [(200, 1), (500, 0), (800, 1), (900, 0)],
           N1: [(100, 0), (600, 1)], N2: [(100, 1), (600, 0)],
           Y: [(100, 0), (300, 1)],            # fall caused by n2 (t=100), rise by b (t=300)
           Q: [(200, 0), (800, 1)]}


def _changes(pattern=PATTERN, periods=(0,), shift=None):
    """``pattern`` repeated at each period offset; ``shift`` delays some nets (SDF-like)."""
    shift = shift or {}
    out = {}
    for bit, events in pattern.items():
        ev = [(t + p * PERIOD + shift.get(bit, 0), v) for p in periods for t, v in events]
        out[bit] = (np.array([t for t, _ in ev], dtype=np.int64),
                    np.array([v for _, v in ev], dtype=np.uint8))
    return out


@pytest.fixture(scope="module")
def osu():
    return osu018()[0]


@pytest.fixture(scope="module")
def lib(osu):
    return read_liberty(osu)


@pytest.fixture(scope="module")
def mac(osu):
    return map_unit(MAC, "pj_mac8", osu)


def _loads(lib, netlist, wire=WIRE, out=OUT):
    """The load model written out independently: pin caps + wire per fanout + port load."""
    loads = dict.fromkeys(netlist.nets, 0.0)
    for inst in netlist.instances:
        for pin, bit in inst.inputs.items():
            if isinstance(bit, int):
                loads[bit] += lib.cells[inst.cell].pins[pin].capacitance_pf + wire
    for bit in netlist.outputs:
        loads[bit] += wire + out
    return loads


def _arc(lib, cell, pin, related, *, rising, slew, load=0.0):
    return lib.cells[cell].pins[pin].internal_energy_pj(related, rising=rising, slew_ns=slew,
                                                        load_pf=load)


def test_loads_and_slews(lib):
    loads = net_loads(lib, TINY, wire_cap_pf_per_fanout=WIRE, output_load_pf=OUT)
    assert loads == pytest.approx(_loads(lib, TINY))
    # q drives no cell pin: only its port wire and the port load (catches a model without
    # per-port fanout or port load)
    assert loads[Q] == pytest.approx(WIRE + OUT)
    slews = net_slews(lib, TINY, loads=loads)
    d = lib.default_input_slew_ns
    assert slews[A] == slews[B] == slews[CLK] == (d, d)

    def tr(cell, related, rising, slew, load):
        arc = next(t for t in lib.cells[cell].pins[next(iter(lib.cells[cell].outputs))].timing
                   if t.related_pin == related)
        table = arc.rise_transition if rising else arc.fall_transition
        return table.lookup(slew_ns=slew, load_pf=load)

    # inverters are negative unate: an output rise follows the input's fall slew
    n1 = (tr("INVX1", "A", True, d, loads[N1]), tr("INVX1", "A", False, d, loads[N1]))
    n2 = (tr("INVX1", "A", True, n1[1], loads[N2]), tr("INVX1", "A", False, n1[0], loads[N2]))
    y = (max(tr("NAND2X1", "A", True, n2[1], loads[Y]), tr("NAND2X1", "B", True, d, loads[Y])),
         max(tr("NAND2X1", "A", False, n2[0], loads[Y]),
             tr("NAND2X1", "B", False, d, loads[Y])))
    q = (tr("DFFPOSX1", "CLK", True, d, loads[Q]), tr("DFFPOSX1", "CLK", False, d, loads[Q]))
    for bit, want in ((N1, n1), (N2, n2), (Y, y), (Q, q)):
        assert slews[bit] == pytest.approx(want), bit
    # the chain matters: n2's slew is not what the default input slew would give
    assert abs(n2[0] - tr("INVX1", "A", True, d, loads[N2])) > 1e-4


def test_combinational_loop_gets_a_default_slew(lib):
    # Cross-coupled NAND2s (an SR latch) feeding an inverter: terminates, one loop net gets the
    # default slew, the other and the inverter output are computed from it.
    s, r, p, pn, o = 2, 3, 4, 5, 6
    loop = CellNetlist(
        top="pj_loop", verilog="",
        instances=(Instance("g1", "NAND2X1", {"A": s, "B": pn}, {"Y": p}),
                   Instance("g2", "NAND2X1", {"A": r, "B": p}, {"Y": pn}),
                   Instance("g3", "INVX1", {"A": p}, {"Y": o})),
        nets={b: Net(f"n{b}", 0) for b in (s, r, p, pn, o)}, inputs=frozenset({s, r}),
        outputs=frozenset({o}))
    model = CellPowerModel(lib, loop)
    assert len(model.default_slew_nets) == 1
    d = lib.default_input_slew_ns
    assert sum(model.slews[b] == (d, d) for b in (p, pn)) == 1
    assert model.slews[o] != (d, d)


def test_hand_made_transitions(lib):
    t0, t1 = 0, PERIOD
    model = CellPowerModel(lib, TINY, wire_cap_pf_per_fanout=WIRE, output_load_pf=OUT)
    got = model.energy(_changes(), t0_fs=t0, t1_fs=t1)
    loads, slews, v = _loads(lib, TINY), model.slews, lib.nom_voltage
    d = lib.default_input_slew_ns

    count = {bit: len(ev) for bit, ev in PATTERN.items()}
    sw = {bit: n * 0.5 * loads[bit] * v * v for bit, n in count.items()}
    assert got.switching_pj == pytest.approx(sum(sw.values()), rel=1e-12)
    assert got.port_switching_pj == pytest.approx(sw[A] + sw[B] + sw[CLK], rel=1e-12)
    assert got.clock_switching_pj == pytest.approx(sw[CLK], rel=1e-12)
    assert (got.transitions, got.clock_transitions) == (sum(count.values()) - 4, 4)

    rise, fall = 0, 1
    want = {
        # u1: n1 falls after a rises (slew of a's rise), rises after a falls
        "u1": (_arc(lib, "INVX1", "Y", "A", rising=False, slew=slews[A][rise], load=loads[N1])
               + _arc(lib, "INVX1", "Y", "A", rising=True, slew=slews[A][fall],
                      load=loads[N1])),
        "u2": (_arc(lib, "INVX1", "Y", "A", rising=True, slew=slews[N1][fall], load=loads[N2])
               + _arc(lib, "INVX1", "Y", "A", rising=False, slew=slews[N1][rise],
                      load=loads[N2])),
        # u3: the fall at 100 is n2's (b last moved at 50), the rise at 300 is b's
        "u3": (_arc(lib, "NAND2X1", "Y", "A", rising=False, slew=slews[N2][rise],
                    load=loads[Y])
               + _arc(lib, "NAND2X1", "Y", "B", rising=True, slew=slews[B][fall],
                      load=loads[Y])),
        # u4: Q from CLK's rise; CLK and D charged their own arcs, once per edge
        "u4": (_arc(lib, "DFFPOSX1", "Q", "CLK", rising=False, slew=d, load=loads[Q])
               + _arc(lib, "DFFPOSX1", "Q", "CLK", rising=True, slew=d, load=loads[Q])
               + 2 * _arc(lib, "DFFPOSX1", "CLK", None, rising=True, slew=d)
               + 2 * _arc(lib, "DFFPOSX1", "CLK", None, rising=False, slew=d)
               + _arc(lib, "DFFPOSX1", "D", None, rising=False, slew=slews[Y][fall])
               + _arc(lib, "DFFPOSX1", "D", None, rising=True, slew=slews[Y][rise])),
    }
    assert got.internal_pj == pytest.approx(sum(want.values()), rel=1e-9)
    assert got.internal_by_cell == pytest.approx(
        {"INVX1": want["u1"] + want["u2"], "NAND2X1": want["u3"], "DFFPOSX1": want["u4"]},
        rel=1e-9)
    assert got.averaged_transitions == 0
    leak = sum(lib.cells[i.cell].leakage_nw for i in TINY.instances)
    assert got.leakage_pj == pytest.approx(leak * (t1 - t0) * 1e-12, rel=1e-12)
    assert got.total_pj == pytest.approx(got.switching_pj + got.internal_pj + got.leakage_pj)

    # The rules have teeth: charging the NAND's transitions to the other input, or both edges'
    # tables per transition (as OpenSTA does on some arcs), gives a different answer.
    swapped = (_arc(lib, "NAND2X1", "Y", "B", rising=False, slew=slews[B][rise], load=loads[Y])
               + _arc(lib, "NAND2X1", "Y", "A", rising=True, slew=slews[N2][fall],
                      load=loads[Y]))
    assert abs(swapped - want["u3"]) > 1e-3 * want["u3"]
    inv_both = 2 * sum(lib.cells["INVX1"].pins["Y"].power_arc("A", slew_ns=d, load_pf=loads[N1]))
    assert abs(inv_both - want["u1"]) > 0.2 * want["u1"]
    # [0, 250) holds only falls of y and q and a rise of clk: each priced by its own edge
    # (a half-rise, half-fall average per transition fails here)
    early = model.energy(_changes(), t0_fs=0, t1_fs=250)
    dff = (_arc(lib, "DFFPOSX1", "Q", "CLK", rising=False, slew=d, load=loads[Q])
           + _arc(lib, "DFFPOSX1", "CLK", None, rising=True, slew=d)
           + _arc(lib, "DFFPOSX1", "D", None, rising=False, slew=slews[Y][fall]))
    assert early.internal_by_cell["DFFPOSX1"] == pytest.approx(dff, rel=1e-9)

    # SDF-like delays: outputs 30 fs after their inputs. u3's rise now follows b (t=300) by
    # 40 fs while n2 last moved at 130: still b's arc, the same energy.
    late = {N1: 30, N2: 60, Y: 90, Q: 40}
    delayed = model.energy(_changes(shift=late), t0_fs=t0, t1_fs=t1)
    assert delayed.internal_pj == pytest.approx(got.internal_pj, rel=1e-12)


def test_ties_and_unknown_causes(lib):
    model = CellPowerModel(lib, TINY, wire_cap_pf_per_fanout=WIRE, output_load_pf=OUT)
    loads, slews = model.loads, model.slews
    fall = 1

    def nand(related, rising, edge):
        return _arc(lib, "NAND2X1", "Y", related, rising=rising, slew=slews[
            N2 if related == "A" else B][edge], load=loads[Y])

    # y falls with both inputs rising at the same time: the two arcs share it equally
    tie = {N2: (np.array([100]), np.array([1])), B: (np.array([100]), np.array([1])),
           Y: (np.array([100]), np.array([0]))}
    got = model.energy(tie, t0_fs=0, t1_fs=PERIOD)
    want = (nand("A", False, 0) + nand("B", False, 0)) / 2
    assert got.internal_by_cell["NAND2X1"] == pytest.approx(want, rel=1e-12)
    # y rises with no input transition known before it (the window start): every arc, each at
    # the mean of its input's two edges
    alone = {Y: (np.array([100]), np.array([1]))}
    got = model.energy(alone, t0_fs=0, t1_fs=PERIOD)
    want = sum(nand(r, True, 0) + nand(r, True, fall) for r in "AB") / 4
    assert got.internal_by_cell["NAND2X1"] == pytest.approx(want, rel=1e-12)
    assert got.averaged_transitions == 1
    # an input transition after the output's is no cause
    after = {**alone, B: (np.array([150]), np.array([0]))}
    assert model.energy(after, t0_fs=0, t1_fs=PERIOD).averaged_transitions == 1
    with pytest.raises(ValueError, match="each entry must be a transition"):
        model.energy({Y: (np.array([1, 2]), np.array([1, 1]))}, t0_fs=0, t1_fs=PERIOD)
    with pytest.raises(ValueError, match="no net of the netlist"):
        model.energy({99: (np.array([1]), np.array([1]))}, t0_fs=0, t1_fs=PERIOD)


def test_window(lib):
    kw = dict(wire_cap_pf_per_fanout=WIRE, output_load_pf=OUT)
    one = cell_energy(lib, TINY, _changes(), t0_fs=0, t1_fs=PERIOD, **kw)
    # copies before and after the window are not charged (catches a missing clip)
    around = cell_energy(lib, TINY, _changes(periods=(-2, -1, 0, 1, 3)), t0_fs=0,
                         t1_fs=PERIOD, **kw)
    assert around.dynamic_pj == pytest.approx(one.dynamic_pj, rel=1e-12)
    assert around.transitions == one.transitions
    # twice the transitions in a twice-as-long window: twice everything
    two = cell_energy(lib, TINY, _changes(periods=(0, 1)), t0_fs=0, t1_fs=2 * PERIOD, **kw)
    assert two.dynamic_pj == pytest.approx(2 * one.dynamic_pj, rel=1e-12)
    assert two.leakage_pj == pytest.approx(2 * one.leakage_pj, rel=1e-12)
    # a transition at t0 counts, one at t1 does not: [100, 600) holds a's rise, not its fall
    part = cell_energy(lib, TINY, _changes(), t0_fs=100, t1_fs=600, **kw)
    loads, v = _loads(lib, TINY), lib.nom_voltage
    want = sum(0.5 * loads[bit] * v * v * sum(100 <= t < 600 for t, _ in ev)
               for bit, ev in PATTERN.items())
    assert part.switching_pj == pytest.approx(want, rel=1e-12)
    # no transition: no dynamic energy, exactly the leakage
    quiet = {bit: (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint8)) for bit in TINY.nets}
    none = cell_energy(lib, TINY, quiet, t0_fs=0, t1_fs=12345, **kw)
    assert none.dynamic_pj == 0 and none.transitions == none.clock_transitions == 0
    leak = sum(lib.cells[i.cell].leakage_nw for i in TINY.instances)
    assert none.leakage_pj == pytest.approx(leak * 12345e-12, rel=1e-12)
    assert none.total_pj == none.leakage_pj
    # vdd scales the switching term only
    low = cell_energy(lib, TINY, _changes(), t0_fs=0, t1_fs=PERIOD, vdd=0.9, **kw)
    assert low.switching_pj == pytest.approx(one.switching_pj / 4, rel=1e-12)
    assert low.internal_pj == pytest.approx(one.internal_pj, rel=1e-12)


def test_opensta_switching_agrees(osu, lib, mac):
    """The project's cross-check: OpenSTA's vectorless switching power on a mapped MAC equals
    the engine's 1/2 C V^2 at the same activity within 1 % (the nets OpenSTA charges: driven
    by cells). Catches a load model that differs from the one OpenSTA is given."""
    assert len(mac.instances) > 100 and mac.clocks
    period = 10.0
    loads = dict(wire_cap_pf_per_fanout=WIRE, output_load_pf=OUT)
    for activity in (0.1, 0.35):
        theirs = sta.vectorless_power(mac, osu, activity=activity, period_ns=period, **loads)
        ours = switching_at_activity(lib, mac, activity=activity, **loads)
        ours_w = ours["cell_driven_pj"] * 1e-12 / (period * 1e-9)
        print(f"activity {activity}: OpenSTA {theirs['switching_w']:.6e} W, engine "
              f"{ours_w:.6e} W, ratio {ours_w / theirs['switching_w']:.5f}")
        assert ours_w == pytest.approx(theirs["switching_w"], rel=0.01)
        assert ours["port_driven_pj"] > ours["clock_pj"] > 0   # ports and the clock port
    # cell_energy on transitions at that activity charges what switching_at_activity says:
    # every non-clock net toggles once a period, the clock twice, over 6 periods
    periods, fs = 6, int(period * 1e6)
    changes = {}
    for bit in mac.nets:
        step = fs // 2 if bit in mac.clocks else fs
        times = np.arange(fs // 4, periods * fs, step, dtype=np.int64)
        changes[bit] = (times, (np.arange(len(times)) + 1) % 2)
    got = cell_energy(lib, mac, changes, t0_fs=0, t1_fs=periods * fs, **loads)
    ours = switching_at_activity(lib, mac, activity=1.0, **loads)
    assert got.cell_switching_pj == pytest.approx(periods * ours["cell_driven_pj"], rel=1e-9)
    assert got.port_switching_pj == pytest.approx(periods * ours["port_driven_pj"], rel=1e-9)


def _vcd_counts(text: str, scope: tuple[str, ...], t0: int, t1: int) -> dict[tuple[str, int], int]:
    """(signal, bit) -> transitions in ticks [t0, t1) of the variables declared directly in
    ``scope``, read from VCD text: per time step the last value, x/z as 0, the first value
    ever no transition."""
    ids: dict[str, list[tuple[str, int]]] = {}
    path: list[str] = []
    body = text.split("$enddefinitions", 1)
    for m in re.finditer(r"\$scope\s+\S+\s+(\S+)\s+\$end|\$upscope|"
                         r"\$var\s+\S+\s+(\d+)\s+(\S+)\s+(\S+)(?:\s+\[[^\]]*\])?\s+\$end",
                         body[0]):
        if m.group(1):
            path.append(m.group(1))
        elif m.group(0).startswith("$upscope"):
            path.pop()
        elif tuple(path) == scope:
            ids.setdefault(m.group(3), []).append((m.group(4).lstrip("\\"), int(m.group(2))))
    steps: list[tuple[int, dict[str, str]]] = []
    for tok in re.finditer(r"#(\d+)|b([01xzXZ]+)\s+(\S+)|([01xzXZ])(\S+)", body[1]):
        if tok.group(1) is not None:
            steps.append((int(tok.group(1)), {}))
        elif steps:
            code, val = (tok.group(3), tok.group(2)) if tok.group(2) else (tok.group(5),
                                                                           tok.group(4))
            steps[-1][1][code] = val
    counts: dict[tuple[str, int], int] = {}
    for code, names in ids.items():
        prev = None
        for name, width in names:
            for i in range(width):
                counts.setdefault((name, i), 0)
        for t, vals in steps:
            if code not in vals:
                continue
            v = int(re.sub("[xzXZ]", "0", vals[code]), 2)
            if prev is not None and t0 <= t < t1:
                for name, width in names:
                    for i in range(width):
                        counts[name, i] += ((v ^ prev) >> i) & 1
            prev = v
    return counts


def test_icarus_dump_end_to_end(osu, lib, mac, tmp_path):
    if icarus_missing():
        pytest.skip(icarus_missing())
    seed = random.randrange(1 << 30)
    print(f"seed {seed}")
    tb = f"""`timescale 1ns/1ps
module tb;
  reg clk = 0, clr = 1;
  reg [7:0] a = 0, b = 0;
  wire [19:0] acc;
  integer seed = {seed}, i;
  pj_mac8 dut(.clk(clk), .clr(clr), .a(a), .b(b), .acc(acc));
  always #5 clk = ~clk;
  initial begin
    $dumpfile("dump.vcd");
    $dumpvars(0, dut);
    for (i = 0; i < 60; i = i + 1) begin
      #2 a = $random(seed); b = $random(seed); clr = (i < 2) || (($random(seed) & 31) == 0);
      #8;
    end
    $finish;
  end
endmodule
"""
    (tmp_path / "tb.v").write_text(tb)
    (tmp_path / "net.v").write_text(simulation_verilog(mac, osu))
    subprocess.run(["iverilog", "-o", "sim.vvp", "tb.v", "net.v"], cwd=tmp_path, check=True,
                   capture_output=True, text=True)
    subprocess.run(["vvp", "-n", "sim.vvp"], cwd=tmp_path, check=True, capture_output=True,
                   text=True)
    vcd = tmp_path / "dump.vcd"
    t0_fs, t1_fs = 50_000_000, 550_000_000          # 50 ns .. 550 ns: 50 clock cycles
    waves = Waves(vcd, "dut")
    changes = netlist_changes(waves, mac, t0_fs, t1_fs)
    assert set(changes) == set(mac.nets)
    tick = waves.fs_per_tick
    counts = _vcd_counts(vcd.read_text(), ("tb", "dut"), t0_fs // tick, t1_fs // tick)
    ours = {bit: len(changes[bit][0]) for bit in mac.nets}
    theirs = {bit: counts[net.name, net.index] for bit, net in mac.nets.items()}
    assert ours == theirs
    assert sum(ours.values()) > 1000
    for bit, (times, values) in changes.items():
        assert np.all((times >= t0_fs) & (times < t1_fs)), mac.nets[bit]
        assert np.all(values[1:] != values[:-1]), mac.nets[bit]
    got = cell_energy(lib, mac, changes, t0_fs=t0_fs, t1_fs=t1_fs,
                      wire_cap_pf_per_fanout=WIRE, output_load_pf=OUT)
    loads, v = _loads(lib, mac), lib.nom_voltage
    want = sum(n * 0.5 * loads[bit] * v * v for bit, n in theirs.items())
    assert got.switching_pj == pytest.approx(want, rel=1e-12)
    assert got.internal_pj > 0 and got.leakage_pj > 0
    clock = next(iter(mac.clocks))
    assert got.clock_transitions == theirs[clock] == 100
    print(f"pj_mac8, 50 cycles: switching {got.switching_pj:.3f} pJ, internal "
          f"{got.internal_pj:.3f} pJ, leakage {got.leakage_pj:.5f} pJ")
    # a net the dump lacks is an error naming it, not zero energy
    bit = next(iter(mac.nets))
    broken = dataclasses.replace(mac, nets={**mac.nets, bit: Net("pj_no_such_net", 3)})
    with pytest.raises(ActivityError, match=r"not in the dump .*pj_no_such_net\[3\]"):
        netlist_changes(waves, broken, t0_fs, t1_fs)

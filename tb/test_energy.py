"""`picojoule energy` and :func:`sim.power.engine.measure_cells` end to end, and their bad inputs.

The JSON names the files an independent tool needs; here the test is that tool for the activity:
it counts the netlist's transitions in the VCD itself (its own VCD reader, not pywellen) inside
the reported window and scope, and gets the engine's count. The SDF run must show output
changes between stimulus instants (annotated delays), and the engine must refuse, with one
line, a missing liberty, a liberty without power data, a netlist whose outputs differ from the
RTL's and an SDF that annotates nothing.
"""

import json
import re
from pathlib import Path

import pytest

from sim.cli import main
from sim.energy.units import energy_units, unit_workload
from sim.power import engine
from sim.power.engine import EnergyError, measure_cells
from sim.power.stdcell import map_unit, osu018
from sim.rtl.runner import convert

UNIT = "lmul_e4m3"
OPS = 200
REQUIRED = ("unit", "library", "timing", "ops", "cells", "area_um2", "pj_per_op", "breakdown",
            "netlist", "activity", "scope", "t0_ns", "t1_ns", "vdd", "output_load_pf")


def _energy_json(capsys, *extra) -> dict:
    code = main(["energy", UNIT, "--ops", str(OPS), "--json", *extra])
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert len(lines) == 1, f"stdout is not exactly one JSON object: {out[:300]!r}"
    return json.loads(lines[0])


def _vcd_changes(path: Path, scope: str) -> tuple[dict[str, list[tuple[int, str]]], float]:
    """{signal name relative to ``scope``: [(time, value)]} and the time unit in ns."""
    ids: dict[str, list[str]] = {}
    stack: list[str] = []
    unit_ns = None
    changes: dict[str, list[tuple[int, str]]] = {}
    t = 0
    header = True
    text = path.read_text()
    tokens = iter(text.split("\n"))
    for line in tokens:
        line = line.strip()
        if header:
            if line.startswith("$timescale"):
                spec = line[len("$timescale"):].replace("$end", "").strip() or next(tokens)
                m = re.match(r"(\d+)\s*(s|ms|us|ns|ps|fs)", spec.strip())
                unit_ns = int(m.group(1)) * {"s": 1e9, "ms": 1e6, "us": 1e3, "ns": 1,
                                             "ps": 1e-3, "fs": 1e-6}[m.group(2)]
            elif line.startswith("$scope"):
                stack.append(line.split()[2])
            elif line.startswith("$upscope"):
                stack.pop()
            elif line.startswith("$var"):
                parts = line.split()
                name = parts[4]
                full = ".".join(stack)
                if full == scope:
                    ids.setdefault(parts[3], []).append(name)
            elif line.startswith("$enddefinitions"):
                header = False
            continue
        if not line or line.startswith("$"):
            continue
        if line[0] == "#":
            t = int(line[1:])
        elif line[0] in "bB":
            value, code = line[1:].split()
            for name in ids.get(code, ()):
                changes.setdefault(name, []).append((t, value))
        else:
            for name in ids.get(line[1:], ()):
                changes.setdefault(name, []).append((t, line[0]))
    return changes, unit_ns


def _bit_transitions(history, index, width, t0, t1) -> int:
    """Transitions of bit ``index`` at times in [t0, t1), the last value of a time counting."""
    prev, count, last_t = None, 0, None
    settled = []
    for t, v in history:
        bit = v.lower().rjust(width, v[0] if v[0] in "xz" else "0")[width - 1 - index]
        bit = "1" if bit == "1" else "0"
        if settled and settled[-1][0] == t:
            settled[-1] = (t, bit)
        else:
            settled.append((t, bit))
    for t, bit in settled:
        if prev is not None and bit != prev and t0 <= t < t1:
            count += 1
        prev = bit
        last_t = t
    del last_t
    return count


def test_energy_json_names_files_that_reproduce_the_activity(capsys):
    out = _energy_json(capsys)
    for key in REQUIRED:
        assert key in out, f"--json lacks {key!r}"
    b = out["breakdown"]
    assert set(b) >= {"switching", "internal", "leakage"}
    assert out["pj_per_op"] == pytest.approx(b["switching"] + b["internal"] + b["leakage"])
    assert b["switching"] > 0 and b["internal"] > 0 and b["leakage"] > 0
    assert out["ops"] == OPS and out["timing"] == "zero"
    assert Path(out["netlist"]).is_file() and Path(out["activity"]).is_file()
    # Recount the netlist's transitions from the VCD in the reported scope and window.
    liberty = Path(out["liberty"])
    netlist = map_unit(convert(energy_units()[UNIT].factory(), UNIT), UNIT, liberty)
    changes, unit_ns = _vcd_changes(Path(out["activity"]), out["scope"])
    t0, t1 = out["t0_ns"] / unit_ns, out["t1_ns"] / unit_ns
    widths = {}
    for net in netlist.nets.values():
        widths[net.name] = max(widths.get(net.name, 0), net.index + 1)
    total = sum(_bit_transitions(changes.get(net.name, []), net.index, widths[net.name], t0, t1)
                for bit, net in netlist.nets.items() if bit not in netlist.clocks)
    assert total > 0
    assert total == pytest.approx(out["transitions_per_op"] * out["ops"], abs=0.5)


def test_sdf_run_shows_annotated_delays_and_more_transitions(capsys):
    zero = _energy_json(capsys)
    sdf = _energy_json(capsys, "--timing", "sdf")
    assert sdf["timing"] == "sdf" and sdf["sim"] == "icarus" and Path(sdf["sdf"]).is_file()
    changes, unit_ns = _vcd_changes(Path(sdf["activity"]), sdf["scope"])
    period = 10 / unit_ns   # the workload's operand period (sim.lmul.workloads.OperandStream)
    late = [t for t, _ in changes["y"] if t % period]
    assert late, "no output change between stimulus instants: the SDF delays were not applied"
    # The exact product of the SDF run glitches: more transitions than the zero-delay run
    assert sdf["transitions_per_op"] > zero["transitions_per_op"]


def _cli_error(capsys, *argv) -> str:
    code = main(["energy", *argv])
    out, err = capsys.readouterr()
    assert code == 1, out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_missing_liberty_is_one_line(capsys, tmp_path):
    missing = tmp_path / "nope.lib"
    assert str(missing) in _cli_error(capsys, UNIT, "--liberty", str(missing))


def test_liberty_without_power_data_is_one_line(capsys, tmp_path):
    lib = tmp_path / "nopower.lib"
    lib.write_text('library (nopower) {\n  time_unit : "1ns";\n  voltage_unit : "1V";\n'
                   "  capacitive_load_unit (1, pf);\n  nom_voltage : 1.8;\n"
                   "  cell (INVX1) {\n    area : 16;\n"
                   "    pin (A) { direction : input; capacitance : 0.01; }\n"
                   '    pin (Y) { direction : output; function : "!A"; }\n  }\n}\n')
    msg = _cli_error(capsys, UNIT, "--liberty", str(lib))
    assert "nopower.lib" in msg and "power" in msg


def test_unknown_unit_and_bad_ops(capsys):
    assert "unknown unit" in _cli_error(capsys, "lmul_e9m9")
    assert "--ops" in _cli_error(capsys, UNIT, "--ops", "0")
    assert "SoC" in _cli_error(capsys, "core_rv32i")


def _unit():
    u = energy_units()[UNIT]
    return u.name, u.factory, unit_workload(UNIT, ops=OPS, seed=1)


def test_netlist_whose_outputs_differ_is_refused(monkeypatch):
    real = engine.simulation_verilog

    def broken(netlist, liberty, *, with_specify=False):
        text = real(netlist, liberty, with_specify=with_specify)
        # XOR cells compute XNOR: the netlist no longer multiplies correctly
        out, n = re.subn(r"(module XOR2X1\b.*?assign Y = )", r"\1~", text, count=1,
                         flags=re.S)
        assert n == 1
        return out

    monkeypatch.setattr(engine, "simulation_verilog", broken)
    with pytest.raises(EnergyError, match="outputs differ from the RTL"):
        measure_cells(*_unit())


def test_sdf_that_annotates_nothing_is_refused(monkeypatch, tmp_path):
    stray = tmp_path / "stray.sdf"
    stray.write_text('(DELAYFILE\n (SDFVERSION "3.0")\n (DESIGN "other")\n (TIMESCALE 1ns)\n'
                     ' (CELL\n  (CELLTYPE "INVX1")\n  (INSTANCE no_such_cell)\n'
                     "  (DELAY\n   (ABSOLUTE\n    (IOPATH A Y (0.1:0.1:0.1) (0.1:0.1:0.1))\n"
                     "   )\n  )\n )\n)\n")
    monkeypatch.setattr(engine, "write_sdf", lambda *a, **k: stray)
    with pytest.raises(Exception, match="stray.sdf"):
        measure_cells(*_unit(), timings=("sdf",))


def test_osu_library_is_the_default():
    lib, _ = osu018()
    assert engine.resolve_liberty(None) == lib
    with pytest.raises(EnergyError, match="no such file"):
        engine.resolve_liberty(lib.with_name("absent.lib"))


def test_cache_returns_a_result_only_while_its_inputs_and_files_hold(monkeypatch, tmp_path):
    """``cache=True``: the second call returns the stored result without simulating; another
    workload (seed) is measured afresh; a result whose activity file is gone is measured
    again."""
    monkeypatch.setattr(engine, "CACHE", tmp_path)
    name, factory, _ = _unit()
    wl = unit_workload(UNIT, ops=OPS, seed=3)      # a run folder no other test reads
    first = measure_cells(name, factory, wl, timings=("zero",), cache=True)
    runs = []
    real_run = engine.run
    monkeypatch.setattr(engine, "run", lambda *a, **k: runs.append(1) or real_run(*a, **k))
    again = measure_cells(name, factory, wl, timings=("zero",), cache=True)
    assert not runs and again["modes"]["zero"]["pj_per_op"] == first["modes"]["zero"]["pj_per_op"]
    other = unit_workload(UNIT, ops=OPS, seed=4)
    measure_cells(name, factory, other, timings=("zero",), cache=True)
    assert runs, "another seed must be simulated"
    runs.clear()
    Path(first["modes"]["zero"]["activity"]).unlink()
    measure_cells(name, factory, wl, timings=("zero",), cache=True)
    assert runs, "a result whose activity file is gone must be measured again"

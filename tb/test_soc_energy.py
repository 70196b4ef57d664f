"""The SoC's energy breakdown from the standard-cell engine (sim/soc/energy.py,
sim/soc/report.py) and the core's energy workload (sim/riscv/power_bench.py)."""

import math
from dataclasses import replace
from types import SimpleNamespace

import pytest

from hdl.riscv.core import Core
from sim.flow.toolchain import icarus_missing
from sim.power.engine import EnergyError
from sim.rtl import SimFailure, run
from sim.soc import report
from sim.soc.energy import core_program, measure_core
from sim.soc.rtl import SIM_PARAMS

needs_icarus = pytest.mark.skipif(icarus_missing() is not None,
                                  reason=icarus_missing() or "")


def _fake_parts(model: dict) -> dict:
    """Measured-part records as sim.soc.energy.measure_parts returns them, with the table
    model's figures standing in for the engine's (the report only multiplies and sums)."""
    parts = {}
    for event in report.LIBERTY_EVENTS:
        pj = model.get(event, (1.0, ""))[0]
        mode = {"pj_per_op": pj, "ops": 10, "t0_ns": 0.0, "t1_ns": 1000.0, "seconds": 2.0,
                "sim": "icarus", "breakdown": {}, "transitions_per_op": 1.0}
        parts[event] = {"pj": {"zero": pj}, "unit": f"unit_{event}", "what": event,
                        "result": {"unit": f"unit_{event}", "cells": 1000, "area_um2": 1e5,
                                   "fmax_mhz": 100.0, "modes": {"zero": mode},
                                   "program": None}}
    return parts


def _fake_run(p):
    perf = {n: 1000 + 10 * i for i, n in enumerate(p.perf_counters)}
    return SimpleNamespace(perf=perf, instret=50_000, console="ok\n", cycles=80_000)


def test_breakdown_parts_positive_and_sum_to_total(monkeypatch):
    p = SIM_PARAMS
    table = report.table_model(p)
    parts = _fake_parts(table)
    monkeypatch.setattr(report, "_measured", lambda *a, **k: parts)
    model = report.energy_model(p)
    for event in report.LIBERTY_EVENTS:
        assert report.LIBRARY in model[event][1], event
    for event in ("ram_access", "bus_transfer"):
        assert model[event][1].startswith("table:"), event
    m = {k: v for k, (v, _) in model.items()}
    res = _fake_run(p)
    energy, bits = report._energy(p, m, res, 4096, onn_busy=700)
    proxy, _ = report._energy(p, {k: v for k, (v, _) in table.items()}, res, 4096, 700)
    run_ = report.DemoRun("t", "r", True, 1000, 1, {"cycles": res.cycles, "instret":
                                                    res.instret, "wall_s": 1.0},
                          energy, bits, proxy, model, report._part_rows(parts))
    (row,) = report.summary_rows([run_], p)
    assert set(row["breakdown_uj"]) >= {"core", "memories", "bus", "imc", "dot_lmul",
                                        "dot_fpmul", "onn"}
    assert all(v > 0 for v in row["breakdown_uj"].values()), row["breakdown_uj"]
    assert math.isclose(sum(row["breakdown_uj"].values()), row["energy_uj"], rel_tol=1e-12)
    assert math.isclose(sum(row["proxy_breakdown_uj"].values()), row["proxy_energy_uj"],
                        rel_tol=1e-12)
    # The core's share is instructions x the engine's energy per instruction.
    assert math.isclose(row["breakdown_uj"]["core"] * 1e6, res.instret * m["instruction"])
    md = report.render_markdown([row], p)
    assert report.LIBRARY in md and "proxy estimate" in md and "(table)" in md
    cost = report.direct_cost([row])
    assert cost["cells"] == 1000 * len(report.LIBERTY_EVENTS)
    assert cost["demos"][0]["zero"] > 0


def test_report_with_some_parts_unmeasured(monkeypatch):
    """``make sim`` on a fresh clone prices the demos from cached figures only: with the core
    and the tile not yet measured, their events come from the table, the measured parts still
    show, and there is no whole-SoC estimate (its rate is the core netlist's)."""
    p = SIM_PARAMS
    table = report.table_model(p)
    parts = _fake_parts(table)
    for event in ("instruction", "imc_mac"):
        parts[event] = {"error": "not measured yet (no core-zero-1.json under build)",
                        "pending": True}
    monkeypatch.setattr(report, "_measured", lambda *a, **k: parts)
    model, prows, energy = report._pricing(p, quick=True, measure=False)
    assert model["instruction"][0] == table["instruction"][0]
    assert "no OSU 0.18 um (osu018_stdcells) figure yet" in model["instruction"][1]
    assert "engine failed" not in model["instruction"][1]
    assert set(prows) == set(report.LIBERTY_EVENTS) - {"instruction", "imc_mac"}
    res = _fake_run(p)
    e, bits, proxy = energy(res, 4096, 700)
    run_ = report.DemoRun("t", "r", True, 1000, 1, {"cycles": res.cycles, "instret":
                                                    res.instret, "wall_s": 1.0},
                          e, bits, proxy, model, prows)
    rows = report.summary_rows([run_], p)
    assert report.direct_cost(rows) == {}
    md = report.render_markdown(rows, p)
    assert "Measured parts" in md and "Whole-SoC netlist" not in md


@needs_icarus
def test_core_workload_checks_console():
    """The core's energy workload compares the program's console with the ISS's: a wrong
    expectation fails the run (so a core that computed something else cannot be priced)."""
    prog, _ = core_program(SIM_PARAMS, images=1)
    bad = replace(prog, console=prog.console.replace("check ", "check 0"))
    with pytest.raises(SimFailure, match="console differs"):
        run(Core(bad.core), toplevel="core_rv32im", test_module="sim.riscv.power_bench",
            testcase="core_program", sim="icarus", params=bad, waves=False)


#: The netlist test's window: between the first stores after instructions 300 and 1,200, a
#: quarter of the clocks of the report's CORE_SPAN (the gate-level run goes from reset to the
#: window's end).
TEST_SPAN = (300, 1_200)


@pytest.mark.slow
@needs_icarus
def test_core_netlist_digest_equals_rtl():
    """The core mapped to OSU 0.18 um cells runs the software MLP firmware store for store
    like the RTL over a window of the report's loop (the engine raises if the digests, which
    cover every store and the clock count, differ), and its energy per instruction is
    positive with a breakdown that sums to it."""
    res = measure_core(SIM_PARAMS, images=1, span=TEST_SPAN, timings=("zero",), sim="icarus")
    prog, _ = core_program(SIM_PARAMS, images=1, span=TEST_SPAN)
    assert prog.stores[1] > prog.stores[0]
    mode = res["modes"]["zero"]
    assert mode["ops"] == prog.instructions
    assert all(v > 0 for v in mode["breakdown"].values()), mode["breakdown"]
    assert math.isclose(sum(mode["breakdown"].values()), mode["pj_per_op"], rel_tol=1e-12)
    assert res["cells"] > 1000


def test_part_the_engine_cannot_measure_is_priced_from_its_table(monkeypatch):
    """A part whose netlist run fails gives no figure: the report prices that event from the
    table, says so with the engine's one-line reason, and shows no measured row for it."""
    from sim.power.engine import EnergyError
    from sim.soc import energy

    def broken(name, *a, **k):
        raise EnergyError(f"{name}: the zero netlist's outputs differ from the RTL's")

    monkeypatch.setattr(energy, "_per_mode", broken)
    p = SIM_PARAMS
    parts = energy.measure_parts(p, log=lambda msg: None)
    assert set(parts) == set(report.LIBERTY_EVENTS)
    assert all("outputs differ" in part["error"] for part in parts.values())
    model = report._liberty_model(p, parts)
    table = report.table_model(p)
    for event in report.LIBERTY_EVENTS:
        assert model[event][0] == table[event][0], event
        assert "engine failed" in model[event][1] and "outputs differ" in model[event][1]
    assert report._part_rows(parts) == {}


def test_cached_only_measures_nothing(monkeypatch, tmp_path):
    """``measure=False`` (``python -m sim.soc.generators`` without ``--measure``): nothing is
    simulated; a part without a cached figure is priced from the table and says why; a cached
    figure is used as it is."""
    from sim.soc import energy

    def never(*a, **k):
        raise AssertionError("measure=False ran a measurement")

    monkeypatch.setattr(energy, "CACHE", tmp_path)
    monkeypatch.setattr(energy, "measure_core", never)
    monkeypatch.setattr("sim.power.engine.measure_cells", never)
    p = SIM_PARAMS
    parts = energy.measure_parts(p, measure=False, log=lambda msg: None)
    assert set(parts) == set(report.LIBERTY_EVENTS)
    assert all("not measured yet" in part["error"] for part in parts.values())
    model = report._liberty_model(p, parts)
    table = report.table_model(p)
    for event in report.LIBERTY_EVENTS:
        assert model[event][0] == table[event][0]
        assert "figure yet: `picojoule report soc` measures it" in model[event][1]
    assert energy._cached("x", (1,), lambda: {"pj": 2.5}) == {"pj": 2.5}
    assert energy._cached("x", (1,), None) == {"pj": 2.5}
    with pytest.raises(EnergyError, match="not measured yet"):
        energy._cached("x", (2,), None)

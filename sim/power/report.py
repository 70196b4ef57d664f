# Ref: H. Luo, W. Sun, arXiv 2410.00907 (L-Mul energy claims, from Horowitz ISSCC 2014);
#      energy constants and their sources in sim/power/energy.py.
"""Measure units (RTL + gate level) on a workload and write Markdown, JSON and PNG reports.

:func:`measure_unit` is the one entry point: it synthesizes the unit, runs the workload's
cocotb testcase on the RTL and on the netlist with waves, checks both produced the same outputs
(when the testbench records a ``digest``), counts toggles in the window and prices them.
Absolute pJ are estimates from the tables in :mod:`sim.power.energy`; ratios between designs
measured the same way are the result to quote.
"""

import xml.etree.ElementTree as ET

from sim.rtl.runner import convert, run

from . import energy
from .activity import ActivityError, capture
from .gates import gate_energy, net_toggles, rtl_net_map, synthesize
from .workloads import Workload

__all__ = ["measure_unit", "compare", "benchmark", "traffic_energy", "testcase_seconds",
           "CATEGORIES"]

CATEGORIES = ("logic", "flipflop_clock", "memory", "bus", "offchip")


def testcase_seconds(sim_run, testcase: str) -> float:
    """Wall time cocotb measured for ``testcase`` (build excluded)."""
    root = ET.parse(sim_run.run_dir / "results.xml").getroot()
    for case in root.iter("testcase"):
        if case.get("name") == testcase:
            return float(case.get("time"))
    raise ActivityError(f"no testcase {testcase!r} in {sim_run.run_dir / 'results.xml'}")


def traffic_energy(act, workload: Workload) -> dict:
    """Transfers across the workload's boundaries and memory accesses in the window, in pJ."""
    ops = act.window.ops
    bounds, mems = {}, {}
    pj = {"memory": 0.0, "bus": 0.0, "offchip": 0.0}
    for b in workload.boundaries:
        conds = (b.valid,) + ((b.ready,) if b.ready else ())
        n = act.transfers(b.clock, *conds)
        e = n * b.bits * energy.interconnect_pj_per_bit(b.tier, b.length_mm)
        cls = "offchip" if b.tier in energy.OFF_CHIP_TIERS else "bus"
        pj[cls] += e
        bounds[b.name] = {"transfers": n, "bits_per_op": n * b.bits / ops, "tier": b.tier,
                          "length_mm": b.length_mm, "pj_per_op": e / ops}
    for m in workload.memories:
        n = act.transfers(m.clock, m.enable)
        e = n * energy.memory_access_pj(m.size_bytes, m.word_bits, write=m.write, dram=m.dram)
        pj["memory"] += e
        mems[m.name] = {"accesses": n, "accesses_per_op": n / ops, "pj_per_op": e / ops}
    bits_per_op = sum(v["bits_per_op"] for v in bounds.values())
    what_if = {tier: bits_per_op * energy.interconnect_pj_per_bit(tier)
               for tier in energy.INTERCONNECT}
    return {"boundaries": bounds, "memories": mems, "pj": pj, "bits_per_op": bits_per_op,
            "what_if_pj_per_op": what_if}


def measure_unit(name: str, component_factory, workload: Workload, *,
                 sims=("verilator",), vdd: float = energy.VDD) -> dict:
    """Toggles/op (RTL and gate level) and pJ/op with breakdown of unit ``name`` on ``workload``.

    ``component_factory()`` builds the unit (e.g. ``hdl.exports.EXPORTS[name]``); it becomes
    top module ``name``. One result per simulator in ``sims``. Raises
    :class:`~sim.power.activity.ActivityError` when a window is untrustworthy and
    ``AssertionError`` when the netlist's outputs differ from the RTL's.
    """
    component = component_factory()
    rtl_text = convert(component, name)
    netlist = synthesize(rtl_text, name)
    rtl_nets = rtl_net_map(rtl_text, name)
    result = {"unit": name, "workload": workload.describe(), "vdd": vdd,
              "cells": netlist.cells, "n_cells": netlist.n_cells,
              "n_flipflops": netlist.n_flipflops, "sims": {}}
    for sim in sims:
        kw = {"toplevel": name, "test_module": workload.test_module, "sim": sim,
              "params": workload.params, "testcase": workload.testcase, "waves": True}
        r_rtl = run(component, **kw)
        r_gate = run(component, verilog_text=netlist.verilog, **kw)
        act_rtl = capture(r_rtl, name, window=workload.window)
        act_gate = capture(r_gate, name, window=workload.window)
        w = act_rtl.window
        if "digest" in w.extra:
            assert w.extra["digest"] == act_gate.window.extra.get("digest"), (
                f"{name} on {sim}: the gate-level netlist's outputs differ from the RTL's "
                f"({r_gate.run_dir})")
        ops = w.ops
        rtl_toggles = net_toggles(rtl_nets, act_rtl, strict=False)
        rtl_total = sum(n for bit, n in rtl_toggles.items() if not rtl_nets[bit].is_clock
                        and rtl_nets[bit].name not in workload.clocks)
        gate = gate_energy(netlist, act_gate, vdd=vdd)
        traffic = traffic_energy(act_rtl, workload)
        pj = {"logic": gate["fj"]["logic"] / 1e3 / ops,
              "flipflop_clock": (gate["fj"]["flipflop"] + gate["fj"]["clock"]) / 1e3 / ops,
              **{k: v / ops for k, v in traffic["pj"].items()}}
        pj["compute"] = pj["logic"] + pj["flipflop_clock"]
        pj["total"] = sum(pj[c] for c in CATEGORIES)
        t_rtl = testcase_seconds(r_rtl, workload.testcase)
        t_gate = testcase_seconds(r_gate, workload.testcase)
        result["sims"][sim] = {
            "ops": ops,
            "cycles": len(act_rtl.waves.rising_edges(workload.clocks[0], *act_rtl.ticks()))
            if workload.clocks[0] in act_rtl.bits else 0,
            "rtl": {"toggles_per_op": rtl_total / ops, "nets": len(rtl_nets),
                    "nets_not_dumped": len(rtl_nets) - len(rtl_toggles), "seconds": t_rtl,
                    "unknown_values": act_rtl.unknown},
            "gate": {"toggles_per_op": gate["toggles"] / ops,
                     "clock_transitions_per_op": gate["clock_transitions"] / ops,
                     "nets": len(netlist.nets), "seconds": t_gate,
                     "unknown_values": act_gate.unknown},
            "gate_over_rtl_runtime": t_gate / t_rtl if t_rtl else None,
            "pj_per_op": pj,
            "traffic": traffic,
            "runs": {"rtl": str(r_rtl.run_dir), "gate": str(r_gate.run_dir)},
        }
    return result


def compare(a: dict, b: dict, *, sim: str | None = None) -> dict:
    """Ratios a/b of toggles/op and pJ/op (per category) of two :func:`measure_unit` results."""
    sim = sim or next(iter(a["sims"]))
    ra, rb = a["sims"][sim], b["sims"][sim]

    def ratio(x, y):
        return x / y if y else None

    return {
        "a": a["unit"], "b": b["unit"], "sim": sim,
        "rtl_toggles": ratio(ra["rtl"]["toggles_per_op"], rb["rtl"]["toggles_per_op"]),
        "gate_toggles": ratio(ra["gate"]["toggles_per_op"], rb["gate"]["toggles_per_op"]),
        "cells": ratio(a["n_cells"], b["n_cells"]),
        "pj": {k: ratio(ra["pj_per_op"][k], rb["pj_per_op"][k]) for k in ra["pj_per_op"]},
    }


def benchmark(name: str, component_factory, workload: Workload, *, sim: str = "verilator"
              ) -> dict:
    """Runtime of the gate-level run of ``workload`` over the RTL run (cocotb test time, both
    with waves, builds excluded); prints and returns it."""
    res = measure_unit(name, component_factory, workload, sims=(sim,))["sims"][sim]
    out = {"unit": name, "sim": sim, "rtl_s": res["rtl"]["seconds"],
           "gate_s": res["gate"]["seconds"], "ratio": res["gate_over_rtl_runtime"]}
    print(f"{name} on {sim}: RTL {out['rtl_s']:.2f} s, gate level {out['gate_s']:.2f} s, "
          f"gate/RTL {out['ratio']:.2f}x")
    return out

# Ref: H. Luo, W. Sun, arXiv 2410.00907 (L-Mul energy claims, from Horowitz ISSCC 2014);
#      energy constants and their sources in sim/power/energy.py.
"""Measure units (RTL + gate level) on a workload and write Markdown, JSON and PNG reports.

:func:`measure_unit` is the one entry point: it synthesizes the unit, runs the workload's
cocotb testcase on the RTL and on the netlist with waves, checks both produced the same outputs
(when the testbench records a ``digest``), counts toggles in the window and prices them.
Absolute pJ are estimates from the tables in :mod:`sim.power.energy`; ratios between designs
measured the same way are the result to quote.
"""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from hdl.float import FORMATS
from sim.rtl.runner import convert, run

from . import energy
from .activity import ActivityError, capture
from .gates import gate_energy, net_toggles, rtl_net_map, synthesize
from .workloads import Boundary, Workload, operand_workload

__all__ = ["measure_unit", "measure_lmul", "compare", "write_report", "benchmark",
           "traffic_energy", "CATEGORIES"]

CATEGORIES = ("logic", "flipflop_clock", "memory", "bus", "offchip")


def _test_seconds(sim_run, testcase: str) -> float:
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
        t_rtl = _test_seconds(r_rtl, workload.testcase)
        t_gate = _test_seconds(r_gate, workload.testcase)
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


def measure_lmul(fmts=tuple(FORMATS), *, n_ops: int = 2000, seed: int = 1,
                 sims=("verilator",), stream=(False, True)) -> dict:
    """L-Mul vs exact multiplier per format, combinational and/or stream wrapper.

    Returns ``{"units": [results], "ratios": [lmul/fpmul comparisons]}``.
    """
    from hdl.exports import EXPORTS

    units, ratios = [], []
    for fmt in fmts:
        for st in stream:
            suffix = "_stream" if st else ""
            wl = operand_workload(fmt, n_ops=n_ops, seed=seed, stream=st)
            pair = [measure_unit(f"{kind}_{fmt}{suffix}", EXPORTS[f"{kind}_{fmt}{suffix}"], wl,
                                 sims=sims) for kind in ("lmul", "fpmul")]
            units += pair
            ratios += [compare(*pair, sim=s) for s in sims]
    return {"units": units, "ratios": ratios}


def measure_dot(fmts=("e4m3", "e5m2"), *, vectors: int = 16, length: int = 64, seed: int = 1,
                sims=("verilator",), length_mm: float = 1.0) -> dict:
    """L-Mul vs exact dot-product units (8 lanes, fp32 accumulator) per fp8 format, on
    ``vectors`` dot products of ``length`` N(0, 1) elements; ops = multiply-accumulates. The
    chunk and result ports are charged as an on-die bus of ``length_mm`` (an assumption)."""
    from hdl.exports import EXPORTS
    from hdl.ldot import DotParams, chunk_layout
    from sim.lmul.dot_bench import DotWorkload

    units, ratios = [], []
    for fmt in fmts:
        pair = []
        for kind in ("lmul", "fpmul"):
            p = DotParams(FORMATS[fmt], lanes=8, kind=kind)
            bounds = (Boundary("i", "i__valid", chunk_layout(p).size, ready="i__ready",
                               length_mm=length_mm),
                      Boundary("o", "o__valid", 32, ready="o__ready", length_mm=length_mm))
            wl = Workload("sim.lmul.dot_bench", "power_vectors",
                          DotWorkload(p, vectors, length, seed), boundaries=bounds)
            pair.append(measure_unit(p.name, EXPORTS[p.name], wl, sims=sims))
        units += pair
        ratios += [compare(*pair, sim=s) for s in sims]
    return {"units": units, "ratios": ratios}


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


def _fmt(x, digits=4):
    return "-" if x is None else f"{x:.{digits}g}"


def write_report(data: dict, out_dir: Path, *, title: str = "picojoule energy report",
                 stem: str = "power") -> dict[str, Path]:
    """``data`` from :func:`measure_lmul` (``units`` + ``ratios``) to ``stem.md``,
    ``stem.json`` and ``stem.png`` in ``out_dir``; returns the paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / f"{stem}.json", "md": out_dir / f"{stem}.md",
             "png": out_dir / f"{stem}.png"}
    paths["json"].write_text(json.dumps({"constants": {k: vars(c) for k, c in
                                                       energy.CONSTANTS.items()}, **data},
                                        indent=1))
    lines = [f"# {title}", "",
             ("Absolute pJ are estimates from the constants table below (28 nm gate "
              "capacitances, 45 nm memory and operation energies); the ratios between designs "
              "measured the same way are the result. Zero-delay toggle counting: no glitches."),
             "", "## Per unit", "",
             ("| unit | sim | ops | cells | FFs | RTL toggles/op | gate toggles/op | "
              "logic pJ/op | FF+clock pJ/op | memory | bus | off-chip | total pJ/op | "
              "gate/RTL runtime |"),
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for u in data["units"]:
        for sim, r in u["sims"].items():
            pj = r["pj_per_op"]
            lines.append(
                f"| {u['unit']} | {sim} | {r['ops']} | {u['n_cells']} | {u['n_flipflops']} | "
                f"{_fmt(r['rtl']['toggles_per_op'])} | {_fmt(r['gate']['toggles_per_op'])} | "
                f"{_fmt(pj['logic'])} | {_fmt(pj['flipflop_clock'])} | {_fmt(pj['memory'])} | "
                f"{_fmt(pj['bus'])} | {_fmt(pj['offchip'])} | {_fmt(pj['total'])} | "
                f"{_fmt(r['gate_over_rtl_runtime'], 3)} |")
    if data.get("ratios"):
        lines += ["", "## Ratios (a / b)", "",
                  ("| a | b | sim | cells | RTL toggles | gate toggles | compute pJ "
                   "(logic+FF+clock) | total pJ | energy saved (compute) |"),
                  "|---|---|---|---|---|---|---|---|---|"]
        for c in data["ratios"]:
            saved = None if c["pj"]["compute"] is None else 1 - c["pj"]["compute"]
            lines.append(f"| {c['a']} | {c['b']} | {c['sim']} | {_fmt(c['cells'], 3)} | "
                         f"{_fmt(c['rtl_toggles'], 3)} | {_fmt(c['gate_toggles'], 3)} | "
                         f"{_fmt(c['pj']['compute'], 3)} | {_fmt(c['pj']['total'], 3)} | "
                         f"{'-' if saved is None else f'{saved:.0%}'} |")
        paper = 1 - energy.value("int_add_32b") / energy.value("fp_mult_32b")
        lines += ["", (f"For reference, the paper's argument with Horowitz's 45 nm table (fp32 "
                       f"multiply {energy.value('fp_mult_32b')} pJ vs int32 add "
                       f"{energy.value('int_add_32b')} pJ) gives {paper:.0%} less energy; the "
                       "gate-level ratios above are measured on the actual fp8/bf16 datapaths.")]
    traffic = [(u["unit"], sim, r["traffic"]) for u in data["units"]
               for sim, r in u["sims"].items() if r["traffic"]["bits_per_op"]]
    if traffic:
        tiers = list(energy.INTERCONNECT)
        lines += ["", "## What if the traffic went over another tier (pJ/op)", "",
                  "| unit | sim | bits/op | " + " | ".join(tiers) + " |",
                  "|---|---|---|" + "---|" * len(tiers)]
        for unit, sim, t in traffic:
            lines.append(f"| {unit} | {sim} | {_fmt(t['bits_per_op'])} | " + " | ".join(
                _fmt(t["what_if_pj_per_op"][k], 3) for k in tiers) + " |")
        lines += ["", "(on-die wire per mm; boundary lengths are assumed, see the JSON.)"]
    lines += ["", "## Constants", "", energy.constants_table(), ""]
    paths["md"].write_text("\n".join(lines))

    rows = [(f"{u['unit']}\n{sim}", r) for u in data["units"] for sim, r in u["sims"].items()]
    fig, (ax0, ax1, ax2) = plt.subplots(1, 3, figsize=(max(10, 1.6 * len(rows) + 5), 4.5))
    x = range(len(rows))
    # Compute on its own axis: traffic is often 100x larger and would flatten it.
    for ax, cats, what in ((ax0, ("logic", "flipflop_clock"), "compute energy per op"),
                           (ax1, CATEGORIES, "energy per op incl. traffic")):
        bottom = [0.0] * len(rows)
        for cat in cats:
            vals = [r["pj_per_op"][cat] for _, r in rows]
            if any(vals):
                ax.bar(x, vals, bottom=bottom, label=cat)
                bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
        ax.set_ylabel("pJ / op (estimate)")
        ax.set_title(what)
        ax.legend(fontsize=7)
    width = 0.4
    ax2.bar([i - width / 2 for i in x], [r["rtl"]["toggles_per_op"] for _, r in rows], width,
            label="RTL")
    ax2.bar([i + width / 2 for i in x], [r["gate"]["toggles_per_op"] for _, r in rows], width,
            label="gate level")
    ax2.set_ylabel("toggles / op")
    ax2.set_title("switching activity")
    ax2.legend(fontsize=7)
    for ax in (ax0, ax1, ax2):
        ax.set_xticks(list(x))
        ax.set_xticklabels([n for n, _ in rows], rotation=60, ha="right", fontsize=7)
    fig.tight_layout()
    fig.savefig(paths["png"], dpi=120)
    plt.close(fig)
    return paths


def main(argv=None) -> int:
    """``python -m sim.power.report [--fmts e4m3,bf16] [--sims verilator] [--ops 2000]
    [--seed 1] [--out build/power/report]``: the L-Mul energy report, Markdown + JSON + PNG."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m sim.power.report", description=main.__doc__)
    ap.add_argument("--fmts", default=",".join(FORMATS))
    ap.add_argument("--sims", default="verilator")
    ap.add_argument("--ops", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("build/power/report"))
    args = ap.parse_args(argv)
    data = measure_lmul(tuple(args.fmts.split(",")), n_ops=args.ops, seed=args.seed,
                        sims=tuple(args.sims.split(",")))
    paths = write_report(data, args.out, title="L-Mul vs exact multiplier: energy per multiply",
                         stem="lmul_power")
    for c in data["ratios"]:
        print(f"{c['a']} / {c['b']} ({c['sim']}): compute energy {c['pj']['compute']:.3f}, "
              f"gate toggles {c['gate_toggles']:.3f}, cells {c['cells']:.3f}")
    print("\n".join(f"wrote {p}" for p in paths.values()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

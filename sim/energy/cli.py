"""``picojoule energy UNIT``: one unit's energy per operation from a standard-cell library."""

import json
import sys

from sim.flow.toolchain import ToolError
from sim.power.engine import NETLIST_SIM

__all__ = ["add_energy_parser", "cmd_energy"]


def cmd_energy(args) -> int:
    from sim.power.engine import Loads, measure_cells, resolve_liberty

    from .units import NOT_MEASURED, energy_units, unit_workload

    units = energy_units()
    if args.unit in NOT_MEASURED:
        raise ToolError(f"{args.unit}: {NOT_MEASURED[args.unit]}")
    if args.unit not in units:
        raise ToolError(f"unknown unit {args.unit!r}; choose from: {', '.join(units)}")
    if args.ops < 1:
        raise ToolError(f"--ops must be at least 1, not {args.ops}")
    unit = units[args.unit]
    liberty = resolve_liberty(args.liberty)     # a bad liberty stops before any work
    say = (lambda msg: print(msg, file=sys.stderr)) if args.json else print
    say(f"[energy] {unit.name}: mapping, {args.timing} run of ~{args.ops} ops "
        f"({'Icarus with SDF' if args.timing == 'sdf' else args.sim})")
    res = measure_cells(unit.name, unit.factory,
                        unit_workload(unit.name, ops=args.ops, seed=args.seed),
                        liberty=liberty, timings=(args.timing,), sim=args.sim,
                        loads=Loads())
    mode = res["modes"][args.timing]
    out = {"unit": res["unit"], "library": res["library"], "liberty": res["liberty"],
           "timing": args.timing, "sim": mode["sim"], "op": unit.op, "ops": mode["ops"],
           "cells": res["cells"], "area_um2": res["area_um2"],
           "pj_per_op": mode["pj_per_op"], "breakdown": mode["breakdown"],
           "transitions_per_op": mode["transitions_per_op"],
           "critical_path_ns": res["timing"]["critical_path_ns"],
           "fmax_mhz": res["timing"]["fmax_mhz"],
           "netlist": res["netlist"], "activity": mode["activity"], "scope": mode["scope"],
           "sdf": mode["sdf"], "t0_ns": mode["t0_ns"], "t1_ns": mode["t1_ns"],
           "vdd": mode["vdd"], "output_load_pf": mode["output_load_pf"],
           "wire_cap_pf_per_fanout": mode["wire_cap_pf_per_fanout"], "seed": args.seed}
    if args.json:
        print(json.dumps(out))
        return 0
    b = out["breakdown"]
    print(f"{out['unit']} on {out['library']} ({out['timing']}-delay activity, {out['sim']}): "
          f"{out['pj_per_op']:.4g} pJ per {unit.op} over {out['ops']} ops "
          f"(switching {b['switching']:.4g}, internal {b['internal']:.4g}, "
          f"leakage {b['leakage']:.3g})")
    print(f"  {out['cells']} cells, {out['area_um2']:.0f} um2, critical path "
          f"{out['critical_path_ns']:.3f} ns ({out['fmax_mhz']:.0f} MHz), "
          f"{out['transitions_per_op']:.1f} net transitions per op")
    print(f"  netlist {out['netlist']}\n  activity {out['activity']} (scope {out['scope']}, "
          f"{out['t0_ns']:g}-{out['t1_ns']:g} ns)")
    return 0


def add_energy_parser(sub) -> None:
    p = sub.add_parser("energy", help="one unit's energy per operation from a standard-cell "
                       "liberty (default OSU 0.18 um), zero-delay or SDF-timed activity")
    p.add_argument("unit", help="an exported unit (see `picojoule list`) or the IMC tile "
                   "imc_<size>/baseline vn_<size>")
    p.add_argument("--liberty", default=None, metavar="FILE",
                   help="liberty with power data (default: OSU 0.18 um, fetched on first use)")
    p.add_argument("--timing", choices=("zero", "sdf"), default="zero",
                   help="zero-delay activity, or timing-aware (SDF-annotated Icarus: glitches)")
    p.add_argument("--sim", choices=("verilator", "icarus"), default=NETLIST_SIM,
                   help="simulator of the zero-delay run (the SDF run is always Icarus)")
    p.add_argument("--ops", type=int, default=2000, help="operations in the window")
    p.add_argument("--seed", type=int, default=1, help="stimulus seed")
    p.add_argument("--json", action="store_true",
                   help="print exactly one JSON object on stdout (progress goes to stderr)")
    p.set_defaults(func=cmd_energy)

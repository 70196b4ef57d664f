# Ref: OSU 0.18 um standard cells (Debian qflow-tech-osu018); OpenSTA 2.0.17 (Debian opensta);
#      IEEE 1497 SDF, as annotated by Icarus Verilog (-gspecify, $sdf_annotate).
"""Energy per operation from a standard-cell library: the project's energy engine.

:func:`measure_cells` is the one entry point. For a unit and a workload (the unit's own cocotb
testcase, :class:`sim.power.workloads.Workload`) it

1. maps the unit's Verilog to the cells of a liberty (:func:`sim.power.stdcell.map_unit`; the
   default is the OSU 0.18 um library, fetched on first use);
2. runs the workload on the RTL (zero-delay, no waves) for the reference output digest;
3. runs the same workload on the mapped netlist, with cell models generated from the liberty,
   in one or both activity modes, each dumping a VCD:

   - ``zero``: zero-delay (Verilator or Icarus); every net changes at most once per time step,
     so glitches are not seen;
   - ``sdf``: timing-aware, on Icarus only: OpenSTA's SDF of the netlist (the same wire and
     port loads as the energy) annotated with ``$sdf_annotate`` on cell models with specify
     paths (``iverilog -gspecify``), so every transition is counted, glitches included;

4. checks that each netlist run's output digest equals the RTL's (a workload that records no
   digest checks its outputs against the model inside the testcase instead);
5. prices the window's transitions with :func:`sim.power.cellpower.cell_energy`: switching
   (1/2 C V^2 over liberty pin capacitances, a wire estimate per fanout and the output-port
   load), internal (the liberty's NLDM tables at the net's slew and load, on the arc of the
   input that caused the output's transition) and leakage over the window;
6. adds OpenSTA's critical path and Fmax of the mapped netlist.

Traffic across the workload's boundaries (buses, off-chip tiers) is not part of the netlist and
is charged per bit from :mod:`sim.power.energy` as before, in its own ``traffic`` entry.

The result of each mode carries the files an independent tool needs to recompute the figure:
the mapped netlist, the VCD, the unit's scope in it, the window and the loads.
"""

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

from sim.flow.toolchain import BUILD
from sim.rtl.bench import CLOCK_ENV, CLOCK_NS
from sim.rtl.runner import convert, run

from .activity import Waves, read_window
from .cellpower import OUTPUT_LOAD_PF, WIRE_CAP_PF_PER_FANOUT, cell_energy, netlist_changes
from .liberty import LibertyError, read_liberty
from .sta import check_icarus_sdf, timing, write_sdf
from .stdcell import StdcellError, map_unit, osu018, simulation_verilog
from .workloads import Workload

__all__ = ["EnergyError", "TIMINGS", "Loads", "resolve_liberty", "measure_cells"]

TIMINGS = ("zero", "sdf")

#: Simulator of the zero-delay netlist runs (and of their RTL reference run) unless a caller
#: names one. Icarus: a mapped netlist is thousands of cell instances, which Verilator takes
#: minutes to compile for a run that lasts seconds. Measured on the same 2-core machine, the
#: figures equal to the last digit on both: the IMC 8 x 4 tile and baseline 129 s on Icarus
#: against 425 s, the 8-cell oscillator array's 32k-cell netlist about a minute against 17.5
#: minutes; the e4m3 multipliers (2,000 ops) and dot units (1,024 MACs) take the same time on
#: both (84 / 163 s against 82 / 151 s).
NETLIST_SIM = "icarus"


class EnergyError(ValueError):
    """A measurement that cannot give a trustworthy figure (one line, naming the file)."""


@dataclass(frozen=True)
class Loads:
    """The load model shared by the energy, OpenSTA's SDF and its timing."""

    wire_cap_pf_per_fanout: float = WIRE_CAP_PF_PER_FANOUT
    output_load_pf: float = OUTPUT_LOAD_PF


def resolve_liberty(liberty: str | Path | None) -> Path:
    """The liberty file to use: ``liberty``, or the OSU 0.18 um library (fetched on first use).
    A missing or unreadable file, or one without power data, is a one-line error."""
    if liberty is None:
        path = osu018()[0]
    else:
        path = Path(liberty)
        if not path.is_file():
            raise EnergyError(f"liberty {path}: no such file")
    try:
        read_liberty(path).require_power()
    except LibertyError as err:
        raise EnergyError(str(err)) from None
    return path


def _sdf_annotation(sdf: Path, top: str) -> str:
    """A second root module that annotates ``sdf`` on the unit's scope at time 0."""
    return (f"\nmodule pj_sdf_annotate;\n  initial $sdf_annotate(\"{sdf}\", {top});\n"
            "endmodule\n")


def _scope(waves: Waves) -> str:
    """The unit's hierarchical path in the dump (``lmul_e4m3``, ``TOP.lmul_e4m3``)."""
    for var in waves.vars.values():
        parts = var.full_name.split(".")
        return ".".join(parts[:parts.index(waves.toplevel) + 1])
    raise EnergyError(f"{waves.path}: no signal under {waves.toplevel}")


def _digest_check(name: str, mode: str, want: dict, got: dict, where: Path) -> None:
    if "digest" in want and want["digest"] != got.get("digest"):
        raise EnergyError(f"{name}: the {mode} netlist's outputs differ from the RTL's "
                          f"(digest {got.get('digest')} vs {want['digest']}); run: {where}")


def measure_cells(name: str, component_factory, workload: Workload, *,
                  liberty: str | Path | None = None, timings=("zero",), sim: str = NETLIST_SIM,
                  loads: Loads = Loads(), with_timing_report: bool = True,
                  cache: bool = False) -> dict:
    """Energy per operation of unit ``name`` on ``workload`` from a standard-cell library.

    ``component_factory()`` builds the unit (top module ``name``). ``timings`` is a subset of
    :data:`TIMINGS`; ``sim`` runs the zero-delay mode (the ``sdf`` mode always runs on Icarus).
    Returns ``{"unit", "library", "liberty", "cells", "cell_counts", "area_um2", "timing"
    (OpenSTA), "modes": {mode: result}}``; each result has ``pj_per_op``, ``breakdown``
    (``switching``, ``internal``, ``leakage`` pJ/op), transitions per op, and the files.
    Raises :class:`EnergyError` or :class:`~sim.flow.toolchain.ToolError` (one line) instead of a
    figure when anything is untrustworthy.

    ``cache``: keep the result under ``build/power/cells/`` and return it again while nothing
    it depends on changed (the unit's Verilog, the liberty file, the workload and its
    testbench module, the modes, simulator and loads, and the engine's and runner's sources)
    and its activity files still exist. The reports and ``make sim`` use it; a direct call
    measures afresh.
    """
    bad = [t for t in timings if t not in TIMINGS]
    if bad or not timings:
        raise EnergyError(f"timing must be one of {', '.join(TIMINGS)}, not {bad or timings}")
    path = resolve_liberty(liberty)
    lib = read_liberty(path)
    component = component_factory()
    rtl_text = convert(component, name)
    key = None
    if cache:
        key = _cache_key(name, rtl_text, path, workload, timings, sim, loads,
                         with_timing_report)
        hit = _cache_load(name, key)
        if hit is not None:
            return hit
    try:
        netlist = map_unit(rtl_text, name, path)
        sim_text = {t: simulation_verilog(netlist, path, with_specify=(t == "sdf"))
                    for t in timings}
    except StdcellError as err:
        raise EnergyError(str(err)) from None
    result = {"unit": name, "library": lib.name, "liberty": str(path), "vdd": lib.nom_voltage,
              "cells": len(netlist.instances), "cell_counts": netlist.cell_counts,
              "area_um2": netlist.area_um2, "netlist": str(netlist.directory / "cells.v"),
              "workload": workload.describe(), "loads": vars(loads), "modes": {}}
    clock = workload.clocks[0] if any(n.name == workload.clocks[0]
                                      for n in netlist.nets.values()) else None
    # The SDF mode needs the critical path: its clock must meet timing (below).
    if with_timing_report or "sdf" in timings:
        result["timing"] = timing(netlist, path, clock_port=clock,
                                  wire_cap_pf_per_fanout=loads.wire_cap_pf_per_fanout,
                                  output_load_pf=loads.output_load_pf)
    kw = {"toplevel": name, "test_module": workload.test_module, "params": workload.params,
          "testcase": workload.testcase}
    reference = read_window(run(component, sim=sim, waves=False, **kw), workload.window).extra
    # A clocked unit whose critical path exceeds the testbenches' 10 ns clock would capture
    # wrong values once delays are annotated: every netlist run gets a clock that meets timing.
    clock_ns = CLOCK_NS
    if clock is not None and "timing" in result:
        clock_ns = max(CLOCK_NS, 2 * math.ceil(1.05 * result["timing"]["min_period_ns"] / 2))
    if clock_ns != CLOCK_NS:
        kw["extra_env"] = {CLOCK_ENV: str(clock_ns)}
    result["clock_ns"] = clock_ns
    for mode in timings:
        started = time.monotonic()
        if mode == "sdf":
            sdf = write_sdf(netlist, path, clock_port=clock,
                            wire_cap_pf_per_fanout=loads.wire_cap_pf_per_fanout,
                            output_load_pf=loads.output_load_pf)
            text = sim_text[mode] + _sdf_annotation(sdf, name)
            r = run(component, sim="icarus", waves=True, wave_format="vcd", verilog_text=text,
                    icarus_args=("-gspecify", "-s", "pj_sdf_annotate"), **kw)
            check_icarus_sdf(r.log.read_text(errors="replace"), sdf)
        else:
            sdf = None
            r = run(component, sim=sim, waves=True, wave_format="vcd",
                    verilog_text=sim_text[mode], verilator_args=("--trace-underscore",), **kw)
        window = read_window(r, workload.window)
        _digest_check(name, mode, reference, window.extra, r.run_dir)
        waves = Waves(r.waves, name)
        changes = netlist_changes(waves, netlist, window.t0_fs, window.t1_fs)
        e = cell_energy(lib, netlist, changes, t0_fs=window.t0_fs, t1_fs=window.t1_fs,
                        wire_cap_pf_per_fanout=loads.wire_cap_pf_per_fanout,
                        output_load_pf=loads.output_load_pf)
        if e.transitions == 0 and e.clock_transitions == 0:
            raise EnergyError(f"{name}: no net of the {mode} netlist changes in the window "
                              f"({r.waves})")
        ops = window.ops
        breakdown = {"switching": e.switching_pj / ops, "internal": e.internal_pj / ops,
                     "leakage": e.leakage_pj / ops}
        result["modes"][mode] = {
            "timing": mode, "sim": "icarus" if mode == "sdf" else sim, "ops": ops,
            "pj_per_op": sum(breakdown.values()), "breakdown": breakdown,
            "dynamic_pj_per_op": breakdown["switching"] + breakdown["internal"],
            "transitions_per_op": e.transitions / ops,
            "clock_transitions_per_op": e.clock_transitions / ops,
            "internal_by_cell_pj_per_op": {k: v / ops for k, v in e.internal_by_cell.items()},
            "activity": str(r.waves), "scope": _scope(waves), "sdf": str(sdf) if sdf else None,
            "t0_ns": window.t0_fs / 1e6, "t1_ns": window.t1_fs / 1e6,
            "vdd": lib.nom_voltage, "output_load_pf": loads.output_load_pf,
            "wire_cap_pf_per_fanout": loads.wire_cap_pf_per_fanout,
            "seconds": time.monotonic() - started, "run": str(r.run_dir),
        }
    if "zero" in result["modes"] and "sdf" in result["modes"]:
        z, s = result["modes"]["zero"], result["modes"]["sdf"]
        result["glitch_pj_per_op"] = s["dynamic_pj_per_op"] - z["dynamic_pj_per_op"]
    if key is not None:
        _cache_store(name, key, result)
    return result


CACHE = BUILD / "power" / "cells"


def _cache_key(name, rtl_text, liberty: Path, workload: Workload, timings, sim, loads,
               with_timing_report) -> str:
    import hashlib
    import importlib.util

    h = hashlib.sha256()
    for part in (name, rtl_text, repr(workload), repr(tuple(timings)), sim, repr(loads),
                 repr(with_timing_report), os.environ.get(CLOCK_ENV, "")):
        h.update(part.encode() + b"\0")
    h.update(Path(liberty).read_bytes())
    spec = importlib.util.find_spec(workload.test_module)
    sources = [Path(spec.origin)] if spec and spec.origin else []
    here = Path(__file__).parent
    sources += sorted(here.glob("*.py")) + sorted((here.parent / "rtl").glob("*.py"))
    for src in sources:
        h.update(src.read_bytes())
    return h.hexdigest()[:20]


def _cache_load(name: str, key: str) -> dict | None:
    import json

    path = CACHE / f"{name}-{key}.json"
    if not path.is_file():
        return None
    try:
        result = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    files = [m.get("activity") for m in result.get("modes", {}).values()]
    if not all(f and Path(f).is_file() for f in files):
        return None
    return result


def _cache_store(name: str, key: str, result: dict) -> None:
    import json

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{name}-{key}.json"
    tmp = path.with_suffix(f".{time.monotonic_ns()}.tmp")
    tmp.write_text(json.dumps(result, default=str))
    tmp.replace(path)


# Ref: Y.-D. Chih et al., ISSCC 2021 16.4 (89 TOPS/W, 22 nm); H. Fujiwara et al., ISSCC 2022
#      11.6 (254 TOPS/W, 5 nm); TSMC VLSI 2022 (121 TOPS/W, 12 nm); KU Leuven ESSCIRC 2023
#      (23.8 TOPS/W, 16 nm); energy constants and their sources in sim/power/energy.py.
"""Energy and FPGA cost of the in-memory-compute tile against its von Neumann baseline.

The main figures come from a standard-cell library (:func:`measure_liberty`; default the OSU
0.18 um cells): each unit mapped to the library's cells and run on the ``power_products``
workload by ``sim.power.engine.measure_cells`` (zero-delay activity, results' digest equal to
the RTL's), priced from the liberty (switching, internal, leakage). Both units hold their
weights in flip-flops there ("all in cells": Yosys expands the baseline's memory into
flip-flops, a read mux and write logic). The second way of charging the baseline removes
those memory cells (:func:`memory_cells`, :func:`memory_energy`) and charges each read from
the SRAM table instead, as the proxy does; the OSU library has no SRAM compiler. Ports, the
baseline's memory-to-MAC bus and the SRAM reads are charged from the RTL's activity by
``sim.power.report.traffic_energy``, the same in both engines. :func:`liberty_rows` gives
proxy-vs-liberty rows for a comparison table.

The proxy (fast path): :func:`measure_imc` runs the ``power_products`` workload of
``sim/imc/bench.py`` (weights and CTRL.a_bits set outside the window; inside it, ``vectors``
activation vectors back to back with no stalls; ops = MACs = vectors * rows * cols) on the RTL
and on a generic-gate netlist of each unit, checks that both produce the same results, and
prices the window with the power proxy (``sim.power``):

- tile: every gate and flip-flop of the netlist (the weights are flip-flops, clocked every
  cycle: no clock gating) plus its ports ``i``/``o`` as an on-die bus of ``port_mm``;
- baseline: the netlist with its weight memory kept as one memory cell (not expanded into
  flip-flops, which would charge the array twice), the memory's read port (``rp__en``) charged
  per access as an on-chip SRAM of the weight array's size or as DRAM (Horowitz), the registered
  memory-to-MAC bus (``cols * w_bits`` bits per fetch) as an on-die bus of ``bus_mm``, and the
  same ports as the tile.

:func:`fpga_table` places both units on iCE40 UP5K and ECP5 (``sim.flow.synth``).
:func:`build_report` + :func:`render_markdown` make the tables of ``docs/imc.md``;
``python -m sim.imc.report`` writes them to ``build/report/imc.{md,json}``.
The proxy's absolute pJ are estimates (mixed 28/45 nm constants); the library's are 0.18 um
figures (1.8 V), with the SRAM table's 45 nm reads in the second charging of the baseline.
"""

import json
import re
import time
from pathlib import Path

import numpy as np

from hdl.imc import ImcBaseline, ImcParams, ImcTile, weight_write_layout
from sim.flow.toolchain import BUILD
from sim.power import energy
from sim.power.activity import capture
from sim.power.engine import NETLIST_SIM
from sim.power.gates import (
    GateNetlist,
    gate_energy,
    net_toggles,
    rtl_net_map,
    synthesize,
)
from sim.power.report import testcase_seconds, traffic_energy
from sim.power.workloads import Boundary, MemoryPort, Workload
from sim.rtl.runner import convert, run

from .bench import ImcPower, unit_id

__all__ = ["WORKLOADS", "PUBLISHED_TOPS_W", "measure_imc", "memory_cells",
           "measure_unit_liberty", "measure_liberty", "liberty_rows", "fpga_table",
           "build_report", "render_markdown", "main"]

#: name -> (kind, zero fraction) of the activations (tb.test_imc.power_activations).
WORKLOADS = {
    "uniform": ("uniform", 0.0),     # (a) uniform random int8
    "uniform_50z": ("uniform", 0.5),  # the same with 50% exact zeros: sparsity alone
    "relu_50z": ("relu", 0.5),       # (b) ReLU-like: non-negative, 50% zeros
}

#: Published digital CIM macros (ANCHORS.md, "Digital in-memory compute").
PUBLISHED_TOPS_W = {
    "TSMC 22 nm, ISSCC 2021 16.4": 89.0,
    "TSMC 5 nm, ISSCC 2022 11.6 (4 b weights, 1 b inputs per cycle)": 254.0,
    "TSMC 12 nm, VLSI 2022": 121.0,
    "KU Leuven 16 nm, ESSCIRC 2023 (8 b)": 23.8,
}

#: Reuse counts (products per weight load) the weight-load traffic is amortized over.
REUSE = (1, 16, 256)

COMMAND = "python -m sim.imc.report"

DEFAULT = ImcParams()
#: The FPGA table's sizes: the default tile and a small one.
FPGA_CONFIGS = (DEFAULT, ImcParams(rows=16, cols=8))


def _top(unit: str, p: ImcParams) -> str:
    return f"{'imc' if unit == 'tile' else 'vn'}_{unit_id(p)}"


def _weight_bytes(p: ImcParams) -> int:
    banks = 2 if p.with_double_buffer else 1
    return banks * p.rows * p.cols * p.w_bits // 8


# ------------------------------------------------------------------------------ netlists
def keep_memory_netlist(verilog_text: str, top: str) -> GateNetlist:
    """The baseline's netlist with its weight memory kept as one cell (charged per access)."""
    return synthesize(verilog_text, top, keep_memories=True)


# ------------------------------------------------------------------------------ energy
def _workloads(unit: str, p: ImcParams, power: ImcPower, *, port_mm: float, bus_mm: float
               ) -> dict[str, Workload]:
    """Traffic variants of one run: the tile has one; the baseline's weights in SRAM or DRAM."""
    ports = (Boundary("i", "i__valid", p.rows * p.a_bits, ready="i__ready", length_mm=port_mm),
             Boundary("o", "o__valid", p.cols * p.out_bits, ready="o__ready",
                      length_mm=port_mm))

    def wl(**kw):
        return Workload("sim.imc.bench", "power_products", power, **kw)

    if unit == "tile":
        return {"ports": wl(boundaries=ports)}
    word = p.cols * p.w_bits
    bus = Boundary("bus", "rp__en", word, length_mm=bus_mm)
    return {mem: wl(boundaries=ports + (bus,),
                    memories=(MemoryPort("weights", "rp__en", word, _weight_bytes(p),
                                         dram=mem == "dram"),))
            for mem in ("sram", "dram")}


def _pj_per_mac(gate: dict, traffic: dict, ops: int) -> dict:
    b = traffic["boundaries"]
    pj = {"logic": gate["fj"]["logic"] / 1e3 / ops,
          "flipflop_clock": (gate["fj"]["flipflop"] + gate["fj"]["clock"]) / 1e3 / ops,
          "memory": traffic["pj"]["memory"] / ops,
          "bus": b["bus"]["pj_per_op"] if "bus" in b else 0.0,
          "ports": b["i"]["pj_per_op"] + b["o"]["pj_per_op"]}
    pj["compute"] = pj["logic"] + pj["flipflop_clock"]
    pj["total"] = pj["compute"] + pj["memory"] + pj["bus"] + pj["ports"]
    pj["total_no_ports"] = pj["total"] - pj["ports"]
    return pj


def measure_unit_imc(unit: str, p: ImcParams, *, workloads=tuple(WORKLOADS), vectors: int = 16,
                     seed: int = 1, sim: str = "verilator", port_mm: float = 1.0,
                     bus_mm: float = 1.0) -> dict:
    """One unit (``"tile"`` or ``"baseline"``) of ``p`` on each named workload, RTL and gate
    level on ``sim``. Raises ``AssertionError`` if the netlist's results differ from the RTL's."""
    cls = {"tile": ImcTile, "baseline": ImcBaseline}[unit]
    component = cls(p)
    top = _top(unit, p)
    ba = p.a_bits
    t0 = time.monotonic()
    rtl_text = convert(component, top)
    netlist = (synthesize(rtl_text, top) if unit == "tile"
               else keep_memory_netlist(rtl_text, top))
    rtl_nets = rtl_net_map(rtl_text, top)
    t_synth = time.monotonic() - t0
    n_weight_ffs = (2 if p.with_double_buffer else 1) * p.rows * p.cols * p.w_bits \
        if unit == "tile" else 0
    out = {"unit": unit, "top": top, "params": vars(p) | {"out_bits": p.out_bits},
           "cells": netlist.cells, "n_cells": netlist.n_cells,
           "n_flipflops": netlist.n_flipflops, "n_weight_flipflops": n_weight_ffs,
           "latency": component.latency(ba), "cycles_per_matvec": component.cycles_per_op(ba),
           "macs_per_cycle_nominal": p.rows * p.cols / component.cycles_per_op(ba),
           "synth_seconds": t_synth, "sim": sim, "workloads": {}}
    for name in workloads:
        kind, zeros = WORKLOADS[name]
        power = ImcPower(p, vectors=vectors, kind=kind, zeros=zeros, seed=seed)
        variants = _workloads(unit, p, power, port_mm=port_mm, bus_mm=bus_mm)
        first = next(iter(variants.values()))
        kw = {"toplevel": top, "test_module": first.test_module, "sim": sim, "params": power,
              "testcase": first.testcase, "waves": True}
        t0 = time.monotonic()
        r_rtl = run(component, **kw)
        r_gate = run(component, verilog_text=netlist.verilog, **kw)
        t_runs = time.monotonic() - t0
        act_rtl = capture(r_rtl, top)
        act_gate = capture(r_gate, top)
        w = act_rtl.window
        assert w.extra["digest"] == act_gate.window.extra.get("digest"), (
            f"{top} {name} on {sim}: gate-level results differ from the RTL's ({r_gate.run_dir})")
        ops = w.ops
        cycles = len(act_rtl.waves.rising_edges("clk", *act_rtl.ticks()))
        rtl_toggles = net_toggles(rtl_nets, act_rtl, strict=False)
        rtl_total = sum(n for bit, n in rtl_toggles.items()
                        if not rtl_nets[bit].is_clock and rtl_nets[bit].name != "clk")
        gate = gate_energy(netlist, act_gate)
        c_clk = energy.value("c_dff") + energy.value("c_wire_per_pin")
        # The weight flip-flops' clock pins alone (2 transitions per cycle, no clock gating):
        # the part a real macro avoids by holding weights in SRAM cells.
        weight_clock_pj = n_weight_ffs * cycles * 2 * energy.transition_energy_fj(c_clk) / 1e3
        res = {"ops": ops, "vectors": vectors, "cycles": cycles,
               "zero_fraction": w.extra.get("zero_fraction"),
               "macs_per_cycle": ops / cycles, "cycles_per_vector": cycles / vectors,
               "rtl_toggles_per_mac": rtl_total / ops,
               "gate_toggles_per_mac": gate["toggles"] / ops,
               "weight_clock_pj_per_mac": weight_clock_pj / ops,
               "unknown_values": act_rtl.unknown + act_gate.unknown,
               "digest": {"rtl": w.extra["digest"],
                          "gate": act_gate.window.extra.get("digest")},
               "seconds": {"rtl": testcase_seconds(r_rtl, first.testcase),
                           "gate": testcase_seconds(r_gate, first.testcase), "runs_wall": t_runs},
               "runs": {"rtl": str(r_rtl.run_dir), "gate": str(r_gate.run_dir)},
               "variants": {}}
        for vname, wl in variants.items():
            traffic = traffic_energy(act_rtl, wl)
            pj = _pj_per_mac(gate, traffic, ops)
            mem_bits = sum(m["accesses_per_op"] for m in traffic["memories"].values()) \
                * p.cols * p.w_bits
            res["variants"][vname] = {
                "pj_per_mac": pj, "tops_per_w": 2 / pj["total"],
                "tops_per_w_compute": 2 / pj["compute"],
                "bits_per_mac": {"ports": sum(traffic["boundaries"][k]["bits_per_op"]
                                              for k in ("i", "o")),
                                 "bus": traffic["boundaries"].get("bus", {}).get(
                                     "bits_per_op", 0.0),
                                 "memory": mem_bits},
                "traffic": traffic}
        out["workloads"][name] = res
    # Weight loading happens once, outside the window: amortized over R products per load.
    load_bits = p.rows * weight_write_layout(p).size
    per_bit_wire = energy.interconnect_pj_per_bit("on_die_wire", port_mm)
    per_bit_dram = energy.memory_access_pj(0, 64, dram=True) / 64
    out["weight_load"] = {
        "bits": load_bits, "port_mm": port_mm,
        "per_reuse": {r: {"bits_per_mac": load_bits / (r * p.rows * p.cols),
                          "wire_pj_per_mac": load_bits * per_bit_wire / (r * p.rows * p.cols),
                          "dram_pj_per_mac": load_bits * per_bit_dram / (r * p.rows * p.cols)}
                      for r in REUSE}}
    return out


def measure_imc(p: ImcParams = DEFAULT, *, workloads=tuple(WORKLOADS), vectors: int = 16,
                seed: int = 1, sim: str = "verilator", port_mm: float = 1.0,
                bus_mm: float = 1.0) -> dict:
    """Tile and baseline of ``p`` on ``workloads``; returns ``{"tile", "baseline", "ratios"}``
    where ``ratios[workload][variant]`` is tile / baseline pJ per MAC by category."""
    kw = dict(workloads=workloads, vectors=vectors, seed=seed, sim=sim, port_mm=port_mm,
              bus_mm=bus_mm)
    tile = measure_unit_imc("tile", p, **kw)
    base = measure_unit_imc("baseline", p, **kw)
    ratios = {}
    for name in workloads:
        t = tile["workloads"][name]["variants"]["ports"]["pj_per_mac"]
        ratios[name] = {}
        for vname, v in base["workloads"][name]["variants"].items():
            b = v["pj_per_mac"]
            ratios[name][vname] = {k: (t[k] / b[k] if b[k] else None) for k in b}
    return {"params": vars(p), "vectors": vectors, "seed": seed, "sim": sim,
            "port_mm": port_mm, "bus_mm": bus_mm, "tile": tile, "baseline": base,
            "ratios": ratios}


# ------------------------------------------------------------------------------ liberty
#: Energy from the standard-cell library (``sim.power.engine.measure_cells``): the workloads
#: and sizes of the liberty figures. ``quick`` (tests, ``make sim``): 8 x 4; the docs: 64 x 16.
LIBERTY_WORKLOADS = ("uniform", "uniform_50z")
LIBERTY_QUICK = ImcParams(rows=8, cols=4)
#: The Amaranth name of the baseline's weight memory (``m.submodules.mem``): after Yosys's
#: memory_map its storage flip-flops drive nets ``mem_<word>_``.
MEMORY_NAME = "mem"


def memory_cells(lib, netlist, *, name: str = MEMORY_NAME, bits: int) -> dict:
    """The cells of a liberty-mapped netlist that implement memory ``name`` once Yosys has
    turned it into flip-flops: the ``bits`` storage flip-flops (output nets ``<name>_<k>_``),
    the read-data register (the other flip-flops whose data cone reads storage), and the
    combinational cells that serve only them (read mux, write-enable and write-data logic).
    What an SRAM macro replaces. Returns instance indices by role and the nets they drive;
    ``ValueError`` if the storage count is not ``bits``."""
    insts = netlist.instances
    seq = {k for k, inst in enumerate(insts) if lib.cell(inst.cell).is_sequential}
    driver = {bit: k for k, inst in enumerate(insts) for bit in inst.outputs.values()}
    pattern = re.compile(rf"{re.escape(name)}_\d+_")
    storage = {k for k in seq if any(pattern.fullmatch(netlist.nets[b].name)
                                     for b in insts[k].outputs.values())}
    if len(storage) != bits:
        raise ValueError(f"{netlist.top}: {len(storage)} flip-flops drive {name}_<k>_ nets, "
                         f"not the memory's {bits} bits ({netlist.directory})")
    storage_nets = {b for k in storage for b in insts[k].outputs.values()}

    def cone(k):
        """Combinational cells in the fan-in of sequential cell k's data inputs; its leaves."""
        clocks = set(lib.cell(insts[k].cell).clock_pins)
        stack = [b for pin, b in insts[k].inputs.items()
                 if isinstance(b, int) and pin not in clocks]
        comb, leaves = set(), set()
        while stack:
            b = stack.pop()
            d = driver.get(b)
            if d is None or d in seq:
                leaves.add(b)
            elif d not in comb:
                comb.add(d)
                stack.extend(v for v in insts[d].inputs.values() if isinstance(v, int))
        return comb, leaves

    cones = {k: cone(k) for k in seq}
    read_reg = {k for k in seq - storage if cones[k][1] & storage_nets}
    sinks = storage | read_reg
    comb = set().union(*(cones[k][0] for k in sinks)) if sinks else set()
    loads: dict[int, set[int]] = {}
    for k, inst in enumerate(insts):
        for b in inst.inputs.values():
            if isinstance(b, int):
                loads.setdefault(b, set()).add(k)
    changed = True
    while changed:             # keep only the cells all of whose loads are memory cells
        changed = False
        for k in list(comb):
            outs = insts[k].outputs.values()
            if any(b in netlist.outputs or not loads.get(b, set()) <= (comb | sinks)
                   for b in outs):
                comb.discard(k)
                changed = True
    part = storage | read_reg | comb
    return {"storage": storage, "read_register": read_reg, "logic": comb, "instances": part,
            "nets": {b for k in part for b in insts[k].outputs.values()},
            "counts": {"storage": len(storage), "read_register": len(read_reg),
                       "logic": len(comb)}}


def memory_energy(res: dict, netlist, lib, cells: dict) -> dict:
    """Energy (pJ) in one zero-delay window of ``res`` (a ``measure_cells`` result) of the
    cells in ``cells`` (:func:`memory_cells`): switching and internal energy of the nets they
    drive (the full window's energy minus the same window without those nets' transitions),
    their flip-flops' clock pins (internal energy and their share of the clock net's
    switching: pin capacitance plus one fanout of wire), and their leakage."""
    from sim.power.activity import Waves
    from sim.power.cellpower import CellPowerModel, netlist_changes

    mode = res["modes"]["zero"]
    t0, t1 = round(mode["t0_ns"] * 1e6), round(mode["t1_ns"] * 1e6)
    changes = netlist_changes(Waves(Path(mode["activity"]), netlist.top), netlist, t0, t1)
    model = CellPowerModel(lib, netlist, wire_cap_pf_per_fanout=mode["wire_cap_pf_per_fanout"],
                           output_load_pf=mode["output_load_pf"])
    full = model.energy(changes, t0_fs=t0, t1_fs=t1)
    rest = model.energy({b: c for b, c in changes.items() if b not in cells["nets"]},
                        t0_fs=t0, t1_fs=t1)
    half_v2 = 0.5 * full.vdd ** 2
    clock_pj = 0.0
    for k in cells["storage"] | cells["read_register"]:
        inst = netlist.instances[k]
        cell = lib.cell(inst.cell)
        for pin in cell.clock_pins:
            bit = inst.inputs.get(pin)
            if not isinstance(bit, int) or bit not in changes:
                continue
            times, values = changes[bit]
            lo, hi = np.searchsorted(times, (t0, t1), side="left")
            rises = int(np.count_nonzero(values[lo:hi]))
            falls = int(hi - lo) - rises
            rise_slew, fall_slew = model.slews[bit]
            p = cell.pins[pin]
            clock_pj += (rises * p.internal_energy_pj(None, rising=True, slew_ns=rise_slew)
                         + falls * p.internal_energy_pj(None, rising=False, slew_ns=fall_slew)
                         + (rises + falls) * half_v2
                         * (p.capacitance_pf + mode["wire_cap_pf_per_fanout"]))
    leak_nw = sum(lib.cell(netlist.instances[k].cell).leakage_nw or 0.0
                  for k in cells["instances"])
    nets_pj = full.dynamic_pj - rest.dynamic_pj
    return {"nets": nets_pj, "clock": clock_pj, "leakage": leak_nw * (t1 - t0) * 1e-12,
            "total": nets_pj + clock_pj + leak_nw * (t1 - t0) * 1e-12,
            "window_total": full.total_pj}


def _traffic(unit: str, p: ImcParams, power: ImcPower, *, sim: str, port_mm: float,
             bus_mm: float) -> dict:
    """pJ per MAC of the traffic the netlist does not hold, charged from the RTL's activity
    as the proxy charges it (``sim.power.report.traffic_energy``): ``ports`` (both units),
    ``bus`` and ``sram`` (the baseline's memory-to-MAC bus and its weight reads from the SRAM
    table), and the reads per MAC."""
    variants = _workloads(unit, p, power, port_mm=port_mm, bus_mm=bus_mm)
    first = next(iter(variants.values()))
    cls = {"tile": ImcTile, "baseline": ImcBaseline}[unit]
    top = _top(unit, p)
    r = run(cls(p), key=(unit, p), toplevel=top, test_module=first.test_module, sim=sim,
            params=power,
            testcase=first.testcase, waves=True)
    act = capture(r, top)
    wl = variants.get("sram", first)
    t = traffic_energy(act, wl)
    b = t["boundaries"]
    out = {"ports": b["i"]["pj_per_op"] + b["o"]["pj_per_op"], "bus": 0.0, "sram": 0.0,
           "reads_per_mac": 0.0}
    if "bus" in b:
        out.update(bus=b["bus"]["pj_per_op"], sram=t["memories"]["weights"]["pj_per_op"],
                   reads_per_mac=t["memories"]["weights"]["accesses_per_op"])
    return out


def measure_unit_liberty(unit: str, p: ImcParams, *, workloads=LIBERTY_WORKLOADS,
                         vectors: int = 16, seed: int = 1, sim: str = NETLIST_SIM,
                         liberty=None, port_mm: float = 1.0, bus_mm: float = 1.0) -> dict:
    """One unit (``"tile"`` or ``"baseline"``) of ``p`` mapped to the cells of ``liberty``
    (default OSU 0.18 um) on each named workload: zero-delay activity of the mapped netlist
    on ``sim``, its results' digest equal to the RTL's (``sim.power.engine.measure_cells``).

    Per workload, pJ per MAC: ``cells`` (switching, internal, leakage: everything the netlist
    holds; the weights are flip-flops in both units, the baseline's memory expanded by Yosys
    into flip-flops, read mux and write logic), ``traffic`` (:func:`_traffic`) and, for the
    baseline, ``memory_cells`` (the part of ``cells`` that an SRAM macro would replace,
    :func:`memory_cells` / :func:`memory_energy`)."""
    from sim.power.engine import measure_cells, resolve_liberty
    from sim.power.liberty import read_liberty
    from sim.power.stdcell import map_unit

    cls = {"tile": ImcTile, "baseline": ImcBaseline}[unit]
    top = _top(unit, p)
    lib_path = resolve_liberty(liberty)
    lib = read_liberty(lib_path)
    out = {"unit": unit, "top": top, "params": vars(p) | {"out_bits": p.out_bits}, "sim": sim,
           "workloads": {}}
    netlist = mem = None
    for name in workloads:
        kind, zeros = WORKLOADS[name]
        power = ImcPower(p, vectors=vectors, kind=kind, zeros=zeros, seed=seed)
        t0 = time.monotonic()
        res = measure_cells(top, lambda: cls(p), Workload("sim.imc.bench", "power_products",
                                                          power),
                            liberty=lib_path, timings=("zero",), sim=sim,
                            with_timing_report=False, cache=True)
        mode = res["modes"]["zero"]
        ops = mode["ops"]
        row = {"ops": ops, "pj_per_mac": mode["pj_per_op"], "breakdown": mode["breakdown"],
               "transitions_per_mac": mode["transitions_per_op"],
               "clock_transitions_per_mac": mode["clock_transitions_per_op"],
               "activity": mode["activity"], "seconds": mode["seconds"]}
        out.update(library=res["library"], liberty=res["liberty"], cells=res["cells"],
                   cell_counts=res["cell_counts"], area_um2=res["area_um2"],
                   netlist=res["netlist"], vdd=res["vdd"], loads=res["loads"])
        if unit == "baseline":
            if netlist is None:
                netlist = map_unit(convert(cls(p), top), top, lib_path)       # cached
                banks = 2 if p.with_double_buffer else 1
                mem = memory_cells(lib, netlist, bits=banks * p.rows * p.cols * p.w_bits)
                mem_area = sum(lib.cell(netlist.instances[k].cell).area
                               for k in mem["instances"])
                out["memory_cells"] = dict(mem["counts"], area_um2=mem_area)
            e = memory_energy(res, netlist, lib, mem)
            row["memory_cells_pj_per_mac"] = e["total"] / ops
            row["memory_cells_breakdown"] = {k: e[k] / ops for k in ("nets", "clock",
                                                                      "leakage")}
        row["traffic"] = _traffic(unit, p, power, sim=sim, port_mm=port_mm, bus_mm=bus_mm)
        row["wall_seconds"] = time.monotonic() - t0
        out["workloads"][name] = row
    return out


def _liberty_totals(tile_row: dict, base_row: dict) -> dict:
    """pJ per MAC of the three ways of charging the pair: ``cells`` (netlists only, all in
    cells), ``all_in_cells`` (+ ports, and the baseline's bus), ``sram_table`` (the
    baseline's memory cells replaced by the SRAM table's reads)."""
    tt, bt = tile_row["traffic"], base_row["traffic"]
    tile = tile_row["pj_per_mac"]
    base = base_row["pj_per_mac"]
    base_sram = base - base_row["memory_cells_pj_per_mac"] + bt["sram"]
    return {"cells": (tile, base),
            "all_in_cells": (tile + tt["ports"], base + bt["ports"] + bt["bus"]),
            "sram_table": (tile + tt["ports"], base_sram + bt["ports"] + bt["bus"]),
            "sram_table_no_traffic": (tile, base_sram)}


def measure_liberty(p: ImcParams = DEFAULT, *, workloads=LIBERTY_WORKLOADS, vectors: int = 16,
                    seed: int = 1, sim: str = NETLIST_SIM, liberty=None) -> dict:
    """Tile and baseline of ``p`` on the standard-cell library: ``{"tile", "baseline",
    "totals": {workload: {charging: (tile, baseline) pJ/MAC}}, "ratios": {workload:
    {charging: tile / baseline}}}`` (chargings: :func:`_liberty_totals`)."""
    t0 = time.monotonic()
    kw = dict(workloads=workloads, vectors=vectors, seed=seed, sim=sim, liberty=liberty)
    tile = measure_unit_liberty("tile", p, **kw)
    base = measure_unit_liberty("baseline", p, **kw)
    totals = {n: _liberty_totals(tile["workloads"][n], base["workloads"][n]) for n in workloads}
    return {"params": vars(p), "vectors": vectors, "seed": seed, "sim": sim,
            "library": tile["library"], "tile": tile, "baseline": base, "totals": totals,
            "ratios": {n: {k: t / b for k, (t, b) in v.items()} for n, v in totals.items()},
            "seconds": time.monotonic() - t0}


def liberty_rows(quick: bool) -> list[dict]:
    """Proxy-vs-liberty rows for a comparison table: tile and baseline per MAC, zero-delay
    (``liberty_sdf_pj_per_op`` None: not run), on the uniform and 50 %-zero workloads; the
    figures are the netlists alone (no port, bus or off-chip traffic). ``quick``: 8 x 4 (a few
    minutes); else the default 64 x 16 (about an hour on 2 cores). The baseline gives two
    rows: all in cells (the proxy has no such figure: it keeps the memory as a macro) and its
    weights in SRAM (the proxy's memory cell and the liberty's memory cells both replaced by
    the SRAM table's reads)."""
    p = LIBERTY_QUICK if quick else DEFAULT
    lib = measure_liberty(p, workloads=LIBERTY_WORKLOADS)
    proxy = measure_imc(p, workloads=LIBERTY_WORKLOADS)
    return _rows(lib, proxy)


def _rows(lib: dict, proxy: dict) -> list[dict]:
    rows = []
    for name in lib["totals"]:
        t, b = lib["tile"], lib["baseline"]
        pt = proxy["tile"]["workloads"][name]["variants"]["ports"]["pj_per_mac"]
        pb = proxy["baseline"]["workloads"][name]["variants"]["sram"]["pj_per_mac"]
        tot = lib["totals"][name]
        common = {"op": "multiply-accumulate", "workload": name, "liberty_sdf_pj_per_op": None,
                  "library": lib["library"]}
        rows.append(common | {
            "unit": t["top"], "variant": "weights in flip-flops",
            "proxy_pj_per_op": pt["compute"], "liberty_zero_pj_per_op": tot["cells"][0],
            "cells": t["cells"], "area_um2": t["area_um2"],
            "note": f"IMC tile, {name}; netlist only (ports not included)"})
        rows.append(common | {
            "unit": b["top"], "variant": "all in cells",
            "proxy_pj_per_op": None, "liberty_zero_pj_per_op": tot["cells"][1],
            "cells": b["cells"], "area_um2": b["area_um2"],
            "note": f"baseline, {name}; weight memory mapped to flip-flops + read mux; no "
                    "proxy figure (the proxy keeps the memory as a macro)"})
        rows.append(common | {
            "unit": b["top"], "variant": "weights in SRAM (table)",
            "proxy_pj_per_op": pb["compute"] + pb["memory"],
            "liberty_zero_pj_per_op": tot["sram_table_no_traffic"][1],
            "cells": b["cells"] - sum(b["memory_cells"][k] for k in
                                      ("storage", "read_register", "logic")),
            "area_um2": b["area_um2"] - b["memory_cells"]["area_um2"],
            "note": f"baseline, {name}; memory cells removed, reads charged from the SRAM "
                    "table (Horowitz 45 nm) in both engines; cells/area without the memory"})
    return rows


# ------------------------------------------------------------------------------ FPGA
#: Seconds per nextpnr run in :func:`fpga_table`: a run that does not converge is a row
#: ("did not finish"), not a report that never ends.
FPGA_TIMEOUT = 1800


def fpga_table(configs=FPGA_CONFIGS, *, seeds=(1, 2, 3), targets=("ice40", "ecp5"),
               timeout: float | None = FPGA_TIMEOUT) -> list[dict]:
    """Each unit of each config through ``sim.flow.synth.place_ice40`` (UP5K) and ``place_ecp5``
    (LFE5U-85F, router2): one row per (config, unit, target); a design that does not fit
    gives the overflowing resource (from nextpnr's log) and the bare unit's cells instead of
    Fmax, one that does not finish within ``timeout`` seconds per seed says so."""
    from sim.flow.synth import place_ecp5, place_ice40
    from sim.flow.toolchain import ToolError

    rows = []
    for p in configs:
        for unit, cls in (("tile", ImcTile), ("baseline", ImcBaseline)):
            for target in targets:
                top = f"{_top(unit, p)}_{target}"
                t0 = time.monotonic()
                row = {"config": f"{p.rows}x{p.cols}", "unit": unit, "target": target,
                       "top": top, "seeds": list(seeds)}
                place = place_ice40 if target == "ice40" else place_ecp5
                try:
                    r = place(cls(p), top, seeds=seeds, timeout=timeout)
                    row.update(r)
                except ToolError as err:
                    row["error"] = str(err)
                    row.update(_failure(row))
                row["seconds"] = time.monotonic() - t0
                rows.append(row)
    return rows


def _failure(row: dict) -> dict:
    """What overflowed in a failed place-and-route (``sim.flow.synth.overflow`` of the first seed's
    nextpnr log) and the bare unit's cell counts, read from the run's directory."""
    from sim.flow.synth import cell_stat, overflow, synth_dir

    out = synth_dir(row["top"])
    log = out / f"nextpnr_{row['target']}_seed{row['seeds'][0]}.log"
    over = overflow(log.read_text(errors="replace")) if log.exists() else []
    stat = out / f"{row['target']}_unit_stat.json"
    cells = cell_stat(stat, row["top"]) if stat.exists() else {}
    return {"overflow": ", ".join(over) or None, "unit_cells": dict(sorted(cells.items()))}


# ------------------------------------------------------------------------------ report
def build_report(quick: bool = False, *, fpga: bool | None = None,
                 liberty: bool = True, sizes=None) -> dict:
    """Everything ``docs/imc.md`` quotes. ``quick``: the 8x4 tile only, no FPGA (for
    ``make sim``); full: 16x8 and 64x16, three workloads, FPGA tables. ``liberty``: the
    standard-cell figures (:func:`measure_liberty`, uniform and 50 %-zero workloads) at 8 x 4
    (quick) or 64 x 16. ``sizes`` (ImcParams): instead of the default sizes, with the
    liberty figures at the last one and the workloads of the liberty figures."""
    fpga = (not quick) if fpga is None else fpga
    explicit = bool(sizes)
    if sizes:
        sizes, workloads = list(sizes), LIBERTY_WORKLOADS
    elif quick:
        sizes = [ImcParams(rows=8, cols=4)]
        workloads = ("uniform", "uniform_50z")
    else:
        sizes = [ImcParams(rows=16, cols=8), ImcParams()]
        workloads = tuple(WORKLOADS)
    t0 = time.monotonic()
    energy_runs = [measure_imc(p, workloads=workloads) for p in sizes]
    command = COMMAND + (" --quick" if quick else "") + "".join(
        f" --size {p.rows}x{p.cols}" for p in sizes if explicit) + (
        " --no-liberty" if not liberty else "") + (" --no-fpga" if not fpga and not quick
                                                   else "")
    rep = {"quick": quick, "command": command,
           "energy": energy_runs, "energy_seconds": time.monotonic() - t0,
           "published_tops_w": PUBLISHED_TOPS_W}
    if liberty:
        t0 = time.monotonic()
        rep["liberty"] = [measure_liberty(sizes[-1])]
        rep["liberty_seconds"] = time.monotonic() - t0
    if fpga:
        t0 = time.monotonic()
        rep["fpga"] = fpga_table()
        rep["fpga_seconds"] = time.monotonic() - t0
    return rep


def _g(x, digits=3):
    if x is None:
        return "-"
    return f"{x:.{digits}g}"


def liberty_markdown(report: dict) -> list[str]:
    """The standard-cell tables (the main figures) of :func:`build_report`'s ``liberty``."""
    L = []
    proxy = {(e["params"]["rows"], e["params"]["cols"]): e for e in report.get("energy", [])}
    for e in report.get("liberty", []):
        p = ImcParams(**e["params"])
        t, b = e["tile"], e["baseline"]
        mc = b["memory_cells"]
        L += [f"### Standard cells: {p.rows} x {p.cols}, {p.w_bits} b weights x {p.a_bits} b "
              f"activations, {e['library']}, zero-delay ({e['sim']}), {e['vectors']} products "
              f"per window, seed {e['seed']} ({e['seconds']:.0f} s)", "",
              f"Both units mapped to the library's cells (Yosys `dfflibmap`, `abc -liberty`); "
              f"every netlist run's results have the RTL's digest. Tile {t['cells']} cells, "
              f"{t['area_um2'] / 1e6:.3f} mm2 (weights in flip-flops); baseline {b['cells']} "
              f"cells, {b['area_um2'] / 1e6:.3f} mm2, of which its weight memory (mapped to "
              f"{mc['storage']} flip-flops, a {mc['read_register']}-bit read register and "
              f"{mc['logic']} cells of read mux and write logic) is {mc['area_um2'] / 1e6:.3f} "
              "mm2. Energy per MAC in pJ:", "",
              "| unit | workload | transitions/MAC | switching | internal | leakage | "
              "**cells** | of which weight memory | ports | bus | SRAM table reads |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
        for u in (t, b):
            for name, r in u["workloads"].items():
                br, tr = r["breakdown"], r["traffic"]
                memc = r.get("memory_cells_pj_per_mac")
                L.append(f"| {u['unit']} | {name} | {r['transitions_per_mac']:.0f} | "
                         f"{br['switching']:.3g} | {br['internal']:.3g} | {br['leakage']:.2g} "
                         f"| **{r['pj_per_mac']:.3g}** | {_g(memc)} | {tr['ports']:.3g} | "
                         + (f"{tr['bus']:.3g} | {tr['sram']:.3g} ({tr['reads_per_mac']:.3g} "
                            "reads/MAC) |" if u is b else "- | - |"))
        px = proxy.get((p.rows, p.cols))
        L += ["", "Tile / baseline energy per MAC, both engines (ports and bus: on-die wire of "
              "1 mm, and SRAM reads: Horowitz's table, charged identically in both engines "
              "from the RTL's activity):", "",
              "| workload | cells only, all in cells | all in cells + ports, bus | baseline "
              "weights in SRAM (table) + ports, bus | proxy (fast path): compute | proxy "
              "(fast path): total, SRAM |", "|---|---|---|---|---|---|"]
        for name, r in e["ratios"].items():
            pr = px["ratios"].get(name, {}).get("sram") if px else None
            L.append(f"| {name} | **{r['cells']:.3g}** | {r['all_in_cells']:.3g} | "
                     f"**{r['sram_table']:.3g}** | {_g(pr['compute'] if pr else None)} | "
                     f"{_g(pr['total'] if pr else None)} |")
        L.append("")
    return L


def render_markdown(report: dict) -> str:
    """The measured tables of ``docs/imc.md`` from :func:`build_report`."""
    L = [f"Produced by `{report['command']}`"
         + (f" in {report['liberty_seconds']:.0f} s (standard cells) + "
            if "liberty" in report else " in ")
         + f"{report['energy_seconds']:.0f} s (proxy) on Verilator; every number below is "
         "from that run.", ""]
    L += liberty_markdown(report)
    L += ["### Proxy (fast path): generic gates, 28 nm gate capacitances, Horowitz memories", ""]
    for e in report["energy"]:
        p = ImcParams(**e["params"])
        t, b = e["tile"], e["baseline"]
        L += [f"#### Proxy (fast path): {p.rows} x {p.cols}, {p.w_bits} b weights x "
              f"{p.a_bits} b activations "
              f"(CTRL.a_bits = {p.a_bits}), {e['vectors']} products per window, seed {e['seed']}",
              "",
              f"Ports `i`/`o` (and the baseline's memory-to-MAC bus) charged as on-die wire of "
              f"{e['port_mm']:g} mm / {e['bus_mm']:g} mm (assumed). Tile netlist "
              f"{t['n_cells']} cells ({t['n_flipflops']} flip-flops, {t['n_weight_flipflops']} of "
              f"them weights); baseline {b['n_cells']} cells ({b['n_flipflops']} flip-flops) + "
              f"one {_weight_bytes(p)}-byte weight memory.", "",
              "| unit | weights | workload | zeros | MACs/cycle | cycles/matvec | RTL tog/MAC | "
              "gate tog/MAC | bits/MAC (ports+bus+mem) | logic | FF+clock | memory | bus | "
              "ports | total pJ/MAC | proxy TOPS/W |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for u in (t, b):
            for wname, r in u["workloads"].items():
                for vname, v in r["variants"].items():
                    pj, bits = v["pj_per_mac"], v["bits_per_mac"]
                    where = {"ports": "flip-flops", "sram": "on-chip SRAM",
                             "dram": "DRAM"}[vname]
                    L.append(
                        f"| {u['unit']} | {where} | {wname} | {r['zero_fraction']:.2f} | "
                        f"{_g(r['macs_per_cycle'])} | {_g(r['cycles_per_vector'])} "
                        f"({u['cycles_per_matvec']}) | {_g(r['rtl_toggles_per_mac'])} | "
                        f"{_g(r['gate_toggles_per_mac'])} | {_g(bits['ports'])}+{_g(bits['bus'])}"
                        f"+{_g(bits['memory'])} | {_g(pj['logic'])} | {_g(pj['flipflop_clock'])} "
                        f"| {_g(pj['memory'])} | {_g(pj['bus'])} | {_g(pj['ports'])} | "
                        f"{_g(pj['total'])} | {_g(v['tops_per_w'])} |")
        L += ["", "MACs/cycle and cycles/matvec are over the window (first input to last "
              "result, so they include one pipeline fill); the nominal issue interval is in "
              "parentheses.", "",
              "Tile / baseline energy per MAC:", "",
              "| workload | baseline weights | compute (logic+FF+clock) | total | total without "
              "ports | target <= 0.2 (SRAM, total) |", "|---|---|---|---|---|---|"]
        for wname, rv in e["ratios"].items():
            for vname, r in rv.items():
                ok = "" if vname != "sram" else ("holds" if r["total"] <= 0.2 else "**misses**")
                L.append(f"| {wname} | {vname} | {_g(r['compute'])} | {_g(r['total'])} | "
                         f"{_g(r['total_no_ports'])} | {ok} |")
        tw = {n: r["weight_clock_pj_per_mac"] for n, r in t["workloads"].items()}
        tot = {n: r["variants"]["ports"]["pj_per_mac"]["total"] for n, r in t["workloads"].items()}
        L += ["", "Tile weight flip-flops' clock alone (no clock gating; a SRAM-cell macro does "
              "not pay it): " + ", ".join(f"{n} {_g(tw[n])} pJ/MAC of {_g(tot[n])}" for n in tw)
              + ".", ""]
        wl = t["weight_load"]
        L += [f"Weight load (outside the window, same for both units): {wl['bits']} bits over "
              f"the `w` stream. Amortized over R products per load:", "",
              "| R (reuse) | bits/MAC | pJ/MAC on " + f"{wl['port_mm']:g} mm wire | "
              "pJ/MAC if read from DRAM |", "|---|---|---|---|"]
        for rr, v in wl["per_reuse"].items():
            L.append(f"| {rr} | {_g(v['bits_per_mac'])} | {_g(v['wire_pj_per_mac'])} | "
                     f"{_g(v['dram_pj_per_mac'])} |")
        L.append("")
    L += ["#### Proxy (fast path) TOPS/W next to published macros", "",
          "Proxy = 2 ops per MAC / (pJ per MAC) of the tile (uniform workload; 'compute' "
          "leaves out the port wires). Not comparable at face value: our constants are 28 nm "
          "gate capacitances, the weights are clocked flip-flops, no voltage scaling.", "",
          "| design | TOPS/W |", "|---|---|"]
    for e in report["energy"]:
        p = ImcParams(**e["params"])
        for wname in e["tile"]["workloads"]:
            v = e["tile"]["workloads"][wname]["variants"]["ports"]
            L.append(f"| proxy: tile {p.rows}x{p.cols} {wname}, total / compute only | "
                     f"{_g(v['tops_per_w'])} / {_g(v['tops_per_w_compute'])} |")
    for name, v in report["published_tops_w"].items():
        L.append(f"| published: {name} | {v:g} |")
    if report.get("fpga"):
        L += ["", f"### FPGA (`sim.flow.synth`, {report['fpga_seconds']:.0f} s)", "",
              "LUTs, FFs, RAM and DSP of the bare unit after Yosys synthesis; used/available and "
              "Fmax (register to register, clock `clk`) after nextpnr with the unit inside "
              "`IoHarness` (input/output registers), median of the seeds in bold.", "",
              "| config | unit | target | LUT4 | FFs | RAM | DSP | used / available (with "
              "harness) | Fmax MHz (min / median / max) | seeds |",
              "|---|---|---|---|---|---|---|---|---|---|"]
        for r in report["fpga"]:
            c = r.get("unit_cells") or {}
            ice = r["target"] == "ice40"
            luts = c.get("SB_LUT4" if ice else "LUT4", "-")
            ffs = sum(v for k, v in c.items() if k.startswith("SB_DFF") or k == "TRELLIS_FF")
            ram = (f"{c.get('SB_RAM40_4K', 0)} SB_RAM40_4K" if ice else
                   f"{c.get('DP16KD', 0)} DP16KD, {c.get('TRELLIS_DPR16X4', 0)} DPR16X4")
            dsp = c.get("SB_MAC16" if ice else "MULT18X18D", 0)
            head = (f"| {r['config']} | {r['unit']} | {r['target']} | {luts} | {ffs} | {ram} | "
                    f"{dsp} | ")
            if "error" in r:
                what = (f"**does not fit**: {r['overflow']}" if r.get("overflow")
                        else f"failed: {r['error'][:120]}")
                L.append(head + f"{what} | - | 1 |")
                continue
            used = (f"{r['lc']} / {r['lc_available']} LC (UP5K)" if ice
                    else f"{r['lut_used']} / {r['lut_available']} LUT (LFE5U-{r['device']})")
            fm = r["fmax_mhz"]
            L.append(head + f"{used} | " + (f"{fm['min']:.1f} / **{fm['median']:.1f}** / "
                                            f"{fm['max']:.1f}" if fm else "-")
                     + f" | {len(r['seeds'])} |")
    return "\n".join(L) + "\n"


def main(argv=None) -> int:
    """``python -m sim.imc.report [--quick] [--no-fpga] [--no-liberty] [--size RxC ...]
    [--out build/report]``."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m sim.imc.report", description=main.__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-fpga", action="store_true")
    ap.add_argument("--no-liberty", action="store_true",
                    help="the proxy (fast path) only, no standard-cell figures")
    ap.add_argument("--size", action="append", default=[], metavar="RxC",
                    help="tile size(s) instead of the defaults (the standard-cell figures at "
                         "the last one), uniform and 50%%-zero workloads")
    ap.add_argument("--out", type=Path, default=BUILD / "report")
    args = ap.parse_args(argv)
    sizes = []
    for size in args.size:
        rows, _, cols = size.partition("x")
        sizes.append(ImcParams(rows=int(rows), cols=int(cols)))
    rep = build_report(args.quick, fpga=False if args.no_fpga else None,
                       liberty=not args.no_liberty, sizes=sizes or None)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "imc.json").write_text(json.dumps(rep, indent=1, default=str))
    md = render_markdown(rep)
    (args.out / "imc.md").write_text(md)
    print(md)
    print(f"wrote {args.out / 'imc.md'} and {args.out / 'imc.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())



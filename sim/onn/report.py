# Ref: docs/onn.md (array, equations); sim/power (switching-activity proxy); sim/flow/synth.py.
"""Measured figures of the oscillator array RTL (``hdl.onn.OnnArray``) for ``docs/onn.md``.

- **cycles per epoch**: ``epoch_cycles(p, mode)``, checked against the CYCLES register on the
  RTL (the ``power_epochs`` run below and ``tb/test_onn.py``);
- **toggles per epoch per cell**: the power proxy (``sim.power.report.measure_unit``) on the
  ``power_epochs`` workload of ``tb/test_onn.py`` (OIM epochs on a random graph; ops = epochs *
  n cell-updates), RTL and gate-level netlist (Yosys generic gates; the coupling memory is
  expanded into flip-flops there);
- **cycles to converge**: Max-Cut (OIM, default settings) on random graphs n = 16..800: the
  epoch after which no spin changes, and the first epoch with the final cut, on the golden
  model, times ``epoch_cycles``; ONN recall epochs until stable against stored patterns and
  noise; checked on the RTL (Verilator, n = 16: the spins after every epoch equal the model's;
  ONN until-stable EPOCH and CYCLES equal the model's count);
- **FPGA**: ``synth_ecp5`` cell counts for n = 8..64 (the per-cell slope) and one nextpnr-ecp5
  place-and-route of the 64-cell array on an ECP5-85F (LUTs, flip-flops, EBR, DSP, Fmax), and
  the largest n that fits an ECP5-85F extrapolated from them.

``picojoule report onn [--quick]`` / ``python -m sim.onn.report [--quick | --full]`` writes
``build/report/onn.{md,json}``; the FPGA part runs only with ``--full``.
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from hdl.onn import Mode, OnnArray, OnnParams, RunConfig, epoch_cycles, fill_cycles, start_cycles
from sim.flow.toolchain import BUILD, run_yosys
from sim.onn import maxcut
from sim.onn import model as onn
from sim.power.engine import NETLIST_SIM

__all__ = ["measure_toggles", "measure_liberty", "liberty_report", "liberty_rows",
           "maxcut_convergence", "recall_convergence",
           "rtl_convergence_check", "ecp5_scaling", "place_64", "pack_85f",
           "build_report", "render_markdown", "main"]

COMMAND = "picojoule report onn"
ECP5_85F = {"luts": 83640, "ffs": 83640, "ebr": 208, "dsp_mult18": 156}


def _graph_couplings(p: OnnParams, n_nodes: int, seed: int):
    g = maxcut.random_graph(n_nodes, n_nodes * (n_nodes - 1) // 4, seed, (1,))
    J = np.zeros((p.n, p.n), dtype=np.int64)
    J[:g.n, :g.n] = -g.W
    return g, J


def power_runs(p: OnnParams, *, epochs: int = 20, mode: Mode = Mode.OIM, seed: int = 7):
    """The energy workload's parameters: Max-Cut epochs in ``mode`` on a random graph of
    ``p.n`` nodes (half of all edges), one START with ``seed``."""
    from .bench import OnnRuns

    g, J = _graph_couplings(p, p.n, 300 + p.n)
    cfg = maxcut.default_config(p, g.W, 200, seed=seed, mode=mode)
    return OnnRuns(p, tuple(map(tuple, J.tolist())), cfg, (seed,), epochs)


def measure_toggles(p: OnnParams, epochs: int = 20, sim: str = "verilator",
                    mode: Mode = Mode.OIM) -> dict:
    """Power-proxy toggles per cell-epoch of ``OnnArray(p)`` running Max-Cut epochs in ``mode``
    (OIM or PBIT; a PBIT window also holds the RESUME's fill pass)."""
    from sim.power.report import measure_unit
    from sim.power.workloads import Workload

    runs = power_runs(p, epochs=epochs, mode=mode)
    cfg = runs.cfg
    wl = Workload("sim.onn.bench", "power_epochs", runs)
    r = measure_unit(p.name, lambda: OnnArray(p), wl, sims=(sim,))
    s = r["sims"][sim]
    return {"n": p.n, "parallel": p.with_parallel, "momentum": cfg.momentum, "epochs": epochs,
            "mode": Mode(mode).name, "pbit_built": p.with_pbit,
            "cycles_per_epoch": epoch_cycles(p, mode),
            "window_cycles": s["cycles"],
            "rtl_toggles_per_cell_epoch": s["rtl"]["toggles_per_op"],
            "gate_toggles_per_cell_epoch": s["gate"]["toggles_per_op"],
            "gate_flipflops": r["n_flipflops"], "gate_cells": r["n_cells"],
            "pj_per_cell_epoch": s["pj_per_op"]["compute"]}


#: The liberty figures' arrays and epochs: ``quick`` (tests, ``make sim``) and the full report.
#: The PBIT build serves both modes, so OIM and PBIT are compared on the same netlist.
LIBERTY_QUICK = {"sizes": (8,), "epochs": 10, "sdf": ()}
LIBERTY_FULL = {"sizes": (8, 16), "epochs": 20, "sdf": (8,)}


def measure_liberty(p: OnnParams, *, mode: Mode = Mode.OIM, epochs: int = 20,
                    timings=("zero",), sim: str = NETLIST_SIM, liberty=None) -> dict:
    """Energy per cell-epoch of ``OnnArray(p)`` mapped to the cells of ``liberty`` (default
    OSU 0.18 um; ``sim.power.engine.measure_cells``) on the ``power_epochs`` workload of
    :func:`power_runs` in ``mode``: zero-delay (``sim``) and/or SDF-timed (Icarus) activity.
    The testcase checks the final phases against the model on every netlist run. One op is
    a cell-epoch: one phase update of one cell (OIM) or one spin update (PBIT: an epoch
    updates each of the n spins once); a PBIT window also holds the RESUME's fill pass."""
    from sim.power.engine import measure_cells
    from sim.power.workloads import Workload

    runs = power_runs(p, epochs=epochs, mode=mode)
    res = measure_cells(p.name, lambda: OnnArray(p), Workload("sim.onn.bench", "power_epochs",
                                                              runs),
                        liberty=liberty, timings=tuple(timings), sim=sim,
                        with_timing_report=False, cache=True)
    out = {"n": p.n, "unit": p.name, "pbit_built": p.with_pbit, "mode": Mode(mode).name,
           "epochs": epochs, "cycles_per_epoch": epoch_cycles(p, mode),
           "library": res["library"], "cells": res["cells"], "area_um2": res["area_um2"],
           "cell_counts": res["cell_counts"], "netlist": res["netlist"], "modes": {}}
    for t, m in res["modes"].items():
        out["modes"][t] = {"sim": m["sim"], "ops": m["ops"], "pj_per_op": m["pj_per_op"],
                           "breakdown": m["breakdown"],
                           "transitions_per_op": m["transitions_per_op"],
                           "activity": m["activity"], "seconds": m["seconds"]}
    if "glitch_pj_per_op" in res:
        out["glitch_pj_per_op"] = res["glitch_pj_per_op"]
    return out


def liberty_report(quick: bool = False, *, log=print) -> list[dict]:
    """For each array size (``LIBERTY_QUICK`` / ``LIBERTY_FULL``): the PBIT build in OIM and
    PBIT mode on the standard-cell library (zero-delay; SDF-timed too for the sizes in
    ``sdf``), each next to the power proxy's gate-level pJ per cell-epoch
    (:func:`measure_toggles`, Verilator)."""
    cfg = LIBERTY_QUICK if quick else LIBERTY_FULL
    out = []
    for n in cfg["sizes"]:
        p = OnnParams(n=n, with_pbit=True)
        for mode in (Mode.OIM, Mode.PBIT):
            timings = ("zero", "sdf") if n in cfg["sdf"] else ("zero",)
            log(f"[onn] liberty energy n = {n} {mode.name} ({', '.join(timings)})")
            t0 = time.monotonic()
            r = measure_liberty(p, mode=mode, epochs=cfg["epochs"], timings=timings)
            r["proxy"] = measure_toggles(p, epochs=cfg["epochs"], mode=mode)
            r["seconds"] = round(time.monotonic() - t0, 1)
            out.append(r)
    return out


def liberty_rows(quick: bool, *, report: list[dict] | None = None) -> list[dict]:
    """Proxy-vs-liberty rows (one per array and mode) for a comparison table: pJ per
    cell-epoch (= per spin update) of the netlist, the proxy's gate-level compute figure next
    to the liberty's zero-delay and SDF-timed ones (None where not run)."""
    rows = []
    for r in report if report is not None else liberty_report(quick):
        m = r["modes"]
        rows.append({
            "unit": r["unit"], "mode": r["mode"], "op": "cell-epoch (one spin update)",
            "proxy_pj_per_op": r["proxy"]["pj_per_cell_epoch"],
            "liberty_zero_pj_per_op": m["zero"]["pj_per_op"] if "zero" in m else None,
            "liberty_sdf_pj_per_op": m["sdf"]["pj_per_op"] if "sdf" in m else None,
            "cells": r["cells"], "area_um2": r["area_um2"], "library": r["library"],
            "note": f"oscillator array n = {r['n']} (PBIT build), {r['mode']} mode, "
                    f"{r['epochs']} epochs of Max-Cut"
                    + (" + the RESUME's fill pass" if r["mode"] == "PBIT" else "")})
    return rows


def liberty_markdown(report: list[dict]) -> list[str]:
    """The liberty energy table (library named; the proxy labelled as the fast path)."""
    if not report:
        return []
    lib = report[0]["library"]
    L = ["", f"Energy per cell-epoch (= per spin update), standard cells ({lib}, "
         "`sim.power.engine.measure_cells`; PBIT build, Max-Cut epochs on a random graph, "
         "final phases checked against the model in every run; zero-delay on Verilator, "
         "SDF-timed on Icarus), next to the proxy (fast path: generic gates, 28 nm "
         "constants):", "",
         "| array | mode | epochs | cells | area mm2 | transitions / op (zero) | switching | "
         "internal | leakage | **pJ / op zero-delay** | pJ / op SDF (glitch) | proxy pJ / op "
         "(fast path) | liberty / proxy |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in report:
        z = r["modes"]["zero"]
        b = z["breakdown"]
        s = r["modes"].get("sdf")
        sdf = (f"{s['pj_per_op']:.3g} ({r['glitch_pj_per_op']:+.3g})" if s else "-")
        proxy = r["proxy"]["pj_per_cell_epoch"]
        L.append(f"| n={r['n']} | {r['mode']} | {r['epochs']} | {r['cells']} | "
                 f"{r['area_um2'] / 1e6:.3f} | {z['transitions_per_op']:.0f} | "
                 f"{b['switching']:.3g} | {b['internal']:.3g} | {b['leakage']:.2g} | "
                 f"**{z['pj_per_op']:.3g}** | {sdf} | {proxy:.3g} | "
                 f"{z['pj_per_op'] / proxy:.2f} |")
    by = {(r["n"], r["mode"]): r for r in report}
    for n in sorted({r["n"] for r in report}):
        if (n, "OIM") in by and (n, "PBIT") in by:
            lz = (by[n, "PBIT"]["modes"]["zero"]["pj_per_op"]
                  / by[n, "OIM"]["modes"]["zero"]["pj_per_op"])
            pz = by[n, "PBIT"]["proxy"]["pj_per_cell_epoch"] / by[n, "OIM"]["proxy"][
                "pj_per_cell_epoch"]
            L.append("")
            L.append(f"n = {n}: PBIT / OIM per spin update {lz:.2f} (liberty, zero-delay), "
                     f"{pz:.2f} (proxy).")
    return L


def _bits_int(bits) -> list[int]:
    """Spin rows (0/1, shape (R, m)) as ints, bit i = cell i (the RTL's SPINS words)."""
    return [int(sum(int(b) << i for i, b in enumerate(row))) for row in np.asarray(bits)]


def maxcut_trace(p: OnnParams, g: "maxcut.Graph", cfg: RunConfig, epochs: int, seeds):
    """Model runs (batched over ``seeds``) with the spins and the cut after every epoch:
    (spins, cuts) of shapes (epochs, R, m) and (epochs, R)."""
    J = onn.couplings(p, -g.W)
    st = onn.init_state(p, cfg, g.n, seeds=np.asarray(list(seeds)))
    spins, cuts = [], []
    for _ in range(epochs):
        st = onn.epoch(p, cfg, J, st)
        s = onn.spins(p, st.theta)
        spins.append(s)
        cuts.append(maxcut.cut_value(g.W, s))
    return np.asarray(spins), np.asarray(cuts)


def settle_epochs(spins: np.ndarray, cuts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per run: ``settle``, the first epoch (1-based) from which the spins read after every
    later epoch equal the final spins (the last epoch that changed a spin; 1 if none after
    the first), and ``reach``, the first epoch whose cut equals the run's final cut."""
    E = spins.shape[0]
    changed = (spins[1:] != spins[:-1]).any(axis=-1)                  # (E-1, R)
    idx = np.arange(2, E + 1)[:, None]
    last = np.where(changed, idx, 1).max(axis=0)
    reach = (cuts == cuts[-1]).argmax(axis=0) + 1
    return last, reach


#: Max-Cut convergence graphs: the unweighted G(n, 1/2) graphs of the tables in docs/onn.md
#: (``python -m sim.onn.maxcut bench``: seeds 100, 200, 202), and the G1-like graph.
CONV_GRAPHS = ((16, 100), (60, 200), (100, 202))
G1_LIKE = (800, 19176, 2026)


def maxcut_convergence(graphs=CONV_GRAPHS, epochs: int = 1000, runs: int = 8,
                       g1_epochs: int | None = None, mode: Mode = Mode.OIM) -> list[dict]:
    """Epochs and clocks until the spins stop changing (Max-Cut in ``mode``, default settings
    for ``epochs``, seeds 1..runs) on the model; clocks on an array of n = graph size cells
    (PBIT: with its fill pass)."""
    p = maxcut.array_params()
    todo = [(maxcut.random_graph(n, n * (n - 1) // 4, gs, (1,)), gs, epochs)
            for n, gs in graphs]
    if g1_epochs:
        n, m, gs = G1_LIKE
        todo.append((maxcut.random_graph(n, m, gs, (1,)), gs, g1_epochs))
    rows = []
    for g, gs, E in todo:
        t0 = time.monotonic()
        cfg = maxcut.default_config(p, g.W, E, mode=mode)
        spins, cuts = maxcut_trace(p, g, cfg, E, range(1, runs + 1))
        last, reach = settle_epochs(spins, cuts)
        best = int(cuts.max())
        opt = maxcut.brute_force(g.W)[0] if g.n <= 20 else None
        arr = OnnParams(n=g.n, with_pbit=Mode(mode) == Mode.PBIT)
        cpe = epoch_cycles(arr, mode)
        c0 = start_cycles(False) + fill_cycles(arr, mode)
        rows.append({"n": g.n, "m": g.m, "graph_seed": gs, "epochs_run": E, "runs": runs,
                     "config": dict(cfg.__dict__, mode=Mode(cfg.mode).name),
                     "settle": last.tolist(), "reach_final": reach.tolist(),
                     "final_cuts": cuts[-1].tolist(), "best_cut_seen": best, "optimum": opt,
                     "settle_median": float(np.median(last)), "settle_max": int(last.max()),
                     "reach_median": float(np.median(reach)),
                     "cycles_per_epoch": cpe,
                     "cycles_settle_median": int(c0 + np.median(last) * cpe),
                     "cycles_settle_max": int(c0 + last.max() * cpe),
                     "cycles_run": c0 + E * cpe,
                     "seconds": round(time.monotonic() - t0, 1)})
    return rows


def recall_convergence(N: int = 100, Ms=(1, 5, 10, 14), noises=(0.05, 0.1, 0.2),
                       trials: int = 200, epochs: int = 20) -> list[dict]:
    """ONN recall (``sim.onn.maxcut.recall_trials``' patterns and cues): per cue, the epochs the
    RTL's until_stable run takes (the first epoch that changes no phase, counted as the EPOCH
    register counts it); cues not stable within ``epochs`` (2-cycles) are counted apart."""
    p = OnnParams()
    cpe = epoch_cycles(OnnParams(n=N), Mode.ONN)
    rows = []
    for M in Ms:
        pats = np.random.default_rng([M, 0x0A11]).integers(0, 2, size=(M, N))
        W = onn.hebbian(p, pats)
        J = onn.couplings(p, W)
        for x in noises:
            rng = np.random.default_rng(M)          # the cues of recall_trials(seed=M)
            target = pats[np.arange(trials) % M]
            cue = target.copy()
            flips = int(round(x * N))
            for k in range(trials):
                cue[k, rng.choice(N, size=flips, replace=False)] ^= 1
            cfg = RunConfig(mode=Mode.ONN, seed=M)
            st = onn.init_state(p, cfg, N, onn.phases_from_spins(p, cue),
                                np.full(trials, M))
            stable_at = np.zeros(trials, dtype=np.int64)
            for e in range(epochs):
                nxt = onn.epoch(p, cfg, J, st)
                still = (nxt.theta == st.theta).all(axis=-1) & (stable_at == 0)
                stable_at[still] = e + 1
                st = nxt
                if (stable_at > 0).all():
                    break
            ok = stable_at > 0
            out = onn.spins(p, st.theta)
            rate = float((out == target).all(axis=1).mean())
            ep = stable_at[ok]
            rows.append({"N": N, "M": M, "noise": x, "flipped_bits": flips, "trials": trials,
                         "stable": int(ok.sum()), "recall_rate": rate,
                         "epochs_mean": float(ep.mean()) if ep.size else None,
                         "epochs_median": float(np.median(ep)) if ep.size else None,
                         "epochs_max": int(ep.max()) if ep.size else None,
                         "cycles_per_epoch": cpe,
                         "cycles_max": (int(start_cycles(True) + ep.max() * cpe)
                                        if ep.size else None)})
    return rows


def rtl_convergence_check(sim: str = "verilator", n: int = 16, seeds=(1, 2),
                          epochs: int = 1000) -> dict:
    """The RTL's side of the convergence figures, on ``n`` = 16: (1) Max-Cut, the spins read
    after every epoch (``tb.test_onn.spin_trace``) equal the model's trace, so the settle epoch
    is the same; (2) ONN recall until stable, the EPOCH and CYCLES registers equal the model's
    epoch count and ``1 + epochs * epoch_cycles``. Raises AssertionError on any difference."""
    from sim.rtl import run

    from .bench import OnnRuns

    t0 = time.monotonic()
    p = maxcut.array_params(n)
    g = maxcut.random_graph(n, n * (n - 1) // 4, dict(CONV_GRAPHS)[n], (1,))
    cfg = maxcut.default_config(p, g.W, epochs)
    spins, cuts = maxcut_trace(p, g, cfg, epochs, seeds)
    last, reach = settle_epochs(spins, cuts)
    r = run(OnnArray(p), key=("OnnArray", p), toplevel=p.name, test_module="sim.onn.bench",
            sim=sim,
            testcase="spin_trace",
            params=OnnRuns(p, tuple(map(tuple, (-g.W).tolist())), cfg, tuple(seeds), epochs))
    recs = r.data("runs")
    cpe = epoch_cycles(p, Mode.OIM)
    for k, rec in enumerate(recs):
        want = _bits_int(spins[:, k])
        assert rec["trace"] == want, f"seed {rec['seed']}: RTL spin trace differs from the model"
        assert rec["epochs"] == epochs and rec["cycles"] == start_cycles(False) + epochs * cpe, rec
    # ONN recall on the RTL: 2 stored patterns, 2 of 16 bits flipped, until stable
    rng = np.random.default_rng(11)
    pats = rng.integers(0, 2, size=(2, p.n))
    W = onn.hebbian(p, pats)
    cue = pats[0].copy()
    cue[rng.choice(p.n, size=2, replace=False)] ^= 1
    theta = onn.phases_from_spins(p, cue)
    ocfg = RunConfig(mode=Mode.ONN, seed=1)
    ro = run(OnnArray(p), key=("OnnArray", p), toplevel=p.name, test_module="sim.onn.bench",
             sim=sim,
             testcase="maxcut_runs",
             params=OnnRuns(p, tuple(map(tuple, W.tolist())), ocfg, (1,), 50,
                            theta=tuple(int(v) for v in theta), until_stable=True))
    rec = ro.data("runs")[0]
    model = onn.run(p, ocfg, W, 50, theta=theta, until_stable=True)
    assert rec["epochs"] == model.t and rec["theta"] == [int(v) for v in model.theta]
    assert rec["cycles"] == start_cycles(True) + rec["epochs"] * epoch_cycles(p, Mode.ONN)
    return {"sim": sim, "n": n, "epochs": epochs, "seeds": list(seeds),
            "maxcut_settle": last.tolist(), "maxcut_reach_final": reach.tolist(),
            "maxcut_cycles": [rec_["cycles"] for rec_ in recs],
            "onn_epochs_until_stable": rec["epochs"], "onn_cycles": rec["cycles"],
            "onn_recalled": bool(np.array_equal(rec["spins"], pats[0])),
            "seconds": round(time.monotonic() - t0, 1)}


def sim_summary():
    """``picojoule sim`` (``make sim``) step: convergence on the model, ~1 s: Max-Cut n = 16
    and 60 (4 runs, 1000 epochs) and ONN recall N = 100 (100 cues). A rich Table."""
    from rich.table import Table

    table = Table(title="Oscillator array (golden model = RTL): epochs and clocks to converge "
                        "(full tables: picojoule report onn)")
    for col in ("task", "n", "result", "epochs to converge", "clocks"):
        table.add_column(col, justify="left" if col in ("task", "result") else "right")
    for mode in (Mode.OIM, Mode.PBIT):
        for r in maxcut_convergence(CONV_GRAPHS[:2], runs=4, mode=mode):
            table.add_row(f"Max-Cut {mode.name} G(n,1/2), {r['epochs_run']} epochs",
                          str(r["n"]), f"cuts {r['final_cuts']}"
                          + (f" (optimum {r['optimum']})" if r["optimum"] is not None else ""),
                          f"settle median {r['settle_median']:.0f}",
                          f"{r['cycles_settle_median']:,}")
    for r in recall_convergence(Ms=(5, 14), noises=(0.1,), trials=100):
        table.add_row(f"ONN recall, {r['M']} patterns, noise {r['noise']}", str(r["N"]),
                      f"rate {r['recall_rate']:.2f}",
                      f"median {_g(r['epochs_median'], 0)}, max {_g(r['epochs_max'])}",
                      f"{_g(r['cycles_max'])}")
    return table


def _ecp5_stat(p: OnnParams) -> dict:
    """``synth_ecp5`` of the bare array: cell counts (no place and route). ``comb`` counts
    LUT4 slots as nextpnr's "Total LUT4s" before packing does: LUT4s, two per CCU2C carry
    cell, four per TRELLIS_DPR16X4 RAM (n = 8: 4,899 here, 4,940 in nextpnr with the
    harness; TRELLIS_COMB after packing was 5,222)."""
    from sim.flow.synth import cell_stat, read_verilog_script, synth_dir
    from sim.rtl.runner import convert

    top = p.name
    out = synth_dir(top)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{top}.v").write_text(convert(OnnArray(p), top))
    t0 = time.monotonic()
    run_yosys(f"{read_verilog_script(top)}synth_ecp5 -top {top}\n"
              "tee -q -o ecp5_unit_stat.json stat -json\n", cwd=out, log_name="ecp5_unit.log")
    cells = cell_stat(out / "ecp5_unit_stat.json", top)
    return {"n": p.n, "cells": cells, "luts": cells.get("LUT4", 0),
            "comb": (cells.get("LUT4", 0) + 2 * cells.get("CCU2C", 0)
                     + 4 * cells.get("TRELLIS_DPR16X4", 0)),
            "ffs": sum(v for k, v in cells.items() if k.startswith("TRELLIS_FF")),
            "ebr": cells.get("DP16KD", 0) + cells.get("PDPW16KD", 0),
            "dsp": cells.get("MULT18X18D", 0), "seconds": round(time.monotonic() - t0, 1)}


def ecp5_scaling(ns=(8, 16, 32, 64)) -> dict:
    """ECP5 cells for several n; LUT4s, TRELLIS_COMB slots, flip-flops and DSPs per cell
    (least squares on n) and the largest n that fits an ECP5-85F by each resource
    (extrapolated from synthesis, not placed)."""
    rows = [_ecp5_stat(OnnParams(n=n)) for n in ns]
    x = np.array([r["n"] for r in rows], dtype=float)
    fit = {}
    keys = ("luts", "comb", "ffs", "dsp")
    for key in keys:
        y = np.array([r[key] for r in rows], dtype=float)
        slope, icpt = np.polyfit(x, y, 1)
        fit[key] = {"per_cell": float(slope), "fixed": float(icpt)}
    # the LUT slope grows slightly with n (the theta_j broadcast mux, wider accumulators): fit
    # the last two points too and use the steeper slope for the limit
    last = {k: (rows[-1][k] - rows[-2][k]) / (rows[-1]["n"] - rows[-2]["n"]) for k in keys}
    lim = {}
    for key, cap in (("comb", ECP5_85F["luts"]), ("ffs", ECP5_85F["ffs"]),
                     ("dsp", ECP5_85F["dsp_mult18"])):
        per = max(fit[key]["per_cell"], last[key])
        lim[key] = int((cap - max(fit[key]["fixed"], 0)) // per) if per > 0 else None
    # coupling memory: n words of n*weight_bits bits; DP16KD is 512 x 36 at most that wide
    wb = OnnParams().weight_bits
    n_ebr = max(n for n in range(2, 4097)
                if math.ceil(n * wb / 36) * math.ceil(n / 512) <= ECP5_85F["ebr"])
    lim["ebr"] = n_ebr
    return {"rows": rows, "fit": fit, "last_slope": last, "limits": lim,
            "n_max": min(v for v in lim.values() if v is not None), "device": ECP5_85F}


def pack_85f(n: int) -> dict:
    """Does the n-cell array (default params, inside ``sim.flow.synth.IoHarness``) fit an ECP5-85F?
    ``synth_ecp5`` of the harness, then ``nextpnr-ecp5 --pack-only`` (packing, no placement);
    returns nextpnr's device utilisation {resource: (used, available)} (``fits``: nothing over
    100 %) and the wall time. Fitting is necessary, not sufficient, for routing."""
    import re
    import subprocess

    from sim.flow.synth import IoHarness, nextpnr_ecp5_command, read_verilog_script, synth_dir
    from sim.rtl.runner import convert

    p = OnnParams(n=n)
    top = f"{p.name}_harness"
    out = synth_dir(p.name)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    (out / f"{top}.v").write_text(convert(IoHarness(OnnArray(p)), top))
    run_yosys(f"{read_verilog_script(top)}synth_ecp5 -top {top} -json {top}_ecp5.json\n", cwd=out,
              log_name="ecp5_harness.log")
    t1 = time.monotonic()
    log = out / "nextpnr_ecp5_pack.log"
    subprocess.run([*nextpnr_ecp5_command(), "--85k", "--package", "CABGA381", "--json",
                    f"{top}_ecp5.json", "--pack-only", "--log", log.name, "-q"], cwd=out,
                   capture_output=True, text=True)
    text = log.read_text(errors="replace")
    util = {}
    part = text.split("Device utilisation:", 1)[-1]
    for m in re.finditer(r"^Info:\s+(\w+):\s+(\d+)/\s*(\d+)\s+\d+%", part, re.M):
        util.setdefault(m.group(1), (int(m.group(2)), int(m.group(3))))
    return {"n": n, "utilization": {k: v for k, v in util.items() if v[0]},
            "fits": bool(util) and all(u <= a for u, a in util.values()),
            "synth_s": round(t1 - t0, 1), "pack_s": round(time.monotonic() - t1, 1)}


def place_64(seeds=(1,)) -> dict:
    """nextpnr-ecp5 place and route of the 64-cell array (default params) on an ECP5-85F."""
    from sim.flow.synth import place_ecp5

    p = OnnParams(n=64)
    t0 = time.monotonic()
    r = place_ecp5(OnnArray(p), p.name, seeds=seeds, device="85k")
    r["seconds"] = round(time.monotonic() - t0, 1)
    return r


def build_report(quick: bool = False, *, full: bool = False, fpga: bool | None = None,
                 log=print) -> dict:
    """Default: clocks per epoch, toggles (n = 8), convergence on the model and its RTL
    check, the Max-Cut / recall benchmark (``sim.onn.maxcut.bench``): ~5 min on 2 cores.
    ``quick``: smaller samples, no benchmark (~1 min). ``full``: also the parallel and n = 16
    toggles, the ECP5 synthesis scaling (n = 8..64, ~30 min) and the 64-cell ECP5-85F place and
    route (hours)."""
    fpga = full if fpga is None else fpga
    t0 = time.monotonic()
    rep = {"command": COMMAND + (" --quick" if quick else "") + (" --full" if full else ""),
           "date": time.strftime("%Y-%m-%d", time.gmtime()),
           "epoch_cycles": {f"n={n}{' parallel' if par else ''}": {
               m.name: epoch_cycles(OnnParams(n=n, with_parallel=par), m)
               for m in Mode if not (par and m == Mode.PBIT)}
               for n, par in ((8, False), (8, True), (64, False), (1024, False))}}
    log("[onn] toggles (power proxy, n = 8)")
    rep["toggles"] = [measure_toggles(OnnParams(n=8), epochs=10 if quick else 20),
                      measure_toggles(maxcut.array_params(8), epochs=10 if quick else 20)]
    if full:
        rep["toggles"].append(measure_toggles(OnnParams(n=8, with_parallel=True), epochs=20))
        rep["toggles"].append(measure_toggles(OnnParams(n=16), epochs=20))
    log("[onn] energy on standard cells (liberty)")
    rep["liberty"] = liberty_report(quick, log=log)
    log("[onn] convergence (model)")
    rep["maxcut_convergence"] = maxcut_convergence(
        CONV_GRAPHS[:2] if quick else CONV_GRAPHS, runs=4 if quick else 8,
        g1_epochs=None if quick else 1000)
    rep["recall_convergence"] = recall_convergence(
        Ms=(5, 14) if quick else (1, 5, 10, 14), noises=(0.1,) if quick else (0.05, 0.1, 0.2),
        trials=100 if quick else 200)
    log("[onn] convergence (RTL check, Verilator)")
    rep["rtl_convergence"] = rtl_convergence_check(epochs=200 if quick else 1000,
                                                   seeds=(1,) if quick else (1, 2))
    if not quick:
        log("[onn] Max-Cut and recall benchmark (sim.onn.maxcut.bench)")
        rep["bench_md"] = maxcut.bench()
    if fpga:
        log("[onn] ECP5 synthesis n = 8..64")
        rep["ecp5_scaling"] = ecp5_scaling()
        log("[onn] ECP5-85F place and route, 64 cells")
        rep["ecp5_64"] = place_64()
    rep["seconds"] = round(time.monotonic() - t0, 1)
    return rep


def _g(x, d=1):
    return "-" if x is None else f"{x:.{d}f}" if isinstance(x, float) else str(x)


def convergence_markdown(rep: dict) -> list[str]:
    L = ["", "Max-Cut convergence (model, OIM, `default_config` for the epochs run, seeds "
         "1..runs; array n = graph size): settle = the epoch after which no spin changes "
         "again; reach = the first epoch whose cut equals the final cut; clocks = START + "
         "epochs x clocks/epoch.", "",
         "| graph | n | m | epochs run | runs | settle median (max) | reach median | "
         "final cuts (optimum) | clocks/epoch | clocks to settle median (max) |",
         "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rep["maxcut_convergence"]:
        name = (f"G(n,1/2) seed {r['graph_seed']}" if r["n"] < 800 else
                f"G1-like (random_graph(800, 19176, {r['graph_seed']}))")
        L.append(f"| {name} | {r['n']} | {r['m']} | {r['epochs_run']} | {r['runs']} | "
                 f"{r['settle_median']:.0f} ({r['settle_max']}) | {r['reach_median']:.0f} | "
                 f"{r['final_cuts']} ({_g(r['optimum'])}) | {r['cycles_per_epoch']} | "
                 f"{r['cycles_settle_median']:,} ({r['cycles_settle_max']:,}) |")
    L += ["", "ONN recall convergence (model; Hebbian 5-bit weights; the patterns and cues of "
          "the recall table, `sim.onn.maxcut.recall_trials(seed=M)`): epochs until stable as the "
          "RTL's EPOCH register counts them with CONFIG.until_stable (the last epoch changes "
          "no phase); clocks = 1 + epochs x clocks/epoch on an N-cell array.", "",
          "| N | M | noise (bits flipped) | cues | stable | recall rate | epochs mean / median "
          "/ max | clocks/epoch | clocks max |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rep["recall_convergence"]:
        ep = ("-" if r["epochs_max"] is None else
              f"{r['epochs_mean']:.2f} / {r['epochs_median']:.0f} / {r['epochs_max']}")
        L.append(f"| {r['N']} | {r['M']} | {r['noise']} ({r['flipped_bits']}) | {r['trials']} |"
                 f" {r['stable']} | {r['recall_rate']:.3f} | {ep} | {r['cycles_per_epoch']} | "
                 f"{_g(r['cycles_max'])} |")
    c = rep["rtl_convergence"]
    L += ["", f"RTL check ({c['sim']}, n = {c['n']}, {c['seconds']:.0f} s): Max-Cut seeds "
          f"{c['seeds']}, {c['epochs']} epochs: the spins read after every epoch equal the "
          f"model's (settle {c['maxcut_settle']}, reach {c['maxcut_reach_final']}; CYCLES "
          f"{c['maxcut_cycles']}); ONN recall (2 patterns, 2 bits flipped): EPOCH = "
          f"{c['onn_epochs_until_stable']} = the model's, CYCLES = {c['onn_cycles']}, "
          f"recalled: {c['onn_recalled']}."]
    return L


def render_markdown(rep: dict) -> str:
    L = [f"Command: `{rep['command']}` ({rep['date']}, {rep['seconds']:.0f} s)", "",
         "Clocks per epoch (`hdl.onn.epoch_cycles`, checked against the CYCLES register):", "",
         "| array | ONN | OIM | KURAMOTO |", "|---|---|---|---|"]
    for k, v in rep["epoch_cycles"].items():
        L.append(f"| {k} | {v['ONN']} | {v['OIM']} | {v['KURAMOTO']} |")
    L += liberty_markdown(rep.get("liberty", []))
    L += ["", "Switching activity (power proxy (fast path), OIM Max-Cut epochs, Verilator):",
          "",
          "| array | epochs | clocks/epoch | RTL toggles / cell-epoch | gate toggles / "
          "cell-epoch | gate-level compute pJ / cell-epoch (proxy) |",
          "|---|---|---|---|---|---|"]
    for t in rep["toggles"]:
        mom = f", momentum {t['momentum']}" if t.get("momentum") else ""
        L.append(f"| n={t['n']}{' parallel' if t['parallel'] else ''}{mom} | {t['epochs']} | "
                 f"{t['cycles_per_epoch']} | {t['rtl_toggles_per_cell_epoch']:.0f} | "
                 f"{t['gate_toggles_per_cell_epoch']:.0f} | {t['pj_per_cell_epoch']:.2f} |")
    L += convergence_markdown(rep)
    if "bench_md" in rep:
        L += ["", "Max-Cut and recall benchmark (`python -m sim.onn.maxcut bench`, run by this "
              "report):", "", rep["bench_md"].rstrip()]
    if "ecp5_scaling" in rep:
        sc = rep["ecp5_scaling"]
        L += ["", "ECP5 `synth_ecp5` of the bare array (default params, serial):", "",
              "| n | LUT4 | CCU2C | LUT4 slots (LUT4 + 2 CCU2C + 4 DPR16X4) | flip-flops | "
              "EBR (DP16KD) | MULT18X18D | yosys s |", "|---|---|---|---|---|---|---|---|"]
        for r in sc["rows"]:
            L.append(f"| {r['n']} | {r['luts']} | {r['cells'].get('CCU2C', 0)} | {r['comb']} | "
                     f"{r['ffs']} | {r['ebr']} | {r['dsp']} | {r['seconds']} |")
        f, lim = sc["fit"], sc["limits"]
        L += ["", f"Per cell (fit): {f['luts']['per_cell']:.0f} LUT4, {f['comb']['per_cell']:.0f}"
              f" LUT4 slots ({sc['last_slope']['comb']:.0f} between the last two sizes), "
              f"{f['ffs']['per_cell']:.0f} flip-flops, {f['dsp']['per_cell']:.2f} MULT18X18D. "
              f"ECP5-85F limits: {lim['comb']} cells by logic, {lim['ffs']} by flip-flops, "
              f"{lim['dsp']} by DSPs, {lim['ebr']} by EBR -> **largest n ~ {sc['n_max']}** "
              "(extrapolated from synthesis, not placed)."]
    if "ecp5_64" in rep:
        e = rep["ecp5_64"]
        run = e["runs"][0]
        util = run["utilization"]
        keys = [k for k in ("TRELLIS_COMB", "TRELLIS_FF", "DP16KD", "MULT18X18D") if k in util]
        L += ["", f"64-cell array on ECP5-85F (nextpnr-ecp5, seed {run['seed']}, IoHarness "
              "registers around the CSR port):", "",
              "| " + " | ".join(keys) + " | Fmax MHz |", "|" + "---|" * (len(keys) + 1)]
        L.append("| " + " | ".join(f"{util[k][0]} / {util[k][1]}" for k in keys)
                 + f" | {_g(run['fmax_mhz'])} |")
    return "\n".join(L) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.onn.report")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--full", action="store_true",
                    help="also n = 8 parallel / 16 toggles, ECP5 synthesis and 64-cell P&R")
    ap.add_argument("--no-fpga", action="store_true", help="with --full: skip the FPGA part")
    ap.add_argument("--liberty-only", action="store_true",
                    help="only the standard-cell energy table (onn-liberty.{md,json})")
    ap.add_argument("--out", default=str(BUILD / "report"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    if args.liberty_only:
        rep = liberty_report(args.quick)
        md = "\n".join(liberty_markdown(rep)).lstrip() + "\n"
        out.mkdir(parents=True, exist_ok=True)
        (out / "onn-liberty.md").write_text(md)
        (out / "onn-liberty.json").write_text(json.dumps(rep, indent=1, default=str) + "\n")
        print(md)
        return 0
    rep = build_report(args.quick, full=args.full, fpga=False if args.no_fpga else None)
    out.mkdir(parents=True, exist_ok=True)
    md = render_markdown(rep)
    (out / "onn.md").write_text(md)
    (out / "onn.json").write_text(json.dumps(rep, indent=1, default=str) + "\n")
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())

# Ref: docs/onn.md (array, equations); sim/power (switching-activity proxy); sim/synth.py.
"""Measured figures of the oscillator array RTL (``hdl.onn.OnnArray``) for ``docs/onn.md``.

- **cycles per epoch**: ``epoch_cycles(p, mode)``, checked against the CYCLES register on the
  RTL (the ``power_epochs`` run below and ``tb/test_onn.py``);
- **toggles per epoch per cell**: the power proxy (``sim.power.report.measure_unit``) on the
  ``power_epochs`` workload of ``tb/test_onn.py`` (OIM epochs on a random graph; ops = epochs *
  n cell-updates), RTL and gate-level netlist (Yosys generic gates; the coupling memory is
  expanded into flip-flops there);
- **cycles to converge**: Max-Cut (OIM, default settings) on random graphs: the last epoch at
  which any spin changed, from the golden model (bit-exact with the RTL, which the lockstep
  tests check), times ``epoch_cycles``; ONN recall until stable, counted by the RTL itself
  (EPOCH register, CONFIG.until_stable) on Verilator;
- **FPGA**: ``synth_ecp5`` cell counts for n = 8..64 (the per-cell slope) and one nextpnr-ecp5
  place-and-route of the 64-cell array on an ECP5-85F (LUTs, flip-flops, EBR, DSP, Fmax), and
  the largest n that fits an ECP5-85F extrapolated from them.

``python -m sim.onn_report [--quick]`` / ``picojoule report onn`` writes
``build/report/onn.{md,json}``.
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from hdl.onn import Mode, OnnArray, OnnParams, RunConfig, epoch_cycles
from sim import maxcut, onn
from sim.toolchain import BUILD, run_yosys

__all__ = ["measure_toggles", "measure_convergence", "ecp5_scaling", "place_64",
           "build_report", "render_markdown", "main"]

COMMAND = "picojoule report onn"
ECP5_85F = {"luts": 83640, "ffs": 83640, "ebr": 208, "dsp_mult18": 156}


def _graph_couplings(p: OnnParams, n_nodes: int, seed: int):
    g = maxcut.random_graph(n_nodes, n_nodes * (n_nodes - 1) // 4, seed, (1,))
    J = np.zeros((p.n, p.n), dtype=np.int64)
    J[:g.n, :g.n] = -g.W
    return g, J


def measure_toggles(p: OnnParams, epochs: int = 20, sim: str = "verilator") -> dict:
    """Power-proxy toggles per cell-epoch of ``OnnArray(p)`` running OIM Max-Cut epochs."""
    from sim.power.report import measure_unit
    from sim.power.workloads import Workload
    from tb.test_onn import OnnRuns

    g, J = _graph_couplings(p, p.n, 300 + p.n)
    cfg = maxcut.default_config(p, g.W, 200, seed=7)
    runs = OnnRuns(p, tuple(map(tuple, J.tolist())), cfg, (7,), epochs)
    wl = Workload("tb.test_onn", "power_epochs", runs)
    r = measure_unit(p.name, lambda: OnnArray(p), wl, sims=(sim,))
    s = r["sims"][sim]
    return {"n": p.n, "parallel": p.with_parallel, "epochs": epochs,
            "cycles_per_epoch": epoch_cycles(p, Mode.OIM),
            "window_cycles": s["cycles"],
            "rtl_toggles_per_cell_epoch": s["rtl"]["toggles_per_op"],
            "gate_toggles_per_cell_epoch": s["gate"]["toggles_per_op"],
            "gate_flipflops": r["n_flipflops"], "gate_cells": r["n_cells"],
            "pj_per_cell_epoch": s["pj_per_op"]["compute"]}


def _settle_epoch(p: OnnParams, cfg: RunConfig, J, epochs: int, seed: int) -> tuple[int, int]:
    """(last epoch at which a spin changed + 1, final spins as int) of one model run."""
    st = onn.init_state(p, RunConfig(**{**cfg.__dict__, "seed": seed}), J.shape[0])
    c = RunConfig(**{**cfg.__dict__, "seed": seed})
    last, prev = 0, onn.spins(p, st.theta)
    for e in range(epochs):
        st = onn.epoch(p, c, J, st)
        s = onn.spins(p, st.theta)
        if not np.array_equal(s, prev):
            last = e + 1
        prev = s
    return last, prev


def measure_convergence(quick: bool = False, sim: str = "verilator") -> dict:
    """Epochs (and clocks, serial and parallel builds) until the spins stop changing for
    Max-Cut at default settings; ONN recall epochs until stable counted on the RTL."""
    from hdl.onn import OnnArray as _Arr  # noqa: F401  (the RTL engine builds it)
    from tb.common import run
    from tb.test_onn import OnnRuns

    rows = []
    E = 1000
    seeds = range(1, 5 if quick else 9)
    for n in ((16,) if quick else (16, 32, 64)):
        p = OnnParams(n=n)
        g, _ = _graph_couplings(p, n, 400 + n)
        cfg = maxcut.default_config(p, g.W, E)
        opt = maxcut.brute_force(g.W)[0] if n <= 20 else None
        settle, cuts = [], []
        for s in seeds:
            last, bits = _settle_epoch(p, cfg, -g.W, E, s)
            settle.append(last)
            cuts.append(int(maxcut.cut_value(g.W, bits)))
        med = float(np.median(settle))
        rows.append({"task": "maxcut", "n": n, "m": g.m, "epochs_run": E, "runs": len(settle),
                     "settle_epochs": settle, "settle_median": med,
                     "cycles_serial": med * epoch_cycles(OnnParams(n=n), Mode.OIM),
                     "cycles_parallel": med * epoch_cycles(OnnParams(n=n, with_parallel=True),
                                                           Mode.OIM),
                     "cuts": cuts, "optimum": opt})
    # ONN recall on the RTL: one stored pattern set, cues with 1/8 of the bits flipped
    p = OnnParams(n=16)
    rng = np.random.default_rng(11)
    pats = rng.integers(0, 2, size=(2, p.n))
    W = onn.hebbian(p, pats)
    cue = pats[0].copy()
    cue[rng.choice(p.n, size=2, replace=False)] ^= 1
    theta = onn.phases_from_spins(p, cue)
    cfg = RunConfig(mode=Mode.ONN, seed=1)
    r = run(OnnArray(p), toplevel=p.name, test_module="tb.test_onn", sim=sim,
            testcase="maxcut_runs",
            params=OnnRuns(p, tuple(map(tuple, W.tolist())), cfg, (1,), 50,
                           theta=tuple(int(v) for v in theta), until_stable=True))
    rec = r.data("runs")[0]
    model = onn.run(p, cfg, W, 50, theta=theta, until_stable=True)
    assert rec["epochs"] == model.t and rec["theta"] == [int(v) for v in model.theta]
    rows.append({"task": "onn_recall", "n": p.n, "epochs_until_stable": rec["epochs"],
                 "cycles_rtl": rec["cycles"], "cycles_per_epoch": epoch_cycles(p, Mode.ONN),
                 "recalled": bool(np.array_equal(rec["spins"], pats[0]))})
    return {"rows": rows}


def _ecp5_stat(p: OnnParams) -> dict:
    """``synth_ecp5`` of the bare array: cell counts (no place and route)."""
    from sim.synth import _read_verilog, _stat, synth_dir
    from tb.common.runner import convert

    top = p.name
    out = synth_dir(top)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{top}.v").write_text(convert(OnnArray(p), top))
    t0 = time.monotonic()
    run_yosys(f"{_read_verilog(top)}synth_ecp5 -top {top}\n"
              "tee -q -o ecp5_unit_stat.json stat -json\n", cwd=out, log_name="ecp5_unit.log")
    cells = _stat(out / "ecp5_unit_stat.json", top)
    return {"n": p.n, "cells": cells, "luts": cells.get("LUT4", 0),
            "ffs": sum(v for k, v in cells.items() if k.startswith("TRELLIS_FF")),
            "ebr": cells.get("DP16KD", 0) + cells.get("PDPW16KD", 0),
            "dsp": cells.get("MULT18X18D", 0), "seconds": round(time.monotonic() - t0, 1)}


def ecp5_scaling(ns=(8, 16, 32, 64)) -> dict:
    """ECP5 cells for several n; LUTs and flip-flops per cell (least squares on n) and the
    largest n that fits an ECP5-85F by LUTs, flip-flops and EBR."""
    rows = [_ecp5_stat(OnnParams(n=n)) for n in ns]
    x = np.array([r["n"] for r in rows], dtype=float)
    fit = {}
    for key in ("luts", "ffs"):
        y = np.array([r[key] for r in rows], dtype=float)
        slope, icpt = np.polyfit(x, y, 1)
        fit[key] = {"per_cell": float(slope), "fixed": float(icpt)}
    # LUT slope grows slightly with n (the theta_j broadcast mux, wider accumulators): fit the
    # last two points too and use the steeper slope for the limit.
    last = {k: (rows[-1][k] - rows[-2][k]) / (rows[-1]["n"] - rows[-2]["n"])
            for k in ("luts", "ffs")}
    lim = {}
    for key, cap in (("luts", ECP5_85F["luts"]), ("ffs", ECP5_85F["ffs"])):
        per = max(fit[key]["per_cell"], last[key])
        lim[key] = int((cap - max(fit[key]["fixed"], 0)) // per)
    # coupling memory: n words of n*weight_bits bits; DP16KD is 512 x 36 at most that wide
    wb = OnnParams().weight_bits
    n_ebr = max(n for n in range(2, 4097)
                if math.ceil(n * wb / 36) * math.ceil(n / 512) <= ECP5_85F["ebr"])
    lim["ebr"] = n_ebr
    return {"rows": rows, "fit": fit, "last_slope": last, "limits": lim,
            "n_max": min(lim.values()), "device": ECP5_85F}


def place_64(seeds=(1,)) -> dict:
    """nextpnr-ecp5 place and route of the 64-cell array (default params) on an ECP5-85F."""
    from sim.synth import place_ecp5

    p = OnnParams(n=64)
    t0 = time.monotonic()
    r = place_ecp5(OnnArray(p), p.name, seeds=seeds, device="85k")
    r["seconds"] = round(time.monotonic() - t0, 1)
    return r


def build_report(quick: bool = False, *, fpga: bool | None = None) -> dict:
    fpga = not quick if fpga is None else fpga
    t0 = time.monotonic()
    rep = {"command": COMMAND + (" --quick" if quick else ""),
           "epoch_cycles": {f"n={n}{' parallel' if par else ''}": {
               m.name: epoch_cycles(OnnParams(n=n, with_parallel=par), m) for m in Mode}
               for n, par in ((8, False), (8, True), (64, False), (1024, False))}}
    rep["toggles"] = [measure_toggles(OnnParams(n=8), epochs=10 if quick else 20)]
    if not quick:
        rep["toggles"].append(measure_toggles(OnnParams(n=8, with_parallel=True), epochs=20))
        rep["toggles"].append(measure_toggles(OnnParams(n=16), epochs=20))
    rep["convergence"] = measure_convergence(quick)
    if fpga:
        rep["ecp5_scaling"] = ecp5_scaling()
        rep["ecp5_64"] = place_64()
    rep["seconds"] = round(time.monotonic() - t0, 1)
    return rep


def _g(x, d=1):
    return "-" if x is None else f"{x:.{d}f}" if isinstance(x, float) else str(x)


def render_markdown(rep: dict) -> str:
    L = [f"Command: `{rep['command']}` ({rep['seconds']:.0f} s)", "",
         "Clocks per epoch (`hdl.onn.epoch_cycles`, checked against the CYCLES register):", "",
         "| array | ONN | OIM | KURAMOTO |", "|---|---|---|---|"]
    for k, v in rep["epoch_cycles"].items():
        L.append(f"| {k} | {v['ONN']} | {v['OIM']} | {v['KURAMOTO']} |")
    L += ["", "Switching activity (power proxy, OIM Max-Cut epochs, Verilator):", "",
          "| array | epochs | clocks/epoch | RTL toggles / cell-epoch | gate toggles / "
          "cell-epoch | gate-level compute pJ / cell-epoch (proxy) |",
          "|---|---|---|---|---|---|"]
    for t in rep["toggles"]:
        L.append(f"| n={t['n']}{' parallel' if t['parallel'] else ''} | {t['epochs']} | "
                 f"{t['cycles_per_epoch']} | {t['rtl_toggles_per_cell_epoch']:.0f} | "
                 f"{t['gate_toggles_per_cell_epoch']:.0f} | {t['pj_per_cell_epoch']:.2f} |")
    L += ["", "Convergence (Max-Cut: last epoch at which a spin changed, model = RTL; "
          "ONN: counted on the RTL):", "",
          "| task | n | runs | settle epochs (median; all) | clocks serial | clocks parallel | "
          "cuts (optimum) |", "|---|---|---|---|---|---|---|"]
    for r in rep["convergence"]["rows"]:
        if r["task"] == "maxcut":
            L.append(f"| Max-Cut G(n,1/2) | {r['n']} | {r['runs']} | {r['settle_median']:.0f};"
                     f" {r['settle_epochs']} | {r['cycles_serial']:.0f} | "
                     f"{r['cycles_parallel']:.0f} | {r['cuts']} ({_g(r['optimum'])}) |")
        else:
            L.append(f"| ONN recall (2 patterns, 2 bits flipped) | {r['n']} | 1 | "
                     f"{r['epochs_until_stable']} (until stable) | {r['cycles_rtl']} (RTL) | - |"
                     f" recalled: {r['recalled']} |")
    if "ecp5_scaling" in rep:
        sc = rep["ecp5_scaling"]
        L += ["", "ECP5 `synth_ecp5` of the bare array (default params, serial):", "",
              "| n | LUT4 | flip-flops | EBR (DP16KD) | MULT18X18D | yosys s |",
              "|---|---|---|---|---|---|"]
        for r in sc["rows"]:
            L.append(f"| {r['n']} | {r['luts']} | {r['ffs']} | {r['ebr']} | {r['dsp']} | "
                     f"{r['seconds']} |")
        f = sc["fit"]
        L += ["", f"Per cell: {f['luts']['per_cell']:.0f} LUT4 (fit; {sc['last_slope']['luts']:.0f}"
              f" between the last two sizes), {f['ffs']['per_cell']:.0f} flip-flops. "
              f"ECP5-85F limits: {sc['limits']['luts']} cells by LUTs, {sc['limits']['ffs']} by "
              f"flip-flops, {sc['limits']['ebr']} by EBR -> **largest n ~ {sc['n_max']}** "
              "(extrapolated, not placed)."]
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
    ap = argparse.ArgumentParser(prog="python -m sim.onn_report")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-fpga", action="store_true")
    ap.add_argument("--out", default=str(BUILD / "report"))
    args = ap.parse_args(argv)
    rep = build_report(args.quick, fpga=False if args.no_fpga else None)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    md = render_markdown(rep)
    (out / "onn.md").write_text(md)
    (out / "onn.json").write_text(json.dumps(rep, indent=1, default=str) + "\n")
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())

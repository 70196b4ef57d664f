"""``picojoule sweep``: design-space sweeps, every point a simulated, checked design.

    picojoule sweep imc  --rows 16,32,64 --cols 4,16 --bw 4,8 --ba 4,8 [--liberty FILE] [--json]
    picojoule sweep lmul --formats e4m3,e5m2,bf16 --kinds lmul,fpmul [--liberty FILE] [--json]
    picojoule sweep onn  --n 8,16 --phase-bits 8,12 --weight-bits 3,5 [--liberty FILE] [--json]
    picojoule sweep maxcut --nodes 40 --seeds 1:16 [--epochs 200]   (the model, no RTL)

Each RTL point is built from its params, checked against its golden model on the RTL, then
measured on the standard-cell library by the energy engine (``sim.power.engine.measure_cells``,
zero-delay activity of the mapped netlist, its results' digest equal to the RTL's): energy
per operation (per MAC for the IMC tile, per multiply, per cell-epoch for the oscillator
array), area (um^2 of cells) and Fmax (OpenSTA on the mapped netlist), plus cycles per
operation from the RTL. Points run as Dask tasks (:mod:`sim.tasks`): a LocalCluster, or
``--scheduler ADDRESS`` / ``PICOJOULE_SCHEDULER``. Output: a table, ``--json``, and
``sweep-<unit>.{md,json,png}`` (the PNG: energy against area, the Pareto front marked) under
``build/report/``. A point that fails is a row saying why, and the command exits 1 naming it.
"""

import itertools
import json
import sys
from pathlib import Path

from .flow.toolchain import BUILD, ToolError
from .tasks import cluster, failed_line, run_points

__all__ = ["imc_point", "lmul_point", "onn_point", "maxcut_point", "parse_ints", "parse_names",
           "pareto", "add_sweep_parser", "sweep"]


# ------------------------------------------------------------------------------ ranges
def parse_ints(option: str, text: str | None) -> list[int]:
    """``16,32,64`` or ``1:8`` (inclusive) to integers; one-line errors name the option."""
    text = (text or "").strip()
    if not text:
        raise ToolError(f"{option} is empty: give a comma list such as 16,32,64 or a range 1:8")
    out = []
    for part in text.split(","):
        part = part.strip()
        try:
            if ":" in part:
                lo, hi = (int(x) for x in part.split(":"))
                if hi < lo:
                    raise ToolError(f"{option}: range {part!r} is empty (end before start)")
                out += range(lo, hi + 1)
            else:
                out.append(int(part))
        except ValueError:
            raise ToolError(f"{option}: {part!r} is not an integer or a range lo:hi "
                            f"(in {text!r})") from None
    return list(dict.fromkeys(out))


def parse_names(option: str, text: str | None, choices) -> list[str]:
    names = [p.strip() for p in (text or "").split(",") if p.strip()]
    if not names:
        raise ToolError(f"{option} is empty: choose from {', '.join(choices)}")
    bad = [n for n in names if n not in choices]
    if bad:
        raise ToolError(f"{option}: unknown {bad[0]!r}; choose from {', '.join(choices)}")
    return list(dict.fromkeys(names))


# ------------------------------------------------------------------------------ points
def _cells(top: str, factory, workload, *, liberty, sim: str) -> dict:
    from .power.engine import measure_cells

    res = measure_cells(top, factory, workload, liberty=liberty, timings=("zero",), sim=sim)
    mode = res["modes"]["zero"]
    return {"pj_per_op": mode["pj_per_op"], "ops": mode["ops"], "area_um2": res["area_um2"],
            "cells": res["cells"], "fmax_mhz": res["timing"]["fmax_mhz"],
            "critical_path_ns": res["timing"]["critical_path_ns"], "library": res["library"]}


def imc_point(rows: int, cols: int, bw: int, ba: int, liberty=None, sim: str = "verilator",
              vectors: int = 8) -> dict:
    """One IMC tile: products against the numpy model and cycles per product (ba-bit
    activations) on the RTL, then pJ per MAC, area and Fmax on the cells."""
    from hdl.imc import ImcParams, ImcTile
    from sim.imc.bench import ImcCheck, ImcPower, unit_id
    from sim.power.workloads import Workload
    from sim.rtl import run

    p = ImcParams(rows=rows, cols=cols, w_bits=bw, a_bits=ba)
    top = f"imc_{unit_id(p)}"
    r = run(ImcTile(p), toplevel=top, test_module="sim.imc.bench", sim=sim,
            testcase="check_products,check_timing", params=ImcCheck(p, "tile", batches=2, ops=2))
    rec, timing = r.data("products"), r.data("timing")[str(ba)]
    if rec["mismatches"]:
        raise AssertionError(f"{top}: {rec['mismatches']} products differ from the model")
    cells = _cells(top, lambda: ImcTile(p),
                   Workload("sim.imc.bench", "power_products", ImcPower(p, vectors=vectors)),
                   liberty=liberty, sim=sim)
    # The bench measures cycles per matrix-vector product (rows x cols MACs) at ba bits.
    return {"unit": top, "rows": rows, "cols": cols, "bw": bw, "ba": ba,
            "checked": rec["products"], "cycles_per_product": timing["cycles_per_op"],
            "latency": timing["latency"], "op": "MAC", **cells}


def lmul_point(fmt: str, kind: str, liberty=None, sim: str = "verilator", ops: int = 1000) -> dict:
    """One multiplier: specials and random pairs against the model (bulk harness), then pJ
    per multiply, area and Fmax (combinational: one product per clock)."""
    from hdl.float import FORMATS
    from hdl.lmul import MULTIPLIERS
    from sim.energy.units import unit_workload
    from sim.lmul.bench import MulCheck, run_check

    name = f"{kind}_{fmt}"
    r = run_check(MULTIPLIERS[kind](FORMATS[fmt]), toplevel=name, sim=sim,
                  check=MulCheck(FORMATS[fmt], kind, vectors="specials+random", n_random=5000))
    rec = r.data("check")
    cells = _cells(name, lambda: MULTIPLIERS[kind](FORMATS[fmt]),
                   unit_workload(name, ops=ops, seed=1), liberty=liberty, sim=sim)
    unit = MULTIPLIERS[kind]
    return {"unit": name, "format": fmt, "kind": kind, "checked": rec["pairs"],
            "cycles_per_op": 1, "latency": unit.LATENCY, "op": "multiply", **cells}


def onn_point(n: int, phase_bits: int, weight_bits: int, liberty=None, sim: str = "verilator",
              epochs: int = 4) -> dict:
    """One oscillator array: Max-Cut on the RTL cut for cut equal to the model, clocks per
    epoch, then pJ per cell-epoch, area and Fmax."""
    import numpy as np

    from hdl.onn import Mode, OnnArray, OnnParams, epoch_cycles
    from sim.onn.graphs import random_graph
    from sim.onn.report import power_runs
    from sim.onn.solvers import solve_oim, solve_rtl
    from sim.power.workloads import Workload

    p = OnnParams(n=n, phase_bits=phase_bits, lut_bits=min(8, phase_bits),
                  weight_bits=weight_bits)
    g = random_graph(n, n * (n - 1) // 4, 300 + n, (1,))
    seeds = (1, 2)
    model, _, cfg = solve_oim(p, g, 20, seeds)
    rtl, *_ = solve_rtl(p, g, 20, seeds, cfg=cfg, sim=sim)
    if not np.array_equal(model, rtl):
        raise AssertionError(f"{p.name}: RTL cuts {rtl.tolist()} differ from the model's "
                             f"{model.tolist()}")
    cells = _cells(p.name, lambda: OnnArray(p),
                   Workload("sim.onn.bench", "power_epochs", power_runs(p, epochs=epochs)),
                   liberty=liberty, sim=sim)
    return {"unit": p.name, "n": n, "phase_bits": phase_bits, "weight_bits": weight_bits,
            "checked": len(seeds), "cycles_per_op": epoch_cycles(p, Mode.OIM) / n,
            "latency": epoch_cycles(p, Mode.OIM), "op": "cell-epoch", **cells}


def maxcut_point(nodes: int, density: float, graph_seed: int, seed: int, epochs: int) -> dict:
    """One Max-Cut run of the array's model (OIM mode) on a seeded random graph."""
    from sim.onn.graphs import random_graph
    from sim.onn.solvers import array_params, solve_oim

    m = int(round(density * nodes * (nodes - 1) / 2))
    g = random_graph(nodes, m, graph_seed, (1,))
    cuts, bits, _ = solve_oim(array_params(max(nodes, 2)), g, epochs, [seed])
    return {"nodes": nodes, "edges": m, "seed": seed, "epochs": epochs, "cut": int(cuts[0]),
            "assignment": bits[0].tolist()}


# ------------------------------------------------------------------------------ sweep
def pareto(rows: list[dict], keys=("pj_per_op", "area_um2")) -> list[bool]:
    """Whether each row is on the Pareto front (no other row at most as large in every key
    and smaller in one); rows without the figures are not."""
    ok = [all(isinstance(r.get(k), (int, float)) for k in keys) for r in rows]
    front = []
    for i, r in enumerate(rows):
        if not ok[i]:
            front.append(False)
            continue
        dominated = any(ok[j] and all(rows[j][k] <= r[k] for k in keys)
                        and any(rows[j][k] < r[k] for k in keys)
                        for j in range(len(rows)) if j != i)
        front.append(not dominated)
    return front


def _points(unit: str, args) -> tuple[object, dict, list[str]]:
    """(task function, {name: args}, parameter columns) of a sweep."""
    lib, sim = args.liberty, args.sim
    if unit == "imc":
        grid = itertools.product(parse_ints("--rows", args.rows), parse_ints("--cols", args.cols),
                                 parse_ints("--bw", args.bw), parse_ints("--ba", args.ba))
        return imc_point, {f"imc {r}x{c} w{bw}a{ba}": (r, c, bw, ba, lib, sim)
                           for r, c, bw, ba in grid}, ["rows", "cols", "bw", "ba"]
    if unit == "lmul":
        from hdl.float import FORMATS
        from hdl.lmul import MULTIPLIERS

        grid = itertools.product(parse_names("--formats", args.formats, list(FORMATS)),
                                 parse_names("--kinds", args.kinds, list(MULTIPLIERS)))
        return lmul_point, {f"{k}_{f}": (f, k, lib, sim) for f, k in grid}, ["kind", "format"]
    if unit == "onn":
        grid = itertools.product(parse_ints("--n", args.n),
                                 parse_ints("--phase-bits", args.phase_bits),
                                 parse_ints("--weight-bits", args.weight_bits))
        return onn_point, {f"onn n={n} phase{pb} w{wb}": (n, pb, wb, lib, sim)
                           for n, pb, wb in grid}, ["n", "phase_bits", "weight_bits"]
    if unit == "maxcut":
        nodes = parse_ints("--nodes", str(args.nodes))
        if len(nodes) != 1 or nodes[0] < 2:
            raise ToolError(f"--nodes: one graph size of at least 2, not {args.nodes!r}")
        nodes = nodes[0]
        if not 0 < args.density <= 1:
            raise ToolError(f"--density must be in (0, 1], not {args.density!r}")
        return maxcut_point, {f"maxcut seed {s}": (nodes, args.density, args.graph_seed, s,
                                                   args.epochs)
                              for s in parse_ints("--seeds", args.seeds)}, ["seed"]
    raise ToolError(f"unknown sweep {unit!r}; choose one of: imc, lmul, onn, maxcut")


def _rows(outcomes, columns) -> list[dict]:
    rows = []
    for name, o in outcomes.items():
        row = {"point": name, "status": "ok" if o.ok else f"FAILED: {o.error}",
               "worker": o.worker}
        if o.ok:
            row.update(o.value)
        rows.append(row)
    for row, front in zip(rows, pareto(rows)):
        row["pareto"] = front
    return rows


_FIGURES = (("pj_per_op", "pJ/op", "{:.4g}"), ("cycles_per_op", "cycles/op", "{:g}"),
            ("cycles_per_product", "cycles/product", "{:g}"),
            ("area_um2", "area um^2", "{:,.0f}"), ("fmax_mhz", "Fmax MHz", "{:.1f}"),
            ("cut", "cut", "{}"))


def render_markdown(unit: str, rows: list[dict], columns) -> str:
    figs = [f for f in _FIGURES if any(f[0] in r for r in rows)]
    head = ["point", *columns, *(f[1] for f in figs), "Pareto", "status"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["point"], *(str(r.get(c, "")) for c in columns)]
        cells += [fmt.format(r[k]) if k in r else "-" for k, _, fmt in figs]
        cells += ["yes" if r.get("pareto") else "", r["status"]]
        lines.append("| " + " | ".join(cells) + " |")
    op = next((r["op"] for r in rows if "op" in r), None)
    note = f"\nEnergy per {op}; `picojoule sweep {unit}` regenerates this table.\n" if op else ""
    return "\n".join(lines) + "\n" + note


def write_plot(unit: str, rows: list[dict], path: Path) -> Path | None:
    """Energy per operation against area, the Pareto front joined; None without figures."""
    pts = [r for r in rows if "pj_per_op" in r and "area_um2" in r]
    if not pts:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    ax.scatter([r["area_um2"] for r in pts], [r["pj_per_op"] for r in pts], c="tab:gray")
    front = sorted((r for r in pts if r["pareto"]), key=lambda r: r["area_um2"])
    ax.plot([r["area_um2"] for r in front], [r["pj_per_op"] for r in front], "o-",
            c="tab:red", label="Pareto front")
    for r in pts:
        ax.annotate(r["point"], (r["area_um2"], r["pj_per_op"]), fontsize=7)
    ax.set_xlabel("area (um^2, standard cells)")
    ax.set_ylabel(f"energy per {pts[0]['op']} (pJ)")
    ax.set_title(f"picojoule sweep {unit}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def sweep(args) -> int:
    unit = args.unit
    fn, points, columns = _points(unit, args)
    if args.liberty and not Path(args.liberty).is_file():
        raise ToolError(f"--liberty: no file {args.liberty}")
    say = (lambda s: print(s, file=sys.stderr, flush=True)) if args.json else \
        (lambda s: print(s, flush=True))
    say(f"sweep {unit}: {len(points)} points")
    with cluster(args.scheduler, workers=args.workers, log=say) as client:
        outcomes = run_points(client, fn, points, log=say)
    rows = _rows(outcomes, columns)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    md = render_markdown(unit, rows, columns)
    (out / f"sweep-{unit}.md").write_text(md)
    (out / f"sweep-{unit}.json").write_text(json.dumps(rows, indent=1, default=str) + "\n")
    plot = write_plot(unit, rows, out / f"sweep-{unit}.png")
    if args.json:
        print(json.dumps(rows, indent=1, default=str))
    else:
        print(md)
        print(f"wrote {out / f'sweep-{unit}.md'}, {out / f'sweep-{unit}.json'}"
              + (f", {plot}" if plot else ""))
    problem = failed_line(outcomes)
    if problem:
        raise ToolError(problem)
    return 0


def add_sweep_parser(sub) -> None:
    p = sub.add_parser("sweep", help="design-space sweep on the RTL as Dask tasks: table, "
                       "JSON, Pareto plot")
    p.add_argument("unit", help="imc, lmul, onn, maxcut")
    p.add_argument("--rows", default="16,32,64", help="imc: tile rows (comma list or lo:hi)")
    p.add_argument("--cols", default="4,16", help="imc: tile columns")
    p.add_argument("--bw", default="8", help="imc: weight bits")
    p.add_argument("--ba", default="8", help="imc: activation bits")
    p.add_argument("--formats", default="e4m3,e5m2,bf16", help="lmul: formats")
    p.add_argument("--kinds", default="lmul,fpmul", help="lmul: lmul, fpmul")
    p.add_argument("--n", default="8,16", help="onn: cells")
    p.add_argument("--phase-bits", default="12", help="onn: phase bits")
    p.add_argument("--weight-bits", default="5", help="onn: weight bits")
    p.add_argument("--nodes", default="40", help="maxcut: graph nodes")
    p.add_argument("--density", type=float, default=0.5, help="maxcut: edge density")
    p.add_argument("--graph-seed", type=int, default=1, help="maxcut: graph seed")
    p.add_argument("--seeds", default="1:8", help="maxcut: run seeds")
    p.add_argument("--epochs", type=int, default=200, help="maxcut: epochs per run")
    p.add_argument("--liberty", default=None, help="liberty file (default: OSU 0.18 um)")
    p.add_argument("--sim", default="verilator", help="verilator or icarus")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="Dask scheduler (default: PICOJOULE_SCHEDULER, else a local cluster)")
    p.add_argument("--workers", type=int, default=None,
                   help="local cluster worker processes (default: the cores)")
    p.add_argument("--out", default=str(BUILD / "report"), help="output folder")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.set_defaults(func=sweep)

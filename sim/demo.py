"""What ``make sim`` (``picojoule sim``) runs, and the per-unit reports of ``picojoule report``.

Each step simulates real RTL through the one runner (``sim/rtl/runner.py``) with the same
cocotb checks the regression uses, and prints what it verified and measured.
"""

import time

from rich.table import Table

from hdl.float import FORMATS
from hdl.ldot import DotParams, DotUnit
from hdl.lmul import MULTIPLIERS
from sim.flow.toolchain import ToolError
from sim.power.engine import NETLIST_SIM
from sim.rtl import run

__all__ = ["run_all", "REPORTS"]


def _multipliers(console, sim: str, quick: bool) -> Table:
    from sim.lmul.bench import MulCheck, run_check

    table = Table(title=f"L-Mul and exact multipliers vs golden model ({sim})")
    for col in ("unit", "operand pairs", "mismatches", "wall s"):
        table.add_column(col, justify="right" if col != "unit" else "left")
    for kind, cls in MULTIPLIERS.items():
        for name, fmt in FORMATS.items():
            if quick:
                check = MulCheck(fmt, kind, vectors="specials+random", n_random=5_000)
            elif fmt.width <= 8:
                check = MulCheck(fmt, kind, vectors="exhaustive")
            else:
                check = MulCheck(fmt, kind, vectors="specials+random", n_random=100_000)
            console.print(f"  simulating {kind}_{name} ...")
            t0 = time.monotonic()
            r = run_check(cls(fmt), toplevel=f"{kind}_{name}", sim=sim, check=check)
            rec = r.data("check")
            table.add_row(f"{kind}_{name}", f"{rec['pairs']:,}", str(rec["mismatches"]),
                          f"{time.monotonic() - t0:.1f}")
    return table


def _dot_units(console, sim: str, quick: bool) -> Table:
    from sim.lmul.dot_bench import DotCheck

    table = Table(title=f"Dot-product units (8 lanes, fp32 accumulator) vs golden model ({sim})")
    for col in ("unit", "vectors", "chunks", "mismatches", "chunks/clock", "latency"):
        table.add_column(col, justify="right" if col != "unit" else "left")
    for fmt in ("e4m3", "e5m2"):
        for kind in MULTIPLIERS:
            p = DotParams(FORMATS[fmt], lanes=8, kind=kind)
            console.print(f"  simulating {p.name} ...")
            r = run(DotUnit(p), toplevel=p.name, test_module="sim.lmul.dot_bench", sim=sim,
                    testcase="check_vectors,check_throughput",
                    params=DotCheck(p, n_random=20 if quick else 100))
            v, t = r.data("vectors"), r.data("throughput")
            table.add_row(p.name, str(v["vectors"]), str(v["chunks"]), str(v["mismatches"]),
                          f"{t['chunks'] / t['accept_cycles']:.2f}", str(int(t["latency"])))
    return table


def _lmul_measurements(rep: dict) -> Table:
    """Accuracy claims and area, from the quick L-Mul report (full: `picojoule report lmul`)."""
    table = Table(title="L-Mul vs the paper's claims (quick samples; full: picojoule report lmul)")
    for col in ("claim / figure", "population", "L-Mul", "fp8 / exact", "holds"):
        table.add_column(col, justify="left" if col in ("claim / figure", "population")
                         else "right")
    for c in rep["claims"]:
        if c["lmul"].startswith("bf16"):
            continue
        table.add_row(c["claim"], c["population"], f"{c['lmul_mean_pct']:.2f}% ({c['lmul']})",
                      f"{c['fp8_mean_pct']:.2f}% ({c['fp8']})", "yes" if c["holds"] else "NO")
    by = {a["unit"]: a for a in rep["area"]}
    for fmt in FORMATS:
        lm, fp = by.get(f"lmul_{fmt}"), by.get(f"fpmul_{fmt}")
        if lm and fp:
            table.add_row(f"area {fmt}: generic gates (GE2), iCE40 LCs", "Yosys / nextpnr UP5K",
                          f"{lm['generic']['ge2']} GE2, {lm['ice40']['lc']} LC",
                          f"{fp['generic']['ge2']} GE2, {fp['ice40']['lc']} LC",
                          f"{lm['generic']['ge2'] / fp['generic']['ge2']:.2f}x")
    return table


def _lmul_mul_energy(*, quick: bool, sim: str = NETLIST_SIM) -> list[dict]:
    """L-Mul vs exact multipliers on the standard-cell library, both activity modes."""
    from .lmul.energy import measure_pairs

    return measure_pairs(ops=1000 if quick else 2000, sim=sim, log=lambda _: None)


def _lmul_dot_energy(*, quick: bool, sim: str = NETLIST_SIM) -> list[dict]:
    """L-Mul vs exact dot-product units on the standard-cell library, both activity modes."""
    from .lmul.energy import DOT_FMTS, measure_pairs

    return measure_pairs(fmts=DOT_FMTS, dot=True, ops=512 if quick else 1024, sim=sim,
                         log=lambda _: None)


def measure_lmul_energy(*, quick: bool, sim: str = NETLIST_SIM) -> dict:
    """L-Mul vs exact on the standard-cell library (sim.lmul.energy): multipliers and
    dot-product units, zero-delay and SDF-annotated activity."""
    return {"multiply": _lmul_mul_energy(quick=quick, sim=sim),
            "dot": _lmul_dot_energy(quick=quick, sim=sim)}


def energy_table(data: dict, title: str) -> Table:
    from .lmul.energy import PAPER_SAVING, savings

    table = Table(title=title)
    for col in ("L-Mul unit", "vs exact", "activity", "transitions/op", "pJ/op", "saving",
                "paper"):
        table.add_column(col, justify="left" if col in ("L-Mul unit", "vs exact", "activity")
                         else "right")
    for pair in data["multiply"] + data["dot"]:
        s = savings(pair)
        for mode in ("zero", "sdf"):
            if mode not in s:
                continue
            m = s[mode]
            table.add_row(pair["lmul"]["unit"], pair["exact"]["unit"],
                          "zero-delay" if mode == "zero" else "SDF (glitches)",
                          f"{m['lmul_transitions']:.1f} / {m['exact_transitions']:.1f}",
                          f"{m['lmul_pj']:.3f} / {m['exact_pj']:.3f}", f"{m['saving']:.0%}",
                          f"{PAPER_SAVING[pair['op']]:.0%}")
    return table


def _lmul_energy(data: dict, sim: str) -> Table:
    lib = data["multiply"][0]["lmul"]["library"] if data["multiply"] else "liberty"
    return energy_table(data, f"L-Mul energy on {lib} (standard cells; zero-delay on {sim}, "
                              "SDF-annotated on Icarus; per multiply / per MAC)")


def _imc(console, sim: str, quick: bool) -> Table:
    """The IMC tile and its baseline (8x4 and the default 64x16) against the numpy model."""
    from hdl.imc import ImcBaseline, ImcParams, ImcTile
    from sim.imc.bench import ImcCheck, unit_id

    table = Table(title=f"In-memory-compute tile vs von Neumann baseline ({sim})")
    for col in ("unit", "config", "products", "mismatches", "cycles/product (ba=8)",
                "latency (ba=8)"):
        table.add_column(col, justify="left" if col in ("unit", "config") else "right")
    for p in (ImcParams(rows=8, cols=4), ImcParams()):
        for name, cls in (("tile", ImcTile), ("baseline", ImcBaseline)):
            console.print(f"  simulating {name} {p.rows}x{p.cols} ...")
            top = f"{'imc' if name == 'tile' else 'vn'}_{unit_id(p)}"
            r = run(cls(p), toplevel=top, test_module="sim.imc.bench", sim=sim,
                    testcase="check_products,check_timing",
                    params=ImcCheck(p, name, batches=4 if quick else 6, ops=3))
            rec, timing = r.data("products"), r.data("timing")
            t = timing[str(p.a_bits)]
            table.add_row(name, f"{p.rows}x{p.cols} w{p.w_bits}a{p.a_bits}",
                          str(rec["products"]), str(rec["mismatches"]),
                          f"{t['cycles_per_op']:g}", f"{t['latency']:g}")
    return table


def _imc_energy(rep: dict) -> Table:
    """Tile vs baseline pJ per MAC on the standard-cell library from the quick IMC report
    (8x4; 64x16 in docs/imc.md), the proxy's ratio beside it as the fast path."""
    e = rep["liberty"][0]
    p = e["params"]
    proxy = {(x["params"]["rows"], x["params"]["cols"]): x for x in rep.get("energy", [])}
    px = proxy.get((p["rows"], p["cols"]))
    table = Table(title=f"IMC energy per MAC, {p['rows']}x{p['cols']} tile vs baseline, "
                        f"standard cells ({e['library']}, zero-delay on {e['sim']}; quick: "
                        "64x16 in docs/imc.md, picojoule report imc)")
    for col in ("workload", "tile pJ/MAC", "baseline pJ/MAC (all in cells)",
                "baseline pJ/MAC (weights in SRAM)", "tile / baseline (cells)",
                "tile / baseline (SRAM)", "proxy tile / SRAM baseline (fast path)"):
        table.add_column(col, justify="left" if col == "workload" else "right")
    for name, r in e["ratios"].items():
        tot = e["totals"][name]
        pr = px["ratios"].get(name, {}).get("sram") if px else None
        table.add_row(name, f"{tot['all_in_cells'][0]:.3g}", f"{tot['all_in_cells'][1]:.3g}",
                      f"{tot['sram_table'][1]:.3g}", f"{r['cells']:.3f}",
                      f"{r['sram_table']:.3f}", f"{pr['total']:.3f}" if pr else "-")
    return table


def _soc(console, sim: str, quick: bool) -> Table:
    """Firmware demos on the SoC (sim/soc/report.py): results vs golden models, cycles and an
    energy estimate; writes build/report/soc.{md,json,png}."""
    from .flow.toolchain import BUILD
    from .soc.report import LIBERTY_EVENTS, LIBRARY, run_demos, summary_rows, write_report
    from .soc.rtl import SIM_PARAMS

    runs = run_demos(sim=sim, quick=quick, measure=False, log=console.print)
    rows = summary_rows(runs, SIM_PARAMS)
    paths = write_report(rows, SIM_PARAMS, BUILD / "report")
    events = [runs[0].model[k][1] for k in LIBERTY_EVENTS if k in runs[0].model] if runs else []
    cells = sum(src.startswith(LIBRARY) for src in events)
    priced = (f"{cells} of {len(events)} parts on standard cells, the rest table estimates "
              f"until `picojoule report soc` measures them" if cells < len(events)
              else "parts on standard cells")
    table = Table(title=f"SoC firmware demos on {sim} ({SIM_PARAMS.name}, "
                        f"{SIM_PARAMS.clk_hz / 1e6:g} MHz nominal; energy per run: {priced}; "
                        f"see {paths[0]})")
    for col in ("task", "result", "cycles", "time", "energy", "core / accel / mem / bus",
                "off-chip copper / CPO"):
        table.add_column(col, justify="left" if col in ("task", "result") else "right")
    for r in rows:
        b = r["breakdown_uj"]
        acc = sum(v for k, v in b.items() if k not in ("core", "memories", "bus"))
        table.add_row(r["task"], r["result"], f"{r['cycles']:,}", f"{r['time_us']:.0f} us",
                      f"{r['energy_uj']:.2f} uJ",
                      f"{b['core']:.2f} / {acc:.3f} / {b['memories']:.2f} / {b['bus']:.2f}",
                      f"{r['offchip_copper_uj']:.1f} / {r['offchip_cpo_uj']:.1f} uJ")
    if not all(r["ok"] for r in rows):
        raise AssertionError("a SoC demo differs from its golden model: "
                             + "; ".join(r["task"] for r in rows if not r["ok"]))
    return table


#: ``make sim``'s measurements besides the simulation steps (always the quick reports): one
#: task each. They share nothing with the simulation steps but the locked build folders.
_MEASUREMENTS = {"lmul_dot": "L-Mul dot-product energy", "lmul_mul": "L-Mul multiplier energy",
                 "imc_energy": "IMC energy", "lmul": "L-Mul accuracy and area"}

#: The simulation steps, one task per step and simulator.
_STEPS = {"multipliers": _multipliers, "dot-product units": _dot_units,
          "in-memory-compute tile": _imc, "SoC firmware demos": _soc}


def sim_task(kind: str, what: str, sim: str, quick: bool):
    """One task of ``make sim`` (run on a Dask worker): a simulation step's table, or a
    measurement's result; the step's own progress lines stay on the worker."""
    import io

    from rich.console import Console

    if kind == "step":
        return _STEPS[what](Console(file=io.StringIO()), sim, quick)
    if what == "lmul":
        from .lmul.report import build_report

        return build_report(quick=True)
    if what == "imc_energy":
        from .imc.report import build_report

        return build_report(quick=True)
    if what == "lmul_mul":
        return _lmul_mul_energy(quick=True)
    if what == "lmul_dot":
        return _lmul_dot_energy(quick=True)
    raise ValueError(f"no make-sim task {kind} {what!r}")


def run_all(console, *, sims, quick: bool = False, scheduler: str | None = None,
            workers: int | None = None) -> int:
    """Every step of ``make sim`` as Dask tasks (:mod:`sim.tasks`: a LocalCluster of one
    process per core, or the cluster at ``scheduler`` / ``PICOJOULE_SCHEDULER``): the
    simulation steps on each simulator and the L-Mul/IMC measurements (Yosys, nextpnr,
    gate-level simulation). One progress line per finished task; the tables follow in step
    order. A failed task's table is missing and the command ends with one line naming it."""
    from .onn.report import sim_summary
    from .tasks import cluster, failed_line, run_points

    t0 = time.monotonic()
    points = {what: ("measure", what, sims[0], quick) for what in _MEASUREMENTS}
    points.update({f"{what} on {sim}": ("step", what, sim, quick)
                   for sim in sims for what in _STEPS})
    console.print(f"picojoule sim: {len(points)} tasks ({len(_STEPS)} simulation steps x "
                  f"{len(sims)} simulators, {len(_MEASUREMENTS)} measurements)")
    with cluster(scheduler, workers=workers, log=console.print) as client:
        out = run_points(client, sim_task, points, log=console.print)
    sec = {name: o.seconds for name, o in out.items()}
    for name, o in out.items():
        if o.ok and name not in _MEASUREMENTS:
            console.print(f"{name} ({sec[name]:.0f} s)")
            console.print(o.value)
    data = {k: out[k].value for k in _MEASUREMENTS if out[k].ok}
    if "lmul" in data:
        console.print(f"L-Mul accuracy and area (golden models, Yosys, nextpnr; "
                      f"{sec['lmul']:.0f} s)")
        console.print(_lmul_measurements(data["lmul"]))
    if "lmul_mul" in data and "lmul_dot" in data:
        console.print(f"L-Mul energy (standard-cell netlists, zero-delay and SDF; "
                      f"multipliers {sec['lmul_mul']:.0f} s, dot units {sec['lmul_dot']:.0f} s)")
        console.print(_lmul_energy({"multiply": data["lmul_mul"], "dot": data["lmul_dot"]},
                                   NETLIST_SIM))
    if "imc_energy" in data:
        console.print(f"IMC energy, 8x4 tile vs baseline (standard cells; the 64x16 "
                      f"figures: picojoule report imc; {sec['imc_energy']:.0f} s)")
        console.print(_imc_energy(data["imc_energy"]))
    console.print("oscillator array: convergence (golden model, ~1 s)")
    console.print(sim_summary())
    console.print(f"picojoule sim: done in {time.monotonic() - t0:.0f} s; "
                  "builds and logs under build/sim/, reports under build/report/")
    problem = failed_line(out)
    if problem:
        raise ToolError(problem)
    return 0


def report_task(report, quick: bool) -> tuple[str, dict[str, bytes]]:
    """One report of ``picojoule report`` (``report(console, quick=, out=)``, one of
    :data:`REPORTS`) as a Dask task: run in a folder of its own on the worker; returns what
    it printed and the files it wrote (name -> bytes), for the caller to print and write where
    it was asked (a cluster's workers need not share its disk)."""
    import contextlib
    import io
    import tempfile
    from pathlib import Path

    from rich.console import Console

    text = io.StringIO()
    with tempfile.TemporaryDirectory(prefix=f"pj-{report.__name__}-") as tmp, \
            contextlib.redirect_stdout(text):
        report(Console(file=text, width=120), quick=quick, out=Path(tmp))
        files = {str(f.relative_to(tmp)): f.read_bytes()
                 for f in sorted(Path(tmp).rglob("*")) if f.is_file()}
    return text.getvalue(), files


def run_reports(console, reports: dict, *, quick: bool, out, workers: int | None = None) -> int:
    """``picojoule report`` of several units (``{unit: report function}``): one Dask task
    each (:func:`report_task`), one progress line per finished report, then each report's
    output in the order asked and its files written to ``out``. A failed report is named in
    one line at the end."""
    from .tasks import cluster, failed_line, run_points

    points = {unit: (fn, quick) for unit, fn in reports.items()}
    with cluster(workers=workers, log=console.print) as client:
        got = run_points(client, report_task, points, log=console.print)
    out.mkdir(parents=True, exist_ok=True)
    for unit, o in got.items():
        if not o.ok:
            continue
        text, files = o.value
        print(text, end="")
        for name, data in files.items():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            (out / name).write_bytes(data)
        console.print(f"report {unit}: {len(files)} files in {out} ({o.seconds:.0f} s)")
    problem = failed_line(got)
    if problem:
        raise ToolError(problem)
    return 0


def report_lmul(console, *, quick: bool, out) -> None:
    """`picojoule report lmul`: every L-Mul measurement, as Markdown, JSON and PNG in ``out``."""
    import json

    from rich.markdown import Markdown

    from .lmul.energy import render_markdown as energy_markdown
    from .lmul.report import build_report, render_markdown, write_plots

    report = build_report(quick=quick)
    console.print("measuring energy on the standard-cell library (zero-delay and SDF) ...")
    report["energy"] = measure_lmul_energy(quick=quick)
    md = (render_markdown(report) + "\n\n## Energy (standard-cell library)\n\n"
          + energy_markdown(report["energy"]["multiply"], report["energy"]["dot"]))
    out.mkdir(parents=True, exist_ok=True)
    (out / "lmul.md").write_text(md)
    (out / "lmul.json").write_text(json.dumps(report, indent=1) + "\n")
    plots = write_plots(report, out)
    console.print(Markdown(md))
    console.print(f"wrote {out / 'lmul.md'}, {out / 'lmul.json'}, "
                  + ", ".join(str(p) for p in plots))


def report_imc(console, *, quick: bool, out) -> None:
    """`picojoule report imc`: tile vs baseline energy per MAC (and FPGA tables unless quick)."""
    import json

    from rich.markdown import Markdown

    from .imc.report import build_report, render_markdown

    report = build_report(quick)
    md = render_markdown(report)
    out.mkdir(parents=True, exist_ok=True)
    (out / "imc.md").write_text(md)
    (out / "imc.json").write_text(json.dumps(report, indent=1, default=str) + "\n")
    console.print(Markdown(md))
    console.print(f"wrote {out / 'imc.md'}, {out / 'imc.json'}")


def report_onn(console, *, quick: bool, out) -> None:
    """`picojoule report onn`: oscillator-array cycles, toggles, convergence, ECP5."""
    from .onn.report import main as onn_report

    onn_report((["--quick"] if quick else []) + ["--out", str(out)])


def report_soc(console, *, quick: bool, out) -> None:
    """`picojoule report soc`: the SoC demos (as in `make sim`), Markdown, JSON, PNG."""
    from rich.markdown import Markdown

    from .soc.report import render_markdown, run_demos, summary_rows, write_report
    from .soc.rtl import SIM_PARAMS

    rows = summary_rows(run_demos(quick=quick, log=console.print), SIM_PARAMS)
    paths = write_report(rows, SIM_PARAMS, out)
    console.print(Markdown(render_markdown(rows, SIM_PARAMS)))
    console.print("wrote " + ", ".join(map(str, paths)))


def report_energy(console, *, quick: bool, out) -> None:
    """`picojoule report energy`: the proxy beside the standard-cell engine, every unit."""
    from .energy.compare import report_energy as run

    run(console, quick=quick, out=out)


REPORTS = {"lmul": report_lmul, "imc": report_imc, "onn": report_onn, "soc": report_soc,
           "energy": report_energy}

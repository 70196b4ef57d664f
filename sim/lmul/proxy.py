# Ref: H. Luo, W. Sun, arXiv 2410.00907 (L-Mul energy claims, from Horowitz ISSCC 2014);
#      energy constants and their sources in sim/power/energy.py.
"""The power proxy's report of the multipliers and dot-product units (the fast path; the
standard-cell figures are :mod:`sim.lmul.energy`): L-Mul against the exact unit per format,
measured with ``sim.power.report.measure_unit`` and written as Markdown, JSON and PNG.

    python -m sim.lmul.proxy [--fmts e4m3,bf16] [--sims verilator] [--ops 2000]
"""

import json
from pathlib import Path

from hdl.float import FORMATS
from sim.power import energy
from sim.power.report import CATEGORIES, compare, measure_unit
from sim.power.workloads import Boundary, Workload

from .workloads import operand_workload

__all__ = ["measure_lmul", "measure_dot", "write_report", "main"]


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
    """``python -m sim.lmul.proxy [--fmts e4m3,bf16] [--sims verilator] [--ops 2000]
    [--seed 1] [--out build/power/report]``: the L-Mul energy report, Markdown + JSON + PNG."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m sim.lmul.proxy", description=main.__doc__)
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

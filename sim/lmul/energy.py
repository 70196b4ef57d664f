# Ref: H. Luo, W. Sun, "Addition is All You Need for Energy-efficient Language Models",
#      arXiv 2410.00907 (95 % per multiply, 80 % per dot product, from Horowitz ISSCC 2014).
"""The L-Mul energy claims measured on a standard-cell library (:mod:`sim.power.engine`).

Per multiply: ``lmul_<fmt>`` against ``fpmul_<fmt>`` (combinational, e4m3, e5m2, bf16) on the
same seeded random normal operands. Per multiply-accumulate: the 8-lane dot-product units
``ldot_<fmt>`` against ``fdot_<fmt>`` (exact fixed-point accumulator, one fp32 rounding per
vector) on N(0, 1) vectors. Both activity modes: zero-delay and SDF-annotated (glitches).
The saving is ``1 - E(L-Mul) / E(exact)`` per mode; the glitch share is the SDF run's dynamic
energy minus the zero-delay run's.

Run: ``python -m sim.lmul.energy [--quick] [--fmts e4m3,e5m2,bf16] [--json FILE]``.
"""

from hdl.exports import EXPORTS
from sim.power.engine import NETLIST_SIM, measure_cells
from sim.power.workloads import Boundary, Workload

from .workloads import operand_workload

__all__ = ["PAPER_SAVING", "dot_workload", "unit_workload", "measure_pairs", "savings",
           "liberty_rows", "main"]

#: The paper's claims (arXiv 2410.00907): energy saved per element-wise multiply / dot product.
PAPER_SAVING = {"multiply": 0.95, "multiply-accumulate": 0.80}

MUL_FMTS = ("e4m3", "e5m2", "bf16")
DOT_FMTS = ("e4m3", "e5m2")


def dot_workload(fmt: str, kind: str, *, ops: int, seed: int, length: int = 64) -> Workload:
    """``ops`` multiply-accumulates (rounded to whole vectors of ``length``) of N(0, 1) vectors
    through the 8-lane dot-product unit of ``kind`` (``lmul`` or ``fpmul``); the chunk and
    result ports are charged as a 1 mm on-die bus (an assumption) by the proxy."""
    from hdl.float import FORMATS
    from hdl.ldot import DotParams, chunk_layout

    from .dot_bench import DotWorkload

    p = DotParams(FORMATS[fmt], lanes=8, kind=kind)
    bounds = (Boundary("i", "i__valid", chunk_layout(p).size, ready="i__ready"),
              Boundary("o", "o__valid", 32, ready="o__ready"))
    return Workload("sim.lmul.dot_bench", "power_vectors",
                    DotWorkload(p, max(1, round(ops / length)), length, seed),
                    boundaries=bounds)


def unit_workload(name: str, *, ops: int, seed: int) -> Workload:
    """The workload of an L-Mul unit: ``lmul_<fmt>[_stream]``, ``fpmul_<fmt>[_stream]``,
    ``ldot_<fmt>``, ``fdot_<fmt>``."""
    kind, _, rest = name.partition("_")
    if kind in ("ldot", "fdot"):
        return dot_workload(rest, "lmul" if kind == "ldot" else "fpmul", ops=ops, seed=seed)
    fmt, _, stream = rest.partition("_")
    return operand_workload(fmt, n_ops=ops, seed=seed, stream=stream == "stream")


def _pairs(fmts, dot: bool):
    for fmt in fmts:
        if dot:
            yield fmt, f"ldot_{fmt}", f"fdot_{fmt}", "multiply-accumulate"
        else:
            yield fmt, f"lmul_{fmt}", f"fpmul_{fmt}", "multiply"


def measure_pairs(*, fmts=MUL_FMTS, dot: bool = False, ops: int = 2000, seed: int = 1,
                  timings=("zero", "sdf"), liberty=None, sim: str = NETLIST_SIM,
                  log=print) -> list[dict]:
    """L-Mul and exact unit per format, each measured with :func:`measure_cells`."""
    out = []
    for fmt, a, b, op in _pairs(fmts, dot):
        pair = {"fmt": fmt, "op": op, "lmul": None, "exact": None}
        for key, name in (("lmul", a), ("exact", b)):
            log(f"  {name}: {', '.join(timings)} ({ops} x {op}) ...")
            pair[key] = measure_cells(name, EXPORTS[name],
                                      unit_workload(name, ops=ops, seed=seed),
                                      liberty=liberty, timings=timings, sim=sim, cache=True)
        out.append(pair)
    return out


def savings(pair: dict) -> dict:
    """Per mode: pJ/op of both units, the ratio, the saving and the glitch energy."""
    res = {}
    for mode in pair["lmul"]["modes"]:
        a, b = pair["lmul"]["modes"][mode], pair["exact"]["modes"][mode]
        ratio = a["pj_per_op"] / b["pj_per_op"]
        res[mode] = {"lmul_pj": a["pj_per_op"], "exact_pj": b["pj_per_op"], "ratio": ratio,
                     "saving": 1 - ratio, "lmul_transitions": a["transitions_per_op"],
                     "exact_transitions": b["transitions_per_op"],
                     "seconds": a["seconds"] + b["seconds"]}
    for key in ("lmul", "exact"):
        g = pair[key].get("glitch_pj_per_op")
        if g is not None:
            res.setdefault("glitch", {})[key] = {
                "pj": g, "share_of_sdf": g / pair[key]["modes"]["sdf"]["dynamic_pj_per_op"]}
    return res


def liberty_rows(quick: bool = False) -> list[dict]:
    """One row per unit for the proxy-vs-liberty table (zero-delay and SDF)."""
    from sim.power.report import measure_unit

    ops = 500 if quick else 2000
    rows = []
    for dot in (False, True):
        for pair in measure_pairs(fmts=DOT_FMTS if dot else MUL_FMTS, dot=dot,
                                  ops=ops // 4 if dot else ops, log=lambda _: None):
            for key in ("lmul", "exact"):
                r = pair[key]
                name = r["unit"]
                proxy = measure_unit(name, EXPORTS[name],
                                     unit_workload(name, ops=ops // 4 if dot else ops,
                                                   seed=1))["sims"]["verilator"]
                rows.append({"unit": name, "op": pair["op"],
                             "proxy_pj_per_op": proxy["pj_per_op"]["compute"],
                             "liberty_zero_pj_per_op": r["modes"]["zero"]["pj_per_op"],
                             "liberty_sdf_pj_per_op": r["modes"]["sdf"]["pj_per_op"],
                             "cells": r["cells"], "area_um2": r["area_um2"], "note": ""})
    return rows


def render_markdown(mul: list[dict], dot: list[dict]) -> str:
    """The per-multiply and per-MAC tables of docs/lmul.md."""
    lines = []
    for title, pairs in (("Per multiply (combinational units)", mul),
                         ("Per multiply-accumulate (8-lane dot-product units)", dot)):
        if not pairs:
            continue
        op = pairs[0]["op"]
        lines += [f"#### {title}", "",
                  "| format | activity | L-Mul pJ | exact pJ | L-Mul / exact | saving | "
                  "transitions per op (L-Mul / exact) | paper's claim |",
                  "|---|---|---|---|---|---|---|---|"]
        for pair in pairs:
            s = savings(pair)
            for mode in ("zero", "sdf"):
                if mode not in s:
                    continue
                m = s[mode]
                lines.append(
                    f"| {pair['fmt']} | {'zero-delay' if mode == 'zero' else 'SDF (glitches)'}"
                    f" | {m['lmul_pj']:.3f} | {m['exact_pj']:.3f} | {m['ratio']:.3f} | "
                    f"{m['saving']:.0%} | {m['lmul_transitions']:.1f} / "
                    f"{m['exact_transitions']:.1f} | {PAPER_SAVING[op]:.0%} |")
        lines.append("")
        glitch = [(p["fmt"], savings(p).get("glitch")) for p in pairs]
        if any(g for _, g in glitch):
            parts = [f"{fmt}: L-Mul {g['lmul']['pj']:.3f} pJ ({g['lmul']['share_of_sdf']:.0%}), "
                     f"exact {g['exact']['pj']:.3f} pJ ({g['exact']['share_of_sdf']:.0%})"
                     for fmt, g in glitch if g]
            lines.append("Glitch energy (SDF dynamic minus zero-delay dynamic, share of the SDF "
                         "dynamic energy): " + "; ".join(parts) + ".")
            lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    """``python -m sim.lmul.energy``: the L-Mul energy claims on the standard-cell library."""
    import argparse
    import json
    from pathlib import Path

    ap = argparse.ArgumentParser(prog="python -m sim.lmul.energy", description=main.__doc__)
    ap.add_argument("--quick", action="store_true", help="500 multiplies, 128 MACs")
    ap.add_argument("--fmts", default=",".join(MUL_FMTS))
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--liberty", default=None)
    args = ap.parse_args(argv)
    fmts = tuple(args.fmts.split(","))
    ops = 500 if args.quick else 2000
    mul = measure_pairs(fmts=fmts, ops=ops, liberty=args.liberty)
    dot = measure_pairs(fmts=tuple(f for f in fmts if f in DOT_FMTS), dot=True,
                        ops=ops // 2, liberty=args.liberty)
    print(render_markdown(mul, dot))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"multiply": mul, "dot": dot}, indent=1))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

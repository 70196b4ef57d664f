"""The old proxy beside the standard-cell engine, for every unit: ``picojoule report energy``.

Each unit's report module gives rows (``liberty_rows(quick)``: unit, op, the proxy's pJ/op and
the engine's zero-delay and SDF pJ/op). This module puts them in one table with the ratio
engine/proxy per unit, and, for each pair of designs the project compares (L-Mul against the
exact multiplier or dot unit, the IMC tile against its baseline), both engines' ratios and
whether they rank the two designs the same way.

The proxy (generic gates, 28 nm gate capacitances, zero-delay) stays as a fast path; the
standard-cell engine is the reference (``docs/power.md``).
"""

import importlib
import json
from pathlib import Path

__all__ = ["SOURCES", "PAIRS", "collect", "pairs", "render_markdown", "report_energy"]

#: Modules with a ``liberty_rows(quick)`` function, in table order.
SOURCES = ("sim.lmul.energy", "sim.imc.report", "sim.onn.report", "sim.soc.report")

#: (prefix of design a, prefix of design b): a/b ratios compared between the engines.
PAIRS = (("lmul_", "fpmul_"), ("ldot_", "fdot_"), ("imc_", "vn_"))


def collect(quick: bool = False, sources=SOURCES, log=print) -> list[dict]:
    """Rows of every source that has them (a source without ``liberty_rows`` is skipped and
    named in the log)."""
    rows = []
    for name in sources:
        mod = importlib.import_module(name)
        fn = getattr(mod, "liberty_rows", None)
        if fn is None:
            log(f"  {name}: no liberty_rows, skipped")
            continue
        log(f"  {name} ...")
        rows += fn(quick)
    return rows


def _ratio(a, b):
    return None if a is None or not b else a / b


def pairs(rows: list[dict]) -> list[dict]:
    """Proxy and engine ratios a/b for each pair of :data:`PAIRS` present in ``rows``."""
    by = {r["unit"]: r for r in rows}
    out = []
    for pa, pb in PAIRS:
        for name, a in by.items():
            if not name.startswith(pa):
                continue
            b = by.get(pb + name[len(pa):])
            if b is None:
                continue
            res = {"a": name, "b": b["unit"],
                   "proxy": _ratio(a["proxy_pj_per_op"], b["proxy_pj_per_op"]),
                   "zero": _ratio(a["liberty_zero_pj_per_op"], b["liberty_zero_pj_per_op"]),
                   "sdf": _ratio(a.get("liberty_sdf_pj_per_op"),
                                 b.get("liberty_sdf_pj_per_op"))}
            res["same_ranking"] = all((res[k] < 1) == (res["proxy"] < 1)
                                      for k in ("zero", "sdf") if res[k] is not None)
            out.append(res)
    return out


def _g(x, digits=3):
    return "-" if x is None else f"{x:.{digits}g}"


def render_markdown(rows: list[dict], library: str = "OSU 0.18 um (osu018_stdcells)") -> str:
    lines = [f"Standard-cell engine on {library} (zero-delay and SDF-annotated activity) "
             "beside the proxy (generic gates, 28 nm gate capacitances, zero-delay: the fast "
             "path). Absolute pJ differ by process (0.18 um, 1.8 V against 28 nm, 0.9 V); the "
             "ratios between designs are what to compare.", "",
             "| unit | per | cells | area um2 | proxy pJ | cells pJ zero-delay | cells pJ SDF | "
             "zero / proxy | note |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['unit']} | {r['op']} | {r['cells']} | {r['area_um2']:.0f} | "
                     f"{_g(r['proxy_pj_per_op'])} | {_g(r['liberty_zero_pj_per_op'])} | "
                     f"{_g(r.get('liberty_sdf_pj_per_op'))} | "
                     f"{_g(_ratio(r['liberty_zero_pj_per_op'], r['proxy_pj_per_op']))} | "
                     f"{r.get('note', '')} |")
    pr = pairs(rows)
    if pr:
        lines += ["", "| a | b | a/b proxy | a/b cells zero-delay | a/b cells SDF | "
                      "same ranking |", "|---|---|---|---|---|---|"]
        for p in pr:
            lines.append(f"| {p['a']} | {p['b']} | {_g(p['proxy'])} | {_g(p['zero'])} | "
                         f"{_g(p['sdf'])} | {'yes' if p['same_ranking'] else 'NO'} |")
    return "\n".join(lines) + "\n"


def report_energy(console, *, quick: bool, out: Path) -> None:
    """``picojoule report energy``: the table above as Markdown and JSON in ``out``."""
    rows = collect(quick, log=console.print)
    md = render_markdown(rows)
    out.mkdir(parents=True, exist_ok=True)
    (out / "energy.md").write_text("# Proxy vs standard-cell energy\n\n" + md)
    (out / "energy.json").write_text(json.dumps({"rows": rows, "pairs": pairs(rows)},
                                                indent=1) + "\n")
    from rich.markdown import Markdown

    console.print(Markdown(md))
    console.print(f"wrote {out / 'energy.md'}, {out / 'energy.json'}")

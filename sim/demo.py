"""What ``make sim`` (``picojoule sim``) runs, and the per-unit reports of ``picojoule report``.

Each step simulates real RTL through the one runner (``tb/common/runner.py``) with the same
cocotb checks the regression uses, and prints what it verified and measured.
"""

import time

from rich.table import Table

from hdl.float import FORMATS
from hdl.ldot import DotParams, DotUnit
from hdl.lmul import MULTIPLIERS
from tb.common import run

__all__ = ["run_all", "REPORTS"]


def _multipliers(console, sim: str, quick: bool) -> Table:
    from tb.test_lmul import MulCheck

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
            r = run(cls(fmt), toplevel=f"{kind}_{name}", test_module="tb.test_lmul", sim=sim,
                    testcase="check_combinational", params=check)
            rec = r.data("check")
            table.add_row(f"{kind}_{name}", f"{rec['pairs']:,}", str(rec["mismatches"]),
                          f"{time.monotonic() - t0:.1f}")
    return table


def _dot_units(console, sim: str, quick: bool) -> Table:
    from tb.test_ldot import DotCheck

    table = Table(title=f"Dot-product units (8 lanes, fp32 accumulator) vs golden model ({sim})")
    for col in ("unit", "vectors", "chunks", "mismatches", "chunks/clock", "latency"):
        table.add_column(col, justify="right" if col != "unit" else "left")
    for fmt in ("e4m3", "e5m2"):
        for kind in MULTIPLIERS:
            p = DotParams(FORMATS[fmt], lanes=8, kind=kind)
            console.print(f"  simulating {p.name} ...")
            r = run(DotUnit(p), toplevel=p.name, test_module="tb.test_ldot", sim=sim,
                    testcase="check_vectors,check_throughput",
                    params=DotCheck(p, n_random=20 if quick else 100))
            v, t = r.data("vectors"), r.data("throughput")
            table.add_row(p.name, str(v["vectors"]), str(v["chunks"]), str(v["mismatches"]),
                          f"{t['chunks'] / t['accept_cycles']:.2f}", str(int(t["latency"])))
    return table


def run_all(console, *, sims, quick: bool = False) -> int:
    t0 = time.monotonic()
    steps = [("multipliers", _multipliers), ("dot-product units", _dot_units)]
    for sim in sims:
        for i, (what, step) in enumerate(steps, 1):
            console.print(f"[{i}/{len(steps)}] {what} on {sim}")
            console.print(step(console, sim, quick))
    console.print(f"picojoule sim: done in {time.monotonic() - t0:.0f} s; "
                  "builds and logs under build/sim/")
    return 0


def report_lmul(console, *, quick: bool, out) -> None:
    raise NotImplementedError("the L-Mul report is not wired yet")


REPORTS = {"lmul": report_lmul}

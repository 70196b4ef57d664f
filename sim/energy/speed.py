"""How long the standard-cell engine takes: ``python -m sim.energy.speed``.

Prints, for the multipliers (2,000 operations, the issue's budget: 2 minutes on 2 cores) and
the dot-product units (1,024 MACs), the wall time of a timing-aware (SDF) measurement end to
end (mapping, OpenSTA, the RTL reference run, the SDF-annotated Icarus run, pricing) and of its
Icarus run alone. From the dot units' run it derives a cost per cell-cycle of the SDF run and
projects what a timing-aware run of the 64 x 16 IMC tile and of one SoC demo would cost
(cells from mapping them; cycles from their workloads). The projection assumes the cost grows
with cells x cycles, which holds for event-driven simulation at similar activity; it is an
estimate and is labelled as one.
"""

import time
from dataclasses import replace

__all__ = ["main"]


def _timed(name: str, ops: int, timings) -> tuple[float, dict]:
    from hdl.exports import EXPORTS
    from sim.power.engine import measure_cells

    from .units import unit_workload

    t0 = time.monotonic()
    res = measure_cells(name, EXPORTS[name], unit_workload(name, ops=ops, seed=1),
                        timings=timings)
    return time.monotonic() - t0, res


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m sim.energy.speed", description=__doc__)
    ap.add_argument("--soc-cycles", type=int, default=2_000_000,
                    help="cycles of the SoC demo to project (default: about one MLP demo)")
    args = ap.parse_args(argv)
    rows = []
    for name, ops in (("lmul_e4m3", 2000), ("fpmul_e4m3", 2000), ("lmul_bf16", 2000),
                      ("fpmul_bf16", 2000), ("ldot_e4m3", 1024), ("fdot_e4m3", 1024)):
        wall, res = _timed(name, ops, ("sdf",))
        m = res["modes"]["sdf"]
        cycles = (m["t1_ns"] - m["t0_ns"]) / 10
        rows.append((name, m["ops"], res["cells"], cycles, wall, m["seconds"]))
        print(f"{name:12s} {m['ops']:5d} ops  {res['cells']:6d} cells  SDF measurement "
              f"{wall:6.1f} s end to end, {m['seconds']:6.1f} s simulating and pricing",
              flush=True)
    dot = [r for r in rows if r[0].endswith("dot_e4m3")]
    rate = sum(r[5] for r in dot) / sum(r[2] * r[3] for r in dot)
    print(f"SDF cost on the dot units: {rate * 1e6:.2f} us per cell-cycle")

    from hdl.imc import ImcBaseline, ImcParams, ImcTile
    from sim.imc.bench import unit_id
    from sim.power.stdcell import map_unit, osu018
    from sim.rtl.runner import convert

    lib = osu018()[0]
    p = ImcParams()
    vectors = 16
    for prefix, cls in (("imc", ImcTile), ("vn", ImcBaseline)):
        name = f"{prefix}_{unit_id(p)}"
        unit = cls(p)
        t0 = time.monotonic()
        cells = len(map_unit(convert(unit, name), name, lib).instances)
        cycles = vectors * unit.cycles_per_op(p.a_bits)
        print(f"{name}: {cells} cells (mapped in {time.monotonic() - t0:.0f} s), "
              f"{cycles} cycles for {vectors} products: SDF run ~{rate * cells * cycles:.0f} s "
              "(projected)", flush=True)
    from hdl.soc import Soc
    from sim.soc.rtl import SIM_PARAMS

    # The SoC's RAM would be a macro in silicon; mapped to cells it would dominate: 1 KiB
    # (the smallest the SoC allows) keeps the logic and makes the projection a lower bound.
    params = replace(SIM_PARAMS, ram_size=1024)
    t0 = time.monotonic()
    cells = len(map_unit(convert(Soc(params), "soc"), "soc", lib).instances)
    hours = rate * cells * args.soc_cycles / 3600
    print(f"soc ({params.name}, RAM cut to 1 KiB): {cells} cells (mapped in "
          f"{time.monotonic() - t0:.0f} s); {args.soc_cycles:,} cycles: SDF run ~{hours:.1f} h "
          "(projected, a lower bound)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

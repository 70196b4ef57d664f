"""Energy per image at equal quality, end to end on the SoC (``python -m sim.soc.generators
[--json] [--measure] [--sim S]``):
the oscillator generator (``un0_demo``: array, readout on the IMC tile, core, memories, bus)
against the digital generator of about the same quality (``sim.onn.un0.mlp``, the int8 MLP
decoder from noise and class) on the IMC tile and on the core alone.

Each row runs its firmware on the SoC RTL (``sim.soc.report.generator_runs``: 100 images,
pixels checked against the model by their checksum) and prices the run's event counters
(instructions, RAM accesses, bus transfers, IMC products, array busy clocks) with the SoC
report's per-event energies (``sim.soc.report.energy_model``): standard-cell figures where
the engine's are cached (or measured, ``--measure``), the table for the rest; every part
says which. Energy per image = the whole firmware run (set-up included: couplings, weights)
over its images. Quality: ``sim.onn.un0.quality``'s judges on its 599-image protocol (the
held-out labels, image seeds ``SEED + k``) for the model of each generator.
"""

import argparse
import json
import sys

import numpy as np

from sim.onn.un0.model import CLASSES, clocks_per_image, exact_images, quantize
from sim.onn.un0.quality import SEED, Judge
from sim.onn.un0.train import RUNS, load, params_path

__all__ = ["rows", "table", "main"]

#: SoC report parts -> the per-event energy that prices them.
EVENTS = {"core": "instruction", "imc": "imc_mac", "onn": "onn_busy_clock",
          "memories": "ram_access", "bus": "bus_transfer", "dot_lmul": "dot_mac_lmul",
          "dot_fpmul": "dot_mac_fpmul"}


def _source(src: str) -> str:
    from sim.soc.report import LIBRARY

    return "engine" if src.startswith(LIBRARY) else "table"


def rows(*, sim: str = "verilator", images: int | None = None, measure: bool = False,
         log=print) -> dict:
    """``{"rows": [...], "sources": {event: (pJ, source)}}``: one row per generator and
    engine, with quality, cycles, MACs and energy per image (nJ) by part."""
    from sim.onn.un0 import mlp
    from sim.soc import demos
    from sim.soc.report import generator_runs
    from sim.soc.rtl import SIM_PARAMS

    images = images or demos.UN0_IMAGES
    runs = generator_runs(sim=sim, images=images, measure=measure, log=log)
    judge = Judge()
    labels = judge.yb
    seeds = SEED + np.arange(len(labels))
    name = demos.un0_run_for(SIM_PARAMS.onn)
    u = RUNS[name][0]
    _, osc = exact_images(u, quantize(u, load(params_path(name), u)[1]), labels, seeds)
    g = mlp.GEN_RUNS[demos.MLPGEN_RUN]
    dig = mlp.int_images(mlp.quantize(mlp.load_mlp(mlp.mlp_path(demos.MLPGEN_RUN), g), g), g,
                         labels, seeds)
    q_osc, q_dig = judge.score(osc, labels), judge.score(dig, labels)
    model = runs[0].model
    out = []
    for r in runs:
        is_osc = "oscillators" in r.task
        per = {k: v / r.images / 1e3 for k, v in r.energy.items()}          # nJ per image
        out.append({
            "task": r.task, "ok": r.ok, "images": r.images,
            "generator": (f"{name}: N = {u.main} + {u.cond} cells, T = {u.epochs}" if is_osc
                          else f"{demos.MLPGEN_RUN}: z {g.z}, hidden {g.hidden}"),
            "quality": q_osc if is_osc else q_dig,
            "soc_accuracy": float(r.result.split("%")[0]) / 100,
            "cycles_per_image": r.cycles / r.images,
            "macs_per_image": 2 * u.main * 64 if is_osc else mlp.macs_per_image(g),
            "array_clocks_per_image": clocks_per_image(u) if is_osc else 0,
            "nj_per_image": sum(per.values()),
            "nj_by_part": per,
            "proxy_nj_per_image": sum(r.proxy_energy.values()) / r.images / 1e3,
            "source_by_part": {k: _source(model[EVENTS[k]][1]) for k in per},
        })
    base = out[0]["nj_per_image"]
    for r in out:
        r["vs_oscillators"] = r["nj_per_image"] / base
    return {"rows": out, "quality_images": len(labels), "classes": CLASSES,
            "sources": {k: {"pj": v, "source": s} for k, (v, s) in model.items()}}


def table(res: dict) -> str:
    rs = res["rows"]
    lines = ["| generator on the SoC | accuracy / FD hidden / FD PCA | on the SoC | MACs / image "
             "| array clocks / image | cycles / image | energy / image | core | IMC | array "
             "| memories | bus | vs oscillators |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]

    def part(r, k):
        v = r["nj_by_part"].get(k)
        return "-" if v is None or (k in ("imc", "onn") and v == 0) else \
            f"{v:.1f} ({r['source_by_part'][k]})"

    for r in rs:
        q = r["quality"]
        lines.append(
            f"| {r['task']} ({r['generator']}) | {q['accuracy']:.3f} / {q['fd_hidden']:.2f} / "
            f"{q['fd_pca']:.2f} | {r['soc_accuracy']:.0%} of {r['images']}"
            f"{'' if r['ok'] else ', MISMATCH'} | {r['macs_per_image']:,} | "
            f"{r['array_clocks_per_image'] or '-'} | {r['cycles_per_image']:,.0f} | "
            f"{r['nj_per_image']:.0f} nJ | {part(r, 'core')} | {part(r, 'imc')} | "
            f"{part(r, 'onn')} | {part(r, 'memories')} | {part(r, 'bus')} | "
            f"{r['vs_oscillators']:.2f}x |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.soc.generators",
                                 description="Energy per image on the SoC: the oscillator "
                                 "generator against the digital baseline on the IMC tile and "
                                 "on the core alone.")
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    ap.add_argument("--measure", action="store_true",
                    help="measure the standard-cell figures not cached yet (long)")
    ap.add_argument("--sim", default="verilator", choices=("verilator", "icarus"))
    args = ap.parse_args(argv)
    res = rows(sim=args.sim, measure=args.measure, log=lambda m: print(m, file=sys.stderr))
    print(json.dumps(res, default=str) if args.json else table(res))
    return 0 if all(r["ok"] for r in res["rows"]) else 1


if __name__ == "__main__":
    sys.exit(main())

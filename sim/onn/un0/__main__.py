"""``python -m sim.onn.un0 train [NAME ...]``: (re)train the saved parameter files
(:data:`sim.onn.un0.train.RUNS`; all by default, the reservoir after ``n48``);
``python -m sim.onn.un0 quality [--json]``: the quality table against the controls;
``python -m sim.onn.un0 train-mlp``: (re)train the digital baseline (``sim.onn.un0.mlp``).
Energy per image on the SoC, oscillators against the digital baseline: ``python -m
sim.soc.generators`` (the SoC imports the units, not the other way round)."""

import argparse
import json
import sys

from .train import RUNS


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.onn.un0", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train and save parameter files")
    t.add_argument("names", nargs="*", metavar="NAME",
                   help=f"runs to train (default all: {', '.join(RUNS)})")
    q = sub.add_parser("quality", help="quality table (classifier accuracy, Frechet distances)")
    q.add_argument("--json", action="store_true", help="one JSON object on stdout")
    sub.add_parser("train-mlp", help="train and save the digital baseline (MLP decoder)")
    args = ap.parse_args(argv)
    if args.cmd == "train-mlp":
        from .mlp import GEN_RUNS, train_mlp_run

        for name in GEN_RUNS:
            path, secs = train_mlp_run(name)
            print(f"{name}: {path} ({secs:.0f} s CPU)")
        return 0
    if args.cmd == "train":
        from .train import train_run

        bad = [n for n in args.names if n not in RUNS]
        if bad:
            ap.error(f"unknown run {bad[0]!r} (choose from {', '.join(RUNS)})")
        for name in args.names or list(RUNS):
            path, secs = train_run(name, log=lambda m, n=name: print(f"{n}: {m}",
                                                                      file=sys.stderr))
            print(f"{name}: {path} ({secs:.0f} s CPU)")
        return 0
    from .quality import energy_rows, liberty_cell_epoch_pj, rows, table

    rs = rows(log=None if args.json else lambda m: print(m, file=sys.stderr))
    lib = liberty_cell_epoch_pj()
    if args.json:
        print(json.dumps({"rows": rs, "liberty": lib, "energy": energy_rows(rs, lib)}))
        return 0
    print(table(rs))
    if lib is None:
        print("\nbuild/report/onn-liberty.json not found: no energy per image "
              "(python -m sim.onn.report --liberty-only writes it)")
    for e in energy_rows(rs, lib):
        print(f"{e['name']}: {e['pj_per_image']:.4g} pJ per image in the array "
              f"(n = {e['n']}, T = {e['T']}, OIM-mode pJ per cell-epoch)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

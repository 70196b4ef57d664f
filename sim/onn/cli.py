"""``picojoule maxcut`` and ``picojoule recall``: the oscillator array's subcommands."""

import argparse
import json
import sys
import time

import numpy as np

from hdl.onn import OnnParams
from sim.flow.toolchain import ToolError

from .baselines import cut_value
from .graphs import read_graph, read_patterns
from .solvers import (
    DEFAULT_EPOCHS,
    DEFAULT_MODE,
    DEFAULT_SEEDS,
    MODES,
    array_params,
    recall_trials,
    solve_oim,
    solve_rtl,
)

__all__ = ["add_maxcut_parser", "cmd_maxcut", "add_recall_parser", "cmd_recall",
           "positive_int", "fraction"]


def positive_int(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v


def fraction(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in 0..1, got {text!r}") from None
    if not 0 <= v <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in 0..1, got {text!r}")
    return v


def _params(args, nodes: int | None = None) -> OnnParams:
    """The array: ``--cells``, else the default (model) or the graph's size (RTL: a smaller
    build simulates faster and gives the same cut, since unused cells change nothing)."""
    if args.cells is not None:
        return array_params(args.cells)
    if args.engine == "rtl" and nodes is not None:
        lanes = getattr(args, "lanes", 0) or 1      # the time-multiplexed array: n % lanes == 0
        return array_params(max(2, -(-nodes // lanes) * lanes))
    return array_params()


def _engine(args, what: str):
    if args.engine == "rtl" and what == "recall":
        raise ToolError("--engine rtl: recall on the RTL is not built yet (maxcut is); use "
                        "--engine model")


def _engine_arg(p):
    p.add_argument("--engine", choices=("model", "rtl"), default="model",
                   help="model: the integer golden model (sim/onn/model.py); rtl: the Amaranth "
                   "array (hdl/onn/) on Verilator (maxcut only)")


def _array_args(p):
    p.add_argument("--cells", type=positive_int, default=None,
                   help=f"array size n (default {OnnParams().n}; --engine rtl: the graph's "
                   "node count)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def add_maxcut_parser(subparsers):
    p = subparsers.add_parser("maxcut", help="Max-Cut of a rudy/G-set graph on the oscillator "
                              "array (OIM or PBIT mode)")
    p.add_argument("graph", metavar="GRAPH_FILE", help="rudy text: 'n m', then 'i j w' lines")
    _engine_arg(p)
    p.add_argument("--seeds", type=positive_int, default=DEFAULT_SEEDS,
                   help=f"independent runs, best reported (default {DEFAULT_SEEDS})")
    p.add_argument("--epochs", type=positive_int, default=DEFAULT_EPOCHS,
                   help=f"update epochs per run (default {DEFAULT_EPOCHS})")
    p.add_argument("--seed", type=int, default=1, help="first LFSR seed (runs use seed..)")
    p.add_argument("--lanes", type=positive_int, default=0,
                   help="--engine rtl: the time-multiplexed array (hdl.onn.OnnTdm) with this "
                   "many cell datapaths (default: OnnArray)")
    p.add_argument("--mode", choices=tuple(MODES), default=DEFAULT_MODE,
                   help="pbit: sequential annealed spin updates; oim: the oscillator Ising "
                   f"machine (phase dynamics) on the same array (default {DEFAULT_MODE}: "
                   "docs/onn.md, the default mode)")
    _array_args(p)
    p.set_defaults(func=cmd_maxcut)
    return p


def cmd_maxcut(args) -> int:
    _engine(args, "maxcut")
    g = read_graph(args.graph)
    params = _params(args, g.n)
    seeds = [(args.seed + k) & 0xFFFFFFFF for k in range(args.seeds)]
    started = time.monotonic()
    mode = MODES[args.mode]
    if args.engine == "rtl":
        cuts, bits, cfg, _ = solve_rtl(params, g, args.epochs, seeds, mode=mode,
                                       lanes=args.lanes)
    else:
        cuts, bits, cfg = solve_oim(params, g, args.epochs, seeds, mode=mode)
    best = int(np.argmax(cuts))
    cut = int(cuts[best])
    assignment = [int(b) for b in bits[best]]
    if int(cut_value(g.W, bits[best])) != cut:     # the contract: cut is the assignment's
        raise ToolError("internal error: reported cut differs from the assignment's cut")
    if args.json:
        json.dump({"cut": cut, "assignment": assignment, "n": g.n, "m": g.m,
                   "engine": args.engine, "epochs": args.epochs, "seeds": seeds,
                   "cuts": [int(c) for c in cuts], "best_seed": seeds[best],
                   "config": {"mode": args.mode, "shift": cfg.shift, "ks_max": cfg.ks_max,
                              "ks_inc": cfg.ks_inc, "noise_amp": cfg.noise_amp,
                              "noise_dec": cfg.noise_dec},
                   "params": {"n": params.n, "phase_bits": params.phase_bits,
                              "weight_bits": params.weight_bits,
                              "sin_bits": params.sin_bits, "lut_bits": params.lut_bits},
                   "seconds": round(time.monotonic() - started, 3)}, sys.stdout)
        sys.stdout.write("\n")
    else:
        print(f"cut {cut}  ({args.graph}: {g.n} nodes, {g.m} edges; best of {len(seeds)} "
              f"runs x {args.epochs} epochs, {args.mode} mode, {args.engine} engine; mean "
              f"{float(cuts.mean()):.1f}; {time.monotonic() - started:.1f} s)")
    return 0


def add_recall_parser(subparsers):
    p = subparsers.add_parser("recall", help="associative-memory recall on the oscillator "
                              "array (ONN mode, Hebbian weights)")
    _engine_arg(p)
    p.add_argument("--pattern-file", help="stored patterns, one 0/1 string per line "
                   "(default: --patterns random patterns of --size bits)")
    p.add_argument("--size", type=positive_int, default=100, help="bits per random pattern")
    p.add_argument("--patterns", type=positive_int, default=10, help="random patterns stored")
    p.add_argument("--noise", type=fraction, default=0.1,
                   help="fraction of cue bits flipped (default 0.1)")
    p.add_argument("--trials", type=positive_int, default=200, help="cues (default 200)")
    p.add_argument("--epochs", type=positive_int, default=20, help="max epochs per cue")
    p.add_argument("--seed", type=int, default=1, help="seed of patterns and cue noise")
    _array_args(p)
    p.set_defaults(func=cmd_recall)
    return p


def cmd_recall(args) -> int:
    _engine(args, "recall")
    params = _params(args)
    if args.pattern_file:
        patterns = read_patterns(args.pattern_file)
    else:
        rng = np.random.default_rng([args.seed, 0x0A11])
        patterns = rng.integers(0, 2, size=(args.patterns, args.size))
    r = recall_trials(params, patterns, args.noise, args.trials, args.epochs, args.seed)
    M, N = patterns.shape
    if args.json:
        json.dump({**r, "patterns": M, "size": N, "noise": args.noise,
                   "engine": args.engine}, sys.stdout)
        sys.stdout.write("\n")
    else:
        print(f"recall rate {r['rate']:.3f} ({r['recalled']}/{r['trials']} cues; {M} patterns "
              f"of {N} bits = {M / N:.3f} N; {r['flipped_bits']} bits flipped per cue; mean "
              f"bit overlap {r['overlap']:.4f}; {r['epochs_run']} epochs)")
    return 0

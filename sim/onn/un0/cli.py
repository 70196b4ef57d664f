"""``picojoule generate digits``: 8x8 digits from the Un-0 generator on the oscillator array,
on the integer golden model or on the array RTL (Verilator), with the same images for the same
seed and class on both engines."""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from sim.flow.toolchain import ToolError

from . import model as un0

__all__ = ["add_generate_parser", "cmd_generate_digits", "generate", "write_png",
           "DEFAULT_RUN", "PNG_COLUMNS"]

#: The saved generator used by default: the best array-exact quality (docs/onn.md).
DEFAULT_RUN = "n48"
#: Images per row of the ``--png`` grid.
PNG_COLUMNS = 10


def _count(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, not {text!r}") \
            from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, not {v}")
    return v


def _class(text):
    try:
        v = int(text)
    except ValueError:
        v = None
    if v is None or not 0 <= v < un0.CLASSES:
        raise argparse.ArgumentTypeError(f"must be a digit 0-9, not {text!r}")
    return v


def _seed(text):
    try:
        v = int(text, 0)
    except ValueError:
        v = None
    if v is None or not 0 <= v < 1 << 32:
        raise argparse.ArgumentTypeError(f"must be an integer in 0..2^32-1, not {text!r}")
    return v


def add_generate_parser(subparsers):
    from .train import RUNS

    p = subparsers.add_parser("generate", help="generate data on a unit (digits: the Un-0 "
                              "generator on the oscillator array)")
    what = p.add_subparsers(dest="what", required=True, parser_class=type(p))
    d = what.add_parser("digits", help="class-conditional 8x8 digits (0..16, like "
                        "scikit-learn's) from the oscillator array's Kuramoto mode")
    d.add_argument("--engine", choices=("model", "rtl"), default="model",
                   help="model: the integer golden model (sim/onn/model.py); rtl: the array "
                   "RTL (hdl/onn/, with_hold) on Verilator; both give the same images")
    d.add_argument("--count", type=_count, default=10, metavar="K",
                   help="images (default 10)")
    d.add_argument("--class", dest="cls", type=_class, default=None, metavar="C",
                   help="the digit asked for, 0-9 (default: image k asks for k mod 10)")
    d.add_argument("--seed", type=_seed, default=1, metavar="S",
                   help="image k starts from the phases of seed S + k (default 1)")
    d.add_argument("--run", choices=tuple(n for n, (u, tc) in RUNS.items() if not tc.reservoir),
                   default=DEFAULT_RUN,
                   help=f"saved generator configuration (sim.onn.un0.train.RUNS; default "
                   f"{DEFAULT_RUN})")
    d.add_argument("--params", default=None, metavar="FILE",
                   help="parameter file (.npz) made for that configuration (default: the "
                   "saved sim/onn/un0/<run>.npz)")
    d.add_argument("--png", default=None, metavar="FILE", help="write a labelled image grid")
    d.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    d.set_defaults(func=cmd_generate_digits)
    return p


def generate(run: str, params, engine: str, count: int, cls: int | None, seed: int):
    """(labels, seeds, images count x 64 in 0..16, the generator) of one command."""
    from .train import RUNS, load, params_path

    u = RUNS[run][0]
    _, net = load(Path(params) if params else params_path(run), u)
    q = un0.quantize(u, net)
    labels = (np.full(count, cls) if cls is not None else np.arange(count) % un0.CLASSES)
    seeds = (seed + np.arange(count)) & 0xFFFFFFFF
    if engine == "rtl":
        from .bench import rtl_images

        _, images, _ = rtl_images(u, q, labels, seeds)
    else:
        _, images = un0.exact_images(u, q, labels, seeds)
    return labels.astype(np.int64), seeds.astype(np.int64), np.asarray(images, np.int64), u


def write_png(path, images, labels, title: str) -> None:
    """A grid of the images, ``PNG_COLUMNS`` per row, each titled with the class asked for."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = len(images)
    cols = min(PNG_COLUMNS, k)
    rows = -(-k // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.1 * cols, 1.3 * rows + 0.4), squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i < k:
            ax.imshow(np.asarray(images[i]).reshape(8, 8), cmap="gray_r", vmin=0,
                      vmax=un0.PIXEL_MAX, interpolation="nearest")
            ax.set_title(f"class {int(labels[i])}", fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


SHADES = " .:-=+*#%@"


def _ascii(images, labels) -> str:
    """Images side by side, eight per block, one character per pixel (darker = higher)."""
    out = []
    for at in range(0, len(images), 8):
        block = list(range(at, min(at + 8, len(images))))
        out.append("   ".join(f"class {int(labels[i])}".ljust(8) for i in block))
        for r in range(8):
            out.append("   ".join(
                "".join(SHADES[(int(v) * (len(SHADES) - 1) + 8) // un0.PIXEL_MAX]
                        for v in images[i][8 * r:8 * r + 8]) for i in block))
        out.append("")
    return "\n".join(out)


def cmd_generate_digits(args) -> int:
    labels, seeds, images, u = generate(args.run, args.params, args.engine, args.count,
                                        args.cls, args.seed)
    if images.min() < 0 or images.max() > un0.PIXEL_MAX:
        raise ToolError("internal error: a pixel outside 0..16")
    if args.png:
        write_png(args.png, images, labels,
                  f"Un-0 on the oscillator array ({args.run}: N = {u.main}, T = {u.epochs}; "
                  f"{args.engine}; seeds {args.seed}..)")
    if args.json:
        json.dump({"images": images.tolist(), "labels": labels.tolist(),
                   "engine": args.engine, "run": args.run, "seeds": seeds.tolist(),
                   "array": {"n": u.n, "main": u.main, "cond": u.cond, "epochs": u.epochs,
                             "shift": u.shift},
                   "clocks_per_image": un0.clocks_per_image(u),
                   "bus_accesses_per_image": un0.load_accesses(u) + un0.readout_accesses(u)},
                  sys.stdout)
        sys.stdout.write("\n")
        return 0
    print(_ascii(images, labels))
    print(f"{len(images)} digits from {args.run} (N = {u.main} + {u.cond} conditioning cells, "
          f"T = {u.epochs}, {un0.clocks_per_image(u)} array clocks each), {args.engine} engine"
          + (f"; grid in {args.png}" if args.png else ""))
    return 0

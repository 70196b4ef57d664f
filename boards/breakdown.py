"""Where a board design's logic goes: ``synth_ice40 -noflatten`` (or ``synth_ecp5``), then
``stat`` per module, summed over each module's subtree.

Each module keeps logic that a flattened build may still trim across module boundaries, so the
per-module figures add up to a little more than the flattened synthesis that
:func:`boards.flow.build_board` places.

Run: ``python -m boards.breakdown icebreaker [--design soc] [--depth 3] [--dsp]``.
"""

import argparse
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from sim.flow.synth import READ_FIXUP
from sim.flow.toolchain import BUILD, ToolError, locked, yosys_command

from .board import Board
from .flow import KEEP_COPIES, NAME, logic_cells, prepare

__all__ = ["module_breakdown", "render_breakdown"]

#: Cell types counted per module (iCE40 / ECP5 primitives; flip-flops are summed apart).
_LOGIC = ("SB_LUT4", "SB_CARRY", "SB_MAC16", "SB_RAM40_4K", "SB_SPRAM256KA", "LUT4", "CCU2C",
          "DP16KD", "MULT18X18D")


def module_breakdown(board: Board, *, design: str = "soc", config=None, dsp: bool = False,
                     out: Path | None = None) -> dict:
    """Synthesize ``board``'s ``design`` (``config`` replaces the board's ``DesignConfig``)
    without flattening; returns ``{"modules": {path: cells}, "total": cells}`` where ``cells``
    counts the primitives of a module's whole subtree (``FF``: every flip-flop type summed) and
    ``path`` is the dotted instance path below the top (``design.soc.core``). ``dsp``: iCE40
    only, ``synth_ice40 -dsp`` (multipliers into SB_MAC16)."""
    if config is not None:
        board = replace(board, config=config)
    out = Path(out) if out else BUILD / "fpga" / f"{board.name}-breakdown"
    prepare(board, design, out)
    family = board.family
    opts = " -dsp" if dsp and family == "ice40" else ""
    script = "\n".join([
        f"read_rtlil {NAME}.il", READ_FIXUP.strip(), KEEP_COPIES,
        f"synth_{family} -noflatten{opts} -top {NAME}",
        "tee -q -o breakdown_stat.json stat -json", ""])
    with locked(out):
        (out / "breakdown.ys").write_text(script)
        proc = subprocess.run([*yosys_command(), "-q", "-l", "breakdown.rpt", "breakdown.ys"],
                              cwd=out, capture_output=True, text=True)
        if proc.returncode != 0:
            last = (proc.stderr.strip() or "no output").splitlines()[-1]
            raise ToolError(f"yosys failed in {out}: {last}")
        modules = json.loads((out / "breakdown_stat.json").read_text())["modules"]
    own = {}
    children = {}
    for name, mod in modules.items():
        name = name.lstrip("\\")
        counts = {}
        kids = []
        for cell, n in mod["num_cells_by_type"].items():
            cell = cell.lstrip("\\")
            if cell.startswith(f"{NAME}.") or cell == NAME:
                kids += [cell] * int(n)
            elif "DFF" in cell.upper() or cell in ("TRELLIS_FF",):
                counts["FF"] = counts.get("FF", 0) + int(n)
            elif cell in _LOGIC:
                counts[cell] = int(n)
        own[name] = counts
        children[name] = kids

    def subtree(name):
        total = dict(own.get(name, {}))
        for kid in children.get(name, ()):
            for k, v in subtree(kid).items():
                total[k] = total.get(k, 0) + v
        return total

    result = {name.removeprefix(f"{NAME}.") if name != NAME else "": subtree(name)
              for name in own}
    return {"board": board.name, "family": family, "design": design, "dsp": dsp,
            "config": board.config.describe(design), "modules": dict(sorted(result.items())),
            "total": result[""], "logic": logic_cells(result[""], family), "dir": str(out)}


def render_breakdown(r: dict, depth: int = 3) -> str:
    lut = "SB_LUT4" if r["family"] == "ice40" else "LUT4"
    lines = [f"{r['board']} design {r['design']} ({r['config']}){' -dsp' if r['dsp'] else ''}",
             f"{'module':<44} {lut:>8} {'carry':>6} {'FF':>6} {'other':>12}"]
    for path, c in r["modules"].items():
        if path.count(".") + 1 > depth and path:
            continue
        other = ", ".join(f"{k} {v}" for k, v in c.items()
                          if k not in (lut, "SB_CARRY", "CCU2C", "FF"))
        lines.append(f"{path or '(total)':<44} {c.get(lut, 0):>8} "
                     f"{c.get('SB_CARRY', c.get('CCU2C', 0)):>6} {c.get('FF', 0):>6} {other:>12}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m boards.breakdown", description=__doc__)
    ap.add_argument("board")
    ap.add_argument("--design", default="soc")
    ap.add_argument("--depth", type=int, default=3, help="levels of the hierarchy to print")
    ap.add_argument("--dsp", action="store_true", help="iCE40: synth_ice40 -dsp")
    args = ap.parse_args(argv)
    try:
        from . import board as board_by_name

        r = module_breakdown(board_by_name(args.board), design=args.design, dsp=args.dsp)
    except (ToolError, ValueError) as err:
        print(f"breakdown: error: {err}", file=sys.stderr)
        return 1
    print(render_breakdown(r, args.depth))
    return 0


if __name__ == "__main__":
    sys.exit(main())

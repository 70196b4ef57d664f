"""Build firmware for the SoC and run it on the RTL (``hdl/soc.py``) through the one runner.

- :func:`build_soc_firmware` compiles a program from ``firmware/demos/`` (plus generated C
  sources, e.g. a network's weights) against the headers of one :class:`SocParams`
  (``pj_memory_map.h``, ``pj_soc.h``, a link script with that SoC's RAM), cached by a hash of
  every input. A program that does not fit the RAM is refused with one line.
- :func:`run_soc` loads an ELF through the RAM's load port and runs it at full speed until it
  writes ``tohost`` (``sim/soc/bench.py``; the loader is ``sim/riscv/bench.py``'s). One
  Verilator build per SoC configuration serves every program.
"""

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from hdl.memory_map import RAM_BASE
from hdl.soc import Soc, SocParams
from sim.flow.firmware import (
    FIRMWARE,
    OUT,
    RUNTIME,
    cc_flags,
    compile_elf,
    compiler,
    compiler_id,
    generate_headers,
)
from sim.flow.toolchain import ToolError, locked
from sim.riscv.rtl import RunRecord

__all__ = ["SocResult", "run_soc", "build_soc_firmware", "SIM_PARAMS", "DEMOS", "TOPLEVEL",
           "check_fits", "soc_params", "soc_design"]

TOPLEVEL = "soc"
DEMOS = FIRMWARE / "demos"

#: The configuration ``make sim`` and the tests simulate: the default SoC with a fast UART so
#: console output does not dominate simulated time (a board uses 115200 baud).
SIM_PARAMS = SocParams(uart_baud=50_000_000 // 8)


@dataclass(frozen=True)
class SocResult(RunRecord):
    perf: dict = field(default_factory=dict)
    leds: int = 0

    @property
    def passed(self) -> bool:
        return self.halted and self.tohost == 1

    def describe(self) -> str:
        if not self.halted:
            return f"no tohost write within {self.cycles} cycles (last pc {self.last_pc:#010x})"
        if self.tohost == 1:
            return "PASS"
        return f"exit code {self.tohost >> 1} (tohost {self.tohost:#x})"


def check_fits(image_end: int, params: SocParams, what: str) -> None:
    """Refuse an image that reaches past the SoC's RAM."""
    if image_end > RAM_BASE + params.ram_size:
        raise ToolError(f"{what}: the image ends at {image_end:#010x}, beyond the SoC's RAM "
                        f"({params.ram_size} bytes from {RAM_BASE:#010x})")


def build_soc_firmware(name: str, params: SocParams, *, sources=(), generated=None,
                       defines=None, extra=()) -> Path:
    """ELF of ``firmware/demos/<name>.c`` (and ``sources`` from ``firmware/demos/``) with the
    crt0/runtime, for SoC ``params``. ``generated``: ``{file name: text}`` of build-time C
    files (weights, images) compiled in; ``defines``: ``-D`` values; ``extra``: compiler flags
    after the standard ones (``-Os``)."""
    kind, cc = compiler()
    tag = hashlib.sha256(repr(params).encode()).hexdigest()[:10]
    inc = generate_headers(OUT / f"soc-{tag}" / "include", soc=params)
    gen_dir = OUT / f"soc-{tag}" / "gen"
    gen_dir.mkdir(parents=True, exist_ok=True)
    gen_files = []
    for fname, text in (generated or {}).items():
        path = gen_dir / fname
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        gen_files.append(path)
    srcs = [FIRMWARE / f for f in RUNTIME] + [DEMOS / f"{name}.c"] + \
        [DEMOS / s for s in sources] + [g for g in gen_files if g.suffix in (".c", ".S")]
    defines = dict(defines or {})
    h = hashlib.sha256()
    h.update(repr((compiler_id(kind, cc), cc_flags(kind, with_muldiv=params.core.with_muldiv),
                   sorted(defines.items()), tuple(extra))).encode())
    for path in [*srcs, *DEMOS.glob("*.h"), *(FIRMWARE / f for f in ("pj.h", "link.ld")),
                 *gen_files, *inc.iterdir()]:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    out = OUT / "demos" / f"{name}-{tag}-{h.hexdigest()[:12]}.elf"
    with locked(OUT / "demos"):
        if not out.exists():
            try:
                compile_elf(srcs, out, with_muldiv=params.core.with_muldiv, defines=defines,
                            include=[DEMOS, gen_dir], headers=inc, extra=list(extra))
            except ToolError as err:
                if "overflow" in str(err) or "will not fit" in str(err) \
                        or "RAM" in str(err):
                    raise ToolError(f"firmware {name} does not fit the SoC's RAM "
                                    f"({params.ram_size} bytes): {err}") from None
                raise
    return out


def run_soc(elf, params: SocParams = SIM_PARAMS, *, sim: str = "verilator",
            max_cycles: int = 5_000_000, loopback: bool = False, buttons: int = 0,
            waves: bool | None = None, port_wrapper=None) -> SocResult:
    """Run ELF ``elf`` on the SoC until it writes ``tohost`` or ``max_cycles`` pass
    (``port_wrapper``: see :class:`hdl.soc.Soc`)."""
    from sim.riscv.elf import load_elf
    from sim.rtl import run
    from sim.soc.bench import SocJob

    img = load_elf(Path(elf))
    end = max(s.addr + len(s.data) for s in img.segments)
    check_fits(end, params, Path(elf).name)
    job = SocJob(segments=tuple((s.addr, bytes(s.data)) for s in img.segments),
                 tohost=img.tohost, perf=params.perf_counters, max_cycles=max_cycles,
                 loopback=loopback, buttons=buttons)
    # The clock runs inside the simulator (a free-running wrapper): Python waits for halt.
    from sim.rtl.runner import convert, free_running

    soc = Soc(params, port_wrapper=port_wrapper)
    # A wrapper is a function (no stable key): only the plain SoC's text is kept.
    key = ("Soc", params) if port_wrapper is None else None
    text, top, vargs = free_running(convert(soc, TOPLEVEL, key=key), TOPLEVEL)
    res = run(None, toplevel=top, test_module="sim.soc.bench", sim=sim, params=job,
              waves=waves, verilog_text=text,
              verilator_args=vargs if sim == "verilator" else ())
    return SocResult(**res.data("result"))


# ------------------------------------------------------------------------------ memory map doc
MEMORY_MAP_DOC = FIRMWARE.parent / "docs" / "memory-map.md"


def memory_map_markdown(params: SocParams | None = None) -> str:
    """docs/memory-map.md: every region and every register block of the SoC ``params``
    (default :class:`SocParams`), from ``hdl/memory_map.py`` and ``hdl/soc.py``."""
    from hdl.memory_map import REGIONS
    from hdl.soc import soc_register_maps

    params = params or SocParams()
    maps = soc_register_maps(params)
    out = ["# SoC memory map", "",
           "Generated by `picojoule memory-map` (`sim/soc/rtl.py`) from `hdl/memory_map.py` and "
           "`hdl/soc.py`; do not edit (`tb/test_soc.py` checks it is current). The firmware "
           "header `pj_memory_map.h` / `pj_soc.h` come from the same definitions "
           "(`sim/flow/firmware.py`).", "",
           f"Configuration: `{params.name}` (the default `SocParams`; accelerator register "
           "blocks whose size depends on the configuration are shown for it).", "",
           "Any address outside these regions, an offset past a register block's last "
           "register, and a store narrower than 32 bits to a register answer a bus error: the "
           "core takes a load, store or instruction access fault (mcause 5, 7, 1) with mtval "
           "= the address. Nothing aliases.", "",
           "| region | base | size | in this SoC | description |", "|---|---|---|---|---|"]
    for r in REGIONS:
        present = r.name == "ram" or r.name in maps
        size = f"0x{r.size:x}" + (f" ({params.ram_size // 1024} KiB populated)"
                                  if r.name == "ram" else "")
        out.append(f"| {r.name} | `0x{r.base:08x}` | {size} | {'yes' if present else 'no'} | "
                   f"{r.doc}{' (executable)' if r.executable else ''} |")
    for name, rmap in maps.items():
        base = next(r.base for r in REGIONS if r.name == name)
        out += ["", f"## {name} (`0x{base:08x}`, map `{rmap.name}`, {rmap.size} registers)", "",
                f"C: `PJ_{name.upper()}_<REGISTER>`, `..._<FIELD>_SHIFT` / `_MASK`.", "",
                rmap.markdown()]
    if params.with_dma:
        from hdl.periph import PIO_REGS

        out += ["", "## PIO blocks (`imc_pio`, `dot_pio`, `mul_pio`: SoCs without DMAs)", "",
                "With `SocParams.with_dma=False` each stream accelerator's DMA region is empty "
                "and its `<name>_pio` region holds this map (`hdl/periph/pio.py` `WordPio`; C: "
                "`PJ_PIO_<REGISTER>_OFFSET` from the block's `PJ_<NAME>_PIO_BASE`).", "",
                PIO_REGS.markdown()]
    return "\n".join(out) + "\n"


def write_memory_map(path: Path = MEMORY_MAP_DOC) -> Path:
    text = memory_map_markdown()
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def add_memory_map_parser(subparsers) -> None:
    p = subparsers.add_parser("memory-map", help="regenerate docs/memory-map.md from hdl/")
    p.add_argument("--out", default=str(MEMORY_MAP_DOC), help="output file")
    p.set_defaults(func=lambda args: print(f"wrote {write_memory_map(Path(args.out))}") or 0)


# ------------------------------------------------------------------------------ boards
def soc_params(config, *, leds: int, buttons: int, clk_hz: int = 12_000_000):
    """The :class:`SocParams` a board's ``DesignConfig`` describes: ``imc`` tile, ``lmul``
    format offered as an L-Mul-only dot unit of ``dot_lanes`` lanes (``lmul_periph="dot"``) or
    as the element-wise multipliers (``"mul"``), ``onn`` (time-multiplexed with ``onn_lanes``
    lanes when that is nonzero), RV32I or RV32IM by ``with_muldiv``,
    the core ``core_variant`` with ``ras_depth``, DMAs or PIO by ``with_dma``, ``ram_size``
    bytes of RAM; ``clk_hz`` is the board clock."""
    from hdl.periph import DotPeriphParams, MulPeriphParams
    from hdl.riscv.core import CoreParams

    dot = mul = None
    if config.lmul is not None and config.lmul_periph == "dot":
        dot = DotPeriphParams(fmt=config.lmul, lanes=config.dot_lanes, kinds=("lmul",),
                              max_chunks=4)
    elif config.lmul is not None:
        mul = MulPeriphParams(fmt=config.lmul, kind="lmul")
    # No RVFI port on a board: nothing reads it. ``core_variant`` is the one field that
    # chooses the core.
    core = CoreParams(with_muldiv=config.with_muldiv, with_rvfi=False,
                      ras_depth=config.ras_depth, variant=config.core_variant)
    return SocParams(core=core, ram_size=config.ram_size, clk_hz=clk_hz, imc=config.imc,
                     dot=dot, mul=mul, onn=config.onn, onn_lanes=config.onn_lanes or None,
                     with_dma=config.with_dma, leds=leds,
                     buttons=buttons)


def soc_design(config, *, leds: int, buttons: int, program: str = "smoke",
               clk_hz: int = 12_000_000):
    """A board design (``boards/design.py`` factory contract) running ``program`` from RAM:
    ``SocBoard`` with :func:`soc_params` of ``config``. The program is built for size
    (``-Os``): it has to fit the board's block RAM (4 KiB on the UP5K), its speed is not
    measured there."""
    from hdl.soc import SocBoard
    from sim.riscv.elf import load_elf

    params = soc_params(config, leds=leds, buttons=buttons, clk_hz=clk_hz)
    ram_size = params.ram_size
    # -g: zig cc strips the symbol table at -Os, and the loader needs ``tohost``.
    img = load_elf(build_soc_firmware(program, params, extra=("-Os", "-g")), ram_size=ram_size)
    words = [0] * params.ram_words
    for s in img.segments:
        data = bytes(s.data) + b"\0" * (-len(s.data) % 4)
        check_fits(s.addr + len(data), params, program)
        for i in range(0, len(data), 4):
            words[(s.addr - RAM_BASE + i) >> 2] = int.from_bytes(data[i:i + 4], "little")
    return SocBoard(params, ram_init=words)

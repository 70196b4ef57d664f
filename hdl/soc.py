"""``Soc``: the control core, its RAM, the peripherals and the three accelerators on one bus.

::

    core.ibus -- FetchPort --------------------------------> RAM port 1 (fetch; RAM only)
    core.dbus --+
    imc DMA ----+-- Arbiter (core first) -- Decoder --+--> RAM port 0
    dot DMA ----+                                     +--> CsrBridge -> UART, timer, GPIO
                                                      +--> CsrBridge -> IMC tile, IMC DMA
                                                      +--> CsrBridge -> dot units, dot DMA
                                                      +--> CsrBridge -> oscillator array

Without DMAs (``SocParams.with_dma=False``, the UP5K's SoC) there is no arbiter: the core's
data port drives the decoder, and each stream accelerator (IMC tile, dot units, the element-wise
multipliers of ``SocParams.mul``) gets a ``WordPio`` register block in place of its DMA: the
core pushes operand words and pops result words.

Every region of ``hdl/memory_map.REGIONS`` is one decoder target; an address outside every
region, or beyond a register block's last register, or a sub-word write to a register, answers
``err`` and the core takes an access fault. Each register block is a ``hdl/csr.py`` map; the
firmware header and ``docs/memory-map.md`` are generated from :func:`soc_register_maps`.

Simulation ports mirror ``hdl/riscv/system.CoreSystem`` (so ``sim/riscv/bench.py`` loads and
runs programs on both): ``load_*`` write RAM while everything else is held in reset,
``tohost``/``halt``, the console tap, ``cycles``/``instret``/``last_pc``, plus activity
counters ``perf_<name>`` (see :attr:`SocParams.perf_counters`) for the energy estimate.
:class:`SocBoard` is the same SoC with a RAM image and exactly the board ports
(``boards/design.board_signature``).
"""

from dataclasses import dataclass, field

from amaranth import Module, Signal
from amaranth.hdl import ResetInserter
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out, connect

from . import imc as imc_mod
from . import onn as onn_mod
from .bus import Arbiter, Decoder, WishboneRam
from .csr import RegisterMap
from .imc import ImcParams
from .memory_map import GPIO_REGS, RAM_BASE, RAM_SIZE, TIMER_REGS, UART_REGS, region
from .onn import OnnArray, OnnParams, OnnTdm, TdmParams
from .periph import (
    DMA_REGS,
    PIO_REGS,
    CsrBridge,
    DotPeriph,
    DotPeriphParams,
    FetchPort,
    Gpio,
    ImcPeriph,
    MulPeriph,
    MulPeriphParams,
    Timer,
    Uart,
    WordDma,
    WordPio,
    dot_register_map,
)
from .riscv.core import Core, CoreParams, RvfiSignature
from .riscv.system import add_run_control, run_control_members

__all__ = ["SocParams", "Soc", "SocBoard", "soc_register_maps"]


@dataclass(frozen=True)
class SocParams:
    """Everything a board or a simulation sizes: the core, RAM, clock, UART speed and each
    accelerator (``None`` leaves it out; its region then answers bus errors).

    The stream accelerators (``imc``, ``dot``, ``mul``) are fed by a :class:`hdl.periph.WordDma`
    each (region ``<name>_dma``) with ``with_dma``, else by a :class:`hdl.periph.WordPio`
    (region ``<name>_pio``: the core pushes and pops the words; no arbiter, no bus initiator).

    ``onn_lanes`` (None: the fully parallel :class:`hdl.onn.OnnArray`) puts the time-multiplexed
    array ``hdl.onn.OnnTdm(TdmParams(onn, onn_lanes))`` on the same region instead: the same
    register map and golden model, so firmware is the same; only clocks per epoch differ.
    """

    core: CoreParams = field(default_factory=lambda: CoreParams(with_muldiv=True))
    ram_size: int = RAM_SIZE
    clk_hz: int = 50_000_000
    uart_baud: int = 115_200
    imc: ImcParams | None = field(default_factory=ImcParams)
    dot: DotPeriphParams | None = field(default_factory=DotPeriphParams)
    onn: OnnParams | None = field(default_factory=lambda: OnnParams(n=16))
    mul: MulPeriphParams | None = None
    onn_lanes: int | None = None
    with_dma: bool = True
    leds: int = 8
    buttons: int = 8

    def __post_init__(self):
        if not isinstance(self.core, CoreParams):
            raise TypeError(f"core must be CoreParams, not {self.core!r}")
        if self.ram_size < 1024 or self.ram_size & (self.ram_size - 1) \
                or self.ram_size > region("ram").size:
            raise ValueError(f"ram_size must be a power of two in 1 KiB..{region('ram').size} "
                             f"bytes, not {self.ram_size!r}")
        if not 1_000_000 <= self.clk_hz <= 2_000_000_000:
            raise ValueError(f"clk_hz must be in 1 MHz..2 GHz, not {self.clk_hz!r}")
        if not 2 <= self.uart_divisor < 1 << 16:
            raise ValueError(f"uart_baud {self.uart_baud!r} gives a divisor of "
                             f"{self.uart_divisor} at {self.clk_hz} Hz; it must be 2..65535")
        for name, cls in (("imc", ImcParams), ("dot", DotPeriphParams), ("onn", OnnParams),
                          ("mul", MulPeriphParams)):
            v = getattr(self, name)
            if v is not None and not isinstance(v, cls):
                raise TypeError(f"{name} must be {cls.__name__} or None, not {v!r}")
        if self.onn_lanes is not None:
            if self.onn is None:
                raise ValueError(f"onn_lanes={self.onn_lanes!r} needs an oscillator array "
                                 "(onn)")
            TdmParams(self.onn, self.onn_lanes)     # its own one-line errors (lanes, hold)
        for name in ("leds", "buttons"):
            if not 1 <= getattr(self, name) <= 8:
                raise ValueError(f"{name} must be in 1..8, not {getattr(self, name)!r}")
        for rname, regs in soc_register_maps(self).items():
            if 4 * regs.size > region(rname).size:
                raise ValueError(f"{rname}: {regs.size} registers do not fit its region of "
                                 f"{region(rname).size} bytes (reduce the accelerator's size)")

    @property
    def tdm(self) -> TdmParams | None:
        """The time-multiplexed array's params (``onn_lanes`` set), else None."""
        if self.onn_lanes is None:
            return None
        return TdmParams(self.onn, self.onn_lanes)

    @property
    def uart_divisor(self) -> int:
        return round(self.clk_hz / self.uart_baud)

    @property
    def ram_words(self) -> int:
        return self.ram_size // 4

    @property
    def perf_counters(self) -> tuple[str, ...]:
        """Activity counters (``perf_<name>`` ports; 32 bits, cleared by ``load_en``)."""
        names = ["fetch", "core_data", "ram_data", "periph", "dma"]
        busy = ["_dma_busy"] if self.with_dma else []
        if self.imc is not None:
            names += ["imc_products"] + [f"imc{b}" for b in busy]
        if self.dot is not None:
            names += [f"dot_chunks_{k}" for k in self.dot.kinds] + [f"dot{b}" for b in busy]
        if self.mul is not None:
            names += ["mul_products"] + [f"mul{b}" for b in busy]
        return tuple(names)

    @property
    def streams(self) -> tuple[str, ...]:
        """The accelerators with word streams, each fed by a DMA or a PIO block."""
        return tuple(n for n in ("imc", "dot", "mul") if getattr(self, n) is not None)

    @property
    def feeder(self) -> str:
        """What feeds the streams: ``dma`` or ``pio`` (the suffix of their regions)."""
        return "dma" if self.with_dma else "pio"

    @property
    def name(self) -> str:
        parts = [self.core.name, f"ram{self.ram_size // 1024}k"]
        if self.imc is not None:
            parts.append(f"imc{self.imc.rows}x{self.imc.cols}")
        if self.dot is not None:
            parts.append(f"dot{self.dot.fmt}x{self.dot.lanes}")
        if self.onn is not None:
            parts.append(f"onn{self.onn.n}" + (f"tdm{self.onn_lanes}"
                                                if self.onn_lanes is not None else ""))
        if self.mul is not None:
            parts.append(f"mul{self.mul.kind}{self.mul.fmt}")
        if not self.with_dma:
            parts.append("pio")
        return "_".join(parts)


def soc_register_maps(p: SocParams) -> dict[str, RegisterMap]:
    """Region name -> register map, for every register block this SoC has."""
    maps = {"uart": UART_REGS, "timer": TIMER_REGS, "gpio": GPIO_REGS}
    feeder = DMA_REGS if p.with_dma else PIO_REGS
    if p.imc is not None:
        maps["imc"] = imc_mod.register_map(p.imc)
        maps[f"imc_{p.feeder}"] = feeder
    if p.dot is not None:
        maps["dot"] = dot_register_map(p.dot)
        maps[f"dot_{p.feeder}"] = feeder
    if p.mul is not None:
        maps[f"mul_{p.feeder}"] = feeder
    if p.onn is not None:
        maps["onn"] = onn_mod.register_map(p.onn)
    return maps


class Soc(wiring.Component):
    __doc__ = __doc__ + """
    Members
    -------
    load_en, load_adr, load_dat : In     RAM loader; holds everything else in reset
    tohost_adr : In(30)                   word address whose first core write stops the run
    halt : Out(1), tohost_value : Out(32)
    irq_timer, irq_external : In(1)       extra interrupt lines (OR-ed with the timer's)
    irq_ack : Out(1)
    console_valid : Out(1), console_data : Out(8)   a byte the UART starts sending
    cycles, instret : Out(64), last_pc : Out(32)    from the end of loading to ``halt``
    tx : Out(1), rx : In(1), leds : Out(leds), buttons : In(buttons)
    perf_<name> : Out(32)                 activity counters
    rvfi : Out(RvfiSignature)             with ``core.with_rvfi``

    ``port_wrapper`` (test builds): ``port_wrapper(index, region, addr_width)`` returns a
    component with Wishbone ports ``up`` (towards the decoder) and ``down`` (towards the
    target) that the SoC puts on every peripheral port and on RAM's data port (``index`` counts
    the wrapped ports from 1, in a fixed order); ``tb/stall.py`` injects stalls this way.
    """

    def __init__(self, params: SocParams | None = None, *, ram_init=(), port_wrapper=None):
        params = params or SocParams()
        if not isinstance(params, SocParams):
            raise TypeError(f"params must be SocParams, not {params!r}")
        if len(ram_init) > params.ram_words:
            raise ValueError(f"the RAM image has {4 * len(ram_init)} bytes; RAM holds "
                             f"{params.ram_size}")
        self.params = params
        self.ram_init = tuple(ram_init)
        self.port_wrapper = port_wrapper
        self.regs = soc_register_maps(params)
        members = {
            **run_control_members(),
            "tx": Out(1, init=1), "rx": In(1, init=1),
            "leds": Out(params.leds), "buttons": In(params.buttons),
        }
        members.update({f"perf_{n}": Out(32) for n in params.perf_counters})
        if params.core.with_rvfi:
            members["rvfi"] = Out(RvfiSignature())
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        p = self.params
        rst = ResetInserter(self.load_en)

        def add(name, comp, reset=True):
            m.submodules[name] = rst(comp) if reset else comp
            return comp

        core = add("core", Core(p.core))
        ram = add("ram", WishboneRam(p.ram_words, ports=2, init=self.ram_init), reset=False)
        ram_t = ("ram", RAM_BASE >> 2, p.ram_words)
        idec = add("idec", FetchPort(RAM_BASE >> 2, p.ram_words, ram.addr_width))
        # RAM's read data comes straight from the block RAM array, late in the clock: it joins
        # the decoder's read-data OR at the root (``late``), one LUT level before the core's
        # load alignment (the 85F SoC's critical path, docs/fpga.md).
        targets = [(n, region(n).base >> 2, region(n).size >> 2) for n in self.regs] + [ram_t]
        ddec = add("ddec", Decoder(targets, late="ram"))
        dmas = [f"{n}_dma" for n in p.streams] if p.with_dma else []
        if dmas:
            arb = add("arb", Arbiter(1 + len(dmas)))
            connect(m, core.dbus, arb.in0)
            connect(m, arb.out, ddec.bus)
        else:
            connect(m, core.dbus, ddec.bus)
        connect(m, core.ibus, idec.bus)
        connect(m, idec.ram, ram.bus1)

        wrapped = iter(range(1, 64))

        def port(name):
            """The decoder's port for ``name``, behind the ``port_wrapper`` if there is one."""
            bus = getattr(ddec, name)
            if self.port_wrapper is None:
                return bus
            wrap = add(f"wrap_{name}", self.port_wrapper(next(wrapped), name, len(bus.adr)))
            connect(m, bus, wrap.up)
            return wrap.down

        connect(m, port("ram"), ram.bus0)

        def block(name, comp):
            """``comp`` (a component with a ``csr`` port) behind a bridge on region ``name``."""
            bus = port(name)
            bridge = add(f"{name}_bridge", CsrBridge(self.regs[name], len(bus.adr)))
            connect(m, bus, bridge.bus)
            add(name, comp)
            connect(m, bridge.csr, comp.csr)
            return comp

        uart = block("uart", Uart(p.uart_divisor))
        timer = block("timer", Timer())
        gpio = block("gpio", Gpio(leds=p.leds, buttons=p.buttons))
        m.d.comb += [
            self.tx.eq(uart.tx), uart.rx.eq(self.rx),
            self.leds.eq(gpio.leds), gpio.buttons.eq(self.buttons),
            self.console_valid.eq(uart.sent), self.console_data.eq(uart.sent_data),
            core.irq_timer.eq(timer.irq | self.irq_timer),
            core.irq_external.eq(self.irq_external), self.irq_ack.eq(core.irq_ack),
            ram.load_en.eq(self.load_en), ram.load_adr.eq(self.load_adr),
            ram.load_dat.eq(self.load_dat),
        ]

        perf = {}
        for i, name in enumerate(p.streams):
            feed = f"{name}_{p.feeder}"
            if p.with_dma:
                fb = block(feed, WordDma())
                connect(m, fb.bus, getattr(arb, f"in{i + 1}"))
                perf[f"{name}_dma_busy"] = fb.busy
            else:
                fb = block(feed, WordPio())
            if name == "imc":
                acc = block("imc", ImcPeriph(p.imc, with_result_buffer=p.with_dma))
                perf["imc_products"] = acc.products
            elif name == "dot":
                acc = block("dot", DotPeriph(p.dot))
                for k, kind in enumerate(p.dot.kinds):
                    perf[f"dot_chunks_{kind}"] = acc.chunks[k]
            else:
                acc = add("mul", MulPeriph(p.mul))
                perf["mul_products"] = acc.products
            connect(m, fb.o, acc.i)
            connect(m, acc.o, fb.i)
        if p.onn is not None:
            block("onn", OnnArray(p.onn) if p.tdm is None else OnnTdm(p.tdm))

        # ---- activity counters
        def accepted(b):
            return b.cyc & b.stb & ~b.stall

        perf["fetch"] = accepted(core.ibus)
        perf["core_data"] = accepted(core.dbus)
        perf["ram_data"] = accepted(ram.bus0)
        dma_acc = Signal()
        for i in range(len(dmas)):
            dma_acc = dma_acc | accepted(getattr(arb, f"in{i + 1}"))
        perf["dma"] = dma_acc
        periph = Signal()
        for name in self.regs:
            b = getattr(ddec, name)
            periph = periph | accepted(b)
        perf["periph"] = periph
        for name in p.perf_counters:
            ctr = getattr(self, f"perf_{name}")
            with m.If(self.load_en):
                m.d.sync += ctr.eq(0)
            with m.Elif(~self.halt & perf[name]):
                m.d.sync += ctr.eq(ctr + 1)

        # ---- simulation: tohost, cycles, retire counts (as CoreSystem)
        if p.core.with_rvfi:
            connect(m, wiring.flipped(self.rvfi), core.rvfi)
        add_run_control(m, self, core, p.core.with_rvfi)
        return m


class SocBoard(wiring.Component):
    """The SoC as a board design: a RAM image (``ram_init``, words from ``RAM_BASE``) and
    exactly the ports of ``boards/design.board_signature`` (tx, rx, leds, buttons)."""

    def __init__(self, params: SocParams, *, ram_init):
        self.params = params
        self.soc = Soc(params, ram_init=ram_init)
        super().__init__({"tx": Out(1, init=1), "rx": In(1, init=1),
                          "leds": Out(params.leds), "buttons": In(params.buttons)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.soc = soc = self.soc
        m.d.comb += [self.tx.eq(soc.tx), soc.rx.eq(self.rx), self.leds.eq(soc.leds),
                     soc.buttons.eq(self.buttons), soc.load_en.eq(0),
                     soc.tohost_adr.eq(0x3FFF_FFFF)]
        return m

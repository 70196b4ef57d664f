"""``CoreSystem``: the core with its RAM, for running programs (``picojoule run-elf``, the
lockstep tests, the CPI and speed benchmarks).

- RAM at ``memory_map.RAM_BASE`` (``ram_size`` bytes), two ports: one for fetch, one for data.
- A console at the UART region: a write to ``tx`` pulses ``console_valid`` with the byte.
- ``tohost``: the first data write to the word at ``tohost_adr`` (a run-time input, so one
  build runs every ELF) stops the run: ``halt`` rises and ``tohost_value`` holds the value.
- With ``with_custom0``, :class:`ExampleAccelerator` answers custom-0 instructions.
- Everything else answers with a bus error (an access fault in the core).
- ``load_en`` holds the core in reset while ``load_adr``/``load_dat`` write RAM words.
- ``cycles``/``instret`` count from the end of loading to ``halt``; ``last_pc`` is the pc of
  the last instruction that completed (these need ``with_rvfi``).
"""

from amaranth import Module, Signal
from amaranth.hdl import ResetInserter
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out, connect

from ..bus import Decoder, WishboneRam, WishboneSignature
from ..memory_map import RAM_BASE, UART_REGS, region
from .core import Core, CoreParams, CustomSignature, RvfiSignature

__all__ = ["CoreSystem", "Console", "ExampleAccelerator", "add_run_control"]


class ExampleAccelerator(wiring.Component):
    """A custom-0 accelerator for testing the core's port: ``rd = (rs1 << 1) + rs2`` after
    ``funct3`` wait clocks; a non-zero ``funct7`` is refused (``error``: the core traps)."""

    def __init__(self):
        super().__init__({"port": In(CustomSignature())})

    def elaborate(self, platform):
        m = Module()
        p = self.port
        count = Signal(3)
        busy = Signal()
        with m.If(p.valid & ~busy):
            m.d.sync += [busy.eq(1), count.eq(p.insn[12:15])]
        with m.Elif(busy & (count != 0)):
            m.d.sync += count.eq(count - 1)
        with m.Elif(busy):
            m.d.sync += busy.eq(0)
        m.d.comb += [
            p.ready.eq(busy & (count == 0)),
            p.result.eq((p.rs1 << 1) + p.rs2),
            p.error.eq(p.insn[25:32] != 0),
        ]
        return m


class Console(wiring.Component):
    """Write-only console on the UART's ``tx`` register (other registers read 0)."""

    def __init__(self, addr_width: int):
        super().__init__({"bus": In(WishboneSignature(addr_width)),
                          "valid": Out(1), "data": Out(8)})

    def elaborate(self, platform):
        m = Module()
        req = self.bus.cyc & self.bus.stb
        m.d.comb += self.bus.dat_r.eq(0)
        m.d.sync += [self.bus.ack.eq(req), self.valid.eq(0)]
        with m.If(req & self.bus.we & (self.bus.adr == UART_REGS.offset("tx"))):
            m.d.sync += [self.valid.eq(1), self.data.eq(self.bus.dat_w[0:8])]
        return m


class CoreSystem(wiring.Component):
    def __init__(self, core: CoreParams | None = None, ram_size: int = 256 * 1024):
        core = core or CoreParams()
        if ram_size < 1024 or ram_size & (ram_size - 1):
            raise ValueError(f"ram_size must be a power of two of at least 1 KiB, "
                             f"not {ram_size!r}")
        self.core_params, self.ram_size = core, ram_size
        self.ram_words = ram_size // 4
        members = run_control_members()
        if core.with_rvfi:
            members["rvfi"] = Out(RvfiSignature())
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = core = ResetInserter(self.load_en)(Core(self.core_params))
        m.submodules.ram = ram = WishboneRam(self.ram_words, ports=2)
        uart = region("uart")
        m.submodules.idec = idec = Decoder([("ram", RAM_BASE >> 2, self.ram_words)])
        m.submodules.ddec = ddec = Decoder([("ram", RAM_BASE >> 2, self.ram_words),
                                            ("uart", uart.base >> 2, uart.size >> 2)])
        m.submodules.console = console = Console(ddec.uart.adr.shape().width)
        connect(m, core.ibus, idec.bus)
        connect(m, idec.ram, ram.bus1)
        connect(m, core.dbus, ddec.bus)
        connect(m, ddec.ram, ram.bus0)
        connect(m, ddec.uart, console.bus)
        m.d.comb += [
            ram.load_en.eq(self.load_en), ram.load_adr.eq(self.load_adr),
            ram.load_dat.eq(self.load_dat),
            core.irq_timer.eq(self.irq_timer), core.irq_external.eq(self.irq_external),
            self.irq_ack.eq(core.irq_ack),
            self.console_valid.eq(console.valid), self.console_data.eq(console.data),
        ]
        if self.core_params.with_rvfi:
            connect(m, wiring.flipped(self.rvfi), core.rvfi)
        if self.core_params.with_custom0:
            m.submodules.accel = accel = ExampleAccelerator()
            connect(m, core.custom, accel.port)
        add_run_control(m, self, core, self.core_params.with_rvfi)
        return m


def run_control_members() -> dict:
    """The ports of a system run by ``sim/riscv/rtl.py`` (image loading, ``tohost``, interrupt
    lines, console, counters), shared by ``CoreSystem`` and the SoC; see :func:`add_run_control`."""
    return {
        "load_en": In(1), "load_adr": In(30), "load_dat": In(32),
        "tohost_adr": In(30), "halt": Out(1), "tohost_value": Out(32),
        "irq_timer": In(1), "irq_external": In(1), "irq_ack": Out(1),
        "console_valid": Out(1), "console_data": Out(8),
        "cycles": Out(64), "instret": Out(64), "last_pc": Out(32),
    }


def add_run_control(m, host, core, with_rvfi: bool) -> None:
    """The simulation run control shared by ``CoreSystem`` and the SoC: ``cycles``/``instret``
    count from the end of loading (``load_en``) to ``halt``; ``halt`` rises and ``tohost_value``
    holds the data of the first store accepted at word ``tohost_adr``; ``last_pc`` is the pc of
    the last completed instruction (``instret``/``last_pc`` need the RVFI port)."""
    d = core.dbus
    with m.If(host.load_en):
        m.d.sync += [host.halt.eq(0), host.cycles.eq(0), host.instret.eq(0)]
    with m.Elif(~host.halt):
        m.d.sync += host.cycles.eq(host.cycles + 1)
        if with_rvfi:
            with m.If(core.rvfi.valid & ~core.rvfi.trap):
                m.d.sync += host.instret.eq(host.instret + 1)
            with m.If(core.rvfi.valid):
                m.d.sync += host.last_pc.eq(core.rvfi.pc_rdata)
        with m.If(d.cyc & d.stb & ~d.stall & d.we & (d.adr == host.tohost_adr)):
            m.d.sync += [host.halt.eq(1), host.tohost_value.eq(d.dat_w)]

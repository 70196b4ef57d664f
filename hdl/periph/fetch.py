# Ref: Wishbone B4 (OpenCores, 2010), pipelined mode.
"""The core's instruction fetch onto one RAM port."""

from amaranth import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..bus import WishboneSignature

__all__ = ["FetchPort"]


class FetchPort(wiring.Component):
    """The core's instruction fetch onto one RAM port, in place of a one-target ``Decoder``.

    Every request goes to RAM whatever its address (a read outside RAM is harmless); whether
    the address lies in RAM's region is registered when the request is accepted and turns
    RAM's answer into ``ack`` or ``err`` (an instruction access fault). A ``Decoder`` gates
    RAM's read enable with that address compare, which put the compare between the core's
    next-pc logic and the block RAM's clock enable: the UP5K SoC's critical path. Read only
    (``we`` to RAM is 0). Answers as RAM does: the clock after acceptance.

    Members
    -------
    bus : In(WishboneSignature(30))          the core's fetch port
    ram : Out(WishboneSignature(addr_width)) RAM's port (word address inside RAM)
    """

    def __init__(self, base_word: int, size_words: int, addr_width: int):
        if size_words & (size_words - 1) or base_word % size_words:
            raise ValueError(f"size {size_words} must be a power of two and base "
                             f"{base_word:#x} aligned to it")
        self.base_word, self.size_words = base_word, size_words
        super().__init__({"bus": In(WishboneSignature(30)),
                          "ram": Out(WishboneSignature(addr_width))})

    def elaborate(self, platform):
        m = Module()
        bus, ram = self.bus, self.ram
        k = (self.size_words - 1).bit_length()
        hit_q = Signal()
        m.d.comb += [ram.cyc.eq(bus.cyc), ram.stb.eq(bus.stb), ram.we.eq(0),
                     ram.adr.eq(bus.adr), ram.sel.eq(bus.sel), ram.dat_w.eq(bus.dat_w),
                     bus.stall.eq(ram.stall), bus.dat_r.eq(ram.dat_r),
                     bus.ack.eq(ram.ack & hit_q), bus.err.eq(ram.ack & ~hit_q)]
        with m.If(bus.cyc & bus.stb & ~bus.stall):
            m.d.sync += hit_q.eq((bus.adr >> k) == (self.base_word >> k))
        return m

"""A vector to words: the word packing behind a wide stream output."""

from amaranth import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["Scatter"]


class Scatter(wiring.Component):
    """A vector of ``words`` 32-bit words in, the words out (first word first)."""

    def __init__(self, words: int):
        self.words = words
        super().__init__({"i": In(stream.Signature(32 * words)),
                          "o": Out(stream.Signature(32))})

    def elaborate(self, platform):
        m = Module()
        n = self.words
        buf = Signal(32 * n)
        left = Signal(range(n + 1))
        m.d.comb += [self.o.valid.eq(left != 0), self.o.payload.eq(buf[:32]),
                     self.i.ready.eq(left == 0)]
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += [buf.eq(buf >> 32), left.eq(left - 1)]
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [buf.eq(self.i.payload), left.eq(n)]
        return m

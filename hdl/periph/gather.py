"""Words to a vector: the word packing in front of a wide stream input."""

from amaranth import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["Gather"]


class Gather(wiring.Component):
    """``words`` 32-bit words in, one ``32 * words``-bit vector out (first word lowest)."""

    def __init__(self, words: int):
        self.words = words
        super().__init__({"i": In(stream.Signature(32)),
                          "o": Out(stream.Signature(32 * words))})

    def elaborate(self, platform):
        m = Module()
        n = self.words
        buf = Signal(32 * n)
        cnt = Signal(range(n + 1))
        m.d.comb += [self.o.valid.eq(cnt == n), self.o.payload.eq(buf),
                     self.i.ready.eq(cnt != n)]
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [buf.eq(Cat(buf[32:], self.i.payload) if n > 1 else self.i.payload),
                         cnt.eq(cnt + 1)]
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += cnt.eq(0)
        return m

"""Element-wise fp8 products, four lanes per word, no accumulator."""

from dataclasses import dataclass

from amaranth import Cat, Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out, connect

from ..float import FORMATS
from ..lmul import MULTIPLIERS
from .gather import Gather

__all__ = ["MulPeriph", "MulPeriphParams"]


@dataclass(frozen=True)
class MulPeriphParams:
    """The element-wise multiplier peripheral: ``kind`` (``lmul``: L-Mul, ``fpmul``: exact)
    products of 8-bit floats in ``fmt``, four lanes (one word) at a time."""

    fmt: str = "e4m3"
    kind: str = "lmul"

    def __post_init__(self):
        if self.fmt not in FORMATS or FORMATS[self.fmt].width != 8:
            narrow = ", ".join(k for k, f in FORMATS.items() if f.width == 8)
            raise ValueError(f"fmt must be an 8-bit format ({narrow}), not {self.fmt!r}")
        if self.kind not in MULTIPLIERS:
            raise ValueError(f"kind must be one of {', '.join(MULTIPLIERS)}, not {self.kind!r}")

    #: Elements per word.
    lanes = 4


class MulPeriph(wiring.Component):
    """Element-wise products of fp8 vectors, four lanes per word: a word of ``a`` then a word
    of ``b`` in (element k at byte k), one word out whose byte k is ``a[k] * b[k]``
    (``hdl/lmul.py``'s ``LMul`` or ``FpMul``; no accumulator: firmware adds). No registers of
    its own; the SoC feeds it by a :class:`WordPio` or :class:`WordDma`.

    Latency: the product word is valid the clock after ``b`` is accepted and held until taken;
    the next pair is accepted only then (one pair in flight).

    Members
    -------
    i : In(stream.Signature(32))       a, b, a, b, ... words
    o : Out(stream.Signature(32))      products
    products : Out(1)                  one clock per product word taken (activity counter)
    """

    def __init__(self, params: MulPeriphParams):
        if not isinstance(params, MulPeriphParams):
            raise TypeError(f"params must be MulPeriphParams, not {params!r}")
        self.params = params
        super().__init__({"i": In(stream.Signature(32)), "o": Out(stream.Signature(32)),
                          "products": Out(1)})

    def elaborate(self, platform):
        m = Module()
        p = self.params
        m.submodules.gather = g = Gather(2)
        connect(m, wiring.flipped(self.i), g.i)
        prods = []
        for k in range(p.lanes):
            u = MULTIPLIERS[p.kind](FORMATS[p.fmt])
            m.submodules[f"mul{k}"] = u
            m.d.comb += [u.a.eq(g.o.payload[8 * k:8 * k + 8]),
                         u.b.eq(g.o.payload[32 + 8 * k:32 + 8 * k + 8])]
            prods.append(u.y)
        m.d.comb += [self.o.valid.eq(g.o.valid), self.o.payload.eq(Cat(*prods)),
                     g.o.ready.eq(self.o.ready),
                     self.products.eq(self.o.valid & self.o.ready)]
        return m

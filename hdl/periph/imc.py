"""The IMC tile on the bus: its registers and the DMA word streams."""

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out, connect

from ..csr import CsrSignature
from ..imc import ImcParams, ImcTile
from .gather import Gather
from .scatter import Scatter

__all__ = ["ImcPeriph"]


class ImcPeriph(wiring.Component):
    """The IMC tile on the bus: its own register map (``csr``, weights and control) and the
    DMA word streams for activations and results.

    An activation vector is ``rows * a_bits / 32`` words (``a_bits``-bit lanes, row 0 in the
    lowest bits of the first word: int8 activations are consecutive bytes in RAM); a result is
    ``cols`` words, each column's sum sign-extended to 32 bits. So a DMA transfer of ``k``
    products is ``SRC_WORDS = k * in_words`` and ``DST_WORDS = k * cols``.

    ``with_result_buffer`` (the default) copies a result into a ``cols``-word shift register,
    so the tile computes the next product while the words drain (the DMA SoC). Without it the
    result words are selected column by column from the tile's held output, and the tile waits
    until the last one is taken: no buffer (``cols * 32`` flip-flops fewer), for a core that
    pops words far slower than the tile computes (PIO).

    Members
    -------
    csr : In(CsrSignature)             the tile's ``hdl.imc.register_map``
    i : In(stream.Signature(32))       activation words (from the DMA)
    o : Out(stream.Signature(32))      result words (to the DMA)
    products : Out(1)                  one clock per product accepted (activity counter)
    """

    def __init__(self, params: ImcParams, *, with_result_buffer: bool = True):
        if (params.rows * params.a_bits) % 32:
            raise ValueError(f"rows * a_bits must be a multiple of 32 for the word packing, "
                             f"not {params.rows} * {params.a_bits}")
        self.params = params
        self.with_result_buffer = with_result_buffer
        self.tile = ImcTile(params)
        self.in_words = params.rows * params.a_bits // 32
        self.out_words = params.cols
        super().__init__({"csr": In(CsrSignature(self.tile.regs.addr_width)),
                          "i": In(stream.Signature(32)), "o": Out(stream.Signature(32)),
                          "products": Out(1)})

    def elaborate(self, platform):
        m = Module()
        p = self.params
        m.submodules.tile = tile = self.tile
        m.submodules.gather = g = Gather(self.in_words)
        connect(m, wiring.flipped(self.csr), tile.csr)
        connect(m, wiring.flipped(self.i), g.i)
        m.d.comb += [tile.i.valid.eq(g.o.valid), tile.i.payload.eq(g.o.payload),
                     g.o.ready.eq(tile.i.ready), tile.w.valid.eq(0),
                     self.products.eq(tile.i.valid & tile.i.ready)]
        if self.with_result_buffer:
            m.submodules.scatter = s = Scatter(self.out_words)
            connect(m, s.o, wiring.flipped(self.o))
            out = Signal(32 * p.cols)
            m.d.comb += out.eq(Cat(*(_sext32(tile.o.payload[c]) for c in range(p.cols))))
            m.d.comb += [s.i.valid.eq(tile.o.valid), s.i.payload.eq(out),
                         tile.o.ready.eq(s.i.ready)]
        else:
            # The tile holds o.payload while o.valid and not o.ready (a stream's contract).
            col = Signal(range(max(2, p.cols)))
            last = col == p.cols - 1
            m.d.comb += [self.o.valid.eq(tile.o.valid),
                         self.o.payload.eq(_sext32(tile.o.payload[col])),
                         tile.o.ready.eq(self.o.ready & last)]
            with m.If(self.o.valid & self.o.ready):
                m.d.sync += col.eq(Mux(last, 0, col + 1))
        return m


def _sext32(v):
    """A signed value widened to 32 bits (two's complement)."""
    w = len(v)
    return Cat(v, v[w - 1].replicate(32 - w)) if w < 32 else v[:32]

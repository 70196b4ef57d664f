"""The L-Mul / exact dot-product units on the bus: a stationary operand buffer and the DMA word
streams."""

from dataclasses import dataclass

from amaranth import Array, Cat, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out, connect

from ..csr import CsrSignature, Field, Register, RegisterMap, read_registers
from ..float import FORMATS
from ..ldot import DotParams, DotUnit
from .gather import Gather

__all__ = ["DotPeriph", "DotPeriphParams", "dot_register_map", "DotCause"]


@dataclass(frozen=True)
class DotPeriphParams:
    """The dot-product peripheral: one unit per ``kinds`` entry (``lmul``: L-Mul, ``fpmul``:
    exact fp8 products), all in ``fmt`` with ``lanes`` lanes, and an operand buffer of
    ``max_chunks`` chunks (vectors of up to ``max_chunks * lanes`` elements)."""

    fmt: str = "e4m3"
    lanes: int = 8
    kinds: tuple = ("lmul", "fpmul")
    max_chunks: int = 16

    def __post_init__(self):
        if self.fmt not in FORMATS or FORMATS[self.fmt].width != 8:
            narrow = ", ".join(k for k, f in FORMATS.items() if f.width == 8)
            raise ValueError(f"fmt must be an 8-bit format ({narrow}), not {self.fmt!r}")
        if self.lanes % 4 or not 4 <= self.lanes <= 32:
            raise ValueError(f"lanes must be a multiple of 4 in 4..32 (whole words), "
                             f"not {self.lanes!r}")
        if not self.kinds or any(k not in ("lmul", "fpmul") for k in self.kinds) \
                or len(set(self.kinds)) != len(self.kinds):
            raise ValueError(f"kinds must be distinct values of 'lmul', 'fpmul', "
                             f"not {self.kinds!r}")
        if not 1 <= self.max_chunks <= 256:
            raise ValueError(f"max_chunks must be in 1..256, not {self.max_chunks!r}")

    def unit(self, kind: str) -> DotParams:
        return DotParams(FORMATS[self.fmt], lanes=self.lanes, kind=kind)

    @property
    def chunk_words(self) -> int:
        return self.lanes * 8 // 32


class DotCause:
    """Dot peripheral STATUS.cause bits (sticky until CMD.clear)."""
    BAD_CHUNKS = 1    # CTRL.chunks outside 1..max_chunks
    BAD_KIND = 2      # CTRL.kind names a unit this build does not have
    BUSY = 4          # CTRL or XBUF written while a vector is in flight


def dot_register_map(p: DotPeriphParams) -> RegisterMap:
    return RegisterMap("dot", (
        Register("INFO", (Field("lanes", 6), Field("max_chunks", 9), Field("kinds", 2),
                          Field("fmt_e", 4), Field("fmt_m", 4)), access="r",
                 doc="build-time parameters; kinds bit 0: lmul unit, bit 1: fpmul (exact) unit"),
        Register("CTRL", (Field("chunks", 9, "chunks per vector"),
                          Field("kind", 1, "0: L-Mul, 1: fpmul (exact)")),
                 doc="vector length in chunks of `lanes` and the unit; refused when bad"),
        Register("STATUS", (Field("busy", 1), Field("error", 1), Field("cause", 3)),
                 access="r", doc="busy: a vector in flight; error/cause sticky (DotCause)"),
        Register("CMD", (Field("clear", 1),), access="w", doc="clear errors"),
        Register("COUNT", (Field("vectors", 32),), access="r",
                 doc="results produced since reset"),
        Register("XBUF", (Field("data", 32),), access="w",
                 count=p.max_chunks * p.chunk_words,
                 doc="the stationary operand b: element k at byte k (little endian)"),
    ))


class DotPeriph(wiring.Component):
    """Dot products of streamed vectors ``a`` against a stationary vector ``b`` (XBUF).

    ``b`` (e.g. a layer's input activations) is written once into XBUF; the DMA then streams
    ``a`` vectors (e.g. weight rows), ``chunks * lanes`` fp8 elements each, ``lanes/4`` words
    per chunk, and collects one fp32 word per vector from the unit selected by CTRL.kind.
    Throughput: one chunk per ``lanes/4`` words the DMA delivers (the bus is the bottleneck:
    2 words per 8-lane chunk); latency ``DotUnit.LATENCY`` after the last chunk.

    Members
    -------
    csr : In(CsrSignature)             ``dot_register_map``
    i : In(stream.Signature(32))       ``a`` words (from the DMA)
    o : Out(stream.Signature(32))      fp32 results (to the DMA)
    chunks : Out(len(kinds))           one clock per chunk accepted, per unit (activity)
    """

    def __init__(self, params: DotPeriphParams):
        if not isinstance(params, DotPeriphParams):
            raise TypeError(f"params must be DotPeriphParams, not {params!r}")
        self.params = params
        self.regs = dot_register_map(params)
        super().__init__({"csr": In(CsrSignature(self.regs.addr_width)),
                          "i": In(stream.Signature(32)), "o": Out(stream.Signature(32)),
                          "chunks": Out(len(params.kinds))})

    def elaborate(self, platform):
        m = Module()
        p, regs, csr = self.params, self.regs, self.csr
        cw = p.chunk_words
        units = []
        for k in p.kinds:
            u = DotUnit(p.unit(k))
            m.submodules[f"unit_{k}"] = u
            units.append(u)
        m.submodules.gather = g = Gather(cw)
        connect(m, wiring.flipped(self.i), g.i)
        xbuf = [Signal(32 * cw, name=f"xbuf{c}") for c in range(p.max_chunks)]
        chunks = Signal(9, init=1)
        kind = Signal(1)
        cause = Signal(3)
        count = Signal(32)
        idx = Signal(range(max(2, p.max_chunks)))
        inflight = Signal(range(2 * p.max_chunks + 8))   # chunks accepted, results not out
        busy = Signal()
        m.d.comb += busy.eq((idx != 0) | (inflight != 0) | g.o.valid)

        has = [("lmul" in p.kinds), ("fpmul" in p.kinds)]
        sel_unit = Signal(range(max(2, len(units))))
        m.d.comb += sel_unit.eq(Mux(kind, p.kinds.index("fpmul") if has[1] else 0,
                                    p.kinds.index("lmul") if has[0] else 0))
        last = idx == chunks - 1
        b_chunk = Array(xbuf)[idx]
        accept = Signal()
        for n, u in enumerate(units):
            mine = sel_unit == n
            m.d.comb += [u.i.valid.eq(g.o.valid & mine),
                         u.i.payload.a.eq(g.o.payload), u.i.payload.b.eq(b_chunk),
                         u.i.payload.last.eq(last),
                         self.chunks[n].eq(u.i.valid & u.i.ready)]
            with m.If(mine):
                m.d.comb += [g.o.ready.eq(u.i.ready), accept.eq(g.o.valid & u.i.ready)]
        with m.If(accept):
            m.d.sync += idx.eq(Mux(last, 0, idx + 1))
        # results of every unit in order (one unit works at a time: kind changes only when idle)
        out_v = Signal()
        out_d = Signal(32)
        for u in units:
            with m.If(u.o.valid):
                m.d.comb += [out_v.eq(1), out_d.eq(u.o.payload)]
            m.d.comb += u.o.ready.eq(self.o.ready)
        m.d.comb += [self.o.valid.eq(out_v), self.o.payload.eq(out_d)]
        done_one = out_v & self.o.ready
        with m.If(done_one):
            m.d.sync += count.eq(count + 1)
        m.d.sync += inflight.eq(inflight + (accept & last) - done_one)

        wr = csr.w_stb
        xoff = regs.offset("XBUF")
        config_write = wr & ((csr.addr == regs.offset("CTRL"))
                             | ((csr.addr >= xoff) & (csr.addr < xoff + regs["XBUF"].count)))
        with m.If(config_write & busy):
            m.d.sync += cause.eq(cause | DotCause.BUSY)
        with m.Elif(wr & (csr.addr == regs.offset("CTRL"))):
            c = regs.field_bits("CTRL", "chunks", csr.w_data)
            k = regs.field_bits("CTRL", "kind", csr.w_data)
            bad_c = (c == 0) | (c > p.max_chunks)
            bad_k = Mux(k, not has[1], not has[0])
            with m.If(bad_c | bad_k):
                m.d.sync += cause.eq(cause | Mux(bad_c, DotCause.BAD_CHUNKS, 0)
                                     | Mux(bad_k, DotCause.BAD_KIND, 0))
            with m.Else():
                m.d.sync += [chunks.eq(c), kind.eq(k)]
        with m.If(wr & (csr.addr == regs.offset("CMD")) & regs.field_bits("CMD", "clear",
                                                                   csr.w_data)):
            m.d.sync += cause.eq(0)
        for c in range(p.max_chunks):
            for w in range(cw):
                with m.If(wr & ~busy & (csr.addr == regs.offset("XBUF", c * cw + w))):
                    m.d.sync += xbuf[c][32 * w:32 * (w + 1)].eq(csr.w_data)
        fmt = FORMATS[p.fmt]
        info = regs.pack("INFO", lanes=p.lanes, max_chunks=p.max_chunks,
                         kinds=int(has[0]) | int(has[1]) << 1, fmt_e=fmt.exp_bits,
                         fmt_m=fmt.man_bits)
        st = Signal(regs["STATUS"].layout)
        m.d.comb += [st.busy.eq(busy), st.error.eq(cause != 0), st.cause.eq(cause)]
        read_registers(m, csr, regs, {"INFO": info, "CTRL": Cat(chunks, kind),
                                      "STATUS": st.as_value(), "COUNT": count})
        return m

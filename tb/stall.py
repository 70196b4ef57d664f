"""Test gateware: a Wishbone pass-through that stalls requests and delays answers, and the
``Soc`` port wrapper that puts one on every peripheral port and RAM's data port."""

from amaranth import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hdl.bus import WishboneSignature

__all__ = ["StallInjector", "stall_ports"]


class StallInjector(wiring.Component):
    """Pass-through Wishbone port that stalls requests and delays answers pseudo-randomly
    (a 16-bit LFSR from ``seed``; roughly half the clocks stall, answers wait 0-3 clocks).
    For test builds: behaviour must not change, only timing.

    Members
    -------
    up : In(WishboneSignature(addr_width))     towards the initiator
    down : Out(WishboneSignature(addr_width))  towards the target
    """

    def __init__(self, addr_width: int, seed: int):
        if not 1 <= seed < 1 << 16:
            raise ValueError(f"seed must be in 1..65535, not {seed!r}")
        self.seed = seed
        super().__init__({"up": In(WishboneSignature(addr_width)),
                          "down": Out(WishboneSignature(addr_width))})

    def elaborate(self, platform):
        m = Module()
        up, down = self.up, self.down
        lfsr = Signal(16, init=self.seed)
        m.d.sync += lfsr.eq(Mux(lfsr[0], (lfsr >> 1) ^ 0xB400, lfsr >> 1))
        block = Signal()
        outstanding = Signal()      # accepted here, answer not yet given upstream
        got = Signal()              # the answer arrived from downstream and is held
        h_ack, h_err, h_dat = Signal(), Signal(), Signal(32)
        m.d.comb += [
            block.eq(lfsr[3] | outstanding),
            down.cyc.eq(up.cyc), down.stb.eq(up.stb & ~block), down.we.eq(up.we),
            down.adr.eq(up.adr), down.sel.eq(up.sel), down.dat_w.eq(up.dat_w),
            up.stall.eq(block | down.stall),
        ]
        with m.If(up.stb & ~up.stall):
            m.d.sync += outstanding.eq(1)
        with m.If(down.ack | down.err):
            m.d.sync += [got.eq(1), h_ack.eq(down.ack), h_err.eq(down.err),
                         h_dat.eq(down.dat_r)]
        release = got & (lfsr[5] | lfsr[9])
        m.d.comb += [up.ack.eq(release & h_ack), up.err.eq(release & h_err),
                     up.dat_r.eq(h_dat)]
        with m.If(release):
            m.d.sync += [got.eq(0), outstanding.eq(0)]
        return m


def stall_ports(seed: int):
    """A ``Soc(port_wrapper=...)``: a :class:`StallInjector` on each port, the ``index``-th
    seeded ``seed * 64 + index`` (16 bits, never 0)."""
    if not 1 <= seed < 1 << 12:
        raise ValueError(f"stall seed must be in 1..4095, not {seed!r}")

    def wrap(index: int, region: str, addr_width: int) -> StallInjector:
        return StallInjector(addr_width, (seed * 64 + index) & 0xFFFF or 1)

    return wrap

# Ref: Wishbone B4 (OpenCores, 2010), pipelined mode.
"""A Wishbone target in front of one ``hdl/csr.py`` register block."""

from amaranth import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..bus import WishboneSignature
from ..csr import CsrSignature, RegisterMap

__all__ = ["CsrBridge"]


class CsrBridge(wiring.Component):
    """Wishbone target -> CSR bus of a register block with ``regs.size`` words.

    Never stalls. A request is registered first (so the bus decoder's timing ends at this
    bridge's flip-flops, not at the register block's write enables), drives the CSR strobes
    the next clock and is answered the clock after: ``ack`` with the register's value, or
    ``err`` for an offset ``>= regs.size`` or a write with ``sel != 0b1111``. Requests may
    come back to back (one answer per clock, in order). Reads of a sub-word (``lb``) return the
    whole register; the core picks the byte.

    Members
    -------
    bus : In(WishboneSignature(addr_width))
    csr : Out(CsrSignature(regs.addr_width))
    """

    #: Clocks from an accepted request to its ``ack``/``err``.
    LATENCY = 2

    def __init__(self, regs: RegisterMap, addr_width: int):
        if regs.size > 1 << addr_width:
            raise ValueError(f"register block {regs.name} has {regs.size} words, more than its "
                             f"window of {1 << addr_width}")
        self.regs = regs
        super().__init__({"bus": In(WishboneSignature(addr_width)),
                          "csr": Out(CsrSignature(regs.addr_width))})

    def elaborate(self, platform):
        m = Module()
        bus, csr = self.bus, self.csr
        req = Signal()
        s1_req, s1_ok, s1_we = Signal(), Signal(), Signal()
        s1_adr = Signal(len(bus.adr))
        s1_dat = Signal(32)
        m.d.comb += [req.eq(bus.cyc & bus.stb), bus.stall.eq(0)]
        # Captured every clock, not only on a request: the strobes below qualify them, and
        # every bridge then registers the same decoder outputs, so a flattened synthesis keeps
        # one copy of s1_we/s1_adr/s1_dat for all bridges (opt_merge) instead of one each.
        m.d.sync += [
            s1_req.eq(req),
            s1_ok.eq((bus.adr < self.regs.size) & (~bus.we | (bus.sel == 0b1111))),
            s1_we.eq(bus.we), s1_adr.eq(bus.adr), s1_dat.eq(bus.dat_w),
        ]
        m.d.comb += [
            csr.addr.eq(s1_adr), csr.w_data.eq(s1_dat),
            csr.w_stb.eq(s1_req & s1_ok & s1_we), csr.r_stb.eq(s1_req & s1_ok & ~s1_we),
            bus.dat_r.eq(csr.r_data),
        ]
        m.d.sync += [bus.ack.eq(s1_req & s1_ok), bus.err.eq(s1_req & ~s1_ok)]
        return m

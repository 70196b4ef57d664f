# Ref: Wishbone B4 (OpenCores, 2010), pipelined mode.
"""Word DMA: moves words between RAM and an accelerator's streams as a Wishbone initiator."""

from amaranth import Cat, Const, Module, Signal
from amaranth.lib import fifo, stream
from amaranth.lib.wiring import In, Out

from ..bus import WishboneSignature
from ..csr import CsrBlock, Field, Register, RegisterMap, read_registers

__all__ = ["WordDma", "DMA_REGS", "DmaCause"]


class DmaCause:
    """DMA STATUS.cause bits (sticky until CMD.clear)."""
    BUS_ERROR = 1     # a read or write was answered with err (ERR_ADDR holds the address)
    BUSY = 2          # CMD.start while a transfer runs (ignored)
    ALIGN = 4         # SRC or DST not word aligned (the transfer does not start)


DMA_REGS = RegisterMap("dma", (
    Register("SRC", (Field("addr", 32),), doc="byte address of the first word read"),
    Register("SRC_WORDS", (Field("count", 24),), doc="words read from SRC to the accelerator"),
    Register("DST", (Field("addr", 32),), doc="byte address of the first result word"),
    Register("DST_WORDS", (Field("count", 24),), doc="words written from the accelerator"),
    Register("CMD", (Field("start", 1), Field("clear", 1)), access="w",
             doc="start a transfer; clear errors"),
    Register("STATUS", (Field("busy", 1), Field("done", 1), Field("error", 1),
                        Field("cause", 3)), access="r",
             doc="done: the last transfer finished; error/cause sticky (DmaCause bits)"),
    Register("ERR_ADDR", (Field("addr", 32),), access="r", doc="address of the failing access"),
    Register("CYCLES", (Field("count", 32),), access="r", doc="clocks of the last transfer"),
))


class WordDma(CsrBlock):
    """Moves ``SRC_WORDS`` words from RAM (``SRC``, ascending) to ``o`` and ``DST_WORDS``
    words from ``i`` to RAM (``DST``), concurrently; done when both counts are exhausted.

    The bus request (``cyc``/``stb``/``we``/``adr``/``dat_w``) comes from registers, so
    nothing in the DMA or its accelerator reaches the arbiter's grant combinationally, and the
    arbiter's ``stall`` reaches only the DMA's own registers (``i`` lands in a two-word FIFO
    whose ``ready`` is its level). The next request is loaded in the clock the presented one
    is accepted, and the arbiter accepts it in the clock the previous one is answered: with a
    free bus one word still moves per clock (one request outstanding, one presented). Writes
    (results) go before reads so the accelerator never blocks on a full output. Reads land in
    a 4-word FIFO and are loaded only with room for every read in flight. A bus error stops
    the transfer (cause BUS_ERROR) and withdraws the request presented behind the failing
    one, so no access follows it. Reset: idle. ``busy`` is also an output (the SoC's activity
    counters use it).

    Members
    -------
    csr : In(CsrSignature(DMA_REGS.addr_width))
    bus : Out(WishboneSignature(30))
    o : Out(stream.Signature(32))     words read from RAM
    i : In(stream.Signature(32))      words to write to RAM
    busy : Out(1)
    """

    FIFO_DEPTH = 4
    IN_DEPTH = 2

    def __init__(self):
        super().__init__(DMA_REGS, {"bus": Out(WishboneSignature(30)),
                                    "o": Out(stream.Signature(32)),
                                    "i": In(stream.Signature(32)), "busy": Out(1)})

    def elaborate(self, platform):
        m = Module()
        regs, csr, bus = self.regs, self.csr, self.bus
        m.submodules.fifo = q = fifo.SyncFIFO(width=32, depth=self.FIFO_DEPTH)
        m.submodules.in_fifo = wq = fifo.SyncFIFO(width=32, depth=self.IN_DEPTH)
        src, dst = Signal(32), Signal(32)
        src_n, dst_n = Signal(24), Signal(24)
        rd_adr, wr_adr = Signal(30), Signal(30)
        rd_left, wr_left = Signal(24), Signal(24)   # requests not yet loaded
        busy, done = Signal(), Signal()
        cause = Signal(3)
        err_addr = Signal(32)
        cycles = Signal(32)
        stb, we = Signal(), Signal()                # the presented request
        adr, dat = Signal(30), Signal(32)
        pending = Signal()           # a request was accepted, answer not seen
        pending_rd = Signal()
        pending_adr = Signal(30)
        in_flight = Signal(range(self.FIFO_DEPTH + 1))   # reads loaded, data not yet in q

        answer = pending & (bus.ack | bus.err)
        failed = answer & bus.err
        m.d.comb += [
            bus.cyc.eq(stb & ~failed), bus.stb.eq(stb & ~failed), bus.we.eq(we),
            bus.sel.eq(0b1111), bus.adr.eq(adr), bus.dat_w.eq(dat),
            self.busy.eq(busy),
            wq.w_data.eq(self.i.payload), wq.w_en.eq(self.i.valid), self.i.ready.eq(wq.w_rdy),
        ]
        accepted = bus.stb & ~bus.stall
        free = ~stb | accepted                      # the request register loads this clock
        load_wr = busy & ~failed & free & wq.r_rdy & (wr_left != 0)
        room = (q.level + in_flight) < self.FIFO_DEPTH
        load_rd = busy & ~failed & free & ~load_wr & (rd_left != 0) & room
        landed = answer & pending_rd & bus.ack
        m.d.comb += wq.r_en.eq(load_wr)
        with m.If(free | failed):
            m.d.sync += stb.eq(load_wr | load_rd)
        with m.If(load_wr):
            m.d.sync += [we.eq(1), adr.eq(wr_adr), dat.eq(wq.r_data),
                         wr_adr.eq(wr_adr + 1), wr_left.eq(wr_left - 1)]
        with m.Elif(load_rd):
            m.d.sync += [we.eq(0), adr.eq(rd_adr), rd_adr.eq(rd_adr + 1),
                         rd_left.eq(rd_left - 1)]
        m.d.sync += in_flight.eq(in_flight + load_rd - landed)
        with m.If(answer):
            m.d.sync += pending.eq(0)
        with m.If(accepted):
            m.d.sync += [pending.eq(1), pending_rd.eq(~we), pending_adr.eq(adr)]
        # read answers into the FIFO, FIFO to the accelerator
        m.d.comb += [q.w_data.eq(bus.dat_r), q.w_en.eq(landed),
                     self.o.payload.eq(q.r_data), self.o.valid.eq(q.r_rdy),
                     q.r_en.eq(self.o.ready)]

        start = csr.w_stb & self.at("CMD") & regs.field_bits("CMD", "start", csr.w_data)
        clear = csr.w_stb & self.at("CMD") & regs.field_bits("CMD", "clear", csr.w_data)
        with m.If(busy):
            m.d.sync += cycles.eq(cycles + 1)
            with m.If(failed):
                m.d.sync += [cause.eq(cause | DmaCause.BUS_ERROR), busy.eq(0), done.eq(1),
                             err_addr.eq(Cat(Const(0, 2), pending_adr)),
                             rd_left.eq(0), wr_left.eq(0), in_flight.eq(0)]
            with m.Elif((rd_left == 0) & (wr_left == 0) & ~stb & (~pending | answer)):
                m.d.sync += [busy.eq(0), done.eq(1)]
        with m.If(clear):
            m.d.sync += cause.eq(0)
        with m.Elif(start & busy):
            m.d.sync += cause.eq(cause | DmaCause.BUSY)
        with m.Elif(start & ((src[:2] != 0) | (dst[:2] != 0))):
            m.d.sync += [cause.eq(cause | DmaCause.ALIGN), done.eq(1)]
        with m.Elif(start):
            m.d.sync += [busy.eq(1), done.eq(0), cycles.eq(0), rd_adr.eq(src[2:]),
                         wr_adr.eq(dst[2:]), rd_left.eq(src_n), wr_left.eq(dst_n),
                         in_flight.eq(0)]
        with m.If(csr.w_stb & ~busy):
            with m.Switch(csr.addr):
                for name, reg in (("SRC", src), ("DST", dst), ("SRC_WORDS", src_n),
                                  ("DST_WORDS", dst_n)):
                    with m.Case(regs.offset(name)):
                        m.d.sync += reg.eq(csr.w_data)
        st = Signal(regs["STATUS"].layout)
        m.d.comb += [st.busy.eq(busy), st.done.eq(done), st.error.eq(cause != 0),
                     st.cause.eq(cause)]
        read_registers(m, csr, regs, {"SRC": src, "DST": dst, "SRC_WORDS": src_n,
                                      "DST_WORDS": dst_n, "STATUS": st.as_value(),
                                      "ERR_ADDR": err_addr, "CYCLES": cycles})
        return m

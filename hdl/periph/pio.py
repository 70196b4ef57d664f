"""Word PIO: an accelerator's word streams as registers the core writes and reads."""

from amaranth import Module, Signal
from amaranth.lib import stream
from amaranth.lib.wiring import In, Out

from ..csr import CsrBlock, Field, Register, RegisterMap

__all__ = ["WordPio", "PIO_REGS", "PioCause"]


class PioCause:
    """PIO STATUS.cause bits (sticky until CMD.clear)."""
    FULL = 1          # PUSH while the previous word was not yet taken (the word is dropped)
    EMPTY = 2         # POP with no word waiting (reads 0)


PIO_REGS = RegisterMap("pio", (
    Register("PUSH", (Field("data", 32),), access="w",
             doc="a word to the accelerator; taken only when STATUS.room (else cause FULL)"),
    Register("POP", (Field("data", 32),), access="r",
             doc="the accelerator's next word, removed by the read (0 and cause EMPTY unless "
                 "STATUS.avail)"),
    Register("STATUS", (Field("room", 1), Field("avail", 1), Field("error", 1),
                        Field("cause", 2)), access="r",
             doc="room: PUSH is taken; avail: POP has a word; error/cause sticky (PioCause)"),
    Register("CMD", (Field("clear", 1),), access="w", doc="clear errors"),
))


class WordPio(CsrBlock):
    """The core's register path into an accelerator's word streams, in place of a
    :class:`WordDma` (same ``o``/``i`` streams, no bus initiator): a write to ``PUSH`` offers
    one word on ``o``, a read of ``POP`` takes one word from ``i``.

    Nothing is buffered here. A ``PUSH`` is offered on ``o`` for the one clock of its write
    strobe and dropped (cause FULL) unless ``o.ready``; ``STATUS.room`` is ``o.ready``, so the
    accelerator's ``ready`` must not fall except by taking a word (true of the word gathers in
    front of this file's accelerators, which is why firmware may trust a ``room`` it read
    earlier). ``POP`` reads ``i``'s payload and accepts it in the same clock (``i.ready`` is the
    read strobe); with nothing waiting it reads 0 and sets cause EMPTY. Firmware alternates:
    pop while ``avail``, push while ``room`` (``firmware/demos/soc_drv.h`` ``pj_pio``), which
    never deadlocks an accelerator that holds its input while an output waits. Reset: no error.

    Members
    -------
    csr : In(CsrSignature(PIO_REGS.addr_width))
    o : Out(stream.Signature(32))     words written by the core
    i : In(stream.Signature(32))      words the core reads
    """

    def __init__(self):
        super().__init__(PIO_REGS, {"o": Out(stream.Signature(32)),
                                    "i": In(stream.Signature(32))})

    def elaborate(self, platform):
        m = Module()
        regs, csr = self.regs, self.csr
        cause = Signal(2)
        push = csr.w_stb & self.at("PUSH")
        m.d.comb += [self.o.valid.eq(push), self.o.payload.eq(csr.w_data)]
        with m.If(push & ~self.o.ready):
            m.d.sync += cause.eq(cause | PioCause.FULL)
        with m.If(csr.w_stb & self.at("CMD") & regs.field_bits("CMD", "clear", csr.w_data)):
            m.d.sync += cause.eq(0)
        pop = csr.r_stb & self.at("POP")
        m.d.comb += self.i.ready.eq(pop)
        with m.If(pop & ~self.i.valid):
            m.d.sync += cause.eq(cause | PioCause.EMPTY)
        st = Signal(regs["STATUS"].layout)
        m.d.comb += [st.room.eq(self.o.ready), st.avail.eq(self.i.valid),
                     st.error.eq(cause != 0),
                     st.cause.eq(cause)]
        with m.If(csr.r_stb):
            m.d.sync += csr.r_data.eq(0)
            with m.If(pop & self.i.valid):
                m.d.sync += csr.r_data.eq(self.i.payload)
            with m.If(self.at("STATUS")):
                m.d.sync += csr.r_data.eq(st.as_value())
        return m

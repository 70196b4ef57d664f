# Ref: Wishbone B4 (OpenCores, 2010), pipelined mode; RISC-V Privileged Architecture 20211203,
#      3.2.1 (mtime/mtimecmp, MTIP); the UART frame is the common 8N1 (start, 8 data LSB first,
#      stop).
"""SoC peripherals and the glue between the Wishbone bus and register blocks.

- :class:`CsrBridge`: a Wishbone target in front of one ``hdl/csr.py`` register block. Word
  accesses only; an offset beyond the block's registers, or a write narrower than a word,
  answers ``err`` (an access fault in the core): nothing aliases inside a window either.
- :class:`Uart` (TX and RX, 8N1, ``divisor`` clocks per bit), :class:`Timer` (mtime, mtimecmp,
  ``irq``), :class:`Gpio` (LEDs, buttons): CSR register blocks of ``hdl/memory_map.py``.
- :class:`WordDma`: moves words between RAM and an accelerator (``o``: RAM -> accelerator,
  ``i``: accelerator -> RAM) as a Wishbone initiator, one word per clock when the bus is free.
- :class:`WordPio`: the same two streams as registers the core writes and reads (no DMA: the
  small SoC of the UP5K).
- :class:`ImcPeriph`, :class:`DotPeriph`: the IMC tile and the L-Mul / exact dot units with the
  word packing their streams need (the DMA feeds them; see ``docs/soc.md`` for why).
- :class:`MulPeriph`: four L-Mul (or exact) fp8 products per pair of words, no accumulator.
- :class:`StallInjector`: pseudo-random ``stall`` and delayed answers on a Wishbone port (test
  builds only), to show initiators and targets lose nothing under back-pressure.
"""

from dataclasses import dataclass

from amaranth import Array, Cat, Const, Module, Mux, Signal
from amaranth.lib import fifo, stream, wiring
from amaranth.lib.wiring import In, Out, connect

from .bus import WishboneSignature
from .csr import CsrSignature, Field, Register, RegisterMap
from .float import FORMATS
from .imc import ImcParams, ImcTile
from .ldot import DotParams, DotUnit
from .lmul import MULTIPLIERS
from .memory_map import GPIO_REGS, TIMER_REGS, UART_REGS

__all__ = ["CsrBridge", "FetchPort", "Uart", "Timer", "Gpio", "WordDma", "DMA_REGS", "DmaCause",
           "WordPio", "PIO_REGS", "PioCause", "MulPeriph", "MulPeriphParams",
           "ImcPeriph", "DotPeriph", "DotPeriphParams", "dot_register_map", "DotCause",
           "StallInjector"]


def _field(regs: RegisterMap, reg: str, name: str, word):
    f = regs[reg].layout[name]
    return word[f.offset:f.offset + f.width]


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


class _CsrBlock(wiring.Component):
    """A register block with a CSR port; subclasses decode ``self.regs``."""

    def __init__(self, regs: RegisterMap, members: dict):
        self.regs = regs
        super().__init__({"csr": In(CsrSignature(regs.addr_width)), **members})

    def _at(self, name, index=0):
        return self.csr.addr == self.regs.offset(name, index)


class Uart(_CsrBlock):
    """8N1 UART with ``divisor`` clocks per bit (``UART_REGS``).

    TX: a write to ``tx`` while ``tx_busy`` is low starts a frame (a write while busy is dropped:
    firmware waits on ``status.tx_busy``). ``sent`` pulses with the byte when a frame starts
    (the simulation console taps it). RX: a falling edge starts a frame, bits are sampled in
    the middle; a byte arriving while the previous one is unread sets the sticky
    ``rx_overrun`` (the new byte replaces the old). Reading ``rx`` pops it. ``rx`` must already
    be synchronized to the clock (boards do it). Reset: idle, ``divisor = divisor_reset``.

    Members
    -------
    csr : In(CsrSignature)
    tx : Out(1)       idle high
    rx : In(1)        idle high
    sent : Out(1)     one clock when a frame starts; ``sent_data`` holds its byte
    sent_data : Out(8)
    """

    def __init__(self, divisor_reset: int):
        if not 2 <= divisor_reset < 1 << 16:
            raise ValueError(f"divisor_reset must be in 2..65535, not {divisor_reset!r}")
        self.divisor_reset = divisor_reset
        super().__init__(UART_REGS, {"tx": Out(1, init=1), "rx": In(1, init=1),
                                     "sent": Out(1), "sent_data": Out(8)})

    def elaborate(self, platform):
        m = Module()
        regs, csr = self.regs, self.csr
        div = Signal(16, init=self.divisor_reset)
        # ---- TX
        tx_shift = Signal(10, init=0x3FF)
        tx_bits = Signal(range(11))
        tx_cnt = Signal(16)
        tx_busy = Signal()
        m.d.comb += [tx_busy.eq(tx_bits != 0), self.tx.eq(tx_shift[0])]
        m.d.sync += self.sent.eq(0)
        with m.If(csr.w_stb & self._at("tx") & ~tx_busy):
            byte = _field(regs, "tx", "data", csr.w_data)
            m.d.sync += [tx_shift.eq(Cat(Const(0, 1), byte, Const(1, 1))), tx_bits.eq(10),
                         tx_cnt.eq(div - 1), self.sent.eq(1), self.sent_data.eq(byte)]
        with m.Elif(tx_busy):
            with m.If(tx_cnt == 0):
                m.d.sync += [tx_shift.eq(Cat(tx_shift[1:], Const(1, 1))), tx_bits.eq(tx_bits - 1),
                             tx_cnt.eq(div - 1)]
            with m.Else():
                m.d.sync += tx_cnt.eq(tx_cnt - 1)
        # ---- RX
        rx_prev = Signal(init=1)
        rx_bits = Signal(range(11))       # 0: idle; 10: start, 9 .. 2: data, 1: stop
        rx_cnt = Signal(16)
        rx_shift = Signal(8)
        rx_data = Signal(8)
        rx_valid = Signal()
        overrun = Signal()
        m.d.sync += rx_prev.eq(self.rx)
        pop = csr.r_stb & self._at("rx")
        with m.If(pop):
            m.d.sync += rx_valid.eq(0)
        with m.If(csr.r_stb & self._at("status")):
            m.d.sync += overrun.eq(0)
        with m.If(rx_bits == 0):
            with m.If(rx_prev & ~self.rx):
                m.d.sync += [rx_bits.eq(10), rx_cnt.eq(div >> 1)]
        with m.Elif(rx_cnt == 0):
            m.d.sync += [rx_cnt.eq(div - 1), rx_bits.eq(rx_bits - 1)]
            with m.If(rx_bits == 10):                      # middle of the start bit
                with m.If(self.rx):
                    m.d.sync += rx_bits.eq(0)              # a glitch, not a start bit
            with m.Elif(rx_bits == 1):                     # middle of the stop bit
                with m.If(self.rx):
                    m.d.sync += [rx_data.eq(rx_shift), rx_valid.eq(1)]
                    with m.If(rx_valid & ~pop):
                        m.d.sync += overrun.eq(1)
            with m.Else():
                m.d.sync += rx_shift.eq(Cat(rx_shift[1:], self.rx))
        with m.Else():
            m.d.sync += rx_cnt.eq(rx_cnt - 1)
        # ---- registers
        with m.If(csr.w_stb & self._at("divisor")):
            d = _field(regs, "divisor", "div", csr.w_data)
            m.d.sync += div.eq(Mux(d < 2, 2, d))
        rx_v = Signal(regs["rx"].layout)
        st = Signal(regs["status"].layout)
        m.d.comb += [rx_v.data.eq(rx_data), rx_v.valid.eq(rx_valid),
                     st.tx_busy.eq(tx_busy), st.rx_valid.eq(rx_valid), st.rx_overrun.eq(overrun)]
        with m.If(csr.r_stb):
            m.d.sync += csr.r_data.eq(0)
            with m.Switch(csr.addr):
                with m.Case(regs.offset("rx")):
                    m.d.sync += csr.r_data.eq(rx_v.as_value())
                with m.Case(regs.offset("status")):
                    m.d.sync += csr.r_data.eq(st.as_value())
                with m.Case(regs.offset("divisor")):
                    m.d.sync += csr.r_data.eq(div)
        return m


class Timer(_CsrBlock):
    """Machine timer: ``mtime`` counts clocks from reset, ``irq = mtime >= mtimecmp``, from a
    register (one clock after the condition, so the 64-bit compare's carry chain ends at a
    flip-flop instead of running into the core's interrupt logic: it was the UP5K SoC's
    critical path); ``mtimecmp`` resets to all ones (no interrupt). Both are writable 32 bits
    at a time.

    Members
    -------
    csr : In(CsrSignature)
    irq : Out(1)     to the core's ``irq_timer`` (MTIP)
    """

    def __init__(self):
        super().__init__(TIMER_REGS, {"irq": Out(1)})

    def elaborate(self, platform):
        m = Module()
        csr = self.csr
        mtime = Signal(64)
        cmp = Signal(64, init=(1 << 64) - 1)
        m.d.sync += [mtime.eq(mtime + 1), self.irq.eq(mtime >= cmp)]
        regs = {"mtime": mtime[:32], "mtimeh": mtime[32:], "mtimecmp": cmp[:32],
                "mtimecmph": cmp[32:]}
        for name, part in regs.items():
            with m.If(csr.w_stb & self._at(name)):
                m.d.sync += part.eq(csr.w_data)
        with m.If(csr.r_stb):
            m.d.sync += csr.r_data.eq(0)
            with m.Switch(csr.addr):
                for name, part in regs.items():
                    with m.Case(self.regs.offset(name)):
                        m.d.sync += csr.r_data.eq(part)
        return m


class Gpio(_CsrBlock):
    """LED outputs (``out``) and button inputs (``in``, already synchronized).

    Members
    -------
    csr : In(CsrSignature)
    leds : Out(leds)
    buttons : In(buttons)
    """

    def __init__(self, *, leds: int = 8, buttons: int = 8):
        self.n_leds, self.n_buttons = leds, buttons
        super().__init__(GPIO_REGS, {"leds": Out(leds), "buttons": In(buttons)})

    def elaborate(self, platform):
        m = Module()
        csr = self.csr
        out = Signal(8)
        m.d.comb += self.leds.eq(out)
        with m.If(csr.w_stb & self._at("out")):
            m.d.sync += out.eq(csr.w_data)
        with m.If(csr.r_stb):
            m.d.sync += csr.r_data.eq(0)
            with m.Switch(csr.addr):
                with m.Case(self.regs.offset("out")):
                    m.d.sync += csr.r_data.eq(out)
                with m.Case(self.regs.offset("in")):
                    m.d.sync += csr.r_data.eq(self.buttons)
        return m


# ---------------------------------------------------------------------------------------- DMA
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


class WordDma(_CsrBlock):
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

        start = csr.w_stb & self._at("CMD") & _field(regs, "CMD", "start", csr.w_data)
        clear = csr.w_stb & self._at("CMD") & _field(regs, "CMD", "clear", csr.w_data)
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
        with m.If(csr.r_stb):
            m.d.sync += csr.r_data.eq(0)
            with m.Switch(csr.addr):
                for name, v in (("SRC", src), ("DST", dst), ("SRC_WORDS", src_n),
                                ("DST_WORDS", dst_n), ("STATUS", st.as_value()),
                                ("ERR_ADDR", err_addr), ("CYCLES", cycles)):
                    with m.Case(regs.offset(name)):
                        m.d.sync += csr.r_data.eq(v)
        return m


# ---------------------------------------------------------------------------------------- PIO
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


class WordPio(_CsrBlock):
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
        push = csr.w_stb & self._at("PUSH")
        m.d.comb += [self.o.valid.eq(push), self.o.payload.eq(csr.w_data)]
        with m.If(push & ~self.o.ready):
            m.d.sync += cause.eq(cause | PioCause.FULL)
        with m.If(csr.w_stb & self._at("CMD") & _field(regs, "CMD", "clear", csr.w_data)):
            m.d.sync += cause.eq(0)
        pop = csr.r_stb & self._at("POP")
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
            with m.If(self._at("STATUS")):
                m.d.sync += csr.r_data.eq(st.as_value())
        return m


class _Gather(wiring.Component):
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


class _Scatter(wiring.Component):
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
        m.submodules.gather = g = _Gather(self.in_words)
        connect(m, wiring.flipped(self.csr), tile.csr)
        connect(m, wiring.flipped(self.i), g.i)
        m.d.comb += [tile.i.valid.eq(g.o.valid), tile.i.payload.eq(g.o.payload),
                     g.o.ready.eq(tile.i.ready), tile.w.valid.eq(0),
                     self.products.eq(tile.i.valid & tile.i.ready)]
        if self.with_result_buffer:
            m.submodules.scatter = s = _Scatter(self.out_words)
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


# ---------------------------------------------------------------------------------------- dot
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
        m.submodules.gather = g = _Gather(cw)
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
            c = _field(regs, "CTRL", "chunks", csr.w_data)
            k = _field(regs, "CTRL", "kind", csr.w_data)
            bad_c = (c == 0) | (c > p.max_chunks)
            bad_k = Mux(k, not has[1], not has[0])
            with m.If(bad_c | bad_k):
                m.d.sync += cause.eq(cause | Mux(bad_c, DotCause.BAD_CHUNKS, 0)
                                     | Mux(bad_k, DotCause.BAD_KIND, 0))
            with m.Else():
                m.d.sync += [chunks.eq(c), kind.eq(k)]
        with m.If(wr & (csr.addr == regs.offset("CMD")) & _field(regs, "CMD", "clear",
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
        with m.If(csr.r_stb):
            m.d.sync += csr.r_data.eq(0)
            with m.Switch(csr.addr):
                with m.Case(regs.offset("INFO")):
                    m.d.sync += csr.r_data.eq(info)
                with m.Case(regs.offset("CTRL")):
                    m.d.sync += csr.r_data.eq(Cat(chunks, kind))
                with m.Case(regs.offset("STATUS")):
                    m.d.sync += csr.r_data.eq(st.as_value())
                with m.Case(regs.offset("COUNT")):
                    m.d.sync += csr.r_data.eq(count)
        return m


# ---------------------------------------------------------------------------------------- mul
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
        m.submodules.gather = g = _Gather(2)
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


# ---------------------------------------------------------------------------------------- test
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

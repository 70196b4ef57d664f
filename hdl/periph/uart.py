# Ref: the UART frame is the common 8N1 (start, 8 data LSB first, stop).
"""8N1 UART register block (``hdl/memory_map.py`` ``UART_REGS``)."""

from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.lib.wiring import In, Out

from ..csr import CsrBlock, read_registers
from ..memory_map import UART_REGS

__all__ = ["Uart"]


class Uart(CsrBlock):
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
        with m.If(csr.w_stb & self.at("tx") & ~tx_busy):
            byte = regs.field_bits("tx", "data", csr.w_data)
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
        pop = csr.r_stb & self.at("rx")
        with m.If(pop):
            m.d.sync += rx_valid.eq(0)
        with m.If(csr.r_stb & self.at("status")):
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
        with m.If(csr.w_stb & self.at("divisor")):
            d = regs.field_bits("divisor", "div", csr.w_data)
            m.d.sync += div.eq(Mux(d < 2, 2, d))
        rx_v = Signal(regs["rx"].layout)
        st = Signal(regs["status"].layout)
        m.d.comb += [rx_v.data.eq(rx_data), rx_v.valid.eq(rx_valid),
                     st.tx_busy.eq(tx_busy), st.rx_valid.eq(rx_valid), st.rx_overrun.eq(overrun)]
        read_registers(m, csr, regs, {"rx": rx_v.as_value(), "status": st.as_value(),
                                      "divisor": div})
        return m

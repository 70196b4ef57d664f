"""LED and button register block (``hdl/memory_map.py`` ``GPIO_REGS``)."""

from amaranth import Module, Signal
from amaranth.lib.wiring import In, Out

from ..csr import CsrBlock, read_registers
from ..memory_map import GPIO_REGS

__all__ = ["Gpio"]


class Gpio(CsrBlock):
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
        with m.If(csr.w_stb & self.at("out")):
            m.d.sync += out.eq(csr.w_data)
        read_registers(m, csr, self.regs, {"out": out, "in": self.buttons})
        return m

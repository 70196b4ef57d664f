"""The thin board top: the only code that touches pins.

:class:`BoardTop` requests the board's UART, LEDs and buttons from the Amaranth platform,
synchronizes the inputs into ``sync`` (the board's default clock, set up by the platform) and
connects them to a design that has :func:`boards.design.board_signature`.
"""

from amaranth import Elaboratable, Module
from amaranth.lib.cdc import FFSynchronizer

from .design import DesignConfig, check_design
from .designs import design_factory

__all__ = ["BoardTop"]


class BoardTop(Elaboratable):
    """Pins of one board around one design.

    ``design``: a name in :data:`boards.designs.DESIGNS` or a factory
    ``(config, *, leds, buttons, clk_hz) -> wiring.Component``; ``leds``/``buttons``: how many
    of the board's LEDs and buttons (resources ``led``/``button`` 0..n-1) the design gets;
    ``clk_hz``: the board clock the design runs on.
    """

    def __init__(self, design, config: DesignConfig, *, leds: int, buttons: int, clk_hz: int):
        factory = design_factory(design) if isinstance(design, str) else design
        self.design = factory(config, leds=leds, buttons=buttons, clk_hz=clk_hz)
        check_design(self.design, leds=leds, buttons=buttons)
        self.leds = leds
        self.buttons = buttons

    def elaborate(self, platform):
        m = Module()
        m.submodules.design = d = self.design
        uart = platform.request("uart", 0)
        m.d.comb += uart.tx.o.eq(d.tx)
        m.submodules.rx_sync = FFSynchronizer(uart.rx.i, d.rx, init=1)
        for n in range(self.leds):
            m.d.comb += platform.request("led", n).o.eq(d.leds[n])
        for n in range(self.buttons):
            m.submodules[f"button{n}_sync"] = FFSynchronizer(
                platform.request("button", n).i, d.buttons[n])
        return m

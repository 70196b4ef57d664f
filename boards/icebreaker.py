"""1BitSquared iCEBreaker: Lattice iCE40 UP5K (5280 logic cells), 12 MHz oscillator.

The design gets the FTDI UART, the two LEDs on the main board (red, green) and the user button;
the break-off PMOD's LEDs and buttons are left out (many boards have it snapped off).
"""

from amaranth_boards.icebreaker import ICEBreakerPlatform

from hdl.imc import ImcParams

from .board import Board
from .design import DesignConfig

__all__ = ["ICEBREAKER"]

#: A small SoC (docs/fpga.md, "The SoC on the UP5K"): RV32I, a 4 x 4 tile (8-bit: one DMA word
#: per vector; 32 AND gates per activation bit, so no bit register), a 4-lane L-Mul dot unit
#: (the smallest the peripheral allows), 4 KiB of RAM for the smoke firmware. No oscillator
#: array: the SoC alone does not fit yet, and the array alone fits the UP5K only at n = 2
#: (3,815 of 5,280 logic cells; n = 4 needs 123%; docs/fpga.md).
ICEBREAKER = Board("icebreaker", ICEBreakerPlatform, leds=2, buttons=1,
                   config=DesignConfig(imc=ImcParams(rows=4, cols=4, with_bit_register=False),
                                       lmul="e4m3", with_muldiv=False, dot_lanes=4,
                                       ram_size=4 * 1024),
                   goal_mhz=24.0)

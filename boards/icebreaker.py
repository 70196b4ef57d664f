"""1BitSquared iCEBreaker: Lattice iCE40 UP5K (5280 logic cells), 12 MHz oscillator.

The design gets the FTDI UART, the two LEDs on the main board (red, green) and the user button;
the break-off PMOD's LEDs and buttons are left out (many boards have it snapped off).
"""

from amaranth_boards.icebreaker import ICEBreakerPlatform

from hdl.imc import ImcParams

from .board import Board
from .design import DesignConfig

__all__ = ["ICEBREAKER"]

#: Small units, leaving room for the core: an 8 x 4 tile (the 16 x 8 tile alone needs 118% of
#: the logic cells, docs/imc.md) and the e4m3 L-Mul unit.
ICEBREAKER = Board("icebreaker", ICEBreakerPlatform, leds=2, buttons=1,
                   config=DesignConfig(imc=ImcParams(rows=8, cols=4), lmul="e4m3"),
                   goal_mhz=24.0)

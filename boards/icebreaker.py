"""1BitSquared iCEBreaker: Lattice iCE40 UP5K (5280 logic cells), 12 MHz oscillator.

The design gets the FTDI UART, the two LEDs on the main board (red, green) and the user button;
the break-off PMOD's LEDs and buttons are left out (many boards have it snapped off).
"""

from dataclasses import replace

from amaranth_boards.icebreaker import ICEBreakerPlatform

from hdl.imc import ImcParams
from hdl.onn import OnnParams

from .board import Board
from .design import DesignConfig

__all__ = ["ICEBREAKER", "ICEBREAKER_ONN", "ICEBREAKER_TDM"]

#: A small SoC (docs/fpga.md, "The SoC on the UP5K"): RV32I without a return-address stack, a
#: 4 x 4 tile (8-bit: one word per activation vector; 32 AND gates per activation bit, so no
#: bit register), the element-wise L-Mul multipliers (four lanes, no accumulator) instead of
#: the dot unit, no DMAs (the core pushes and pops the streams' words through PIO registers),
#: 4 KiB of RAM for the smoke firmware, and the compact core (``core_variant``): with the
#: four-stage core this needs 108% of the logic cells (without the tile: 82%, 25.2 MHz). No
#: oscillator array: the array alone fits the UP5K only at n = 2 (3,815 of 5,280 logic cells;
#: n = 4 needs 123%; docs/fpga.md), and the time-multiplexed one does not fit beside the SoC
#: either (``ICEBREAKER_TDM``).
ICEBREAKER = Board("icebreaker", ICEBreakerPlatform, leds=2, buttons=1,
                   config=DesignConfig(imc=ImcParams(rows=4, cols=4, with_bit_register=False),
                                       lmul="e4m3", lmul_periph="mul", with_dma=False,
                                       core_variant="compact", with_muldiv=False,
                                       ram_size=4 * 1024, ras_depth=0),
                   goal_mhz=24.0)

#: The time-multiplexed oscillator array alone (stand-in design): 128 fully connected cells,
#: 4-bit couplings, 8-bit omegas, PBIT, one cell datapath (two: 127% of the logic cells)
#: (docs/fpga.md).
ICEBREAKER_ONN = Board("icebreaker-onn", ICEBreakerPlatform, leds=2, buttons=1,
                       config=DesignConfig(imc=None, lmul=None,
                                           onn=OnnParams(n=128, weight_bits=4, omega_bits=8,
                                                         with_pbit=True),
                                           onn_lanes=1),
                       goal_mhz=24.0)

#: The iCEBreaker SoC (``ICEBREAKER``'s configuration) with the time-multiplexed array in place
#: of no array: 64 cells (the SoC's RAM and core take 20 of the 30 EBR, the array's memories
#: the other 10), 4-bit couplings, 8-bit omegas, one lane. It does not fit yet: 7,911 of 5,280
#: logic cells (149%) with ``--design soc``; the array's logic barely depends on n (16 cells with
#: every width reduced still need 135%) (docs/fpga.md).
ICEBREAKER_TDM = Board("icebreaker-tdm", ICEBreakerPlatform, leds=2, buttons=1,
                       config=replace(ICEBREAKER.config,
                                      onn=OnnParams(n=64, weight_bits=4, omega_bits=8),
                                      onn_lanes=1),
                       goal_mhz=24.0)

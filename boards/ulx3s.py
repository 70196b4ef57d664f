"""Radiona ULX3S: Lattice ECP5 (LFE5U-25F or -85F, CABGA381), 25 MHz oscillator.

The design gets the FTDI UART, the eight LEDs and the six buttons (PWR is left out: it is
active low and resets the board's power controller on a long press).
"""

from amaranth_boards.ulx3s import ULX3S_25F_Platform, ULX3S_85F_Platform

from hdl.imc import ImcParams
from hdl.onn import OnnParams

from .board import Board
from .design import DesignConfig

__all__ = ["ULX3S_25F", "ULX3S_85F", "ULX3S_85F_ONN"]

ULX3S_25F = Board("ulx3s-25f", ULX3S_25F_Platform, leds=8, buttons=6,
                  config=DesignConfig(imc=ImcParams(rows=16, cols=8), lmul="e4m3"),
                  goal_mhz=50.0)

#: Full sizes. The default 64 x 16 tile with tree_stages=1 did not route on the 85F (its
#: 64-input column sums become carry-save LUT trees, ~48k LUT4); with every tree level
#: registered (tree_stages=6) the sums map to carry chains (docs/fpga.md). A 16-cell oscillator
#: array: the SoC with it placed and routed at 52% of the logic cells (40.6 MHz, docs/fpga.md);
#: 64 cells alone (64%) did not route (docs/onn.md). The tile's stall and weight write are
#: registered (``with_out_buffer``, ``with_write_register``): each was the SoC's critical path.
ULX3S_85F = Board("ulx3s-85f", ULX3S_85F_Platform, leds=8, buttons=6,
                  config=DesignConfig(imc=ImcParams(tree_stages=6, with_out_buffer=True,
                                                    with_write_register=True),
                                      lmul="e4m3", onn=OnnParams(n=16)),
                  goal_mhz=50.0)

#: The time-multiplexed oscillator array alone (stand-in design): 768 fully connected cells,
#: 4-bit couplings in DP16KD block RAM (144 of 208), 8 cell datapaths (docs/fpga.md).
ULX3S_85F_ONN = Board("ulx3s-85f-onn", ULX3S_85F_Platform, leds=8, buttons=6,
                      config=DesignConfig(imc=None, lmul=None,
                                          onn=OnnParams(n=768, weight_bits=4, with_pbit=True),
                                          onn_lanes=8),
                      goal_mhz=50.0)

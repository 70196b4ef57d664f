# Ref: Wishbone B4 (OpenCores, 2010), pipelined mode; RISC-V Privileged Architecture 20211203,
#      3.2.1 (mtime/mtimecmp, MTIP); the UART frame is the common 8N1 (start, 8 data LSB first,
#      stop).
"""SoC peripherals and the glue between the Wishbone bus and register blocks, one component per
module.

- :class:`CsrBridge` (``bridge``): a Wishbone target in front of one ``hdl/csr.py`` register
  block. Word accesses only; an offset beyond the block's registers, or a write narrower than a
  word, answers ``err`` (an access fault in the core): nothing aliases inside a window either.
- :class:`FetchPort` (``fetch``): the core's instruction fetch onto one RAM port.
- :class:`Uart` (TX and RX, 8N1, ``divisor`` clocks per bit), :class:`Timer` (mtime, mtimecmp,
  ``irq``), :class:`Gpio` (LEDs, buttons): CSR register blocks of ``hdl/memory_map.py``.
- :class:`WordDma` (``dma``): moves words between RAM and an accelerator (``o``: RAM ->
  accelerator, ``i``: accelerator -> RAM) as a Wishbone initiator, one word per clock when the
  bus is free.
- :class:`WordPio` (``pio``): the same two streams as registers the core writes and reads (no
  DMA: the small SoC of the UP5K).
- :class:`ImcPeriph`, :class:`DotPeriph`: the IMC tile and the L-Mul / exact dot units with the
  word packing their streams need (:class:`Gather`, :class:`Scatter`; the DMA feeds them; see
  ``docs/soc.md`` for why).
- :class:`MulPeriph`: four L-Mul (or exact) fp8 products per pair of words, no accumulator.

The stall injector that test builds put on the SoC's ports is test code: ``tb/stall.py``.
"""

from .bridge import CsrBridge
from .dma import DMA_REGS, DmaCause, WordDma
from .dot import DotCause, DotPeriph, DotPeriphParams, dot_register_map
from .fetch import FetchPort
from .gather import Gather
from .gpio import Gpio
from .imc import ImcPeriph
from .mul import MulPeriph, MulPeriphParams
from .pio import PIO_REGS, PioCause, WordPio
from .scatter import Scatter
from .timer import Timer
from .uart import Uart

__all__ = ["CsrBridge", "FetchPort", "Uart", "Timer", "Gpio", "WordDma", "DMA_REGS", "DmaCause",
           "WordPio", "PIO_REGS", "PioCause", "MulPeriph", "MulPeriphParams",
           "ImcPeriph", "DotPeriph", "DotPeriphParams", "dot_register_map", "DotCause",
           "Gather", "Scatter"]

"""The SoC memory map: one list of regions that the bus decoder, the ISS, the firmware header
and docs/memory-map.md are all generated from.

Addresses not covered by a region answer with a bus error, which the core turns into a load,
store or instruction access fault: nothing aliases.
"""

from dataclasses import dataclass

from .csr import Field, Register, RegisterMap

__all__ = ["Region", "REGIONS", "region", "find_region", "UART_REGS", "TIMER_REGS", "GPIO_REGS",
           "RAM_BASE", "RAM_SIZE"]

RAM_BASE = 0x8000_0000
RAM_SIZE = 256 * 1024


@dataclass(frozen=True)
class Region:
    name: str
    base: int
    size: int                 # bytes, a power of two, base aligned to it
    doc: str = ""
    executable: bool = False

    def __post_init__(self):
        if self.size & (self.size - 1) or self.base % self.size:
            raise ValueError(f"region {self.name}: size 0x{self.size:x} must be a power of two "
                             f"and base 0x{self.base:08x} aligned to it")

    def contains(self, addr: int) -> bool:
        return self.base <= addr < self.base + self.size


UART_REGS = RegisterMap("uart", (
    Register("tx", (Field("data", 8),), access="w", doc="write a byte to send"),
    Register("rx", (Field("data", 8), Field("valid", 1)), access="r",
             doc="read pops a received byte; valid=0 when empty"),
    Register("status", (Field("tx_busy", 1), Field("rx_valid", 1), Field("rx_overrun", 1)),
             access="r", doc="rx_overrun is sticky until status is read"),
    Register("divisor", (Field("div", 16),), doc="clocks per bit"),
))

TIMER_REGS = RegisterMap("timer", (
    Register("mtime", (Field("lo", 32),), doc="low word of mtime (counts clocks)"),
    Register("mtimeh", (Field("hi", 32),), doc="high word of mtime"),
    Register("mtimecmp", (Field("lo", 32),), doc="machine timer interrupt when mtime >= cmp"),
    Register("mtimecmph", (Field("hi", 32),)),
))

GPIO_REGS = RegisterMap("gpio", (
    Register("out", (Field("leds", 8),), doc="LED outputs"),
    Register("in", (Field("buttons", 8),), access="r", doc="button inputs"),
))

REGIONS: tuple[Region, ...] = (
    Region("ram", RAM_BASE, RAM_SIZE, "program and data RAM (block RAM)", executable=True),
    Region("uart", 0x1000_0000, 0x100, "UART TX/RX"),
    Region("timer", 0x1000_1000, 0x100, "machine timer (mtime, mtimecmp)"),
    Region("gpio", 0x1000_2000, 0x100, "LEDs and buttons"),
    # Accelerators (hdl/soc.py): each register block is its own region, so an offset beyond a
    # block's registers is a bus error too. Their register maps depend on the SoC's sizes
    # (hdl/soc.py soc_register_maps).
    Region("imc", 0x1001_0000, 0x1000, "in-memory-compute tile: weights, control (hdl/imc.py)"),
    Region("imc_dma", 0x1001_1000, 0x100, "DMA: activations to the IMC tile, results to RAM"),
    Region("imc_pio", 0x1001_2000, 0x100, "PIO: the IMC tile's activations and results as "
                                          "registers (a SoC without DMAs)"),
    Region("dot", 0x1002_0000, 0x1000, "L-Mul / exact fp8 dot-product units (hdl/ldot.py)"),
    Region("dot_dma", 0x1002_1000, 0x100, "DMA: vectors to the dot units, results to RAM"),
    Region("dot_pio", 0x1002_2000, 0x100, "PIO: the dot units' vectors and results as registers"),
    Region("onn", 0x1003_0000, 0x1000, "oscillator array (hdl/onn/)"),
    # The element-wise fp8 multiplier (hdl/periph/mul.py MulPeriph) has no registers of its own.
    Region("mul_dma", 0x1004_1000, 0x100, "DMA: operand words to the fp8 multipliers, products "
                                          "to RAM"),
    Region("mul_pio", 0x1004_2000, 0x100, "PIO: operand words to the fp8 multipliers (four "
                                          "lanes per word), products back"),
)


def region(name: str) -> Region:
    for r in REGIONS:
        if r.name == name:
            return r
    raise KeyError(f"no region {name!r}; regions: {', '.join(r.name for r in REGIONS)}")


def find_region(addr: int, regions=REGIONS) -> Region | None:
    for r in regions:
        if r.contains(addr):
            return r
    return None

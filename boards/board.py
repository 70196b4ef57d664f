"""One FPGA board: its Amaranth platform, the pins a design gets, and the sizes it carries."""

from dataclasses import dataclass

from .design import DesignConfig

__all__ = ["Board"]

#: nextpnr's device flag by Amaranth platform device name.
_NEXTPNR_DEVICE = {"iCE40UP5K": "up5k", "LFE5U-25F": "25k", "LFE5U-45F": "45k",
                   "LFE5U-85F": "85k"}
#: nextpnr's package name by (family, Amaranth package name).
_NEXTPNR_PACKAGE = {("ice40", "SG48"): "sg48", ("ecp5", "BG256"): "CABGA256",
                    ("ecp5", "BG381"): "CABGA381"}


@dataclass(frozen=True)
class Board:
    """``name``: the ``make fpga BOARD=`` name; ``platform``: an amaranth-boards platform
    class; ``leds``/``buttons``: how many of the board's ``led``/``button`` resources the design
    drives/reads; ``config``: the units built for this board; ``goal_mhz``: the clock the SoC
    has to meet on this device (issue 9), reported against the achieved Fmax."""

    name: str
    platform: type
    leds: int
    buttons: int
    config: DesignConfig
    goal_mhz: float

    @property
    def device(self) -> str:
        return self.platform.device

    @property
    def family(self) -> str:
        return "ice40" if self.device.startswith("iCE40") else "ecp5"

    @property
    def nextpnr_device(self) -> str:
        return _NEXTPNR_DEVICE[self.device]

    @property
    def nextpnr_package(self) -> str:
        return _NEXTPNR_PACKAGE[self.family, self.platform.package]

    @property
    def clock_mhz(self) -> float:
        """The board oscillator the design runs from (no PLL yet)."""
        plat = self.platform()
        return plat.lookup(plat.default_clk).clock.frequency / 1e6

"""The board designs by name (``picojoule fpga BOARD --design NAME``).

Each is a factory ``factory(config, *, leds, buttons, clk_hz) -> wiring.Component`` meeting
:func:`boards.design.board_signature`. The stand-in and the SoC both import the contract of
:mod:`boards.design`, so the registry that names them lives here, above both.
"""

from .design import DesignConfig
from .standin import UnitsStandIn

__all__ = ["DESIGNS", "DEFAULT_DESIGN", "design_factory"]


def _standin(config: DesignConfig, *, leds: int, buttons: int, clk_hz: int):
    return UnitsStandIn(config, leds=leds, buttons=buttons)


def _soc(config: DesignConfig, *, leds: int, buttons: int, clk_hz: int):
    # Imported when chosen: the SoC design builds its firmware (zig) and pulls in the RISC-V
    # simulation side, which a stand-in build does not need.
    from sim.soc.rtl import soc_design

    return soc_design(config, leds=leds, buttons=buttons, clk_hz=clk_hz)


#: Board designs by name: ``factory(config, *, leds, buttons, clk_hz) -> wiring.Component``.
#: ``soc``: the SoC of ``hdl/soc.py`` running the smoke firmware from its block RAM.
DESIGNS = {"standin": _standin, "soc": _soc}
DEFAULT_DESIGN = "standin"


def design_factory(name: str):
    try:
        return DESIGNS[name]
    except KeyError:
        raise ValueError(f"unknown design {name!r}; choose one of: {', '.join(DESIGNS)}") \
            from None

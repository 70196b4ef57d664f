"""FPGA boards: Amaranth platforms (amaranth-boards), thin tops, per-board sizes, the build flow.

``BOARDS`` maps the ``make fpga BOARD=`` names to :class:`Board` objects; :func:`board` looks
one up (an unknown name lists the choices); ``boards.flow.build_board`` makes the bitstream and
the reports.
"""

from .board import Board
from .design import DesignConfig, board_signature
from .designs import DEFAULT_DESIGN, DESIGNS
from .icebreaker import ICEBREAKER, ICEBREAKER_ONN, ICEBREAKER_TDM
from .ulx3s import ULX3S_25F, ULX3S_85F, ULX3S_85F_ONN

__all__ = ["BOARDS", "Board", "DesignConfig", "DESIGNS", "DEFAULT_DESIGN", "board",
           "board_signature"]

BOARDS = {b.name: b for b in (ICEBREAKER, ULX3S_25F, ULX3S_85F, ICEBREAKER_ONN,
                                ULX3S_85F_ONN, ICEBREAKER_TDM)}


def board(name: str) -> Board:
    """The board called ``name``; ``ValueError`` listing the choices otherwise."""
    try:
        return BOARDS[name]
    except KeyError:
        raise ValueError(f"unknown board {name!r}; choose one of: {', '.join(BOARDS)}") \
            from None

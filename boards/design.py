"""What a board runs: the port contract every board design meets and its sizes.

A board top (:class:`boards.top.BoardTop`) builds its design with a factory
``factory(config: DesignConfig, *, leds: int, buttons: int, clk_hz: int) -> wiring.Component``
(``clk_hz``: the ``sync`` clock, e.g. for a UART divisor) and checks that
the component's signature is :func:`board_signature` (``leds``/``buttons`` from the board). Only
the top touches pins; the design sees plain signals on the board's default clock domain (``sync``,
the board oscillator), with ``rx`` and ``buttons`` already synchronized.

The designs by name are in :mod:`boards.designs`: the stand-in
(:class:`boards.standin.UnitsStandIn`: the units driven by an LFSR, no processor; the default)
and the SoC (``hdl/soc.py``'s ``SocBoard`` running the smoke firmware,
``--design soc``). Both carry every unit the :class:`DesignConfig` names.
"""

from dataclasses import dataclass

from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hdl.float import FORMATS
from hdl.imc import ImcParams
from hdl.onn import OnnParams, TdmParams
from hdl.riscv.core import VARIANTS

__all__ = ["CORE_VARIANTS", "DesignConfig", "board_signature", "check_design"]


#: Core variants a board's SoC can carry (``CoreParams.variant``): ``pipelined``, the
#: four-stage core; ``compact``, the multi-cycle core for small devices (``hdl/riscv/``).
CORE_VARIANTS = VARIANTS


@dataclass(frozen=True)
class DesignConfig:
    """Sizes of the units a board carries (the same object later configures the SoC).

    ``imc``: the in-memory-compute tile (None: no tile); ``lmul``: the format of the L-Mul
    stream unit (a key of ``hdl.float.FORMATS``, None: no unit); ``onn``: the oscillator array
    (``hdl.onn.OnnArray``; None: no array); ``onn_lanes`` > 0: that array time-multiplexed
    instead (``hdl.onn.OnnTdm(TdmParams(onn, onn_lanes))``; the SoC as ``SocParams.onn_lanes``).
    """

    imc: ImcParams | None = None
    lmul: str | None = "e4m3"
    onn: OnnParams | None = None
    #: The ``soc`` design only (the stand-in has no core, RAM or dot unit): RV32IM or RV32I,
    #: lanes of the L-Mul dot unit, RAM bytes (block RAM; the smoke firmware needs 4 KiB).
    with_muldiv: bool = True
    dot_lanes: int = 8
    ram_size: int = 8 * 1024
    #: ``soc`` only: the core (``CoreParams.variant``, one of ``CORE_VARIANTS``) and the
    #: pipelined core's return-address stack depth (``CoreParams.ras_depth``).
    core_variant: str = "pipelined"
    ras_depth: int = 2
    #: ``soc`` only: how ``lmul`` is offered: ``dot`` (the L-Mul dot-product peripheral with
    #: ``dot_lanes`` lanes) or ``mul`` (``hdl/periph.MulPeriph``: four L-Mul products per word
    #: pair, no accumulator).
    lmul_periph: str = "dot"
    #: ``soc`` only: word DMAs feed the accelerators' streams (else register FIFOs, PIO).
    with_dma: bool = True
    onn_lanes: int = 0

    def __post_init__(self):
        if self.imc is not None and not isinstance(self.imc, ImcParams):
            raise TypeError(f"imc must be an ImcParams or None, not {self.imc!r}")
        if self.lmul is not None and self.lmul not in FORMATS:
            raise ValueError(f"lmul must be one of {', '.join(FORMATS)} or None, "
                             f"not {self.lmul!r}")
        if self.dot_lanes % 4 or not 4 <= self.dot_lanes <= 32:
            raise ValueError(f"dot_lanes must be a multiple of 4 in 4..32, "
                             f"not {self.dot_lanes!r}")
        if self.ram_size < 1024 or self.ram_size & (self.ram_size - 1):
            raise ValueError(f"ram_size must be a power of two of at least 1 KiB, "
                             f"not {self.ram_size!r}")
        if self.onn is not None and not isinstance(self.onn, OnnParams):
            raise TypeError(f"onn must be an OnnParams or None, not {self.onn!r}")
        if not isinstance(self.onn_lanes, int) or self.onn_lanes < 0:
            raise ValueError(f"onn_lanes must be a non-negative integer, not {self.onn_lanes!r}")
        if self.onn_lanes:
            if self.onn is None:
                raise ValueError("onn_lanes needs an oscillator array (onn)")
            TdmParams(self.onn, self.onn_lanes)         # its own one-line errors
        if self.core_variant not in CORE_VARIANTS:
            raise ValueError(f"core_variant must be one of {', '.join(CORE_VARIANTS)}, "
                             f"not {self.core_variant!r}")
        if not isinstance(self.ras_depth, int) or not 0 <= self.ras_depth <= 8:
            raise ValueError(f"ras_depth must be an integer in 0..8, not {self.ras_depth!r}")
        if self.lmul_periph not in ("dot", "mul"):
            raise ValueError(f"lmul_periph must be 'dot' or 'mul', not {self.lmul_periph!r}")

    def describe(self, design: str = "standin") -> str:
        """The units, and for the ``soc`` design the SoC's own choices."""
        parts = []
        if self.imc is not None:
            parts.append(f"IMC tile {self.imc.rows}x{self.imc.cols} "
                         f"w{self.imc.w_bits}a{self.imc.a_bits} "
                         f"tree_stages={self.imc.tree_stages}")
        if self.lmul is not None:
            parts.append(f"L-Mul {self.lmul} stream")
        if self.onn is not None:
            parts.append(f"oscillator array n={self.onn.n}" + (
                f" time-multiplexed ({self.onn_lanes} lanes, {self.onn.weight_bits}-bit "
                "couplings in block RAM)" if self.onn_lanes else ""))
        if design != "soc":
            return ", ".join(parts) or "no units"
        soc = [f"{self.core_variant} rv32i{'m' if self.with_muldiv else ''} core "
               f"(ras_depth={self.ras_depth})",
               f"L-Mul as {'dot unit' if self.lmul_periph == 'dot' else 'multipliers'}",
               "DMAs" if self.with_dma else "PIO (no DMAs)", f"{self.ram_size // 1024} KiB RAM"]
        return (", ".join(parts) or "no units") + f"; soc design: {', '.join(soc)}"


def board_signature(*, leds: int, buttons: int) -> wiring.Signature:
    """The ports of every board design (design's view).

    Members
    -------
    tx : Out(1)              UART transmit, idle high
    rx : In(1)               UART receive, synchronized to ``sync``, idle high
    leds : Out(leds)         1 = lit (the top handles the board's polarity)
    buttons : In(buttons)    1 = pressed, synchronized to ``sync`` (not debounced)
    """
    for name, n in (("leds", leds), ("buttons", buttons)):
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"{name} must be a positive integer, not {n!r}")
    return wiring.Signature({"tx": Out(1, init=1), "rx": In(1, init=1), "leds": Out(leds),
                             "buttons": In(buttons)})


def check_design(design, *, leds: int, buttons: int) -> None:
    """Raise ``TypeError`` (one line) unless ``design`` is a component with the board ports."""
    want = board_signature(leds=leds, buttons=buttons)
    if not isinstance(design, wiring.Component):
        raise TypeError(f"a board design must be a wiring.Component, not {design!r}")
    got = design.signature
    if dict(got.members) != dict(want.members):
        raise TypeError(f"{type(design).__name__} has ports {dict(got.members)}, a board needs "
                        f"{dict(want.members)}")

"""What a power measurement runs: the cocotb testcase, its stimulus and the traffic to charge.

A :class:`Workload` names a cocotb testcase (module + function) that marks its window with
:func:`sim.rtl.activity.measure`, the parameters it reads with ``sim.rtl.bench.params()``,
and the boundaries and memories whose traffic is charged per access. The same workload runs
on the RTL and on the gate-level netlist, so both see the same stimulus.
"""

from dataclasses import dataclass

import numpy as np

from hdl.float import FORMATS, FloatFormat
from sim.lmul.model import is_inf, is_nan

__all__ = ["Boundary", "MemoryPort", "Workload", "OperandStream", "normal_operands",
           "operand_workload"]


@dataclass(frozen=True)
class Boundary:
    """Bits crossing a named boundary: ``bits`` per clock edge where ``valid`` (and ``ready``,
    if given) are high. Charged at ``tier`` (``sim.power.energy.INTERCONNECT``); on-die wire
    is charged per ``length_mm``."""

    name: str
    valid: str
    bits: int
    ready: str | None = None
    tier: str = "on_die_wire"
    length_mm: float = 1.0
    clock: str = "clk"


@dataclass(frozen=True)
class MemoryPort:
    """Accesses of a memory port: one per clock edge where ``enable`` is high."""

    name: str
    enable: str
    word_bits: int
    size_bytes: int
    write: bool = False
    dram: bool = False
    clock: str = "clk"


@dataclass(frozen=True)
class Workload:
    test_module: str
    testcase: str
    params: object
    window: str = "window"
    boundaries: tuple[Boundary, ...] = ()
    memories: tuple[MemoryPort, ...] = ()
    clocks: tuple[str, ...] = ("clk",)

    def describe(self) -> dict:
        return {"testcase": f"{self.test_module}.{self.testcase}", "params": repr(self.params),
                "window": self.window}


@dataclass(frozen=True)
class OperandStream:
    """Seeded random normal operand pairs through a multiplier, one pair per ``period_ns``.

    ``windows`` is a tuple of (window name, repeats): each window replays the whole sequence
    ``repeats`` times, starting from the state the sequence leaves (its last pair), so a window
    of two repeats does exactly twice the work of one. ``stream`` selects the valid/ready
    wrapper (ports ``i``/``o``) instead of the combinational ``a``/``b``/``y``.
    """

    fmt: str
    n_ops: int = 2000
    seed: int = 1
    stream: bool = False
    period_ns: int = 10
    windows: tuple[tuple[str, int], ...] = (("window", 1),)


def normal_operands(fmt: FloatFormat, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` pairs of random finite normal encodings (either sign), reproducible by ``seed``."""
    if n <= 0:
        raise ValueError(f"n must be positive, not {n!r}")
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(2):
        vals = np.empty(0, dtype=np.uint32)
        while vals.size < n:
            v = rng.integers(0, 1 << fmt.width, size=2 * n, dtype=np.uint32)
            exp = (v >> fmt.man_bits) & fmt.exp_max_field
            ok = (exp != 0) & ~is_nan(fmt, v) & ~is_inf(fmt, v)
            vals = np.concatenate([vals, v[ok]])
        out.append(vals[:n])
    return out[0], out[1]


def operand_workload(fmt: str, *, n_ops: int = 2000, seed: int = 1, stream: bool = False,
                     length_mm: float = 1.0) -> Workload:
    """The standard multiplier workload: ``n_ops`` random normal pairs of format ``fmt``.

    The stream variant charges its operand and result ports as an on-die bus of
    ``length_mm`` (an assumed distance: the report labels it).
    """
    f = FORMATS[fmt]
    params = OperandStream(fmt, n_ops, seed, stream)
    bounds = ()
    if stream:
        bounds = (Boundary("i", "i__valid", 2 * f.width, ready="i__ready", length_mm=length_mm),
                  Boundary("o", "o__valid", f.width, ready="o__ready", length_mm=length_mm))
    return Workload("sim.power.bench", "operand_stream", params, boundaries=bounds)


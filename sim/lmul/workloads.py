"""The multipliers' energy workload: seeded random normal operand pairs (:class:`OperandStream`),
run by ``sim.lmul.power_bench.operand_stream`` on the RTL and on mapped netlists alike."""

from dataclasses import dataclass

import numpy as np

from hdl.float import FORMATS, FloatFormat
from sim.power.workloads import Boundary, Workload

from .model import is_inf, is_nan

__all__ = ["OperandStream", "normal_operands", "operand_workload"]


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
    return Workload("sim.lmul.power_bench", "operand_stream", params, boundaries=bounds)

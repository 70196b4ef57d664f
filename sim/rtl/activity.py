"""cocotb side of activity capture: mark the window whose toggles count as the workload.

A window runs from one simulation time ``t0`` to a later ``t1`` and carries the number of
operations done in it. It is left as a JSON record (``SimRun.data(name)``) that
:func:`sim.power.activity.capture` reads next to the run's ``dump.fst``; toggles at times in
``[t0, t1)`` count. Times are recorded in femtoseconds so simulators with different
precisions agree::

    async with measure(dut, ops=len(pairs)):
        for x, y in pairs:
            ...

or, when the end is found later, ``w = window_start(); ...; window_end(w, ops=n)``.
"""

from contextlib import asynccontextmanager
from dataclasses import dataclass

from cocotb.simtime import get_sim_time

from .bench import record

__all__ = ["measure", "window_start", "window_end", "Window"]


@dataclass
class Window:
    name: str
    t0_fs: int


def _now_fs() -> int:
    return round(get_sim_time("fs"))


def window_start(name: str = "window") -> Window:
    """Open window ``name`` at the current simulation time."""
    return Window(name, _now_fs())


def window_end(window: Window, *, ops: int, **extra) -> dict:
    """Close ``window`` now, after ``ops`` operations; records and returns the window.

    Raises ``ValueError`` for no operations or an empty window, so a broken testbench never
    leaves a record that would read as zero energy.
    """
    if not isinstance(ops, int) or ops <= 0:
        raise ValueError(f"window {window.name!r}: ops must be a positive integer, not {ops!r}")
    t1 = _now_fs()
    if t1 <= window.t0_fs:
        raise ValueError(f"window {window.name!r} is empty: t1 {t1} fs <= t0 {window.t0_fs} fs")
    rec = {"name": window.name, "t0_fs": window.t0_fs, "t1_fs": t1, "ops": ops, **extra}
    record(window.name, rec)
    return rec


@asynccontextmanager
async def measure(dut, *, ops: int, name: str = "window", **extra):
    """Record window ``name`` around the body; ``extra`` keys go into the record as well.

    Nothing is recorded if the body raises.
    """
    del dut  # kept in the signature so every call site names the design it measures
    w = window_start(name)
    yield w
    window_end(w, ops=ops, **extra)

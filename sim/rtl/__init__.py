"""Shared test infrastructure: the one runner (pytest side) and the cocotb-side helpers."""

from .runner import SimFailure, SimRun, convert, run

__all__ = ["run", "SimRun", "SimFailure", "convert"]

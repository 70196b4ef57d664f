"""What a power measurement runs: the cocotb testcase, its stimulus and the traffic to charge.

A :class:`Workload` names a cocotb testcase (module + function) that marks its window with
:func:`sim.rtl.activity.measure`, the parameters it reads with ``sim.rtl.bench.params()``,
and the boundaries and memories whose traffic is charged per access. The same workload runs
on the RTL and on the gate-level netlist, so both see the same stimulus.
"""

from dataclasses import dataclass

__all__ = ["Boundary", "MemoryPort", "Workload"]


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

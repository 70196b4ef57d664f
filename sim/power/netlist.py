"""A unit mapped to standard cells, as the energy engine sees it: instances, nets, ports.

Produced by :func:`sim.power.stdcell.map_unit` from Yosys's JSON of a liberty-mapped netlist;
consumed by the energy engine (:mod:`sim.power.cellpower`) and OpenSTA (:mod:`sim.power.sta`).
A net is one bit; it is read from a wave dump as bit ``index`` of signal ``name`` (relative to
the unit's top level), so the same :class:`CellNetlist` prices a zero-delay run and an
SDF-annotated run of the same netlist.
"""

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Net", "Instance", "CellNetlist"]


@dataclass(frozen=True)
class Net:
    """One net bit: bit ``index`` of dump signal ``name``."""

    name: str
    index: int


@dataclass(frozen=True)
class Instance:
    """One cell instance: liberty cell ``cell``; pins map to net bit ids (Yosys bit numbers),
    or to ``"0"``/``"1"`` for an input tied to a constant."""

    name: str
    cell: str
    inputs: dict[str, int | str]
    outputs: dict[str, int]


@dataclass(frozen=True)
class CellNetlist:
    """A unit mapped to the cells of one liberty file."""

    top: str
    verilog: str                      # the mapped netlist (instances of liberty cells)
    instances: tuple[Instance, ...]
    nets: dict[int, Net] = field(repr=False)   # every non-constant net bit
    inputs: frozenset[int] = frozenset()       # bits driven by top-level input ports
    outputs: frozenset[int] = frozenset()      # bits read by top-level output ports
    clocks: frozenset[int] = frozenset()       # bits that reach a sequential cell's clock pin
    area_um2: float = 0.0
    liberty: Path | None = None
    directory: Path | None = None

    @property
    def cell_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for inst in self.instances:
            out[inst.cell] = out.get(inst.cell, 0) + 1
        return dict(sorted(out.items()))

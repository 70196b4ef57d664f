"""Gate-level proxy: a unit synthesized to generic gates, its nets, and their energy.

:func:`synthesize` runs Yosys (``sim.flow.toolchain.run_yosys``) on the unit's Verilog:

    synth -flatten; dfflegalize to $_DFF_P_ (enables and sync resets become gates);
    abc -g AND,NAND,OR,NOR,XOR,XNOR,ANDNOT,ORNOT,MUX; unescape names; name private nets pj_n<k>

and writes the netlist as Verilog expressions (one ``assign`` per cell, one ``always`` per
flip-flop), which Verilator and Icarus simulate fast, under the same top-level name and ports,
so the unit's own cocotb testbench runs on it unchanged (``run(..., verilog_text=...)``).

:func:`net_map` reads a Yosys JSON netlist into one entry per distinct net bit: the name its
toggles are read under in the wave dump and the cell input pins it drives. The same map over
the RTL (``proc``, no optimisation) deduplicates RTL aliases so RTL toggle counts do not
depend on how a simulator dumps ``assign a = b``.

:func:`gate_energy` weights each net's toggles by its load (``sim.power.energy``).
"""

import fcntl
import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sim.flow.toolchain import BUILD, run_yosys

from . import energy
from .activity import Activity, ActivityError

__all__ = ["GateNetlist", "NetBit", "synthesize", "rtl_net_map", "net_map", "gate_energy",
           "net_toggles", "GATES"]

GATES = "AND,NAND,OR,NOR,XOR,XNOR,ANDNOT,ORNOT,MUX"
_SIMPLE = re.compile(r"^[A-Za-z][A-Za-z0-9_$.]*$")


@dataclass(frozen=True)
class NetBit:
    """One net bit: read as bit ``index`` of dump signal ``name``; drives ``loads`` pins."""

    name: str
    index: int
    loads: tuple[tuple[str, str], ...] = ()     # (cell type, pin)
    is_clock: bool = False


@dataclass(frozen=True)
class GateNetlist:
    top: str
    verilog: str
    cells: dict[str, int]
    nets: dict[int, NetBit] = field(repr=False)
    directory: Path

    @property
    def n_cells(self) -> int:
        return sum(self.cells.values())

    @property
    def n_flipflops(self) -> int:
        return self.cells.get("$_DFF_P_", 0)


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def _yosys_cached(directory: Path, rtl: str, script: str, outputs: list[str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if all((directory / o).exists() for o in outputs):
                return
            (directory / "rtl.v").write_text(rtl)
            run_yosys(script, cwd=directory)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def net_map(module: dict) -> dict[int, NetBit]:
    """Distinct non-constant net bits of a Yosys JSON ``module`` with their loads.

    Each bit is read under its best public name: a port, else a simple name, else the shortest
    (never an anonymous ``$N`` temporary, nor a ``_`` name Verilator does not dump). Bits
    nothing drives (names left over from removed logic) are not nets.
    """
    ports = set(module.get("ports", {}))
    best: dict[int, tuple] = {}
    for raw, net in module["netnames"].items():
        # JSON keeps the backslash of escaped public names; "$N" leaves are Amaranth's and
        # Yosys's anonymous temporaries, "_" leaves are not dumped by Verilator.
        name = raw.replace("\\", "")
        if net.get("hide_name") or name.rsplit(".", 1)[-1].startswith(("_", "$")):
            continue
        rank = (name not in ports, not _SIMPLE.match(name), len(name), name)
        for index, bit in enumerate(net["bits"]):
            if isinstance(bit, int) and (bit not in best or rank < best[bit][0]):
                best[bit] = (rank, name, index)
    loads: dict[int, list] = {}
    clocks = set()
    # Leftover names of removed logic can name undriven bits (dumped as z): not nets.
    driven = {b for p in module.get("ports", {}).values() if p["direction"] == "input"
              for b in p["bits"]}
    for cell in module["cells"].values():
        dirs = cell.get("port_directions", {})
        for pin, bits in cell["connections"].items():
            ints = [b for b in bits if isinstance(b, int)]
            if dirs.get(pin) == "output":
                driven.update(ints)
                continue
            for bit in ints:
                loads.setdefault(bit, []).append((cell["type"], pin))
                if cell["type"] == "$_DFF_P_" and pin == "C":
                    clocks.add(bit)
    return {bit: NetBit(name, index, tuple(loads.get(bit, ())), bit in clocks)
            for bit, (_, name, index) in best.items() if bit in driven}


def synthesize(verilog_text: str, top: str, *, out_dir: Path | None = None,
               keep_memories: bool = False) -> GateNetlist:
    """Generic-gate netlist of ``top`` in ``verilog_text`` (cached by the text's hash).

    ``keep_memories``: memories stay one ``$mem`` cell each (Yosys ``memory -nomap``, written
    as a Verilog array) instead of becoming flip-flops, for units whose memory accesses are
    charged whole from the SRAM/DRAM tables (a ``MemoryPort``): the memory cell's pins carry
    no capacitance, so the array is not charged twice.
    """
    directory = out_dir or (BUILD / "power" /
                            f"{top}-{_digest(verilog_text)}{'-keepmem' if keep_memories else ''}")
    # With memories kept: synth's begin and coarse steps (memory -nomap), then its fine step
    # without memory_map.
    synth = ([f"synth -flatten -top {top} -run :fine", "opt -fast -full", "techmap",
              "opt -fast"] if keep_memories else [f"synth -flatten -top {top}"])
    script = "\n".join([
        "read_verilog rtl.v",
        *synth,
        "dfflegalize -cell $_DFF_P_ 01",
        f"abc -g {GATES}",
        "opt_clean",
        "delete t:$scopeinfo",
        "rename -unescape",
        "rename -enumerate -pattern pj_n%",
        "opt_clean",
        "tee -o stat.txt stat",
        "write_json gate.json",
        "write_verilog -noattr gate.v",
    ])
    _yosys_cached(directory, verilog_text, script, ["gate.json", "gate.v"])
    module = json.loads((directory / "gate.json").read_text())["modules"][top]
    cells = Counter(c["type"] for c in module["cells"].values())
    mem_types = {t for t in cells if t.startswith("$mem")} if keep_memories else set()
    if keep_memories and not mem_types:
        raise ActivityError(f"{top}: no memory cell survived synthesis ({directory})")
    unknown = sorted(set(cells) - set(energy.CELL_PINS) - mem_types)
    if unknown:
        raise ActivityError(f"{top}: cells without a capacitance model: {', '.join(unknown)}")
    nets = net_map(module)
    if mem_types:
        nets = {bit: NetBit(n.name, n.index, tuple(ld for ld in n.loads
                                                   if ld[0] not in mem_types), n.is_clock)
                for bit, n in nets.items()}
    return GateNetlist(top, (directory / "gate.v").read_text(), dict(sorted(cells.items())),
                       nets, directory)


def rtl_net_map(verilog_text: str, top: str) -> dict[int, NetBit]:
    """Distinct named RTL net bits (aliases merged, no optimisation) of ``top``."""
    directory = BUILD / "power" / f"{top}-{_digest(verilog_text)}-rtl"
    script = f"read_verilog rtl.v\nhierarchy -top {top}\nproc\nflatten\nwrite_json rtl.json\n"
    _yosys_cached(directory, verilog_text, script, ["rtl.json"])
    return net_map(json.loads((directory / "rtl.json").read_text())["modules"][top])


def net_toggles(nets: dict[int, NetBit], act: Activity, *, strict: bool = True
                ) -> dict[int, int]:
    """Transitions of each net bit in the window; ``strict``: a net missing from the dump is
    an error (it would silently drop its energy)."""
    out, missing = {}, []
    for bit, net in nets.items():
        counts = act.bits.get(net.name)
        if counts is None or net.index >= counts.size:
            missing.append(f"{net.name}[{net.index}]")
            continue
        out[bit] = int(counts[net.index])
    if missing and strict:
        raise ActivityError(f"{len(missing)} nets are not in the dump, e.g. "
                            f"{', '.join(missing[:8])}")
    return out


def gate_energy(netlist: GateNetlist, act: Activity, *, vdd: float = energy.VDD) -> dict:
    """Energy of the window on ``netlist`` from ``act`` (the gate-level run's activity).

    Returns toggles (all nets but clocks), clock transitions, and energy in fJ by class:
    ``logic`` (loads on combinational cell pins), ``flipflop`` (flip-flop data pins) and
    ``clock`` (flip-flop clock pins); wire capacitance goes with the pin it serves.
    """
    toggles = net_toggles(netlist.nets, act)
    c_wire = energy.value("c_wire_per_pin")
    fj = {"logic": 0.0, "flipflop": 0.0, "clock": 0.0}
    total = clock = 0
    for bit, n in toggles.items():
        net = netlist.nets[bit]
        if net.is_clock:
            clock += n
        else:
            total += n
        if not n:
            continue
        for cell, pin in net.loads:
            cls = ("clock" if pin == "C" else "flipflop") if cell == "$_DFF_P_" else "logic"
            cap = energy.pin_cap_ff(cell, pin) + c_wire
            fj[cls] += n * energy.transition_energy_fj(cap, vdd)
    return {"toggles": total, "clock_transitions": clock, "fj": fj}

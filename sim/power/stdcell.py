"""Standard-cell flow: the OSU 0.18 um library, and a unit mapped to the cells of a liberty.

Tools without root: :func:`apt_package` fetches a Debian package with ``apt-get download`` and
unpacks it with ``dpkg -x`` into ``BUILD/tools/<package>`` on first use (under a lock shared by
parallel workers; unpacked into a temporary folder, then renamed into place). :func:`osu018`
gives the OSU 0.18 um liberty and Verilog of ``qflow-tech-osu018``; OpenSTA comes the same way
(:func:`sim.power.sta.opensta`). Both are GPL: they stay under ``build/``, never in the tree.

:func:`map_unit` maps a unit's Verilog to the cells of a liberty with Yosys:

    synth -flatten; dfflibmap -liberty (legalizes flip-flops to the library's: for OSU 0.18
    DFFPOSX1, DFFNEGX1, DFFSR with active-low async set/reset; enables and sync resets become
    logic); abc -liberty; setundef -undriven -zero; unescape names; name private nets pj_n<k>;
    stat -liberty; write_json; write_verilog -simple-lhs (OpenSTA's 2019 Verilog reader takes
    no concatenation on the left of an assign)

The result is cached under ``BUILD/stdcell/<top>-<hash>`` by the hash of the Verilog text,
the top name, the liberty's contents and this script. Libraries without tie cells (OSU 0.18)
leave constants as ``1'h0``/``1'h1`` on instance pins and as constant assigns to ports; in
:class:`~sim.power.netlist.Instance` such pins read ``"0"``/``"1"``. A net is one driven bit
(an input-port bit or a cell output), read in a wave dump under its best public name: a port,
else a simple name, else the shortest (never an anonymous ``$N`` or a ``_`` name, which
Verilator does not dump). Area is the sum of the liberty's cell areas, checked against Yosys's
``stat -liberty``.

Every failure is one line: :class:`~sim.flow.toolchain.ToolError` for a missing tool or a Yosys
error, :class:`StdcellError` for a unit whose netlist keeps cells the liberty cannot provide.
"""

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from sim.flow.toolchain import BUILD, ToolError, locked, run_yosys

from .liberty import LibertyError, Library, cell_models, read_liberty
from .netlist import CellNetlist, Instance, Net

__all__ = ["StdcellError", "OSU018_PACKAGE", "apt_package", "osu018", "map_unit",
           "check_cells", "simulation_verilog"]

OSU018_PACKAGE = "qflow-tech-osu018"
_OSU018_DIR = Path("usr/share/qflow/tech/osu018")

# Bump when the script or the reading of its output changes: cached netlists are then remapped.
_FLOW_VERSION = "2"
_SIMPLE = re.compile(r"^[A-Za-z][A-Za-z0-9_$.]*$")


class StdcellError(ValueError):
    """A unit that does not map onto a liberty's cells, or a netlist a liberty cannot serve."""


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("E:")]
    return (errors or lines or ["no output"])[-1]


def apt_package(package: str, *, instead: str | None = None) -> Path:
    """Root folder of Debian ``package`` unpacked into ``BUILD/tools/<package>``.

    Downloaded with ``apt-get download`` (no root needed) and unpacked with ``dpkg -x`` on first
    use; reused afterwards. ``instead`` (default: install the package) ends the one-line
    :class:`ToolError` raised when that fails.
    """
    tools = BUILD / "tools"
    root = tools / package
    if root.is_dir():
        return root
    instead = instead or f"install {package} (Debian/Ubuntu)"
    with locked(tools):
        if root.is_dir():
            return root
        if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
            raise ToolError(f"apt-get not found, cannot fetch {package}: {instead}")
        with tempfile.TemporaryDirectory(dir=tools, prefix=f".{package}-") as tmp:
            proc = subprocess.run(["apt-get", "download", package], cwd=tmp,
                                  capture_output=True, text=True)
            debs = sorted(Path(tmp).glob(f"{package}_*.deb"))
            if proc.returncode != 0 or not debs:
                raise ToolError(f"`apt-get download {package}` failed "
                                f"({_last_line(proc.stderr + proc.stdout)}): run `apt-get "
                                f"update` as root, or {instead}")
            unpacked = Path(tmp) / "root"
            proc = subprocess.run(["dpkg", "-x", str(debs[0]), str(unpacked)],
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                raise ToolError(f"`dpkg -x {debs[0].name}` failed: "
                                f"{_last_line(proc.stderr + proc.stdout)}")
            unpacked.rename(root)
    return root


def osu018() -> tuple[Path, Path]:
    """(liberty, Verilog) of the OSU 0.18 um cells (Debian ``qflow-tech-osu018``)."""
    root = apt_package(OSU018_PACKAGE, instead=f"install {OSU018_PACKAGE} (Debian/Ubuntu) "
                       "or pass --liberty FILE") / _OSU018_DIR
    lib, verilog = root / "osu018_stdcells.lib", root / "osu018_stdcells.v"
    for path in (lib, verilog):
        if not path.is_file():
            raise ToolError(f"{path} missing from {OSU018_PACKAGE}: remove "
                            f"{BUILD / 'tools' / OSU018_PACKAGE} to fetch it again")
    return lib, verilog


def _library(liberty: Path) -> Library:
    try:
        return read_liberty(liberty)
    except LibertyError as err:
        raise StdcellError(str(err)) from None


def _script(top: str) -> str:
    return "\n".join([
        "read_verilog rtl.v",
        "read_liberty -lib cells.lib",
        f"synth -flatten -top {top}",
        "dfflibmap -liberty cells.lib",
        "abc -liberty cells.lib",
        "opt_clean",
        "delete t:$scopeinfo",
        "setundef -undriven -zero",
        "rename -unescape",
        "rename -enumerate -pattern pj_n%",
        "opt_clean",
        "tee -q -o stat.json stat -json -liberty cells.lib",
        "write_json cells.json",
        "write_verilog -noattr -simple-lhs cells.v",
    ]) + "\n"


def map_unit(verilog_text: str, top: str, liberty: Path, *,
             out_dir: Path | None = None) -> CellNetlist:
    """``top`` of ``verilog_text`` mapped to the cells of ``liberty`` (cached; see above)."""
    liberty = Path(liberty)
    try:
        lib_bytes = liberty.read_bytes()
    except OSError as err:
        raise ToolError(f"cannot read liberty {liberty}: {err.strerror or err}") from None
    lib = _library(liberty)
    script = _script(top)
    h = hashlib.sha1()
    for part in (_FLOW_VERSION, top, script, verilog_text):
        h.update(part.encode())
        h.update(b"\0")
    h.update(lib_bytes)
    digest = h.hexdigest()
    directory = Path(out_dir) if out_dir else BUILD / "stdcell" / f"{top}-{digest[:12]}"
    outputs = ("cells.json", "cells.v", "stat.json")
    with locked(directory):
        key = directory / "key"
        if not (key.is_file() and key.read_text() == digest
                and all((directory / o).is_file() for o in outputs)):
            key.unlink(missing_ok=True)
            (directory / "rtl.v").write_text(verilog_text)
            (directory / "cells.lib").write_bytes(lib_bytes)
            try:
                run_yosys(script, cwd=directory)
            except ToolError as err:
                raise ToolError(f"{top}: cannot map to {liberty.name}: {err}") from None
            key.write_text(digest)
    module = json.loads((directory / "cells.json").read_text())["modules"].get(top)
    if module is None:
        raise StdcellError(f"{top}: no such module in the mapped netlist ({directory})")
    netlist = _netlist(module, top, (directory / "cells.v").read_text(), lib, liberty,
                       directory)
    yosys_area = _yosys_area(directory / "stat.json", top)
    if abs(yosys_area - netlist.area_um2) > 1e-6 * max(1.0, yosys_area):
        raise StdcellError(f"{top}: area {netlist.area_um2:.3f} from {liberty.name} differs "
                           f"from Yosys's stat ({yosys_area:.3f}) in {directory}")
    return netlist


def _yosys_area(path: Path, top: str) -> float:
    modules = json.loads(path.read_text())["modules"]
    stat = modules.get(f"\\{top}") or modules.get(top) or {}
    return float(stat.get("area", 0.0))


def _best_names(module: dict) -> dict[int, tuple[str, int]]:
    """Bit -> (public name, index) to read it under in a wave dump."""
    ports = set(module.get("ports", {}))
    best: dict[int, tuple] = {}
    for raw, net in module["netnames"].items():
        name = raw.replace("\\", "")
        leaf = name.rsplit(".", 1)[-1]
        if net.get("hide_name") or leaf.startswith("$"):
            continue
        # "_" names (Amaranth's private signals) are dumped by Verilator only with
        # --trace-underscore, which the energy engine passes: used when nothing better exists.
        rank = (name not in ports, leaf.startswith("_"), not _SIMPLE.match(name), len(name),
                name)
        for index, bit in enumerate(net["bits"]):
            if isinstance(bit, int) and (bit not in best or rank < best[bit][0]):
                best[bit] = (rank, name, index)
    return {bit: (name, index) for bit, (_, name, index) in best.items()}


def _netlist(module: dict, top: str, verilog: str, lib: Library, liberty: Path,
             directory: Path) -> CellNetlist:
    unmapped: dict[str, int] = {}
    for cell in module["cells"].values():
        if cell["type"] not in lib.cells:
            unmapped[cell["type"]] = unmapped.get(cell["type"], 0) + 1
    if unmapped:
        listed = ", ".join(f"{t} ({n})" for t, n in sorted(unmapped.items()))
        raise StdcellError(f"{top}: cells not mapped to {liberty.name}: {listed} "
                           f"(simulation-only statements such as $display or Assert leave "
                           f"$print/$check cells; see {directory / 'cells.v'})")
    inputs, outputs = set(), set()
    for port in module["ports"].values():
        ints = {b for b in port["bits"] if isinstance(b, int)}
        if port["direction"] == "input":
            inputs |= ints
        elif port["direction"] == "output":
            outputs |= ints
    driven, clocks = set(inputs), set()
    instances = []
    for name, cell in sorted(module["cells"].items()):
        libcell = lib.cells[cell["type"]]
        clock_pins = set(libcell.clock_pins)
        ins: dict[str, int | str] = {}
        outs: dict[str, int] = {}
        for pin, bits in cell["connections"].items():
            if len(bits) != 1:
                raise StdcellError(f"{top}: pin {name}.{pin} is {len(bits)} bits wide")
            bit = bits[0]
            direction = libcell.pins[pin].direction if pin in libcell.pins else None
            if direction == "output":
                if isinstance(bit, int):
                    outs[pin] = bit
                    driven.add(bit)
            elif isinstance(bit, int):
                ins[pin] = bit
                if pin in clock_pins:
                    clocks.add(bit)
            else:
                ins[pin] = "1" if bit == "1" else "0"   # x/z left by Yosys read as 0
        instances.append(Instance(name.replace("\\", ""), cell["type"], ins, outs))
    names = _best_names(module)
    unnamed = sorted(driven - set(names))
    if unnamed:
        raise StdcellError(f"{top}: {len(unnamed)} driven bits have no public name, e.g. bit "
                           f"{unnamed[0]} ({directory / 'cells.json'})")
    nets = {bit: Net(*names[bit]) for bit in sorted(driven)}
    area = sum(lib.cells[i.cell].area for i in instances)
    return CellNetlist(top, verilog, tuple(instances), nets, frozenset(inputs),
                       frozenset(outputs), frozenset(clocks), area, liberty, directory)


def check_cells(netlist: CellNetlist, liberty: Path) -> Library:
    """The library of ``liberty``, or :class:`StdcellError` naming a netlist cell it lacks."""
    lib = _library(Path(liberty))
    missing = sorted(set(netlist.cell_counts) - set(lib.cells))
    if missing:
        raise StdcellError(f"{liberty}: no cell {', '.join(missing)} (used by the "
                           f"{netlist.top} netlist)")
    return lib


def simulation_verilog(netlist: CellNetlist, liberty: Path, *,
                       with_specify: bool = False) -> str:
    """Self-contained Verilog of ``netlist``: models of the cells it uses (generated from
    ``liberty``, see :func:`sim.power.liberty.cell_models`) followed by the netlist."""
    lib = check_cells(netlist, liberty)
    try:
        models = cell_models(lib, list(netlist.cell_counts), with_specify=with_specify)
    except LibertyError as err:
        raise StdcellError(str(err)) from None
    return f"{models}\n`timescale 1ns/1ps\n{netlist.verilog}"

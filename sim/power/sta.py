"""Static timing, SDF and vectorless power of a mapped unit with OpenSTA.

The ``sta`` binary comes from Debian's ``opensta`` package (a November 2019 snapshot, OpenSTA
2.0.17), fetched without root by :func:`opensta`. Every run writes its Tcl script and log into
the netlist's directory (``<what>.tcl``, ``<what>.log``); a failing run (an ``Error:`` line or a
non-zero exit) raises :class:`StaError` naming the log.

Constraints, the same for :func:`timing`, :func:`write_sdf` and :func:`vectorless_power`:

- a unit with flip-flops: ``create_clock -period P`` on ``clock_port`` (ideal: no latency, no
  skew); a purely combinational unit: a virtual clock of period ``P``;
- ``set_input_delay 0`` on every other input and ``set_output_delay 0`` on every output,
  against that clock: an input changes at the clock edge, an output is due at the next one.
  Input-to-output paths of a sequential unit therefore get one full cycle, and the critical
  path of a combinational unit is its longest input-to-output delay;
- ``set_input_transition`` of the liberty's default input slew (see :mod:`sim.power.liberty`)
  on every input, the clock included;
- the wire model of the energy engine (:func:`sim.power.cellpower.net_loads`):
  ``set_load wire_cap_pf_per_fanout * fanout`` on each net a cell drives (fanout from
  :func:`sim.power.cellpower.fanouts`: cell input pins on the net, plus one per output port bit
  it drives), and ``set_load output_load_pf`` on every output port bit; OpenSTA adds the
  liberty pin capacitances itself.

Power model of this OpenSTA (read from search/Power.cc at c018cb2 and checked on a two-inverter
plus flip-flop netlist; ``set_power_activity -global -activity a``):

- activity ``a`` is transitions per period of the pin's clock (the fastest clock whose paths
  reach the pin), the same for every non-clock pin: with a global activity nothing is
  propagated through the logic. A pin on no clocked path gets 0.1 transitions per SECOND, which
  is why a combinational unit gets a virtual clock. Every pin of the clock network (the clock
  port, a clock buffer's input and output, the flip-flops' clock pins) gets 2 transitions per
  period (duty 0.5), whatever ``a``;
- switching = sum over CELL OUTPUT pins of ``1/2 C V^2 * a / P``, where ``C`` is the larger of
  (sum of the loads' rise_capacitance) and (sum of their fall_capacitance), plus the net's
  ``set_load`` wire cap, plus the ``set_load`` of output ports on the net; ``V`` is the
  operating voltage. Nets driven by input ports, the clock net included, carry no switching
  power (no driving cell); a net a cell drives in the clock network (a clock buffer's output)
  is charged at 2 transitions per period;
- internal = sum over every pin with ``internal_power`` groups of
  ``(E_rise + E_fall) * duty * activity``: BOTH edges' table energies per transition of the pin.
  ``duty`` is 1 for an arc from a clock pin and for a buffer/inverter function (so a flip-flop
  Q, an inverter output and a clock pin are charged ``E_rise + E_fall`` per transition, twice
  the per-transition average); the probability of the other operand for an output whose
  function is an AND/OR/XOR of the related pin and one term (0.5 for a 2-input NAND or XOR at
  duty 0.5: the average over both arcs); 0.5 otherwise (an input pin's own arcs such as D,
  complex gates such as AOI21, whose arcs are then summed at half weight each). A clock pin's
  internal energy is thus counted ``2 * (E_rise + E_fall)`` per cycle, twice what the liberty
  says a cycle costs. Energies are looked up at the pin's slew and output load (OSU tables:
  pF x V^2 = pJ);
- leakage = sum of ``cell_leakage_power``.

:func:`switching_energy_at_activity` is the energy engine's switching term at the same
activity (:func:`sim.power.cellpower.switching_at_activity`: ``1/2 C V^2`` per transition from
the liberty's pin ``capacitance`` and the same wire and port loads), split into the nets
OpenSTA charges (cell-driven) and those it leaves out (port-driven), for comparison: the
rise/fall maximum above differs from ``capacitance`` by well under 1 % in OSU 0.18.
"""

import hashlib
import re
import subprocess
from pathlib import Path

from sim.flow.toolchain import BUILD, ToolError, locked

from .cellpower import fanouts, switching_at_activity
from .liberty import Library
from .netlist import CellNetlist
from .stdcell import apt_package, check_cells

__all__ = ["StaError", "OPENSTA_PACKAGE", "opensta", "timing", "write_sdf",
           "fill_sdf_typical", "check_sdf", "check_icarus_sdf", "vectorless_power",
           "switching_energy_at_activity"]

OPENSTA_PACKAGE = "opensta"


class StaError(ToolError):
    """An OpenSTA run that failed, or an SDF file that does not fit its netlist."""


def opensta() -> Path:
    """The ``sta`` binary of Debian's ``opensta`` (fetched into ``BUILD/tools`` on first use)."""
    root = apt_package(OPENSTA_PACKAGE, instead=f"unpack Debian's {OPENSTA_PACKAGE} package "
                       f"into {BUILD / 'tools' / OPENSTA_PACKAGE} (dpkg -x)")
    sta = root / "usr/bin/sta"
    if not sta.is_file():
        raise ToolError(f"{sta} missing from the {OPENSTA_PACKAGE} package: remove "
                        f"{sta.parent.parent.parent} to fetch it again")
    return sta


def _tcl_word(text: str) -> str:
    if re.search(r"[{}\\]", text):
        raise StaError(f"cannot quote {text!r} for Tcl")
    return "{" + text + "}"


def _clock_bit(netlist: CellNetlist, clock_port: str | None) -> int | None:
    """The clock port's bit, None for a combinational unit (virtual clock)."""
    if not netlist.clocks:
        return None
    ports = {netlist.nets[b].name: b for b in netlist.inputs if netlist.nets[b].index == 0}
    bit = ports.get(clock_port) if clock_port else None
    if bit is None or bit not in netlist.clocks:
        seen = sorted({netlist.nets[b].name for b in netlist.clocks if b in netlist.nets})
        raise StaError(f"{netlist.top}: flip-flops are clocked by {', '.join(seen)}, "
                       f"not by clock_port {clock_port!r}")
    if len(netlist.clocks) > 1:
        raise StaError(f"{netlist.top}: {len(netlist.clocks)} clock nets; one is supported")
    return bit


def _preamble(netlist: CellNetlist, lib: Library, liberty: Path, *, clock_port: str | None,
              period_ns: float, wire_cap_pf_per_fanout: float,
              output_load_pf: float) -> list[str]:
    if not period_ns > 0:
        raise ValueError(f"period_ns must be positive, not {period_ns!r}")
    if wire_cap_pf_per_fanout < 0 or output_load_pf < 0:
        raise ValueError(f"loads must not be negative: wire {wire_cap_pf_per_fanout!r} pF, "
                         f"output {output_load_pf!r} pF")
    if netlist.directory is None:
        raise StaError(f"{netlist.top}: the netlist has no directory to run OpenSTA in")
    lines = [f"read_liberty {_tcl_word(str(Path(liberty).resolve()))}",
             "read_verilog cells.v",
             f"link_design {netlist.top}",
             "set pj_inputs [all_inputs]"]
    clock_bit = _clock_bit(netlist, clock_port)
    if clock_bit is None:
        lines.append(f"create_clock -name pj_virtual -period {period_ns!r}")
        clock = "pj_virtual"
    else:
        port = _tcl_word(clock_port)
        lines += [f"create_clock -name {port} -period {period_ns!r} [get_ports {port}]",
                  f"set pj_inputs [delete_from_list $pj_inputs [get_ports {port}]]"]
        clock = port
    lines += [
        f"if {{[llength $pj_inputs]}} {{ set_input_delay 0 -clock {clock} $pj_inputs }}",
        f"if {{[llength [all_outputs]]}} {{ set_output_delay 0 -clock {clock} [all_outputs] }}",
        f"if {{[llength [all_inputs]]}} {{ set_input_transition "
        f"{lib.default_input_slew_ns!r} [all_inputs] }}",
    ]
    if output_load_pf > 0:
        lines.append(f"if {{[llength [all_outputs]]}} {{ set_load {output_load_pf!r} "
                     f"[all_outputs] }}")
    if wire_cap_pf_per_fanout > 0:
        fanout = fanouts(netlist)
        for inst in netlist.instances:
            for pin, bit in sorted(inst.outputs.items()):
                if fanout.get(bit):
                    cap = wire_cap_pf_per_fanout * fanout[bit]
                    lines.append(f"set_load {cap!r} [get_nets -of_objects "
                                 f"[get_pins {_tcl_word(f'{inst.name}/{pin}')}]]")
    return lines


def _run(netlist: CellNetlist, what: str, lines: list[str]) -> str:
    """Run ``sta`` on ``lines`` in the netlist's directory (the caller holds its lock); the
    log text."""
    sta = opensta()
    directory = netlist.directory
    verilog = directory / "cells.v"
    if not verilog.is_file() or verilog.read_text() != netlist.verilog:
        verilog.write_text(netlist.verilog)
    script, log = directory / f"{what}.tcl", directory / f"{what}.log"
    script.write_text("\n".join(lines) + "\n")
    try:
        proc = subprocess.run([str(sta), "-no_init", "-no_splash", "-exit", script.name],
                              cwd=directory, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        raise StaError(f"sta timed out after 600 s; log: {log}") from None
    text = proc.stdout + proc.stderr
    log.write_text(text)
    errors = [ln.strip() for ln in text.splitlines()
              if ln.startswith("Error") or "error while loading shared libraries" in ln]
    if proc.returncode != 0 or errors:
        first = (errors or [f"exit status {proc.returncode}"])[0]
        raise StaError(f"sta failed: {first}; log: {log}")
    return text


_EDGE = re.compile(r"^\s*(-?[\d.]+)\s+(-?[\d.]+)\s+clock \S+ \((rise|fall) edge\)", re.M)
_ARRIVAL = re.compile(r"^\s+(-?[\d.]+)\s+data arrival time", re.M)
_REQUIRED = re.compile(r"^\s+(-?[\d.]+)\s+data required time", re.M)


def _paths(report: str) -> list[dict]:
    out = []
    for block in re.split(r"^(?=Startpoint: )", report, flags=re.M)[1:]:
        start = re.search(r"^Startpoint: (\S+)", block, re.M)
        end = re.search(r"^Endpoint: (\S+)", block, re.M)
        edges = _EDGE.findall(block)
        arrival, required = _ARRIVAL.search(block), _REQUIRED.search(block)
        if not (start and end and len(edges) >= 2 and arrival and required):
            continue
        launch, capture = float(edges[0][1]), float(edges[1][1])
        out.append({"startpoint": start.group(1), "endpoint": end.group(1),
                    "launch_ns": launch, "capture_ns": capture,
                    "arrival_ns": float(arrival.group(1)),
                    "required_ns": float(required.group(1))})
    return out


def timing(netlist: CellNetlist, liberty: Path, *, clock_port: str | None = "clk",
           period_ns: float = 10.0, wire_cap_pf_per_fanout: float = 0.0,
           output_load_pf: float = 0.0) -> dict:
    """Critical path and Fmax of ``netlist`` at the liberty's corner (constraints above).

    Each endpoint's worst path at ``period_ns`` is scaled to the period at which it would have
    zero slack: a path has ``delay = arrival - launch edge + (capture edge - required)`` (the
    setup time, or 0 at an output) and is allowed ``capture - launch`` = one period (a half
    period between opposite edges), so it needs ``period * delay / (capture - launch)``. The
    largest of those is ``min_period_ns`` and gives ``fmax_mhz``; ``critical_path_ns`` is that
    path's delay (for a combinational unit, its longest input-to-output delay). Also returned:
    the path's ``startpoint`` and ``endpoint``, its ``slack_ns`` at ``period_ns``, the clock
    (None: virtual) and the number of endpoints checked.
    """
    lib = check_cells(netlist, liberty)
    lines = _preamble(netlist, lib, liberty, clock_port=clock_port, period_ns=period_ns,
                      wire_cap_pf_per_fanout=wire_cap_pf_per_fanout,
                      output_load_pf=output_load_pf)
    count = len(netlist.instances) + len(netlist.outputs) + 10
    lines.append(f"report_checks -path_delay max -group_count {count} -endpoint_count 1 "
                 f"-format full -digits 6")
    with locked(netlist.directory):
        report = _run(netlist, "timing", lines)
    paths = _paths(report)
    if not paths:
        raise StaError(f"{netlist.top}: no constrained path in the timing report; log: "
                       f"{netlist.directory / 'timing.log'}")
    worst, worst_period = None, -1.0
    for p in paths:
        allowed = p["capture_ns"] - p["launch_ns"]
        delay = p["arrival_ns"] - p["launch_ns"] + p["capture_ns"] - p["required_ns"]
        if allowed <= 0:
            continue
        needed = period_ns * delay / allowed
        if needed > worst_period:
            worst, worst_period = {**p, "delay_ns": delay}, needed
    if worst is None:
        raise StaError(f"{netlist.top}: no path with a positive time budget; log: "
                       f"{netlist.directory / 'timing.log'}")
    return {
        "critical_path_ns": worst["delay_ns"],
        "min_period_ns": worst_period,
        "fmax_mhz": 1e3 / worst_period if worst_period > 0 else float("inf"),
        "startpoint": worst["startpoint"],
        "endpoint": worst["endpoint"],
        "slack_ns": worst["required_ns"] - worst["arrival_ns"],
        "period_ns": period_ns,
        "clock": None if _clock_bit(netlist, clock_port) is None else clock_port,
        "endpoints": len(paths),
    }


# --------------------------------------------------------------------------------------------
# SDF

_TRIPLE = re.compile(r"\(\s*(-?[0-9.eE+-]*)\s*::\s*(-?[0-9.eE+-]*)\s*\)")


def fill_sdf_typical(text: str) -> str:
    """``(min::max)`` -> ``(min:max:max)``: OpenSTA leaves the typical value empty and Icarus
    (which annotates the typical value) silently ignores such triples. The typical value is the
    max, the delay the STA reports at this single corner (min equals max for cell delays)."""
    def fill(m: re.Match) -> str:
        lo, hi = m.group(1), m.group(2)
        typ = hi or lo
        return f"({lo or typ}:{typ}:{hi or typ})"

    return _TRIPLE.sub(fill, text)


_SDF_CELL = re.compile(r"\(CELLTYPE\s+\"([^\"]*)\"\s*\)\s*\(INSTANCE\s*([^)]*)\)(.*?)"
                       r"(?=\(CELLTYPE|\Z)", re.S)


def check_sdf(sdf: Path, netlist: CellNetlist) -> int:
    """Number of IOPATH entries of ``sdf`` that name an instance (and its cell) of ``netlist``;
    :class:`StaError` if any does not (a simulator would skip it, mostly without a word)."""
    cells = {inst.name: inst.cell for inst in netlist.instances}
    matched, stray = 0, []
    for celltype, instance, body in _SDF_CELL.findall(Path(sdf).read_text()):
        n = body.count("(IOPATH")
        if not n:
            continue
        name = instance.strip().replace("\\", "")
        if cells.get(name) == celltype:
            matched += n
        else:
            stray.append(f"{name or '<top>'} ({celltype})")
    if not matched:
        raise StaError(f"{sdf}: annotates nothing in {netlist.top}: no IOPATH names one of "
                       f"its {len(cells)} instances")
    if stray:
        raise StaError(f"{sdf}: {len(stray)} cells are not instances of {netlist.top}, "
                       f"e.g. {', '.join(stray[:3])}")
    return matched


def check_icarus_sdf(output: str, sdf: Path) -> None:
    """:class:`StaError` if an Icarus (vvp) run's ``output`` says annotating ``sdf`` went wrong
    (a file it cannot open, a cell instance or a module path it cannot find): Icarus goes on
    simulating with zero delays after such messages."""
    problems = [ln.strip() for ln in output.splitlines()
                if re.search(r"SDF (ERROR|WARNING)|Unable to open SDF", ln)]
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise StaError(f"{sdf}: Icarus did not annotate it: {problems[0]}{more}")


def write_sdf(netlist: CellNetlist, liberty: Path, *, clock_port: str | None = "clk",
              period_ns: float = 10.0, wire_cap_pf_per_fanout: float = 0.0,
              output_load_pf: float = 0.0) -> Path:
    """OpenSTA's SDF of ``netlist`` (delays at the loads above), typical values filled in
    (:func:`fill_sdf_typical`) and checked against the netlist (:func:`check_sdf`).

    The file is ``cells-<hash of the constraints>.sdf`` in the netlist's directory; its
    instance paths are relative to the unit's top (annotate it on the DUT's scope).
    """
    lib = check_cells(netlist, liberty)
    lines = _preamble(netlist, lib, liberty, clock_port=clock_port, period_ns=period_ns,
                      wire_cap_pf_per_fanout=wire_cap_pf_per_fanout,
                      output_load_pf=output_load_pf)
    tag = hashlib.sha1("\n".join(lines).encode()).hexdigest()[:8]
    sdf = netlist.directory / f"cells-{tag}.sdf"
    raw = sdf.with_suffix(".sta.sdf")
    lines.append(f"write_sdf -digits 6 -no_timestamp {raw.name}")
    with locked(netlist.directory):
        _run(netlist, "sdf", lines)
        if not raw.is_file():
            raise StaError(f"sta wrote no {raw.name}; log: {netlist.directory / 'sdf.log'}")
        sdf.write_text(fill_sdf_typical(raw.read_text()))
    check_sdf(sdf, netlist)
    return sdf


# --------------------------------------------------------------------------------------------
# Power

def vectorless_power(netlist: CellNetlist, liberty: Path, *, activity: float,
                     period_ns: float, wire_cap_pf_per_fanout: float,
                     output_load_pf: float, clock_port: str | None = "clk",
                     duty: float = 0.5) -> dict:
    """OpenSTA ``report_power`` at a global activity (transitions per clock period of every
    non-clock pin; see the module docstring for what it charges). This OpenSTA has no
    read_vcd/read_saif, so the analysis is vectorless.

    Returns ``internal_w``, ``switching_w``, ``leakage_w``, ``total_w`` and the same per group
    (``sequential``, ``combinational``) as OpenSTA reports them.
    """
    if not 0 <= activity:
        raise ValueError(f"activity must not be negative, not {activity!r}")
    if not 0 <= duty <= 1:
        raise ValueError(f"duty must be in [0, 1], not {duty!r}")
    lib = check_cells(netlist, liberty)
    lines = _preamble(netlist, lib, liberty, clock_port=clock_port, period_ns=period_ns,
                      wire_cap_pf_per_fanout=wire_cap_pf_per_fanout,
                      output_load_pf=output_load_pf)
    lines += [f"set_power_activity -global -activity {activity!r} -duty {duty!r}",
              "report_power -digits 6",
              "puts \"PJ_POWER [sta::design_power [sta::cmd_corner]]\""]
    with locked(netlist.directory):
        log = _run(netlist, "power", lines)
    m = re.search(r"^PJ_POWER (.*)$", log, re.M)
    values = [float(v) for v in m.group(1).split()] if m else []
    if len(values) != 20:
        raise StaError(f"no power result in {netlist.directory / 'power.log'}")
    keys = ("internal_w", "switching_w", "leakage_w", "total_w")
    groups = {}
    for i, group in enumerate(("total", "sequential", "combinational", "macro", "pad")):
        groups[group] = dict(zip(keys, values[4 * i:4 * i + 4]))
    return {**groups["total"], "sequential": groups["sequential"],
            "combinational": groups["combinational"], "activity": activity,
            "period_ns": period_ns}


def switching_energy_at_activity(netlist: CellNetlist, liberty: Path, *, activity: float,
                                 period_ns: float, wire_cap_pf_per_fanout: float,
                                 output_load_pf: float, vdd: float | None = None) -> dict:
    """Switching energy our engine charges (``1/2 C V^2`` per transition) at ``activity``
    transitions per period on every net, 2 on clock nets, with the load model OpenSTA is given
    here (:func:`sim.power.cellpower.switching_at_activity`, loads from
    :func:`sim.power.cellpower.net_loads`).

    ``C`` = the liberty ``capacitance`` of the cell input pins on the net + ``wire_cap *
    fanout`` + ``output_load_pf`` per output port bit on the net; OpenSTA takes the larger of
    the pins' summed ``rise_capacitance`` and ``fall_capacitance`` instead (see the module
    docstring). ``V`` = the liberty's nominal voltage unless ``vdd`` is given. Returns per
    period (pJ) and as power (W): ``cell_driven_*`` (the nets OpenSTA charges: driven by a
    cell output) and ``port_driven_*`` (nets driven by input ports, the clock net included,
    which OpenSTA leaves out).
    """
    if not period_ns > 0:
        raise ValueError(f"period_ns must be positive, not {period_ns!r}")
    lib = check_cells(netlist, liberty)
    pj = switching_at_activity(lib, netlist, activity=activity,
                               wire_cap_pf_per_fanout=wire_cap_pf_per_fanout,
                               output_load_pf=output_load_pf, vdd=vdd)
    to_w = 1e-12 / (period_ns * 1e-9)
    return {"cell_driven_pj": pj["cell_driven_pj"], "port_driven_pj": pj["port_driven_pj"],
            "cell_driven_w": pj["cell_driven_pj"] * to_w,
            "port_driven_w": pj["port_driven_pj"] * to_w,
            "vdd": pj["vdd"], "activity": activity, "period_ns": period_ns}

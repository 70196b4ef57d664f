# Ref: OSU 0.18 um standard cells (Debian qflow-tech-osu018), through sim.power.engine.
"""The SoC's per-event energies from a standard-cell library (``sim/power/engine.py``).

Each part of the SoC is mapped to the library's cells and run on a workload of its own; the
SoC report multiplies these per-event energies by the demo's event counters:

- **core per instruction**: the SoC's core (``SocParams.core`` without the RVFI retire port,
  which exists for verification only) running the firmware of the software MLP demo
  (``firmware/demos/mlp_sw.c``, one image: the whole program, or :data:`CORE_SPAN`) with its
  memory outside the netlist (``sim/riscv/power_bench.py``); ops = instructions retired;
- **dot-product unit per MAC**: ``ldot_<fmt>`` / ``fdot_<fmt>`` at the SoC's lanes, random
  N(0, 1) vectors (``sim/lmul/dot_bench.py power_vectors``);
- **IMC tile per MAC** at the SoC's :class:`ImcParams` (``sim/imc/bench.py power_products``);
- **oscillator array per busy clock** at the SoC's size: the energy per cell-epoch of Max-Cut
  epochs in OIM mode (``sim/onn/bench.py power_epochs``) times ``n`` cells per epoch, over
  the epoch's clocks.

Memories (no SRAM compiler in OSU 0.18) and the bus (wires) stay table estimates
(``sim/power/energy.py``); the report labels them. Results are cached under
``build/power/soc/`` by a hash of the parameters, the workload and the RTL's Verilog, so
``make sim`` pays for the measurement once.
"""

import hashlib
import json
import time
from dataclasses import replace

from hdl.soc import SocParams
from sim.flow.toolchain import BUILD, ToolError, locked
from sim.power.engine import NETLIST_SIM, EnergyError
from sim.rtl import SimFailure

__all__ = ["core_program", "measure_core", "measure_parts", "NotMeasured", "CACHE",
           "CORE_SPAN", "CORE_SIM"]

CACHE = BUILD / "power" / "soc"
#: The core's window on the software MLP of one image (32,864 instructions): quick, and every
#: timing-aware run, between the stores nearest instructions 1,000 and 5,000 (inside the
#: first layer's multiply-accumulate loop); otherwise the whole program.
CORE_SPAN = (1_000, 5_000)
#: The core's zero-delay simulator: Icarus, because Verilator's build of the core's gate
#: netlist (about 100 MB of C++) takes far longer than Icarus's run.
CORE_SIM = "icarus"


def core_params(params: SocParams):
    """The SoC's core as it would be taped out: without the RVFI verification port."""
    return replace(params.core, with_rvfi=False)


def core_program(params: SocParams, *, images: int = 1, span: tuple[int, int] | None = None):
    """(CoreProgram, ELF path) of the software MLP demo on ``images`` images, with the
    instruction count and console from the ISS. ``span = (i0, i1)``: the window runs between
    the first data stores at or after instructions ``i0`` and ``i1`` instead of over the
    whole program (the ISS says how many instructions retire between them)."""
    from sim.riscv.elf import load_elf
    from sim.riscv.power_bench import CoreProgram
    from sim.riscv.run import run_iss

    from . import demos
    from .rtl import build_soc_firmware

    _, _, _, files = demos.int8_demo_data(images)
    elf = build_soc_firmware("mlp_sw", params, generated=files)
    img = load_elf(elf, ram_size=params.ram_size)
    at_store = []          # instructions retired up to and including each data store
    count = [0]

    def trace(rec):
        count[0] += 1
        if rec.mem_wmask:
            at_store.append(count[0])

    iss = run_iss(img, with_muldiv=params.core.with_muldiv, ram_size=params.ram_size,
                  trace=trace)
    if not iss.passed:
        raise RuntimeError(f"{elf.name}: the ISS run did not pass (tohost {iss.tohost})")
    stores, n = None, count[0]
    if span is not None:
        k = [next((j + 1 for j, c in enumerate(at_store) if c >= i), None) for i in span]
        if None in k or k[0] >= k[1]:
            raise ValueError(f"span {span} is not inside the program's {n} instructions")
        stores = (k[0], k[1])
        n = at_store[k[1] - 1] - at_store[k[0] - 1]
    prog = CoreProgram(core=core_params(params),
                       segments=tuple((s.addr, bytes(s.data)) for s in img.segments),
                       tohost=img.tohost, instructions=n, console=iss.console,
                       ram_size=params.ram_size, max_cycles=40 * count[0] + 10_000,
                       stores=stores)
    return prog, elf


def measure_core(params: SocParams, *, images: int = 1, span=None, timings=("zero",),
                 sim: str = CORE_SIM, liberty=None) -> dict:
    """``measure_cells`` of the SoC's core on the software MLP demo (see the module doc)."""
    from hdl.riscv.core import Core
    from sim.power.engine import measure_cells
    from sim.power.workloads import Workload

    prog, elf = core_program(params, images=images, span=span)
    wl = Workload("sim.riscv.power_bench", "core_program", prog)
    t0 = time.monotonic()
    res = measure_cells(f"core_{prog.core.name}", lambda: Core(prog.core), wl,
                        liberty=liberty, timings=timings, sim=sim)
    res["program"] = {"elf": str(elf), "images": images, "instructions": prog.instructions,
                      "span": span, "stores": prog.stores}
    res["seconds"] = time.monotonic() - t0
    return res


class NotMeasured(EnergyError):
    """A figure asked for from the cache only (``measure`` False) that is not there yet."""


def _key(*parts) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _cached(name: str, key_parts, compute):
    """``compute()`` once per key: JSON under :data:`CACHE`; ``compute`` None: only what is
    cached (an :class:`EnergyError` if nothing is)."""
    path = CACHE / f"{name}-{_key(*key_parts)}.json"
    with locked(CACHE):
        if path.exists():
            return json.loads(path.read_text())
    if compute is None:
        raise NotMeasured(f"not measured yet (no {path.name} under {CACHE}; "
                          "picojoule report soc measures it)")
    res = compute()
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(res, indent=1, default=str) + "\n")
    tmp.replace(path)
    return res


def _mode_pj(res: dict, mode: str) -> float | None:
    m = res["modes"].get(mode)
    return None if m is None else m["pj_per_op"]


def _summary(res: dict) -> dict:
    """What the report keeps of a ``measure_cells`` result (no per-cell tables)."""
    modes = {}
    for mode, m in res["modes"].items():
        modes[mode] = {k: m[k] for k in ("pj_per_op", "breakdown", "ops", "sim", "seconds",
                                          "transitions_per_op", "t0_ns", "t1_ns", "activity",
                                          "scope")}
    out = {k: res.get(k) for k in ("unit", "library", "cells", "area_um2", "netlist",
                                   "program", "seconds")}
    out["fmax_mhz"] = (res.get("timing") or {}).get("fmax_mhz")
    out["modes"] = modes
    return out


def _parts(params: SocParams, quick: bool):
    """(event, unit name, (factory, key), workload, scale, what) of every liberty-measured
    part (``key``: what the factory builds from, see :func:`_rtl_key`); ``scale(result,
    mode)`` turns the unit's pJ/op into pJ per SoC event."""
    from hdl.float import FORMATS
    from sim.power.workloads import Workload

    per_op = lambda res, mode: _mode_pj(res, mode)  # noqa: E731
    parts = []
    if params.dot is not None:
        from hdl.ldot import DotParams, DotUnit
        from sim.lmul.dot_bench import DotWorkload

        for kind in params.dot.kinds:
            dp = DotParams(FORMATS[params.dot.fmt], lanes=params.dot.lanes, kind=kind)
            wl = Workload("sim.lmul.dot_bench", "power_vectors",
                          DotWorkload(dp, 4 if quick else 16, 64, 1))
            parts.append((f"dot_mac_{kind}", dp.name, (lambda dp=dp: DotUnit(dp), ("DotUnit", dp)),
                          wl, per_op,
                          f"{dp.name} ({dp.lanes} lanes) per MAC, random N(0,1) vectors"))
    if params.imc is not None:
        from hdl.imc import ImcTile
        from sim.imc.bench import ImcPower, unit_id

        ip = params.imc
        wl = Workload("sim.imc.bench", "power_products",
                      ImcPower(ip, vectors=2 if quick else 8, seed=1))
        parts.append(("imc_mac", f"imc_{unit_id(ip)}", (lambda: ImcTile(ip), ("tile", ip)), wl,
                      per_op,
                      f"IMC tile {ip.rows}x{ip.cols} per MAC, uniform int8 activations"))
    if params.onn is not None:
        from hdl.onn import OnnArray
        from sim.onn.report import power_runs
        from sim.rtl.bench import CLOCK_NS

        op = params.onn

        def per_clock(res, mode):
            m = res["modes"].get(mode)
            if m is None:
                return None
            clocks = (m["t1_ns"] - m["t0_ns"]) / CLOCK_NS
            return m["pj_per_op"] * m["ops"] / clocks

        parts.append(("onn_busy_clock", f"onn_{op.n}", (lambda: OnnArray(op), ("OnnArray", op)),
                      Workload("sim.onn.bench", "power_epochs",
                               power_runs(op, epochs=4 if quick else 16, seed=7)),
                      per_clock, f"oscillator array n={op.n}, whole array per busy clock "
                      "(Max-Cut epochs, OIM mode)"))
    return parts


def _per_mode(name: str, key_parts, timings, compute) -> dict:
    """``compute(mode)`` of each mode once (cached apart, so a later SDF run reuses the
    zero-delay one); the results merged into one with ``modes`` holding them all.
    ``compute`` None: only cached results."""
    merged = None
    for mode in timings:
        res = _cached(f"{name}-{mode}", (*key_parts, mode),
                      None if compute is None else lambda mode=mode: compute(mode))
        if merged is None:
            merged = {**res, "modes": dict(res["modes"])}
        else:
            merged["modes"].update(res["modes"])
    return merged


def measure_parts(params: SocParams, *, quick: bool = True, timings=("zero",),
                  sim: str = NETLIST_SIM, core_sim: str = CORE_SIM, core_timings=None,
                  only=None, measure: bool = True, log=print) -> dict:
    """Per-event energies of the SoC's parts from the liberty engine (see the module doc):
    ``{event: {"pj": {mode: pJ}, "unit", "what", "result"}}``, each measured once per
    activity mode and cached under :data:`CACHE`. ``core_timings`` (default ``timings``) and
    ``core_sim`` for the core, whose runs are the long ones. ``only``: the events to measure
    (default all). ``measure`` False: only figures already cached; a part without one gets
    an ``error`` (the report then prices it from its table and says so)."""
    from hdl.riscv.core import Core
    from sim.power.engine import measure_cells

    core_timings = tuple(core_timings or timings)
    span = CORE_SPAN if quick or "sdf" in core_timings else None
    out = {}
    res = None

    def core(mode):
        log(f"  liberty: core_{core_params(params).name} on mlp_sw "
            f"({f'instructions {span[0]}-{span[1]}' if span else 'whole program'}, {mode}) ...")
        return _summary(measure_core(params, span=span, timings=(mode,), sim=core_sim))

    if only is None or "instruction" in only:
        try:
            res = _per_mode("core", (params.core, params.ram_size, span, core_sim,
                                     _rtl_key(lambda: Core(core_params(params)),
                                              ("Core", core_params(params)))),
                            core_timings, core if measure else None)
        except (ToolError, EnergyError, SimFailure) as err:
            out["instruction"] = _failed("instruction", err, log)
            res = None
    if res is not None:
        n = res["program"]["instructions"]
        out["instruction"] = {
            "pj": {m: _mode_pj(res, m) for m in res["modes"]}, "unit": res["unit"],
            "result": res,
            "what": f"core {res['unit']} (no RVFI port) per instruction retired, software "
                    f"MLP firmware of one image ({n:,} instructions"
                    + (", inside the first layer's loop)" if span else ", whole program)")}
    for event, name, (factory, key), wl, scale, what in _parts(params, quick):
        if only is not None and event not in only:
            continue

        def compute(mode, name=name, factory=factory, wl=wl):
            log(f"  liberty: {name} ({mode}) ...")
            t0 = time.monotonic()
            r = measure_cells(name, factory, wl, timings=(mode,), sim=sim)
            r["seconds"] = time.monotonic() - t0
            return _summary(r)

        try:
            res = _per_mode(event, (name, repr(wl), sim, _rtl_key(factory, key)), timings,
                            compute if measure else None)
        except (ToolError, EnergyError, SimFailure) as err:
            out[event] = _failed(event, err, log)
            continue
        out[event] = {"pj": {m: scale(res, m) for m in res["modes"]}, "unit": name,
                      "result": res, "what": what}
    return out


def _failed(event: str, err: Exception, log) -> dict:
    """A part the engine could not measure: no figure, the reason in one line (the report
    prices the event from its table instead and says why); ``pending``: only not measured yet
    (:class:`NotMeasured`), not a failure."""
    reason = str(err).splitlines()[0] if str(err) else type(err).__name__
    log(f"  liberty: {event} not measured: {reason}")
    return {"error": reason, "pending": isinstance(err, NotMeasured)}


def _rtl_key(factory, key) -> str:
    """A hash of the unit's Verilog (a changed RTL is measured again); ``key``: what
    ``factory`` builds the unit from, to reuse the conversion (``sim.flow.toolchain.convert``)."""
    from sim.rtl.runner import convert

    return hashlib.sha256(convert(factory(), "top", key=key).encode()).hexdigest()[:16]

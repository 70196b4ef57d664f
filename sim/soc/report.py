"""The SoC demos end to end: build, run on the RTL, check against the golden models, and
break down their energy (``make sim``'s SoC step and ``picojoule report soc``; Markdown, JSON
and PNG in ``build/report/``).

Energy = event counts of the run (the SoC's ``perf_*`` counters, the instructions retired, the
oscillator array's busy clocks) times per-event energies (:func:`energy_model`):

- from the standard-cell engine (``sim/soc/energy.py``: OSU 0.18 um cells, zero-delay
  activity): the core per instruction, the dot-product units and the IMC tile per MAC, the
  oscillator array per busy clock, each at the SoC's own sizes;
- from tables (``sim/power/energy.py``, labelled in the report): RAM per access (OSU 0.18 um
  has no SRAM compiler) and the bus per transfer (a wire estimate), off-chip bits.

The former all-table figures (:func:`table_model`: Horowitz 45 nm per operation) are kept
beside them as the proxy estimate.
"""

import json
import time
from dataclasses import dataclass
from pathlib import Path

from hdl.soc import SocParams
from sim.flow.toolchain import BUILD, ToolError
from sim.power import energy as E

from . import demos
from .rtl import SIM_PARAMS, build_soc_firmware, run_soc

__all__ = ["run_demos", "energy_model", "table_model", "render_markdown", "write_report",
           "summary_rows", "liberty_rows", "DemoRun", "LIBRARY", "generator_runs"]

WORD_BITS = 32
ADDR_BITS = 30
BUS_MM = 1.0          # estimate: average on-die route of a bus transfer


#: Events priced by the standard-cell engine (``sim/soc/energy.py``); the rest are tables.
LIBERTY_EVENTS = ("instruction", "imc_mac", "dot_mac_lmul", "dot_mac_fpmul", "onn_busy_clock")
LIBRARY = "OSU 0.18 um (osu018_stdcells)"
ACCEL = ("imc", "dot_lmul", "dot_fpmul", "onn")


def table_model(p: SocParams) -> dict:
    """The proxy estimate: per-event energies (pJ) from tables only, and where each comes
    from (Horowitz 45 nm per operation; the gate-level proxy of the dot units if
    ``build/report/lmul-energy.json`` exists)."""
    ram = E.memory_access_pj(p.ram_size, WORD_BITS)
    rf = E.memory_access_pj(8 << 10, WORD_BITS)
    model = {
        "ram_access": (ram, f"{p.ram_size // 1024} KiB SRAM, 32-bit access "
                            f"(memory_access_pj: Horowitz table, scaled from 64 bits)"),
        "instruction": (E.value("int_add_32b") + 2 * rf,
                        "estimate: ALU add (int_add_32b) + 2 register-file reads charged as "
                        "8 KB SRAM 32-bit reads (the smallest Horowitz array: an upper bound)"),
        "bus_transfer": ((WORD_BITS + ADDR_BITS)
                         * E.interconnect_pj_per_bit("on_die_wire", BUS_MM),
                         f"estimate: {WORD_BITS + ADDR_BITS} bits over {BUS_MM:g} mm of on-die "
                         "wire (wire_on_die_per_mm)"),
        "imc_mac": (E.value("int_mult_8b") + E.value("int_add_32b"),
                    "estimate: int8 multiply + 32-bit add per MAC (Horowitz per operation; the "
                    "tile's gate-level proxy figures are in docs/imc.md)"),
        "onn_busy_clock": ((E.value("int_mult_8b") + E.value("int_add_32b"))
                           * (p.onn.n if p.onn else 0),
                           "estimate: one coupling multiply-accumulate per cell per busy clock "
                           "(serial array), times the cells"),
        "offchip_copper": (E.interconnect_pj_per_bit("copper_serdes"), "per bit, "
                           + E.CONSTANTS["serdes_copper_lr"].source),
        "offchip_cpo": (E.interconnect_pj_per_bit("optics_cpo"), "per bit, "
                        + E.CONSTANTS["optics_cpo"].source),
    }
    measured = BUILD / "report" / "lmul-energy.json"
    fmt = p.dot.fmt if p.dot else "e4m3"
    for kind, unit in (("lmul", f"ldot_{fmt}"), ("fpmul", f"fdot_{fmt}")):
        pj, src = None, None
        if measured.exists():
            for u in json.loads(measured.read_text()).get("units", []):
                if u["unit"] == unit:
                    sims = u["sims"]
                    pj = next(iter(sims.values()))["pj_per_op"]["compute"]
                    src = f"gate-level proxy, {unit} compute pJ per MAC ({measured.name})"
        if pj is None:
            pj = (E.value("int_add_8b") if kind == "lmul" else E.value("int_mult_8b")) \
                + E.value("fp_add_32b") / (p.dot.lanes if p.dot else 8)
            src = ("estimate: " + ("an 8-bit integer add (L-Mul's claim)" if kind == "lmul"
                                   else "an int8 multiply") + " + a share of the fp32 add")
        model[f"dot_mac_{kind}"] = (pj, src)
    return model


def energy_model(p: SocParams, *, quick: bool = True, measure: bool = True, log=print) -> dict:
    """Per-event energies (pJ) and where each comes from: the standard-cell engine's
    zero-delay figures for :data:`LIBERTY_EVENTS` (``sim.soc.energy.measure_parts``: measured
    once, cached; ``measure`` False: only the cached ones), the tables of :func:`table_model`
    for memories, bus, off-chip and any event the engine has no figure for, labelled
    *table*."""
    return _liberty_model(p, _measured(p, quick, log, measure))


def _measured(p: SocParams, quick: bool, log=print, measure: bool = True) -> dict:
    from .energy import measure_parts

    return measure_parts(p, quick=quick, measure=measure, log=log)


def _liberty_model(p: SocParams, parts: dict) -> dict:
    model = {k: (v, f"table: {src}") for k, (v, src) in table_model(p).items()
             if k not in LIBERTY_EVENTS}
    table = table_model(p)
    for event, part in parts.items():
        if "error" in part:
            v, src = table[event]
            why = (f"no {LIBRARY} figure yet: `picojoule report soc` measures it"
                   if part.get("pending") else
                   f"the {LIBRARY} engine failed: {part['error']}")
            model[event] = (v, f"table ({why}): {src}")
            continue
        r = part["result"]
        model[event] = (part["pj"]["zero"],
                        f"{LIBRARY}, zero-delay: {part['what']}; {r['cells']:,} cells, "
                        f"{r['area_um2'] / 1e6:.3f} mm2")
    return dict(sorted(model.items(), key=lambda kv: kv[0] not in LIBERTY_EVENTS))


def _part_rows(parts: dict) -> dict:
    """What the report shows of each measured part: unit, cells, area, pJ per event by mode,
    and the netlist run's speed (cells x clocks per second of wall time)."""
    from sim.rtl.bench import CLOCK_NS

    out = {}
    for event, part in parts.items():
        if "error" in part:
            continue
        r = part["result"]
        speed = {}
        for mode, m in r["modes"].items():
            clocks = (m["t1_ns"] - m["t0_ns"]) / CLOCK_NS
            speed[mode] = {"clocks": clocks, "seconds": m["seconds"], "sim": m["sim"],
                           "cell_clocks_per_s": r["cells"] * clocks / m["seconds"]}
        out[event] = {"unit": r["unit"], "cells": r["cells"], "area_um2": r["area_um2"],
                      "fmax_mhz": r.get("fmax_mhz"), "pj": part["pj"], "what": part["what"],
                      "speed": speed, "program": r.get("program")}
    return out


@dataclass
class DemoRun:
    task: str
    result: str
    ok: bool
    cycles: int                # the inference (the firmware's rdcycle window)
    images: int
    run: dict                  # SocResult fields
    energy: dict               # part -> pJ (whole firmware run), energy_model
    offchip_bits: int
    proxy_energy: dict         # part -> pJ, table_model (the proxy estimate)
    model: dict                # event -> (pJ, source): energy_model
    parts: dict                # event -> the measured part (_part_rows)


def _energy(p: SocParams, m: dict, res, image_bytes: int, onn_busy: int = 0
            ) -> tuple[dict, int]:
    """Energy (pJ) of each part of one run under per-event energies ``m``, and its off-chip
    bits."""
    perf = res.perf
    accel = {}
    if p.imc is not None:
        accel["imc"] = perf.get("imc_products", 0) * p.imc.rows * p.imc.cols * m["imc_mac"]
    if p.dot is not None:
        for kind in p.dot.kinds:
            accel[f"dot_{kind}"] = perf.get(f"dot_chunks_{kind}", 0) * p.dot.lanes \
                * m[f"dot_mac_{kind}"]
    if p.onn is not None:
        accel["onn"] = onn_busy * m["onn_busy_clock"]
    parts = {
        "core": res.instret * m["instruction"],
        **accel,
        "memories": (perf.get("fetch", 0) + perf.get("ram_data", 0)) * m["ram_access"],
        "bus": (perf.get("fetch", 0) + perf.get("core_data", 0) + perf.get("dma", 0))
        * m["bus_transfer"],
    }
    bits = 8 * (image_bytes + len(res.console))
    return parts, bits


def _image_bytes(elf) -> int:
    from sim.riscv.elf import load_elf

    return sum(len(s.data) for s in load_elf(Path(elf)).segments)


def _pricing(params: SocParams, quick: bool, log=print, measure: bool = True):
    """(per-event model, measured parts' rows, ``energy(res, image_bytes, onn_busy)`` ->
    (parts pJ, off-chip bits, proxy parts pJ)) of the runs on ``params``."""
    measured = _measured(params, quick, log, measure)
    model = _liberty_model(params, measured)
    liberty = {k: v for k, (v, _) in model.items()}
    table = {k: v for k, (v, _) in table_model(params).items()}

    def energy(res, image_bytes, onn_busy=0):
        parts, bits = _energy(params, liberty, res, image_bytes, onn_busy)
        return parts, bits, _energy(params, table, res, image_bytes, onn_busy)[0]

    return model, _part_rows(measured), energy


def run_demos(*, sim: str = "verilator", quick: bool = False, params: SocParams = SIM_PARAMS,
              measure: bool = True, log=print) -> list[DemoRun]:
    """Every demo on the SoC ``params``, checked against its golden model. ``measure`` False:
    the parts' standard-cell figures only where already cached (``picojoule report soc``
    measures them, about 20 minutes), table estimates for the rest, labelled."""
    n_imc = 60 if quick else demos.N_TEST
    model, prows, energy = _pricing(params, quick, log, measure)
    n_sw = 10 if quick else 30
    n_fp8 = 10 if quick else 40
    runs = []
    w1, b1, w2, b2, float_acc = demos.train_mlp()
    # (a) int8 on the IMC tile, (d) the same network in software
    for name, n in (("mlp_imc", n_imc), ("mlp_sw", n_sw)):
        q, xq, y, files = demos.int8_demo_data(n)
        pred, logits = demos.golden_int8(q, xq)
        elf = build_soc_firmware(name, params, generated=files)
        log(f"  running {name} ({n} images) ...")
        t0 = time.monotonic()
        res = run_soc(elf, params, sim=sim, max_cycles=40_000_000)
        out = demos.parse_console(res.console)
        ok = res.passed and out.get("pred") == "".join(map(str, pred)) \
            and out.get("check") == f"{demos.checksum(logits):08x}"
        acc = int(out.get("correct", 0)) / n
        golden_acc = float((pred == y).mean())
        float_n = float((_float_predict(w1, b1, w2, b2, demos.digits_split()[2][:n]) == y)
                        .mean())
        what = "IMC tile" if name == "mlp_imc" else "core only (software)"
        result = (f"{acc:.1%} on {n} images (int8 golden {golden_acc:.1%}, float "
                  f"{float_n:.1%}); {'= golden' if ok else 'MISMATCH'}")
        parts, bits, proxy = energy(res, _image_bytes(elf))
        runs.append(DemoRun(f"digits MLP int8, {what}", result, ok, int(out.get("cycles", 0)),
                            n, _res_dict(res, time.monotonic() - t0), parts, bits, proxy,
                            model, prows))
    # (b) fp8 through the L-Mul and the exact dot units
    if params.dot is not None:
        q, xf, y, files = demos.fp8_demo_data(params.dot.lanes, n_fp8)
        elf = build_soc_firmware("mlp_fp8", params, generated=files)
        log(f"  running mlp_fp8 ({n_fp8} images, {' and '.join(params.dot.kinds)}) ...")
        t0 = time.monotonic()
        res = run_soc(elf, params, sim=sim, max_cycles=40_000_000)
        units = demos.parse_units(res.console)
        parts, bits, proxy = energy(res, _image_bytes(elf))
        for kind in params.dot.kinds:
            pred, logits = demos.golden_fp8(q, xf, kind, params.dot.lanes)
            out = units.get(kind, {})
            ok = res.passed and out.get("pred") == "".join(map(str, pred)) \
                and out.get("check") == f"{demos.checksum(logits):08x}"
            acc = int(out.get("correct", 0)) / n_fp8
            share, pshare = ({k: v for k, v in d.items() if not k.startswith("dot_") or
                              k == f"dot_{kind}"} for d in (parts, proxy))
            label = "L-Mul" if kind == "lmul" else "exact fp8 products"
            runs.append(DemoRun(f"digits MLP fp8 e4m3, {label}",
                                f"{acc:.1%} on {n_fp8} images (golden "
                                f"{float((pred == y).mean()):.1%}); "
                                f"{'= golden' if ok else 'MISMATCH'}",
                                ok, int(out.get("cycles", 0)), n_fp8,
                                _res_dict(res, time.monotonic() - t0),
                                _split_shared(share, len(params.dot.kinds)), bits,
                                _split_shared(pshare, len(params.dot.kinds)), model, prows))
    # (c) oscillator array
    if params.onn is not None:
        expect, files = demos.onn_demo_data(params.onn)
        elf = build_soc_firmware("onn_demo", params, generated=files)
        log("  running onn_demo (Max-Cut, recall) ...")
        t0 = time.monotonic()
        res = run_soc(elf, params, sim=sim, max_cycles=10_000_000)
        got_cuts = [(int(s), int(b, 16), int(c)) for s, b, c in
                    (ln.split()[1:4] for ln in res.console.splitlines()
                     if ln.startswith("cut "))]
        got_rec = [(int(c, 16), int(r, 16)) for c, r in
                   (ln.split()[1:3] for ln in res.console.splitlines()
                    if ln.startswith("recall "))]
        want_rec = [(c, r) for c, r, _ in expect["recall"]]
        ok = res.passed and got_cuts == expect["maxcut"] and got_rec == want_rec
        out = demos.parse_console(res.console)
        best = int(out.get("best", -1))
        recalled = sum(r == t for (_, r), (_, _, t) in zip(got_rec, expect["recall"]))
        parts, bits, proxy = energy(res, _image_bytes(elf), int(out.get("onn_busy", 0)))
        runs.append(DemoRun(
            f"oscillators: Max-Cut ({params.onn.n} nodes) + recall",
            f"best cut {best} of optimum {expect['optimum']} over {len(got_cuts)} seeds; "
            f"recall {recalled}/{len(got_rec)}; {'= golden' if ok else 'MISMATCH'}",
            ok, int(out.get("cycles", 0)), 0, _res_dict(res, time.monotonic() - t0), parts,
            bits, proxy, model, prows))
    # (e) Un-0: digits generated by the oscillator array, readout on the IMC tile
    if params.onn is not None and params.imc is not None:
        runs.append(un0_demo(params, sim, energy, model, prows, log))
    return runs


def un0_demo(params: SocParams, sim: str, energy, model: dict, prows: dict, log=print,
             images: int = demos.UN0_IMAGES) -> DemoRun:
    """``un0_demo`` without printing its pixels (the console would cost about 3x the
    inference's cycles): their checksum against ``sim.onn.un0``'s array-exact model
    (tb/test_un0_soc.py compares every pixel of the printing build); quality: the accuracy of
    ``sim.onn.un0.quality``'s classifier on those images."""
    from sim.onn.un0.quality import Judge

    expect, files = demos.un0_demo_data(params.onn, params.imc, images)
    elf = build_soc_firmware("un0_demo", params, generated=files)
    log(f"  running un0_demo ({images} images, {expect['run']}) ...")
    t0 = time.monotonic()
    res = run_soc(elf, params, sim=sim, max_cycles=10_000_000)
    out = demos.parse_console(res.console)
    ok = res.passed and out.get("check") == f"{demos.checksum(expect['pixels']):08x}"
    acc = Judge().score(expect["pixels"], expect["labels"])["accuracy"]
    u = expect["u"]
    parts, bits, proxy = energy(res, _image_bytes(elf), int(out.get("onn_busy", 0)))
    return DemoRun(
        "digits generated by oscillators",
        f"{acc:.1%} of {images} images classified as the class asked for "
        f"(sim/onn/un0 quality classifier; N = {u.main} + {u.cond} conditioning cells, "
        f"T = {u.epochs}, readout int8 on the IMC tile); "
        f"{'= golden' if ok else 'MISMATCH'}",
        ok, int(out.get("cycles", 0)), images, _res_dict(res, time.monotonic() - t0), parts,
        bits, proxy, model, prows)


def generator_runs(*, sim: str = "verilator", params: SocParams = SIM_PARAMS,
                   images: int = demos.UN0_IMAGES, measure: bool = False,
                   log=print) -> list[DemoRun]:
    """The Un-0 digits three ways on the SoC, ``images`` images each (class ``k % 10``, the
    same image seeds): the oscillator generator (:func:`un0_demo`), and its digital baseline,
    the int8 MLP decoder of ``sim.onn.un0.mlp`` (``demos.MLPGEN_RUN``) on the IMC tile
    (``mlpgen_imc``) and on the core alone (``mlpgen_sw``); each checked against its model
    (the pixels' checksum) and priced as :func:`run_demos` prices (``measure`` False: the
    standard-cell figures only where cached, the table for the rest, labelled)."""
    from sim.onn.un0.quality import Judge

    model, prows, energy = _pricing(params, True, log, measure)
    runs = [un0_demo(params, sim, energy, model, prows, log, images)]
    expect, files = demos.mlpgen_demo_data(images)
    want = f"{demos.checksum(expect['pixels']):08x}"
    acc = Judge().score(expect["pixels"], expect["labels"])["accuracy"]
    g = expect["g"]
    for name, what in (("mlpgen_imc", "IMC tile"), ("mlpgen_sw", "core only (software)")):
        elf = build_soc_firmware(name, params, generated=files)
        log(f"  running {name} ({images} images, {expect['run']}) ...")
        t0 = time.monotonic()
        res = run_soc(elf, params, sim=sim, max_cycles=20_000_000)
        out = demos.parse_console(res.console)
        ok = res.passed and out.get("check") == want
        parts, bits, proxy = energy(res, _image_bytes(elf))
        runs.append(DemoRun(
            f"digits generated by an int8 MLP, {what}",
            f"{acc:.1%} of {images} images classified as the class asked for "
            f"(z {g.z}, hidden {g.hidden}); {'= golden' if ok else 'MISMATCH'}",
            ok, int(out.get("cycles", 0)), images, _res_dict(res, time.monotonic() - t0),
            parts, bits, proxy, model, prows))
    return runs


def _split_shared(parts: dict, k: int) -> dict:
    """Core, memory and bus energy of a run that served ``k`` units: each gets 1/k."""
    return {n: (v if n.startswith("dot_") else v / k) for n, v in parts.items()}


def _float_predict(w1, b1, w2, b2, x):
    import numpy as np

    h = np.maximum(x / 16.0 @ w1 + b1, 0)
    return (h @ w2 + b2).argmax(axis=1)


def _res_dict(res, wall) -> dict:
    return {"cycles": res.cycles, "instret": res.instret, "tohost": res.tohost,
            "halted": res.halted, "wall_s": wall, "cycles_per_s": res.cycles_per_s,
            "perf": res.perf}


def summary_rows(runs, params: SocParams) -> list[dict]:
    """One row per demo: result, cycles, the energy breakdown from :func:`energy_model`
    (``energy_uj``, ``breakdown_uj``: core, each accelerator, memories, bus) and the proxy
    estimate of :func:`table_model` (``proxy_energy_uj``, ``proxy_breakdown_uj``)."""
    table = table_model(params)
    rows = []
    for r in runs:
        rows.append({
            "task": r.task, "result": r.result, "ok": r.ok, "cycles": r.cycles,
            "time_us": r.cycles / params.clk_hz * 1e6,
            "energy_uj": sum(r.energy.values()) / 1e6,
            "breakdown_uj": {k: v / 1e6 for k, v in r.energy.items()},
            "proxy_energy_uj": sum(r.proxy_energy.values()) / 1e6,
            "proxy_breakdown_uj": {k: v / 1e6 for k, v in r.proxy_energy.items()},
            "offchip_bits": r.offchip_bits,
            "offchip_copper_uj": r.offchip_bits * table["offchip_copper"][0] / 1e6,
            "offchip_cpo_uj": r.offchip_bits * table["offchip_cpo"][0] / 1e6,
            "run_cycles": r.run["cycles"], "instret": r.run["instret"],
            "wall_s": r.run["wall_s"], "images": r.images,
            "energy_model": {k: {"pj": v, "source": src} for k, (v, src) in r.model.items()},
            "parts": r.parts,
        })
    return rows


def direct_cost(rows) -> dict:
    """What simulating the whole SoC netlist (RAM outside) on each demo would cost, from the
    measured parts: cells = the sum of the measured parts' cells (the DMAs, decoders, bridges
    and peripherals are not mapped, so it is a lower bound), at the cell-clocks per second the
    core's netlist runs achieved (zero-delay and, if run, SDF), times each demo's clocks;
    empty while the core has no measured figure."""
    parts = rows[0]["parts"] if rows else {}
    if "instruction" not in parts:          # the rate comes from the core's netlist run
        return {}
    cells = sum(p["cells"] for p in parts.values())
    rate = {m: s["cell_clocks_per_s"] for m, s in parts["instruction"]["speed"].items()}
    sims = {m: s["sim"] for m, s in parts["instruction"]["speed"].items()}
    return {"cells": cells, "rate": rate, "sims": sims,
            "demos": [{"task": r["task"], "clocks": r["run_cycles"],
                       **{m: cells * r["run_cycles"] / v for m, v in rate.items()}}
                      for r in rows]}


def _accel(b: dict) -> float:
    return sum(v for k, v in b.items() if k not in ("core", "memories", "bus"))


def render_markdown(rows, params: SocParams) -> str:
    """The SoC report: the breakdown from the standard-cell engine (core and accelerators)
    plus tables (memories, bus), the proxy estimate beside it, the per-event energies with
    their sources, and the cost of a direct whole-SoC netlist simulation."""
    m = rows[0]["energy_model"] if rows else {}
    out = ["# SoC demos (RTL, Verilator)", "",
           f"SoC `{params.name}` at a nominal {params.clk_hz / 1e6:g} MHz. Produced by "
           "`make sim` / `picojoule report soc` (`sim/soc/report.py`); every result is "
           "compared with its golden model (`sim/soc/demos.py`).", "",
           "Cycles: the inference only (the firmware's `rdcycle` window). Energy: the whole "
           "firmware run (loading excluded), from activity counters x per-event energies "
           f"(below): core and accelerators from the {LIBRARY} cells (liberty engine, "
           "zero-delay activity), memories and bus from tables; the proxy estimate is the "
           "former all-table figure (Horowitz 45 nm per operation). Off-chip: the program "
           "image (code, weights, inputs) brought in once plus the console output, priced "
           "per bit.", "",
           "| task | result | cycles | time @ clock | energy (on-chip) | core (liberty) "
           "| accelerators (liberty) | memories (table) | bus (table) | proxy estimate "
           "| off-chip bits | copper SerDes | co-packaged optics |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        b = r["breakdown_uj"]
        out.append(f"| {r['task']} | {r['result']} | {r['cycles']:,} | {r['time_us']:.0f} us | "
                   f"{r['energy_uj']:.2f} uJ | {b['core']:.2f} | {_accel(b):.3f} | "
                   f"{b['memories']:.2f} | {b['bus']:.2f} | {r['proxy_energy_uj']:.2f} uJ | "
                   f"{r['offchip_bits']:,} | {r['offchip_copper_uj']:.2f} uJ | "
                   f"{r['offchip_cpo_uj']:.2f} uJ |")
    out += ["", "Accelerator energy by unit (uJ; liberty, proxy estimate in brackets):", ""]
    for r in rows:
        acc = {k: v for k, v in r["breakdown_uj"].items()
               if k not in ("core", "memories", "bus")}
        out.append(f"- {r['task']}: " + ", ".join(
            f"{k} {v:.4f} ({r['proxy_breakdown_uj'].get(k, 0.0):.4f})" for k, v in acc.items()))
    out += ["", "Per-event energies:", "", "| event | pJ | source |", "|---|---|---|"]
    out += [f"| {k} | {v['pj']:.4g} | {v['source']} |" for k, v in m.items()]
    parts = rows[0]["parts"] if rows else {}
    if parts:
        out += ["", f"Measured parts ({LIBRARY}; pJ per event by activity mode; run: the "
                "netlist simulation, VCD and pricing, wall time):", "",
                "| event | unit | cells | area mm2 | Fmax MHz | zero-delay pJ | SDF pJ | run |",
                "|---|---|---|---|---|---|---|---|"]
        for event, p in parts.items():
            run = "; ".join(f"{mode} ({s['sim']}): {s['clocks']:,.0f} clocks in "
                            f"{s['seconds']:.0f} s" for mode, s in p["speed"].items())
            sdf = p["pj"].get("sdf")
            out.append(f"| {event} | {p['unit']} | {p['cells']:,} | {p['area_um2'] / 1e6:.3f} "
                       f"| {p['fmax_mhz'] or 0:.0f} | {p['pj']['zero']:.4g} | "
                       f"{'-' if sdf is None else f'{sdf:.4g}'} | {run} |")
    cost = direct_cost(rows)
    if cost:
        out += ["", "Whole-SoC netlist (RAM outside) simulated directly, estimated: "
                f"at least {cost['cells']:,} cells (the measured parts; DMAs, decoders and "
                "peripherals not counted) at the core netlist's measured "
                + ", ".join(f"{v / 1e6:.2f} M cell-clocks/s ({mode}, {cost['sims'][mode]})"
                            for mode, v in cost["rate"].items()) + ":", ""]
        for d in cost["demos"]:
            out.append(f"- {d['task']}: {d['clocks']:,} clocks, " + ", ".join(
                f"{mode} {d[mode] / 3600:.1f} h" for mode in cost["rate"]))
    return "\n".join(out) + "\n"


def write_report(rows, params: SocParams, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    md = out / "soc.md"
    md.write_text(render_markdown(rows, params))
    js = out / "soc.json"
    js.write_text(json.dumps({"params": params.name, "clk_hz": params.clk_hz, "rows": rows,
                              "library": LIBRARY, "direct_cost": direct_cost(rows)},
                             indent=1, default=str) + "\n")
    paths = [md, js]
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return paths
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    names = [r["task"].replace("digits MLP ", "") for r in rows]
    parts = sorted({k for r in rows for k in r["breakdown_uj"]})
    bottom = [0.0] * len(rows)
    for part in parts:
        vals = [r["breakdown_uj"].get(part, 0.0) for r in rows]
        ax1.bar(names, vals, bottom=bottom, label=part)
        bottom = [a + b for a, b in zip(bottom, vals)]
    ax1.set_ylabel(f"energy per run (uJ; core, accelerators: {LIBRARY})")
    ax1.legend(fontsize=7)
    ax1.tick_params(axis="x", labelrotation=30, labelsize=7)
    per = [r["cycles"] / r["images"] if r["images"] else 0 for r in rows]
    ax2.bar(names, per)
    ax2.set_yscale("log")
    ax2.set_ylabel("cycles per image (inference)")
    ax2.tick_params(axis="x", labelrotation=30, labelsize=7)
    fig.tight_layout()
    png = out / "soc.png"
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return paths + [png]


def liberty_rows(quick: bool) -> list[dict]:
    """The core's row for the proxy-vs-liberty table (``sim/energy/compare.py``): one
    instruction of the software MLP on the SoC's core (``sim.soc.energy``), the proxy's
    estimate of an instruction (:func:`table_model`) beside the standard-cell figures. The
    timing-aware (SDF) figure is measured only when not ``quick``."""
    from .energy import measure_parts
    from .rtl import SIM_PARAMS

    p = SIM_PARAMS
    core_timings = ("zero",) if quick else ("zero", "sdf")
    part = measure_parts(p, quick=quick, core_timings=core_timings, only=("instruction",),
                         log=lambda msg: None)["instruction"]
    if "error" in part:
        raise ToolError(f"the SoC core was not measured: {part['error']}")
    r = part["result"]
    return [{"unit": r["unit"], "op": "instruction",
             "proxy_pj_per_op": table_model(p)["instruction"][0],
             "liberty_zero_pj_per_op": part["pj"]["zero"],
             "liberty_sdf_pj_per_op": part["pj"].get("sdf"),
             "cells": r["cells"], "area_um2": r["area_um2"],
             "note": f"SoC core {p.core.name} without the RVFI port, memory outside the "
                     f"netlist; {part['what']}"}]

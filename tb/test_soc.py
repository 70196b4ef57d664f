"""The SoC (``hdl/soc.py``): firmware on RTL, every result against its golden model.

- smoke: console, GPIO, UART loopback, timer interrupt, accelerators' INFO, and bus errors
  (unmapped addresses, offsets past a register block, sub-word register stores, past the end
  of RAM) that must trap as access faults with mtval = the address (causes from
  ``hdl/riscv/isa.py``); sticky error bits of every accelerator for operations it cannot run.
- demos: the int8 digits MLP on the IMC tile and on the core alone, the fp8 MLP through the
  L-Mul and exact dot units, Max-Cut and recall on the oscillator array: predictions and
  checksums equal ``sim/soc/demos.py``'s golden models.
- the time-multiplexed oscillator array (``SocParams.onn_lanes``: ``OnnTdm`` on the same
  region and registers) runs the unchanged oscillator demo to the same model results on
  Verilator and Icarus.
- a stall build (random ``stall`` and delayed answers on every peripheral port and RAM's data
  port) runs the smoke test and the demos to the same results; a second one without DMAs
  (PIO blocks) runs the smoke test and the IMC and fp8 demos through the PIO registers.
- the smoke firmware computes one product per stream accelerator (IMC tile, element-wise fp8
  multipliers) through its DMA or PIO block; the results equal ``sim/imc/model.py`` and
  ``sim/lmul/model.py`` on operands regenerated from the printed seed.
- Icarus runs the smoke test on a small configuration and on the iCEBreaker's SoC (as
  ``boards/icebreaker.py`` configures it: no DMAs, multipliers, 4 x 4 tile, 4 KiB RAM).
- build-time refusals: firmware too large for RAM, bad SocParams; the generated memory-map
  doc is current.

Default runs use fewer images than ``make sim`` (``N_TEST_FAST``); the builds are shared.
"""

import re
from dataclasses import replace

import numpy as np
import pytest

from boards.icebreaker import ICEBREAKER
from hdl.float import FORMATS
from hdl.imc import Cause as ImcCause
from hdl.imc import ImcParams
from hdl.memory_map import RAM_BASE, region
from hdl.onn import Cause as OnnCause
from hdl.onn import OnnParams
from hdl.periph import DmaCause, DotCause, DotPeriphParams, MulPeriphParams, PioCause
from hdl.riscv.isa import Cause
from hdl.soc import SocParams
from sim.flow.firmware import xorshift32
from sim.flow.toolchain import ToolError
from sim.imc import model as imc_model
from sim.lmul import model as lmul_model
from sim.soc import demos
from sim.soc.rtl import (
    MEMORY_MAP_DOC,
    SIM_PARAMS,
    build_soc_firmware,
    memory_map_markdown,
    run_soc,
    soc_params,
)
from tb.stall import stall_ports

N_TEST_FAST = 20
#: A small SoC for Icarus and the stall build: the MLP still fits (64-row tile, 9 chunks).
SMALL = SocParams(uart_baud=50_000_000 // 8, imc=ImcParams(rows=64, cols=4),
                  dot=DotPeriphParams(max_chunks=9), onn=OnnParams(n=8))
#: The DMA build under stalls also carries the element-wise multipliers (fed by a third DMA),
#: and the ULX3S-85F tile's registered stall and weight write (boards/ulx3s.py).
STALLS = replace(SMALL, mul=MulPeriphParams(),
                 imc=replace(SMALL.imc, with_out_buffer=True, with_write_register=True))
#: No DMAs: every stream through PIO registers (exact multipliers this time), under stalls.
PIO_STALLS = replace(SMALL, with_dma=False, mul=MulPeriphParams(kind="fpmul"))
#: The time-multiplexed array (OnnTdm, two lanes serving 16 cells) in place of OnnArray.
TDM = replace(SMALL, onn=OnnParams(n=16), onn_lanes=2)
#: The iCEBreaker's SoC (boards/icebreaker.py) as it is built for the board, with 8 LEDs and
#: buttons for the smoke test's GPIO checks and a fast UART.
UP5K = replace(soc_params(ICEBREAKER.config, leds=8, buttons=8, clk_hz=50_000_000),
               uart_baud=50_000_000 // 8)


def _smoke_expectations(params: SocParams) -> list[tuple[str, int, int]]:
    """(kind, address, mcause) of every probe in firmware/demos/smoke.c."""
    uart, gpio = region("uart"), region("gpio")
    return [("load", 0x2000_0000, Cause.LOAD_ACCESS_FAULT.value),
            ("store", 0x0000_0000, Cause.STORE_ACCESS_FAULT.value),
            ("load", uart.base + 4 * 16, Cause.LOAD_ACCESS_FAULT.value),
            ("store", gpio.base, Cause.STORE_ACCESS_FAULT.value),
            ("load", RAM_BASE + params.ram_size, Cause.LOAD_ACCESS_FAULT.value)]


def _check_smoke(res, params):
    assert res.passed, f"smoke: {res.describe()}\n{res.console}"
    traps = re.findall(r"trap (load|store) ([0-9a-f]{8}) (\d+) (\d+) ([0-9a-f]{8})", res.console)
    got = [(k, int(a, 16), int(n), int(c), int(t, 16)) for k, a, n, c, t in traps]
    want = [(k, a, 1, c, a) for k, a, c in _smoke_expectations(params)]
    assert got == want, f"trap lines {got} != {want}"
    errs = demos.parse_console(res.console)
    expect = {}
    if params.imc is not None:
        expect["err_imc_abits"] = ImcCause.BAD_ABITS
        if params.with_dma:
            expect.update(err_dma_align=DmaCause.ALIGN, err_dma_bus=DmaCause.BUS_ERROR)
        else:
            expect["err_pio_empty"] = PioCause.EMPTY
    if params.dot is not None:
        expect["err_dot_chunks"] = DotCause.BAD_CHUNKS
    if params.onn is not None:
        expect["err_onn_mode"] = OnnCause.BAD_MODE
    if params.mul is not None and not params.with_dma:
        expect["err_pio_full"] = PioCause.FULL
    for key, cause in expect.items():
        assert int(errs[key]) == cause, f"{key}: {errs.get(key)} != {cause}"
    assert res.leds == 0xA5
    _check_products(res.console, params)


def _s8(v):
    v &= 0xFF
    return v - 256 if v & 0x80 else v


def _check_products(console, params):
    """The smoke test's products through each stream accelerator's DMA or PIO equal the golden
    models (``sim/imc/model.py``, ``sim/lmul/model.py``) on operands regenerated from the printed
    seed."""
    out = demos.parse_console(console)
    rng = iter(xorshift32(int(out["smoke_seed"], 16), 4096))
    p = params.imc
    if p is not None and p.w_bits == 8 and p.a_bits == 8:
        w = np.array([_s8(next(rng)) for _ in range(p.rows * p.cols)]).reshape(p.rows, p.cols)
        words = [next(rng) for _ in range(p.rows * p.a_bits // 32)]
        x = [(words[r // 4] >> (8 * (r % 4))) & 0xFF for r in range(p.rows)]
        want = imc_model.matvec(p, w, x, p.a_bits)
        got = [int(v, 16) for v in out["imc_y"].split()]
        assert out["imc_err"] == "0"
        assert [v - (1 << 32) if v >> 31 else v for v in got] == list(want)
    if params.mul is not None:
        fmt = FORMATS[params.mul.fmt]
        model = getattr(lmul_model, params.mul.kind)
        lines = re.findall(r"^mul ([0-9a-f]{8}) ([0-9a-f]{8}) ([0-9a-f]{8}) (\d+)$", console,
                           re.M)
        assert lines, "no mul lines"
        for a, b, prod, err in lines:
            a, b, prod = int(a, 16), int(b, 16), int(prod, 16)
            assert (a, b, int(err)) == (next(rng), next(rng), 0)
            lanes = [(v >> (8 * k)) & 0xFF for v in (a, b, prod) for k in range(4)]
            want = model(fmt, np.array(lanes[0:4]), np.array(lanes[4:8]))
            assert lanes[8:12] == [int(v) for v in want], f"{a:08x} * {b:08x}"


def test_smoke(sim):
    params = SIM_PARAMS if sim == "verilator" else SMALL
    res = run_soc(build_soc_firmware("smoke", params), params, sim=sim, loopback=True,
                  buttons=3, max_cycles=400_000)
    _check_smoke(res, params)
    assert "buttons 00000003" in res.console


def test_smoke_up5k(sim):
    """The iCEBreaker's SoC (no DMAs: PIO; element-wise L-Mul multipliers; 4 x 4 tile; 4 KiB)
    runs the smoke firmware it is built with on both simulators."""
    assert not UP5K.with_dma and UP5K.mul is not None and UP5K.dot is None
    res = run_soc(build_soc_firmware("smoke", UP5K), UP5K, sim=sim, loopback=True,
                  buttons=3, max_cycles=400_000)
    _check_smoke(res, UP5K)


def _smoke_and_mlp_demos(params, int8_images: int, ports):
    """The smoke test and the IMC and fp8 MLP demos on ``params``' SoC (its ports wrapped by
    ``ports``), each against its golden result."""
    res = run_soc(build_soc_firmware("smoke", params), params, loopback=True, buttons=3,
                  max_cycles=600_000, port_wrapper=ports)
    _check_smoke(res, params)
    files, pred, check = _int8(int8_images)
    res = run_soc(build_soc_firmware("mlp_imc", params, generated=files), params,
                  max_cycles=3_000_000, port_wrapper=ports)
    assert res.passed, res.describe()
    out = demos.parse_console(res.console)
    assert (out["pred"], out["check"]) == (pred, check)
    files, want = _fp8(params, 4)
    res = run_soc(build_soc_firmware("mlp_fp8", params, generated=files), params,
                  max_cycles=3_000_000, port_wrapper=ports)
    assert res.passed, res.describe()
    units = demos.parse_units(res.console)
    for kind, (pred, check) in want.items():
        assert (units[kind]["pred"], units[kind]["check"]) == (pred, check), kind


def test_pio_under_stalls():
    """Without DMAs, under random stalls: the smoke test (PIO errors, products), and the IMC and
    fp8 demos through the PIO blocks give the golden results."""
    _smoke_and_mlp_demos(PIO_STALLS, 8, stall_ports(5))


def _int8(n):
    q, xq, y, files = demos.int8_demo_data(n)
    pred, logits = demos.golden_int8(q, xq)
    return files, "".join(map(str, pred)), f"{demos.checksum(logits):08x}"


@pytest.mark.parametrize("name", ["mlp_imc", "mlp_sw"])
def test_mlp_int8(name):
    files, pred, check = _int8(N_TEST_FAST)
    res = run_soc(build_soc_firmware(name, SIM_PARAMS, generated=files), SIM_PARAMS,
                  max_cycles=5_000_000)
    assert res.passed, f"{name}: {res.describe()}\n{res.console}"
    out = demos.parse_console(res.console)
    assert out["pred"] == pred
    assert out["check"] == check


def _fp8(params, n):
    lanes = params.dot.lanes
    q, xf, y, files = demos.fp8_demo_data(lanes, n)
    want = {}
    for kind in params.dot.kinds:
        pred, logits = demos.golden_fp8(q, xf, kind, lanes)
        want[kind] = ("".join(map(str, pred)), f"{demos.checksum(logits):08x}")
    return files, want


def test_mlp_fp8():
    n = 12
    files, want = _fp8(SIM_PARAMS, n)
    res = run_soc(build_soc_firmware("mlp_fp8", SIM_PARAMS, generated=files), SIM_PARAMS,
                  max_cycles=5_000_000)
    assert res.passed, f"mlp_fp8: {res.describe()}\n{res.console}"
    units = demos.parse_units(res.console)
    assert set(units) == set(want)
    for kind, (pred, check) in want.items():
        assert units[kind]["pred"] == pred, kind
        assert units[kind]["check"] == check, kind


def _onn_lines(console):
    cuts = [(int(s), int(b, 16), int(c)) for s, b, c in
            (ln.split()[1:4] for ln in console.splitlines() if ln.startswith("cut "))]
    rec = [(int(c, 16), int(r, 16)) for c, r in
           (ln.split()[1:3] for ln in console.splitlines() if ln.startswith("recall "))]
    return cuts, rec


def _run_onn_demo(params, max_cycles, sim="verilator", **runs):
    """The oscillator demo on ``params``' SoC: every Max-Cut and recall run equals the golden
    model, and the best cut printed is the best of the runs. ``runs``: fewer Max-Cut seeds
    or recall trials than the demo's (``demos.onn_demo_data``)."""
    expect, files = demos.onn_demo_data(params.onn, **runs)
    res = run_soc(build_soc_firmware("onn_demo", params, generated=files), params, sim=sim,
                  max_cycles=max_cycles)
    assert res.passed, f"onn_demo: {res.describe()}\n{res.console}"
    cuts, rec = _onn_lines(res.console)
    assert cuts == expect["maxcut"]
    assert rec == [(c, r) for c, r, _ in expect["recall"]]
    assert int(demos.parse_console(res.console)["best"]) == max(c for _, _, c in cuts)
    return res


def test_onn_demo():
    _run_onn_demo(SIM_PARAMS, 2_000_000)


#: The oscillator demo's runs on Icarus (134 s against 15 s on Verilator here): two Max-Cut
#: seeds and one recall per stored pattern, instead of six and six.
ICARUS_ONN_RUNS = dict(seeds=demos.MAXCUT_SEEDS[:2], trials=len(demos.RECALL_PATTERNS))


def test_onn_demo_tdm(sim):
    """The same firmware (the header is generated from the same register map) on the
    time-multiplexed array: the same spins as the model, in more clocks per epoch."""
    assert TDM.tdm is not None and TDM.name.endswith("onn16tdm2")
    _run_onn_demo(TDM, 3_000_000, sim, **(ICARUS_ONN_RUNS if sim == "icarus" else {}))


def test_stalls_lose_nothing():
    """Random stalls and late answers on every peripheral port and RAM's data port: the smoke
    test and the IMC and fp8 demos give the golden results."""
    _smoke_and_mlp_demos(STALLS, 16, stall_ports(7))
    expect, files = demos.onn_demo_data(STALLS.onn)
    res = run_soc(build_soc_firmware("onn_demo", STALLS, generated=files), STALLS,
                  max_cycles=3_000_000, port_wrapper=stall_ports(7))
    assert res.passed, res.describe()
    assert _onn_lines(res.console) == (expect["maxcut"],
                                       [(c, r) for c, r, _ in expect["recall"]])


# ------------------------------------------------------------------------------ build time
def test_memory_map_doc_is_current():
    assert MEMORY_MAP_DOC.read_text() == memory_map_markdown(), \
        "docs/memory-map.md is stale: run `picojoule memory-map`"


def test_header_names_every_register():
    from hdl.soc import soc_register_maps
    from sim.flow.firmware import soc_header

    text = soc_header(SIM_PARAMS)
    for rname, rmap in soc_register_maps(SIM_PARAMS).items():
        if rname in ("uart", "timer", "gpio"):
            continue
        for reg in rmap.registers:
            off = 4 * rmap.offset(reg.name)
            assert f"#define PJ_{rname.upper()}_{reg.name.upper()}_OFFSET 0x{off:03x}u" in text


def test_firmware_too_big_for_ram():
    tiny = SocParams(ram_size=4096, imc=ImcParams(rows=64, cols=4))
    files, _, _ = _int8(N_TEST_FAST)
    with pytest.raises(ToolError, match="does not fit the SoC's RAM"):
        build_soc_firmware("mlp_sw", tiny, generated=files)


def test_demo_refused_without_its_accelerator():
    files, _, _ = _int8(4)
    with pytest.raises(ToolError, match="needs the IMC tile"):
        build_soc_firmware("mlp_imc", SocParams(imc=None), generated=files)


@pytest.mark.parametrize("kw, match", [
    ({"ram_size": 3000}, "ram_size must be a power of two"),
    ({"uart_baud": 10}, "divisor"),
    ({"dot": DotPeriphParams(lanes=32, max_chunks=256)}, "do not fit its region"),
    ({"imc": "64x16"}, "imc must be ImcParams"),
    ({"onn": None, "onn_lanes": 2}, "onn_lanes=2 needs an oscillator array"),
    ({"onn_lanes": 3}, "lanes must be a power of two, not 3"),
    ({"onn": OnnParams(n=16, with_hold=True), "onn_lanes": 2}, "OnnTdm has no hold mask"),
    ({"onn": OnnParams(n=8, with_parallel=True), "onn_lanes": 2}, "serial"),
])
def test_bad_params(kw, match):
    with pytest.raises((ValueError, TypeError), match=match):
        SocParams(**kw)

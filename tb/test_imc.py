"""In-memory-compute tile and its von Neumann baseline against the numpy golden model.

Each run loads weights (alternately through the ``w`` stream and through the CSRs), picks an
activation precision per batch, streams products back to back with random stalls on both
streams, rewrites the weights between batches, and compares every result (nothing dropped or
duplicated). Corner batches: all most-negative, all maximum, zeros, ba = 1. Separate tests
check latency/throughput against the unit's ``latency()``/``cycles_per_op()``, the sticky
errors, and double-buffered weight writes during compute.
"""


import cocotb
import numpy as np
import pytest
from cocotb.triggers import RisingEdge

from hdl.imc import Cause, ImcBaseline, ImcParams
from sim.imc.bench import UNITS, ImcCheck, open_bench, unit_id
from sim.imc.model import matvec, random_activations, random_weights
from sim.rtl import run
from sim.rtl.bench import (
    record,
)

# ------------------------------------------------------------------------------ cocotb side






@cocotb.test()
async def check_backpressure(dut):
    """Products back to back (no source stalls) into a sink that holds ready low half the
    time: with ba = 1 a result can finish every clock, so the output stage must hold every
    result that is still in the pipeline when ready drops."""
    chk, p, rng, b = await open_bench(dut, sink_stall=0.5)
    w = random_weights(p, rng)
    await b.load_stream(w)
    expected = []
    for ba in sorted({1, 2, p.a_bits}):
        await b.drain(len(expected))
        await b.csr.write("CTRL", a_bits=ba)
        for _ in range(12):
            x = random_activations(p, rng, ba)
            b.send(x)
            expected.append(matvec(p, w, x, ba))
    await b.drain(len(expected))
    got = b.results()
    assert len(got) == len(expected), f"{len(got)} results for {len(expected)} products"
    bad = [i for i, (e, g) in enumerate(zip(expected, got)) if not np.array_equal(e, g)]
    assert not bad, f"products {bad[:5]} of {len(expected)} differ from the model"


@cocotb.test()
async def check_write_then_product(dut):
    """Single-buffered: a weight reload through the stream and a product queued in the same
    clock. Writes win, so the product is accepted in the clock after the last row and must
    see all the new rows (with ``with_write_register`` the last row is still in flight)."""
    chk, p, rng, b = await open_bench(dut)
    w0, w1 = random_weights(p, rng), random_weights(p, rng)
    await b.load_stream(w0)
    xs = [random_activations(p, rng, p.a_bits) for _ in range(2)]
    b.send(xs[0])
    await b.drain(1)
    for r in range(p.rows):
        b.wsrc.send(b.w_layout.const({"row": r, "data": [int(v) for v in w1[r]]}).as_bits())
    b.send(xs[1])
    await b.drain(2)
    got = b.results()
    assert np.array_equal(got[0], matvec(p, w0, xs[0], p.a_bits)), "first product"
    assert np.array_equal(got[1], matvec(p, w1, xs[1], p.a_bits)), (
        "a product accepted right after a weight write did not see it")


@cocotb.test()
async def check_errors(dut):
    """Bad run-time input sets a sticky error and is refused; nothing else changes."""
    chk, p, rng, b = await open_bench(dut)
    unit = UNITS[chk.unit](p)
    info = await b.csr.fields("INFO")
    assert (1 << info["rows_log2"], info["cols"], info["a_bits"]) == (p.rows, p.cols, p.a_bits)
    w = random_weights(p, rng)
    await b.load_csr(w)
    await b.csr.write("CTRL", a_bits=p.a_bits)
    for bad, cause in ((("CTRL", {"a_bits": 0}), Cause.BAD_ABITS),
                       (("CTRL", {"a_bits": p.a_bits + 1}), Cause.BAD_ABITS),
                       (("WROW", {"row": p.rows}), Cause.BAD_ROW)):
        await b.csr.write(bad[0], **bad[1])
        st = await b.csr.fields("STATUS")
        assert st["error"] == 1 and st["cause"] & cause, f"{bad}: status {st}"
        assert (await b.csr.fields("CTRL"))["a_bits"] == p.a_bits, "bad CTRL was applied"
        await b.csr.write("CMD", clear=1)
        assert (await b.csr.fields("STATUS"))["error"] == 0, "CMD.clear did not clear"
    if not p.with_double_buffer and p.a_bits > p.bit_stages + p.tree_stages + 1:
        # A CSR weight commit while a product is in flight is refused with BUSY_WRITE. One
        # product more than the tile holds finished (out_slots), back to back with the
        # results held: the last is accepted before the results ahead of it fill the slots,
        # so it freezes in flight (mid-issue with one slot, since a_bits > bit_stages +
        # tree_stages + 1).
        xs = [random_activations(p, rng, p.a_bits) for _ in range(unit.out_slots + 1)]
        await b.csr.write("WROW", row=0)
        await b.csr.write("WDATA", 0x5A5A5A5A, index=0)
        b.sink.stall = 1.0
        for x in xs:
            b.send(x)
        while not b.src.idle:
            await RisingEdge(dut.clk)
        await b.csr.write("WCOMMIT", go=1)
        st = await b.csr.fields("STATUS")
        assert st["busy"] and st["cause"] & Cause.BUSY_WRITE, f"commit while busy: {st}"
        b.sink.stall = 0.0
        await b.drain(len(xs))
        assert len(b.results()) == len(xs)
        for x, y in zip(xs, b.results()):
            assert np.array_equal(y, matvec(p, w, x, p.a_bits)), "weights corrupted"
    record("errors", {"checked": True})


@cocotb.test()
async def check_double_buffer(dut):
    """Shadow-bank writes overlap compute; CMD.swap switches banks between products."""
    chk, p, rng, b = await open_bench(dut)
    w0, w1 = random_weights(p, rng), random_weights(p, rng)
    await b.load_stream(w0)                    # shadow bank 1, then swapped in
    n = 2 + p.rows * (p.row_words + 1) // p.a_bits   # enough products to outlast the load
    xs = [random_activations(p, rng, p.a_bits) for _ in range(n)]
    for x in xs:
        b.send(x)
    await b.load_csr(w1, activate=False)       # into bank 0 while the products run
    busy_during_load = len(b.sink.received) < n
    await b.drain(n)
    await b.activate()
    x = random_activations(p, rng, p.a_bits)
    b.send(x)
    await b.drain(n + 1)
    got = b.results()
    for x_, y in zip(xs, got[:n]):
        assert np.array_equal(y, matvec(p, w0, x_, p.a_bits)), "shadow write disturbed compute"
    assert np.array_equal(got[n], matvec(p, w1, x, p.a_bits)), "swap did not switch banks"
    assert busy_during_load, "the shadow load did not overlap compute (test too weak)"








# ------------------------------------------------------------------------------ pytest side
SMALL = [
    ImcParams(rows=8, cols=4, w_bits=8, a_bits=8),
    ImcParams(rows=16, cols=3, w_bits=4, a_bits=5, signed_a=False, tree_stages=2),
    ImcParams(rows=8, cols=5, w_bits=1, a_bits=3, signed_w=False, tree_stages=0,
              with_bit_register=False),
    ImcParams(rows=16, cols=4, w_bits=6, a_bits=8, signed_w=False, signed_a=True,
              with_double_buffer=True),
    # The ULX3S-85F tile's registered stall and weight write, single and double-buffered.
    ImcParams(rows=8, cols=4, w_bits=8, a_bits=8, tree_stages=3, with_out_buffer=True,
              with_write_register=True),
    ImcParams(rows=16, cols=3, w_bits=6, a_bits=8, signed_w=False, tree_stages=2,
              with_double_buffer=True, with_out_buffer=True, with_write_register=True),
]




def run_imc(sim, unit, p, testcase, **kw):
    return run(UNITS[unit](p), key=(unit, p),
               toplevel=f"{'imc' if unit == 'tile' else 'vn'}_{unit_id(p)}",
               test_module=["sim.imc.bench", "tb.test_imc"], sim=sim, testcase=testcase,
               params=ImcCheck(p, unit, **kw))


@pytest.mark.parametrize("unit", list(UNITS))
@pytest.mark.parametrize("p", SMALL, ids=unit_id)
def test_imc_small(sim, unit, p):
    # single-buffered tiles: a weight write racing a product; double-buffered: bank swaps
    buffers = "check_double_buffer" if p.with_double_buffer else "check_write_then_product"
    r = run_imc(sim, unit, p, f"check_products,check_timing,check_backpressure,check_errors,"
                f"{buffers}")
    assert r.data("products")["products"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("unit", list(UNITS))
def test_imc_default(sim, unit):
    """The default 64 x 16, 8-bit tile (large Verilog: slow to build)."""
    run_imc(sim, unit, ImcParams(), "check_products,check_timing", batches=5, ops=3)


def test_bitserial_model_matches_numpy():
    from sim.imc.model import matvec_bitserial

    rng = np.random.default_rng(3)
    for p in SMALL + [ImcParams()]:
        for ba in range(1, p.a_bits + 1):
            w = random_weights(p, rng)
            x = random_activations(p, rng, ba)
            assert np.array_equal(matvec_bitserial(p, w, x, ba), matvec(p, w, x, ba))


@pytest.mark.parametrize("kwargs, message", [
    (dict(rows=12), "rows must be a power of two"),
    (dict(w_bits=9), "w_bits must be in 1..8, not 9"),
    (dict(a_bits=0), "a_bits must be in 1..8, not 0"),
    (dict(rows=8, tree_stages=4), "tree_stages must be in 0..3"),
])
def test_bad_params(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ImcParams(**kwargs)


def test_baseline_netlist_keeps_memory():
    """The baseline's power netlist keeps its weights in one memory cell (charged per access),
    not in flip-flops: a netlist that expanded the array would charge the weights twice."""
    from sim.imc.report import keep_memory_netlist
    from sim.power.gates import synthesize
    from sim.rtl.runner import convert

    p = ImcParams(rows=16, cols=3, w_bits=4)
    text = convert(ImcBaseline(p), "vn_keepmem")
    netlist = keep_memory_netlist(text, "vn_keepmem")
    expanded = synthesize(text, "vn_keepmem")
    assert netlist.cells.get("$mem_v2") == 1, netlist.cells
    # The array and the memory's read-data register live in the memory cell, all else stays.
    assert expanded.n_flipflops - netlist.n_flipflops == (p.rows + 1) * p.cols * p.w_bits, (
        f"{netlist.n_flipflops} flip-flops kept vs {expanded.n_flipflops} expanded")
    assert not any(cell.startswith("$mem") for n in netlist.nets.values() for cell, _ in n.loads)


@pytest.mark.slow
def test_power_sparsity_lowers_energy():
    """The power workload at 8x4 on Verilator: RTL and gate-level netlist give the same results,
    and 50% zero activations cost less energy per MAC than dense ones, in both units."""
    from sim.imc.report import measure_imc

    p = ImcParams(rows=8, cols=4)
    r = measure_imc(p, workloads=("uniform", "uniform_50z"), vectors=16)
    for unit, variant in (("tile", "ports"), ("baseline", "sram")):
        dense, sparse = (r[unit]["workloads"][n] for n in ("uniform", "uniform_50z"))
        for w in (dense, sparse):
            assert w["ops"] == 16 * p.rows * p.cols
            assert w["digest"]["rtl"] == w["digest"]["gate"]
        assert dense["zero_fraction"] < 0.1 < 0.4 < sparse["zero_fraction"]
        e_dense = dense["variants"][variant]["pj_per_mac"]
        e_sparse = sparse["variants"][variant]["pj_per_mac"]
        assert e_sparse["logic"] < e_dense["logic"], (unit, e_sparse, e_dense)
        assert e_sparse["total"] < e_dense["total"], (unit, e_sparse, e_dense)


def test_liberty_memory_cells():
    """On the baseline mapped to the OSU 0.18 um cells, ``memory_cells`` finds what an SRAM
    macro would replace: exactly the array's bits as storage flip-flops, a read register one
    word wide, and read/write logic that drives nothing but memory cells (no port)."""
    from sim.imc.report import memory_cells
    from sim.power.engine import resolve_liberty
    from sim.power.liberty import read_liberty
    from sim.power.stdcell import map_unit
    from sim.rtl.runner import convert

    p = ImcParams(rows=8, cols=3, w_bits=4)
    top = f"vn_{unit_id(p)}"
    path = resolve_liberty(None)
    lib = read_liberty(path)
    netlist = map_unit(convert(ImcBaseline(p), top), top, path)
    mem = memory_cells(lib, netlist, bits=p.rows * p.cols * p.w_bits)
    assert mem["counts"]["read_register"] == p.cols * p.w_bits, mem["counts"]
    assert mem["counts"]["logic"] > 0
    assert not mem["nets"] & netlist.outputs
    with pytest.raises(ValueError, match="not the memory's"):
        memory_cells(lib, netlist, bits=p.rows * p.cols * p.w_bits + 1)


@pytest.mark.slow
def test_liberty_energy():
    """The 8 x 4 tile and baseline mapped to the OSU 0.18 um cells, zero-delay on Verilator
    (``measure_cells`` stops with an error if a netlist's results differ from the RTL's):
    each breakdown's parts are positive and sum to the total; 50 % zero activations cost less
    per MAC than dense ones in both units; the baseline reads one weight row per row of a
    product (1 / cols reads per MAC), and its memory cells are a positive part of its energy,
    less than the whole."""
    from sim.imc.report import LIBERTY_QUICK, measure_liberty

    p = LIBERTY_QUICK
    r = measure_liberty(p, workloads=("uniform", "uniform_50z"))
    for unit in ("tile", "baseline"):
        w = r[unit]["workloads"]
        for name, row in w.items():
            b = row["breakdown"]
            assert row["ops"] == 16 * p.rows * p.cols
            assert all(v > 0 for v in b.values()), (unit, name, b)
            assert sum(b.values()) == pytest.approx(row["pj_per_mac"], rel=1e-9)
        assert w["uniform_50z"]["pj_per_mac"] < w["uniform"]["pj_per_mac"], unit
        assert (w["uniform_50z"]["transitions_per_mac"]
                < w["uniform"]["transitions_per_mac"]), unit
    for name, row in r["baseline"]["workloads"].items():
        assert row["traffic"]["reads_per_mac"] == pytest.approx(1 / p.cols, rel=0.05), name
        assert 0 < row["memory_cells_pj_per_mac"] < row["pj_per_mac"], name

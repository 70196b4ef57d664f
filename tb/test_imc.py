"""In-memory-compute tile and its von Neumann baseline against the numpy golden model.

Each run loads weights (alternately through the ``w`` stream and through the CSRs), picks an
activation precision per batch, streams products back to back with random stalls on both
streams, rewrites the weights between batches, and compares every result (nothing dropped or
duplicated). Corner batches: all most-negative, all maximum, zeros, ba = 1. Separate tests
check latency/throughput against the unit's ``latency()``/``cycles_per_op()``, the sticky
errors, and double-buffered weight writes during compute.
"""

from dataclasses import dataclass

import cocotb
import numpy as np
import pytest
from amaranth.lib import data
from cocotb.triggers import RisingEdge

from hdl.imc import Cause, ImcBaseline, ImcParams, ImcTile, register_map, weight_write_layout
from sim.imc import matvec, pack_row_words, random_activations, random_weights
from tb.common import run
from tb.common.bench import (
    CLOCK_NS,
    StreamSink,
    StreamSource,
    params,
    record,
    reset,
    seed,
    start_clock,
)
from tb.common.csr import CsrMaster

UNITS = {"tile": ImcTile, "baseline": ImcBaseline}


@dataclass(frozen=True)
class ImcCheck:
    imc: ImcParams
    unit: str = "tile"
    batches: int = 6
    ops: int = 4
    stall: float = 0.3


class Bench:
    """Drivers for one tile: activations, results, weight stream and CSRs."""

    def __init__(self, dut, p: ImcParams, stall: float = 0.0):
        self.dut, self.p = dut, p
        self.regs = register_map(p)
        self.csr = CsrMaster(dut, self.regs)
        self.src = StreamSource(dut, "i", stall=stall)
        self.sink = StreamSink(dut, "o", stall=stall)
        self.wsrc = StreamSource(dut, "w")
        self.x_layout = data.ArrayLayout(p.a_bits, p.rows)
        self.y_layout = data.ArrayLayout(p.out_shape, p.cols)
        self.w_layout = weight_write_layout(p)

    async def load_stream(self, w, *, activate=True):
        for r in range(self.p.rows):
            self.wsrc.send(self.w_layout.const({"row": r, "data": [int(v) for v in w[r]]})
                           .as_bits())
        while not self.wsrc.idle:
            await RisingEdge(self.dut.clk)
        if activate:
            await self.activate()

    async def load_csr(self, w, *, activate=True):
        await self.csr.write("WROW", row=0)
        for r in range(self.p.rows):
            for k, word in enumerate(pack_row_words(self.p, w[r])):
                await self.csr.write("WDATA", word, index=k)
            await self.csr.write("WCOMMIT", go=1)
        if activate:
            await self.activate()

    async def activate(self):
        """Double-buffered tiles write the shadow bank: swap it in (waits until idle)."""
        if self.p.with_double_buffer:
            await self.csr.write("CMD", swap=1)
            while (await self.csr.fields("STATUS"))["busy"]:
                pass

    def send(self, x):
        self.src.send(self.x_layout.const([int(v) for v in x]).as_bits())

    def results(self):
        return [np.array(list(self.y_layout.from_bits(v))) for v in self.sink.received]

    async def drain(self, count: int):
        await self.sink.wait_for(count, timeout_cycles=50 * (self.p.rows + 10) * (count + 1))
        while (await self.csr.fields("STATUS"))["busy"]:
            pass


# ------------------------------------------------------------------------------ cocotb side
async def _open(dut, *, stall=0.0, sink_stall=None):
    """Clock, bench and reset for this build's parameters: ``(chk, p, rng, bench)``."""
    chk = params()
    p = chk.imc
    rng = np.random.default_rng(seed())
    await start_clock(dut)
    b = Bench(dut, p, stall=stall)
    if sink_stall is not None:
        b.sink.stall = sink_stall
    await reset(dut)
    return chk, p, rng, b


@cocotb.test()
async def check_products(dut):
    chk = params()
    chk, p, rng, b = await _open(dut, stall=chk.stall)
    expected = []
    corners = ["min", "max", "zero"]
    for batch in range(chk.batches):
        w_kind = corners[batch] if batch < len(corners) else "uniform"
        x_kind = corners[batch] if batch < 2 else "uniform"
        ba = 1 if batch == 3 else p.a_bits if batch < 3 else int(rng.integers(1, p.a_bits + 1))
        w = random_weights(p, rng, kind=w_kind)
        await b.drain(len(expected))          # weights change only between products
        await (b.load_stream(w) if batch % 2 == 0 else b.load_csr(w))
        await b.csr.write("CTRL", a_bits=ba)
        for _ in range(chk.ops):
            x = random_activations(p, rng, ba, kind=x_kind, zeros=0.5 if batch % 3 else 0.0)
            b.send(x)
            expected.append((batch, ba, matvec(p, w, x, ba)))
    await b.drain(len(expected))
    got = b.results()
    assert len(got) == len(expected), f"{len(got)} results for {len(expected)} products"
    bad = [f"batch {bt} ba={ba} product {i}: got {g.tolist()} model {e.tolist()}"
           for i, ((bt, ba, e), g) in enumerate(zip(expected, got)) if not np.array_equal(e, g)]
    status = await b.csr.fields("STATUS")
    record("products", {"products": len(expected), "mismatches": len(bad)})
    assert not bad, f"{len(bad)} of {len(expected)} products differ: " + "; ".join(bad[:3])
    assert status["error"] == 0, f"unexpected error flag: {status}"


@cocotb.test()
async def check_timing(dut):
    """Back-to-back products without stalls: issue interval and latency as documented."""
    chk, p, rng, b = await _open(dut)
    unit = UNITS[chk.unit](p)
    w = random_weights(p, rng)
    await b.load_stream(w)
    figures = {}
    for ba in sorted({1, p.a_bits, max(1, p.a_bits // 2)}):
        await b.csr.write("CTRL", a_bits=ba)
        n0 = len(b.sink.received)
        xs = [random_activations(p, rng, ba) for _ in range(4)]
        t_first = len(b.src.times)
        for x in xs:
            b.send(x)
        await b.sink.wait_for(n0 + len(xs), timeout_cycles=20 * (p.rows + 10) * len(xs))
        t_in = b.src.times[t_first:]
        t_out = b.sink.times[n0:]
        interval = round((t_in[-1] - t_in[0]) / CLOCK_NS / (len(xs) - 1), 6)
        latency = round((t_out[0] - t_in[0]) / CLOCK_NS, 6)
        figures[ba] = {"cycles_per_op": interval, "latency": latency}
        assert interval == unit.cycles_per_op(ba), f"ba={ba}: one product per {interval} cycles"
        assert latency == unit.latency(ba), f"ba={ba}: latency {latency}, not {unit.latency(ba)}"
        for x, y in zip(xs, b.results()[n0:]):
            assert np.array_equal(y, matvec(p, w, x, ba))
    record("timing", figures)


@cocotb.test()
async def check_backpressure(dut):
    """Products back to back (no source stalls) into a sink that holds ready low half the
    time: with ba = 1 a result can finish every clock, so the output stage must hold every
    result that is still in the pipeline when ready drops."""
    chk, p, rng, b = await _open(dut, sink_stall=0.5)
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
    if params().imc.with_double_buffer:
        return
    chk, p, rng, b = await _open(dut)
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
    chk, p, rng, b = await _open(dut)
    unit = UNITS[chk.unit](p)
    info = await b.csr.fields("INFO")
    assert (1 << info["rows_log2"], info["cols"], info["a_bits"]) == (p.rows, p.cols, p.a_bits)
    w = random_weights(p, rng)
    await b.load_csr(w)
    await b.csr.write("CTRL", a_bits=p.a_bits)
    for bad, cause in ((("CTRL", {"a_bits": 0}), Cause.BAD_ABITS),
                       (("CTRL", {"a_bits": p.a_bits + 1}), Cause.BAD_ABITS),
                       (("WROW", {"row": p.rows}), Cause.BAD_ROW)):
        if bad[0] == "CTRL" and bad[1]["a_bits"] > 15:
            continue
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
    if not params().imc.with_double_buffer:
        return
    chk, p, rng, b = await _open(dut)
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


@dataclass(frozen=True)
class ImcPower:
    """The power workload: ``vectors`` products back to back on fixed random weights.

    ``kind`` selects the activations (:func:`power_activations`): ``"uniform"`` over the whole
    signed/unsigned ``a_bits`` range with a fraction ``zeros`` of exact zeros, or ``"relu"``:
    non-negative values (uniform in 1..max) with a fraction ``zeros`` of zeros.
    """

    imc: ImcParams
    vectors: int = 16
    kind: str = "uniform"
    zeros: float = 0.0
    seed: int = 1


def power_activations(w: ImcPower, rng) -> list[np.ndarray]:
    """The workload's activation vectors (raw ``a_bits`` fields, ``ba = a_bits``)."""
    p = w.imc
    if w.kind == "uniform":
        return [random_activations(p, rng, p.a_bits, zeros=w.zeros) for _ in range(w.vectors)]
    if w.kind == "relu":
        hi = (1 << (p.a_bits - (1 if p.signed_a else 0))) - 1
        out = []
        for _ in range(w.vectors):
            v = rng.integers(1, hi + 1, size=p.rows)
            out.append(np.where(rng.random(p.rows) < w.zeros, 0, v).astype(np.int64))
        return out
    raise ValueError(f"kind must be 'uniform' or 'relu', not {w.kind!r}")


@cocotb.test()
async def power_products(dut):
    """Weights loaded (stream) and CTRL.a_bits = a_bits set outside the window; inside it,
    ``vectors`` activation vectors stream back to back without stalls (ops = MACs). The
    digest of the results lets the power proxy check the gate-level netlist against the RTL."""
    import hashlib

    from tb.common.activity import window_end, window_start

    wl = params()
    p = wl.imc
    rng = np.random.default_rng(wl.seed)
    w = random_weights(p, rng)
    xs = power_activations(wl, rng)
    b = Bench(dut, p)                  # drives every input from time 0 (4-state netlists)
    await start_clock(dut)
    await reset(dut)
    await b.load_stream(w)
    await b.csr.write("CTRL", a_bits=p.a_bits)
    for _ in range(4):
        await RisingEdge(dut.clk)
    window = window_start()
    for x in xs:
        b.send(x)
    got = await b.sink.wait_for(len(xs), timeout_cycles=4 * (p.rows + 10) * len(xs))
    nbytes = -(-b.y_layout.size // 8)
    digest = hashlib.sha1(b"".join(v.to_bytes(nbytes, "little") for v in got)).hexdigest()
    window_end(window, ops=len(xs) * p.rows * p.cols, digest=digest,
               zero_fraction=float(np.mean([np.mean(x == 0) for x in xs])))
    bad = [i for i, (x, y) in enumerate(zip(xs, b.results(), strict=True))
           if not np.array_equal(y, matvec(p, w, x, p.a_bits))]
    assert not bad, f"products {bad[:5]} differ from the model"


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


def _id(p):
    sw, sa = ("s" if p.signed_w else "u"), ("s" if p.signed_a else "u")
    return (f"{p.rows}x{p.cols}w{p.w_bits}{sw}a{p.a_bits}{sa}t{p.tree_stages}"
            f"{'d' if p.with_double_buffer else ''}{'' if p.with_bit_register else 'nb'}"
            f"{'ob' if p.with_out_buffer else ''}{'wr' if p.with_write_register else ''}")


def run_imc(sim, unit, p, testcase, **kw):
    return run(UNITS[unit](p), toplevel=f"{'imc' if unit == 'tile' else 'vn'}_{_id(p)}",
               test_module="tb.test_imc", sim=sim, testcase=testcase,
               params=ImcCheck(p, unit, **kw))


@pytest.mark.parametrize("unit", list(UNITS))
@pytest.mark.parametrize("p", SMALL, ids=_id)
def test_imc_small(sim, unit, p):
    r = run_imc(sim, unit, p, "check_products,check_timing,check_backpressure,"
                "check_write_then_product,check_errors,check_double_buffer")
    assert r.data("products")["products"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("unit", list(UNITS))
def test_imc_default(sim, unit):
    """The default 64 x 16, 8-bit tile (large Verilog: slow to build)."""
    run_imc(sim, unit, ImcParams(), "check_products,check_timing", batches=5, ops=3)


def test_bitserial_model_matches_numpy():
    from sim.imc import matvec_bitserial

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
    from sim.imc_report import keep_memory_netlist
    from sim.power.gates import synthesize
    from tb.common.runner import convert

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
    from sim.imc_report import measure_imc

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

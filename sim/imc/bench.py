"""cocotb driver of the in-memory-compute tile and its baseline: weight loads (stream and CSR),
products against the numpy model, latency/throughput, and the ``power_products`` energy
workload (used by ``make sim``, the IMC report and tb/test_imc.py)."""

from dataclasses import dataclass

import cocotb
import numpy as np
from amaranth.lib import data
from cocotb.triggers import RisingEdge

from hdl.imc import ImcBaseline, ImcParams, ImcTile, register_map, weight_write_layout
from sim.imc.model import matvec, pack_row_words, random_activations, random_weights
from sim.rtl.bench import (
    CLOCK_NS,
    StreamSink,
    StreamSource,
    params,
    record,
    reset,
    seed,
    start_clock,
)
from sim.rtl.csr import CsrMaster

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


async def open_bench(dut, *, stall=0.0, sink_stall=None):
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
    chk, p, rng, b = await open_bench(dut, stall=chk.stall)
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
    chk, p, rng, b = await open_bench(dut)
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

    from sim.rtl.activity import window_end, window_start

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


def unit_id(p):
    sw, sa = ("s" if p.signed_w else "u"), ("s" if p.signed_a else "u")
    return (f"{p.rows}x{p.cols}w{p.w_bits}{sw}a{p.a_bits}{sa}t{p.tree_stages}"
            f"{'d' if p.with_double_buffer else ''}{'' if p.with_bit_register else 'nb'}"
            f"{'ob' if p.with_out_buffer else ''}{'wr' if p.with_write_register else ''}")

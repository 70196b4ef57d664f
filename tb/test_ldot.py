"""Dot-product unit (L-Mul and exact products) against its golden model.

Random vectors of random length (seeded, seed printed by cocotb), named corner vectors, random
stalls on input and output, back-to-back vectors; the throughput test checks one chunk per
clock; the accumulator-window test preloads the fixed-point accumulator (white-box, via the
simulator) to reach wide sums, rounding ties and the window's edges.
"""

from dataclasses import dataclass

import cocotb
import numpy as np
import pytest
from cocotb.triggers import RisingEdge

from hdl.float import E4M3, E5M2
from hdl.ldot import DotParams, DotUnit, chunk_layout
from sim.ldot import dot, fp32_value, pad
from sim.lmul import MODELS, decode, encode, is_inf, is_nan
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
    start_streams,
)


@dataclass(frozen=True)
class DotWorkload:
    """Power-proxy workload: ``vectors`` dot products of ``length`` N(0, 1) elements quantized
    to the format, streamed back to back without stalls (ops = multiply-accumulates)."""
    dot: DotParams
    vectors: int = 16
    length: int = 64
    seed: int = 1


@dataclass(frozen=True)
class DotCheck:
    dot: DotParams
    n_random: int = 40
    max_len: int = 70
    stall: float = 0.3


def corner_vectors(p: DotParams):
    """Named edge cases: (name, a, b) with raw encodings."""
    f, n = p.fmt, p.lanes
    top, one = f.max_finite, f.bias << f.man_bits
    neg = f.sign_mask
    vs = [
        ("single", [one], [one]),
        ("zeros", [0] * n, [0] * n),
        ("negative zeros", [neg] * (n + 1), [0] * (n + 1)),
        ("max*max", [top] * (4 * n), [top] * (4 * n)),
        ("cancel to zero", [top, top | neg] * n, [top] * (2 * n)),
        ("min normal squared", [f.min_normal] * n, [f.min_normal] * n),
        ("big then tiny then -big", [top] + [f.min_normal] * (3 * n) + [top | neg],
         [top] + [f.min_normal + 7] * (3 * n) + [top]),
        ("one NaN", [one] * (n - 1) + [f.canonical_nan], [one] * n),
        # a running fp32 sum would drop the small products (below half its ulp): the exact
        # fixed-point sum keeps them
        ("big, small, -big", [top] * (160 * n) + [one] * (3 * n) + [top | neg] * (160 * n),
         [top] * (160 * n) + [f.min_normal + 1] * (3 * n) + [top] * (160 * n)),
        ("length n+1", [one + 3] * (n + 1), [one | neg] * (n + 1)),
    ]
    if f.has_inf:
        vs += [("inf", [f.inf, one], [one, one]),
               ("+inf and -inf", [f.inf, f.inf | neg], [one, one]),
               ("inf times zero", [f.inf], [0])]
    return vs


def random_vectors(p: DotParams, rng, count, max_len):
    f = p.fmt
    out = []
    for i in range(count):
        length = int(rng.integers(1, max_len + 1))
        if i % 5 == 4:   # raw bit patterns: every encoding, specials included
            a, b = rng.integers(0, 1 << f.width, size=(2, length))
        else:            # typical data: Gaussian values of random scale
            scale = 2.0 ** rng.integers(-4, 5)
            a, b = (encode(f, rng.normal(0, scale, size=length)) for _ in range(2))
        out.append((f"random {i}", a, b))
    return out


def send_vector(src, p, a, b):
    layout = chunk_layout(p)
    a, b = pad(p, a).reshape(-1, p.lanes), pad(p, b).reshape(-1, p.lanes)
    for i in range(len(a)):
        src.send(layout.const({"a": a[i].tolist(), "b": b[i].tolist(),
                               "last": int(i == len(a) - 1)}).as_bits())
    return len(a)


# ------------------------------------------------------------------------------ cocotb side
@cocotb.test()
async def check_vectors(dut):
    check = params()
    p = check.dot
    rng = np.random.default_rng(seed())
    vectors = corner_vectors(p) + random_vectors(p, rng, check.n_random, check.max_len)
    src, sink = await start_streams(dut, stall=check.stall)
    chunks = sum(send_vector(src, p, a, b) for _, a, b in vectors)
    got = await sink.wait_for(len(vectors), timeout_cycles=20 * chunks + 100)
    for _ in range(10):
        await RisingEdge(dut.clk)
    assert len(sink.received) == len(vectors), "results duplicated"
    bad = []
    for (name, a, b), y in zip(vectors, got):
        want = dot(p, a, b)
        if y != want:
            bad.append(f"{name}: got {y:#010x} ({fp32_value(y)}), model {want:#010x} "
                       f"({fp32_value(want)})")
    record("vectors", {"vectors": len(vectors), "chunks": chunks, "mismatches": len(bad)})
    assert not bad, f"{len(bad)} of {len(vectors)} vectors differ: " + "; ".join(bad[:5])


@cocotb.test()
async def check_throughput(dut):
    """No stalls: K chunks in K consecutive cycles, the result LATENCY cycles after the last."""
    p = params().dot
    rng = np.random.default_rng(seed())
    src, sink = await start_streams(dut)
    a, b = (encode(p.fmt, rng.normal(size=16 * p.lanes)) for _ in range(2))
    chunks = send_vector(src, p, a, b)
    await sink.wait_for(1, timeout_cycles=10 * chunks)
    t_in, t_out = src.times, sink.times[0]
    accept_cycles = (t_in[-1] - t_in[0]) / CLOCK_NS + 1
    latency = (t_out - t_in[-1]) / CLOCK_NS
    record("throughput", {"chunks": chunks, "accept_cycles": accept_cycles,
                          "latency": latency})
    assert accept_cycles == chunks, f"{chunks} chunks took {accept_cycles} cycles to accept"
    assert latency == p.LATENCY, f"result {latency} cycles after the last chunk, not {p.LATENCY}"
    assert sink.received == [dot(p, a, b)]


def window_cases(p: DotParams, rng):
    """(name, acc0, a, b): accumulator preloads (units of 2^-frac_bits) with a vector each."""
    f, n, lim = p.fmt, p.lanes, 1 << (p.acc_bits - 1)
    top, neg = f.max_finite, f.sign_mask
    zeros = [0] * n
    cases = [
        ("most negative sum, exactly", -lim, zeros, zeros),
        ("largest positive, then more", lim - 1, [top] * n, [top] * n),
        ("largest positive, then less", lim - 1, [top | neg] * n, [top] * n),
        ("most negative, then less", -lim + 1, [top | neg] * n, [top] * n),
    ]
    if f.has_inf:
        cases.append(("left the window, then inf", lim - 1, [top] * n + [f.inf], [top] * (n + 1)))
    for k in (0, 1, 17, p.acc_bits - 26):     # 25 significant bits: round half to even
        cases += [(f"tie to even down 2^{k}", ((1 << 24) | 1) << k, zeros, zeros),
                  (f"tie to even up 2^{k}", -(((1 << 24) | 3) << k), zeros, zeros)]
    for i in range(12):                       # wide sums: many sticky bits below the ulp
        mag = int(rng.integers(1, lim >> 2)) >> int(rng.integers(0, p.acc_bits - 24))
        a, b = (encode(f, rng.normal(0, 64, size=3 * n)) for _ in range(2))
        cases.append((f"wide {i}", mag if i % 2 else -mag, a, b))
    return cases


@cocotb.test()
async def check_accumulator_window(dut):
    """Preload the fixed-point accumulator; the result must round and flag like the model."""
    p = params().dot
    rng = np.random.default_rng(seed())
    src, sink = await start_streams(dut)
    bad = []
    for name, acc0, a, b in window_cases(p, rng):
        await RisingEdge(dut.clk)
        # white-box: the accumulator register (Amaranth name `acc`), two's complement
        dut.acc.value = acc0 & ((1 << p.acc_bits) - 1)
        count = len(sink.received)
        send_vector(src, p, a, b)
        await sink.wait_for(count + 1, timeout_cycles=100)
        want = dot(p, a, b, acc0=acc0)
        if sink.received[-1] != want:
            bad.append(f"{name} (acc0={acc0}): got {sink.received[-1]:#010x}, "
                       f"model {want:#010x}")
    assert not bad, "; ".join(bad)


@cocotb.test()
async def power_vectors(dut):
    """The :class:`DotWorkload` inside an activity window; the digest of the results lets the
    power proxy check the gate-level netlist against the RTL."""
    import hashlib

    from tb.common.activity import window_end, window_start

    wl = params()
    p = wl.dot
    rng = np.random.default_rng(wl.seed)
    vectors = [tuple(encode(p.fmt, rng.normal(size=wl.length)) for _ in range(2))
               for _ in range(wl.vectors)]
    src = StreamSource(dut, "i")       # inputs driven from time 0 (the netlist is 4-state)
    dut.o__ready.value = 0
    await start_clock(dut)
    await reset(dut)
    sink = StreamSink(dut, "o")
    window = window_start()
    for a, b in vectors:
        send_vector(src, p, a, b)
    got = await sink.wait_for(len(vectors), timeout_cycles=40 * wl.length * wl.vectors)
    digest = hashlib.sha1(b"".join(v.to_bytes(4, "little") for v in got)).hexdigest()
    window_end(window, ops=wl.vectors * wl.length, digest=digest)
    assert got == [dot(p, a, b) for a, b in vectors]


# ------------------------------------------------------------------------------ pytest side
CONFIGS = [DotParams(fmt, lanes=8, kind=kind) for fmt in (E4M3, E5M2)
           for kind in ("lmul", "fpmul")]


@pytest.mark.parametrize("p", CONFIGS, ids=lambda p: p.name)
def test_dot_vectors(sim, p):
    r = run(DotUnit(p), toplevel=p.name, test_module="tb.test_ldot", sim=sim,
            testcase="check_vectors", params=DotCheck(p))
    assert r.data("vectors")["vectors"] > 40


@pytest.mark.parametrize("p", CONFIGS, ids=lambda p: p.name)
def test_dot_throughput_and_window(sim, p):
    run(DotUnit(p), toplevel=p.name, test_module="tb.test_ldot", sim=sim,
        testcase="check_throughput,check_accumulator_window", params=DotCheck(p))


@pytest.mark.parametrize("lanes", [1, 3])
def test_dot_other_lane_counts(lanes):
    """Odd lane counts (unbalanced adder tree) in Amaranth's simulator against the model."""
    from amaranth.sim import Simulator

    p = DotParams(E5M2, lanes=lanes, kind="lmul")
    dut = DotUnit(p)
    rng = np.random.default_rng(11)
    vectors = [(a, b) for _, a, b in corner_vectors(p) + random_vectors(p, rng, 12, 20)]
    layout = chunk_layout(p)
    got = []

    async def bench(ctx):
        ctx.set(dut.o.ready, 1)
        for a, b in vectors:
            a, b = pad(p, a).reshape(-1, lanes), pad(p, b).reshape(-1, lanes)
            for i in range(len(a)):
                ctx.set(dut.i.payload, layout.const({"a": a[i].tolist(), "b": b[i].tolist(),
                                                     "last": i == len(a) - 1}))
                ctx.set(dut.i.valid, 1)
                await ctx.tick()
                if ctx.get(dut.o.valid):
                    got.append(ctx.get(dut.o.payload))
        ctx.set(dut.i.valid, 0)
        for _ in range(p.LATENCY + 1):
            await ctx.tick()
            if ctx.get(dut.o.valid):
                got.append(ctx.get(dut.o.payload))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert got == [dot(p, a, b) for a, b in vectors]


def test_dot_model_against_float64():
    """Independent oracle: every finite product is a multiple of 2^-frac_bits and the sums
    stay far below 2^(53 - frac_bits), so math.fsum of the products (decoded to float64, in
    element order, no chunks) is the exact sum and float32() of it is the one RNE rounding."""
    import math

    rng = np.random.default_rng(7)
    for p in CONFIGS:
        f = p.fmt
        for i in range(300):
            length = int(rng.integers(1, 200))
            a, b = (encode(f, rng.normal(0, 2.0 ** int(rng.integers(-3, 6)), size=length))
                    for _ in range(2))
            if i % 3 == 2:   # large products that cancel around small ones: rounding matters
                big = int(rng.integers(0, 400))
                a = np.concatenate([[f.max_finite] * big, a, [f.max_finite | f.sign_mask] * big])
                b = np.concatenate([[f.max_finite] * big, b, [f.max_finite] * big])
            prod = MODELS[p.kind](f, a, b)
            if (is_nan(f, prod) | is_inf(f, prod)).any():
                continue
            want = np.float32(math.fsum(decode(f, prod).tolist()) + 0.0)   # +0 for zero
            got = fp32_value(dot(p, a, b))
            assert got == want and np.signbit(got) == np.signbit(want), (p.name, i, got, want)

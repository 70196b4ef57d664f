"""Dot-product unit (L-Mul and exact products) against its golden model.

Random vectors of random length (seeded, seed printed by cocotb), named corner vectors, random
stalls on input and output, back-to-back vectors; the throughput test checks one chunk per
clock; the accumulator-window test preloads the fixed-point accumulator (white-box, via the
simulator) to reach wide sums, rounding ties and the window's edges.
"""


import cocotb
import numpy as np
import pytest
from cocotb.triggers import RisingEdge

from hdl.float import E4M3, E5M2
from hdl.ldot import DotParams, DotUnit, chunk_layout
from sim.lmul.dot import dot, fp32_value, pad
from sim.lmul.dot_bench import DotCheck, corner_vectors, random_vectors, send_vector
from sim.lmul.model import MODELS, decode, encode, is_inf, is_nan
from sim.rtl import run
from sim.rtl.bench import (
    params,
    seed,
    start_streams,
)

# ------------------------------------------------------------------------------ cocotb side




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




# ------------------------------------------------------------------------------ pytest side
CONFIGS = [DotParams(fmt, lanes=8, kind=kind) for fmt in (E4M3, E5M2)
           for kind in ("lmul", "fpmul")]


@pytest.mark.parametrize("p", CONFIGS, ids=lambda p: p.name)
def test_dot_vectors(sim, p):
    r = run(DotUnit(p), key=("DotUnit", p), toplevel=p.name, test_module="sim.lmul.dot_bench",
            sim=sim,
            testcase="check_vectors", params=DotCheck(p))
    assert r.data("vectors")["vectors"] > 40


@pytest.mark.parametrize("p", CONFIGS, ids=lambda p: p.name)
def test_dot_throughput_and_window(sim, p):
    run(DotUnit(p), key=("DotUnit", p), toplevel=p.name,
        test_module=["sim.lmul.dot_bench", "tb.test_ldot"], sim=sim,
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

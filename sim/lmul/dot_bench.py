"""cocotb driver of the dot-product units: corner and random vectors with stalls, the
throughput check, and the ``power_vectors`` energy workload (used by ``make sim``, the power
reports and tb/test_ldot.py)."""

from dataclasses import dataclass

import cocotb
import numpy as np
from cocotb.triggers import RisingEdge

from hdl.ldot import DotParams, chunk_layout
from sim.lmul.dot import dot, fp32_value, pad
from sim.lmul.model import encode
from sim.rtl.bench import (
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


@cocotb.test()
async def power_vectors(dut):
    """The :class:`DotWorkload` inside an activity window; the digest of the results lets the
    power proxy check the gate-level netlist against the RTL."""
    import hashlib

    from sim.rtl.activity import window_end, window_start

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

"""cocotb workload of the multiplier energy reports: :class:`sim.lmul.workloads.OperandStream`
operands through a combinational or stream multiplier, one digest per window."""

import hashlib

import cocotb
from cocotb.triggers import FallingEdge, RisingEdge, Timer

from hdl.exports import EXPORTS
from hdl.float import FORMATS
from sim.lmul.workloads import normal_operands
from sim.rtl.activity import window_end, window_start
from sim.rtl.bench import StreamSink, StreamSource, params, reset, start_clock


@cocotb.test()
async def operand_stream(dut):
    """Workload of :class:`sim.lmul.workloads.OperandStream`; records a digest of the
    products in each window so the RTL and gate-level runs can be compared."""
    p = params()
    fmt = FORMATS[p.fmt]
    a, b = normal_operands(fmt, p.n_ops, p.seed)
    pairs = list(zip(a.tolist(), b.tolist(), strict=True))
    if not p.stream:
        # Start from the state the sequence ends in, so every replay does identical work.
        dut.a.value, dut.b.value = pairs[-1]
        await Timer(p.period_ns, "ns")
        for name, repeats in p.windows:
            digest = hashlib.sha1()
            w = window_start(name)
            for _ in range(repeats):
                for x, y in pairs:
                    dut.a.value = x
                    dut.b.value = y
                    await Timer(p.period_ns, "ns")
                    digest.update(dut.y.value.to_unsigned().to_bytes(4, "little"))
            window_end(w, ops=repeats * len(pairs), digest=digest.hexdigest())
        return
    layout = EXPORTS[f"lmul_{p.fmt}_stream"]().i.payload.shape()
    # Inputs are driven from time 0: a 4-state netlist turns an undriven input into x state.
    src = StreamSource(dut, "i")
    dut.o__ready.value = 0
    await start_clock(dut, p.period_ns)
    await reset(dut)
    sink = StreamSink(dut, "o")     # after reset: the outputs are x until the first edge
    await FallingEdge(dut.clk)
    for name, repeats in p.windows:
        first = len(sink.received)
        w = window_start(name)
        for _ in range(repeats):
            for x, y in pairs:
                src.send(layout.const({"a": x, "b": y}).as_bits())
        n = repeats * len(pairs)
        got = await sink.wait_for(first + n, timeout_cycles=4 * n + 100)
        await RisingEdge(dut.clk)
        await FallingEdge(dut.clk)
        digest = hashlib.sha1(b"".join(v.to_bytes(4, "little") for v in got[first:]))
        window_end(w, ops=n, digest=digest.hexdigest())

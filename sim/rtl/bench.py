"""cocotb-side helpers shared by every testbench: parameters, records, clock/reset, streams.

Stream ports follow Amaranth's flattening of ``stream.Signature``: ``<name>__valid``,
``<name>__ready`` and ``<name>__payload``. Handshakes are sampled at the rising edge (the
values the flip-flops see), the convention cocotbext-axi uses.
"""

import base64
import json
import os
import pickle
import random
from collections import deque

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge
from cocotb.utils import get_sim_time

from .runner import PARAMS_ENV

__all__ = ["params", "record", "seed", "start_clock", "reset", "StreamSource", "StreamSink",
           "value", "CLOCK_NS", "CLOCK_ENV", "start_streams"]

#: The clock period of every testbench, ns. The energy engine lengthens it (through the
#: environment of the simulator) when a timing-annotated netlist needs more than 10 ns.
CLOCK_ENV = "PICOJOULE_CLOCK_NS"
CLOCK_NS = int(os.environ.get(CLOCK_ENV, "10"))


def params():
    """The parameters object :func:`sim.rtl.runner.run` was given."""
    blob = os.environ.get(PARAMS_ENV)
    if blob is None:
        raise RuntimeError(f"{PARAMS_ENV} is not set: run this test through sim.rtl.run")
    if blob.startswith("@"):
        with open(blob[1:], "rb") as f:
            return pickle.load(f)
    return pickle.loads(base64.b64decode(blob))


def seed() -> int:
    """The run's random seed (cocotb's, printed in the log): every random stimulus uses it."""
    return cocotb.RANDOM_SEED


def record(name: str, obj) -> None:
    """Leave a JSON record in the run directory for the caller (``SimRun.data(name)``)."""
    with open(f"{name}.json", "w") as f:
        json.dump(obj, f)


def value(handle) -> int:
    return handle.value.to_unsigned()


async def start_clock(dut, period_ns: int = CLOCK_NS):
    """Start ``clk`` low, so its first rising edge comes half a period in: a clock that
    starts high gives flip-flops an edge at time 0, before inputs and initial values have
    settled, and a mapped netlist's flip-flops store X there (its gates then keep the X
    where a reset value feeds back through logic that a 4-state simulator cannot resolve)."""
    Clock(dut.clk, period_ns, unit="ns").start(start_high=False)


async def reset(dut, cycles: int = 2):
    """Synchronous reset (Amaranth's ``rst``) for ``cycles`` clocks, released at the falling
    edge after the last of them (released right after a rising edge, a mapped netlist's
    reset gates could see the new value at that edge: a race the RTL hides because its
    flip-flops' initial values equal their reset values)."""
    dut.rst.value = 1
    await ClockCycles(dut.clk, cycles)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    await RisingEdge(dut.clk)


async def start_streams(dut, *, stall: float = 0.0, source: str = "i", sink: str = "o"):
    """Start the clock, drive a :class:`StreamSource` on ``source`` and a :class:`StreamSink`
    on ``sink`` (so inputs are defined before reset ends), then reset. Returns (src, sink)."""
    await start_clock(dut)
    src = StreamSource(dut, source, stall=stall)
    snk = StreamSink(dut, sink, stall=stall)
    await reset(dut)
    return src, snk


class _StreamEnd:
    """One side of a ``stream.Signature`` port: the handles, the stall chance and timestamps."""

    def __init__(self, dut, name: str, stall: float, rng: random.Random):
        self.clk = dut.clk
        self.valid = getattr(dut, f"{name}__valid")
        self.ready = getattr(dut, f"{name}__ready")
        self.payload = getattr(dut, f"{name}__payload")
        self.stall = stall
        self.rng = rng
        self.times: list[float] = []   # sim time (ns) of each transfer


class StreamSource(_StreamEnd):
    """Drives ``<name>__valid/payload`` from a queue; ``stall`` is the chance of idling a cycle."""

    def __init__(self, dut, name: str, *, stall: float = 0.0, rng: random.Random | None = None):
        super().__init__(dut, name, stall, rng or random.Random(seed()))
        self.queue = deque()
        self.sent = 0
        self._driving = False
        self.valid.value = 0
        self.payload.value = 0
        self._task = cocotb.start_soon(self._run())

    def send(self, word: int) -> None:
        self.queue.append(word)

    @property
    def idle(self) -> bool:
        return not self.queue and not self._driving

    async def _run(self):
        # Track what we drive in Python: a write is not visible to a read in the same step.
        self._driving = False
        while True:
            await RisingEdge(self.clk)
            if self._driving and int(self.ready.value):
                self.sent += 1
                self.times.append(get_sim_time("ns"))
                self._driving = False
            if not self._driving and self.queue and self.rng.random() >= self.stall:
                self.payload.value = self.queue.popleft()
                self._driving = True
            self.valid.value = int(self._driving)


class StreamSink(_StreamEnd):
    """Collects ``<name>__payload`` words; ``stall`` is the chance of holding ready low."""

    def __init__(self, dut, name: str, *, stall: float = 0.0, rng: random.Random | None = None):
        super().__init__(dut, name, stall, rng or random.Random(seed() + 1))
        self.received: list[int] = []
        self.ready.value = int(stall == 0.0)
        self._task = cocotb.start_soon(self._run())

    async def _run(self):
        ready = self.stall == 0.0
        while True:
            await RisingEdge(self.clk)
            if ready and int(self.valid.value):
                self.received.append(self.payload.value.to_unsigned())
                self.times.append(get_sim_time("ns"))
            ready = self.rng.random() >= self.stall
            self.ready.value = int(ready)

    async def wait_for(self, count: int, timeout_cycles: int):
        """Wait until ``count`` words arrived; fail after ``timeout_cycles`` clocks."""
        for _ in range(timeout_cycles):
            if len(self.received) >= count:
                return self.received
            await RisingEdge(self.clk)
        raise AssertionError(f"expected {count} words, got {len(self.received)} after "
                             f"{timeout_cycles} cycles")

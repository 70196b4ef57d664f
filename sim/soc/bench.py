"""cocotb side of every SoC run (``hdl/soc.py``): load, run at full speed, collect.

The loader is ``sim/riscv/bench.py``'s (one loader for the core system and the SoC). Python
never steps the clock: it waits for ``halt`` or the cycle budget with one timer.
With ``loopback`` the UART's ``tx`` is copied to ``rx`` on every edge of ``tx`` (so a
firmware can receive what it sends; Python then wakes once per serial bit, not per clock).
"""

import time
from dataclasses import dataclass, field

import cocotb
from cocotb.triggers import Edge, First, ReadOnly, RisingEdge, Timer

from sim.riscv.bench import load_program, value
from sim.rtl.bench import CLOCK_NS, params, record

__all__ = ["SocJob"]


@dataclass(frozen=True)
class SocJob:
    segments: tuple                       # ((addr, bytes), ...)
    tohost: int
    perf: tuple = ()                      # names of the perf_<name> counters to read
    max_cycles: int = 5_000_000
    loopback: bool = False
    buttons: int = 0
    extra: dict = field(default_factory=dict)


async def _console(dut, out: list):
    # Read the byte at the end of the time step: Icarus may run this callback before the
    # register update of console_data in the same step.
    while True:
        await RisingEdge(dut.console_valid)
        await ReadOnly()
        out.append(value(dut.console_data))


async def _loopback(dut):
    while True:
        await Edge(dut.tx)
        dut.rx.value = dut.tx.value


@cocotb.test()
async def run_soc(dut):
    job: SocJob = params()
    dut.rx.value = 1
    dut.buttons.value = job.buttons
    # The wrapper's clock runs by itself (sim.rtl.runner.free_running).
    await load_program(dut, job)
    console = []
    cocotb.start_soon(_console(dut, console))
    if job.loopback:
        cocotb.start_soon(_loopback(dut))
    t0 = time.perf_counter()
    await First(RisingEdge(dut.halt), Timer(job.max_cycles * CLOCK_NS, unit="ns"))
    await Edge(dut.clk)
    wall = time.perf_counter() - t0
    halted = bool(value(dut.halt))
    cycles = value(dut.cycles)
    record("result", {
        "halted": halted, "tohost": value(dut.tohost_value) if halted else None,
        "cycles": cycles, "instret": value(dut.instret), "last_pc": value(dut.last_pc),
        "console": bytes(console).decode("latin-1"), "wall_s": wall,
        "cycles_per_s": cycles / wall if wall > 0 else 0.0,
        "perf": {n: value(getattr(dut, f"perf_{n}")) for n in job.perf},
        "leds": value(dut.leds),
    })

"""cocotb side of every RTL run of the RISC-V core (``CoreSystem``).

Two modes, chosen by the :class:`RtlJob` the runner passes:

- **run**: load the program through the RAM's load port, release the core and wait for
  ``halt`` (a write to ``tohost``) or ``max_cycles`` with one timer: Python never steps the
  clock, so Verilator runs at full speed. Console bytes are collected on their own edges.
- **lockstep**: the same, but every clock the retire port is compared with the ISS
  (``sim/riscv/iss.py``) executing the same program: every retired instruction must match in
  pc, next pc, instruction, trap, handler entry, rd write, memory access and (when the ISS
  says it read them) source operands.
"""

import time
from dataclasses import dataclass, field

import cocotb
from cocotb.triggers import Edge, FallingEdge, First, ReadOnly, RisingEdge, Timer

from hdl.memory_map import RAM_BASE
from hdl.riscv.core import CoreParams, RvfiSignature
from sim.rtl.bench import CLOCK_NS, params, record


def value(handle) -> int:
    return int(handle.value)

__all__ = ["RtlJob", "COMPARED"]

# Retire fields compared in lockstep (rs*_rdata separately: only registers the ISS read).
COMPARED = ("pc_rdata", "pc_wdata", "insn", "trap", "intr", "rd_addr", "rd_wdata",
            "mem_rmask", "mem_wmask", "mem_rdata", "mem_wdata")


@dataclass(frozen=True)
class RtlJob:
    core: CoreParams
    segments: tuple                     # ((addr, bytes), ...)
    tohost: int
    max_cycles: int = 1_000_000
    lockstep: bool = False
    irq: tuple = ()                     # ((cycle, timer, external), ...) line changes
    ram_size: int = 256 * 1024
    history: int = 12                   # retires shown when lockstep fails
    signature: tuple | None = None      # (begin, end) byte addresses to read back at the end
    trace: bool = False                 # record every retired instruction (Python per clock)
    extra: dict = field(default_factory=dict)


async def load_program(dut, job: RtlJob):
    dut.load_en.value = 1
    dut.irq_timer.value = 0
    dut.irq_external.value = 0
    dut.tohost_adr.value = (job.tohost >> 2) & 0x3FFF_FFFF
    dut.rst.value = 1
    await RisingEdge(dut.clk)
    dut.rst.value = 0
    base = RAM_BASE
    for addr, data in job.segments:
        data = bytes(data) + b"\0" * (-len(data) % 4)
        for i in range(0, len(data), 4):
            word = int.from_bytes(data[i:i + 4], "little")
            if not word:
                continue    # the RAM starts all zeros (no init): .bss and padding cost nothing
            dut.load_adr.value = ((addr + i - base) >> 2) & 0x3FFF_FFFF
            dut.load_dat.value = word
            await RisingEdge(dut.clk)
    dut.load_en.value = 0


async def _console(dut, out: list):
    # Read at the end of the time step: Icarus may run this callback before the register
    # holding the byte has updated in the same step.
    while True:
        await RisingEdge(dut.console_valid)
        await ReadOnly()
        out.append(value(dut.console_data))


async def _irq_schedule(dut, events):
    now = 0
    for cycle, timer, external in sorted(events):
        if cycle > now:
            await Timer((cycle - now) * CLOCK_NS, unit="ns")
            now = cycle
        # Change the lines just after a rising edge, as a register would: never at the
        # falling edge where lockstep samples the retire port.
        await RisingEdge(dut.clk)
        dut.irq_timer.value = int(timer)
        dut.irq_external.value = int(external)


def _rvfi(dut) -> dict:
    return {k: value(getattr(dut, f"rvfi__{k}")) for k in RvfiSignature.FIELDS}


async def _lockstep(dut, job: RtlJob, image_segments):
    from sim.riscv.iss import Iss

    iss = Iss(with_muldiv=job.core.with_muldiv, ram_size=job.ram_size, auto_interrupts=False)
    for addr, data in image_segments:
        iss.load_bytes(addr, bytes(data))
    history = []
    retired = 0
    lines_at_take = (False, False)
    for _ in range(job.max_cycles):
        await FallingEdge(dut.clk)
        if value(dut.halt):
            break
        if value(dut.irq_ack):
            # The interrupt lines the core sampled for the interrupt it takes (the four-stage
            # core decides a clock before it takes it; the last sample before the handler's
            # first retire is the one that counts).
            lines_at_take = (bool(value(dut.irq_timer)), bool(value(dut.irq_external)))
        if not value(dut.rvfi__valid):
            continue
        rtl = _rvfi(dut)
        iss.mtip, iss.meip = bool(value(dut.irq_timer)), bool(value(dut.irq_external))
        if rtl["intr"] and not (history and history[-1][0]["trap"]):
            iss.mtip, iss.meip = lines_at_take
            cause = iss.take_interrupt()
            assert cause is not None, (f"RTL entered a handler at {rtl['pc_rdata']:08x} with "
                                       f"no interrupt pending in the ISS")
        ref = iss.step(csr_rdata=rtl["rd_wdata"]).as_dict()
        history = (history + [(rtl, ref)])[-job.history:]
        diffs = [k for k in COMPARED if rtl[k] != ref[k]]
        if ref["mem_rmask"] or ref["mem_wmask"]:
            diffs += [k for k in ("mem_addr",) if rtl[k] != ref[k]]
        for r in ("rs1", "rs2"):
            if ref[f"{r}_addr"] and (rtl[f"{r}_addr"] != ref[f"{r}_addr"]
                                     or rtl[f"{r}_rdata"] != ref[f"{r}_rdata"]):
                diffs.append(f"{r}_rdata")
        if diffs:
            lines = [f"lockstep mismatch at retire {retired} in {', '.join(diffs)}:"]
            for k in diffs:
                lines.append(f"  {k}: rtl {rtl.get(k, 0):#x}  iss {ref.get(k, 0):#x}")
            lines.append("last retires (rtl / iss):")
            for a, b in history:
                lines.append("  " + " ".join(f"{k}={a[k]:x}" for k in COMPARED[:7]))
                lines.append("  " + " ".join(f"{k}={b[k]:x}" for k in COMPARED[:7]))
            raise AssertionError("\n".join(lines))
        retired += 1
    return retired


@cocotb.test()
async def run_program(dut):
    job: RtlJob = params()
    # The wrapper's clock runs by itself (sim.rtl.runner.free_running).
    await load_program(dut, job)
    console = []
    cocotb.start_soon(_console(dut, console))
    if job.irq:
        cocotb.start_soon(_irq_schedule(dut, job.irq))
    t0 = time.perf_counter()
    checked = None
    trace = []
    if job.lockstep:
        checked = await _lockstep(dut, job, job.segments)
    elif job.trace:
        for _ in range(job.max_cycles):
            await FallingEdge(dut.clk)
            if value(dut.halt):
                break
            if value(dut.rvfi__valid):
                trace.append(_rvfi(dut))
    else:
        await First(RisingEdge(dut.halt), Timer(job.max_cycles * CLOCK_NS, unit="ns"))
    await Edge(dut.clk)
    wall = time.perf_counter() - t0
    halted = bool(value(dut.halt))
    cycles = value(dut.cycles)
    signature = None
    if job.signature:
        # Backdoor read of the RAM array (no clock needed).
        mem = dut.dut.ram.mem
        begin, end = job.signature
        signature = [value(mem[(a - RAM_BASE) >> 2]) for a in range(begin, end, 4)]
    record("result", {
        "halted": halted, "tohost": value(dut.tohost_value) if halted else None,
        "cycles": cycles, "instret": value(dut.instret), "last_pc": value(dut.last_pc),
        "console": bytes(console).decode("latin-1"), "wall_s": wall,
        "cycles_per_s": cycles / wall if wall > 0 else 0.0, "lockstep_retired": checked,
        "signature": signature, "trace": trace,
    })

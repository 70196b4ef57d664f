"""Run a program on the RTL core (``CoreSystem``) through the one runner.

One build per (core parameters, RAM size, simulator) serves every program: the program is
loaded at run time through the RAM's load port and ``tohost`` is a run-time input.
"""

from dataclasses import dataclass

from hdl.riscv.core import CoreParams
from hdl.riscv.system import CoreSystem

__all__ = ["RunRecord", "RtlResult", "run_rtl", "TOPLEVEL"]

TOPLEVEL = "core_system"


@dataclass(frozen=True)
class RunRecord:
    """What every full-speed RTL run reports (``CoreSystem`` here, the SoC in
    ``sim/soc/rtl.py``)."""
    halted: bool
    tohost: int | None
    cycles: int
    instret: int
    last_pc: int
    console: str
    wall_s: float
    cycles_per_s: float

    @property
    def cpi(self) -> float:
        return self.cycles / self.instret if self.instret else float("nan")


@dataclass(frozen=True)
class RtlResult(RunRecord):
    lockstep_retired: int | None = None
    signature: list | None = None
    trace: list | None = None


def run_rtl(segments, tohost: int, *, core: CoreParams | None = None, sim: str = "verilator",
            max_cycles: int = 1_000_000, lockstep: bool = False, irq=(),
            ram_size: int = 256 * 1024, waves: bool | None = None, signature=None,
            trace: bool = False) -> RtlResult:
    """Load ``segments`` (``[(addr, bytes)]``) and run until ``tohost`` is written or
    ``max_cycles`` pass; with ``lockstep`` every retired instruction is checked against the
    ISS (a mismatch raises :class:`sim.rtl.SimFailure` with the retire history).
    ``signature``: (begin, end) addresses read back after the run; ``trace``: record every
    retired instruction's RVFI fields (Python watches every clock, so it is slow)."""
    from sim.riscv.bench import RtlJob
    from sim.rtl import run
    from sim.rtl.runner import convert, free_running

    core = core or CoreParams()
    job = RtlJob(core=core, segments=tuple((a, bytes(d)) for a, d in segments), tohost=tohost,
                 max_cycles=max_cycles, lockstep=lockstep, irq=tuple(irq), ram_size=ram_size,
                 signature=tuple(signature) if signature else None, trace=trace)
    # The clock runs inside the simulator (a free-running wrapper): Python waits for halt.
    text, top, vargs = free_running(convert(CoreSystem(core, ram_size), TOPLEVEL), TOPLEVEL)
    res = run(None, toplevel=top, test_module="sim.riscv.bench", sim=sim, params=job,
              waves=waves, verilog_text=text, verilator_args=vargs if sim == "verilator" else ())
    return RtlResult(**res.data("result"))

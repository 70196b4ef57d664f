"""Run a program on the RTL core (``CoreSystem``) through the one runner.

One build per (core parameters, RAM size, simulator) serves every program: the program is
loaded at run time through the RAM's load port and ``tohost`` is a run-time input.
"""

import functools
import re
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


_ZERO_INIT = re.compile(r"^(\s*)reg \[(\d+):0\] (\w+) \[(\d+):0\];\n\s*initial begin\n"
                        r"(?:\s*\3\[\d+\] = \d+'d0;\n)+\s*end\n", re.MULTILINE)


def _loop_zero_init(text: str) -> str:
    """Amaranth initializes a memory one word per line (13 MB of Verilog for a 2 MiB RAM, and
    minutes of Verilator time); an all-zero initialization becomes one loop."""
    def loop(m):
        ind, msb, name, last = m[1], m[2], m[3], m[4]
        i = f"{name}__init_i"
        return (f"{ind}reg [{msb}:0] {name} [{last}:0];\n{ind}integer {i};\n"
                f"{ind}initial for ({i} = 0; {i} <= {last}; {i} = {i} + 1) {name}[{i}] = 0;\n")
    return _ZERO_INIT.sub(loop, text)


@functools.lru_cache(maxsize=4)
def system_verilog(core: CoreParams, ram_size: int) -> tuple[str, str, list[str]]:
    """(Verilog text, top, Verilator arguments) of ``CoreSystem(core, ram_size)`` in its
    free-running wrapper (the clock runs inside the simulator: Python waits for halt).
    Converting a large RAM takes minutes (its initial contents go through Yosys), so the text
    is kept under ``build/sim/core_system_v/`` per design sources, parameters and RAM size."""
    from sim.flow.toolchain import BUILD, hdl_key, locked
    from sim.rtl.runner import convert, free_running

    cache = BUILD / "sim" / "core_system_v" / f"{core.name}-{ram_size // 1024}k-" \
                                               f"{hdl_key(core, ram_size)}"
    path = cache / f"{TOPLEVEL}.v"
    with locked(cache):
        if path.exists():
            text = path.read_text()
        else:
            text = _loop_zero_init(convert(CoreSystem(core, ram_size), TOPLEVEL))
            tmp = path.with_suffix(".tmp")
            tmp.write_text(text)
            tmp.replace(path)
    return free_running(text, TOPLEVEL)


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

    core = core or CoreParams()
    job = RtlJob(core=core, segments=tuple((a, bytes(d)) for a, d in segments), tohost=tohost,
                 max_cycles=max_cycles, lockstep=lockstep, irq=tuple(irq), ram_size=ram_size,
                 signature=tuple(signature) if signature else None, trace=trace)
    text, top, vargs = system_verilog(core, ram_size)
    res = run(None, toplevel=top, test_module="sim.riscv.bench", sim=sim, params=job,
              waves=waves, verilog_text=text, verilator_args=vargs if sim == "verilator" else ())
    return RtlResult(**res.data("result"))

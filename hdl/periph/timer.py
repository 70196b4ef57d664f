# Ref: RISC-V Privileged Architecture 20211203, 3.2.1 (mtime/mtimecmp, MTIP).
"""Machine timer register block (``hdl/memory_map.py`` ``TIMER_REGS``)."""

from amaranth import Module, Signal
from amaranth.lib.wiring import Out

from ..csr import CsrBlock, read_registers
from ..memory_map import TIMER_REGS

__all__ = ["Timer"]


class Timer(CsrBlock):
    """Machine timer: ``mtime`` counts clocks from reset, ``irq = mtime >= mtimecmp``, from a
    register (one clock after the condition, so the 64-bit compare's carry chain ends at a
    flip-flop instead of running into the core's interrupt logic: it was the UP5K SoC's
    critical path); ``mtimecmp`` resets to all ones (no interrupt). Both are writable 32 bits
    at a time.

    Members
    -------
    csr : In(CsrSignature)
    irq : Out(1)     to the core's ``irq_timer`` (MTIP)
    """

    def __init__(self):
        super().__init__(TIMER_REGS, {"irq": Out(1)})

    def elaborate(self, platform):
        m = Module()
        csr = self.csr
        mtime = Signal(64)
        cmp = Signal(64, init=(1 << 64) - 1)
        m.d.sync += [mtime.eq(mtime + 1), self.irq.eq(mtime >= cmp)]
        regs = {"mtime": mtime[:32], "mtimeh": mtime[32:], "mtimecmp": cmp[:32],
                "mtimecmph": cmp[32:]}
        for name, part in regs.items():
            with m.If(csr.w_stb & self.at(name)):
                m.d.sync += part.eq(csr.w_data)
        read_registers(m, csr, self.regs, regs)
        return m

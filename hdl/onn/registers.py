"""The oscillator array's CSR registers (``hdl/csr.py`` map): offsets and fields, written once
here for the RTL, the drivers, the firmware header and the docs."""

from ..csr import Field, Register, RegisterMap
from .params import SCHED_FRAC, OnnParams, weights_per_word

__all__ = ["register_map"]


def register_map(p: OnnParams) -> RegisterMap:
    """The array's registers (word offsets). Cell-indexed registers (PHASE, OMEGA, SINCOS,
    SINCOS_INC) act on cell ``CELL.cell``; PHASE and OMEGA accesses (read or write) and
    SINCOS_INC reads then advance it (n-1 wraps to 0), so a burst of reads streams the cells'
    readout after one CELL write. Couplings are written column by column: JADDR selects
    column ``j`` and group ``g``; a JDATA write sets ``J[g*k + f][j]`` from field ``w<f>``
    (``k`` = :func:`weights_per_word`) and advances to the next group (then the next column).
    The diagonal is stored as 0.
    Builds ``with_hold`` add HOLD (one bit per cell, written like the other run-time registers:
    refused while running)."""
    k = weights_per_word(p)
    return RegisterMap("onn", (
        Register("INFO", (Field("n", 13), Field("phase_bits", 6), Field("weight_bits", 5),
                          Field("sin_bits", 5), Field("parallel", 1), Field("pbit", 1),
                          Field("hold", 1)),
                 access="r",
                 doc="build-time parameters"),
        Register("CONFIG", (Field("mode", 2, "Mode: 0 ONN, 1 OIM, 2 KURAMOTO, 3 PBIT"),
                            Field("shift", 5, "update shift, 0..max_shift"),
                            Field("until_stable", 1, "stop after an epoch that changed nothing"),
                            Field("momentum", 3, "velocity leak m, 0..max_momentum (0: off)")),
                 doc="run-time mode; a bad mode (PBIT without with_pbit), shift or "
                     "momentum is refused (error)"),
        Register("KS_MAX", (Field("value", p.ks_bits),), doc="SHIL ks ceiling (2^-4 units)"),
        Register("KS_INC", (Field("value", p.ks_bits + SCHED_FRAC),),
                 doc="ks increment per epoch (2^-12 units)"),
        Register("NOISE_AMP", (Field("value", p.noise_bits),), doc="initial noise amplitude"),
        Register("NOISE_DEC", (Field("value", p.noise_bits + SCHED_FRAC),),
                 doc="amplitude decrement per epoch (2^-8 units)"),
        Register("SEED", (Field("value", 32),), doc="LFSR seed (cells scramble it)"),
        Register("EPOCHS", (Field("count", 32),), doc="epochs run by START / RESUME"),
        Register("CMD", (Field("start", 1), Field("resume", 1), Field("keep_phases", 1),
                         Field("clear", 1)), access="w",
                 doc="start: seed LFSRs, draw phases (unless keep_phases), t = 0, run EPOCHS; "
                     "resume: run EPOCHS more from the present state; clear: clear errors"),
        Register("STATUS", (Field("busy", 1), Field("done", 1), Field("stable", 1),
                            Field("error", 1), Field("cause", 6)), access="r",
                 doc="done: the last run finished; stable: its last epoch changed no phase; "
                     "error/cause sticky (Cause bits)"),
        Register("EPOCH", (Field("t", 32),), access="r", doc="epochs since START"),
        Register("CYCLES", (Field("count", 32),), access="r",
                 doc="clocks spent busy since START (saturating)"),
        Register("CELL", (Field("cell", 16),), doc="cell of PHASE / OMEGA / SINCOS / SINCOS_INC"),
        Register("PHASE", (Field("phase", p.phase_bits),),
                 doc="phase of cell CELL, then CELL+1 (while running, one clock earlier)"),
        Register("OMEGA", (Field("omega", p.omega_bits),),
                 doc="Kuramoto natural frequency (signed) of cell CELL, then CELL+1"),
        Register("SINCOS", (Field("sin", p.sin_bits), Field("cos", p.sin_bits)), access="r",
                 doc="SIN and COS of cell CELL's phase (signed; while running, of the "
                     "phase one clock earlier)"),
        Register("SPINS", (Field("bits", 32),), access="r", count=-(-p.n // 32),
                 doc="spin bit of cells 32w..32w+31 (1: phase nearer pi)"),
        Register("JADDR", (Field("col", 16), Field("group", 16)),
                 doc="coupling column j and group of the next JDATA"),
        Register("JDATA", tuple(Field(f"w{f}", p.weight_bits) for f in range(k)), access="w",
                 doc=f"J[g*{k}+f][j] = w<f> (signed), then advance group/column"),
        Register("SINCOS_INC", (Field("sin", p.sin_bits), Field("cos", p.sin_bits)),
                 access="r",
                 doc="SINCOS of cell CELL, then CELL+1: after one CELL write, reads "
                     "return consecutive cells (back to back, one per clock)"),
    ) + ((
        Register("HOLD", (Field("bits", 32),), count=-(-p.n // 32),
                 doc="hold bit of cells 32w..32w+31 (1: the array never moves the cell's "
                     "phase; builds with_hold)"),
    ) if p.with_hold else ()))

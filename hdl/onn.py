# Ref: T. Wang, J. Roychowdhury, "OIM: Oscillator-Based Ising Machines", UCNC 2019 (ks ramp,
#      SHIL); M. Abernot et al., "Digital Implementation of Oscillatory Neural Network for Image
#      Recognition Applications", Front. Neurosci. 2021 (square-wave ONN, serialized coupling);
#      K. Y. Camsari et al., "Stochastic p-Bits for Invertible Logic", Phys. Rev. X 7, 031014,
#      2017 (p-bits: the PBIT mode's sequential noisy sign updates).
"""Oscillator-cell array: parameters, modes and tables (definitions only; the RTL is not built).

``n`` cells, each a ``phase_bits``-bit phase register (a digitally controlled oscillator: a turn
is ``2**phase_bits`` counts). Signed ``weight_bits``-bit couplings ``J[i][j]`` live in a coupling
memory; the diagonal is never used (cell i skips j = i). One update epoch accumulates, in one
accumulator per cell, ``sum_j J[i][j] * f(theta_j - theta_i)`` over the other cells: serialized,
one ``j`` per clock (``n`` clocks, area linear in ``n``), or all at once (``with_parallel``).
Phases are double-buffered: every cell reads the old phases during an epoch and all cells switch
to their new phases together at its end.

Run-time modes (:class:`Mode`):

- ``ONN`` associative memory: square-wave oscillators with period ``2**onn_phase_bits`` ticks;
  each tick the weighted sum of the others' outputs is formed and the cell's next output is its
  sign; the new phase is the first rising edge of that sign wave.
- ``OIM`` Ising machine: ``theta_i += rnd((sum_j J_ij SIN[theta_j - theta_i] - ks(t)
  SIN[2 theta_i] + eta_i) >> shift)``.
- ``KURAMOTO``: ``theta_i += rnd((omega_i + sum_j K_ij SIN[theta_j - theta_i] + eta_i) >>
  shift)``; readout of ``SIN[theta_i]`` and ``COS[theta_i]``.
- ``PBIT`` (builds ``with_pbit``): annealed sequential spin updates (a probabilistic-bit Ising
  machine on the same cells): each cell in turn sets its phase to 0 or pi by the sign of its
  local field ``A sum_j J_ij s_j`` plus its noise; the fields are kept up to date as spins flip
  (not double-buffered), so an epoch is ``n`` single-spin updates like one sweep of simulated
  annealing.

The integer equations, the LFSR and the schedules are specified in ``docs/onn.md`` and
implemented bit for bit by the golden model ``sim/onn/model.py``; this file holds everything
both the model and the RTL need to agree on: widths, the sine table, the LFSR polynomial, the
schedule fixed-point format.
"""

from dataclasses import dataclass

from amaranth.lib import enum
from amaranth.utils import ceil_log2

__all__ = ["Mode", "OnnParams", "RunConfig", "sin_table", "LFSR_BITS", "LFSR_TAPS",
           "NOISE_SAMPLE_BITS", "SCHED_FRAC", "KS_FRAC", "SEED_MUL", "MAX_MOMENTUM", "lfsr_seed"]

# 32-bit Galois LFSR, right-shifting: if the bit shifted out is 1, the state is XORed with the
# tap mask. x^32 + x^22 + x^2 + x + 1 is primitive (period 2^32 - 1; checked in
# tb/test_onn_model.py), so any non-zero seed visits every non-zero state.
LFSR_BITS = 32
LFSR_TAPS = 0x80200003
# A noise sample is the low NOISE_SAMPLE_BITS of the LFSR state, read as two's complement.
NOISE_SAMPLE_BITS = 16
# ks and noise-amplitude ramps are accumulators with SCHED_FRAC fractional bits (docs/onn.md).
SCHED_FRAC = 8
# ks is in units of 2^-KS_FRAC: the SHIL term is (ks * SIN[2 theta]) >> KS_FRAC (floor).
KS_FRAC = 4
# Per-cell seed scrambler: cell i's LFSR starts at seed ^ ((i + 1) * SEED_MUL mod 2^32) (a
# constant per cell, so no multiplier in hardware); a zero result is replaced by 1.
SEED_MUL = 0x9E3779B9
# CONFIG.momentum is a 3-bit field: momentum 1 - 2^-m for m = 1..7.
MAX_MOMENTUM = 7


def lfsr_seed(seed: int, cell: int) -> int:
    """Initial LFSR state of ``cell`` for the run-time ``seed`` (a 32-bit register)."""
    s = (seed ^ ((cell + 1) * SEED_MUL)) & 0xFFFFFFFF
    return s or 1


class Mode(enum.Enum, shape=2):
    ONN = 0        # associative memory (square waves, sign of the weighted sum)
    OIM = 1        # Ising machine / Max-Cut (sine coupling, SHIL ks, annealed noise)
    KURAMOTO = 2   # Euler-stepped Kuramoto with natural frequencies omega_i
    PBIT = 3       # sequential annealed sign updates (probabilistic bits; builds with_pbit)


@dataclass(frozen=True)
class OnnParams:
    """Build-time parameters of the oscillator array (shared by RTL, model and tests).

    n               cells (and coupling-memory rows/columns)
    phase_bits      phase register width; a turn is 2**phase_bits counts
    lut_bits        sine-table address width: the top lut_bits of a phase index the table
    sin_bits        signed sine-table entry width; amplitude 2**(sin_bits-1) - 1
    weight_bits     signed coupling width
    onn_phase_bits  ONN square-wave phase resolution: period 2**onn_phase_bits ticks; an ONN
                    phase is the top onn_phase_bits of the phase register
    ks_bits         unsigned SHIL-strength register width (ks_max, units of 2**-KS_FRAC)
    noise_bits      unsigned noise-amplitude register width
    omega_bits      signed natural-frequency register width (Kuramoto)
    lfsr_steps      LFSR steps per cell per epoch (and before the initial phase draw)
    max_shift       largest run-time update shift
    max_momentum    largest run-time momentum m (OIM / Kuramoto; 0: no velocity registers):
                    each cell keeps a velocity v_i <- v_i - (v_i >> m) + x_i and steps its
                    phase by rnd(v_i >> shift) (a heavy-ball update, momentum 1 - 2**-m)
    with_parallel   all j accumulated in one clock (adder tree per cell) instead of n clocks
    with_pbit       the PBIT mode (serial builds only): the per-slot spin decision (an n-way
                    select of the field and noise, one adder) and the field updates
    fanout_cells    cells served by one copy of each broadcast control register (pipeline
                    strobes, mode, shift, seed, theta_j, the shared multiplier operand): a
                    layout choice that bounds those nets' fanout; no effect on any result
    """
    n: int = 1024
    phase_bits: int = 12
    lut_bits: int = 8
    sin_bits: int = 8
    weight_bits: int = 5
    onn_phase_bits: int = 4
    ks_bits: int = 16
    noise_bits: int = 16
    omega_bits: int = 16
    lfsr_steps: int = 16
    max_shift: int = 15
    max_momentum: int = 0
    with_parallel: bool = False
    with_pbit: bool = False
    fanout_cells: int = 8

    def __post_init__(self):
        def check(name, ok, rule):
            value = getattr(self, name)
            if not (isinstance(value, int) and not isinstance(value, bool) and ok(value)):
                raise ValueError(f"{name} must be {rule}, not {value!r}")
        check("n", lambda v: 2 <= v <= 4096, "an integer in 2..4096")
        check("phase_bits", lambda v: 4 <= v <= LFSR_BITS, f"an integer in 4..{LFSR_BITS}")
        check("lut_bits", lambda v: 2 <= v <= self.phase_bits,
              f"an integer in 2..phase_bits={self.phase_bits}")
        check("sin_bits", lambda v: 3 <= v <= 16, "an integer in 3..16")
        check("weight_bits", lambda v: 2 <= v <= 16, "an integer in 2..16")
        check("onn_phase_bits", lambda v: 1 <= v <= min(self.phase_bits, 8),
              f"an integer in 1..{min(self.phase_bits, 8)} (phase_bits, at most 8)")
        check("ks_bits", lambda v: 1 <= v <= 16, "an integer in 1..16")
        check("noise_bits", lambda v: 1 <= v <= NOISE_SAMPLE_BITS,
              f"an integer in 1..{NOISE_SAMPLE_BITS}")
        check("omega_bits", lambda v: 2 <= v <= 32, "an integer in 2..32")
        check("lfsr_steps", lambda v: 1 <= v <= 64, "an integer in 1..64")
        check("max_shift", lambda v: 0 <= v <= 31, "an integer in 0..31")
        check("max_momentum", lambda v: 0 <= v <= MAX_MOMENTUM, f"an integer in 0..{MAX_MOMENTUM}")
        check("fanout_cells", lambda v: 1 <= v <= 4096, "an integer in 1..4096")
        for name in ("with_parallel", "with_pbit"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a bool, not {getattr(self, name)!r}")
        if self.with_pbit and self.with_parallel:
            raise ValueError("with_pbit needs a serial build (with_parallel=False)")

    # ---- derived widths (the RTL sizes its registers from these)
    @property
    def sin_amp(self) -> int:
        """Largest sine-table entry: 2**(sin_bits-1) - 1 (the table is symmetric)."""
        return (1 << (self.sin_bits - 1)) - 1

    @property
    def weight_range(self) -> tuple[int, int]:
        return -(1 << (self.weight_bits - 1)), (1 << (self.weight_bits - 1)) - 1

    @property
    def onn_ticks(self) -> int:
        return 1 << self.onn_phase_bits

    @property
    def acc_bits(self) -> int:
        """Signed width holding any ``sum_j J_ij * SIN[.]`` or ``sum_j J_ij * (+-1)``."""
        most = (1 << (self.weight_bits - 1)) * max(self.sin_amp, 1) * (self.n - 1)
        return most.bit_length() + 1

    @property
    def update_bits(self) -> int:
        """Signed width of the pre-shift update ``x`` (acc + omega - ks*SIN2 + eta + rnd)."""
        most = ((1 << (self.acc_bits - 1)) + (1 << (self.omega_bits - 1))
                + (((1 << self.ks_bits) - 1) * self.sin_amp >> KS_FRAC)
                + (1 << self.noise_bits)
                + (1 << self.max_shift))
        return most.bit_length() + 1

    @property
    def vel_bits(self) -> int:
        """Signed width of a cell's velocity and of its update ``x`` with momentum: ``|v| <=
        2**m (max|x| + 1)`` for the force ``x`` (``update_bits``), so ``max_momentum`` more bits."""
        return self.update_bits + self.max_momentum

    @property
    def addr_bits(self) -> int:
        return ceil_log2(self.n)

    def accumulate_cycles(self, mode: Mode) -> int:
        """Clocks spent accumulating couplings in one epoch (the RTL adds its fixed overhead);
        PBIT: ``n`` spin-update slots."""
        per_pass = 1 if self.with_parallel else self.n
        return per_pass * (self.onn_ticks if Mode(mode) == Mode.ONN else 1)

    @property
    def name(self) -> str:
        par = "_par" if self.with_parallel else ""
        par += f"_m{self.max_momentum}" if self.max_momentum else ""
        par += "_pb" if self.with_pbit else ""
        fan = f"_f{self.fanout_cells}" if self.fanout_cells != OnnParams.fanout_cells else ""
        return f"onn_{self.n}_p{self.phase_bits}w{self.weight_bits}s{self.sin_bits}{par}{fan}"


@dataclass(frozen=True)
class RunConfig:
    """Run-time registers of one run (written by the host before START).

    mode           :class:`Mode`
    shift          update right shift (rounded: x + 2**(shift-1) before the shift)
    ks_max, ks_inc SHIL strength ks(t) = min(ks_max, (t * ks_inc) >> SCHED_FRAC), in units of
                   2**-KS_FRAC (OIM only)
    noise_amp      initial noise amplitude a0
    noise_dec      amplitude a(t) = max(0, a0 - ((t * noise_dec) >> SCHED_FRAC))
    seed           32-bit LFSR seed (cell i starts at :func:`lfsr_seed`)
    momentum       m in 0..max_momentum (OIM / Kuramoto): the phase steps by rnd(v >> shift),
                   v <- v - (v >> m) + x; 0: v <- x (no memory, the plain Euler step)

    PBIT reads only noise_amp, noise_dec and seed (and runs on builds ``with_pbit``).
    """
    mode: Mode = Mode.OIM
    shift: int = 0
    ks_max: int = 0
    ks_inc: int = 0
    noise_amp: int = 0
    noise_dec: int = 0
    seed: int = 1
    momentum: int = 0

    def check(self, p: OnnParams) -> "RunConfig":
        """Validate against the build-time widths; returns self (one-line ValueError)."""
        def need(name, ok, rule):
            value = getattr(self, name)
            if not (isinstance(value, int) and not isinstance(value, bool) and ok(value)):
                raise ValueError(f"{name} must be {rule}, not {value!r}")
        if Mode(self.mode) == Mode.PBIT and not p.with_pbit:
            raise ValueError("mode PBIT needs an array built with_pbit=True")
        need("shift", lambda v: 0 <= v <= p.max_shift, f"in 0..max_shift={p.max_shift}")
        need("ks_max", lambda v: 0 <= v < (1 << p.ks_bits), f"in 0..{(1 << p.ks_bits) - 1}")
        need("ks_inc", lambda v: 0 <= v < (1 << (p.ks_bits + SCHED_FRAC)),
             f"in 0..{(1 << (p.ks_bits + SCHED_FRAC)) - 1}")
        need("noise_amp", lambda v: 0 <= v < (1 << p.noise_bits),
             f"in 0..{(1 << p.noise_bits) - 1}")
        need("noise_dec", lambda v: 0 <= v < (1 << (p.noise_bits + SCHED_FRAC)),
             f"in 0..{(1 << (p.noise_bits + SCHED_FRAC)) - 1}")
        need("seed", lambda v: 0 <= v <= 0xFFFFFFFF, "a 32-bit unsigned integer")
        need("momentum", lambda v: 0 <= v <= p.max_momentum,
             f"in 0..max_momentum={p.max_momentum}")
        return self


def sin_table(p: OnnParams) -> list[int]:
    """The ``2**lut_bits``-entry sine table: ``SIN[k] = round(A sin(2 pi k / 2**lut_bits))``,
    ``A = sin_amp``, rounded half away from zero.

    Built from the first quarter so the symmetries are exact (``SIN[-k] = -SIN[k]``,
    ``SIN[k + half] = -SIN[k]``, ``SIN[half - k] = SIN[k]``); the RTL may store only the quarter
    ``SIN[0..2**(lut_bits-2)]`` and fold the address.
    """
    import math

    size = 1 << p.lut_bits
    q = size // 4
    quarter = [int(math.floor(p.sin_amp * math.sin(2 * math.pi * k / size) + 0.5))
               for k in range(q + 1)]
    quarter[q] = p.sin_amp   # sin(pi/2) exactly, whatever the float rounding
    table = []
    for k in range(size):
        seg, r = divmod(k, q)
        if seg == 0:
            table.append(quarter[r])
        elif seg == 1:
            table.append(quarter[q - r])
        elif seg == 2:
            table.append(-quarter[r])
        else:
            table.append(-quarter[q - r])
    return table


# ==============================================================================================
# RTL
# ==============================================================================================
from amaranth import Array, Cat, Const, Module, Mux, Signal, signed, unsigned  # noqa: E402
from amaranth.lib import memory, wiring  # noqa: E402
from amaranth.lib.wiring import In  # noqa: E402

from .csr import CsrSignature, Field, Register, RegisterMap  # noqa: E402
from .imc import ImcTile  # noqa: E402

#: Signal-name marker of register copies that synthesis must keep apart (shared with the IMC
#: tile: ``sim.synth.KEEP_COPIES`` keeps every flip-flop driving a wire named ``*_copy*``).
COPY_MARKER = ImcTile.COPY_MARKER

__all__ += ["OnnArray", "register_map", "Cause", "EPOCH_OVERHEAD", "lfsr_advance_matrix",
            "weights_per_word", "epoch_cycles", "start_cycles", "fill_cycles"]

#: Clocks an epoch spends besides issuing its ``accumulate_cycles``: after the last issue L,
#: the four stages behind it (sine, coupling term, accumulate, ONN tick evaluation: L+1..L+4)
#: overlapped with SIN[2 theta] (L+2), ks SIN2 (L+3) and the bias (L+4), then the step (L+5) and
#: the phase write (L+6).
EPOCH_OVERHEAD = 6


def epoch_cycles(p: OnnParams, mode) -> int:
    """Clocks per epoch of an :class:`OnnArray` in ``mode``: the issue steps
    (``p.accumulate_cycles(mode)``) plus :data:`EPOCH_OVERHEAD`."""
    return p.accumulate_cycles(mode) + EPOCH_OVERHEAD


def start_cycles(keep_phases: bool) -> int:
    """Busy clocks of START before the first epoch: seeding, then the phase draw (skipped
    with CMD.keep_phases)."""
    return 1 if keep_phases else 2


def fill_cycles(p: OnnParams, mode) -> int:
    """Busy clocks every START or RESUME in ``mode`` adds before its first epoch (after
    :func:`start_cycles`): PBIT first computes every cell's local field from the present spins,
    a pass as long as an epoch; the other modes need none."""
    return epoch_cycles(p, mode) if Mode(mode) == Mode.PBIT else 0


class Cause:
    """STATUS.cause bits (sticky until CMD.clear). The offending write is not applied."""
    BAD_MODE = 1    # CONFIG.mode is not a Mode (the build cannot run it)
    BAD_SHIFT = 2   # CONFIG.shift > max_shift
    BAD_CELL = 4    # CELL.cell >= n
    BAD_JADDR = 8   # JADDR.col >= n or JADDR.group >= groups
    BUSY = 16       # a configuration, state or coupling write (or START/RESUME) while running
    BAD_MOMENTUM = 32  # CONFIG.momentum > max_momentum


def weights_per_word(p: OnnParams) -> int:
    """Couplings packed in one JDATA word (a group of consecutive cells of one column)."""
    return min(32 // p.weight_bits, p.n)


def register_map(p: OnnParams) -> RegisterMap:
    """The array's registers (word offsets). Cell-indexed registers (PHASE, OMEGA, SINCOS) act
    on cell ``CELL.cell``; PHASE and OMEGA accesses (read or write) then advance it (n-1 wraps
    to 0). Couplings are written column by column: JADDR selects column ``j`` and group ``g``;
    a JDATA write sets ``J[g*k + f][j]`` from field ``w<f>`` (``k`` = :func:`weights_per_word`)
    and advances to the next group (then the next column). The diagonal is stored as 0."""
    k = weights_per_word(p)
    return RegisterMap("onn", (
        Register("INFO", (Field("n", 13), Field("phase_bits", 6), Field("weight_bits", 5),
                          Field("sin_bits", 5), Field("parallel", 1), Field("pbit", 1)),
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
        Register("CELL", (Field("cell", 16),), doc="cell of PHASE / OMEGA / SINCOS"),
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
    ))


def lfsr_advance_matrix(steps: int) -> list[list[int]]:
    """For the Galois LFSR advanced ``steps`` steps: output bit b is the XOR of the input bits
    in row b (the map is linear over GF(2))."""
    bits = [{b} for b in range(LFSR_BITS)]          # current bit b as a set of input bits
    for _ in range(steps):
        out = bits[0]
        nxt = [bits[b + 1] if b + 1 < LFSR_BITS else set() for b in range(LFSR_BITS)]
        for b in range(LFSR_BITS):
            if (LFSR_TAPS >> b) & 1:
                nxt[b] = nxt[b] ^ out
        bits = nxt
    return [sorted(s) for s in bits]


def _xor_all(values):
    acc = Const(0, 1)
    for v in values:
        acc = acc ^ v
    return acc


def _sin_rom(p: OnnParams, m: Module, k, name: str, *, with_magnitude=False):
    """``SIN[k]`` from the quarter table (folded address), as a signed ``sin_bits`` signal;
    ``with_magnitude``: ``(SIN[k], |SIN[k]|, SIN[k] < 0 or -0)`` (the sign is the table's half
    bit, so it may be set for a zero entry)."""
    table = sin_table(p)
    q = 1 << (p.lut_bits - 2)
    # q + 1 entries used (idx <= q); padded to the index range so the lookup is a full case
    quarter = Array(Const(v, p.sin_bits - 1)
                    for v in table[:q + 1] + [0] * ((1 << (p.lut_bits - 1)) - q - 1))
    r = k[:p.lut_bits - 2]
    seg = k[p.lut_bits - 2:]
    idx = Signal(p.lut_bits - 1, name=f"{name}_idx")
    m.d.comb += idx.eq(Mux(seg[0], q - r, r))
    mag = Signal(p.sin_bits - 1, name=f"{name}_mag")
    m.d.comb += mag.eq(quarter[idx])
    out = Signal(signed(p.sin_bits), name=name)
    m.d.comb += out.eq(Mux(seg[1], -mag, mag))
    if with_magnitude:
        return out, mag, seg[1]
    return out


def _spin(m: Module, theta, name: str):
    """The spin bit of a phase: 1 when it is nearer pi than 0 (``theta + T/4`` has its top bit
    set; ``sim.onn.model.spins``)."""
    q = Signal(len(theta), name=name)
    m.d.comb += q.eq(theta + (1 << (len(theta) - 2)))
    return q[-1]


_STATES = ['IDLE', 'SEED', 'DRAW', 'NEXT', 'ISSUE', 'DRAIN']


class OnnArray(wiring.Component):
    """Oscillator-cell array (ONN / OIM / Kuramoto / PBIT), bit-exact with ``sim.onn.model.epoch``.

    ``n`` cells each hold a ``phase_bits`` phase, a 32-bit LFSR and a signed ``omega_bits``
    natural frequency. Couplings live in a coupling memory (``amaranth.lib.memory``: ``n``
    words, word ``j`` = column ``J[.][j]``, one ``weight_bits`` lane per cell) or, with
    ``with_parallel``, in flip-flops. Everything is programmed through the CSR bus
    (:func:`register_map`).

    An epoch issues ``params.accumulate_cycles(mode)`` steps: serial builds read column ``j``
    each clock and broadcast ``theta_j``; every cell adds ``J_ij SIN[(theta_j - theta_i) >>
    (PB-LB)]`` (ONN: ``+-J_ij``, once per tick) into its accumulator; parallel builds sum all
    ``j`` with an adder tree per cell in one step. Phases are double-buffered: the old phases
    are read for the whole epoch and every cell switches in the same clock at its end.
    ``epoch_cycles(mode) = accumulate_cycles(mode) + EPOCH_OVERHEAD``; START spends
    :attr:`start_cycles` (seed, and draw unless keep_phases) before the first epoch.

    Reset: idle, no error, all registers 0 except SEED = 1; the coupling memory is not cleared.

    Members
    -------
    csr : In(CsrSignature(register_map(params).addr_width))
    """

    def __init__(self, params: OnnParams):
        if not isinstance(params, OnnParams):
            raise TypeError(f"params must be OnnParams, not {params!r}")
        self.params = params
        self.regs = register_map(params)
        super().__init__({"csr": In(CsrSignature(self.regs.addr_width))})

    def epoch_cycles(self, mode) -> int:
        """Clocks per epoch in ``mode`` (issue steps plus the fixed pipeline overhead)."""
        return epoch_cycles(self.params, mode)

    @property
    def LATENCY(self) -> int:
        """Clocks per OIM epoch (the figure most users want); see :meth:`epoch_cycles`."""
        return self.epoch_cycles(Mode.OIM)

    def start_cycles(self, keep_phases: bool) -> int:
        """Busy clocks of START before the first epoch: seeding, then the phase draw."""
        return start_cycles(keep_phases)

    def elaborate(self, platform):
        m = Module()
        p, regs = self.params, self.regs
        n, PB, LB, WB = p.n, p.phase_bits, p.lut_bits, p.weight_bits
        drop = PB - LB
        odrop = PB - p.onn_phase_bits
        P = p.onn_ticks
        k = weights_per_word(p)
        groups = -(-n // k)

        # ---- run-time registers
        mode = Signal(2, init=Mode.OIM.value)
        shift = Signal(range(p.max_shift + 1))
        until_stable = Signal()
        # CONFIG.momentum: a register only in builds with velocity registers (0 otherwise)
        momentum = Signal(3) if p.max_momentum else Const(0, 3)
        ks_max = Signal(p.ks_bits)
        ks_inc = Signal(p.ks_bits + SCHED_FRAC)
        a0 = Signal(p.noise_bits)
        a_dec = Signal(p.noise_bits + SCHED_FRAC)
        seed = Signal(32, init=1)
        epochs = Signal(32)
        cause = Signal(6)
        done = Signal()
        stable = Signal()
        t = Signal(32)
        cycles = Signal(32)
        cell = Signal(range(n))
        jcol = Signal(range(n))
        jgroup = Signal(range(groups))
        busy = Signal()

        # ---- copies of the broadcast registers, one per group of fanout_cells cells
        # Every cell reads the pipeline strobes, the mode, the shift, theta_j and the shared
        # multiplier operand, most of them in tens of LUTs; with one register each, at n = 64
        # a strobe drove ~2,000 LUT inputs spread over the whole array (the 85F routing stall,
        # docs/onn.md). Cell i reads copy i // fanout_cells instead. A copy is loaded in the
        # same clock and from the same value as the register it stands for, so it equals that
        # register in every clock (no latency, bit-exact). Names carry COPY_MARKER: the FPGA
        # flows keep such flip-flops apart (Yosys would merge identical ones back into one).
        G = p.fanout_cells
        n_copies = -(-n // G)

        def copy_regs(name, shape=1, init=0):
            return [Signal(shape, init=init, name=f"{name}{COPY_MARKER}{c}")
                    for c in range(n_copies)]

        def local(name, value, shape=1, *, orig=None):
            """Per-cell view (a list indexed by cell) of registers loaded with ``value`` every
            clock; with a single group and an existing register ``orig``, that register."""
            if n_copies == 1 and orig is not None:
                return [orig] * n
            regs_ = copy_regs(name, shape)
            m.d.sync += [r.eq(value) for r in regs_]
            return [regs_[i // G] for i in range(n)]

        # run-time registers the cells read, written together with their originals
        mode_c = copy_regs("mode", 2, init=Mode.OIM.value)
        shift_c = copy_regs("shift", range(p.max_shift + 1))
        seed_c = copy_regs("seed", 32, init=1)
        mom_c = copy_regs("mom", 3) if p.max_momentum else []

        # ---- per-cell state
        theta = [Signal(PB, name=f"theta{i}") for i in range(n)]
        lfsr = [Signal(LFSR_BITS, name=f"lfsr{i}") for i in range(n)]
        omega = [Signal(signed(p.omega_bits), name=f"omega{i}") for i in range(n)]

        # ---- schedules: ks(t) = min(ks_max, ks_acc >> 8); a(t) = max(0, a0 - (dec_acc >> 8))
        ks_acc = Signal(p.ks_bits + SCHED_FRAC + 1)
        dec_acc = Signal(p.noise_bits + SCHED_FRAC + 1)
        ks_hi = ks_acc[SCHED_FRAC:]
        dec_hi = dec_acc[SCHED_FRAC:]
        ks_t = Signal(p.ks_bits)
        a_t = Signal(p.noise_bits)
        m.d.comb += [ks_t.eq(Mux(ks_hi >= ks_max, ks_max, ks_hi)),
                     a_t.eq(Mux(dec_hi >= a0, 0, a0 - dec_hi))]

        # ---- coupling storage and its write port (CSR JDATA)
        bus = self.csr
        wr, addr, wdata = bus.w_stb, bus.addr, bus.w_data

        def at(name, index=0):
            return addr == regs.offset(name, index)

        jd = regs["JDATA"].layout
        fields = [wdata[jd[f"w{f}"].offset:jd[f"w{f}"].offset + WB] for f in range(k)]
        j_we = Signal()
        col_hot = Signal(n)
        m.d.comb += col_hot.eq(Const(1, n) << jcol)
        if p.with_parallel:
            J = [[Signal(signed(WB), name=f"j{i}_{j}") if i != j else None for j in range(n)]
                 for i in range(n)]
            for i in range(n):
                for j in range(n):
                    if i != j:
                        with m.If(j_we & (jgroup == i // k) & col_hot[j]):
                            m.d.sync += J[i][j].eq(fields[i % k])
        else:
            m.submodules.jmem = jmem = memory.Memory(shape=unsigned(n * WB), depth=n, init=[])
            wp = jmem.write_port(granularity=WB)
            rp = jmem.read_port()
            m.d.comb += [wp.addr.eq(jcol),
                         wp.data.eq(Cat(Mux(col_hot[i], 0, fields[i % k]) for i in range(n)))]
            m.d.comb += wp.en.eq(Cat(j_we & (jgroup == i // k) for i in range(n)))

        # ---- issue counters and the pipeline behind them
        onn = Signal()
        m.d.comb += onn.eq(mode == Mode.ONN)
        PBIT = p.with_pbit
        # PBIT: a run (START / RESUME) first fills every accumulator with its cell's local field
        # (one pass of n issues, from 0, no noise); then each epoch's issue j is cell j's slot
        fill = Signal() if PBIT else Const(0)
        fill_next = Signal()
        m.d.comb += fill_next.eq(fill)
        if PBIT:
            m.d.sync += fill.eq(fill_next)
        j = Signal(range(n))
        tick = Signal(range(P))
        issue = Signal()          # an accumulation step is issued this clock
        first_issue = Signal()    # ... and it is the epoch's first (the LFSRs advance)
        last_j = (j == n - 1) if not p.with_parallel else Const(1)
        last_issue = Signal()
        m.d.comb += last_issue.eq(issue & last_j & (~onn | (tick == P - 1)))
        with m.If(issue):
            if not p.with_parallel:
                m.d.sync += j.eq(Mux(last_j, 0, j + 1))
            with m.If(last_j):
                m.d.sync += tick.eq(Mux(last_issue, 0, tick + 1))

        # Update strobes, counted from the last issue L (the DRAIN state): SIN[2 theta_i] into
        # the sine register (L+2, the sine tables being free), ks(t) SIN2 (L+3), the bias
        # (L+4), x and the step (L+5), the phase write (L+6). One register between each, so no
        # clock holds more than one adder or table (the routed critical paths, docs/onn.md).
        # The strobes are flip-flops (a one-hot chain started by the last issue), so the
        # selects they drive in every cell come straight from a register.
        u_chain = Signal(6)         # bit k-1: clock L+k
        m.d.sync += u_chain.eq(Cat(last_issue, u_chain[:-1]))
        u_sin2, u_shil, u_bias, u_step, u_write = (u_chain[k] for k in range(1, 6))

        # Flags travel with each issued step: s<k> is the step issued k clocks ago.
        # s1: theta_j and the sine of the phase difference; s2: the coupling column (memory
        # read data) times the registered sine; s3: accumulate; s4: ONN tick evaluation.
        stages = [(Signal(name=f"s{k}_valid"), Signal(name=f"s{k}_first"),
                   Signal(name=f"s{k}_last"), Signal(range(P), name=f"s{k}_tick"))
                  for k in range(1, 5)]
        src = (issue, issue & (j == 0), issue & last_j, tick)
        for dst in stages:
            m.d.sync += [a.eq(b) for a, b in zip(dst, src)]
            src = dst
        ((s1_valid, s1_first, s1_last, s1_tick), (s2_valid, s2_first, s2_last, s2_tick),
         (s3_valid, s3_first, s3_last, s3_tick), (s4_valid, s4_first, s4_last, s4_tick)) = stages

        # what the cells read of the control: each group's copies
        c_s1_valid = local("s1_valid", issue, orig=s1_valid)
        c_s1_tick = local("s1_tick", tick, range(P), orig=s1_tick)
        c_s2_valid = local("s2_valid", s1_valid, orig=s2_valid)
        c_s3_valid = local("s3_valid", s2_valid, orig=s3_valid)
        c_s3_first = local("s3_first", s2_first, orig=s3_first)
        c_s4_valid = local("s4_valid", s3_valid, orig=s4_valid)
        c_s4_last = local("s4_last", s3_last, orig=s4_last)
        c_s4_tick = local("s4_tick", s3_tick, range(P), orig=s4_tick)
        c_u_sin2, c_u_shil, c_u_bias, c_u_step, c_u_write = (
            local(name, u_chain[k - 1], orig=u_chain[k])
            for k, name in enumerate(("u_sin2", "u_shil", "u_bias", "u_step", "u_write"), 1))
        c_onn = [Signal(name=f"onn_c{c}") for c in range(n_copies)]
        c_kur = [Signal(name=f"kur_c{c}") for c in range(n_copies)]
        c_pb = [Signal(name=f"pbit_c{c}") for c in range(n_copies)]
        for c in range(n_copies):
            m.d.comb += [c_onn[c].eq(mode_c[c] == Mode.ONN),
                         c_kur[c].eq(mode_c[c] == Mode.KURAMOTO),
                         c_pb[c].eq((mode_c[c] == Mode.PBIT) if PBIT else 0)]
        c_onn = [c_onn[i // G] for i in range(n)]
        c_kur = [c_kur[i // G] for i in range(n)]
        c_pb = [c_pb[i // G] for i in range(n)]
        if PBIT:        # the fill flag travels with each issue (s1, s2, s3)
            s1_fill, s2_fill = Signal(), Signal()
            m.d.sync += [s1_fill.eq(fill), s2_fill.eq(s1_fill)]
            c_s1_fill = local("s1_fill", fill, orig=s1_fill)
            c_s3_fill = local("s3_fill", s2_fill)
        c_shift = [shift_c[i // G] for i in range(n)]
        c_seed = [seed_c[i // G] for i in range(n)]

        def square(q_j, tk):
            # o_j(t) = +1 while (t - q_j) mod P < P/2
            d = Signal(p.onn_phase_bits)
            m.d.comb += d.eq(tk - q_j)
            return ~d[-1]

        # the per-cell sine register: SIN[2 theta_i] (signed) at u_sin2; during the issues
        # the coupling factor in sign-magnitude (serial builds): |SIN[theta_j - theta_i]| in
        # s2_sin and its sign in s2_sneg (ONN: the square wave of cell j, magnitude 1).
        # Sign-magnitude keeps the multiplier's upper operand bits at zero for the J_ij SIN
        # products (n of the n + 2 products per epoch): two's-complement operands sign-extend
        # over the whole 17 x 16 multiplier and switch all of it (docs/onn.md, energy).
        # (PBIT: the spin factor A = sin_amp in the fill pass, 2A for a flip)
        s2_sin = [Signal(signed(p.sin_bits + PBIT), name=f"s2_sin{i}") for i in range(n)]
        if not p.with_parallel:
            most_term = (1 << (WB - 1)) * max(p.sin_amp, 1) << PBIT
            # s3: |J_ij SIN| and its sign; the accumulator applies the sign
            s3_term = [Signal(most_term.bit_length(), name=f"s3_term{i}") for i in range(n)]
            s3_neg = Signal(n)
            s2_sneg = Signal(n)
            # theta_j, one copy per group (the table lookup behind it is per cell)
            c_s1_thj = local("s1_thj", Array(theta)[j], PB)
            s1_j = Signal(range(n))
            m.d.sync += s1_j.eq(j)
            # the memory is read one clock late, so its data meets the sine register in s2
            m.d.comb += [rp.addr.eq(s1_j), rp.en.eq(s1_valid)]
            s2_col = [rp.data[i * WB:(i + 1) * WB].as_signed() for i in range(n)]
            s1_o, s1_neg = {}, {}
            for i in range(0, n, G):
                s1_o[i // G] = square(c_s1_thj[i][odrop:], c_s1_tick[i])
                if PBIT:
                    s1_neg[i // G] = _spin(m, c_s1_thj[i], f"s1_spin{i // G}")
            for i in range(n):
                d = Signal(PB, name=f"d{i}")
                u2 = c_u_sin2[i]
                m.d.comb += d.eq(Mux(u2, theta[i] << 1, c_s1_thj[i] - theta[i]))
                sv, smag, sneg = _sin_rom(p, m, d[drop:], f"sin{i}", with_magnitude=True)
                factor, sign = Mux(c_onn[i], 1, smag), sneg
                if PBIT:
                    factor = Mux(c_pb[i], Mux(c_s1_fill[i], p.sin_amp, 2 * p.sin_amp), factor)
                    sign = Mux(c_pb[i], s1_neg[i // G], sneg)
                with m.If(c_s1_valid[i] | u2):
                    m.d.sync += [s2_sin[i].eq(Mux(u2, sv, factor)),
                                 s2_sneg[i].eq(Mux(c_onn[i], ~s1_o[i // G], sign))]
        else:
            s3_term = [Signal(signed(p.acc_bits), name=f"s3_term{i}") for i in range(n)]
            for i in range(n):
                terms = []
                for jj in range(n):
                    if jj == i:
                        continue
                    d = Signal(PB, name=f"d{i}_{jj}")
                    m.d.comb += d.eq(theta[jj] - theta[i])
                    sv = _sin_rom(p, m, d[drop:], f"sin{i}_{jj}")
                    o = square(theta[jj][odrop:], c_s1_tick[i])
                    terms.append(Mux(c_onn[i], Mux(o, J[i][jj], -J[i][jj]), J[i][jj] * sv))
                # the tree sees the phases of the s1 clock: in parallel builds theta is stable
                # during the whole accumulation, so s1 and the issue clock agree
                s2_total = Signal(signed(p.acc_bits), name=f"s2_total{i}")
                with m.If(c_s1_valid[i]):
                    m.d.sync += s2_total.eq(_tree(terms) if terms else 0)
                with m.If(c_s2_valid[i]):
                    m.d.sync += s3_term[i].eq(s2_total)
                d2 = Signal(PB, name=f"d2_{i}")
                m.d.comb += d2.eq(theta[i] << 1)
                sin2 = _sin_rom(p, m, d2[drop:], f"sin2_{i}")
                with m.If(c_u_sin2[i]):
                    m.d.sync += s2_sin[i].eq(sin2)

        # noise of this epoch: eta_i = (r_i * a(t)) >> 15, r_i from the LFSR advanced at the
        # first issue, registered in the clock after it; every accumulation (each ONN tick)
        # starts from eta_i, so S_i (ONN) and the x_i (OIM, Kuramoto) need no adder of their
        # own. One multiplier per cell serves all three products, in different clocks: r_i *
        # a(t) (the clock after the first issue: s2 holds no step then), the coupling term
        # J_ij * SIN (s2 of every step; serial builds) and ks(t) * SIN[2 theta_i] (u_shil, after
        # the last step left s2). One DSP per cell on ECP5 instead of two.
        acc_shape = signed(max(p.acc_bits, p.noise_bits + 1) + 1)
        acc = [Signal(acc_shape, name=f"acc{i}") for i in range(n)]
        eta = [Signal(signed(p.noise_bits + 1), name=f"eta{i}") for i in range(n)]
        shil = [Signal(signed(p.ks_bits + p.sin_bits + 1), name=f"shil{i}") for i in range(n)]
        # with momentum the update x = force + leak + half and the velocity need vel_bits
        MOM = p.max_momentum > 0
        xw = p.vel_bits + 1 if MOM else p.update_bits
        bias = [Signal(signed(xw), name=f"bias{i}") for i in range(n)]
        # lk_i: what the bias adds besides -shil / omega: half (+1 for ~shil) and, with
        # momentum, the leaked velocity v_i - (v_i >> m); registered from the velocity (below)
        lk = [Signal(signed(p.vel_bits + 1), name=f"lk{i}") for i in range(n)] if MOM else None
        s1_first_epoch = local("s1_first_epoch", first_issue)
        # the multiplier takes the per-epoch operands (s1_first_epoch or u_shil): one register
        # drives the select in every cell
        mul_per_epoch = local("mul_per_epoch", first_issue | u_sin2)
        # the shared factor, registered: a(t) in the clock after the first issue (r_i a(t)),
        # ks(t) in every other (ks(t) SIN2 at u_shil). The schedules change only at the phase
        # write (and START), so the register costs no clock; it keeps the schedule compares
        # (ks_acc >= ks_max, dec_acc >= a0) out of the multiplier's clock, where they were the
        # routed critical path on the 85F (docs/onn.md).
        pe_bits = max(p.noise_bits, p.ks_bits)
        per_epoch = local("per_epoch", Mux(first_issue, a_t, ks_t), pe_bits)
        # -shil + half = ~shil + (half + 1): the +1 goes into the constant (one per group), so
        # the bias is one adder per cell
        half_c, half_g = {}, {}
        for c in range(n_copies):
            half = half_g[c] = Signal(p.max_shift + 1, name=f"half_c{c}")
            half_c[c] = Signal(p.max_shift + 2, name=f"half1_c{c}")
            m.d.comb += [half.eq((Const(1, p.max_shift + 2) << shift_c[c]) >> 1),
                         half_c[c].eq(half + ~c_kur[c * G])]
        # PBIT: the decision of slot j in s2, from acc_j + eta_j (acc_j then holds every flip up
        # to slot j - 2: slot j - 1's lands in this clock's s3, so cell j misses only the flip of
        # the cell just before it); the new spin is written to theta_j at once and, if it
        # flipped, every cell adds 2 A J_ij s_j in s3. Accumulators are not reset per epoch.
        p_changed = Signal()            # a PBIT slot of this epoch wrote a new phase
        if PBIT:
            s2_j = Signal(range(n))
            m.d.sync += s2_j.eq(s1_j)
            slot = Signal()
            m.d.comb += slot.eq(s2_valid & (mode == Mode.PBIT) & ~s2_fill)
            th_j = Signal(PB)
            own_neg = Signal()
            field = Signal(signed(acc_shape.width + 1))
            new_neg = Signal()
            m.d.comb += [th_j.eq(Array(theta)[s2_j]), own_neg.eq(_spin(m, th_j, "s2_own")),
                         field.eq(Array(acc)[s2_j] + Array(eta)[s2_j]),
                         new_neg.eq(Mux(field > 0, 0, Mux(field < 0, 1, own_neg)))]
            # s3 holds a slot whose spin did not flip: nothing to add
            c_skip = local("s3_skip", slot & (new_neg == own_neg))
            new_phase = Signal(PB)
            m.d.comb += new_phase.eq(new_neg << (PB - 1))
            with m.If(first_issue):
                m.d.sync += p_changed.eq(0)
            with m.If(slot & (new_phase != th_j)):
                m.d.sync += p_changed.eq(1)
            s2_sign = [Mux(slot, new_neg, s2_sneg[i]) for i in range(n)]
        else:
            s2_sign = s2_sneg if not p.with_parallel else None
        for i in range(n):
            add = c_s3_valid[i] & ~c_skip[i] if PBIT else c_s3_valid[i]
            with m.If(add):
                # PBIT: from 0 at the fill's first step, never from eta
                first = c_s3_first[i] & ~(c_pb[i] & ~c_s3_fill[i]) if PBIT else c_s3_first[i]
                base = Mux(first, Mux(c_pb[i], 0, eta[i]) if PBIT else eta[i], acc[i])
                if p.with_parallel:
                    m.d.sync += acc[i].eq(base + s3_term[i])
                else:
                    # base + (-1)^neg |term| = base + (term ^ neg...neg) + neg: one carry chain,
                    # the + neg entering as the carry of a constant-1 bit below the sum
                    neg = s3_neg[i]
                    x = Signal(len(acc[i]), name=f"s3_x{i}")
                    m.d.comb += x.eq(s3_term[i] ^ neg.replicate(len(acc[i])))
                    m.d.sync += acc[i].eq((Cat(Const(1, 1), base) + Cat(neg, x))[1:])
            r = lfsr[i][:NOISE_SAMPLE_BITS].as_signed()
            if PBIT:
                # PBIT: two samples, the low and high halves of the state (r + r_hi, 17 bits);
                # the other modes r + r, so eta = (r2 * a) >> 16 serves both
                r2 = Signal(signed(NOISE_SAMPLE_BITS + 1), name=f"noise_r2_{i}")
                m.d.comb += r2.eq(r + Mux(c_pb[i], lfsr[i][NOISE_SAMPLE_BITS:].as_signed(), r))
                r = r2
            mul_a = Signal(signed(max(pe_bits + 1, WB)), name=f"mul_a{i}")
            mul_b = Signal(signed(max(len(r), len(s2_sin[i]))), name=f"mul_b{i}")
            prod = Signal(signed(len(mul_a) + len(mul_b)), name=f"prod{i}")
            if p.with_parallel:
                m.d.comb += mul_a.eq(per_epoch[i])
            else:
                jneg = s2_col[i][-1]
                jmag = Signal(WB, name=f"s2_jmag{i}")      # |J_ij| (-2**(WB-1) fits too)
                # two's-complement negation as logic, not a carry chain: below the lowest set
                # bit keep, above it invert
                m.d.comb += jmag.eq(Cat(s2_col[i][b] ^ (jneg & s2_col[i][:b].any())
                                        for b in range(WB)))
                m.d.comb += mul_a.eq(Mux(mul_per_epoch[i], per_epoch[i], jmag))
                with m.If(c_s2_valid[i]):
                    m.d.sync += [s3_term[i].eq(prod), s3_neg[i].eq(jneg ^ s2_sign[i])]
            m.d.comb += [mul_b.eq(Mux(s1_first_epoch[i], r, s2_sin[i])),
                         prod.eq(mul_a * mul_b)]
            with m.If(s1_first_epoch[i]):
                m.d.sync += eta[i].eq(prod >> (NOISE_SAMPLE_BITS - 1 + PBIT))
            with m.If(c_u_shil[i]):
                m.d.sync += shil[i].eq(prod >> KS_FRAC)
            with m.If(c_u_bias[i]):
                m.d.sync += bias[i].eq(Mux(c_kur[i], omega[i], ~shil[i])
                                       + (lk[i] if MOM else half_c[i // G]))

        # ONN tick evaluation (s4): y(t) = S > 0, or o_i(t) on a tie (S = acc, eta included);
        # track the first rising edge of y over t = 1..P-1, and y(0) / y(P-1) for a rising edge
        # at t = 0
        y_first = Signal(n)
        y_prev = Signal(n)
        found = Signal(n)
        q_found = [Signal(p.onn_phase_bits, name=f"qf{i}") for i in range(n)]
        for i in range(n):
            own = square(theta[i][odrop:], c_s4_tick[i])
            y = Signal(name=f"y{i}")
            m.d.comb += y.eq((acc[i] > 0) | ((acc[i] == 0) & own))
            with m.If(c_s4_valid[i] & c_s4_last[i]):
                m.d.sync += y_prev[i].eq(y)
                with m.If(c_s4_tick[i] == 0):
                    m.d.sync += [y_first[i].eq(y), found[i].eq(0)]
                with m.Elif(y & ~y_prev[i] & ~found[i]):
                    m.d.sync += [found[i].eq(1), q_found[i].eq(c_s4_tick[i])]

        # update: u_step registers the step (OIM / Kuramoto: rnd(x) >> shift; ONN: the new
        # q); u_write adds it (or, ONN, writes q) into every phase at once
        changed = Signal(n)
        x_of = []
        new_theta = [Signal(PB, name=f"new_theta{i}") for i in range(n)]
        for i in range(n):
            x = Signal(signed(xw), name=f"x{i}")
            m.d.comb += x.eq(acc[i] + bias[i])
            x_of.append(x)
            rise0 = y_first[i] & ~y_prev[i]
            q_new = Mux(rise0, 0, Mux(found[i], q_found[i], theta[i][odrop:]))
            step = Signal(PB, name=f"step{i}")
            with m.If(c_u_step[i]):
                m.d.sync += step.eq(Mux(c_onn[i], q_new, x >> c_shift[i]))
            q_theta = Signal(PB, name=f"q_theta{i}")
            m.d.comb += q_theta.eq(step[:p.onn_phase_bits] << odrop)
            m.d.comb += [new_theta[i].eq(Mux(c_onn[i], q_theta, theta[i] + step)),
                         changed[i].eq(Mux(c_onn[i], q_theta != theta[i], step.any()))]

        # ---- control FSM
        remaining = Signal(32)
        keep = Signal()
        cmd = regs["CMD"].layout
        c_start = wdata[cmd["start"].offset]
        c_resume = wdata[cmd["resume"].offset]
        c_keep = wdata[cmd["keep_phases"].offset]
        c_clear = wdata[cmd["clear"].offset]
        with m.If(busy & ~cycles.all()):
            m.d.sync += cycles.eq(cycles + 1)

        any_change = Signal()
        m.d.comb += any_change.eq(Mux(mode == Mode.PBIT, p_changed, changed.any()) if PBIT
                                  else changed.any())

        def finish_epoch():
            m.d.sync += [t.eq(t + 1), stable.eq(~any_change)]
            m.d.comb += remaining_next.eq(remaining - 1)
            with m.If(ks_hi < ks_max):
                m.d.sync += ks_acc.eq(ks_acc + ks_inc)
            with m.If(dec_hi < a0):
                m.d.sync += dec_acc.eq(dec_acc + a_dec)

        # Control states, one If per state rather than a Switch: Yosys writes a Switch as a case
        # statement per assigned signal listing only some states (Verilator CASEINCOMPLETE).
        # Per-cell registers are written from strobes outside, once per cell. The state and
        # the epoch count are written through their next values, so the per-cell LFSR strobes
        # can be registered (one copy per group) from the next state: SEED, DRAW, and the LFSR
        # advance (DRAW, or NEXT with epochs left: the epoch's first issue).
        S = _STATES.index
        state = Signal(range(len(_STATES)))
        state_next = Signal.like(state)
        remaining_next = Signal.like(remaining)
        m.d.comb += [state_next.eq(state), remaining_next.eq(remaining)]
        m.d.sync += [state.eq(state_next), remaining.eq(remaining_next)]
        do_seed = local("do_seed", state_next == S("SEED"))
        do_draw = local("do_draw", state_next == S("DRAW"))
        do_advance = local("do_advance", (state_next == S("DRAW"))
                           | ((state_next == S("NEXT")) & remaining_next.any() & ~fill_next))
        for i in range(n):
            with m.If(do_seed[i]):
                s = c_seed[i] ^ Const(((i + 1) * SEED_MUL) & 0xFFFFFFFF, 32)
                m.d.sync += lfsr[i].eq(Mux(s == 0, 1, s))
            with m.Elif(do_advance[i]):
                nxt = Signal(LFSR_BITS, name=f"lfsr_next{i}")
                m.d.comb += nxt.eq(_advance(lfsr[i], p.lfsr_steps))
                m.d.sync += lfsr[i].eq(nxt)
                with m.If(do_draw[i]):
                    m.d.sync += theta[i].eq(nxt[:PB])
            with m.If(c_u_write[i] & ~c_pb[i]):
                m.d.sync += theta[i].eq(new_theta[i])
            if PBIT:
                with m.If(slot & (s2_j == i)):
                    m.d.sync += theta[i].eq(new_phase)
        if MOM:
            # Velocity (OIM / Kuramoto): v = x - half at u_write (x = force + leak + half is
            # still on the adder then: acc and bias change again only in the next epoch's s3
            # and u_bias), and lk = v - (v >> m) + half (+1) is registered in the clock after,
            # long before the next epoch's u_bias (n + 6 clocks later). START clears v; ONN
            # epochs leave it. With m = 0 the leak is 0, so v = force. Two adders in each of
            # these clocks, but no build that carries them is timing-critical yet.
            for i in range(n):
                c = i // G
                vel = Signal(signed(p.vel_bits), name=f"vel{i}")
                with m.If(do_seed[i]):
                    m.d.sync += vel.eq(0)
                with m.Elif(c_u_write[i] & ~c_onn[i] & ~c_pb[i]):
                    m.d.sync += vel.eq(x_of[i] - half_g[c])
                m.d.sync += lk[i].eq(Mux(mom_c[c].any(), vel - (vel >> mom_c[c]), 0)
                                     + half_c[c])
        with m.If(state == S("IDLE")):
            with m.If(wr & at("CMD") & c_start):
                m.d.sync += [busy.eq(1), done.eq(0), stable.eq(0), keep.eq(c_keep),
                             t.eq(0), cycles.eq(0), ks_acc.eq(0), dec_acc.eq(0)]
                m.d.comb += [remaining_next.eq(epochs), state_next.eq(S("SEED"))]
                if PBIT:
                    m.d.comb += fill_next.eq(mode == Mode.PBIT)
            with m.Elif(wr & at("CMD") & c_resume):
                m.d.sync += [busy.eq(1), done.eq(0)]
                m.d.comb += [remaining_next.eq(epochs), state_next.eq(S("NEXT"))]
                if PBIT:
                    m.d.comb += fill_next.eq(mode == Mode.PBIT)
        with m.If(state == S("SEED")):
            with m.If(keep):
                m.d.comb += state_next.eq(S("NEXT"))
            with m.Else():
                m.d.comb += state_next.eq(S("DRAW"))
        with m.If(state == S("DRAW")):
            m.d.comb += state_next.eq(S("NEXT"))
        with m.If(state == S("NEXT")):
            # the epoch's first issue (chained from the phase write without a spare clock)
            with m.If(remaining == 0):
                m.d.sync += [busy.eq(0), done.eq(1)]
                m.d.comb += state_next.eq(S("IDLE"))
            with m.Else():
                m.d.comb += [issue.eq(1), first_issue.eq(~fill)]
                m.d.comb += state_next.eq(S("ISSUE"))
                with m.If(last_issue):
                    m.d.comb += state_next.eq(S("DRAIN"))
        with m.If(state == S("ISSUE")):
            m.d.comb += issue.eq(1)
            with m.If(last_issue):
                m.d.comb += state_next.eq(S("DRAIN"))
        with m.If(state == S("DRAIN")):
            with m.If(u_write & fill):      # the PBIT fill pass: no epoch, none counted
                m.d.comb += [fill_next.eq(0), state_next.eq(S("NEXT"))]
            with m.Elif(u_write):
                finish_epoch()
                with m.If((remaining == 1) | (until_stable & ~any_change)):
                    m.d.sync += [busy.eq(0), done.eq(1)]
                    m.d.comb += state_next.eq(S("IDLE"))
                with m.Else():
                    m.d.comb += state_next.eq(S("NEXT"))

        # ---- CSR writes
        errs = Signal(6)
        m.d.comb += errs.eq(0)
        cell_d = Signal.like(cell)          # CELL's next value
        m.d.comb += cell_d.eq(cell)

        def fld(reg, name):
            f = regs[reg].layout[name]
            return wdata[f.offset:f.offset + f.width]

        with m.If(wr):
            with m.If(at("CMD")):
                with m.If((c_start | c_resume) & busy):
                    m.d.comb += errs.eq(Cause.BUSY)
                with m.If(c_clear):
                    m.d.sync += cause.eq(0)
            with m.Elif(busy & (at("CONFIG") | at("KS_MAX") | at("KS_INC") | at("NOISE_AMP")
                                | at("NOISE_DEC") | at("SEED") | at("EPOCHS") | at("PHASE")
                                | at("OMEGA") | at("JDATA"))):
                m.d.comb += errs.eq(Cause.BUSY)
            with m.Elif(at("CONFIG")):
                mv = fld("CONFIG", "mode")
                sv = fld("CONFIG", "shift")
                kv = fld("CONFIG", "momentum")
                bad_mode = (mv == Mode.PBIT) if not p.with_pbit else Const(0)
                bad_shift = sv > p.max_shift
                bad_mom = kv > p.max_momentum
                with m.If(bad_mode | bad_shift | bad_mom):
                    m.d.comb += errs.eq(Mux(bad_mode, Cause.BAD_MODE, 0)
                                        | Mux(bad_shift, Cause.BAD_SHIFT, 0)
                                        | Mux(bad_mom, Cause.BAD_MOMENTUM, 0))
                with m.Else():
                    m.d.sync += [mode.eq(mv), shift.eq(sv), *(c.eq(mv) for c in mode_c),
                                 *(c.eq(sv) for c in shift_c),
                                 *([momentum.eq(kv)] if p.max_momentum else []),
                                 *(c.eq(kv) for c in mom_c),
                                 until_stable.eq(fld("CONFIG", "until_stable"))]
            with m.Elif(at("KS_MAX")):
                m.d.sync += ks_max.eq(fld("KS_MAX", "value"))
            with m.Elif(at("KS_INC")):
                m.d.sync += ks_inc.eq(fld("KS_INC", "value"))
            with m.Elif(at("NOISE_AMP")):
                m.d.sync += a0.eq(fld("NOISE_AMP", "value"))
            with m.Elif(at("NOISE_DEC")):
                m.d.sync += a_dec.eq(fld("NOISE_DEC", "value"))
            with m.Elif(at("SEED")):
                m.d.sync += [seed.eq(wdata), *(c.eq(wdata) for c in seed_c)]
            with m.Elif(at("EPOCHS")):
                m.d.sync += epochs.eq(wdata)
            with m.Elif(at("CELL")):
                idx = fld("CELL", "cell")
                with m.If(idx < n):
                    m.d.comb += cell_d.eq(idx)
                with m.Else():
                    m.d.comb += errs.eq(Cause.BAD_CELL)
            with m.Elif(at("PHASE")):
                for i in range(n):
                    with m.If(cell == i):
                        m.d.sync += theta[i].eq(fld("PHASE", "phase"))
            with m.Elif(at("OMEGA")):
                for i in range(n):
                    with m.If(cell == i):
                        m.d.sync += omega[i].eq(fld("OMEGA", "omega"))
            with m.Elif(at("JADDR")):
                col, grp = fld("JADDR", "col"), fld("JADDR", "group")
                with m.If((col < n) & (grp < groups)):
                    m.d.sync += [jcol.eq(col), jgroup.eq(grp)]
                with m.Else():
                    m.d.comb += errs.eq(Cause.BAD_JADDR)
            with m.Elif(at("JDATA")):
                m.d.comb += j_we.eq(1)
                m.d.sync += jgroup.eq(Mux(jgroup == groups - 1, 0, jgroup + 1))
                with m.If(jgroup == groups - 1):
                    m.d.sync += jcol.eq(Mux(jcol == n - 1, 0, jcol + 1))
        with m.If(errs.any()):
            m.d.sync += cause.eq(cause | errs)
        # PHASE / OMEGA accesses advance CELL (a refused write does not)
        step_cell = ((wr & ~busy) | bus.r_stb) & (at("PHASE") | at("OMEGA"))
        with m.If(step_cell):
            m.d.comb += cell_d.eq(Mux(cell == n - 1, 0, cell + 1))
        m.d.sync += cell.eq(cell_d)

        # ---- CSR reads (registered)
        info = regs.pack("INFO", n=n, phase_bits=PB, weight_bits=WB, sin_bits=p.sin_bits,
                         parallel=int(p.with_parallel), pbit=int(p.with_pbit))
        status = Signal(regs["STATUS"].layout)
        config = Signal(regs["CONFIG"].layout)
        m.d.comb += [config.mode.eq(mode), config.shift.eq(shift),
                     config.until_stable.eq(until_stable), config.momentum.eq(momentum)]
        m.d.comb += [status.busy.eq(busy), status.done.eq(done), status.stable.eq(stable),
                     status.error.eq(cause != 0), status.cause.eq(cause)]
        # PHASE and SINCOS read a copy of PHASE[CELL] registered every clock (the sine lookups
        # then start at a flip-flop, not at the n-way phase select: on the 85F SoC that select
        # plus the lookups into the read-data register was the critical path; and one n-way
        # select serves both). The copy is taken at CELL's next value, so a read in the clock
        # after any CSR access is exact (a PHASE write moves CELL on, and n >= 2, so the
        # written cell is never the one copied); only while the array runs may a read lag the
        # phases by one clock. OMEGA changes only by CSR writes, so its copy is always exact.
        th_sc, om_sc = Signal(PB), Signal.like(omega[0])
        m.d.sync += om_sc.eq(Array(omega)[cell_d])
        m.d.sync += th_sc.eq(Array(theta)[cell_d])
        s_out = _sin_rom(p, m, th_sc[drop:], "ro_sin")
        th_cos = Signal(PB)
        m.d.comb += th_cos.eq(th_sc + (1 << (PB - 2)))
        c_out = _sin_rom(p, m, th_cos[drop:], "ro_cos")
        spins = Signal(n)
        for i in range(n):
            m.d.comb += spins[i].eq(_spin(m, theta[i], f"spin_q{i}"))
        with m.If(bus.r_stb):
            m.d.sync += bus.r_data.eq(0)
            with m.Switch(addr):
                with m.Case(regs.offset("INFO")):
                    m.d.sync += bus.r_data.eq(info)
                with m.Case(regs.offset("CONFIG")):
                    m.d.sync += bus.r_data.eq(config.as_value())
                with m.Case(regs.offset("KS_MAX")):
                    m.d.sync += bus.r_data.eq(ks_max)
                with m.Case(regs.offset("KS_INC")):
                    m.d.sync += bus.r_data.eq(ks_inc)
                with m.Case(regs.offset("NOISE_AMP")):
                    m.d.sync += bus.r_data.eq(a0)
                with m.Case(regs.offset("NOISE_DEC")):
                    m.d.sync += bus.r_data.eq(a_dec)
                with m.Case(regs.offset("SEED")):
                    m.d.sync += bus.r_data.eq(seed)
                with m.Case(regs.offset("EPOCHS")):
                    m.d.sync += bus.r_data.eq(epochs)
                with m.Case(regs.offset("STATUS")):
                    m.d.sync += bus.r_data.eq(status.as_value())
                with m.Case(regs.offset("EPOCH")):
                    m.d.sync += bus.r_data.eq(t)
                with m.Case(regs.offset("CYCLES")):
                    m.d.sync += bus.r_data.eq(cycles)
                with m.Case(regs.offset("CELL")):
                    m.d.sync += bus.r_data.eq(cell)
                with m.Case(regs.offset("PHASE")):
                    m.d.sync += bus.r_data.eq(th_sc)
                with m.Case(regs.offset("OMEGA")):
                    m.d.sync += bus.r_data.eq(om_sc.as_unsigned())
                with m.Case(regs.offset("SINCOS")):
                    m.d.sync += bus.r_data.eq(Cat(s_out, c_out))
                for w in range(regs["SPINS"].count):
                    with m.Case(regs.offset("SPINS", w)):
                        m.d.sync += bus.r_data.eq(spins[32 * w:32 * (w + 1)])
                with m.Case(regs.offset("JADDR")):
                    m.d.sync += bus.r_data.eq(jcol | (jgroup << 16))
                with m.Default():       # write-only and unused offsets read 0
                    m.d.sync += bus.r_data.eq(0)
        return m


def _advance(state, steps: int):
    """The LFSR ``state`` advanced ``steps`` steps, as XORs of its bits."""
    return Cat(_xor_all(state[b] for b in row) for row in lfsr_advance_matrix(steps))


def _tree(terms):
    """Balanced adder tree (Amaranth widens each sum)."""
    values = list(terms)
    while len(values) > 1:
        nxt = [values[i] + values[i + 1] for i in range(0, len(values) - 1, 2)]
        if len(values) % 2:
            nxt.append(values[-1])
        values = nxt
    return values[0]

# Ref: T. Wang, J. Roychowdhury, "OIM: Oscillator-Based Ising Machines", UCNC 2019 (ks ramp,
#      SHIL); M. Abernot et al., "Digital Implementation of Oscillatory Neural Network for Image
#      Recognition Applications", Front. Neurosci. 2021 (square-wave ONN, serialized coupling);
#      K. Y. Camsari et al., "Stochastic p-Bits for Invertible Logic", Phys. Rev. X 7, 031014,
#      2017 (p-bits: the PBIT mode's sequential noisy sign updates).
"""Oscillator-cell array: parameters, modes, error causes, timing and tables (no RTL).

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
schedule fixed-point format, the clocks per epoch and the error causes.
"""

from dataclasses import dataclass

from amaranth.lib import enum
from amaranth.utils import ceil_log2

__all__ = ["Mode", "Cause", "OnnParams", "RunConfig", "sin_table", "LFSR_BITS", "LFSR_TAPS",
           "NOISE_SAMPLE_BITS", "SCHED_FRAC", "KS_FRAC", "SEED_MUL", "MAX_MOMENTUM", "lfsr_seed",
           "lfsr_advance_matrix", "weights_per_word", "EPOCH_OVERHEAD", "epoch_cycles",
           "start_cycles", "fill_cycles"]

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
    with_hold       a per-cell hold mask (register HOLD): a held cell keeps its phase in every
                    mode, whatever its couplings, omega and noise (START's draw and every epoch
                    leave it; only a host PHASE write moves it); OnnArray only (OnnTdm refuses it)
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
    with_hold: bool = False
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
        for name in ("with_parallel", "with_pbit", "with_hold"):
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
        par += "_h" if self.with_hold else ""
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


class Cause(enum.IntFlag, shape=6):
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

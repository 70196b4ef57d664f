# Ref: J. Haverkort, A. Todri-Sanial, 2025 (506 fully connected digital oscillators on a
#      Zynq-7020 with a serialized coupling accumulator); docs/onn.md (the integer equations).
"""A time-multiplexed, memory-backed oscillator array (:class:`OnnTdm`): the register map
(``hdl.onn.register_map``) and the golden model (``sim.onn.model.epoch``) of
:class:`hdl.onn.OnnArray`, with every per-cell quantity in memories, so that logic stays nearly
flat as ``n`` grows and memory sets the limit.

``lanes`` (P) cell datapaths serve the ``n`` cells in ``n / P`` batches: lane ``l`` of batch
``b`` is cell ``b P + l``. Everything a batch needs is one word of a P-lane memory:

- couplings: P banks (``amaranth.lib.memory.Memory``), bank ``l`` holding rows ``i = l mod P``,
  word ``b n + j`` = ``J[b P + l][j]``, one ``weight_bits`` lane each (the diagonal written as 0);
- phases: two banks (``2 n / P`` words of P phases: the old phases are read for a whole epoch,
  the new ones written into the other bank, which becomes current at the epoch's end); PBIT
  writes in place;
- LFSR states, velocities (``max_momentum > 0``), natural frequencies and PBIT local fields:
  ``n / P`` words of P lanes each.

Clocks (:func:`tdm_epoch_cycles`): OIM / Kuramoto ``n / P (n + 13) + 1``, ONN ``n / P (16 n +
13) + 1``, PBIT ``n (n / P + 8) + 1`` (slot j decides spin j, then a pass over the ``n / P``
batches adds its flip to every field); START ``n / P``; every START / RESUME in PBIT first fills
the fields (as long as an OIM epoch). The arithmetic is that of ``sim.onn.model`` (the
OnnArray's), so both equal the model after every epoch.
"""

from dataclasses import dataclass

from amaranth import Array, Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import enum, memory, wiring
from amaranth.lib.wiring import In
from amaranth.utils import exact_log2

from ..csr import CsrSignature, read_registers
from .cells import COPY_MARKER, lfsr_advance, sin_rom, spin_bit
from .params import (
    KS_FRAC,
    LFSR_BITS,
    NOISE_SAMPLE_BITS,
    SCHED_FRAC,
    SEED_MUL,
    Cause,
    Mode,
    OnnParams,
    weights_per_word,
)
from .registers import register_map

__all__ = ["TdmParams", "OnnTdm", "TdmState", "tdm_epoch_cycles", "tdm_start_cycles",
           "BLOCK_RAMS", "memory_blocks", "check_memory",
           "tdm_fill_cycles", "BATCH_OVERHEAD", "SLOT_OVERHEAD", "EPOCH_OVERHEAD_TDM"]

#: Clocks of a batch besides its issues: the word read (the read addresses are registered) and
#: the latch (3), the pipeline behind the last issue and the update (10).
BATCH_OVERHEAD = 13
#: Clocks of a PBIT slot besides its pass over the batches: the reads, the lane select, the
#: noise, the decision (5) and the pass's pipeline behind its last issue (3).
SLOT_OVERHEAD = 8
#: Clocks of an epoch (and of the PBIT fill) besides its batches or slots: the NEXT state.
EPOCH_OVERHEAD_TDM = 1


@dataclass(frozen=True)
class TdmParams:
    """Build-time parameters of :class:`OnnTdm`.

    array   the :class:`OnnParams` of the cells (n, widths, momentum, PBIT); serial only, no
            hold mask (``with_hold`` is refused)
    lanes   P parallel cell datapaths, a power of two dividing ``n``, at least
            ``weights_per_word(array)`` (a JDATA write then touches each bank once)
    """
    array: OnnParams
    lanes: int = 8

    def __post_init__(self):
        a = self.array
        if not isinstance(a, OnnParams):
            raise TypeError(f"array must be OnnParams, not {a!r}")
        if a.with_parallel:
            raise ValueError("a time-multiplexed array is serial: array.with_parallel must be "
                             "False")
        if a.with_hold:
            # the mask would be one more per-cell quantity in the batch words and the PBIT slot;
            # nothing run on OnnTdm needs it yet (the Un-0 generator runs on OnnArray)
            raise ValueError("OnnTdm has no hold mask (HOLD): array.with_hold must be False")
        P = self.lanes
        if not (isinstance(P, int) and P >= 1 and P & (P - 1) == 0):
            raise ValueError(f"lanes must be a power of two, not {P!r}")
        if a.n % P:
            raise ValueError(f"lanes={P} must divide n={a.n}")
        k = weights_per_word(a)
        if P < k and k % P:
            raise ValueError(f"lanes={P} must divide the {k} couplings of a JDATA word "
                             f"(weight_bits={a.weight_bits}) or be at least {k}")

    @property
    def n(self) -> int:
        return self.array.n

    @property
    def batches(self) -> int:
        return self.array.n // self.lanes

    @property
    def rows_per_word(self) -> int:
        """Batches sharing one coupling-bank word (R): 1 when ``lanes`` is at least the ``k``
        couplings of a JDATA word, else ``k / lanes`` (a JDATA word then fills one word of each
        bank, so a write never needs two clocks)."""
        return max(1, weights_per_word(self.array) // self.lanes)

    @property
    def name(self) -> str:
        return f"{self.array.name}_tdm{self.lanes}"

    def memory_bits(self) -> dict[str, int]:
        """Bits of each memory (the coupling banks together), as built."""
        a = self.array
        bits = {"couplings": a.n * a.n * a.weight_bits,
                "phases": 2 * a.n * a.phase_bits,
                "lfsr": a.n * LFSR_BITS,
                "omega": a.n * a.omega_bits}
        if a.max_momentum:
            bits["velocity"] = a.n * a.vel_bits
        if a.with_pbit:
            bits["fields"] = a.n * a.acc_bits
        return bits


#: Block RAMs by device (Amaranth platform device name): family, blocks, and the (depth, width)
#: configurations of one block (ECP5 DP16KD, 18 kbit; iCE40 EBR, 4 kbit).
BLOCK_RAMS = {
    "LFE5U-25F": ("DP16KD", 56), "LFE5U-45F": ("DP16KD", 108), "LFE5U-85F": ("DP16KD", 208),
    "iCE40UP5K": ("EBR", 30), "iCE40HX8K": ("EBR", 32),
}
_BLOCK_SHAPES = {"DP16KD": ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36)),
                 "EBR": ((2048, 2), (1024, 4), (512, 8), (256, 16))}


def memory_blocks(tp: TdmParams, block: str = "DP16KD") -> dict[str, int]:
    """Block RAMs each memory of :class:`OnnTdm` needs (the fewest of one block shape per
    memory; memories with two read ports count twice, as synthesis duplicates them)."""
    a, P, B = tp.array, tp.lanes, tp.batches

    def blocks(depth, width):
        return min(-(-width // w) * -(-depth // d) for d, w in _BLOCK_SHAPES[block])

    R = tp.rows_per_word
    need = {"coupling memory": P * blocks(-(-B // R) * a.n, R * a.weight_bits),
            "phase memory": 2 * blocks(2 * B, P * a.phase_bits),
            "LFSR memory": blocks(B, P * LFSR_BITS),
            "omega memory": 2 * blocks(B, P * a.omega_bits)}
    if a.max_momentum:
        need["velocity memory"] = blocks(B, P * a.vel_bits)
    if a.with_pbit:
        need["field memory"] = blocks(B, P * a.acc_bits)
    return need


def check_memory(tp: TdmParams, device: str) -> None:
    """A one-line ``ValueError`` naming the memory that overflows ``device``'s block RAM (the
    largest of those that no longer fit); nothing for a device not in :data:`BLOCK_RAMS`."""
    if device not in BLOCK_RAMS:
        return
    block, have = BLOCK_RAMS[device]
    need = memory_blocks(tp, block)
    total = sum(need.values())
    if total > have:
        name, big = max(need.items(), key=lambda kv: kv[1])
        a = tp.array
        what = (f" ({a.n} x {a.n} couplings of {a.weight_bits} bits)"
                if name == "coupling memory" else "")
        raise ValueError(f"{tp.name}: the {name}{what} needs {big} of the {total} {block} block "
                         f"RAMs the array needs, but the {device} has {have}")


def tdm_epoch_cycles(tp: TdmParams, mode) -> int:
    """Clocks per epoch of :class:`OnnTdm` in ``mode`` (the CYCLES register counts them)."""
    n, B = tp.n, tp.batches
    mode = Mode(mode)
    if mode == Mode.PBIT:
        return n * (B + SLOT_OVERHEAD) + EPOCH_OVERHEAD_TDM
    ticks = tp.array.onn_ticks if mode == Mode.ONN else 1
    return B * (ticks * n + BATCH_OVERHEAD) + EPOCH_OVERHEAD_TDM


def tdm_start_cycles(tp: TdmParams, keep_phases: bool = False) -> int:
    """Busy clocks of START before the first epoch: one clock per batch (seed the LFSRs, draw
    the phases unless keep_phases, clear the velocities)."""
    return tp.batches


def tdm_fill_cycles(tp: TdmParams, mode) -> int:
    """Busy clocks every START or RESUME in PBIT adds before its first epoch: the local
    fields from the present spins, one pass like an OIM epoch (other modes: 0)."""
    return tdm_epoch_cycles(tp, Mode.OIM) if Mode(mode) == Mode.PBIT else 0


class TdmState(enum.Enum):
    """The control FSM's states."""
    IDLE = 0
    SEED = 1     # one batch per clock: LFSR seeds, drawn phases, velocities cleared
    NEXT = 2     # an epoch (or the PBIT fill) begins, or the run ends
    LOAD = 3     # a batch's words are read
    PREP = 4     # ... and latched into the lanes (the LFSRs advance)
    ISSUE = 5    # one j per clock (ONN: per tick)
    DRAIN = 6    # the pipeline behind the last issue, the update, the write-back
    SLOT = 7     # PBIT: reads, noise and decision of slot j
    PASS = 8     # PBIT: the flip of slot j added to every field, one batch per clock


class OnnTdm(wiring.Component):
    """Time-multiplexed oscillator array, bit-exact with ``sim.onn.model.epoch`` (as
    :class:`hdl.onn.OnnArray`, whose register map it shares).

    Batch ``b`` of an OIM / Kuramoto / ONN epoch: LOAD reads the batch's phases (current bank),
    LFSR states, velocities and omegas; PREP latches them and advances the LFSRs; then ``n``
    issues (ONN: ``16 n``, one pass per tick) stream ``theta_j`` (from the phase bank, a P:1
    lane select) and ``J[bP + l][j]`` (bank l) through a six-stage pipeline: s0 the registered
    read address (every datapath read address is a register), s1 the memories' read data, s2
    registered, s3 the factor (``SIN[(theta_j - theta_i) >> (PB-LB)]``, ONN the
    square wave of cell j, PBIT fill ``+-A``), s4 the product, s5 the accumulator (which starts
    at ``eta_i``, the fill at 0); ONN evaluates each tick in the clock after its last term.
    DRAIN then forms ``x`` and the velocity and writes the new phases into the other bank (the
    fill: the fields). The bank switches at the epoch's end.

    PBIT slot j: read field, LFSR and phase word of cell j, the noise, then ``f = h_j - c +
    eta_j`` (``c`` the field change slot j - 1 made to cell j, which the model's cell j does not
    yet see) decides the spin (written in place); PASS adds ``2 A s_j J_ij`` to every field if
    it flipped (and 0 otherwise, so an epoch has a fixed length).

    CSR: the register map of ``register_map(params.array)``; PHASE, OMEGA and SINCOS read the
    memories through their own read ports (exact when idle; while running PHASE may read a
    bank being written); SPINS reads a flip-flop per cell, written with every phase word (while
    running it may hold the next epoch's spins of the batches done so far).

    Reset: idle, no error, SEED = 1; memories are not cleared.

    Members
    -------
    csr : In(CsrSignature(register_map(params.array).addr_width))
    """

    def __init__(self, params: TdmParams):
        if not isinstance(params, TdmParams):
            raise TypeError(f"params must be TdmParams, not {params!r}")
        self.params = params
        self.regs = register_map(params.array)
        super().__init__({"csr": In(CsrSignature(self.regs.addr_width))})

    def epoch_cycles(self, mode) -> int:
        return tdm_epoch_cycles(self.params, mode)

    @property
    def LATENCY(self) -> int:
        """Clocks per OIM epoch; see :meth:`epoch_cycles`."""
        return self.epoch_cycles(Mode.OIM)

    def start_cycles(self, keep_phases: bool) -> int:
        return tdm_start_cycles(self.params, keep_phases)

    def elaborate(self, platform):
        check_memory(self.params, getattr(platform, "device", None))
        m = Module()
        tp, regs = self.params, self.regs
        p = tp.array
        n, P, B = p.n, tp.lanes, tp.batches
        PB, LB, WB = p.phase_bits, p.lut_bits, p.weight_bits
        lp = exact_log2(P)
        drop = PB - LB
        odrop = PB - p.onn_phase_bits
        T = p.onn_ticks
        k = weights_per_word(p)
        groups = -(-n // k)
        MOM = p.max_momentum > 0
        PBIT = p.with_pbit
        A = p.sin_amp

        # ---- run-time registers (as OnnArray)
        mode = Signal(Mode, init=Mode.OIM)
        shift = Signal(range(p.max_shift + 1))
        until_stable = Signal()
        momentum = Signal(3) if MOM else Const(0, 3)
        ks_max = Signal(p.ks_bits)
        ks_inc = Signal(p.ks_bits + SCHED_FRAC)
        a0 = Signal(p.noise_bits)
        a_dec = Signal(p.noise_bits + SCHED_FRAC)
        seed = Signal(32, init=1)
        epochs = Signal(32)
        cause = Signal(Cause)
        done = Signal()
        stable = Signal()
        t = Signal(32)
        cycles = Signal(32)
        cell = Signal(range(n))
        jcol = Signal(range(n))
        jgroup = Signal(range(groups))
        busy = Signal()
        bank = Signal()             # the phase bank holding the current phases

        ks_acc = Signal(p.ks_bits + SCHED_FRAC + 1)
        dec_acc = Signal(p.noise_bits + SCHED_FRAC + 1)
        ks_hi = ks_acc[SCHED_FRAC:]
        dec_hi = dec_acc[SCHED_FRAC:]
        ks_t = Signal(p.ks_bits)
        a_t = Signal(p.noise_bits)
        m.d.comb += [ks_t.eq(Mux(ks_hi >= ks_max, ks_max, ks_hi)),
                     a_t.eq(Mux(dec_hi >= a0, 0, a0 - dec_hi))]

        # ---- memories
        def mem(name, width, depth, lanes=P):
            m.submodules[name] = mm = memory.Memory(shape=unsigned(lanes * width), depth=depth,
                                                    init=[])
            return mm

        # one bank per lane: word (b // R) n + j, lane b % R = J[b P + lane][j]
        R = tp.rows_per_word
        rows = -(-B // R)
        jbank = [mem(f"jmem{ln}", WB, rows * n, lanes=R) for ln in range(P)]
        jw = [b_.write_port() for b_ in jbank]
        jr = [b_.read_port() for b_ in jbank]
        phm = mem("phases", PB, 2 * B)
        ph_w = phm.write_port(granularity=PB)
        ph_r = phm.read_port()
        ph_h = phm.read_port()          # the host's (PHASE, SINCOS)
        lfm = mem("lfsr", LFSR_BITS, B)
        lf_w = lfm.write_port(granularity=LFSR_BITS)
        lf_r = lfm.read_port()
        omm = mem("omega", p.omega_bits, B)
        om_w = omm.write_port(granularity=p.omega_bits)
        om_r = omm.read_port()
        om_h = omm.read_port()
        if MOM:
            vm = mem("velocity", p.vel_bits, B)
            v_w = vm.write_port()
            v_r = vm.read_port()
        if PBIT:
            hm = mem("fields", p.acc_bits, B)
            h_w = hm.write_port()
            h_r = hm.read_port()

        def lanes_of(data, width, shape):
            return [data[ln * width:(ln + 1) * width].as_signed() if shape == "s"
                    else data[ln * width:(ln + 1) * width] for ln in range(P)]

        def ph_addr(bk, b_):
            return Mux(bk, b_ + B, b_)

        # ---- FSM
        state = Signal(TdmState)
        remaining = Signal(32)
        keep = Signal()
        fill = Signal()             # the PBIT field fill runs (no epoch)
        b = Signal(range(B))        # batch
        jj = Signal(range(n))       # issue index j (ONN: within a tick)
        tk = Signal(range(T))       # ONN tick
        dcount = Signal(range(16))  # clocks within DRAIN / SLOT
        changed = Signal()          # this epoch changed a phase (batches or slots before)
        batch_changed = Signal()    # the batch being written changes a phase
        onn = Signal()
        kur = Signal()
        pbm = Signal()
        m.d.comb += [onn.eq(mode == Mode.ONN), kur.eq(mode == Mode.KURAMOTO),
                     pbm.eq((mode == Mode.PBIT) if PBIT else 0)]
        ticks_now = Mux(onn & ~fill, T - 1, 0)

        # ---- per-lane registers
        th_i = [Signal(PB, name=f"th_i{ln}") for ln in range(P)]
        lf_i = [Signal(LFSR_BITS, name=f"lf_i{ln}") for ln in range(P)]
        om_i = [Signal(signed(p.omega_bits), name=f"om_i{ln}") for ln in range(P)]
        vel_i = [Signal(signed(p.vel_bits), name=f"vel_i{ln}") for ln in range(P)]
        noise_w = p.noise_bits + NOISE_SAMPLE_BITS + 2
        eta = [Signal(signed(noise_w), name=f"eta{ln}") for ln in range(P)]
        acc_w = max(p.update_bits, p.acc_bits + 2)
        acc = [Signal(signed(acc_w), name=f"acc{ln}") for ln in range(P)]

        # ---- issue and the stream pipeline
        issue = Signal()
        issue_first = Signal()      # first issue of a tick (the accumulator restarts)
        issue_last = Signal()       # last issue of a tick
        m.d.comb += [issue_first.eq(jj == 0), issue_last.eq(jj == n - 1)]
        jbase = Signal(range(rows * n + 1))     # (b // R) * n
        br = Signal(range(R))                   # b % R
        j_hi = jj[lp:] if P > 1 else jj
        j_lo = jj[:lp] if P > 1 else Const(0, 1)
        # read addresses: the stream (ISSUE), a batch's words (LOAD), PBIT slot / pass
        pass_b = Signal(range(B + 1))
        slot_j = Signal(range(n))
        sj_hi = slot_j[lp:] if P > 1 else slot_j
        sj_lo = slot_j[:lp] if P > 1 else Const(0, 1)
        pass_addr = Signal(range(rows * n + n + 1))     # (pass_b // R) * n + slot_j
        pass_r = Signal(range(R))                       # pass_b % R
        # The datapath's read addresses are registered (the data follow two clocks after the
        # clock that chose the address): the coupling address reaches every block RAM of its
        # bank from a flip-flop, one copy per bank, not through the adder and the state decode.
        ja_next = Signal(range(rows * n + n + 1))
        with m.If(state == TdmState.ISSUE):
            m.d.comb += ja_next.eq(jbase + jj)
        with m.Else():
            m.d.comb += ja_next.eq(pass_addr)
        for ln, r in enumerate(jr):
            ja_q = Signal(len(r.addr), name=f"jaddr{COPY_MARKER}{ln}")
            m.d.sync += ja_q.eq(ja_next)
            m.d.comb += r.addr.eq(ja_q)

        def reg_addr(port, value):
            q = Signal(len(port.addr), name=f"{port_names[id(port)]}_addr_q")
            m.d.sync += q.eq(value)
            m.d.comb += port.addr.eq(q)

        port_names = {id(ph_r): "ph_r", id(lf_r): "lf_r", id(om_r): "om_r"}
        ph_next = Signal(len(ph_r.addr))
        with m.If(state == TdmState.ISSUE):
            m.d.comb += ph_next.eq(ph_addr(bank, j_hi))
        with m.Elif(state == TdmState.SLOT):
            m.d.comb += ph_next.eq(ph_addr(bank, sj_hi))
        with m.Else():
            m.d.comb += ph_next.eq(ph_addr(bank, b))
        reg_addr(ph_r, ph_next)
        in_slot = state == TdmState.SLOT
        reg_addr(lf_r, Mux(in_slot, sj_hi, b))
        reg_addr(om_r, b)
        if MOM:
            port_names[id(v_r)] = "v_r"
            reg_addr(v_r, b)
        if PBIT:
            port_names[id(h_r)] = "h_r"
            reg_addr(h_r, Mux(in_slot, sj_hi, pass_b))

        # s1: read data valid; s2: registered
        s0 = [Signal(name=f"s0_{f}") for f in ("v", "first", "last")]
        s0_lane = Signal(max(lp, 1))
        s0_tick = Signal(range(T))
        m.d.sync += [s0[0].eq(issue), s0[1].eq(issue_first), s0[2].eq(issue_last),
                     s0_lane.eq(j_lo), s0_tick.eq(tk)]
        s1 = [Signal(name=f"s1_{f}") for f in ("v", "first", "last")]
        s1_lane = Signal(max(lp, 1))
        s1_tick = Signal(range(T))
        m.d.sync += [a.eq(c) for a, c in zip(s1, s0)] + [s1_lane.eq(s0_lane),
                                                          s1_tick.eq(s0_tick)]
        s2 = [Signal(name=f"s2_{f}") for f in ("v", "first", "last")]
        s2_tick = Signal(range(T))
        s2_thj = Signal(PB)
        s2_J = [Signal(signed(WB), name=f"s2_J{ln}") for ln in range(P)]
        m.d.sync += [a.eq(c) for a, c in zip(s2, s1)] + [s2_tick.eq(s1_tick)]
        m.d.sync += s2_thj.eq(Array(lanes_of(ph_r.data, PB, "u"))[s1_lane])
        m.d.sync += [s2_J[ln].eq((jr[ln].data.word_select(br, WB) if R > 1 else jr[ln].data)
                                 .as_signed()) for ln in range(P)]
        # s3: the factor per lane
        s3 = [Signal(name=f"s3_{f}") for f in ("v", "first", "last")]
        s3_tick = Signal(range(T))
        fac_w = p.sin_bits + 2
        s3_fac = [Signal(signed(fac_w), name=f"s3_fac{ln}") for ln in range(P)]
        s3_J = [Signal(signed(WB), name=f"s3_J{ln}") for ln in range(P)]
        m.d.sync += [a.eq(c) for a, c in zip(s3, s2)] + [s3_tick.eq(s2_tick)]
        m.d.sync += [s3_J[ln].eq(s2_J[ln]) for ln in range(P)]
        dq = Signal(p.onn_phase_bits)
        m.d.comb += dq.eq(s2_tick - s2_thj[odrop:])
        sq = Signal(signed(fac_w))
        m.d.comb += sq.eq(Mux(dq[-1], -1, 1))           # o_j(t) = +1 while (t - q_j) mod T < T/2
        fspin = Signal(signed(fac_w))
        m.d.comb += fspin.eq(Mux(spin_bit(m, s2_thj, "s2_spin"), -A, A))
        for ln in range(P):
            d = Signal(PB, name=f"d{ln}")
            m.d.comb += d.eq(s2_thj - th_i[ln])
            sv = sin_rom(p, m, d[drop:], f"sin{ln}")
            m.d.sync += s3_fac[ln].eq(Mux(fill, fspin, Mux(onn, sq, sv)))
        # s4: the product; s5: the accumulator (from eta, or 0 in the fill)
        s4 = [Signal(name=f"s4_{f}") for f in ("v", "first", "last")]
        s4_tick = Signal(range(T))
        prod_w = WB + fac_w
        s4_prod = [Signal(signed(prod_w), name=f"s4_prod{ln}") for ln in range(P)]
        m.d.sync += [a.eq(c) for a, c in zip(s4, s3)] + [s4_tick.eq(s3_tick)]
        m.d.sync += [s4_prod[ln].eq(s3_J[ln] * s3_fac[ln]) for ln in range(P)]
        s5_v, s5_last = Signal(), Signal()
        s5_tick = Signal(range(T))
        m.d.sync += [s5_v.eq(s4[0]), s5_last.eq(s4[2]), s5_tick.eq(s4_tick)]
        for ln in range(P):
            with m.If(s4[0]):
                base = Mux(s4[1], Mux(fill, 0, eta[ln]), acc[ln])
                m.d.sync += acc[ln].eq(base + s4_prod[ln])

        # ONN: tick evaluation in the clock after a tick's last term
        y_first = Signal(P)
        y_prev = Signal(P)
        found = Signal(P)
        q_found = [Signal(p.onn_phase_bits, name=f"qf{ln}") for ln in range(P)]
        for ln in range(P):
            own = Signal(p.onn_phase_bits, name=f"own_d{ln}")
            m.d.comb += own.eq(s5_tick - th_i[ln][odrop:])
            y = Signal(name=f"y{ln}")
            m.d.comb += y.eq((acc[ln] > 0) | ((acc[ln] == 0) & ~own[-1]))
            with m.If(s5_v & s5_last):
                m.d.sync += y_prev[ln].eq(y)
                with m.If(s5_tick == 0):
                    m.d.sync += [y_first[ln].eq(y), found[ln].eq(0)]
                with m.Elif(y & ~y_prev[ln] & ~found[ln]):
                    m.d.sync += [found[ln].eq(1), q_found[ln].eq(s5_tick)]

        # ---- per-lane multiplier (noise at PREP + 1, ks SIN2 in DRAIN) and the update
        mul_sel_eta = Signal()      # a register: the batch's first issue clock
        m.d.sync += mul_sel_eta.eq(0)
        half = Signal(p.max_shift + 1)
        m.d.comb += half.eq((Const(1, p.max_shift + 2) << shift) >> 1)
        x_w = max(p.vel_bits, acc_w) + 2
        shilp = [Signal(signed(p.ks_bits + p.sin_bits + 1), name=f"shilp{ln}") for ln in range(P)]
        x_r = [Signal(signed(x_w), name=f"x{ln}") for ln in range(P)]
        v_r_ = [Signal(signed(x_w), name=f"v{ln}") for ln in range(P)]
        step = [Signal(PB, name=f"step{ln}") for ln in range(P)]
        new_th = [Signal(PB, name=f"new_th{ln}") for ln in range(P)]
        lf_adv = [Signal(LFSR_BITS, name=f"lf_adv{ln}") for ln in range(P)]
        rd_lf = lanes_of(lf_r.data, LFSR_BITS, "u")
        for ln in range(P):
            m.d.comb += lf_adv[ln].eq(lfsr_advance(rd_lf[ln], p.lfsr_steps))

        # ---- PBIT slot: one decision unit
        if PBIT:
            sl_h = Signal(signed(p.acc_bits))
            sl_th = Signal(PB)
            sl_lf = Signal(LFSR_BITS)
            sl_eta = Signal(signed(noise_w))
            corr = Signal(signed(p.acc_bits + 1))
            flip = Signal()
            new_neg = Signal()
            sj_lane = Signal(max(lp, 1))
            m.d.sync += sj_lane.eq(sj_lo)

        # write ports: default idle
        host_ph_we = Signal()
        dcnt_is = [dcount == c for c in range(16)]

        # ---- control
        with m.If(busy & ~cycles.all()):
            m.d.sync += cycles.eq(cycles + 1)
        cmd = regs["CMD"].layout
        bus = self.csr
        wr, addr, wdata = bus.w_stb, bus.addr, bus.w_data

        def at(name, index=0):
            return addr == regs.offset(name, index)

        c_start = wdata[cmd["start"].offset]
        c_resume = wdata[cmd["resume"].offset]
        c_keep = wdata[cmd["keep_phases"].offset]
        c_clear = wdata[cmd["clear"].offset]

        # spin bits: one P-bit register per batch, written with the phase words (one writer
        # per clock: the seed pass, a batch write-back, a PBIT slot or a host PHASE write)
        spin_words = [Signal(P, name=f"spins{b_}") for b_ in range(B)]
        spins = Cat(*spin_words)
        sp_we = Signal()
        sp_b = Signal(range(B))
        sp_en = Signal(P)
        sp_bits = Signal(P)
        with m.If(sp_we):
            with m.Switch(sp_b):
                for b_ in range(B):
                    with m.Case(b_):
                        m.d.sync += spin_words[b_].eq((spin_words[b_] & ~sp_en)
                                                      | (sp_bits & sp_en))
        seed_k = [Signal(32, name=f"seed_k{ln}") for ln in range(P)]    # (bP + ln + 1) SEED_MUL

        def write_spins(b_, bits, en):
            m.d.comb += [sp_we.eq(1), sp_b.eq(b_), sp_en.eq(en), sp_bits.eq(Cat(*bits))]

        def finish_epoch(any_change):
            m.d.sync += [t.eq(t + 1), stable.eq(~any_change), changed.eq(0),
                         remaining.eq(remaining - 1)]
            with m.If(ks_hi < ks_max):
                m.d.sync += ks_acc.eq(ks_acc + ks_inc)
            with m.If(dec_hi < a0):
                m.d.sync += dec_acc.eq(dec_acc + a_dec)
            with m.If((remaining == 1) | (until_stable & ~any_change)):
                m.d.sync += [busy.eq(0), done.eq(1), state.eq(TdmState.IDLE)]
            with m.Else():
                m.d.sync += state.eq(TdmState.NEXT)

        with m.Switch(state):
            with m.Case(TdmState.IDLE):
                with m.If(wr & at("CMD") & c_start):
                    m.d.sync += [busy.eq(1), done.eq(0), stable.eq(0), keep.eq(c_keep),
                                 t.eq(0), cycles.eq(0), ks_acc.eq(0), dec_acc.eq(0),
                                 remaining.eq(epochs), state.eq(TdmState.SEED), b.eq(0),
                                 fill.eq(pbm), changed.eq(0)]
                    m.d.sync += [seed_k[ln].eq(((ln + 1) * SEED_MUL) & 0xFFFFFFFF)
                                 for ln in range(P)]
                with m.Elif(wr & at("CMD") & c_resume):
                    m.d.sync += [busy.eq(1), done.eq(0), remaining.eq(epochs),
                                 state.eq(TdmState.NEXT), fill.eq(pbm), changed.eq(0)]
            with m.Case(TdmState.SEED):
                # one batch per clock: LFSR = seed ^ (i + 1) SEED_MUL (0 -> 1), advanced and
                # the phase drawn unless keep_phases; velocity 0
                sd = [Signal(LFSR_BITS, name=f"sd{ln}") for ln in range(P)]
                adv = [Signal(LFSR_BITS, name=f"sd_adv{ln}") for ln in range(P)]
                for ln in range(P):
                    s_ = seed ^ seed_k[ln]
                    m.d.comb += [sd[ln].eq(Mux(s_ == 0, 1, s_)),
                                 adv[ln].eq(lfsr_advance(sd[ln], p.lfsr_steps))]
                m.d.comb += [lf_w.addr.eq(b), lf_w.en.eq(~0),
                             lf_w.data.eq(Mux(keep, Cat(*sd), Cat(*adv)))]
                if MOM:
                    m.d.comb += [v_w.addr.eq(b), v_w.en.eq(~0), v_w.data.eq(0)]
                with m.If(~keep):
                    m.d.comb += [ph_w.addr.eq(ph_addr(bank, b)), ph_w.en.eq(~0),
                                 ph_w.data.eq(Cat(a_[:PB] for a_ in adv))]
                    write_spins(b, [spin_bit(m, a_[:PB], f"sd_spin{ln}")
                                    for ln, a_ in enumerate(adv)], Const(~0, P))
                m.d.sync += [seed_k[ln].eq(seed_k[ln] + ((P * SEED_MUL) & 0xFFFFFFFF))
                             for ln in range(P)]
                m.d.sync += b.eq(b + 1)
                with m.If(b == B - 1):
                    m.d.sync += [b.eq(0), state.eq(TdmState.NEXT)]
            with m.Case(TdmState.NEXT):
                with m.If(remaining == 0):
                    m.d.sync += [busy.eq(0), done.eq(1), state.eq(TdmState.IDLE), fill.eq(0)]
                with m.Elif(fill):
                    m.d.sync += [state.eq(TdmState.LOAD), b.eq(0), jbase.eq(0), br.eq(0),
                                 dcount.eq(0)]
                with m.Elif(pbm):
                    m.d.sync += [state.eq(TdmState.SLOT), slot_j.eq(0), dcount.eq(0)]
                    if PBIT:
                        m.d.sync += corr.eq(0)
                with m.Else():
                    m.d.sync += [state.eq(TdmState.LOAD), b.eq(0), jbase.eq(0), br.eq(0),
                                 dcount.eq(0)]
            with m.Case(TdmState.LOAD):
                # two clocks: the registered read address, then the read
                m.d.sync += dcount.eq(dcount + 1)
                with m.If(dcnt_is[1]):
                    m.d.sync += [state.eq(TdmState.PREP), dcount.eq(0)]
            with m.Case(TdmState.PREP):
                # the batch's words: phases, advanced LFSRs, velocities, omegas
                rd_th = lanes_of(ph_r.data, PB, "u")
                rd_om = lanes_of(om_r.data, p.omega_bits, "s")
                m.d.sync += [th_i[ln].eq(rd_th[ln]) for ln in range(P)]
                m.d.sync += [lf_i[ln].eq(lf_adv[ln]) for ln in range(P)]
                m.d.sync += [om_i[ln].eq(rd_om[ln]) for ln in range(P)]
                if MOM:
                    rd_v = lanes_of(v_r.data, p.vel_bits, "s")
                    m.d.sync += [vel_i[ln].eq(rd_v[ln]) for ln in range(P)]
                m.d.sync += [state.eq(TdmState.ISSUE), jj.eq(0), tk.eq(0), mul_sel_eta.eq(1)]
            with m.Case(TdmState.ISSUE):
                m.d.comb += issue.eq(1)
                m.d.sync += jj.eq(jj + 1)
                with m.If(issue_last):
                    m.d.sync += [jj.eq(0), tk.eq(tk + 1)]
                    with m.If(tk == ticks_now):
                        m.d.sync += [state.eq(TdmState.DRAIN), dcount.eq(0), tk.eq(0)]
            with m.Case(TdmState.DRAIN):
                # L+1..L+6: the pipeline (acc final at L+6, ONN's last tick evaluated at L+6);
                # dcount 5 = L+6: ks SIN2; 6: x; 7: v; 8: step; 9: write-back
                m.d.sync += dcount.eq(dcount + 1)
                with m.If(dcnt_is[9]):
                    wb_th = Cat(*new_th)
                    with m.If(fill):
                        if PBIT:
                            m.d.comb += [h_w.addr.eq(b), h_w.en.eq(1),
                                         h_w.data.eq(Cat(a_[:p.acc_bits] for a_ in acc))]
                    with m.Else():
                        m.d.comb += [ph_w.addr.eq(ph_addr(~bank, b)), ph_w.en.eq(~0),
                                     ph_w.data.eq(wb_th),
                                     lf_w.addr.eq(b), lf_w.en.eq(~0), lf_w.data.eq(Cat(*lf_i))]
                        write_spins(b, [spin_bit(m, new_th[ln], f"wb_spin{ln}")
                                        for ln in range(P)], Const(~0, P))
                        if MOM:
                            with m.If(~onn):
                                m.d.comb += [v_w.addr.eq(b), v_w.en.eq(1),
                                             v_w.data.eq(Cat(v_[:p.vel_bits] for v_ in v_r_))]
                        m.d.comb += batch_changed.eq(
                            Cat(new_th[ln] != th_i[ln] for ln in range(P)).any())
                        with m.If(batch_changed):
                            m.d.sync += changed.eq(1)
                    m.d.sync += [b.eq(b + 1), br.eq(br + 1), state.eq(TdmState.LOAD),
                                 dcount.eq(0)]
                    with m.If(br == R - 1):
                        m.d.sync += [br.eq(0), jbase.eq(jbase + n)]
                    with m.If(b == B - 1):
                        m.d.sync += [b.eq(0), jbase.eq(0), br.eq(0)]
                        with m.If(fill):
                            m.d.sync += [fill.eq(0), state.eq(TdmState.NEXT)]
                        with m.Else():
                            m.d.sync += bank.eq(~bank)
                            finish_epoch(changed | batch_changed)
            if PBIT:
                with m.Case(TdmState.SLOT):
                    # 0: read addresses; 2: lane select, LFSR advance; 3: noise; 4: decision
                    m.d.sync += dcount.eq(dcount + 1)
                    with m.If(dcnt_is[2]):
                        m.d.sync += [sl_h.eq(Array(lanes_of(h_r.data, p.acc_bits, "s"))[sj_lane]),
                                     sl_th.eq(Array(lanes_of(ph_r.data, PB, "u"))[sj_lane]),
                                     sl_lf.eq(Array(lf_adv)[sj_lane])]
                    with m.If(dcnt_is[3]):
                        r2 = (sl_lf[:NOISE_SAMPLE_BITS].as_signed()
                              + sl_lf[NOISE_SAMPLE_BITS:].as_signed())
                        m.d.sync += sl_eta.eq((r2 * a_t) >> NOISE_SAMPLE_BITS)
                    with m.If(dcnt_is[4]):
                        f = Signal(signed(p.acc_bits + noise_w + 2))
                        m.d.comb += f.eq(sl_h - corr + sl_eta)
                        old_neg = spin_bit(m, sl_th, "sl_spin")
                        nn = Signal()
                        m.d.comb += nn.eq(Mux(f > 0, 0, Mux(f < 0, 1, old_neg)))
                        new_ph = Signal(PB)
                        m.d.comb += new_ph.eq(nn << (PB - 1))
                        en = Const(1, P) << sj_lo if P > 1 else Const(1, 1)
                        m.d.comb += [ph_w.addr.eq(ph_addr(bank, sj_hi)), ph_w.en.eq(en),
                                     ph_w.data.eq(Cat(new_ph for _ in range(P))),
                                     lf_w.addr.eq(sj_hi), lf_w.en.eq(en),
                                     lf_w.data.eq(Cat(sl_lf for _ in range(P)))]
                        write_spins(sj_hi, [nn] * P, en)
                        m.d.sync += [flip.eq(nn != old_neg), new_neg.eq(nn), corr.eq(0),
                                     state.eq(TdmState.PASS), pass_b.eq(0), pass_r.eq(0),
                                     pass_addr.eq(slot_j)]
                        with m.If(new_ph != sl_th):
                            m.d.sync += changed.eq(1)
                with m.Case(TdmState.PASS):
                    # issue batch pass_b (reads: J column slot_j, fields); three stages: the
                    # registered read address, the read data, the data registered; then add
                    # and write (the block RAM's output meets no adder in its own clock)
                    pass_v0, pass_v1, pass_v = Signal(), Signal(), Signal()
                    pass_wb0, pass_wb1, pass_wb = (Signal(range(B)), Signal(range(B)),
                                                   Signal(range(B)))
                    pass_wr0, pass_wr1 = Signal(range(R)), Signal(range(R))
                    m.d.sync += [pass_v0.eq(pass_b != B), pass_wb0.eq(pass_b),
                                 pass_wr0.eq(pass_r), pass_v1.eq(pass_v0),
                                 pass_wb1.eq(pass_wb0), pass_wr1.eq(pass_wr0),
                                 pass_v.eq(pass_v1), pass_wb.eq(pass_wb1)]
                    with m.If(pass_b != B):
                        m.d.sync += [pass_b.eq(pass_b + 1), pass_r.eq(pass_r + 1)]
                        with m.If(pass_r == R - 1):
                            m.d.sync += [pass_r.eq(0), pass_addr.eq(pass_addr + n)]
                    rd_h = lanes_of(h_r.data, p.acc_bits, "s")
                    newh = []
                    nxt_cell = slot_j + 1
                    for ln in range(P):
                        j_q = Signal(signed(WB), name=f"pb_j{ln}")
                        h_q = Signal(signed(p.acc_bits), name=f"pb_h{ln}")
                        j_l = jr[ln].data.word_select(pass_wr1, WB) if R > 1 else jr[ln].data
                        m.d.sync += [j_q.eq(j_l.as_signed()), h_q.eq(rd_h[ln])]
                        dlt = Signal(signed(WB + 10), name=f"pb_d{ln}")
                        tj = (j_q << 8) - (j_q << 1) if 2 * A == 254 else j_q * (2 * A)
                        m.d.comb += dlt.eq(Mux(flip, Mux(new_neg, -tj, tj), 0))
                        newh.append((h_q + dlt)[:p.acc_bits])
                        cell_l = pass_wb * P + ln
                        with m.If(pass_v & (cell_l == nxt_cell)):
                            m.d.sync += corr.eq(dlt)
                    with m.If(pass_v):
                        m.d.comb += [h_w.addr.eq(pass_wb), h_w.en.eq(1),
                                     h_w.data.eq(Cat(*newh))]
                        with m.If(pass_wb == B - 1):
                            m.d.sync += [pass_v.eq(0), pass_v0.eq(0), pass_v1.eq(0),
                                         pass_b.eq(0), dcount.eq(0),
                                         slot_j.eq(slot_j + 1), state.eq(TdmState.SLOT)]
                            with m.If(slot_j == n - 1):
                                m.d.sync += slot_j.eq(0)
                                finish_epoch(changed)
        # the per-lane multiplier: r a(t) at the first issue, ks(t) SIN2 at DRAIN 4
        for ln in range(P):
            # SIN[2 theta_i] registered (read at DRAIN 5, theta_i fixed since PREP)
            sin2 = Signal(signed(p.sin_bits), name=f"sin2q{ln}")
            m.d.sync += sin2.eq(sin_rom(p, m, (th_i[ln] << 1)[drop:PB], f"sin2_{ln}"))
            ma = Mux(mul_sel_eta, lf_i[ln][:NOISE_SAMPLE_BITS].as_signed(), sin2)
            mb = Mux(mul_sel_eta, a_t, ks_t)
            prod = Signal(signed(NOISE_SAMPLE_BITS + max(p.noise_bits, p.ks_bits) + 2),
                          name=f"mul{ln}")
            m.d.comb += prod.eq(ma * mb)
            with m.If(mul_sel_eta):
                m.d.sync += eta[ln].eq(prod >> (NOISE_SAMPLE_BITS - 1))
            with m.If((state == TdmState.DRAIN) & dcnt_is[5]):
                m.d.sync += shilp[ln].eq(prod)
            with m.If((state == TdmState.DRAIN) & dcnt_is[6]):
                m.d.sync += x_r[ln].eq(Mux(kur, acc[ln] + om_i[ln],
                                           acc[ln] - (shilp[ln] >> KS_FRAC)))
            with m.If((state == TdmState.DRAIN) & dcnt_is[7]):
                if MOM:
                    m.d.sync += v_r_[ln].eq(Mux(momentum.any(),
                                               vel_i[ln] - (vel_i[ln] >> momentum) + x_r[ln],
                                               x_r[ln]))
                else:
                    m.d.sync += v_r_[ln].eq(x_r[ln])
            with m.If((state == TdmState.DRAIN) & dcnt_is[8]):
                m.d.sync += step[ln].eq((v_r_[ln] + half) >> shift)
            rise0 = y_first[ln] & ~y_prev[ln]
            q_new = Mux(rise0, 0, Mux(found[ln], q_found[ln], th_i[ln][odrop:]))
            m.d.comb += new_th[ln].eq(Mux(onn, q_new << odrop, th_i[ln] + step[ln]))

        # ---- CSR writes
        errs = Signal(Cause)
        cell_d = Signal.like(cell)
        m.d.comb += cell_d.eq(cell)

        def fld(reg, name):
            f_ = regs[reg].layout[name]
            return wdata[f_.offset:f_.offset + f_.width]

        j_we = Signal()
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
                bad_mode = (mv == Mode.PBIT) if not PBIT else Const(0)
                bad_shift = sv > p.max_shift
                bad_mom = kv > p.max_momentum
                with m.If(bad_mode | bad_shift | bad_mom):
                    m.d.comb += errs.eq(Mux(bad_mode, Cause.BAD_MODE, 0)
                                        | Mux(bad_shift, Cause.BAD_SHIFT, 0)
                                        | Mux(bad_mom, Cause.BAD_MOMENTUM, 0))
                with m.Else():
                    m.d.sync += [mode.eq(mv), shift.eq(sv),
                                 *([momentum.eq(kv)] if MOM else []),
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
                m.d.sync += seed.eq(wdata)
            with m.Elif(at("EPOCHS")):
                m.d.sync += epochs.eq(wdata)
            with m.Elif(at("CELL")):
                idx = fld("CELL", "cell")
                with m.If(idx < n):
                    m.d.comb += cell_d.eq(idx)
                with m.Else():
                    m.d.comb += errs.eq(Cause.BAD_CELL)
            with m.Elif(at("PHASE")):
                m.d.comb += host_ph_we.eq(1)
            with m.Elif(at("OMEGA")):
                c_hi = cell[lp:] if P > 1 else cell
                c_lo = cell[:lp] if P > 1 else Const(0, 1)
                m.d.comb += [om_w.addr.eq(c_hi), om_w.en.eq(Const(1, P) << c_lo),
                             om_w.data.eq(Cat(fld("OMEGA", "omega") for _ in range(P)))]
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
        with m.If(host_ph_we):
            c_hi = cell[lp:] if P > 1 else cell
            c_lo = cell[:lp] if P > 1 else Const(0, 1)
            v_ = fld("PHASE", "phase")
            en = Const(1, P) << c_lo if P > 1 else Const(1, 1)
            m.d.comb += [ph_w.addr.eq(ph_addr(bank, c_hi)), ph_w.en.eq(en),
                         ph_w.data.eq(Cat(v_ for _ in range(P)))]
            write_spins(c_hi, [spin_bit(m, v_, "host_spin")] * P, en)

        # JDATA: registered, then (registered again: the address adders stay out of the block
        # RAMs' clock) one write per bank. k <= P: cells g k + f are in different
        # banks (one lane each); k = R P: bank l gets cells g k + r P + l, r < R, all of word
        # row g (batches g R + r). The diagonal and cells >= n are written as 0.
        jq_we = Signal()
        jq_col = Signal.like(jcol)
        jq_grp = Signal.like(jgroup)
        jq_data = Signal(32)
        m.d.sync += [jq_we.eq(j_we), jq_col.eq(jcol), jq_grp.eq(jgroup), jq_data.eq(wdata)]
        jd = regs["JDATA"].layout
        fields = [jq_data[jd[f"w{f}"].offset:jd[f"w{f}"].offset + WB] for f in range(k)]
        gk = Signal(range(groups * k + 1))
        m.d.comb += gk.eq(jq_grp * k)
        for ln in range(P if R == 1 else 0):
            f_l = Signal(max(lp, 1), name=f"jf{ln}")
            m.d.comb += f_l.eq(ln - gk)             # mod P
            c_l = Signal(range(groups * k + P + 1), name=f"jcell{ln}")
            m.d.comb += c_l.eq(gk + f_l)
            ok = jq_we & (f_l < k) & (c_l < n)
            row = c_l >> lp
            m.d.sync += [jw[ln].addr.eq(row * n + jq_col), jw[ln].en.eq(ok),
                         jw[ln].data.eq(Mux(c_l == jq_col, 0, Array(fields)[f_l] if k > 1
                                           else fields[0]))]
        for ln in range(P if R > 1 else 0):
            lanes_w = []
            for r in range(R):
                c_r = gk + r * P + ln
                lanes_w.append(Mux((c_r == jq_col) | (c_r >= n), 0, fields[r * P + ln]))
            m.d.sync += [jw[ln].addr.eq(jq_grp * n + jq_col), jw[ln].en.eq(jq_we),
                         jw[ln].data.eq(Cat(*lanes_w))]

        # PHASE / OMEGA accesses and SINCOS_INC reads advance CELL (a refused write does not)
        step_cell = (((wr & ~busy) | bus.r_stb) & (at("PHASE") | at("OMEGA"))
                     | bus.r_stb & at("SINCOS_INC"))
        with m.If(step_cell):
            m.d.comb += cell_d.eq(Mux(cell == n - 1, 0, cell + 1))
        m.d.sync += cell.eq(cell_d)

        # ---- CSR reads: PHASE / OMEGA / SINCOS through the host read ports at CELL's next
        # value (the copy OnnArray registers every clock)
        cd_hi = cell_d[lp:] if P > 1 else cell_d
        h_lane = Signal(max(lp, 1))
        m.d.sync += h_lane.eq(cell_d[:lp] if P > 1 else 0)
        m.d.comb += [ph_h.addr.eq(ph_addr(bank, cd_hi)), om_h.addr.eq(cd_hi)]
        th_sc = Signal(PB)
        om_sc = Signal(signed(p.omega_bits))
        m.d.comb += [th_sc.eq(Array(lanes_of(ph_h.data, PB, "u"))[h_lane]),
                     om_sc.eq(Array(lanes_of(om_h.data, p.omega_bits, "s"))[h_lane])]
        s_out = sin_rom(p, m, th_sc[drop:], "ro_sin")
        th_cos = Signal(PB)
        m.d.comb += th_cos.eq(th_sc + (1 << (PB - 2)))
        c_out = sin_rom(p, m, th_cos[drop:], "ro_cos")
        info = regs.pack("INFO", n=n, phase_bits=PB, weight_bits=WB, sin_bits=p.sin_bits,
                         parallel=0, pbit=int(PBIT))
        status = Signal(regs["STATUS"].layout)
        config = Signal(regs["CONFIG"].layout)
        m.d.comb += [config.mode.eq(mode), config.shift.eq(shift),
                     config.until_stable.eq(until_stable), config.momentum.eq(momentum)]
        m.d.comb += [status.busy.eq(busy), status.done.eq(done), status.stable.eq(stable),
                     status.error.eq(cause != 0), status.cause.eq(cause)]
        read_registers(m, bus, regs, {
            "INFO": info, "CONFIG": config.as_value(), "KS_MAX": ks_max, "KS_INC": ks_inc,
            "NOISE_AMP": a0, "NOISE_DEC": a_dec, "SEED": seed, "EPOCHS": epochs,
            "STATUS": status.as_value(), "EPOCH": t, "CYCLES": cycles, "CELL": cell,
            "PHASE": th_sc, "OMEGA": om_sc.as_unsigned(), "SINCOS": Cat(s_out, c_out),
            "SINCOS_INC": Cat(s_out, c_out),
            "SPINS": [spins[32 * w:32 * (w + 1)] for w in range(regs["SPINS"].count)],
            "JADDR": jcol | (jgroup << 16)}, addr=addr)
        return m

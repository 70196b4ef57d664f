"""The oscillator-cell array RTL (:class:`OnnArray`): registers, coupling storage (memory or
flip-flops), the per-cell pipeline and the control FSM (:class:`State`)."""

from amaranth import Array, Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import enum, memory, wiring
from amaranth.lib.wiring import In

from ..csr import CsrSignature, read_registers
from .cells import COPY_MARKER, adder_tree, lfsr_advance, sin_rom, spin_bit
from .params import (
    KS_FRAC,
    LFSR_BITS,
    NOISE_SAMPLE_BITS,
    SCHED_FRAC,
    SEED_MUL,
    Cause,
    Mode,
    OnnParams,
    epoch_cycles,
    start_cycles,
    weights_per_word,
)
from .registers import register_map

__all__ = ["OnnArray", "State"]


class State(enum.Enum):
    """The control FSM's states (``OnnArray``: one run is SEED, DRAW unless keep_phases, then
    NEXT -> ISSUE -> DRAIN per epoch, back to IDLE)."""
    IDLE = 0
    SEED = 1     # the LFSRs load their seeds
    DRAW = 2     # the initial phases come from the advanced LFSRs
    NEXT = 3     # an epoch's first issue, or the end of the run
    ISSUE = 4    # accumulation steps
    DRAIN = 5    # the pipeline behind the last issue, then the phase write


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
    :attr:`start_cycles` (seed, and draw unless keep_phases) before the first epoch. Builds
    ``with_hold``: a cell whose HOLD bit is set keeps its phase and velocity (no draw, no epoch
    write, no PBIT flip); it still drives the others. SIN and COS of consecutive cells stream
    out of SINCOS_INC, one read per clock.

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
        mode = Signal(Mode, init=Mode.OIM)
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
        cause = Signal(Cause)
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
        mode_c = copy_regs("mode", Mode, init=Mode.OIM)
        shift_c = copy_regs("shift", range(p.max_shift + 1))
        seed_c = copy_regs("seed", 32, init=1)
        mom_c = copy_regs("mom", 3) if p.max_momentum else []

        # ---- per-cell state
        theta = [Signal(PB, name=f"theta{i}") for i in range(n)]
        lfsr = [Signal(LFSR_BITS, name=f"lfsr{i}") for i in range(n)]
        omega = [Signal(signed(p.omega_bits), name=f"omega{i}") for i in range(n)]
        # HOLD (builds with_hold): a held cell's phase and velocity are never written by the
        # array (draw, epoch, PBIT slot); it still drives the others through its phase
        hold = Signal(n) if p.with_hold else Const(0, n)

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
                    s1_neg[i // G] = spin_bit(m, c_s1_thj[i], f"s1_spin{i // G}")
            for i in range(n):
                d = Signal(PB, name=f"d{i}")
                u2 = c_u_sin2[i]
                m.d.comb += d.eq(Mux(u2, theta[i] << 1, c_s1_thj[i] - theta[i]))
                sv, smag, sneg = sin_rom(p, m, d[drop:], f"sin{i}", with_magnitude=True)
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
                    sv = sin_rom(p, m, d[drop:], f"sin{i}_{jj}")
                    o = square(theta[jj][odrop:], c_s1_tick[i])
                    terms.append(Mux(c_onn[i], Mux(o, J[i][jj], -J[i][jj]), J[i][jj] * sv))
                # the tree sees the phases of the s1 clock: in parallel builds theta is stable
                # during the whole accumulation, so s1 and the issue clock agree
                s2_total = Signal(signed(p.acc_bits), name=f"s2_total{i}")
                with m.If(c_s1_valid[i]):
                    m.d.sync += s2_total.eq(adder_tree(terms) if terms else 0)
                with m.If(c_s2_valid[i]):
                    m.d.sync += s3_term[i].eq(s2_total)
                d2 = Signal(PB, name=f"d2_{i}")
                m.d.comb += d2.eq(theta[i] << 1)
                sin2 = sin_rom(p, m, d2[drop:], f"sin2_{i}")
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
            held_j = Signal()           # a held cell keeps its spin: no flip, no write
            m.d.comb += held_j.eq(hold.bit_select(s2_j, 1))
            field = Signal(signed(acc_shape.width + 1))
            new_neg = Signal()
            decide = Mux(field > 0, 0, Mux(field < 0, 1, own_neg))
            m.d.comb += [th_j.eq(Array(theta)[s2_j]), own_neg.eq(spin_bit(m, th_j, "s2_own")),
                         field.eq(Array(acc)[s2_j] + Array(eta)[s2_j]),
                         new_neg.eq(Mux(held_j, own_neg, decide) if p.with_hold else decide)]
            # s3 holds a slot whose spin did not flip: nothing to add
            c_skip = local("s3_skip", slot & (new_neg == own_neg))
            new_phase = Signal(PB)
            m.d.comb += new_phase.eq(new_neg << (PB - 1))
            with m.If(first_issue):
                m.d.sync += p_changed.eq(0)
            with m.If(slot & ~held_j & (new_phase != th_j)):
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
                         changed[i].eq(Mux(c_onn[i], q_theta != theta[i], step.any())
                                       & ~hold[i])]

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
        state = Signal(State)
        state_next = Signal.like(state)
        remaining_next = Signal.like(remaining)
        m.d.comb += [state_next.eq(state), remaining_next.eq(remaining)]
        m.d.sync += [state.eq(state_next), remaining.eq(remaining_next)]
        do_seed = local("do_seed", state_next == State.SEED)
        do_draw = local("do_draw", state_next == State.DRAW)
        do_advance = local("do_advance", (state_next == State.DRAW)
                           | ((state_next == State.NEXT) & remaining_next.any() & ~fill_next))
        for i in range(n):
            with m.If(do_seed[i]):
                s = c_seed[i] ^ Const(((i + 1) * SEED_MUL) & 0xFFFFFFFF, 32)
                m.d.sync += lfsr[i].eq(Mux(s == 0, 1, s))
            with m.Elif(do_advance[i]):
                nxt = Signal(LFSR_BITS, name=f"lfsr_next{i}")
                m.d.comb += nxt.eq(lfsr_advance(lfsr[i], p.lfsr_steps))
                m.d.sync += lfsr[i].eq(nxt)
                with m.If(do_draw[i] & ~hold[i]):
                    m.d.sync += theta[i].eq(nxt[:PB])
            with m.If(c_u_write[i] & ~c_pb[i] & ~hold[i]):
                m.d.sync += theta[i].eq(new_theta[i])
            if PBIT:
                with m.If(slot & (s2_j == i) & ~hold[i]):
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
                with m.Elif(c_u_write[i] & ~c_onn[i] & ~c_pb[i] & ~hold[i]):
                    m.d.sync += vel.eq(x_of[i] - half_g[c])
                m.d.sync += lk[i].eq(Mux(mom_c[c].any(), vel - (vel >> mom_c[c]), 0)
                                     + half_c[c])
        with m.If(state == State.IDLE):
            with m.If(wr & at("CMD") & c_start):
                m.d.sync += [busy.eq(1), done.eq(0), stable.eq(0), keep.eq(c_keep),
                             t.eq(0), cycles.eq(0), ks_acc.eq(0), dec_acc.eq(0)]
                m.d.comb += [remaining_next.eq(epochs), state_next.eq(State.SEED)]
                if PBIT:
                    m.d.comb += fill_next.eq(mode == Mode.PBIT)
            with m.Elif(wr & at("CMD") & c_resume):
                m.d.sync += [busy.eq(1), done.eq(0)]
                m.d.comb += [remaining_next.eq(epochs), state_next.eq(State.NEXT)]
                if PBIT:
                    m.d.comb += fill_next.eq(mode == Mode.PBIT)
        with m.If(state == State.SEED):
            with m.If(keep):
                m.d.comb += state_next.eq(State.NEXT)
            with m.Else():
                m.d.comb += state_next.eq(State.DRAW)
        with m.If(state == State.DRAW):
            m.d.comb += state_next.eq(State.NEXT)
        with m.If(state == State.NEXT):
            # the epoch's first issue (chained from the phase write without a spare clock)
            with m.If(remaining == 0):
                m.d.sync += [busy.eq(0), done.eq(1)]
                m.d.comb += state_next.eq(State.IDLE)
            with m.Else():
                m.d.comb += [issue.eq(1), first_issue.eq(~fill)]
                m.d.comb += state_next.eq(State.ISSUE)
                with m.If(last_issue):
                    m.d.comb += state_next.eq(State.DRAIN)
        with m.If(state == State.ISSUE):
            m.d.comb += issue.eq(1)
            with m.If(last_issue):
                m.d.comb += state_next.eq(State.DRAIN)
        with m.If(state == State.DRAIN):
            with m.If(u_write & fill):      # the PBIT fill pass: no epoch, none counted
                m.d.comb += [fill_next.eq(0), state_next.eq(State.NEXT)]
            with m.Elif(u_write):
                finish_epoch()
                with m.If((remaining == 1) | (until_stable & ~any_change)):
                    m.d.sync += [busy.eq(0), done.eq(1)]
                    m.d.comb += state_next.eq(State.IDLE)
                with m.Else():
                    m.d.comb += state_next.eq(State.NEXT)

        # ---- CSR writes
        errs = Signal(Cause)
        m.d.comb += errs.eq(0)
        cell_d = Signal.like(cell)          # CELL's next value
        m.d.comb += cell_d.eq(cell)

        def fld(reg, name):
            f = regs[reg].layout[name]
            return wdata[f.offset:f.offset + f.width]

        hold_words = regs["HOLD"].count if p.with_hold else 0
        at_hold = Const(0)
        for w in range(hold_words):
            at_hold = at_hold | at("HOLD", w)
        with m.If(wr):
            with m.If(at("CMD")):
                with m.If((c_start | c_resume) & busy):
                    m.d.comb += errs.eq(Cause.BUSY)
                with m.If(c_clear):
                    m.d.sync += cause.eq(0)
            with m.Elif(busy & (at("CONFIG") | at("KS_MAX") | at("KS_INC") | at("NOISE_AMP")
                                | at("NOISE_DEC") | at("SEED") | at("EPOCHS") | at("PHASE")
                                | at("OMEGA") | at("JDATA") | at_hold)):
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
            for w in range(hold_words):
                with m.Elif(at("HOLD", w)):
                    m.d.sync += hold[32 * w:32 * (w + 1)].eq(wdata)
            with m.Elif(at("JDATA")):
                m.d.comb += j_we.eq(1)
                m.d.sync += jgroup.eq(Mux(jgroup == groups - 1, 0, jgroup + 1))
                with m.If(jgroup == groups - 1):
                    m.d.sync += jcol.eq(Mux(jcol == n - 1, 0, jcol + 1))
        with m.If(errs.any()):
            m.d.sync += cause.eq(cause | errs)
        # PHASE / OMEGA accesses and SINCOS_INC reads advance CELL (a refused write does not)
        step_cell = (((wr & ~busy) | bus.r_stb) & (at("PHASE") | at("OMEGA"))
                     | bus.r_stb & at("SINCOS_INC"))
        with m.If(step_cell):
            m.d.comb += cell_d.eq(Mux(cell == n - 1, 0, cell + 1))
        m.d.sync += cell.eq(cell_d)

        # ---- CSR reads (registered)
        info = regs.pack("INFO", n=n, phase_bits=PB, weight_bits=WB, sin_bits=p.sin_bits,
                         parallel=int(p.with_parallel), pbit=int(p.with_pbit),
                         hold=int(p.with_hold))
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
        s_out = sin_rom(p, m, th_sc[drop:], "ro_sin")
        th_cos = Signal(PB)
        m.d.comb += th_cos.eq(th_sc + (1 << (PB - 2)))
        c_out = sin_rom(p, m, th_cos[drop:], "ro_cos")
        spins = Signal(n)
        for i in range(n):
            m.d.comb += spins[i].eq(spin_bit(m, theta[i], f"spin_q{i}"))
        read_registers(m, bus, regs, {
            "INFO": info, "CONFIG": config.as_value(), "KS_MAX": ks_max, "KS_INC": ks_inc,
            "NOISE_AMP": a0, "NOISE_DEC": a_dec, "SEED": seed, "EPOCHS": epochs,
            "STATUS": status.as_value(), "EPOCH": t, "CYCLES": cycles, "CELL": cell,
            "PHASE": th_sc, "OMEGA": om_sc.as_unsigned(), "SINCOS": Cat(s_out, c_out),
            "SINCOS_INC": Cat(s_out, c_out),
            "SPINS": [spins[32 * w:32 * (w + 1)] for w in range(regs["SPINS"].count)],
            "JADDR": jcol | (jgroup << 16),
            **({"HOLD": [hold[32 * w:32 * (w + 1)] for w in range(hold_words)]}
               if p.with_hold else {})}, addr=addr)
        return m

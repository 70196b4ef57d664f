# Ref: RISC-V Unprivileged ISA 20191213 (RV32I, M, Zicsr, Zicntr, Zifencei); Privileged
#      Architecture 20211203 (machine mode); riscv-formal RVFI (rvfi_* port names).
"""The ``compact`` variant of :class:`hdl.riscv.core.Core` (``CoreParams(variant="compact")``):
the same instruction set, traps, ports and retire port, built for area instead of speed.

One instruction at a time, as a small state machine:

- **FETCH**: the fetch address goes out on ``ibus``; the answer is latched into ``ir``, decoded
  as it arrives (the decode is registered with it), and its rs1/rs2 fields address the
  register file (a block RAM), whose outputs then hold.
- **EXEC** (one clock): one adder (ALU, addresses, jalr targets, comparisons), a second for
  pc + immediate (branch/jal targets, auipc) and pc + 4. Results go into the one result
  register ``res``; the register file is written from it in the next clock (the first of the
  next FETCH: an answer comes at least one clock after its request, so the next instruction's
  operands are read after the write). A load or store puts its checked address in ``res``.
- **MEM**: sends the request from ``res`` (the bus sees flip-flops) and waits for the answer.
- **SHIFT**: shifts ``res`` by four bits per clock while four or more are left, then by
  one (no barrel shifter).
- **WAIT**: M extension (``with_muldiv``, the same unit as the pipelined core) and custom-0.
- **BRANCH**: the second clock of a branch to a misaligned target (it traps if taken).
- **TRAP**, **TRAP2**: trap entry over two clocks (cause and mtval were put in ``cause`` and
  ``res``): TRAP writes mtval and mcause/mstatus and reads mtvec, TRAP2 writes mepc and jumps.

CSRs in block RAM: the 32-bit CSRs without side effects of their own (mtvec, mscratch, mepc,
mtval, pmpaddr0) and the high halves of mcycle and minstret (``WORD_CSRS``) are words 32-63 of
the register file's block RAM, not flip-flops: read through the one AND-OR of every CSR, a
32-bit flip-flop CSR costs about two LUTs per bit, and the RAM's read port is there anyway. A
SYSTEM instruction's rs2 port reads the word its CSR number selects (``csr_word``: five bits of
the number; mret's field selects mepc's word, so mret reads its target like a CSR instruction);
a CSR instruction writes the word in EXEC from the CSR write data while ``res`` takes the old
value for rd. mtvec's reset value is the RAM's initial content (a reset does not restore it:
the privileged spec leaves it unspecified).

The counters' low halves are flip-flops. A carry into a high half is added by a three-clock
sequence at the start of FETCH, before the request goes out (INC1 reads the half on rs1's port
and a word holding 1 on rs2's, INC2 adds them with the ALU adder into ``res``, INC3 writes it
back). minstret's carry is known in FETCH's first clock (the retire is counted then), so
minstreth is always current; mcycle's carry waits for the next FETCH, so a read of mcycleh gives
its value at the start of the reading instruction's fetch, and the usual high/low/high read
sequence stays consistent.

Clocks per instruction with single-cycle memories: 3 for ALU, CSR, branches and jumps; 5 for
loads and stores; 3 + (shift amount / 4) + (shift amount mod 4) for shifts; 3 + 2 for traps
and interrupts; 3 more for a counter's carry into its high half (once per 2^32 clocks or
instructions). Interrupts are taken at the start of EXEC when ``mstatus.MIE`` and
``mie & mip``.
"""

from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.lib import enum, memory

from .isa import Cause, Csr, Opcode
from .parts import (
    WORD_CSRS,
    csr_block,
    csr_update,
    data_request,
    load_align,
    mem_lanes,
    rvfi_retire,
    store_data,
)

__all__ = ["elaborate_compact", "csr_word"]

# Five bits of a CSR number (bits 31:20 of the instruction) that tell the WORD_CSRS apart, give
# the user-mode counter aliases (cycleh, instreth) their machine counters' words and map mret's
# field (0x302) to mepc's word (0x341): the two differ in bits 0, 1 and 6, so bit 0 of the index
# is b0 ^ b1.
_WORD_BITS = (lambda b: b[0] ^ b[1], lambda b: b[0] & b[1], lambda b: b[4], lambda b: b[2],
              lambda b: b[11])
_MRET_FIELD = 0x302
_ONE = 63                             # a word that holds 1 (the counters' high halves add it)


def csr_word(number):
    """The register-file word that holds CSR ``number`` if it is one of the ``WORD_CSRS``: an
    ``int`` for an ``int``, else a 6-bit value (for the 12-bit field of an instruction)."""
    if isinstance(number, int):
        bits = [(number >> i) & 1 for i in range(12)]
        return 32 + sum(f(bits) << i for i, f in enumerate(_WORD_BITS))
    return Cat(*(f(number) for f in _WORD_BITS), Const(1, 1))


_WORDS = {csr: csr_word(csr.value) for csr in WORD_CSRS}
assert len(set(_WORDS.values())) == len(_WORDS) and _ONE not in _WORDS.values()
assert csr_word(_MRET_FIELD) == _WORDS[Csr.MEPC]
assert csr_word(Csr.CYCLEH.value) == _WORDS[Csr.MCYCLEH]
assert csr_word(Csr.INSTRETH.value) == _WORDS[Csr.MINSTRETH]


class State(enum.Enum):
    FETCH = 0
    EXEC = 1
    MEM = 2
    SHIFT = 3
    WAIT = 4
    TRAP = 5
    BRANCH = 6
    TRAP2 = 7


def elaborate_compact(core, platform):
    """Build ``core`` (a :class:`Core` with ``params.variant == "compact"``)."""
    m = Module()
    p = core.params
    ibus, dbus = core.ibus, core.dbus

    # Register file: block RAM, words 0-31 the registers, 32-63 the WORD_CSRS and the word that
    # holds 1 (see the module docstring). Reads and writes never meet in one clock, so the read
    # ports need no transparency, and ``no_rw_check`` tells Yosys not to build the collision
    # logic it would otherwise add around every read port (on iCE40 a flip-flop and a mux per
    # bit and an address compare: 39 SB_LUT4 and 33 flip-flops per port, and one LUT level
    # after the RAM).
    init = [0] * 64
    init[_WORDS[Csr.MTVEC]], init[_ONE] = p.mtvec_reset, 1
    m.submodules.regs = regs = memory.Memory(shape=32, depth=64, init=init,
                                             attrs={"no_rw_check": 1})
    rf_w = regs.write_port()
    rf_r1 = regs.read_port()
    rf_r2 = regs.read_port()

    state = Signal(State)
    pc = Signal(32, init=p.reset_pc)
    ir = Signal(32)
    fault = Signal()                  # the fetch of ``ir`` was answered by err
    res = Signal(32)                  # result (or mtval on the way to TRAP)
    res_next = Signal(32)
    cause = Signal(5)
    cause_irq = Signal()
    wb = Signal()                     # write ``res`` to rd in this clock
    f_acc = Signal()                  # fetch request accepted, answer pending
    cnt = Signal(5)                   # shift bits left
    big = Signal()                    # shift by 4 in this clock (else by 1)
    taken_q = Signal()
    redir = Signal()                  # FETCH's first clock after a taken branch or a jal
    tgt_q = Signal(32)                # its target

    in_exec = state == State.EXEC
    in_mem = state == State.MEM
    in_trap, in_trap2 = state == State.TRAP, state == State.TRAP2
    # INC1-INC3: three clocks of FETCH, before its request, that add a carry to a counter's
    # high half (one-hot flip-flops beside ``state``, so the state machine keeps its 3 bits).
    in_inc1, in_inc2, in_inc3 = Signal(), Signal(), Signal()
    hold = Signal()                   # a counter's high half is due: FETCH runs INC1-INC3 first
    f_req = Signal()                  # the fetch request is out and stalled
    inc_i = Signal()                  # INC1-INC3 add to minstreth (else mcycleh)
    instret_wrap = Signal()           # minstret's low half carries in this clock
    hi_word = Mux(inc_i, _WORDS[Csr.MINSTRETH], _WORDS[Csr.MCYCLEH])

    # ---------------------------------------------------------------- fetch, decode
    # The answer is decoded as it arrives and the decode registered with it, so EXEC starts
    # from flip-flops (and the register file's outputs). ``_decode`` gets the B/J/U immediate
    # as its target: bit 1 of a target is that of the immediate (the pc is 4-aligned); the
    # target itself (pc + immediate) is added in EXEC.
    f_answer = f_acc & (ibus.ack | ibus.err)
    m.d.comb += [
        ibus.cyc.eq(state == State.FETCH),
        ibus.stb.eq((state == State.FETCH) & ~f_acc & (f_req | ~hold)
                    & ~(in_inc1 | in_inc2 | in_inc3)),
        ibus.adr.eq(Mux(redir, tgt_q[2:32], pc[2:32])), ibus.we.eq(0), ibus.sel.eq(0b1111),
        # rs1; in INC1 the counter's high half.
        rf_r1.addr.eq(Mux(in_inc1, hi_word, ibus.dat_r[15:20])), rf_r1.en.eq(f_answer | in_inc1),
        # rs2, or for a SYSTEM instruction (opcode bits 6:4 set; the other such opcodes are
        # illegal) its CSR's word; in TRAP, mtvec; in INC1, the word that holds 1.
        rf_r2.addr.eq(Mux(in_trap, _WORDS[Csr.MTVEC],
                          Mux(in_inc1, _ONE,
                              Mux(ibus.dat_r[4:7].all(), csr_word(ibus.dat_r[20:32]),
                                  ibus.dat_r[20:25])))),
        rf_r2.en.eq(f_answer | in_trap | in_inc1),
    ]
    imm_bju_in, _ = core._targets(m, ibus.dat_r)
    d_in, imm_in = core._decode(m, ibus.dat_r, pc, ibus.err, imm_bju_in)
    keep = [k for k in d_in if k not in ("insn", "pc", "static", "target", "ret", "pred")]
    d = {k: Signal.like(d_in[k], name=f"q_{k}") for k in keep}
    imm, imm_bju = Signal(32), Signal(32)
    with m.If(ibus.stb & ~ibus.stall):
        m.d.sync += f_acc.eq(1)
    m.d.sync += f_req.eq(ibus.stb & ibus.stall)
    with m.If(f_answer):
        m.d.sync += [f_acc.eq(0), ir.eq(ibus.dat_r), fault.eq(ibus.err),
                     state.eq(State.EXEC), imm.eq(imm_in), imm_bju.eq(imm_bju_in)]
        m.d.sync += [d[k].eq(d_in[k]) for k in keep]
    m.d.sync += wb.eq(0)

    # ---------------------------------------------------------------- operands
    # lui's result is its immediate, auipc's the target adder's sum, a link pc + 4: three
    # sources of ``res`` (below) instead of a mux in front of one.
    pc_tgt, pc4 = Signal(32), Signal(32)
    is_lui, is_auipc = Signal(), Signal()
    with m.If(f_answer):
        m.d.sync += [is_lui.eq(ibus.dat_r[0:7] == Opcode.LUI.value),
                     is_auipc.eq(ibus.dat_r[0:7] == Opcode.AUIPC.value)]
    m.d.comb += [pc_tgt.eq(pc + imm_bju), pc4.eq(pc + 4)]
    f3, rs1 = ir[12:15], ir[15:20]
    a, rs2v = rf_r1.data, rf_r2.data
    sub = d["subtract"]
    b = Signal(32)
    m.d.comb += b.eq(Mux(d["use_imm"], imm, rs2v) ^ sub.replicate(32))

    # ---------------------------------------------------------------- ALU
    addsub = Signal(33)
    m.d.comb += addsub.eq((Cat(sub, a, Const(0, 1)) + Cat(sub, b, Const(0, 1)))[1:34])
    sum_ = addsub[0:32]
    opb = b ^ sub.replicate(32)
    ltu, lt, eq = Signal(), Signal(), Signal()
    m.d.comb += [ltu.eq(~addsub[32]), lt.eq(Mux(a[31] ^ opb[31], a[31], ltu)),
                 eq.eq((a ^ b).all())]
    lop = d["lop"]
    fast = Signal(32)
    m.d.comb += fast.eq(Mux(d["sel_add"], sum_, 0) | Mux(lop == 1, a ^ b, 0)
                        | Mux(lop == 2, a | b, 0) | Mux(lop == 3, a & b, 0)
                        | Mux(d["sel_slt"], Mux(f3[0], ltu, lt), 0))
    taken = Signal()
    m.d.comb += taken.eq(((d["br_eq"] & eq) | (d["br_lt"] & lt) | (d["br_ltu"] & ltu))
                         ^ f3[0])
    is_shift = d["sel_shl"] | d["sel_shr"]

    # ---------------------------------------------------------------- memory
    # EXEC checks the address and puts it in ``res``; MEM sends it from there (the bus sees
    # flip-flops, not the adder: in the iCEBreaker SoC the adder -> data decoder -> RAM enable
    # path was the critical one) and keeps it until the answer.
    size = f3[0:2]
    is_mem = d["load"] | d["store"]
    misaligned = ((size == 1) & sum_[0]) | ((size == 2) & (sum_[0:2] != 0))
    lanes = mem_lanes(m, size, res[0:2])
    st_data = store_data(m, size, rs2v)
    ld_data = load_align(m, f3, res[0:2], dbus.dat_r)
    _, m_answer = data_request(m, dbus, in_mem, we=d["store"], adr=res[2:32], sel=lanes,
                               dat_w=st_data)

    # ---------------------------------------------------------------- CSRs
    word = rf_r2.data                 # the WORD_CSR a SYSTEM instruction addresses
    csr = csr_block(m, core, d["csr_sel"], f3, rs1, a, word=word)
    irq_pending, irq_cause = csr.irq_pending, csr.irq_cause
    take_irq = Signal()
    m.d.comb += [take_irq.eq(in_exec & irq_pending), core.irq_ack.eq(take_irq)]

    # ---------------------------------------------------------------- M and custom-0
    md_start, md_busy, md_done = Signal(), Signal(), Signal()
    md_result = Signal(32)
    if p.with_muldiv:
        core._muldiv(m, f3, a, rs2v, md_start, md_busy, md_done, md_result)
    c_ready, c_error = Signal(), Signal()
    c_result = Signal(32)
    if p.with_custom0:
        c_go = (in_exec & ~take_irq & d["custom"] & ~d["exc_static"]) \
            | ((state == State.WAIT) & d["custom"])
        cp = core.custom
        m.d.comb += [cp.valid.eq(c_go), cp.insn.eq(ir), cp.rs1.eq(a), cp.rs2.eq(rs2v),
                     c_ready.eq(c_go & cp.ready), c_error.eq(cp.error),
                     c_result.eq(cp.result)]

    # ---------------------------------------------------------------- EXEC
    # Synchronous exceptions known in EXEC (in priority order: fault, illegal, ebreak, ecall,
    # misaligned jal target, misaligned jalr target or data address). A jal to a misaligned
    # target traps in EXEC; a branch to one (rare) takes a second clock (BRANCH) and traps
    # there if taken, so the comparator does not reach the state machine.
    br_mis = d["branch"] & imm_bju[1]
    mis_target = d["jal"] & imm_bju[1]
    mis_jalr = d["jalr"] & sum_[1]
    mis_addr = is_mem & misaligned
    exc = Signal()
    exc_cause = Signal(5)
    m.d.comb += exc.eq(d["exc_static"] | mis_target | mis_jalr | mis_addr)
    with m.If(d["fault"]):
        m.d.comb += exc_cause.eq(Cause.INSN_ACCESS_FAULT.value)
    with m.Elif(d["illegal"]):
        m.d.comb += exc_cause.eq(Cause.ILLEGAL_INSN.value)
    with m.Elif(d["ebreak"]):
        m.d.comb += exc_cause.eq(Cause.BREAKPOINT.value)
    with m.Elif(d["ecall"]):
        m.d.comb += exc_cause.eq(Cause.ECALL_M.value)
    with m.Elif(mis_target | mis_jalr):
        m.d.comb += exc_cause.eq(Cause.INSN_MISALIGNED.value)
    with m.Else():
        m.d.comb += exc_cause.eq(Mux(d["store"], Cause.STORE_MISALIGNED.value,
                                     Cause.LOAD_MISALIGNED.value))

    npc = Signal(32)                  # the next pc of an instruction completing in EXEC (RVFI)
    m.d.comb += npc.eq(Mux(d["jal"] | (d["branch"] & taken), pc_tgt,
                           Mux(d["jalr"], Cat(Const(0, 1), sum_[1:32]),
                               Mux(d["mret"], Cat(Const(0, 2), word[2:32]), pc4))))

    retire = Signal()                 # the instruction completes without a trap this clock
    go_trap = Signal()                # TRAP follows (an exception, or an interrupt taken)
    trap_cause = Signal(5)
    c_err = Signal()                  # custom-0 refused the instruction: illegal
    waits = d["muldiv"] | d["custom"]
    m.d.comb += [trap_cause.eq(Mux(c_err, Cause.ILLEGAL_INSN.value, exc_cause)),
                 c_err.eq(d["custom"] & c_ready & c_error)]
    in_shift, in_wait, in_branch = (state == State.SHIFT), (state == State.WAIT), \
        (state == State.BRANCH)
    m.d.comb += big.eq(cnt[2:5] != 0)

    # State changes (``retire`` and ``go_trap`` send the state machine to FETCH and TRAP).
    with m.Switch(state):
        with m.Case(State.EXEC):
            with m.If(take_irq | exc | c_err):
                m.d.comb += go_trap.eq(1)
            with m.Elif(br_mis):
                m.d.sync += [state.eq(State.BRANCH), taken_q.eq(taken)]
            with m.Elif(is_mem):
                m.d.sync += state.eq(State.MEM)
            with m.Elif(is_shift):
                m.d.sync += cnt.eq(b[0:5])
                with m.If(b[0:5] != 0):
                    m.d.sync += state.eq(State.SHIFT)
            with m.Elif(waits & ~c_ready):
                m.d.comb += md_start.eq(d["muldiv"])
                m.d.sync += state.eq(State.WAIT)
        with m.Case(State.MEM):
            with m.If(m_answer & dbus.err):
                m.d.comb += [go_trap.eq(1),
                             trap_cause.eq(Mux(d["store"], Cause.STORE_ACCESS_FAULT.value,
                                               Cause.LOAD_ACCESS_FAULT.value))]
        with m.Case(State.SHIFT):
            m.d.sync += cnt.eq(cnt - Mux(big, 4, 1))
        with m.Case(State.WAIT):
            m.d.comb += go_trap.eq(c_err)
        with m.Case(State.BRANCH):
            m.d.comb += [go_trap.eq(taken_q), trap_cause.eq(Cause.INSN_MISALIGNED.value)]
        with m.Case(State.TRAP):
            m.d.sync += state.eq(State.TRAP2)
        with m.Case(State.TRAP2):
            m.d.sync += [pc.eq(Cat(Const(0, 2), word[2:32])), state.eq(State.FETCH)]

    # A counter's high half: INC1 reads it and the word that holds 1 (and sets up the adder for
    # rs1 + rs2), INC2 adds them into ``res``, INC3 writes ``res`` back.
    m.d.sync += [in_inc1.eq((state == State.FETCH) & ~f_acc & ~f_req & hold
                            & ~(in_inc1 | in_inc2 | in_inc3)),
                 in_inc2.eq(in_inc1), in_inc3.eq(in_inc2)]
    with m.If(in_inc1):
        m.d.sync += [d["subtract"].eq(0), d["use_imm"].eq(0), d["jalr"].eq(0)]
    with m.If(~(in_inc1 | in_inc2 | in_inc3)):
        m.d.sync += inc_i.eq(instret_wrap)

    e_plain = in_exec & ~take_irq & ~d["exc_static"] & ~mis_target
    # ``retire``: the instruction completes without a trap in this clock; written flat (an
    # address trap reaches it only through jalr's target bit 1).
    m.d.comb += retire.eq(
        (e_plain & ~mis_jalr & ~c_err & ~br_mis & ~is_mem & ~(is_shift & (b[0:5] != 0))
         & ~(waits & ~c_ready))
        | (in_mem & m_answer & ~dbus.err) | (in_shift & (cnt == Mux(big, 4, 1)))
        | (in_wait & ~c_err & (md_done | c_ready)) | (in_branch & ~taken_q))

    # The next ``res``: a flat AND-OR over selects that are one-hot whenever the value is
    # used. ``res`` matters only in the clock after it is loaded (write-back, or mtval in TRAP;
    # SHIFT reads it every clock), so the EXEC terms are not gated by what else happens in that
    # clock (a load, a wait, a branch to BRANCH load ``res`` again before it is used), and
    # their selects come from the registered decode and the state alone, not the interrupt
    # decision (TRAP writes mtval 0 for an interrupt): only the address-trap terms see the
    # adder, and they select the adder's sum.
    e_res = in_exec & ~d["exc_static"] & ~mis_target
    e_exc = in_exec & d["exc_static"]
    t_pc = d["fault"] | (~d["illegal"] & d["ebreak"])
    t_ir = ~d["fault"] & d["illegal"]
    m_err = in_mem & m_answer & dbus.err
    terms = [
        (e_res, fast), (e_res & is_lui, imm),
        (e_res & (d["jal"] | (d["jalr"] & ~mis_jalr)), pc4),
        (e_res & d["csr"], csr.rdata),
        ((e_res | in_wait) & d["custom"] & ~c_error, c_result),
        (in_wait & ~d["custom"], md_result),
        (e_res & is_shift, a),
        (in_shift & d["sel_shl"] & big, Cat(Const(0, 4), res[0:28])),
        (in_shift & d["sel_shl"] & ~big, Cat(Const(0, 1), res[0:31])),
        (in_shift & ~d["sel_shl"] & big, Cat(res[4:32], (ir[30] & res[31]).replicate(4))),
        (in_shift & ~d["sel_shl"] & ~big, Cat(res[1:32], ir[30] & res[31])),
        (in_mem & ~m_answer, res), (in_mem & m_answer & ~dbus.err, ld_data),
        ((e_exc & t_pc) | in_trap, pc), ((e_exc & t_ir) | c_err, ir),
        ((in_exec & ~d["exc_static"] & mis_target) | in_branch | (e_res & is_auipc), pc_tgt),
        # mtval of an address trap; a load or store that does not trap loads it too (MEM
        # loads ``res`` again), so only jalr's select waits for the adder.
        (m_err, res),
        ((e_res & (is_mem | mis_jalr)) | in_inc2, Cat(sum_[0] & ~d["jalr"], sum_[1:32])),
    ]
    rn = Const(0, 32)
    for sel_, value in terms:
        rn = rn | Mux(sel_, value, 0)
    m.d.comb += res_next.eq(rn)
    m.d.sync += res.eq(res_next)

    with m.If(go_trap):
        m.d.sync += [state.eq(State.TRAP), cause.eq(Mux(take_irq, irq_cause, trap_cause)),
                     cause_irq.eq(take_irq)]
    # The next pc. A taken branch or a jal goes to its target through ``redir``: the target is
    # registered in EXEC and chosen in FETCH's first clock, so the comparator (the adder's
    # carry out) reaches one flip-flop, not the pc's 32.
    m.d.sync += redir.eq(0)
    with m.If(in_exec):
        m.d.sync += tgt_q.eq(pc_tgt)
    with m.If(redir):
        m.d.sync += pc.eq(tgt_q)
    with m.If(retire):
        m.d.sync += [state.eq(State.FETCH), wb.eq(d["writes_rd"]),
                     redir.eq(in_exec & (d["jal"] | (d["branch"] & taken))),
                     pc.eq(Mux(in_exec & d["jalr"], Cat(Const(0, 1), sum_[1:32]),
                               Mux(in_exec & d["mret"], Cat(Const(0, 2), word[2:32]),
                                   pc4)))]

    # CSR updates: counters, trap entry (in TRAP), mret and CSR writes (in EXEC).
    # The count of a retiring instruction is added in the next clock (the next instruction
    # reads the counters at least three clocks later), so neither the adder nor the trap
    # checks reach minstret's 64-bit carry chain; a CSR instruction that writes minstret is
    # not counted. A CSR instruction and mret cannot take an address trap, so their writes
    # depend on the registered decode only.
    csr_write = e_plain & d["csr"] & d["csr_writes"]
    counted = Signal()
    m.d.sync += counted.eq(retire & ~(csr_write & (csr.is_(Csr.MINSTRET)
                                                   | csr.is_(Csr.MINSTRETH))))
    cycle_carry, instret_ones = csr_update(
        m, csr, retire=counted, csr_write=csr_write, trap=in_trap, pc=pc, cause_irq=cause_irq,
        cause=cause, tval=None, mret=e_plain & d["mret"], words=False)

    # The counters' high halves (register-file words) take their low halves' carries in
    # INC1-INC3, entered from FETCH's first clock before the fetch goes out. minstret counts
    # in FETCH's first clock (``counted``) and its carry is known then (its low half was all
    # ones, registered: the half last changed at least two clocks before), so its high half is
    # always current when an instruction reads it. mcycle's carry can come in any clock; it
    # waits in ``pend_c`` for the next FETCH, so a read of mcycleh gives its value at the start
    # of the reading instruction's fetch (software's high, low, high reads stay consistent: a
    # carry between the first and the last makes the two high reads differ). A write to
    # mcycleh drops a waiting carry (the write comes after it).
    ins_ones_q, pend_c = Signal(), Signal()
    m.d.sync += ins_ones_q.eq(instret_ones)
    m.d.comb += [instret_wrap.eq(counted & ins_ones_q),
                 hold.eq(pend_c | instret_wrap)]
    with m.If(in_inc3 & ~inc_i):
        m.d.sync += pend_c.eq(0)
    with m.If(csr_write & csr.is_(Csr.MCYCLEH)):
        m.d.sync += pend_c.eq(0)
    with m.If(cycle_carry):
        m.d.sync += pend_c.eq(1)

    # Register-file writes: rd from ``res`` in the clock after a retire; a WORD_CSR from the CSR
    # write data in EXEC (mepc's and mtvec's bits 1:0 read 0: they are written 0); mtval from
    # ``res`` in TRAP (0 for an interrupt), mepc from ``res`` (the pc) in TRAP2, a counter's
    # high half from ``res`` in INC3.
    word_write = Signal()
    m.d.comb += word_write.eq(csr_write & Cat(*(csr.is_(c) for c in WORD_CSRS)).any())
    aligned = csr.is_(Csr.MEPC) | csr.is_(Csr.MTVEC)
    m.d.comb += [
        rf_w.addr.eq(Mux(wb, ir[7:12], Mux(in_trap, _WORDS[Csr.MTVAL],
                                           Mux(in_trap2, _WORDS[Csr.MEPC],
                                               Mux(in_inc3, hi_word, csr_word(ir[20:32])))))),
        rf_w.data.eq(Mux(word_write, Cat(csr.wdata[0:2] & ~aligned.replicate(2),
                                         csr.wdata[2:32]),
                         Mux(in_trap & cause_irq, 0, res))),
        rf_w.en.eq(wb | word_write | in_trap | in_trap2 | in_inc3),
    ]

    # ---------------------------------------------------------------- RVFI
    if p.with_rvfi:
        # A trap is reported in TRAP2, when mtvec has been read (over rs2's port: its operand
        # is kept for the report); a SYSTEM instruction's rs2 port read a CSR, not rs2.
        rs2_q = Signal(32)
        with m.If(in_trap):
            m.d.sync += rs2_q.eq(rs2v)
        rvfi_retire(m, core.rvfi, valid=retire | (in_trap2 & ~cause_irq), trap=in_trap2,
                    irq_taken=in_trap2 & cause_irq, retire=retire, insn=ir, fault=d["fault"],
                    rs1_rdata=a, rs2_rdata=Mux(in_trap2, rs2_q, rs2v),
                    writes_rd=d["writes_rd"], rd_wdata=res_next, pc_rdata=pc,
                    pc_wdata=Mux(in_trap2, Cat(Const(0, 2), word[2:32]),
                                 Mux(in_exec, npc, pc4)),
                    load=d["load"], store=d["store"], addr=res, lanes=lanes,
                    dat_r=dbus.dat_r, st_data=st_data, reads_rs2=~ir[4:7].all())
    return m

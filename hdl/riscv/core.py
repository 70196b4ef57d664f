# Ref: RISC-V Unprivileged ISA 20191213 (RV32I, M, Zicsr, Zicntr, Zifencei); Privileged
#      Architecture 20211203 (machine mode); riscv-formal RVFI (rvfi_* port names).
"""``Core``: a small RV32I(+M) machine-mode core with a four-stage pipeline.

Pipeline (one instruction per clock when nothing waits):

- **F**etch: the fetch address goes out on ``ibus`` (Wishbone B4 pipelined).
- **D**: the instruction word arrives (D buffers up to two, so the fetch decides from
  flip-flops whether an answer will find room); its rs1/rs2 fields address the register file
  (a block RAM); the B/J/U immediate is selected, and a jal, a backward branch (static
  backward-taken prediction) or a return (a small return-address stack) sends the fetch to
  its target as the instruction moves on.
- **R**: decode from registers (one-hot selects, legality, immediates, pc + immediate,
  lui/auipc/link values), the register file's data, and the operands registered into X. The
  result of the instruction leaving X in the same clock is forwarded into them (ALU results
  on their own mux input, loads/CSRs/M/custom-0/lui-auipc-link on the other).
- e**X**ecute: ALU, branch check, CSR, trap and memory access from flip-flops; the result is
  written back at the end of the clock in which the instruction completes.

Every redirect from X is registered: a wrong branch guess, a jalr (unless a correctly
predicted return), a trap, an interrupt, mret and fence.i set ``flush``, and in the clock
after, whatever entered D, R and X meanwhile is dropped and the fetch leaves for the new pc.
The branch comparator reaches only ``flush`` and the redirect target, not the valid bits, clock
enables or trap logic (the iCE40 critical paths, see docs/riscv.md).

Costs in clocks per instruction (with single-cycle memories): 1 for ALU and correctly
predicted untaken (forward) branches; 2 for shifts and CSR instructions (their results are
registered), loads, stores, jal, correctly predicted taken (backward) branches and returns; 4
for a wrong branch guess, a jalr that is not a predicted return (5 if its immediate has bits
1:0 set), traps and ``mret``; 5 for a wrongly predicted return; 34 for divisions and 2 for
multiplies (``with_muldiv``). A misaligned address or branch target traps in X's second
clock, a bus error in the clock after the answer.

Traps are precise: an instruction that faults writes nothing, and mepc/mcause/mtval follow
``hdl/riscv/isa.py``. Interrupts (MTI, MEI; MEI first) are decided as an instruction moves from
R into X (``mstatus.MIE`` and ``mie & mip`` in that clock, unless the instruction leaving X is a
CSR instruction or ``mret``) and taken in X's first clock, before the instruction executes.

Members
-------
ibus : Out(WishboneSignature)     instruction fetch (reads only)
dbus : Out(WishboneSignature)     loads and stores
irq_timer, irq_external : In(1)   level-sensitive, reflected in mip.MTIP / mip.MEIP
irq_ack : Out(1)                  one clock when the interrupt lines are sampled for an interrupt
                                  (taken in the next clock unless a redirect drops the instruction)
rvfi : Out(RvfiSignature)         retire port (``with_rvfi``), riscv-formal names
custom : Out(CustomSignature)     custom-0 accelerator port (``with_custom0``)
"""

from dataclasses import dataclass

from amaranth import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from ..bus import WishboneSignature
from .compact import elaborate_compact
from .isa import (
    CSR_INFO,
    INSTRUCTIONS,
    RESET_PC,
    Alu,
    Branch,
    Cause,
    Opcode,
    Priv,
    System,
)
from .parts import (
    csr_block,
    csr_update,
    data_request,
    load_data,
    load_selects,
    mem_lanes,
    rvfi_retire,
    store_data,
)

__all__ = ["CoreParams", "Core", "RvfiSignature", "CustomSignature", "FORMAL_ALTOPS"]

# Ref: riscv-formal insns/insn_{mul,mulh,mulhsu,mulhu,div,divu,rem,remu}.v, RISCV_FORMAL_ALTOPS
# (the low 32 bits of each bitmask). funct3 -> (subtract, mask).
FORMAL_ALTOPS = {
    0: (False, 0x5876063E), 1: (False, 0xF6583FB7), 2: (True, 0xECFBE137),
    3: (False, 0x949CE5E8), 4: (True, 0x7F8529EC), 5: (True, 0x10E8FD70),
    6: (True, 0x8DA68FA5), 7: (True, 0x3138D0E1),
}


VARIANTS = ("pipelined", "compact")


@dataclass(frozen=True)
class CoreParams:
    with_muldiv: bool = False
    with_custom0: bool = False
    with_rvfi: bool = True
    ras_depth: int = 2            # return-address stack entries (0: returns are not predicted)
    #: ``"pipelined"``: the four-stage core described above; ``"compact"``: the same ISA,
    #: ports and retire port as a small state machine (``hdl/riscv/compact.py``), about three
    #: clocks per instruction, for boards where logic is scarce (``ras_depth`` is unused).
    variant: str = "pipelined"
    reset_pc: int = RESET_PC
    mtvec_reset: int = RESET_PC
    #: For riscv-formal only (``RISCV_FORMAL_ALTOPS``): M instructions give ``FORMAL_ALTOPS``'s
    #: stand-in results, (rs1 +/- rs2) ^ mask, with the real unit's timing, so the checks
    #: cover their decode, operands, interlocks and write-back without proving a multiplier.
    with_formal_altops: bool = False

    def __post_init__(self):
        if self.with_formal_altops and not self.with_muldiv:
            raise ValueError("with_formal_altops needs with_muldiv=True")
        for name in ("reset_pc", "mtvec_reset"):
            v = getattr(self, name)
            if not isinstance(v, int) or v % 4 or not 0 <= v < 1 << 32:
                raise ValueError(f"{name} must be a 4-aligned 32-bit address, not {v!r}")
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {', '.join(VARIANTS)}, not {self.variant!r}")
        if not isinstance(self.ras_depth, int) or not 0 <= self.ras_depth <= 8:
            raise ValueError(f"ras_depth must be an integer in 0..8, not {self.ras_depth!r}")

    @property
    def name(self) -> str:
        return ("rv32i" + ("m" if self.with_muldiv else "") + ("_x" if self.with_custom0 else "")
                + ("_compact" if self.variant == "compact" else ""))


class RvfiSignature(wiring.Signature):
    """The riscv-formal retire port (one channel, 32-bit)."""

    FIELDS = {
        "valid": 1, "order": 64, "insn": 32, "trap": 1, "halt": 1, "intr": 1, "mode": 2,
        "ixl": 2, "rs1_addr": 5, "rs2_addr": 5, "rs1_rdata": 32, "rs2_rdata": 32,
        "rd_addr": 5, "rd_wdata": 32, "pc_rdata": 32, "pc_wdata": 32, "mem_addr": 32,
        "mem_rmask": 4, "mem_wmask": 4, "mem_rdata": 32, "mem_wdata": 32,
    }

    def __init__(self):
        super().__init__({k: Out(w) for k, w in self.FIELDS.items()})


class CustomSignature(wiring.Signature):
    """Custom-0 accelerator port: ``valid`` with the instruction and operands until ``ready``;
    ``result`` is written to rd; ``error`` makes the instruction trap as illegal."""

    def __init__(self):
        super().__init__({"valid": Out(1), "insn": Out(32), "rs1": Out(32), "rs2": Out(32),
                          "ready": In(1), "result": In(32), "error": In(1)})


def _match(insn, with_muldiv, opcodes=None):
    """Legal-instruction predicate built from the shared table ``INSTRUCTIONS`` (only the
    encodings of ``opcodes`` when given: their opcode field is then not compared)."""
    legal = Const(0)
    for e in INSTRUCTIONS.values():
        if e.muldiv and not with_muldiv:
            continue
        if opcodes is not None:
            if e.opcode not in opcodes:
                continue
            term = Const(1)
            if e.funct3 is not None:
                term &= insn[12:15] == e.funct3
            legal = legal | term
            continue
        term = insn[0:7] == e.opcode.value
        if e.funct3 is not None:
            term &= insn[12:15] == e.funct3
        if e.funct7 is not None:
            term &= insn[25:32] == e.funct7
        if e.funct12 is not None:
            term &= (insn[20:32] == e.funct12) & (insn[15:20] == 0) & (insn[7:12] == 0)
        legal = legal | term
    return legal


class Core(wiring.Component):
    """The control core's interface (members above), shared by its two designs:
    ``Core(params)`` builds :class:`PipelinedCore` or :class:`CompactCore` as
    ``params.variant`` names, so a caller picks a design by parameters alone. The decoder,
    CSR list and multiplier/divider below serve both."""

    def __new__(cls, params: CoreParams = CoreParams()):
        if cls is Core:
            cls = CompactCore if params.variant == "compact" else PipelinedCore
        return super().__new__(cls)

    def __init__(self, params: CoreParams = CoreParams()):
        self.params = params
        members = {
            "ibus": Out(WishboneSignature(30)), "dbus": Out(WishboneSignature(30)),
            "irq_timer": In(1), "irq_external": In(1), "irq_ack": Out(1),
        }
        if params.with_rvfi:
            members["rvfi"] = Out(RvfiSignature())
        if params.with_custom0:
            members["custom"] = Out(CustomSignature())
        super().__init__(members)

    @property
    def _csr_list(self):
        return list(CSR_INFO)

    @staticmethod
    def _is_return(insn):
        """jalr x0, 0(x1 or x5): a return, predicted by the return-address stack."""
        return ((insn[0:7] == Opcode.JALR.value) & (insn[12:15] == 0) & (insn[7:12] == 0)
                & ((insn[15:20] == 1) | (insn[15:20] == 5)) & (insn[20:32] == 0))

    def _return_stack(self, m, insn, pc, update):
        """D: the return-address stack (``ras_depth`` entries, flip-flops). A jal/jalr that
        links (rd = x1 or x5) pushes pc + 4, a return pops, as the instruction moves into R
        (``update``; wrong-path ones included: it only guesses, X checks). The push or pop is
        registered and applied in the next clock (the top read through it), so the pipeline's
        advance logic reaches three flip-flops, not the stack's clock enables.
        Returns (``insn`` is a return, the guess)."""
        depth = self.params.ras_depth
        ret = Signal()
        if depth == 0:
            return ret, Const(0, 32)
        m.d.comb += ret.eq(self._is_return(insn))
        opcode, rd = insn[0:7], insn[7:12]
        link = (((opcode == Opcode.JAL.value) | (opcode == Opcode.JALR.value))
                & ((rd == 1) | (rd == 5)))
        stack = [Signal(30, name=f"ras{i}") for i in range(depth)]
        push_q, pop_q, val_q = Signal(), Signal(), Signal(30)
        m.d.sync += [push_q.eq(update & link), pop_q.eq(update & ret & ~link),
                     val_q.eq(pc[2:32] + 1)]
        with m.If(push_q):
            m.d.sync += [stack[0].eq(val_q)]
            m.d.sync += [stack[i + 1].eq(stack[i]) for i in range(depth - 1)]
        with m.Elif(pop_q):
            m.d.sync += [stack[i].eq(stack[i + 1]) for i in range(depth - 1)]
        top = Mux(push_q, val_q, Mux(pop_q, stack[min(1, depth - 1)], stack[0]))
        return ret, Cat(Const(0, 2), top)

    @staticmethod
    def _targets(m, insn):
        """D: the B (branch), J (jal) or U (auipc) immediate of ``insn`` (R adds the pc), and
        whether the fetch follows the target (jal; a branch backward to an aligned target:
        the pc is 4-aligned, so target bit 1 is immediate bit 1)."""
        opcode = insn[0:7]
        branch = opcode == Opcode.BRANCH.value
        jal = opcode == Opcode.JAL.value
        imm = Signal(32)
        with m.If(branch):
            m.d.comb += imm.eq(Cat(Const(0, 1), insn[8:12], insn[25:31], insn[7],
                                   insn[31]).as_signed())
        with m.Elif(jal):
            m.d.comb += imm.eq(Cat(Const(0, 1), insn[21:31], insn[20], insn[12:20],
                                   insn[31]).as_signed())
        with m.Else():
            m.d.comb += imm.eq(Cat(Const(0, 12), insn[12:32]))
        follow = Signal()
        m.d.comb += follow.eq(jal | (branch & insn[31] & ~imm[1]))
        return imm, follow

    def _decode(self, m, insn, pc, fault, target_in) -> dict:
        """R-stage decode of ``insn`` at ``pc`` (``target_in``: from :meth:`_targets`): the
        signals X needs, as a dict of comb signals (registered into X with the operands)."""
        p = self.params
        d = {}

        def sig(name, width=1):
            s = Signal(width, name=f"d_{name}")
            d[name] = s
            return s

        m.d.comb += [sig("insn", 32).eq(insn), sig("pc", 32).eq(pc), sig("fault").eq(fault)]
        opcode, f3 = insn[0:7], insn[12:15]
        ops = {o: opcode == o.value for o in Opcode}
        for name, o in (("load", Opcode.LOAD), ("store", Opcode.STORE),
                        ("branch", Opcode.BRANCH), ("jal", Opcode.JAL), ("jalr", Opcode.JALR)):
            m.d.comb += sig(name).eq(ops[o])
        custom = sig("custom")
        if p.with_custom0:
            m.d.comb += custom.eq(ops[Opcode.CUSTOM0])
        muldiv = sig("muldiv")
        if p.with_muldiv:
            m.d.comb += muldiv.eq(ops[Opcode.OP] & (insn[25:32] == 1))
        system = ops[Opcode.SYSTEM]
        priv = system & (f3 == System.PRIV.value)
        csr = sig("csr")
        m.d.comb += csr.eq(system & (f3 != System.PRIV.value))
        csr_writes = sig("csr_writes")
        m.d.comb += csr_writes.eq((f3[0:2] == 1) | (insn[15:20] != 0))
        # CSR select: one-hot over CSR_INFO; unknown addresses and writes to read-only CSRs
        # are illegal.
        csr_sel = sig("csr_sel", len(self._csr_list))
        csr_ro = Signal()
        ro = Const(0)
        for i, (c, info) in enumerate(CSR_INFO.items()):
            m.d.comb += csr_sel[i].eq(insn[20:32] == c.value)
            if info.read_only:
                ro = ro | csr_sel[i]
        m.d.comb += csr_ro.eq(ro)
        legal = _match(insn, p.with_muldiv) | (ops[Opcode.CUSTOM0] if p.with_custom0 else 0)
        # ``illegal_op``/``exc_op``: without the CSR address check (``csr_bad``), which the
        # pipelined core makes in X from the registered select; the compact core uses
        # ``illegal``/``exc_static``, which include it.
        m.d.comb += [sig("illegal_op").eq(~legal),
                     sig("csr_bad").eq(csr & ((csr_sel == 0) | (csr_ro & csr_writes))),
                     sig("illegal").eq(d["illegal_op"] | d["csr_bad"])]
        f12 = insn[20:32]
        m.d.comb += [
            sig("ecall").eq(priv & (f12 == Priv.ECALL.value)),
            sig("ebreak").eq(priv & (f12 == Priv.EBREAK.value)),
            sig("exc_op").eq(fault | d["illegal_op"] | d["ecall"] | d["ebreak"]),
            sig("exc_static").eq(d["exc_op"] | d["csr_bad"]),
            sig("mret").eq(priv & (f12 == Priv.MRET.value)),
            sig("fencei").eq(ops[Opcode.MISC_MEM] & f3[0]),
        ]
        op_alu = ops[Opcode.OP] | ops[Opcode.OP_IMM]
        m.d.comb += [
            sig("use_imm").eq(ops[Opcode.OP_IMM] | ops[Opcode.LOAD] | ops[Opcode.STORE]
                              | ops[Opcode.JALR]),
            sig("subtract").eq(ops[Opcode.BRANCH]
                               | (op_alu & ((f3 == Alu.SLT.value) | (f3 == Alu.SLTU.value)))
                               | (ops[Opcode.OP] & (f3 == Alu.ADD.value) & insn[30])),
            sig("writes_rd").eq(~(ops[Opcode.BRANCH] | ops[Opcode.STORE]
                                  | ops[Opcode.MISC_MEM] | priv) & (insn[7:12] != 0)),
            sig("sel_add").eq(op_alu & ~muldiv & (f3 == Alu.ADD.value)),
            sig("sel_shl").eq(op_alu & ~muldiv & (f3 == Alu.SLL.value)),
            sig("sel_shr").eq(op_alu & ~muldiv & (f3 == Alu.SR.value)),
            sig("sel_shift").eq(op_alu & ~muldiv & (f3[0:2] == 1)),
            sig("lop", 2).eq(Mux(op_alu & ~muldiv & (f3 == Alu.XOR.value), 1, 0)
                             | Mux(op_alu & ~muldiv & (f3 == Alu.OR.value), 2, 0)
                             | Mux(op_alu & ~muldiv & (f3 == Alu.AND.value), 3, 0)),
            sig("sel_slt").eq(op_alu & ~muldiv & ((f3 == Alu.SLT.value) | (f3 == Alu.SLTU.value))),
            sig("sel_static").eq(ops[Opcode.LUI] | ops[Opcode.AUIPC] | ops[Opcode.JAL]
                                 | ops[Opcode.JALR] | ops[Opcode.MISC_MEM]),
            sig("sel_fast").eq(op_alu & ~muldiv),
        ]
        # The I/S immediate (the ALU's operand) and lui's; B/J/U ones come from D (target_in).
        imm = Signal(32)
        with m.If(ops[Opcode.STORE]):
            m.d.comb += imm.eq(Cat(insn[7:12], insn[25:32]).as_signed())
        with m.Elif(ops[Opcode.LUI]):
            m.d.comb += imm.eq(Cat(Const(0, 12), insn[12:32]))
        with m.Else():
            m.d.comb += imm.eq(insn[20:32].as_signed())
        target = sig("target", 32)
        pred = sig("pred")
        if p.ras_depth:
            m.d.comb += sig("ret").eq(self._is_return(insn))
        else:
            sig("ret")
        m.d.comb += [target.eq(target_in), pred.eq(ops[Opcode.BRANCH] & insn[31] & ~target_in[1])]
        # Branch condition, one-hot (beq/bne, blt/bge, bltu/bgeu), and its sense relative to
        # the prediction; ``br_ok``: a branch that cannot trap (legal, aligned target).
        branch = ops[Opcode.BRANCH]
        m.d.comb += [
            sig("br_eq").eq(branch & (f3[1:3] == 0)),
            sig("br_lt").eq(branch & (f3[1:3] == 2)),
            sig("br_ltu").eq(branch & (f3[1:3] == 3)),
            sig("br_cmp").eq(branch & f3[2]),
            # slt(i)/blt/bge compare signed, sltu/bltu/bgeu unsigned (the pipelined core's
            # 33-bit comparison)
            sig("cmp_signed").eq(Mux(branch, ~f3[1], ~f3[0])),
            sig("br_inv").eq(f3[0] ^ pred),
            sig("br_ok").eq(branch & ~fault & ~d["illegal_op"] & ~target_in[1]),
        ]
        static = sig("static", 32)        # lui: imm; auipc: pc + imm; jal/jalr/fence.i: pc + 4
        m.d.comb += static.eq(Mux(ops[Opcode.LUI], imm,
                                  Mux(ops[Opcode.AUIPC], target, pc + 4)))
        return d, imm

    def _muldiv(self, m, f3, a, b, start, busy, done, result):
        """M extension: multiplies in two clocks (``*`` into a register: DSP blocks where
        there are any, and the product's adders stay off the forwarding path), divisions in
        33 clocks (restoring, one quotient bit per clock)."""
        is_div = f3[2]
        # Multiply: MULH (s x s), MULHSU (s x u), MULHU (u x u).
        a_s = Cat(a, a[31] & (f3 != 3)).as_signed()
        b_s = Cat(b, b[31] & ((f3 == 1) | (f3 == 0))).as_signed()
        prod = Signal(signed(66))
        prod_q = Signal(64)
        mul_done = Signal()
        m.d.comb += prod.eq(a_s * b_s)
        m.d.sync += [prod_q.eq(prod[0:64]), mul_done.eq(start & ~is_div)]
        # Divide: magnitudes, then signs.
        signed_op = ~f3[0]
        neg_a = signed_op & a[31]
        neg_b = signed_op & b[31]
        count = Signal(range(34))
        rem = Signal(33)
        quo = Signal(32)
        dvs = Signal(32)
        flip_q, flip_r, by_zero = Signal(), Signal(), Signal()
        running = Signal()
        with m.If(start & is_div & ~running):
            m.d.sync += [
                running.eq(1), count.eq(32), rem.eq(0),
                quo.eq(Mux(neg_a, -a, a)), dvs.eq(Mux(neg_b, -b, b)),
                flip_q.eq(neg_a ^ neg_b), flip_r.eq(neg_a), by_zero.eq(b == 0),
            ]
        with m.Elif(running & (count != 0)):
            shifted = Cat(quo[31], rem[0:32])
            diff = Signal(34)
            m.d.comb += diff.eq(shifted - dvs)
            with m.If(~diff[33]):
                m.d.sync += [rem.eq(diff[0:33]), quo.eq(Cat(Const(1, 1), quo[0:31]))]
            with m.Else():
                m.d.sync += [rem.eq(shifted), quo.eq(Cat(Const(0, 1), quo[0:31]))]
            m.d.sync += count.eq(count - 1)
        with m.Elif(running):
            m.d.sync += running.eq(0)
        q = Mux(by_zero, 0xFFFF_FFFF, Mux(flip_q, -quo, quo))
        rr = Mux(flip_r, -rem[0:32], rem[0:32])
        m.d.comb += [
            busy.eq(running),
            done.eq(Mux(is_div, running & (count == 0), mul_done)),
        ]
        if self.params.with_formal_altops:
            alt, alt_q = Signal(32), Signal(32)
            with m.Switch(f3):
                for k, (sub, mask) in FORMAL_ALTOPS.items():
                    with m.Case(k):
                        m.d.comb += alt.eq(((a - b) if sub else (a + b))[0:32] ^ mask)
            with m.If(start & ~running):
                m.d.sync += alt_q.eq(alt)
            m.d.comb += result.eq(alt_q)
            return
        with m.Switch(f3):
            with m.Case(0):
                m.d.comb += result.eq(prod_q[0:32])
            with m.Case(1, 2, 3):
                m.d.comb += result.eq(prod_q[32:64])
            with m.Case(4, 5):
                m.d.comb += result.eq(q)
            with m.Case(6, 7):
                m.d.comb += result.eq(rr)


class PipelinedCore(Core):
    __doc__ = __doc__

    def elaborate(self, platform):
        p = self.params
        m = Module()
        ibus, dbus = self.ibus, self.dbus

        # ---------------------------------------------------------------- register file
        # Block RAM, read at the edge where an instruction moves from D into R. A write at that
        # same edge (by the instruction leaving X) is seen through the ports' transparency
        # (on iCE40 and ECP5 Yosys builds it from a flip-flop and a mux per bit, the same cost
        # as a hand-written bypass; a non-transparent port would cost more: Yosys then delays
        # the write by a clock to give "old data").
        m.submodules.regs = regs = memory.Memory(shape=32, depth=32, init=[])
        rf_w = regs.write_port()
        rf_r1 = regs.read_port(transparent_for=(rf_w,))
        rf_r2 = regs.read_port(transparent_for=(rf_w,))

        # ---------------------------------------------------------------- pipeline state
        fetch_pc = Signal(32, init=p.reset_pc)     # next address to fetch
        f_pending = Signal()                       # a fetch was accepted, answer not yet seen
        f_pending_pc = Signal(32)
        f_discard = Signal()                       # drop the answer of the request in flight
        f_hold = Signal()                          # a request is on the bus but stalled
        f_hold_adr = Signal(30)

        # D buffers up to two words that arrived earlier (head: d_*, then d1_*), so that the
        # fetch decides from flip-flops alone whether an answer will find room.
        d_valid, d1_valid = Signal(), Signal()
        d_insn, d1_insn = Signal(32), Signal(32)
        d_pc, d1_pc = Signal(32), Signal(32)
        d_fault, d1_fault = Signal(), Signal()

        r_valid = Signal()                         # R holds a decoded instruction
        r_insn = Signal(32)
        r_pc = Signal(32)
        r_fault = Signal()
        r_tsrc = Signal(32)                        # the B/J/U immediate, or a return's guess
        r_ret = Signal()                           # R holds a predicted return

        x_valid = Signal()
        x_first = Signal()                         # first clock in X
        # A redirect is registered: in the clock after it, what entered D, R and X meanwhile
        # is wrong-path and is dropped (``r_live``, ``x_live``), and the fetch leaves for
        # ``flush_target``. ``f_redir`` redirects the fetch only: set by X's redirects (with
        # ``flush``) and by a jal, a backward branch or a return moving from D into R (the
        # target is R's ``r_target`` the clock after): these cost 2 clocks when guessed right.
        flush = Signal()
        f_redir = Signal()
        flush_target = Signal(32)
        r_live, x_live = Signal(), Signal()
        # ``ret_bad``: a return that retired last clock went elsewhere than the guess its fetch
        # followed; what is in X now is wrong-path (the redirect leaves this clock).
        ret_bad = Signal()
        m.d.comb += [r_live.eq(r_valid & ~flush), x_live.eq(x_valid & ~flush & ~ret_bad)]

        # ---------------------------------------------------------------- F -> D
        arrive = Signal()       # an instruction word (or a fetch fault) arrives this clock
        answer = f_pending & (ibus.ack | ibus.err)
        m.d.comb += arrive.eq(answer & ~f_discard & ~f_redir)
        dv = Signal()
        dinsn = Signal(32)
        dpc = Signal(32)
        dfault = Signal()
        m.d.comb += [
            dv.eq((d_valid & ~f_redir) | arrive),
            dinsn.eq(Mux(d_valid, d_insn, ibus.dat_r)),
            dpc.eq(Mux(d_valid, d_pc, f_pending_pc)),
            dfault.eq(Mux(d_valid, d_fault, ibus.err)),
        ]

        # ---------------------------------------------------------------- D: branch targets
        # Only what the fetch needs early: the B/J/U immediate (or a return's guess from the
        # return-address stack), and whether the fetch follows the target as the instruction
        # moves into R (jal; backward branches: static backward-taken prediction, never to a
        # misaligned target, which traps in X; returns).
        d_tsrc, d_follow = Signal(32), Signal()
        imm_jbu, follow_imm = self._targets(m, dinsn)
        ras_update = Signal()
        d_ret, ras_top = self._return_stack(m, dinsn, dpc, ras_update)
        m.d.comb += [d_tsrc.eq(Mux(d_ret, ras_top, imm_jbu)), d_follow.eq(follow_imm | d_ret)]
        # R: the target (pc + immediate is added here, from flip-flops, not in D from the bus)
        r_target = Signal(32)
        m.d.comb += r_target.eq(Mux(r_ret, r_tsrc, r_pc + r_tsrc))

        # ---------------------------------------------------------------- R: decode, operands
        # Everything that depends only on the instruction word and its pc is decoded from R's
        # registers and registered into X with the operands, so X's paths start at flip-flops.
        dd, r_imm = self._decode(m, r_insn, r_pc, r_fault, r_target)
        x = {k: Signal.like(v, name=f"x_{k}") for k, v in dd.items()}
        insn, x_pc = x["insn"], x["pc"]
        f3, rd, rs1 = insn[12:15], insn[7:12], insn[15:20]
        f7_5 = insn[30]

        # X's operands: ``a`` = rs1, ``b`` = the ALU's second operand (the immediate or rs2,
        # inverted for a subtraction), ``rs2v`` = rs2 as read (stores, M, custom-0, RVFI).
        a, b, rs2v = Signal(32), Signal(32), Signal(32)
        x_c = {k: Signal(name=f"x_c_{k}") for k in ("one", "mem", "two", "jalr", "md", "custom")}

        # ---------------------------------------------------------------- X: ALU
        # ``b`` arrives inverted for subtractions (set in R): a + b + 1 = a - rs2.
        addsub = Signal(33)
        # One carry chain with ``subtract`` as its carry-in (Cat(c, a) + Cat(c, b) carries c
        # into bit 1); ``a + b + c`` would map to an adder followed by an incrementer.
        # Comparisons extend the subtraction to 33 bits, sign- or zero-extended by the
        # instruction's signedness (``b`` = ~rs2, so its zero extension is 1): bit 32 is then
        # a < rs2, signed or unsigned, one LUT after the carry chain (the extension bits come
        # from flip-flops through one LUT, long before the carry).
        sub_c = x["subtract"]
        sgn = x["cmp_signed"]
        ext_a, ext_b = Signal(), Signal()
        m.d.comb += [ext_a.eq(sgn & a[31]), ext_b.eq(~sgn | b[31])]
        m.d.comb += addsub.eq((Cat(sub_c, a, ext_a) + Cat(sub_c, b, ext_b))[1:34])
        sum_ = addsub[0:32]
        less, eq = Signal(), Signal()
        m.d.comb += [
            less.eq(addsub[32]),
            # Only branches use ``eq``, and they subtract (``b`` = ~rs2): rs1 == rs2 is
            # a ^ b all ones, with no inversion level in front of the AND tree.
            eq.eq((a ^ b).all()),
        ]
        # Shifts take two clocks: one shared barrel shifter (the operand bit-reversed for left
        # shifts) into ``shift_q``, which the second clock writes back and forwards. The
        # shifter's five LUT levels were the longest part of the ALU-to-operand loop (iCE40,
        # docs/riscv.md); registered, they leave it, and one shifter is enough. (Completing a
        # shift in one clock when the next instruction does not read its rd, 1.40-1.49 CPI
        # instead of 1.47-1.61 with zig cc, put the shifter on the register file's write data:
        # 26 MHz.)
        left = ~f3[2]
        sh_in = Mux(left, a[::-1], a)
        sh_out = Signal(32)
        m.d.comb += sh_out.eq((Cat(sh_in, f7_5 & f3[2] & a[31]).as_signed() >> b[0:5])[0:32])
        shift_q = Signal(32)
        m.d.sync += shift_q.eq(Mux(left, sh_out[::-1], sh_out))
        # The one-clock results (``fast``: ALU and lui/auipc/link values) as a flat AND-OR over
        # one-hot selects decoded in R (one LUT level per two sources): this is the path that
        # is forwarded into the next instruction's operands, so it has no other sources.
        # The logic ops as one LUT per bit: ``lop`` is 0 (none), 1 xor, 2 or, 3 and. Shifts,
        # logic ops and additions have ``subtract`` clear, so they take ``b`` as it is.
        lop = x["lop"]
        logic = Signal(32)
        m.d.comb += logic.eq(Mux(lop == 1, a ^ b, 0) | Mux(lop == 2, a | b, 0)
                             | Mux(lop == 3, a & b, 0))
        fast = Signal(32)
        m.d.comb += fast.eq(Mux(x["sel_add"], sum_, 0) | Mux(x["sel_shift"], shift_q, 0)
                            | logic | Mux(x["sel_slt"], less, 0))

        taken = Signal()
        with m.Switch(f3):
            for br, cond in ((Branch.BEQ, eq), (Branch.BNE, ~eq), (Branch.BLT, less),
                             (Branch.BGE, ~less), (Branch.BLTU, less)):
                with m.Case(br.value):
                    m.d.comb += taken.eq(cond)
            with m.Default():          # BGEU (funct3 2 and 3 are illegal: never retire)
                m.d.comb += taken.eq(~less)
        jalr_to = Cat(Const(0, 1), sum_[1:32])

        # ---------------------------------------------------------------- X: CSR
        # CSR instructions take two clocks: the read (an AND-OR over every CSR) is registered,
        # and the second clock writes back and writes the CSR from it.
        csr = csr_block(m, self, x["csr_sel"], f3, rs1, a, registered=True)
        mtvec, mepc = csr.mtvec, csr.mepc

        # ---------------------------------------------------------------- X: memory
        addr = sum_
        # The two low address bits straight from the operands (loads, stores and jalr add an
        # immediate), not from the end of the carry chain: they decide traps and lanes.
        addr_lo = Signal(2)
        m.d.comb += addr_lo.eq(a[0:2] + b[0:2])
        size = f3[0:2]
        misaligned = Signal()
        m.d.comb += misaligned.eq(((size == 1) & addr_lo[0]) | ((size == 2) & (addr_lo != 0)))
        # Registered for the second clock, where address traps are taken: completion and the
        # trap logic see flip-flops, not the operands (which are stable while X waits).
        mis_q = Signal()
        m.d.sync += mis_q.eq((x["load"] | x["store"]) & misaligned)
        is_mem = x["load"] | x["store"]
        lanes = mem_lanes(m, size, addr_lo)
        st_data = store_data(m, size, rs2v)
        # The lane selects are registered: the answer never comes in X's first clock and the
        # operands hold while X waits, so the bus's read data (block RAM's output, late in the
        # clock) meets flip-flop selects only (the 85F SoC's critical path, docs/fpga.md).
        ld_sel = Signal(12)
        m.d.sync += ld_sel.eq(load_selects(m, f3, addr_lo))
        ld_data = load_data(m, ld_sel, dbus.dat_r)

        # ---------------------------------------------------------------- X: exceptions
        # An interrupt is decided as the instruction moves from R into X (``x_irq``, below)
        # and taken in X's first clock, so the interrupt lines and enables reach flip-flops
        # only, not X's completion and the pipeline's advance logic.
        irq_pending, irq_cause = csr.irq_pending, csr.irq_cause
        x_irq, x_irq_cause = Signal(), Signal(5)
        take_irq = Signal()
        m.d.comb += take_irq.eq(x_live & x_first & x_irq)

        md_busy, md_done = Signal(), Signal()
        md_result = Signal(32)
        if p.with_muldiv:
            self._muldiv(m, f3, a, rs2v, x_live & x_first & x["muldiv"] & ~x["fault"] & ~take_irq,
                         md_busy, md_done, md_result)

        jump = Signal()          # a taken branch
        m.d.comb += jump.eq(x["branch"] & taken)
        # The fetch followed the branch's target iff ``pred`` (backward): a wrong guess
        # redirects from X, to pc + 4 (``static``) or to the target. Written flat from R's
        # one-hot condition and sense, for a branch that cannot trap (``br_ok``), so the
        # comparator reaches ``flush`` through two LUTs.
        mispredict = Signal()
        m.d.comb += mispredict.eq(
            x_live & x["br_ok"] & ~take_irq
            & (((x["br_eq"] & eq) | (x["br_cmp"] & less)) ^ x["br_inv"]))
        # A branch to a misaligned target traps only if taken; such a branch (rare) takes a
        # second clock in X and traps on the registered outcome, which keeps the comparator
        # off the trap logic and the CSR clock enables.
        taken_q = Signal()
        m.d.sync += taken_q.eq(taken)
        br_mis_wait = Signal()
        m.d.comb += br_mis_wait.eq(x["branch"] & x["target"][1] & ~x_first)
        sum_q = Signal(32)
        m.d.sync += sum_q.eq(sum_)
        exc = Signal()          # synchronous exception known before any bus access
        exc_cause = Signal(5)
        exc_tval = Signal(32)
        # Address traps are taken in X's second clock with the registered sum as mtval, so the
        # carry chain does not reach mtval (operands are stable while X waits).
        mis_target = Signal()
        mis_jalr = Signal()
        # An unknown CSR or a write to a read-only one: decided in X's first clock from the
        # registered one-hot select (not in R's decode), trapped in the second (CSR
        # instructions take two clocks).
        csr_bad_q, csr_bad = Signal(), Signal()
        x_csr_ro = Const(0)
        for i, info in enumerate(CSR_INFO.values()):
            if info.read_only:
                x_csr_ro = x_csr_ro | x["csr_sel"][i]
        m.d.sync += csr_bad_q.eq((x["csr_sel"] == 0) | (x_csr_ro & x["csr_writes"]))
        m.d.comb += csr_bad.eq(x["csr"] & csr_bad_q & ~x_first)
        jalr_lo_q = Signal()          # a jalr's target bit 1, registered for its second clock
        m.d.sync += jalr_lo_q.eq(addr_lo[1])
        mis_addr = Signal()
        m.d.comb += [
            mis_target.eq(x["target"][1] & (x["jal"] | (br_mis_wait & taken_q))),
            mis_jalr.eq(x["jalr"] & jalr_lo_q & ~x_first),
            mis_addr.eq(mis_q & ~x_first),
            # ``exc`` as one expression (a continuous assignment), not from the priority chain
            # below: Icarus does not run a combinational process at time 0, so a chain whose
            # inputs never change would leave it undefined.
            exc.eq(x["exc_op"] | csr_bad | mis_target | mis_jalr | mis_addr),
        ]
        with m.If(x["fault"]):
            m.d.comb += [exc_cause.eq(Cause.INSN_ACCESS_FAULT.value),
                         exc_tval.eq(x_pc)]
        with m.Elif(x["illegal_op"] | csr_bad):
            m.d.comb += [exc_cause.eq(Cause.ILLEGAL_INSN.value), exc_tval.eq(insn)]
        with m.Elif(x["ebreak"]):
            m.d.comb += [exc_cause.eq(Cause.BREAKPOINT.value), exc_tval.eq(x_pc)]
        with m.Elif(x["ecall"]):
            m.d.comb += exc_cause.eq(Cause.ECALL_M.value)
        with m.Elif(mis_target):
            m.d.comb += [exc_cause.eq(Cause.INSN_MISALIGNED.value), exc_tval.eq(x["target"])]
        with m.Elif(mis_jalr):
            m.d.comb += [exc_cause.eq(Cause.INSN_MISALIGNED.value),
                         exc_tval.eq(Cat(Const(0, 1), sum_q[1:32]))]
        with m.Elif(mis_addr):
            m.d.comb += [exc_tval.eq(sum_q),
                         exc_cause.eq(Mux(x["store"], Cause.STORE_MISALIGNED.value,
                                          Cause.LOAD_MISALIGNED.value))]

        # Bus access for loads and stores, held until accepted, answered by ack or err.
        mem_go = Signal()
        # An error answer is registered and trapped on in the clock after (``bus_fault``), so
        # the bus's answer reaches only X's completion and the write-back, not the trap logic
        # and the CSRs' clock enables.
        bus_fault = Signal()
        m.d.comb += mem_go.eq(x_live & is_mem & ~exc & ~misaligned & ~take_irq & ~bus_fault)
        m_issued, _ = data_request(m, dbus, mem_go, we=x["store"], adr=addr[2:32],
                                   sel=lanes, dat_w=st_data)
        mem_ack = m_issued & dbus.ack
        m.d.sync += bus_fault.eq(m_issued & dbus.err & x_live)

        custom_wait, custom_err = Signal(), Signal()
        custom_result = Signal(32)
        if p.with_custom0:
            cgo = x_live & x["custom"] & ~x["fault"] & ~take_irq
            m.d.comb += [
                self.custom.valid.eq(cgo), self.custom.insn.eq(insn),
                self.custom.rs1.eq(a), self.custom.rs2.eq(rs2v),
                custom_wait.eq(cgo & ~self.custom.ready),
                custom_err.eq(cgo & self.custom.ready & self.custom.error),
                custom_result.eq(self.custom.result),
            ]

        # ---------------------------------------------------------------- X: completion
        # x_done: the instruction in X completes (retires or traps) this clock. Written so the
        # branch comparator is not on its path: only memory, M and custom instructions wait.
        x_done = Signal()
        # Flat, over the completion class registered from R (one-hot; ``c_one``: done in the
        # first clock), so the pipeline's advance logic starts two LUT levels after X's
        # flip-flops and the bus answer.
        m.d.comb += x_done.eq(x_live & ~take_irq & (
            x_c["one"] | (x_c["mem"] & (mem_ack | bus_fault | (mis_q & ~x_first)))
            | (x_c["two"] & ~x_first) | (x_c["jalr"] & ~(a[1] & x_first))
            | (x_c["md"] & md_done)
            | (x_c["custom"] & (self.custom.ready if p.with_custom0 else 0))))

        trap = Signal()
        trap_cause = Signal(5)
        trap_tval = Signal(32)
        with m.If(exc):
            m.d.comb += [trap.eq(1), trap_cause.eq(exc_cause), trap_tval.eq(exc_tval)]
        with m.Elif(bus_fault):
            m.d.comb += [trap.eq(1), trap_tval.eq(sum_q),
                         trap_cause.eq(Mux(x["store"], Cause.STORE_ACCESS_FAULT.value,
                                           Cause.LOAD_ACCESS_FAULT.value))]
        with m.Elif(custom_err):
            m.d.comb += [trap.eq(1), trap_cause.eq(Cause.ILLEGAL_INSN.value),
                         trap_tval.eq(insn)]
        retire = Signal()
        m.d.comb += retire.eq(x_done & ~trap)
        # ``x_done & trap`` without the bus's answer: an instruction of a waiting class traps
        # only in a later clock, on registered conditions (a misaligned address, ``bus_fault``),
        # and M instructions never trap, so this equals ``x_done & trap`` and keeps the
        # answer off the trap's side effects (mepc/mcause/mtval/mstatus enables, the redirect).
        trap_now = Signal()
        m.d.comb += trap_now.eq(trap & x_live & ~take_irq & (
            x_c["one"] | ((x_c["two"] | x_c["mem"]) & ~x_first) | (x_c["jalr"] & ~(a[1] & x_first))
            | (x_c["custom"] & (self.custom.ready if p.with_custom0 else 0))))

        # Result (one-hot sources, selected in R) and write-back. ``slow``: the results that
        # arrive late in the clock or after several (loads, CSRs, M, custom-0).
        # The load data joins each at the last mux, after everything that comes from registers.
        slow_res, result, other = Signal(32), Signal(32), Signal(32)
        m.d.comb += [
            other.eq(Mux(x["csr"], csr.rdata, 0) | Mux(x["sel_static"], x["static"], 0)
                     | Mux(x["muldiv"], md_result, 0) | Mux(x["custom"], custom_result, 0)),
            slow_res.eq(Mux(x["load"], ld_data, other)),
            result.eq(Mux(x["load"], ld_data, fast | other)),
        ]
        m.d.comb += [rf_w.addr.eq(rd), rf_w.data.eq(result),
                     rf_w.en.eq(retire & x["writes_rd"])]

        # ---------------------------------------------------------------- redirects
        # Every change of flow is registered: the new fetch goes out the clock after the
        # instruction completes, so the branch comparator and the trap logic never reach the
        # fetch address combinationally (the iCE40 critical path, see docs/riscv.md).
        # The target is selected by the decoded kind (one kind per instruction) and the trap:
        # the branch outcome only decides ``slow``, whether to use it.
        # A return (jalr x0, 0(ra|t0)) was fetched from the return-address stack's guess in
        # ``target``: right iff rs1 (bit 0 cleared) equals it. The 31-bit comparison only
        # reaches ``ret_bad``: a wrong guess redirects a clock later (to ``sum_q``, the target)
        # and the instruction in X meanwhile is dropped.
        ret_ok = Signal()
        m.d.comb += ret_ok.eq((a ^ x["target"])[1:32] == 0)
        m.d.sync += ret_bad.eq(retire & x["ret"] & ~ret_ok)
        slow = Signal()
        slow_pc = Signal(32)
        m.d.comb += [
            slow.eq(take_irq | trap_now | mispredict | ret_bad
                    | (retire & (x["mret"] | (x["jalr"] & ~x["ret"]) | x["fencei"]))),
            slow_pc.eq(Mux(ret_bad, Cat(Const(0, 1), sum_q[1:32]),
                       Mux(take_irq | trap, Cat(Const(0, 2), mtvec),
                           Mux(x["jalr"], jalr_to,
                               Mux(x["mret"], Cat(Const(0, 2), mepc),
                                   Mux(x["fencei"] | x["pred"], x["static"], x["target"])))))),
        ]

        # ---------------------------------------------------------------- CSR updates
        csr_write = retire & x["csr"] & x["csr_writes"]
        csr_update(m, csr, retire=retire, csr_write=csr_write, trap=take_irq | trap_now,
                   pc=x_pc, cause_irq=take_irq, cause=Mux(take_irq, x_irq_cause, trap_cause),
                   tval=Mux(take_irq, 0, trap_tval), mret=retire & x["mret"])

        # ---------------------------------------------------------------- R -> X
        # R moves into X whenever X frees up; a redirect in the same clock only clears the
        # valid bits, so the comparator never gates the clock enables of X's registers.
        x_free = ~x_live | x_done
        r_go = Signal()
        m.d.comb += r_go.eq(r_live & x_free)
        # R waits only while X is busy, so the one write it can miss is that of the
        # instruction leaving X as R's moves in: forwarded from ``result`` (whether that
        # instruction retires does not matter: if it traps, what moves into X is flushed).
        # The fast results have their own mux input, so the ALU-to-operand loop is the ALU,
        # the fast AND-OR and one mux (``b``'s immediate and inversion are selected beside it).
        fwd1, fwd2 = Signal(), Signal()
        m.d.comb += [fwd1.eq(x_valid & x["writes_rd"] & (rd == r_insn[15:20])),
                     fwd2.eq(x_valid & x["writes_rd"] & (rd == r_insn[20:25]))]
        is_fast = x["sel_fast"]
        rs1_val, rs2_val, b_other = Signal(32), Signal(32), Signal(32)
        sub = dd["subtract"].replicate(32)
        m.d.comb += [
            rs1_val.eq(Mux(fwd1 & is_fast, fast, Mux(fwd1, slow_res, rf_r1.data))),
            rs2_val.eq(Mux(fwd2 & is_fast, fast, Mux(fwd2, slow_res, rf_r2.data))),
            b_other.eq(Mux(dd["use_imm"], r_imm,
                           Mux(fwd2, slow_res, rf_r2.data)) ^ sub),
        ]
        # Completion class (see x_done), so that no operand or adder reaches X's completion:
        # memory, M and custom-0 wait for their unit; shifts and CSR instructions take two
        # clocks (their results are registered); a branch to a misaligned target takes a
        # second clock and traps there if taken; a jalr whose immediate has bits 1:0 clear
        # (returns, most calls) completes in one clock unless rs1 bit 1 (a flip-flop) is set,
        # other jalrs take two, and a misaligned one traps in its second.
        # Only the waiting classes exclude the instructions that fault in decode (their unit
        # never starts), and from their own legality (funct3 of a load or store; M and
        # custom-0 are legal by opcode): the CSR legality decode stays off this path. An
        # illegal instruction of a two-clock class traps in its second clock.
        mem_ok = ~r_fault & ((dd["load"] & _match(r_insn, p.with_muldiv, (Opcode.LOAD,)))
                             | (dd["store"] & _match(r_insn, p.with_muldiv, (Opcode.STORE,))))
        r_c = {"mem": mem_ok, "md": dd["muldiv"] & ~r_fault,
               "custom": dd["custom"] & ~r_fault,
               "jalr": dd["jalr"] & (r_insn[20:22] == 0),
               "two": ((dd["branch"] & dd["target"][1]) | dd["sel_shift"] | dd["csr"]
                       | (dd["jalr"] & (r_insn[20:22] != 0)))}
        r_c["one"] = ~(r_c["mem"] | r_c["md"] | r_c["custom"] | r_c["two"] | r_c["jalr"])
        # The interrupt decision for the instruction moving into X: from the enables and lines
        # of this clock, unless the instruction leaving X is a CSR instruction or mret (it may
        # change the enables as it completes). ``irq_ack`` marks the clock of the decision.
        irq_go = Signal()
        m.d.comb += [irq_go.eq(r_go & irq_pending & ~(x_valid & (x["csr"] | x["mret"]))),
                     self.irq_ack.eq(irq_go)]
        m.d.sync += x_first.eq(0)
        with m.If(r_go):
            m.d.sync += [x_irq.eq(irq_go), x_irq_cause.eq(irq_cause)]
            m.d.sync += [x_valid.eq(1), x_first.eq(1), a.eq(rs1_val), rs2v.eq(rs2_val),
                         *(x_c[k].eq(v) for k, v in r_c.items()),
                         b.eq(Mux(fwd2 & is_fast & ~dd["use_imm"], fast ^ sub, b_other))]
            m.d.sync += [x[k].eq(v) for k, v in dd.items()]
        with m.Elif(x_free):
            m.d.sync += x_valid.eq(0)

        # ---------------------------------------------------------------- D -> R
        r_free = ~r_live | r_go
        advance = Signal()               # D moves into R; the register file is read
        m.d.comb += advance.eq(dv & r_free)
        m.d.comb += [rf_r1.addr.eq(dinsn[15:20]), rf_r2.addr.eq(dinsn[20:25]),
                     rf_r1.en.eq(advance), rf_r2.en.eq(advance)]
        with m.If(advance):
            m.d.sync += [r_valid.eq(1), r_insn.eq(dinsn), r_pc.eq(dpc), r_fault.eq(dfault),
                         r_tsrc.eq(d_tsrc), r_ret.eq(d_ret)]
        with m.Elif(r_free):
            m.d.sync += r_valid.eq(0)
        # The D buffer: the head leaves when it advances; an arriving word that does not go
        # straight into R is kept (the fetch never asks for a word there is no room for).
        new = [ibus.dat_r, f_pending_pc, ibus.err]
        with m.If(f_redir):
            m.d.sync += [d_valid.eq(0), d1_valid.eq(0)]
        with m.Elif(advance & d_valid):
            with m.If(d1_valid):
                m.d.sync += [d_insn.eq(d1_insn), d_pc.eq(d1_pc), d_fault.eq(d1_fault),
                             d1_valid.eq(0)]
            with m.Else():
                m.d.sync += [d_valid.eq(arrive), Cat(d_insn, d_pc, d_fault).eq(Cat(*new))]
        with m.Elif(arrive & ~advance):
            with m.If(d_valid):
                m.d.sync += [d1_valid.eq(1), Cat(d1_insn, d1_pc, d1_fault).eq(Cat(*new))]
            with m.Else():
                m.d.sync += [d_valid.eq(1), Cat(d_insn, d_pc, d_fault).eq(Cat(*new))]
        # (A redirect from X in the same clock wins: ``f_redir`` is set either way, and the
        # return-address stack only guesses, so neither needs ``~slow``.)
        d_jump = advance & d_follow & ~dfault
        m.d.comb += ras_update.eq(advance & ~dfault)
        m.d.sync += [flush.eq(slow), f_redir.eq(slow | d_jump), flush_target.eq(slow_pc)]

        # ---------------------------------------------------------------- fetch
        # At most one request in flight; issue when D has room for its answer even if nothing
        # advances meanwhile (from flip-flops: the pipeline's stalls do not reach the fetch).
        pending_after = f_pending & ~answer
        # Not gated by redirects either: a fetch issued in a redirecting clock is discarded.
        issue = Signal()
        m.d.comb += issue.eq(~f_hold & ~pending_after
                             & (f_redir | ~(d1_valid | (d_valid & f_pending))))
        fetch_addr = Signal(32)
        # After a jal or a predicted branch left D, its target is R's ``r_target``.
        redir_pc = Mux(flush, flush_target, r_target)
        m.d.comb += fetch_addr.eq(Mux(f_redir, redir_pc, fetch_pc))
        m.d.comb += [
            ibus.cyc.eq(f_hold | issue), ibus.stb.eq(f_hold | issue),
            ibus.adr.eq(Mux(f_hold, f_hold_adr, fetch_addr[2:32])),
            ibus.we.eq(0), ibus.sel.eq(0b1111),
        ]
        with m.If(answer):
            m.d.sync += [f_pending.eq(0), f_discard.eq(0)]
        with m.If(issue):
            m.d.sync += fetch_pc.eq(fetch_addr + 4)
        with m.Elif(f_redir):
            m.d.sync += fetch_pc.eq(redir_pc)
        # After a redirect every request still outstanding is wrong-path (what answers in the
        # flush clock itself is dropped by ``arrive``).
        with m.If(f_redir & (f_hold | pending_after)):
            m.d.sync += f_discard.eq(1)
        with m.If(ibus.stb & ~ibus.stall):
            m.d.sync += [f_pending.eq(1), f_hold.eq(0)]
        with m.Elif(ibus.stb):
            m.d.sync += f_hold.eq(1)
        # Both address registers load whenever they are not needed, not on the bus handshake
        # (which would put the whole issue decision on 60 clock enables): ``f_hold_adr``
        # reloads its own value while held, ``f_pending_pc`` holds while a request is pending.
        m.d.sync += f_hold_adr.eq(ibus.adr)
        with m.If(~pending_after):
            m.d.sync += f_pending_pc.eq(Cat(Const(0, 2), ibus.adr))

        # ---------------------------------------------------------------- RVFI
        if p.with_rvfi:
            rvfi_retire(m, self.rvfi, valid=x_done, trap=trap, irq_taken=take_irq, retire=retire,
                        insn=insn, fault=x["fault"], rs1_rdata=a, rs2_rdata=rs2v,
                        writes_rd=x["writes_rd"], rd_wdata=result, pc_rdata=x_pc,
                        pc_wdata=Mux(slow, slow_pc,
                                     Mux(x["jalr"], jalr_to,
                                         Mux(x["jal"] | jump, x["target"], x_pc + 4))),
                        load=x["load"], store=x["store"], addr=addr, lanes=lanes,
                        dat_r=dbus.dat_r, st_data=st_data)
        return m


class CompactCore(Core):
    """The multi-cycle state machine of ``hdl/riscv/compact.py``: the same ISA, traps, ports
    and retire port as :class:`PipelinedCore` in about half the logic."""

    def elaborate(self, platform):
        return elaborate_compact(self, platform)

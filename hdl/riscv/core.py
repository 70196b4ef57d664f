# Ref: RISC-V Unprivileged ISA 20191213 (RV32I, M, Zicsr, Zicntr, Zifencei); Privileged
#      Architecture 20211203 (machine mode); riscv-formal RVFI (rvfi_* port names).
"""``Core``: a small RV32I(+M) machine-mode core with a three-stage pipeline.

Pipeline (one instruction per clock when nothing waits):

- **F**etch: the fetch address goes out on ``ibus`` (Wishbone B4 pipelined).
- **D**ecode: the instruction word arrives; its rs1/rs2 fields address the register file (a
  block RAM with two transparent read ports) directly, so operands are ready a clock later.
- e**X**ecute: ALU, branch, CSR, trap and memory access; the result is written back at the end
  of the clock in which the instruction completes.

Because operands are read at the very edge where an instruction moves into X (the read port is
transparent for the write of the instruction leaving X), no forwarding network is needed.

Costs in clocks per instruction (with single-cycle memories): 1 for ALU/CSR/untaken branches,
2 for loads, stores and taken branches/jumps (one fetched instruction is discarded), traps and
``mret`` 2, ``fence.i`` 2, divisions 34 (with ``with_muldiv``), multiplies 1.

Traps are precise: an instruction that faults writes nothing, and mepc/mcause/mtval follow
``hdl/riscv/isa.py``. Interrupts (MTI, MEI; MEI first) are taken before an instruction enters
X's first cycle when ``mstatus.MIE`` and ``mie & mip``.

Members
-------
ibus : Out(WishboneSignature)     instruction fetch (reads only)
dbus : Out(WishboneSignature)     loads and stores
irq_timer, irq_external : In(1)   level-sensitive, reflected in mip.MTIP / mip.MEIP
irq_ack : Out(1)                  one clock when an interrupt is taken (the lines were sampled)
rvfi : Out(RvfiSignature)         retire port (``with_rvfi``), riscv-formal names
custom : Out(CustomSignature)     custom-0 accelerator port (``with_custom0``)
"""

from dataclasses import dataclass

from amaranth import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from ..bus import WishboneSignature
from .isa import (
    CSR_INFO,
    INSTRUCTIONS,
    RESET_PC,
    Alu,
    Branch,
    Cause,
    Csr,
    Irq,
    Mstatus,
    Opcode,
    Priv,
    System,
    misa,
)

__all__ = ["CoreParams", "Core", "RvfiSignature", "CustomSignature"]


@dataclass(frozen=True)
class CoreParams:
    with_muldiv: bool = False
    with_custom0: bool = False
    with_rvfi: bool = True
    reset_pc: int = RESET_PC
    mtvec_reset: int = RESET_PC

    def __post_init__(self):
        for name in ("reset_pc", "mtvec_reset"):
            v = getattr(self, name)
            if not isinstance(v, int) or v % 4 or not 0 <= v < 1 << 32:
                raise ValueError(f"{name} must be a 4-aligned 32-bit address, not {v!r}")

    @property
    def name(self) -> str:
        return "rv32i" + ("m" if self.with_muldiv else "") + ("_x" if self.with_custom0 else "")


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


def _match(insn, with_muldiv):
    """Legal-instruction predicate built from the shared table ``INSTRUCTIONS``."""
    legal = Const(0)
    for e in INSTRUCTIONS.values():
        if e.muldiv and not with_muldiv:
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
    __doc__ = __doc__

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

    def elaborate(self, platform):
        m = Module()
        p = self.params
        ibus, dbus = self.ibus, self.dbus

        # ---------------------------------------------------------------- register file
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

        d_valid = Signal()                         # D holds an instruction that arrived earlier
        d_insn = Signal(32)
        d_pc = Signal(32)
        d_fault = Signal()

        x_valid = Signal()
        x_insn = Signal(32)
        x_pc = Signal(32)
        x_fault = Signal()                         # instruction access fault at fetch
        x_first = Signal()                         # first clock in X
        m_issued = Signal()                        # dbus request accepted, waiting for answer
        next_intr = Signal()                       # the next retire is a handler's first

        # CSR state
        mie_b, mpie_b = Signal(), Signal()
        mtie, meie = Signal(), Signal()
        mtvec = Signal(30, init=p.mtvec_reset >> 2)
        mscratch = Signal(32)
        mepc = Signal(30)
        mcause_irq, mcause_code = Signal(), Signal(5)
        mtval = Signal(32)
        mcycle = Signal(64)
        minstret = Signal(64)

        # ---------------------------------------------------------------- X: decode
        insn = x_insn
        opcode = insn[0:7]
        rd, f3, rs1, rs2 = insn[7:12], insn[12:15], insn[15:20], insn[20:25]
        f7_5 = insn[30]
        op = {o: Signal(name=f"is_{o.name.lower()}") for o in Opcode}
        for o, s in op.items():
            m.d.comb += s.eq(opcode == o.value)
        legal = Signal()
        m.d.comb += legal.eq(_match(insn, p.with_muldiv)
                             | (op[Opcode.CUSTOM0] if p.with_custom0 else 0))
        is_muldiv = Signal()
        if p.with_muldiv:
            m.d.comb += is_muldiv.eq(op[Opcode.OP] & (insn[25:32] == 1))

        imm_i = Signal(signed(32))
        imm_s = Signal(signed(32))
        imm_b = Signal(signed(32))
        imm_u = Signal(32)
        imm_j = Signal(signed(32))
        m.d.comb += [
            imm_i.eq(insn[20:32].as_signed()),
            imm_s.eq(Cat(insn[7:12], insn[25:32]).as_signed()),
            imm_b.eq(Cat(Const(0, 1), insn[8:12], insn[25:31], insn[7], insn[31]).as_signed()),
            imm_u.eq(Cat(Const(0, 12), insn[12:32])),
            imm_j.eq(Cat(Const(0, 1), insn[21:31], insn[20], insn[12:20], insn[31]).as_signed()),
        ]

        a = rf_r1.data
        b = rf_r2.data
        # Operand B of the shared adder: immediates for OP_IMM, loads, stores, JALR.
        use_imm = op[Opcode.OP_IMM] | op[Opcode.LOAD] | op[Opcode.STORE] | op[Opcode.JALR]
        imm_ab = Signal(32)
        m.d.comb += imm_ab.eq(Mux(op[Opcode.STORE], imm_s, imm_i))
        opb = Signal(32)
        m.d.comb += opb.eq(Mux(use_imm, imm_ab, b))

        # ---------------------------------------------------------------- X: ALU
        subtract = Signal()
        m.d.comb += subtract.eq(op[Opcode.BRANCH]
                                | ((op[Opcode.OP] | op[Opcode.OP_IMM])
                                   & ((f3 == Alu.SLT.value) | (f3 == Alu.SLTU.value)))
                                | (op[Opcode.OP] & (f3 == Alu.ADD.value) & f7_5))
        addsub = Signal(33)
        m.d.comb += addsub.eq(Cat(a, Const(0, 1))
                              + Cat(Mux(subtract, ~opb, opb), Const(0, 1)) + subtract)
        sum_ = addsub[0:32]
        ltu = Signal()
        lt = Signal()
        eq = Signal()
        # a - b with a borrow: bit 32 of a + ~b + 1 is 1 when a >= b (unsigned).
        m.d.comb += [
            ltu.eq(~addsub[32]),
            lt.eq(Mux(a[31] ^ opb[31], a[31], ltu)),
            eq.eq(a == opb),
        ]
        # One right shifter serves all three shifts (left shifts bit-reverse in and out).
        shamt = opb[0:5]
        left = f3 == Alu.SLL.value
        sh_in = Signal(32)
        m.d.comb += sh_in.eq(Mux(left, a[::-1], a))
        sh_fill = f7_5 & a[31] & ~left
        sh_out = Signal(32)
        m.d.comb += sh_out.eq((Cat(sh_in, sh_fill).as_signed() >> shamt)[0:32])
        alu = Signal(32)
        with m.Switch(f3):
            with m.Case(Alu.ADD.value):
                m.d.comb += alu.eq(sum_)
            with m.Case(Alu.SLL.value):
                m.d.comb += alu.eq(sh_out[::-1])
            with m.Case(Alu.SLT.value):
                m.d.comb += alu.eq(lt)
            with m.Case(Alu.SLTU.value):
                m.d.comb += alu.eq(ltu)
            with m.Case(Alu.XOR.value):
                m.d.comb += alu.eq(a ^ opb)
            with m.Case(Alu.SR.value):
                m.d.comb += alu.eq(sh_out)
            with m.Case(Alu.OR.value):
                m.d.comb += alu.eq(a | opb)
            with m.Case(Alu.AND.value):
                m.d.comb += alu.eq(a & opb)

        taken = Signal()
        with m.Switch(f3):
            for br, cond in ((Branch.BEQ, eq), (Branch.BNE, ~eq), (Branch.BLT, lt),
                             (Branch.BGE, ~lt), (Branch.BLTU, ltu), (Branch.BGEU, ~ltu)):
                with m.Case(br.value):
                    m.d.comb += taken.eq(cond)

        pc_plus4 = Signal(32)
        pc_target = Signal(32)
        m.d.comb += [
            pc_plus4.eq(x_pc + 4),
            pc_target.eq(x_pc + Mux(op[Opcode.JAL], imm_j,
                                    Mux(op[Opcode.AUIPC], imm_u, imm_b))),
        ]
        jump = Signal()
        jump_to = Signal(32)
        m.d.comb += [
            jump.eq(op[Opcode.JAL] | op[Opcode.JALR] | (op[Opcode.BRANCH] & taken)),
            jump_to.eq(Mux(op[Opcode.JALR], Cat(Const(0, 1), sum_[1:32]), pc_target)),
        ]

        # ---------------------------------------------------------------- X: CSR
        csr_addr = insn[20:32]
        csr_known = Signal()
        csr_ro = Signal()
        csr_rdata = Signal(32)
        mip = Cat(Const(0, Irq.MTI), self.irq_timer, Const(0, Irq.MEI - Irq.MTI - 1),
                  self.irq_external)
        mie_v = Cat(Const(0, Irq.MTI), mtie, Const(0, Irq.MEI - Irq.MTI - 1), meie)
        values = {
            Csr.MSTATUS: Cat(Const(0, Mstatus.MIE), mie_b, Const(0, Mstatus.MPIE - Mstatus.MIE - 1),
                             mpie_b, Const(0, Mstatus.MPP - Mstatus.MPIE - 1), Const(0b11, 2)),
            Csr.MISA: Const(misa(p.with_muldiv), 32),
            Csr.MIE: mie_v, Csr.MTVEC: Cat(Const(0, 2), mtvec), Csr.MSCRATCH: mscratch,
            Csr.MEPC: Cat(Const(0, 2), mepc), Csr.MCAUSE: Cat(mcause_code, Const(0, 26),
                                                               mcause_irq),
            Csr.MTVAL: mtval, Csr.MIP: mip,
            Csr.MCYCLE: mcycle[0:32], Csr.MCYCLEH: mcycle[32:64],
            Csr.MINSTRET: minstret[0:32], Csr.MINSTRETH: minstret[32:64],
            Csr.CYCLE: mcycle[0:32], Csr.CYCLEH: mcycle[32:64],
            Csr.INSTRET: minstret[0:32], Csr.INSTRETH: minstret[32:64],
        }
        with m.Switch(csr_addr):
            for csr, info in CSR_INFO.items():
                with m.Case(csr.value):
                    m.d.comb += [csr_known.eq(1), csr_ro.eq(info.read_only),
                                 csr_rdata.eq(values.get(csr, 0))]
        is_csr = op[Opcode.SYSTEM] & (f3 != System.PRIV.value)
        csr_writes = Signal()          # csrrw*, or set/clear with a non-zero source field
        m.d.comb += csr_writes.eq((f3[0:2] == 1) | (rs1 != 0))
        csr_src = Mux(f3[2], Cat(rs1, Const(0, 27)), a)
        csr_wdata = Signal(32)
        with m.Switch(f3[0:2]):
            with m.Case(1):
                m.d.comb += csr_wdata.eq(csr_src)
            with m.Case(2):
                m.d.comb += csr_wdata.eq(csr_rdata | csr_src)
            with m.Case(3):
                m.d.comb += csr_wdata.eq(csr_rdata & ~csr_src)
        priv = op[Opcode.SYSTEM] & (f3 == System.PRIV.value)
        is_ecall = priv & (insn[20:32] == Priv.ECALL.value)
        is_ebreak = priv & (insn[20:32] == Priv.EBREAK.value)
        is_mret = priv & (insn[20:32] == Priv.MRET.value)
        is_fencei = op[Opcode.MISC_MEM] & f3[0]

        # ---------------------------------------------------------------- X: memory
        addr = sum_
        size = f3[0:2]
        misaligned = Signal()
        m.d.comb += misaligned.eq(((size == 1) & addr[0]) | ((size == 2) & (addr[0:2] != 0)))
        is_mem = op[Opcode.LOAD] | op[Opcode.STORE]
        lanes = Signal(4)
        with m.Switch(size):
            with m.Case(0):
                m.d.comb += lanes.eq(Const(0b0001, 4) << addr[0:2])
            with m.Case(1):
                m.d.comb += lanes.eq(Mux(addr[1], 0b1100, 0b0011))
            with m.Default():
                m.d.comb += lanes.eq(0b1111)
        st_data = Signal(32)
        with m.Switch(size):
            with m.Case(0):
                m.d.comb += st_data.eq(b[0:8].replicate(4))
            with m.Case(1):
                m.d.comb += st_data.eq(b[0:16].replicate(2))
            with m.Default():
                m.d.comb += st_data.eq(b)
        ld_shift = Signal(32)
        m.d.comb += ld_shift.eq(dbus.dat_r >> Cat(Const(0, 3), addr[0:2]))
        ld_data = Signal(32)
        with m.Switch(f3):
            with m.Case(0):
                m.d.comb += ld_data.eq(ld_shift[0:8].as_signed())
            with m.Case(1):
                m.d.comb += ld_data.eq(ld_shift[0:16].as_signed())
            with m.Case(4):
                m.d.comb += ld_data.eq(ld_shift[0:8])
            with m.Case(5):
                m.d.comb += ld_data.eq(ld_shift[0:16])
            with m.Default():
                m.d.comb += ld_data.eq(ld_shift)

        # ---------------------------------------------------------------- X: exceptions
        irq_pending = Signal()
        irq_cause = Signal(5)
        m.d.comb += [
            irq_pending.eq(mie_b & ((mtie & self.irq_timer) | (meie & self.irq_external))),
            irq_cause.eq(Mux(meie & self.irq_external, Irq.MEI, Irq.MTI)),
        ]
        take_irq = Signal()
        m.d.comb += [take_irq.eq(x_valid & x_first & irq_pending), self.irq_ack.eq(take_irq)]

        # ---------------------------------------------------------------- X: M extension
        md_busy = Signal()
        md_done = Signal()
        md_result = Signal(32)
        if p.with_muldiv:
            self._muldiv(m, f3, a, b, x_valid & x_first & is_muldiv & ~x_fault & ~take_irq,
                         md_busy, md_done, md_result)

        exc = Signal()          # synchronous exception known before any bus access
        exc_cause = Signal(5)
        exc_tval = Signal(32)
        with m.If(x_fault):
            m.d.comb += [exc.eq(1), exc_cause.eq(Cause.INSN_ACCESS_FAULT.value),
                         exc_tval.eq(x_pc)]
        with m.Elif(~legal | (is_csr & (~csr_known | (csr_ro & csr_writes)))):
            m.d.comb += [exc.eq(1), exc_cause.eq(Cause.ILLEGAL_INSN.value), exc_tval.eq(insn)]
        with m.Elif(is_ebreak):
            m.d.comb += [exc.eq(1), exc_cause.eq(Cause.BREAKPOINT.value), exc_tval.eq(x_pc)]
        with m.Elif(is_ecall):
            m.d.comb += [exc.eq(1), exc_cause.eq(Cause.ECALL_M.value)]
        with m.Elif(jump & jump_to[1]):
            m.d.comb += [exc.eq(1), exc_cause.eq(Cause.INSN_MISALIGNED.value),
                         exc_tval.eq(jump_to)]
        with m.Elif(is_mem & misaligned):
            m.d.comb += [exc.eq(1), exc_tval.eq(addr),
                         exc_cause.eq(Mux(op[Opcode.STORE], Cause.STORE_MISALIGNED.value,
                                          Cause.LOAD_MISALIGNED.value))]

        # Bus access for loads and stores, held until accepted, answered by ack or err.
        mem_go = Signal()
        m.d.comb += mem_go.eq(x_valid & is_mem & ~exc & ~take_irq)
        m.d.comb += [
            dbus.cyc.eq(mem_go), dbus.stb.eq(mem_go & ~m_issued),
            dbus.we.eq(op[Opcode.STORE]), dbus.adr.eq(addr[2:32]), dbus.sel.eq(lanes),
            dbus.dat_w.eq(st_data),
        ]
        with m.If(dbus.stb & ~dbus.stall):
            m.d.sync += m_issued.eq(1)
        mem_answer = m_issued & (dbus.ack | dbus.err)
        with m.If(mem_answer):
            m.d.sync += m_issued.eq(0)
        bus_fault = m_issued & dbus.err

        custom_wait = Signal()
        custom_err = Signal()
        custom_result = Signal(32)
        if p.with_custom0:
            cgo = x_valid & op[Opcode.CUSTOM0] & ~x_fault & ~take_irq
            m.d.comb += [
                self.custom.valid.eq(cgo), self.custom.insn.eq(insn),
                self.custom.rs1.eq(a), self.custom.rs2.eq(b),
                custom_wait.eq(cgo & ~self.custom.ready),
                custom_err.eq(cgo & self.custom.ready & self.custom.error),
                custom_result.eq(self.custom.result),
            ]

        # ---------------------------------------------------------------- X: completion
        x_done = Signal()      # the instruction in X completes (retires or traps) this clock
        with m.If(~x_valid | take_irq):
            m.d.comb += x_done.eq(0)
        with m.Elif(exc | x_fault):
            m.d.comb += x_done.eq(1)
        with m.Elif(is_mem):
            m.d.comb += x_done.eq(mem_answer)
        with m.Elif(is_muldiv):
            m.d.comb += x_done.eq(md_done)
        with m.Else():
            m.d.comb += x_done.eq(~custom_wait)

        trap = Signal()
        trap_cause = Signal(5)
        trap_tval = Signal(32)
        with m.If(exc):
            m.d.comb += [trap.eq(1), trap_cause.eq(exc_cause), trap_tval.eq(exc_tval)]
        with m.Elif(bus_fault):
            m.d.comb += [trap.eq(1), trap_tval.eq(addr),
                         trap_cause.eq(Mux(op[Opcode.STORE], Cause.STORE_ACCESS_FAULT.value,
                                           Cause.LOAD_ACCESS_FAULT.value))]
        with m.Elif(custom_err):
            m.d.comb += [trap.eq(1), trap_cause.eq(Cause.ILLEGAL_INSN.value),
                         trap_tval.eq(insn)]
        retire = Signal()
        m.d.comb += retire.eq(x_done & ~trap)

        # Result and write-back.
        result = Signal(32)
        with m.If(op[Opcode.LUI]):
            m.d.comb += result.eq(imm_u)
        with m.Elif(op[Opcode.AUIPC]):
            m.d.comb += result.eq(pc_target)
        with m.Elif(op[Opcode.JAL] | op[Opcode.JALR]):
            m.d.comb += result.eq(pc_plus4)
        with m.Elif(op[Opcode.LOAD]):
            m.d.comb += result.eq(ld_data)
        with m.Elif(is_csr):
            m.d.comb += result.eq(csr_rdata)
        with m.Elif(is_muldiv):
            m.d.comb += result.eq(md_result)
        with m.Elif(op[Opcode.CUSTOM0]):
            m.d.comb += result.eq(custom_result)
        with m.Else():
            m.d.comb += result.eq(alu)
        writes_rd = Signal()
        m.d.comb += writes_rd.eq(~(op[Opcode.BRANCH] | op[Opcode.STORE] | op[Opcode.MISC_MEM]
                                   | priv) & (rd != 0))
        m.d.comb += [rf_w.addr.eq(rd), rf_w.data.eq(result), rf_w.en.eq(retire & writes_rd)]

        # ---------------------------------------------------------------- redirect
        redirect = Signal()
        redirect_pc = Signal(32)
        with m.If(take_irq | trap):
            m.d.comb += [redirect.eq(x_done | take_irq), redirect_pc.eq(Cat(Const(0, 2), mtvec))]
        with m.Elif(retire & is_mret):
            m.d.comb += [redirect.eq(1), redirect_pc.eq(Cat(Const(0, 2), mepc))]
        with m.Elif(retire & jump):
            m.d.comb += [redirect.eq(1), redirect_pc.eq(jump_to)]
        with m.Elif(retire & is_fencei):
            m.d.comb += [redirect.eq(1), redirect_pc.eq(pc_plus4)]

        # ---------------------------------------------------------------- CSR updates
        m.d.sync += mcycle.eq(mcycle + 1)
        # A write to either half of minstret takes precedence over this instruction's count.
        with m.If(retire & ~(is_csr & csr_writes & ((csr_addr == Csr.MINSTRET.value)
                                                    | (csr_addr == Csr.MINSTRETH.value)))):
            m.d.sync += minstret.eq(minstret + 1)
        with m.If(take_irq | (x_done & trap)):
            m.d.sync += [
                mepc.eq(x_pc[2:32]), mie_b.eq(0), mpie_b.eq(mie_b),
                mcause_irq.eq(take_irq), mcause_code.eq(Mux(take_irq, irq_cause, trap_cause)),
                mtval.eq(Mux(take_irq, 0, trap_tval)),
            ]
        with m.Elif(retire & is_mret):
            m.d.sync += [mie_b.eq(mpie_b), mpie_b.eq(1)]
        with m.Elif(retire & is_csr & csr_writes):
            w = csr_wdata
            with m.Switch(csr_addr):
                with m.Case(Csr.MSTATUS.value):
                    m.d.sync += [mie_b.eq(w[Mstatus.MIE]), mpie_b.eq(w[Mstatus.MPIE])]
                with m.Case(Csr.MIE.value):
                    m.d.sync += [mtie.eq(w[Irq.MTI]), meie.eq(w[Irq.MEI])]
                with m.Case(Csr.MTVEC.value):
                    m.d.sync += mtvec.eq(w[2:32])
                with m.Case(Csr.MSCRATCH.value):
                    m.d.sync += mscratch.eq(w)
                with m.Case(Csr.MEPC.value):
                    m.d.sync += mepc.eq(w[2:32])
                with m.Case(Csr.MCAUSE.value):
                    m.d.sync += [mcause_irq.eq(w[31]), mcause_code.eq(w[0:5])]
                with m.Case(Csr.MTVAL.value):
                    m.d.sync += mtval.eq(w)
                with m.Case(Csr.MCYCLE.value):
                    m.d.sync += mcycle[0:32].eq(w)
                with m.Case(Csr.MCYCLEH.value):
                    m.d.sync += mcycle[32:64].eq(w)
                with m.Case(Csr.MINSTRET.value):
                    m.d.sync += minstret[0:32].eq(w)
                with m.Case(Csr.MINSTRETH.value):
                    m.d.sync += minstret[32:64].eq(w)

        # ---------------------------------------------------------------- F and D
        arrive = Signal()       # an instruction word (or a fetch fault) arrives this clock
        answer = f_pending & (ibus.ack | ibus.err)
        m.d.comb += arrive.eq(answer & ~f_discard)
        dv = d_valid | arrive
        dinsn = Mux(d_valid, d_insn, ibus.dat_r)
        dpc = Mux(d_valid, d_pc, f_pending_pc)
        dfault = Mux(d_valid, d_fault, ibus.err)
        x_free = ~x_valid | x_done
        advance = Signal()
        m.d.comb += advance.eq(dv & x_free & ~redirect)
        d_valid_next = Signal()
        m.d.comb += d_valid_next.eq(dv & ~advance & ~redirect)

        m.d.comb += [rf_r1.addr.eq(dinsn[15:20]), rf_r2.addr.eq(dinsn[20:25]),
                     rf_r1.en.eq(advance), rf_r2.en.eq(advance)]
        m.d.sync += x_first.eq(0)
        with m.If(redirect):
            m.d.sync += [x_valid.eq(0), d_valid.eq(0)]
        with m.Elif(advance):
            m.d.sync += [x_valid.eq(1), x_insn.eq(dinsn), x_pc.eq(dpc), x_fault.eq(dfault),
                         x_first.eq(1), d_valid.eq(0)]
        with m.Else():
            with m.If(x_done):
                m.d.sync += x_valid.eq(0)
            with m.If(arrive):
                m.d.sync += [d_valid.eq(1), d_insn.eq(ibus.dat_r), d_pc.eq(f_pending_pc),
                             d_fault.eq(ibus.err)]

        # Fetch: at most one request in flight; issue when its answer will find D empty.
        pending_after = f_pending & ~answer
        issue = Signal()
        m.d.comb += issue.eq(~f_hold & ~pending_after & ~d_valid_next)
        fetch_addr = Signal(32)
        m.d.comb += fetch_addr.eq(Mux(redirect, redirect_pc, fetch_pc))
        m.d.comb += [
            ibus.cyc.eq(f_hold | issue), ibus.stb.eq(f_hold | issue),
            ibus.adr.eq(Mux(f_hold, f_hold_adr, fetch_addr[2:32])),
            ibus.we.eq(0), ibus.sel.eq(0b1111),
        ]
        with m.If(answer):
            m.d.sync += [f_pending.eq(0), f_discard.eq(0)]
        with m.If(redirect):
            m.d.sync += fetch_pc.eq(redirect_pc)
            with m.If(f_hold | pending_after):
                m.d.sync += f_discard.eq(1)
        with m.If(ibus.stb & ~ibus.stall):
            m.d.sync += [f_pending.eq(1), f_hold.eq(0),
                         f_pending_pc.eq(Cat(Const(0, 2), ibus.adr))]
            with m.If(~f_hold):
                m.d.sync += fetch_pc.eq(fetch_addr + 4)
        with m.Elif(ibus.stb):
            m.d.sync += [f_hold.eq(1), f_hold_adr.eq(ibus.adr)]
            with m.If(~f_hold):
                m.d.sync += fetch_pc.eq(fetch_addr + 4)

        # ---------------------------------------------------------------- RVFI
        if p.with_rvfi:
            r = self.rvfi
            order = Signal(64)
            with m.If(x_done):
                m.d.sync += [order.eq(order + 1), next_intr.eq(trap)]
            with m.If(take_irq):
                m.d.sync += next_intr.eq(1)
            load_ok = op[Opcode.LOAD] & retire
            store_ok = op[Opcode.STORE] & retire
            rd_w = retire & writes_rd
            m.d.comb += [
                r.valid.eq(x_done), r.order.eq(order), r.insn.eq(Mux(x_fault, 0, insn)),
                r.trap.eq(trap),
                r.halt.eq(0), r.intr.eq(next_intr), r.mode.eq(3), r.ixl.eq(1),
                r.rs1_addr.eq(rs1), r.rs2_addr.eq(rs2), r.rs1_rdata.eq(a), r.rs2_rdata.eq(b),
                r.rd_addr.eq(Mux(rd_w, rd, 0)), r.rd_wdata.eq(Mux(rd_w, result, 0)),
                r.pc_rdata.eq(x_pc), r.pc_wdata.eq(Mux(redirect, redirect_pc, pc_plus4)),
                r.mem_addr.eq(Cat(Const(0, 2), addr[2:32])),
                r.mem_rmask.eq(Mux(load_ok, lanes, 0)), r.mem_wmask.eq(Mux(store_ok, lanes, 0)),
                r.mem_rdata.eq(Mux(load_ok, dbus.dat_r, 0)),
                r.mem_wdata.eq(Mux(store_ok, st_data & Cat(*(lanes[i].replicate(8)
                                                              for i in range(4))), 0)),
            ]
        self._cpu_state = {"mcycle": mcycle, "minstret": minstret}
        return m

    def _muldiv(self, m, f3, a, b, start, busy, done, result):
        """M extension: multiplies in one clock (``*``; DSP blocks where there are any),
        divisions in 33 clocks (restoring, one quotient bit per clock)."""
        is_div = f3[2]
        # Multiply: MULH (s x s), MULHSU (s x u), MULHU (u x u).
        a_s = Cat(a, a[31] & (f3 != 3)).as_signed()
        b_s = Cat(b, b[31] & ((f3 == 1) | (f3 == 0))).as_signed()
        prod = Signal(signed(66))
        m.d.comb += prod.eq(a_s * b_s)
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
            done.eq(Mux(is_div, running & (count == 0), start)),
        ]
        with m.Switch(f3):
            with m.Case(0):
                m.d.comb += result.eq(prod[0:32])
            with m.Case(1, 2, 3):
                m.d.comb += result.eq(prod[32:64])
            with m.Case(4, 5):
                m.d.comb += result.eq(q)
            with m.Case(6, 7):
                m.d.comb += result.eq(rr)

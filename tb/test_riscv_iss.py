# Ref: The RISC-V Instruction Set Manual, Volume I (20191213) and Volume II (20211203).
"""Checks of the ISS (``sim/riscv/iss.py``), the ELF loader, the firmware and ``run-elf``.

- Directed: every ALU/M operation on edge operands against independent Python arithmetic
  (``fractions`` for division, explicit two's complement), loads/stores on every byte lane,
  branches and jumps, each trap with its mcause/mtval/mepc, CSR legality and WARL masks,
  counters, interrupts (priority, enable bits, lockstep hooks).
- ELF loader errors; ``picojoule run-elf`` pass/fail/timeout/signature.
- Firmware benchmarks on the ISS leave the signatures ``sim.flow.firmware.expected_signature``
  computes with zlib/sorted/numpy.
- Spike (skipped with the reason when spike or dtc is missing): the benchmarks and random
  programs commit for commit, and a deliberately broken ISS is caught.
"""

import struct
from fractions import Fraction
from math import trunc

import pytest

from hdl.memory_map import RAM_BASE, RAM_SIZE
from hdl.riscv.isa import (
    CSR_INFO,
    INSTRUCTIONS,
    MTVEC_RESET,
    RESET_PC,
    Cause,
    Csr,
    Irq,
    Mstatus,
    decode,
    misa,
)
from sim.riscv.elf import load_elf
from sim.riscv.iss import Iss
from sim.riscv.rand import FAULT_ADDR, encode, random_program, write_elf
from sim.riscv.spike import spike_missing

M32 = 0xFFFF_FFFF
EDGES = [0, 1, 2, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0xFFFF_FFFE, 31, 32, 0x1234_5678,
         0x8765_4321]


def s32(v):
    v &= M32
    return v - (1 << 32) if v >> 31 else v


def li(rd, value):
    value &= M32
    lo = value & 0xFFF
    lo = lo - 0x1000 if lo >= 0x800 else lo
    return [encode("lui", rd=rd, imm=(value - lo) & 0xFFFF_F000),
            encode("addi", rd=rd, rs1=rd, imm=lo)]


def run(words, steps=None, **kw):
    iss = Iss(**kw)
    iss.load_words(RAM_BASE, words)
    recs = [iss.step() for _ in range(steps or len(words))]
    return iss, recs


# ------------------------------------------------------------------------------ encoding
def test_encoder_roundtrip_every_instruction():
    for name, e in INSTRUCTIONS.items():
        for rd, rs1, rs2 in ((1, 2, 3), (31, 0, 17)):
            w = encode(name, rd=rd, rs1=rs1, rs2=rs2, imm=-4 if e.fmt in "ISB" else 0x1000)
            assert decode(w, with_muldiv=True) == name, (name, hex(w))
            if e.muldiv:
                assert decode(w, with_muldiv=False) is None


# ------------------------------------------------------------------------------ ALU
def _alu_oracle(name, a, b):
    sa, sb = s32(a), s32(b)
    sh = b & 31
    table = {
        "add": a + b, "sub": a - b, "xor": a ^ b, "or": a | b, "and": a & b,
        "sll": a << sh, "srl": a >> sh, "sra": sa >> sh,     # Python >> on negatives floors
        "slt": int(sa < sb), "sltu": int(a < b),
        "mul": sa * sb, "mulh": (sa * sb) >> 32, "mulhsu": (sa * b) >> 32,
        "mulhu": (a * b) >> 32,
        "div": -1 if b == 0 else (sa if (sa, sb) == (-2**31, -1) else trunc(Fraction(sa, sb))),
        "divu": M32 if b == 0 else a // b,
        "rem": sa if b == 0 else (0 if (sa, sb) == (-2**31, -1)
                                  else sa - sb * trunc(Fraction(sa, sb))),
        "remu": a if b == 0 else a % b,
    }
    return table[name] & M32


@pytest.mark.parametrize("name", ["add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or",
                                  "and", "mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem",
                                  "remu"])
def test_register_ops(name):
    md = INSTRUCTIONS[name].muldiv
    for a in EDGES:
        for b in EDGES:
            words = li(1, a) + li(2, b) + [encode(name, rd=3, rs1=1, rs2=2)]
            _, recs = run(words, with_muldiv=md)
            r = recs[-1]
            assert (r.rd_addr, r.rd_wdata) == (3, _alu_oracle(name, a, b)), (name, a, b)
            assert (r.rs1_addr, r.rs1_rdata, r.rs2_addr, r.rs2_rdata) == (1, a, 2, b)


@pytest.mark.parametrize("name", ["addi", "slti", "sltiu", "xori", "ori", "andi", "slli", "srli",
                                  "srai"])
def test_immediate_ops(name):
    base = {"addi": "add", "slti": "slt", "sltiu": "sltu", "xori": "xor", "ori": "or",
            "andi": "and", "slli": "sll", "srli": "srl", "srai": "sra"}[name]
    shift = name in ("slli", "srli", "srai")
    imms = [0, 1, 31, 7] if shift else [0, 1, -1, 2047, -2048, 0x555]
    for a in EDGES:
        for i in imms:
            _, recs = run(li(1, a) + [encode(name, rd=5, rs1=1, imm=i)])
            assert recs[-1].rd_wdata == _alu_oracle(base, a, i & M32), (name, a, i)


def test_lui_auipc_and_x0():
    _, recs = run([encode("lui", rd=4, imm=0xABCDE000), encode("auipc", rd=5, imm=0xFFFFF000),
                   encode("addi", rd=0, rs1=4, imm=1)])
    assert recs[0].rd_wdata == 0xABCDE000
    assert recs[1].rd_wdata == (RESET_PC + 4 - 0x1000) & M32
    assert (recs[2].rd_addr, recs[2].rd_wdata) == (0, 0)     # x0 writes are not reported


def test_muldiv_is_illegal_without_m():
    _, recs = run([encode("mul", rd=1, rs1=2, rs2=3)], with_muldiv=False)
    assert recs[0].trap and recs[0].cause == Cause.ILLEGAL_INSN.value


# ------------------------------------------------------------------------------ memory
DATA = RAM_BASE + 0x1000


@pytest.mark.parametrize("name,size,signed", [("lb", 1, True), ("lbu", 1, False),
                                              ("lh", 2, True), ("lhu", 2, False),
                                              ("lw", 4, True)])
def test_loads_every_lane(name, size, signed):
    word = 0x8182_F3F4
    for off in range(0, 4, size):
        words = li(1, DATA) + [encode(name, rd=2, rs1=1, imm=off)]
        iss = Iss()
        iss.load_words(RAM_BASE, words)
        iss.load_words(DATA, [word])
        r = [iss.step() for _ in words][-1]
        raw = (word >> (8 * off)) & ((1 << (8 * size)) - 1)
        want = raw - (1 << (8 * size)) if signed and raw >> (8 * size - 1) else raw
        assert r.rd_wdata == want & M32
        assert (r.mem_addr, r.mem_rmask, r.mem_rdata, r.mem_wmask) == \
            (DATA, ((1 << size) - 1) << off, word, 0)


@pytest.mark.parametrize("name,size", [("sb", 1), ("sh", 2), ("sw", 4)])
def test_stores_every_lane(name, size):
    value = 0xA1B2_C3D4
    for off in range(0, 4, size):
        words = li(1, DATA) + li(2, value) + [encode(name, rs1=1, rs2=2, imm=off)]
        iss = Iss()
        iss.load_words(RAM_BASE, words)
        iss.load_words(DATA, [0x1111_1111])
        r = [iss.step() for _ in words][-1]
        lanes = ((1 << size) - 1) << off
        data = (value & ((1 << (8 * size)) - 1)) << (8 * off)
        assert (r.mem_addr, r.mem_wmask, r.mem_wdata, r.mem_rmask) == (DATA, lanes, data, 0)
        keep = sum(0xFF << (8 * i) for i in range(4) if not lanes >> i & 1)
        assert iss.read_word(DATA) == (0x1111_1111 & keep) | data
        assert r.rd_addr == 0


# ------------------------------------------------------------------------------ control
@pytest.mark.parametrize("name", ["beq", "bne", "blt", "bge", "bltu", "bgeu"])
def test_branches(name):
    cond = {"beq": lambda a, b: a == b, "bne": lambda a, b: a != b,
            "blt": lambda a, b: s32(a) < s32(b), "bge": lambda a, b: s32(a) >= s32(b),
            "bltu": lambda a, b: a < b, "bgeu": lambda a, b: a >= b}[name]
    for a in EDGES[:7]:
        for b in EDGES[:7]:
            words = li(1, a) + li(2, b) + [encode(name, rs1=1, rs2=2, imm=-12)]
            _, recs = run(words)
            pc = RESET_PC + 16
            assert recs[-1].pc_wdata == (pc - 12 if cond(a, b) else pc + 4), (name, a, b)
            assert not recs[-1].trap


def test_jal_jalr_link_and_bit0():
    words = [encode("jal", rd=1, imm=8), 0, encode("jalr", rd=5, rs1=1, imm=5)]
    _, recs = run(words, steps=2)
    assert (recs[0].rd_wdata, recs[0].pc_wdata) == (RESET_PC + 4, RESET_PC + 8)
    assert (recs[1].rd_wdata, recs[1].pc_wdata) == (RESET_PC + 12, RESET_PC + 8)  # +5 & ~1


# ------------------------------------------------------------------------------ traps
def _trap_check(rec, iss, cause, tval, epc):
    assert rec.trap == 1 and rec.cause == cause.value
    assert (rec.rd_addr, rec.rd_wdata, rec.mem_rmask, rec.mem_wmask) == (0, 0, 0, 0)
    assert rec.pc_wdata == iss.mtvec == MTVEC_RESET
    assert (iss.mcause, iss.mtval, iss.mepc) == (cause.value, tval & M32, epc)


def test_illegal_instruction_word_in_mtval():
    for word in (0x0000_0000, 0xFFFF_FFFF, 0x0000_1111, encode("addi", rd=1) | (1 << 13) << 12):
        if decode(word, True) is not None:
            continue
        iss, recs = run([encode("addi", rd=1, imm=1), word, encode("addi", rd=2, imm=2)],
                        steps=2)
        _trap_check(recs[1], iss, Cause.ILLEGAL_INSN, word, RESET_PC + 4)


def test_handler_first_instruction_has_intr():
    iss = Iss()
    iss.load_words(RAM_BASE, [encode("ecall")])
    r0, r1, r2 = iss.step(), iss.step(), iss.step()
    assert r0.trap and not r0.intr and r1.intr == 1 and r1.trap and r2.intr == 1
    assert r1.pc_rdata == MTVEC_RESET


def test_ecall_ebreak():
    iss, recs = run([encode("ecall")], steps=1)
    _trap_check(recs[0], iss, Cause.ECALL_M, 0, RESET_PC)
    iss, recs = run([encode("addi"), encode("ebreak")], steps=2)
    _trap_check(recs[1], iss, Cause.BREAKPOINT, RESET_PC + 4, RESET_PC + 4)   # mtval = pc


def test_misaligned_jumps_trap_on_the_jump():
    iss, recs = run([encode("jal", rd=1, imm=6)], steps=1)
    _trap_check(recs[0], iss, Cause.INSN_MISALIGNED, RESET_PC + 6, RESET_PC)
    assert iss.x[1] == 0
    iss, recs = run(li(3, RESET_PC + 0x102) + [encode("jalr", rd=1, rs1=3, imm=0)], steps=3)
    _trap_check(recs[2], iss, Cause.INSN_MISALIGNED, RESET_PC + 0x102, RESET_PC + 8)
    # a branch traps only when taken
    iss, recs = run([encode("bne", rs1=0, rs2=0, imm=6), encode("beq", rs1=0, rs2=0, imm=6)],
                    steps=2)
    assert not recs[0].trap
    _trap_check(recs[1], iss, Cause.INSN_MISALIGNED, RESET_PC + 10, RESET_PC + 4)


@pytest.mark.parametrize("name,size", [("lh", 2), ("lhu", 2), ("lw", 4), ("sh", 2), ("sw", 4)])
def test_misaligned_data_traps(name, size):
    load = name.startswith("l")
    for off in range(1, 4):
        if off % size == 0:
            continue
        words = li(1, DATA) + [encode(name, rd=2, rs1=1, rs2=1, imm=off)]
        iss, recs = run(words)
        cause = Cause.LOAD_MISALIGNED if load else Cause.STORE_MISALIGNED
        _trap_check(recs[-1], iss, cause, DATA + off, RESET_PC + 8)


@pytest.mark.parametrize("addr", [FAULT_ADDR, RAM_BASE + RAM_SIZE, RAM_BASE - 4, 0x1000_0000])
def test_access_faults(addr):
    for name, cause in (("lw", Cause.LOAD_ACCESS_FAULT), ("sw", Cause.STORE_ACCESS_FAULT)):
        iss, recs = run(li(1, addr) + [encode(name, rd=2, rs1=1, rs2=1)])
        _trap_check(recs[-1], iss, cause, addr, RESET_PC + 8)
    # fetch from outside RAM: the jump retires, the fetch faults with mtval = mepc = target
    iss, recs = run(li(1, addr) + [encode("jalr", rd=0, rs1=1)], steps=4)
    assert not recs[2].trap and recs[2].pc_wdata == addr
    _trap_check(recs[3], iss, Cause.INSN_ACCESS_FAULT, addr, addr)


def test_device_hook_and_small_ram():
    seen = []

    def hook(addr, wmask, wdata):
        seen.append((addr, wmask, wdata))
        return 0x55AA_1234

    iss = Iss(devices={"gpio": hook}, ram_size=4096)
    from hdl.memory_map import region
    base = region("gpio").base
    words = li(1, base) + [encode("sb", rs1=1, rs2=1, imm=5), encode("lhu", rd=2, rs1=1, imm=2)]
    iss.load_words(RAM_BASE, words)
    recs = [iss.step() for _ in words]
    assert seen == [(base + 4, 0b0010, (base & 0xFF) << 8), (base, 0, 0)]
    assert recs[-1].rd_wdata == 0x55AA
    # beyond the configured RAM size: a load fault
    iss.load_words(RAM_BASE, li(1, RAM_BASE + 4096) + [encode("lw", rd=2, rs1=1)])
    iss.pc = RAM_BASE
    assert [iss.step() for _ in range(3)][-1].cause == Cause.LOAD_ACCESS_FAULT.value


def test_mret_and_mstatus_stack():
    iss = Iss()
    words = li(1, RAM_BASE + 0x40) + [
        encode("csrrw", rs1=1, csr=Csr.MEPC.value),
        encode("csrrsi", rs1=1 << Mstatus.MIE, csr=Csr.MSTATUS.value),
        encode("ecall")]
    iss.load_words(RAM_BASE, words)
    iss.load_words(MTVEC_RESET + 0x100, [])
    for _ in range(5):
        iss.step()
    # the ecall saved MIE=1 into MPIE and cleared MIE
    assert iss.csr_read(Csr.MSTATUS) == (1 << Mstatus.MPIE) | (0b11 << Mstatus.MPP)
    iss.pc = RAM_BASE + 0x80
    iss.load_words(RAM_BASE + 0x80, [encode("mret")])
    r = iss.step()
    assert r.pc_wdata == iss.mepc == RESET_PC + 16      # mepc of the ecall
    assert iss.csr_read(Csr.MSTATUS) == (1 << Mstatus.MIE) | (1 << Mstatus.MPIE) | \
        (0b11 << Mstatus.MPP)


# ------------------------------------------------------------------------------ CSRs
def test_unimplemented_csrs_trap():
    implemented = {c.value for c in CSR_INFO}
    for addr in (0x7C0, 0x310, 0x3A1, 0x3B1, 0x7A3, Csr.TIME.value, Csr.TIMEH.value, 0xB03,
                 0x320):
        assert addr not in implemented
        iss, recs = run([encode("csrrs", rd=1, rs1=0, csr=addr)], steps=1)
        _trap_check(recs[0], iss, Cause.ILLEGAL_INSN, recs[0].insn, RESET_PC)


def test_read_only_csrs():
    for csr, info in CSR_INFO.items():
        if not info.read_only:
            continue
        cases = [("csrrw", 0, True), ("csrrw", 5, True), ("csrrs", 5, True), ("csrrs", 0, False),
                 ("csrrc", 5, True), ("csrrc", 0, False), ("csrrwi", 0, True),
                 ("csrrsi", 3, True), ("csrrsi", 0, False), ("csrrci", 1, True),
                 ("csrrci", 0, False)]
        for name, rs1, traps in cases:
            _, recs = run([encode(name, rd=2, rs1=rs1, csr=csr.value)], steps=1)
            assert bool(recs[0].trap) == traps, (csr, name, rs1)


def test_warl_masks_and_fixed_values():
    for md in (False, True):
        for csr, info in CSR_INFO.items():
            if info.read_only or csr in (Csr.MCYCLE, Csr.MCYCLEH, Csr.MINSTRET, Csr.MINSTRETH):
                continue
            words = li(1, M32) + [encode("csrrw", rs1=1, csr=csr.value),
                                  encode("csrrs", rd=2, csr=csr.value),
                                  encode("csrrc", rs1=1, csr=csr.value),
                                  encode("csrrs", rd=3, csr=csr.value)]
            _, recs = run(words, with_muldiv=md)
            fixed = {Csr.MSTATUS: 0b11 << Mstatus.MPP, Csr.MISA: misa(md)}.get(csr, 0)
            assert recs[3].rd_wdata == info.writable | fixed, csr
            assert recs[5].rd_wdata == fixed, csr
    _, recs = run([encode("csrrs", rd=1, csr=c.value) for c in
                   (Csr.MVENDORID, Csr.MARCHID, Csr.MIMPID, Csr.MHARTID)])
    assert [r.rd_wdata for r in recs] == [0, 0, 0, 0]
    assert misa(True) & (1 << 12) and not misa(False) & (1 << 12)     # M bit


def test_csr_instruction_semantics():
    words = li(1, 0xF0F0) + [encode("csrrw", rd=2, rs1=1, csr=Csr.MSCRATCH.value),
                             encode("csrrsi", rd=3, rs1=0b101, csr=Csr.MSCRATCH.value),
                             encode("csrrci", rd=4, rs1=0b10000, csr=Csr.MSCRATCH.value),
                             encode("csrrc", rd=5, rs1=1, csr=Csr.MSCRATCH.value),
                             encode("csrrs", rd=6, rs1=0, csr=Csr.MSCRATCH.value)]
    iss, recs = run(words)
    assert [r.rd_wdata for r in recs[2:]] == [0, 0xF0F0, 0xF0F5, 0xF0E5, 0x0005]


def test_counters():
    words = [encode("addi")] * 3 + [encode("csrrs", rd=1, csr=Csr.MINSTRET.value),
                                    encode("csrrs", rd=2, csr=Csr.CYCLE.value),
                                    encode("ecall")]
    iss, recs = run(words)
    assert (recs[3].rd_wdata, recs[4].rd_wdata) == (3, 4)
    assert iss.minstret == 5         # the ecall traps: not retired, not counted
    # 64-bit carry, and a write wins over the writing instruction's own increment
    words = li(1, M32) + [encode("csrrw", rs1=1, csr=Csr.MINSTRET.value),
                          encode("csrrs", rd=2, csr=Csr.MINSTRETH.value),
                          encode("csrrs", rd=3, csr=Csr.MINSTRET.value),
                          encode("csrrs", rd=4, csr=Csr.INSTRETH.value)]
    iss, recs = run(words)
    # minstreth is read before that instruction's own increment carries into it
    assert [r.rd_wdata for r in recs[3:]] == [0, 0, 1]
    # lockstep override of a volatile read
    iss = Iss()
    iss.load_words(RAM_BASE, [encode("csrrs", rd=1, csr=Csr.MCYCLE.value),
                              encode("csrrs", rd=2, csr=Csr.MSCRATCH.value)])
    assert iss.step(csr_rdata=1234).rd_wdata == 1234
    assert iss.step(csr_rdata=99).rd_wdata == 0                # not volatile: ignored


# ------------------------------------------------------------------------------ interrupts
def _irq_iss(**kw):
    iss = Iss(**kw)
    words = li(1, (1 << Irq.MTI) | (1 << Irq.MEI)) + [
        encode("csrrw", rs1=1, csr=Csr.MIE.value),
        encode("csrrsi", rs1=1 << Mstatus.MIE, csr=Csr.MSTATUS.value)] + [encode("addi")] * 4
    iss.load_words(RAM_BASE, words)
    for _ in range(4):
        iss.step()
    return iss


def test_interrupt_priority_and_entry():
    iss = _irq_iss()
    iss.mtip = iss.meip = True
    assert iss.csr_read(Csr.MIP) == (1 << Irq.MTI) | (1 << Irq.MEI)
    r = iss.step()
    assert r.intr == 1 and r.pc_rdata == MTVEC_RESET
    assert iss.mcause == Cause.M_EXTERNAL_IRQ.value and iss.mepc == RESET_PC + 16
    assert iss.mtval == 0 and not iss.mstatus & (1 << Mstatus.MIE)
    iss = _irq_iss()
    iss.mtip = True
    iss.step()
    assert iss.mcause == Cause.M_TIMER_IRQ.value


def test_interrupt_needs_both_enables():
    iss = Iss()
    iss.load_words(RAM_BASE, [encode("addi")] * 2)
    iss.mtip = True
    assert not iss.step().intr and iss.pending_interrupt() is None


def test_lockstep_take_interrupt():
    iss = _irq_iss(auto_interrupts=False)
    iss.meip = True
    r = iss.step()
    assert not r.intr and r.pc_rdata == RESET_PC + 16         # not taken on its own
    assert iss.take_interrupt() == Cause.M_EXTERNAL_IRQ.value
    assert iss.mepc == RESET_PC + 20 and iss.step().intr == 1
    assert iss.take_interrupt() is None                         # MIE is now 0


# ------------------------------------------------------------------------------ ELF
def _elf_bytes(tmp_path, symbols=None, addr=RAM_BASE, name="p.elf"):
    p = write_elf(tmp_path / name, struct.pack("<I", encode("ecall")),
                  {"tohost": RAM_BASE + 0x100} if symbols is None else symbols, base=addr,
                  entry=addr)
    return p, bytearray(p.read_bytes())


def test_elf_errors(tmp_path):
    p, blob = _elf_bytes(tmp_path)
    assert load_elf(p).tohost == RAM_BASE + 0x100
    cases = {}
    (tmp_path / "text.elf").write_text("hello")
    cases["not an ELF"] = tmp_path / "text.elf"
    b64 = bytearray(blob)
    b64[4] = 2
    (tmp_path / "c64.elf").write_bytes(b64)
    cases["ELF64"] = tmp_path / "c64.elf"
    bm = bytearray(blob)
    bm[18:20] = struct.pack("<H", 62)    # EM_X86_64
    (tmp_path / "x86.elf").write_bytes(bm)
    cases["not RISC-V"] = tmp_path / "x86.elf"
    cases["outside RAM"] = _elf_bytes(tmp_path, addr=0x1000_0000, name="io.elf")[0]
    cases["no `tohost`"] = _elf_bytes(tmp_path, symbols={"other": 0}, name="nosym.elf")[0]
    for what, path in cases.items():
        with pytest.raises(ValueError) as err:
            load_elf(path)
        msg = str(err.value)
        assert what in msg and str(path) in msg and "\n" not in msg, msg


# ------------------------------------------------------------------------------ run-elf
def _exit_program(tmp_path, value, loop=False):
    tohost = RAM_BASE + 0x400
    words = li(1, tohost) + li(2, value) + [encode("sw", rs1=1, rs2=2),
                                            encode("jal", rd=0, imm=0)]
    if loop:
        words = [encode("jal", rd=0, imm=0)]
    image = b"".join(struct.pack("<I", w) for w in words).ljust(0x410, b"\0")
    return write_elf(tmp_path / f"exit{value}.elf", image,
                     {"tohost": tohost, "begin_signature": RAM_BASE,
                      "end_signature": RAM_BASE + 8})


def test_run_elf_cli(tmp_path, capsys):
    from sim.cli import main

    assert main(["run-elf", str(_exit_program(tmp_path, 1)), "--signature",
                 str(tmp_path / "sig")]) == 0
    out = capsys.readouterr().out
    assert "PASS" in out and "CPI" in out and "instructions retired 5" in out
    words = (tmp_path / "sig").read_text().splitlines()
    assert words == [f"{w:08x}" for w in li(1, RAM_BASE + 0x400)]
    assert main(["run-elf", str(_exit_program(tmp_path, (7 << 1) | 1))]) == 1
    assert "test 7" in capsys.readouterr().out
    assert main(["run-elf", str(_exit_program(tmp_path, 0, loop=True)),
                 "--max-cycles", "50"]) == 1
    err = capsys.readouterr().err
    assert "timeout" in err and "0x80000000" in err and len(err.strip().splitlines()) == 1
    assert main(["run-elf", __file__]) == 1
    assert "not an ELF" in capsys.readouterr().err


# ------------------------------------------------------------------------------ random
def test_random_programs_cover_every_trap():
    causes = set()
    for seed in range(3):
        p = random_program(seed, 300, with_muldiv=True)
        assert p.words == random_program(seed, 300, with_muldiv=True).words
        iss = Iss(with_muldiv=True)
        p.load_into(iss)
        value = None
        for _ in range(50_000):
            r = iss.step()
            if r.trap:
                causes.add(r.cause)
            if r.mem_wmask and r.mem_addr == p.tohost and r.mem_wdata:
                value = r.mem_wdata
                break
        assert value == 1, f"seed {seed} did not finish"
    want = {c.value for c in Cause} - {Cause.M_TIMER_IRQ.value, Cause.M_EXTERNAL_IRQ.value}
    assert causes == want


# ------------------------------------------------------------------------------ firmware
def _need_compiler():
    from sim.flow.firmware import compiler
    from sim.flow.toolchain import ToolError

    try:
        compiler()
    except ToolError as e:
        pytest.skip(str(e))


@pytest.mark.parametrize("with_muldiv", [False, True], ids=["rv32i", "rv32im"])
@pytest.mark.parametrize("name", ["crc32", "sort", "matmul", "control"])
def test_firmware_on_iss(name, with_muldiv):
    _need_compiler()
    from sim.flow.firmware import build, expected_signature
    from sim.riscv.run import run_elf

    res = run_elf(build(name, with_muldiv=with_muldiv), max_cycles=2_000_000,
                  with_muldiv=with_muldiv)
    assert res.tohost == 1, res
    want = expected_signature(name)
    assert res.signature[:len(want)] == want
    assert res.console.startswith(f"{name}: ") and "cycles" in res.console


# ------------------------------------------------------------------------------ Spike
needs_spike = pytest.mark.skipif(spike_missing() is not None, reason=str(spike_missing()))


@needs_spike
@pytest.mark.parametrize("with_muldiv", [False, True], ids=["rv32i", "rv32im"])
@pytest.mark.parametrize("name", ["crc32", "sort", "matmul", "control"])
def test_firmware_matches_spike(name, with_muldiv):
    if name == "matmul" and not with_muldiv:
        pytest.skip("600k instructions on the Python ISS; rv32im covers the program")
    _need_compiler()
    from sim.flow.firmware import build, expected_signature
    from sim.riscv.spike import compare_with_iss, run_spike

    elf = build(name, with_muldiv=with_muldiv, console=False)
    spike = run_spike(elf, with_muldiv=with_muldiv)
    assert spike.exit_code == 0
    n, iss = compare_with_iss(elf, with_muldiv=with_muldiv, spike=spike)
    assert n > 10_000
    want = expected_signature(name)
    assert spike.signature[:len(want)] == want


@needs_spike
@pytest.mark.parametrize("with_muldiv", [False, True], ids=["rv32i", "rv32im"])
@pytest.mark.parametrize("seed", range(4))
def test_random_program_matches_spike(tmp_path, seed, with_muldiv):
    from sim.riscv.spike import compare_with_iss, run_spike

    print(f"seed {seed}")
    prog = random_program(seed, 400, with_muldiv)
    elf = prog.to_elf(tmp_path / "r.elf")
    spike = run_spike(elf, with_muldiv=with_muldiv)
    assert spike.exit_code == 0
    n, iss = compare_with_iss(elf, with_muldiv=with_muldiv, spike=spike)
    b, e = prog.symbols["begin_signature"], prog.symbols["end_signature"]
    assert [iss.read_word(a) for a in range(b, e, 4)] == spike.signature
    assert n > 400


@needs_spike
def test_spike_comparison_catches_a_wrong_iss(tmp_path):
    """The comparison can fail: an ISS that reports ebreak's mtval as 0 is caught."""
    from sim.riscv.spike import compare_with_iss, run_spike

    class WrongIss(Iss):
        def _enter_trap(self, cause, tval, epc):
            super()._enter_trap(cause, 0 if cause == Cause.BREAKPOINT.value else tval, epc)

    elf = random_program(1, 400).to_elf(tmp_path / "r.elf")
    spike = run_spike(elf)
    compare_with_iss(elf, spike=spike)
    with pytest.raises(AssertionError, match="differs"):
        compare_with_iss(elf, spike=spike, iss=WrongIss())

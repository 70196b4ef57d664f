# Ref: The RISC-V Instruction Set Manual, Volume I: Unprivileged ISA (20191213) and Volume II:
#      Privileged Architecture (20211203), machine mode only.
"""RV32I + Zicsr + Zicntr + Zifencei (+ M) encodings: the one decode table.

The RTL core (``hdl/riscv/core.py``), the instruction-set simulator (``sim/riscv/iss.py``), the
random instruction generator and the firmware header all import these numbers; nothing else
spells an opcode, a funct3, a CSR address or a trap cause.

``INSTRUCTIONS`` lists every implemented instruction as ``name -> Encoding``: the fixed bit
fields that identify it and its immediate format. An instruction word is legal if and only if it
matches exactly one entry (``decode``); everything else traps as an illegal instruction.
"""

from dataclasses import dataclass

from amaranth.lib import enum

__all__ = ["Opcode", "Branch", "Load", "Store", "Alu", "MulDiv", "System", "Priv", "Csr",
           "Cause", "Mstatus", "Irq", "Encoding", "INSTRUCTIONS", "decode", "CSR_INFO",
           "misa", "imm", "XLEN", "RESET_PC", "MTVEC_RESET"]

XLEN = 32
RESET_PC = 0x8000_0000
MTVEC_RESET = 0x8000_0000


class Opcode(enum.Enum, shape=7):
    LOAD = 0b0000011
    CUSTOM0 = 0b0001011
    MISC_MEM = 0b0001111
    OP_IMM = 0b0010011
    AUIPC = 0b0010111
    STORE = 0b0100011
    OP = 0b0110011
    LUI = 0b0110111
    BRANCH = 0b1100011
    JALR = 0b1100111
    JAL = 0b1101111
    SYSTEM = 0b1110011


class Branch(enum.Enum, shape=3):
    BEQ = 0
    BNE = 1
    BLT = 4
    BGE = 5
    BLTU = 6
    BGEU = 7


class Load(enum.Enum, shape=3):
    LB = 0
    LH = 1
    LW = 2
    LBU = 4
    LHU = 5


class Store(enum.Enum, shape=3):
    SB = 0
    SH = 1
    SW = 2


class Alu(enum.Enum, shape=3):
    """funct3 of OP / OP_IMM; funct7 bit 5 (instruction bit 30) selects SUB and SRA."""
    ADD = 0
    SLL = 1
    SLT = 2
    SLTU = 3
    XOR = 4
    SR = 5
    OR = 6
    AND = 7


class MulDiv(enum.Enum, shape=3):
    """funct3 of OP with funct7 = 0000001 (M extension)."""
    MUL = 0
    MULH = 1
    MULHSU = 2
    MULHU = 3
    DIV = 4
    DIVU = 5
    REM = 6
    REMU = 7


class System(enum.Enum, shape=3):
    PRIV = 0
    CSRRW = 1
    CSRRS = 2
    CSRRC = 3
    CSRRWI = 5
    CSRRSI = 6
    CSRRCI = 7


class Priv(enum.Enum, shape=12):
    """funct12 (instruction bits 31:20) of SYSTEM/PRIV with rs1 = rd = 0."""
    ECALL = 0x000
    EBREAK = 0x001
    WFI = 0x105
    MRET = 0x302


class Csr(enum.Enum, shape=12):
    MSTATUS = 0x300
    MISA = 0x301
    MIE = 0x304
    MTVEC = 0x305
    MSCRATCH = 0x340
    MEPC = 0x341
    MCAUSE = 0x342
    MTVAL = 0x343
    MIP = 0x344
    PMPCFG0 = 0x3A0
    PMPADDR0 = 0x3B0
    TSELECT = 0x7A0
    TDATA1 = 0x7A1
    TDATA2 = 0x7A2
    MCYCLE = 0xB00
    MINSTRET = 0xB02
    MCYCLEH = 0xB80
    MINSTRETH = 0xB82
    CYCLE = 0xC00
    TIME = 0xC01
    INSTRET = 0xC02
    CYCLEH = 0xC80
    TIMEH = 0xC81
    INSTRETH = 0xC82
    MVENDORID = 0xF11
    MARCHID = 0xF12
    MIMPID = 0xF13
    MHARTID = 0xF14


@dataclass(frozen=True)
class CsrInfo:
    """``writable``: bits a CSR write can change (0 with ``read_only`` means writes are legal
    but ignored, WARL); ``read_only``: any write traps (address bits 11:10 = 0b11)."""
    writable: int
    read_only: bool = False


class Mstatus:
    MIE = 3
    MPIE = 7
    MPP = 11          # bits 12:11, hard-wired to 0b11 (machine mode only)


class Irq:
    """Interrupt numbers: bit positions in mie/mip and the mcause code (with bit 31 set)."""
    MTI = 7
    MEI = 11


_MSTATUS_W = (1 << Mstatus.MIE) | (1 << Mstatus.MPIE)
_MIE_W = (1 << Irq.MTI) | (1 << Irq.MEI)

# Every implemented CSR. Addresses not listed here trap as illegal instructions. TIME/TIMEH are
# not implemented (the SoC's mtime is memory-mapped; reading `time` traps, which firmware's
# runtime avoids); cycle/instret are the 64-bit machine counters, read-only aliases at 0xC..
CSR_INFO: dict[Csr, CsrInfo] = {
    Csr.MSTATUS: CsrInfo(_MSTATUS_W),
    Csr.MISA: CsrInfo(0),
    Csr.MIE: CsrInfo(_MIE_W),
    Csr.MTVEC: CsrInfo(0xFFFF_FFFC),       # direct mode only: MODE bits read 0
    Csr.MSCRATCH: CsrInfo(0xFFFF_FFFF),
    Csr.MEPC: CsrInfo(0xFFFF_FFFC),        # IALIGN = 32
    Csr.MCAUSE: CsrInfo(0x8000_001F),
    Csr.MTVAL: CsrInfo(0xFFFF_FFFF),
    Csr.MIP: CsrInfo(0),                   # MTIP/MEIP follow the interrupt inputs
    # No physical memory protection: pmpcfg0 reads 0 (every entry OFF); pmpaddr0 is a plain
    # register (granularity 4 bytes) so software probing the PMP finds a consistent answer
    # (riscv-tests' rv32mi-p-pmpaddr fails on a read-only-zero pmpaddr0: measured).
    Csr.PMPCFG0: CsrInfo(0),
    Csr.PMPADDR0: CsrInfo(0xFFFF_FFFF),
    # No debug triggers: tselect/tdata1/tdata2 read 0 (tdata1.type = 0: no trigger).
    Csr.TSELECT: CsrInfo(0),
    Csr.TDATA1: CsrInfo(0),
    Csr.TDATA2: CsrInfo(0),
    Csr.MCYCLE: CsrInfo(0xFFFF_FFFF),
    Csr.MINSTRET: CsrInfo(0xFFFF_FFFF),
    Csr.MCYCLEH: CsrInfo(0xFFFF_FFFF),
    Csr.MINSTRETH: CsrInfo(0xFFFF_FFFF),
    Csr.CYCLE: CsrInfo(0, read_only=True),
    Csr.INSTRET: CsrInfo(0, read_only=True),
    Csr.CYCLEH: CsrInfo(0, read_only=True),
    Csr.INSTRETH: CsrInfo(0, read_only=True),
    Csr.MVENDORID: CsrInfo(0, read_only=True),
    Csr.MARCHID: CsrInfo(0, read_only=True),
    Csr.MIMPID: CsrInfo(0, read_only=True),
    Csr.MHARTID: CsrInfo(0, read_only=True),
}


class Cause(enum.Enum, shape=32):
    INSN_MISALIGNED = 0
    INSN_ACCESS_FAULT = 1
    ILLEGAL_INSN = 2
    BREAKPOINT = 3
    LOAD_MISALIGNED = 4
    LOAD_ACCESS_FAULT = 5
    STORE_MISALIGNED = 6
    STORE_ACCESS_FAULT = 7
    ECALL_M = 11
    M_TIMER_IRQ = (1 << 31) | Irq.MTI
    M_EXTERNAL_IRQ = (1 << 31) | Irq.MEI


def misa(with_muldiv: bool = False) -> int:
    """MXL = 1 (32-bit), extensions I (and M)."""
    return (1 << 30) | (1 << 8) | ((1 << 12) if with_muldiv else 0)


@dataclass(frozen=True)
class Encoding:
    """Fixed fields of one instruction; ``None`` means the field is free (operand bits)."""
    opcode: Opcode
    fmt: str                        # R I S B U J (immediate format); "I" for CSR/shift too
    funct3: int | None = None
    funct7: int | None = None       # bits 31:25
    funct12: int | None = None      # bits 31:20, with rs1 = rd = 0 (SYSTEM/PRIV only)
    muldiv: bool = False            # only with the M extension


def _r(opcode, f3, f7, **kw):
    return Encoding(opcode, "R", f3.value if hasattr(f3, "value") else f3, f7, **kw)


INSTRUCTIONS: dict[str, Encoding] = {
    "lui": Encoding(Opcode.LUI, "U"),
    "auipc": Encoding(Opcode.AUIPC, "U"),
    "jal": Encoding(Opcode.JAL, "J"),
    "jalr": Encoding(Opcode.JALR, "I", 0),
    **{b.name.lower(): Encoding(Opcode.BRANCH, "B", b.value) for b in Branch},
    **{ld.name.lower(): Encoding(Opcode.LOAD, "I", ld.value) for ld in Load},
    **{s.name.lower(): Encoding(Opcode.STORE, "S", s.value) for s in Store},
    "addi": Encoding(Opcode.OP_IMM, "I", Alu.ADD.value),
    "slti": Encoding(Opcode.OP_IMM, "I", Alu.SLT.value),
    "sltiu": Encoding(Opcode.OP_IMM, "I", Alu.SLTU.value),
    "xori": Encoding(Opcode.OP_IMM, "I", Alu.XOR.value),
    "ori": Encoding(Opcode.OP_IMM, "I", Alu.OR.value),
    "andi": Encoding(Opcode.OP_IMM, "I", Alu.AND.value),
    "slli": _r(Opcode.OP_IMM, Alu.SLL, 0b0000000),
    "srli": _r(Opcode.OP_IMM, Alu.SR, 0b0000000),
    "srai": _r(Opcode.OP_IMM, Alu.SR, 0b0100000),
    "add": _r(Opcode.OP, Alu.ADD, 0b0000000),
    "sub": _r(Opcode.OP, Alu.ADD, 0b0100000),
    "sll": _r(Opcode.OP, Alu.SLL, 0b0000000),
    "slt": _r(Opcode.OP, Alu.SLT, 0b0000000),
    "sltu": _r(Opcode.OP, Alu.SLTU, 0b0000000),
    "xor": _r(Opcode.OP, Alu.XOR, 0b0000000),
    "srl": _r(Opcode.OP, Alu.SR, 0b0000000),
    "sra": _r(Opcode.OP, Alu.SR, 0b0100000),
    "or": _r(Opcode.OP, Alu.OR, 0b0000000),
    "and": _r(Opcode.OP, Alu.AND, 0b0000000),
    **{m.name.lower(): _r(Opcode.OP, m, 0b0000001, muldiv=True) for m in MulDiv},
    # FENCE ignores fm/pred/succ/rs1/rd (all legal); FENCE.I (Zifencei) likewise.
    "fence": Encoding(Opcode.MISC_MEM, "I", 0),
    "fence.i": Encoding(Opcode.MISC_MEM, "I", 1),
    "ecall": Encoding(Opcode.SYSTEM, "I", System.PRIV.value, funct12=Priv.ECALL.value),
    "ebreak": Encoding(Opcode.SYSTEM, "I", System.PRIV.value, funct12=Priv.EBREAK.value),
    "mret": Encoding(Opcode.SYSTEM, "I", System.PRIV.value, funct12=Priv.MRET.value),
    "wfi": Encoding(Opcode.SYSTEM, "I", System.PRIV.value, funct12=Priv.WFI.value),
    **{c.name.lower(): Encoding(Opcode.SYSTEM, "I", c.value) for c in System
       if c is not System.PRIV},
}


def _field(word: int, hi: int, lo: int) -> int:
    return (word >> lo) & ((1 << (hi - lo + 1)) - 1)


def decode(word: int, with_muldiv: bool = False) -> str | None:
    """Name of the instruction ``word`` encodes, or None if it is illegal in this build.

    CSR legality (address implemented, write to a read-only CSR) is checked at execution, where
    the register operands are known; this checks the encoding only. Custom-0 words are illegal
    here: a core with an accelerator port decides them itself.
    """
    if word & 0b11 != 0b11:
        return None
    op, f3, f7 = _field(word, 6, 0), _field(word, 14, 12), _field(word, 31, 25)
    for name, e in INSTRUCTIONS.items():
        if e.opcode.value != op or (e.muldiv and not with_muldiv):
            continue
        if e.funct3 is not None and e.funct3 != f3:
            continue
        if e.funct7 is not None and e.funct7 != f7:
            continue
        if e.funct12 is not None and (_field(word, 31, 20) != e.funct12
                                      or _field(word, 19, 15) or _field(word, 11, 7)):
            continue
        return name
    return None


def _sext(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def imm(word: int, fmt: str) -> int:
    """Sign-extended immediate of ``word`` in format ``fmt`` (as a Python int)."""
    if fmt == "I":
        return _sext(word >> 20, 12)
    if fmt == "S":
        return _sext((_field(word, 31, 25) << 5) | _field(word, 11, 7), 12)
    if fmt == "B":
        return _sext((_field(word, 31, 31) << 12) | (_field(word, 7, 7) << 11)
                     | (_field(word, 30, 25) << 5) | (_field(word, 11, 8) << 1), 13)
    if fmt == "U":
        return _sext(word & 0xFFFF_F000, 32)
    if fmt == "J":
        return _sext((_field(word, 31, 31) << 20) | (_field(word, 19, 12) << 12)
                     | (_field(word, 20, 20) << 11) | (_field(word, 30, 21) << 1), 21)
    if fmt == "R":
        return 0
    raise ValueError(f"unknown immediate format {fmt!r}")

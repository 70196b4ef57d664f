# Ref: The RISC-V Instruction Set Manual, Volume I: Unprivileged ISA (20191213) and Volume II:
#      Privileged Architecture (20211203), machine mode only; riscv-formal RVFI (docs/rvfi.md).
"""Instruction-set simulator of exactly the architecture ``hdl/riscv/isa.py`` defines.

RV32I, Zicsr (machine mode only), Zicntr, Zifencei and optionally M. Every encoding, CSR address
and trap cause comes from ``hdl.riscv.isa``; memory regions come from ``hdl.memory_map``.

Contract
--------
- Reset: ``pc = isa.RESET_PC``, registers 0, ``mtvec = isa.MTVEC_RESET``, counters 0.
- One :meth:`Iss.step` executes one instruction and returns a :class:`Retire` record with
  riscv-formal's RVFI names. A trapping instruction retires with ``trap=1``, ``rd_addr=0``,
  memory masks 0 and ``pc_wdata = mtvec``; the first instruction of any handler (exception or
  interrupt) has ``intr=1``. ``rs1_addr``/``rs2_addr`` are non-zero only for registers the
  instruction reads (riscv-formal allows any value otherwise; the ISS reports 0).
- Memory: RAM at ``memory_map.RAM_BASE`` (``ram_size`` bytes) plus any device region given a
  hook; everything else is a bus error, i.e. an access fault (mtval = address). Instructions are
  fetched from executable regions only (RAM). Misaligned loads/stores trap (misalignment is
  checked before the access fault). ``mem_addr`` is word-aligned, masks are byte lanes of that
  word, ``mem_wdata`` is the store data shifted onto its lanes.
- Counters: ``mcycle`` and ``minstret`` are 64-bit and both advance by one per retired (non-
  trapping) instruction (CPI 1, as Spike); a CSR write to a counter takes precedence over that
  instruction's increment. Set :attr:`Iss.mcycle` from outside to model real cycles.
- Interrupts: ``mip.MTIP``/``MEIP`` follow :attr:`Iss.mtip`/:attr:`Iss.meip` (input lines).
  With ``auto_interrupts=True`` (default) an enabled pending interrupt (MEI before MTI) is taken
  before the next instruction; in lockstep the checker passes ``auto_interrupts=False`` and calls
  :meth:`Iss.take_interrupt` when the RTL takes one.
- Non-deterministic CSR reads (``VOLATILE_CSRS``: mcycle/cycle and high halves, mip): in
  lockstep, ``step(csr_rdata=value)`` makes such a read return ``value`` (normally the RTL's
  ``rd_wdata``); the value is ignored by every other instruction.
"""

import struct
import sys

from hdl.memory_map import RAM_BASE, RAM_SIZE, REGIONS, Region
from hdl.riscv.isa import (
    CSR_INFO,
    INSTRUCTIONS,
    MTVEC_RESET,
    RESET_PC,
    Alu,
    Branch,
    Cause,
    Csr,
    Irq,
    Load,
    Mstatus,
    MulDiv,
    Opcode,
    Store,
    System,
    decode,
    imm,
    misa,
)

__all__ = ["Iss", "Retire", "RVFI_FIELDS", "VOLATILE_CSRS", "Trap"]

MASK = 0xFFFF_FFFF

RVFI_FIELDS = ("pc_rdata", "pc_wdata", "insn", "trap", "intr", "rs1_addr", "rs2_addr",
               "rs1_rdata", "rs2_rdata", "rd_addr", "rd_wdata", "mem_addr", "mem_rmask",
               "mem_wmask", "mem_rdata", "mem_wdata")

#: CSRs whose read value a lockstep checker takes from the RTL (``step(csr_rdata=...)``).
VOLATILE_CSRS = frozenset({Csr.MCYCLE, Csr.MCYCLEH, Csr.CYCLE, Csr.CYCLEH, Csr.MIP})

_MSTATUS_MPP = 0b11 << Mstatus.MPP
_MIE_BIT = 1 << Mstatus.MIE
_MPIE_BIT = 1 << Mstatus.MPIE
_CSR_BY_ADDR = {c.value: c for c in CSR_INFO}
_SIGNED = (Load.LB.value, Load.LH.value, Load.LW.value)
_LOAD_SIZE = {Load.LB.value: 1, Load.LBU.value: 1, Load.LH.value: 2, Load.LHU.value: 2,
              Load.LW.value: 4}
_STORE_SIZE = {Store.SB.value: 1, Store.SH.value: 2, Store.SW.value: 4}


class Retire:
    """One retired instruction (RVFI names without the ``rvfi_`` prefix).

    ``cause`` is not an RVFI signal: the trap cause (a :class:`~hdl.riscv.isa.Cause` value) of
    a trapping instruction, else None; tests use it to name what went wrong.
    """

    __slots__ = RVFI_FIELDS + ("cause",)

    def __init__(self, pc: int):
        self.pc_rdata = pc
        self.pc_wdata = 0
        self.insn = 0
        self.trap = 0
        self.intr = 0
        self.rs1_addr = self.rs2_addr = self.rs1_rdata = self.rs2_rdata = 0
        self.rd_addr = self.rd_wdata = 0
        self.mem_addr = self.mem_rmask = self.mem_wmask = self.mem_rdata = self.mem_wdata = 0
        self.cause = None

    def as_dict(self) -> dict:
        return {f: getattr(self, f) for f in RVFI_FIELDS}

    def __repr__(self):
        parts = [f"pc={self.pc_rdata:08x}", f"insn={self.insn:08x}"]
        if self.trap:
            parts.append(f"TRAP cause={self.cause}")
        if self.intr:
            parts.append("intr")
        if self.rd_addr:
            parts.append(f"x{self.rd_addr}={self.rd_wdata:08x}")
        if self.mem_wmask:
            parts.append(f"st[{self.mem_addr:08x}/{self.mem_wmask:x}]={self.mem_wdata:08x}")
        if self.mem_rmask:
            parts.append(f"ld[{self.mem_addr:08x}/{self.mem_rmask:x}]={self.mem_rdata:08x}")
        parts.append(f"-> {self.pc_wdata:08x}")
        return f"Retire({' '.join(parts)})"


class Trap(Exception):
    """Raised inside an instruction to take a synchronous exception."""

    def __init__(self, cause: int, tval: int = 0):
        self.cause = cause
        self.tval = tval & MASK


class Iss:
    """RV32I(+M) machine-mode hart with RAM and optional MMIO hooks.

    ``devices`` maps a :class:`~hdl.memory_map.Region` (or a region name from ``REGIONS``) to
    ``hook(addr, wmask, wdata) -> int | None``: ``addr`` is the word-aligned address, ``wmask``
    the written byte lanes (0 for a read) and ``wdata`` the data on those lanes. It returns the
    word read (for a write, any value other than None), or None for a bus error (access fault).
    """

    def __init__(self, *, with_muldiv: bool = False, ram_size: int = RAM_SIZE,
                 devices: dict | None = None, auto_interrupts: bool = True):
        if ram_size <= 0 or ram_size % 4:
            raise ValueError(f"ram_size must be a positive multiple of 4, not {ram_size!r}")
        self.with_muldiv = with_muldiv
        self.ram_base = RAM_BASE
        self.ram_size = ram_size
        self.ram = bytearray(ram_size)
        self._words = memoryview(self.ram).cast("I") if sys.byteorder == "little" else None
        self.devices: list[tuple[Region, object]] = []
        for key, hook in (devices or {}).items():
            reg = key if isinstance(key, Region) else next(
                (r for r in REGIONS if r.name == key), None)
            if reg is None:
                raise ValueError(f"unknown device region {key!r}")
            self.devices.append((reg, hook))
        self.auto_interrupts = auto_interrupts
        self._cache: dict[int, object] = {}
        self.reset()

    # -------------------------------------------------------------------------- state
    def reset(self) -> None:
        self.x = [0] * 32
        self.pc = RESET_PC
        self.mstatus = 0          # MIE/MPIE only; MPP reads 0b11
        self.mie = 0
        self.mtvec = MTVEC_RESET
        self.mscratch = self.mepc = self.mcause = self.mtval = 0
        self.pmpaddr0 = 0
        self.mcycle = self.minstret = 0
        self.mtip = self.meip = False
        self._intr_next = 0
        self._written_counters = 0

    @property
    def mip(self) -> int:
        return (int(bool(self.mtip)) << Irq.MTI) | (int(bool(self.meip)) << Irq.MEI)

    def load_bytes(self, addr: int, data: bytes) -> None:
        """Write ``data`` into RAM at ``addr`` (a program image; no checks beyond bounds)."""
        off = addr - self.ram_base
        if off < 0 or off + len(data) > self.ram_size:
            raise ValueError(f"{len(data)} bytes at 0x{addr:08x} do not fit RAM "
                             f"0x{self.ram_base:08x}+0x{self.ram_size:x}")
        self.ram[off:off + len(data)] = data

    def read_word(self, addr: int) -> int:
        off = addr - self.ram_base
        return struct.unpack_from("<I", self.ram, off)[0]

    def load_words(self, addr: int, words) -> None:
        self.load_bytes(addr, b"".join(struct.pack("<I", w & MASK) for w in words))

    # -------------------------------------------------------------------------- stepping
    def pending_interrupt(self) -> int | None:
        """Cause of the interrupt that would be taken now (MEI > MTI), or None."""
        if not self.mstatus & _MIE_BIT:
            return None
        pend = self.mie & self.mip
        if pend & (1 << Irq.MEI):
            return Cause.M_EXTERNAL_IRQ.value
        if pend & (1 << Irq.MTI):
            return Cause.M_TIMER_IRQ.value
        return None

    def take_interrupt(self) -> int | None:
        """Take the highest-priority pending enabled interrupt before the next instruction
        (mepc = that instruction's pc); returns its cause, or None if none is pending."""
        cause = self.pending_interrupt()
        if cause is not None:
            self._enter_trap(cause, 0, self.pc)
        return cause

    def _enter_trap(self, cause: int, tval: int, epc: int) -> None:
        self.mepc = epc & 0xFFFF_FFFC
        self.mcause = cause
        self.mtval = tval
        mie = self.mstatus & _MIE_BIT
        self.mstatus = (_MPIE_BIT if mie else 0)
        self.pc = self.mtvec
        self._intr_next = 1

    def step(self, csr_rdata: int | None = None) -> Retire:
        """Execute one instruction and return its retire record."""
        if self.auto_interrupts and self.pending_interrupt() is not None:
            self.take_interrupt()
        pc = self.pc
        rec = Retire(pc)
        rec.intr = self._intr_next
        self._intr_next = 0
        self._csr_rdata = csr_rdata
        self._written_counters = 0
        try:
            off = pc - self.ram_base
            if pc & 3:
                raise Trap(Cause.INSN_MISALIGNED.value, pc)
            if not 0 <= off < self.ram_size:
                raise Trap(Cause.INSN_ACCESS_FAULT.value, pc)
            word = self._words[off >> 2] if self._words is not None else \
                struct.unpack_from("<I", self.ram, off)[0]
            rec.insn = word
            fn = self._cache.get(word)
            if fn is None:
                fn = self._cache[word] = self._compile(word)
            npc = fn(self, pc, rec)
        except Trap as t:
            rec.trap = 1
            rec.cause = t.cause
            rec.rd_addr = rec.rd_wdata = 0
            rec.mem_addr = rec.mem_rmask = rec.mem_wmask = rec.mem_rdata = rec.mem_wdata = 0
            self._enter_trap(t.cause, t.tval, pc)
            rec.pc_wdata = self.pc
            return rec
        self.pc = npc
        rec.pc_wdata = npc
        w = self._written_counters
        if not w & 1:
            self.mcycle = (self.mcycle + 1) & 0xFFFF_FFFF_FFFF_FFFF
        if not w & 2:
            self.minstret = (self.minstret + 1) & 0xFFFF_FFFF_FFFF_FFFF
        return rec

    def run(self, max_steps: int, *, tohost: int | None = None) -> tuple[int | None, int]:
        """Step until a non-zero store to the word at ``tohost`` or ``max_steps`` instructions;
        returns (value written or None on timeout, instructions stepped)."""
        step = self.step
        for n in range(1, max_steps + 1):
            rec = step()
            if rec.mem_wmask and rec.mem_addr == tohost and rec.mem_wdata:
                return rec.mem_wdata, n
        return None, max_steps

    # -------------------------------------------------------------------------- memory
    def _device(self, addr: int):
        for reg, hook in self.devices:
            if reg.contains(addr):
                return hook
        return None

    def _load(self, addr: int, size: int, rec: Retire) -> int:
        """Read the aligned word holding ``addr`` (size-checked); returns the whole word."""
        if addr & (size - 1):
            raise Trap(Cause.LOAD_MISALIGNED.value, addr)
        waddr = addr & ~3
        off = waddr - self.ram_base
        if 0 <= off < self.ram_size:
            word = self._words[off >> 2] if self._words is not None else \
                struct.unpack_from("<I", self.ram, off)[0]
        else:
            hook = self._device(addr)
            word = None if hook is None else hook(waddr, 0, 0)
            if word is None:
                raise Trap(Cause.LOAD_ACCESS_FAULT.value, addr)
            word &= MASK
        rec.mem_addr = waddr
        rec.mem_rmask = ((1 << size) - 1) << (addr & 3)
        rec.mem_rdata = word
        return word

    def _store(self, addr: int, size: int, value: int, rec: Retire) -> None:
        if addr & (size - 1):
            raise Trap(Cause.STORE_MISALIGNED.value, addr)
        waddr = addr & ~3
        shift = (addr & 3) * 8
        lanes = ((1 << size) - 1) << (addr & 3)
        data = ((value & ((1 << (8 * size)) - 1)) << shift) & MASK
        off = addr - self.ram_base
        if 0 <= off < self.ram_size:
            if size == 4:
                struct.pack_into("<I", self.ram, off, data)
            elif size == 2:
                struct.pack_into("<H", self.ram, off, value & 0xFFFF)
            else:
                self.ram[off] = value & 0xFF
        else:
            hook = self._device(addr)
            if hook is None or hook(waddr, lanes, data) is None:
                raise Trap(Cause.STORE_ACCESS_FAULT.value, addr)
        rec.mem_addr = waddr
        rec.mem_wmask = lanes
        rec.mem_wdata = data

    # -------------------------------------------------------------------------- CSRs
    def csr_read(self, csr: Csr) -> int:
        """Architectural value of an implemented CSR (no side effects)."""
        C = Csr
        if csr is C.MSTATUS:
            return self.mstatus | _MSTATUS_MPP
        if csr is C.MISA:
            return misa(self.with_muldiv)
        if csr is C.MIE:
            return self.mie
        if csr is C.MTVEC:
            return self.mtvec
        if csr is C.MSCRATCH:
            return self.mscratch
        if csr is C.MEPC:
            return self.mepc
        if csr is C.MCAUSE:
            return self.mcause
        if csr is C.MTVAL:
            return self.mtval
        if csr is C.MIP:
            return self.mip
        if csr is C.PMPADDR0:
            return self.pmpaddr0
        if csr in (C.MCYCLE, C.CYCLE):
            return self.mcycle & MASK
        if csr in (C.MCYCLEH, C.CYCLEH):
            return self.mcycle >> 32
        if csr in (C.MINSTRET, C.INSTRET):
            return self.minstret & MASK
        if csr in (C.MINSTRETH, C.INSTRETH):
            return self.minstret >> 32
        return 0  # mvendorid, marchid, mimpid, mhartid, pmpcfg0, tselect, tdata1, tdata2

    def csr_write(self, csr: Csr, value: int) -> None:
        """Write ``value`` through the CSR's writable mask (WARL); read-only bits are kept."""
        wmask = CSR_INFO[csr].writable
        new = (self.csr_read(csr) & ~wmask) | (value & wmask)
        C = Csr
        if csr is C.MSTATUS:
            self.mstatus = new & wmask
        elif csr is C.MIE:
            self.mie = new
        elif csr is C.MTVEC:
            self.mtvec = new
        elif csr is C.MSCRATCH:
            self.mscratch = new
        elif csr is C.MEPC:
            self.mepc = new
        elif csr is C.MCAUSE:
            self.mcause = new
        elif csr is C.MTVAL:
            self.mtval = new
        elif csr is C.PMPADDR0:
            self.pmpaddr0 = new
        elif csr is C.MCYCLE:
            self.mcycle = (self.mcycle & ~MASK) | new
            self._written_counters |= 1
        elif csr is C.MCYCLEH:
            self.mcycle = (new << 32) | (self.mcycle & MASK)
            self._written_counters |= 1
        elif csr is C.MINSTRET:
            self.minstret = (self.minstret & ~MASK) | new
            self._written_counters |= 2
        elif csr is C.MINSTRETH:
            self.minstret = (new << 32) | (self.minstret & MASK)
            self._written_counters |= 2
        # misa, mip: writable mask 0, writes ignored

    # -------------------------------------------------------------------------- decode
    def _compile(self, word: int):
        """A function ``(iss, pc, rec) -> next pc`` executing ``word``."""
        name = decode(word, self.with_muldiv)
        if name is None:
            return _illegal
        enc = INSTRUCTIONS[name]
        rd = (word >> 7) & 31
        rs1 = (word >> 15) & 31
        rs2 = (word >> 20) & 31
        f3 = (word >> 12) & 7
        op = enc.opcode
        im = imm(word, enc.fmt)
        return _BUILDERS[op](name, word, rd, rs1, rs2, f3, im)


def _illegal(iss, pc, rec):
    raise Trap(Cause.ILLEGAL_INSN.value, rec.insn)


def _wr(iss, rec, rd, value):
    value &= MASK
    if rd:
        iss.x[rd] = value
        rec.rd_addr = rd
        rec.rd_wdata = value


# ------------------------------------------------------------------------------ builders
def _b_lui(name, word, rd, rs1, rs2, f3, im):
    def f(iss, pc, rec):
        _wr(iss, rec, rd, im)
        return (pc + 4) & MASK
    return f


def _b_auipc(name, word, rd, rs1, rs2, f3, im):
    def f(iss, pc, rec):
        _wr(iss, rec, rd, pc + im)
        return (pc + 4) & MASK
    return f


def _b_jal(name, word, rd, rs1, rs2, f3, im):
    def f(iss, pc, rec):
        target = (pc + im) & MASK
        if target & 3:
            raise Trap(Cause.INSN_MISALIGNED.value, target)
        _wr(iss, rec, rd, pc + 4)
        return target
    return f


def _b_jalr(name, word, rd, rs1, rs2, f3, im):
    def f(iss, pc, rec):
        a = iss.x[rs1]
        rec.rs1_addr, rec.rs1_rdata = rs1, a
        target = (a + im) & 0xFFFF_FFFE
        if target & 3:
            raise Trap(Cause.INSN_MISALIGNED.value, target)
        _wr(iss, rec, rd, pc + 4)
        return target
    return f


def _signed(v):
    return v - (1 << 32) if v & 0x8000_0000 else v


_BRANCH = {
    Branch.BEQ.value: lambda a, b: a == b,
    Branch.BNE.value: lambda a, b: a != b,
    Branch.BLT.value: lambda a, b: _signed(a) < _signed(b),
    Branch.BGE.value: lambda a, b: _signed(a) >= _signed(b),
    Branch.BLTU.value: lambda a, b: a < b,
    Branch.BGEU.value: lambda a, b: a >= b,
}


def _b_branch(name, word, rd, rs1, rs2, f3, im):
    cond = _BRANCH[f3]

    def f(iss, pc, rec):
        a, b = iss.x[rs1], iss.x[rs2]
        rec.rs1_addr, rec.rs1_rdata, rec.rs2_addr, rec.rs2_rdata = rs1, a, rs2, b
        if cond(a, b):
            target = (pc + im) & MASK
            if target & 3:
                raise Trap(Cause.INSN_MISALIGNED.value, target)
            return target
        return (pc + 4) & MASK
    return f


def _b_load(name, word, rd, rs1, rs2, f3, im):
    size = _LOAD_SIZE[f3]
    signed = f3 in _SIGNED
    bits = 8 * size

    def f(iss, pc, rec):
        a = iss.x[rs1]
        rec.rs1_addr, rec.rs1_rdata = rs1, a
        addr = (a + im) & MASK
        w = iss._load(addr, size, rec)
        v = (w >> ((addr & 3) * 8)) & ((1 << bits) - 1)
        if signed and v >> (bits - 1):
            v -= 1 << bits
        _wr(iss, rec, rd, v)
        return (pc + 4) & MASK
    return f


def _b_store(name, word, rd, rs1, rs2, f3, im):
    size = _STORE_SIZE[f3]

    def f(iss, pc, rec):
        a, b = iss.x[rs1], iss.x[rs2]
        rec.rs1_addr, rec.rs1_rdata, rec.rs2_addr, rec.rs2_rdata = rs1, a, rs2, b
        iss._store((a + im) & MASK, size, b, rec)
        return (pc + 4) & MASK
    return f


def _alu(f3, alt, a, b):
    if f3 == Alu.ADD.value:
        return a - b if alt else a + b
    if f3 == Alu.SLL.value:
        return a << (b & 31)
    if f3 == Alu.SLT.value:
        return int(_signed(a) < _signed(b))
    if f3 == Alu.SLTU.value:
        return int(a < b)
    if f3 == Alu.XOR.value:
        return a ^ b
    if f3 == Alu.SR.value:
        return (_signed(a) >> (b & 31)) if alt else (a >> (b & 31))
    if f3 == Alu.OR.value:
        return a | b
    return a & b


def _muldiv(f3, a, b):
    sa, sb = _signed(a), _signed(b)
    if f3 == MulDiv.MUL.value:
        return a * b
    if f3 == MulDiv.MULH.value:
        return (sa * sb) >> 32
    if f3 == MulDiv.MULHSU.value:
        return (sa * b) >> 32
    if f3 == MulDiv.MULHU.value:
        return (a * b) >> 32
    if f3 == MulDiv.DIV.value:
        if b == 0:
            return MASK
        if sa == -(1 << 31) and sb == -1:
            return a
        q = abs(sa) // abs(sb)
        return -q if (sa < 0) != (sb < 0) else q
    if f3 == MulDiv.DIVU.value:
        return MASK if b == 0 else a // b
    if f3 == MulDiv.REM.value:
        if b == 0:
            return a
        if sa == -(1 << 31) and sb == -1:
            return 0
        r = abs(sa) % abs(sb)
        return -r if sa < 0 else r
    return a if b == 0 else a % b   # REMU


def _b_op_imm(name, word, rd, rs1, rs2, f3, im):
    alt = name == "srai"
    b = rs2 if f3 in (Alu.SLL.value, Alu.SR.value) else im & MASK

    def f(iss, pc, rec):
        a = iss.x[rs1]
        rec.rs1_addr, rec.rs1_rdata = rs1, a
        _wr(iss, rec, rd, _alu(f3, alt, a, b))
        return (pc + 4) & MASK
    return f


def _b_op(name, word, rd, rs1, rs2, f3, im):
    md = INSTRUCTIONS[name].muldiv
    alt = name in ("sub", "sra")

    def f(iss, pc, rec):
        a, b = iss.x[rs1], iss.x[rs2]
        rec.rs1_addr, rec.rs1_rdata, rec.rs2_addr, rec.rs2_rdata = rs1, a, rs2, b
        _wr(iss, rec, rd, _muldiv(f3, a, b) if md else _alu(f3, alt, a, b))
        return (pc + 4) & MASK
    return f


def _b_misc_mem(name, word, rd, rs1, rs2, f3, im):
    def f(iss, pc, rec):   # fence / fence.i: nothing to order or flush in this model
        return (pc + 4) & MASK
    return f


def _b_system(name, word, rd, rs1, rs2, f3, im):
    if name == "ecall":
        def f(iss, pc, rec):
            raise Trap(Cause.ECALL_M.value, 0)
        return f
    if name == "ebreak":
        def f(iss, pc, rec):
            raise Trap(Cause.BREAKPOINT.value, pc)
        return f
    if name == "wfi":
        return _b_misc_mem(name, word, rd, rs1, rs2, f3, im)
    if name == "mret":
        def f(iss, pc, rec):
            mpie = iss.mstatus & _MPIE_BIT
            iss.mstatus = _MPIE_BIT | (_MIE_BIT if mpie else 0)
            return iss.mepc
        return f
    # Zicsr
    addr = (word >> 20) & 0xFFF
    csr = _CSR_BY_ADDR.get(addr)
    if csr is None:
        return _illegal
    info = CSR_INFO[csr]
    imm_form = f3 >= System.CSRRWI.value
    kind = f3 & 3                          # 1 = write, 2 = set, 3 = clear
    writes = kind == 1 or rs1 != 0         # rs1 field is the uimm for the immediate forms
    if writes and info.read_only:
        return _illegal
    volatile = csr in VOLATILE_CSRS

    def f(iss, pc, rec):
        if imm_form:
            src = rs1
        else:
            src = iss.x[rs1]
            rec.rs1_addr, rec.rs1_rdata = rs1, src
        old = iss.csr_read(csr)
        if volatile and iss._csr_rdata is not None:
            old = iss._csr_rdata & MASK
        if writes:
            iss.csr_write(csr, src if kind == 1 else (old | src) if kind == 2 else
                          (old & ~src))
        _wr(iss, rec, rd, old)
        return (pc + 4) & MASK
    return f


_BUILDERS = {
    Opcode.LUI: _b_lui, Opcode.AUIPC: _b_auipc, Opcode.JAL: _b_jal, Opcode.JALR: _b_jalr,
    Opcode.BRANCH: _b_branch, Opcode.LOAD: _b_load, Opcode.STORE: _b_store,
    Opcode.OP_IMM: _b_op_imm, Opcode.OP: _b_op, Opcode.MISC_MEM: _b_misc_mem,
    Opcode.SYSTEM: _b_system,
}

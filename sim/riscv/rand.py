# Ref: The RISC-V Instruction Set Manual, Volume I (20191213) ch. 2 (base formats) and Volume II
#      (20211203) ch. 3 (machine-mode traps).
"""Constrained-random RV32I(+M) programs, encoded straight from ``hdl/riscv/isa.py``.

``random_program(seed, length, with_muldiv)`` returns a :class:`RandomProgram`: machine-code
words at ``RAM_BASE``, the symbols ``tohost``/``fromhost``/``begin_signature``/
``end_signature``, ``to_elf(path)`` for Spike and ``run-elf``, ``load_into(iss)``.

Layout: a prologue sets every register (x1..x24 random, x25..x31 fixed roles below) and mtvec;
the body has ``length`` random items; the epilogue stores x1..x31 after the data area (both are
the signature) and writes 1 to ``tohost``; the trap handler follows.

Body items: ALU register/immediate ops (and M), LUI/AUIPC; loads and stores into a 1 KiB data
area (some misaligned) or at an unmapped address (access faults); forward branches and JAL/JALR
(some to a 2-byte-aligned target: misaligned-instruction traps on the jump); a JALR to an
unmapped address (instruction access fault); CSR ops on mscratch/mtvec/mepc/mcause/mtval/mie
and reads of the counters, mstatus, misa and the ID CSRs; accesses to unimplemented CSRs and
writes to read-only ones; ECALL, EBREAK, FENCE, FENCE.I and illegal words. The handler records
mcause/mtval/mepc in x30 (visible in the trace), then returns past the faulting instruction
(mepc + 4), to the saved link x28 after an instruction access fault, or to mepc itself after an
interrupt.

Register roles: x25 = mie's writable bits (MTIE|MEIE), x26 = handler address, x27 = JALR base
(AUIPC right before), x28 = link of the fetch-fault JALR, x29 = an unmapped address, x30 =
handler scratch, x31 = data area base. Random destinations are x0..x24 only.

Values are kept inside what Spike and this architecture agree on, so the same programs check
the ISS against Spike: mcause is written with 5-bit immediates only (Spike's mcause has all bits
writable, here 0x8000001F), mie never gets MSIE (not implemented here), mtvec only ever gets the
handler address back, marchid is not read (Spike's is 5), mstatus is not written (so interrupts
stay disabled unless ``with_interrupts``), no WFI, no MRET in the body.
"""

import random
import struct
from dataclasses import dataclass
from pathlib import Path

from hdl.memory_map import RAM_BASE, find_region
from hdl.riscv.isa import CSR_INFO, INSTRUCTIONS, Cause, Csr, Irq, Mstatus, Opcode, decode, imm

__all__ = ["RandomProgram", "random_program", "encode", "write_elf"]

DATA_WORDS = 256
FAULT_ADDR = 0x4000_0000
ROLE = {"mie_bits": 25, "handler": 26, "jalr_base": 27, "fetch_link": 28, "fault": 29,
        "scratch": 30, "data": 31}
RD_MAX = 24
# CSR addresses in the custom ranges: unimplemented here and in Spike.
UNIMPLEMENTED_CSRS = (0x7C0, 0x7FF, 0xBC0, 0xFC0, 0x5C0)

if find_region(FAULT_ADDR) is not None:
    raise ValueError(f"FAULT_ADDR 0x{FAULT_ADDR:08x} must be unmapped")


def _bits(v: int, hi: int, lo: int) -> int:
    return (v >> lo) & ((1 << (hi - lo + 1)) - 1)


def encode(name: str, *, rd: int = 0, rs1: int = 0, rs2: int = 0, imm: int = 0,
           csr: int | None = None) -> int:
    """The instruction word of ``name`` (a key of ``isa.INSTRUCTIONS``) with these operands.
    CSR instructions take the CSR address in ``csr`` and the uimm in ``rs1``; shifts take the
    shift amount in ``imm``."""
    e = INSTRUCTIONS[name]
    op = e.opcode.value
    f3 = (e.funct3 or 0) << 12
    if e.funct12 is not None:
        return (e.funct12 << 20) | f3 | op
    if e.fmt == "R":
        rs2v = imm & 31 if e.opcode is Opcode.OP_IMM else rs2
        return (e.funct7 << 25) | (rs2v << 20) | (rs1 << 15) | f3 | (rd << 7) | op
    if e.fmt == "I":
        field = csr if csr is not None else imm & 0xFFF
        return (field << 20) | (rs1 << 15) | f3 | (rd << 7) | op
    if e.fmt == "S":
        return ((_bits(imm, 11, 5) << 25) | (rs2 << 20) | (rs1 << 15) | f3
                | (_bits(imm, 4, 0) << 7) | op)
    if e.fmt == "B":
        return ((_bits(imm, 12, 12) << 31) | (_bits(imm, 10, 5) << 25) | (rs2 << 20)
                | (rs1 << 15) | f3 | (_bits(imm, 4, 1) << 8) | (_bits(imm, 11, 11) << 7) | op)
    if e.fmt == "U":
        return (imm & 0xFFFF_F000) | (rd << 7) | op
    if e.fmt == "J":
        return ((_bits(imm, 20, 20) << 31) | (_bits(imm, 10, 1) << 21) | (_bits(imm, 11, 11) << 20)
                | (_bits(imm, 19, 12) << 12) | (rd << 7) | op)
    raise ValueError(f"unknown format {e.fmt!r}")


def _li(rd: int, value: int) -> list[int]:
    """LUI + ADDI loading a 32-bit constant."""
    value &= 0xFFFF_FFFF
    lo = value & 0xFFF
    lo = lo - 0x1000 if lo >= 0x800 else lo
    hi = (value - lo) & 0xFFFF_F000
    return [encode("lui", rd=rd, imm=hi), encode("addi", rd=rd, rs1=rd, imm=lo)]


@dataclass
class RandomProgram:
    seed: int
    with_muldiv: bool
    words: list[int]          # the image from RAM_BASE on
    symbols: dict[str, int]
    entry: int = RAM_BASE

    @property
    def tohost(self) -> int:
        return self.symbols["tohost"]

    def image(self) -> bytes:
        return struct.pack(f"<{len(self.words)}I", *self.words)

    def load_into(self, iss) -> None:
        iss.load_bytes(RAM_BASE, self.image())

    def to_elf(self, path) -> Path:
        return write_elf(path, self.image(), self.symbols, entry=self.entry)


class _Gen:
    def __init__(self, rng: random.Random, with_muldiv: bool, with_interrupts: bool):
        self.rng = rng
        self.with_muldiv = with_muldiv
        self.with_interrupts = with_interrupts
        self.items: list[list] = []          # each: list of words or ("fwd", kind, ...) stubs
        alu_r = ["add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and"]
        if with_muldiv:
            alu_r += [n for n, e in INSTRUCTIONS.items() if e.muldiv]
        self.alu_r = alu_r
        self.alu_i = ["addi", "slti", "sltiu", "xori", "ori", "andi"]
        self.shifts = ["slli", "srli", "srai"]

    def rd(self):
        return self.rng.choice([0] + list(range(1, RD_MAX + 1)) * 4)

    def rs(self):
        return self.rng.randrange(32)

    def imm12(self):
        r = self.rng
        return r.choice([r.randrange(-2048, 2048), r.choice([0, 1, -1, 2047, -2048])])

    # ---------------------------------------------------------------- item kinds
    def alu(self):
        r = self.rng
        k = r.random()
        if k < 0.45:
            return [encode(r.choice(self.alu_r), rd=self.rd(), rs1=self.rs(), rs2=self.rs())]
        if k < 0.8:
            return [encode(r.choice(self.alu_i), rd=self.rd(), rs1=self.rs(), imm=self.imm12())]
        if k < 0.92:
            return [encode(r.choice(self.shifts), rd=self.rd(), rs1=self.rs(),
                           imm=r.randrange(32))]
        return [encode(r.choice(["lui", "auipc"]), rd=self.rd(), imm=r.getrandbits(32))]

    def mem(self):
        r = self.rng
        load = r.random() < 0.5
        name = r.choice(["lb", "lh", "lw", "lbu", "lhu"] if load else ["sb", "sh", "sw"])
        size = {"b": 1, "h": 2, "w": 4}[name[1]]
        k = r.random()
        if k < 0.08:
            base, off = ROLE["fault"], r.randrange(0, 256) * size      # access fault
        else:
            base = ROLE["data"]
            off = r.randrange(0, 4 * DATA_WORDS - 4)
            off = off - off % size if k > 0.2 or size == 1 else off | 1   # some misaligned
        if load:
            return [encode(name, rd=self.rd(), rs1=base, imm=off)]
        return [encode(name, rs1=base, rs2=self.rs(), imm=off)]

    def control(self):
        r = self.rng
        k = r.random()
        skip = r.randrange(0, 4)                 # instructions jumped over
        bad = r.random() < 0.1                   # target 2 bytes off: misaligned trap
        if k < 0.6:
            return [("branch", r.choice(["beq", "bne", "blt", "bge", "bltu", "bgeu"]),
                     self.rs(), self.rs(), skip, bad)]
        if k < 0.8:
            return [("jal", self.rd(), skip, bad)]
        if k < 0.9:
            # AUIPC x27, 0 then JALR rd, off(x27) (bit 0 of the offset is set at random: JALR
            # clears it)
            return [encode("auipc", rd=ROLE["jalr_base"], imm=0),
                    ("jalr", self.rd(), r.choice([0, 0, 1]), skip, bad)]
        return [encode("jalr", rd=ROLE["fetch_link"], rs1=ROLE["fault"],
                       imm=4 * r.randrange(0, 64))]

    def csr(self):
        r = self.rng
        k = r.random()
        rd = self.rd()
        csrr = encode("csrrs", rd=rd, rs1=0, csr=0)   # template; address patched below

        def read(c):
            return [csrr | (c << 20)]
        if k < 0.25:   # free read/write CSRs
            c = r.choice([Csr.MSCRATCH, Csr.MEPC, Csr.MTVAL]).value
            name = r.choice(["csrrw", "csrrs", "csrrc", "csrrwi", "csrrsi", "csrrci"])
            return [encode(name, rd=rd, rs1=self.rs() if not name.endswith("i") else
                           r.randrange(32), csr=c)]
        if k < 0.35:
            name = r.choice(["csrrwi", "csrrsi", "csrrci"])
            return [encode(name, rd=rd, rs1=r.randrange(32), csr=Csr.MCAUSE.value)]
        if k < 0.45:
            if r.random() < 0.5:
                return [encode(r.choice(["csrrwi", "csrrsi", "csrrci"]), rd=rd,
                               rs1=r.randrange(32) & ~(1 << 3), csr=Csr.MIE.value)]
            return [encode(r.choice(["csrrw", "csrrs", "csrrc"]), rd=rd,
                           rs1=r.choice([0, ROLE["mie_bits"]]), csr=Csr.MIE.value)]
        if k < 0.5:
            return [encode("csrrw", rd=rd, rs1=ROLE["handler"], csr=Csr.MTVEC.value)]
        if k < 0.75:
            c = r.choice([Csr.MSTATUS, Csr.MISA, Csr.MIE, Csr.MIP, Csr.MTVEC, Csr.MCAUSE,
                          Csr.MCYCLE, Csr.MCYCLEH, Csr.MINSTRET, Csr.MINSTRETH, Csr.CYCLE,
                          Csr.CYCLEH, Csr.INSTRET, Csr.INSTRETH, Csr.MVENDORID, Csr.MIMPID,
                          Csr.MHARTID])
            return read(c.value)
        if k < 0.85:   # writes to read-only CSRs: illegal
            c = r.choice([c for c, i in CSR_INFO.items() if i.read_only
                          and c is not Csr.MARCHID]).value
            name = r.choice(["csrrw", "csrrwi", "csrrs", "csrrsi", "csrrc", "csrrci"])
            src = r.randrange(1, 32)
            return [encode(name, rd=rd, rs1=src, csr=c)]
        name = r.choice(["csrrw", "csrrs", "csrrsi", "csrrc"])
        return [encode(name, rd=rd, rs1=self.rs(), csr=r.choice(UNIMPLEMENTED_CSRS))]

    def system(self):
        r = self.rng
        k = r.random()
        if k < 0.25:
            return [encode("ecall")]
        if k < 0.45:
            return [encode("ebreak")]
        if k < 0.6:
            return [encode(r.choice(["fence", "fence.i"]), rd=self.rd(), rs1=self.rs(),
                           imm=r.getrandbits(12))]
        return [self.illegal_word()]

    def illegal_word(self) -> int:
        """A word this architecture (and Spike with the same ISA string) rejects."""
        r = self.rng
        while True:
            k = r.random()
            if k < 0.3:      # opcodes of extensions not implemented (A, F, custom, RV64)
                op = r.choice([0x2F, 0x07, 0x27, 0x53, 0x0B, 0x3B, 0x1B, 0x2B, 0x5B, 0x7B])
                w = (r.getrandbits(25) << 7) | op
            elif k < 0.6:    # a legal instruction with a funct field disturbed
                name = r.choice(list(INSTRUCTIONS))
                w = encode(name, rd=r.randrange(32), rs1=r.randrange(32),
                           rs2=r.randrange(32), imm=r.getrandbits(12)) if \
                    INSTRUCTIONS[name].fmt not in ("U", "J") else r.getrandbits(32) | 3
                w ^= 1 << r.choice([12, 13, 14, 25, 26, 27, 28, 29, 30, 31, 20, 21])
            elif k < 0.8:    # 16-bit (compressed) encodings: no C extension. Upper half 0:
                # Spike's mtval holds the 16-bit parcel, the ISS the whole word; equal then.
                w = r.getrandbits(16) & ~3 | r.randrange(3)
            else:
                w = r.choice([0x0000_0000, 0xFFFF_FFFF, 0x3020_0073 | (1 << 7),
                              0x1020_0073, 0x1050_0073 | (1 << 15)])  # mret rd!=0, sret, wfi rs1
            if decode(w, self.with_muldiv) is None:
                return w

    def item(self):
        k = self.rng.random()
        if k < 0.45:
            return self.alu()
        if k < 0.65:
            return self.mem()
        if k < 0.8:
            return self.control()
        if k < 0.93:
            return self.csr()
        return self.system()


def random_program(seed: int, length: int = 200, with_muldiv: bool = False, *,
                   with_interrupts: bool = False) -> RandomProgram:
    """A self-checking-by-comparison random program (see the module docstring).

    ``with_interrupts`` sets mstatus.MIE and mie.MTIE/MEIE in the prologue, for a testbench that
    raises (and later lowers) the interrupt lines; such programs cannot run on Spike, whose
    machine timer interrupt is pending from reset."""
    if length < 1:
        raise ValueError(f"length must be positive, not {length!r}")
    rng = random.Random(seed)
    g = _Gen(rng, with_muldiv, with_interrupts)
    body = [g.item() for _ in range(length)]

    # prologue (handler, data addresses patched once the layout is known)
    pro: list = []
    for reg in range(1, RD_MAX + 1):
        pro += _li(reg, rng.getrandbits(32))
    pro += _li(ROLE["mie_bits"], (1 << Irq.MTI) | (1 << Irq.MEI))
    pro += [("li", ROLE["handler"], "handler"), ("li", ROLE["data"], "data")]
    pro += _li(ROLE["fault"], FAULT_ADDR)
    pro += _li(ROLE["jalr_base"], 0) + _li(ROLE["fetch_link"], 0) + _li(ROLE["scratch"], 0)
    pro += [encode("csrrw", rd=0, rs1=ROLE["handler"], csr=Csr.MTVEC.value)]
    if with_interrupts:
        pro += [encode("csrrw", rd=0, rs1=ROLE["mie_bits"], csr=Csr.MIE.value),
                encode("csrrsi", rd=0, rs1=1 << Mstatus.MIE, csr=Csr.MSTATUS.value)]

    # flatten: each entry one word (or a stub resolved below)
    flat: list = []
    for entry in pro:
        flat += [entry, None] if isinstance(entry, tuple) else [entry]
    body_start = len(flat)
    for it in body:
        flat += it
    body_end = len(flat)
    epi = [encode("sw", rs1=ROLE["data"], rs2=reg, imm=4 * (DATA_WORDS + reg))
           for reg in range(1, 32)]
    epi += [("li", ROLE["scratch"], "tohost"), None]
    epi += _li(ROLE["fault"], 1)
    epi += [encode("sw", rs1=ROLE["scratch"], rs2=ROLE["fault"], imm=0),
            encode("jal", rd=0, imm=0)]
    flat += epi
    handler_at = len(flat)
    s = ROLE["scratch"]
    hand = [encode("csrrs", rd=s, rs1=0, csr=Csr.MTVAL.value),
            encode("csrrs", rd=s, rs1=0, csr=Csr.MCAUSE.value),
            encode("addi", rd=s, rs1=s, imm=-Cause.INSN_ACCESS_FAULT.value),
            encode("beq", rs1=s, rs2=0, imm=7 * 4),           # -> fetch fault
            encode("csrrs", rd=s, rs1=0, csr=Csr.MCAUSE.value),
            encode("blt", rs1=s, rs2=0, imm=6 * 4),           # interrupt -> mret
            encode("csrrs", rd=s, rs1=0, csr=Csr.MEPC.value),
            encode("addi", rd=s, rs1=s, imm=4),
            encode("csrrw", rd=0, rs1=s, csr=Csr.MEPC.value),
            encode("jal", rd=0, imm=2 * 4),                   # -> mret
            encode("csrrw", rd=0, rs1=ROLE["fetch_link"], csr=Csr.MEPC.value),
            encode("mret")]
    flat += hand
    code_words = len(flat)
    data_at = (code_words * 4 + 0xFFF) & ~0xFFF
    sig_words = DATA_WORDS + 32
    tohost_at = (data_at + 4 * sig_words + 63) & ~63
    addrs = {"handler": RAM_BASE + 4 * handler_at, "data": RAM_BASE + data_at,
             "tohost": RAM_BASE + tohost_at}

    # resolve stubs
    landing_ok = [not (isinstance(w, tuple) and w[0] == "jalr") for w in flat]
    words = [0] * (tohost_at // 4 + 4)
    i = 0
    while i < len(flat):
        w = flat[i]
        if isinstance(w, tuple):
            kind = w[0]
            if kind == "li":
                words[i:i + 2] = _li(w[1], addrs[w[2]])
                i += 2
                continue
            skip, bad = w[-2], w[-1]
            # never land on the JALR of an AUIPC/JALR pair (its base would be stale)
            while i + 1 + skip < len(flat) and not landing_ok[i + 1 + skip]:
                skip += 1
            off = 4 * (1 + skip) + (2 if bad else 0)
            if kind == "branch":
                words[i] = encode(w[1], rs1=w[2], rs2=w[3], imm=off)
            elif kind == "jal":
                words[i] = encode("jal", rd=w[1], imm=off)
            else:   # offset from the AUIPC one word back
                words[i] = encode("jalr", rd=w[1], rs1=ROLE["jalr_base"], imm=4 + off + w[2])
        else:
            words[i] = w
        i += 1
    assert body_start < body_end <= handler_at
    for j in range(DATA_WORDS):
        words[data_at // 4 + j] = rng.getrandbits(32)
    symbols = {"tohost": addrs["tohost"], "fromhost": addrs["tohost"] + 8,
               "begin_signature": addrs["data"], "end_signature": addrs["data"] + 4 * sig_words,
               "trap_handler": addrs["handler"]}
    return RandomProgram(seed, with_muldiv, words, symbols)


# ------------------------------------------------------------------------------ ELF writer
def write_elf(path, image: bytes, symbols: dict[str, int], *, entry: int = RAM_BASE,
              base: int = RAM_BASE) -> Path:
    """A minimal ELF32 RISC-V executable: one RWX segment ``image`` at ``base`` and a symbol
    table (enough for Spike's HTIF and the runner)."""
    path = Path(path)
    shstr = b"\0.text\0.symtab\0.strtab\0.shstrtab\0"
    strtab = b"\0"
    syms = [bytes(16)]
    for name, value in symbols.items():
        syms.append(struct.pack("<IIIBBH", len(strtab), value, 0, 0x10, 0, 1))  # GLOBAL NOTYPE
        strtab += name.encode() + b"\0"
    symtab = b"".join(syms)
    ehsize, phsize, shsize = 52, 32, 40
    text_off = 0x1000
    off = text_off + len(image)
    symtab_off = (off + 3) & ~3
    strtab_off = symtab_off + len(symtab)
    shstr_off = strtab_off + len(strtab)
    sh_off = (shstr_off + len(shstr) + 3) & ~3
    eh = struct.pack("<16sHHIIIIIHHHHHH", b"\x7fELF\x01\x01\x01" + bytes(9), 2, 243, 1, entry,
                     ehsize, sh_off, 0, ehsize, phsize, 1, shsize, 5, 4)
    ph = struct.pack("<IIIIIIII", 1, text_off, base, base, len(image), len(image), 7, 0x1000)

    def sh(name, typ, flags, addr, offset, size, link=0, info=0, align=1, entsize=0):
        return struct.pack("<IIIIIIIIII", shstr.index(name), typ, flags, addr, offset, size,
                           link, info, align, entsize)
    shdrs = (bytes(40)
             + sh(b".text\0", 1, 7, base, text_off, len(image), align=4)
             + sh(b".symtab\0", 2, 0, 0, symtab_off, len(symtab), link=3, info=1, align=4,
                  entsize=16)
             + sh(b".strtab\0", 3, 0, 0, strtab_off, len(strtab))
             + sh(b".shstrtab\0", 3, 0, 0, shstr_off, len(shstr)))
    blob = bytearray(sh_off + len(shdrs))
    blob[0:ehsize] = eh
    blob[ehsize:ehsize + phsize] = ph
    blob[text_off:text_off + len(image)] = image
    blob[symtab_off:symtab_off + len(symtab)] = symtab
    blob[strtab_off:strtab_off + len(strtab)] = strtab
    blob[shstr_off:shstr_off + len(shstr)] = shstr
    blob[sh_off:] = shdrs
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(blob))
    return path


def _check_encoder() -> None:
    """Every instruction round-trips through isa.decode/isa.imm (cheap; run at import)."""
    for name, e in INSTRUCTIONS.items():
        w = encode(name, rd=5, rs1=6, rs2=7, imm=-8 if e.fmt in "ISB" else 0x12345000)
        if decode(w, True) != name:
            raise AssertionError(f"encode({name}) = {w:08x} decodes as {decode(w, True)}")
        if e.fmt in "SB" and imm(w, e.fmt) != -8:
            raise AssertionError(f"encode({name}) immediate")


_check_encoder()

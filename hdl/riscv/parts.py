# Ref: RISC-V Privileged Architecture 20211203 (machine mode CSRs, trap entry, mret).
"""Pieces both core variants build the same way (``core.py``'s pipelined core and
``compact.py``): the machine-mode CSRs and their updates, and the load/store lane logic."""

from amaranth import Cat, Const, Mux, Signal

from .isa import CSR_INFO, Csr, Irq, Mstatus, misa

__all__ = ["CsrState", "WORD_CSRS", "csr_block", "csr_update", "data_request", "mem_lanes",
           "store_data", "load_align", "load_selects", "load_data", "rvfi_retire"]


# The CSRs a core may keep in memory (the compact core keeps them in its register file's block
# RAM) and give :func:`csr_block` as one word: the 32-bit CSRs without side effects of their own,
# and the counters' high halves (the core then adds the low halves' carries itself). The
# user-mode aliases cycleh and instreth read the same words.
WORD_CSRS = (Csr.MTVEC, Csr.MSCRATCH, Csr.MEPC, Csr.MTVAL, Csr.PMPADDR0, Csr.MCYCLEH,
             Csr.MINSTRETH)
_WORD_ALIASES = (Csr.CYCLEH, Csr.INSTRETH)


class CsrState:
    """The CSR registers of one core, its read data and write data for the instruction that
    ``csr_block`` was given, and the interrupt decision."""

    def __init__(self, mtvec_reset: int):
        self.mie_b, self.mpie_b = Signal(name="mie_b"), Signal(name="mpie_b")
        self.mtie, self.meie = Signal(name="mtie"), Signal(name="meie")
        self.mtvec = Signal(30, init=mtvec_reset >> 2, name="mtvec")
        self.mscratch = Signal(32, name="mscratch")
        self.mepc = Signal(30, name="mepc")
        self.mcause_irq, self.mcause_code = Signal(name="mcause_irq"), Signal(5, name="mcause")
        self.mtval = Signal(32, name="mtval")
        self.pmpaddr0 = Signal(32, name="pmpaddr0")
        self.mcycle = Signal(64, name="mcycle")
        self.minstret = Signal(64, name="minstret")
        self.rdata = Signal(32, name="csr_rdata")
        self.wdata = Signal(32, name="csr_wdata")
        self.irq_pending = Signal(name="irq_pending")
        self.irq_cause = Signal(5, name="irq_cause")
        self.sel = None

    def is_(self, csr: Csr):
        """The one-hot select bit of ``csr`` (the instruction addresses it)."""
        return self.sel[list(CSR_INFO).index(csr)]


def csr_block(m, core, sel, f3, rs1, rs1_value, registered: bool = False,
              word=None) -> CsrState:
    """CSR state of ``core`` and the read/write data of the CSR instruction whose one-hot
    select (over ``CSR_INFO``, decoded by ``Core._decode``) is ``sel``. ``registered``: the
    read value is registered (``rdata`` is the value read in the clock before, for CSR
    instructions that take two clocks) and the write data is computed from it. ``word``: the
    core keeps the :data:`WORD_CSRS` in memory, and ``word`` is the one the instruction
    addresses, read from there (their flip-flops in the returned state, and the counters'
    high halves, are then unused)."""
    p = core.params
    c = CsrState(p.mtvec_reset)
    c.sel = sel
    mip = Cat(Const(0, Irq.MTI), core.irq_timer, Const(0, Irq.MEI - Irq.MTI - 1),
              core.irq_external)
    cyc_lo, cyc_hi = c.mcycle[0:32], c.mcycle[32:64]
    ins_lo, ins_hi = c.minstret[0:32], c.minstret[32:64]
    values = {
        Csr.MSTATUS: Cat(Const(0, Mstatus.MIE), c.mie_b,
                         Const(0, Mstatus.MPIE - Mstatus.MIE - 1), c.mpie_b,
                         Const(0, Mstatus.MPP - Mstatus.MPIE - 1), Const(0b11, 2)),
        Csr.MISA: Const(misa(p.with_muldiv), 32),
        Csr.MIE: Cat(Const(0, Irq.MTI), c.mtie, Const(0, Irq.MEI - Irq.MTI - 1), c.meie),
        Csr.MTVEC: Cat(Const(0, 2), c.mtvec), Csr.MSCRATCH: c.mscratch,
        Csr.MEPC: Cat(Const(0, 2), c.mepc),
        Csr.MCAUSE: Cat(c.mcause_code, Const(0, 26), c.mcause_irq),
        Csr.MTVAL: c.mtval, Csr.MIP: mip, Csr.PMPADDR0: c.pmpaddr0,
        Csr.MCYCLE: cyc_lo, Csr.MCYCLEH: cyc_hi, Csr.MINSTRET: ins_lo, Csr.MINSTRETH: ins_hi,
        Csr.CYCLE: cyc_lo, Csr.CYCLEH: cyc_hi, Csr.INSTRET: ins_lo, Csr.INSTRETH: ins_hi,
    }
    if word is not None:
        values.update({csr: word for csr in WORD_CSRS + _WORD_ALIASES})
    # One AND-OR term per distinct source (cycle and mcycle share one), not per CSR.
    groups = {}
    for i, csr in enumerate(CSR_INFO):
        if csr in values:
            groups.setdefault(id(values[csr]), (values[csr], []))[1].append(sel[i])
    rdata = Const(0, 32)
    for value, sels in groups.values():
        rdata = rdata | Mux(Cat(*sels).any(), value, 0)
    if registered:
        m.d.sync += c.rdata.eq(rdata)
    else:
        m.d.comb += c.rdata.eq(rdata)
    src = Mux(f3[2], Cat(rs1, Const(0, 27)), rs1_value)
    with m.Switch(f3[0:2]):
        with m.Case(2):
            m.d.comb += c.wdata.eq(c.rdata | src)
        with m.Case(3):
            m.d.comb += c.wdata.eq(c.rdata & ~src)
        with m.Default():          # csrrw(i); 0 is not a CSR instruction
            m.d.comb += c.wdata.eq(src)
    m.d.comb += [
        c.irq_pending.eq(c.mie_b & ((c.mtie & core.irq_timer) | (c.meie & core.irq_external))),
        c.irq_cause.eq(Mux(c.meie & core.irq_external, Irq.MEI, Irq.MTI)),
    ]
    return c


def csr_update(m, c: CsrState, *, retire, csr_write, trap, pc, cause_irq, cause, tval, mret,
               words: bool = True):
    """The CSRs' next state: the counters; on ``trap`` (entry into the handler for the
    instruction at ``pc``) mepc/mcause/mtval/mstatus; else ``mret`` (retiring) restores MIE;
    else a CSR instruction's write (``csr_write``: it retires and writes). ``words=False``: the
    core keeps the :data:`WORD_CSRS` in memory and writes them itself (``pc`` and ``tval`` are
    then unused), and only the counters' low halves count here.

    Returns (mcycle's low half carries into its high half in this clock, minstret's low half
    is all ones: its next count carries); both 0 with ``words``."""
    # A write to either half of minstret takes precedence over this instruction's count.
    count = retire & ~(csr_write & (c.is_(Csr.MINSTRET) | c.is_(Csr.MINSTRETH)))
    if words:
        m.d.sync += c.mcycle.eq(c.mcycle + 1)
        with m.If(count):
            m.d.sync += c.minstret.eq(c.minstret + 1)
        carries = (Const(0, 1), Const(0, 1))
    else:
        cyc_next, ins_next = Signal(33), Signal(33)
        m.d.comb += [cyc_next.eq(c.mcycle[0:32] + 1), ins_next.eq(c.minstret[0:32] + 1)]
        m.d.sync += c.mcycle[0:32].eq(cyc_next[0:32])
        with m.If(count):
            m.d.sync += c.minstret[0:32].eq(ins_next[0:32])
        carries = (cyc_next[32] & ~(csr_write & c.is_(Csr.MCYCLE)), ins_next[32])
    with m.If(trap):
        if words:
            m.d.sync += [c.mepc.eq(pc[2:32]), c.mie_b.eq(0), c.mpie_b.eq(c.mie_b),
                         c.mcause_irq.eq(cause_irq), c.mcause_code.eq(cause), c.mtval.eq(tval)]
        else:
            m.d.sync += [c.mie_b.eq(0), c.mpie_b.eq(c.mie_b), c.mcause_irq.eq(cause_irq),
                         c.mcause_code.eq(cause)]
    with m.Elif(mret):
        m.d.sync += [c.mie_b.eq(c.mpie_b), c.mpie_b.eq(1)]
    with m.Elif(csr_write):
        w = c.wdata
        for csr, stmts in (
            (Csr.MSTATUS, [c.mie_b.eq(w[Mstatus.MIE]), c.mpie_b.eq(w[Mstatus.MPIE])]),
            (Csr.MIE, [c.mtie.eq(w[Irq.MTI]), c.meie.eq(w[Irq.MEI])]),
            (Csr.MTVEC, [c.mtvec.eq(w[2:32])]), (Csr.MSCRATCH, [c.mscratch.eq(w)]),
            (Csr.MEPC, [c.mepc.eq(w[2:32])]),
            (Csr.MCAUSE, [c.mcause_irq.eq(w[31]), c.mcause_code.eq(w[0:5])]),
            (Csr.MTVAL, [c.mtval.eq(w)]), (Csr.PMPADDR0, [c.pmpaddr0.eq(w)]),
            (Csr.MCYCLE, [c.mcycle[0:32].eq(w)]), (Csr.MCYCLEH, [c.mcycle[32:64].eq(w)]),
            (Csr.MINSTRET, [c.minstret[0:32].eq(w)]),
            (Csr.MINSTRETH, [c.minstret[32:64].eq(w)]),
        ):
            if not words and csr in WORD_CSRS:
                continue
            with m.If(c.is_(csr)):
                m.d.sync += stmts
    return carries


def mem_lanes(m, size, addr_lo):
    """Byte enables of a ``size`` (funct3[1:0]) access at byte offset ``addr_lo``."""
    lanes = Signal(4)
    with m.Switch(size):
        with m.Case(0):
            m.d.comb += lanes.eq(Const(0b0001, 4) << addr_lo)
        with m.Case(1):
            m.d.comb += lanes.eq(Mux(addr_lo[1], 0b1100, 0b0011))
        with m.Default():
            m.d.comb += lanes.eq(0b1111)
    return lanes


def store_data(m, size, value):
    """A store's bus data: the byte or halfword of ``value`` on every lane it may go to."""
    data = Signal(32)
    with m.Switch(size):
        with m.Case(0):
            m.d.comb += data.eq(value[0:8].replicate(4))
        with m.Case(1):
            m.d.comb += data.eq(value[0:16].replicate(2))
        with m.Default():
            m.d.comb += data.eq(value)
    return data


def load_selects(m, f3, addr_lo):
    """The lane selects of a load (``f3``, address bits ``addr_lo``), one-hot groups, for
    :func:`load_data`: ``lo`` (4: which byte is bits 0-7), ``mid`` (3: bits 8-15 from byte 1,
    from byte 3, or the extension), ``up`` (bits 16-31 from bytes 2-3, else the extension) and
    ``sgn`` (4: the bit that is the extension, d7/d15/d23/d31; none for unsigned loads).
    They depend on the instruction and address only, so a core can register them and keep
    them off the path from the bus's read data."""
    size, signed_ = f3[0:2], ~f3[2]
    byte, half, word = size == 0, size == 1, size == 2
    sel = Signal(12)
    lo, mid, up, sgn = sel[0:4], sel[4:7], sel[7], sel[8:12]
    m.d.comb += [
        *(lo[k].eq(addr_lo == k) for k in range(4)),
        mid[0].eq(word | (half & ~addr_lo[1])),
        mid[1].eq(half & addr_lo[1]),
        mid[2].eq(byte),
        up.eq(word),
        *(sgn[k].eq(signed_ & ((byte & (addr_lo == k))
                               | (half & (k in (1, 3)) & (addr_lo[1] == (k == 3)))))
          for k in range(4)),
    ]
    return sel


def load_data(m, sel, dat_r):
    """A load's result from the bus word ``dat_r`` and the selects of :func:`load_selects`:
    flat AND-ORs, so the read data crosses as few LUT levels as the selects allow."""
    lo, mid, up, sgn = sel[0:4], sel[4:7], sel[7], sel[8:12]
    byte = [dat_r[8 * k:8 * k + 8] for k in range(4)]
    ext = Signal()
    m.d.comb += ext.eq((sgn & Cat(*(b[7] for b in byte))).any())
    data = Signal(32)
    m.d.comb += [
        data[0:8].eq(_and_or((lo[k], byte[k]) for k in range(4))),
        data[8:16].eq(_and_or([(mid[0], byte[1]), (mid[1], byte[3]),
                               (mid[2], ext.replicate(8))])),
        data[16:32].eq(Mux(up, dat_r[16:32], ext.replicate(16))),
    ]
    return data


def load_align(m, f3, addr_lo, dat_r):
    """A load's result from the bus word ``dat_r``: shifted down and extended per ``f3``.

    The compact core's form. The four-stage core uses :func:`load_selects` and
    :func:`load_data` (the same function, as flat AND-ORs over selects it registers); in the
    compact core, with the selects combinational, that form made the iCEBreaker SoC (91 % of
    the UP5K) fail to route on seed 1 where this one routes at 24.3 MHz (docs/fpga.md)."""
    shifted = Signal(32)
    m.d.comb += shifted.eq(dat_r >> Cat(Const(0, 3), addr_lo))
    data = Signal(32)
    with m.Switch(f3):
        with m.Case(0):
            m.d.comb += data.eq(shifted[0:8].as_signed())
        with m.Case(1):
            m.d.comb += data.eq(shifted[0:16].as_signed())
        with m.Case(4):
            m.d.comb += data.eq(shifted[0:8])
        with m.Case(5):
            m.d.comb += data.eq(shifted[0:16])
        with m.Default():
            m.d.comb += data.eq(shifted)
    return data


def _and_or(pairs):
    out = 0
    for s, v in pairs:
        out = out | Mux(s, v, 0)
    return out


def data_request(m, bus, go, *, we, adr, sel, dat_w):
    """Drive a Wishbone (pipelined) request on ``bus`` while ``go``: strobe until accepted,
    then wait for the answer. Returns (accepted and not yet answered, answered this clock)."""
    issued = Signal()
    m.d.comb += [bus.cyc.eq(go), bus.stb.eq(go & ~issued), bus.we.eq(we), bus.adr.eq(adr),
                 bus.sel.eq(sel), bus.dat_w.eq(dat_w)]
    with m.If(bus.stb & ~bus.stall):
        m.d.sync += issued.eq(1)
    answer = issued & (bus.ack | bus.err)
    with m.If(answer):
        m.d.sync += issued.eq(0)
    return issued, answer


def rvfi_retire(m, r, *, valid, trap, irq_taken, retire, insn, fault, rs1_rdata, rs2_rdata,
                writes_rd, rd_wdata, pc_rdata, pc_wdata, load, store, addr, lanes, dat_r,
                st_data, reads_rs2=1):
    """Drive the riscv-formal retire port ``r`` for an instruction that completes (``valid``:
    retires, or traps if ``trap``); ``retire`` is ``valid`` without a trap. ``irq_taken``: an
    interrupt is taken (no retire), so the next retire is the handler's first (``intr``).
    ``reads_rs2`` clear: the instruction's rs2 field did not address the register file
    (``rs2_addr`` and ``rs2_rdata`` report 0)."""
    order, next_intr = Signal(64), Signal()
    with m.If(valid):
        m.d.sync += [order.eq(order + 1), next_intr.eq(trap)]
    with m.If(irq_taken):
        m.d.sync += next_intr.eq(1)
    load_ok, store_ok, rd_w = load & retire, store & retire, writes_rd & retire
    m.d.comb += [
        r.valid.eq(valid), r.order.eq(order), r.insn.eq(Mux(fault, 0, insn)),
        r.trap.eq(trap), r.halt.eq(0), r.intr.eq(next_intr), r.mode.eq(3), r.ixl.eq(1),
        r.rs1_addr.eq(insn[15:20]), r.rs2_addr.eq(Mux(reads_rs2, insn[20:25], 0)),
        r.rs1_rdata.eq(rs1_rdata), r.rs2_rdata.eq(Mux(reads_rs2, rs2_rdata, 0)),
        r.rd_addr.eq(Mux(rd_w, insn[7:12], 0)),
        r.rd_wdata.eq(Mux(rd_w, rd_wdata, 0)), r.pc_rdata.eq(pc_rdata),
        r.pc_wdata.eq(pc_wdata), r.mem_addr.eq(Cat(Const(0, 2), addr[2:32])),
        r.mem_rmask.eq(Mux(load_ok, lanes, 0)), r.mem_wmask.eq(Mux(store_ok, lanes, 0)),
        r.mem_rdata.eq(Mux(load_ok, dat_r, 0)),
        r.mem_wdata.eq(Mux(store_ok, st_data & Cat(*(lanes[i].replicate(8) for i in range(4))),
                           0)),
    ]

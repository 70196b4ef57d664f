# Ref: Y.-D. Chih et al., "An 89TOPS/W and 16.3TOPS/mm2 All-Digital SRAM-Based Full-Precision
#      Compute-In-Memory Macro in 22nm", ISSCC 2021, 16.4 (bit-serial activations, adder trees).
"""Digital in-memory-compute tile and its von Neumann baseline: ``y = W^T x``.

``W`` is rows x cols of ``w_bits``-bit weights, ``x`` a vector of ``rows`` activations of
``a_bits`` bits (the precision ``ba`` of each operation, 1..a_bits, is set at run time in CTRL;
an activation's low ``ba`` bits are used). Two's complement when signed: the sign bit's
cycle subtracts. Results are exact: ``out_bits = w_bits + a_bits + log2(rows)`` never overflows.

- :class:`ImcTile`: weights live in flip-flops; each cycle one bit of every activation is
  broadcast to all columns (through a register per column with ``with_bit_register``), ANDed
  with the stored weights and reduced by a per-column adder tree (``tree_stages`` pipeline
  registers); partial sums are shifted and accumulated. A product takes ``ba`` cycles;
  operations issue back to back.
- :class:`ImcBaseline`: the same function, interfaces and register map with the weights in an
  ``amaranth.lib.memory`` block, one row fetched per cycle over a registered bus into ``cols``
  multiply-accumulate units: ``rows`` cycles per product.

Both share :func:`register_map`, the weight write path (stream ``w`` or CSR), errors and status.
"""

from dataclasses import dataclass

from amaranth import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2, exact_log2

from .csr import CsrSignature, Field, Register, RegisterMap, read_registers

__all__ = ["ImcParams", "ImcTile", "ImcBaseline", "register_map", "Cause"]


@dataclass(frozen=True)
class ImcParams:
    rows: int = 64
    cols: int = 16
    w_bits: int = 8
    a_bits: int = 8
    signed_w: bool = True
    signed_a: bool = True
    tree_stages: int = 1
    with_double_buffer: bool = False
    #: Register the broadcast activation bits, one copy per column (each copy drives
    #: ``w_bits`` AND gates instead of one net driving ``cols * w_bits``): one more cycle of
    #: latency. ``ImcTile`` only; the baseline has no broadcast.
    with_bit_register: bool = True
    #: Register the pipeline's stall: ``advance`` comes from flip-flops (one copy per column),
    #: set a clock early from a two-result output buffer, so ``o.ready`` reaches no clock
    #: enable inside the tile (it was the ULX3S-85F SoC's critical path: one enable net to
    #: every pipeline register). Same latency and issue interval; one more result of buffering
    #: (``out_slots``). ``ImcTile`` only.
    with_out_buffer: bool = False
    #: Register a weight write (a one-hot row enable per bank, and the row's data) before it
    #: reaches the weight flip-flops, so each row's clock enable starts at a flip-flop instead
    #: of the CSR decode: a write lands one clock later (see ``ImcTile``). ``ImcTile`` only.
    with_write_register: bool = False

    def __post_init__(self):
        def check(name, ok, rule):
            if not ok:
                raise ValueError(f"{name} must be {rule}, not {getattr(self, name)!r}")
        check("rows", isinstance(self.rows, int) and self.rows >= 2
              and self.rows & (self.rows - 1) == 0 and self.rows <= 1024,
              "a power of two in 2..1024")
        check("cols", isinstance(self.cols, int) and 1 <= self.cols <= 256, "in 1..256")
        check("w_bits", isinstance(self.w_bits, int) and 1 <= self.w_bits <= 8, "in 1..8")
        check("a_bits", isinstance(self.a_bits, int) and 1 <= self.a_bits <= 8, "in 1..8")
        check("tree_stages", isinstance(self.tree_stages, int)
              and 0 <= self.tree_stages <= exact_log2(self.rows),
              f"in 0..{exact_log2(self.rows)} (the adder tree depth)")

    @property
    def bit_stages(self) -> int:
        """Registers between the activation register and the adder tree's input (0 or 1)."""
        return int(self.with_bit_register)

    @property
    def out_bits(self) -> int:
        return self.w_bits + self.a_bits + exact_log2(self.rows)

    @property
    def out_shape(self):
        s = self.signed_w or self.signed_a
        return signed(self.out_bits) if s else unsigned(self.out_bits)

    @property
    def w_shape(self):
        return signed(self.w_bits) if self.signed_w else unsigned(self.w_bits)

    @property
    def row_words(self) -> int:
        return -(-self.cols * self.w_bits // 32)

    @property
    def out_words(self) -> int:
        return self.cols

    @property
    def name(self) -> str:
        return f"imc_{self.rows}x{self.cols}_w{self.w_bits}a{self.a_bits}"


class Cause:
    """STATUS error cause bits (sticky until CMD.clear)."""
    BAD_ABITS = 1   # CTRL.a_bits written outside 1..a_bits
    BAD_ROW = 2     # WROW written outside 0..rows-1
    BUSY_WRITE = 4  # WCOMMIT while a product is in flight (single-buffered tile)


def register_map(p: ImcParams) -> RegisterMap:
    """The tile's registers (also the baseline's). Offsets are word addresses."""
    return RegisterMap("imc", (
        Register("INFO", (Field("rows_log2", 4), Field("cols", 9), Field("w_bits", 4),
                          Field("a_bits", 4), Field("signed_w", 1), Field("signed_a", 1),
                          Field("double_buffer", 1)), access="r",
                 doc="build-time parameters"),
        Register("CTRL", (Field("a_bits", 4, "activation bits per operation"),),
                 doc="operation precision; an out-of-range value is refused (error)"),
        Register("STATUS", (Field("busy", 1), Field("error", 1), Field("cause", 3),
                            Field("bank", 1)), access="r",
                 doc="busy: a product in flight; error/cause sticky (Cause bits)"),
        Register("CMD", (Field("clear", 1), Field("swap", 1)), access="w",
                 doc="clear errors; swap weight banks (double-buffered tiles, when idle)"),
        Register("WROW", (Field("row", 16),), doc="row written by the next WCOMMIT"),
        Register("WDATA", (Field("data", 32),), access="w", count=p.row_words,
                 doc="staged row: column c's weight at bits [c*w_bits, (c+1)*w_bits)"),
        Register("WCOMMIT", (Field("go", 1),), access="w",
                 doc="write the staged row to WROW, then WROW += 1"),
    ))


def weight_write_layout(p: ImcParams) -> data.StructLayout:
    return data.StructLayout({"row": ceil_log2(p.rows),
                              "data": data.ArrayLayout(p.w_bits, p.cols)})


class _TileBase(wiring.Component):
    """Common interface and control of the tile and the baseline.

    Members
    -------
    i : In(stream.Signature(ArrayLayout(a_bits, rows)))      activations, one vector per product
    o : Out(stream.Signature(ArrayLayout(out_shape, cols)))  results, in order
    w : In(stream.Signature(weight_write_layout(params)))   one weight row per transfer
    csr : In(CsrSignature(register_map(params).addr_width))  control and weight loading

    Back-pressure: while a result waits on ``o`` with ``o.ready`` low, the pipeline holds.
    Weight writes (stream or CSR) go to the active bank only when no product is in flight;
    with ``with_double_buffer`` they go to the shadow bank at any time and CMD.swap exchanges
    the banks once the pipeline is idle. Reset: CTRL.a_bits = a_bits, bank 0, no error.
    """

    def __init__(self, params: ImcParams):
        if not isinstance(params, ImcParams):
            raise TypeError(f"params must be ImcParams, not {params!r}")
        self.params = params
        self.regs = register_map(params)
        super().__init__({
            "i": In(stream.Signature(data.ArrayLayout(params.a_bits, params.rows))),
            "o": Out(stream.Signature(data.ArrayLayout(params.out_shape, params.cols))),
            "w": In(stream.Signature(weight_write_layout(params))),
            "csr": In(CsrSignature(self.regs.addr_width)),
        })

    def latency(self, ba: int) -> int:
        """Cycles from accepting an activation vector to its result on ``o``."""
        raise NotImplementedError

    def cycles_per_op(self, ba: int) -> int:
        """Issue interval of back-to-back products."""
        raise NotImplementedError

    @property
    def out_slots(self) -> int:
        """Finished results the tile holds while ``o.ready`` is low before the pipeline
        freezes."""
        return 1

    # -- control shared by both organizations ----------------------------------------------
    def _control(self, m):
        """CSR decoder, configuration, errors and the weight write port.

        Returns a namespace of signals the datapath uses; the datapath must drive ``idle``
        (no product in flight) and read ``cfg_abits``, ``bank`` and ``we/we_row/we_data/we_bank``.
        """
        p, regs = self.params, self.regs
        c = _Ctl()
        c.idle = Signal(init=1)
        c.cfg_abits = Signal(range(p.a_bits + 1), init=p.a_bits)
        c.bank = Signal()
        c.swap_pending = Signal()
        c.cause = Signal(3)
        wrow = Signal(16)
        staged = Signal(32 * p.row_words)

        bus = self.csr
        wr = bus.w_stb
        addr = bus.addr
        wdata = bus.w_data

        def at(name, i=0):
            return addr == regs.offset(name, i)

        # Weight writes: the CSR commit has priority over the stream in the same cycle.
        commit = wr & at("WCOMMIT")
        writable = c.idle | p.with_double_buffer
        c.we = Signal()
        c.we_row = Signal(ceil_log2(p.rows))
        c.we_data = Signal(data.ArrayLayout(p.w_bits, p.cols))
        c.we_bank = Signal()
        m.d.comb += [
            c.we_bank.eq(~c.bank if p.with_double_buffer else c.bank),
            self.w.ready.eq(writable & ~commit),
        ]
        with m.If(commit):
            with m.If(writable):
                m.d.comb += [c.we.eq(1), c.we_row.eq(wrow), c.we_data.eq(staged)]
                m.d.sync += wrow.eq(Mux(wrow == p.rows - 1, 0, wrow + 1))
            with m.Else():
                m.d.sync += c.cause.eq(c.cause | Cause.BUSY_WRITE)
        with m.Elif(self.w.valid & self.w.ready):
            m.d.comb += [c.we.eq(1), c.we_row.eq(self.w.payload.row),
                         c.we_data.eq(self.w.payload.data)]

        with m.If(wr):
            with m.If(at("CTRL")):
                val = regs.field_bits("CTRL", "a_bits", wdata)
                with m.If((val >= 1) & (val <= p.a_bits)):
                    m.d.sync += c.cfg_abits.eq(val)
                with m.Else():
                    m.d.sync += c.cause.eq(c.cause | Cause.BAD_ABITS)
            with m.If(at("WROW")):
                row = regs.field_bits("WROW", "row", wdata)
                with m.If(row < p.rows):
                    m.d.sync += wrow.eq(row)
                with m.Else():
                    m.d.sync += c.cause.eq(c.cause | Cause.BAD_ROW)
            for k in range(p.row_words):
                with m.If(at("WDATA", k)):
                    m.d.sync += staged[32 * k:32 * (k + 1)].eq(wdata)
            with m.If(at("CMD")):
                with m.If(regs.field_bits("CMD", "clear", wdata)):
                    m.d.sync += c.cause.eq(0)
                if p.with_double_buffer:
                    with m.If(regs.field_bits("CMD", "swap", wdata)):
                        m.d.sync += c.swap_pending.eq(1)
        if p.with_double_buffer:
            with m.If(c.swap_pending & c.idle & ~(wr & at("CMD"))):
                m.d.sync += [c.bank.eq(~c.bank), c.swap_pending.eq(0)]

        # Reads: registered, one cycle after r_stb.
        info = regs.pack("INFO", rows_log2=exact_log2(p.rows), cols=p.cols, w_bits=p.w_bits,
                         a_bits=p.a_bits, signed_w=int(p.signed_w),
                         signed_a=int(p.signed_a), double_buffer=int(p.with_double_buffer))
        status = Signal(regs["STATUS"].layout)
        m.d.comb += [status.busy.eq(~c.idle | c.swap_pending), status.error.eq(c.cause != 0),
                     status.cause.eq(c.cause), status.bank.eq(c.bank)]
        read_registers(m, bus, regs, {"INFO": info, "CTRL": c.cfg_abits,
                                      "STATUS": status.as_value(), "WROW": wrow})
        return c


    def _issue(self, m, c, advance, steps, max_steps: int):
        """Accept an activation vector, then step ``idx`` = 0 .. steps(ba) - 1, one per cycle
        (``steps(ba) <= max_steps``, which sizes the counter).

        The next vector is accepted in the cycle of the last step (back to back); a weight
        write (``c.we``, only when idle) wins over accepting. Returns (x, busy, idx, ba, last).
        """
        p = self.params
        x = Signal(data.ArrayLayout(p.a_bits, p.rows))
        busy = Signal()
        idx = Signal(range(max(2, max_steps)))
        ba = Signal(range(p.a_bits + 1))
        last = Signal()
        m.d.comb += [last.eq(busy & (idx == steps(ba) - 1)),
                     self.i.ready.eq(advance & (~busy | last) & ~c.we)]
        with m.If(advance):
            with m.If(busy):
                m.d.sync += idx.eq(idx + 1)
                with m.If(last):
                    m.d.sync += busy.eq(0)
            with m.If(self.i.valid & self.i.ready):
                m.d.sync += [x.eq(self.i.payload), busy.eq(1), idx.eq(0), ba.eq(c.cfg_abits)]
        return x, busy, idx, ba, last

    def _publish(self, m, advance, acc, nxt, valid, last):
        """acc <= nxt for every valid step; the last step's sums go to the output register."""
        cols = range(self.params.cols)
        with m.If(advance):
            with m.If(valid):
                m.d.sync += [acc[col].eq(nxt[col]) for col in cols]
            with m.If(valid & last):
                m.d.sync += [self.o.payload[col].eq(nxt[col]) for col in cols]
                m.d.sync += self.o.valid.eq(1)
            with m.Else():
                m.d.sync += self.o.valid.eq(0)


class _Ctl:
    pass


def _pipelined_tree(m, terms, stages: int, advance, name: str):
    """Sum ``terms`` with a balanced adder tree, registering ``stages`` of its levels (spread
    evenly, the last level first). Returns (sum, list of level indices that were registered)."""
    levels = exact_log2(len(terms))
    reg_after = {levels - 1 - round(i * levels / stages) for i in range(stages)}
    values = list(terms)
    for level in range(levels):
        values = [values[i] + values[i + 1] for i in range(0, len(values), 2)]
        if level in reg_after:
            regs = []
            for j, v in enumerate(values):
                r = Signal(v.shape(), name=f"{name}_l{level}_{j}")
                with m.If(advance):
                    m.d.sync += r.eq(v)
                regs.append(r)
            values = regs
    return values[0], sorted(reg_after)


class ImcTile(_TileBase):
    __doc__ = _TileBase.__doc__ + """
    Bit-serial in-memory compute: latency ``ba + bit_stages + tree_stages + 1`` cycles, one
    product every ``ba`` cycles (``rows * cols`` MACs per ``ba`` cycles).

    With ``with_bit_register`` the selected activation bits are registered once per column
    (``bits_copy<col>``), so no net fans out to more than ``w_bits`` AND gates plus the tree;
    FPGA flows must keep those copies apart (Yosys merges identical flip-flops; the board flow
    sets ``keep`` on them, see ``boards/flow.py``).

    With ``with_out_buffer`` results go into a two-slot buffer that drives ``o``, and the
    pipeline's stall is a flip-flop per column (``advance_copy<col>``, plus one for the issue
    and flag registers) loaded with "the buffer will not be full": so the pipeline may take one
    more step after ``o.ready`` goes low, which the second slot absorbs. Without back-pressure
    the timing is unchanged; ``out_slots`` is 2.

    With ``with_write_register`` a weight write (stream or WCOMMIT) is held one clock in
    ``s1_we_b<bank>_r<row>`` (one-hot) and ``s1_we_data`` and lands on the next edge. Nothing
    has to wait for it: a product accepted, or a bank swap made, in the clock the write is
    held takes effect on the same edge the write lands, so it already sees the new weights
    (a single-buffered tile accepts writes only when idle and refuses activations in the
    clock of a write, as without the register).
    """

    #: Signal-name marker of register copies that synthesis must not merge.
    COPY_MARKER = "_copy"

    def latency(self, ba: int) -> int:
        # x is registered at acceptance, ba issue cycles, the bit register, the tree's stages,
        # the output register.
        return ba + self.params.bit_stages + self.params.tree_stages + 1

    def cycles_per_op(self, ba: int) -> int:
        return ba

    @property
    def out_slots(self) -> int:
        return 2 if self.params.with_out_buffer else 1

    def elaborate(self, platform):
        m = Module()
        p = self.params
        c = self._control(m)
        banks = 2 if p.with_double_buffer else 1
        weights = [[Signal(data.ArrayLayout(p.w_shape, p.cols), name=f"w_b{b}_r{r}")
                    for r in range(p.rows)] for b in range(banks)]
        if p.with_write_register:
            we_data = Signal(data.ArrayLayout(p.w_bits, p.cols), name="s1_we_data")
            with m.If(c.we):
                m.d.sync += we_data.eq(c.we_data)
        for b in range(banks):
            for r in range(p.rows):
                we = c.we & (c.we_row == r) & (c.we_bank == b)
                if p.with_write_register:
                    s1_we = Signal(name=f"s1_we_b{b}_r{r}")
                    m.d.sync += s1_we.eq(we)
                    with m.If(s1_we):
                        m.d.sync += weights[b][r].eq(we_data)
                else:
                    with m.If(we):
                        m.d.sync += weights[b][r].eq(c.we_data)

        # The pipeline's stall: ``advance`` for the issue and flag registers, ``col_adv[col]``
        # for column col's registers (the same value; copies with the output buffer).
        if p.with_out_buffer:
            col_adv = [Signal(init=1, name=f"advance{self.COPY_MARKER}{col}")
                       for col in range(p.cols)]
            advance = Signal(init=1, name=f"advance{self.COPY_MARKER}ctl")
        else:
            advance = Signal()
            m.d.comb += advance.eq(~self.o.valid | self.o.ready)
            col_adv = [advance] * p.cols

        # Issue: latch x, then broadcast bit k = 0 .. ba-1, one per cycle.
        x, busy, k, ba, last = self._issue(m, c, advance, lambda ba: ba, p.a_bits)

        # One named signal: as an expression it would be re-emitted for every column.
        bits = Signal(p.rows)
        m.d.comb += bits.eq(Cat(*[x[r].bit_select(k, 1) for r in range(p.rows)]))
        flags = Cat(busy, k == 0, last, last & p.signed_a, k)
        valids = [busy]
        if p.with_bit_register:
            # One copy per column: the broadcast net was the 85F stand-in's critical path.
            col_bits = [Signal(p.rows, name=f"bits{self.COPY_MARKER}{col}")
                        for col in range(p.cols)]
            s0_flags = Signal(len(flags), name="flags_s0")
            for cb, adv in zip(col_bits, col_adv):
                with m.If(adv):
                    m.d.sync += cb.eq(bits)
            with m.If(advance):
                m.d.sync += s0_flags.eq(flags)
            flags = s0_flags
            valids.append(flags[0])
        else:
            col_bits = [bits] * p.cols
        # Column partial sums: AND of the broadcast bit with each stored weight, then the tree.
        partials = []
        for col in range(p.cols):
            terms = []
            for r in range(p.rows):
                if banks == 2:
                    wv = Mux(c.bank, weights[1][r][col], weights[0][r][col])
                else:
                    wv = weights[0][r][col]
                terms.append(Mux(col_bits[col][r], wv, 0))
            total, _ = _pipelined_tree(m, terms, p.tree_stages, col_adv[col], f"col{col}")
            partials.append(total)
        # The control flags travel with the tree's registered levels.
        for s in range(p.tree_stages):
            nxt = Signal(len(flags), name=f"flags_s{s + 1}")
            with m.If(advance):
                m.d.sync += nxt.eq(flags)
            flags = nxt
            valids.append(flags[0])
        f_valid, f_first, f_last, f_neg = flags[0], flags[1], flags[2], flags[3]
        f_k = flags[4:]
        m.d.comb += c.idle.eq(~Cat(*valids).any())

        # Accumulate: acc += partial << k (minus for the sign bit); publish on the last bit.
        acc = Signal(data.ArrayLayout(p.out_shape, p.cols))
        nxt = []
        for col in range(p.cols):
            shifted = Signal(p.out_shape, name=f"shifted{col}")
            m.d.comb += shifted.eq(partials[col] << f_k)
            base = Mux(f_first, 0, acc[col])
            nxt.append(Mux(f_neg, base - shifted, base + shifted))
        if not p.with_out_buffer:
            self._publish(m, advance, acc, nxt, f_valid, f_last)
            return m

        for col in range(p.cols):
            with m.If(col_adv[col] & f_valid):
                m.d.sync += acc[col].eq(nxt[col])
        # Two result slots, written at ``wr`` and read at ``rd``: o.ready only moves ``rd``,
        # clears a slot and feeds the stall flip-flops.
        slots = [Signal(data.ArrayLayout(p.out_shape, p.cols), name=f"out_slot{i}")
                 for i in range(2)]
        full = [Signal(name=f"out_full{i}") for i in range(2)]
        wr, rd = Signal(), Signal()
        m.d.comb += [self.o.valid.eq(Mux(rd, full[1], full[0])),
                     self.o.payload.eq(Mux(rd, slots[1], slots[0]))]
        push, pop = Signal(), Signal()
        m.d.comb += [push.eq(advance & f_valid & f_last), pop.eq(self.o.valid & self.o.ready)]
        full_next = []
        for i in range(2):
            for col in range(p.cols):
                with m.If(col_adv[col] & f_valid & f_last & (wr == i)):
                    m.d.sync += slots[i][col].eq(nxt[col])
            nf = Signal(name=f"out_full{i}_next")
            m.d.comb += nf.eq((full[i] & ~(pop & (rd == i))) | (push & (wr == i)))
            m.d.sync += full[i].eq(nf)
            full_next.append(nf)
        with m.If(push):
            m.d.sync += wr.eq(~wr)
        with m.If(pop):
            m.d.sync += rd.eq(~rd)
        # Advance next clock only if a result pushed then has a free slot.
        m.d.sync += [a.eq(~(full_next[0] & full_next[1])) for a in [advance, *col_adv]]
        return m


class ImcBaseline(_TileBase):
    __doc__ = _TileBase.__doc__ + """
    Von Neumann baseline: weights in ``amaranth.lib.memory`` (synchronous read port, then a
    registered bus stage), ``cols`` MAC units (``ba``-bit activation x ``w_bits`` weight):
    latency ``rows + 3`` cycles, one product every ``rows`` cycles.
    """

    def latency(self, ba: int) -> int:
        # x registered, rows fetch cycles, the memory's read register, the bus register, output.
        return self.params.rows + 3

    def cycles_per_op(self, ba: int) -> int:
        return self.params.rows

    def elaborate(self, platform):
        m = Module()
        p = self.params
        c = self._control(m)
        banks = 2 if p.with_double_buffer else 1
        row_layout = data.ArrayLayout(p.w_shape, p.cols)
        m.submodules.mem = mem = memory.Memory(shape=row_layout, depth=p.rows * banks, init=[])
        wp = mem.write_port()
        rp = mem.read_port()
        m.d.comb += [wp.en.eq(c.we), wp.data.eq(c.we_data),
                     wp.addr.eq(Cat(c.we_row, c.we_bank) if banks == 2 else c.we_row)]

        advance = Signal()
        m.d.comb += advance.eq(~self.o.valid | self.o.ready)

        # Fetch: row r of the weights each cycle; x[r] travels with the read.
        x, busy, r, ba, last = self._issue(m, c, advance, lambda ba: p.rows, p.rows)
        # Read only while fetching: an idle tile must not spend SRAM reads.
        m.d.comb += [rp.en.eq(advance & busy), rp.addr.eq(Cat(r, c.bank) if banks == 2 else r)]

        # The activation of row r, reduced to its low ba bits (two's complement if signed).
        a_shape = signed(p.a_bits) if p.signed_a else unsigned(p.a_bits)
        act = Signal(a_shape)
        raw = Signal(p.a_bits)
        m.d.comb += raw.eq(x[r])
        low = Signal(p.a_bits)
        m.d.comb += low.eq(raw & ((Const(1, p.a_bits + 1) << ba) - 1))
        if p.signed_a:
            ba_m1 = Signal(range(p.a_bits))
            m.d.comb += ba_m1.eq(ba - 1)
            sign = raw.bit_select(ba_m1, 1)
            m.d.comb += act.eq(Mux(sign, low | ~((Const(1, p.a_bits + 1) << ba) - 1), low))
        else:
            m.d.comb += act.eq(low)

        # s1: memory read (registered inside the memory), s2: the registered bus stage.
        s1 = Signal(Cat(busy, r == 0, last).shape())
        s1_act = Signal(a_shape)
        with m.If(advance):
            m.d.sync += [s1.eq(Cat(busy, r == 0, last)), s1_act.eq(act)]
        s2 = Signal(len(s1))
        s2_act = Signal(a_shape)
        s2_row = Signal(row_layout)
        with m.If(advance):
            m.d.sync += [s2.eq(s1), s2_act.eq(s1_act), s2_row.eq(rp.data)]
        f_valid, f_first, f_last = s2[0], s2[1], s2[2]
        m.d.comb += c.idle.eq(~busy & ~s1[0] & ~s2[0])

        acc = Signal(data.ArrayLayout(p.out_shape, p.cols))
        nxt = [Mux(f_first, 0, acc[col]) + s2_row[col] * s2_act for col in range(p.cols)]
        self._publish(m, advance, acc, nxt, f_valid, f_last)
        return m

# Ref: Wishbone B4 (OpenCores, 2010), pipelined mode: STALL_I, ERR_I, 32-bit data, byte select.
"""Wishbone B4 (pipelined) bus pieces: the signature, a RAM responder, a decoder and an arbiter.

amaranth-soc is not installable, so the small part picojoule needs is written here.

Pipelined mode: an initiator presents ``stb`` (inside ``cyc``) with ``adr``/``we``/``sel``/
``dat_w``; the request is accepted in a cycle where ``stall`` is low, and answered later by
exactly one cycle of ``ack`` (with ``dat_r`` for reads) or ``err``. Initiators in this project
keep at most one request outstanding, so the responders below may assume it. Addresses are
word addresses (``adr`` = byte address >> 2).
"""

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["WishboneSignature", "WishboneRam", "Decoder", "Arbiter"]


class WishboneSignature(wiring.Signature):
    """Initiator's view.

    Members
    -------
    cyc, stb, we : Out(1)
    adr : Out(addr_width)     word address
    sel : Out(4)              byte lanes
    dat_w : Out(32)
    dat_r : In(32)
    ack, err, stall : In(1)
    """

    def __init__(self, addr_width: int = 30):
        if not isinstance(addr_width, int) or not 1 <= addr_width <= 30:
            raise ValueError(f"addr_width must be an integer in 1..30, "
                             f"not {addr_width!r}")
        self.addr_width = addr_width
        super().__init__({
            "cyc": Out(1), "stb": Out(1), "we": Out(1), "adr": Out(addr_width), "sel": Out(4),
            "dat_w": Out(32), "dat_r": In(32), "ack": In(1), "err": In(1), "stall": In(1),
        })


class WishboneRam(wiring.Component):
    """``depth`` words of RAM (``amaranth.lib.memory``, inferable as block RAM) on ``ports``
    independent Wishbone ports (1 or 2; two ports share one write port, port 0 wins a write
    collision, port 1 is then stalled for a cycle). Every access is acknowledged the next
    cycle; addresses wrap inside the RAM (the decoder in front of it guarantees the range).

    A ``load`` port writes words while the initiators are held in reset (for simulation loaders
    and boot ROM images); it has priority over the bus.
    """

    def __init__(self, depth: int, ports: int = 1, init=()):
        if depth < 1 or depth & (depth - 1):
            raise ValueError(f"depth must be a power of two, not {depth!r}")
        if ports not in (1, 2):
            raise ValueError(f"ports must be 1 or 2, not {ports!r}")
        self.depth, self.ports, self.init = depth, ports, tuple(init)
        aw = max(1, (depth - 1).bit_length())
        self.addr_width = aw
        members = {f"bus{i}": In(WishboneSignature(aw)) for i in range(ports)}
        members.update({"load_en": In(1), "load_adr": In(aw), "load_dat": In(32)})
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        m.submodules.mem = mem = memory.Memory(shape=32, depth=self.depth, init=self.init)
        wp = mem.write_port(granularity=8)
        buses = [getattr(self, f"bus{i}") for i in range(self.ports)]
        writing = [Signal(name=f"wr{i}") for i in range(self.ports)]
        for i, bus in enumerate(buses):
            m.d.comb += writing[i].eq(bus.cyc & bus.stb & bus.we)
        for i, bus in enumerate(buses):
            rp = mem.read_port()
            req = Signal(name=f"req{i}")
            # Port 1 waits while port 0 writes or the loader runs (one shared write port).
            stall = self.load_en if i == 0 else (self.load_en | (writing[0] & writing[1]))
            m.d.comb += [
                bus.stall.eq(stall),
                req.eq(bus.cyc & bus.stb & ~stall),
                rp.addr.eq(bus.adr), rp.en.eq(req & ~bus.we),
                bus.dat_r.eq(rp.data),
            ]
            m.d.sync += bus.ack.eq(req)
        with m.If(self.load_en):
            m.d.comb += [wp.addr.eq(self.load_adr), wp.data.eq(self.load_dat), wp.en.eq(0b1111)]
        with m.Else():
            for i, bus in reversed(list(enumerate(buses))):
                with m.If(writing[i] & ~buses[i].stall):
                    m.d.comb += [wp.addr.eq(bus.adr), wp.data.eq(bus.dat_w),
                                 wp.en.eq(bus.sel)]
        return m


class Decoder(wiring.Component):
    """One initiator to several targets by address range. ``targets``: a list of
    ``(name, base_word, size_words)``; sizes are powers of two and bases aligned. A request
    that hits no target is answered by ``err`` the next cycle, never aliased.

    ``late``: the name of a target whose read data arrives late in the clock (block RAM's
    output, straight from the array): it joins the read-data OR at its root, one LUT level
    before ``dat_r``, where the other targets' terms (from registers) meet in a tree beside it.
    """

    def __init__(self, targets, addr_width: int = 30, *, late: str | None = None):
        self.targets = list(targets)
        if late is not None and late not in [t[0] for t in self.targets]:
            raise ValueError(f"late target {late!r} is not one of the targets")
        self.late = late
        for name, base, size in self.targets:
            if size & (size - 1) or base % size:
                raise ValueError(f"target {name}: size {size} must be a power of two and base "
                                 f"{base:#x} aligned to it")
        members = {"bus": In(WishboneSignature(addr_width))}
        for name, _, size in self.targets:
            members[name] = Out(WishboneSignature(max(1, (size - 1).bit_length())))
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        bus = self.bus
        hits = []
        # The target of the outstanding request routes its answer back, one-hot, and the read
        # data is an AND-OR over the targets (the hits are disjoint): a balanced tree, where a
        # chain of muxes on a binary index put up to one LUT level per target between block
        # RAM's load data and the core (the UP5K SoC's critical path).
        sel_oh_q = Signal(len(self.targets))
        miss_q = Signal()
        for name, base, size in self.targets:
            sub = getattr(self, name)
            hit = Signal(name=f"hit_{name}")
            m.d.comb += [
                hit.eq((bus.adr >> (size - 1).bit_length()) == (base >> (size - 1).bit_length())
                       if size > 1 else bus.adr == base),
                sub.adr.eq(bus.adr), sub.we.eq(bus.we), sub.sel.eq(bus.sel),
                sub.dat_w.eq(bus.dat_w), sub.cyc.eq(bus.cyc & hit), sub.stb.eq(bus.stb & hit),
            ]
            hits.append(hit)
        any_hit = Signal()
        m.d.comb += any_hit.eq(Signal.cast(0) if not hits else _or(hits))
        stall = 0
        for hit, (name, _, _) in zip(hits, self.targets):
            stall = Mux(hit, getattr(self, name).stall, stall)
        m.d.comb += bus.stall.eq(stall)
        accepted = bus.cyc & bus.stb & ~bus.stall
        with m.If(accepted):
            m.d.sync += [miss_q.eq(~any_hit), sel_oh_q.eq(Cat(*hits))]
        with m.Else():
            m.d.sync += miss_q.eq(0)
        ack, err, terms, late = 0, miss_q, [], None
        for i, (name, _, _) in enumerate(self.targets):
            sub = getattr(self, name)
            ack = ack | sub.ack
            err = err | sub.err
            if name == self.late:
                late = (sel_oh_q[i], sub.dat_r)
            else:
                terms.append(Mux(sel_oh_q[i], sub.dat_r, 0))
        dat = _tree_or(terms) if terms else 0
        if late is not None:
            # A mux, not an OR: the other terms are all zero when ``late`` answers.
            dat = Mux(late[0], late[1], dat)
        m.d.comb += [bus.ack.eq(ack), bus.err.eq(err), bus.dat_r.eq(dat)]
        return m


def _tree_or(values):
    """OR of ``values`` as a balanced tree (so synthesis need not rebalance a chain)."""
    while len(values) > 1:
        values = [values[i] | values[i + 1] if i + 1 < len(values) else values[i]
                  for i in range(0, len(values), 2)]
    return values[0]


def _or(signals):
    out = signals[0]
    for s in signals[1:]:
        out = out | s
    return out


class Arbiter(wiring.Component):
    """Several initiators onto one target, fixed priority (initiator 0 first). The grant is
    held from acceptance until the answer (``ack``/``err``), so answers return to the right
    initiator; a waiting initiator sees ``stall``.

    An initiator's ``stall`` depends on registered state, the target's ``stall`` and the
    requests of higher-priority initiators, never on its own request: an initiator whose
    request logic reads ``stall`` (the core's) then has no path through here back into itself.
    """

    def __init__(self, count: int, addr_width: int = 30):
        if count < 1:
            raise ValueError(f"count must be at least 1, not {count!r}")
        self.count = count
        members = {f"in{i}": In(WishboneSignature(addr_width)) for i in range(count)}
        members["out"] = Out(WishboneSignature(addr_width))
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        ins = [getattr(self, f"in{i}") for i in range(self.count)]
        out = self.out
        busy = Signal()                      # a request is outstanding
        owner = Signal(range(max(2, self.count)))
        grant = Signal(range(max(2, self.count)))
        for i in reversed(range(self.count)):
            with m.If(ins[i].cyc & ins[i].stb):
                m.d.comb += grant.eq(i)
        done = out.ack | out.err
        waiting = Signal()                   # outstanding and not answered this cycle
        m.d.comb += waiting.eq(busy & ~done)
        cur = Mux(waiting, owner, grant)
        for i, b in enumerate(ins):
            with m.If(cur == i):
                m.d.comb += [out.cyc.eq(b.cyc), out.stb.eq(b.stb & ~waiting), out.we.eq(b.we),
                             out.adr.eq(b.adr), out.sel.eq(b.sel), out.dat_w.eq(b.dat_w)]
            mine_now = (owner == i) & busy
            higher = Signal.cast(0)
            for j in range(i):
                higher = higher | (ins[j].cyc & ins[j].stb)
            m.d.comb += [
                b.stall.eq(waiting | higher | out.stall),
                b.ack.eq(out.ack & mine_now), b.err.eq(out.err & mine_now),
                b.dat_r.eq(out.dat_r),
            ]
        with m.If(out.cyc & out.stb & ~out.stall):
            m.d.sync += [busy.eq(1), owner.eq(grant)]
        with m.Elif(done):
            m.d.sync += busy.eq(0)
        return m

"""``hdl.periph.WordDma`` on its own, in Amaranth's simulator: a loopback accelerator behind
it, RAM behind the project's arbiter and decoder, a second (higher-priority) initiator and the
stall injector competing for the bus.

Checked: every result word equals the accelerator's function of its source word and nothing
else in RAM changes; on a free bus one request is accepted per clock (reads and writes share
the bus); a range that runs out of RAM stops with BUS_ERROR at the first missing word, and no
access of the DMA is accepted after the failing one. The SoC tests (``tb/test_soc.py``) drive
the same block through firmware on both simulators.
"""

import random

import pytest
from amaranth import Module, Signal
from amaranth.lib import fifo, wiring
from amaranth.sim import Simulator

from hdl.bus import Arbiter, Decoder, WishboneRam
from hdl.periph import DMA_REGS, DmaCause, WordDma
from tb.stall import StallInjector

RAM_WORDS = 64
MIX = (0x9E3779B1, 0x1234567)


def accel(word: int) -> int:
    """The loopback accelerator's function (a mix, so a word from the wrong place shows)."""
    return (word * MIX[0] + MIX[1]) & 0xFFFF_FFFF


class Bench(wiring.Component):
    """DMA (behind a stall injector when ``stall_seed``) and a second initiator ``other``
    (priority) on an arbiter, a decoder with RAM at word 0 (everything above misses), and a
    two-word accelerator stage between the DMA's ``o`` and ``i`` (applying :func:`accel`)
    whose input and output are gated by ``acc_take``/``acc_give``."""

    def __init__(self, init, stall_seed=None):
        self.stall_seed = stall_seed
        self.acc_take, self.acc_give = Signal(), Signal()
        self.dma, self.arb = WordDma(), Arbiter(2)
        self.dec = Decoder([("ram", 0, RAM_WORDS)])
        self.ram = WishboneRam(RAM_WORDS, init=init)
        self.other = self.arb.in0
        super().__init__({})

    def elaborate(self, platform):
        m = Module()
        m.submodules.dma, m.submodules.arb = dma, arb = self.dma, self.arb
        m.submodules.dec, m.submodules.ram = self.dec, self.ram
        bus = dma.bus
        if self.stall_seed is not None:
            m.submodules.inj = inj = StallInjector(30, self.stall_seed)
            wiring.connect(m, bus, inj.up)
            bus = inj.down
        wiring.connect(m, bus, arb.in1)
        wiring.connect(m, arb.out, self.dec.bus)
        wiring.connect(m, self.dec.ram, self.ram.bus0)
        m.submodules.q = q = fifo.SyncFIFO(width=32, depth=2)
        m.d.comb += [
            q.w_data.eq(dma.o.payload * MIX[0] + MIX[1]),
            q.w_en.eq(dma.o.valid & self.acc_take), dma.o.ready.eq(q.w_rdy & self.acc_take),
            dma.i.payload.eq(q.r_data), dma.i.valid.eq(q.r_rdy & self.acc_give),
            q.r_en.eq(dma.i.ready & self.acc_give),
        ]
        return m


def run_dma(*, src=0, src_words, dst, dst_words, seed=0, traffic=0.0, acc_rate=1.0,
            stall_seed=None, max_cycles=4000):
    """One transfer: ``src_words`` words from word ``src`` to the accelerator, ``dst_words``
    results to word ``dst``. Returns a dict: ``init`` and ``ram`` (RAM before, and after as
    read back over the bus), ``status`` (fields), ``err_addr``, ``cycles`` (the DMA's
    registers), ``accepted`` (the DMA's accepted requests: (clock, word address, we)) and
    ``failed_at`` (the clock its error answer arrived, or None)."""
    rng = random.Random(seed)
    init = [rng.getrandbits(32) for _ in range(RAM_WORDS)]
    top = Bench(init, stall_seed)
    dma, other, csr = top.dma, top.other, top.dma.csr
    out = {"init": init}

    async def bench(ctx):
        async def write(name, value, *, tick=True):
            ctx.set(csr.addr, DMA_REGS.offset(name))
            ctx.set(csr.w_data, value)
            ctx.set(csr.w_stb, 1)
            if tick:
                await ctx.tick()
                ctx.set(csr.w_stb, 0)

        async def read(name):
            ctx.set(csr.addr, DMA_REGS.offset(name))
            ctx.set(csr.r_stb, 1)
            await ctx.tick()
            ctx.set(csr.r_stb, 0)
            return ctx.get(csr.r_data)

        for name, value in (("SRC", src * 4), ("SRC_WORDS", src_words), ("DST", dst * 4),
                            ("DST_WORDS", dst_words)):
            await write(name, value)
        # start, in the first clock of the loop
        await write("CMD", DMA_REGS.pack("CMD", start=1, clear=0), tick=False)
        accepted, failed_at, outstanding = [], None, False
        for cycle in range(max_cycles):
            ctx.set(top.acc_take, rng.random() < acc_rate)
            ctx.set(top.acc_give, rng.random() < acc_rate)
            # the other initiator: one read at a time, held until accepted, then answered
            if outstanding and (ctx.get(other.ack) or ctx.get(other.err)):
                outstanding = False
                ctx.set(other.cyc, 0)
            presented = bool(ctx.get(other.stb))
            if not presented and not outstanding and rng.random() < traffic:
                ctx.set(other.adr, rng.randrange(RAM_WORDS))
                ctx.set(other.cyc, 1)
                ctx.set(other.stb, 1)
                presented = True
            taken = presented and not ctx.get(other.stall)
            b = dma.bus
            if ctx.get(b.stb) and not ctx.get(b.stall):
                accepted.append((cycle, ctx.get(b.adr), ctx.get(b.we)))
            if failed_at is None and ctx.get(b.err):
                failed_at = cycle
            busy = ctx.get(dma.busy)
            await ctx.tick()
            ctx.set(csr.w_stb, 0)
            if taken:
                ctx.set(other.stb, 0)
                outstanding = True
            if cycle > 2 and not busy and not outstanding:
                break
        else:
            raise AssertionError(f"the DMA is still busy after {max_cycles} clocks")
        out["status"] = DMA_REGS.unpack("STATUS", await read("STATUS"))
        out["err_addr"] = await read("ERR_ADDR")
        out["cycles"] = await read("CYCLES")
        ram = []
        for adr in range(RAM_WORDS):       # read the RAM back through the other initiator
            ctx.set(other.adr, adr)
            ctx.set(other.cyc, 1)
            ctx.set(other.stb, 1)
            await ctx.tick()
            ctx.set(other.stb, 0)
            while not ctx.get(other.ack):
                await ctx.tick()
            ram.append(ctx.get(other.dat_r))
        ctx.set(other.cyc, 0)
        out["ram"] = ram
        out["accepted"], out["failed_at"] = accepted, failed_at

    sim = Simulator(top)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return out


def check_done(out, src, n, dst):
    """Done without error; the words at ``dst`` are :func:`accel` of the source words and
    every other word is unchanged."""
    st = out["status"]
    assert (st["busy"], st["done"], st["error"]) == (0, 1, 0), st
    expect = list(out["init"])
    expect[dst:dst + n] = [accel(w) for w in out["init"][src:src + n]]
    assert out["ram"] == expect


@pytest.mark.parametrize("n", [1, 2, 5, 16])
def test_free_bus_one_request_per_clock(n):
    """No other traffic, no stalls, an accelerator that always takes and gives: one accepted
    request per clock (2 n of them), and the transfer takes at most 2 n + 6 clocks."""
    out = run_dma(src_words=n, dst=32, dst_words=n)
    check_done(out, 0, n, 32)
    clocks = [c for c, _, _ in out["accepted"]]
    assert len(clocks) == 2 * n
    # back to back until the last read; after it only the last results' round trip through
    # the accelerator (answer, read FIFO, accelerator, input FIFO, request register) is left
    last_read = max(i for i, (_, _, we) in enumerate(out["accepted"]) if not we)
    assert clocks[:last_read + 1] == list(range(clocks[0], clocks[0] + last_read + 1)), \
        out["accepted"]
    assert out["cycles"] <= 2 * n + 6, out["cycles"]


@pytest.mark.parametrize("seed", range(6))
def test_contention_and_stalls(seed):
    """A priority initiator reading at random, the stall injector between DMA and arbiter
    (odd seeds) and an accelerator that takes and gives at random: same results."""
    out = run_dma(src=3, src_words=24, dst=30, dst_words=24, seed=seed, traffic=0.4,
                  acc_rate=0.6, stall_seed=(0x1D + seed) if seed % 2 else None)
    check_done(out, 3, 24, 30)


@pytest.mark.parametrize("traffic", [0.0, 0.5])
@pytest.mark.parametrize("side", ["read", "write"])
def test_bus_error_stops_at_the_failing_word(side, traffic):
    """Source or destination running past the RAM's end: BUS_ERROR, ERR_ADDR is the first
    byte past RAM, and the failing access is the DMA's last accepted one (the request loaded
    behind it is withdrawn)."""
    if side == "read":
        out = run_dma(src=RAM_WORDS - 3, src_words=8, dst=0, dst_words=0, traffic=traffic,
                      seed=3)
    else:
        out = run_dma(src=0, src_words=8, dst=RAM_WORDS - 3, dst_words=8, traffic=traffic,
                      seed=3)
    st = out["status"]
    assert (st["busy"], st["done"], st["cause"]) == (0, 1, DmaCause.BUS_ERROR), st
    assert out["err_addr"] == RAM_WORDS * 4
    last_clock, last_adr, _ = out["accepted"][-1]
    assert last_adr == RAM_WORDS, out["accepted"]
    assert out["failed_at"] is not None and out["failed_at"] > last_clock


def test_decoder_late_target_must_exist():
    with pytest.raises(ValueError, match="late target 'rom' is not one of the targets"):
        Decoder([("ram", 0, RAM_WORDS)], late="rom")

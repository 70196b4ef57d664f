"""The stand-in board design until the SoC exists: the units driven by an LFSR, no processor.

It is not the SoC and computes nothing a user asked for. It exists so that a board build puts
the real units (sized by :class:`boards.design.DesignConfig`) on the real device, clocked and
observable, and so the flow, the pin mapping and the reports work before ``hdl/soc.py`` does.
"""

from amaranth import Cat, Module, Mux, Signal, Value
from amaranth.lib import wiring

from hdl.float import FORMATS
from hdl.imc import ImcTile
from hdl.lmul import MulStream
from hdl.onn import OnnArray, OnnTdm, TdmParams

from .design import DesignConfig, board_signature

__all__ = ["UnitsStandIn"]

#: x^32 + x^22 + x^2 + x + 1, a maximal-length Galois LFSR.
LFSR_TAPS = 0x80200003
#: The LEDs show a new signature every 2**HEARTBEAT_BITS cycles (0.7 s at 12 MHz).
HEARTBEAT_BITS = 23


def _fold(value, width: int = 32):
    """XOR of ``value``'s ``width``-bit slices: every bit of ``value`` reaches the result."""
    bits = Cat(value)
    chunks = [bits[i:i + width] for i in range(0, len(bits), width)]
    out = chunks[0]
    for c in chunks[1:]:
        out = out ^ c
    return out


class UnitsStandIn(wiring.Component):
    """Pseudo-random operands into each configured unit; results folded into a signature.

    After reset the IMC tile's weights are written one row per cycle from the noise register
    through its ``w`` stream; then one activation vector is offered per cycle (the tile accepts
    one per product) and every L-Mul cycle gets a new operand pair. Each result that leaves a
    unit is folded into a 32-bit signature (in a cycle with results: rotate left by one, XOR
    each result folded to 32 bits). About once per 64 cycles a random CSR read or write goes to
    the tile (a write may change CTRL.a_bits, set error bits or overwrite weights: it is noise,
    not a workload); read data goes into the signature too. The oscillator array, which has
    only a CSR port, gets the same random reads and writes about once per 16 cycles (writes
    load couplings and phases, set the mode and schedule, and start runs at random).

    ``leds[0]`` blinks (bit ``HEARTBEAT_BITS`` of a cycle counter); the other LEDs show the low
    bits of the signature, latched at each heartbeat edge. ``buttons[0]`` held: the units get no
    new operands (the signature freezes). ``tx`` echoes ``rx`` (a UART loopback, to check the
    pins with a terminal). Members: see :func:`boards.design.board_signature`.
    """

    def __init__(self, config: DesignConfig, *, leds: int, buttons: int):
        if not isinstance(config, DesignConfig):
            raise TypeError(f"config must be a DesignConfig, not {config!r}")
        self.config = config
        super().__init__(board_signature(leds=leds, buttons=buttons))
        #: The running 32-bit signature of all unit results (not a port; for tests).
        self.digest = Signal(32)

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        imc = cfg.imc
        fmt = FORMATS[cfg.lmul] if cfg.lmul else None
        width = max(32, imc.rows * imc.a_bits if imc else 0, imc.cols * imc.w_bits if imc else 0,
                    2 * fmt.width if fmt else 0)

        run = Signal()
        m.d.comb += run.eq(~self.buttons[0])
        lfsr = Signal(32, init=1)
        noise = Signal(width)
        with m.If(run):
            m.d.sync += [lfsr.eq((lfsr >> 1) ^ (LFSR_TAPS * lfsr[0])),
                         noise.eq(Cat(lfsr, noise[:-32]) if width > 32 else lfsr)]

        sig = self.digest
        results = []      # (valid, payload) of each unit's output stream

        if fmt is not None:
            m.submodules.lmul = mul = MulStream(fmt, kind="lmul")
            m.d.comb += [mul.i.valid.eq(run), mul.i.payload.as_value().eq(noise),
                         mul.o.ready.eq(1)]
            results.append((mul.o.valid, mul.o.payload))

        if imc is not None:
            m.submodules.imc = tile = ImcTile(imc)
            row = Signal(range(imc.rows))
            loaded = Signal()
            m.d.comb += [
                tile.w.valid.eq(run & ~loaded),
                tile.w.payload.row.eq(row),
                tile.w.payload.data.as_value().eq(noise),
                tile.i.valid.eq(run & loaded),
                tile.i.payload.as_value().eq(noise),
                tile.o.ready.eq(1),
            ]
            with m.If(tile.w.valid & tile.w.ready):
                m.d.sync += row.eq(row + 1)
                with m.If(row == imc.rows - 1):
                    m.d.sync += loaded.eq(1)
            results.append((tile.o.valid, tile.o.payload))
            # Random CSR reads and writes (about one access per 64 cycles), so that the
            # register file and the CSR weight path stay in the netlist as they would with a
            # processor behind them: tied off, synthesis would remove them.
            csr = tile.csr
            access = Signal()
            r_valid = Signal()
            m.d.comb += [access.eq(run & loaded & (lfsr[:6] == 0)),
                         csr.addr.eq(lfsr[8:]), csr.w_data.eq(noise[:32]),
                         csr.w_stb.eq(access & lfsr[6]), csr.r_stb.eq(access & ~lfsr[6])]
            m.d.sync += r_valid.eq(csr.r_stb)
            results.append((r_valid, csr.r_data))

        if cfg.onn is not None:
            m.submodules.onn = onn = (OnnTdm(TdmParams(cfg.onn, cfg.onn_lanes))
                                      if cfg.onn_lanes else OnnArray(cfg.onn))
            csr = onn.csr
            access = Signal()
            r_valid = Signal()
            # a slot of its own (lfsr bits 2, 3 set), never the tile's (lfsr[:6] == 0)
            m.d.comb += [access.eq(run & (lfsr[:4] == 0b1100)),
                         csr.addr.eq(lfsr[8:]), csr.w_data.eq(noise[-32:]),
                         csr.w_stb.eq(access & lfsr[6]), csr.r_stb.eq(access & ~lfsr[6])]
            m.d.sync += r_valid.eq(csr.r_stb)
            results.append((r_valid, csr.r_data))

        nxt = Cat(sig[-1], sig[:-1])
        for valid, payload in results:
            nxt = nxt ^ Mux(valid, _fold(Value.cast(payload)), 0)
        with m.If(Cat(*(valid for valid, _ in results)).any()):
            m.d.sync += sig.eq(nxt)

        count = Signal(HEARTBEAT_BITS + 1)
        shown = Signal(len(self.leds))
        m.d.sync += count.eq(count + 1)
        with m.If(count == 0):
            m.d.sync += shown.eq(sig)
        m.d.comb += [self.leds.eq(Cat(count[-1], shown[1:])), self.tx.eq(self.rx)]
        return m

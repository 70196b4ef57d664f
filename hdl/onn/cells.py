"""RTL building blocks of an oscillator cell, shared by every array organization: the sine
table lookup, the spin bit, the LFSR advance, the adder tree, and the naming rule of the
broadcast-register copies."""

from amaranth import Array, Cat, Const, Module, Mux, Signal, signed

from ..imc import ImcTile
from .params import OnnParams, lfsr_advance_matrix, sin_table

__all__ = ["COPY_MARKER", "xor_all", "sin_rom", "spin_bit", "lfsr_advance", "adder_tree"]

#: Signal-name marker of register copies that synthesis must keep apart (shared with the IMC
#: tile: ``sim.flow.synth.KEEP_COPIES`` keeps every flip-flop driving a wire named ``*_copy*``).
COPY_MARKER = ImcTile.COPY_MARKER


def xor_all(values):
    acc = Const(0, 1)
    for v in values:
        acc = acc ^ v
    return acc


def sin_rom(p: OnnParams, m: Module, k, name: str, *, with_magnitude=False):
    """``SIN[k]`` from the quarter table (folded address), as a signed ``sin_bits`` signal;
    ``with_magnitude``: ``(SIN[k], |SIN[k]|, SIN[k] < 0 or -0)`` (the sign is the table's half
    bit, so it may be set for a zero entry)."""
    table = sin_table(p)
    q = 1 << (p.lut_bits - 2)
    # q + 1 entries used (idx <= q); padded to the index range so the lookup is a full case
    quarter = Array(Const(v, p.sin_bits - 1)
                    for v in table[:q + 1] + [0] * ((1 << (p.lut_bits - 1)) - q - 1))
    r = k[:p.lut_bits - 2]
    seg = k[p.lut_bits - 2:]
    idx = Signal(p.lut_bits - 1, name=f"{name}_idx")
    m.d.comb += idx.eq(Mux(seg[0], q - r, r))
    mag = Signal(p.sin_bits - 1, name=f"{name}_mag")
    m.d.comb += mag.eq(quarter[idx])
    out = Signal(signed(p.sin_bits), name=name)
    m.d.comb += out.eq(Mux(seg[1], -mag, mag))
    if with_magnitude:
        return out, mag, seg[1]
    return out


def spin_bit(m: Module, theta, name: str):
    """The spin bit of a phase: 1 when it is nearer pi than 0 (``theta + T/4`` has its top bit
    set; ``sim.onn.model.spins``)."""
    q = Signal(len(theta), name=name)
    m.d.comb += q.eq(theta + (1 << (len(theta) - 2)))
    return q[-1]


def lfsr_advance(state, steps: int):
    """The LFSR ``state`` advanced ``steps`` steps, as XORs of its bits."""
    return Cat(xor_all(state[b] for b in row) for row in lfsr_advance_matrix(steps))


def adder_tree(terms):
    """Balanced adder tree (Amaranth widens each sum)."""
    values = list(terms)
    while len(values) > 1:
        nxt = [values[i] + values[i + 1] for i in range(0, len(values) - 1, 2)]
        if len(values) % 2:
            nxt.append(values[-1])
        values = nxt
    return values[0]

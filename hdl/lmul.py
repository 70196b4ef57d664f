# Ref: H. Luo, W. Sun, "Addition is All You Need for Energy-efficient Language Models",
#      arXiv 2410.00907 (2024), eq. (3) and its bit-level kernel; OCP OFP8 rev 1.0 for the formats.
"""L-Mul and exact floating-point multipliers, combinational, plus a registered stream wrapper.

Both multipliers share the special-value rules (see ``docs/lmul.md``):

- sign = XOR of the operand signs;
- an exponent field of 0 (zero or subnormal) reads as zero;
- any NaN operand, or inf x zero, gives the format's canonical NaN;
- inf x nonzero gives inf with the XOR sign; zero x finite gives zero with the XOR sign;
- normal x normal: below the smallest normal flushes to signed zero, above the largest finite
  saturates to the signed largest finite value.

They differ only in the normal x normal core:

- :class:`LMul`: ``R = X + Y - ((bias << m) - 2^(m - l(m)))`` on the unsigned
  exponent|mantissa fields ``X``, ``Y`` -- one integer addition, a mantissa carry spills into the
  exponent (a Mitchell-style log-domain multiply);
- :class:`FpMul`: the exact product rounded to m+1 significant bits, round-to-nearest-even.
"""

from amaranth import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from .float import FloatFormat

__all__ = ["LMul", "FpMul", "MulStream", "MULTIPLIERS", "operand_layout"]


class _Multiplier(wiring.Component):
    """Combinational ``y = a * b`` in format ``fmt``. Latency 0.

    Members
    -------
    a : In(fmt.width)
    b : In(fmt.width)
    y : Out(fmt.width)
    """

    LATENCY = 0
    kind = None

    def __init__(self, fmt: FloatFormat):
        if not isinstance(fmt, FloatFormat):
            raise TypeError(f"fmt must be a FloatFormat, not {fmt!r}")
        self.fmt = fmt
        super().__init__({"a": In(fmt.width), "b": In(fmt.width), "y": Out(fmt.width)})

    def _classify(self, m, v, prefix):
        f = self.fmt
        exp = v[f.man_bits:f.mag_bits]
        man = v[:f.man_bits]
        zero = Signal(name=f"{prefix}_zero")
        nan = Signal(name=f"{prefix}_nan")
        inf = Signal(name=f"{prefix}_inf")
        m.d.comb += zero.eq(exp == 0)
        if f.has_inf:
            m.d.comb += [
                nan.eq((exp == f.exp_max_field) & (man != 0)),
                inf.eq((exp == f.exp_max_field) & (man == 0)),
            ]
        else:
            m.d.comb += nan.eq(v[:f.mag_bits] == f.mag_mask)
        return zero, nan, inf

    def _core(self, m, x, y):
        """Normal x normal: returns (underflow, overflow, magnitude field)."""
        raise NotImplementedError

    def elaborate(self, platform):
        m = Module()
        f = self.fmt
        a_zero, a_nan, a_inf = self._classify(m, self.a, "a")
        b_zero, b_nan, b_inf = self._classify(m, self.b, "b")
        sign = Signal()
        m.d.comb += sign.eq(self.a[-1] ^ self.b[-1])

        underflow, overflow, mag = self._core(m, self.a[:f.mag_bits], self.b[:f.mag_bits])

        with m.If(a_nan | b_nan | (a_inf & b_zero) | (b_inf & a_zero)):
            m.d.comb += self.y.eq(f.canonical_nan)
        with m.Elif(a_inf | b_inf):
            m.d.comb += self.y.eq(Cat(Const(f.inf or 0, f.mag_bits), sign))
        with m.Elif(a_zero | b_zero | underflow):
            m.d.comb += self.y.eq(Cat(Const(0, f.mag_bits), sign))
        with m.Elif(overflow):
            m.d.comb += self.y.eq(Cat(Const(f.max_finite, f.mag_bits), sign))
        with m.Else():
            m.d.comb += self.y.eq(Cat(mag, sign))
        return m


class LMul(_Multiplier):
    __doc__ = _Multiplier.__doc__.replace("y = a * b", "y = L-Mul(a, b)")
    kind = "lmul"

    def _core(self, m, x, y):
        f = self.fmt
        # X + Y - C in a signed width that can hold both 2 * mag_mask and -C: never wraps.
        r = Signal(signed(f.mag_bits + 2), name="r")
        m.d.comb += r.eq(x + y - f.lmul_constant)
        return r < f.min_normal, r > f.max_finite, r[:f.mag_bits]


class FpMul(_Multiplier):
    __doc__ = _Multiplier.__doc__.replace("y = a * b", "y = round_rne(a * b)")
    kind = "fpmul"

    def _core(self, m, x, y):
        f = self.fmt
        mb = f.man_bits
        sig_a = Cat(x[:mb], Const(1, 1))
        sig_b = Cat(y[:mb], Const(1, 1))
        prod = Signal(2 * mb + 2, name="prod")
        m.d.comb += prod.eq(sig_a * sig_b)
        # The product of two [1, 2) significands lies in [1, 4): its top bit picks the shift.
        hi = prod[-1]
        q = Signal(mb + 1, name="q")
        guard = Signal(name="guard")
        sticky = Signal(name="sticky")
        m.d.comb += [
            q.eq(Mux(hi, prod[mb + 1:], prod[mb:2 * mb + 1])),
            guard.eq(Mux(hi, prod[mb], prod[mb - 1])),
            sticky.eq(Mux(hi, prod[:mb] != 0, prod[:mb - 1] != 0) if mb > 1 else hi & prod[0]),
        ]
        rounded = Signal(mb + 2, name="rounded")
        m.d.comb += rounded.eq(q + (guard & (sticky | q[0])))
        carry = rounded[-1]
        # Biased result exponent, signed and wide enough for 2 * emax - bias + 2 and 2 - bias.
        e = Signal(signed(f.exp_bits + 3), name="e")
        m.d.comb += e.eq(x[mb:] + y[mb:] - f.bias + hi + carry)
        mant = Mux(carry, rounded[1:mb + 1], rounded[:mb])
        mag = Signal(f.mag_bits, name="mag")
        m.d.comb += mag.eq(Cat(mant, e[:f.exp_bits]))
        overflow = (e > f.exp_max_field) | ((e >= 0) & (e <= f.exp_max_field)
                                            & (mag > f.max_finite))
        return e < 1, overflow, mag


#: Multiplier kinds by name, as used by the exports, the models and the CLI.
MULTIPLIERS = {cls.kind: cls for cls in (LMul, FpMul)}


def operand_layout(fmt: FloatFormat) -> data.StructLayout:
    return data.StructLayout({"a": fmt.width, "b": fmt.width})


class MulStream(wiring.Component):
    """A multiplier behind one register stage, with valid/ready streams.

    Accepts one operand pair per clock and returns products in order. Latency ``LATENCY``
    cycles from an accepted input to a valid output; full throughput while ``o.ready`` is high;
    back-pressure stalls the register without dropping or duplicating (``i.ready`` is low only
    while a result is held and ``o.ready`` is low). Reset empties the stage.

    Members
    -------
    i : In(stream.Signature(operand_layout(fmt)))
    o : Out(stream.Signature(fmt.width))
    """

    LATENCY = 1

    def __init__(self, fmt: FloatFormat, *, kind: str = "lmul"):
        if kind not in MULTIPLIERS:
            raise ValueError(f"kind must be one of {', '.join(MULTIPLIERS)}, not {kind!r}")
        self.fmt = fmt
        self.kind = kind
        self.unit = MULTIPLIERS[kind](fmt)
        super().__init__({
            "i": In(stream.Signature(operand_layout(fmt))),
            "o": Out(stream.Signature(fmt.width)),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.unit = unit = self.unit
        m.d.comb += [
            unit.a.eq(self.i.payload.a),
            unit.b.eq(self.i.payload.b),
            self.i.ready.eq(~self.o.valid | self.o.ready),
        ]
        with m.If(self.i.ready):
            m.d.sync += self.o.valid.eq(self.i.valid)
            with m.If(self.i.valid):
                m.d.sync += self.o.payload.eq(unit.y)
        return m


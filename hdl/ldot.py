# Ref: H. Luo, W. Sun, arXiv 2410.00907 (2024), "L-Matmul"; IEEE 754-2019 binary32 for the
#      accumulator (round to nearest, ties to even).
"""Dot-product unit: N lanes of L-Mul (or exact) products per clock, summed exactly in fixed point,
rounded to fp32 once per vector.

Accumulation and rounding (reproduced bit-exactly by ``sim/lmul/dot.py``):

1. each lane's product is formed by the multiplier of ``kind`` (``hdl/lmul.py``), in ``fmt``;
2. every finite product of a narrow format is an integer multiple of ``2^-frac_bits`` and fits
   ``lane_bits``, so the N products of a chunk sum **exactly** to a signed integer ``S`` of
   ``sum_bits`` bits;
3. the chunk sums of a vector are added **exactly** in an ``acc_bits``-wide two's-complement
   accumulator (a Kulisch-style fixed-point accumulator for this narrow exponent range), which
   holds any vector of up to ``max_exact_chunks`` = 2^26 chunks;
4. the vector's exact sum is rounded to fp32 **once**, round to nearest, ties to even. The
   result is the correctly rounded fp32 value of the exact sum of the products, whatever the
   order of the elements; an exact zero sum is +0; no fp32 subnormal or overflow can occur;
5. NaN products, or +inf and -inf products in the same vector, give the canonical fp32 NaN
   (0x7FC00000); otherwise an inf product gives inf of its sign; otherwise a vector whose running
   sum left the accumulator's window (only possible beyond ``max_exact_chunks`` chunks) gives the
   canonical NaN rather than a wrapped value.

Why fixed point: the loop-carried work per chunk is one ``acc_bits``-wide add (an fp32
accumulator needs align, add, normalize and round in one clock, which limited the unit to
24.9 MHz on ECP5 and 7.2 MHz on the UP5K); the single rounding moves into two pipeline stages
after the loop. The result is also more accurate than rounding after every chunk.
"""

from dataclasses import dataclass

from amaranth import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from .float import E4M3, FP32, FloatFormat
from .lmul import MULTIPLIERS

__all__ = ["DotParams", "DotUnit", "chunk_layout", "FP32_NAN", "FP32_INF"]

FP32_NAN = FP32.canonical_nan
FP32_INF = FP32.inf
MAX_SUM_BITS = 64


@dataclass(frozen=True)
class DotParams:
    """Dot-product unit parameters; every width is derived here."""

    fmt: FloatFormat = E4M3
    lanes: int = 8
    kind: str = "lmul"

    def __post_init__(self):
        if not isinstance(self.fmt, FloatFormat):
            raise TypeError(f"fmt must be a FloatFormat, not {self.fmt!r}")
        if not isinstance(self.lanes, int) or not 1 <= self.lanes <= 64:
            raise ValueError(f"lanes must be an integer in 1..64, not {self.lanes!r}")
        if self.kind not in MULTIPLIERS:
            raise ValueError(f"kind must be one of {', '.join(MULTIPLIERS)}, not {self.kind!r}")
        if self.sum_bits > MAX_SUM_BITS:
            raise ValueError(
                f"format {self.fmt.name} needs a {self.sum_bits}-bit exact chunk sum; the dot "
                f"unit supports at most {MAX_SUM_BITS} (narrow formats such as e4m3, e5m2)")
        # the rounded sum's exponent, msb + 127 - frac_bits, must stay a normal fp32 exponent
        if not (1 <= 127 - self.frac_bits and self.acc_bits + 127 - self.frac_bits <= 254):
            raise ValueError(f"format {self.fmt.name}: its exact sums (2^-{self.frac_bits} .. "
                             f"2^{self.acc_bits - self.frac_bits}) leave fp32's normal range")

    @property
    def name(self) -> str:
        return f"{'ldot' if self.kind == 'lmul' else 'fdot'}_{self.fmt.name}"

    @property
    def frac_bits(self) -> int:
        """Fixed-point scale: the smallest normal product's LSB is 2^-frac_bits."""
        return self.fmt.bias - 1 + self.fmt.man_bits

    @property
    def max_exp_field(self) -> int:
        return self.fmt.max_finite >> self.fmt.man_bits

    @property
    def lane_bits(self) -> int:
        """Magnitude bits of one product in fixed point."""
        return self.fmt.man_bits + self.max_exp_field

    @property
    def sum_bits(self) -> int:
        """Signed width of the exact chunk sum."""
        return self.lane_bits + ceil_log2(self.lanes) + 1

    @property
    def acc_bits(self) -> int:
        """Signed width of the fixed-point accumulator: ``ACC_GUARD_BITS`` above a chunk sum."""
        return self.sum_bits + self.ACC_GUARD_BITS

    @property
    def max_exact_chunks(self) -> int:
        """Vectors of up to this many chunks are summed exactly (|S| < 2^(sum_bits - 1))."""
        return 1 << self.ACC_GUARD_BITS

    ACC_GUARD_BITS = 26
    LATENCY = 5  # cycles from the accepted `last` chunk to the valid result


def chunk_layout(p: DotParams) -> data.StructLayout:
    return data.StructLayout({
        "a": data.ArrayLayout(p.fmt.width, p.lanes),
        "b": data.ArrayLayout(p.fmt.width, p.lanes),
        "last": 1,
    })


def _tree_sum(values):
    """Balanced adder tree (depth ceil(log2 N)) instead of a chain."""
    values = list(values)
    while len(values) > 1:
        values = [values[i] + values[i + 1] if i + 1 < len(values) else values[i]
                  for i in range(0, len(values), 2)]
    return values[0]


def _msb_index(bits):
    """(any bit set, index of the highest set bit) as a balanced mux tree of depth
    ceil(log2 N): a priority chain (``m.If`` per bit) maps to N LUTs in series on iCE40."""
    if len(bits) == 1:
        return bits[0], Const(0, 1)
    k = 1 << (ceil_log2(len(bits)) - 1)
    lo_any, lo_idx = _msb_index(bits[:k])
    hi_any, hi_idx = _msb_index(bits[k:])
    return lo_any | hi_any, Mux(hi_any, hi_idx + k, lo_idx)


class DotUnit(wiring.Component):
    """Streamed dot product of two vectors in ``fmt``, ``lanes`` elements per chunk.

    A vector is sent as chunks on ``i`` (pad the last chunk with zeros; set ``last`` on it);
    its fp32 result (module docstring: exact sum, one rounding) appears on ``o`` ``LATENCY`` = 5
    cycles after the last chunk is accepted. Throughput: one chunk per clock, back to back
    across vectors. Back-pressure: while a result waits on ``o`` with ``o.ready`` low, the
    whole pipeline holds and ``i.ready`` is low. Reset clears the accumulator and empties the
    pipeline.

    Pipeline: s1 products (registered), s2 exact chunk sum and special flags (registered),
    s3 fixed-point accumulate (the only loop-carried stage: one adder) and, on ``last``, the
    vector's sum, s4 sign, magnitude and leading one, s5 normalize and round into the result
    register.

    Members
    -------
    i : In(stream.Signature(chunk_layout(params)))
    o : Out(stream.Signature(32))
    """

    def __init__(self, params: DotParams):
        if not isinstance(params, DotParams):
            raise TypeError(f"params must be DotParams, not {params!r}")
        self.params = params
        self.LATENCY = params.LATENCY
        super().__init__({
            "i": In(stream.Signature(chunk_layout(params))),
            "o": Out(stream.Signature(32)),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        f = p.fmt
        n = p.lanes

        advance = Signal()
        m.d.comb += [advance.eq(~self.o.valid | self.o.ready), self.i.ready.eq(advance)]

        # -- s1: products -------------------------------------------------------------------
        s1_valid = Signal()
        s1_last = Signal()
        s1_prod = Signal(data.ArrayLayout(f.width, n))
        for lane in range(n):
            mul = MULTIPLIERS[p.kind](f)
            m.submodules[f"mul{lane}"] = mul
            m.d.comb += [mul.a.eq(self.i.payload.a[lane]), mul.b.eq(self.i.payload.b[lane])]
            with m.If(advance):
                m.d.sync += s1_prod[lane].eq(mul.y)
        with m.If(advance):
            m.d.sync += [s1_valid.eq(self.i.valid), s1_last.eq(self.i.payload.last)]

        # -- s2: exact chunk sum in fixed point, special-value flags --------------------------
        terms = []
        nan_any, pinf_any, ninf_any = [], [], []
        for lane in range(n):
            v = s1_prod[lane]
            sign, exp, man = v[-1], v[f.man_bits:f.mag_bits], v[:f.man_bits]
            finite = exp <= p.max_exp_field if f.has_inf else v[:f.mag_bits] != f.mag_mask
            normal = (exp != 0) & finite
            exp_m1 = Signal(f.exp_bits, name=f"s2_exp_m1_{lane}")
            m.d.comb += exp_m1.eq(exp - 1)
            mag = Signal(p.lane_bits, name=f"s2_mag_{lane}")
            m.d.comb += mag.eq(Mux(normal, Cat(man, Const(1, 1)) << exp_m1, 0))
            term = Signal(signed(p.sum_bits), name=f"s2_term_{lane}")
            m.d.comb += term.eq(Mux(sign, -mag, mag))
            terms.append(term)
            if f.has_inf:
                is_special = exp == f.exp_max_field
                nan_any.append(is_special & (man != 0))
                pinf_any.append(is_special & (man == 0) & ~sign)
                ninf_any.append(is_special & (man == 0) & sign)
            else:
                nan_any.append(~finite)
        s2_valid = Signal()
        s2_last = Signal()
        s2_sum = Signal(signed(p.sum_bits))
        s2_nan, s2_pinf, s2_ninf = Signal(), Signal(), Signal()
        with m.If(advance):
            m.d.sync += [
                s2_valid.eq(s1_valid), s2_last.eq(s1_last),
                s2_sum.eq(_tree_sum(terms)),
                s2_nan.eq(Cat(*nan_any).any()),
                s2_pinf.eq(Cat(*pinf_any).any() if pinf_any else 0),
                s2_ninf.eq(Cat(*ninf_any).any() if ninf_any else 0),
            ]

        # -- s3: the loop: acc += S in fixed point (one adder, nothing else) ------------------
        w = p.acc_bits
        acc = Signal(signed(w))
        nan_f, pinf_f, ninf_f, ovf_f = Signal(), Signal(), Signal(), Signal()
        s3_total = Signal(signed(w + 1))
        m.d.comb += s3_total.eq(acc + s2_sum)
        s3_ovf_now = Signal()
        m.d.comb += s3_ovf_now.eq(s3_total[w] ^ s3_total[w - 1])   # left the w-bit window
        new_nan = nan_f | s2_nan
        new_pinf = pinf_f | s2_pinf
        new_ninf = ninf_f | s2_ninf
        new_ovf = ovf_f | s3_ovf_now
        # the vector's exact sum and flags, held for the rounding stages
        s3_valid = Signal()
        s3_sum = Signal(signed(w))
        s3_nan, s3_pinf, s3_ninf = Signal(), Signal(), Signal()
        with m.If(advance):
            m.d.sync += s3_valid.eq(s2_valid & s2_last)
            with m.If(s2_valid & s2_last):
                m.d.sync += [
                    s3_sum.eq(s3_total[:w]),
                    s3_nan.eq(new_nan | (new_pinf & new_ninf) | (new_ovf & ~new_pinf & ~new_ninf)),
                    s3_pinf.eq(new_pinf), s3_ninf.eq(new_ninf),
                    acc.eq(0), nan_f.eq(0), pinf_f.eq(0), ninf_f.eq(0), ovf_f.eq(0),
                ]
            with m.Elif(s2_valid):
                m.d.sync += [acc.eq(s3_total[:w]), nan_f.eq(new_nan), pinf_f.eq(new_pinf),
                             ninf_f.eq(new_ninf), ovf_f.eq(new_ovf)]

        # -- s4: sign, magnitude, leading one ------------------------------------------------
        s4_valid = Signal()
        s4_neg = Signal()
        s4_mag = Signal(w)                 # |sum| <= 2^(w-1): w bits
        s4_msb = Signal(range(w))
        s4_nan, s4_inf = Signal(), Signal()     # the special result as 2 flags + s4_neg
        s4_mag_comb = Signal(w)
        m.d.comb += s4_mag_comb.eq(Mux(s3_sum < 0, -s3_sum, s3_sum))
        msb = Signal(range(w))
        m.d.comb += msb.eq(_msb_index([s4_mag_comb[b] for b in range(w)])[1])
        with m.If(advance):
            m.d.sync += [
                s4_valid.eq(s3_valid),
                s4_neg.eq(Mux(s3_nan | s3_pinf | s3_ninf, s3_ninf, s3_sum < 0)),
                s4_mag.eq(s4_mag_comb), s4_msb.eq(msb),
                s4_nan.eq(s3_nan), s4_inf.eq(~s3_nan & (s3_pinf | s3_ninf)),
            ]

        # -- s5: normalize, round to nearest even, pack -----------------------------------------
        # Exponents stay in range: 1 <= msb + 127 - frac_bits <= 254 for every supported format
        # (checked in DotParams), so the result is never subnormal or infinite.
        lz = Signal(range(w))
        norm = Signal(w)
        m.d.comb += [lz.eq(w - 1 - s4_msb), norm.eq(s4_mag << lz)]
        q = norm[w - 24:w]
        guard = norm[w - 25]
        sticky = norm[:w - 25].any()
        rounded = Signal(25)
        m.d.comb += rounded.eq(q + (guard & (sticky | q[0])))
        carry = rounded[24]
        exp_out = Signal(8)
        m.d.comb += exp_out.eq(s4_msb + carry + (127 - p.frac_bits))
        finite = Signal(32)
        with m.If(s4_mag == 0):
            m.d.comb += finite.eq(0)
        with m.Else():
            m.d.comb += finite.eq(Cat(Mux(carry, rounded[1:24], rounded[:23]), exp_out, s4_neg))

        with m.If(advance):
            m.d.sync += self.o.valid.eq(s4_valid)
            with m.If(s4_valid):
                m.d.sync += self.o.payload.eq(
                    Mux(s4_nan, FP32_NAN, Mux(s4_inf, FP32_INF | (s4_neg << 31), finite)))
        return m

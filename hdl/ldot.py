# Ref: H. Luo, W. Sun, arXiv 2410.00907 (2024), "L-Matmul"; IEEE 754-2019 binary32 for the
#      accumulator (round to nearest, ties to even).
"""Dot-product unit: N lanes of L-Mul (or exact) products per clock into an fp32 accumulator.

Accumulation order and rounding (reproduced bit-exactly by ``sim/ldot.py``):

1. each lane's product is formed by the multiplier of ``kind`` (``hdl/lmul.py``), in ``fmt``;
2. the N products of a chunk are summed **exactly**: every finite product of a narrow format is
   an integer multiple of ``2^-frac_bits`` and fits ``lane_bits``, so the chunk sum ``S`` is an
   exact signed integer of ``sum_bits`` bits (order-independent);
3. the accumulator is updated once per chunk, ``acc = round_fp32(acc + S)``, one
   round-to-nearest-even rounding per chunk, starting from +0 at the first chunk of a vector;
4. NaN products, or +inf and -inf products in the same vector, give the canonical fp32 NaN
   (0x7FC00000); otherwise an inf product gives inf of its sign; an exact zero sum is +0.

Because every accumulator value is a multiple of ``2^-frac_bits``, no fp32 subnormal can occur
and the fixed-point view of ``acc`` never loses bits. When ``acc`` is so large that it does not
fit the ``acc_bits`` integer window, ``|S| < ulp(acc) / 2`` and the rounded sum is ``acc``
itself; the unit keeps ``acc`` (this is the exact result, not an approximation).
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
        """Signed width of the accumulator's integer window (see module docstring)."""
        return self.sum_bits + 26

    LATENCY = 3  # cycles from the accepted `last` chunk to the valid result


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


class DotUnit(wiring.Component):
    """Streamed dot product of two vectors in ``fmt``, ``lanes`` elements per chunk.

    A vector is sent as chunks on ``i`` (pad the last chunk with zeros; set ``last`` on it);
    its fp32 result appears on ``o`` ``LATENCY`` = 3 cycles after the last chunk is accepted.
    Throughput: one chunk per clock. Back-pressure: while a result waits on ``o`` with
    ``o.ready`` low, the whole pipeline holds and ``i.ready`` is low. Reset clears the
    accumulator and empties the pipeline.

    Pipeline: s1 products (registered), s2 exact chunk sum and special flags (registered),
    s3 fp32 accumulate (the loop-carried stage) and result register.

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

        # -- s3: acc = round_fp32(acc + S) ---------------------------------------------------
        acc = Signal(32)
        nan_f, pinf_f, ninf_f = Signal(), Signal(), Signal()
        acc_sign, acc_exp, acc_man = acc[31], acc[23:31], acc[:23]
        # acc as an integer in units of 2^-frac_bits: sig * 2^sh, sh = exp - 150 + frac_bits.
        # acc >= 2^-frac_bits keeps sh >= -23, and a negative sh only drops zero bits.
        sh = Signal(signed(10))
        m.d.comb += sh.eq(acc_exp - (150 - p.frac_bits))
        big = Signal()
        m.d.comb += big.eq(sh > p.acc_bits - 26)
        acc_mag = Signal(p.acc_bits)
        sh_u = Signal(ceil_log2(p.acc_bits + 23))
        wide = Signal(23 + p.acc_bits)
        m.d.comb += [
            sh_u.eq(sh + 23),
            wide.eq(Cat(acc_man, Const(1, 1)) << sh_u),
            acc_mag.eq(Mux(acc_exp == 0, 0, wide[23:])),
        ]
        total = Signal(signed(p.acc_bits + 1))
        m.d.comb += total.eq(Mux(acc_sign, -acc_mag, acc_mag) + s2_sum)
        mag = Signal(p.acc_bits)
        m.d.comb += mag.eq(Mux(total < 0, -total, total))
        # Normalize: leading one to the top, then round to 24 significant bits (RNE).
        msb = Signal(range(p.acc_bits))
        for bit in range(p.acc_bits):
            with m.If(mag[bit]):
                m.d.comb += msb.eq(bit)
        lz = Signal(range(p.acc_bits))
        norm = Signal(p.acc_bits)
        m.d.comb += [lz.eq(p.acc_bits - 1 - msb), norm.eq(mag << lz)]
        top = p.acc_bits
        q = norm[top - 24:top]
        guard = norm[top - 25]
        sticky = norm[:top - 25].any()
        rounded = Signal(25)
        m.d.comb += rounded.eq(q + (guard & (sticky | q[0])))
        carry = rounded[24]
        exp_out = Signal(8)
        m.d.comb += exp_out.eq(msb + carry + (127 - p.frac_bits))
        new_acc = Signal(32)
        with m.If(big):
            m.d.comb += new_acc.eq(acc)
        with m.Elif(mag == 0):
            m.d.comb += new_acc.eq(0)
        with m.Else():
            m.d.comb += new_acc.eq(Cat(Mux(carry, rounded[1:24], rounded[:23]), exp_out,
                                       total < 0))
        new_nan = nan_f | s2_nan
        new_pinf = pinf_f | s2_pinf
        new_ninf = ninf_f | s2_ninf
        result = Mux(new_nan | (new_pinf & new_ninf), FP32_NAN,
                     Mux(new_pinf, FP32_INF, Mux(new_ninf, FP32_INF | (1 << 31), new_acc)))

        with m.If(advance):
            m.d.sync += self.o.valid.eq(0)
            with m.If(s2_valid):
                with m.If(s2_last):
                    m.d.sync += [
                        self.o.payload.eq(result), self.o.valid.eq(1),
                        acc.eq(0), nan_f.eq(0), pinf_f.eq(0), ninf_f.eq(0),
                    ]
                with m.Else():
                    m.d.sync += [acc.eq(new_acc), nan_f.eq(new_nan), pinf_f.eq(new_pinf),
                                 ninf_f.eq(new_ninf)]
        return m

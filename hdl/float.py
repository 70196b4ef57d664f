# Ref: OCP 8-bit Floating Point Specification (OFP8) rev 1.0, 2023 (E4M3FN, E5M2);
#      bfloat16 as in Google TPU / IEEE 754-2019 binary32 truncated to 16 bits.
"""Small floating-point formats: one definition used by the RTL, the golden models and the tests.

A format is (exponent bits, mantissa bits, bias) plus how the all-ones exponent is used:

- ``ieee``: all-ones exponent holds infinities (mantissa 0) and NaNs (e5m2, bf16);
- ``fn``:   "finite" encoding (OCP E4M3FN): no infinities, only S.1111.111 is NaN.

Everything a unit needs (field masks, the largest finite encoding, the canonical NaN) is
derived here, never typed twice.
"""

from dataclasses import dataclass
from enum import Enum

__all__ = ["Special", "FloatFormat", "E4M3", "E5M2", "BF16", "FP32", "FORMATS", "format_by_name"]


class Special(Enum):
    IEEE = "ieee"
    FN = "fn"


@dataclass(frozen=True)
class FloatFormat:
    """A sign | exponent | mantissa binary floating-point format.

    Subnormals are not represented by the arithmetic units here: an exponent field of 0 reads
    as zero (flush-to-zero on input), and results below the smallest normal flush to zero.
    """

    name: str
    exp_bits: int
    man_bits: int
    bias: int
    special: Special = Special.IEEE

    def __post_init__(self):
        if not isinstance(self.exp_bits, int) or not 2 <= self.exp_bits <= 8:
            raise ValueError(f"exponent bits must be an integer in 2..8, not {self.exp_bits!r}")
        if not isinstance(self.man_bits, int) or not 1 <= self.man_bits <= 23:
            raise ValueError(f"mantissa bits must be an integer in 1..23, not {self.man_bits!r}")
        top = (1 << self.exp_bits) - 1
        if not isinstance(self.bias, int) or not 1 <= self.bias <= top - 1:
            raise ValueError(
                f"bias must fit the {self.exp_bits}-bit exponent (1..{top - 1}), "
                f"not {self.bias!r}")
        if not isinstance(self.special, Special):
            raise ValueError(f"special must be a Special, not {self.special!r}")

    # -- widths and fields ------------------------------------------------------------------
    @property
    def width(self) -> int:
        return 1 + self.exp_bits + self.man_bits

    @property
    def mag_bits(self) -> int:
        """Width of the exponent|mantissa field (everything but the sign)."""
        return self.exp_bits + self.man_bits

    @property
    def sign_mask(self) -> int:
        return 1 << self.mag_bits

    @property
    def mag_mask(self) -> int:
        return self.sign_mask - 1

    @property
    def man_mask(self) -> int:
        return (1 << self.man_bits) - 1

    @property
    def exp_max_field(self) -> int:
        return (1 << self.exp_bits) - 1

    # -- special encodings (magnitudes, sign bit clear) -------------------------------------
    @property
    def has_inf(self) -> bool:
        return self.special is Special.IEEE

    @property
    def max_finite(self) -> int:
        """Magnitude field of the largest finite value (e4m3 0x7E, e5m2 0x7B, bf16 0x7F7F)."""
        if self.special is Special.IEEE:
            return ((self.exp_max_field - 1) << self.man_bits) | self.man_mask
        return (self.exp_max_field << self.man_bits) | (self.man_mask - 1)

    @property
    def inf(self) -> int | None:
        return self.exp_max_field << self.man_bits if self.has_inf else None

    @property
    def canonical_nan(self) -> int:
        """The one NaN the units produce (e4m3 0x7F, e5m2 0x7E, bf16 0x7FC0)."""
        if self.special is Special.IEEE:
            return (self.exp_max_field << self.man_bits) | (1 << (self.man_bits - 1))
        return self.mag_mask

    @property
    def min_normal(self) -> int:
        return 1 << self.man_bits

    @property
    def lmul_offset_bits(self) -> int:
        """l(m) of the L-Mul paper: m for m <= 3, 3 for m = 4, 4 for m > 4."""
        m = self.man_bits
        return m if m <= 3 else 3 if m == 4 else 4

    @property
    def lmul_constant(self) -> int:
        """(bias << m) - 2^(m - l(m)): e4m3 0x37, e5m2 0x3B, bf16 0x3F78, fp32 0x3F780000."""
        return (self.bias << self.man_bits) - (1 << (self.man_bits - self.lmul_offset_bits))

    def with_mantissa(self, man_bits: int) -> "FloatFormat":
        """The same exponent range with another mantissa width (for accuracy sweeps)."""
        return FloatFormat(f"{self.name}_m{man_bits}", self.exp_bits, man_bits, self.bias,
                           self.special)


E4M3 = FloatFormat("e4m3", 4, 3, 7, Special.FN)
E5M2 = FloatFormat("e5m2", 5, 2, 15, Special.IEEE)
BF16 = FloatFormat("bf16", 8, 7, 127, Special.IEEE)
FP32 = FloatFormat("fp32", 8, 23, 127, Special.IEEE)

#: The formats the multipliers are exported in (``build/verilog/lmul_<name>.v``).
FORMATS = {f.name: f for f in (E4M3, E5M2, BF16)}


def format_by_name(name: str) -> FloatFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(
            f"unknown format {name!r}; choose one of {', '.join(FORMATS)}") from None

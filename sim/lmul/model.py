# Ref: H. Luo, W. Sun, "Addition is All You Need for Energy-efficient Language Models",
#      arXiv 2410.00907 (2024); OCP OFP8 rev 1.0.
"""Golden models of the L-Mul and exact multipliers (bit-exact to ``hdl/lmul.py``), vectorized.

Operands and results are unsigned integer arrays holding the raw encodings. The special-value
rules are written once in :func:`multiply` and shared by both cores; see ``docs/lmul.md``.
"""

import numpy as np

from hdl.float import FloatFormat

__all__ = ["lmul", "fpmul", "multiply", "MODELS", "decode", "encode", "is_nan", "is_inf",
           "special_values"]


def _fields(fmt: FloatFormat, v):
    v = np.asarray(v, dtype=np.int64)
    sign = (v >> fmt.mag_bits) & 1
    mag = v & fmt.mag_mask
    return sign, mag, mag >> fmt.man_bits, mag & fmt.man_mask


def is_nan(fmt: FloatFormat, v):
    _, mag, exp, man = _fields(fmt, v)
    if fmt.has_inf:
        return (exp == fmt.exp_max_field) & (man != 0)
    return mag == fmt.mag_mask


def is_inf(fmt: FloatFormat, v):
    _, mag, exp, man = _fields(fmt, v)
    if fmt.has_inf:
        return (exp == fmt.exp_max_field) & (man == 0)
    return np.zeros(mag.shape, dtype=bool)


def _lmul_core(fmt: FloatFormat, x, y):
    r = x + y - fmt.lmul_constant
    return r < fmt.min_normal, r > fmt.max_finite, r & fmt.mag_mask


def _fpmul_core(fmt: FloatFormat, x, y):
    mb = fmt.man_bits
    prod = (((x & fmt.man_mask) | (1 << mb)) * ((y & fmt.man_mask) | (1 << mb)))
    hi = prod >> (2 * mb + 1)
    shift = mb + hi
    q = prod >> shift
    rem = prod & ((np.int64(1) << shift) - 1)
    half = np.int64(1) << (shift - 1)
    q = q + ((rem > half) | ((rem == half) & ((q & 1) == 1)))
    carry = q >> (mb + 1)
    q = q >> carry
    e = (x >> mb) + (y >> mb) - fmt.bias + hi + carry
    mag = (np.clip(e, 0, fmt.exp_max_field) << mb) | (q & fmt.man_mask)
    overflow = (e > fmt.exp_max_field) | (mag > fmt.max_finite)
    return e < 1, overflow, mag


def multiply(fmt: FloatFormat, a, b, core) -> np.ndarray:
    """Apply the shared special-value rules around ``core(fmt, X, Y)`` for normal x normal."""
    sa, xa, ea, _ = _fields(fmt, a)
    sb, xb, eb, _ = _fields(fmt, b)
    sign = (sa ^ sb) << fmt.mag_bits
    a_nan, b_nan = is_nan(fmt, a), is_nan(fmt, b)
    a_inf, b_inf = is_inf(fmt, a), is_inf(fmt, b)
    a_zero, b_zero = ea == 0, eb == 0
    underflow, overflow, mag = core(fmt, xa, xb)
    out = np.select(
        [a_nan | b_nan | (a_inf & b_zero) | (b_inf & a_zero),
         a_inf | b_inf,
         a_zero | b_zero | underflow,
         overflow],
        [np.int64(fmt.canonical_nan),
         sign | (fmt.inf or 0),
         sign,
         sign | fmt.max_finite],
        default=sign | mag)
    return out.astype(np.uint32)


def lmul(fmt: FloatFormat, a, b) -> np.ndarray:
    """L-Mul of raw encodings ``a``, ``b`` (arrays or scalars) in format ``fmt``."""
    return multiply(fmt, a, b, _lmul_core)


def fpmul(fmt: FloatFormat, a, b) -> np.ndarray:
    """Exact product of ``a``, ``b`` rounded to nearest even, flush-to-zero, saturating."""
    return multiply(fmt, a, b, _fpmul_core)


MODELS = {"lmul": lmul, "fpmul": fpmul}


def decode(fmt: FloatFormat, v) -> np.ndarray:
    """Raw encodings to float64 as the units read them (subnormals read as zero)."""
    sign, _, exp, man = _fields(fmt, v)
    val = np.ldexp(1.0 + man / (1 << fmt.man_bits), (exp - fmt.bias).astype(np.int32))
    val = np.where(exp == 0, 0.0, val)
    val = np.where(is_inf(fmt, v), np.inf, val)
    val = np.where(is_nan(fmt, v), np.nan, val)
    return np.where(sign == 1, -val, val)


def encode(fmt: FloatFormat, x) -> np.ndarray:
    """float64 to raw encodings: round to nearest even on m+1 significant bits; magnitudes that
    round below the smallest normal flush to signed zero, above the largest finite saturate
    (NaN maps to the canonical NaN). This is the same rounding rule as :func:`fpmul`'s."""
    x = np.asarray(x, dtype=np.float64)
    sign = np.signbit(x).astype(np.int64) << fmt.mag_bits
    ax = np.abs(x)
    frac, e2 = np.frexp(np.where(np.isfinite(ax) & (ax > 0), ax, 1.0))  # ax = frac * 2^e2
    # Scale the significand to an (m+1)-bit integer, rounding half to even (np.rint).
    sig = np.rint(np.ldexp(frac, fmt.man_bits + 1)).astype(np.int64)
    carry = sig >> (fmt.man_bits + 1)
    sig >>= carry
    e = e2.astype(np.int64) - 1 + carry + fmt.bias
    mag = (np.clip(e, 0, fmt.exp_max_field) << fmt.man_bits) | (sig & fmt.man_mask)
    out = np.where((e < 1) | (ax == 0), 0, mag)
    out = np.where((e > fmt.exp_max_field) | (out > fmt.max_finite), fmt.max_finite, out)
    out = np.where(np.isinf(ax), fmt.inf if fmt.has_inf else fmt.max_finite, out)
    out = sign | out
    out = np.where(np.isnan(x), fmt.canonical_nan, out)
    return out.astype(np.uint32)


def special_values(fmt: FloatFormat) -> np.ndarray:
    """Named edge encodings, both signs: zeros, subnormals, normals at the range ends, one,
    values whose products straddle the underflow and overflow thresholds, inf and NaNs."""
    m = fmt.man_bits
    one = fmt.bias << m
    mags = {
        0, 1, fmt.man_mask,                                 # zero, smallest/largest subnormal
        fmt.min_normal, fmt.min_normal | fmt.man_mask,      # smallest normal binade
        one, one | 1, one | fmt.man_mask, one - 1,          # around 1.0
        fmt.max_finite, fmt.max_finite - 1,                 # top of the range
        ((fmt.bias // 2) << m), ((fmt.bias // 2 + 1) << m) | fmt.man_mask,   # sqrt(min normal)
        ((fmt.bias + fmt.bias // 2) << m) | fmt.man_mask,   # ~sqrt(max finite)
        fmt.canonical_nan, fmt.mag_mask,                    # NaNs
    }
    if fmt.has_inf:
        mags |= {fmt.inf, fmt.inf | 1}
    mags = np.array(sorted(mags), dtype=np.uint32)
    return np.concatenate([mags, mags | fmt.sign_mask])

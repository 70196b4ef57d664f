# Ref: H. Luo, W. Sun, arXiv 2410.00907 (2024), "L-Matmul"; IEEE 754-2019 binary32.
"""Golden model of the dot-product unit (``hdl/ldot.py``): same params, same rounding.

The chunk sums and the vector's sum are exact Python integers (in units of 2^-frac_bits); the
sum is rounded to fp32 once, to nearest even, independently of how the RTL normalizes. The
accumulator's window (``acc_bits``) is modelled only to flag a sum that leaves it.
"""

import numpy as np

from hdl.ldot import FP32_INF, FP32_NAN, DotParams

from .model import MODELS, decode, is_inf, is_nan

__all__ = ["dot", "pad", "round_fp32", "fp32_value", "chunk_sums"]


def pad(p: DotParams, v) -> np.ndarray:
    """Zero-pad a vector of raw encodings to whole chunks of ``p.lanes`` (at least one)."""
    v = np.asarray(v, dtype=np.uint32)
    chunks = max(1, -(-v.size // p.lanes))
    return np.concatenate([v, np.zeros(chunks * p.lanes - v.size, dtype=np.uint32)])


def round_fp32(units: int, frac_bits: int) -> int:
    """fp32 encoding of ``units * 2^-frac_bits`` rounded to nearest even (+0 for zero)."""
    if units == 0:
        return 0
    sign = 1 if units < 0 else 0
    mag = abs(units)
    msb = mag.bit_length() - 1
    if msb > 23:
        r = msb - 23
        q, rem, half = mag >> r, mag & ((1 << r) - 1), 1 << (r - 1)
        q += (rem > half) or (rem == half and q & 1)
        if q >> 24:
            q >>= 1
            msb += 1
    else:
        q = mag << (23 - msb)
    exp = msb - frac_bits + 127
    if exp > 254:
        return (sign << 31) | FP32_INF
    assert exp >= 1, "accumulator values are multiples of 2^-frac_bits: never subnormal"
    return (sign << 31) | (exp << 23) | (q & 0x7FFFFF)


def fp32_value(bits) -> np.ndarray:
    return np.asarray(bits, dtype=np.uint32).view(np.float32)


def chunk_sums(p: DotParams, a, b):
    """Exact per-chunk sums (in units of 2^-frac_bits) and per-chunk special flags."""
    f = p.fmt
    prod = MODELS[p.kind](f, pad(p, a), pad(p, b))
    finite = ~(is_nan(f, prod) | is_inf(f, prod))
    units = np.where(finite, decode(f, np.where(finite, prod, 0)), 0.0)
    units = np.rint(np.ldexp(units, p.frac_bits)).astype(np.int64)  # exact: small integers
    sums = units.reshape(-1, p.lanes).sum(axis=1)
    neg = (prod >> f.mag_bits) == 1
    flags = [(is_nan(f, prod) & True).any(), (is_inf(f, prod) & ~neg).any(),
             (is_inf(f, prod) & neg).any()]
    return [int(s) for s in sums], flags


def dot(p: DotParams, a, b, *, acc0: int = 0) -> int:
    """fp32 encoding of the unit's result for vectors ``a``, ``b`` (raw encodings).

    ``acc0`` starts the accumulator at another value, in units of 2^-frac_bits (the unit always
    starts at 0; tests preload its register to reach the edges of the window)."""
    lim = 1 << (p.acc_bits - 1)
    if not -lim <= acc0 < lim:
        raise ValueError(f"acc0 must fit the {p.acc_bits}-bit accumulator, not {acc0!r}")
    sums, (nan, pinf, ninf) = chunk_sums(p, a, b)
    acc, overflow = acc0, False
    for s in sums:
        acc += s
        overflow |= not -lim <= acc < lim
    if nan or (pinf and ninf):
        return FP32_NAN
    if pinf:
        return FP32_INF
    if ninf:
        return FP32_INF | 1 << 31
    if overflow:
        return FP32_NAN
    return round_fp32(acc, p.frac_bits)

# Ref: H. Luo, W. Sun, arXiv 2410.00907 (2024), eq. (3) and its bit-level kernel;
#      OCP OFP8 rev 1.0 (E4M3FN, E5M2).
"""Property tests of the golden models in ``sim/lmul/model.py`` (plain pytest + hypothesis, no HDL).

The RTL is checked against these models (``tb/test_lmul.py``); here the models themselves are
checked against properties and against independent oracles:

- both models: commutativity, sign symmetry, monotonicity in each positive operand;
- ``lmul``: the value equals the kernel written in real arithmetic, and its relative error for
  in-range normal results lies in ``[-1/9, 2^-l(m)]`` (bound derived in ``docs/lmul.md``);
- ``fpmul``: equals ml_dtypes' cast of the float64 product (exhaustive for fp8, seeded sample
  plus hypothesis for bf16) wherever both definitions agree to apply (see
  :func:`test_fpmul_matches_ml_dtypes` for the excluded cases, which are checked against the
  spec instead);
- ``encode``/``decode``: exhaustive round trips, and ``encode`` equals ml_dtypes' round-to-
  nearest-even cast, including every exact midpoint.

Formats: e4m3, e5m2, bf16, and for the L-Mul properties also their mantissa variants 2..7
(``FloatFormat.with_mantissa``, as used by the accuracy sweep in ``sim/lmul/report.py``).
"""

import ml_dtypes
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hdl.float import FORMATS
from sim.lmul.model import MODELS, decode, encode, fpmul, is_inf, is_nan, lmul, special_values

SEED = 20241001
BASE = list(FORMATS.values())
SWEEP = BASE + [f.with_mantissa(m) for f in BASE for m in range(2, 8) if m != f.man_bits]
ORACLE_DTYPE = {"e4m3": ml_dtypes.float8_e4m3fn, "e5m2": ml_dtypes.float8_e5m2,
                "bf16": ml_dtypes.bfloat16}
UINT = {8: np.uint8, 16: np.uint16}
HYP = settings(max_examples=400, deadline=None, derandomize=True)


def _codes(fmt):
    """Any encoding, with the named edge encodings drawn often."""
    return st.one_of(st.integers(0, (1 << fmt.width) - 1),
                     st.sampled_from(special_values(fmt).tolist()))


def _triples(formats, n_codes=2):
    return st.sampled_from(formats).flatmap(
        lambda f: st.tuples(st.just(f), *[_codes(f)] * n_codes))


def _all_pairs(fmt):
    a, b = np.meshgrid(np.arange(1 << fmt.width), np.arange(1 << fmt.width))
    return a.ravel().astype(np.uint32), b.ravel().astype(np.uint32)


def _one(model, fmt, a, b) -> int:
    return int(model(fmt, np.uint32(a), np.uint32(b)))


# ---------------------------------------------------------------- properties of both models
@pytest.mark.parametrize("kind", list(MODELS))
@HYP
@given(case=_triples(SWEEP))
def test_commutative(kind, case):
    # Catches a core or special-value rule that reads one operand twice or only one operand's
    # class (e.g. NaN or inf checked on `a` alone).
    fmt, a, b = case
    assert _one(MODELS[kind], fmt, a, b) == _one(MODELS[kind], fmt, b, a)


@pytest.mark.parametrize("kind", list(MODELS))
@HYP
@given(case=_triples(SWEEP))
def test_sign_symmetry(kind, case):
    # Flipping one operand's sign flips the result's sign and nothing else, also for zeros,
    # infinities and saturated results; NaN results stay the (unsigned) canonical NaN. Catches a
    # sign taken from one operand, or a magnitude path that reads the sign bit.
    fmt, a, b = case
    model = MODELS[kind]
    r = _one(model, fmt, a, b)
    flipped = _one(model, fmt, a ^ fmt.sign_mask, b)
    if is_nan(fmt, r):
        assert flipped == r == fmt.canonical_nan
    else:
        assert flipped == r ^ fmt.sign_mask


@pytest.mark.parametrize("kind", list(MODELS))
@HYP
@given(case=_triples(SWEEP, n_codes=3))
def test_monotone_in_each_positive_operand(kind, case):
    # For positive encodings the code order is the value order, so a1 <= a2 must give
    # a1*b <= a2*b. Catches a mantissa carry that does not reach the exponent, a wrong flush or
    # saturation threshold, or a rounding carry that is dropped.
    fmt, a1, a2, b = case
    a1, a2, b = a1 & fmt.mag_mask, a2 & fmt.mag_mask, b & fmt.mag_mask
    a1, a2 = sorted((a1, a2))
    assume(not (is_nan(fmt, a1) or is_nan(fmt, a2) or is_nan(fmt, b)))   # NaN has no order
    model = MODELS[kind]
    for lo, hi in (((a1, b), (a2, b)), ((b, a1), (b, a2))):
        r_lo, r_hi = _one(model, fmt, *lo), _one(model, fmt, *hi)
        if is_nan(fmt, r_lo) or is_nan(fmt, r_hi):   # inf x 0 only
            continue
        assert decode(fmt, r_lo) <= decode(fmt, r_hi), (lo, hi, r_lo, r_hi)


@pytest.mark.parametrize("fmt", BASE, ids=lambda f: f.name)
@pytest.mark.parametrize("kind", list(MODELS))
def test_properties_exhaustive_fp8_and_bf16_diagonal(kind, fmt):
    # The three properties above on every fp8 pair (and a bf16 slice), vectorized: the
    # hypothesis runs sample, this leaves no fp8 pair out.
    model = MODELS[kind]
    if fmt.width == 8:
        a, b = _all_pairs(fmt)
    else:
        rng = np.random.default_rng(SEED)
        a, b = rng.integers(0, 1 << fmt.width, size=(2, 200_000)).astype(np.uint32)
    r = model(fmt, a, b)
    np.testing.assert_array_equal(r, model(fmt, b, a))
    flipped = model(fmt, a ^ fmt.sign_mask, b)
    nan = is_nan(fmt, r)
    np.testing.assert_array_equal(np.where(nan, r, flipped ^ fmt.sign_mask), r)
    # Monotone in a: step each positive non-NaN a to the next code a + 1.
    pa, pb = a & fmt.mag_mask, b & fmt.mag_mask
    ok = ~is_nan(fmt, pa) & ~is_nan(fmt, pa + 1) & ~is_nan(fmt, pb) & (pa + 1 <= fmt.mag_mask)
    lo, hi = model(fmt, pa[ok], pb[ok]), model(fmt, pa[ok] + 1, pb[ok])
    both = ~is_nan(fmt, lo) & ~is_nan(fmt, hi)
    assert np.all(decode(fmt, lo[both]) <= decode(fmt, hi[both]))


# ---------------------------------------------------------------- L-Mul against the paper
def _lmul_kernel_value(fmt, a, b):
    """L-Mul of two positive normal encodings in real arithmetic, from the paper's kernel.

    With a = (1 + x) 2^ea, b = (1 + y) 2^eb and s = x + y + 2^-l(m), eq. (3) reads
    (1 + s) 2^(ea + eb). The kernel adds the exponent|mantissa fields as one integer, so the
    integer part k = floor(s) of the mantissa sum carries into the exponent:
    (1 + s - k) 2^(ea + eb + k). k = 2 happens when l(m) <= m - 1 (m >= 4)."""
    fa, ea = np.frexp(decode(fmt, a))   # value = fa * 2^ea, fa in [0.5, 1)
    fb, eb = np.frexp(decode(fmt, b))
    s = (2 * fa - 1) + (2 * fb - 1) + 2.0 ** -fmt.lmul_offset_bits
    k = np.floor(s)
    return np.ldexp(1 + s - k, (ea - 1) + (eb - 1) + k.astype(np.int64))


def _lmul_check(fmt, a, b):
    a, b = np.asarray(a, np.uint32) & fmt.mag_mask, np.asarray(b, np.uint32) & fmt.mag_mask
    keep = ((a >= fmt.min_normal) & (a <= fmt.max_finite)
            & (b >= fmt.min_normal) & (b <= fmt.max_finite))
    a, b = a[keep], b[keep]
    exact = decode(fmt, a) * decode(fmt, b)
    got = decode(fmt, lmul(fmt, a, b))
    lo = float(decode(fmt, fmt.min_normal))
    hi = float(decode(fmt, fmt.max_finite))
    c = 2.0 ** -fmt.lmul_offset_bits
    # Where L-Mul's value is sure to be in range ([8/9, 1 + c] times the exact product), the
    # result must be that normal value: catches a wrong constant, l(m), carry, or threshold.
    sure = (exact * 8 / 9 >= lo) & (exact * (1 + c) <= hi)
    rel = got[sure] / exact[sure] - 1
    assert np.all(rel >= -1 / 9 - 1e-12), (fmt.name, rel.min())
    assert np.all(rel <= c + 1e-12), (fmt.name, rel.max())
    np.testing.assert_array_equal(got[sure], _lmul_kernel_value(fmt, a[sure], b[sure]))
    # Elsewhere: a normal result equals the kernel value; otherwise flushed or saturated, and
    # only when the kernel value is out of range.
    kern = _lmul_kernel_value(fmt, a, b)
    inrange = (kern >= lo) & (kern <= hi)
    np.testing.assert_array_equal(got[inrange], kern[inrange])
    np.testing.assert_array_equal(got[~inrange], np.where(kern[~inrange] < lo, 0.0, hi))
    return int(sure.sum())


@HYP
@given(case=_triples(SWEEP))
def test_lmul_kernel_and_error_bound(case):
    fmt, a, b = case
    _lmul_check(fmt, [a], [b])


@pytest.mark.parametrize("fmt", SWEEP, ids=lambda f: f.name)
def test_lmul_kernel_and_error_bound_sampled(fmt):
    rng = np.random.default_rng(SEED)
    n = 1 << fmt.width
    a, b = _all_pairs(fmt) if n * n <= 1 << 18 else rng.integers(0, n, size=(2, 1 << 17))
    assert _lmul_check(fmt, a, b) > 0


@pytest.mark.parametrize("fmt", SWEEP, ids=lambda f: f.name)
def test_lmul_bound_is_reached(fmt):
    # The upper bound is reached: 1 x 1 gives exactly 1 + 2^-l (catches a missing or doubled
    # offset, or l(m) off by one), and 1.5 x 1.5 takes the carry branch: 2 (1 + 2^-l), not
    # eq. (3)'s 2 + 2^-l (catches a kernel that rounds eq. (3) instead of adding fields).
    one = np.uint32(fmt.bias << fmt.man_bits)
    c = 2.0 ** -fmt.lmul_offset_bits
    assert decode(fmt, lmul(fmt, one, one)) == 1 + c
    half = one | np.uint32(1 << (fmt.man_bits - 1))
    assert decode(fmt, lmul(fmt, half, half)) == 2 * (1 + c)


# ---------------------------------------------------------------- fpmul against ml_dtypes
def _fpmul_vs_oracle(fmt, a, b):
    """Compare fpmul with ml_dtypes' cast of the float64 product; return pairs compared.

    Excluded from the bit comparison (and checked against our spec instead):
    - a subnormal operand: the units read it as zero (flush-to-zero input), ml_dtypes does not;
    - NaN and inf operands: special-value table, tested in ``tb/test_lmul.py`` and above;
    - exact |product| below the smallest normal: the units flush to signed zero (tininess after
      rounding: rounding may still lift it to the smallest normal), ml_dtypes gives subnormals;
    - a product ml_dtypes rounds to inf (e5m2, bf16) or NaN (e4m3fn, no inf): the units
      saturate to the signed largest finite value.
    The products are exact in float64 (and in float32: at most 16 significant bits), so the one
    rounding is ml_dtypes' float32 -> format cast, round-to-nearest-even.
    """
    dtype = ORACLE_DTYPE[fmt.name]
    a, b = np.asarray(a, np.uint32), np.asarray(b, np.uint32)
    ea, eb = (a >> fmt.man_bits) & fmt.exp_max_field, (b >> fmt.man_bits) & fmt.exp_max_field
    special = is_nan(fmt, a) | is_nan(fmt, b) | is_inf(fmt, a) | is_inf(fmt, b)
    zero = ((a & fmt.mag_mask) == 0) | ((b & fmt.mag_mask) == 0)
    normal_ops = (ea > 0) & (eb > 0) & ~special
    got = fpmul(fmt, a, b)
    with np.errstate(over="ignore", invalid="ignore"):   # inf x 0 and overflow: excluded below
        exact = decode(fmt, a) * decode(fmt, b)
        oracle = exact.astype(np.float32).astype(dtype)
    o = oracle.astype(np.float64)
    lo = float(decode(fmt, fmt.min_normal))
    big = ~np.isfinite(o)
    cmp = (normal_ops | (zero & ~special)) & ((np.abs(exact) >= lo) | (exact == 0)) & ~big
    np.testing.assert_array_equal(got[cmp], oracle[cmp].view(UINT[fmt.width]))
    sign = ((a ^ b) & fmt.sign_mask).astype(np.uint32)
    tiny = normal_ops & (np.abs(exact) < lo)
    assert np.all(np.isin(got[tiny] & fmt.mag_mask, [0, fmt.min_normal]))
    np.testing.assert_array_equal(got[tiny] & fmt.sign_mask, sign[tiny])
    sat = normal_ops & big
    np.testing.assert_array_equal(got[sat], sign[sat] | fmt.max_finite)
    return int(cmp.sum())


@pytest.mark.parametrize("fmt", BASE, ids=lambda f: f.name)
def test_fpmul_matches_ml_dtypes(fmt):
    # Exhaustive for fp8 (65,536 pairs), 1,000,000 seeded pairs for bf16. Catches rounding that
    # is not to-nearest-even, a lost rounding carry, a wrong exponent bias.
    if fmt.width == 8:
        a, b = _all_pairs(fmt)
    else:
        rng = np.random.default_rng(SEED)
        print(f"bf16 sample seed {SEED}")
        a, b = rng.integers(0, 1 << fmt.width, size=(2, 1_000_000)).astype(np.uint32)
    compared = _fpmul_vs_oracle(fmt, a, b)
    assert compared > (a.size // 4), compared


@HYP
@given(case=_triples([FORMATS["bf16"]]))
def test_fpmul_matches_ml_dtypes_bf16_hypothesis(case):
    fmt, a, b = case
    _fpmul_vs_oracle(fmt, [a], [b])


# ---------------------------------------------------------------- encode / decode
@pytest.mark.parametrize("fmt", BASE, ids=lambda f: f.name)
def test_encode_decode_round_trip(fmt):
    # Every code, exhaustively (bf16 has 65,536 too). Catches a lost sign on zero, a wrong
    # field order, NaN not canonicalized, subnormals not flushed.
    v = np.arange(1 << fmt.width, dtype=np.uint32)
    x = decode(fmt, v)
    back = encode(fmt, x)
    nan = is_nan(fmt, v)
    sub = ((v & fmt.mag_mask) < fmt.min_normal) & ((v & fmt.mag_mask) != 0)
    plain = ~nan & ~sub
    np.testing.assert_array_equal(back[plain], v[plain])
    np.testing.assert_array_equal(back[sub], v[sub] & fmt.sign_mask)
    assert np.all(back[nan] == fmt.canonical_nan)
    # decode against ml_dtypes for everything but subnormals (read as zero) and NaN payloads.
    with np.errstate(invalid="ignore"):   # NaN payloads, not compared
        ref = v.astype(UINT[fmt.width]).view(ORACLE_DTYPE[fmt.name]).astype(np.float64)
    np.testing.assert_array_equal(x[plain], ref[plain])


@pytest.mark.parametrize("fmt", BASE, ids=lambda f: f.name)
def test_encode_rounds_to_nearest_even(fmt):
    # Random float32 values across the normal range plus every exact midpoint between adjacent
    # normal codes (ties must go to the even code). Catches round-half-up or truncation.
    rng = np.random.default_rng(SEED)
    lo = float(decode(fmt, fmt.min_normal))
    hi = float(decode(fmt, fmt.max_finite))
    rand = np.exp(rng.uniform(np.log(lo), np.log(hi), 200_000)).astype(np.float32)
    codes = np.arange(fmt.min_normal, fmt.max_finite, dtype=np.uint32)
    mids = ((decode(fmt, codes) + decode(fmt, codes + 1)) / 2).astype(np.float32)
    x = np.concatenate([rand, mids, -rand, -mids]).astype(np.float64)
    got = encode(fmt, x)
    ref = x.astype(np.float32).astype(ORACLE_DTYPE[fmt.name]).view(UINT[fmt.width])
    np.testing.assert_array_equal(got, ref)
    even = (got[len(rand):len(rand) + len(mids)] & 1) == 0
    assert np.all(even)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(fmt=st.sampled_from(BASE),
       x=st.floats(allow_nan=False, allow_infinity=False, width=32))
def test_encode_matches_ml_dtypes_hypothesis(fmt, x):
    # Outside the normal range the spec (flush below, saturate above) replaces ml_dtypes.
    got = int(encode(fmt, np.float64(x)))
    lo = float(decode(fmt, fmt.min_normal))
    hi = float(decode(fmt, fmt.max_finite))
    ref = np.float32(x).astype(ORACLE_DTYPE[fmt.name])
    r = float(ref)
    sign = fmt.sign_mask if np.signbit(x) else 0
    # Below the smallest normal ml_dtypes rounds on the coarser subnormal grid, so compare only
    # from |x| >= lo; below it the spec: flush, or round up to the smallest normal.
    if abs(x) >= lo and abs(r) <= hi:
        assert got == int(np.array(ref).view(UINT[fmt.width]))
    elif abs(x) < lo:
        assert got & fmt.mag_mask in (0, fmt.min_normal) and got & fmt.sign_mask == sign
    else:
        assert got == sign | fmt.max_finite

# Ref: ISSCC 2021 16.4 (TSMC 22 nm digital CIM): bit-serial activations, per-column adder trees.
"""Golden model of the in-memory-compute tile and its baseline (``hdl/imc.py``), numpy int64.

``matvec`` is the reference every test compares against; ``matvec_bitserial`` computes the same
product the way the tile does (one activation bit per step, the sign bit's step subtracting) and
is itself checked against ``matvec``.
"""

import numpy as np

from hdl.imc import ImcParams

__all__ = ["effective_activations", "matvec", "matvec_bitserial", "weight_range",
           "activation_range", "pack_row_words", "random_weights", "random_activations"]


def weight_range(p: ImcParams) -> tuple[int, int]:
    return (-(1 << (p.w_bits - 1)), (1 << (p.w_bits - 1)) - 1) if p.signed_w \
        else (0, (1 << p.w_bits) - 1)


def activation_range(p: ImcParams, ba: int) -> tuple[int, int]:
    return (-(1 << (ba - 1)), (1 << (ba - 1)) - 1) if p.signed_a else (0, (1 << ba) - 1)


def _check_ba(p: ImcParams, ba: int):
    if not 1 <= ba <= p.a_bits:
        raise ValueError(f"activation bits must be in 1..{p.a_bits}, not {ba!r}")


def effective_activations(p: ImcParams, x, ba: int) -> np.ndarray:
    """What the hardware multiplies: the low ``ba`` bits of each activation field, two's
    complement when signed (bits above ``ba`` are ignored)."""
    _check_ba(p, ba)
    low = np.asarray(x, dtype=np.int64) & ((1 << ba) - 1)
    if p.signed_a:
        low = np.where(low >> (ba - 1) & 1, low - (1 << ba), low)
    return low


def matvec(p: ImcParams, w, x, ba: int) -> np.ndarray:
    """y = W^T x_eff; ``w`` is rows x cols of weight values, ``x`` raw activation fields."""
    w = np.asarray(w, dtype=np.int64)
    if w.shape != (p.rows, p.cols):
        raise ValueError(f"weights must be {p.rows}x{p.cols}, not {w.shape}")
    lo, hi = weight_range(p)
    if w.min() < lo or w.max() > hi:
        raise ValueError(f"weights must lie in {lo}..{hi} for w_bits={p.w_bits}")
    return w.T @ effective_activations(p, x, ba)


def matvec_bitserial(p: ImcParams, w, x, ba: int) -> np.ndarray:
    xe = effective_activations(p, x, ba) & ((1 << ba) - 1)   # the ba-bit patterns
    acc = np.zeros(p.cols, dtype=np.int64)
    for k in range(ba):
        partial = np.asarray(w, dtype=np.int64).T @ ((xe >> k) & 1)   # AND + adder tree
        acc += -(partial << k) if (p.signed_a and k == ba - 1) else (partial << k)
    return acc


def pack_row_words(p: ImcParams, row) -> list[int]:
    """A weight row as the WDATA words (column c at bits [c*w_bits, (c+1)*w_bits))."""
    bits = 0
    for c, v in enumerate(row):
        bits |= (int(v) & ((1 << p.w_bits) - 1)) << (c * p.w_bits)
    return [(bits >> (32 * k)) & 0xFFFFFFFF for k in range(p.row_words)]


def random_weights(p: ImcParams, rng, *, kind: str = "uniform") -> np.ndarray:
    lo, hi = weight_range(p)
    if kind == "min":
        return np.full((p.rows, p.cols), lo, dtype=np.int64)
    if kind == "max":
        return np.full((p.rows, p.cols), hi, dtype=np.int64)
    if kind == "zero":
        return np.zeros((p.rows, p.cols), dtype=np.int64)
    return rng.integers(lo, hi + 1, size=(p.rows, p.cols))


def random_activations(p: ImcParams, rng, ba: int, *, kind: str = "uniform",
                       zeros: float = 0.0) -> np.ndarray:
    """Raw activation fields (a_bits wide; junk above ``ba`` bits to prove it is ignored)."""
    lo, hi = activation_range(p, ba)
    if kind == "min":
        v = np.full(p.rows, lo)
    elif kind == "max":
        v = np.full(p.rows, hi)
    else:
        v = rng.integers(lo, hi + 1, size=p.rows)
        v = np.where(rng.random(p.rows) < zeros, 0, v)
    junk = rng.integers(0, 1 << p.a_bits, size=p.rows) & ~((1 << ba) - 1)
    return ((v & ((1 << ba) - 1)) | junk).astype(np.int64)

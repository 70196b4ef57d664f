"""cocotb driver of the multipliers: every operand pair of a :class:`MulCheck` through the
combinational unit, compared with the golden model (used by ``make sim`` and tb/test_lmul.py)."""

from dataclasses import dataclass

import cocotb
import numpy as np
from cocotb.triggers import Timer

from hdl.float import FloatFormat
from sim.lmul.model import MODELS, special_values
from sim.rtl.bench import params, record, seed


@dataclass(frozen=True)
class MulCheck:
    fmt: FloatFormat
    kind: str
    vectors: str = "exhaustive"     # exhaustive | specials+random | sampled
    n_random: int = 0


def operand_pairs(check: MulCheck, rng: np.random.Generator):
    fmt = check.fmt
    parts = []
    if check.vectors == "exhaustive":
        a, b = np.meshgrid(np.arange(1 << fmt.width), np.arange(1 << fmt.width))
        parts.append((a.ravel(), b.ravel()))
    else:
        s = special_values(fmt)
        a, b = np.meshgrid(s, s)
        parts.append((a.ravel(), b.ravel()))
    if check.n_random:
        parts.append(tuple(rng.integers(0, 1 << fmt.width, size=(2, check.n_random))))
    a = np.concatenate([p[0] for p in parts]).astype(np.uint32)
    b = np.concatenate([p[1] for p in parts]).astype(np.uint32)
    return a, b


def report_mismatches(check, a, b, got, want):
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, (
        f"{check.kind}_{check.fmt.name}: {bad.size} of {a.size} products differ from the model; "
        "first: " + ", ".join(f"{int(a[i]):#x}*{int(b[i]):#x}={int(got[i]):#x} "
                              f"(model {int(want[i]):#x})" for i in bad[:5]))


@cocotb.test()
async def check_combinational(dut):
    check = params()
    rng = np.random.default_rng(seed())
    a, b = operand_pairs(check, rng)
    want = MODELS[check.kind](check.fmt, a, b)
    got = np.empty_like(want)
    for i, (x, y) in enumerate(zip(a.tolist(), b.tolist())):
        dut.a.value = x
        dut.b.value = y
        await Timer(1, "ns")
        got[i] = dut.y.value.to_unsigned()
    record("check", {"pairs": int(a.size), "mismatches": int((got != want).sum()),
                     "seed": seed()})
    report_mismatches(check, a, b, got, want)

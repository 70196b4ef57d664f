"""L-Mul and exact multipliers, combinational and streamed, against the golden model.

- fp8 (e4m3, e5m2): all 65,536 operand pairs, both multipliers, both simulators (``slow``);
- bf16: every special x special pair plus 100,000 seeded random pairs (``slow``);
- a seeded sample of every format in ``make test-quick``;
- the stream wrapper with random stalls on both sides: nothing dropped, duplicated or reordered.
"""


import cocotb
import numpy as np
import pytest
from cocotb.triggers import Timer

from hdl.float import FORMATS
from hdl.lmul import MULTIPLIERS, MulStream, operand_layout
from sim.lmul.bench import MulCheck, operand_pairs, report_mismatches, run_check
from sim.lmul.model import MODELS, special_values
from sim.rtl import run
from sim.rtl.bench import params, seed, start_streams

# ------------------------------------------------------------------------------ cocotb side


@cocotb.test()
async def check_stream(dut):
    check = params()
    rng = np.random.default_rng(seed())
    a, b = operand_pairs(check, rng)
    layout = operand_layout(check.fmt)
    src, sink = await start_streams(dut, stall=0.3)
    for x, y in zip(a.tolist(), b.tolist()):
        src.send(layout.const({"a": x, "b": y}).as_bits())
    got = np.array(await sink.wait_for(a.size, timeout_cycles=10 * a.size + 100),
                   dtype=np.uint32)
    for _ in range(20):  # and nothing extra afterwards
        await Timer(10, "ns")
    assert len(sink.received) == a.size, f"{len(sink.received) - a.size} duplicated results"
    report_mismatches(check, a, b, got, MODELS[check.kind](check.fmt, a, b))


# ------------------------------------------------------------------------------ pytest side
KINDS = list(MULTIPLIERS)


def run_multiplier(sim, fmt, kind, **check):
    unit = MULTIPLIERS[kind](FORMATS[fmt])
    return run_check(unit, toplevel=f"{kind}_{fmt}", sim=sim,
                     check=MulCheck(FORMATS[fmt], kind, **check))


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", ["e4m3", "e5m2"])
def test_fp8_exhaustive(sim, fmt, kind):
    r = run_multiplier(sim, fmt, kind, vectors="exhaustive")
    assert r.data("check")["pairs"] == 65536


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_bf16_specials_and_random(sim, kind):
    r = run_multiplier(sim, "bf16", kind, vectors="specials+random", n_random=100_000)
    assert r.data("check")["pairs"] >= 100_000 + len(special_values(FORMATS["bf16"])) ** 2


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_sampled(sim, fmt, kind):
    run_multiplier(sim, fmt, kind, vectors="specials+random", n_random=2_000)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_stream(sim, fmt, kind):
    unit = MulStream(FORMATS[fmt], kind=kind)
    run(unit, toplevel=f"{kind}_{fmt}_stream", test_module="tb.test_lmul", sim=sim,
        testcase="check_stream",
        params=MulCheck(FORMATS[fmt], kind, vectors="specials+random", n_random=500))

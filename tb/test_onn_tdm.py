# Ref: docs/onn.md (the integer equations); sim/onn/model.py is the golden model.
"""The time-multiplexed oscillator array (``hdl.onn.OnnTdm``) in lockstep with the golden model,
through the register map it shares with ``OnnArray`` (``sim.onn.bench.lockstep``: every phase
after every epoch, in every mode, then a continuous run that must take exactly ``start + fill +
epochs * epoch_cycles`` busy clocks), plus parameter checks."""

import cocotb
import pytest

from hdl.onn import Mode, OnnParams, OnnTdm, TdmParams
from sim.onn.bench import OnnCheck, lockstep
from sim.rtl import run


@cocotb.test()
async def tdm_lockstep_oim(dut):
    await lockstep(dut, Mode.OIM)


@cocotb.test()
async def tdm_lockstep_schedules(dut):
    await lockstep(dut, Mode.OIM, schedules=True)


@cocotb.test()
async def tdm_lockstep_kuramoto(dut):
    await lockstep(dut, Mode.KURAMOTO)


@cocotb.test()
async def tdm_lockstep_onn(dut):
    await lockstep(dut, Mode.ONN)


@cocotb.test()
async def tdm_lockstep_pbit(dut):
    await lockstep(dut, Mode.PBIT)


# ------------------------------------------------------------------------------ pytest side
BUILDS = [
    # three batches of four lanes, 8-bit couplings (4 per JDATA word), momentum, PBIT
    TdmParams(OnnParams(n=12, weight_bits=8, max_momentum=3, with_pbit=True), lanes=4),
    # one batch of eight lanes, the default widths (5-bit couplings, 6 per JDATA word)
    TdmParams(OnnParams(n=8, with_pbit=True), lanes=8),
    # fewer lanes than couplings per JDATA word: 4-bit couplings, 8 per word, 4 batches per
    # coupling-bank word (rows_per_word), two lanes, eight batches
    TdmParams(OnnParams(n=16, weight_bits=4, max_momentum=2, with_pbit=True), lanes=2),
    # one shared datapath (the UP5K build's organization): eight batches in one bank word
    TdmParams(OnnParams(n=8, weight_bits=4, omega_bits=8, max_momentum=1, with_pbit=True),
              lanes=1),
    # non-default widths, two batches, no momentum, no PBIT
    TdmParams(OnnParams(n=16, phase_bits=10, lut_bits=6, sin_bits=6, weight_bits=4,
                        onn_phase_bits=3, ks_bits=10, noise_bits=12, omega_bits=12,
                        lfsr_steps=5, max_shift=12), lanes=8),
]
CHECKS = "tdm_lockstep_oim,tdm_lockstep_schedules,tdm_lockstep_kuramoto,tdm_lockstep_onn"


@pytest.mark.parametrize("tp", BUILDS, ids=lambda tp: tp.name)
def test_tdm_lockstep(sim, tp):
    run(OnnTdm(tp), key=("OnnTdm", tp), toplevel=tp.name,
        test_module=["sim.onn.bench", "tb.test_onn_tdm"],
        sim=sim, testcase=CHECKS + (",tdm_lockstep_pbit" if tp.array.with_pbit else ""),
        params=OnnCheck(tp.array, epochs=6, lanes=tp.lanes))


@pytest.mark.parametrize("kw, msg", [
    (dict(array=OnnParams(n=12), lanes=3), "lanes must be a power of two, not 3"),
    (dict(array=OnnParams(n=12), lanes=8), "lanes=8 must divide n=12"),
    (dict(array=OnnParams(n=16), lanes=4), "lanes=4 must divide the 6 couplings"),
    (dict(array=OnnParams(n=8, with_parallel=True), lanes=8), "with_parallel must be False"),
])
def test_tdm_params_refused(kw, msg):
    with pytest.raises(ValueError) as err:
        TdmParams(**kw)
    assert msg in str(err.value) and "\n" not in str(err.value)


def test_memory_overflow_names_the_memory():
    """An array too large for a device's block RAM stops at elaboration with one line naming
    the memory; the 768-cell build of the ULX3S-85F fits (171 of 208 DP16KD by the count)."""
    from amaranth.hdl import Fragment

    from hdl.onn.tdm import check_memory, memory_blocks

    class Platform:
        device = "LFE5U-85F"

    big = TdmParams(OnnParams(n=1024, weight_bits=4, with_pbit=True), lanes=8)
    with pytest.raises(ValueError) as err:
        Fragment.get(OnnTdm(big), Platform())
    msg = str(err.value)
    assert "coupling memory (1024 x 1024 couplings of 4 bits)" in msg and "208" in msg
    assert "\n" not in msg
    fits = TdmParams(OnnParams(n=768, weight_bits=4, with_pbit=True), lanes=8)
    check_memory(fits, "LFE5U-85F")
    assert sum(memory_blocks(fits).values()) <= 208
    with pytest.raises(ValueError, match="coupling memory .768 x 768 couplings of 5 bits"):
        check_memory(TdmParams(OnnParams(n=768, with_pbit=True), lanes=8), "LFE5U-85F")


@pytest.mark.parametrize("mode", [Mode.PBIT, Mode.OIM], ids=["pbit", "oim"])
def test_tdm_maxcut_equals_model(sim, mode):
    """The RTL engine on the time-multiplexed array (``solve_rtl(..., lanes=8)``) gives the
    model's cuts and assignments for the same seeds, and its CYCLES are START + fill +
    epochs x ``tdm_epoch_cycles``."""
    import numpy as np

    from hdl.onn import tdm_epoch_cycles, tdm_fill_cycles, tdm_start_cycles
    from sim.onn import maxcut

    p = maxcut.array_params(16)
    g = maxcut.random_graph(14, 40, 7, (-1, 1))
    seeds, epochs = [3, 4], 40
    cuts, bits, cfg = maxcut.solve_oim(p, g, epochs, seeds, mode=mode)
    rc, rb, rcfg, runs = maxcut.solve_rtl(p, g, epochs, seeds, sim=sim, lanes=8, mode=mode)
    assert rcfg == cfg and np.array_equal(rc, cuts) and np.array_equal(rb, bits)
    tp = TdmParams(p, 8)
    want = (tdm_start_cycles(tp) + tdm_fill_cycles(tp, mode)
            + epochs * tdm_epoch_cycles(tp, mode))
    assert [r["cycles"] for r in runs] == [want] * len(seeds)

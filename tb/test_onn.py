# Ref: docs/onn.md (the integer equations); sim/onn/model.py is the golden model.
"""Oscillator-cell array RTL (``hdl.onn.OnnArray``) in lockstep with the golden model.

Every check programs the array only through its CSR bus (``hdl.onn.register_map``), as the SoC
will. The lockstep checks run one epoch at a time (CMD.resume with EPOCHS = 1) and compare every
cell's phase register with ``sim.onn.model.epoch`` after each epoch, in each mode, with random
couplings (including a random diagonal the cells must ignore), random run-time registers
(shift, a ks ramp and a noise decay that both saturate inside the run) and random omegas; then
a continuous run of the same configuration must end in the model's state after exactly
``start_cycles + epochs * epoch_cycles(mode)`` busy clocks. Other checks: spin / sin / cos
readout, ONN until-stable stopping, coupling rewrite between runs (and a refused rewrite while
running), and the sticky errors. ``maxcut_runs`` is the RTL engine of ``picojoule maxcut``.
"""

import json

import cocotb
import numpy as np
import pytest

from hdl.onn import (
    Cause,
    Mode,
    OnnArray,
    OnnParams,
    RunConfig,
    register_map,
    start_cycles,
    weights_per_word,
)
from sim.onn import model as onn
from sim.onn.bench import (
    OnnCheck,
    lockstep,
    random_config,
    random_couplings,
    setup,
)
from sim.rtl import run
from sim.rtl.bench import record, seed

# ------------------------------------------------------------------------------ driver








# ------------------------------------------------------------------------------ cocotb side




@cocotb.test()
async def lockstep_oim(dut):
    await lockstep(dut, Mode.OIM)


@cocotb.test()
async def lockstep_schedules(dut):
    await lockstep(dut, Mode.OIM, schedules=True)


@cocotb.test()
async def lockstep_kuramoto(dut):
    await lockstep(dut, Mode.KURAMOTO)


@cocotb.test()
async def lockstep_onn(dut):
    await lockstep(dut, Mode.ONN)


@cocotb.test()
async def lockstep_pbit(dut):
    await lockstep(dut, Mode.PBIT)


@cocotb.test()
async def onn_until_stable(dut):
    """Hebbian recall from a noisy cue stops after the first epoch that changed nothing. Builds
    with_hold hold one of the flipped bits: it stays wrong, and a held cell must not count as
    changed (else the run would never be stable)."""
    chk, a = await setup(dut)
    p = chk.p
    rng = np.random.default_rng([seed(), 7])
    # One stored pattern and a quarter of the bits flipped: synchronous recall reaches the
    # pattern in one epoch and the next changes nothing (two patterns may oscillate forever).
    pats = rng.integers(0, 2, size=(1, p.n))
    W = onn.hebbian(p, pats)
    cue = pats[0].copy()
    cue[rng.choice(p.n, size=max(1, p.n // 4), replace=False)] ^= 1
    theta = onn.phases_from_spins(p, cue)
    cfg = RunConfig(mode=Mode.ONN, seed=3)
    hold, want = None, pats[0]
    if p.with_hold:
        hold = np.arange(p.n) == np.flatnonzero(cue != pats[0])[0]
        want = np.where(hold, cue, pats[0])
        await a.write_hold(hold)
    await a.load_couplings(W)
    await a.configure(cfg, until_stable=True)
    await a.write_cells("PHASE", theta, p.phase_bits)
    st = onn.run(p, cfg, W, 50, theta=theta, until_stable=True, hold=hold)
    status = await a.go("start", 50, Mode.ONN, keep=True)
    assert 1 < st.t < 50 and np.array_equal(onn.spins(p, st.theta), want), st.t
    assert status["stable"] == 1
    assert await a.csr.read("EPOCH") == st.t
    assert await a.phases() == [int(v) for v in st.theta]


@cocotb.test()
async def pbit_until_stable(dut):
    """PBIT without noise is a greedy sequential descent: with CONFIG.until_stable the run stops
    after the first epoch that wrote no new phase, at the model's epoch and phases. (Not every
    matrix settles: a cell not yet seeing its predecessor's flip can make the two flip back and
    forth, a few % of random 8-12 cell matrices; the first that settles in the model is used.)"""
    chk, a = await setup(dut)
    p = chk.p
    rng = np.random.default_rng([seed(), 11])
    for _ in range(20):
        J = random_couplings(p, rng, symmetric=True)
        cfg = RunConfig(mode=Mode.PBIT, seed=int(rng.integers(1, 1 << 32))).check(p)
        st = onn.run(p, cfg, J, 50, until_stable=True)
        if st.t < 50:
            break
    await a.load_couplings(J)
    await a.configure(cfg, until_stable=True)
    await a.csr.write("EPOCHS", 50)
    await a.csr.write("CMD", start=1)
    status = await a.wait_idle(start_cycles(False) + (st.t + 1) * a.epoch_cycles(Mode.PBIT))
    assert 1 < st.t < 50, st.t
    assert status["stable"] == 1
    assert await a.csr.read("EPOCH") == st.t
    assert await a.phases() == [int(v) for v in st.theta]


@cocotb.test()
async def coupling_rewrite(dut):
    """New couplings between runs take effect; a rewrite while running is refused (BUSY)."""
    chk, a = await setup(dut)
    p = chk.p
    rng = np.random.default_rng([seed(), 9])
    cfg = random_config(p, Mode.OIM, rng, 6)
    await a.configure(cfg)
    for k in range(2):
        J = random_couplings(p, rng, symmetric=k == 1)
        await a.load_couplings(J)
        await a.go("start", 6, Mode.OIM)
        want = onn.run(p, cfg, J, 6).theta
        assert await a.phases() == [int(v) for v in want], f"couplings {k}"
    # JDATA while busy: refused, sticky BUSY, the run still uses the old matrix
    await a.csr.write("EPOCHS", 3)
    await a.csr.write("CMD", start=1)
    await a.csr.write("JADDR", col=0, group=0)
    await a.csr.write("JDATA", **{f"w{f}": 1 for f in range(weights_per_word(p))})
    st = await a.csr.fields("STATUS")
    assert st["busy"] and st["cause"] & Cause.BUSY, st
    await a.wait_idle(3 * a.epoch_cycles(Mode.OIM))
    # the run above (3 epochs) must equal the model with the old J
    want = onn.run(p, cfg, J, 3).theta
    assert await a.phases() == [int(v) for v in want], "refused write changed the couplings"
    await a.csr.write("CMD", clear=1)
    assert (await a.csr.fields("STATUS"))["error"] == 0


@cocotb.test()
async def errors(dut):
    """Bad run-time input sets a sticky cause bit, is not applied, and CMD.clear clears it."""
    chk, a = await setup(dut)
    p = chk.p
    info = await a.csr.fields("INFO")
    assert (info["n"], info["phase_bits"], info["weight_bits"], info["parallel"],
            info["pbit"]) == (p.n, p.phase_bits, p.weight_bits, int(p.with_parallel),
                              int(p.with_pbit))
    await a.csr.write("CONFIG", mode=Mode.KURAMOTO.value, shift=3, momentum=p.max_momentum)
    await a.csr.write("CELL", cell=1)
    await a.csr.write("JADDR", col=1, group=0)
    cases = error_cases(p)
    for reg, fields, cause in cases:
        await a.csr.write(reg, **fields)
        st = await a.csr.fields("STATUS")
        assert st["error"] == 1 and st["cause"] == cause, f"{reg} {fields}: {st}"
        assert await a.csr.fields("CONFIG") == {"mode": Mode.KURAMOTO.value, "shift": 3,
                                                "until_stable": 0,
                                                "momentum": p.max_momentum}, "bad CONFIG applied"
        assert (await a.csr.fields("CELL"))["cell"] == 1, "bad CELL applied"
        assert (await a.csr.fields("JADDR")) == {"col": 1, "group": 0}, "bad JADDR applied"
        await a.csr.write("CMD", clear=1)
        assert (await a.csr.fields("STATUS"))["error"] == 0, "CMD.clear did not clear"
    # START while running; configuration writes while running
    await a.csr.write("CONFIG", mode=Mode.OIM.value, shift=3)
    await a.csr.write("EPOCHS", 4)
    await a.csr.write("CMD", start=1)
    await a.csr.write("CMD", start=1)
    await a.csr.write("CONFIG", mode=Mode.ONN.value, shift=0)
    await a.csr.write("SEED", 99)
    if p.with_hold:
        await a.csr.write("HOLD", 0xFFFFFFFF)
    st = await a.csr.fields("STATUS")
    assert st["busy"] and st["cause"] == Cause.BUSY, st
    assert (await a.csr.fields("CONFIG"))["mode"] == Mode.OIM.value
    assert await a.csr.read("SEED") == 1
    if p.with_hold:
        assert await a.csr.read("HOLD") == 0, "HOLD written while running"
    await a.wait_idle(4 * a.epoch_cycles(Mode.OIM))
    assert await a.csr.read("EPOCH") == 4, "the second START restarted the run"
    record("errors", {"cases": len(cases)})








# ------------------------------------------------------------------------------ pytest side
def error_cases(p: OnnParams) -> list[tuple[str, dict, Cause]]:
    """The refused writes of a build: (register, fields, the cause it must set). A case is
    left out where it is not an error in this build (PBIT with ``with_pbit``) or cannot be
    written (a value wider than its field: ``max_momentum + 1`` when it is 7)."""
    cases = [("CONFIG", {"mode": Mode.PBIT.value, "shift": 1},
              None if p.with_pbit else Cause.BAD_MODE),
             ("CONFIG", {"mode": 0, "shift": p.max_shift + 1}, Cause.BAD_SHIFT),
             ("CONFIG", {"mode": 0, "shift": 1, "momentum": p.max_momentum + 1},
              Cause.BAD_MOMENTUM),
             ("CELL", {"cell": p.n}, Cause.BAD_CELL),
             ("JADDR", {"col": p.n, "group": 0}, Cause.BAD_JADDR),
             ("JADDR", {"col": 0, "group": -(-p.n // weights_per_word(p))}, Cause.BAD_JADDR)]
    regs = register_map(p)
    return [(reg, fields, cause) for reg, fields, cause in cases
            if cause is not None
            and all(v < 1 << regs[reg].layout[f].width for f, v in fields.items())]


SMALL = [
    OnnParams(n=8),
    OnnParams(n=8, with_parallel=True),
    # four groups of copied control registers (5, 5, 5, 1 cells): a cell reading another
    # group's copy, or a copy one clock off its register, fails the lockstep
    OnnParams(n=16, phase_bits=10, lut_bits=6, sin_bits=6, weight_bits=4, onn_phase_bits=3,
              ks_bits=10, noise_bits=12, omega_bits=12, lfsr_steps=5, max_shift=12,
              fanout_cells=5),
    # velocity registers (momentum 1 in OIM, 7 in Kuramoto, 0 in the schedules check)
    OnnParams(n=8, max_momentum=7),
    # the PBIT mode, alone and beside copied control registers and velocity registers
    OnnParams(n=8, with_pbit=True),
    OnnParams(n=12, weight_bits=4, sin_bits=6, noise_bits=12, lfsr_steps=5, max_momentum=2,
              fanout_cells=5, with_pbit=True),
    # the hold mask (two HOLD words) in every mode, with velocity registers
    OnnParams(n=34, weight_bits=4, sin_bits=6, noise_bits=12, lfsr_steps=5, max_momentum=2,
              with_pbit=True, with_hold=True),
]
CHECKS = ("lockstep_oim,lockstep_schedules,lockstep_kuramoto,lockstep_onn,onn_until_stable,"
          "coupling_rewrite,errors")


def _id(p: OnnParams) -> str:
    return p.name


def run_onn(sim, p, testcase, params_obj, **kw):
    return run(OnnArray(p), key=("OnnArray", p), toplevel=p.name,
               test_module=["sim.onn.bench", "tb.test_onn"], sim=sim,
               testcase=testcase, params=params_obj, **kw)


@pytest.mark.parametrize("p, causes", [
    (SMALL[0], {"BAD_MODE", "BAD_SHIFT", "BAD_MOMENTUM", "BAD_CELL", "BAD_JADDR"}),
    (SMALL[3], {"BAD_MODE", "BAD_SHIFT", "BAD_CELL", "BAD_JADDR"}),       # momentum 7 + 1: 4 bits
    (SMALL[4], {"BAD_SHIFT", "BAD_MOMENTUM", "BAD_CELL", "BAD_JADDR"}),   # PBIT is a mode here
], ids=["plain", "momentum7", "pbit"])
def test_error_cases_per_build(p, causes):
    """The ``errors`` check covers every cause a build can raise by a single write."""
    assert {c.name for _, _, c in error_cases(p)} == causes


@pytest.mark.parametrize("p", SMALL, ids=_id)
def test_onn_small(sim, p):
    # The lockstep checks compare the CYCLES register with start_cycles + fill_cycles +
    # epochs * epoch_cycles on the cocotb side; PBIT checks only in builds that have the mode.
    run_onn(sim, p, CHECKS + (",lockstep_pbit,pbit_until_stable" if p.with_pbit else ""),
            OnnCheck(p, epochs=10))


@pytest.mark.slow
def test_onn_64(sim):
    p = OnnParams(n=64)
    run_onn(sim, p, "lockstep_oim,lockstep_kuramoto,lockstep_onn,errors", OnnCheck(p, epochs=6))


def test_lfsr_advance_matrix_matches_model():
    from hdl.onn import lfsr_advance_matrix

    rows = lfsr_advance_matrix(16)
    rng = np.random.default_rng(5)
    for s in [int(v) for v in rng.integers(1, 1 << 32, size=20)]:
        got = sum(((sum((s >> b) & 1 for b in row)) & 1) << k for k, row in enumerate(rows))
        assert got == int(onn.lfsr_step(np.uint64(s), 16))


def test_register_map_fits():
    for p in SMALL + [OnnParams(), OnnParams(n=4096, weight_bits=16, omega_bits=32)]:
        regs = register_map(p)
        assert regs.size <= 1 << regs.addr_width
        assert weights_per_word(p) * p.weight_bits <= 32


def test_maxcut_rtl_engine_equals_model(tmp_path, capsys):
    """`picojoule maxcut --engine rtl` (Verilator) gives the model's cuts and assignment for
    the same seeds, in both modes; a graph larger than the built array is a one-line error."""
    from sim.cli import main as cli
    from sim.flow.toolchain import ToolError
    from sim.onn import maxcut

    path = tmp_path / "g.txt"
    maxcut.write_graph(path, maxcut.random_graph(8, 14, 4, (-1, 1, 2)))
    for mode in ("oim", "pbit"):
        out = {}
        for engine in ("model", "rtl"):
            assert cli(["maxcut", str(path), "--engine", engine, "--cells", "8", "--seeds",
                        "3", "--epochs", "120", "--seed", "5", "--mode", mode, "--json"]) == 0
            out[engine] = json.loads(capsys.readouterr().out)
        for key in ("cut", "cuts", "assignment", "best_seed", "config"):
            assert out["rtl"][key] == out["model"][key], (mode, key)
        assert out["rtl"]["engine"] == "rtl" and out["rtl"]["config"]["mode"] == mode
    maxcut.write_graph(path, maxcut.random_graph(9, 10, 4, (1,)))
    with pytest.raises(ToolError) as err:
        maxcut.cmd_maxcut(maxcut.add_maxcut_parser(_subparsers()).parse_args(
            [str(path), "--engine", "rtl", "--cells", "8"]))
    msg = str(err.value)
    assert "9 nodes" in msg and "n=8" in msg and "\n" not in msg


def _subparsers():
    import argparse

    return argparse.ArgumentParser().add_subparsers()

"""Energy of the oscillator array on standard cells (``sim.onn.report.measure_liberty``).

The 8-cell PBIT build mapped to the OSU 0.18 um cells runs the ``power_epochs`` workload
(Max-Cut epochs on a random graph); the testcase compares the final phases with the golden
model on every netlist run, so a netlist that computes something else fails the run.
"""

import pytest

from hdl.onn import Mode, OnnParams
from sim.onn.report import measure_liberty

P = OnnParams(n=8, with_pbit=True)


def _check_breakdown(res: dict, epochs: int):
    for t, m in res["modes"].items():
        b = m["breakdown"]
        assert m["ops"] == epochs * P.n, t
        assert all(v > 0 for v in b.values()), (t, b)
        assert sum(b.values()) == pytest.approx(m["pj_per_op"], rel=1e-9), t


@pytest.mark.parametrize("mode", [Mode.OIM, Mode.PBIT], ids=lambda m: m.name)
def test_liberty_zero_delay(mode):
    """Zero-delay on Icarus (a 32k-cell netlist compiles in seconds there, in many minutes
    on Verilator): the breakdown's parts are positive and sum to the total, and
    a window of twice the epochs costs about twice the energy (the per-op figure of a window
    that saw only part of the work, or charged something per window, would move)."""
    short = measure_liberty(P, mode=mode, epochs=4, sim="icarus")
    long = measure_liberty(P, mode=mode, epochs=8, sim="icarus")
    _check_breakdown(short, 4)
    _check_breakdown(long, 8)
    e4 = short["modes"]["zero"]["pj_per_op"] * 4 * P.n
    e8 = long["modes"]["zero"]["pj_per_op"] * 8 * P.n
    fill = 1 if mode == Mode.OIM else 1.25        # a PBIT window also holds one fill pass
    assert 1.5 < e8 / e4 < 2.0 * fill, (e4, e8)


@pytest.mark.slow
def test_liberty_sdf_sees_at_least_zero_delay_transitions():
    """SDF-timed activity (Icarus) of the same OIM window: every net makes at least the
    transitions it makes with zero delay (glitches only add), so the timed run counts at
    least as many transitions per op; both breakdowns are consistent."""
    res = measure_liberty(P, mode=Mode.OIM, epochs=4, timings=("zero", "sdf"))
    _check_breakdown(res, 4)
    z, s = res["modes"]["zero"], res["modes"]["sdf"]
    assert s["transitions_per_op"] >= z["transitions_per_op"], (s, z)

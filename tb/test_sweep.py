"""``picojoule sweep``: ranges, the Pareto front, failed points, and one real IMC point.

- an empty or malformed range, an unknown name or a missing liberty file is a one-line error
  naming the option, before any cluster starts;
- the Pareto front on named cases (dominated, tied, failed rows);
- a sweep whose points fail keeps every point as a row saying why and exits 1 naming them;
- a small real sweep (a 16 x 4 tile with 4-bit weights and activations, beside a point that
  cannot be built) on a LocalCluster: its energy, area and Fmax are the energy engine's
  (``sim.power.engine.measure_cells`` on the same unit and workload), its cycles per product
  the tile's own; the table, JSON and Pareto PNG are written.
"""

import json

import pytest

from sim import sweep
from sim.cli import main


def _run(capsys, *argv):
    rc = main(["sweep", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize("argv, option", [
    (["imc", "--rows", ""], "--rows"),
    (["imc", "--rows", "16,,32"], "--rows"),
    (["imc", "--cols", "4,x"], "--cols"),
    (["imc", "--bw", "8:4"], "--bw"),
    (["imc", "--ba", "4-8"], "--ba"),
    (["lmul", "--formats", "e4m3,fp7"], "--formats"),
    (["lmul", "--kinds", " , "], "--kinds"),
    (["onn", "--phase-bits", "twelve"], "--phase-bits"),
    (["maxcut", "--seeds", ""], "--seeds"),
    (["maxcut", "--nodes", "10,20"], "--nodes"),
    (["imc", "--liberty", "/nonexistent/x.lib"], "--liberty"),
])
def test_bad_range_is_one_line_naming_the_option(capsys, tmp_path, argv, option):
    rc, out, err = _run(capsys, *argv, "--out", str(tmp_path))
    lines = err.strip().splitlines()
    assert rc == 1 and len(lines) == 1, err
    assert lines[0].startswith("picojoule: error: ") and option in lines[0], lines[0]
    assert not any(tmp_path.iterdir()), "nothing is written for bad input"


def test_unknown_unit(capsys, tmp_path):
    rc, _, err = _run(capsys, "gpu", "--out", str(tmp_path))
    assert rc == 1 and "unknown sweep 'gpu'" in err


def test_ranges():
    assert sweep.parse_ints("--rows", "16, 32,16") == [16, 32]
    assert sweep.parse_ints("--seeds", "1:4,7") == [1, 2, 3, 4, 7]
    assert sweep.parse_names("--kinds", "lmul,fpmul,lmul", ["lmul", "fpmul"]) == ["lmul", "fpmul"]


def test_pareto_named_cases():
    rows = [
        {"point": "small slow", "pj_per_op": 2.0, "area_um2": 10.0},
        {"point": "big fast", "pj_per_op": 1.0, "area_um2": 20.0},
        {"point": "dominated", "pj_per_op": 2.0, "area_um2": 20.0},
        {"point": "tie of small slow", "pj_per_op": 2.0, "area_um2": 10.0},
        {"point": "failed", "status": "FAILED: x"},
    ]
    assert sweep.pareto(rows) == [True, True, False, True, False]


def test_failed_points_stay_as_rows(capsys, tmp_path):
    rc, out, err = _run(capsys, "imc", "--rows", "3,5", "--cols", "4", "--bw", "4", "--ba", "4",
                        "--workers", "1", "--out", str(tmp_path))
    assert rc == 1
    last = err.strip().splitlines()[-1]
    assert last.startswith("picojoule: error: 2 of 2 points failed (imc 3x4 w4a4, imc 5x4 w4a4)")
    assert "rows must be a power of two" in last
    rows = json.loads((tmp_path / "sweep-imc.json").read_text())
    assert [r["point"] for r in rows] == ["imc 3x4 w4a4", "imc 5x4 w4a4"]
    assert all(r["status"].startswith("FAILED: ValueError: rows must be a power of two")
               for r in rows)
    table = (tmp_path / "sweep-imc.md").read_text()
    assert table.count("FAILED") == 2 and "imc 5x4 w4a4" in table
    assert not (tmp_path / "sweep-imc.png").exists()   # no figures, no plot


@pytest.mark.slow   # about 5 minutes from a cold build directory (synthesis, mapping, OpenSTA)
def test_real_imc_point_from_the_engine(capsys, tmp_path):
    from hdl.imc import ImcParams, ImcTile
    from sim.imc.bench import ImcPower, unit_id
    from sim.power.engine import measure_cells
    from sim.power.workloads import Workload

    rc, out, err = _run(capsys, "imc", "--rows", "3,16", "--cols", "4", "--bw", "4", "--ba",
                        "4", "--workers", "1", "--out", str(tmp_path))
    assert rc == 1 and "1 of 2 points failed (imc 3x4 w4a4)" in err
    assert "[2/2]" in out    # progress: one line per finished point
    rows = json.loads((tmp_path / "sweep-imc.json").read_text())
    failed, ok = rows
    assert failed["status"].startswith("FAILED: ValueError") and "pj_per_op" not in failed
    assert ok["status"] == "ok" and ok["pareto"] and not failed["pareto"]

    p = ImcParams(rows=16, cols=4, w_bits=4, a_bits=4)
    tile = ImcTile(p)
    ref = measure_cells(f"imc_{unit_id(p)}", lambda: tile,
                        Workload("sim.imc.bench", "power_products", ImcPower(p, vectors=8)),
                        timings=("zero",))
    assert ok["unit"] == ref["unit"] and ok["checked"] > 0
    assert ok["pj_per_op"] == pytest.approx(ref["modes"]["zero"]["pj_per_op"], rel=1e-12)
    assert ok["ops"] == ref["modes"]["zero"]["ops"] == 8 * 16 * 4     # per MAC
    assert ok["area_um2"] == ref["area_um2"] and ok["cells"] == ref["cells"]
    assert ok["fmax_mhz"] == pytest.approx(ref["timing"]["fmax_mhz"])
    assert ok["cycles_per_product"] == tile.cycles_per_op(4)

    table = (tmp_path / "sweep-imc.md").read_text()
    assert f"{ok['pj_per_op']:.4g}" in table and "FAILED: ValueError" in table
    assert (tmp_path / "sweep-imc.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

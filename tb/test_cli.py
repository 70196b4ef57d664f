"""The `picojoule` command: export contract, lint, and one-line errors for bad input."""

import re
import subprocess
import sys

import pytest

from hdl.float import FORMATS, FloatFormat
from hdl.ldot import DotParams
from hdl.lmul import MULTIPLIERS, LMul, MulStream


def picojoule(*args, **kw):
    return subprocess.run([sys.executable, "-m", "sim.cli", *args], capture_output=True,
                          text=True, **kw)


def test_verilog_export_contract(tmp_path):
    """lmul_/fpmul_<fmt>.v: combinational top named like the file, ports a, b -> y."""
    names = [f"{k}_{f}" for k in MULTIPLIERS for f in FORMATS]
    proc = picojoule("verilog", "--out", str(tmp_path), "--lint", *names)
    assert proc.returncode == 0, proc.stderr
    for name in names:
        text = (tmp_path / f"{name}.v").read_text()
        width = FORMATS[name.split("_")[1]].width
        assert re.search(rf"^module {name}\(", text, re.M), f"{name}: top module misnamed"
        for port, direction in (("a", "input"), ("b", "input"), ("y", "output")):
            assert re.search(rf"^\s*{direction} \[{width - 1}:0\] {port};", text, re.M), \
                f"{name}: port {port} is not a {width}-bit {direction}"
        # Purely combinational: no clock, no registers.
        assert "posedge" not in text and "clk" not in text, f"{name} is not combinational"
    assert "clean" in proc.stdout


@pytest.mark.parametrize("args, message", [
    (["bogus"], "invalid choice"),
    (["sim", "--sim", "vcs"], "choose one of: verilator, icarus"),
    (["verilog", "nope"], "unknown unit 'nope'"),
    (["report", "nope"], "unknown report 'nope'"),
])
def test_errors_are_one_line(args, message):
    proc = picojoule(*args)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_compiler_is_one_line(tmp_path):
    """With no g++ on PATH, a Verilator build stops with one line naming the package."""
    import os

    env = {**os.environ, "PATH": str(tmp_path)}   # nothing on PATH
    proc = picojoule("doctor", env=env)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == [
        "picojoule: error: `g++` not found: Verilator builds need a C++ toolchain "
        "(Debian/Ubuntu: apt-get install g++)"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(exp_bits=4, man_bits=0, bias=7), "mantissa bits must be an integer in 1..23, not 0"),
    (dict(exp_bits=8, man_bits=24, bias=127), "mantissa bits .* not 24"),
    (dict(exp_bits=4, man_bits=3, bias=15), "bias must fit the 4-bit exponent .* not 15"),
    (dict(exp_bits=4, man_bits=3, bias=0), "bias .* not 0"),
    (dict(exp_bits=9, man_bits=3, bias=7), "exponent bits .* not 9"),
])
def test_bad_format_is_refused(kwargs, message):
    """The error names the bad value (a unit built on a bad format cannot exist)."""
    with pytest.raises(ValueError, match=message):
        FloatFormat("bad", **kwargs)


def test_bad_unit_parameters_are_refused():
    with pytest.raises(TypeError, match="FloatFormat"):
        LMul("e4m3")
    with pytest.raises(ValueError, match="kind must be one of"):
        MulStream(FORMATS["e4m3"], kind="approx")
    with pytest.raises(ValueError, match="265-bit exact chunk sum"):
        DotParams(FORMATS["bf16"])
    with pytest.raises(ValueError, match="lanes"):
        DotParams(FORMATS["e4m3"], lanes=0)

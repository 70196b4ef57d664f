"""pytest glue: every test taking a ``sim`` argument runs once per selected simulator.

``SIM=verilator|icarus|all`` (default all). A simulator that is not installed is skipped with a
visible reason naming the package; an unknown name stops the run with the list of choices.
"""

import os

import pytest

from sim.flow.toolchain import ToolError, icarus_missing, parse_simulators


def pytest_generate_tests(metafunc):
    if "sim" not in metafunc.fixturenames:
        return
    try:
        names = parse_simulators(os.environ.get("SIM"))
    except ToolError as err:
        raise pytest.UsageError(f"SIM: {err}") from None
    values = []
    for name in names:
        reason = icarus_missing() if name == "icarus" else None
        marks = [pytest.mark.skip(reason=reason)] if reason else []
        values.append(pytest.param(name, marks=marks, id=name))
    metafunc.parametrize("sim", values)

"""Switching-activity capture, gate-level proxy and energy tables (see docs/power.md).

- :mod:`.activity`: toggle counts per signal and bit over a testbench-marked window of a dump;
- :mod:`.gates`: Yosys generic-gate netlist of a unit, its nets and loads, energy per window;
- :mod:`.energy`: every constant (capacitances, per-access and per-bit energies) with its source;
- :mod:`.workloads`: what a measurement runs (testcase, stimulus, boundaries, memories);
- :mod:`.report`: ``measure_unit`` / ``measure_lmul`` / ``compare`` / ``benchmark`` and the
  Markdown, JSON and PNG reports (``python -m sim.power.report``).
"""

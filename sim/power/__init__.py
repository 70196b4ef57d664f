"""Switching-activity capture, gate-level proxy and energy tables (see docs/power.md).

- :mod:`.activity`: toggle counts per signal and bit over a testbench-marked window of a dump;
- :mod:`.gates`: Yosys generic-gate netlist of a unit, its nets and loads, energy per window;
- :mod:`.energy`: every constant (capacitances, per-access and per-bit energies) with its source;
- :mod:`.workloads`: what a measurement runs (testcase, stimulus, boundaries, memories);
- :mod:`.report`: ``measure_unit`` / ``compare`` / ``benchmark`` / ``traffic_energy`` (the
  units' proxy reports use them: ``python -m sim.lmul.proxy`` for the multipliers);
- :mod:`.liberty`, :mod:`.stdcell`, :mod:`.sta`, :mod:`.cellpower`, :mod:`.engine`: the
  standard-cell engine (``measure_cells``).
"""

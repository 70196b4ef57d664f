"""Oscillator array: golden model (model), cocotb driver (bench), Max-Cut and recall
applications (graphs, baselines, solvers, experiments; one namespace: maxcut), the
``picojoule maxcut`` / ``recall`` subcommands (cli) and the measured report (report)."""

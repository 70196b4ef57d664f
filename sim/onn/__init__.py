"""Oscillator array: golden model (model), cocotb driver (bench), Max-Cut and recall
applications (maxcut) and the measured report (report)."""

"""FPGA targets (issue: FPGA targets in boards/)."""

"""In-memory-compute tile and its baseline: golden model (model), cocotb driver (bench) and the
measured report (report)."""

"""L-Mul and exact multipliers, dot-product units: golden models (model, dot), cocotb drivers
(bench, dot_bench) and the measured report (report)."""

"""picojoule golden models, power/energy analysis and the `picojoule` CLI."""

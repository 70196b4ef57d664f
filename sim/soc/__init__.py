"""The SoC: firmware runs on its RTL (rtl), the cocotb bench (bench), the demos and their
checks (demos) and the measured report (report)."""

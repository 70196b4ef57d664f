"""Tool flows every unit shares: the toolchain (simulators, Yosys, ccache, build folders and
locks: :mod:`.toolchain`), FPGA synthesis and place-and-route (:mod:`.synth`) and the RISC-V
firmware build (:mod:`.firmware`)."""

"""RISC-V golden model and tools: the ISS, the ELF loader, random programs and the ELF runner."""

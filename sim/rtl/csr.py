"""cocotb driver for the CSR bus of ``hdl/csr.py`` (ports ``<prefix>__addr/w_stb/w_data/
r_stb/r_data``); registers are addressed by name through the unit's ``RegisterMap``."""

from cocotb.triggers import FallingEdge, RisingEdge

from hdl.csr import RegisterMap

__all__ = ["CsrMaster"]


class CsrMaster:
    def __init__(self, dut, regs: RegisterMap, prefix: str = "csr"):
        self.clk = dut.clk
        self.regs = regs
        self.addr = getattr(dut, f"{prefix}__addr")
        self.w_stb = getattr(dut, f"{prefix}__w_stb")
        self.w_data = getattr(dut, f"{prefix}__w_data")
        self.r_stb = getattr(dut, f"{prefix}__r_stb")
        self.r_data = getattr(dut, f"{prefix}__r_data")
        self.w_stb.value = 0
        self.r_stb.value = 0
        self.addr.value = 0
        self.w_data.value = 0
        self.accesses = 0           # bus accesses so far (a burst counts each read)

    async def write(self, name: str, value: int = 0, index: int = 0, **fields):
        """Write a register: a raw ``value`` or named ``fields`` (packed by the map)."""
        word = self.regs.pack(name, **fields) if fields else value
        self.accesses += 1
        self.addr.value = self.regs.offset(name, index)
        self.w_data.value = word
        self.w_stb.value = 1
        await RisingEdge(self.clk)
        self.w_stb.value = 0

    async def read(self, name: str, index: int = 0) -> int:
        self.accesses += 1
        self.addr.value = self.regs.offset(name, index)
        self.r_stb.value = 1
        await RisingEdge(self.clk)
        self.r_stb.value = 0
        await RisingEdge(self.clk)
        return self.r_data.value.to_unsigned()

    async def read_burst(self, name: str, count: int, index: int = 0) -> list[int]:
        """``count`` reads of one register back to back (the strobe held ``count`` clocks, one
        read per clock); each word is taken at the falling edge after the clock it was read in."""
        self.addr.value = self.regs.offset(name, index)
        self.r_stb.value = 1
        self.accesses += count
        out = []
        for k in range(count):
            await RisingEdge(self.clk)
            if k == count - 1:
                self.r_stb.value = 0
            await FallingEdge(self.clk)
            out.append(self.r_data.value.to_unsigned())
        await RisingEdge(self.clk)
        return out

    async def fields(self, name: str) -> dict:
        return self.regs.unpack(name, await self.read(name))

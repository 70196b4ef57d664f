"""Energy workload of the RISC-V core alone: a program runs on ``Core`` with its memory
outside the netlist (``sim.power.engine.measure_cells``; ``sim/soc/energy.py`` uses it).

The core's two Wishbone buses are served by a Python memory model (cocotb), so only the core's
own logic (pipeline, register file, CSRs, multiplier/divider) is mapped to standard cells; the
memory's energy is charged per access elsewhere. The model answers like
``hdl.bus.WishboneRam`` behind the SoC's decoders: never stalls, acknowledges every request
the clock after it is accepted with the data read at that edge (reads see the memory before
that edge's writes). Reads outside RAM return 0 (so the console's status register reads
"not busy"); writes outside RAM are recorded like the others. The interrupt lines stay low.

The window runs from the release of reset to the edge that accepts the program's store to
``tohost``, or, with ``stores = (k0, k1)``, from the edge that accepts the program's k0-th data
store (0: the release of reset) to the edge that accepts its k1-th, where the run stops. Its
operations are the instructions retired in it, counted beforehand by the ISS on the same
image (the core's RVFI port, which could count them, is left out of the measured netlist): when
the core's bus accepts a store, the store is in the last pipeline stage, so every older
instruction has retired, and the ISS's count up to that store is exact. The record's digest
covers every data-bus store (word address, byte lanes, data), the console bytes and the cycle
count, so the netlist run is checked against the RTL's store by store. Bits a 4-state netlist
leaves unknown (register-file words never written before a callee saves them) are read as 0,
the RTL's initial value.
"""

import hashlib
from dataclasses import dataclass

import cocotb
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge

from hdl.memory_map import RAM_BASE, UART_REGS, region
from hdl.riscv.core import CoreParams
from sim.rtl.activity import window_end, window_start
from sim.rtl.bench import params, start_clock

__all__ = ["CoreProgram"]


@dataclass(frozen=True)
class CoreProgram:
    """A program image for the core's energy workload (see the module docstring)."""

    core: CoreParams
    segments: tuple                 # ((addr, bytes), ...)
    tohost: int
    instructions: int               # retired instructions in the window (the ISS's)
    console: str | None = None      # the console output the program must print (the ISS's;
    #                                 lines starting "cycles " are not compared: the ISS takes
    #                                 one clock per instruction)
    ram_size: int = 64 * 1024
    max_cycles: int = 2_000_000
    stores: tuple[int, int] | None = None   # (k0, k1): the window between two data stores


def _int(handle) -> int:
    v = handle.value
    try:
        return int(v)
    except ValueError:
        s = str(v).lower()
        return int(s.replace("x", "0").replace("z", "0"), 2)


@cocotb.test()
async def core_program(dut):
    job: CoreProgram = params()
    mem = bytearray(job.ram_size)
    for addr, data in job.segments:
        off = addr - RAM_BASE
        mem[off:off + len(data)] = data
    words = job.ram_size // 4
    uart_tx = (region("uart").base >> 2) + UART_REGS.offset("tx")
    tohost = job.tohost >> 2
    for bus in ("ibus", "dbus"):
        for sig in ("dat_r", "ack", "err", "stall"):
            getattr(dut, f"{bus}__{sig}").value = 0
    dut.irq_timer.value = 0
    dut.irq_external.value = 0
    dut.rst.value = 1
    await start_clock(dut)
    await ClockCycles(dut.clk, 2)
    await FallingEdge(dut.clk)      # see sim.rtl.bench.reset: no race with the netlist's gates
    dut.rst.value = 0
    k0, k1 = job.stores or (0, None)
    window = window_start() if k0 == 0 else None
    ib = {s: getattr(dut, f"ibus__{s}") for s in ("cyc", "stb", "adr")}
    db = {s: getattr(dut, f"dbus__{s}") for s in ("cyc", "stb", "we", "adr", "sel", "dat_w")}
    i_ack, i_dat = dut.ibus__ack, dut.ibus__dat_r
    d_ack, d_dat = dut.dbus__ack, dut.dbus__dat_r
    digest = hashlib.sha1()
    console = bytearray()
    stores = 0
    first = []
    fetch = 0

    def read(adr: int) -> int:
        w = adr - (RAM_BASE >> 2)
        return int.from_bytes(mem[4 * w:4 * w + 4], "little") if 0 <= w < words else 0

    cycles = 0
    while cycles < job.max_cycles:
        if cycles:                  # the first clock is sampled at the edge that releases rst
            await FallingEdge(dut.clk)
        cycles += 1
        i_req = _int(ib["cyc"]) and _int(ib["stb"])
        if i_req:
            fetch = _int(ib["adr"])
        i_val = read(fetch) if i_req else 0
        d_req = _int(db["cyc"]) and _int(db["stb"])
        d_val, done = 0, False
        if d_req:
            adr = _int(db["adr"])
            if _int(db["we"]):
                sel, dat = _int(db["sel"]), _int(db["dat_w"])
                digest.update(adr.to_bytes(4, "little") + bytes([sel]) + dat.to_bytes(4, "little"))
                stores += 1
                if len(first) < 64:     # shown when a netlist run differs from the RTL's
                    first.append((cycles, adr, sel, dat))
                w = adr - (RAM_BASE >> 2)
                if 0 <= w < words:
                    for lane in range(4):
                        if sel >> lane & 1:
                            mem[4 * w + lane] = dat >> (8 * lane) & 0xFF
                elif adr == uart_tx and sel & 1:
                    console.append(dat & 0xFF)
                done = adr == tohost or stores == k1
            else:
                d_val = read(adr)
        await RisingEdge(dut.clk)
        if window is None and stores == k0:
            window = window_start()
        if done:
            break
        i_ack.value, i_dat.value = int(bool(i_req)), i_val
        d_ack.value, d_dat.value = int(bool(d_req)), d_val
    assert done, (f"no store to tohost ({job.tohost:#x}) within {job.max_cycles} cycles; last "
                  f"fetch {fetch << 2:#x}; first stores (cycle, word, lanes, data): "
                  + ", ".join(f"({c}, {a << 2:#x}, {s:x}, {d:#x})" for c, a, s, d in first[:12]))
    assert window is not None and (k1 is None or stores == k1), \
        f"the program made {stores} stores, fewer than the window's {job.stores}"
    text = console.decode("latin-1")
    if job.console is not None and job.stores is None:
        got, want = (tuple(ln for ln in t.splitlines() if not ln.startswith("cycles "))
                     for t in (text, job.console))
        assert got == want, f"console differs from the ISS's: {text[:300]!r} vs " \
            f"{job.console[:300]!r}"
    digest.update(bytes(console) + cycles.to_bytes(8, "little"))
    window_end(window, ops=job.instructions, digest=digest.hexdigest(), cycles=cycles,
               stores=stores, console=text, first_stores=first)

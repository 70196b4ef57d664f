"""Simulation speed of core + RAM on Verilator: the cocotb run (``run-elf``'s path, no Python in
the clock loop) next to a plain Verilator C++ harness on the same Verilog.

``python -m sim.riscv.speed [--program crc32] [--repeat N]`` prints cycles per second of both.
The plain harness is generated here (a 40-line C++ main), built once per design in
``build/speed/``; it loads the program through the same load port, so both runs execute the
same cycles.
"""

import argparse
import hashlib
import subprocess
import time
from pathlib import Path

from hdl.riscv.core import CoreParams
from hdl.riscv.system import CoreSystem

from ..flow.toolchain import BUILD, ToolError, locked, setup_verilator
from .elf import load_elf

__all__ = ["plain_verilator", "measure"]

_MAIN = r"""
#include "Vcore_system.h"
#include "verilated.h"
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <vector>

int main(int argc, char **argv) {
    Verilated::commandArgs(argc, argv);
    // argv[1]: "addr word" hex pairs, argv[2]: tohost address, argv[3]: max cycles
    std::vector<std::pair<uint32_t, uint32_t>> words;
    FILE *f = fopen(argv[1], "r");
    unsigned a, w;
    while (fscanf(f, "%x %x", &a, &w) == 2) words.push_back({a, w});
    fclose(f);
    uint32_t tohost = strtoul(argv[2], nullptr, 16);
    uint64_t max_cycles = strtoull(argv[3], nullptr, 10);
    Vcore_system *top = new Vcore_system;
    auto tick = [&]() { top->clk = 0; top->eval(); top->clk = 1; top->eval(); };
    top->rst = 1; top->load_en = 1; top->tohost_adr = tohost >> 2; tick(); top->rst = 0;
    for (auto &p : words) {
        top->load_adr = (p.first - 0x80000000u) >> 2; top->load_dat = p.second; tick();
    }
    top->load_en = 0;
    auto t0 = std::chrono::steady_clock::now();
    uint64_t n = 0;
    while (!top->halt && n < max_cycles) { tick(); n++; }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    printf("%llu %u %llu %.6f\n", (unsigned long long)top->cycles, top->tohost_value,
           (unsigned long long)top->instret, s);
    delete top;
    return 0;
}
"""


def plain_verilator(verilog: str) -> Path:
    """Build the plain harness for ``verilog`` (cached by content); returns the binary."""
    key = hashlib.sha256((verilog + _MAIN).encode()).hexdigest()[:12]
    out = BUILD / "speed" / f"core_system-{key}"
    binary = out / "Vcore_system"
    with locked(out):
        if binary.exists():
            return binary
        (out / "core_system.v").write_text(verilog)
        (out / "main.cpp").write_text(_MAIN)
        setup_verilator()
        cmd = ["verilator", "--cc", "--exe", "--build", "-O3", "-Wno-fatal", "-j", "2",
               "--top-module", "core_system", "--prefix", "Vcore_system", "-Mdir", str(out),
               "core_system.v", "main.cpp"]
        proc = subprocess.run(cmd, cwd=out, capture_output=True, text=True)
        if proc.returncode != 0:
            lines = (proc.stderr or proc.stdout).strip().splitlines() or ["no output"]
            raise ToolError(f"plain Verilator harness build failed: {lines[-1]}")
    return binary


def measure(program: str = "crc32", repeat: int = 1) -> dict:
    from amaranth.back import verilog

    from sim.flow.firmware import build

    from .rtl import TOPLEVEL, run_rtl

    elf = build(program, console=False)
    img = load_elf(elf)
    segments = [(s.addr, s.data) for s in img.segments]
    core = CoreParams()
    res = run_rtl(segments, img.tohost, core=core, max_cycles=50_000_000)
    text = verilog.convert(CoreSystem(core), name=TOPLEVEL)
    binary = plain_verilator(text)
    words = binary.parent / f"{program}.hex"
    words.write_text("".join(
        f"{addr + i:08x} {int.from_bytes((bytes(data) + bytes(4))[i:i + 4], 'little'):08x}\n"
        for addr, data in segments for i in range(0, len(data), 4)))
    best = None
    for _ in range(repeat):
        t = time.perf_counter()
        proc = subprocess.run([str(binary), str(words), f"{img.tohost:x}", "50000000"],
                              capture_output=True, text=True, check=True)
        cycles, tohost, instret, secs = proc.stdout.split()
        wall = time.perf_counter() - t
        rate = int(cycles) / float(secs)
        best = max(best or 0, rate)
    return {"program": program, "cycles": res.cycles, "instret": res.instret,
            "cocotb_cycles_per_s": res.cycles_per_s, "plain_cycles_per_s": best,
            "plain_cycles": int(cycles), "plain_tohost": int(tohost), "plain_wall_s": wall}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.riscv.speed", description=__doc__)
    ap.add_argument("--program", default="crc32")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    r = measure(args.program, args.repeat)
    print(f"{r['program']}: {r['cycles']:,} cycles, CPI {r['cycles'] / r['instret']:.3f}")
    print(f"  cocotb (run-elf path, no Python per clock): "
          f"{r['cocotb_cycles_per_s'] / 1e6:6.2f} M cycles/s")
    print(f"  plain Verilator C++ harness:                "
          f"{r['plain_cycles_per_s'] / 1e6:6.2f} M cycles/s "
          f"(same program: {r['plain_cycles']:,} cycles, tohost {r['plain_tohost']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

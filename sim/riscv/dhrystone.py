"""Dhrystone 2.2 on the core, for the comparison with the anchors (docs/riscv.md).

Dhrystone is not part of picojoule: ``python -m sim.riscv.dhrystone /path/to/riscv-tests``
takes the copy in a riscv-tests checkout (``benchmarks/dhrystone``, fetched separately; nothing
from it is committed), builds it with picojoule's crt0 and runtime plus the small shim below
(our ``util.h``: ``setStats`` reads the cycle and instret counters around the timed loop), runs
it on the RTL core at full speed and prints cycles per Dhrystone and DMIPS/MHz
(1 DMIPS = 1757 Dhrystones per second).
"""

import argparse
import tempfile
from pathlib import Path

from ..flow.firmware import FIRMWARE, RUNTIME, compile_elf
from .run import add_core_option

__all__ = ["build", "run"]

_UTIL_H = r"""
#ifndef PJ_DHRY_UTIL_H
#define PJ_DHRY_UTIL_H
#include "pj.h"
#define read_csr(reg) ({ unsigned long __t; asm volatile ("csrr %0, " #reg : "=r"(__t)); __t; })
void setStats(int enable);
int printf(const char *fmt, ...);
#endif
"""

_SHIM_C = r"""
#include <stddef.h>
#include <stdint.h>
#include "pj.h"
PJ_SIGNATURE(dhry_stats, 4);   /* cycles lo/hi, instret lo/hi of the timed loop */
static uint64_t c0, i0;
void setStats(int enable) {
    uint64_t c = pj_rdcycle(), i = pj_rdinstret();
    if (enable) { c0 = c; i0 = i; return; }
    c -= c0; i -= i0;
    dhry_stats[0] = (uint32_t)c; dhry_stats[1] = (uint32_t)(c >> 32);
    dhry_stats[2] = (uint32_t)i; dhry_stats[3] = (uint32_t)(i >> 32);
}
int printf(const char *s, ...) { pj_puts(s); return 0; }
/* Word-at-a-time strcpy/strcmp when both strings share their alignment (the approach of
   newlib's RISC-V string routines): a word holds a zero byte iff
   (w - 0x01010101) & ~w & 0x80808080 is non-zero. */
#define PJ_HASZERO(w) (((w) - 0x01010101u) & ~(w) & 0x80808080u)
char *strcpy(char *d, const char *s) {
    char *r = d;
    if ((((uintptr_t)d ^ (uintptr_t)s) & 3) == 0) {
        for (; (uintptr_t)s & 3; d++, s++)
            if (!(*d = *s)) return r;
        uint32_t *dw = (uint32_t *)d; const uint32_t *sw = (const uint32_t *)s;
        for (uint32_t w = *sw; !PJ_HASZERO(w); w = *++sw) *dw++ = w;
        d = (char *)dw; s = (const char *)sw;
    }
    while ((*d++ = *s++)) {}
    return r;
}
int strcmp(const char *a, const char *b) {
    if ((((uintptr_t)a ^ (uintptr_t)b) & 3) == 0) {
        for (; (uintptr_t)a & 3; a++, b++)
            if (!*a || *a != *b) return (unsigned char)*a - (unsigned char)*b;
        const uint32_t *aw = (const uint32_t *)a, *bw = (const uint32_t *)b;
        for (uint32_t x = *aw; x == *bw && !PJ_HASZERO(x); x = *++aw) bw++;
        a = (const char *)aw; b = (const char *)bw;
    }
    while (*a && *a == *b) { a++; b++; }
    return (unsigned char)*a - (unsigned char)*b;
}
"""


def build(checkout: Path, out_dir: Path, runs: int = 500, with_muldiv: bool = False) -> Path:
    src = Path(checkout) / "benchmarks" / "dhrystone"
    if not (src / "dhrystone_main.c").exists():
        raise SystemExit(f"{src}: no dhrystone_main.c (pass a riscv-tests checkout)")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "util.h").write_text(_UTIL_H)
    (out_dir / "shim.c").write_text(_SHIM_C)
    # Freestanding: the few libc headers Dhrystone includes, declaring what the shim defines.
    (out_dir / "stdio.h").write_text("int printf(const char *fmt, ...);\n")
    (out_dir / "alloca.h").write_text("#define alloca __builtin_alloca\n")
    (out_dir / "string.h").write_text("#include <stddef.h>\nchar *strcpy(char *, const char *);"
                                      "\nint strcmp(const char *, const char *);\n"
                                      "void *memcpy(void *, const void *, size_t);\n")
    return compile_elf([*(FIRMWARE / f for f in RUNTIME), src / "dhrystone.c",
                        src / "dhrystone_main.c", out_dir / "shim.c"],
                       (out_dir / "dhrystone.elf").resolve(), include=[out_dir, src],
                       defines={"NUMBER_OF_RUNS": runs, "PJ_CONSOLE": 0},
                       with_muldiv=with_muldiv,
                       extra=["-Wno-error", "-w", "-std=gnu99", "-Wno-implicit-int",
                              "-Wno-implicit-function-declaration", "-fno-builtin-printf"])


def run(elf: Path, runs: int, sim: str = "verilator", with_muldiv: bool = False,
        variant: str = "pipelined", ras_depth: int | None = None) -> dict:
    from hdl.riscv.core import CoreParams

    from .elf import load_elf
    from .rtl import run_rtl

    img = load_elf(elf)
    res = run_rtl([(s.addr, s.data) for s in img.segments], img.tohost, sim=sim,
                  core=CoreParams(with_muldiv=with_muldiv, variant=variant,
                                  **({} if ras_depth is None else {"ras_depth": ras_depth})),
                  max_cycles=50_000_000,
                  signature=img.signature)
    if not (res.halted and res.tohost == 1):
        raise SystemExit(f"dhrystone did not pass (tohost {res.tohost}, last pc "
                         f"{res.last_pc:#x})")
    s = res.signature
    cycles, instret = s[0] | s[1] << 32, s[2] | s[3] << 32
    per = cycles / runs
    return {"runs": runs, "cycles": cycles, "instret": instret, "cpi": cycles / instret,
            "cycles_per_dhrystone": per, "dmips_per_mhz": 1e6 / per / 1757}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.riscv.dhrystone", description=__doc__)
    ap.add_argument("checkout", type=Path, help="a riscv-tests checkout")
    ap.add_argument("--runs", type=int, default=500)
    ap.add_argument("--sim", default="verilator")
    ap.add_argument("--muldiv", action="store_true", help="RV32IM build on a core with M")
    add_core_option(ap)
    ap.add_argument("--ras-depth", type=int, default=None,
                    help="return-address stack entries of the pipelined core (default: "
                         "CoreParams's)")
    args = ap.parse_args(argv)
    if args.ras_depth is not None:
        from hdl.riscv.core import CoreParams
        try:
            CoreParams(ras_depth=args.ras_depth)
        except ValueError as e:
            ap.error(str(e))
    with tempfile.TemporaryDirectory() as tmp:
        elf = build(args.checkout, Path(tmp), args.runs, args.muldiv)
        r = run(elf, args.runs, args.sim, args.muldiv, args.core, args.ras_depth)
    arch = ("rv32im" if args.muldiv else "rv32i") + f", {args.core} core"
    print(f"dhrystone ({arch}): {r['runs']} runs, {r['cycles']:,} cycles, "
          f"{r['instret']:,} instructions, "
          f"CPI {r['cpi']:.3f}, {r['cycles_per_dhrystone']:.0f} cycles/Dhrystone, "
          f"{r['dmips_per_mhz']:.3f} DMIPS/MHz")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

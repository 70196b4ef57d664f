"""Where the core's LUTs go: ``python -m sim.riscv.area [--core pipelined|compact]``.

Synthesizes the core alone for iCE40 (``synth_ice40``, the flow of docs/riscv.md's area table)
once as it is and once per part below with that part removed, and prints what each part costs
in SB_LUT4. A part is removed by tying the nets that carry it to 0
(:func:`sim.flow.synth.synth_ice40_cut`: Yosys then deletes all logic that only fed them) or by a
:class:`~hdl.riscv.core.CoreParams` field (``ras_depth=0``). The saving of a part includes
the logic only it used (the trap-value mux is part of mtval: removing mtval removes it too),
so the rows overlap and do not add up. Each synthesis takes about 10 s.
"""

import argparse
import dataclasses

__all__ = ["Part", "parts", "csr_nets", "breakdown"]


@dataclasses.dataclass(frozen=True)
class Part:
    name: str
    cuts: tuple[str, ...] = ()      # nets tied to 0
    params: tuple = ()              # CoreParams fields changed, as (name, value) pairs


def csr_nets(*, counters: bool = True, registers: bool = True, rest: bool = True) -> tuple:
    """Net names of the CSR block (``hdl.riscv.parts.CsrState``): the two 64-bit counters, the
    five 32-bit registers (mscratch, mtval, mepc, mtvec, pmpaddr0), and the rest (the
    mstatus/mie/mcause bits and the read data)."""
    from hdl.riscv.parts import CsrState

    c = CsrState(0)
    groups = [
        (counters, [c.mcycle, c.minstret]),
        (registers, [c.mscratch, c.mtval, c.mepc, c.mtvec, c.pmpaddr0]),
        (rest, [c.mie_b, c.mpie_b, c.mtie, c.meie, c.mcause_irq, c.mcause_code, c.rdata]),
    ]
    return tuple(s.name for on, sigs in groups if on for s in sigs)


def parts(variant: str) -> list[Part]:
    """The parts measured for core ``variant`` (names as the RTL gives its signals)."""
    common = [
        Part("the whole CSR block (registers, counters, read data)", csr_nets()),
        Part("mscratch, mtval, mepc, mtvec, pmpaddr0 (with their write and trap-value logic)",
             csr_nets(counters=False, rest=False)),
        Part("the cycle and instret counters (64 bits each, with their writes and reads)",
             csr_nets(registers=False, rest=False)),
    ]
    if variant == "compact":
        # The compact core keeps mscratch, mtval, mepc, mtvec, pmpaddr0 and the counters' high
        # halves in its register file's block RAM: no flip-flops to cut there, only the path
        # that writes them.
        return [
            Part("the whole CSR block (counter low halves, status bits, read data)",
                 csr_nets(registers=False)),
            Part("the counters' low halves (32 bits each, with their writes and reads)",
                 csr_nets(registers=False, rest=False)),
            Part("every CSR access (the one-hot CSR select)", ("q_csr_sel",)),
            Part("the CSR words' writes into the register file (word_write)", ("word_write",)),
            Part("load alignment (shift and extend)", ("shifted",)),
            Part("the registered redirect of taken branches and jal (tgt_q, redir)",
                 ("tgt_q", "redir")),
            Part("the illegal-instruction decoder", ("q_illegal",)),
        ]
    return common + [
        Part("the shared barrel shifter (its result register)", ("shift_q",)),
        Part("the return-address stack (ras_depth=0)", params=(("ras_depth", 0),)),
        Part("the redirect target mux (slow_pc)", ("slow_pc",)),
        Part("the trap value mux (exc_tval)", ("exc_tval",)),
    ]


def breakdown(variant: str = "pipelined", progress=print) -> tuple[int, list[tuple[Part, int]]]:
    """(SB_LUT4 of the core as it is, [(part, SB_LUT4 with the part removed)])."""
    from hdl.riscv.core import Core, CoreParams
    from sim.flow.synth import synth_ice40_cut

    def luts(part):
        core = Core(dataclasses.replace(CoreParams(with_rvfi=False, variant=variant),
                                        **dict(part.params)))
        return synth_ice40_cut(core, f"rv_area_{variant}", part.cuts)["SB_LUT4"]

    base = luts(Part("as it is"))
    todo = parts(variant)
    rows = []
    for i, part in enumerate(todo, 1):
        progress(f"[{i}/{len(todo)}] without {part.name} ...")
        rows.append((part, luts(part)))
    return base, rows


def main(argv=None) -> int:
    from sim.flow.toolchain import ToolError

    from .run import add_core_option

    ap = argparse.ArgumentParser(prog="python -m sim.riscv.area", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    add_core_option(ap)
    args = ap.parse_args(argv)
    try:
        base, rows = breakdown(args.core)
    except ToolError as e:
        raise SystemExit(f"error: {e}") from None
    print(f"\n{args.core} core: {base:,} SB_LUT4 (synth_ice40, core alone, no RVFI)\n")
    print("| part removed | SB_LUT4 saved | SB_LUT4 left |")
    print("|---|---|---|")
    for part, left in rows:
        print(f"| {part.name} | {base - left:,} | {left:,} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

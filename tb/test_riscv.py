"""The RISC-V core against the ISS, every retired instruction compared (lockstep).

- Directed programs (``tb/programs/*.S``): every ALU op and branch on corner operands, every
  load/store width and offset, every trap cause (illegal encodings and CSRs, misaligned loads,
  stores and targets, access faults on loads, stores and fetches, ecall, ebreak), every CSR,
  mret, timer and external interrupts, self-modifying code with fence.i.
- Constrained-random programs (``sim/riscv/rand.py``): at least 100,000 retired instructions
  across seeds on Verilator, with and without M, with interrupts.
- The project's benchmarks (``firmware/``), self-checking, run at full speed (no Python in the
  clock loop); the CPI of each is recorded.

Both core variants (``CoreParams.variant``: the four-stage ``pipelined`` core and the
``compact`` state machine) run the directed programs, the interrupt run, the benchmarks and the
custom-0 port; the compact core runs two of the random seeds.

The ISS itself is checked against Spike in ``tb/test_riscv_iss.py``.
"""

from pathlib import Path

import pytest

from hdl.riscv.core import CoreParams
from sim.flow.firmware import BUILD, compile_elf
from sim.riscv.elf import load_elf
from sim.riscv.rand import random_program
from sim.riscv.rtl import run_rtl

PROGRAMS = Path(__file__).parent / "programs"
DIRECTED = ("alu", "mem", "traps", "csr", "irq", "fencei")
# (cycle after start, timer line, external line): each level held long enough for the
# handler to mask its source (tb/programs/irq.S).
IRQ_SCHEDULE = {"irq": ((200, 1, 0), (260, 0, 0), (700, 0, 1), (760, 0, 0), (1300, 1, 1),
                        (1360, 0, 0))}
RANDOM_SEEDS = (11, 12, 13, 14)
RANDOM_LENGTH = 12_000
# Both core variants (``CoreParams.variant``) run the same programs against the same ISS; the
# compact one runs two of the random seeds (it is the same instruction set, a smaller machine).
VARIANTS = pytest.mark.parametrize("variant", ["pipelined", "compact"])
COMPACT_SEEDS = RANDOM_SEEDS[:2]


def _segments(image):
    return [(s.addr, s.data) for s in image.segments]


def directed_elf(name: str) -> Path:
    out = (BUILD / "tb_programs" / f"{name}.elf").resolve()
    return compile_elf([PROGRAMS / f"{name}.S"], out, include=[PROGRAMS])


def _check(res, what):
    assert res.halted, f"{what}: no tohost write within the cycle budget (last pc " \
                       f"{res.last_pc:#010x})"
    assert res.tohost == 1, f"{what}: tohost = {res.tohost} (failing test {res.tohost >> 1})"


@VARIANTS
@pytest.mark.parametrize("name", DIRECTED)
def test_directed(name, variant, sim):
    img = load_elf(directed_elf(name))
    res = run_rtl(_segments(img), img.tohost, sim=sim, max_cycles=50_000, lockstep=True,
                  irq=IRQ_SCHEDULE.get(name, ()), core=CoreParams(variant=variant))
    _check(res, name)
    assert res.lockstep_retired == res.instret + _traps(res)


def _traps(res) -> int:
    # instret counts retired, non-trapping instructions; lockstep counts every completion.
    return res.lockstep_retired - res.instret


@VARIANTS
@pytest.mark.parametrize("with_muldiv", [False, True], ids=["rv32i", "rv32im"])
@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_random_lockstep(seed, with_muldiv, variant, sim):
    if sim == "icarus" and seed != RANDOM_SEEDS[0]:
        pytest.skip("Icarus runs one random seed (the rest are Verilator's)")
    if variant == "compact" and seed not in COMPACT_SEEDS:
        pytest.skip(f"the compact core runs seeds {COMPACT_SEEDS}")
    length = RANDOM_LENGTH if sim == "verilator" else 1500
    prog = random_program(seed, length, with_muldiv)
    res = run_rtl([(0x8000_0000, prog.image())], prog.tohost, sim=sim,
                  core=CoreParams(with_muldiv=with_muldiv, variant=variant),
                  max_cycles=40 * length,
                  lockstep=True)
    _check(res, f"random seed {seed}")
    assert res.lockstep_retired > length


@VARIANTS
def test_random_interrupts(variant, sim):
    prog = random_program(21, 2000, with_interrupts=True)
    # Interrupt lines rise and fall while the random code runs; the handler returns.
    irq = tuple((c, (c // 500) % 2, (c // 700) % 2) for c in range(300, 6000, 350))
    res = run_rtl([(0x8000_0000, prog.image())], prog.tohost, sim=sim, max_cycles=200_000,
                  lockstep=True, irq=irq + ((6000, 0, 0),), core=CoreParams(variant=variant))
    _check(res, "random with interrupts")


@VARIANTS
@pytest.mark.parametrize("name", ["crc32", "sort", "matmul", "control"])
def test_benchmark(name, variant, sim):
    from sim.flow.firmware import build

    if sim == "icarus":
        pytest.skip("benchmarks run on Verilator (Icarus covers the directed programs)")
    img = load_elf(build(name))
    res = run_rtl(_segments(img), img.tohost, sim=sim, max_cycles=10_000_000,
                  core=CoreParams(variant=variant))
    _check(res, name)
    print(f"{name} ({variant}): {res.instret} instructions, {res.cycles} cycles, "
          f"CPI {res.cpi:.3f}, {res.cycles_per_s / 1e6:.2f} M cycles/s")


@pytest.mark.parametrize("kwargs", [{"ras_depth": 9}, {"ras_depth": -1}, {"ras_depth": 1.5},
                                    {"reset_pc": 2}, {"mtvec_reset": 1 << 32},
                                    {"variant": "tiny"}])
def test_core_params_refused(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        CoreParams(**kwargs)


def test_return_stack_depths(sim):
    """The return-address stack only guesses: every depth runs the program to the same end, and
    with returns predicted (the default depth) it takes fewer cycles than without (depth 0)."""
    from sim.flow.firmware import build

    if sim == "icarus":
        pytest.skip("benchmarks run on Verilator (Icarus covers the directed programs)")
    img = load_elf(build("control"))
    cycles = {}
    for depth in (0, 1, CoreParams().ras_depth):
        res = run_rtl(_segments(img), img.tohost, sim=sim, core=CoreParams(ras_depth=depth),
                      max_cycles=5_000_000)
        _check(res, f"control, ras_depth={depth}")
        cycles[depth] = res.cycles
    assert cycles[CoreParams().ras_depth] < cycles[0], cycles


def test_run_elf_rtl_contract(sim, tmp_path, capsys):
    """`picojoule run-elf --sim`: PASS and exit 0, the signature equals the independently
    computed one, cycles/instret/CPI printed; a timeout names the last pc and exits non-zero."""
    from sim.cli import main
    from sim.flow.firmware import build, expected_signature

    if sim == "icarus":
        pytest.skip("run-elf's RTL path is exercised on Verilator (Icarus: directed tests)")
    elf = build("crc32")
    sig = tmp_path / "sig.txt"
    assert main(["run-elf", str(elf), "--sim", sim, "--signature", str(sig)]) == 0
    out = capsys.readouterr().out
    assert "PASS" in out and "CPI" in out
    words = [int(line, 16) for line in sig.read_text().split()]
    want = expected_signature("crc32")
    assert words[:len(want)] == want
    assert main(["run-elf", str(elf), "--sim", sim, "--max-cycles", "500"]) != 0
    out = capsys.readouterr()
    assert "last pc 0x8" in (out.out + out.err)


@VARIANTS
def test_custom0_port(variant, sim):
    """The custom-0 port with tb's example accelerator: results, wait states, x0, refusal."""
    img = load_elf(directed_elf("custom"))
    res = run_rtl(_segments(img), img.tohost, sim=sim, max_cycles=20_000,
                  core=CoreParams(with_custom0=True, variant=variant))
    _check(res, "custom")


@pytest.mark.parametrize("variant", ["pipelined", "compact"])
def test_area_parts_name_nets_of_the_core(variant):
    """Every net ``python -m sim.riscv.area`` cuts is a net of the core's Verilog (a renamed
    signal would otherwise make its breakdown fail), and every params change is a field."""
    import dataclasses

    from hdl.riscv.core import Core
    from sim.flow.synth import declared_nets
    from sim.riscv.area import parts
    from sim.rtl.runner import convert

    nets = declared_nets(convert(Core(CoreParams(with_rvfi=False, variant=variant)), "core"))
    for part in parts(variant):
        assert set(part.cuts) <= nets, (part.name, set(part.cuts) - nets)
        dataclasses.replace(CoreParams(variant=variant), **dict(part.params))


def test_load_alignment_forms_agree():
    """The two forms of a load's lane logic (``hdl/riscv/parts.py``: the compact core's
    shift-and-extend, the four-stage core's AND-ORs over selects) give the same word for every
    load width, signedness and aligned offset, on words that exercise every sign bit."""
    import random

    from amaranth import Module, Signal
    from amaranth.sim import Simulator

    from hdl.riscv.parts import load_align, load_data, load_selects

    m = Module()
    f3, addr_lo, dat_r = Signal(3), Signal(2), Signal(32)
    a = load_align(m, f3, addr_lo, dat_r)
    b = load_data(m, load_selects(m, f3, addr_lo), dat_r)
    rng = random.Random(5)
    words = [0, 0xFFFF_FFFF, 0x8080_8080, 0x7F7F_7F7F] + [rng.getrandbits(32) for _ in range(60)]
    cases = [(f, lo) for f, step in ((0, 1), (4, 1), (1, 2), (5, 2), (2, 4))
             for lo in range(0, 4, step)]
    mismatches = []

    async def bench(ctx):
        for (f, lo) in cases:
            for w in words:
                ctx.set(f3, f)
                ctx.set(addr_lo, lo)
                ctx.set(dat_r, w)
                if ctx.get(a) != ctx.get(b):
                    mismatches.append((f, lo, hex(w), hex(ctx.get(a)), hex(ctx.get(b))))
        # and the shift-and-extend form is the ISA's load: spot-check against Python
        ctx.set(f3, 0), ctx.set(addr_lo, 3), ctx.set(dat_r, 0x80_00_00_00)
        assert ctx.get(a) == 0xFFFF_FF80

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    assert not mismatches, mismatches[:5]

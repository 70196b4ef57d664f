"""``picojoule arch-test`` without the fetched suite (issue 28, item 2).

The real riscv-arch-test is fetched separately and never part of ``make test``; these tests
give the command a miniature suite of our own in the same layout (``riscv-test-suite/env/
arch_test.h``, ``rv32i_m/<group>/src/*.S``, ``RVTEST_CASE`` lines) and check:

- a test whose signature the core computes passes against Spike's signature (Spike is the
  oracle; nothing here types the expected words), on the ISS and on the RTL of both cores;
- the ``RVTEST_CASE`` selection: a test for another ISA or platform is N/A with its reason;
- a test that never halts, one that does not build, one whose signature differs from Spike's
  are per-test FAILs with the reason, the total counts them, the exit status is 1;
- a directory that is not a suite and a missing compiler are one-line errors.
"""

import pytest

from sim.riscv.arch_test import applicable
from sim.riscv.spike import spike_missing

# The suite's header, reduced to what the miniature tests use (the real one is 2,000 lines
# and, like this one, leaves the code in .text.init, where rvtest_entry_point is).
ARCH_TEST_H = r"""
#define RVTEST_ISA(_S)
#define RVTEST_CASE(_N, _S, ...)
#define RVTEST_CODE_BEGIN .globl main_code; main_code:
#define RVTEST_CODE_END
#define RVTEST_DATA_BEGIN .data;
#define RVTEST_DATA_END
"""

HEAD = """#include "model_test.h"
#include "arch_test.h"
RVTEST_ISA("RV32I")
.section .text.init
.globl rvtest_entry_point
rvtest_entry_point:
RVMODEL_BOOT
RVTEST_CODE_BEGIN
"""

TAIL = """RVMODEL_HALT
RVTEST_CODE_END
RVMODEL_DATA_BEGIN
sig: .fill 8, 4, 0xdeadbeef
RVMODEL_DATA_END
"""

CASE_I = '//check ISA:=regex(.*32.*);check ISA:=regex(.*I.*);def TEST_CASE_1=True;'

# Signature words computed by the core: sums, shifts and a loaded byte (Spike gives the
# expected values). `mcycle` differs between cores and Spike: a signature that depends on it
# must fail.
GOOD = f"""RVTEST_CASE(0,"{CASE_I}",good)
#ifdef TEST_CASE_1
    la   x1, sig
    li   x2, 0x12345678
    li   x3, 7
    add  x4, x2, x3
    sw   x4, 0(x1)
    sll  x5, x2, x3
    sw   x5, 4(x1)
    lb   x6, 3(x1)
    sw   x6, 8(x1)
    sub  x7, x3, x2
    sw   x7, 12(x1)
#endif
"""
CYCLES = f"""RVTEST_CASE(0,"{CASE_I}",cycles)
    la   x1, sig
    li   x2, 100
1:  addi x2, x2, -1
    bnez x2, 1b
    csrr x3, mcycle
    sw   x3, 0(x1)
"""
HANG = f"""RVTEST_CASE(0,"{CASE_I}",hang)
1:  j 1b
"""
BROKEN = f"""RVTEST_CASE(0,"{CASE_I}",broken)
    addx x1, x2, x3
"""
OTHER_ISA = """RVTEST_CASE(0,"//check ISA:=regex(.*32.*);check ISA:=regex(.*I.*F.*);\
def TEST_CASE_1=True;",fadd)
"""


def _suite(tmp_path, tests: dict):
    root = tmp_path / "arch"
    env = root / "riscv-test-suite" / "env"
    env.mkdir(parents=True)
    (env / "arch_test.h").write_text(ARCH_TEST_H)
    for name, body in tests.items():
        src = root / "riscv-test-suite" / "rv32i_m" / "I" / "src"
        src.mkdir(parents=True, exist_ok=True)
        (src / f"{name}.S").write_text(HEAD + body + TAIL)
    return root


needs_spike = pytest.mark.skipif(spike_missing() is not None, reason=str(spike_missing()))


@pytest.mark.parametrize("case, isa, platform, applies", [
    (CASE_I, "RV32IMZicsr_Zifencei", {}, True),
    (CASE_I, "RV64I", {}, False),
    ('//check ISA:=regex(.*I.*M.*);def TEST_CASE_1=True;', "RV32IZicsr", {}, False),
    ('//check ISA:=regex(.*I.*C.*); def X=True;', "RV32IMZicsr_Zifencei", {}, False),
    ('//check ISA:=regex(^[^C]+$); def X=True;', "RV32IMZicsr_Zifencei", {}, True),
    ('//check ISA:=regex(.*32.*); check hw_data_misaligned_support:=True; def X=True;',
     "RV32I", {"hw_data_misaligned_support": "False"}, False),
    ('//check ISA:=regex(.*32.*); check hw_data_misaligned_support:=False; def X=True;',
     "RV32I", {"hw_data_misaligned_support": "False"}, True),
])
def test_rvtest_case_selection(case, isa, platform, applies):
    defines, reason = applicable(f'RVTEST_CASE(0,"{case}",t)\n', isa, platform)
    assert (defines is not None) == applies, reason
    if applies:
        want = [item[4:].split("=")[0].strip() for item in case.split(";")
                if item.strip().startswith("def ")]
        assert [k for k, _ in defines] == want
    else:
        assert reason.startswith("needs ")


def test_first_matching_case_wins():
    text = ('RVTEST_CASE(0,"//check ISA:=regex(.*C.*); def A=True;",t)\n'
            'RVTEST_CASE(1,"//check ISA:=regex(.*I.*); def B=True;",t)\n')
    assert applicable(text, "RV32I", {})[0] == (("B", "True"),)


@needs_spike
def test_mini_suite_on_iss(tmp_path, capsys):
    from sim.cli import main

    suite = _suite(tmp_path, {"good-01": GOOD, "cycles-01": CYCLES, "hang-01": HANG,
                              "broken-01": BROKEN, "fadd-01": OTHER_ISA})
    rc = main(["arch-test", str(suite), "--engine", "iss", "--max-cycles", "20000"])
    out = capsys.readouterr().out
    lines = {ln.split()[1]: ln for ln in out.splitlines() if ln[:4] in ("PASS", "FAIL", "N/A ")}
    assert rc == 1, out
    assert lines["I/good-01"].startswith("PASS"), out
    # The ISS counts one cycle per instruction, Spike too but from its boot ROM: they differ.
    assert lines["I/cycles-01"].startswith("FAIL") and "signature words differ" in \
        lines["I/cycles-01"], out
    assert lines["I/hang-01"].startswith("FAIL") and "timeout" in lines["I/hang-01"], out
    assert lines["I/broken-01"].startswith("FAIL") and "build failed" in lines["I/broken-01"]
    assert lines["I/fadd-01"].startswith("N/A") and "F" in lines["I/fadd-01"], out
    assert "1 passed, 3 failed, 1 not applicable (of 5)" in out


@needs_spike
@pytest.mark.parametrize("variant", ["pipelined", "compact"])
def test_mini_suite_on_rtl(tmp_path, variant, sim, capsys):
    from sim.cli import main

    suite = _suite(tmp_path, {"good-01": GOOD, "hang-01": HANG})
    rc = main(["arch-test", str(suite), "--sim", sim, "--core", variant, "--max-cycles",
               "5000", "--ram-size", "64K"])
    out = capsys.readouterr().out
    assert rc == 1, out
    assert "PASS  I/good-01" in out
    assert "FAIL  I/hang-01" in out and "timeout" in out
    assert "--only" not in out
    rc = main(["arch-test", str(suite), "--sim", sim, "--core", variant, "--only", "good",
               "--ram-size", "64K"])
    assert rc == 0, capsys.readouterr().out


@pytest.mark.parametrize("args, says", [
    (["arch-test", "{tmp}"], "not a riscv-arch-test checkout"),
    (["arch-test", "{tmp}/nowhere"], "no such directory"),
    (["arch-test", "{suite}", "--only", "nothing-like-this"], "matches"),
])
def test_bad_input_is_one_line(args, says, tmp_path, capsys):
    from sim.cli import main

    suite = _suite(tmp_path, {"good-01": GOOD})
    argv = [a.format(tmp=tmp_path, suite=suite) for a in args]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0], err


def test_missing_compiler_is_one_line(tmp_path, capsys, monkeypatch):
    from sim.cli import main

    suite = _suite(tmp_path, {"good-01": GOOD})
    monkeypatch.setenv("PJ_CC", "gcc")
    monkeypatch.setenv("PATH", str(tmp_path))     # no riscv64-unknown-elf-gcc anywhere
    assert main(["arch-test", str(suite), "--engine", "iss"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "gcc" in err[0], err

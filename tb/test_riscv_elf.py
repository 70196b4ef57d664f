"""``picojoule run-elf`` with images larger than the old limits (issue 28, item 1).

- An image of several hundred KiB (more than Linux's 128 KiB for one environment variable,
  more than the SoC's 256 KiB RAM) runs on both simulators in a 1 MiB RAM. The image is a
  seeded random table inside the signature area, so the signature read back after the run
  shows every word the loader wrote; the program hashes every ``STRIDE``-th word of it (the
  core reaches the whole RAM) and stores the hash. The RTL's signature must equal the ISS's
  (the model), the table itself and the hash computed here in Python (an independent oracle).
- An image larger than the RAM is refused in one line naming both sizes.
"""

import random

import pytest

from hdl.memory_map import RAM_BASE
from sim.flow.firmware import FIRMWARE, compile_elf, memory_ld

TABLE_WORDS = 80 * 1024        # 320 KiB of data
STRIDE = 8                     # words hashed by the core: Icarus runs ~4k cycles/s
RAM_SIZE = 1 << 20
SEED = 28

# h = rotl(h, 5) ^ word over every STRIDE-th word of the table, stored with the count.
PROGRAM = """
    .section .text.init, "ax", @progbits
    .globl _start
_start:
    la   a0, table
    la   a1, table_end
    li   a2, 0
1:  lw   t0, 0(a0)
    slli t1, a2, 5
    srli a2, a2, 27
    or   a2, a2, t1
    xor  a2, a2, t0
    addi a0, a0, 4 * STRIDE
    bltu a0, a1, 1b
    la   t2, result
    sw   a2, 0(t2)
    la   a0, table
    sub  a1, a1, a0
    srli a1, a1, 2 + LOG_STRIDE
    sw   a1, 4(t2)
    la   t6, tohost
    li   t5, 1
    sw   t5, 0(t6)
2:  j 2b

    .section .signature, "aw", @progbits
result: .word 0, 0
table:
    .incbin "table.bin"
table_end:

    .section .tohost, "aw", @progbits
    .balign 64
    .globl tohost
tohost: .word 0, 0
"""


def _hash(words) -> int:
    h = 0
    for w in words[::STRIDE]:
        h = (((h << 5) | (h >> 27)) & 0xFFFF_FFFF) ^ w
    return h


@pytest.fixture(scope="module")
def big_elf(tmp_path_factory):
    d = tmp_path_factory.mktemp("big")
    rng = random.Random(SEED)
    # Non-zero words: the loader skips zero words (the RAM starts cleared).
    words = [rng.getrandbits(32) | 1 for _ in range(TABLE_WORDS)]
    (d / "table.bin").write_bytes(b"".join(w.to_bytes(4, "little") for w in words))
    log_stride = STRIDE.bit_length() - 1
    (d / "big.S").write_text(PROGRAM.replace("LOG_STRIDE", str(log_stride))
                             .replace("STRIDE", str(STRIDE)))
    # The project's link script with a 1 MiB RAM in place of the SoC's.
    link = (FIRMWARE / "link.ld").read_text().replace("INCLUDE pj_memory.ld",
                                                      memory_ld(RAM_SIZE))
    (d / "link.ld").write_text(link)
    elf = compile_elf([d / "big.S"], d / "big.elf", include=[d], link_script=d / "link.ld",
                      extra=[f"-Wa,-I{d}"])
    print(f"seed {SEED}: {elf} ({elf.stat().st_size // 1024} KiB)")
    return elf, words


def test_big_image_on_iss(big_elf, tmp_path):
    from sim.riscv.run import run_elf

    elf, words = big_elf
    res = run_elf(elf, engine="iss", ram_size=RAM_SIZE)
    assert res.passed, res.tohost
    assert res.signature[:2] == [_hash(words), len(words) // STRIDE]
    assert res.signature[2:2 + len(words)] == words


@pytest.mark.parametrize("variant", ["pipelined", "compact"])
def test_big_image_on_rtl(big_elf, variant, sim, tmp_path, capsys):
    """The whole path a user takes: ``picojoule run-elf`` with ``--ram-size``."""
    from sim.cli import main
    from sim.riscv.run import run_elf

    if variant == "compact" and sim == "icarus":
        pytest.skip("Icarus runs the pipelined core (the compact one needs 4x the cycles)")
    elf, words = big_elf
    sig = tmp_path / "sig.txt"
    assert elf.stat().st_size > 256 * 1024
    rc = main(["run-elf", str(elf), "--sim", sim, "--core", variant, "--ram-size", "1M",
               "--signature", str(sig), "--max-cycles", "20000000"])
    out = capsys.readouterr().out
    assert rc == 0, out
    got = [int(line, 16) for line in sig.read_text().split()]
    want = run_elf(elf, engine="iss", ram_size=RAM_SIZE).signature
    assert got == want
    assert got[:2] == [_hash(words), len(words) // STRIDE]
    assert got[2:2 + len(words)] == words


def test_image_larger_than_ram_says_sizes(big_elf, capsys):
    from sim.cli import main

    elf, _ = big_elf
    rc = main(["run-elf", str(elf), "--ram-size", "256K"])
    err = capsys.readouterr().err
    assert rc != 0
    line = [ln for ln in err.splitlines() if ln.strip()]
    assert len(line) == 1, err
    assert "262,144 bytes" in line[0] and "needs" in line[0], line[0]
    assert f"0x{RAM_BASE:08x}" in line[0]


@pytest.mark.parametrize("size", ["3K", "1.5M", "lots", "512"])
def test_ram_size_refused(size, capsys):
    from sim.cli import main

    assert main(["run-elf", "x.elf", "--ram-size", size]) != 0
    assert "--ram-size" in capsys.readouterr().err

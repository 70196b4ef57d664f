"""Run an ELF on Spike (the RISC-V reference simulator, PyPI ``spike``) and compare its commit
log with the ISS.

``run_spike`` runs ``spike --isa=rv32i[m]_zicntr --priv=m -m<RAM>`` with ``--log-commits`` and
``+signature``; HTIF ends the run at the first write to ``tohost`` (exit status n for
``(n << 1) | 1``). ``compare_with_iss`` steps the ISS over the same ELF and checks every retired
instruction against Spike's log: pc, instruction word, destination register and value, store
address, width and data. Trapping instructions are not in Spike's log; their effects (mepc,
mcause, mtval read back by handlers, the handler's pc) are.

Spike starts in a boot ROM at 0x1000 that sets a few registers (a0 = hartid, a1 = device-tree
address, t0 = entry) and jumps to the ELF entry. The comparison starts the ISS from that state:
those register values, and ``mcycle``/``minstret`` advanced by the boot ROM's instruction
count (Spike, like the ISS, counts one cycle per instruction), and the timer interrupt line
high (Spike's mtimecmp resets to 0, so mip.MTIP reads 1; interrupts stay disabled).
Differences from Spike that are choices of this architecture, not bugs, are listed in
docs/riscv.md ("ISS and Spike").
"""

import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hdl.memory_map import RAM_BASE, RAM_SIZE

from .elf import load_elf
from .iss import Iss

__all__ = ["spike_missing", "run_spike", "SpikeRun", "Commit", "compare_with_iss",
           "iss_commits", "spike_isa"]

_LINE = re.compile(r"core\s+\d+: \d 0x([0-9a-f]+) \(0x([0-9a-f]+)\)(.*)")
_REG = re.compile(r"\bx(\d+)\s+0x([0-9a-f]+)")
_MEM = re.compile(r"\bmem 0x([0-9a-f]+)(?: 0x([0-9a-f]+))?")


def spike_command() -> str | None:
    """The spike executable: on PATH, or next to this Python (the PyPI wheel installs it into
    the venv's bin/, which is not on PATH when the venv is not activated)."""
    found = shutil.which("spike")
    if found:
        return found
    beside = Path(sys.executable).parent / "spike"
    return str(beside) if beside.exists() else None


def spike_missing() -> str | None:
    """A skip reason if Spike cannot run here, else None."""
    if spike_command() is None:
        return "spike not found (pip install spike)"
    if shutil.which("dtc") is None:
        return "dtc not found: Spike needs device-tree-compiler (apt-get install " \
               "device-tree-compiler)"
    return None


def spike_isa(with_muldiv: bool) -> str:
    return f"rv32i{'m' if with_muldiv else ''}_zicntr"


@dataclass(frozen=True)
class Commit:
    """One retired, non-trapping instruction as both Spike and the ISS can state it."""
    pc: int
    insn: int
    rd: int = 0                     # 0 if no register was written
    rd_wdata: int = 0
    store: tuple | None = None      # (byte address, size in bytes, value)

    def __str__(self):
        s = f"pc {self.pc:08x} insn {self.insn:08x}"
        if self.rd:
            s += f" x{self.rd}={self.rd_wdata:08x}"
        if self.store:
            a, n, v = self.store
            s += f" store{8 * n}[{a:08x}]={v:0{2 * n}x}"
        return s


@dataclass
class SpikeRun:
    exit_code: int
    log: Path | None
    signature: list[int] | None
    boot_regs: dict[int, int]
    boot_count: int

    def commits(self):
        """Commits from the ELF's entry on (boot ROM skipped)."""
        started = False
        with open(self.log) as fh:
            for line in fh:
                c = _parse(line)
                if c is None:
                    continue
                if not started:
                    if not RAM_BASE <= c.pc < RAM_BASE + RAM_SIZE:
                        continue
                    started = True
                yield c


def _parse(line: str) -> Commit | None:
    m = _LINE.match(line)
    if m is None:
        return None
    pc, insn, rest = int(m[1], 16), int(m[2], 16), m[3]
    rd = wdata = 0
    r = _REG.search(rest)
    if r:
        rd, wdata = int(r[1]), int(r[2], 16)
    store = None
    mm = _MEM.search(rest)
    if mm and mm[2] is not None:
        store = (int(mm[1], 16), len(mm[2]) // 2, int(mm[2], 16))
    return Commit(pc, insn, rd, wdata, store)


def run_spike(elf, *, with_muldiv: bool = False, workdir: Path | None = None,
              log: bool = True, timeout: float = 120, ram_size: int = RAM_SIZE,
              isa: str | None = None) -> SpikeRun:
    """Run ``elf`` on Spike; the commit log and signature go to ``workdir`` (a temporary
    directory if None, kept until the returned object is dropped). ``ram_size`` bytes of RAM
    at ``RAM_BASE``; ``isa`` overrides Spike's ``--isa`` (default :func:`spike_isa`)."""
    reason = spike_missing()
    if reason:
        raise RuntimeError(reason)
    elf = Path(elf)
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="pj-spike-")
        workdir = Path(tmp.name)
    else:
        tmp = None
        workdir.mkdir(parents=True, exist_ok=True)
    image = load_elf(elf, ram_size=ram_size)
    logf = workdir / f"{elf.stem}.commits" if log else None
    sigf = workdir / f"{elf.stem}.signature"
    cmd = [spike_command() or "spike", f"--isa={isa or spike_isa(with_muldiv)}", "--priv=m",
           f"-m0x{RAM_BASE:x}:0x{ram_size:x}"]
    if log:
        cmd += ["--log-commits", f"--log={logf}"]
    if image.signature:
        cmd += [f"+signature={sigf}", "+signature-granularity=4"]
    proc = subprocess.run([*cmd, str(elf)], capture_output=True, text=True, timeout=timeout)
    sig = None
    if image.signature and sigf.exists():
        sig = [int(w, 16) for w in sigf.read_text().split()]
    boot_regs, boot_count = {}, 0
    if log:
        with open(logf) as fh:
            for line in fh:
                c = _parse(line)
                if c is None:
                    continue
                if RAM_BASE <= c.pc < RAM_BASE + RAM_SIZE:
                    break
                boot_count += 1
                if c.rd:
                    boot_regs[c.rd] = c.rd_wdata
    run = SpikeRun(proc.returncode, logf, sig, boot_regs, boot_count)
    run._tmp = tmp   # keep the directory alive with the result
    return run


def iss_commits(iss: Iss, *, tohost: int, max_steps: int):
    """Step ``iss`` and yield a :class:`Commit` per non-trapping instruction, up to and
    including the first non-zero store to ``tohost``."""
    for _ in range(max_steps):
        r = iss.step()
        if r.trap:
            continue
        store = None
        if r.mem_wmask:
            lane = (r.mem_wmask & -r.mem_wmask).bit_length() - 1
            size = bin(r.mem_wmask).count("1")
            store = (r.mem_addr + lane, size,
                     (r.mem_wdata >> (8 * lane)) & ((1 << (8 * size)) - 1))
        yield Commit(r.pc_rdata, r.insn, r.rd_addr, r.rd_wdata, store)
        if r.mem_wmask and r.mem_addr == tohost and r.mem_wdata:
            return


def compare_with_iss(elf, *, with_muldiv: bool = False, max_steps: int = 5_000_000,
                     spike: SpikeRun | None = None, iss: Iss | None = None) -> tuple[int, Iss]:
    """Run ``elf`` on Spike and on the ISS and compare commit by commit. Returns (number of
    commits compared, the ISS after the run); raises AssertionError at the first difference."""
    image = load_elf(elf)
    spike = spike or run_spike(elf, with_muldiv=with_muldiv)
    iss = iss or Iss(with_muldiv=with_muldiv)
    image.load_into(iss)
    iss.pc = image.entry
    for reg, value in spike.boot_regs.items():
        iss.x[reg] = value
    iss.mcycle = iss.minstret = spike.boot_count
    iss.mtip = True     # Spike's CLINT resets mtimecmp to 0: MTIP is pending from the start
    n = 0
    ref = spike.commits()
    for n, got in enumerate(iss_commits(iss, tohost=image.tohost, max_steps=max_steps), 1):
        want = next(ref, None)
        if want is None:
            raise AssertionError(f"{Path(elf).name}: Spike's log ends before ISS commit {n} "
                                 f"({got})")
        if got != want:
            raise AssertionError(f"{Path(elf).name}: commit {n} differs: Spike {want}, "
                                 f"ISS {got}")
    if n == 0:
        raise AssertionError(f"{Path(elf).name}: the ISS retired nothing")
    return n, iss

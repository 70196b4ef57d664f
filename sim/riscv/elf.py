# Ref: System V ABI, ELF (gABI 4.1) and the RISC-V ELF psABI (EM_RISCV = 243, ELFCLASS32).
"""Load a RV32 executable: its loadable segments and the symbols the runner needs.

``load_elf(path)`` returns an :class:`Image`. Every problem with the file is a ``ValueError``
with one line naming the file: not an ELF, ELF64, not RISC-V, a segment outside RAM, no
``tohost`` symbol (pass ``need_tohost=False`` to load a program that does not use one).
"""

from dataclasses import dataclass, field
from pathlib import Path

from hdl.memory_map import RAM_BASE, RAM_SIZE

__all__ = ["Image", "Segment", "load_elf"]

EM_RISCV = 243


@dataclass(frozen=True)
class Segment:
    addr: int
    data: bytes          # file bytes followed by zeros up to the memory size (.bss)


@dataclass
class Image:
    path: Path
    entry: int
    segments: list[Segment]
    symbols: dict[str, int] = field(default_factory=dict)

    @property
    def tohost(self) -> int | None:
        return self.symbols.get("tohost")

    @property
    def signature(self) -> tuple[int, int] | None:
        """(begin, end) addresses of the signature area, if the program has one."""
        b, e = self.symbols.get("begin_signature"), self.symbols.get("end_signature")
        return None if b is None or e is None else (b, e)

    def load_into(self, iss) -> None:
        for seg in self.segments:
            iss.load_bytes(seg.addr, seg.data)


def _size(n: int) -> str:
    return f"{n:,} bytes ({n / 1024:,.1f} KiB)"


def load_elf(path, *, ram_base: int = RAM_BASE, ram_size: int = RAM_SIZE,
             need_tohost: bool = True) -> Image:
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    path = Path(path)
    try:
        fh = path.open("rb")
    except OSError as err:
        raise ValueError(f"{path}: cannot open ({err.strerror})") from None
    with fh:
        if fh.read(4) != b"\x7fELF":
            raise ValueError(f"{path}: not an ELF file")
        fh.seek(0)
        try:
            elf = ELFFile(fh)
            cls, machine = elf.elfclass, elf["e_machine"]
        except ELFError as err:
            raise ValueError(f"{path}: malformed ELF ({err})") from None
        if cls != 32:
            raise ValueError(f"{path}: ELF{cls} file; a RV32 core needs ELF32")
        if machine not in ("EM_RISCV", EM_RISCV):
            raise ValueError(f"{path}: machine {machine}, not RISC-V (EM_RISCV)")
        if elf.little_endian is False:
            raise ValueError(f"{path}: big-endian ELF; RISC-V is little-endian")
        segments = []
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                continue
            addr, size = seg["p_paddr"], seg["p_memsz"]
            if addr < ram_base:
                raise ValueError(f"{path}: segment 0x{addr:08x}..0x{addr + size:08x} lies "
                                 f"outside RAM, below 0x{ram_base:08x}..0x"
                                 f"{ram_base + ram_size:08x}")
            if addr + size > ram_base + ram_size:
                need = addr + size - ram_base
                raise ValueError(f"{path}: the image needs {_size(need)} of RAM (up to "
                                 f"0x{addr + size:08x}); the RAM holds {_size(ram_size)} "
                                 f"(0x{ram_base:08x}..0x{ram_base + ram_size:08x})")
            data = seg.data()
            segments.append(Segment(addr, data + bytes(size - len(data))))
        if not segments:
            raise ValueError(f"{path}: no loadable segments")
        symbols = {}
        for sec in elf.iter_sections():
            if isinstance(sec, SymbolTableSection):
                for sym in sec.iter_symbols():
                    if sym.name and sym["st_shndx"] != "SHN_UNDEF":
                        symbols.setdefault(sym.name, sym["st_value"])
        if need_tohost and "tohost" not in symbols:
            raise ValueError(f"{path}: no `tohost` symbol (the runner detects the end of the "
                             f"program by a write to it)")
        return Image(path, elf["e_entry"], segments, symbols)
